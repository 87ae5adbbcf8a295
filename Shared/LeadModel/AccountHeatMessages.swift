import Foundation

/// One buying signal found in a lead's posts or orbit (detected by the pipeline's signal
/// detector against an offer); what a lead contributes to its company's heat.
public struct BuyingSignal: Codable, Hashable, Sendable {
    /// A kind of signal.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// The post names one of the offer's pain points.
        case painPoint = "pain-point"
        /// The post names a competitor.
        case competitorMention = "competitor-mention"
        /// The post asks for recommendations or tools.
        case recommendationRequest = "recommendation-request"
        /// The post talks about switching from, replacing, or being fed up with a tool.
        case switchingIntent = "switching-intent"
        /// The post contains one of the offer's custom intent keywords.
        case customKeyword = "custom-keyword"
        /// The post says the company is hiring.
        case hiring
        /// The post announces funding or an IPO.
        case funding
        /// The post announces a product launch.
        case productLaunch = "product-launch"
        /// The lead builds the offer's equivalent in-house.
        case inHouseBuild = "in-house-build"
        /// The lead engages with a competitor's account.
        case competitorEngagement = "competitor-engagement"
        /// The lead engages with an adjacent vendor's account.
        case adjacentEngagement = "adjacent-engagement"
        /// The lead engages with several accounts together, recently, in a cluster new within the
        /// window and without a competitor (the pipeline's `OrbitClusters`).
        case orbitCluster = "orbit-cluster"
        /// The lead engages with several accounts together, recently, a competitor among them.
        case competitorCluster = "competitor-cluster"
    }

    /// The kind.
    public var kind: Kind
    /// What matched (the phrase, competitor or account; for a cluster its accounts' names,
    /// "Outreach and Apollo").
    public var detail: String
    /// When the evidence happened (post date, orbit or cluster last-seen).
    public var date: Date
    /// The post, when the evidence is a post.
    public var postID: String?
    /// For orbit signals: the interaction count (a cluster's: all its targets').
    public var count: Int

    /// Creates a signal.
    public init(kind: Kind, detail: String, date: Date, postID: String? = nil, count: Int = 1) {
        self.kind = kind
        self.detail = detail
        self.date = date
        self.postID = postID
        self.count = count
    }
}

/// One scored lead's contribution to its account's heat (topic ``Topics/accountSignalContributions``;
/// key: account id, so every contribution of an account reaches the one aggregator owning it).
///
/// Written by the scoring stage for every scored lead, read by the account heat aggregator. The
/// latest contribution of a lead replaces its earlier ones; a contribution whose lead and run
/// were already counted is a replay and changes nothing.
public struct AccountSignalContribution: Message, Hashable {
    /// `account.signal.contribution`.
    public static let schemaName = "account.signal.contribution"
    /// Version 1.
    public static let schemaVersion = 1

    /// The account the lead belongs to (the record key).
    public var accountID: AccountID
    /// The lead.
    public var leadID: LeadID
    /// The run that scored the lead.
    public var runID: RunID
    /// The offer the signals were detected against.
    public var offerID: OfferID
    /// The lead's company: `li:<LinkedIn company id>` or `name:<normalised name>`; nil when the
    /// company is missing or generic (the lead then leaves the company it counted at, if any).
    public var companyKey: String?
    /// A display name of the company.
    public var companyName: String?
    /// Who the lead is: `linkedin:<handle>`, else `x:<handle>` (handles without percent escapes,
    /// lowercased), from the profile's URLs; nil without one. Leads of one person (a lead and its
    /// pool match in another offer, a person found by two searches) count as one person at a
    /// company; a lead without a person key is a person of its own. Added within version 2.
    public var personKey: String?
    /// The signals detected in the lead's posts and orbit.
    public var signals: [BuyingSignal]
    /// The signals of the lead's orbit clusters (kinds `orbit-cluster`, `competitor-cluster`);
    /// nil when it has none. Kept apart from ``signals`` so that a reader built before these kinds,
    /// which cannot decode them, ignores the field instead of rejecting the contribution.
    public var clusterSignals: [BuyingSignal]?
    /// When the lead was scored: the time its heat is computed at.
    public var scoredAt: Date

    /// Creates a contribution.
    public init(
        accountID: AccountID, leadID: LeadID, runID: RunID, offerID: OfferID, companyKey: String?, companyName: String?,
        personKey: String? = nil, signals: [BuyingSignal], clusterSignals: [BuyingSignal]? = nil, scoredAt: Date
    ) {
        self.accountID = accountID
        self.leadID = leadID
        self.runID = runID
        self.offerID = offerID
        self.companyKey = companyKey
        self.companyName = companyName
        self.personKey = personKey
        self.signals = signals
        self.clusterSignals = clusterSignals
        self.scoredAt = scoredAt
    }

    /// ``signals`` then ``clusterSignals``: everything the lead's heat counts.
    public var allSignals: [BuyingSignal] { signals + (clusterSignals ?? []) }
}

/// The heat contributions of leads of one account that a scoring stage finished close together,
/// in one record: version 2 of `account.signal.contribution` (topic
/// ``Topics/accountSignalContributions``; key: the account id). The aggregator applies them in
/// order, as it would the same contributions in records of their own; a version 1 record holds one
/// contribution (``AccountSignalContribution``) and is read as a batch of one.
public struct AccountSignalContributionBatch: Message, Hashable {
    /// `account.signal.contribution`, as version 1.
    public static let schemaName = AccountSignalContribution.schemaName
    /// Version 2.
    public static let schemaVersion = 2

    /// The account (the record key); every contribution's ``AccountSignalContribution/accountID``.
    public var accountID: AccountID
    /// The contributions, in the order they were scored; at least one.
    public var contributions: [AccountSignalContribution]

    /// Creates a batch.
    public init(accountID: AccountID, contributions: [AccountSignalContribution]) {
        self.accountID = accountID
        self.contributions = contributions
    }

    /// At least one contribution, each of ``accountID``.
    public func validate() throws {
        guard !contributions.isEmpty else { throw DecodeError.invalidContent("a batch of no contributions") }
        if let other = contributions.first(where: { $0.accountID != accountID }) {
            throw DecodeError.invalidContent("a contribution of account \(other.accountID) in a batch of account \(accountID)")
        }
    }
}

/// A lead's current contribution at a company, as the aggregator keeps it.
public struct HeatContribution: Codable, Hashable, Sendable {
    /// The lead.
    public var leadID: LeadID
    /// The run whose contribution this is.
    public var runID: RunID
    /// When that run scored the lead.
    public var scoredAt: Date
    /// Who the lead is (``AccountSignalContribution/personKey``); nil: a person of its own.
    public var personKey: String?
    /// The lead's signals.
    public var signals: [BuyingSignal]
    /// The lead's orbit cluster signals, apart for the reason given at
    /// ``AccountSignalContribution/clusterSignals``; nil when none.
    public var clusterSignals: [BuyingSignal]?

    /// Creates an entry.
    public init(leadID: LeadID, runID: RunID, scoredAt: Date, personKey: String? = nil, signals: [BuyingSignal],
                clusterSignals: [BuyingSignal]? = nil) {
        self.leadID = leadID
        self.runID = runID
        self.scoredAt = scoredAt
        self.personKey = personKey
        self.signals = signals
        self.clusterSignals = clusterSignals
    }

    /// ``signals`` then ``clusterSignals``: everything the lead's heat counts.
    public var allSignals: [BuyingSignal] { signals + (clusterSignals ?? []) }
}

/// A contribution already counted, kept so that its replay is recognised.
public struct CountedContribution: Codable, Hashable, Sendable {
    /// The lead.
    public var leadID: LeadID
    /// The run.
    public var runID: RunID
    /// When the run scored the lead; entries older than the aggregator's window are dropped.
    public var scoredAt: Date

    /// Creates an entry.
    public init(leadID: LeadID, runID: RunID, scoredAt: Date) {
        self.leadID = leadID
        self.runID = runID
        self.scoredAt = scoredAt
    }
}

/// The heat state of one company of one account: the changelog record of the account heat
/// aggregator (topic ``Topics/accountHeat``, compacted; key ``changelogKey``, written to the
/// partition of the account's contributions). Read back whole when an aggregator takes over the
/// partition, and readable by anyone as the heat table.
public struct AccountHeatState: Message, Hashable {
    /// `account.heat`.
    public static let schemaName = "account.heat"
    /// Version 1.
    public static let schemaVersion = 1

    /// The account.
    public var accountID: AccountID
    /// The company: `li:<id>` or `name:<normalised name>`.
    public var companyKey: String
    /// A display name.
    public var companyName: String
    /// Each lead's current contribution at this company, oldest first (by `scoredAt`, then lead
    /// id; a record written before that order was kept is sorted when it is restored).
    public var leads: [HeatContribution]
    /// The contributions (lead and run) counted by this company's changes within the window,
    /// including those of leads that left it; oldest first, as ``leads``.
    public var counted: [CountedContribution]
    /// The heat last computed (two or more people), nil before.
    public var heatScore: Int?
    /// The UTC day (days since 1970) ``heatScore`` was computed on.
    public var heatDay: Int?
    /// The heat on the last day before ``heatDay`` it was computed: the trend's reference.
    public var earlierDayHeat: Int?
    /// The account signal last published for the company.
    public var published: AccountSignal?
    /// The latest contribution time applied.
    public var updatedAt: Date

    /// Creates a state.
    public init(
        accountID: AccountID, companyKey: String, companyName: String, leads: [HeatContribution] = [],
        counted: [CountedContribution] = [], heatScore: Int? = nil, heatDay: Int? = nil, earlierDayHeat: Int? = nil,
        published: AccountSignal? = nil, updatedAt: Date
    ) {
        self.accountID = accountID
        self.companyKey = companyKey
        self.companyName = companyName
        self.leads = leads
        self.counted = counted
        self.heatScore = heatScore
        self.heatDay = heatDay
        self.earlierDayHeat = earlierDayHeat
        self.published = published
        self.updatedAt = updatedAt
    }

    /// The days a ``heatDay`` may name: from 1970 to the last day a date of the codec can fall on
    /// (9999-12-31; ``ISO8601``).
    public static let heatDays: ClosedRange<Int> = 0...2_932_896

    /// Heats (``heatScore``, ``earlierDayHeat``, the published signal's) 0 to 100, as the
    /// aggregator computes them, and ``heatDay`` one of ``heatDays``: the aggregator subtracts
    /// heats and turns the day into a date and back, and reads the changelog at every start, so
    /// a record of another kind is refused (and skipped by the restore), not computed with.
    public func validate() throws {
        for (field, heat) in [("heatScore", heatScore), ("earlierDayHeat", earlierDayHeat), ("published.heatScore", published?.heatScore)] {
            if let heat { try CountBound.check(heat, field, in: 0...100) }
        }
        if let heatDay { try CountBound.check(heatDay, "heatDay", in: Self.heatDays) }
    }

    /// The changelog key: `<account id>|<company key>`.
    public var changelogKey: String { Self.changelogKey(accountID: accountID, companyKey: companyKey) }

    /// The changelog key of a company of an account.
    public static func changelogKey(accountID: AccountID, companyKey: String) -> String {
        "\(accountID.rawValue)|\(companyKey)"
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
    /// How many people the company's leads are (leads of one person count once:
    /// ``AccountSignalContribution/personKey``).
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
