import Foundation
import Kafka
import LeadModel
import LeadRules

/// Matching offers against the lead pool without holding its profiles: the pool is read up to
/// the ends of an ``OfferPoolMatching`` index, and each lead's latest entry is decoded and scored.
public enum PoolScan {
    /// Reads `topic` (the lead pool) twice, with a reader of its own each time, 500 records a poll,
    /// and gives `body` each poll's matches for `offers` (none: not called) before the next poll.
    ///
    /// 1. Up to `index`'s ``OfferPoolMatching/selectionEnds``: each lead's latest entry, and each
    ///    match whose pool lead is gone, is decoded and told to a ``PersonSelection``
    ///    (``OfferPoolMatching/select(for:from:key:at:now:into:)``), which chooses one entry per
    ///    person, and for each offer that entry if it matches and the offer has not the person
    ///    already (in the pool, or a lead of it not in the pool yet:
    ///    ``OfferPoolMatching/makeSelection(for:)``). It holds keys and profile URLs, never profiles.
    /// 2. Up to the last chosen entry: the chosen entries are decoded again and their matches
    ///    given to `body`.
    ///
    /// Returns how many entries the first pass could not decode (`undecodable` is told of each,
    /// once). A read that receives nothing for a minute before its ends throws
    /// ``KafkaConsumer/ReadToEndTimeout``: each end is one past a record compaction keeps (a
    /// lead's latest entry, a match's), so it must arrive.
    @discardableResult
    public static func matches(
        for offers: [OfferConfig], index: OfferPoolMatching, topic: String, codec: MessageCodec,
        configuration: KafkaConfiguration, undecodable: (ConsumerRecord, any Error) -> Void = { _, _ in },
        _ body: ([LeadPoolMatcher.Match]) async throws -> Void
    ) async throws -> Int {
        guard !offers.isEmpty else { return 0 }
        // One time for both passes: the second scores each chosen entry as the first did.
        let now = Date()
        var selection = index.makeSelection(for: offers)
        var skipped = 0
        try await read(topic, upTo: index.selectionEnds, configuration: configuration,
                       where: { key, position in index.selects(key: key, at: position) }) { records in
            for (record, key, position) in records {
                do {
                    let entry = try codec.decode(LeadPoolEntry.self, record: record)
                    index.select(for: offers, from: entry, key: key, at: position, now: now, into: &selection)
                } catch {
                    skipped += 1
                    undecodable(record, error)
                }
            }
        }
        // Per chosen record key, the offers (their places in `offers`) that chose it.
        let chosen = selection.chosen()
        var offersOf: [String: [Int]] = [:]
        for (place, offer) in offers.enumerated() {
            for key in chosen[offer.offerID] ?? [] { offersOf[key, default: []].append(place) }
        }
        let ends = OfferPoolMatching.ends(of: offersOf.keys.compactMap { index.latest[LeadID($0)] })
        try await read(topic, upTo: ends, configuration: configuration,
                       where: { key, position in offersOf[key] != nil && index.isLatest(key: key, at: position) }) { records in
            var matches: [LeadPoolMatcher.Match] = []
            for (record, key, position) in records {
                guard let places = offersOf[key], let entry = try? codec.decode(LeadPoolEntry.self, record: record) else { continue }
                matches += index.matches(for: places.map { offers[$0] }, from: entry, key: key, at: position, now: now)
            }
            if !matches.isEmpty { try await body(matches) }
        }
        return skipped
    }

    /// Reads `topic` from the beginning up to `ends` (per partition) and gives `body` each poll's
    /// records that `wanted` keeps, with their keys and positions.
    private static func read(
        _ topic: String, upTo ends: [Int32: Int64], configuration: KafkaConfiguration,
        where wanted: (String, OfferPoolMatching.Position) -> Bool,
        _ body: ([(ConsumerRecord, String, OfferPoolMatching.Position)]) async throws -> Void
    ) async throws {
        let ends = Dictionary(uniqueKeysWithValues: ends.map { (TopicPartition(topic: topic, partition: $0.key), $0.value) })
        guard !ends.isEmpty else { return }
        let reader = try KafkaConsumer(configuration: configuration, startingAt: ends.mapValues { _ in KafkaConsumer.beginning },
                                       properties: ["fetch.wait.max.ms": "100"])
        do {
            try await reader.read(upTo: ends, stallLimit: .seconds(60), maxRecords: 500) { records in
                try await body(records.compactMap { record in
                    let position = OfferPoolMatching.Position(partition: record.partition, offset: record.offset)
                    guard let key = record.keyString, wanted(key, position) else { return nil }
                    return (record, key, position)
                })
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }
}
