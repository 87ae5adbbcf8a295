import Foundation
import JSONCodec

/// What happened to a lead, for `leadctl show`.
public struct HistoryEntry: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The kind of event.
    public enum Kind: String, Codable, Sendable, CaseIterable {
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
        /// The lead was refused (the entry's detail says why).
        case refused
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

/// How a `lead.state` record holds a ``HistoryEntry``. Version 3 writes a short array,
/// `[at, kind, phase, attempt, detail, run]`, the trailing absent ones left out and `run` only
/// when it is not the state's current run: `["2025-01-31T12:00:00.000Z","phase-completed","profile",1]`
/// (a third of the object's bytes: the history is most of a ready lead's record). Versions 1
/// and 2 wrote the object, which is still read.
struct StoredHistoryEntry: Codable {
    let at: Date
    let kind: HistoryEntry.Kind
    let phase: Phase?
    let attempt: Int?
    let detail: String?
    /// Nil for the state's current run.
    let runID: RunID?

    init(_ entry: HistoryEntry, currentRun: RunID) {
        self.init(at: entry.at, kind: entry.kind, phase: entry.phase, attempt: entry.attempt, detail: entry.detail,
                  runID: entry.runID == currentRun ? nil : entry.runID)
    }

    func entry(currentRun: RunID) -> HistoryEntry {
        HistoryEntry(at: at, kind: kind, runID: runID ?? currentRun, phase: phase, attempt: attempt, detail: detail)
    }

    init(from decoder: any Decoder) throws {
        guard var array = try? decoder.unkeyedContainer() else {
            let entry = try HistoryEntry(from: decoder)  // versions 1 and 2: an object, with its run
            self.init(at: entry.at, kind: entry.kind, phase: entry.phase, attempt: entry.attempt, detail: entry.detail, runID: entry.runID)
            return
        }
        let at = try array.decode(Date.self)
        let kind = try array.decode(HistoryEntry.Kind.self)
        let phase = array.isAtEnd ? nil : try array.decodeIfPresent(Phase.self)
        let attempt = array.isAtEnd ? nil : try array.decodeIfPresent(Int.self)
        let detail = array.isAtEnd ? nil : try array.decodeIfPresent(String.self)
        let runID = array.isAtEnd ? nil : try array.decodeIfPresent(RunID.self)
        self.init(at: at, kind: kind, phase: phase, attempt: attempt, detail: detail, runID: runID)
    }

    private init(at: Date, kind: HistoryEntry.Kind, phase: Phase?, attempt: Int?, detail: String?, runID: RunID?) {
        self.at = at
        self.kind = kind
        self.phase = phase
        self.attempt = attempt
        self.detail = detail
        self.runID = runID
    }

    func encode(to encoder: any Encoder) throws {
        var array = encoder.unkeyedContainer()
        try array.encode(at)
        try array.encode(kind)
        let count = optionalsWritten
        if count > 0 { if let phase { try array.encode(phase) } else { try array.encodeNil() } }
        if count > 1 { if let attempt { try array.encode(attempt) } else { try array.encodeNil() } }
        if count > 2 { if let detail { try array.encode(detail) } else { try array.encodeNil() } }
        if count > 3, let runID { try array.encode(runID) }
    }

    /// How many of the optional values (phase, attempt, detail, run) are written: up to the last
    /// one present; absent ones before it are written as nulls.
    var optionalsWritten: Int {
        runID != nil ? 4 : detail != nil ? 3 : attempt != nil ? 2 : phase != nil ? 1 : 0
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
    /// How many earlier attempts of this phase got no answer in time (the rest were answered
    /// with a failure). Written only when not 0, so a record from before the field reads as 0.
    public var timedOutAttempts: Int

    /// Creates a record.
    public init(phase: Phase, attempt: Int, isBackingOff: Bool, deadline: Date, timedOutAttempts: Int = 0) {
        self.phase = phase
        self.attempt = attempt
        self.isBackingOff = isBackingOff
        self.deadline = deadline
        self.timedOutAttempts = timedOutAttempts
    }

    private enum CodingKeys: String, CodingKey {
        case phase, attempt, isBackingOff, deadline, timedOutAttempts
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        phase = try container.decode(Phase.self, forKey: .phase)
        attempt = try container.decode(Int.self, forKey: .attempt)
        isBackingOff = try container.decode(Bool.self, forKey: .isBackingOff)
        deadline = try container.decode(Date.self, forKey: .deadline)
        timedOutAttempts = try container.decodeIfPresent(Int.self, forKey: .timedOutAttempts) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(phase, forKey: .phase)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(isBackingOff, forKey: .isBackingOff)
        try container.encode(deadline, forKey: .deadline)
        if timedOutAttempts != 0 { try container.encode(timedOutAttempts, forKey: .timedOutAttempts) }
    }
}

/// Where a record is: a lead's pool entry, as the finalize stage wrote it.
public struct RecordPosition: Codable, Hashable, Sendable {
    /// The topic.
    public var topic: String
    /// Its partition.
    public var partition: Int32
    /// Its offset.
    public var offset: Int64

    /// Creates a position.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// Where a completed phase's output is: the `phase.result` record the coordinator consumed.
public struct OutputReference: Codable, Hashable, Sendable {
    /// The phase.
    public var phase: Phase
    /// The results topic (`phase.results` or its priority twin).
    public var topic: String
    /// Its partition.
    public var partition: Int32
    /// Its offset.
    public var offset: Int64

    /// Creates a reference.
    public init(phase: Phase, topic: String, partition: Int32, offset: Int64) {
        self.phase = phase
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// How a version 2 `lead.state` record of a running lead holds its profile: not the profile,
/// but what it is made of (see ``LeadState``).
public struct DocumentReferences: Codable, Hashable, Sendable {
    /// The profile the run started from when the lead's discovery does not give it (a re-enrich
    /// run starts from the last run's profile).
    public var base: EnrichedProfile?
    /// The results of the run's completed phases, in order.
    public var outputs: [OutputReference]
    /// The phases the run skipped, with the reasons.
    public var skippedPhases: [PhaseSkip]
    /// The lead's web enrichment.
    public var web: WebEnrichment?
    /// A ready lead's pool entry, which holds its profile (``LeadState/poolEntry``).
    public var pool: RecordPosition?
}

/// The coordinator's state of one lead: the changelog record on ``Topics/leadState``
/// (compacted; key: lead id). Restoring it restores the lead's state machine.
///
/// Version 2 keeps a running lead's record small: while the lead is processing and every
/// completed phase of its run has an ``OutputReference``, the record carries `document`
/// (``DocumentReferences``) instead of `profile`, and the coordinator, restoring it, reads the
/// referenced results back and puts the profile together again. A ready lead's record refers to
/// the pool entry its finalize result named (``poolEntry``), which holds the same profile; the
/// coordinator reads it back only when the lead needs its profile again (a re-enrich, a found
/// profile, a web enrichment). One waiting on a gate (possibly for longer than the results topic
/// keeps records), one queued, and a ready one without a pool position (a finalize stage of
/// version 1 names none) carry the profile itself, as version 1 did, except that a profile that
/// is only the run's start (the lead's discovery, its pool profile, skipped phases, a web
/// enrichment: a queued lead, or one waiting before its first output) is an empty `document`,
/// which version 2 readers put together the same. A version 1 record reads as before.
public struct LeadState: Message, Hashable {
    /// `lead.state`.
    public static let schemaName = "lead.state"
    /// Version 4: status `refused` (``LeadStatus/refused``). Version 3: each history entry is a
    /// short array (``StoredHistoryEntry``) instead of an object. Version 2: `document` instead
    /// of `profile` for a running lead.
    public static let schemaVersion = 4
    /// Versions 1 to 4.
    public static let supportedVersions = 1...4

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
    /// The profile accumulated so far. On the heap (``Indirect``), as ``runBase`` is: a state
    /// is copied whenever the machine acts, and the profiles are most of its size.
    @Indirect public var profile: EnrichedProfile
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
    /// The profile the current run started from, when the discovery does not give it (a
    /// re-enrich run); nil for a first run.
    @Indirect public var runBase: EnrichedProfile? = nil
    /// Where the results of the current run's completed phases are, in order.
    public var outputs: [OutputReference] = []
    /// What those results hold, their payloads unread, for the requests to pass on
    /// (``DocumentParts/outputs``) and for putting the profile together when it is needed whole.
    /// Not written: the record has ``outputs``, and a restore reads the results back. A ready lead
    /// keeps them while its profile is not put together (until it is retired).
    public var runOutputs: [PhaseOutput] = []
    /// A ready lead's pool entry, named by the finalize result that made it ready: its record
    /// refers to it instead of carrying the profile. Nil once anything but the finalize stage
    /// changed the ready profile (then the record carries it).
    public var poolEntry: RecordPosition?
    /// False while ``profile`` holds only what the run started from (the lead's identity, or a
    /// re-enrich run's base), its skipped phases and web enrichment: the rest is the run's
    /// outputs (``runOutputs``), which the coordinator keeps unread, or a ready lead's pool entry
    /// (``loadProfile(from:)``). So it is for a running lead after its first output, and for a
    /// state read from a record that carried ``DocumentReferences``. The state machine puts the
    /// profile together when a record or request must carry it.
    public var isProfileLoaded = true
    /// Platforms whose profile URL was found while this run was past fetching it (its profile
    /// phase sent, or not in its mode): a re-enrich of them starts as soon as the run is ready.
    /// Written only when set (an optional field within version 3).
    public var foundDuringRun: [Platform]?
    /// What the lead's profile lacks, as a pool entry's `omitted` says it: what its pool entry
    /// said (``loadProfile(from:)``), what the stages left out of outputs folded into the profile,
    /// and what was left out of the profiles this state's record carries (the lead's pool
    /// profile, the run's base, the profile) to write it within MAX_RECORD_BYTES. The run's
    /// requests and so its pool entry say it too. Written only when set (an optional field
    /// within version 4).
    public var omitted: [String]?

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

    /// Whether the record carries references instead of the profile: the lead is ready and its
    /// pool entry is known, or it is processing and each completed phase of its run has its
    /// output's reference.
    public var carriesReferences: Bool {
        if status == .ready { return poolEntry != nil }
        guard status == .processing else { return false }
        if case .reEnrich = mode, runBase == nil { return false }  // what the run started from is not known
        return arePhasesWithOutputs(outputs.lazy.map(\.phase))
    }

    /// Whether these outputs are, in order, those of the phases of the current run that
    /// produced one so far (the phases before the current one that were not skipped).
    public func holdsOutputs(of outputs: [PhaseOutput]) -> Bool {
        arePhasesWithOutputs(outputs.lazy.map(\.phase))
    }

    /// Whether `phases` are, in order, the current run's phases that produced an output so far.
    /// (Asked for every result and every state written: compared in place, no array built.)
    private func arePhasesWithOutputs(_ phases: some Sequence<Phase>) -> Bool {
        var given = phases.makeIterator()
        for phase in plan.prefix(max(0, min(phaseIndex, plan.count))) where producedOutput(phase) {
            guard given.next() == phase else { return false }
        }
        return given.next() == nil
    }

    private func producedOutput(_ phase: Phase) -> Bool {
        !profile.skippedPhases.contains { $0.phase == phase }
    }

    private enum CodingKeys: String, CodingKey {
        case lead, runID, mode, status, plan, phaseIndex, inFlight, profile, document, history, createdAt, updatedAt,
             readyAt, nextAttempt, foundDuringRun, omitted
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lead = try container.decode(LeadDiscovered.self, forKey: .lead)
        runID = try container.decode(RunID.self, forKey: .runID)
        mode = try container.decode(Mode.self, forKey: .mode)
        status = try container.decode(LeadStatus.self, forKey: .status)
        plan = try container.decode([Phase].self, forKey: .plan)
        phaseIndex = try container.decode(Int.self, forKey: .phaseIndex)
        inFlight = try container.decodeIfPresent(InFlightAttempt.self, forKey: .inFlight)
        let currentRun = runID
        history = try container.decode([StoredHistoryEntry].self, forKey: .history).map { $0.entry(currentRun: currentRun) }
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        updatedAt = try container.decode(Date.self, forKey: .updatedAt)
        readyAt = try container.decodeIfPresent(Date.self, forKey: .readyAt)
        nextAttempt = try container.decodeIfPresent(Int.self, forKey: .nextAttempt)
        foundDuringRun = try container.decodeIfPresent([Platform].self, forKey: .foundDuringRun)
        omitted = try container.decodeIfPresent([String].self, forKey: .omitted)
        if let profile = try container.decodeIfPresent(EnrichedProfile.self, forKey: .profile) {
            self.profile = profile
        } else if let document = try container.decodeIfPresent(DocumentReferences.self, forKey: .document) {
            // Before the run's first output the profile is what the run started from.
            var start = document.base ?? EnrichedProfile(startingRunOf: lead)
            start.skippedPhases = document.skippedPhases
            if let web = document.web { start.web = web }
            profile = start
            runBase = document.base
            outputs = document.outputs
            poolEntry = document.pool
            isProfileLoaded = document.outputs.isEmpty && document.base == nil && document.pool == nil
        } else {
            throw DecodingError.dataCorruptedError(forKey: .profile, in: container,
                                                   debugDescription: "a lead.state record carries neither its profile nor its document")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lead, forKey: .lead)
        try container.encode(runID, forKey: .runID)
        try container.encode(mode, forKey: .mode)
        try container.encode(status, forKey: .status)
        try container.encode(plan, forKey: .plan)
        try container.encode(phaseIndex, forKey: .phaseIndex)
        try container.encodeIfPresent(inFlight, forKey: .inFlight)
        try container.encode(history.map { StoredHistoryEntry($0, currentRun: runID) }, forKey: .history)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(readyAt, forKey: .readyAt)
        try container.encodeIfPresent(nextAttempt, forKey: .nextAttempt)
        try container.encodeIfPresent(foundDuringRun, forKey: .foundDuringRun)
        try container.encodeIfPresent(omitted, forKey: .omitted)
        if let document = storedDocument {
            try container.encode(document, forKey: .document)
        } else {
            try container.encode(profile, forKey: .profile)
        }
    }

    /// Whether the record carries ``profile`` (rather than a document that stands for it).
    public var recordCarriesProfile: Bool { storedDocument == nil }

    /// Whether the record carries ``runBase`` (in its document).
    public var recordCarriesRunBase: Bool { storedDocument?.base != nil }

    /// What the record carries instead of the profile, when it carries references (see the
    /// type's documentation); nil when it carries the profile.
    var storedDocument: DocumentReferences? {
        guard carriesReferences || !isProfileLoaded || holdsOnlyItsStart else { return nil }
        return DocumentReferences(base: status == .ready ? nil : runBase, outputs: outputs, skippedPhases: profile.skippedPhases,
                                  web: profile.web, pool: status == .ready ? poolEntry : nil)
    }

    /// Whether the profile is only what a first run started from: the lead's discovery (with its
    /// pool profile), the phases skipped and a web enrichment; so for a queued lead, and one
    /// waiting on a gate before the run's first output. Its record then carries an empty
    /// `document` instead of a copy of the lead.
    private var holdsOnlyItsStart: Bool {
        guard status != .ready, runBase == nil, outputs.isEmpty, runOutputs.isEmpty, poolEntry == nil else { return false }
        var start = EnrichedProfile(startingRunOf: lead)
        start.skippedPhases = profile.skippedPhases
        start.web = profile.web
        return start == profile
    }
}

extension LeadState {
    /// Attempt numbers a coordinator writes: an attempt in flight is 1 to ``CountBound/attempts``
    /// with fewer timed-out attempts than itself, and the next attempt 1 to the same bound (the
    /// state machine adds one to them and ranges over the attempts before).
    public func validate() throws {
        if let inFlight {
            try CountBound.check(inFlight.attempt, "inFlight.attempt", in: 1...CountBound.attempts)
            try CountBound.check(inFlight.timedOutAttempts, "inFlight.timedOutAttempts", in: 0...(inFlight.attempt - 1))
        }
        if let nextAttempt { try CountBound.check(nextAttempt, "nextAttempt", in: 1...CountBound.attempts) }
    }

    /// Takes the profile from the lead's pool entry, the one ``poolEntry`` refers to, keeping a
    /// web enrichment the record carried (one that came after finalize), and what the entry says
    /// it left out (``omitted``). The state then holds the profile, so its next record carries it.
    public mutating func loadProfile(from entry: LeadPoolEntry) {
        let web = profile.web
        profile = entry.profile
        if let web { profile.web = web }
        omitted = entry.omitted  // what the entry's profile lacks
        poolEntry = nil
        isProfileLoaded = true
    }
}

/// What a coordinator's restore reads of a `lead.state` record before it knows whether it needs
/// the lead whole: the status and where the run is, and of the lead only its id, account and
/// search, and when a ready one became ready. A ready or queued lead is held as the changelog
/// offset of its state, so its profile and history are not decoded into memory; only a lead
/// that is running is read whole.
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
    /// When the current run finished (a ready lead's count last moved then); nil before.
    public var readyAt: Date?

    /// The lead's id.
    public var leadID: LeadID { lead.leadID }
    /// The phase the run is at; nil when it is done.
    public var currentPhase: Phase? { plan.indices.contains(phaseIndex) ? plan[phaseIndex] : nil }
}
