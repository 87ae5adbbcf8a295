import Foundation
import LeadModel

/// What lead-pool matching knows (the profile finder's offer loop, `leadctl pool match`): where
/// each pool lead's latest entry is, and the offers matched in this run. Pure (no Kafka): a reader
/// feeds it records, and a scan (``PoolScan``) asks it for each entry's matches.
///
/// The index keeps no profiles: per pool lead only the position (partition, offset) of its latest
/// entry, about 70 bytes whatever the profile's size (165 with ids as long as a UUID: a key of up
/// to 15 bytes is stored inline), so a process does not grow with the pool's profiles. Matching
/// offers is a scan of two passes: the pool is read again up to ``selectionEnds``, and each entry
/// that is still its lead's latest is scored and chosen or not, one per person and offer
/// (``select(for:from:key:at:now:into:)``); then the chosen entries are read again and matched
/// (``matches(for:from:key:at:now:)``). The ids of pool entries that
/// are matches themselves (`<pool lead id>@<offer id>`) are kept as ids with their latest
/// position (about 16 bytes more than an id), so a match that already reached the pool is not
/// published again (after a restart, or when an offer's ICP changes), and one whose pool lead is
/// gone is read by the first pass for who its person is. Leads not in the pool yet (discovered,
/// or matched by a scan, and still running) are kept as ids with their offer and URL keys
/// (``running``), so their people are not matched into their offers again.
public struct OfferPoolMatching: Sendable {
    /// Where a `lead.pool` record is.
    public struct Position: Hashable, Sendable {
        public var partition: Int32
        public var offset: Int64

        public init(partition: Int32, offset: Int64) {
            self.partition = partition
            self.offset = offset
        }
    }

    /// The matcher (its ``LeadPoolMatcher/minimumFit`` is `POOL_MATCH_MIN_FIT`).
    public let matcher: LeadPoolMatcher
    /// The latest entry of each pool lead that is not a match, by lead id: a later entry moves
    /// it, a tombstone removes it.
    public private(set) var latest: [LeadID: Position] = [:]
    /// Pool leads that are matches (`<pool lead id>@<offer id>`), with where their latest entry is.
    public private(set) var pooledMatches: [LeadID: Position] = [:]
    /// The latest `lead.overrides` record per lead: a disqualified lead makes no matches.
    public private(set) var overrides: [LeadID: LeadOverride] = [:]
    /// What each offer was last matched with in this run (its ICP and vocabulary).
    public private(set) var matchedOffers: [OfferID: MatchedAs] = [:]
    /// The leads of an offer that are not in the pool yet, by lead id: each lead discovered
    /// (`leads.discovered` and its priority twin: a search's, a match published by any finder)
    /// or published by this process's scans, until a pool record of the same lead id is indexed
    /// (its entry then says the same: its offer, its person). A scan counts each one's person as
    /// in its offer already (``makeSelection(for:)``), so a lead still running is not duplicated.
    /// Leads the coordinator refuses whatever its tables hold are not kept (``applyDiscoveredLead(_:key:account:)``),
    /// nor counted in an offer of another account. Held for good: leads that never reach the pool
    /// (refused for a configuration missing when they came, failed, or still running), and the
    /// discovered records of pool leads removed since; per lead its id, its account and offer ids
    /// and one or two URL keys, about 300 bytes (350 with ids as long as a UUID).
    public private(set) var running: [LeadID: RunningLead] = [:]

    /// An account and one of its offers, as a discovered lead names them.
    public struct AccountOffer: Hashable, Sendable {
        public var accountID: AccountID
        public var offerID: OfferID
    }

    /// A lead of an offer not in the pool yet (``running``).
    public struct RunningLead: Hashable, Sendable {
        /// The account and offer of each record of the lead's id, first first: the coordinator
        /// runs the first it does not refuse (one naming an offer of another account it refuses,
        /// and a corrected record of the same id then runs), so a scan counts the lead in a
        /// scanned offer that one of them names with the offer's account. (An id sent again for
        /// another offer of the same account, which the coordinator ignores once the first runs,
        /// keeps the person out of that offer too.)
        public var offers: [AccountOffer]
        /// The keys its person is known by (``PersonSelection/persons(linkedinURL:xURL:)``).
        public var persons: [String]
    }

    /// What a match's fit reads of its offer: the ideal customer profile, and the vocabulary its
    /// titles are read with.
    public struct MatchedAs: Hashable, Sendable {
        public var icp: IdealCustomerProfile
        public var vocabulary: VocabularyExtension?

        init(_ offer: OfferConfig) {
            icp = offer.icp
            vocabulary = offer.vocabulary
        }
    }

    /// Creates an empty state.
    public init(matcher: LeadPoolMatcher = LeadPoolMatcher()) {
        self.matcher = matcher
    }

    /// Applies one `lead.pool` record of `key` at `position` (no need to decode it).
    public mutating func applyPoolRecord(key: String, at position: Position, isTombstone: Bool) {
        let leadID = LeadID(key)
        running[leadID] = nil
        if isTombstone {
            latest[leadID] = nil
            pooledMatches[leadID] = nil
        } else if key.contains("@") {
            pooledMatches[leadID] = position
        } else {
            latest[leadID] = position
        }
    }

    /// Records `lead` (a `leads.discovered` record under `key`, or a match just published) as a
    /// lead of its offer not in the pool yet (``running``); a lead held already gets the record's
    /// offer beside its first. Nothing when a pool record of its lead id is indexed already, when
    /// it has no URL that parses (no person to know), or when it never
    /// runs: keyed otherwise than its id (dead-lettered), or refused by its `account`
    /// (``LeadDiscovered/refusal(by:)``; an account not known yet counts as letting it run).
    public mutating func applyDiscoveredLead(_ lead: LeadDiscovered, key: String, account: AccountConfig?) {
        guard key == lead.leadID.rawValue, latest[lead.leadID] == nil, pooledMatches[lead.leadID] == nil else { return }
        if let account, lead.refusal(by: account) != nil { return }
        let offer = AccountOffer(accountID: lead.accountID, offerID: lead.offerID)
        if let held = running[lead.leadID] {
            if !held.offers.contains(offer) { running[lead.leadID]?.offers.append(offer) }
            return
        }
        let persons = PersonSelection.persons(linkedinURL: lead.linkedinURL, xURL: lead.xURL)
        guard !persons.isEmpty else { return }
        running[lead.leadID] = RunningLead(offers: [offer], persons: persons)
    }

    /// The selection a scan for `offers` starts from: each ``running`` lead's person is in its
    /// offer already when that offer is scanned (and is its account's: the coordinator refuses a
    /// lead of an offer of another account), and its URLs are one person in every scan (as a
    /// match whose pool lead is gone: the choice does not depend on the offers scanned).
    public func makeSelection(for offers: [OfferConfig]) -> PersonSelection {
        let scanned = Dictionary(offers.map { ($0.offerID, $0.accountID) }) { first, _ in first }
        var selection = PersonSelection()
        for lead in running.values {
            // A record naming a scanned offer of its own account may be the one that runs.
            if let runsFor = lead.offers.first(where: { scanned[$0.offerID] == $0.accountID }) {
                selection.present(lead.persons, in: runsFor.offerID)
            } else {
                selection.join(lead.persons)
            }
        }
        return selection
    }

    /// Applies one `lead.overrides` record: `override` nil is a tombstone of `key`.
    public mutating func applyOverrideRecord(key: String, override: LeadOverride?) {
        overrides[LeadID(key)] = override
    }

    /// Whether `offer` needs matching: not matched in this run, or matched with another ICP or vocabulary.
    public func needsMatching(_ offer: OfferConfig) -> Bool {
        matchedOffers[offer.offerID] != MatchedAs(offer)
    }

    /// How far a scan reads: per partition, one past the last latest entry indexed.
    public var scanEnds: [Int32: Int64] {
        Self.ends(of: latest.values)
    }

    /// Per partition, one past the last of `positions`: how far a read reaches them all.
    public static func ends(of positions: some Sequence<Position>) -> [Int32: Int64] {
        positions.reduce(into: [:]) { ends, position in
            ends[position.partition] = max(ends[position.partition] ?? 0, position.offset + 1)
        }
    }

    /// Whether the entry of `key` at `position` is its lead's latest (the only one a scan matches).
    public func isLatest(key: String, at position: Position) -> Bool {
        latest[LeadID(key)] == position
    }

    /// The matches for `offers` of the pool entry of `key` a scan read at `position`: none
    /// unless it is its lead's latest entry; otherwise its matches (``LeadPoolMatcher``) not in the
    /// pool yet. Call ``markMatched(_:)`` for each offer once the scan's leads are published.
    public func matches(for offers: [OfferConfig], from entry: LeadPoolEntry, key: String, at position: Position,
                        now: Date) -> [LeadPoolMatcher.Match] {
        guard isLatest(key: key, at: position) else { return [] }
        return offers.compactMap { offer in
            matcher.match(offer: offer, entry: entry, override: overrides[entry.leadID], at: now)
        }
        .filter { pooledMatches[$0.lead.leadID] == nil }
    }

    /// Whether the first pass of a scan reads the record of `key` at `position`: its lead's
    /// latest entry, or the latest entry of a match whose pool lead is gone (``isOrphanMatch(_:)``:
    /// its own profile then says who the person is, and that its offer has them).
    public func selects(key: String, at position: Position) -> Bool {
        isLatest(key: key, at: position) || (pooledMatches[LeadID(key)] == position && isOrphanMatch(key))
    }

    /// Whether `key` is a match whose pool lead has no entry. A match's pool lead id holds no `@`
    /// (``LeadPoolMatcher`` matches no such entry), so it ends at the first. Its offer is the one
    /// its entry names: a discovered lead whose id holds '@' ("jane@acme.com") is indexed as a
    /// match too, and is in its own offer. (With a pool lead "jane" it is not read at all.)
    private func isOrphanMatch(_ key: String) -> Bool {
        guard let at = key.utf8.firstIndex(of: UInt8(ascii: "@")) else { return false }
        return latest[LeadID(String(key[..<at]))] == nil
    }

    /// How far the first pass reads: ``scanEnds``, and past the latest entry of each match whose
    /// pool lead is gone.
    public var selectionEnds: [Int32: Int64] {
        Self.ends(of: Array(latest.values) + pooledMatches.filter { isOrphanMatch($0.key.rawValue) }.values)
    }

    /// The first pass of a scan (``PoolScan``): tells `selection` of the record of `key` read at
    /// `position` (one ``selects(key:at:)`` reads) for each of `offers`. A lead's latest entry is
    /// read (``PersonSelection/read(_:key:)``) and its person is in the offer already (an entry
    /// of the offer's, or its match in the pool; a lead of the offer not in the pool yet is in
    /// the selection from the start, ``makeSelection(for:)``), or it matches the offer
    /// (``LeadPoolMatcher/match(offer:entry:override:at:)``), or neither. A match whose pool lead
    /// is gone joins its URLs into one person in every scan (so the choice does not depend on the
    /// offers scanned), and puts that person in its offer. The second pass publishes
    /// ``matches(for:from:key:at:now:)`` of the chosen entries, for the offers that chose them,
    /// at the same `now`.
    public func select(for offers: [OfferConfig], from entry: LeadPoolEntry, key: String, at position: Position,
                       now: Date, into selection: inout PersonSelection) {
        guard isLatest(key: key, at: position) else {
            // The entry's own offer (``isOrphanMatch(_:)``).
            guard isOrphanMatch(key) else { return }
            let offerID = entry.offerID
            let persons = PersonSelection.persons(of: entry.profile)
            if offers.contains(where: { $0.offerID == offerID }) {
                selection.present(persons, in: offerID)
            } else {
                selection.join(persons)
            }
            return
        }
        let number = selection.read(entry, key: key)
        for offer in offers {
            let matchedID = LeadPoolMatcher.matchedLeadID(entry.leadID, offerID: offer.offerID)
            if entry.offerID == offer.offerID || pooledMatches[matchedID] != nil {
                selection.present(entry: number, in: offer.offerID)
            } else if matcher.match(offer: offer, entry: entry, override: overrides[entry.leadID], at: now) != nil {
                selection.matches(entry: number, offer: offer.offerID)
            }
        }
    }

    /// Records that `offer` was matched (its matches published) with its current ICP and vocabulary.
    public mutating func markMatched(_ offer: OfferConfig) {
        matchedOffers[offer.offerID] = MatchedAs(offer)
    }

    /// Forgets an offer (its tombstone): published again, it is matched again.
    public mutating func forgetOffer(_ offerID: OfferID) {
        matchedOffers[offerID] = nil
    }
}
