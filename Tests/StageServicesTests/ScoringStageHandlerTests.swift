import Foundation
import LeadModel
import PipelineServices
import Pipeline
import StageServices
import ServiceRuntime
import XCTest

/// Scoring, account signals and autopilot: no broker.
final class ScoringStageHandlerTests: XCTestCase {
    func handler(
        scorer: any Scorer = RuleBasedScorer(), offers: [OfferID: OfferConfig] = ["offer-1": Fixtures.offer()],
        accounts: [AccountID: AccountConfig] = [:]
    ) -> ScoringStageHandler {
        ScoringStageHandler(
            scorer: scorer, offers: { offers[$0] }, accounts: { accounts[$0] }, service: "test",
            now: Fixtures.clock)
    }

    func testUnknownOfferIsAPermanentFailure() async {
        let request = Fixtures.request(.scoring, lead: Fixtures.lead(offer: "offer-x"), profile: Fixtures.profile())
        let output = await handler().handle(request)
        XCTAssertEqual(output.result.outcome, .failed(reason: "unknown offer offer-x", isRetriable: false))
        XCTAssertNil(output.result.payload.scores)
        XCTAssertNil(output.contribution)
        XCTAssertNil(output.enrollment)
    }

    func testScoresAgainstTheOffer() async {
        let profile = Fixtures.profile(posts: [Fixtures.post("Can anyone recommend a fix for manual prospecting?", daysAgo: 2)])
        let output = await handler().handle(Fixtures.request(.scoring, profile: profile))
        XCTAssertEqual(output.result.outcome, .completed)
        let card = try? XCTUnwrap(output.result.payload.scores)
        XCTAssertEqual(card?.scorer, "rules-v2")
        XCTAssertGreaterThan(card?.fit ?? 0, 40)
        XCTAssertGreaterThan(card?.intent ?? 0, 0)
        XCTAssertEqual(output.result.charges, [])
    }

    func testCompetitorEmployeeIsPoorFit() async {
        let output = await handler().handle(Fixtures.request(.scoring, profile: Fixtures.profile(company: "Outreach")))
        let card = output.result.payload.scores
        XCTAssertEqual(card?.buyerState, .poorFit)
        XCTAssertEqual([card?.fit, card?.intent, card?.timing], [0, 0, 0])
    }

    func testEligibleLeadIsEnrolled() async {
        let output = await handler(scorer: FixedScorer.active(), accounts: ["acct-1": Fixtures.account()])
            .handle(Fixtures.request(.scoring, profile: Fixtures.profile()))
        let enrollment = try? XCTUnwrap(output.enrollment)
        XCTAssertEqual(enrollment?.leadID, "lead-1")
        XCTAssertEqual(enrollment?.runID, "run-1")
        XCTAssertEqual(enrollment?.buyerState, .active)
        XCTAssertEqual(enrollment?.enrolledAt, Fixtures.now)
    }

    func testNoEnrollmentForUnknownAccountOrOffAutopilotOrLowScores() async {
        let request = Fixtures.request(.scoring, profile: Fixtures.profile())
        let unknown = await handler(scorer: FixedScorer.active()).handle(request)
        XCTAssertNil(unknown.enrollment)
        let off = await handler(scorer: FixedScorer.active(), accounts: ["acct-1": Fixtures.account(autopilot: nil)]).handle(request)
        XCTAssertNil(off.enrollment)
        let low = await handler(scorer: FixedScorer.active(intent: 20), accounts: ["acct-1": Fixtures.account()]).handle(request)
        XCTAssertNil(low.enrollment)
    }

    func testEveryScoredLeadContributesToItsAccountsHeat() async {
        let asking = [Fixtures.post("Can anyone recommend an alternative to Outreach?", daysAgo: 1)]
        let request = Fixtures.request(.scoring, profile: Fixtures.profile(leadID: "lead-1", posts: asking))
        let output = await handler().handle(request)
        let contribution = output.contribution
        XCTAssertEqual(contribution?.accountID, "acct-1")
        XCTAssertEqual(contribution?.leadID, "lead-1")
        XCTAssertEqual(contribution?.runID, request.runID)
        XCTAssertEqual(contribution?.companyKey, "name:acme saas")
        XCTAssertEqual(contribution?.scoredAt, Fixtures.now)
        XCTAssertTrue(contribution?.signals.contains { $0.kind == .recommendationRequest } ?? false)

        let again = await handler().handle(request)
        XCTAssertEqual(again.contribution, contribution, "a redelivered request contributes the same (the aggregator counts it once)")
    }

    func testRecordsGoToTheirTopicsKeyed() throws {
        let result = PhaseResult(
            answering: Fixtures.request(.scoring), outcome: .completed, payload: .empty, finishedAt: Fixtures.now, service: "test")
        let enrollment = AutopilotEnrollment(
            leadID: "lead-1", runID: "run-1", accountID: "acct-1", offerID: "offer-1", fit: 80, intent: 80, buyerState: .active,
            reasons: [], enrolledAt: Fixtures.now)
        let contribution = AccountSignalContribution(
            accountID: "acct-1", leadID: "lead-1", runID: "run-1", offerID: "offer-1", companyKey: "name:acme", companyName: "Acme",
            signals: [], scoredAt: Fixtures.now)
        let topics = Topics(namespace: "ns")
        let records = try StageOutput(result: result, contribution: contribution, enrollment: enrollment)
            .records(topics: topics, codec: MessageCodec())
        XCTAssertEqual(records.map(\.topic), [topics.accountSignalContributions, topics.autopilotEnrollments, topics.phaseResults])
        XCTAssertEqual(records.map { String(decoding: $0.key ?? [], as: UTF8.self) }, ["acct-1", "lead-1", "lead-1"])
        let decoded = try MessageCodec().decode(PhaseResult.self, from: records[2].value ?? [])
        XCTAssertEqual(decoded, result)
    }
}

/// Finalize and configuration: no broker.
final class FinalizeAndConfigurationTests: XCTestCase {
    func testFinalizeWritesThePoolEntryBeforeItsResult() async throws {
        var profile = Fixtures.profile()
        profile.skippedPhases = [PhaseSkip(phase: .activity, reason: "gave up", at: Fixtures.now)]
        let request = Fixtures.request(.finalize, profile: profile.carried(to: .finalize))
        let output = await FinalizeStageHandler(service: "test", now: Fixtures.clock).handle(request)
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertEqual(output.result.finishedAt, Fixtures.now)
        let entry = try XCTUnwrap(output.poolEntry)
        XCTAssertEqual(entry, LeadPoolEntry(profile: profile, accountID: request.accountID, offerID: request.offerID, finishedAt: Fixtures.now))

        let records = try output.records(topics: Topics(namespace: nil), codec: MessageCodec())
        XCTAssertEqual(records.map(\.topic), [Topics.leadPool, Topics.phaseResults], "the entry is acknowledged before the result")
        XCTAssertEqual(records[0].key.map { String(decoding: $0, as: UTF8.self) }, request.leadID.rawValue)
        let run = records[0].headers.first { $0.key == MessageHeaders.runID }?.value
        XCTAssertEqual(run.map { String(decoding: $0, as: UTF8.self) }, request.runID.rawValue)
        XCTAssertEqual(try MessageCodec().decode(LeadPoolEntry.self, from: records[0].value ?? []), entry)
    }

    func testARetriedAttemptOfAFinalizedRunWritesNoSecondEntry() async throws {
        let handler = FinalizeStageHandler(service: "test", now: Fixtures.clock)
        var request = Fixtures.request(.finalize, profile: Fixtures.profile())
        let first = await handler.handle(request)
        XCTAssertNotNil(first.poolEntry)
        request.attempt = 2
        let retried = await handler.handle(request)
        XCTAssertEqual(retried.result.outcome, .completed, "the lead still becomes ready")
        XCTAssertNil(retried.poolEntry, "the run's entry is written once")
        request.runID = "run-2"
        let next = await handler.handle(request)
        XCTAssertNotNil(next.poolEntry, "a new run gets its own entry")
    }

    func testStageConfigurationFromEnvironment() throws {
        XCTAssertEqual(try StageConfiguration(environment: [:]).runner.maxInFlight, 256)
        XCTAssertEqual(try StageConfiguration(environment: ["STAGE_MAX_IN_FLIGHT": "32"]).runner.maxInFlight, 32)
        XCTAssertThrowsError(try StageConfiguration(environment: ["STAGE_MAX_IN_FLIGHT": "lots"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "STAGE_MAX_IN_FLIGHT")
        }
        XCTAssertThrowsError(try StageConfiguration(environment: ["STAGE_MAX_IN_FLIGHT": "0"]))
    }

    func testDefaultGroupIDs() {
        XCTAssertEqual(StageService.defaultGroupID(for: .profile, namespace: nil), "stage.profile")
        XCTAssertEqual(StageService.defaultGroupID(for: .scoring, namespace: "t1"), "t1.stage.scoring")
    }
}
