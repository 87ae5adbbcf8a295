import Foundation
import JSONCodec
import LeadModel

/// Why a provider call failed. Policy code asks ``isRetriable``; it never parses the text.
public enum ProviderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The profile does not exist (404, suspended or deleted). Permanent; costs nothing.
    case notFound
    /// Too many requests; try again after `retryAfter` seconds when the provider said so.
    case rateLimited(retryAfter: TimeInterval?)
    /// The platform's credits or quota at this vendor are exhausted. The vendor contract is the
    /// platform's, not the customer's: a waterfall skips the vendor until its circuit closes.
    case outOfCredits
    /// The vendor rejected the platform's credentials (HTTP 401, or 403 at a vendor that says so).
    case unauthorized(String)
    /// A passing problem (timeout, network, 5xx).
    case transient(String)
    /// A problem retrying will not fix (bad request, forbidden).
    case permanent(String)
    /// The call was cancelled (shutdown); the work should be handed back, not failed.
    case cancelled

    /// Whether trying again later may succeed.
    public var isRetriable: Bool {
        switch self {
        case .rateLimited, .outOfCredits, .unauthorized, .transient, .cancelled: true
        case .notFound, .permanent: false
        }
    }

    /// A sentence for history and dead letters.
    public var description: String {
        switch self {
        case .notFound: "profile not found"
        case .rateLimited(let retryAfter?):
            "rate limited; retry after \(Int(min(retryAfter.isNaN ? 0 : max(0, retryAfter), RateLimiter.maxPauseSeconds).rounded(.up)))s"
        case .rateLimited(nil): "rate limited"
        case .outOfCredits: "provider credits exhausted"
        case .unauthorized(let reason): "credentials rejected: \(reason)"
        case .transient(let reason): "transient failure: \(reason)"
        case .permanent(let reason): "permanent failure: \(reason)"
        case .cancelled: "cancelled"
        }
    }
}

/// What a LinkedIn lookup returns.
public struct LinkedInEnrichment: Hashable, Sendable {
    /// The person.
    public var profile: LinkedInProfile
    /// The current company, when the provider knows it.
    public var company: Company?

    /// Creates a result.
    public init(profile: LinkedInProfile, company: Company?) {
        self.profile = profile
        self.company = company
    }
}

/// Who a profile lookup is for, as the pipeline knew the lead before enrichment.
///
/// Real providers look the handle up and ignore this; simulated providers use it to give the
/// lead's own name and one consistent person on every platform.
public struct LeadIdentity: Hashable, Sendable {
    /// The lead; stable across platforms and attempts.
    public var leadID: LeadID
    /// The person's name as discovery saw it.
    public var name: String

    /// Creates an identity.
    public init(leadID: LeadID, name: String) {
        self.leadID = leadID
        self.name = name
    }
}

/// Fetches LinkedIn person profiles.
public protocol LinkedInProvider: Sendable {
    /// The profile with public identifier `handle`. `lead` is whom the pipeline looks up, when
    /// known. `attempt` (from 1) is for tracing and for simulations; real providers ignore it.
    func fetchProfile(handle: String, lead: LeadIdentity?, attempt: Int) async throws(ProviderError) -> LinkedInEnrichment
}

extension LinkedInProvider {
    /// The profile with public identifier `handle`, for no particular lead.
    public func fetchProfile(handle: String, attempt: Int) async throws(ProviderError) -> LinkedInEnrichment {
        try await fetchProfile(handle: handle, lead: nil, attempt: attempt)
    }
}

/// Fetches X profiles.
public protocol XProvider: Sendable {
    /// The profile of `username`. `lead` and `attempt` as in ``LinkedInProvider``.
    func fetchProfile(username: String, lead: LeadIdentity?, attempt: Int) async throws(ProviderError) -> XProfile
}

extension XProvider {
    /// The profile of `username`, for no particular lead.
    public func fetchProfile(username: String, attempt: Int) async throws(ProviderError) -> XProfile {
        try await fetchProfile(username: username, lead: nil, attempt: attempt)
    }
}

/// The words of an offer that a lead's posts may use: what makes a post an intent signal for it.
public struct OfferVocabulary: Hashable, Sendable {
    /// The ideal customer profile's pain points.
    public var painPoints: [String]
    /// The competitors.
    public var competitors: [String]
    /// The offer's custom intent keywords.
    public var intentKeywords: [String]
    /// The offer's product keywords.
    public var productKeywords: [String]

    /// Creates a vocabulary.
    public init(painPoints: [String], competitors: [String], intentKeywords: [String] = [], productKeywords: [String] = []) {
        self.painPoints = painPoints
        self.competitors = competitors
        self.intentKeywords = intentKeywords
        self.productKeywords = productKeywords
    }

    /// The words of `offer`.
    public init(offer: OfferConfig) {
        self.init(
            painPoints: offer.icp.painPoints, competitors: offer.icp.competitors,
            intentKeywords: offer.icp.customIntentKeywords, productKeywords: offer.productKeywords)
    }

    /// Whether there are no words at all.
    public var isEmpty: Bool {
        painPoints.isEmpty && competitors.isEmpty && intentKeywords.isEmpty && productKeywords.isEmpty
    }
}

/// Whom to fetch activity for.
public struct ActivityQuery: Hashable, Sendable {
    /// The lead.
    public var leadID: LeadID
    /// LinkedIn handle, if known (preferred source).
    public var linkedinHandle: String?
    /// X username, if known.
    public var xUsername: String?
    /// Posts before this are not wanted.
    public var since: Date
    /// The words of the lead's offer, when known. Real providers fetch every post regardless;
    /// simulated ones write posts in these words.
    public var offerVocabulary: OfferVocabulary?

    /// Creates a query.
    public init(
        leadID: LeadID, linkedinHandle: String?, xUsername: String?, since: Date, offerVocabulary: OfferVocabulary? = nil
    ) {
        self.leadID = leadID
        self.linkedinHandle = linkedinHandle
        self.xUsername = xUsername
        self.since = since
        self.offerVocabulary = offerVocabulary
    }
}

/// One account the lead interacted with, before classification.
public struct Interaction: Hashable, Sendable {
    /// Platform.
    public var platform: Platform
    /// The account's handle.
    public var handle: String
    /// The account's display name.
    public var name: String
    /// Whether it is an organisation's account rather than a person's.
    public var isOrganization: Bool
    /// Its follower count.
    public var followers: Int
    /// Interactions seen.
    public var count: Int
    /// First seen.
    public var firstSeen: Date
    /// Last seen.
    public var lastSeen: Date

    /// Creates an interaction.
    public init(
        platform: Platform, handle: String, name: String, isOrganization: Bool, followers: Int, count: Int,
        firstSeen: Date, lastSeen: Date
    ) {
        self.platform = platform
        self.handle = handle
        self.name = name
        self.isOrganization = isOrganization
        self.followers = followers
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

/// Posts and interactions as a provider returns them.
public struct RawActivity: Hashable, Sendable {
    /// Posts, in any order, possibly older than wanted.
    public var posts: [Post]
    /// Interactions.
    public var interactions: [Interaction]

    /// Creates a result.
    public init(posts: [Post], interactions: [Interaction]) {
        self.posts = posts
        self.interactions = interactions
    }
}

/// Fetches a lead's recent posts and interactions.
public protocol ActivityProvider: Sendable {
    /// Activity for `query`. `attempt` as in ``LinkedInProvider``.
    func fetchActivity(_ query: ActivityQuery, attempt: Int) async throws(ProviderError) -> RawActivity
}

/// Turns raw activity into the lead's ``Activity``: drops old posts, classifies the orbit,
/// renders plain text.
public enum ActivityBuilder {
    /// Posts older than this many days are dropped (the published horizon is about six months).
    public static let horizonDays = 180

    /// Followers from which a person counts as a thought leader.
    public static let thoughtLeaderFollowers = 50_000

    /// The latest date a post or engagement may carry at `now` to count: a day ahead, for
    /// clocks. Later ones are dropped here, and the scorer and account heat ignore them in
    /// profiles that did not come through here (a pool profile is scored as sent).
    public static func latestDate(at now: Date) -> Date {
        now.addingTimeInterval(86_400)
    }

    /// The activity: posts within the horizon, newest first; the classified orbit, most
    /// interactions first; the plain text; the newest post's date as signal date; the orbit's
    /// clusters at `now` (``OrbitClusters``, an empty list when there are none). With
    /// `withText` false the plain text is left empty, for a caller that does not keep it (a
    /// phase result carries none).
    public static func build(raw: RawActivity, competitors: [String], now: Date, withText: Bool = true) -> Activity {
        let cutoff = now.addingTimeInterval(-Double(horizonDays) * 86_400)
        let latest = latestDate(at: now)
        let posts = raw.posts.filter { $0.date >= cutoff && $0.date <= latest }
            .sorted { ($0.date, $1.id) > ($1.date, $0.id) }
        let competitors = Competitors(competitors)
        let orbit = raw.interactions.filter { $0.lastSeen >= cutoff }.map { interaction in
            OrbitTarget(
                platform: interaction.platform, handle: interaction.handle, name: interaction.name,
                classification: classify(interaction, competitors: competitors),
                interactionCount: interaction.count, firstSeen: interaction.firstSeen, lastSeen: interaction.lastSeen)
        }
        .sorted { ($0.interactionCount, $1.handle) > ($1.interactionCount, $0.handle) }
        return Activity(
            posts: posts, plainText: withText ? renderPlainText(posts, now: now) : "", orbit: orbit, signalDate: posts.first?.date,
            clusters: OrbitClusters.form(orbit, now: now))
    }

    /// `activity` within about `bytes` of JSON: its newest posts, and its orbit targets
    /// competitors first, then other vendors, then people (each most interactions first, as
    /// ``build(raw:competitors:now:withText:)`` orders them), while their estimated size fits;
    /// half the budget for each and what one leaves to the other. A target is counted
    /// twice, as it is written twice: in the orbit, and in its cluster's handles and names; the
    /// clusters are formed again from the targets kept, at `now`. No plain text (a phase
    /// result's has none, and readers render it from the posts). Returns how many posts and
    /// targets were left out (0 and 0: the activity as it was).
    public static func bounded(_ activity: Activity, toAbout bytes: Int, now: Date)
        -> (activity: Activity, postsLeftOut: Int, orbitLeftOut: Int) {
        // Each one's strings plus its fields' names, dates and punctuation.
        func size(_ post: Post) -> Int { post.id.utf8.count + post.text.utf8.count + post.url.utf8.count + 160 }
        func size(_ target: OrbitTarget) -> Int { 2 * (target.handle.utf8.count + target.name.utf8.count) + 220 }
        let postBytes = activity.posts.reduce(0) { $0 + size($1) }
        let orbitBytes = activity.orbit.reduce(0) { $0 + size($1) }
        guard postBytes + orbitBytes > bytes else { return (activity, 0, 0) }
        let postBudget = max(bytes / 2, bytes - orbitBytes)
        var used = 0
        let keptPosts = activity.posts.prefix { post in
            used += size(post)
            return used <= postBudget
        }.count
        var left = bytes - activity.posts.prefix(keptPosts).reduce(0) { $0 + size($1) }
        // Competitors first, then other vendors (the signals heat and intent read), then the
        // rest; each in the orbit's order (most interactions first), which the kept ones keep.
        let byValue = activity.orbit.indices.sorted { lhs, rhs in
            (Self.keepingRank(activity.orbit[lhs].classification), lhs) < (Self.keepingRank(activity.orbit[rhs].classification), rhs)
        }
        let kept = Set(byValue.prefix { index in
            left -= size(activity.orbit[index])
            return left >= 0
        })
        var bounded = activity
        bounded.posts = Array(activity.posts.prefix(keptPosts))
        bounded.plainText = ""
        if kept.count < activity.orbit.count {
            bounded.orbit = activity.orbit.indices.filter(kept.contains).map { activity.orbit[$0] }
            bounded.clusters = OrbitClusters.form(bounded.orbit, now: now)
        }
        return (bounded, activity.posts.count - keptPosts, activity.orbit.count - kept.count)
    }

    /// The order ``bounded(_:toAbout:now:)`` keeps orbit targets in: competitors, other vendors,
    /// then people.
    private static func keepingRank(_ classification: OrbitClassification) -> Int {
        switch classification {
        case .competitor: 0
        case .adjacentVendor: 1
        case .thoughtLeader, .peer: 2
        }
    }

    /// Competitor when the name or handle matches the competitor list; adjacent vendor for other
    /// organisations; thought leader for people with many followers; else peer.
    public static func classify(_ interaction: Interaction, competitors: [String]) -> OrbitClassification {
        classify(interaction, competitors: Competitors(competitors))
    }

    /// The offer's competitors as ``classify(_:competitors:)`` compares them, normalised once for
    /// all of a lead's interactions: each name as a phrase, and as a handle (without its spaces).
    struct Competitors: Sendable {
        let names: [SignalDetector.Phrase]
        let handles: [[UInt8]]

        init(_ competitors: [String]) {
            let brands = competitors.map(SignalDetector.brand)
            names = brands.map(SignalDetector.Phrase.init)
            handles = brands.map { SignalDetector.normalizedBytes($0.replacingOccurrences(of: " ", with: "")) }
        }

        /// The competitor (as the offer lists it) that an account with `name` and `handle` is:
        /// one named in its display name, or whose name is its handle.
        func competitor(name: String, handle: String) -> String? {
            let name = SignalDetector.normalizedBytes(name)
            let handle = SignalDetector.normalizedBytes(handle)
            return names.indices.first { names[$0].occurs(in: name) || SignalDetector.sameNormalized(handle, handles[$0]) }
                .map { names[$0].text }
        }
    }

    static func classify(_ interaction: Interaction, competitors: Competitors) -> OrbitClassification {
        if isCompetitor(name: interaction.name, handle: interaction.handle, competitors) { return .competitor }
        if interaction.isOrganization { return .adjacentVendor }
        if interaction.followers >= thoughtLeaderFollowers { return .thoughtLeader }
        return .peer
    }

    private static func isCompetitor(name: String, handle: String, _ competitors: Competitors) -> Bool {
        competitors.competitor(name: name, handle: handle) != nil
    }

    /// `activity`, built for another offer, with its orbit labelled against `competitors` and its
    /// clusters formed again at `now`: a pool profile scored for a new offer. A target that names
    /// one of them is a competitor; one that was the other offer's competitor is an adjacent
    /// vendor (an organisation); the other labels do not depend on the offer.
    public static func relabeled(_ activity: Activity, competitors: [String], now: Date) -> Activity {
        let competitors = Competitors(competitors)
        var relabeled = activity
        relabeled.orbit = activity.orbit.map { target in
            var target = target
            if isCompetitor(name: target.name, handle: target.handle, competitors) {
                target.classification = .competitor
            } else if target.classification == .competitor {
                target.classification = .adjacentVendor
            }
            return target
        }
        relabeled.clusters = OrbitClusters.form(relabeled.orbit, now: now)
        return relabeled
    }

    /// One block per post, newest first, each headed by a date label:
    /// `[2025-01-31, 3 days ago, LinkedIn, 12 likes, 3 replies, 1 repost]` then the text.
    /// Written into one string made the size of the whole text.
    public static func renderPlainText(_ posts: [Post], now: Date) -> String {
        var text = ""
        text.reserveCapacity(posts.reduce(0) { $0 + $1.text.utf8.count + 96 })
        func append(_ number: Int, digits: Int) {
            let written = String(number)
            for _ in written.utf8.count..<max(digits, written.utf8.count) { text += "0" }
            text += written
        }
        for (index, post) in posts.enumerated() {
            if index > 0 { text += "\n\n" }
            let day = ISO8601.day(of: post.date)
            text += "["
            append(day.year, digits: 4)
            text += "-"
            append(day.month, digits: 2)
            text += "-"
            append(day.day, digits: 2)
            switch max(0, Int(now.timeIntervalSince(post.date) / 86_400)) {
            case 0: text += ", today, "
            case 1: text += ", 1 day ago, "
            case let days:
                text += ", "
                append(days, digits: 1)
                text += " days ago, "
            }
            text += post.platform == .linkedin ? "LinkedIn, " : "X, "
            append(post.likes, digits: 1)
            text += " likes, "
            append(post.replies, digits: 1)
            text += " replies, "
            append(post.reposts, digits: 1)
            text += " reposts]\n"
            text += post.text
        }
        return text
    }
}
