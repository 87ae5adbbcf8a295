import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
@testable import Coordinator
import Runtime
import Streaming
import XCTest

/// The progress tracker reads its compacted inputs from the beginning on every assignment; what
/// it publishes must be where the read ends, never an earlier state met on the way.
final class ProgressCatchUpTests: XCTestCase {
    func testATrackerReadingOldPartsPublishesOnlyWhereTheyEnd() async throws {
        let (environment, admin, producer) = try await Self.namespace(partitions: 1)
        let topics = environment.topics
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
                                          consumerProperties: TestBroker.fastGroupProperties, now: { Date() }, pollBatch: 7,
                                          retention: ProgressRetention(days: 7))
            var snapshots: [ProgressSnapshot] = []
            try await withRunning({ _ = try? await tracker.run() }) {
                try await waitUntil("the search's progress published", timeoutSeconds: 60, pollMilliseconds: 200) {
                    snapshots = try await self.readAll(ProgressSnapshot.self, topics.progress, environment)
                    return snapshots.contains { $0.completed == 60 }
                }
            }
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

    /// Lead discovery may write a search's total with another partitioner than the pipeline's
    /// (librdkafka's default is CRC32, not murmur2), so the total lands in another partition
    /// than the search's parts, owned by another coordinator. The search still completes: every
    /// tracker reads every total. Here a consumer of the tracker's group holds the total's
    /// partition and does nothing with it.
    func testATotalInAnotherPartitionThanItsSearchStillCompletesTheSearch() async throws {
        let (environment, admin, producer) = try await Self.namespace(partitions: 2)
        let topics = environment.topics
        let assigned = Mailbox<[TopicPartition]>()
        // Subscribed to the totals as well, as the tracker's group was when it read them itself.
        let member = try KafkaConsumer(configuration: environment.kafka, groupID: topics.progressGroup,
                                       topics: [topics.progressParts, topics.searchTotals],
                                       properties: TestBroker.fastGroupProperties) { event in
            if case .assigned(let partitions) = event { assigned.append(partitions) }
        }
        let polling = Task { while !Task.isCancelled { _ = try? await member.poll(maxRecords: 100, timeoutMilliseconds: 100) } }
        let tracker = ProgressTracker(environment: environment, producer: producer,
                                      consumerProperties: TestBroker.fastGroupProperties, now: { Date() },
                                      retention: ProgressRetention(days: 7))
        let running = Task { try await tracker.run() }
        do {
            // Once the group has split, the member holds one partition of the parts.
            var held: [TopicPartition] = []
            try await waitUntil("the member holds one partition of the parts", timeoutSeconds: 60) {
                if let latest = assigned.drain().last { held = latest }
                return held.filter { $0.topic == topics.progressParts }.count == 1
            }
            let memberPartition = held.first { $0.topic == topics.progressParts }!.partition
            let trackerPartition: Int32 = 1 - memberPartition
            // A search whose parts are the tracker's; its total goes to the member's partition.
            let search = SearchID((0...).lazy.map { "search-\($0)" }.first {
                KafkaPartitioner.partition(forKey: $0, partitionCount: 2) == trackerPartition
            }!)
            var total = try environment.codec.record(
                SearchTotalDeclared(searchID: search, accountID: "acct-1", total: 60, declaredAt: Date()),
                topic: topics.searchTotals, key: search.rawValue)
            total.partition = memberPartition
            var part = try environment.codec.record(
                SearchProgressPart(searchID: search, accountID: "acct-1", partition: 0, completed: 60, updatedAt: Date()),
                topic: topics.progressParts, key: "\(search.rawValue)/0")
            part.partition = trackerPartition
            _ = try await producer.send([total, part])

            var snapshots: [ProgressSnapshot] = []
            try await waitUntil("the search completed", timeoutSeconds: 60, pollMilliseconds: 200) {
                snapshots = try await self.readAll(ProgressSnapshot.self, topics.progress, environment)
                return snapshots.contains { $0.state == .completed }
            }
            XCTAssertEqual(snapshots.last?.total, 60)
            XCTAssertEqual(snapshots.last?.completed, 60)
        } catch {
            running.cancel()
            polling.cancel()
            _ = try? await running.value
            await member.close()
            await producer.close()
            try? await admin.deleteTopics(topics.all)
            throw error
        }
        running.cancel()
        polling.cancel()
        _ = try? await running.value
        await member.close()
        await producer.close()
        try await admin.deleteTopics(topics.all)
    }

    /// A namespace of its own with its topics made, `partitions` to each lead-keyed one.
    private static func namespace(partitions: Int) async throws -> (PipelineEnvironment, KafkaAdmin, KafkaProducer) {
        let environment = try PipelineEnvironment(service: "coordinator", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("progress"),
            "PIPELINE_PARTITIONS": String(partitions), "LOG_LEVEL": "warning",
        ])
        try await environment.ensureTopics()
        return (environment, try KafkaAdmin(configuration: environment.kafka), try KafkaProducer(configuration: environment.kafka))
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
