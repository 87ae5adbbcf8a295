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

    /// Whether `leadID`, a lead of `offerID`, is a match (``matchedLeadID(_:offerID:)``): its id
    /// is a pool lead's followed by `@` and that offer. A discovered lead's id may hold an `@`
    /// too ("jane@acme.com"); ending in its own offer's id after one, it is taken for a match.
    public static func isMatch(_ leadID: LeadID, offerID: OfferID) -> Bool {
        let suffix = "@" + offerID.rawValue
        return leadID.rawValue.count > suffix.count && leadID.rawValue.hasSuffix(suffix)
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
        // Read as a scan reads the pool (``OfferPoolMatching``, ``PoolScan``'s two passes), the
        // pool standing as one partition in lead id order.
        var state = OfferPoolMatching(matcher: self)
        for (leadID, override) in overrides { state.applyOverrideRecord(key: leadID.rawValue, override: override) }
        var seen: Set<LeadID> = []
        let records = pool.sorted(by: { $0.leadID.rawValue < $1.leadID.rawValue }).filter { seen.insert($0.leadID).inserted }
            .enumerated().map { (entry: $1, position: OfferPoolMatching.Position(partition: 0, offset: Int64($0))) }
        for record in records {
            state.applyPoolRecord(key: record.entry.leadID.rawValue, at: record.position, isTombstone: false)
        }
        var selection = state.makeSelection(for: [offer])
        for record in records where state.selects(key: record.entry.leadID.rawValue, at: record.position) {
            state.select(for: [offer], from: record.entry, key: record.entry.leadID.rawValue, at: record.position, now: now,
                         into: &selection)
        }
        let chosen = selection.chosen()[offer.offerID] ?? []
        return records.filter { chosen.contains($0.entry.leadID.rawValue) }.flatMap { record in
            state.matches(for: [offer], from: record.entry, key: record.entry.leadID.rawValue, at: record.position, now: now)
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
        profile.activity = profile.activity.map { activity in
            var relabeled = ActivityBuilder.relabeled(activity, competitors: offer.icp.competitors, now: now)
            // As a discovered lead may carry it (no string above ``FieldLimit/text``), else the
            // coordinator refuses the match, and the people who post most are never matched:
            // without the rendered text, which scoring renders again when it reads it (as for a
            // phase result's activity), and each post's text cut at the limit (and without NUL).
            relabeled.plainText = ""
            for index in relabeled.posts.indices {
                var text = relabeled.posts[index].text
                if text.utf8.contains(0) { text = text.replacingOccurrences(of: "\u{0}", with: "") }  // refused in an input
                relabeled.posts[index].text = text.prefix(scalars: FieldLimit.text)
            }
            return relabeled
        }
        let lead = LeadDiscovered(
            leadID: Self.matchedLeadID(entry.leadID, offerID: offer.offerID), accountID: offer.accountID,
            offerID: offer.offerID, sourceSearchID: Self.searchID(offerID: offer.offerID), source: .leadPool,
            name: entry.profile.name, linkedinURL: linkedin, xURL: x, mode: .scoringOnly, discoveredAt: now,
            poolProfile: profile)
        return Match(lead: lead, poolLeadID: entry.leadID, fit: fit)
    }
}

/// One match per person and offer.
///
/// A person is known by the profile URLs of their pool entries (LinkedIn and X; handles compared
/// without percent escapes and case, as both platforms do): entries that share one are one
/// person, and so on through every entry that shares one with either, whether it fits an offer
/// or not. Each person's entry is the one finished last (the freshest profile; the smallest key
/// among equals), whatever the offer, fit or overrides, so a scan of the same pool chooses the
/// same ids again. An offer gets that entry when it matches, and nothing for a person it has
/// already (``present(entry:in:)``, ``present(_:in:)``: a lead of the offer's in the pool, or
/// one not in it yet, ``OfferPoolMatching/makeSelection(for:)``).
///
/// A profile finder's URL joins as any other: a wrong one found for a lead joins two people.
///
/// Holds per entry read its key, finish time and a person number, and each URL once: never a
/// profile.
public struct PersonSelection: Sendable {
    private struct Entry: Sendable {
        var key: String
        var finishedAt: Date
        /// The number of its first URL; nil without one.
        var url: Int?
    }

    private var entries: [Entry] = []
    private var urlNumbers: [String: Int] = [:]
    /// A union-find over URL numbers.
    private var parent: [Int] = []
    /// Per offer, a URL number of each person in it already.
    private var present: [OfferID: [Int]] = [:]
    /// Per offer, the entries (numbers) that match it.
    private var matching: [OfferID: [Int]] = [:]

    /// Creates an empty selection.
    public init() {}

    /// The keys a person is known by: `linkedin:<handle>` and `x:<handle>`, handles without
    /// percent escapes and lowercased, of the URLs `profile` has that parse.
    public static func persons(of profile: EnrichedProfile) -> [String] {
        persons(linkedinURL: profile.linkedinURL, xURL: profile.xURL)
    }

    /// The keys of a person with these URLs (a discovered lead's), as ``persons(of:)``.
    public static func persons(linkedinURL: String?, xURL: String?) -> [String] {
        func key(_ handle: String) -> String { (handle.removingPercentEncoding ?? handle).lowercased() }
        var keys: [String] = []
        if let url = linkedinURL, case .success(let parsed) = ProfileURL.linkedin(url) {
            keys.append("linkedin:" + key(parsed.handle))
        }
        if let url = xURL, case .success(let parsed) = ProfileURL.x(url) {
            keys.append("x:" + key(parsed.handle))
        }
        return keys
    }

    /// Reads a pool entry (each lead's latest once) under its record `key`; returns its number.
    public mutating func read(_ entry: LeadPoolEntry, key: String) -> Int {
        entries.append(Entry(key: key, finishedAt: entry.finishedAt, url: joined(Self.persons(of: entry.profile))))
        return entries.count - 1
    }

    /// The person of entry `number` is in `offer` already (a lead of the offer's, or one matched
    /// into it).
    public mutating func present(entry number: Int, in offer: OfferID) {
        if let url = entries[number].url { present[offer, default: []].append(url) }
    }

    /// The person known by `persons` (``persons(of:)``: of a match in the pool whose pool entry
    /// is gone, or of a lead not in the pool yet) is in `offer` already.
    public mutating func present(_ persons: [String], in offer: OfferID) {
        if let url = joined(persons) { present[offer, default: []].append(url) }
    }

    /// `persons` (of a match in the pool whose pool entry is gone, or of a lead not in the pool
    /// yet) are one person.
    public mutating func join(_ persons: [String]) {
        _ = joined(persons)
    }

    /// Entry `number` matches `offer`.
    public mutating func matches(entry number: Int, offer: OfferID) {
        matching[offer, default: []].append(number)
    }

    /// The chosen record keys per offer (offers with none left out).
    public func chosen() -> [OfferID: Set<String>] {
        var people = self
        // Each person's entry: the one finished last, the smallest key among equals.
        var freshest: [Int: Int] = [:]
        for (number, entry) in entries.enumerated() {
            guard let url = entry.url else { continue }
            let person = people.root(url)
            if let best = freshest[person], (entries[best].finishedAt, entry.key) >= (entry.finishedAt, entries[best].key) { continue }
            freshest[person] = number
        }
        var chosen: [OfferID: Set<String>] = [:]
        for (offer, numbers) in matching {
            let taken = Set((present[offer] ?? []).map { people.root($0) })
            for number in numbers {
                // An entry without a URL is no one else (the matcher asks for one).
                let isChosen = entries[number].url.map { url in
                    let person = people.root(url)
                    return freshest[person] == number && !taken.contains(person)
                } ?? true
                if isChosen { chosen[offer, default: []].insert(entries[number].key) }
            }
        }
        return chosen
    }

    /// Joins `keys` into one person; the number of the first, nil without one.
    private mutating func joined(_ keys: [String]) -> Int? {
        let numbers = keys.map { key in
            if let number = urlNumbers[key] { return number }
            parent.append(parent.count)
            urlNumbers[key] = parent.count - 1
            return parent.count - 1
        }
        guard let first = numbers.first else { return nil }
        let head = root(first)
        for number in numbers.dropFirst() {
            let other = root(number)
            if other != head { parent[other] = head }
        }
        return first
    }

    /// The number that stands for the person of URL `number`.
    private mutating func root(_ number: Int) -> Int {
        var root = number
        while parent[root] != root { root = parent[root] }
        var step = number
        while parent[step] != root {
            let next = parent[step]
            parent[step] = root
            step = next
        }
        return root
    }
}
