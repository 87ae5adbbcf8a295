import Foundation
import LeadModel
import LeadModelTestSupport
import LeadRules
import XCTest

/// Overrides of a lead's buyer state: the message, the policy and the state machine; no broker.
final class LeadOverrideTests: XCTestCase {
    typealias Machine = LeadStateMachine

    private var random = SeededRandom(seed: 5)
    let manual = LeadOverride(leadID: "lead-1", state: .manual, reason: "sales owns it", requestedBy: "ops", at: Fixtures.now)
    let disqualified = LeadOverride(leadID: "lead-1", state: .disqualified, reason: "left the company", requestedBy: "ops",
                                    at: Fixtures.now)
    let cleared = LeadOverride.clearing("lead-1", requestedBy: "ops", at: Fixtures.now)

    func card(_ state: BuyerState = .active) -> ScoreCard {
        ScoreCard(fit: 80, intent: 75, timing: 50, composite: 72, buyerState: state, fitReasons: [], intentReasons: [],
                  timingReasons: [], stateReason: "scored", scorer: "fixed", scoredAt: Fixtures.now)
    }

    // MARK: Message

    func testCodecRoundTripsAndRejectsContradictions() throws {
        let codec = MessageCodec()
        for message in [manual, disqualified, cleared] {
            XCTAssertEqual(try codec.decode(LeadOverride.self, from: codec.encode(message)), message)
        }
        let base = #""schema":"lead.override","version":1,"leadID":"l1","requestedBy":"ops","at":"2025-01-31T12:00:00.000Z""#
        let broken = [
            #"{\#(base),"reason":"r"}"#: "neither",
            #"{\#(base),"state":"manual","cleared":true,"reason":"r"}"#: "both",
            #"{\#(base),"state":"manual","reason":"  "}"#: "\"reason\" is empty",
            #"{\#(base),"state":"active","reason":"r"}"#: "active",
        ]
        for (json, expected) in broken {
            XCTAssertThrowsError(try codec.decode(LeadOverride.self, from: Array(json.utf8)), json) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(json): \(error)")
            }
        }
        XCTAssertEqual(manual.stateInForce, .manual)
        XCTAssertNil(cleared.stateInForce)
    }

    // MARK: Policy

    func testAppliedKeepsTheScoresAndSetsTheStateAndReason() {
        let scored = card(.active)
        let overridden = LeadOverridePolicy.applied(manual, to: scored)
        XCTAssertEqual(overridden.buyerState, .manual)
        XCTAssertEqual(overridden.stateReason, "manual override: sales owns it")
        XCTAssertEqual([overridden.fit, overridden.intent, overridden.timing, overridden.composite], [80, 75, 50, 72])
        XCTAssertEqual(LeadOverridePolicy.applied(disqualified, to: scored).buyerState, .disqualified)
        XCTAssertEqual(LeadOverridePolicy.applied(cleared, to: scored), scored, "a cleared override changes nothing")
        XCTAssertEqual(LeadOverridePolicy.applied(nil, to: scored), scored)
    }

    func testOnlyADisqualifiedLeadSkipsScoring() {
        XCTAssertEqual(LeadOverridePolicy.scoringSkipReason(disqualified), "disqualified by manual override: left the company")
        XCTAssertNil(LeadOverridePolicy.scoringSkipReason(manual))
        XCTAssertNil(LeadOverridePolicy.scoringSkipReason(cleared))
        XCTAssertNil(LeadOverridePolicy.scoringSkipReason(nil))
    }

    func testPoolMatchingLeavesDisqualifiedLeadsOut() {
        var profile = Fixtures.profile()
        profile.scores = card(.active)
        XCTAssertTrue(LeadOverridePolicy.mayMatchFromPool(profile))
        XCTAssertFalse(LeadOverridePolicy.mayMatchFromPool(profile, override: disqualified), "the override in force counts")
        XCTAssertTrue(LeadOverridePolicy.mayMatchFromPool(profile, override: manual))
        profile.scores = card(.disqualified)
        XCTAssertFalse(LeadOverridePolicy.mayMatchFromPool(profile), "the card says disqualified")
        XCTAssertTrue(LeadOverridePolicy.mayMatchFromPool(profile, override: cleared), "cleared: matched again")
    }

    // MARK: State machine

    private func requests(_ actions: [Machine.Action]) -> [PhaseRequest] {
        actions.compactMap { if case .sendPhaseRequest(let request) = $0 { request } else { nil } }
    }

    private func result(_ request: PhaseRequest, _ payload: PhasePayload = .empty) -> Machine.Event {
        .phaseResult(PhaseResult(answering: request, outcome: .completed, payload: payload, finishedAt: Fixtures.now, service: "t").envelope,
                     at: Fixtures.now)
    }

    /// Runs a lead discovered in `mode` to its finalize request, answering scoring with `card`;
    /// returns the finalize request and the phases requested.
    private func runToFinalize(
        _ machine: inout Machine, mode: ModeName = .full, override: LeadOverride?, card scored: ScoreCard
    ) throws -> (finalize: PhaseRequest, phases: [Phase]) {
        var actions = machine.handle(.discovered(Fixtures.lead(mode: mode), runID: "run-1", at: Fixtures.now),
                                     override: override, random: &random)
        var phases: [Phase] = []
        while let request = requests(actions).first, request.phase != .finalize {
            phases.append(request.phase)
            let payload = request.phase == .scoring ? PhasePayload(scores: scored) : .empty
            actions = machine.handle(result(request, payload), override: override, random: &random)
        }
        return (try XCTUnwrap(requests(actions).first), phases)
    }

    func testAManualLeadIsScoredButKeepsItsState() throws {
        var machine = Machine()
        let (finalize, phases) = try runToFinalize(&machine, override: manual, card: card(.active))
        XCTAssertEqual(phases, [.profile, .activity, .scoring])
        let sent = try XCTUnwrap(finalize.profile.scores)
        XCTAssertEqual(sent.buyerState, .manual, "finalize (pool entry, autopilot) sees the override")
        XCTAssertEqual(sent.stateReason, "manual override: sales owns it")
        XCTAssertEqual(sent.fit, 80, "the new scores are kept")
        XCTAssertNil(AutopilotCheck.enrollment(finalizing: finalize, account: AccountConfig(accountID: "acct-1", updatedAt: Fixtures.now),
                                               at: Fixtures.now))
        _ = machine.handle(result(finalize), override: manual, random: &random)
        XCTAssertEqual(machine.state?.status, .ready)
        XCTAssertEqual(machine.state?.profile.scores?.buyerState, .manual)
    }

    func testADisqualifiedLeadIsNotRescoredButStillEnriched() throws {
        var machine = Machine()
        let (finalize, phases) = try runToFinalize(&machine, override: disqualified, card: card(.active))
        XCTAssertEqual(phases, [.profile, .activity], "no scoring request")
        XCTAssertEqual(finalize.profile.skippedPhases.map(\.reason), ["disqualified by manual override: left the company"])
        XCTAssertNil(finalize.profile.scores)

        var pooled = Machine()
        let (pooledFinalize, pooledPhases) = try runToFinalize(&pooled, mode: .scoringOnly, override: disqualified, card: card(.active))
        XCTAssertEqual(pooledPhases, [], "a scoring-only run scores nothing either")
        XCTAssertEqual(pooledFinalize.profile.skippedPhases.map(\.phase), [.scoring])
    }

    func testAnOverrideArrivingMidRunHoldsForTheRestOfIt() throws {
        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(mode: .scoringOnly), runID: "run-1", at: Fixtures.now), random: &random)
        let scoring = try XCTUnwrap(requests(actions).first)
        XCTAssertEqual(scoring.phase, .scoring)
        // The override lands while scoring runs; its result comes after.
        actions = machine.handle(result(scoring, PhasePayload(scores: card(.active))), override: manual, random: &random)
        let finalize = try XCTUnwrap(requests(actions).first)
        XCTAssertEqual(finalize.profile.scores?.buyerState, .manual)
    }

    func testAReEnrichKeepsTheStateAndClearingLetsScoringDecideAgain() throws {
        var machine = Machine()
        let (finalize, _) = try runToFinalize(&machine, override: manual, card: card(.active))
        _ = machine.handle(result(finalize), override: manual, random: &random)
        // A re-enrich (no scoring phase): enrichment runs, the state stays.
        var actions = machine.handle(.reEnrich(.reEnrich([.activity]), runID: "run-2", at: Fixtures.now), override: manual,
                                     random: &random)
        while let request = requests(actions).first {
            XCTAssertNotEqual(request.phase, .scoring)
            if request.phase == .finalize { XCTAssertEqual(request.profile.scores?.buyerState, .manual) }
            actions = machine.handle(result(request), override: manual, random: &random)
        }
        XCTAssertEqual(machine.state?.status, .ready)
        XCTAssertEqual(machine.state?.profile.scores?.buyerState, .manual)

        // Cleared: the next scoring result counts as scored.
        var fresh = Machine()
        let (again, _) = try runToFinalize(&fresh, override: cleared, card: card(.active))
        XCTAssertEqual(again.profile.scores?.buyerState, .active)
        XCTAssertEqual(again.profile.scores?.stateReason, "scored")
    }

    func testARejectedScoringResultReachesNoFinalizeAndSoNoEnrollment() throws {
        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(mode: .scoringOnly), runID: "run-1", at: Fixtures.now), random: &random)
        let first = try XCTUnwrap(requests(actions).first)
        // The first attempt times out and is retried; its answer, read while the retry is in
        // flight, is accepted (the phase still waits), and the retry's, after the phase is done,
        // is rejected.
        let timeout = Machine.Timer(key: first.attemptKey, kind: .attemptTimeout, fireAt: Fixtures.now)
        _ = machine.handle(.timerFired(timeout, at: Fixtures.now), random: &random)
        let retry = Machine.Timer(key: PhaseAttemptKey(leadID: first.leadID, runID: first.runID, phase: .scoring, attempt: 2),
                                  kind: .retryBackoff, fireAt: Fixtures.now)
        actions = machine.handle(.timerFired(retry, at: Fixtures.now), random: &random)
        let second = try XCTUnwrap(requests(actions).first)
        XCTAssertEqual(second.attempt, 2)
        actions = machine.handle(result(first, PhasePayload(scores: card(.active))), random: &random)
        let finalize = try XCTUnwrap(requests(actions).first)
        XCTAssertEqual(finalize.profile.scores?.buyerState, .active, "finalize carries the accepted attempt's card only")
        let late = machine.handle(result(second, PhasePayload(scores: card(.monitor))), random: &random)
        XCTAssertEqual(late, [], "a rejected result changes nothing and sends no finalize request")
        XCTAssertEqual(machine.state?.profile.scores?.buyerState, .active)
    }
}

/// The pool matcher with overrides; no broker.
final class LeadPoolOverrideTests: XCTestCase {
    func testADisqualifiedPoolLeadMakesNoMatch() {
        var profile = Fixtures.profile()
        profile.linkedinURL = "https://www.linkedin.com/in/janedoe"
        let entry = LeadPoolEntry(profile: profile, accountID: "acct-old", offerID: "offer-old", finishedAt: Fixtures.now)
        let matcher = LeadPoolMatcher(minimumFit: 0)
        XCTAssertEqual(matcher.matches(offer: Fixtures.offer(), pool: [entry], at: Fixtures.now).map(\.lead.leadID), ["lead-1@offer-1"])
        let disqualified = LeadOverride(leadID: "lead-1", state: .disqualified, reason: "no", requestedBy: "ops", at: Fixtures.now)
        XCTAssertEqual(matcher.matches(offer: Fixtures.offer(), pool: [entry], overrides: ["lead-1": disqualified], at: Fixtures.now), [])
        var scoredOut = entry
        scoredOut.profile.scores = ScoreCard(
            fit: 90, intent: 90, timing: 90, composite: 90, buyerState: .disqualified, fitReasons: [], intentReasons: [],
            timingReasons: [], stateReason: "manual override: no", scorer: "fixed", scoredAt: Fixtures.now)
        XCTAssertEqual(matcher.matches(offer: Fixtures.offer(), pool: [scoredOut], at: Fixtures.now), [])
    }
}
