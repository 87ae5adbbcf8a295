import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
@testable import Coordinator
import Runtime
import Streaming
import Synchronization
import XCTest

/// A coordinator joins its group only once its tables are read: a member that has joined but
/// does not poll gets partitions nobody reads, and holds up every rebalance of its group until
/// it polls.
final class CoordinatorGroupJoinTests: XCTestCase {
    /// A table read that waits until it is released.
    final class HeldRead: Sendable {
        private let state = Mutex((isStarted: false, isReleased: false))
        var isStarted: Bool { state.withLock { $0.isStarted } }
        func release() { state.withLock { $0.isReleased = true } }

        func read(_ tables: KafkaTableSet) async throws {
            state.withLock { $0.isStarted = true }
            try await waitUntil("the table read released", timeoutSeconds: 120, pollMilliseconds: 20) {
                state.withLock { $0.isReleased }
            }
            try await tables.start()
        }
    }

    /// Another member of the coordinators' group owns every input partition; a coordinator
    /// starts, and its table read is held. The other member keeps every partition, with no
    /// rebalance, while the read is held (watched for as long as a join takes here, polling);
    /// once the tables are read the coordinator joins, restores and takes its share. Before:
    /// the coordinator subscribed before it read its tables, joined in the background without
    /// polling, and the other member was made to give half its partitions to a member that read
    /// none of them while its tables loaded.
    func testACoordinatorJoinsItsGroupOnlyOnceItsTablesAreRead() async throws {
        let environment = try PipelineEnvironment(service: "coordinator", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("coordinator-join"),
            "PIPELINE_PARTITIONS": "2", "LOG_LEVEL": "warning",
        ])
        try await environment.ensureTopics()
        let topics = environment.topics
        try await deletingTopics(topics.all, configuration: environment.kafka) {
            let admin = try KafkaAdmin(configuration: environment.kafka)
            var all: Set<TopicPartition> = []
            for topic in topics.coordinatorInputs { all.formUnion(try await admin.partitions(of: topic)) }
            XCTAssertEqual(all.count, 14)
            let rebalances = Mutex<[RebalanceEvent]>([])
            let other = try KafkaConsumer(configuration: environment.kafka, groupID: topics.coordinatorGroup,
                                          topics: topics.coordinatorInputs, properties: TestBroker.fastGroupProperties) { event in
                rebalances.withLock { $0.append(event) }
            }
            try await waitUntil("the other member owns every partition", pollMilliseconds: 0) {
                _ = try await other.poll(maxRecords: 10, timeoutMilliseconds: 100)
                return other.assignment == all
            }
            rebalances.withLock { $0 = [] }

            let hold = HeldRead()
            let health = HealthStatus()
            let coordinator = Coordinator(
                environment: environment, settings: CoordinatorSettings(consumerProperties: TestBroker.fastGroupProperties),
                now: { Date() }, metrics: MetricsRegistry(), health: health, readTables: { try await hold.read($0) })
            let task = Task { try await coordinator.run() }
            defer { task.cancel() }
            try await waitUntil("the table read begun") { hold.isStarted }
            // The absence of a join is watched for a while: a member that joined within it
            // (about 1 s here) would have made the other give partitions up.
            let watched = ContinuousClock.now
            while ContinuousClock.now - watched < .seconds(6) {
                _ = try await other.poll(maxRecords: 10, timeoutMilliseconds: 100)
            }
            XCTAssertEqual(other.assignment.count, all.count, "the other member keeps every partition while the tables are read")
            XCTAssertEqual(rebalances.withLock { $0 }.count, 0, "no rebalance while the tables are read")
            XCTAssertEqual(health.notReadyReason, "restoring")

            // The tables read, the coordinator joins: the other member keeps only its share.
            hold.release()
            try await waitUntil("the coordinator joined and took its share", timeoutSeconds: 60, pollMilliseconds: 0) {
                _ = try await other.poll(maxRecords: 10, timeoutMilliseconds: 100)
                return health.notReadyReason == nil && other.assignment.count == all.count / 2
            }
            task.cancel()
            _ = try? await task.value
            await other.close()
        }
    }
}
