import Foundation
import LeadModel

/// Matches lead-pool profiles against a new offer's ideal customer profile.
///
/// Fit is the rule scorer's (``RuleBasedScorer``), so a pool match and a scored lead agree on
/// what fits, including its overrides (a lead employed by a competitor fits 0). A match becomes a
/// ``LeadDiscovered`` of the offer's account with source `lead-pool` and mode `scoring-only`,
/// under the id `<pool lead id>@<offer id>`: publishing the matches again yields the same ids, and
/// the coordinator starts nothing for a lead it already knows, so matching is idempotent.
public struct LeadPoolMatcher: Sendable {
    /// One match.
    public struct Match: Hashable, Sendable {
        /// The lead to publish.
        public var lead: LeadDiscovered
        /// The pool entry it came from.
        public var poolLeadID: LeadID
        /// The fit that qualified it.
        public var fit: Int
    }

    /// Fit (0-100) a pool profile needs; default 60.
    public var minimumFit: Int
    private let scorer = RuleBasedScorer()

    /// Creates a matcher.
    public init(minimumFit: Int = 60) {
        self.minimumFit = minimumFit
    }

    /// The id of `poolLeadID` matched for `offerID`: `<pool lead id>@<offer id>`.
    public static func matchedLeadID(_ poolLeadID: LeadID, offerID: OfferID) -> LeadID {
        LeadID("\(poolLeadID.rawValue)@\(offerID.rawValue)")
    }

    /// The source search id of the matches of one offer: `lead-pool:<offer id>`.
    public static func searchID(offerID: OfferID) -> SearchID {
        SearchID("lead-pool:\(offerID.rawValue)")
    }

    /// The matches of `pool` for `offer`, ordered by pool lead id: ``match(offer:entry:override:at:)``
    /// of each entry (the first of a lead id only), one per person (``PersonSelection``): none of a
    /// person the offer has in `pool` already (an entry of the offer's, its own lead or a match).
    /// - Parameter overrides: the latest ``LeadOverride`` per pool lead id (the `lead.overrides` table).
    public func matches(
        offer: OfferConfig, pool: [LeadPoolEntry], overrides: [LeadID: LeadOverride] = [:], at now: Date
    ) -> [Match] {
        var seen: Set<LeadID> = []
        var selection = PersonSelection()
        let matches = pool.sorted(by: { $0.leadID.rawValue < $1.leadID.rawValue }).compactMap { entry -> Match? in
            guard seen.insert(entry.leadID).inserted else { return nil }
            if entry.offerID == offer.offerID { selection.present(entry.profile, in: offer.offerID) }
            guard let match = match(offer: offer, entry: entry, override: overrides[entry.leadID], at: now) else { return nil }
            selection.candidate(entry, for: offer.offerID)
            return match
        }
        let chosen = selection.chosen()[offer.offerID] ?? []
        return matches.filter { chosen.contains($0.poolLeadID) }
    }

    /// The match of one pool entry for `offer`, or nil. Not a match: an entry found for this
    /// offer already, an entry that is itself a match (`…@…`), one without a profile URL or a
    /// name, a disqualified lead (its card says so, or `override` disqualifies it now; see
    /// ``LeadOverridePolicy/mayMatchFromPool(_:override:)``), and one below ``minimumFit``.
    public func match(offer: OfferConfig, entry: LeadPoolEntry, override: LeadOverride?, at now: Date) -> Match? {
        guard entry.offerID != offer.offerID, !entry.leadID.rawValue.contains("@") else { return nil }
        let linkedin = entry.profile.linkedinURL.flatMap { (try? ProfileURL.linkedin($0).get())?.canonical }
        let x = entry.profile.xURL.flatMap { (try? ProfileURL.x($0).get())?.canonical }
        guard linkedin != nil || x != nil, !entry.profile.name.trimmingCharacters(in: .whitespaces).isEmpty,
              LeadOverridePolicy.mayMatchFromPool(entry.profile, override: override) else { return nil }
        let fit = scorer.score(profile: entry.profile, offer: offer, source: .leadPool, now: now).fit
        guard fit >= minimumFit else { return nil }
        // Its orbit as this offer's activity stage would label it: another offer's competitors are
        // not this one's (and are another customer's to know).
        var profile = entry.profile
        profile.activity = profile.activity.map { ActivityBuilder.relabeled($0, competitors: offer.icp.competitors, now: now) }
        let lead = LeadDiscovered(
            leadID: Self.matchedLeadID(entry.leadID, offerID: offer.offerID), accountID: offer.accountID,
            offerID: offer.offerID, sourceSearchID: Self.searchID(offerID: offer.offerID), source: .leadPool,
            name: entry.profile.name, linkedinURL: linkedin, xURL: x, mode: .scoringOnly, discoveredAt: now,
            poolProfile: profile)
        return Match(lead: lead, poolLeadID: entry.leadID, fit: fit)
    }
}

/// One match per person and offer. A person is known by the profile URLs of their pool entries
/// (LinkedIn and X, handles compared without case, as both platforms do): two pool leads that
/// share one are the same person, found by two searches or for two offers, and so on through
/// every entry that shares one with either. Of an offer's candidates for one person, the entry
/// finished last is chosen (the freshest profile; the smallest lead id among equals), and none of
/// a person the offer has already. The choice depends on the pool only, so a scan of the same
/// pool chooses the same ids again.
///
/// Holds per entry its id, finish time and URLs, never its profile.
public struct PersonSelection: Sendable {
    private struct Candidate: Sendable {
        var leadID: LeadID
        var finishedAt: Date
        var persons: [String]
    }

    private var present: [OfferID: [[String]]] = [:]
    private var candidates: [OfferID: [Candidate]] = [:]

    /// Creates an empty selection.
    public init() {}

    /// The keys a person is known by: `linkedin:<handle>` and `x:<handle>`, handles lowercased, of
    /// the URLs `profile` has that parse.
    public static func persons(of profile: EnrichedProfile) -> [String] {
        var keys: [String] = []
        if let url = profile.linkedinURL, case .success(let parsed) = ProfileURL.linkedin(url) {
            keys.append("linkedin:" + parsed.handle.lowercased())
        }
        if let url = profile.xURL, case .success(let parsed) = ProfileURL.x(url) {
            keys.append("x:" + parsed.handle.lowercased())
        }
        return keys
    }

    /// The person of `profile` is in `offer` already (a lead of the offer's, or a match of it).
    public mutating func present(_ profile: EnrichedProfile, in offer: OfferID) {
        let keys = Self.persons(of: profile)
        if !keys.isEmpty { present[offer, default: []].append(keys) }
    }

    /// `entry` matches `offer`.
    public mutating func candidate(_ entry: LeadPoolEntry, for offer: OfferID) {
        candidates[offer, default: []].append(
            Candidate(leadID: entry.leadID, finishedAt: entry.finishedAt, persons: Self.persons(of: entry.profile)))
    }

    /// The chosen pool lead ids per offer (offers with none left out).
    public func chosen() -> [OfferID: Set<LeadID>] {
        var chosen: [OfferID: Set<LeadID>] = [:]
        for (offer, offerCandidates) in candidates {
            let offerPresent = present[offer] ?? []
            var people = People()
            for keys in offerPresent + offerCandidates.map(\.persons) { people.join(keys) }
            var taken = Set(offerPresent.map { people.person(of: $0[0]) })
            let ordered = offerCandidates.sorted {
                ($0.finishedAt, $1.leadID.rawValue) > ($1.finishedAt, $0.leadID.rawValue)
            }
            for candidate in ordered {
                // A candidate without a URL is no one else (the matcher asks for one).
                guard let first = candidate.persons.first else {
                    chosen[offer, default: []].insert(candidate.leadID)
                    continue
                }
                if taken.insert(people.person(of: first)).inserted { chosen[offer, default: []].insert(candidate.leadID) }
            }
        }
        return chosen
    }

    /// Keys joined into people (a union-find): keys of one entry are one person.
    private struct People {
        private var parent: [String: String] = [:]

        /// The key that stands for the person `key` belongs to.
        mutating func person(of key: String) -> String {
            var root = key
            while let next = parent[root], next != root { root = next }
            var step = key
            while let next = parent[step], next != root {
                parent[step] = root
                step = next
            }
            return root
        }

        /// `keys` belong to one person.
        mutating func join(_ keys: [String]) {
            guard let first = keys.first else { return }
            let root = person(of: first)
            for key in keys.dropFirst() {
                let other = person(of: key)
                if other != root { parent[other] = root }
            }
        }
    }
}
