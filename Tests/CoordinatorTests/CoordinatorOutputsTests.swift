import Foundation
import Kafka
import LeadModel
import LeadRules
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

extension CoordinatorOutputsTests {
    /// The pool entry the coordinator rewrites (a web enrichment after finalize) is made to fit
    /// within MAX_RECORD_BYTES as the finalize stage's entries are, not dead-lettered: the entry
    /// holds the posts and their rendered text, so a lead whose requests fit can have one above it.
    func testARewrittenPoolEntryAboveTheBoundIsMadeToFit() throws {
        let finished = Date(timeIntervalSince1970: 1_750_000_000)
        var profile = EnrichedProfile(leadID: "lead-1", name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe")
        let posts = (0..<200).map {
            Post(id: "p\($0)", platform: .linkedin, date: finished.addingTimeInterval(-Double($0) * 3_600),
                 text: String(repeating: "Rebuilding our outbound motion this quarter. ", count: 4), likes: 1, replies: 0, reposts: 0,
                 url: "https://www.linkedin.com/feed/update/\($0)")
        }
        profile.activity = Activity(posts: posts, plainText: "", orbit: [], signalDate: posts[0].date)
        let entry = LeadPoolEntry(profile: DocumentAssembly.withActivityText(profile, asOf: finished), accountID: "acct-1",
                                  offerID: "offer-1", finishedAt: finished)
        let codec = MessageCodec(maxRecordBytes: 40_000)
        XCTAssertGreaterThan(try codec.encode(entry).count, codec.maxRecordBytes)
        var job = Coordinator.EncodeJob(leadID: "lead-1")
        job.append(.poolEntry(entry), topic: "lead.pool", key: "lead-1")
        let record = try XCTUnwrap(job.records(codec: codec, logger: Logger(service: "test", level: .error, sink: { _ in })).first?.record)
        XCTAssertNil(codec.oversizeReason(record))
        let written = try codec.decode(LeadPoolEntry.self, from: try XCTUnwrap(record.value))
        let kept = try XCTUnwrap(written.profile.activity?.posts.count)
        XCTAssertGreaterThan(kept, 0)
        XCTAssertEqual(written.omitted, ["activity.posts: the \(200 - kept) oldest of 200"])
    }
}
