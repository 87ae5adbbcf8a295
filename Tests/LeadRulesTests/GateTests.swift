import Foundation
import JSONCodec
import LeadModel
import LeadModelTestSupport
import LeadRules
import XCTest

/// Billing pause and outreach window gates of the per-lead state machine.
final class GateTests: XCTestCase {
    typealias Machine = LeadStateMachine
    private var random = SeededRandom(seed: 11)
    private let paused = Machine.Gates(isBillingPaused: true)

    private func requests(_ actions: [Machine.Action]) -> [PhaseRequest] {
        actions.compactMap { if case .sendPhaseRequest(let request) = $0 { request } else { nil } }
    }

    private func result(_ request: PhaseRequest, _ outcome: PhaseOutcome) -> Machine.Event {
        .phaseResult(PhaseResult(answering: request, outcome: outcome, payload: .empty, charges: [], finishedAt: Fixtures.now,
                                 service: "test").envelope, at: Fixtures.now)
    }

    func testPaidPhaseWaitsWhileBillingIsPausedAndContinuesOnResume() {
        var machine = Machine()
        let actions = machine.handle(.discovered(Fixtures.lead(mode: .full), runID: "r1", at: Fixtures.now), gates: paused, random: &random)
        XCTAssertTrue(requests(actions).isEmpty, "no paid phase may start while billing is paused")
        XCTAssertEqual(machine.state?.status, .billingPaused)
        XCTAssertEqual(machine.state?.currentPhase, .profile)
        XCTAssertTrue(machine.state?.history.contains { $0.kind == .billingPaused } ?? false)

        // Still paused: nothing happens.
        XCTAssertTrue(machine.handle(.gatesChanged(at: Fixtures.now), gates: paused, random: &random).isEmpty)
        // Resumed: the lead continues from the phase it waited at.
        let resumed = machine.handle(.gatesChanged(at: Fixtures.now), gates: .open, random: &random)
        XCTAssertEqual(requests(resumed).map(\.phase), [.profile])
        XCTAssertEqual(machine.state?.status, .processing)
    }

    /// What holds a run not started yet: a closed window any, a billing pause one with a paid phase.
    func testGatesHoldARunAsTheMachineDoes() {
        let paused = LeadStateMachine.Gates(isBillingPaused: true)
        XCTAssertTrue(paused.holdRun(hasPaidPhase: true))
        XCTAssertFalse(paused.holdRun(hasPaidPhase: false))
        let closed = LeadStateMachine.Gates(windowOpensAt: Date(timeIntervalSince1970: 1_750_100_000))
        XCTAssertTrue(closed.holdRun(hasPaidPhase: false))
        XCTAssertFalse(LeadStateMachine.Gates.open.holdRun(hasPaidPhase: true))
    }

    func testUnpaidFinalizeRunsWhilePaused() {
        var machine = Machine()
        let actions = machine.handle(.discovered(Fixtures.lead(mode: .noOp), runID: "r1", at: Fixtures.now), gates: paused, random: &random)
        XCTAssertEqual(requests(actions).map(\.phase), [.finalize])
    }

    /// Takes a full-mode lead through profile, activity and scoring with the gates open, and
    /// answers its scoring request with `gates`: what comes of finalize.
    private func scoredLead(answeringScoringWith gates: Machine.Gates) -> (Machine, [PhaseRequest]) {
        var machine = Machine()
        var request = requests(machine.handle(.discovered(Fixtures.lead(mode: .full), runID: "r1", at: Fixtures.now), random: &random))[0]
        while request.phase != .scoring {
            request = requests(machine.handle(result(request, .completed), random: &random))[0]
        }
        let next = requests(machine.handle(result(request, .completed), gates: gates, random: &random))
        return (machine, next)
    }

    /// Finalize may enroll the lead in outreach when its account's autopilot is on. During a
    /// billing pause its first attempt goes (the stage, which knows the card and the rule,
    /// completes a lead autopilot would not enroll); once the stage answered that it would
    /// enroll the lead but for the pause, the lead waits for the account as a paid phase does,
    /// and its retry is sent on resume, or when autopilot is switched off.
    func testAFinalizeRetryWaitsOutABillingPauseWhenTheAccountsAutopilotIsOn() throws {
        let pausedWithAutopilot = Machine.Gates(isBillingPaused: true, isAutopilotOn: true)
        var (machine, next) = scoredLead(answeringScoringWith: pausedWithAutopilot)
        XCTAssertEqual(next.map(\.phase), [.finalize], "the first attempt goes: its stage decides")
        let waiting = machine.handle(result(try XCTUnwrap(next.first), .waitsForBilling(reason: "account billing paused")),
                                     gates: pausedWithAutopilot, random: &random)
        XCTAssertTrue(requests(waiting).isEmpty)
        XCTAssertEqual(machine.state?.status, .billingPaused, "held at once, without a backoff")
        XCTAssertEqual(machine.state?.currentPhase, .finalize)
        XCTAssertEqual(machine.state?.history.last?.kind, .billingPaused)
        XCTAssertTrue(machine.handle(.gatesChanged(at: Fixtures.now), gates: pausedWithAutopilot, random: &random).isEmpty)
        let retried = requests(machine.handle(.gatesChanged(at: Fixtures.now), gates: Machine.Gates(isAutopilotOn: true), random: &random))
        XCTAssertEqual(retried.map(\.phase), [.finalize])
        XCTAssertEqual(retried.first?.attempt, 2)
        XCTAssertEqual(machine.state?.status, .processing)

        // Autopilot switched off during the pause: the held finalize goes, and enrolls nobody.
        (machine, next) = scoredLead(answeringScoringWith: pausedWithAutopilot)
        _ = machine.handle(result(try XCTUnwrap(next.first), .waitsForBilling(reason: "account billing paused")),
                           gates: pausedWithAutopilot, random: &random)
        XCTAssertEqual(requests(machine.handle(.gatesChanged(at: Fixtures.now), gates: paused, random: &random)).map(\.phase), [.finalize])

        // The answer comes after the resume: retried after its backoff, never held.
        (machine, next) = scoredLead(answeringScoringWith: pausedWithAutopilot)
        let late = machine.handle(result(try XCTUnwrap(next.first), .waitsForBilling(reason: "account billing paused")),
                                  gates: Machine.Gates(isAutopilotOn: true), random: &random)
        let backoff = try XCTUnwrap(late.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }.first)
        XCTAssertEqual(machine.state?.status, .processing)
        XCTAssertEqual(requests(machine.handle(.timerFired(backoff, at: backoff.fireAt), gates: Machine.Gates(isAutopilotOn: true),
                                               random: &random)).map(\.phase), [.finalize])

        // Autopilot off: finalize enrolls nobody, and its retry runs while paused.
        (machine, next) = scoredLead(answeringScoringWith: paused)
        let failedWithout = machine.handle(result(try XCTUnwrap(next.first), .failed(reason: "broker", isRetriable: true)), gates: paused, random: &random)
        let backoffWithout = try XCTUnwrap(failedWithout.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }.first)
        XCTAssertEqual(requests(machine.handle(.timerFired(backoffWithout, at: backoffWithout.fireAt), gates: paused, random: &random))
            .map(\.phase), [.finalize])
        // A run that did not score cannot enroll: its finalize retry runs while paused.
        var noOp = Machine()
        let noOpRequest = requests(noOp.handle(.discovered(Fixtures.lead(mode: .noOp), runID: "r1", at: Fixtures.now),
                                               gates: pausedWithAutopilot, random: &random))[0]
        let noOpFailed = noOp.handle(result(noOpRequest, .failed(reason: "broker", isRetriable: true)), gates: pausedWithAutopilot,
                                     random: &random)
        let noOpBackoff = try XCTUnwrap(noOpFailed.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }.first)
        XCTAssertEqual(requests(noOp.handle(.timerFired(noOpBackoff, at: noOpBackoff.fireAt), gates: pausedWithAutopilot, random: &random))
            .map(\.phase), [.finalize])
    }

    /// Only the stage's own billing answer holds a finalize retry: a finalize that failed for
    /// another reason, or got no answer in time, during a billing pause of an account with
    /// autopilot on is retried after its backoff, as a lead autopilot would not enroll must be
    /// finished. Before, any finalize retry of a scored run waited for the resume.
    func testAFinalizeRetryAfterAnotherFailureRunsDuringABillingPause() throws {
        let pausedWithAutopilot = Machine.Gates(isBillingPaused: true, isAutopilotOn: true)
        var (machine, next) = scoredLead(answeringScoringWith: pausedWithAutopilot)
        let failed = machine.handle(result(try XCTUnwrap(next.first), .failed(reason: "broker", isRetriable: true)),
                                    gates: pausedWithAutopilot, random: &random)
        let backoff = try XCTUnwrap(failed.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }.first)
        let retried = requests(machine.handle(.timerFired(backoff, at: backoff.fireAt), gates: pausedWithAutopilot, random: &random))
        XCTAssertEqual(retried.map(\.phase), [.finalize], "a retry after another failure is sent during the pause")
        XCTAssertEqual(machine.state?.status, .processing)

        // No answer in time: the same.
        (machine, next) = scoredLead(answeringScoringWith: pausedWithAutopilot)
        let deadline = try XCTUnwrap(machine.state?.inFlight?.deadline)
        let timeout = Machine.Timer(key: try XCTUnwrap(next.first).attemptKey, kind: .attemptTimeout, fireAt: deadline)
        let timedOut = machine.handle(.timerFired(timeout, at: deadline), gates: pausedWithAutopilot, random: &random)
        let backoffAfterTimeout = try XCTUnwrap(timedOut.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }.first)
        XCTAssertEqual(requests(machine.handle(.timerFired(backoffAfterTimeout, at: backoffAfterTimeout.fireAt), gates: pausedWithAutopilot,
                                               random: &random)).map(\.phase), [.finalize])
    }

    /// A lead billing paused before its scoring retry, whose first scoring attempt's answer then
    /// comes late and completes scoring, goes on to finalize: its first attempt is sent, as for
    /// any lead. Before, the status left by the scoring hold held finalize with no request sent.
    func testALateScoringAnswerDuringAPauseSendsTheFirstFinalizeAttempt() throws {
        let pausedWithAutopilot = Machine.Gates(isBillingPaused: true, isAutopilotOn: true)
        var machine = Machine()
        var request = requests(machine.handle(.discovered(Fixtures.lead(mode: .full), runID: "r1", at: Fixtures.now), random: &random))[0]
        while request.phase != .scoring {
            request = requests(machine.handle(result(request, .completed), random: &random))[0]
        }
        let deadline = try XCTUnwrap(machine.state?.inFlight?.deadline)
        let timedOut = machine.handle(.timerFired(Machine.Timer(key: request.attemptKey, kind: .attemptTimeout, fireAt: deadline), at: deadline),
                                      gates: pausedWithAutopilot, random: &random)
        let backoff = try XCTUnwrap(timedOut.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }.first)
        XCTAssertTrue(requests(machine.handle(.timerFired(backoff, at: backoff.fireAt), gates: pausedWithAutopilot, random: &random)).isEmpty)
        XCTAssertEqual(machine.state?.status, .billingPaused, "the paid retry waits")
        let next = requests(machine.handle(result(request, .completed), gates: pausedWithAutopilot, random: &random))
        XCTAssertEqual(next.map(\.phase), [.finalize], "the late answer completed scoring; finalize's first attempt goes")
        XCTAssertEqual(machine.state?.status, .processing)
    }

    /// A finalize held after its stage's billing answer stays held through gate changes that do
    /// not open it, and a late completed answer of an earlier finalize attempt (its entry
    /// written) completes the phase. Before, the hold forgot the attempt in flight: the late
    /// answer was dropped and the lead finalized again on resume.
    func testAHeldFinalizeKeepsItsAttemptAndALateAnswerCompletesIt() throws {
        let pausedWithAutopilot = Machine.Gates(isBillingPaused: true, isAutopilotOn: true)
        var (machine, next) = scoredLead(answeringScoringWith: pausedWithAutopilot)
        let first = try XCTUnwrap(next.first)
        let deadline = try XCTUnwrap(machine.state?.inFlight?.deadline)
        let timedOut = machine.handle(.timerFired(Machine.Timer(key: first.attemptKey, kind: .attemptTimeout, fireAt: deadline), at: deadline),
                                      gates: pausedWithAutopilot, random: &random)
        let backoff = try XCTUnwrap(timedOut.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }.first)
        let second = try XCTUnwrap(requests(machine.handle(.timerFired(backoff, at: backoff.fireAt), gates: pausedWithAutopilot,
                                                           random: &random)).first)
        XCTAssertEqual(second.attempt, 2)
        _ = machine.handle(result(second, .waitsForBilling(reason: "account billing paused")), gates: pausedWithAutopilot, random: &random)
        XCTAssertEqual(machine.state?.status, .billingPaused)
        for _ in 0..<2 {
            XCTAssertTrue(requests(machine.handle(.gatesChanged(at: Fixtures.now), gates: pausedWithAutopilot, random: &random)).isEmpty,
                          "still paused: held")
        }
        _ = machine.handle(result(first, .completed), gates: pausedWithAutopilot, random: &random)
        XCTAssertEqual(machine.state?.status, .ready, "the late answer of attempt 1 finished the run")
        XCTAssertTrue(requests(machine.handle(.gatesChanged(at: Fixtures.now), gates: Machine.Gates(isAutopilotOn: true),
                                              random: &random)).isEmpty, "not finalized again on resume")
    }

    /// The finalize stage's answer that the lead waits for billing is no failure (metrics count
    /// it as `waits-for-billing`), and the lead's history, which `leadctl show` prints, says so:
    /// one `billing-paused` entry naming the attempt answered and the stage's reason, no
    /// `phase-failed`. Before: `phase-failed finalize#1` with the stage's reason, then
    /// `billing-paused finalize` with "account billing paused".
    func testAWaitsForBillingAnswerIsRecordedAsAWaitNotAFailure() throws {
        let pausedWithAutopilot = Machine.Gates(isBillingPaused: true, isAutopilotOn: true)
        let (scored, next) = scoredLead(answeringScoringWith: pausedWithAutopilot)
        var machine = scored
        let request = try XCTUnwrap(next.first)
        let before = machine.state?.history.count ?? 0
        let reason = "account billing paused: autopilot would enroll the lead, so it is finalized once billing resumes"
        _ = machine.handle(result(request, .waitsForBilling(reason: reason)), gates: pausedWithAutopilot, random: &random)
        let recorded = try XCTUnwrap(machine.state?.history.dropFirst(before))
        XCTAssertEqual(recorded.map(\.kind), [.billingPaused], "\(recorded)")
        XCTAssertEqual(recorded.first?.phase, .finalize)
        XCTAssertEqual(recorded.first?.attempt, request.attempt)
        XCTAssertEqual(recorded.first?.detail, reason)
        XCTAssertFalse(machine.state?.history.contains { $0.kind == .phaseFailed } ?? true, "no failure in the history")
    }

    /// A stage of an older version answers a vendor's exhausted credits with `account-paused`
    /// during a rolling upgrade: the attempt failed and is retried with backoff; the lead never
    /// waits on billing for it.
    func testAccountPausedAnswerOfAnOlderStageIsARetriableFailure() throws {
        var machine = Machine()
        let first = requests(machine.handle(.discovered(Fixtures.lead(mode: .full), runID: "r1", at: Fixtures.now), random: &random))[0]
        let actions = machine.handle(result(first, .accountPaused(reason: "provider credits exhausted")), random: &random)
        XCTAssertTrue(requests(actions).isEmpty, "the retry waits for its backoff")
        XCTAssertEqual(machine.state?.status, .processing)
        XCTAssertFalse(machine.state?.history.contains { $0.kind == .billingPaused } ?? true)
        let failure = machine.state?.history.first { $0.kind == .phaseFailed }
        XCTAssertEqual(failure?.detail, "provider credits exhausted", "the reason stays in the history")
        let backoff = try XCTUnwrap(actions.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }.first)
        XCTAssertEqual(backoff.kind, .retryBackoff)
        XCTAssertEqual(backoff.key.attempt, 2)

        let retried = requests(machine.handle(.timerFired(backoff, at: backoff.fireAt), random: &random))
        XCTAssertEqual(retried.map(\.phase), [.profile])
        XCTAssertEqual(retried.first?.attempt, 2, "attempt numbers never repeat within a run")
        // A late duplicate of the answer to attempt 1 changes nothing.
        XCTAssertTrue(machine.handle(result(first, .accountPaused(reason: "again")), random: &random).isEmpty)
        XCTAssertEqual(machine.state?.status, .processing)
    }

    func testAccountPausedAnswersOnEveryAttemptSkipThePhaseLikeOtherFailures() {
        var machine = Machine(configuration: .init(maxAttempts: 2, backoffBase: 1))
        var request = requests(machine.handle(.discovered(Fixtures.lead(mode: .full), runID: "r1", at: Fixtures.now), random: &random))[0]
        let actions = machine.handle(result(request, .accountPaused(reason: "provider credits exhausted")), random: &random)
        guard let backoff = actions.compactMap({ if case .scheduleTimer(let timer) = $0 { timer } else { nil } }).first else {
            return XCTFail("no retry scheduled")
        }
        request = requests(machine.handle(.timerFired(backoff, at: backoff.fireAt), random: &random))[0]
        let next = requests(machine.handle(result(request, .accountPaused(reason: "provider credits exhausted")), random: &random))
        XCTAssertEqual(next.map(\.phase), [.activity], "the profile phase is skipped after its last attempt; the run goes on")
        XCTAssertEqual(machine.state?.profile.skippedPhases.first?.phase, .profile)
    }

    func testRunStartsOnlyInsideTheOutreachWindowAndIsReleasedByItsTimer() throws {
        let opensAt = Fixtures.now.addingTimeInterval(3600)
        var machine = Machine()
        let actions = machine.handle(.discovered(Fixtures.lead(mode: .full), runID: "r1", at: Fixtures.now),
                                     gates: Machine.Gates(windowOpensAt: opensAt), random: &random)
        XCTAssertTrue(requests(actions).isEmpty)
        XCTAssertEqual(machine.state?.status, .outsideOutreachWindow)
        let timer = try XCTUnwrap(actions.compactMap { if case .scheduleTimer(let t) = $0 { t } else { nil } }.first)
        XCTAssertEqual(timer.kind, .windowOpens)
        XCTAssertEqual(timer.fireAt, opensAt)

        let released = requests(machine.handle(.timerFired(timer, at: opensAt), gates: .open, random: &random))
        XCTAssertEqual(released.map(\.phase), [.profile])
        // A second firing of the same timer is stale.
        XCTAssertTrue(machine.handle(.timerFired(timer, at: opensAt), gates: .open, random: &random).isEmpty)
    }

    /// The window holds a run until it sends its first request, however the run got there:
    /// past a phase it skipped (no profile URL), or out of a billing pause that began while the
    /// window was open and ended after it closed.
    func testARunThatHasSentNothingYetWaitsForTheWindow() throws {
        let closed = Machine.Gates(windowOpensAt: Fixtures.now.addingTimeInterval(3600))
        var noURLs = Machine()
        let skipped = noURLs.handle(.discovered(Fixtures.lead(linkedin: nil, x: nil, mode: .full), runID: "r1", at: Fixtures.now),
                                    gates: closed, random: &random)
        XCTAssertEqual(noURLs.state?.profile.skippedPhases.map(\.phase), [.profile])
        XCTAssertTrue(requests(skipped).isEmpty, "\(requests(skipped).map(\.phase))")
        XCTAssertEqual(noURLs.state?.status, .outsideOutreachWindow)

        var resumed = Machine()
        _ = resumed.handle(.discovered(Fixtures.lead(mode: .full), runID: "r1", at: Fixtures.now), gates: paused, random: &random)
        XCTAssertEqual(resumed.state?.status, .billingPaused)
        let atNight = resumed.handle(.gatesChanged(at: Fixtures.now), gates: closed, random: &random)
        XCTAssertTrue(requests(atNight).isEmpty, "\(requests(atNight).map(\.phase))")
        XCTAssertEqual(resumed.state?.status, .outsideOutreachWindow)
    }

    func testStartedRunFinishesAfterTheWindowCloses() {
        var machine = Machine()
        let first = requests(machine.handle(.discovered(Fixtures.lead(mode: .full), runID: "r1", at: Fixtures.now), random: &random))[0]
        let closed = Machine.Gates(windowOpensAt: Fixtures.now.addingTimeInterval(7200))
        let next = requests(machine.handle(result(first, .completed), gates: closed, random: &random))
        XCTAssertEqual(next.map(\.phase), [.activity])
    }

    func testNextOpeningOfAWindow() throws {
        // Mon-Fri 9-17 in New York. 2025-06-14 is a Saturday.
        let window = OutreachWindow(timeZoneID: "America/New_York")
        let saturdayNoonUTC = try XCTUnwrap(ISO8601.parse("2025-06-14T12:00:00.000Z"))
        let opening = try XCTUnwrap(window.nextOpening(after: saturdayNoonUTC))
        XCTAssertEqual(ISO8601.format(opening), "2025-06-16T13:00:00.000Z", "Monday 9:00 EDT")
        let mondayTenEDT = try XCTUnwrap(ISO8601.parse("2025-06-16T14:00:00.000Z"))
        XCTAssertEqual(window.nextOpening(after: mondayTenEDT), mondayTenEDT, "inside the window: now")
        XCTAssertNil(OutreachWindow(timeZoneID: "UTC", weekdays: []).nextOpening(after: mondayTenEDT))
    }
}

final class PoolMatchTests: XCTestCase {
    func testScoringOnlyRunOfAPoolMatchStartsFromThePoolProfile() throws {
        var pool = Fixtures.profile(company: "Acme SaaS")
        pool.linkedin = Fixtures.linkedin()
        var lead = Fixtures.lead(mode: .scoringOnly)
        lead.source = .leadPool
        lead.poolProfile = pool
        var machine = LeadStateMachine()
        var random = SeededRandom(seed: 3)
        let actions = machine.handle(.discovered(lead, runID: "r1", at: Fixtures.now), random: &random)
        let request = try XCTUnwrap(actions.compactMap { if case .sendPhaseRequest(let r) = $0 { r } else { nil } }.first)
        XCTAssertEqual(request.phase, .scoring)
        XCTAssertEqual(request.profile.linkedin?.jobTitle, pool.linkedin?.jobTitle, "scoring sees what enrichment found")
        XCTAssertEqual(request.profile.leadID, lead.leadID, "but it is the new lead's profile")
    }
}
