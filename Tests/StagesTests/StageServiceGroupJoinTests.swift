import Foundation
import Kafka
import Runtime
import KafkaTestSupport
import LeadModel
import Stages
import Streaming
import Synchronization
import XCTest

/// A stage joins its group only once its tables are read: a member that has joined but does not
/// poll gets partitions nobody reads, and holds up every rebalance of its group until it polls.
final class StageServiceGroupJoinTests: XCTestCase {
    /// A table whose read goes on until it is released.
    final class HeldTable: StageTable {
        private let state = Mutex((isStarted: false, isReleased: false))
        var isStarted: Bool { state.withLock { $0.isStarted } }
        func release() { state.withLock { $0.isReleased = true } }

        func start() async throws {
            state.withLock { $0.isStarted = true }
            while !state.withLock({ $0.isReleased }) { try await Task.sleep(for: .milliseconds(20)) }
        }

        func watch() async throws {
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(50)) }
        }

        func stop() async {}
    }

    /// While the stage reads its table, another member of its group gets every partition at
    /// once; once the table is read the stage joins and takes its share. Before: the stage
    /// subscribed when it was created, joined in the background without polling, and the other
    /// member's join waited for it (up to `max.poll.interval.ms`, 30 s here), the group's
    /// partitions read by nobody meanwhile.
    func testAStageJoinsItsGroupOnlyOnceItsTablesAreRead() async throws {
        try await withNamespace(service: "finalize-stage") { environment in
            let table = HeldTable()
            let service = try StageService(
                environment: environment, configuration: StageConfiguration(consumerProperties: TestBroker.fastGroupProperties),
                handler: FinalizeStageHandler(service: "finalize-stage"), tables: [table],
                metricsSettings: MetricsSettings(port: nil))
            let task = Task { try await service.run() }
            defer { task.cancel() }
            try await waitUntil("the table read begun") { table.isStarted }
            try await Task.sleep(for: .seconds(1))  // time to join, were it subscribed

            let admin = try KafkaAdmin(configuration: environment.kafka)
            var all: Set<TopicPartition> = []
            for topic in service.inputTopics { all.formUnion(try await admin.partitions(of: topic)) }
            XCTAssertEqual(all.count, 4)
            let other = try KafkaConsumer(configuration: environment.kafka, groupID: service.groupID, topics: service.inputTopics,
                                          properties: TestBroker.fastGroupProperties)
            let started = ContinuousClock.now
            while other.assignment != all && ContinuousClock.now - started < .seconds(15) {
                _ = try await other.poll(maxRecords: 10, timeoutMilliseconds: 100)
            }
            XCTAssertEqual(other.assignment, all, "the other member owns every partition while the stage reads its table")
            XCTAssertEqual(service.health.notReadyReason, "waiting for group, tables")

            // The table read, the stage joins: the other member keeps only its share.
            table.release()
            try await waitUntil("the stage joined and took its share", timeoutSeconds: 30) {
                _ = try await other.poll(maxRecords: 10, timeoutMilliseconds: 100)
                return service.health.notReadyReason == nil && other.assignment.count == 2
            }
            task.cancel()
            _ = try? await task.value
            await other.close()
        }
    }
}
