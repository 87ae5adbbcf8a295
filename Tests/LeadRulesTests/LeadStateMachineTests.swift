import Foundation
import LeadModel
import LeadModelTestSupport
import LeadRules
import XCTest

final class LeadStateMachineTests: XCTestCase {
    typealias Machine = LeadStateMachine

    private var random = SeededRandom(seed: 7)

    // MARK: Helpers

    private func requests(_ actions: [Machine.Action]) -> [PhaseRequest] {
        actions.compactMap { if case .sendPhaseRequest(let request) = $0 { request } else { nil } }
    }

    private func timers(_ actions: [Machine.Action]) -> [Machine.Timer] {
        actions.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }
    }

    private func isReady(_ actions: [Machine.Action]) -> Bool {
        actions.contains { if case .markReady = $0 { true } else { false } }
    }

    private func completed(_ request: PhaseRequest, payload: PhasePayload = .empty, charges: [BillableCharge] = []) -> Machine.Event {
        .phaseResult(
            PhaseResult(answering: request, outcome: .completed, payload: payload, charges: charges, finishedAt: Fixtures.now, service: "test")
                .envelope,
            at: Fixtures.now)
    }

    /// Runs a lead through by completing every request; returns the phases requested in order.
    private func phasesRun(for lead: LeadDiscovered) -> [Phase] {
        var machine = Machine()
        var actions = machine.handle(.discovered(lead, runID: "run-1", at: Fixtures.now), random: &random)
        var phases: [Phase] = []
        while let request = requests(actions).first {
            phases.append(request.phase)
            actions = machine.handle(completed(request), random: &random)
        }
        XCTAssertTrue(isReady(actions), "run must end ready")
        XCTAssertEqual(machine.state?.status, .ready)
        return phases
    }

    // MARK: Phase order per mode

    func testPhaseOrderForEveryMode() {
        XCTAssertEqual(phasesRun(for: Fixtures.lead(mode: .full)), [.profile, .activity, .scoring, .finalize])
        XCTAssertEqual(phasesRun(for: Fixtures.lead(mode: .scoringOnly)), [.scoring, .finalize])
        var withoutProfile = Fixtures.lead(mode: .scoringOnly)
        withoutProfile.poolProfile = nil
        XCTAssertEqual(phasesRun(for: withoutProfile), [.profile, .activity, .scoring, .finalize],
                       "a scoring-only lead without poolProfile has nothing to score: it runs in full")
        XCTAssertEqual(phasesRun(for: Fixtures.lead(mode: .enrichOnly)), [.profile, .activity, .finalize])
        XCTAssertEqual(phasesRun(for: Fixtures.lead(mode: .noOp)), [.finalize])
        XCTAssertEqual(phasesRun(for: Fixtures.lead(mode: .reEnrich, types: [.activity])), [.activity, .finalize])
        XCTAssertEqual(phasesRun(for: Fixtures.lead(mode: .reEnrich, types: [.x, .activity])), [.profile, .activity, .finalize])
    }

    /// A timer is waited on until its attempt's result comes; after that it is stale (the
    /// coordinator prunes stale timers, so its pending-timers gauge counts only live ones).
    func testAnAttemptsTimeoutIsWaitedOnOnlyUntilItsResultComes() throws {
        var machine = Machine()
        let actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        let timeout = try XCTUnwrap(timers(actions).first)
        XCTAssertEqual(timeout.kind, .attemptTimeout)
        XCTAssertTrue(machine.isWaiting(on: timeout))
        let next = machine.handle(completed(try XCTUnwrap(requests(actions).first)), random: &random)
        XCTAssertFalse(machine.isWaiting(on: timeout), "the profile result came")
        XCTAssertTrue(machine.isWaiting(on: try XCTUnwrap(timers(next).first)), "the activity attempt's timeout is live")
    }

    func testModePhasesAndPlatforms() {
        XCTAssertEqual(Mode.reEnrich([.linkedin]).phases, [.profile, .finalize])
        XCTAssertEqual(Mode.reEnrich([.linkedin]).profilePlatforms, [.linkedin])
        XCTAssertEqual(Mode.reEnrich([.activity]).profilePlatforms, [])
        XCTAssertEqual(Mode.full.profilePlatforms, [.linkedin, .x])
    }

    func testReEnrichProfileIsLimitedToSelectedPlatforms() throws {
        var machine = Machine()
        let actions = machine.handle(
            .discovered(Fixtures.lead(mode: .reEnrich, types: [.x]), runID: "run-1", at: Fixtures.now), random: &random)
        let request = try XCTUnwrap(requests(actions).first)
        XCTAssertEqual(request.phase, .profile)
        XCTAssertEqual(request.platforms, [.x])
        XCTAssertTrue(request.isPriority)
    }

    func testProfilePhaseWithoutMatchingURLIsSkipped() throws {
        var machine = Machine()
        let lead = Fixtures.lead(x: nil, mode: .reEnrich, types: [.x])
        let actions = machine.handle(.discovered(lead, runID: "run-1", at: Fixtures.now), random: &random)
        XCTAssertEqual(requests(actions).map(\.phase), [.finalize])
        XCTAssertEqual(machine.state?.profile.skippedPhases.map(\.phase), [.profile])
    }

    func testFirstRequestAndPriority() throws {
        var machine = Machine()
        let actions = machine.handle(.discovered(Fixtures.lead(source: .csvImport), runID: "run-1", at: Fixtures.now), random: &random)
        let request = try XCTUnwrap(requests(actions).first)
        XCTAssertEqual(request.attempt, 1)
        XCTAssertEqual(request.platforms, [.linkedin, .x])
        XCTAssertFalse(request.isPriority)
        XCTAssertEqual(timers(actions).first?.kind, .attemptTimeout)
        XCTAssertEqual(timers(actions).first?.fireAt, Fixtures.now.addingTimeInterval(120))
        guard case .persist(let state)? = actions.last else { return XCTFail("persist must be last") }
        XCTAssertEqual(state.status, .processing)
        XCTAssertEqual(state.currentPhase, .profile)
    }

    /// The coordinator holds a machine per running lead: one that kept its last actions (a
    /// request and a copy of the state, several KB) would hold them until the lead's next event.
    func testTheCallerAloneHoldsTheActions() {
        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        XCTAssertTrue(isUnshared(&actions), "the machine keeps the actions of a discovery")
        guard let request = requests(actions).first else { return XCTFail("no request") }
        actions = machine.handle(completed(request), random: &random)
        XCTAssertTrue(isUnshared(&actions), "the machine keeps the actions of a result")
    }

    /// Whether nothing else holds the buffer of `actions`: one held alone is written in place, a
    /// shared one is copied first.
    private func isUnshared(_ actions: inout [Machine.Action]) -> Bool {
        let held = actions.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        return !actions.isEmpty && held == actions.withUnsafeMutableBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    // MARK: Duplicates and stale input

    func testDuplicateAndStaleResultsChangeNothing() throws {
        var machine = Machine()
        let first = try XCTUnwrap(requests(machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)).first)
        let second = try XCTUnwrap(requests(machine.handle(completed(first), random: &random)).first)
        XCTAssertEqual(second.phase, .activity)
        let before = machine.state

        XCTAssertEqual(machine.handle(completed(first), random: &random), [], "duplicate result")
        var otherRun = first
        otherRun.runID = "run-0"
        otherRun.phase = .activity
        XCTAssertEqual(machine.handle(completed(otherRun), random: &random), [], "result of another run")
        var otherAttempt = second
        otherAttempt.attempt = 2
        let failedOther = PhaseResult(answering: otherAttempt, outcome: .failed(reason: "x", isRetriable: true), payload: .empty,
                                      finishedAt: Fixtures.now, service: "test")
        XCTAssertEqual(machine.handle(.phaseResult(failedOther.envelope, at: Fixtures.now), random: &random), [],
                       "a failure of an attempt not waited on")
        var otherLead = second
        otherLead.leadID = "lead-2"
        XCTAssertEqual(machine.handle(completed(otherLead), random: &random), [], "result of another lead")
        let staleTimer = Machine.Timer(key: first.attemptKey, kind: .attemptTimeout, fireAt: Fixtures.now)
        XCTAssertEqual(machine.handle(.timerFired(staleTimer, at: Fixtures.now), random: &random), [], "stale timer")
        XCTAssertEqual(machine.state, before)
    }

    func testRepublishWhileInFlightStartsNoNewRun() throws {
        var machine = Machine()
        _ = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        let before = machine.state
        XCTAssertEqual(machine.handle(.discovered(Fixtures.lead(), runID: "run-2", at: Fixtures.now), random: &random), [])
        XCTAssertEqual(machine.state, before)
        XCTAssertEqual(machine.state?.runID, "run-1")
    }

    func testRepublishAfterReadyStartsNoNewRun() {
        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(mode: .noOp), runID: "run-1", at: Fixtures.now), random: &random)
        actions = machine.handle(completed(requests(actions)[0]), random: &random)
        XCTAssertTrue(isReady(actions))
        XCTAssertEqual(machine.handle(.discovered(Fixtures.lead(), runID: "run-2", at: Fixtures.now), random: &random), [])
    }

    func testReEnrichStartsNewRunAndMakesOldResultsStale() throws {
        var machine = Machine()
        let first = try XCTUnwrap(requests(machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)).first)
        let actions = machine.handle(.reEnrich(.reEnrich([.activity]), runID: "run-2", at: Fixtures.now), random: &random)
        let request = try XCTUnwrap(requests(actions).first)
        XCTAssertEqual(request.runID, "run-2")
        XCTAssertEqual(request.phase, .activity)
        XCTAssertEqual(request.attempt, 1)
        XCTAssertEqual(machine.handle(completed(first), random: &random), [], "result of the superseded run")
        XCTAssertEqual(machine.handle(.reEnrich(.full, runID: "run-2", at: Fixtures.now), random: &random), [], "same re-enrich again")
        XCTAssertTrue(machine.state?.history.contains { $0.kind == .runStarted && $0.runID == "run-2" } ?? false)
    }

    /// A re-enrich request delivered twice carries the same run id; the second copy starts
    /// nothing (and charges nothing), also when another run came between the two.
    func testReEnrichWithARunIDOfAnEarlierRunStartsNothing() throws {
        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(mode: .noOp), runID: "run-1", at: Fixtures.now), random: &random)
        actions = machine.handle(completed(try XCTUnwrap(requests(actions).first)), random: &random)
        XCTAssertTrue(isReady(actions))

        actions = machine.handle(.reEnrich(.reEnrich([.activity]), runID: "run-request-a", at: Fixtures.now), random: &random)
        while let request = requests(actions).first { actions = machine.handle(completed(request), random: &random) }
        XCTAssertTrue(isReady(actions))
        actions = machine.handle(.reEnrich(.reEnrich([.activity]), runID: "run-request-b", at: Fixtures.now), random: &random)
        XCTAssertEqual(requests(actions).first?.runID, "run-request-b")
        let before = machine.state

        XCTAssertEqual(machine.handle(.reEnrich(.reEnrich([.activity]), runID: "run-request-a", at: Fixtures.now), random: &random), [],
                       "the first request again, after another run")
        XCTAssertEqual(machine.handle(.reEnrich(.reEnrich([.activity]), runID: "run-1", at: Fixtures.now), random: &random), [],
                       "the first run's id")
        XCTAssertEqual(machine.state, before)
        let starts = machine.state?.history.filter { $0.kind == .runStarted }.map(\.runID)
        XCTAssertEqual(starts, ["run-1", "run-request-a", "run-request-b"], "one run per run id")
    }

    func testReEnrichOfUnknownLeadDoesNothing() {
        var machine = Machine()
        XCTAssertEqual(machine.handle(.reEnrich(.full, runID: "run-9", at: Fixtures.now), random: &random), [])
        XCTAssertNil(machine.state)
    }

    // MARK: Timeouts, retries, skips

    func testTimeoutRetriesWithBackoffThenSkipsAndStillEndsReady() throws {
        let configuration = Machine.Configuration(maxAttempts: 3, backoffBase: 10, jitterFraction: 0.2)
        var machine = Machine(configuration: configuration)
        var fixed = FixedRandom()
        // A standard lead: a priority lead's backoff starts from priorityBackoffBase. Scoring
        // only: its one paid phase is the one that times out.
        var actions = machine.handle(.discovered(Fixtures.lead(source: .csvImport, mode: .scoringOnly), runID: "run-1", at: Fixtures.now), random: &fixed)
        var clock = Fixtures.now
        var delays: [TimeInterval] = []
        for attempt in 1...3 {
            let request = try XCTUnwrap(requests(actions).first)
            XCTAssertEqual(request.attempt, attempt)
            let timeout = try XCTUnwrap(timers(actions).first { $0.kind == .attemptTimeout })
            clock = timeout.fireAt
            actions = machine.handle(.timerFired(timeout, at: clock), random: &fixed)
            if attempt < 3 {
                let retry = try XCTUnwrap(timers(actions).first)
                XCTAssertEqual(retry.kind, .retryBackoff)
                XCTAssertEqual(retry.key.attempt, attempt + 1)
                XCTAssertTrue(requests(actions).isEmpty, "no request before the backoff is over")
                delays.append(retry.fireAt.timeIntervalSince(clock))
                clock = retry.fireAt
                actions = machine.handle(.timerFired(retry, at: clock), random: &fixed)
            }
        }
        let finalize = try XCTUnwrap(requests(actions).first, "skipping scoring goes on to finalize")
        XCTAssertEqual(finalize.phase, .finalize)
        let skip = try XCTUnwrap(finalize.profile.skippedPhases.first, "the pool entry says what was skipped")
        XCTAssertEqual(skip.phase, .scoring)
        XCTAssertTrue(skip.reason.contains("gave up after 3 attempts"), skip.reason)
        XCTAssertEqual(delays.count, 2)
        XCTAssertGreaterThan(delays[1], delays[0], "backoff grows")
        XCTAssertTrue((8...12).contains(delays[0]), "10 s ± 20 %: \(delays[0])")
    }

    /// An attempt with no answer in time says the stage did not get to it (restarting, its group
    /// rebalancing), not that the provider failed: it does not use up the attempts the provider's
    /// failed answers have. The phase is given up after `maxAttempts` failed answers or
    /// `maxAttempts` attempts without one, whichever comes first, and the count of the second
    /// survives a restore.
    func testAnAttemptWithNoAnswerDoesNotUseUpTheAttemptsForFailedAnswers() throws {
        let configuration = Machine.Configuration(maxAttempts: 3, backoffBase: 1, jitterFraction: 0)
        var machine = Machine(configuration: configuration)
        var fixed = FixedRandom()
        var actions = machine.handle(.discovered(Fixtures.lead(source: .csvImport, mode: .scoringOnly), runID: "run-1", at: Fixtures.now), random: &fixed)
        var clock = Fixtures.now
        let codec = MessageCodec()
        // Failed, failed, no answer, no answer, failed: three failed answers end it, at attempt 5.
        for (attempt, answers) in [true, true, false, false, true].enumerated().map({ ($0 + 1, $1) }) {
            let request = try XCTUnwrap(requests(actions).first, "attempt \(attempt) is sent")
            XCTAssertEqual(request.phase, .scoring)
            XCTAssertEqual(request.attempt, attempt)
            if answers {
                clock += 1
                let failed = PhaseResult(answering: request, outcome: .failed(reason: "HTTP 503", isRetriable: true), payload: .empty,
                                         finishedAt: clock, service: "test")
                actions = machine.handle(.phaseResult(failed.envelope, at: clock), random: &fixed)
            } else {
                let timeout = try XCTUnwrap(timers(actions).first { $0.kind == .attemptTimeout })
                clock = timeout.fireAt
                actions = machine.handle(.timerFired(timeout, at: clock), random: &fixed)
            }
            if attempt == 5 { break }
            let retry = try XCTUnwrap(timers(actions).first { $0.kind == .retryBackoff }, "attempt \(attempt) is retried")
            XCTAssertEqual(retry.key.attempt, attempt + 1)
            // Through the changelog record, as a coordinator taking the partition over would.
            machine = Machine(configuration: configuration, restoring: try codec.decode(LeadState.self, from: try codec.encode(try XCTUnwrap(machine.state))))
            clock = retry.fireAt
            actions = machine.handle(.timerFired(retry, at: clock), random: &fixed)
        }
        let finalize = try XCTUnwrap(requests(actions).first, "the fifth attempt, the third failed answer, gives scoring up")
        XCTAssertEqual(finalize.phase, .finalize)
        let skip = try XCTUnwrap(finalize.profile.skippedPhases.first)
        XCTAssertEqual(skip.phase, .scoring)
        XCTAssertTrue(skip.reason.contains("gave up after 5 attempts"), skip.reason)
    }

    /// Finalize writes the lead's pool entry: a lead is ready only once it has, so finalize is
    /// retried (with a bounded backoff) for as long as it takes, never skipped.
    func testFinalizeIsRetriedBeyondTheLastAttemptAndNeverSkipped() throws {
        let configuration = Machine.Configuration(maxAttempts: 2, backoffBase: 1, backoffMax: 4, jitterFraction: 0)
        var machine = Machine(configuration: configuration)
        var fixed = FixedRandom()
        var actions = machine.handle(.discovered(Fixtures.lead(source: .csvImport, mode: .noOp), runID: "run-1", at: Fixtures.now), random: &fixed)
        var clock = Fixtures.now
        for attempt in 1...6 {
            let request = try XCTUnwrap(requests(actions).first, "attempt \(attempt) is sent")
            XCTAssertEqual(request.phase, .finalize)
            XCTAssertEqual(request.attempt, attempt)
            let failure = attempt.isMultiple(of: 2) ? PhaseOutcome.failed(reason: "pool not written", isRetriable: false) : nil
            if let failure {
                clock += 1
                let result = PhaseResult(answering: request, outcome: failure, payload: .empty, finishedAt: clock, service: "test")
                actions = machine.handle(.phaseResult(result.envelope, at: clock), random: &fixed)
            } else {
                let timeout = try XCTUnwrap(timers(actions).first { $0.kind == .attemptTimeout })
                clock = timeout.fireAt
                actions = machine.handle(.timerFired(timeout, at: clock), random: &fixed)
            }
            XCTAssertFalse(isReady(actions))
            XCTAssertEqual(machine.state?.status, .processing)
            let retry = try XCTUnwrap(timers(actions).first { $0.kind == .retryBackoff })
            XCTAssertLessThanOrEqual(retry.fireAt.timeIntervalSince(clock), 4, "the backoff stays bounded")
            clock = retry.fireAt
            actions = machine.handle(.timerFired(retry, at: clock), random: &fixed)
        }
        let request = try XCTUnwrap(requests(actions).first)
        actions = machine.handle(completed(request, payload: .empty), random: &fixed)
        XCTAssertTrue(isReady(actions))
        XCTAssertEqual(machine.state?.profile.skippedPhases, [])
    }

    /// An intent lead's retry waits the short priority backoff (still doubling and jittered) and
    /// goes to the priority topics; a standard lead's waits the normal one.
    func testPriorityLeadsRetrySoonOnThePriorityTopics() throws {
        let configuration = Machine.Configuration(maxAttempts: 3, backoffBase: 5, priorityBackoffBase: 0.5, jitterFraction: 0.2)
        func retryDelays(_ lead: LeadDiscovered, configuration: Machine.Configuration) throws -> (delays: [TimeInterval], retries: [PhaseRequest]) {
            var machine = Machine(configuration: configuration)
            var actions = machine.handle(.discovered(lead, runID: "run-1", at: Fixtures.now), random: &random)
            var delays: [TimeInterval] = []
            var retries: [PhaseRequest] = []
            for _ in 1...2 {
                let request = try XCTUnwrap(requests(actions).first)
                let failed = PhaseResult(answering: request, outcome: .failed(reason: "HTTP 503", isRetriable: true), payload: .empty,
                                         finishedAt: Fixtures.now, service: "test")
                actions = machine.handle(.phaseResult(failed.envelope, at: Fixtures.now), random: &random)
                let backoff = try XCTUnwrap(timers(actions).first { $0.kind == .retryBackoff })
                delays.append(backoff.fireAt.timeIntervalSince(Fixtures.now))
                actions = machine.handle(.timerFired(backoff, at: Fixtures.now), random: &random)
                retries += requests(actions)
            }
            return (delays, retries)
        }

        let intent = try retryDelays(Fixtures.lead(source: .keywordSearch), configuration: configuration)
        XCTAssertTrue((0.4...0.6).contains(intent.delays[0]), "0.5 s ± 20 %: \(intent.delays)")
        XCTAssertTrue((0.8...1.2).contains(intent.delays[1]), "doubles: \(intent.delays)")
        XCTAssertEqual(intent.retries.map(\.attempt), [2, 3])
        XCTAssertTrue(intent.retries.allSatisfy(\.isPriority), "retries of an intent lead use the priority topics")

        let standard = try retryDelays(Fixtures.lead(source: .csvImport), configuration: configuration)
        XCTAssertTrue((4...6).contains(standard.delays[0]), "5 s ± 20 %: \(standard.delays)")
        XCTAssertFalse(standard.retries.contains(where: \.isPriority))

        let reEnrich = try retryDelays(Fixtures.lead(source: .csvImport, mode: .reEnrich, types: [.activity]), configuration: configuration)
        XCTAssertTrue((0.4...0.6).contains(reEnrich.delays[0]), "a manual re-enrich is priority too: \(reEnrich.delays)")

        var shortStandard = configuration
        shortStandard.backoffBase = 0.1
        let capped = try retryDelays(Fixtures.lead(source: .keywordSearch), configuration: shortStandard)
        XCTAssertLessThanOrEqual(capped.delays[0], 0.12, "a priority lead never waits longer than a standard one")
    }

    func testTimedOutPhaseIsSkippedAndLeadMovesOn() throws {
        var machine = Machine(configuration: .init(maxAttempts: 1))
        var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        let timeout = try XCTUnwrap(timers(actions).first)
        actions = machine.handle(.timerFired(timeout, at: timeout.fireAt), random: &random)
        XCTAssertEqual(requests(actions).first?.phase, .activity)
        XCTAssertEqual(machine.state?.profile.skippedPhases.map(\.phase), [.profile])
        XCTAssertTrue(machine.state?.history.contains { $0.kind == .phaseSkipped } ?? false)
    }

    func testPermanentFailureSkipsWithoutRetry() throws {
        var machine = Machine()
        let request = try XCTUnwrap(requests(machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)).first)
        let failed = PhaseResult(
            answering: request, outcome: .failed(reason: "bad input", isRetriable: false), payload: .empty,
            finishedAt: Fixtures.now, service: "test")
        let actions = machine.handle(.phaseResult(failed.envelope, at: Fixtures.now), random: &random)
        XCTAssertEqual(requests(actions).first?.phase, .activity)
        XCTAssertEqual(machine.state?.profile.skippedPhases.first?.reason, "permanent failure: bad input")
    }

    func testRetriableFailureRetries() throws {
        var machine = Machine()
        let request = try XCTUnwrap(requests(machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)).first)
        let failed = PhaseResult(
            answering: request, outcome: .failed(reason: "rate limited", isRetriable: true), payload: .empty,
            finishedAt: Fixtures.now, service: "test")
        let actions = machine.handle(.phaseResult(failed.envelope, at: Fixtures.now), random: &random)
        XCTAssertEqual(timers(actions).first?.kind, .retryBackoff)
        XCTAssertEqual(machine.state?.inFlight?.attempt, 2)
        XCTAssertEqual(machine.state?.inFlight?.isBackingOff, true)
    }

    /// An attempt that timed out because its answer was read late (a coordinator behind on its
    /// input, or restoring) was answered after all: the answer, read while the retry backs off or
    /// is in flight, completes the phase and is charged once; the retry's answer, its timers and a
    /// late failure change nothing. Before, the phase waited for the retry's answer, and a
    /// coordinator behind by more than the attempts' timeouts skipped it.
    func testALateAnswerOfATimedOutAttemptCompletesThePhase() throws {
        let payload = PhasePayload(profile: ProfilePhaseOutput(linkedin: Fixtures.linkedin(), linkedinOutcome: .succeeded))
        let charges = [BillableCharge(provider: "linkedin", units: 1)]
        for answeredWhile in ["backing off", "retrying"] {
            var machine = Machine()
            var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
            let first = try XCTUnwrap(requests(actions).first)
            actions = machine.handle(.timerFired(try XCTUnwrap(timers(actions).first), at: Fixtures.now), random: &random)
            let backoff = try XCTUnwrap(timers(actions).first { $0.kind == .retryBackoff }, answeredWhile)
            var retry: PhaseRequest?
            if answeredWhile == "retrying" {
                actions = machine.handle(.timerFired(backoff, at: Fixtures.now), random: &random)
                retry = try XCTUnwrap(requests(actions).first, answeredWhile)
                let failed = PhaseResult(answering: first, outcome: .failed(reason: "rate limited", isRetriable: true), payload: .empty,
                                         finishedAt: Fixtures.now, service: "test")
                XCTAssertEqual(machine.handle(.phaseResult(failed.envelope, at: Fixtures.now), random: &random), [],
                               "a failure of the earlier attempt is not news: \(answeredWhile)")
            }

            actions = machine.handle(completed(first, payload: payload, charges: charges), random: &random)
            XCTAssertEqual(requests(actions).map(\.phase), [.activity], answeredWhile)
            let billing = actions.compactMap { if case .recordBilling(let usage) = $0 { usage } else { nil } }
            XCTAssertEqual(billing.map(\.idempotencyKey), ["acct-1:lead-1:run-1:profile"], answeredWhile)
            XCTAssertEqual(machine.state?.profile.linkedin?.jobTitle, "VP of Demand Generation", answeredWhile)
            XCTAssertEqual(machine.state?.profile.skippedPhases, [], answeredWhile)
            let before = machine.state
            XCTAssertEqual(machine.handle(.timerFired(backoff, at: Fixtures.now), random: &random), [], "stale backoff: \(answeredWhile)")
            // This machine sent the phase's billing record: answers after the phase is done send
            // nothing (a restored one sends it again: testAnAnswerToACompletedPhaseSendsItsBillingAgain).
            if let retry {
                XCTAssertEqual(machine.handle(completed(retry, payload: payload, charges: charges), random: &random), [],
                               "the retry's answer after the phase is done")
            }
            XCTAssertEqual(machine.handle(completed(first, payload: payload, charges: charges), random: &random), [], "duplicate")
            XCTAssertEqual(machine.state, before, answeredWhile)
        }
    }

    /// Every failure stays in the history with its reason, before the retry it caused.
    func testRetriedFailureKeepsItsReasonInTheHistory() throws {
        var machine = Machine()
        let request = try XCTUnwrap(requests(machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)).first)
        let failed = PhaseResult(
            answering: request, outcome: .failed(reason: "rate limited", isRetriable: true), payload: .empty,
            finishedAt: Fixtures.now, service: "test")
        _ = machine.handle(.phaseResult(failed.envelope, at: Fixtures.now), random: &random)
        let history = try XCTUnwrap(machine.state?.history)
        let kinds = history.map(\.kind)
        let failure = try XCTUnwrap(kinds.firstIndex(of: .phaseFailed), "the failure is missing from \(kinds)")
        let retry = try XCTUnwrap(kinds.firstIndex(of: .retryScheduled))
        XCTAssertLessThan(failure, retry)
        XCTAssertEqual(history[failure].detail, "rate limited")
        XCTAssertEqual(history[failure].attempt, 1)
        XCTAssertEqual(history[retry].attempt, 2)
    }

    /// A timed-out attempt records why it was retried, then why the phase was skipped.
    func testTimeoutsAndSkipKeepEveryReasonInOrder() throws {
        var machine = Machine(configuration: .init(maxAttempts: 2))
        var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        for _ in 0..<2 {
            let timeout = try XCTUnwrap(timers(actions).first { $0.kind == .attemptTimeout })
            actions = machine.handle(.timerFired(timeout, at: timeout.fireAt), random: &random)
            if let backoff = timers(actions).first(where: { $0.kind == .retryBackoff }) {
                actions = machine.handle(.timerFired(backoff, at: backoff.fireAt), random: &random)
            }
        }
        let history = try XCTUnwrap(machine.state?.history).filter { $0.phase == .profile }
        XCTAssertEqual(history.map(\.kind), [.phaseStarted, .phaseFailed, .retryScheduled, .phaseStarted, .phaseFailed, .phaseSkipped])
        XCTAssertEqual(history.filter { $0.kind == .phaseFailed }.map(\.detail), ["no result within 120s", "no result within 120s"])
    }

    /// A profile found while the run is past its profile phase (the finder reads the pool entry
    /// the finalize stage writes before its result, so it can answer before the run is ready) is
    /// fetched by a re-enrich run that starts as soon as the run is ready, even after a restore;
    /// one found before the profile phase is sent is fetched by the run itself.
    func testAProfileFoundDuringTheRunIsReEnrichedWhenTheRunIsReady() throws {
        let found = ProfileFound(leadID: "lead-1", platform: .x, url: "https://x.com/janedoe2", confidence: 0.9, foundBy: "test",
                                 foundAt: Fixtures.now)
        var machine = Machine()
        var request = try XCTUnwrap(requests(machine.handle(.discovered(Fixtures.lead(x: nil), runID: "run-1", at: Fixtures.now),
                                                            random: &random)).first)
        XCTAssertEqual(request.platforms, [.linkedin])
        while request.phase != .finalize {
            request = try XCTUnwrap(requests(machine.handle(completed(request), random: &random)).first)
        }
        XCTAssertFalse(machine.handle(.profileFound(found, reEnrichRunID: "run-pf", at: Fixtures.now), random: &random).isEmpty)
        XCTAssertEqual(machine.state?.foundDuringRun, [.x])
        // The state as a restore reads it back.
        let record = try MessageCodec().encode(try XCTUnwrap(machine.state))
        XCTAssertEqual(try MessageCodec().decode(LeadState.self, from: record).foundDuringRun, [.x])

        let actions = machine.handle(completed(request), random: &random)
        XCTAssertTrue(actions.contains { if case .markReady(_, let runID) = $0 { runID == "run-1" } else { false } })
        let next = try XCTUnwrap(requests(actions).first)
        XCTAssertEqual(next.runID, "run-1-found")
        XCTAssertEqual(next.phase, .profile)
        XCTAssertEqual(next.platforms, [.x])
        XCTAssertEqual(machine.state?.mode, .reEnrich([.x]))
        XCTAssertNil(machine.state?.foundDuringRun)

        // Found while the run waits before its profile phase: the run fetches it, nothing after.
        var waiting = Machine()
        let closed = LeadStateMachine.Gates(isBillingPaused: true)
        _ = waiting.handle(.discovered(Fixtures.lead(x: nil), runID: "run-1", at: Fixtures.now), gates: closed, random: &random)
        XCTAssertEqual(waiting.state?.status, .billingPaused)
        _ = waiting.handle(.profileFound(found, reEnrichRunID: "run-pf", at: Fixtures.now), gates: closed, random: &random)
        XCTAssertNil(waiting.state?.foundDuringRun)
        let resumed = try XCTUnwrap(requests(waiting.handle(.gatesChanged(at: Fixtures.now), gates: .open, random: &random)).first)
        XCTAssertEqual(resumed.platforms, [.linkedin, .x])
    }

    // MARK: Payload, billing, history, restore

    func testCompletedPhasesAccumulateProfileAndBillOnce() throws {
        var machine = Machine()
        let request = try XCTUnwrap(requests(machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)).first)
        let payload = PhasePayload(profile: ProfilePhaseOutput(linkedin: Fixtures.linkedin(), linkedinOutcome: .succeeded, xOutcome: .skipped(reason: "not found")))
        // One record for the phase, however many providers it charged (none with zero units).
        let charges = [BillableCharge(provider: "linkedin", units: 1), BillableCharge(provider: "x", units: 1),
                       BillableCharge(provider: "pdl", units: 0)]
        let actions = machine.handle(completed(request, payload: payload, charges: charges), random: &random)
        let billing = actions.compactMap { if case .recordBilling(let usage) = $0 { usage } else { nil } }
        XCTAssertEqual(billing.map(\.idempotencyKey), ["acct-1:lead-1:run-1:profile"])
        XCTAssertEqual(billing.first?.charges, Array(charges.prefix(2)))
        XCTAssertEqual(machine.state?.profile.linkedin?.jobTitle, "VP of Demand Generation")
        XCTAssertEqual(machine.handle(completed(request, payload: payload, charges: [BillableCharge(provider: "linkedin", units: 1)]), random: &random), [])
    }

    func testOnlyTheScoringRequestCarriesTheWholeProfile() throws {
        var machine = Machine()
        let lead = Fixtures.lead()
        var actions = machine.handle(.discovered(lead, runID: "run-1", at: Fixtures.now), random: &random)
        let identity = EnrichedProfile(leadID: lead.leadID, name: lead.name, linkedinURL: lead.linkedinProfile?.canonical,
                                       xURL: lead.xProfile?.canonical)
        let payloads: [Phase: PhasePayload] = [
            .profile: PhasePayload(profile: ProfilePhaseOutput(linkedin: Fixtures.linkedin(), linkedinOutcome: .succeeded)),
            .activity: PhasePayload(activity: Fixtures.profile(posts: [Fixtures.post("hello", daysAgo: 2)]).activity, activityOutcome: .succeeded),
            .scoring: PhasePayload(scores: ScoreCard(
                fit: 60, intent: 75, timing: 10, composite: 50, buyerState: .active, fitReasons: [], intentReasons: [],
                timingReasons: [], stateReason: "", scorer: "t", scoredAt: Fixtures.now)),
        ]
        var carried: [Phase: EnrichedProfile] = [:]
        while let request = requests(actions).first {
            carried[request.phase] = request.profile
            if request.phase == .scoring {
                XCTAssertEqual(request.profile, machine.state?.profile, "scoring reads the whole profile")
            }
            actions = machine.handle(completed(request, payload: payloads[request.phase] ?? .empty), random: &random)
        }
        XCTAssertEqual(carried[.profile], identity)
        XCTAssertEqual(carried[.activity], identity, "activity reads only the profile URLs")
        XCTAssertEqual(carried[.finalize], machine.state?.profile, "finalize assembles the pool entry from the whole profile")
        XCTAssertNotNil(carried[.scoring]?.linkedin)
        XCTAssertNotNil(carried[.scoring]?.activity)
        XCTAssertTrue(isReady(actions))
        let ready = try XCTUnwrap(carried[.finalize])
        XCTAssertNotNil(ready.scores)
        XCTAssertNotNil(ready.linkedin)
    }

    func testRestoredMachineContinues() throws {
        var machine = Machine()
        let request = try XCTUnwrap(requests(machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)).first)
        let codec = MessageCodec()
        let bytes = try codec.encode(try XCTUnwrap(machine.state))
        var restored = Machine(restoring: try codec.decode(LeadState.self, from: bytes))
        XCTAssertEqual(requests(restored.handle(completed(request), random: &random)).first?.phase, .activity)
    }

    func testHistoryIsBounded() throws {
        var machine = Machine(configuration: .init(maxAttempts: 50, historyLimit: 10))
        var actions = machine.handle(.discovered(Fixtures.lead(mode: .noOp), runID: "run-1", at: Fixtures.now), random: &random)
        for _ in 0..<20 {
            let timer = try XCTUnwrap(timers(actions).first)
            actions = machine.handle(.timerFired(timer, at: timer.fireAt), random: &random)
        }
        XCTAssertEqual(machine.state?.history.count, 10)
    }

    func testAnAccountThatAllowsNoEnrichmentRefusesOnlyLeadsThatNeedIt() {
        var account = AccountConfig(accountID: "acct-1", updatedAt: Fixtures.now)
        var withoutProfile = Fixtures.lead(mode: .scoringOnly)
        withoutProfile.poolProfile = nil
        XCTAssertNil(withoutProfile.refusal(by: account), "allowsEnrichment absent means allowed")
        account.allowsEnrichment = false
        XCTAssertNil(Fixtures.lead(mode: .scoringOnly).refusal(by: account), "it brings its profile")
        XCTAssertTrue(withoutProfile.refusal(by: account)?.contains("no profile to score") ?? false)
        XCTAssertTrue(Fixtures.lead().refusal(by: account)?.contains("does not allow enrichment") ?? false)
    }

    // MARK: Side records a replay must not lose

    private func pool(_ offset: Int64) -> RecordPosition { RecordPosition(topic: "lead.pool", partition: 2, offset: offset) }

    /// A finalize result of `request` that wrote its pool entry at `offset`.
    private func finalized(_ request: PhaseRequest, at offset: Int64) -> Machine.Event {
        var result = PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: Fixtures.now, service: "test")
        result.poolEntry = pool(offset)
        return .phaseResult(result.envelope, at: Fixtures.now)
    }

    private func poolEntries(_ actions: [Machine.Action]) -> [LeadPoolEntry] {
        actions.compactMap { if case .writePoolEntry(let entry, _) = $0 { entry } else { nil } }
    }

    /// Runs the machine's current run to ready; the finalize request is answered with its entry at `offset`.
    private func runToReady(_ machine: inout Machine, from actions: [Machine.Action], entryAt offset: Int64,
                            payloads: [Phase: PhasePayload] = [:]) throws -> PhaseRequest {
        var actions = actions
        while let request = requests(actions).first {
            if request.phase == .finalize {
                XCTAssertTrue(isReady(machine.handle(finalized(request, at: offset), random: &random)))
                return request
            }
            actions = machine.handle(completed(request, payload: payloads[request.phase] ?? .empty), random: &random)
        }
        throw XCTSkip("no finalize request")
    }

    /// A superseded run's finalize, answered late (its request redelivered after a stage's
    /// SIGKILL, behind the next run's on the priority topic), wrote its entry after the current
    /// run's: the compacted pool would keep the old run's profile as the lead's. The coordinator
    /// writes the current run's entry again; an old entry written before the current one, or a
    /// copy of the current run's own, needs nothing.
    func testAnEntryOfASupersededRunWrittenAfterTheCurrentOnesIsWrittenOver() throws {
        var machine = Machine()
        let first = try runToReady(&machine, from: machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now),
                                                                 random: &random), entryAt: 10)
        let payload = PhasePayload(profile: ProfilePhaseOutput(linkedin: Fixtures.linkedin(), linkedinOutcome: .succeeded))
        let second = try runToReady(&machine, from: machine.handle(.reEnrich(.reEnrich([.linkedin]), runID: "run-2", at: Fixtures.now),
                                                                  random: &random), entryAt: 20, payloads: [.profile: payload])
        XCTAssertEqual(machine.state?.poolEntry, pool(20))
        XCTAssertEqual(machine.handle(finalized(first, at: 15), random: &random), [], "written before the current entry")
        guard case .persist(let followed)? = machine.handle(finalized(second, at: 25), random: &random).first else {
            return XCTFail("the current run's entry again: the state follows it, nothing is written")
        }
        XCTAssertEqual(followed.poolEntry, pool(25))

        let actions = machine.handle(finalized(first, at: 30), random: &random)
        let entry = try XCTUnwrap(poolEntries(actions).first, "\(actions)")
        if case .writePoolEntry(_, let run)? = actions.first { XCTAssertEqual(run, "run-2", "named by the current run") }
        XCTAssertEqual(entry.profile.linkedin?.jobTitle, "VP of Demand Generation", "the current run's profile")
        XCTAssertEqual(entry.leadID, "lead-1")
        guard case .persist(let state)? = actions.last else { return XCTFail("\(actions)") }
        XCTAssertNil(state.poolEntry, "the state carries the profile: the latest entry is the coordinator's")
        XCTAssertEqual(state.runID, "run-2")
        XCTAssertEqual(state.status, .ready)
        // The state carries the profile now, and the latest entry is the coordinator's: a repeat of
        // the run's own finalize wrote the same profile, another late one of run 1 is written over.
        XCTAssertEqual(machine.handle(finalized(second, at: 40), random: &random), [])
        XCTAssertEqual(poolEntries(machine.handle(finalized(first, at: 50), random: &random)).count, 1)

        // A ready lead loaded back from the changelog, its profile from the entry its record names
        // (the state then refers to none): judged against that entry.
        var record = try XCTUnwrap(machine.state)
        record.poolEntry = nil
        var loaded = Machine(restoring: record, entry: pool(60))
        XCTAssertEqual(loaded.handle(finalized(first, at: 55), random: &random), [], "written before the entry")
        XCTAssertEqual(poolEntries(loaded.handle(finalized(first, at: 65), random: &random)).count, 1, "written after it")
        var following = Machine(restoring: record, entry: pool(60))
        guard case .persist(let moved)? = following.handle(finalized(second, at: 70), random: &random).last else {
            return XCTFail("the run's own repeat further on: the state names it")
        }
        XCTAssertEqual(moved.poolEntry, pool(70))
        XCTAssertEqual(following.handle(finalized(first, at: 65), random: &random), [], "written before the entry followed")
    }

    /// The run's own finalize answered again: its request redelivered after a SIGKILL of the
    /// finalize stage between the entry's acknowledgement and the commit, so the stage wrote the
    /// same entry again further on, and compaction takes away the one the state names. The state
    /// follows the later entry (a state record, no entry), so loading the lead reads its entry
    /// where it is instead of reading the pool partition on for it (a minute, on a large pool).
    func testTheRunsOwnEntryWrittenAgainFurtherOnIsTheOneTheStateNames() throws {
        var machine = Machine()
        let request = try runToReady(&machine, from: machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now),
                                                                   random: &random), entryAt: 10)
        let ready = try XCTUnwrap(machine.state)
        var result = PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: Fixtures.now, service: "test")
        result.poolEntry = pool(25)
        XCTAssertTrue(Machine.followsEntry(result.envelope, state: ready), "the coordinator loads the lead for it")
        XCTAssertFalse(Machine.sendsAgain(result.envelope, state: ready, entry: ready.poolEntry, chargesSent: true),
                       "without its profile: nothing is written from it")

        // Loaded back from the changelog as the coordinator loads it for this: the state that
        // names its entry, the profile not read.
        var loaded = Machine(restoring: ready, entry: ready.poolEntry)
        let actions = loaded.handle(finalized(request, at: 25), random: &random)
        guard actions.count == 1, case .persist(let state) = actions[0] else { return XCTFail("\(actions)") }
        XCTAssertEqual(state.poolEntry, pool(25))
        XCTAssertEqual(state.status, .ready)
        XCTAssertFalse(state.isProfileLoaded, "still a reference: the record stays an envelope")
        XCTAssertEqual(loaded.handle(finalized(request, at: 20), random: &random), [], "an earlier copy changes nothing")
        XCTAssertEqual(loaded.handle(finalized(request, at: 25), random: &random), [], "nor the same one again")
        result.poolEntry = RecordPosition(topic: "lead.pool", partition: 3, offset: 40)
        XCTAssertFalse(Machine.followsEntry(result.envelope, state: state), "another partition is no later entry of the lead's")

        // Loaded with its profile (another record of the batch needed it): the state names no
        // entry then, the machine knows the one the profile came from, and follows all the same.
        var withProfile = ready
        withProfile.poolEntry = nil
        var whole = Machine(restoring: withProfile, entry: pool(10))
        guard case .persist(let moved)? = whole.handle(finalized(request, at: 25), random: &random).last else {
            return XCTFail("a state loaded with its profile did not follow the later entry")
        }
        XCTAssertEqual(moved.poolEntry, pool(25))
        XCTAssertTrue(moved.carriesReferences, "its record names the entry, not the profile")
    }

    /// A web enrichment of a ready lead writes its pool entry (before its state, which otherwise
    /// could be acknowledged alone before a SIGKILL); the same enrichment read again (the replay
    /// after that SIGKILL) writes the entry again, and changes nothing else.
    func testAWebEnrichmentOfAReadyLeadWritesItsEntryAndItsReplayWritesItAgain() throws {
        var machine = Machine()
        _ = try runToReady(&machine, from: machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now),
                                                         random: &random), entryAt: 10)
        let web = WebEnrichment(leadID: "lead-1", searchID: nil, domain: "acme.example", url: "https://acme.example", status: .completed,
                                name: "Acme", fetchedAt: Fixtures.now)
        let actions = machine.handle(.webEnrichment(web, at: Fixtures.now), random: &random)
        XCTAssertEqual(poolEntries(actions).map { $0.profile.web?.name }, ["Acme"])
        guard actions.count == 2, case .writePoolEntry = actions[0], case .persist = actions[1] else { return XCTFail("\(actions)") }
        let state = machine.state
        let again = machine.handle(.webEnrichment(web, at: Fixtures.now), random: &random)
        XCTAssertEqual(poolEntries(again).map { $0.profile.web?.name }, ["Acme"])
        XCTAssertEqual(again.count, 1, "no state record: nothing changed")
        XCTAssertEqual(machine.state, state)

        // Loaded back from a record that refers to the finalize stage's entry, which has the
        // enrichment already (merged before the run finished): read again, it writes nothing.
        var record = try XCTUnwrap(machine.state)
        record.poolEntry = nil
        var loaded = Machine(restoring: record, entry: pool(10))
        XCTAssertEqual(loaded.handle(.webEnrichment(web, at: Fixtures.now), random: &random), [])
    }

    /// A completed answer to a phase this run has completed sends the phase's billing record
    /// again, under the same idempotency key, and nothing else: the coordinator's state record
    /// and that billing record go to different partitions, and a SIGKILL between their
    /// acknowledgements left the restored state past the phase and the charge never sent.
    func testAnAnswerToACompletedPhaseSendsItsBillingAgain() throws {
        var running = Machine()
        let request = try XCTUnwrap(requests(running.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)).first)
        let charges = [BillableCharge(provider: "linkedin", units: 1)]
        _ = running.handle(completed(request, charges: charges), random: &random)
        XCTAssertEqual(running.handle(completed(request, charges: charges), random: &random), [],
                       "the machine that sent the record: the coordinator confirms it before it commits")
        // Restored from the changelog, the machine cannot know whether the record got out.
        var machine = Machine(restoring: running.state)
        let state = machine.state
        let again = machine.handle(completed(request, charges: charges), random: &random)
        guard again.count == 1, case .recordBilling(let usage) = again[0] else { return XCTFail("\(again)") }
        XCTAssertEqual(usage.idempotencyKey, "acct-1:lead-1:run-1:profile")
        XCTAssertEqual(usage.charges, charges)
        XCTAssertEqual(machine.state, state)
        XCTAssertEqual(machine.handle(completed(request), random: &random), [], "nothing charged: nothing to send")
    }

    /// A coordinator restored from a state a few seconds old (held, not yet written) waits on an
    /// earlier attempt than its predecessor sent; the later attempt's answer completes the phase
    /// instead of being ignored until the restored attempt times out and the provider is called again.
    func testAnAnswerToALaterAttemptThanTheStateKnowsCompletesThePhase() throws {
        var machine = Machine()
        let actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        var later = try XCTUnwrap(requests(actions).first)
        later.attempt = 2
        let next = machine.handle(completed(later), random: &random)
        XCTAssertEqual(requests(next).map(\.phase), [.activity])
    }

    /// A retry of a paid phase is a new paid attempt: when the account's billing was paused
    /// during the backoff, it waits with the lead billing paused, as a phase about to start
    /// does, and goes on with its attempt number once the account resumes. Before, the retry was
    /// sent (and charged) while the account was paused.
    func testARetryOfAPaidPhaseWaitsWhileBillingIsPaused() throws {
        var machine = Machine()
        let first = try XCTUnwrap(requests(machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)).first)
        let failed = PhaseResult(answering: first, outcome: .failed(reason: "HTTP 503", isRetriable: true), payload: .empty,
                                 finishedAt: Fixtures.now, service: "test")
        let backoff = try XCTUnwrap(timers(machine.handle(.phaseResult(failed.envelope, at: Fixtures.now), random: &random))
            .first { $0.kind == .retryBackoff })
        let paused = machine.handle(.timerFired(backoff, at: Fixtures.now), gates: LeadStateMachine.Gates(isBillingPaused: true),
                                    random: &random)
        XCTAssertTrue(requests(paused).isEmpty, "no paid attempt while the account is paused")
        XCTAssertEqual(machine.state?.status, .billingPaused)
        let waiting = machine
        let resumed = machine.handle(.gatesChanged(at: Fixtures.now), random: &random)
        let retry = try XCTUnwrap(requests(resumed).first)
        XCTAssertEqual(retry.phase, .profile)
        XCTAssertEqual(retry.attempt, 2, "attempt numbers never repeat within a run")

        // While it waits, an earlier attempt's late answer still completes the phase (it was
        // paid for), and the next phase starts from its own first attempt.
        machine = waiting
        let late = machine.handle(completed(first), gates: LeadStateMachine.Gates(isBillingPaused: true), random: &random)
        XCTAssertEqual(machine.state?.status, .billingPaused, "the next phase is paid too: it waits")
        XCTAssertTrue(requests(late).isEmpty)
        XCTAssertNil(machine.state?.nextAttempt)
        let next = try XCTUnwrap(requests(machine.handle(.gatesChanged(at: Fixtures.now), random: &random)).first)
        XCTAssertEqual(next.phase, .activity)
        XCTAssertEqual(next.attempt, 1)
    }

    /// Attempts that got no answer in time stay counted apart across a billing pause: two timed
    /// out, the third waits for the account, and its one failed answer does not use up the
    /// phase's three failed answers (the count had restarted at zero, so the phase was skipped).
    func testTimedOutAttemptsStayCountedAcrossABillingPause() throws {
        var machine = Machine(configuration: Machine.Configuration(maxAttempts: 3))
        var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        let firstTimeout = try XCTUnwrap(timers(actions).first { $0.kind == .attemptTimeout })
        let firstBackoff = try XCTUnwrap(timers(machine.handle(.timerFired(firstTimeout, at: Fixtures.now), random: &random)).first)
        actions = machine.handle(.timerFired(firstBackoff, at: Fixtures.now), random: &random)
        let timeout = try XCTUnwrap(timers(actions).first { $0.kind == .attemptTimeout })
        let backoff = try XCTUnwrap(timers(machine.handle(.timerFired(timeout, at: Fixtures.now), random: &random)).first)
        _ = machine.handle(.timerFired(backoff, at: Fixtures.now), gates: LeadStateMachine.Gates(isBillingPaused: true), random: &random)
        XCTAssertEqual(machine.state?.status, .billingPaused)
        let third = try XCTUnwrap(requests(machine.handle(.gatesChanged(at: Fixtures.now), random: &random)).first)
        XCTAssertEqual(third.attempt, 3)
        let failed = PhaseResult(answering: third, outcome: .failed(reason: "HTTP 503", isRetriable: true), payload: .empty,
                                 finishedAt: Fixtures.now, service: "test")
        let after = machine.handle(.phaseResult(failed.envelope, at: Fixtures.now), random: &random)
        XCTAssertEqual(machine.state?.profile.skippedPhases, [], "one failed answer of three: retried, not skipped")
        XCTAssertNotNil(timers(after).first { $0.kind == .retryBackoff })
    }
}
