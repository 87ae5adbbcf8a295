@testable import Coordinator
import Kafka
import LeadModel
import LeadRules
import XCTest

/// The loop's parked backlog records, without a broker.
final class ParkedRecordsTests: XCTestCase {
    private func at(_ partition: Int32, _ offset: Int64) -> ParkedRecords.Position {
        .init(partition: TopicPartition(topic: "leads.backlog", partition: partition), offset: offset)
    }

    private func hold(_ lead: String, _ account: AccountID = "acct-1", paid: Bool = true) -> ParkedRecords.Hold {
        .init(leadID: LeadID(lead), account: account, paid: paid)
    }

    func testTheLowestParkedOffsetOfEachPartitionIsItsFloorUntilHandledAgain() {
        var parked = ParkedRecords()
        parked.park(at(0, 40), hold("a"))
        parked.park(at(0, 12), hold("b"))
        parked.park(at(1, 7), hold("c"))
        XCTAssertEqual(parked.floors()[at(0, 0).partition], 12)
        XCTAssertEqual(parked.floors()[at(1, 0).partition], 7)
        parked.remove(at(0, 12))
        XCTAssertEqual(parked.floors()[at(0, 0).partition], 40)
        parked.removeAll(inPartitions: [1])
        XCTAssertNil(parked.floors()[at(1, 0).partition])
        XCTAssertEqual(parked.count, 1)
    }

    /// A lead's command parks behind its lead and comes back after it: releases go lowest offset
    /// first, a poll batch at a time, only for open holds, and a record handed back no longer
    /// counts against the bound.
    func testReleasesGoLowestFirstForOpenHoldsAndHandedBackRecordsLeaveTheBound() {
        var parked = ParkedRecords()
        parked.park(at(0, 20), hold("a"))  // lead a's discovery
        parked.park(at(0, 10), hold("b", "acct-2"))
        parked.park(at(0, 35), hold("a"), behindItsLead: true)  // and two of its commands, parked behind it
        parked.park(at(0, 30), hold("a"), behindItsLead: true)
        XCTAssertEqual(parked.hold(of: "a"), hold("a"))
        let open = parked.releasable(limit: 10) { $0.account == "acct-1" }
        XCTAssertEqual(open, [at(0, 20), at(0, 30), at(0, 35)])
        XCTAssertEqual(parked.releasable(limit: 1) { $0.account == "acct-1" }, [at(0, 20)])
        parked.markReleasing(open)
        XCTAssertEqual(parked.countedAgainstBound, 1)
        XCTAssertTrue(parked.releasable(limit: 10) { _ in true }.allSatisfy { $0 == at(0, 10) }, "not handed back twice")
        parked.remove(at(0, 20))
        XCTAssertNil(parked.hold(of: "a"), "a's own record is handled: its commands park behind nothing, not behind each other")
        XCTAssertEqual(parked.count, 3, "they are still parked until handled")
        parked.remove(at(0, 30))
        parked.remove(at(0, 35))
        XCTAssertNil(parked.hold(of: "a"))
        XCTAssertEqual(parked.countedAgainstBound, 1)
        XCTAssertEqual(parked.count, 1)
    }

    /// The leads parked on their gates, each once however many of its commands park behind it;
    /// a lead whose record is handed back is no longer parked (it is about to be handled).
    func testLeadsParkedOnTheirGatesAreCountedOnceEach() {
        var parked = ParkedRecords()
        parked.park(at(0, 20), hold("a"))
        parked.park(at(0, 30), hold("a"), behindItsLead: true)
        parked.park(at(0, 35), hold("a"), behindItsLead: true)
        parked.park(at(1, 5), hold("b"))
        XCTAssertEqual(parked.countedAgainstBound, 4)
        XCTAssertEqual(parked.leadsOnGates, 2)
        parked.markReleasing([at(0, 20), at(0, 30)])
        XCTAssertEqual(parked.leadsOnGates, 1, "a is handed back")
        parked.remove(at(0, 20))
        parked.remove(at(0, 30))
        XCTAssertEqual(parked.leadsOnGates, 1)
        parked.park(at(1, 9), hold("c"))
        parked.removeAll(inPartitions: [1])
        XCTAssertEqual(parked.leadsOnGates, 0)
        XCTAssertEqual(parked.count, 1, "a's last command is still parked, behind nothing")
    }

    /// The floors are kept as records park and leave, not walked for every poll: after any
    /// sequence they are what a walk over the parked records gives.
    func testKeptFloorsAreTheLowestParkedOffsetsAfterAnySequence() {
        var parked = ParkedRecords()
        var random = SeededRandom(seed: 11)
        var present: Set<ParkedRecords.Position> = []
        for step in 0..<2_000 {
            let position = at(Int32.random(in: 0..<3, using: &random), Int64.random(in: 0..<60, using: &random))
            if Bool.random(using: &random) {
                parked.park(position, hold("l\(position.offset)"))
                present.insert(position)
            } else {
                parked.remove(position)
                present.remove(position)
            }
            if step % 7 == 0 || present.isEmpty {
                let walked = Dictionary(present.map { ($0.partition, $0.offset) }, uniquingKeysWith: min)
                XCTAssertEqual(parked.floors(), walked, "step \(step)")
            }
        }
    }
}
