import Foundation

/// An X profile as enrichment returns it.
public struct XProfile: Codable, Hashable, Sendable {
    /// X's numeric user id.
    public var userID: String
    /// Display name.
    public var name: String
    /// Username (from the URL).
    public var username: String
    /// Bio text.
    public var bio: String
    /// Follower count.
    public var followersCount: Int
    /// Following count.
    public var followingCount: Int
    /// Whether the account is verified.
    public var isVerified: Bool
    /// Profile image URL, if any.
    public var profileImageURL: String?
    /// Whether a DM lands in the inbox without a follow.
    public var canDM: Bool
    /// Protected accounts expose little data.
    public var isProtected: Bool
    /// The free-text location the user gives, if any (X's `location` user field).
    public var location: String?
    /// The link in the profile, if any (X's `url` user field): often the employer's site.
    public var url: String?

    /// Creates a profile.
    public init(
        userID: String, name: String, username: String, bio: String, followersCount: Int,
        followingCount: Int, isVerified: Bool, profileImageURL: String?, canDM: Bool, isProtected: Bool,
        location: String? = nil, url: String? = nil
    ) {
        self.location = location
        self.url = url
        self.userID = userID
        self.name = name
        self.username = username
        self.bio = bio
        self.followersCount = followersCount
        self.followingCount = followingCount
        self.isVerified = isVerified
        self.profileImageURL = profileImageURL
        self.canDM = canDM
        self.isProtected = isProtected
    }
}

/// One position in a LinkedIn work history.
public struct Experience: Codable, Hashable, Sendable {
    /// Company name.
    public var company: String
    /// LinkedIn company id, when known.
    public var companyLinkedInID: String?
    /// Job title.
    public var title: String
    /// Start of the position.
    public var startDate: Date?
    /// End of the position; nil while current.
    public var endDate: Date?

    /// Creates a position.
    public init(company: String, companyLinkedInID: String? = nil, title: String, startDate: Date?, endDate: Date? = nil) {
        self.company = company
        self.companyLinkedInID = companyLinkedInID
        self.title = title
        self.startDate = startDate
        self.endDate = endDate
    }

    /// Whether this is a current position (no end date).
    public var isCurrent: Bool { endDate == nil }
}

/// One education entry.
public struct Education: Codable, Hashable, Sendable {
    /// School name.
    public var school: String
    /// Degree, e.g. "BSc".
    public var degree: String?
    /// Field of study.
    public var field: String?
    /// Year finished.
    public var endYear: Int?

    /// Creates an entry.
    public init(school: String, degree: String? = nil, field: String? = nil, endYear: Int? = nil) {
        self.school = school
        self.degree = degree
        self.field = field
        self.endYear = endYear
    }
}

/// A LinkedIn person profile as enrichment returns it.
public struct LinkedInProfile: Codable, Hashable, Sendable {
    /// The public identifier (the handle in the URL).
    public var publicIdentifier: String
    /// Full name.
    public var fullName: String
    /// Headline.
    public var headline: String
    /// Current job title.
    public var jobTitle: String
    /// Current company name.
    public var company: String
    /// Current company's LinkedIn id, when known.
    public var companyLinkedInID: String?
    /// Location, e.g. "San Francisco, CA, United States".
    public var location: String
    /// Work history, most recent first.
    public var experiences: [Experience]
    /// Education.
    public var education: [Education]
    /// Skills.
    public var skills: [String]
    /// Certifications.
    public var certifications: [String]
    /// Languages.
    public var languages: [String]
    /// Connection count.
    public var connections: Int
    /// Follower count.
    public var followers: Int
    /// Which data vendor gave which group of fields, and how sure it was; nil when the profile
    /// came from one source that records none (the simulation, a single profile API).
    public var sources: [FieldSource]?

    /// Creates a profile.
    public init(
        publicIdentifier: String, fullName: String, headline: String, jobTitle: String, company: String,
        companyLinkedInID: String?, location: String, experiences: [Experience], education: [Education],
        skills: [String], certifications: [String], languages: [String], connections: Int, followers: Int
    ) {
        self.publicIdentifier = publicIdentifier
        self.fullName = fullName
        self.headline = headline
        self.jobTitle = jobTitle
        self.company = company
        self.companyLinkedInID = companyLinkedInID
        self.location = location
        self.experiences = experiences
        self.education = education
        self.skills = skills
        self.certifications = certifications
        self.languages = languages
        self.connections = connections
        self.followers = followers
    }

    /// The current position: the current experience with the latest start, if any.
    public var currentExperience: Experience? {
        experiences.filter(\.isCurrent).max { ($0.startDate ?? .distantPast) < ($1.startDate ?? .distantPast) }
    }
}

/// Where a group of a profile's fields came from.
public struct FieldSource: Codable, Hashable, Sendable {
    /// The groups of fields a vendor waterfall fills.
    public enum Group: String, Codable, Hashable, Sendable, CaseIterable {
        /// Name, headline, title, location, history: who the person is and their role.
        case identity
        /// The current company's details (size, industry, domain, revenue).
        case company
    }

    /// The group of fields.
    public var group: Group
    /// The vendor that gave them (`pdl`, `apollo`, `profile-api`).
    public var vendor: String
    /// The vendor's match confidence, 0...1.
    public var confidence: Double

    /// Creates a source.
    public init(group: Group, vendor: String, confidence: Double) {
        self.group = group
        self.vendor = vendor
        self.confidence = confidence
    }
}

/// A company, from LinkedIn or the web.
public struct Company: Codable, Hashable, Sendable {
    /// Name.
    public var name: String
    /// LinkedIn company id, when known.
    public var linkedInID: String?
    /// Employee count.
    public var employeeCount: Int?
    /// The head count as a band, when a vendor gives only that (People Data Labs' "51-200");
    /// nil when ``employeeCount`` is known.
    public var employeeRange: EmployeeRange?
    /// Annual revenue in US dollars.
    public var revenueUSD: Int?
    /// Industry, e.g. "Computer Software".
    public var industry: String?
    /// Web domain.
    public var domain: String?
    /// Headquarters location.
    public var headquarters: String?

    /// Creates a company.
    public init(
        name: String, linkedInID: String? = nil, employeeCount: Int? = nil, employeeRange: EmployeeRange? = nil,
        revenueUSD: Int? = nil, industry: String? = nil, domain: String? = nil, headquarters: String? = nil
    ) {
        self.name = name
        self.linkedInID = linkedInID
        self.employeeCount = employeeCount
        self.employeeRange = employeeRange
        self.revenueUSD = revenueUSD
        self.industry = industry
        self.domain = domain
        self.headquarters = headquarters
    }
}

/// A head count between two bounds: a vendor's size band ("51-200", "10001+"), or an exact count
/// (both bounds the count).
public struct EmployeeRange: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The fewest employees.
    public var minimum: Int
    /// The most; nil for an open band ("10001+").
    public var maximum: Int?

    /// Creates a band; `maximum` at least `minimum`.
    public init(minimum: Int, maximum: Int?) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// An exact count.
    public init(exactly count: Int) {
        self.init(minimum: count, maximum: count)
    }

    /// A vendor's band from its bounds (no maximum: an open band, "10001+"); nil unless
    /// 0 ≤ minimum ≤ maximum.
    public init?(vendorMinimum minimum: Int, maximum: Int?) {
        guard minimum >= 0, maximum.map({ minimum <= $0 }) ?? true else { return nil }
        self.init(minimum: minimum, maximum: maximum)
    }

    /// A vendor's band written out, "51-200" or "10001+"; nil for anything else.
    public init?(band: String) {
        if band.hasSuffix("+"), let minimum = Int(band.dropLast()) {
            self.init(vendorMinimum: minimum, maximum: nil)
            return
        }
        let bounds = band.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let minimum = Int(bounds[0]), let maximum = Int(bounds[1]) else { return nil }
        self.init(vendorMinimum: minimum, maximum: maximum)
    }

    /// "51-200", "10001+", or the count when exact.
    public var description: String {
        guard let maximum else { return "\(minimum)+" }
        return maximum == minimum ? String(minimum) : "\(minimum)-\(maximum)"
    }

    private enum CodingKeys: String, CodingKey {
        case minimum, maximum
    }

    /// Reads a band; refuses one no company has (a negative minimum, a maximum under the minimum).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let minimum = try container.decode(Int.self, forKey: .minimum)
        let maximum = try container.decodeIfPresent(Int.self, forKey: .maximum)
        guard let range = EmployeeRange(vendorMinimum: minimum, maximum: maximum) else {
            throw DecodingError.dataCorruptedError(
                forKey: .minimum, in: container, debugDescription: "a size band needs 0 ≤ minimum ≤ maximum, not \(minimum) and \(maximum.map(String.init) ?? "none")")
        }
        self = range
    }
}

/// A public post by the lead.
public struct Post: Codable, Hashable, Sendable {
    /// Platform post id.
    public var id: String
    /// Where it was posted.
    public var platform: Platform
    /// When it was posted.
    public var date: Date
    /// The text.
    public var text: String
    /// Likes.
    public var likes: Int
    /// Replies / comments.
    public var replies: Int
    /// Reposts / shares.
    public var reposts: Int
    /// Link to the post.
    public var url: String

    /// Creates a post.
    public init(id: String, platform: Platform, date: Date, text: String, likes: Int, replies: Int, reposts: Int, url: String) {
        self.id = id
        self.platform = platform
        self.date = date
        self.text = text
        self.likes = likes
        self.replies = replies
        self.reposts = reposts
        self.url = url
    }
}

/// What an account the lead interacts with is, relative to the offer.
public enum OrbitClassification: String, Codable, Sendable, CaseIterable {
    /// On the offer's competitor list.
    case competitor
    /// A vendor in a neighbouring space.
    case adjacentVendor = "adjacent-vendor"
    /// A widely followed voice in the field.
    case thoughtLeader = "thought-leader"
    /// Anyone else: a peer.
    case peer
}

/// An account in the lead's interaction orbit (whom the lead replies to or engages with).
public struct OrbitTarget: Codable, Hashable, Sendable {
    /// Platform of the interaction.
    public var platform: Platform
    /// The target's handle.
    public var handle: String
    /// The target's display name.
    public var name: String
    /// Competitor, adjacent vendor, thought leader or peer.
    public var classification: OrbitClassification
    /// How many interactions were seen.
    public var interactionCount: Int
    /// First interaction seen.
    public var firstSeen: Date
    /// Last interaction seen.
    public var lastSeen: Date

    /// Creates a target.
    public init(
        platform: Platform, handle: String, name: String, classification: OrbitClassification,
        interactionCount: Int, firstSeen: Date, lastSeen: Date
    ) {
        self.platform = platform
        self.handle = handle
        self.name = name
        self.classification = classification
        self.interactionCount = interactionCount
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

/// Orbit targets the lead engaged with together within a recent window (DOMAIN: a new cluster is
/// an intent signal, a competitor cluster the strongest).
public struct OrbitCluster: Codable, Hashable, Sendable {
    /// The targets' handles, sorted.
    public var handles: [String]
    /// Whether a competitor is among the targets.
    public var hasCompetitor: Bool
    /// Interactions with the targets, all together.
    public var interactionCount: Int
    /// The first interaction with any of the targets.
    public var firstSeen: Date
    /// The last interaction with any of the targets.
    public var lastSeen: Date
    /// Interactions per week over the cluster's span (at least one week).
    public var velocityPerWeek: Double
    /// Whether the cluster formed within the recent window (all its targets first seen in it).
    public var isNew: Bool
    /// The targets' display names, in the order of ``handles``; nil in records written before
    /// names were kept (readers then show the handles).
    public var names: [String]?

    /// Creates a cluster.
    public init(
        handles: [String], hasCompetitor: Bool, interactionCount: Int, firstSeen: Date, lastSeen: Date,
        velocityPerWeek: Double, isNew: Bool, names: [String]? = nil
    ) {
        self.handles = handles
        self.hasCompetitor = hasCompetitor
        self.interactionCount = interactionCount
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.velocityPerWeek = velocityPerWeek
        self.isNew = isNew
        self.names = names
    }
}

/// The lead's recent activity.
public struct Activity: Codable, Hashable, Sendable {
    /// Recent posts, newest first, none older than the horizon (about six months).
    public var posts: [Post]
    /// The posts as plain text with date labels, for a language model.
    public var plainText: String
    /// Whom the lead interacts with.
    public var orbit: [OrbitTarget]
    /// The newest post's date, if any.
    public var signalDate: Date?
    /// Targets of the orbit engaged together within a recent window; nil when not computed.
    public var clusters: [OrbitCluster]?

    /// Creates an activity record.
    public init(posts: [Post], plainText: String, orbit: [OrbitTarget], signalDate: Date?, clusters: [OrbitCluster]? = nil) {
        self.posts = posts
        self.plainText = plainText
        self.orbit = orbit
        self.signalDate = signalDate
        self.clusters = clusters
    }

    /// No posts and no orbit.
    public static let empty = Activity(posts: [], plainText: "", orbit: [], signalDate: nil)

    private enum CodingKeys: String, CodingKey {
        case posts, plainText, orbit, signalDate, clusters
    }

    /// Decodes an activity. One without `plainText` (as a phase result carries it,
    /// ``PhasePayload``) reads with an empty text, rendered again where the profile is put
    /// together.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        posts = try container.decode([Post].self, forKey: .posts)
        plainText = try container.decodeIfPresent(String.self, forKey: .plainText) ?? ""
        orbit = try container.decode([OrbitTarget].self, forKey: .orbit)
        signalDate = try container.decodeIfPresent(Date.self, forKey: .signalDate)
        clusters = try container.decodeIfPresent([OrbitCluster].self, forKey: .clusters)
    }

    /// The activity as a phase result carries it: without `plainText`, which is the posts again.
    struct WithoutPlainText: Encodable {
        let activity: Activity

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(activity.posts, forKey: .posts)
            try container.encode(activity.orbit, forKey: .orbit)
            try container.encodeIfPresent(activity.signalDate, forKey: .signalDate)
            try container.encodeIfPresent(activity.clusters, forKey: .clusters)
        }
    }
}

/// One signal that moved a score, with the points it added (negative when it lowered it).
public struct ScoreReason: Codable, Hashable, Sendable, CustomStringConvertible {
    /// What was seen, e.g. "post mentions pain point \"manual prospecting\" (12 days ago)".
    public var signal: String
    /// Points added to the score.
    public var points: Int
    /// Where the evidence came from: `linkedin`, `x`, `company`, `web`, `activity`, `source`
    /// (how the lead was found) or nil when the reason is about the offer alone.
    public var source: String?

    /// Creates a reason.
    public init(signal: String, points: Int, source: String? = nil) {
        self.signal = signal
        self.points = points
        self.source = source
    }

    /// `+20 signal` / `-10 signal`.
    public var description: String { (points >= 0 ? "+\(points) " : "\(points) ") + signal }
}

/// Scores of a lead against an offer, with the reasons for each.
public struct ScoreCard: Codable, Hashable, Sendable {
    /// Fit against the ideal customer profile, 0-100.
    public var fit: Int
    /// Intent, 0-100.
    public var intent: Int
    /// Timing, 0-100.
    public var timing: Int
    /// Weighted composite by the offer's signal likelihood, 0-100.
    public var composite: Int
    /// The resulting buyer state.
    public var buyerState: BuyerState
    /// Why fit is what it is.
    public var fitReasons: [ScoreReason]
    /// Why intent is what it is.
    public var intentReasons: [ScoreReason]
    /// Why timing is what it is.
    public var timingReasons: [ScoreReason]
    /// Why the buyer state was chosen.
    public var stateReason: String
    /// Which scorer produced this card, e.g. "rules-v2".
    public var scorer: String
    /// When it was scored.
    public var scoredAt: Date
    /// How complete the evidence behind the scores was; nil on cards written before it existed.
    public var evidence: ScoreEvidence?

    /// Creates a card.
    public init(
        fit: Int, intent: Int, timing: Int, composite: Int, buyerState: BuyerState, fitReasons: [ScoreReason],
        intentReasons: [ScoreReason], timingReasons: [ScoreReason], stateReason: String, scorer: String,
        scoredAt: Date, evidence: ScoreEvidence? = nil
    ) {
        self.evidence = evidence
        self.fit = fit
        self.intent = intent
        self.timing = timing
        self.composite = composite
        self.buyerState = buyerState
        self.fitReasons = fitReasons
        self.intentReasons = intentReasons
        self.timingReasons = timingReasons
        self.stateReason = stateReason
        self.scorer = scorer
        self.scoredAt = scoredAt
    }
}

/// How much the scorer knew: which fit criteria it could judge and which it could not.
public struct ScoreEvidence: Codable, Hashable, Sendable {
    /// Share of the offer's fit criteria the profile gave evidence for, 0-100.
    public var completeness: Int
    /// The fit criteria with no evidence, e.g. `title`, `industry`, `company size`, `location`.
    public var missing: [String]
    /// The platforms and sources the evidence came from, e.g. `linkedin`, `x`, `company`.
    public var sources: [String]

    /// Creates a record.
    public init(completeness: Int, missing: [String], sources: [String]) {
        self.completeness = completeness
        self.missing = missing
        self.sources = sources
    }
}

/// How one platform's enrichment went.
///
/// Encoded as `{"status": "succeeded"}`, `{"status": "failed", "reason": ..., "isRetriable": ...}`
/// or `{"status": "skipped", "reason": ...}`.
public enum PlatformOutcome: Codable, Hashable, Sendable, CustomStringConvertible {
    /// Data was fetched.
    case succeeded
    /// The fetch failed.
    case failed(reason: String, isRetriable: Bool)
    /// Not attempted (no URL, profile does not exist, not selected, ...).
    case skipped(reason: String)

    private enum CodingKeys: String, CodingKey {
        case status, reason, isRetriable
    }

    private enum Status: String, Codable, CaseIterable {
        case succeeded, failed, skipped
    }

    /// Decodes the `status` form described above.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Status.self, forKey: .status) {
        case .succeeded: self = .succeeded
        case .failed:
            self = .failed(
                reason: try container.decode(String.self, forKey: .reason),
                isRetriable: try container.decode(Bool.self, forKey: .isRetriable))
        case .skipped: self = .skipped(reason: try container.decode(String.self, forKey: .reason))
        }
    }

    /// Encodes the `status` form described above.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .succeeded:
            try container.encode(Status.succeeded, forKey: .status)
        case .failed(let reason, let isRetriable):
            try container.encode(Status.failed, forKey: .status)
            try container.encode(reason, forKey: .reason)
            try container.encode(isRetriable, forKey: .isRetriable)
        case .skipped(let reason):
            try container.encode(Status.skipped, forKey: .status)
            try container.encode(reason, forKey: .reason)
        }
    }

    /// `succeeded`, `failed (retriable): reason`, `skipped: reason`.
    public var description: String {
        switch self {
        case .succeeded: "succeeded"
        case .failed(let reason, let isRetriable): "failed\(isRetriable ? " (retriable)" : ""): \(reason)"
        case .skipped(let reason): "skipped: \(reason)"
        }
    }
}

/// A phase that was skipped for a run, with the reason.
public struct PhaseSkip: Codable, Hashable, Sendable {
    /// The phase.
    public var phase: Phase
    /// Why it was skipped.
    public var reason: String
    /// When.
    public var at: Date

    /// Creates a record.
    public init(phase: Phase, reason: String, at: Date) {
        self.phase = phase
        self.reason = reason
        self.at = at
    }
}

/// Everything known about a lead, accumulated phase by phase.
public struct EnrichedProfile: Codable, Hashable, Sendable {
    /// The lead.
    public var leadID: LeadID
    /// The name as discovered.
    public var name: String
    /// Canonical LinkedIn URL, if the lead has one.
    public var linkedinURL: String?
    /// Canonical X URL, if the lead has one.
    public var xURL: String?
    /// LinkedIn data, once fetched.
    public var linkedin: LinkedInProfile?
    /// X data, once fetched.
    public var x: XProfile?
    /// The current company.
    public var company: Company?
    /// How LinkedIn enrichment went last.
    public var linkedinOutcome: PlatformOutcome?
    /// How X enrichment went last.
    public var xOutcome: PlatformOutcome?
    /// Recent activity, once fetched.
    public var activity: Activity?
    /// How activity enrichment went last.
    public var activityOutcome: PlatformOutcome?
    /// The newest post date ever seen; only moves forward.
    public var signalDate: Date?
    /// Scores, once scored.
    public var scores: ScoreCard?
    /// Phases skipped in the latest run.
    public var skippedPhases: [PhaseSkip]
    /// What the web enricher found on the company's own site, once it ran for this lead.
    public var web: WebEnrichment? = nil

    /// Creates a profile with only the discovery data.
    public init(
        leadID: LeadID, name: String, linkedinURL: String? = nil, xURL: String? = nil,
        linkedin: LinkedInProfile? = nil, x: XProfile? = nil, company: Company? = nil,
        linkedinOutcome: PlatformOutcome? = nil, xOutcome: PlatformOutcome? = nil, activity: Activity? = nil,
        activityOutcome: PlatformOutcome? = nil, signalDate: Date? = nil, scores: ScoreCard? = nil,
        skippedPhases: [PhaseSkip] = []
    ) {
        self.leadID = leadID
        self.name = name
        self.linkedinURL = linkedinURL
        self.xURL = xURL
        self.linkedin = linkedin
        self.x = x
        self.company = company
        self.linkedinOutcome = linkedinOutcome
        self.xOutcome = xOutcome
        self.activity = activity
        self.activityOutcome = activityOutcome
        self.signalDate = signalDate
        self.scores = scores
        self.skippedPhases = skippedPhases
    }

    /// The starting profile of a discovered lead (canonical URLs, nothing enriched yet).
    public init(discovered lead: LeadDiscovered) {
        self.init(
            leadID: lead.leadID, name: lead.name, linkedinURL: lead.linkedinProfile?.canonical,
            xURL: lead.xProfile?.canonical)
    }

    /// What a lead's first run starts from: the discovery data, plus what enrichment found
    /// before for a lead matched from the lead pool.
    public init(startingRunOf lead: LeadDiscovered) {
        self.init(discovered: lead)
        if let pool = lead.poolProfile {
            linkedin = pool.linkedin
            x = pool.x
            company = pool.company
            activity = pool.activity
            signalDate = pool.signalDate
        }
    }

    /// The buyer state: the scores' state, or `notScored`.
    public var buyerState: BuyerState { scores?.buyerState ?? .notScored }

    /// The profile a request for `phase` carries: all of it for a phase that reads it
    /// (``Phase/readsEnrichedProfile``), else only the lead's id, name and profile URLs (which
    /// may come from profile finding rather than discovery).
    public func carried(to phase: Phase) -> EnrichedProfile {
        phase.readsEnrichedProfile ? self : EnrichedProfile(leadID: leadID, name: name, linkedinURL: linkedinURL, xURL: xURL)
    }
}
