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

extension CoordinatorOutputsTests {
    /// A phase request above MAX_RECORD_BYTES is made to fit, not dead-lettered: a finalize
    /// request the coordinator cannot write is retried forever (finalize must complete), and any
    /// other times out, is retried and skipped. Here a lead matched
    /// from the pool brings a profile close to the bound, and its scoring output takes the
    /// finalize request over it. The request written carries the document put together, its
    /// oldest posts left out and named, and the same request gives the same record (a retried
    /// attempt gets the same input).
    func testAPhaseRequestAboveTheBoundIsMadeToFitAndSaysWhatItLeftOut() throws {
        let at = Date(timeIntervalSince1970: 1_750_000_000)
        var pool = EnrichedProfile(leadID: "lead-1", name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe")
        pool.linkedin = LinkedInProfile(
            publicIdentifier: "janedoe", fullName: "Jane Doe", headline: "VP Sales at Acme", jobTitle: "VP Sales", company: "Acme",
            companyLinkedInID: nil, location: "Berlin", experiences: [Experience(company: "Acme", title: "VP Sales", startDate: nil)],
            education: [], skills: ["Sales"], certifications: [], languages: [], connections: 500, followers: 900)
        let posts = (0..<200).map {
            Post(id: "p\($0)", platform: .linkedin, date: at.addingTimeInterval(-Double($0) * 3_600),
                 text: String(repeating: "Rebuilding our outbound motion this quarter. ", count: 4), likes: 1, replies: 0, reposts: 0,
                 url: "https://www.linkedin.com/feed/update/\($0)")
        }
        pool.activity = Activity(posts: posts, plainText: "", orbit: [], signalDate: posts[0].date)
        let lead = LeadDiscovered(leadID: "lead-1", accountID: "acct-1", offerID: "offer-2", sourceSearchID: "search-1", source: .leadPool,
                                  name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe", mode: .scoringOnly,
                                  discoveredAt: at, poolProfile: pool)
        let card = ScoreCard(fit: 80, intent: 75, timing: 50, composite: 70, buyerState: .active, fitReasons: [], intentReasons: [],
                             timingReasons: [], stateReason: "test", scorer: "fixed", scoredAt: at)
        let document = DocumentParts(outputs: [try PhaseOutput(phase: .scoring, payload: PhasePayload(scores: card))])
        let request = PhaseRequest(leadID: "lead-1", runID: "run-1", phase: .finalize, attempt: 1, mode: .scoringOnly, platforms: [],
                                   lead: lead, profile: EnrichedProfile(discovered: lead), accountID: "acct-1", offerID: "offer-2",
                                   isPriority: false, requestedAt: at, document: document)
        let codec = MessageCodec(maxRecordBytes: 40_000)
        XCTAssertGreaterThan(try codec.encode(request).count, codec.maxRecordBytes)
        func written() throws -> ProducerRecord {
            var job = Coordinator.EncodeJob(leadID: "lead-1")
            job.append(.request(request), topic: "phase.finalize", key: "lead-1")
            return try XCTUnwrap(job.records(codec: codec, logger: Logger(service: "test", level: .error, sink: { _ in })).first?.record)
        }
        let record = try written()
        XCTAssertNil(codec.oversizeReason(record))
        XCTAssertEqual(record.value, try written().value, "the same request, the same record")
        let read = try codec.decode(PhaseRequest.self, from: try XCTUnwrap(record.value))
        XCTAssertEqual(read.attemptKey, request.attemptKey)
        let profile = DocumentAssembly.profile(of: read)
        let kept = try XCTUnwrap(profile.activity?.posts.count)
        XCTAssertGreaterThan(kept, 0)
        XCTAssertEqual(profile.activity?.posts, Array(posts.prefix(kept)), "the newest posts")
        XCTAssertEqual(profile.scores, card)
        XCTAssertEqual(profile.linkedin, pool.linkedin)
        XCTAssertEqual(read.document?.omitted, ["activity.posts: the \(200 - kept) oldest of 200"])
    }
}
