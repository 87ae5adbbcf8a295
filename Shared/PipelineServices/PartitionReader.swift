import Foundation
import Kafka

/// Reads partitions whole, outside any group: how a process restores state from a changelog.
public enum PartitionReader {
    /// Reads `partitions` from their start to the end (high watermark) they have when called,
    /// handing each record to `body` in offset order per partition.
    public static func readToEnd(
        _ partitions: [TopicPartition], configuration: KafkaConfiguration, _ body: (ConsumerRecord) throws -> Void
    ) async throws {
        let admin = try KafkaAdmin(configuration: configuration)
        let ends = try await admin.watermarks(partitions)
        let toRead = partitions.filter { (ends[$0]?.high ?? 0) > (ends[$0]?.low ?? 0) }
        guard !toRead.isEmpty else { return }
        let reader = try KafkaConsumer(configuration: configuration,
                                       startingAt: Dictionary(uniqueKeysWithValues: toRead.map { ($0, KafkaConsumer.beginning) }),
                                       properties: ["fetch.wait.max.ms": "50"])
        var remaining = Set(toRead)
        do {
            while !remaining.isEmpty {
                for record in try await reader.poll(maxRecords: 5000) {
                    if record.offset + 1 >= ends[record.topicPartition]?.high ?? 0 { remaining.remove(record.topicPartition) }
                    try body(record)
                }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }
}
