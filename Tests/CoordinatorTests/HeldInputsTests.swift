@testable import Coordinator
import Foundation
import Kafka
import LeadModel
import LeadRules
import XCTest

/// The lowest inputs of held leads, without a broker.
final class HeldInputsTests: XCTestCase {
    private func partition(_ number: Int32) -> TopicPartition { TopicPartition(topic: "leads.discovered", partition: number) }

    func testAHeldLeadHoldsItsLowestInputUntilItsStateIsWritten() {
        var inputs = HeldInputs()
        let since = Date(timeIntervalSince1970: 100)
        var held: [LeadID: Date] = ["a": since, "b": since]
        inputs.note("a", heldSince: since, partition(0), 10)
        inputs.note("a", heldSince: since, partition(0), 12)  // above its lowest
        inputs.note("b", heldSince: since, partition(0), 11)
        inputs.note("b", heldSince: since, partition(1), 3)
        XCTAssertEqual(inputs.floors { held[$0] }, [partition(0): 10, partition(1): 3])
        inputs.note("b", heldSince: since, partition(1), 2)  // a backlog record handed back, below what came before
        XCTAssertEqual(inputs.floors { held[$0] }, [partition(0): 10, partition(1): 2])
        held["a"] = nil
        XCTAssertEqual(inputs.floors { held[$0] }, [partition(0): 11, partition(1): 2])
        // Written and held again: its inputs are the new hold's.
        let later = Date(timeIntervalSince1970: 105)
        held["b"] = later
        inputs.note("b", heldSince: later, partition(0), 20)
        XCTAssertEqual(inputs.floors { held[$0] }, [partition(0): 20])
        held["b"] = nil
        XCTAssertEqual(inputs.floors { held[$0] }, [:])
    }

    /// After any sequence of inputs, writes and new holds, the floors are what a walk over the
    /// held leads' inputs gives.
    func testFloorsAreTheLowestInputOfEveryHoldAfterAnySequence() {
        var inputs = HeldInputs()
        var random = SeededRandom(seed: 7)
        var held: [LeadID: Date] = [:]
        var lowestInputs: [LeadID: [TopicPartition: Int64]] = [:]
        var nextOffset: [Int32: Int64] = [:]
        for step in 0..<5_000 {
            let lead = LeadID("l\(Int.random(in: 0..<40, using: &random))")
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<6:  // an input, read in order in its partition (or a backlog record from before)
                let number = Int32.random(in: 0..<3, using: &random)
                let offset = Bool.random(using: &random) ? nextOffset[number, default: 0] : Int64.random(in: 0..<max(1, nextOffset[number, default: 0]), using: &random)
                nextOffset[number, default: 0] += 1
                if held[lead] == nil {
                    held[lead] = Date(timeIntervalSince1970: Double(step))
                    lowestInputs[lead] = [:]
                }
                inputs.note(lead, heldSince: held[lead]!, partition(number), offset)
                lowestInputs[lead]![partition(number)] = min(lowestInputs[lead]![partition(number)] ?? .max, offset)
            default:  // its state is written
                held[lead] = nil
                lowestInputs[lead] = nil
            }
            if step % 3 == 0 {
                var walked: [TopicPartition: Int64] = [:]
                for inputs in lowestInputs.values {
                    for (partition, offset) in inputs { walked[partition] = min(walked[partition] ?? .max, offset) }
                }
                XCTAssertEqual(inputs.floors { held[$0] }, walked, "step \(step)")
            }
        }
    }
}
