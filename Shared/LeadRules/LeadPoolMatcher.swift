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
    /// of each entry (the first of a lead id only).
    /// - Parameter overrides: the latest ``LeadOverride`` per pool lead id (the `lead.overrides` table).
    public func matches(
        offer: OfferConfig, pool: [LeadPoolEntry], overrides: [LeadID: LeadOverride] = [:], at now: Date
    ) -> [Match] {
        var seen: Set<LeadID> = []
        return pool.sorted(by: { $0.leadID.rawValue < $1.leadID.rawValue }).compactMap { entry in
            guard seen.insert(entry.leadID).inserted else { return nil }
            return match(offer: offer, entry: entry, override: overrides[entry.leadID], at: now)
        }
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
