import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
@testable import Coordinator
import Streaming
import XCTest

/// The progress tracker reads its compacted inputs from the beginning on every assignment; what
/// it publishes must be where the read ends, never an earlier state met on the way.
final class ProgressCatchUpTests: XCTestCase {
    func testATrackerReadingOldPartsPublishesOnlyWhereTheyEnd() async throws {
        let environment = try PipelineEnvironment(service: "coordinator", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("progress"),
            "PIPELINE_PARTITIONS": "1", "LOG_LEVEL": "warning",
        ])
        try await environment.ensureTopics()
        let topics = environment.topics
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let producer = try KafkaProducer(configuration: environment.kafka)
        do {
            // A search of 60 leads as its part was rewritten while they finished, one by one.
            let search: SearchID = "search-1"
            var records = [try environment.codec.record(
                SearchTotalDeclared(searchID: search, accountID: "acct-1", total: 60, declaredAt: Date()),
                topic: topics.searchTotals, key: search.rawValue)]
            for completed in 1...60 {
                let part = SearchProgressPart(searchID: search, accountID: "acct-1", partition: 0, enriching: 60 - completed,
                                              completed: completed, updatedAt: Date())
                records.append(try environment.codec.record(part, topic: topics.progressParts, key: part.key))
            }
            _ = try await producer.send(records)

            // Polls of 7 records: the tracker needs several to read the parts to their end.
            let tracker = ProgressTracker(environment: environment, producer: producer,
                                          consumerProperties: TestBroker.fastGroupProperties, now: { Date() }, pollBatch: 7)
            let running = Task { try await tracker.run() }
            var snapshots: [ProgressSnapshot] = []
            try await waitUntil("the search's progress published", timeoutSeconds: 60, pollMilliseconds: 200) {
                snapshots = try await self.readAll(ProgressSnapshot.self, topics.progress, environment)
                return snapshots.contains { $0.completed == 60 }
            }
            running.cancel()
            _ = try? await running.value
            XCTAssertEqual(snapshots.map(\.completed), [60], "only where the parts end: \(snapshots.map(\.completed))")
            XCTAssertEqual(snapshots.first?.state, .completed)
        } catch {
            await producer.close()
            try? await admin.deleteTopics(topics.all)
            throw error
        }
        await producer.close()
        try await admin.deleteTopics(topics.all)
    }

    private func readAll<T: Message>(_ type: T.Type, _ topic: String, _ environment: PipelineEnvironment) async throws -> [T] {
        let partitions = try await KafkaAdmin(configuration: environment.kafka).partitions(of: topic)
        var values: [T] = []
        try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka) {
            values.append(try environment.codec.decode(T.self, record: $0))
        }
        return values
    }
}
