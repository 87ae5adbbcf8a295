import Foundation
import Kafka
import LeadModel
import LeadRules

/// Matching offers against the lead pool without holding its profiles: the pool is read up to
/// the ends of an ``OfferPoolMatching`` index, and each lead's latest entry is decoded and scored.
public enum PoolScan {
    /// Reads `topic` (the lead pool) up to `index`'s ends with a reader of its own, 500 records a
    /// poll, and gives `body` each poll's matches for `offers` (none: not called) before the next
    /// poll. Returns how many latest entries could not be decoded (`undecodable` is told of each).
    /// A read that receives nothing for a minute before its ends throws ``KafkaConsumer/ReadToEndTimeout``:
    /// each end is one past a lead's latest entry, which compaction keeps, so it must arrive.
    @discardableResult
    public static func matches(
        for offers: [OfferConfig], index: OfferPoolMatching, topic: String, codec: MessageCodec,
        configuration: KafkaConfiguration, undecodable: (ConsumerRecord, any Error) -> Void = { _, _ in },
        _ body: ([LeadPoolMatcher.Match]) async throws -> Void
    ) async throws -> Int {
        let ends = Dictionary(uniqueKeysWithValues: index.scanEnds.map { (TopicPartition(topic: topic, partition: $0.key), $0.value) })
        guard !ends.isEmpty, !offers.isEmpty else { return 0 }
        let reader = try KafkaConsumer(configuration: configuration, startingAt: ends.mapValues { _ in KafkaConsumer.beginning },
                                       properties: ["fetch.wait.max.ms": "100"])
        var skipped = 0
        do {
            try await reader.read(upTo: ends, stallLimit: .seconds(60), maxRecords: 500) { records in
                let now = Date()
                var matches: [LeadPoolMatcher.Match] = []
                for record in records {
                    let position = OfferPoolMatching.Position(partition: record.partition, offset: record.offset)
                    guard let key = record.keyString, index.isLatest(key: key, at: position) else { continue }
                    do {
                        let entry = try codec.decode(LeadPoolEntry.self, record: record)
                        matches += index.matches(for: offers, from: entry, key: key, at: position, now: now)
                    } catch {
                        skipped += 1
                        undecodable(record, error)
                    }
                }
                if !matches.isEmpty { try await body(matches) }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return skipped
    }
}
