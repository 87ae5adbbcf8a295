import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Streaming

/// The profile finder's second loop: lead-pool matching of new offers.
///
/// An assign-mode reader (no group, like ``KafkaTable``) reads every partition of `lead.pool`,
/// `lead.overrides`, `leads.discovered` and its priority twin, and `offers` from the beginning and
/// keeps following them; pool records are indexed by position without being decoded
/// (``OfferPoolMatching``), and each discovered lead is kept as its id, offer and URL keys until
/// its pool entry is indexed (``OfferPoolMatching/running``), so a person whose lead for an offer
/// is still running is not matched into it again. Offers are held back until the pool, the
/// overrides and the discovered leads have been read up to the ends they had at start, so the
/// first matching sees the whole pool and every lead in flight. The offers that need matching
/// (first seen in this run, or their ICP or vocabulary changed) are matched together in one scan
/// (``PoolScan``) of two reads: the first decodes each lead's latest entry, scores it and chooses
/// one entry per person (``PersonSelection``), the second decodes the chosen again and publishes
/// their matches (``LeadPoolMatcher``: scoring-only ``LeadDiscovered`` records under
/// `<pool lead id>@<offer id>`) to `leads.discovered`, keyed by lead id, a batch per poll; each
/// match counts as a lead of its offer as soon as it is sent, so a scan later in the run does not
/// wait to read it back.
///
/// Restarts re-match every offer (nothing is checkpointed): an offer published while the process
/// was down is not missed. This is idempotent: the choice depends on the pool and the discovered
/// leads only, matches already in the pool or discovered are not published again (nor their
/// people), and the coordinator starts nothing for a lead it already knows (one published again
/// while its run is in flight is absorbed). The cost is two reads of the pool and one of the
/// discovered leads (as far back as their retention keeps) at start, scoring every entry once per
/// offer and the chosen ones again. Every instance runs the loop (no group), so N instances
/// publish each match N times; the coordinator absorbs that too.
final class OfferPoolMatchingLoop: Sendable {
    private let configuration: KafkaConfiguration
    private let topics: Topics
    private let codec: MessageCodec
    private let producer: KafkaProducer
    private let logger: Logger
    private let matcher: LeadPoolMatcher
    /// The account table, read whole: a discovered lead its account refuses is not kept.
    private let accounts: @Sendable (AccountID) -> AccountConfig?

    init(configuration: KafkaConfiguration, topics: Topics, codec: MessageCodec, producer: KafkaProducer, logger: Logger,
         matcher: LeadPoolMatcher, accounts: @escaping @Sendable (AccountID) -> AccountConfig?) {
        self.accounts = accounts
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
            } catch where Task.isCancelled {
                // A shutdown: the finder closes its producer at SIGTERM, which fails a match send
                // still waiting for the broker. The offer is matched again at the next start.
                logger.info("pool matching stopped by the shutdown: \(error)")
                return
            } catch {
                logger.error("pool matching failed, reading again in 5 s: \(error)")
                try? await Task.sleep(for: .seconds(5))
            }
        }
    }

    private func follow(_ state: inout OfferPoolMatching) async throws {
        let admin = try KafkaAdmin(configuration: configuration)
        // The pool, the overrides and the discovered leads are read to their ends before any offer is matched.
        var indexPartitions: [TopicPartition] = []
        for topic in [topics.leadPool, topics.leadOverrides, topics.leadsDiscovered, topics.leadsDiscoveredPriority] {
            indexPartitions += try await admin.partitions(of: topic)
        }
        let offerPartitions = try await admin.partitions(of: topics.offers)
        let ends = try await admin.watermarks(indexPartitions)
        var indexRemaining = ends.filter { $0.value.high > $0.value.low }.mapValues(\.high)
        let reader = try KafkaConsumer(
            configuration: configuration,
            startingAt: Dictionary(uniqueKeysWithValues: (indexPartitions + offerPartitions).map { ($0, KafkaConsumer.beginning) }),
            properties: ["fetch.wait.max.ms": "100"])
        var heldOffers: [(key: String, offer: OfferConfig?)] = []
        do {
            if indexRemaining.isEmpty { logger.info("pool and discovered leads read (empty); matching offers") }
            while !Task.isCancelled {
                let records = try await reader.poll(maxRecords: 500, timeoutMilliseconds: 200)
                for record in records {
                    guard let key = record.keyString else { continue }
                    if record.topic == topics.leadPool {
                        state.applyPoolRecord(key: key, at: .init(partition: record.partition, offset: record.offset),
                                              isTombstone: record.value == nil)
                    } else if record.topic == topics.leadOverrides {
                        state.applyOverrideRecord(key: key, override: record.value == nil ? nil : decode(LeadOverride.self, record))
                    } else if record.topic == topics.leadsDiscovered || record.topic == topics.leadsDiscoveredPriority {
                        // Not decodable: the coordinator dead-letters it, and it never runs.
                        if record.value != nil, let lead = try? codec.decode(LeadDiscovered.self, record: record) {
                            state.applyDiscoveredLead(lead, key: key, account: accounts(lead.accountID))
                        }
                    } else if record.value == nil {
                        heldOffers.append((key, nil))
                    } else if let offer = decode(OfferConfig.self, record) {
                        heldOffers.append((key, offer))
                    }
                }
                let wasReading = !indexRemaining.isEmpty
                indexRemaining = reader.unread(indexRemaining, after: records)
                if wasReading && indexRemaining.isEmpty {
                    logger.info("pool and discovered leads read (\(state.latest.count) pool leads, \(state.running.count) leads not in it); matching offers")
                }
                guard indexRemaining.isEmpty, !heldOffers.isEmpty else { continue }
                // The latest record of each offer counts; a tombstone forgets the offer.
                var offers: [OfferID: OfferConfig] = [:]
                for (key, offer) in heldOffers {
                    if offer == nil { state.forgetOffer(OfferID(key)) }
                    offers[OfferID(key)] = offer.flatMap { state.needsMatching($0) ? $0 : nil }
                }
                heldOffers = []
                guard !offers.isEmpty else { continue }
                let matched = offers.values.sorted { $0.offerID.rawValue < $1.offerID.rawValue }
                try await scan(for: matched, state: &state)
                matched.forEach { state.markMatched($0) }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }

    /// Publishes the matches of `offers` (``PoolScan``), each poll's before the next, and records
    /// each as a lead of its offer once sent (the reader reads it back later).
    private func scan(for offers: [OfferConfig], state: inout OfferPoolMatching) async throws {
        var published: [OfferID: Int] = [:]
        let index = state
        try await PoolScan.matches(for: offers, index: index, topic: topics.leadPool, codec: codec, configuration: configuration,
                                   undecodable: { record, error in skipping(record, error) }) { matches in
            _ = try await producer.send(matches.map { try codec.record($0.lead, topic: topics.leadsDiscovered, key: $0.lead.leadID.rawValue) })
            for match in matches {
                published[match.lead.offerID, default: 0] += 1
                state.applyDiscoveredLead(match.lead, key: match.lead.leadID.rawValue, account: accounts(match.lead.accountID))
            }
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
            skipping(record, error)
            return nil
        }
    }

    private func skipping(_ record: ConsumerRecord, _ error: any Error) {
        logger.warning("skipping undecodable record: \(error)", [LogKey.topic: record.topic, LogKey.offset: String(record.offset)])
    }
}
