import Foundation
import LeadModel

/// What lead-pool matching knows (the profile finder's offer loop, `leadctl pool match`): where
/// each pool lead's latest entry is, and the offers matched in this run. Pure (no Kafka): a reader
/// feeds it records, and a scan (``PoolScan``) asks it for each entry's matches.
///
/// The index keeps no profiles: per pool lead only the position (partition, offset) of its latest
/// entry, about 70 bytes whatever the profile's size (165 with ids as long as a UUID: a key of up
/// to 15 bytes is stored inline), so a process does not grow with the pool's profiles. Matching
/// offers is a scan of two passes: the pool is read again up to the index's ends, and each entry
/// that is still its lead's latest is scored and chosen or not, one per person and offer
/// (``select(for:from:key:at:now:into:)``); then the chosen entries are read again and matched
/// (``matches(for:from:key:at:now:)``). The ids of pool entries that
/// are matches themselves (`<pool lead id>@<offer id>`) are kept as ids only, so a match that
/// already reached the pool is not published again (after a restart, or when an offer's ICP
/// changes).
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
    /// Pool leads that are matches (`…@…`).
    public private(set) var pooledMatches: Set<LeadID> = []
    /// Per partition, one past the last match record read.
    private var matchEnds: [Int32: Int64] = [:]
    /// The latest `lead.overrides` record per lead: a disqualified lead makes no matches.
    public private(set) var overrides: [LeadID: LeadOverride] = [:]
    /// What each offer was last matched with in this run (its ICP and vocabulary).
    public private(set) var matchedOffers: [OfferID: MatchedAs] = [:]

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
        if isTombstone {
            latest[leadID] = nil
            pooledMatches.remove(leadID)
        } else if key.contains("@") {
            pooledMatches.insert(leadID)
            matchEnds[position.partition] = max(matchEnds[position.partition] ?? 0, position.offset + 1)
        } else {
            latest[leadID] = position
        }
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
        latest.values.reduce(into: [:]) { ends, position in
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
        .filter { !pooledMatches.contains($0.lead.leadID) }
    }

    /// Whether the first pass of a scan for `offers` reads the record of `key` at `position`:
    /// its lead's latest entry, or a match of one of `offers` in the pool whose pool lead is gone
    /// (its own profile then says who is in the offer).
    public func selects(key: String, at position: Position, for offers: [OfferConfig]) -> Bool {
        isLatest(key: key, at: position) || orphanMatch(key, of: offers) != nil
    }

    /// The offer `key` is a match of, when it is one of `offers`' and its pool lead has no entry.
    private func orphanMatch(_ key: String, of offers: [OfferConfig]) -> OfferID? {
        guard key.contains("@"), pooledMatches.contains(LeadID(key)) else { return nil }
        return offers.first { offer in
            key.hasSuffix("@" + offer.offerID.rawValue)
                && latest[LeadID(String(key.dropLast(offer.offerID.rawValue.utf8.count + 1)))] == nil
        }?.offerID
    }

    /// How far the first pass reads: ``scanEnds``, and past the last match in the pool.
    public var selectionEnds: [Int32: Int64] {
        scanEnds.merging(matchEnds, uniquingKeysWith: max)
    }

    /// The first pass of a scan (``PoolScan``): tells `selection` of the record of `key` read at
    /// `position` (one ``selects(key:at:for:)`` reads) for each of `offers`. A lead's latest
    /// entry is read (``PersonSelection/read(_:key:)``) and its person is in the offer already (an
    /// entry of the offer's, or its match in the pool), or it matches the offer
    /// (``LeadPoolMatcher/match(offer:entry:override:at:)``), or neither. A match whose pool lead
    /// is gone puts its person in its offer. The second pass publishes
    /// ``matches(for:from:key:at:now:)`` of the chosen entries, for the offers that chose them,
    /// at the same `now`.
    public func select(for offers: [OfferConfig], from entry: LeadPoolEntry, key: String, at position: Position,
                       now: Date, into selection: inout PersonSelection) {
        guard isLatest(key: key, at: position) else {
            if let offer = orphanMatch(key, of: offers) { selection.present(entry.profile, in: offer) }
            return
        }
        let number = selection.read(entry, key: key)
        for offer in offers {
            let matchedID = LeadPoolMatcher.matchedLeadID(entry.leadID, offerID: offer.offerID)
            if entry.offerID == offer.offerID || pooledMatches.contains(matchedID) {
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
