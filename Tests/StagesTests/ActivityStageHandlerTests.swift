import Foundation
import LeadModel
import LeadRules
import Stages
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
