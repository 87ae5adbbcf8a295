import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import XCTest

/// The activity phase and its failure policy: no broker.
final class ActivityStageHandlerTests: XCTestCase {
    static let raw = RawActivity(
        posts: [
            Fixtures.post("Can anyone recommend a tool for manual prospecting?", daysAgo: 3, id: "new"),
            Fixtures.post("Ancient history", daysAgo: 400, id: "old"),
        ],
        interactions: [
            Interaction(
                platform: .linkedin, handle: "outreach", name: "Outreach", isOrganization: true, followers: 40_000, count: 4,
                firstSeen: Fixtures.daysAgo(30), lastSeen: Fixtures.daysAgo(2)),
        ])

    func handler(_ result: Result<RawActivity, ProviderError>, offers: [OfferID: OfferConfig] = ["offer-1": Fixtures.offer()])
        -> ActivityStageHandler
    {
        ActivityStageHandler(
            provider: StubActivityProvider(result: result), offers: { offers[$0] }, service: "test", now: Fixtures.clock)
    }

    func testBuildsActivityWithTheOffersCompetitors() async {
        let output = await handler(.success(Self.raw)).handle(Fixtures.request(.activity))
        let result = output.result
        XCTAssertEqual(result.outcome, .completed)
        XCTAssertEqual(result.payload.activityOutcome, .succeeded)
        XCTAssertEqual(result.payload.activity?.posts.map(\.id), ["new"], "posts past the horizon are dropped")
        XCTAssertEqual(result.payload.activity?.signalDate, Fixtures.daysAgo(3))
        XCTAssertEqual(result.payload.activity?.orbit.first?.classification, .competitor)
        XCTAssertEqual(result.charges, [BillableCharge(provider: "activity", units: 1)])
    }

    func testQueryCarriesTheOffersWords() async {
        let handler = ActivityStageHandler(
            provider: VocabularyEchoProvider(), offers: { $0 == "offer-1" ? Fixtures.offer() : nil }, service: "test",
            now: Fixtures.clock)
        let output = await handler.handle(Fixtures.request(.activity))
        let offer = Fixtures.offer()
        let expected = (offer.icp.painPoints + offer.icp.competitors + offer.icp.customIntentKeywords + offer.productKeywords)
        XCTAssertEqual(output.result.payload.activity?.posts.first?.text, expected.joined(separator: "|"))
    }

    func testUnknownOfferMeansNoCompetitors() async {
        let output = await handler(.success(Self.raw), offers: [:]).handle(Fixtures.request(.activity))
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertEqual(output.result.payload.activity?.orbit.first?.classification, .adjacentVendor)
    }

    func testRetriableFailureOnEarlyAttemptsAsksForARetry() async {
        for attempt in [1, 2] {
            let output = await handler(.failure(.transient("upstream timeout"))).handle(Fixtures.request(.activity, attempt: attempt))
            XCTAssertEqual(output.result.outcome, .failed(reason: "activity: transient failure: upstream timeout", isRetriable: true))
            XCTAssertNil(output.result.payload.activity)
            XCTAssertEqual(output.result.charges, [])
        }
    }

    func testOutOfCreditsIsARetriableFailureAndPausesNoAccount() async {
        let early = await handler(.failure(.outOfCredits)).handle(Fixtures.request(.activity, attempt: 1))
        XCTAssertEqual(early.result.outcome, .failed(reason: "activity: provider credits exhausted", isRetriable: true))
        XCTAssertEqual(early.result.charges, [])
        let last = await handler(.failure(.outOfCredits)).handle(Fixtures.request(.activity, attempt: 3))
        XCTAssertEqual(last.result.outcome, .completed, "the lead goes on without activity, like after any retriable error")
        XCTAssertEqual(last.result.payload.activityOutcome, .failed(reason: "provider credits exhausted", isRetriable: true))
    }

    func testRetriableFailureFromAttemptThreeCompletesWithoutActivity() async {
        let output = await handler(.failure(.rateLimited(retryAfter: 5))).handle(Fixtures.request(.activity, attempt: 3))
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertEqual(output.result.payload.activityOutcome, .failed(reason: "rate limited; retry after 5s", isRetriable: true))
        XCTAssertNil(output.result.payload.activity)
        XCTAssertEqual(output.result.charges, [])
    }

    func testPermanentFailureCompletesAtOnce() async {
        let output = await handler(.failure(.notFound)).handle(Fixtures.request(.activity, attempt: 1))
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertEqual(output.result.payload.activityOutcome, .failed(reason: "profile not found", isRetriable: false))
    }

    func testSimulatedProviderFailingAlwaysStillLetsTheLeadContinue() async {
        let settings = Fixtures.simulation(activity: .init(meanLatency: .zero, failureRate: 1))
        let handler = ActivityStageHandler(
            provider: SimulatedActivityProvider(settings: settings, now: Fixtures.clock), offers: { _ in nil }, now: Fixtures.clock)
        let output = await handler.handle(Fixtures.request(.activity, attempt: 3))
        XCTAssertEqual(output.result.outcome, .completed)
        guard case .failed? = output.result.payload.activityOutcome else {
            return XCTFail("expected a failed activity outcome, got \(String(describing: output.result.payload.activityOutcome))")
        }
    }

    func testLeadWithoutURLsIsSkipped() async {
        let lead = Fixtures.lead(linkedin: nil, x: nil)
        let output = await handler(.success(Self.raw)).handle(Fixtures.request(.activity, lead: lead))
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertEqual(output.result.payload.activityOutcome, .skipped(reason: "no LinkedIn or X profile URL"))
        XCTAssertEqual(output.result.charges, [])
    }
}

/// Answers one post whose text lists the query's offer words, so a test can see what was asked.
private struct VocabularyEchoProvider: ActivityProvider {
    func fetchActivity(_ query: ActivityQuery, attempt: Int) async throws(ProviderError) -> RawActivity {
        let words = query.offerVocabulary.map { $0.painPoints + $0.competitors + $0.intentKeywords + $0.productKeywords } ?? []
        return RawActivity(posts: [Fixtures.post(words.joined(separator: "|"), daysAgo: 1, id: "echo")], interactions: [])
    }
}

extension ActivityStageHandlerTests {
    /// Someone who posts a lot: a provider's reply of 1,500 posts within the horizon makes an
    /// activity larger than a record may be. The result carries the newest posts within the
    /// handler's output budget (a quarter of MAX_RECORD_BYTES, so that the requests and the pool
    /// entry that carry it fit too), instead of being dead-lettered on every attempt, charged each
    /// time, and the lead going on without any activity.
    func testAProlificPostersActivityKeepsItsNewestPostsWithinTheOutputBudget() async throws {
        let text = String(repeating: "Rebuilding our outbound motion this quarter, notes inside. ", count: 7)
        let posts = (0..<1_500).map { index in
            Post(id: "p\(index)", platform: .linkedin, date: Fixtures.daysAgo(Double(index) / 10), text: text, likes: 1, replies: 0,
                 reposts: 0, url: "https://www.linkedin.com/feed/update/urn:li:activity:\(index)")
        }
        var interactions = (0..<3_000).map { index in
            Interaction(platform: .linkedin, handle: "person-\(index)", name: "Person \(index)", isOrganization: false, followers: 10,
                        count: 1 + index % 7, firstSeen: Fixtures.daysAgo(20), lastSeen: Fixtures.daysAgo(2))
        }
        // Engaged once with a competitor: the weakest by count, and the one a salesperson wants.
        interactions.append(Interaction(platform: .linkedin, handle: "outreach", name: "Outreach", isOrganization: true, followers: 40_000,
                                        count: 1, firstSeen: Fixtures.daysAgo(3), lastSeen: Fixtures.daysAgo(3)))
        let codec = MessageCodec(maxRecordBytes: 200_000)
        let handler = ActivityStageHandler(
            provider: StubActivityProvider(result: .success(RawActivity(posts: posts, interactions: interactions))),
            offers: { _ in Fixtures.offer() }, outputBudget: codec.maxRecordBytes / 4, service: "test", now: Fixtures.clock)
        let processor = StageRecordProcessor(handler: handler, codec: codec, topics: Topics(namespace: "ns"), service: "test",
                                             logger: Logger(service: "test", level: .error, sink: { _ in }))
        let request = Fixtures.request(.activity)
        let record = try codec.record(request, topic: "ns.phase.requests.activity", key: request.leadID.rawValue)
        let outputs = await processor.process(ConsumerRecord(topic: record.topic, partition: 0, offset: 0, key: record.key,
                                                             value: record.value, headers: record.headers))
        let written = try XCTUnwrap(outputs.records.first)
        XCTAssertEqual(written.topic, Topics(namespace: "ns").phaseResults(isPriority: false), "a result, not a dead letter")
        XCTAssertLessThanOrEqual(try XCTUnwrap(written.value).count, codec.maxRecordBytes / 4 + 4_096, "about the budget")
        let result = try codec.decode(PhaseResult.self, from: try XCTUnwrap(written.value))
        let activity = try XCTUnwrap(result.payload.activity)
        XCTAssertGreaterThan(activity.posts.count, 10)
        XCTAssertEqual(activity.posts.map(\.id), (0..<activity.posts.count).map { "p\($0)" }, "the newest, newest first")
        XCTAssertFalse(activity.orbit.isEmpty)
        XCTAssertLessThan(activity.orbit.count, 3_001)
        XCTAssertEqual(activity.orbit.first?.interactionCount, 7, "the orbit's order: most interactions first")
        XCTAssertEqual(activity.orbit.filter { $0.classification == .competitor }.map(\.handle), ["outreach"],
                       "a competitor is kept before people with more interactions")
        XCTAssertEqual(result.charges, [BillableCharge(provider: "activity", units: 1)])
        XCTAssertEqual(result.payload.omitted, [
            "activity.posts: the \(1_500 - activity.posts.count) oldest of 1500",
            "activity.orbit: \(3_001 - activity.orbit.count) of 3001 targets, people before vendors",
        ], "the pool entry will say what the activity lacks")
    }
}
