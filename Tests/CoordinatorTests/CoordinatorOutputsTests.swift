import Foundation
import Kafka
import LeadModel
@testable import Coordinator
import Runtime
import Streaming
import XCTest

/// How the coordinator lays out and encodes one batch's records (no broker).
final class CoordinatorOutputsTests: XCTestCase {
    private let codec = MessageCodec()
    private let logger = Logger(service: "test", level: .error)

    /// A small message standing in for what the coordinator writes: lead and step in its fields.
    private func usage(_ lead: Int, _ step: Int) -> BillingUsage {
        BillingUsage(accountID: "acct-1", leadID: LeadID("lead-\(lead)"), runID: RunID("run-\(step)"), phase: .profile,
                     charges: [BillableCharge(provider: "pdl", units: step + 1)], chargedAt: Date(timeIntervalSince1970: Double(step)))
    }

    private func event(_ lead: Int, _ step: Int) -> Coordinator.EncodeJob.Payload { .usage(usage(lead, step)) }

    /// One job per lead and step: an event, then a "changelog" record (the same message stands
    /// in for the state; what matters is where it goes).
    private func outputs(leads: Int, steps: Int) -> Coordinator.Outputs {
        var outputs = Coordinator.Outputs()
        for step in 0..<steps {
            outputs.append(ProducerRecord(topic: "plain", key: "step-\(step)", value: [UInt8(step)]))
            for lead in 0..<leads {
                var job = Coordinator.EncodeJob(leadID: LeadID("lead-\(lead)"))
                job.append(event(lead, step), topic: "events", key: "lead-\(lead)")
                job.append(event(lead, step), topic: "state", key: "lead-\(lead)", isChangelog: true)
                outputs.append(job)
            }
        }
        return outputs
    }

    func testRecordsKeepTheirOrderAndALeadKeepsItsLastChangelogRecordInItsFirstPlace() throws {
        for leads in [3, 200] {  // encoded on the calling thread, and by several workers
            let encoded = outputs(leads: leads, steps: 3).encoded(codec: codec, logger: logger)
            XCTAssertEqual(encoded.records.count, 3 + 3 * leads + leads, "every event, one changelog record per lead")
            XCTAssertEqual(encoded.records.filter { $0.topic == "plain" }.map(\.value), [[0], [1], [2]])
            XCTAssertEqual(Set(encoded.changelogIndex.keys), Set((0..<leads).map { LeadID("lead-\($0)") }))
            for lead in 0..<leads {
                let index = try XCTUnwrap(encoded.changelogIndex[LeadID("lead-\(lead)")])
                let record = encoded.records[index]
                XCTAssertEqual(record.topic, "state")
                XCTAssertEqual(record.key, Array("lead-\(lead)".utf8))
                XCTAssertEqual(try codec.decode(BillingUsage.self, from: record.value ?? []), usage(lead, 2), "the last one written")
                XCTAssertEqual(index, 1 + 2 * lead + 1, "where the first one was")
                let events = encoded.records.filter { $0.topic == "events" && $0.key == Array("lead-\(lead)".utf8) }
                XCTAssertEqual(try events.map { try codec.decode(BillingUsage.self, from: $0.value ?? []).runID }, ["run-0", "run-1", "run-2"])
            }
        }
    }

    func testLeadsWithAChangelogRecordAreKnownBeforeEncoding() {
        var outputs = outputs(leads: 2, steps: 1)
        var changelog = Coordinator.EncodeJob(leadID: "lead-9")
        changelog.append(event(9, 0), topic: "state", key: "lead-9", isChangelog: true)
        outputs.append(changelog)
        var job = Coordinator.EncodeJob(leadID: "lead-5")
        job.append(event(5, 0), topic: "events", key: "lead-5")
        outputs.append(job)
        XCTAssertEqual(outputs.changelogLeads, ["lead-0", "lead-1", "lead-9"])
    }
}
