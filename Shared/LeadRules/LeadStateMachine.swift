import Foundation
import JSONCodec
import LeadModel

/// The coordinator's state machine for one lead.
///
/// A value type with no I/O: ``handle(_:random:)`` takes an event and returns the actions the
/// caller must perform, in order. The caller performs them all (send requests, schedule timers,
/// publish billing and history) and the final ``Action/persist(_:)`` before committing the input
/// offset that caused the event. Time comes in with each event; randomness (retry jitter) comes
/// from the caller's generator, so tests are deterministic.
///
/// Guarantees:
/// - Results and timers are matched on lead id + run id + phase + attempt. Anything else
///   (duplicates, results of an older run or of a phase already done, failures of an earlier
///   attempt, timers already superseded) changes nothing. One exception: a completed result of
///   another attempt of the phase the lead waits on (retrying or backing off) completes the
///   phase. An earlier attempt was answered after all, only later than its timeout or read later
///   (a stage or the coordinator behind on its input, a restore); a later one was sent by an
///   instance before a restore from a state it had not written yet. It answers the same run and
///   phase, under the same billing idempotency key, so keeping it is one charge; dropping it made
///   a coordinator that fell behind skip phases whose every attempt had been answered.
/// - A result that changes nothing may still send again what its first reading sent beside the
///   state, since the caller's records go to several partitions and a SIGKILL can come between
///   their acknowledgements, the state's first (the replay then finds the state past them):
///   a completed answer to a phase this run completed sends its billing record again (same
///   idempotency key). And a ready lead's pool entry is written again (``Action/writePoolEntry(_:)``)
///   when a finalize result says an entry of the lead was written after the one the state knows:
///   a superseded run's late finalize (its request redelivered behind the next run's), or any
///   finalize after the coordinator wrote the entry itself. So is one whose web enrichment is read
///   again. A finalize of the lead's own run that wrote its entry again further on writes no entry:
///   the state names that one from then on (``followsEntry(_:state:)``).
/// - A lead discovered again (redelivery or re-publication), in flight or finished, starts nothing;
///   only ``Event/reEnrich(_:runID:at:)`` starts a new run, and only with a run id the lead's
///   history does not hold: a re-enrich request delivered twice (same request id, so same run
///   id) is one run and one charge, also when another run came between. The history keeps
///   ``Configuration/historyLimit`` entries, so a run old enough to have left it is forgotten.
/// - A phase with no answer in time, or failing retriably, is retried with exponential backoff and
///   jitter; after ``Configuration/maxAttempts`` failed answers, or as many attempts with no
///   answer in time (counted apart: the stage did not get to those), it is skipped with the
///   reason recorded and the lead moves on. Every run ends ready. A priority lead's retries start from
///   the shorter ``Configuration/priorityBackoffBase`` and, like its first attempt, go to the
///   priority topics. An ``PhaseOutcome/accountPaused(reason:)`` answer (only stages from before
///   provider credits stopped pausing accounts send one, during a rolling upgrade) is such a
///   retriable failure: it never pauses the account.
///
/// Gates (``Gates``, passed with each event by the caller from the account's configuration):
/// - Billing paused (the customer's plan, never a vendor's credits): a lead about to start a paid
///   phase, or to retry one, waits with status billing paused; ``Event/gatesChanged(at:)`` after
///   the account resumes continues it from that phase (a retry with its attempt number). An
///   attempt already sent is answered and kept. When the account's autopilot is on
///   (``Gates/isAutopilotOn``), a finalize waits too once its stage answered
///   ``PhaseOutcome/waitsForBilling(reason:)``: the stage enrolls in outreach only while billing
///   is active, so it answers so for a lead it would enroll but for the pause rather than finish
///   it unenrolled for good. The history records that answer as the wait it is (`billing-paused`,
///   with the attempt answered and the stage's reason), not as a failed attempt. A finalize that
///   failed otherwise is retried during the pause.
/// - Outreach window: a run starts only inside the account's window; outside it the lead waits
///   with status outside outreach window and a timer releases it when the window opens. A run
///   that has started finishes.
///
/// Override (the lead's ``LeadOverride`` in force, passed with each event like the gates; see
/// ``LeadOverridePolicy``): before each phase starts, the lead's card, if it has one, takes the
/// override's buyer state and reason, so a scoring result accepted under a `manual` override keeps
/// its scores and the state `manual`, and the finalize request, the pool entry and the ready state
/// carry it. Under `disqualified` the scoring phase is skipped with the reason; enrichment (a
/// re-enrich run) still runs.
public struct LeadStateMachine: Sendable {
    /// What the lead's account allows now.
    public struct Gates: Sendable, Hashable {
        /// The account's billing is paused: no paid phase may start, nor, with autopilot on, a
        /// retry of finalize (see ``isAutopilotOn``).
        public var isBillingPaused: Bool
        /// When the account's outreach window opens next, if it is closed now; nil when it is
        /// open or the account has none.
        public var windowOpensAt: Date?
        /// The account's autopilot is on: finalizing a scored run may enroll the lead in
        /// outreach, which a billing pause stops, so the pause holds a retry of that finalize once
        /// its stage answered ``PhaseOutcome/waitsForBilling(reason:)``.
        public var isAutopilotOn: Bool

        public init(isBillingPaused: Bool = false, windowOpensAt: Date? = nil, isAutopilotOn: Bool = false) {
            self.isBillingPaused = isBillingPaused
            self.windowOpensAt = windowOpensAt
            self.isAutopilotOn = isAutopilotOn
        }

        /// Nothing holds the lead.
        public static let open = Gates()

        /// Whether they hold a run that has not started, as ``LeadStateMachine`` does: a closed
        /// window holds any, a billing pause one with a paid phase (`hasPaidPhase`).
        public func holdRun(hasPaidPhase: Bool) -> Bool {
            windowOpensAt != nil || (isBillingPaused && hasPaidPhase)
        }
    }

    /// Retry and timeout policy.
    public struct Configuration: Sendable, Hashable {
        /// Attempts per phase, including the first (at least 1), that may fail; as many more may
        /// get no answer in time (see ``LeadStateMachine``).
        public var maxAttempts: Int
        /// How long to wait for a result, per phase.
        public var phaseTimeouts: [Phase: TimeInterval]
        /// Backoff before the second attempt; doubles per further attempt.
        public var backoffBase: TimeInterval
        /// Backoff before the second attempt of a priority lead (``LeadState/isPriority``: intent
        /// leads, manual re-enrich); doubles per further attempt like ``backoffBase``, and is
        /// never longer than it, so a priority lead's retry does not fall behind a standard backlog.
        public var priorityBackoffBase: TimeInterval
        /// Upper bound of the backoff before jitter.
        public var backoffMax: TimeInterval
        /// Jitter as a fraction of the backoff: the delay is drawn from `backoff * (1 ± jitter)`.
        public var jitterFraction: Double
        /// History entries kept per lead; older ones are dropped.
        public var historyLimit: Int

        /// Creates a policy. Defaults: 3 attempts; timeouts profile 120 s, activity 120 s, scoring
        /// 60 s, finalize 30 s; backoff 5 s (priority leads 0.5 s) doubling up to 300 s, ±20 %
        /// jitter; 200 history entries.
        public init(
            maxAttempts: Int = 3,
            phaseTimeouts: [Phase: TimeInterval] = [.profile: 120, .activity: 120, .scoring: 60, .finalize: 30],
            backoffBase: TimeInterval = 5, priorityBackoffBase: TimeInterval = 0.5, backoffMax: TimeInterval = 300,
            jitterFraction: Double = 0.2, historyLimit: Int = 200
        ) {
            self.maxAttempts = max(1, maxAttempts)
            self.phaseTimeouts = phaseTimeouts
            self.backoffBase = backoffBase
            self.priorityBackoffBase = priorityBackoffBase
            self.backoffMax = backoffMax
            self.jitterFraction = min(max(jitterFraction, 0), 1)
            self.historyLimit = max(1, historyLimit)
        }

        /// The timeout of one attempt of `phase` (60 s if not configured).
        public func timeout(for phase: Phase) -> TimeInterval {
            phaseTimeouts[phase] ?? 60
        }

        /// The delay before attempt `nextAttempt` (2, 3, ...): `base * 2^(nextAttempt-2)`, capped,
        /// then jittered; `base` is ``priorityBackoffBase`` (at most ``backoffBase``) for a
        /// priority lead, else ``backoffBase``.
        public func backoff(
            beforeAttempt nextAttempt: Int, isPriority: Bool = false, random: inout some RandomNumberGenerator
        ) -> TimeInterval {
            let exponent = Double(max(0, nextAttempt - 2))
            let base = isPriority ? min(priorityBackoffBase, backoffBase) : backoffBase
            let delay = min(backoffMax, base * pow(2, exponent))
            guard jitterFraction > 0 else { return delay }
            return delay * Double.random(in: (1 - jitterFraction)...(1 + jitterFraction), using: &random)
        }
    }

    /// A timer the caller schedules and feeds back as ``Event/timerFired(_:at:)``.
    public struct Timer: Codable, Hashable, Sendable {
        /// What the timer is for.
        public enum Kind: String, Codable, Sendable, CaseIterable {
            /// The attempt's result is overdue.
            case attemptTimeout = "attempt-timeout"
            /// The backoff before the attempt is over: send it.
            case retryBackoff = "retry-backoff"
            /// The account's outreach window opens: start the waiting run.
            case windowOpens = "window-opens"
        }

        /// The attempt the timer belongs to.
        public var key: PhaseAttemptKey
        /// What it is for.
        public var kind: Kind
        /// When it fires.
        public var fireAt: Date

        /// Creates a timer.
        public init(key: PhaseAttemptKey, kind: Kind, fireAt: Date) {
            self.key = key
            self.kind = kind
            self.fireAt = fireAt
        }
    }

    /// Something that happened to the lead.
    public enum Event: Sendable {
        /// The lead arrived on the input topic. `runID` is used only when this starts the first run.
        case discovered(LeadDiscovered, runID: RunID, at: Date)
        /// A stage answered, its payload unread; `output` is where its result record is, kept so
        /// that a running lead's changelog record can refer to it instead of carrying the profile.
        /// The payload is passed on as it is in the requests of the phases that read the profile.
        case phaseResult(PhaseResultEnvelope, at: Date, output: OutputReference? = nil)
        /// A scheduled timer fired.
        case timerFired(Timer, at: Date)
        /// A person asked to re-enrich the lead: a new run with a new run id. A run id already in
        /// the lead's history (the current run or an earlier one) starts nothing.
        case reEnrich(Mode, runID: RunID, at: Date)
        /// The account's gates may have opened (billing resumed): a waiting lead tries again.
        case gatesChanged(at: Date)
        /// A profile of a platform the lead has no URL for was found (``ProfileFinding``): the URL
        /// is added to the lead and its profile. A ready lead gets a re-enrich run of that
        /// platform under `reEnrichRunID` (one already in its history starts nothing); a lead
        /// still running keeps its run, whose profile phase uses the URL if it has not been sent
        /// yet; a run past that re-enriches the platform once it is ready, under `<run>-found`
        /// (``LeadState/foundDuringRun``). A platform the lead has a URL for changes nothing (a
        /// redelivery).
        case profileFound(ProfileFound, reEnrichRunID: RunID, at: Date)
        /// A web enrichment of the lead completed: it goes into the lead's profile (an equal one,
        /// a redelivery, changes nothing; one not completed neither).
        case webEnrichment(WebEnrichment, at: Date)
    }

    /// Something the caller must do, in the order given.
    public enum Action: Sendable, Hashable {
        /// Publish the request to ``Topics/phaseRequests(_:isPriority:)`` of its phase, on the
        /// priority twin when `request.isPriority`.
        case sendPhaseRequest(PhaseRequest)
        /// Schedule a timer; feed it back when it fires. Timers never need cancelling: a timer
        /// that no longer matches is ignored.
        case scheduleTimer(Timer)
        /// Publish a billing usage record (idempotent by its key).
        case recordBilling(BillingUsage)
        /// An entry was added to the lead's history (already in the persisted state).
        case recordHistory(HistoryEntry)
        /// The run finished: the lead is ready (its pool entry is written by the finalize stage).
        case markReady(LeadID, runID: RunID)
        /// Write this entry of the ready lead to ``Topics/leadPool``, before the state: its web
        /// enrichment was merged after the run, or a later entry of the lead that the finalize
        /// stage wrote (a superseded run's) must be written over (see the type's guarantees).
        case writePoolEntry(LeadPoolEntry, runID: RunID)
        /// Persist the state to the changelog. Always the last action when anything changed.
        case persist(LeadState)
    }

    /// The policy.
    public let configuration: Configuration
    /// The lead's state; nil until discovered.
    public private(set) var state: LeadState?

    /// The actions of the event being handled; empty between events.
    private var pending: [Action] = []
    /// The state changed without an action to report (a found profile or a web enrichment merged).
    private var isChanged = false
    /// The phases whose billing record this machine sent, by run: a repeated answer to one of
    /// them sends nothing again (the coordinator confirms what it sent, or sends it again, before
    /// it commits). Not persisted: a machine restored from the changelog sends a charge again
    /// (see the type's guarantees).
    private var billed: Set<RunPhase> = []
    /// The pool entry a ready lead's state referred to when it was restored, before its profile
    /// was loaded from that entry (which leaves ``LeadState/poolEntry`` nil).
    private var restoredEntry: RecordPosition?
    /// Whether every charge of the restored state is known sent (the coordinator wrote the state
    /// itself and saw its records acknowledged): nothing is sent again then.
    private let chargesSent: Bool

    private struct RunPhase: Hashable, Sendable {
        var runID: RunID
        var phase: Phase
    }
    private var gates = Gates.open
    private var override: LeadOverride?

    /// Creates a machine, empty or restored from a changelog record.
    /// - Parameters:
    ///   - entry: for a ready lead whose profile was loaded from its pool entry, where that entry
    ///     is (the position its changelog record named).
    ///   - chargesSent: every charge of `state` is known sent (the caller wrote the state and
    ///     had all its records acknowledged): a repeated answer sends none again.
    public init(configuration: Configuration = Configuration(), restoring state: LeadState? = nil, entry: RecordPosition? = nil,
                chargesSent: Bool = false) {
        self.configuration = configuration
        self.state = state
        restoredEntry = entry
        self.chargesSent = chargesSent
    }

    /// Handles an event with the system random generator for jitter.
    public mutating func handle(_ event: Event, gates: Gates = .open, override: LeadOverride? = nil) -> [Action] {
        var random = SystemRandomNumberGenerator()
        return handle(event, gates: gates, override: override, random: &random)
    }

    /// Handles an event; returns what to do. No actions means nothing changed.
    /// - Parameter override: the lead's latest ``LeadOverride`` record, if any (a cleared one
    ///   changes nothing).
    public mutating func handle(
        _ event: Event, gates: Gates = .open, override: LeadOverride? = nil, random: inout some RandomNumberGenerator
    ) -> [Action] {
        // The actions are the caller's alone: kept here too, each lead's last ones (a request and
        // a state, several KB) would stay in memory until its next event.
        defer { pending = [] }
        isChanged = false
        self.gates = gates
        self.override = override
        switch event {
        case .discovered(let lead, let runID, let at):
            guard state == nil else { return [] }
            begin(lead: lead, runID: runID, at: at)
        case .phaseResult(let result, let at, let output):
            if isCurrent(result.attemptKey, backingOff: false) || answersAnotherAttempt(result) {
                apply(result, output: output, at: at, random: &random)
            } else {
                switch sendAgain(answering: result, at: at) {
                case .nothing: return []
                case .records: return pending
                case .recordsAndState, .state: isChanged = true
                }
            }
        case .timerFired(let timer, let at) where timer.kind == .windowOpens:
            guard let current = state, current.status == .outsideOutreachWindow, current.runID == timer.key.runID else { return [] }
            startCurrentPhase(at: at)
        case .gatesChanged(let at):
            guard let current = state, current.status == .billingPaused || current.status == .outsideOutreachWindow else { return [] }
            startCurrentPhase(at: at)
        case .timerFired(let timer, let at):
            guard isCurrent(timer.key, backingOff: timer.kind == .retryBackoff) else { return [] }
            switch timer.kind {
            case .attemptTimeout:
                let seconds = Int(configuration.timeout(for: timer.key.phase))
                failAttempt(reason: "no result within \(seconds)s", isRetriable: true, timedOut: true, at: at, random: &random)
            case .retryBackoff where billingHolds(timer.key.phase):
                // A new paid attempt: it waits for the account, as a phase about to start does,
                // and goes on with its attempt number (``LeadState/nextAttempt``). It stays backing
                // off meanwhile: a late answer of an earlier attempt still completes the phase, and
                // the attempts that timed out stay counted apart.
                let backingOff = state?.inFlight
                wait(.billingPaused, phase: timer.key.phase, at: at, detail: "account billing paused")
                state?.nextAttempt = timer.key.attempt
                state?.inFlight = backingOff
            case .retryBackoff:
                sendRequest(phase: timer.key.phase, attempt: timer.key.attempt, at: at)
            case .windowOpens:
                break  // handled above
            }
        case .reEnrich(let mode, let runID, let at):
            guard let current = state, current.runID != runID, !current.history.contains(where: { $0.runID == runID }) else {
                return []
            }
            restart(mode: mode, runID: runID, at: at)
        case .profileFound(let found, let runID, let at):
            guard let current = state, var updated = ProfileFinding.adding(found, to: current, at: at) else { return [] }
            guard updated.status == .ready else {
                // A run past fetching the platform re-enriches it once ready (``finishRun``).
                if !willFetchProfile(of: found.platform, updated) {
                    updated.foundDuringRun = (updated.foundDuringRun ?? []) + [found.platform]  // new: the lead had no URL for it
                }
                state = updated
                isChanged = true
                break
            }
            state = updated
            guard updated.runID != runID, !updated.history.contains(where: { $0.runID == runID }) else { return [] }
            restart(mode: .reEnrich([ProfileFinding.reEnrichType(for: found.platform)]), runID: runID, at: at)
        case .webEnrichment(let enrichment, let at):
            guard enrichment.status == .completed, let status = state?.status else { return [] }
            guard state?.profile.web != enrichment else {
                // Read again: the entry the coordinator wrote with it may be lost (see the type's
                // guarantees); a state that refers to an entry had the enrichment there already.
                guard status == .ready, state?.poolEntry == nil, restoredEntry == nil else { return [] }
                emit(readyPoolEntry(at: at))
                return pending
            }
            update { current in
                current.profile.web = enrichment
                current.poolEntry = nil  // the coordinator writes a new pool entry: the record carries the profile
            }
            restoredEntry = nil
            isChanged = true
            if status == .ready { emit(readyPoolEntry(at: at)) }
        }
        if let current = state, !current.isProfileLoaded, !current.carriesReferences {
            loadProfile(at: eventTime(event))  // the record will carry the profile: a wait, or a ready lead's new entry
        }
        guard state != nil, !pending.isEmpty || isChanged else { return [] }
        let updatedAt = eventTime(event)
        state?.updatedAt = updatedAt
        emit(.persist(state!))
        return pending
    }

    // MARK: - Transitions

    private mutating func begin(lead: LeadDiscovered, runID: RunID, at: Date) {
        let mode = lead.resolvedMode
        // Room for the run's entries (two a phase, and three more) from the start: grown one
        // entry at a time, the history was allocated five times over a run.
        var history: [HistoryEntry] = []
        history.reserveCapacity(min(configuration.historyLimit, 2 * mode.phases.count + 3))
        state = LeadState(
            lead: lead, runID: runID, mode: mode, status: .processing, plan: mode.phases, phaseIndex: 0,
            inFlight: nil, profile: EnrichedProfile(startingRunOf: lead), history: history, createdAt: at, updatedAt: at,
            readyAt: nil)
        record(.discovered, at: at, detail: "source \(lead.source.rawValue)")
        let why = lead.isScoringOnlyWithoutProfile ? " (scoring-only without poolProfile: nothing to score yet)" : ""
        record(.runStarted, at: at, detail: "mode \(mode)\(why)")
        startCurrentPhase(at: at)
    }

    /// The state of a lead queued until the coordinator has room for it: status pending, its
    /// run and plan named, nothing started. The run starts with ``Event/discovered(_:runID:at:)``
    /// when its turn comes.
    public static func queued(_ lead: LeadDiscovered, runID: RunID, at: Date) -> LeadState {
        let mode = lead.resolvedMode
        let entry = HistoryEntry(at: at, kind: .discovered, runID: runID, phase: nil, attempt: nil,
                                 detail: "source \(lead.source.rawValue); queued until the coordinator has room")
        return LeadState(lead: lead, runID: runID, mode: mode, status: .pending, plan: mode.phases, phaseIndex: 0,
                         inFlight: nil, profile: EnrichedProfile(discovered: lead), history: [entry], createdAt: at,
                         updatedAt: at, readyAt: nil)
    }

    /// The state of a lead refused at discovery: status refused, nothing started, the reason in
    /// its history. Discovered again, it starts as a new lead.
    public static func refused(_ lead: LeadDiscovered, runID: RunID, reason: String, at: Date) -> LeadState {
        let entry = HistoryEntry(at: at, kind: .refused, runID: runID, phase: nil, attempt: nil, detail: reason)
        let mode = lead.resolvedMode
        return LeadState(lead: lead, runID: runID, mode: mode, status: .refused, plan: mode.phases, phaseIndex: 0,
                         inFlight: nil, profile: EnrichedProfile(discovered: lead), history: [entry], createdAt: at,
                         updatedAt: at, readyAt: nil)
    }

    private mutating func restart(mode: Mode, runID: RunID, at: Date) {
        loadProfile(at: at)  // the new run starts from it
        guard state != nil else { return }
        update { current in
            current.runID = runID
            current.mode = mode
            current.plan = mode.phases
            current.phaseIndex = 0
            current.inFlight = nil
            current.status = .processing
            current.readyAt = nil
            current.runBase = current.profile
            current.outputs = []
            current.dropRunOutputs()
            current.poolEntry = nil
            current.nextAttempt = nil
            current.profile.skippedPhases = []
        }
        restoredEntry = nil
        record(.runStarted, at: at, detail: "re-enrich, mode \(mode)")
        startCurrentPhase(at: at)
    }

    /// Sends the current phase's first attempt, skipping phases that cannot run, or finishes the run.
    private mutating func startCurrentPhase(at: Date) {
        applyOverrideToCard()
        guard let current = state else { return }
        guard let phase = current.currentPhase else {
            finishRun(at: at)
            return
        }
        if phase == .scoring, let reason = LeadOverridePolicy.scoringSkipReason(override) {
            skipCurrentPhase(reason: reason, at: at)
            return
        }
        if phase == .profile && profilePlatforms(of: current).isEmpty {
            skipCurrentPhase(reason: "no profile URL for the selected platforms", at: at)
            return
        }
        // The window holds a run until its first request, also one past skipped phases or out of
        // a billing pause; a run that has sent one finishes whatever the hour.
        let isRunStart = !current.history.reversed().prefix { $0.runID == current.runID }.contains { $0.kind == .phaseStarted }
        if isRunStart, let opensAt = gates.windowOpensAt, opensAt > at {
            wait(.outsideOutreachWindow, phase: phase, at: at, detail: "window opens \(ISO8601.format(opensAt))")
            let key = PhaseAttemptKey(leadID: current.leadID, runID: current.runID, phase: phase, attempt: 0)
            emit(.scheduleTimer(Timer(key: key, kind: .windowOpens, fireAt: opensAt)))
            return
        }
        if billingHolds(phase) {
            // A lead waiting already stays as it is: a held retry keeps its attempt backing off.
            if current.status != .billingPaused { wait(.billingPaused, phase: phase, at: at, detail: "account billing paused") }
            return
        }
        sendRequest(phase: phase, attempt: current.nextAttempt ?? 1, at: at)
    }

    /// Whether a billing pause holds `phase` in the current run: a paid phase, or a finalize the
    /// stage answered ``PhaseOutcome/waitsForBilling(reason:)`` (it would enroll the lead in
    /// autopilot but for the pause), while the account's autopilot is on. Only that answer holds
    /// finalize: its stage, which knows the card and the rule, finishes a lead autopilot would
    /// not enroll, so a finalize that failed otherwise, or got no answer, is retried. The answer
    /// left the lead billing paused with its finalize's next attempt backing off; a lead billing
    /// paused before an earlier phase (whose late answer completed it) has no finalize in flight.
    private func billingHolds(_ phase: Phase) -> Bool {
        guard gates.isBillingPaused else { return false }
        if phase.isPaid { return true }
        guard phase == .finalize, gates.isAutopilotOn, state?.status == .billingPaused, let inFlight = state?.inFlight else { return false }
        return inFlight.phase == .finalize && inFlight.isBackingOff
    }

    /// Holds the lead before `phase` with `status`; a gate change or timer starts it again.
    /// - Parameter attempt: the attempt whose answer holds it, for the history.
    private mutating func wait(_ status: LeadStatus, phase: Phase, attempt: Int? = nil, at: Date, detail: String) {
        loadProfile(at: at)  // its outputs are dropped below
        let changed = update { current -> Bool in
            let changed = current.status != status
            current.status = status
            current.inFlight = nil
            current.outputs = []  // a wait may outlast the results topic: the run's records carry the profile from now on
            current.dropRunOutputs()
            return changed
        }
        if changed == true {
            record(status == .billingPaused ? .billingPaused : .deferred, at: at, phase: phase, attempt: attempt, detail: detail)
        }
    }

    private mutating func sendRequest(phase: Phase, attempt: Int, at: Date) {
        applyOverrideToCard()  // a retry too carries the override in force
        var document = phase.readsEnrichedProfile ? documentParts(of: state) : nil
        if phase.readsEnrichedProfile && document == nil {
            loadProfile(at: at)  // the request carries it
            // and says what the profile lacks
            if let state, let omitted = DocumentAssembly.omitted(outputs: state.runOutputs, after: state.omitted) {
                document = DocumentParts(base: state.profile, skippedPhases: state.profile.skippedPhases, web: state.profile.web,
                                         override: override, omitted: omitted)
            }
        }
        let deadline = at.addingTimeInterval(configuration.timeout(for: phase))
        let platforms = state.map { phase == .profile ? profilePlatforms(of: $0).sorted() : [] } ?? []
        let sent = update { current -> PhaseRequest in
            let timedOut = current.inFlight.map { $0.phase == phase ? $0.timedOutAttempts : 0 } ?? 0
            current.inFlight = InFlightAttempt(phase: phase, attempt: attempt, isBackingOff: false, deadline: deadline, timedOutAttempts: timedOut)
            current.status = .processing
            current.nextAttempt = nil
            return PhaseRequest(
                leadID: current.leadID, runID: current.runID, phase: phase, attempt: attempt, mode: current.mode,
                platforms: platforms, lead: current.lead, profile: current.profile.carried(to: phase),
                accountID: current.lead.accountID, offerID: current.lead.offerID, isPriority: current.isPriority,
                requestedAt: at, document: document)
        }
        guard let request = sent else { return }
        record(.phaseStarted, at: at, phase: phase, attempt: attempt)
        emit(.sendPhaseRequest(request))
        emit(.scheduleTimer(Timer(key: request.attemptKey, kind: .attemptTimeout, fireAt: deadline)))
    }

    private mutating func apply(
        _ result: PhaseResultEnvelope, output: OutputReference?, at: Date, random: inout some RandomNumberGenerator
    ) {
        switch result.outcome {
        case .failed(let reason, let isRetriable):
            failAttempt(reason: reason, isRetriable: isRetriable, at: at, random: &random)
        case .accountPaused(let reason):
            // An older stage's answer to a vendor's exhausted credits: the platform's contract,
            // not the customer's plan, so the attempt failed and is retried like any other.
            failAttempt(reason: reason, isRetriable: true, at: at, random: &random)
        case .waitsForBilling(let reason):
            guard result.phase == .finalize, gates.isBillingPaused, gates.isAutopilotOn, let inFlight = state?.inFlight else {
                // Resumed, or autopilot switched off, since the stage looked: retried as it comes.
                failAttempt(reason: reason, isRetriable: true, at: at, random: &random)
                return
            }
            // No failure: the history says the lead waits for billing, with the stage's reason.
            wait(.billingPaused, phase: result.phase, attempt: inFlight.attempt, at: at, detail: reason)
            // The next attempt waits backing off, as a paid retry held by the pause does: a late
            // completed answer of an earlier attempt still completes the phase, and the hold is
            // this finalize's (``billingHolds(_:)``).
            state?.nextAttempt = inFlight.attempt + 1
            state?.inFlight = InFlightAttempt(phase: inFlight.phase, attempt: inFlight.attempt + 1, isBackingOff: true, deadline: at,
                                              timedOutAttempts: inFlight.timedOutAttempts)
        case .completed:
            if let current = state, !holdsEveryOutput(current) {
                // After a wait (or a restore that carried the profile) the profile is the base the
                // outputs from here on are folded into.
                loadProfile(at: at)
                update { rebased in
                    rebased.runBase = rebased.profile
                    rebased.dropRunOutputs()
                }
            }
            let ids = update { current -> (AccountID, LeadID, RunID) in
                // Not merged: the profile is the run's outputs until something needs it whole (``loadProfile(at:)``).
                // Room for every phase of the plan at the first output, rather than growing by one.
                if current.outputs.isEmpty { current.outputs.reserveCapacity(current.plan.count) }
                if current.runOutputs.isEmpty { current.runOutputs.reserveCapacity(current.plan.count) }
                if let output { current.outputs.append(output) }
                current.runOutputs.append(PhaseOutput(phase: result.phase, payload: result.payload))
                current.isProfileLoaded = false
                if result.phase == .finalize { current.poolEntry = result.poolEntry }
                current.inFlight = nil
                current.nextAttempt = nil
                current.phaseIndex += 1
                return (current.lead.accountID, current.leadID, current.runID)
            }
            guard let (accountID, leadID, runID) = ids else { return }
            record(.phaseCompleted, at: at, phase: result.phase, attempt: result.attempt)
            bill(result, accountID: accountID, leadID: leadID, runID: runID, at: at)
            startCurrentPhase(at: at)
        }
    }

    /// The in-flight attempt failed, or got no answer in time (`timedOut`): retry after a
    /// backoff, or skip the phase after ``Configuration/maxAttempts`` failed answers or as many
    /// attempts without an answer. The two are counted apart: no answer says the stage did not
    /// get to the request (restarting, its group rebalancing), not that the provider failed, so
    /// it does not use up the attempts a provider's failures have; a phase goes at most
    /// `2 × maxAttempts − 1` attempts. Finalize is never skipped: it writes the lead's pool entry,
    /// and a lead is ready only once that is done, so it is retried (backoff capped at
    /// ``Configuration/backoffMax``) until it completes.
    private mutating func failAttempt(
        reason: String, isRetriable: Bool, timedOut: Bool = false, at: Date, random: inout some RandomNumberGenerator
    ) {
        guard let inFlight = state?.inFlight else { return }
        record(.phaseFailed, at: at, phase: inFlight.phase, attempt: inFlight.attempt, detail: reason)
        guard let isPriority = state?.isPriority, let leadID = state?.leadID, let runID = state?.runID else { return }
        let mustComplete = inFlight.phase == .finalize
        let timedOutAttempts = inFlight.timedOutAttempts + (timedOut ? 1 : 0)
        let failedAnswers = inFlight.attempt - timedOutAttempts
        let attemptsLeft = failedAnswers < configuration.maxAttempts && timedOutAttempts < configuration.maxAttempts
        guard mustComplete || (isRetriable && attemptsLeft) else {
            let why = isRetriable
                ? "gave up after \(inFlight.attempt) attempts; last: \(reason)"
                : "permanent failure: \(reason)"
            skipCurrentPhase(reason: why, at: at)
            return
        }
        let next = inFlight.attempt + 1
        let delay = configuration.backoff(beforeAttempt: next, isPriority: isPriority, random: &random)
        let fireAt = at.addingTimeInterval(delay)
        state?.inFlight = InFlightAttempt(
            phase: inFlight.phase, attempt: next, isBackingOff: true, deadline: fireAt, timedOutAttempts: timedOutAttempts)
        record(
            .retryScheduled, at: at, phase: inFlight.phase, attempt: next,
            detail: "in \(String(format: "%.1f", delay))s")
        let key = PhaseAttemptKey(leadID: leadID, runID: runID, phase: inFlight.phase, attempt: next)
        emit(.scheduleTimer(Timer(key: key, kind: .retryBackoff, fireAt: fireAt)))
    }

    private mutating func skipCurrentPhase(reason: String, at: Date) {
        guard let phase = state?.currentPhase else { return }
        update { current in
            current.profile.skippedPhases.append(PhaseSkip(phase: phase, reason: reason, at: at))
            current.inFlight = nil
            current.nextAttempt = nil
            current.phaseIndex += 1
        }
        record(.phaseSkipped, at: at, phase: phase, detail: reason)
        startCurrentPhase(at: at)
    }

    private mutating func finishRun(at: Date) {
        let finished = update { current -> (LeadID, RunID, [Platform]) in
            current.status = .ready
            current.inFlight = nil
            current.outputs = []  // the ready record refers to the pool entry, or carries the profile
            // The run's outputs stay in memory while the profile is not put together: the lead is
            // held until its ready record is acknowledged, and an event in between may need it.
            if current.isProfileLoaded { current.dropRunOutputs() }
            current.readyAt = at
            let found = current.foundDuringRun ?? []
            current.foundDuringRun = nil
            return (current.leadID, current.runID, found)
        }
        guard let (leadID, runID, found) = finished else { return }
        record(.ready, at: at)
        emit(.markReady(leadID, runID: runID))
        if !found.isEmpty {
            // Named after the run that found them, so a replay starts the same run.
            restart(mode: .reEnrich(Set(found.map(ProfileFinding.reEnrichType(for:)))), runID: RunID("\(runID)-found"), at: at)
        }
    }

    /// Whether the current run will still ask for `platform`'s profile: it is one of the run's
    /// ``profilePlatforms(of:)`` and its profile phase is ahead, waiting (a gate) or backing off
    /// before a retry (each attempt asks for those platforms when it is sent).
    private func willFetchProfile(of platform: Platform, _ state: LeadState) -> Bool {
        guard profilePlatforms(of: state).contains(platform), let index = state.plan.firstIndex(of: .profile) else { return false }
        return state.phaseIndex < index || (state.phaseIndex == index && (state.inFlight?.isBackingOff ?? true))
    }

    // MARK: - Helpers

    /// The lead's card takes the override in force (``LeadOverridePolicy/applied(_:to:)``).
    private mutating func applyOverrideToCard() {
        guard let card = state?.profile.scores else { return }
        let applied = LeadOverridePolicy.applied(override, to: card)
        // Written only when it changes: the profile is shared with the states already handed out.
        if applied != card { state?.profile.scores = applied }
    }

    /// Whether `key` is the attempt the lead waits on, in the expected sub-state.
    /// Whether `timer` would still do something when it fires: the lead waits on that attempt
    /// (or, for ``Timer/Kind/windowOpens``, on that run's window). A timer that would not is
    /// stale: its result came, or the lead moved on.
    public func isWaiting(on timer: Timer) -> Bool {
        guard timer.kind != .windowOpens else {
            return state?.status == .outsideOutreachWindow && state?.runID == timer.key.runID
        }
        return isCurrent(timer.key, backingOff: timer.kind == .retryBackoff)
    }

    private func isCurrent(_ key: PhaseAttemptKey, backingOff: Bool) -> Bool {
        guard let inFlight = attemptWaitedOn(in: key) else { return false }
        return key.attempt == inFlight.attempt && inFlight.isBackingOff == backingOff
    }

    /// Whether `result` is a completed answer to another attempt of the phase the lead waits on
    /// than the one in flight (see the type's guarantees).
    private func answersAnotherAttempt(_ result: PhaseResultEnvelope) -> Bool {
        guard case .completed = result.outcome else { return false }
        return attemptWaitedOn(in: result.attemptKey) != nil
    }

    /// What ``sendAgain(answering:at:)`` emitted.
    private enum SentAgain {
        case nothing
        /// Records only: the state is as it was.
        case records
        /// Records, and the state changed (it carries the profile now): persist it after them.
        case recordsAndState
        /// The state changed (it names a later pool entry), and nothing else: persist it.
        case state
    }

    /// Emits what a completed `result` that changes nothing else sends again (see the type's
    /// guarantees): the billing record of a phase its run completed, or the ready lead's pool
    /// entry over a later one the finalize stage wrote.
    private mutating func sendAgain(answering result: PhaseResultEnvelope, at: Date) -> SentAgain {
        guard let current = state, result.leadID == current.leadID else { return .nothing }
        var billedAgain = false
        if Self.sendsBillingAgain(result, state: current, chargesSent: chargesSent)
            && !billed.contains(RunPhase(runID: result.runID, phase: result.phase)) {
            bill(result, accountID: current.lead.accountID, leadID: current.leadID, runID: result.runID, at: at)
            billedAgain = true
        }
        // The entry the state names, or named before its profile was loaded from it.
        if let written = result.poolEntry, Self.followsEntry(result, state: current, entry: current.poolEntry ?? restoredEntry) {
            update { $0.poolEntry = written }  // the same run's profile: the record names the entry again
            restoredEntry = nil
            return billedAgain ? .recordsAndState : .state
        }
        if billedAgain { return .records }
        guard Self.writesEntryAgain(result, state: current, entry: current.poolEntry ?? restoredEntry) else { return .nothing }
        emit(readyPoolEntry(at: at))
        restoredEntry = nil
        guard state?.poolEntry != nil else { return .records }
        update { $0.poolEntry = nil }  // the coordinator writes the latest entry: the record carries the profile
        return .recordsAndState
    }

    /// Emits the billing record of `result`'s charges for the run `runID` of the lead, none when
    /// it charged nothing, and remembers it sent.
    private mutating func bill(_ result: PhaseResultEnvelope, accountID: AccountID, leadID: LeadID, runID: RunID, at: Date) {
        let charges = result.charges.filter { $0.units > 0 }
        guard !charges.isEmpty else { return }
        emit(.recordBilling(BillingUsage(accountID: accountID, leadID: leadID, runID: runID, phase: result.phase, charges: charges,
                                         chargedAt: at)))
        billed.insert(RunPhase(runID: runID, phase: result.phase))
    }

    /// Whether a late or repeated `result` of a lead restored as `state` sends a record again
    /// (``sendAgain(answering:at:)``, for a machine ``init(configuration:restoring:entry:chargesSent:)``
    /// made with `entry` and `chargesSent`): a caller that has not loaded the lead's profile yet
    /// asks whether it must.
    public static func sendsAgain(_ result: PhaseResultEnvelope, state: LeadState, entry: RecordPosition?, chargesSent: Bool) -> Bool {
        sendsBillingAgain(result, state: state, chargesSent: chargesSent) || writesEntryAgain(result, state: state, entry: entry)
    }

    /// Whether `result`, a completed answer to a phase its run completed (the lead's history
    /// says so) with a charge, has its billing record sent again: the record sent with the
    /// phase's completion may be lost (see the type's guarantees), unless every charge of the
    /// state is known sent (`chargesSent`).
    private static func sendsBillingAgain(_ result: PhaseResultEnvelope, state: LeadState, chargesSent: Bool) -> Bool {
        guard !chargesSent, case .completed = result.outcome, result.charges.contains(where: { $0.units > 0 }) else { return false }
        return state.history.contains { $0.kind == .phaseCompleted && $0.runID == result.runID && $0.phase == result.phase }
    }

    /// Whether a finalize `result` of the ready lead's own run names an entry written further on
    /// in the partition of the one its `state` refers to: the run's finalize answered again (its
    /// request redelivered after a SIGKILL of the stage between the entry and the commit), the
    /// same entry written again, and the one the state names left to compaction. The state
    /// follows it (``sendAgain(answering:at:)``); its profile is not needed for that.
    public static func followsEntry(_ result: PhaseResultEnvelope, state: LeadState) -> Bool {
        followsEntry(result, state: state, entry: state.poolEntry)
    }

    /// ``followsEntry(_:state:)`` for a state whose entry is `entry` (the one its profile was
    /// loaded from, when it holds the profile).
    private static func followsEntry(_ result: PhaseResultEnvelope, state: LeadState, entry: RecordPosition?) -> Bool {
        guard state.status == .ready, result.phase == .finalize, result.runID == state.runID, case .completed = result.outcome,
              let written = result.poolEntry, let entry else { return false }
        return written.topic == entry.topic && written.partition == entry.partition && written.offset > entry.offset
    }

    /// Whether a finalize `result` of a ready lead whose `state` refers to its pool entry at
    /// `entry` (nil: the state carries the profile, and the last entry may be the coordinator's)
    /// has the lead's entry written again: the result's entry was written after the one that
    /// holds the lead's profile. Of another run: after `entry`, or any when the state carries the
    /// profile. Of the lead's run: only when the state carries the profile and a web enrichment,
    /// which the coordinator wrote into the entry after the run and a repeated finalize wrote
    /// over; else the repeat wrote what the entry held.
    private static func writesEntryAgain(_ result: PhaseResultEnvelope, state: LeadState, entry: RecordPosition?) -> Bool {
        guard state.status == .ready, result.phase == .finalize, case .completed = result.outcome,
              let written = result.poolEntry else { return false }
        guard let entry else { return result.runID != state.runID || state.profile.web != nil }
        return result.runID != state.runID && written.topic == entry.topic && written.partition == entry.partition
            && written.offset > entry.offset
    }

    /// The ready lead's pool entry as the coordinator writes it, with the profile its state
    /// holds (loaded first), as the finalize stage's entry said it and what it left out.
    private mutating func readyPoolEntry(at: Date) -> Action {
        loadProfile(at: at)
        let current = state!
        let finishedAt = current.readyAt ?? current.updatedAt
        var entry = LeadPoolEntry(profile: DocumentAssembly.withActivityText(current.profile, asOf: finishedAt),
                                  accountID: current.lead.accountID, offerID: current.lead.offerID, finishedAt: finishedAt)
        entry.omitted = current.omitted
        return .writePoolEntry(entry, runID: current.runID)
    }

    /// The attempt the lead waits on, when `key` names the lead, its run and the phase it is in.
    private func attemptWaitedOn(in key: PhaseAttemptKey) -> InFlightAttempt? {
        // Read field by field: binding the whole state would copy it (a retain per reference it holds).
        guard let inFlight = state?.inFlight, key.leadID == state?.leadID, key.runID == state?.runID,
              key.phase == inFlight.phase, state?.currentPhase == inFlight.phase
        else { return nil }
        return inFlight
    }

    /// The pieces of the lead's document that a request for a phase that reads the profile
    /// carries instead of the profile (``DocumentParts``), the outputs as their results held
    /// them; nil when the state lacks one of the run's outputs (after a wait, or a restore that
    /// could not read one back), so the request carries the profile.
    private func documentParts(of state: LeadState?) -> DocumentParts? {
        guard let state, state.carriesReferences, state.runOutputs.elementsEqual(state.outputs, by: { $0.phase == $1.phase }) else {
            return nil
        }
        return DocumentParts(base: state.runBase, outputs: state.runOutputs, skippedPhases: state.profile.skippedPhases,
                             web: state.profile.web, override: override, omitted: state.omitted)
    }

    /// Puts the profile together from what the run started from and its outputs, when it is
    /// not (``LeadState/isProfileLoaded``): the state then holds it, so its record can carry it.
    /// A ready lead's state read back from its record has its profile from the pool entry, which
    /// the coordinator reads before handing the lead an event.
    private mutating func loadProfile(at: Date) {
        guard state?.isProfileLoaded == false else { return }
        update { [override] current in
            current.profile = current.wholeProfile(override: override, at: at)
            current.isProfileLoaded = true
            if current.status == .ready {
                current.dropRunOutputs()
            } else {
                // A record that carries the profile says what its outputs left out. Folding an
                // output in again later changes nothing: it first forgets what it gives again.
                current.omitted = DocumentAssembly.omitted(outputs: current.runOutputs, after: current.omitted)
            }
        }
    }

    /// Whether `state` holds the output of each phase its run completed so far, so that
    /// the run's start and those outputs give its profile.
    private func holdsEveryOutput(_ state: LeadState) -> Bool {
        state.holdsOutputs(of: state.runOutputs)
    }

    private func profilePlatforms(of state: LeadState) -> Set<Platform> {
        state.mode.profilePlatforms.intersection(state.lead.availablePlatforms)
    }

    private mutating func record(
        _ kind: HistoryEntry.Kind, at: Date, phase: Phase? = nil, attempt: Int? = nil, detail: String? = nil
    ) {
        guard let runID = state?.runID else { return }
        let entry = HistoryEntry(at: at, kind: kind, runID: runID, phase: phase, attempt: attempt, detail: detail)
        let limit = configuration.historyLimit
        update { current in
            current.history.append(entry)
            if current.history.count > limit { current.history.removeFirst(current.history.count - limit) }
        }
        emit(.recordHistory(entry))
    }

    /// Adds an action of the event being handled. The first one makes room for the usual few
    /// (history, request, timer, billing, state): one allocation, not four; an event with no
    /// action allocates nothing.
    private mutating func emit(_ action: Action) {
        if pending.isEmpty { pending.reserveCapacity(8) }
        pending.append(action)
    }

    /// Changes the state in place. A copy taken out, changed and put back shares the history and
    /// the profile with the state until then, so its first change to each copies it whole.
    @discardableResult
    private mutating func update<R>(_ body: (inout LeadState) -> R) -> R? {
        guard state != nil else { return nil }
        return body(&state!)
    }

    private func eventTime(_ event: Event) -> Date {
        switch event {
        case .discovered(_, _, let at), .phaseResult(_, let at, _), .timerFired(_, let at), .reEnrich(_, _, let at),
            .gatesChanged(let at), .profileFound(_, _, let at), .webEnrichment(_, let at):
            at
        }
    }
}

extension LeadState {
    /// Whether the lead's phase requests use the priority topics: intent leads, and manual
    /// re-enrich (a person is waiting).
    var isPriority: Bool {
        if case .reEnrich = mode { return true }
        return lead.source.isIntent
    }
}

extension LeadState {
    /// Forgets the run's outputs once the profile holds them (``isProfileLoaded``), keeping what
    /// they left out (``PhasePayload/omitted``) in ``omitted``.
    mutating func dropRunOutputs() {
        omitted = DocumentAssembly.omitted(outputs: runOutputs, after: omitted)
        runOutputs = []
    }
}
