import Foundation
import JSONCodec

/// A request from the coordinator to a stage to run one phase for one lead.
/// Topic: ``Topics/phaseRequests(_:isPriority:)``; key: lead id.
public struct PhaseRequest: Message, Hashable {
    /// `phase.request`.
    public static let schemaName = "phase.request"
    /// Version 2: a request for a phase that reads the profile may carry the lead's document as
    /// ``document`` (the pieces) instead of ``profile``. Version 1 always carries the profile.
    public static let schemaVersion = 2
    /// Versions 1 and 2.
    public static let supportedVersions = 1...2

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
    /// (``EnrichedProfile/carried(to:)``). A request with a ``document`` writes that in its
    /// place (the coordinator's request holds both, and they agree): read back, its profile is
    /// the lead's id, name and profile URLs, and the whole profile is put together from the
    /// document (`DocumentAssembly`). On the heap (``Indirect``).
    @Indirect public var profile: EnrichedProfile
    /// The pieces of the lead's document, for a phase that reads the profile (version 2). On
    /// the heap (``Indirect``).
    @Indirect public var document: DocumentParts?
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
        isPriority: Bool, requestedAt: Date, document: DocumentParts? = nil
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
        self.document = document
    }

    private enum CodingKeys: String, CodingKey {
        case leadID, runID, phase, attempt, mode, platforms, lead, profile, document, accountID, offerID, isPriority, requestedAt
    }

    /// Reads either version: without `profile`, the profile is the lead's id, name and URLs.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        leadID = try container.decode(LeadID.self, forKey: .leadID)
        runID = try container.decode(RunID.self, forKey: .runID)
        phase = try container.decode(Phase.self, forKey: .phase)
        attempt = try container.decode(Int.self, forKey: .attempt)
        mode = try container.decode(Mode.self, forKey: .mode)
        platforms = try container.decode([Platform].self, forKey: .platforms)
        lead = try container.decode(LeadDiscovered.self, forKey: .lead)
        let document = try container.decodeIfPresent(DocumentParts.self, forKey: .document)
        self.document = document
        accountID = try container.decode(AccountID.self, forKey: .accountID)
        offerID = try container.decode(OfferID.self, forKey: .offerID)
        isPriority = try container.decode(Bool.self, forKey: .isPriority)
        requestedAt = try container.decode(Date.self, forKey: .requestedAt)
        if let profile = try container.decodeIfPresent(EnrichedProfile.self, forKey: .profile) {
            self.profile = profile
        } else if document != nil || !phase.readsEnrichedProfile {
            profile = EnrichedProfile(discovered: lead).carried(to: .profile)
        } else {
            throw DecodingError.dataCorruptedError(
                forKey: .document, in: container,
                debugDescription: "a \(phase.rawValue) request carries neither the lead's profile nor its document")
        }
    }

    /// Writes ``document`` instead of ``profile`` when the request has it, and no profile when it is
    /// the lead's (``isProfileTheLeads``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(leadID, forKey: .leadID)
        try container.encode(runID, forKey: .runID)
        try container.encode(phase, forKey: .phase)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(mode, forKey: .mode)
        try container.encode(platforms, forKey: .platforms)
        try container.encode(lead, forKey: .lead)
        if let document {
            try container.encode(document, forKey: .document)
        } else if !isProfileTheLeads {
            try container.encode(profile, forKey: .profile)
        }
        try container.encode(accountID, forKey: .accountID)
        try container.encode(offerID, forKey: .offerID)
        try container.encode(isPriority, forKey: .isPriority)
        try container.encode(requestedAt, forKey: .requestedAt)
    }

    /// Whether ``profile`` is what a reader makes of the lead when the request carries none: the
    /// lead's id, name and profile URLs, for a phase that does not read the enriched profile
    /// (profile, activity). The request then leaves it out; every version 2 reader puts it
    /// together the same (``init(from:)``).
    var isProfileTheLeads: Bool {
        !phase.readsEnrichedProfile && profile == EnrichedProfile(discovered: lead).carried(to: phase)
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
    /// Finalize only: the stage would enroll the lead in autopilot but for its account's billing
    /// pause, so it wrote nothing; the coordinator holds the retry until the account resumes or
    /// its autopilot is switched off. On the wire a retriable `failed` with `waitsForBilling:
    /// true` (``PhaseResult`` version 4).
    case waitsForBilling(reason: String)

    private enum CodingKeys: String, CodingKey {
        case status, reason, isRetriable, waitsForBilling
    }

    private enum Status: String, Codable, CaseIterable {
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
            let reason = try container.decode(String.self, forKey: .reason)
            let isRetriable = try container.decode(Bool.self, forKey: .isRetriable)
            if try container.decodeIfPresent(Bool.self, forKey: .waitsForBilling) == true {
                self = .waitsForBilling(reason: reason)
            } else {
                self = .failed(reason: reason, isRetriable: isRetriable)
            }
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
        case .waitsForBilling(let reason):
            try container.encode(Status.failed, forKey: .status)
            try container.encode(reason, forKey: .reason)
            try container.encode(true, forKey: .isRetriable)
            try container.encode(true, forKey: .waitsForBilling)
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
    /// What the stage left out of its output to keep it within its budget (a quarter of
    /// MAX_RECORD_BYTES), as a pool entry's `omitted` says it; nil when nothing. The lead's pool
    /// entry says it too.
    public var omitted: [String]?

    /// Creates a payload.
    public init(profile: ProfilePhaseOutput? = nil, activity: Activity? = nil, activityOutcome: PlatformOutcome? = nil,
                scores: ScoreCard? = nil, omitted: [String]? = nil) {
        self.profile = profile
        self.activity = activity
        self.activityOutcome = activityOutcome
        self.scores = scores
        self.omitted = omitted
    }

    /// No output (a failed phase).
    public static let empty = PhasePayload()

    private enum CodingKeys: String, CodingKey {
        case profile, activity, activityOutcome, scores, omitted
    }

    /// Encodes the payload; the activity without its plain text, which repeats the posts and
    /// would travel in the result, the scoring and finalize requests: the stages that put the
    /// profile together render it again (``Activity/init(from:)``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(profile, forKey: .profile)
        try container.encodeIfPresent(activity.map(Activity.WithoutPlainText.init), forKey: .activity)
        try container.encodeIfPresent(activityOutcome, forKey: .activityOutcome)
        try container.encodeIfPresent(scores, forKey: .scores)
        try container.encodeIfPresent(omitted, forKey: .omitted)
    }
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
    /// Version 4: a finalize held by a billing pause says so (``PhaseOutcome/waitsForBilling(reason:)``).
    /// Version 3: an activity payload carries no plain text (``PhasePayload``). Version 2: a
    /// finalize result names where its pool entry went (``poolEntry``).
    public static let schemaVersion = 4
    /// Versions 1 to 4 (a version 1 result names no pool entry; before 3 an activity carries
    /// its plain text, which is read as before).
    public static let supportedVersions = 1...4

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
    /// Finalize: where the run's pool entry is, which the stage wrote before this result. Nil
    /// for other phases, and for a retried attempt that wrote no second entry.
    public var poolEntry: RecordPosition?

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

/// A `phase.result` as the coordinator reads it: everything but the payload read, the payload
/// kept as the JSON the stage wrote (``PhaseOutput``), to pass on into the requests unread. The
/// same records and versions as ``PhaseResult``.
public struct PhaseResultEnvelope: Message, Hashable {
    /// ``PhaseResult``'s schema.
    public static let schemaName = PhaseResult.schemaName
    /// ``PhaseResult``'s version.
    public static let schemaVersion = PhaseResult.schemaVersion
    /// ``PhaseResult``'s versions.
    public static var supportedVersions: ClosedRange<Int> { PhaseResult.supportedVersions }

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
    /// The phase's output, unread.
    public var payload: RawJSON
    /// Provider calls to bill for this phase.
    public var charges: [BillableCharge]
    /// When the stage finished.
    public var finishedAt: Date
    /// The stage instance that answered.
    public var service: String
    /// Finalize: where the run's pool entry is (``PhaseResult/poolEntry``).
    public var poolEntry: RecordPosition?

    /// `result` as a coordinator reads it from its record.
    public init(_ result: PhaseResult) throws {
        leadID = result.leadID
        runID = result.runID
        phase = result.phase
        attempt = result.attempt
        outcome = result.outcome
        payload = try RawJSON(encoding: result.payload)
        charges = result.charges
        finishedAt = result.finishedAt
        service = result.service
        poolEntry = result.poolEntry
    }

    /// The attempt this result answers.
    public var attemptKey: PhaseAttemptKey {
        PhaseAttemptKey(leadID: leadID, runID: runID, phase: phase, attempt: attempt)
    }
}
