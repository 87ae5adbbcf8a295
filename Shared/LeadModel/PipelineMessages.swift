import Foundation
import JSONCodec

/// A request from the coordinator to a stage to run one phase for one lead.
/// Topic: ``Topics/phaseRequests(_:isPriority:)``; key: lead id.
public struct PhaseRequest: Message, Hashable {
    /// `phase.request`.
    public static let schemaName = "phase.request"
    /// Version 1.
    public static let schemaVersion = 1

    /// The lead.
    public var leadID: LeadID
    /// The run this request belongs to.
    public var runID: RunID
    /// The phase to run.
    public var phase: Phase
    /// 1 for the first try, then 2, 3, ... for retries.
    public var attempt: Int
    /// The run's mode.
    public var mode: Mode
    /// For the profile phase: the platforms to enrich (selected and with a URL).
    public var platforms: [Platform]
    /// The lead's input data.
    public var lead: LeadDiscovered
    /// The profile accumulated so far in this lead's history, as far as the phase reads it:
    /// whole for scoring, only id, name and profile URLs for the other phases
    /// (``EnrichedProfile/carried(to:)``). The coordinator holds the whole profile.
    public var profile: EnrichedProfile
    /// The lead's account.
    public var accountID: AccountID
    /// The offer to score against.
    public var offerID: OfferID
    /// Whether the request travels on the priority twin topic.
    public var isPriority: Bool
    /// When the coordinator sent it.
    public var requestedAt: Date

    /// Creates a request.
    public init(
        leadID: LeadID, runID: RunID, phase: Phase, attempt: Int, mode: Mode, platforms: [Platform],
        lead: LeadDiscovered, profile: EnrichedProfile, accountID: AccountID, offerID: OfferID,
        isPriority: Bool, requestedAt: Date
    ) {
        self.leadID = leadID
        self.runID = runID
        self.phase = phase
        self.attempt = attempt
        self.mode = mode
        self.platforms = platforms
        self.lead = lead
        self.profile = profile
        self.accountID = accountID
        self.offerID = offerID
        self.isPriority = isPriority
        self.requestedAt = requestedAt
    }

    /// The attempt's identity, which its result must echo.
    public var attemptKey: PhaseAttemptKey {
        PhaseAttemptKey(leadID: leadID, runID: runID, phase: phase, attempt: attempt)
    }
}

/// Identifies one attempt of one phase of one run of one lead. Results and timers are matched on
/// it; anything not matching the lead's current attempt is stale.
public struct PhaseAttemptKey: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The lead.
    public var leadID: LeadID
    /// The run.
    public var runID: RunID
    /// The phase.
    public var phase: Phase
    /// The attempt number, from 1.
    public var attempt: Int

    /// Creates a key.
    public init(leadID: LeadID, runID: RunID, phase: Phase, attempt: Int) {
        self.leadID = leadID
        self.runID = runID
        self.phase = phase
        self.attempt = attempt
    }

    /// `lead/run/phase#attempt`.
    public var description: String { "\(leadID)/\(runID)/\(phase.rawValue)#\(attempt)" }
}

/// Whether a stage finished a phase.
///
/// Encoded as `{"status": "completed"}`, `{"status": "failed", "reason": ..., "isRetriable": ...}`
/// or `{"status": "account-paused", "reason": ...}`.
public enum PhaseOutcome: Codable, Hashable, Sendable {
    /// The phase ran; its payload holds the output (which may record per-platform failures).
    case completed
    /// The phase could not run; retriable failures are retried with backoff.
    case failed(reason: String, isRetriable: Bool)
    /// Written only by stages from before a provider's exhausted credits stopped pausing the
    /// customer's account (today's stages answer a retriable ``failed(reason:isRetriable:)``).
    /// Still read, for a rolling upgrade: the coordinator treats it as a retriable failure of
    /// the attempt and never pauses the account.
    case accountPaused(reason: String)

    private enum CodingKeys: String, CodingKey {
        case status, reason, isRetriable
    }

    private enum Status: String, Codable {
        case completed, failed
        case accountPaused = "account-paused"
    }

    /// Decodes the `status` form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Status.self, forKey: .status) {
        case .completed: self = .completed
        case .accountPaused: self = .accountPaused(reason: try container.decode(String.self, forKey: .reason))
        case .failed:
            self = .failed(
                reason: try container.decode(String.self, forKey: .reason),
                isRetriable: try container.decode(Bool.self, forKey: .isRetriable))
        }
    }

    /// Encodes the `status` form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .completed:
            try container.encode(Status.completed, forKey: .status)
        case .accountPaused(let reason):
            try container.encode(Status.accountPaused, forKey: .status)
            try container.encode(reason, forKey: .reason)
        case .failed(let reason, let isRetriable):
            try container.encode(Status.failed, forKey: .status)
            try container.encode(reason, forKey: .reason)
            try container.encode(isRetriable, forKey: .isRetriable)
        }
    }
}

/// The output of the profile phase.
public struct ProfilePhaseOutput: Codable, Hashable, Sendable {
    /// LinkedIn data, when fetched.
    public var linkedin: LinkedInProfile?
    /// X data, when fetched.
    public var x: XProfile?
    /// The current company, when known.
    public var company: Company?
    /// How LinkedIn went; nil when not attempted in this phase.
    public var linkedinOutcome: PlatformOutcome?
    /// How X went; nil when not attempted in this phase.
    public var xOutcome: PlatformOutcome?

    /// Creates an output.
    public init(
        linkedin: LinkedInProfile? = nil, x: XProfile? = nil, company: Company? = nil,
        linkedinOutcome: PlatformOutcome? = nil, xOutcome: PlatformOutcome? = nil
    ) {
        self.linkedin = linkedin
        self.x = x
        self.company = company
        self.linkedinOutcome = linkedinOutcome
        self.xOutcome = xOutcome
    }
}

/// What a phase produced; only the field of the phase that ran is set (finalize sets none).
public struct PhasePayload: Codable, Hashable, Sendable {
    /// Profile phase output.
    public var profile: ProfilePhaseOutput?
    /// Activity phase output.
    public var activity: Activity?
    /// How the activity fetch went.
    public var activityOutcome: PlatformOutcome?
    /// Scoring phase output.
    public var scores: ScoreCard?

    /// Creates a payload.
    public init(profile: ProfilePhaseOutput? = nil, activity: Activity? = nil, activityOutcome: PlatformOutcome? = nil,
                scores: ScoreCard? = nil) {
        self.profile = profile
        self.activity = activity
        self.activityOutcome = activityOutcome
        self.scores = scores
    }

    /// No output (a failed phase).
    public static let empty = PhasePayload()
}

/// A provider call to bill: charged on a match only, never on a miss or an error.
public struct BillableCharge: Codable, Hashable, Sendable {
    /// The provider, e.g. `linkedin`, `x`, `activity`, `scoring-model`.
    public var provider: String
    /// Units charged.
    public var units: Int

    /// Creates a charge.
    public init(provider: String, units: Int) {
        self.provider = provider
        self.units = units
    }
}

/// A stage's answer to a ``PhaseRequest``. Topic: ``Topics/phaseResults``; key: lead id.
public struct PhaseResult: Message, Hashable {
    /// `phase.result`.
    public static let schemaName = "phase.result"
    /// Version 1.
    public static let schemaVersion = 1

    /// The lead.
    public var leadID: LeadID
    /// The run, echoed from the request.
    public var runID: RunID
    /// The phase, echoed from the request.
    public var phase: Phase
    /// The attempt, echoed from the request.
    public var attempt: Int
    /// Completed or failed.
    public var outcome: PhaseOutcome
    /// The phase's output.
    public var payload: PhasePayload
    /// Provider calls to bill for this phase.
    public var charges: [BillableCharge]
    /// When the stage finished.
    public var finishedAt: Date
    /// The stage instance that answered, for diagnosis.
    public var service: String

    /// Creates a result.
    public init(
        leadID: LeadID, runID: RunID, phase: Phase, attempt: Int, outcome: PhaseOutcome, payload: PhasePayload,
        charges: [BillableCharge] = [], finishedAt: Date, service: String
    ) {
        self.leadID = leadID
        self.runID = runID
        self.phase = phase
        self.attempt = attempt
        self.outcome = outcome
        self.payload = payload
        self.charges = charges
        self.finishedAt = finishedAt
        self.service = service
    }

    /// The result for `request`.
    public init(
        answering request: PhaseRequest, outcome: PhaseOutcome, payload: PhasePayload,
        charges: [BillableCharge] = [], finishedAt: Date, service: String
    ) {
        self.init(
            leadID: request.leadID, runID: request.runID, phase: request.phase, attempt: request.attempt,
            outcome: outcome, payload: payload, charges: charges, finishedAt: finishedAt, service: service)
    }

    /// The attempt this result answers.
    public var attemptKey: PhaseAttemptKey {
        PhaseAttemptKey(leadID: leadID, runID: runID, phase: phase, attempt: attempt)
    }
}

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

/// A finished profile in the lead pool (topic ``Topics/leadPool``, compacted; key: lead id).
public struct LeadPoolEntry: Message, Hashable {
    /// `lead.pool-entry`.
    public static let schemaName = "lead.pool-entry"
    /// Version 2: the profile's scores carry their evidence, reasons their source, the X profile
    /// its location and link, the activity its orbit clusters (all optional, so v1 reads as v2).
    public static let schemaVersion = 2
    /// Versions 1 and 2.
    public static var supportedVersions: ClosedRange<Int> { 1...2 }

    /// The lead.
    public var leadID: LeadID
    /// The account that found it.
    public var accountID: AccountID
    /// The offer it was found for.
    public var offerID: OfferID
    /// Role (job title), when known.
    public var role: String?
    /// Bio or headline, when known.
    public var bio: String?
    /// Industry, when known.
    public var industry: String?
    /// Company name, when known.
    public var company: String?
    /// Location, when known.
    public var location: String?
    /// Skills.
    public var skills: [String]
    /// The whole profile.
    public var profile: EnrichedProfile
    /// When the lead finished.
    public var finishedAt: Date

    /// Creates an entry.
    public init(
        leadID: LeadID, accountID: AccountID, offerID: OfferID, role: String?, bio: String?, industry: String?,
        company: String?, location: String?, skills: [String], profile: EnrichedProfile, finishedAt: Date
    ) {
        self.leadID = leadID
        self.accountID = accountID
        self.offerID = offerID
        self.role = role
        self.bio = bio
        self.industry = industry
        self.company = company
        self.location = location
        self.skills = skills
        self.profile = profile
        self.finishedAt = finishedAt
    }

    /// The entry for a finished profile, with the summary fields taken from it.
    public init(profile: EnrichedProfile, accountID: AccountID, offerID: OfferID, finishedAt: Date) {
        self.init(
            leadID: profile.leadID, accountID: accountID, offerID: offerID,
            role: profile.linkedin?.jobTitle, bio: profile.x?.bio ?? profile.linkedin?.headline,
            industry: profile.company?.industry, company: profile.company?.name ?? profile.linkedin?.company,
            location: profile.linkedin?.location, skills: profile.linkedin?.skills ?? [], profile: profile,
            finishedAt: finishedAt)
    }
}

/// Progress of one search (topic ``Topics/progress``; key: search id).
public struct ProgressSnapshot: Message, Hashable {
    /// `progress.snapshot`.
    public static let schemaName = "progress.snapshot"
    /// Version 2 added ``pending``.
    public static let schemaVersion = 2
    /// Version 1 (no ``pending``: read as 0) and 2.
    public static let supportedVersions = 1...2

    /// Overall state.
    public enum State: String, Codable, Sendable {
        /// Leads are still being processed, or the total is not known yet.
        case running
        /// The declared total has completed.
        case completed
        /// Work waits on the account (billing paused).
        case paused
    }

    /// The search.
    public var searchID: SearchID
    /// Its account.
    public var accountID: AccountID
    /// Running, completed or paused.
    public var state: State
    /// Declared total, when discovery has declared it.
    public var total: Int?
    /// Leads queued until the coordinator has room for them.
    public var pending: Int
    /// Leads ready.
    public var completed: Int
    /// Leads in the profile or activity phase.
    public var enriching: Int
    /// Leads in the scoring phase.
    public var scoring: Int
    /// Leads waiting for billing to resume.
    public var billingPaused: Int
    /// Leads waiting for the outreach window.
    public var deferred: Int
    /// When the snapshot was taken.
    public var updatedAt: Date

    /// Creates a snapshot.
    public init(
        searchID: SearchID, accountID: AccountID, state: State, total: Int?, pending: Int = 0, completed: Int, enriching: Int,
        scoring: Int, billingPaused: Int, deferred: Int, updatedAt: Date
    ) {
        self.searchID = searchID
        self.accountID = accountID
        self.state = state
        self.total = total
        self.pending = pending
        self.completed = completed
        self.enriching = enriching
        self.scoring = scoring
        self.billingPaused = billingPaused
        self.deferred = deferred
        self.updatedAt = updatedAt
    }

    private enum CodingKeys: String, CodingKey {
        case searchID, accountID, state, total, pending, completed, enriching, scoring, billingPaused, deferred, updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            searchID: try container.decode(SearchID.self, forKey: .searchID),
            accountID: try container.decode(AccountID.self, forKey: .accountID),
            state: try container.decode(State.self, forKey: .state),
            total: try container.decodeIfPresent(Int.self, forKey: .total),
            pending: try container.decodeIfPresent(Int.self, forKey: .pending) ?? 0,
            completed: try container.decode(Int.self, forKey: .completed),
            enriching: try container.decode(Int.self, forKey: .enriching),
            scoring: try container.decode(Int.self, forKey: .scoring),
            billingPaused: try container.decode(Int.self, forKey: .billingPaused),
            deferred: try container.decode(Int.self, forKey: .deferred),
            updatedAt: try container.decode(Date.self, forKey: .updatedAt))
    }
}

/// Heat category of a company.
public enum HeatCategory: String, Codable, Sendable, CaseIterable {
    /// Strong, recent, multi-person signal.
    case hot
    /// Some signal.
    case warm
    /// Little signal.
    case cool
}

/// Day-over-day direction of a company's heat.
public enum HeatTrend: String, Codable, Sendable, CaseIterable {
    /// Heat went up.
    case rising
    /// About the same.
    case stable
    /// Heat went down.
    case cooling
}

/// One lead's signal that counted toward a company's heat.
public struct CompanySignal: Codable, Hashable, Sendable {
    /// The lead.
    public var leadID: LeadID
    /// What kind of signal, e.g. `recommendation-request`.
    public var kind: String
    /// What was seen.
    public var detail: String
    /// When.
    public var date: Date
    /// Contribution to the raw heat after recency weighting.
    public var weight: Double

    /// Creates a signal.
    public init(leadID: LeadID, kind: String, detail: String, date: Date, weight: Double) {
        self.leadID = leadID
        self.kind = kind
        self.detail = detail
        self.date = date
        self.weight = weight
    }
}

/// Dark-funnel heat of one company from several leads (topic ``Topics/accountSignals``; key:
/// account id).
public struct AccountSignal: Message, Hashable {
    /// `account.signal`.
    public static let schemaName = "account.signal"
    /// Version 1.
    public static let schemaVersion = 1

    /// The account the leads belong to.
    public var accountID: AccountID
    /// LinkedIn company id (`li:<id>`) or normalised name (`name:<name>`).
    public var companyKey: String
    /// A display name.
    public var companyName: String
    /// Heat, 0-100.
    public var heatScore: Int
    /// Hot, warm or cool.
    public var category: HeatCategory
    /// Against the previous day's heat.
    public var trend: HeatTrend
    /// How many leads at the company.
    public var leadCount: Int
    /// The strongest signals that counted, strongest first, at most 20; the heat counts every one.
    public var signals: [CompanySignal]
    /// When computed.
    public var computedAt: Date

    /// Creates a signal record.
    public init(
        accountID: AccountID, companyKey: String, companyName: String, heatScore: Int, category: HeatCategory,
        trend: HeatTrend, leadCount: Int, signals: [CompanySignal], computedAt: Date
    ) {
        self.accountID = accountID
        self.companyKey = companyKey
        self.companyName = companyName
        self.heatScore = heatScore
        self.category = category
        self.trend = trend
        self.leadCount = leadCount
        self.signals = signals
        self.computedAt = computedAt
    }
}

/// A lead enrolled automatically in an outreach sequence (topic ``Topics/autopilotEnrollments``;
/// key: lead id).
///
/// At most one enrollment per lead and run, but delivered at least once: the finalize stage
/// publishes it for the run's accepted scoring result and may be retried or redelivered, so a
/// reader dedupes on ``enrollmentID`` (`<lead id>:<run id>`), which every copy carries.
///
/// Version 2 added ``enrollmentID``; a version 1 record is still read, its id derived from its
/// lead and run.
public struct AutopilotEnrollment: Message, Hashable {
    /// `autopilot.enrollment`.
    public static let schemaName = "autopilot.enrollment"
    /// Version 2.
    public static let schemaVersion = 2
    /// Versions 1 and 2.
    public static let supportedVersions = 1...2

    /// `<lead id>:<run id>`: the same for every copy of one run's enrollment; readers dedupe on it.
    public var enrollmentID: String
    /// The lead enrolled.
    public var leadID: LeadID
    /// The run whose scoring result qualified it (one enrollment per run at most).
    public var runID: RunID
    /// The lead's account.
    public var accountID: AccountID
    /// The offer it was scored against.
    public var offerID: OfferID
    /// Fit at enrollment.
    public var fit: Int
    /// Intent at enrollment.
    public var intent: Int
    /// Buyer state at enrollment.
    public var buyerState: BuyerState
    /// Every rule checked, each `passed: …`.
    public var reasons: [String]
    /// When the enrollment was decided (the finalize stage's clock).
    public var enrolledAt: Date

    /// Creates an enrollment; its ``enrollmentID`` comes from the lead and the run.
    public init(
        leadID: LeadID, runID: RunID, accountID: AccountID, offerID: OfferID, fit: Int, intent: Int,
        buyerState: BuyerState, reasons: [String], enrolledAt: Date
    ) {
        self.enrollmentID = Self.makeEnrollmentID(leadID: leadID, runID: runID)
        self.leadID = leadID
        self.runID = runID
        self.accountID = accountID
        self.offerID = offerID
        self.fit = fit
        self.intent = intent
        self.buyerState = buyerState
        self.reasons = reasons
        self.enrolledAt = enrolledAt
    }

    /// `<lead id>:<run id>`.
    public static func makeEnrollmentID(leadID: LeadID, runID: RunID) -> String {
        "\(leadID.rawValue):\(runID.rawValue)"
    }

    private enum CodingKeys: String, CodingKey {
        case enrollmentID, leadID, runID, accountID, offerID, fit, intent, buyerState, reasons, enrolledAt
    }

    /// Decodes version 2, or version 1 with the id derived from the lead and the run.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        leadID = try container.decode(LeadID.self, forKey: .leadID)
        runID = try container.decode(RunID.self, forKey: .runID)
        enrollmentID = try container.decodeIfPresent(String.self, forKey: .enrollmentID)
            ?? Self.makeEnrollmentID(leadID: leadID, runID: runID)
        accountID = try container.decode(AccountID.self, forKey: .accountID)
        offerID = try container.decode(OfferID.self, forKey: .offerID)
        fit = try container.decode(Int.self, forKey: .fit)
        intent = try container.decode(Int.self, forKey: .intent)
        buyerState = try container.decode(BuyerState.self, forKey: .buyerState)
        reasons = try container.decode([String].self, forKey: .reasons)
        enrolledAt = try container.decode(Date.self, forKey: .enrolledAt)
    }
}

/// A record that could not be processed (topic ``Topics/deadLetters``; key: the original key,
/// or its hash when the key itself is too large).
///
/// Nothing is dropped silently: the original bytes travel with the reason, unless they are the
/// problem (a record too large to copy into a dead letter): then the letter keeps their size and
/// hash, and where they are (topic, partition, offset) for whoever needs the bytes.
///
/// Version 2 added ``originalBytes`` and ``originalFNV1a64`` and lets ``originalBase64`` be
/// absent; version 1 letters are still read.
public struct DeadLetter: Message, Hashable {
    /// `dead.letter`.
    public static let schemaName = "dead.letter"
    /// Version 2.
    public static let schemaVersion = 2
    /// Versions 1 and 2.
    public static let supportedVersions = 1...2

    /// The original record value, base64; nil when it was too large to keep.
    public var originalBase64: String?
    /// The size of the original value in bytes (version 2).
    public var originalBytes: Int?
    /// FNV-1a 64 of the original value, 16 hex digits (version 2).
    public var originalFNV1a64: String?
    /// The original record key, if any, base64; nil too when the key was too large to keep.
    public var originalKeyBase64: String?
    /// Where it was read.
    public var sourceTopic: String
    /// Partition it was read from.
    public var partition: Int
    /// Offset it was read at.
    public var offset: Int64
    /// Why it failed (e.g. a ``DecodeError`` description), at most ``maxReasonCharacters``.
    public var reason: String
    /// When it failed.
    public var failedAt: Date
    /// Which service dead-lettered it.
    public var service: String

    /// A longer reason is cut: a reason quoting its input must not make the letter too large.
    public static let maxReasonCharacters = 2000
    /// A longer key is not copied, only hashed.
    public static let maxKeyBytes = 1024

    /// Creates a dead letter.
    /// - Parameter keepOriginal: false when the original value must not be copied (it is too
    ///   large for a record); its size and hash are kept either way.
    public init(
        original: [UInt8], originalKey: [UInt8]? = nil, sourceTopic: String, partition: Int, offset: Int64,
        reason: String, failedAt: Date, service: String, keepOriginal: Bool = true
    ) {
        self.originalBase64 = keepOriginal ? Data(original).base64EncodedString() : nil
        self.originalBytes = original.count
        self.originalFNV1a64 = Self.fnv1a64(original)
        self.originalKeyBase64 = originalKey.flatMap { $0.count <= Self.maxKeyBytes ? Data($0).base64EncodedString() : nil }
        self.sourceTopic = sourceTopic
        self.partition = partition
        self.offset = offset
        self.reason = reason.count > Self.maxReasonCharacters
            ? String(reason.prefix(Self.maxReasonCharacters)) + "… (cut)" : reason
        self.failedAt = failedAt
        self.service = service
    }

    /// The original value bytes; nil if they were not kept or the base64 is corrupt.
    public var original: [UInt8]? {
        originalBase64.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
    }

    /// FNV-1a 64 of `bytes` as 16 lowercase hex digits: enough to tell two large records apart
    /// or find one again, with no cryptographic claim.
    public static func fnv1a64(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// One charged phase (topic ``Topics/billingUsage``; key: account id). Billing deduplicates on
/// ``idempotencyKey``, so a retried or redelivered phase is never charged twice.
public struct BillingUsage: Message, Hashable {
    /// `billing.usage`.
    public static let schemaName = "billing.usage"
    /// Version 1.
    public static let schemaVersion = 1

    /// `account:lead:run:phase:provider`; deliberately without the attempt number.
    public var idempotencyKey: String
    /// The account charged.
    public var accountID: AccountID
    /// The lead.
    public var leadID: LeadID
    /// The run.
    public var runID: RunID
    /// The phase.
    public var phase: Phase
    /// The provider.
    public var provider: String
    /// Units.
    public var units: Int
    /// When charged.
    public var chargedAt: Date

    /// Creates a usage record with its idempotency key.
    public init(
        accountID: AccountID, leadID: LeadID, runID: RunID, phase: Phase, provider: String, units: Int,
        chargedAt: Date
    ) {
        self.idempotencyKey = Self.makeIdempotencyKey(
            accountID: accountID, leadID: leadID, runID: runID, phase: phase, provider: provider)
        self.accountID = accountID
        self.leadID = leadID
        self.runID = runID
        self.phase = phase
        self.provider = provider
        self.units = units
        self.chargedAt = chargedAt
    }

    /// `account:lead:run:phase:provider`. The provider is part of the key because one phase may
    /// charge two providers (LinkedIn and X in the profile phase).
    public static func makeIdempotencyKey(
        accountID: AccountID, leadID: LeadID, runID: RunID, phase: Phase, provider: String
    ) -> String {
        "\(accountID):\(leadID):\(runID):\(phase.rawValue):\(provider)"
    }
}
