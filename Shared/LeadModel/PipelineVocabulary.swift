/// A phase of the pipeline. Phases always run in this declaration order; a mode selects a subset.
public enum Phase: String, Codable, Sendable, CaseIterable, Comparable {
    /// LinkedIn and X profile enrichment, concurrently, each only when that URL exists.
    case profile
    /// Recent posts, the interaction orbit and the signal date.
    case activity
    /// Fit, intent and timing scores, account signals and the autopilot check.
    case scoring
    /// Status ready, the lead pool write and the search completion check.
    case finalize

    /// Orders phases by their position in the pipeline.
    public static func < (lhs: Phase, rhs: Phase) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }

    /// Whether the phase calls paid providers, and so waits while the account's billing is paused.
    public var isPaid: Bool {
        switch self {
        case .profile, .activity, .scoring: true
        case .finalize: false
        }
    }

    /// Whether the phase's stage reads the enriched profile: scoring scores it, finalize writes
    /// it to the lead pool. The profile and activity stages read only the lead's profile URLs.
    public var readsEnrichedProfile: Bool { self == .scoring || self == .finalize }
}

/// A social platform a lead can be enriched from.
public enum Platform: String, Codable, Sendable, CaseIterable, Comparable {
    /// LinkedIn.
    case linkedin
    /// X (formerly Twitter).
    case x

    /// Orders platforms by declaration order (LinkedIn first: it is preferred for activity).
    public static func < (lhs: Platform, rhs: Platform) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// What a manual re-enrich asks to refresh.
public enum ReEnrichType: String, Codable, Sendable, CaseIterable, Comparable {
    /// The LinkedIn profile (profile phase, LinkedIn only).
    case linkedin
    /// The X profile (profile phase, X only).
    case x
    /// Recent posts and orbit (activity phase).
    case activity

    /// Orders types by declaration order.
    public static func < (lhs: ReEnrichType, rhs: ReEnrichType) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// The wire name of a mode, as written in `LeadDiscovered.mode`.
public enum ModeName: String, Codable, Sendable, CaseIterable {
    /// See ``Mode/full``.
    case full
    /// See ``Mode/scoringOnly``.
    case scoringOnly = "scoring-only"
    /// See ``Mode/enrichOnly``.
    case enrichOnly = "enrich-only"
    /// See ``Mode/reEnrich(_:)``.
    case reEnrich = "re-enrich"
    /// See ``Mode/noOp``.
    case noOp = "no-op"
}

/// Which phases a run goes through.
///
/// Encoded as `{"name": "<mode name>"}`, plus `"types": [...]` for re-enrich.
public enum Mode: Codable, Sendable, Hashable, CustomStringConvertible {
    /// Profile, activity, scoring, finalize: the default for new leads.
    case full
    /// Scoring and finalize: lead pool matches, which are already enriched.
    case scoringOnly
    /// Profile, activity, finalize: enrichment without scoring.
    case enrichOnly
    /// Only the selected types (LinkedIn/X limit the profile phase to those platforms; activity
    /// runs the activity phase), then finalize.
    case reEnrich(Set<ReEnrichType>)
    /// Finalize only: the lead is ready at once.
    case noOp

    /// The wire name of the mode.
    public var name: ModeName {
        switch self {
        case .full: .full
        case .scoringOnly: .scoringOnly
        case .enrichOnly: .enrichOnly
        case .reEnrich: .reEnrich
        case .noOp: .noOp
        }
    }

    /// The phases this mode runs, in pipeline order. Always ends with finalize.
    public var phases: [Phase] {
        switch self {
        case .full: [.profile, .activity, .scoring, .finalize]
        case .scoringOnly: [.scoring, .finalize]
        case .enrichOnly: [.profile, .activity, .finalize]
        case .noOp: [.finalize]
        case .reEnrich(let types):
            (types.contains(.linkedin) || types.contains(.x) ? [.profile] : [])
                + (types.contains(.activity) ? [.activity] : [])
                + [.finalize]
        }
    }

    /// The platforms the profile phase may enrich under this mode (before looking at which URLs
    /// the lead has).
    public var profilePlatforms: Set<Platform> {
        switch self {
        case .full, .enrichOnly: Set(Platform.allCases)
        case .scoringOnly, .noOp: []
        case .reEnrich(let types):
            Set(types.compactMap { type in
                switch type {
                case .linkedin: Platform.linkedin
                case .x: Platform.x
                case .activity: nil
                }
            })
        }
    }

    /// The mode's wire name, with re-enrich types in brackets, e.g. `re-enrich[linkedin,x]`.
    public var description: String {
        if case .reEnrich(let types) = self {
            return "re-enrich[\(types.sorted().map(\.rawValue).joined(separator: ","))]"
        }
        return name.rawValue
    }

    /// Builds a mode from its wire name and, for re-enrich, its types.
    /// Returns nil for re-enrich without types.
    public init?(name: ModeName, reEnrichTypes: [ReEnrichType]?) {
        switch name {
        case .full: self = .full
        case .scoringOnly: self = .scoringOnly
        case .enrichOnly: self = .enrichOnly
        case .noOp: self = .noOp
        case .reEnrich:
            guard let types = reEnrichTypes, !types.isEmpty else { return nil }
            self = .reEnrich(Set(types))
        }
    }

    private enum CodingKeys: String, CodingKey {
        case name, types
    }

    /// Decodes `{"name": ..., "types": [...]}`; re-enrich requires at least one type.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(ModeName.self, forKey: .name)
        let types = try container.decodeIfPresent([ReEnrichType].self, forKey: .types)
        guard let mode = Mode(name: name, reEnrichTypes: types) else {
            throw DecodingError.dataCorruptedError(
                forKey: .types, in: container,
                debugDescription: "re-enrich needs at least one of linkedin, x, activity")
        }
        self = mode
    }

    /// Encodes `{"name": ..., "types": [...]}` (types only for re-enrich, sorted).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        if case .reEnrich(let types) = self {
            try container.encode(types.sorted(), forKey: .types)
        }
    }
}

/// Where a lead is in the pipeline, as shown to people.
public enum LeadStatus: String, Codable, Sendable, CaseIterable {
    /// Queued, not started.
    case pending
    /// A phase is running or about to be retried.
    case processing
    /// Finished; written to the lead pool.
    case ready
    /// Waiting before a paid phase (or, with the account's autopilot on, a retry of finalize
    /// that may enroll the lead) until the account's billing resumes.
    case billingPaused = "billing-paused"
    /// Deferred until the account's outreach window opens.
    case outsideOutreachWindow = "outside-outreach-window"
    /// Refused at discovery (dead-lettered with the reason, which its history keeps): it never
    /// ran, and counts as refused for its search. Discovered again, it runs if nothing refuses it.
    case refused
}

/// How lead discovery found a lead.
public enum LeadSource: String, Codable, Sendable, CaseIterable {
    /// A keyword search over posts: the lead wrote about something relevant.
    case keywordSearch = "keyword-search"
    /// An intent-signal search (e.g. asked for a recommendation, engaged with a competitor).
    case intentSearch = "intent-search"
    /// Engaged with a competitor's content.
    case competitorEngagement = "competitor-engagement"
    /// Imported from a CSV file.
    case csvImport = "csv-import"
    /// Extracted from an account's followers.
    case followerExtraction = "follower-extraction"
    /// Matched from the lead pool against a new offer (runs scoring only).
    case leadPool = "lead-pool"
    /// Entered by a person.
    case manual

    /// Whether the source itself is evidence of intent: such leads start with some intent and
    /// travel on the priority request topics.
    public var isIntent: Bool {
        switch self {
        case .keywordSearch, .intentSearch, .competitorEngagement: true
        case .csvImport, .followerExtraction, .leadPool, .manual: false
        }
    }
}

/// The outreach readiness of a scored lead.
public enum BuyerState: String, Codable, Sendable, CaseIterable {
    /// Ready for outreach; the only state autopilot enrolls.
    case active
    /// Potential; rechecked on a schedule.
    case monitor
    /// Does not match the offer (or works for a competitor, or builds the same thing in-house).
    case poorFit = "poor-fit"
    /// Excluded from automatic rescoring.
    case disqualified
    /// A person overrode scoring; protected from automatic rescoring.
    case manual
    /// Enrichment or scoring has not finished.
    case notScored = "not-scored"
}

/// A seniority level, from a job title or an ideal customer profile.
public enum Seniority: String, Codable, Sendable, CaseIterable, Comparable {
    /// Individual contributor.
    case entry
    /// Senior or lead individual contributor.
    case senior
    /// People manager.
    case manager
    /// Director or head of a function.
    case director
    /// Vice president.
    case vp
    /// C-level executive.
    case cLevel = "c-level"
    /// Founder or owner.
    case founder

    /// Orders seniorities from junior to senior.
    public static func < (lhs: Seniority, rhs: Seniority) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }

    /// Infers the seniority of a job title ("VP of Sales" → vp); nil when the title says nothing.
    public static func infer(fromTitle title: String) -> Seniority? {
        let words = Set(
            title.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init))
        let lowered = title.lowercased()
        if words.contains("founder") || words.contains("cofounder") || lowered.contains("co-founder")
            || words.contains("owner")
        {
            return .founder
        }
        if ["ceo", "cto", "cfo", "coo", "cmo", "cro", "cio", "ciso", "cpo"].contains(where: words.contains)
            || lowered.contains("chief ")
        {
            return .cLevel
        }
        if words.contains("vp") || lowered.contains("vice president") || words.contains("svp")
            || words.contains("evp")
        {
            return .vp
        }
        if words.contains("director") || words.contains("head") { return .director }
        if words.contains("manager") || words.contains("lead") && words.contains("team") { return .manager }
        if words.contains("senior") || words.contains("sr") || words.contains("principal")
            || words.contains("staff") || words.contains("lead")
        {
            return .senior
        }
        if words.isEmpty { return nil }
        return .entry
    }
}

/// How likely the offer's buyers are to show public signals; chooses the composite weights.
public enum SignalLikelihood: String, Codable, Sendable, CaseIterable {
    /// Buyers talk publicly about the problem: intent weighs most.
    case high
    /// Some public signal.
    case medium
    /// Little public signal: fit weighs most.
    case low

    /// The composite weights (fit, intent, timing); they sum to 1.
    public var weights: (fit: Double, intent: Double, timing: Double) {
        switch self {
        case .high: (0.30, 0.45, 0.25)
        case .medium: (0.45, 0.40, 0.15)
        case .low: (0.55, 0.30, 0.15)
        }
    }
}
