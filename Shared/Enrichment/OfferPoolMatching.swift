import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Streaming

/// What the profile finder's offer loop knows: a slim index of the lead pool and the offers it
/// has matched in this run. Pure (no Kafka): the loop feeds it records and publishes what it returns.
///
/// The index keeps, per pool lead, only what ``LeadPoolMatcher`` needs (the offer it was found
/// for and its profile, which the match carries as `poolProfile`); the ids of pool entries that are
/// matches themselves (`<pool lead id>@<offer id>`) are kept as ids only, so a match that already
/// reached the pool is not published again (after a restart, or when an offer's ICP changes).
public struct OfferPoolMatching: Sendable {
    /// One pool lead, as matching needs it.
    public struct PoolProfile: Hashable, Sendable {
        /// The offer it was found for (matching skips entries of the offer being matched).
        public var offerID: OfferID
        /// The account that found it.
        public var accountID: AccountID
        /// The enriched profile.
        public var profile: EnrichedProfile
    }

    /// The matcher (its ``LeadPoolMatcher/minimumFit`` is `POOL_MATCH_MIN_FIT`).
    public let matcher: LeadPoolMatcher
    /// Pool leads that are not matches, by lead id: the latest entry wins, a tombstone removes.
    public private(set) var pool: [LeadID: PoolProfile] = [:]
    /// Pool leads that are matches (`…@…`).
    public private(set) var pooledMatches: Set<LeadID> = []
    /// The latest `lead.overrides` record per lead: a disqualified lead makes no matches.
    public private(set) var overrides: [LeadID: LeadOverride] = [:]
    /// The ideal customer profile each offer was last matched with in this run.
    public private(set) var matchedOffers: [OfferID: IdealCustomerProfile] = [:]

    /// Creates an empty state.
    public init(matcher: LeadPoolMatcher = LeadPoolMatcher()) {
        self.matcher = matcher
    }

    /// Applies one `lead.pool` record: `entry` nil is a tombstone of `key`.
    public mutating func applyPoolRecord(key: String, entry: LeadPoolEntry?) {
        let leadID = LeadID(key)
        guard let entry else {
            pool[leadID] = nil
            pooledMatches.remove(leadID)
            return
        }
        if key.contains("@") {
            pooledMatches.insert(leadID)
        } else {
            pool[leadID] = PoolProfile(offerID: entry.offerID, accountID: entry.accountID, profile: entry.profile)
        }
    }

    /// Applies one `lead.overrides` record: `override` nil is a tombstone of `key`.
    public mutating func applyOverrideRecord(key: String, override: LeadOverride?) {
        overrides[LeadID(key)] = override
    }

    /// Applies one `offers` record (`offer` nil is a tombstone of `key`) and returns the leads to
    /// publish: nil when the offer needs no matching (removed, or matched before in this run with
    /// the same ICP); otherwise the matches not in the pool yet (possibly none). Call
    /// ``markMatched(_:)`` once they are published.
    public func leadsToPublish(for offer: OfferConfig, at now: Date) -> [LeadDiscovered]? {
        guard matchedOffers[offer.offerID] != offer.icp else { return nil }
        let entries = pool.map { leadID, item in
            LeadPoolEntry(leadID: leadID, accountID: item.accountID, offerID: item.offerID, role: nil, bio: nil, industry: nil,
                          company: nil, location: nil, skills: [], profile: item.profile, finishedAt: now)
        }
        return matcher.matches(offer: offer, pool: entries, overrides: overrides, at: now)
            .map(\.lead)
            .filter { !pooledMatches.contains($0.leadID) }
    }

    /// Records that `offer` was matched (its matches published) with its current ICP.
    public mutating func markMatched(_ offer: OfferConfig) {
        matchedOffers[offer.offerID] = offer.icp
    }

    /// Forgets an offer (its tombstone): published again, it is matched again.
    public mutating func forgetOffer(_ offerID: OfferID) {
        matchedOffers[offerID] = nil
    }
}

/// The profile finder's second loop: lead-pool matching of new offers.
///
/// An assign-mode reader (no group, like ``KafkaTable``) reads every partition of `lead.pool`
/// and `offers` from the beginning. Offers are held back until the pool has been read up to the
/// end it had at start, so the first matching sees the whole pool; after that both are followed.
/// An offer not matched before in this run (first seen, or its ICP changed) is matched against
/// the pool index (``OfferPoolMatching``) and its matches (``LeadPoolMatcher``: scoring-only
/// ``LeadDiscovered`` records under `<pool lead id>@<offer id>`) are published to
/// `leads.discovered`, keyed by lead id.
///
/// Restarts re-match every offer (nothing is checkpointed): an offer published while the process
/// was down is not missed. This is idempotent: matched ids are deterministic, matches already in
/// the pool are not published again, and the coordinator starts nothing for a lead it already
/// knows (one published again while its run is in flight is absorbed). The cost is one scoring
/// pass of the pool per offer at start. Every instance runs the loop (no group), so N instances
/// publish each match N times; the coordinator absorbs that too.
final class OfferPoolMatchingLoop: Sendable {
    private let configuration: KafkaConfiguration
    private let topics: Topics
    private let codec: MessageCodec
    private let producer: KafkaProducer
    private let logger: Logger
    private let matcher: LeadPoolMatcher

    init(configuration: KafkaConfiguration, topics: Topics, codec: MessageCodec, producer: KafkaProducer, logger: Logger,
         matcher: LeadPoolMatcher) {
        self.configuration = configuration
        self.topics = topics
        self.codec = codec
        self.producer = producer
        self.logger = logger
        self.matcher = matcher
    }

    /// Runs until cancelled; a Kafka failure is logged and the reading starts over after a pause
    /// (offers matched in this run stay matched).
    func run() async {
        var state = OfferPoolMatching(matcher: matcher)
        while !Task.isCancelled {
            do {
                try await follow(&state)
            } catch is CancellationError {
                return
            } catch {
                logger.error("pool matching failed, reading again in 5 s: \(error)")
                try? await Task.sleep(for: .seconds(5))
            }
        }
    }

    private func follow(_ state: inout OfferPoolMatching) async throws {
        let admin = try KafkaAdmin(configuration: configuration)
        // The pool and the overrides are read to their ends before any offer is matched.
        let poolPartitions = try await admin.partitions(of: topics.leadPool) + admin.partitions(of: topics.leadOverrides)
        let offerPartitions = try await admin.partitions(of: topics.offers)
        let ends = try await admin.watermarks(poolPartitions)
        var poolRemaining = Set(poolPartitions.filter { (ends[$0]?.high ?? 0) > (ends[$0]?.low ?? 0) })
        let reader = try KafkaConsumer(
            configuration: configuration,
            startingAt: Dictionary(uniqueKeysWithValues: (poolPartitions + offerPartitions).map { ($0, KafkaConsumer.beginning) }),
            properties: ["fetch.wait.max.ms": "100"])
        var heldOffers: [(key: String, offer: OfferConfig?)] = []
        do {
            if poolRemaining.isEmpty { logger.info("pool read (empty); matching offers") }
            while !Task.isCancelled {
                let records = try await reader.poll(maxRecords: 2000, timeoutMilliseconds: 200)
                for record in records {
                    guard let key = record.keyString else { continue }
                    if record.topic == topics.leadPool || record.topic == topics.leadOverrides {
                        if record.topic == topics.leadOverrides {
                            state.applyOverrideRecord(key: key, override: record.value == nil ? nil : decode(LeadOverride.self, record))
                        } else if record.value == nil {
                            state.applyPoolRecord(key: key, entry: nil)
                        } else if let entry = decode(LeadPoolEntry.self, record) {
                            state.applyPoolRecord(key: key, entry: entry)
                        }
                        if !poolRemaining.isEmpty, record.offset + 1 >= ends[record.topicPartition]?.high ?? 0 {
                            poolRemaining.remove(record.topicPartition)
                            if poolRemaining.isEmpty { logger.info("pool read (\(state.pool.count) profiles); matching offers") }
                        }
                    } else if record.value == nil {
                        heldOffers.append((key, nil))
                    } else if let offer = decode(OfferConfig.self, record) {
                        heldOffers.append((key, offer))
                    }
                }
                guard poolRemaining.isEmpty, !heldOffers.isEmpty else { continue }
                let offers = heldOffers
                heldOffers = []
                for (key, offer) in offers {
                    try await handle(key: key, offer: offer, state: &state)
                }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }

    private func handle(key: String, offer: OfferConfig?, state: inout OfferPoolMatching) async throws {
        guard let offer else {
            state.forgetOffer(OfferID(key))
            return
        }
        guard let leads = state.leadsToPublish(for: offer, at: Date()) else { return }
        if !leads.isEmpty {
            _ = try await producer.send(leads.map { try codec.record($0, topic: topics.leadsDiscovered, key: $0.leadID.rawValue) })
        }
        state.markMatched(offer)
        logger.info("offer matched against the pool: \(leads.count) scoring-only leads published",
                    ["offer": offer.offerID.rawValue, "pool": String(state.pool.count)])
    }

    private func decode<T: Message>(_ type: T.Type, _ record: ConsumerRecord) -> T? {
        guard record.value != nil else { return nil }
        do {
            return try codec.decode(T.self, record: record)
        } catch {
            logger.warning("skipping undecodable record: \(error)", [LogKey.topic: record.topic, LogKey.offset: String(record.offset)])
            return nil
        }
    }
}
