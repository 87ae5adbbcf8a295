import Foundation
import JSONCodec

/// What happened to a lead, for `leadctl show`.
public struct HistoryEntry: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The kind of event.
    public enum Kind: String, Codable, Sendable {
        /// The lead arrived.
        case discovered
        /// A run began (first run or re-enrich).
        case runStarted = "run-started"
        /// A phase request was sent.
        case phaseStarted = "phase-started"
        /// A phase completed.
        case phaseCompleted = "phase-completed"
        /// A phase attempt failed or timed out.
        case phaseFailed = "phase-failed"
        /// A retry was scheduled.
        case retryScheduled = "retry-scheduled"
        /// A phase was given up on; the lead moved on.
        case phaseSkipped = "phase-skipped"
        /// The lead became ready.
        case ready
        /// The lead waits because its account's billing is paused.
        case billingPaused = "billing-paused"
        /// The lead waits for its account's outreach window.
        case deferred
    }

    /// When.
    public var at: Date
    /// What.
    public var kind: Kind
    /// The run.
    public var runID: RunID
    /// The phase, when the entry concerns one.
    public var phase: Phase?
    /// The attempt, when the entry concerns one.
    public var attempt: Int?
    /// Extra detail (reason, mode, ...).
    public var detail: String?

    /// Creates an entry.
    public init(at: Date, kind: Kind, runID: RunID, phase: Phase? = nil, attempt: Int? = nil, detail: String? = nil) {
        self.at = at
        self.kind = kind
        self.runID = runID
        self.phase = phase
        self.attempt = attempt
        self.detail = detail
    }

    /// One line: `2025-01-31T12:00:00.000Z phase-failed activity#2 (run r1): timed out`.
    public var description: String {
        var line = "\(ISO8601.format(at)) \(kind.rawValue)"
        if let phase { line += " \(phase.rawValue)" + (attempt.map { "#\($0)" } ?? "") }
        line += " (run \(runID))"
        if let detail { line += ": \(detail)" }
        return line
    }
}

/// The phase attempt a lead is waiting on.
public struct InFlightAttempt: Codable, Hashable, Sendable {
    /// The phase.
    public var phase: Phase
    /// The attempt number, from 1.
    public var attempt: Int
    /// True while waiting out a retry backoff (the request for `attempt` is not sent yet).
    public var isBackingOff: Bool
    /// When the timeout (or, while backing off, the retry) fires.
    public var deadline: Date

    /// Creates a record.
    public init(phase: Phase, attempt: Int, isBackingOff: Bool, deadline: Date) {
        self.phase = phase
        self.attempt = attempt
        self.isBackingOff = isBackingOff
        self.deadline = deadline
    }
}

/// The coordinator's state of one lead: the changelog record on ``Topics/leadState``
/// (compacted; key: lead id). Restoring it restores the lead's state machine.
public struct LeadState: Message, Hashable {
    /// `lead.state`.
    public static let schemaName = "lead.state"
    /// Version 1.
    public static let schemaVersion = 1

    /// The lead's input as first discovered.
    public var lead: LeadDiscovered
    /// The current run.
    public var runID: RunID
    /// The current run's mode.
    public var mode: Mode
    /// Pending, processing, ready, ...
    public var status: LeadStatus
    /// The phases of the current run, in order.
    public var plan: [Phase]
    /// Index into ``plan`` of the current phase; equals `plan.count` once the run is done.
    public var phaseIndex: Int
    /// The attempt being waited on, if any.
    public var inFlight: InFlightAttempt?
    /// The profile accumulated so far.
    public var profile: EnrichedProfile
    /// What happened, oldest first (bounded; oldest entries are dropped).
    public var history: [HistoryEntry]
    /// When the lead was first discovered.
    public var createdAt: Date
    /// When this record last changed.
    public var updatedAt: Date
    /// When the current run finished.
    public var readyAt: Date?
    /// The attempt number to use when the current phase starts again after a wait (billing
    /// pause); nil means 1. Attempt numbers never repeat within a run, so a late result of an
    /// attempt before the pause cannot be taken for one after it.
    public var nextAttempt: Int?

    /// Creates a state record.
    public init(
        lead: LeadDiscovered, runID: RunID, mode: Mode, status: LeadStatus, plan: [Phase], phaseIndex: Int,
        inFlight: InFlightAttempt?, profile: EnrichedProfile, history: [HistoryEntry], createdAt: Date,
        updatedAt: Date, readyAt: Date?
    ) {
        self.lead = lead
        self.runID = runID
        self.mode = mode
        self.status = status
        self.plan = plan
        self.phaseIndex = phaseIndex
        self.inFlight = inFlight
        self.profile = profile
        self.history = history
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.readyAt = readyAt
    }

    /// The lead.
    public var leadID: LeadID { lead.leadID }

    /// The phase being run, or nil once the run is done.
    public var currentPhase: Phase? { plan.indices.contains(phaseIndex) ? plan[phaseIndex] : nil }
}

/// What a coordinator's restore reads of a `lead.state` record before it knows whether it needs
/// the lead whole: the status and where the run is, and of the lead only its id, account and
/// search. A ready or queued lead is held as the changelog offset of its state, so its profile
/// and history are not decoded into memory; only a lead that is running is read whole.
public struct LeadStateSummary: Message, Hashable {
    /// The lead's identity, as progress counts it.
    public struct LeadReference: Codable, Hashable, Sendable {
        public var leadID: LeadID
        public var accountID: AccountID
        public var sourceSearchID: SearchID

        /// Creates a reference.
        public init(leadID: LeadID, accountID: AccountID, sourceSearchID: SearchID) {
            self.leadID = leadID
            self.accountID = accountID
            self.sourceSearchID = sourceSearchID
        }
    }

    /// `lead.state`: the same records as ``LeadState``.
    public static let schemaName = LeadState.schemaName
    /// ``LeadState``'s version.
    public static let schemaVersion = LeadState.schemaVersion
    /// ``LeadState``'s versions.
    public static var supportedVersions: ClosedRange<Int> { LeadState.supportedVersions }

    /// The lead.
    public var lead: LeadReference
    /// The current run.
    public var runID: RunID
    /// Where the lead is.
    public var status: LeadStatus
    /// The run's phases.
    public var plan: [Phase]
    /// The phase the run is at; `plan.count` when done.
    public var phaseIndex: Int

    /// The lead's id.
    public var leadID: LeadID { lead.leadID }
    /// The phase the run is at; nil when it is done.
    public var currentPhase: Phase? { plan.indices.contains(phaseIndex) ? plan[phaseIndex] : nil }
}
