import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Streaming

/// What the profile finder's offer loop knows: where each pool lead's latest entry is, and the
/// offers it has matched in this run. Pure (no Kafka): the loop feeds it records and publishes what
/// it returns.
///
/// The index keeps no profiles: per pool lead only the position (partition, offset) of its latest
/// entry, about 60 bytes whatever the profile's size, so the process does not grow with the pool's
/// profiles. Matching an offer is a scan: the loop reads the pool again up to the index's ends, and
/// each entry that is still its lead's latest is scored (``leads(for:from:key:at:now:)``). The ids of pool
/// entries that are matches themselves (`<pool lead id>@<offer id>`) are kept as ids only, so a
/// match that already reached the pool is not published again (after a restart, or when an
/// offer's ICP changes).
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
    /// The latest `lead.overrides` record per lead: a disqualified lead makes no matches.
    public private(set) var overrides: [LeadID: LeadOverride] = [:]
    /// The ideal customer profile each offer was last matched with in this run.
    public private(set) var matchedOffers: [OfferID: IdealCustomerProfile] = [:]

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
        } else {
            latest[leadID] = position
        }
    }

    /// Applies one `lead.overrides` record: `override` nil is a tombstone of `key`.
    public mutating func applyOverrideRecord(key: String, override: LeadOverride?) {
        overrides[LeadID(key)] = override
    }

    /// Whether `offer` needs matching: not matched in this run, or matched with another ICP.
    public func needsMatching(_ offer: OfferConfig) -> Bool {
        matchedOffers[offer.offerID] != offer.icp
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

    /// The leads to publish for `offers` from the pool entry of `key` a scan read at `position`:
    /// none unless it is its lead's latest entry; otherwise its matches (``LeadPoolMatcher``) not
    /// in the pool yet. Call ``markMatched(_:)`` for each offer once the scan's leads are published.
    public func leads(for offers: [OfferConfig], from entry: LeadPoolEntry, key: String, at position: Position,
                      now: Date) -> [LeadDiscovered] {
        guard isLatest(key: key, at: position) else { return [] }
        return offers.compactMap { offer in
            matcher.match(offer: offer, entry: entry, override: overrides[entry.leadID], at: now)?.lead
        }
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
/// An assign-mode reader (no group, like ``KafkaTable``) reads every partition of `lead.pool`,
/// `lead.overrides` and `offers` from the beginning and keeps following them; pool records are
/// indexed by position without being decoded (``OfferPoolMatching``). Offers are held back until
/// the pool has been read up to the end it had at start, so the first matching sees the whole
/// pool. The offers that need matching (first seen in this run, or their ICP changed) are matched
/// together in one scan: a second reader reads the pool up to the index's ends, decodes each
/// lead's latest entry, and publishes its matches (``LeadPoolMatcher``: scoring-only
/// ``LeadDiscovered`` records under `<pool lead id>@<offer id>`) to `leads.discovered`, keyed by
/// lead id, a batch per poll.
///
/// Restarts re-match every offer (nothing is checkpointed): an offer published while the process
/// was down is not missed. This is idempotent: matched ids are deterministic, matches already in
/// the pool are not published again, and the coordinator starts nothing for a lead it already
/// knows (one published again while its run is in flight is absorbed). The cost is one scoring
/// pass of the pool at start. Every instance runs the loop (no group), so N instances publish each
/// match N times; the coordinator absorbs that too.
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
                let records = try await reader.poll(maxRecords: 500, timeoutMilliseconds: 200)
                for record in records {
                    guard let key = record.keyString else { continue }
                    if record.topic == topics.leadPool || record.topic == topics.leadOverrides {
                        if record.topic == topics.leadOverrides {
                            state.applyOverrideRecord(key: key, override: record.value == nil ? nil : decode(LeadOverride.self, record))
                        } else {
                            state.applyPoolRecord(key: key, at: .init(partition: record.partition, offset: record.offset),
                                                  isTombstone: record.value == nil)
                        }
                        if !poolRemaining.isEmpty, record.offset + 1 >= ends[record.topicPartition]?.high ?? 0 {
                            poolRemaining.remove(record.topicPartition)
                            if poolRemaining.isEmpty { logger.info("pool read (\(state.latest.count) leads); matching offers") }
                        }
                    } else if record.value == nil {
                        heldOffers.append((key, nil))
                    } else if let offer = decode(OfferConfig.self, record) {
                        heldOffers.append((key, offer))
                    }
                }
                guard poolRemaining.isEmpty, !heldOffers.isEmpty else { continue }
                // The latest record of each offer counts; a tombstone forgets the offer.
                var offers: [OfferID: OfferConfig] = [:]
                for (key, offer) in heldOffers {
                    if offer == nil { state.forgetOffer(OfferID(key)) }
                    offers[OfferID(key)] = offer.flatMap { state.needsMatching($0) ? $0 : nil }
                }
                heldOffers = []
                guard !offers.isEmpty else { continue }
                let matched = offers.values.sorted { $0.offerID.rawValue < $1.offerID.rawValue }
                try await scan(for: matched, state: state)
                matched.forEach { state.markMatched($0) }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }

    /// Reads the pool up to the index's ends with a reader of its own and publishes the matches
    /// of `offers`, each poll's before the next poll.
    private func scan(for offers: [OfferConfig], state: OfferPoolMatching) async throws {
        let ends = Dictionary(uniqueKeysWithValues: state.scanEnds.map { (TopicPartition(topic: topics.leadPool, partition: $0.key), $0.value) })
        var published: [OfferID: Int] = [:]
        if !ends.isEmpty {
            let reader = try KafkaConsumer(configuration: configuration, startingAt: ends.mapValues { _ in KafkaConsumer.beginning },
                                           properties: ["fetch.wait.max.ms": "100"])
            do {
                // Each end is one past a lead's latest entry, which compaction keeps, so the scan
                // reaches it; a reader stuck for a minute throws, and the loop starts over.
                try await reader.read(upTo: ends, stallLimit: .seconds(60), maxRecords: 500) { records in
                    let now = Date()
                    var leads: [LeadDiscovered] = []
                    for record in records {
                        let position = OfferPoolMatching.Position(partition: record.partition, offset: record.offset)
                        guard let key = record.keyString, state.isLatest(key: key, at: position),
                              let entry = decode(LeadPoolEntry.self, record) else { continue }
                        leads += state.leads(for: offers, from: entry, key: key, at: position, now: now)
                    }
                    guard !leads.isEmpty else { return }
                    _ = try await producer.send(leads.map { try codec.record($0, topic: topics.leadsDiscovered, key: $0.leadID.rawValue) })
                    for lead in leads { published[lead.offerID, default: 0] += 1 }
                }
            } catch {
                await reader.close()
                throw error
            }
            await reader.close()
        }
        for offer in offers {
            logger.info("offer matched against the pool: \(published[offer.offerID] ?? 0) scoring-only leads published",
                        ["offer": offer.offerID.rawValue, "pool": String(state.latest.count)])
        }
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
