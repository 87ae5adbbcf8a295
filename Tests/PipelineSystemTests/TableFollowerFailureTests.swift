import Foundation
@testable import Kafka
import KafkaTestSupport
import LeadModel
@testable import Coordinator
import Runtime
import Stages
@testable import Streaming
import Synchronization
import XCTest

/// A process whose tables are no longer followed stops: it would go on answering from rows that
/// no longer change (an account paused, an offer changed, an override set after the failure all
/// unseen), and only a log line would say so.
final class TableFollowerFailureTests: XCTestCase {
    /// How long a service is given to stop once its tables' follower failed.
    private static let stopBound = Duration.seconds(20)

    private func withNamespace(_ body: (PipelineEnvironment) async throws -> Void) async throws {
        let environment = try PipelineEnvironment(service: "table-follower", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("table-follower"),
            "PIPELINE_PARTITIONS": "1", "LOG_LEVEL": "warning",
        ])
        try await environment.ensureTopics()
        try await deletingTopics(environment.topics.all, configuration: environment.kafka) { try await body(environment) }
    }

    /// Fails the follower of `tables` as a fatal client error does, and returns how `task` ended
    /// within ``stopBound`` (nil: still running, and then cancelled).
    private func failFollowing(of tables: KafkaTableSet, andAwait task: Task<Void, any Error>) async throws -> Result<Void, any Error>? {
        let reader = try XCTUnwrap(tables.followingReader, "the tables are followed")
        reader.raiseFatalError(reason: "a test's fatal error")
        let ended = await result(within: Self.stopBound) { await task.result }
        if ended == nil {
            task.cancel()
            _ = await task.result
        }
        return ended
    }

    /// The coordinator's tables (accounts, offers, overrides, billing events, progress) fail to
    /// be followed: its run ends with the error. Before: the follower logged "no longer
    /// followed" and the coordinator went on for good.
    func testACoordinatorWhoseTablesAreNoLongerFollowedStops() async throws {
        try await withNamespace { environment in
            let tables = Mutex<KafkaTableSet?>(nil)
            let health = HealthStatus()
            let coordinator = Coordinator(
                environment: environment, settings: CoordinatorSettings(consumerProperties: TestBroker.fastGroupProperties),
                now: { Date() }, metrics: MetricsRegistry(), health: health,
                readTables: { set in
                    try await set.start()
                    tables.withLock { $0 = set }
                })
            let task = Task { try await coordinator.run() }
            try await waitUntil("the coordinator is ready", timeoutSeconds: 60) { health.notReadyReason == nil }
            let set = try XCTUnwrap(tables.withLock { $0 })
            let ended = try await failFollowing(of: set, andAwait: task)
            let result = try XCTUnwrap(ended, "the coordinator still runs \(Self.stopBound) after its tables' follower failed")
            XCTAssertThrowsError(try result.get()) { error in
                XCTAssertTrue("\(error)".contains("no longer followed"), "\(error)")
            }
        }
    }

    /// Tables whose follower failed throw the error from ``KafkaTableSet/watch()`` and log
    /// nothing of it: the process's runner (``ServiceRunner``) logs it once, as its exit. Before:
    /// the follower logged "tables: ... no longer followed: ...; stopping" as well, so the
    /// process said it twice.
    func testTablesNoLongerFollowedLeaveTheirErrorToTheProcessToLog() async throws {
        try await withNamespace { environment in
            let log = LogLines()
            let offers = KafkaTable<OfferConfig>(configuration: environment.kafka, topic: environment.topics.offers,
                                                 codec: environment.codec, logger: log.logger(service: "table-follower"))
            let tables = KafkaTableSet(configuration: environment.kafka, offers)
            try await tables.start()
            let ended = try await failFollowing(of: tables, andAwait: Task { try await tables.watch() })
            await tables.stop()
            let result = try XCTUnwrap(ended, "the watch still waits \(Self.stopBound) after the follower failed")
            XCTAssertThrowsError(try result.get()) { error in
                XCTAssertTrue("\(error)".contains("no longer followed"), "\(error)")
            }
            XCTAssertNil(log.first(containing: "no longer followed"), "the error thrown is the process runner's to log, not the follower's")
        }
    }

    /// A stage's tables fail to be followed: its run ends with the error. Before: it went on
    /// answering requests from the rows it held.
    func testAStageWhoseTablesAreNoLongerFollowedStops() async throws {
        try await withNamespace { environment in
            let offers = KafkaTable<OfferConfig>(configuration: environment.kafka, topic: environment.topics.offers,
                                                 codec: environment.codec, logger: environment.logger)
            let tables = KafkaTableSet(configuration: environment.kafka, offers)
            let service = try StageService(
                environment: environment, configuration: StageConfiguration(consumerProperties: TestBroker.fastGroupProperties),
                handler: FinalizeStageHandler(service: "finalize-stage"), tables: [tables],
                metricsSettings: MetricsSettings(port: nil))
            let task = Task { try await service.run() }
            try await waitUntil("the stage is ready", timeoutSeconds: 60) { service.health.notReadyReason == nil }
            let ended = try await failFollowing(of: tables, andAwait: task)
            let result = try XCTUnwrap(ended, "the stage still runs \(Self.stopBound) after its tables' follower failed")
            XCTAssertThrowsError(try result.get()) { error in
                XCTAssertTrue("\(error)".contains("no longer followed"), "\(error)")
            }
        }
    }
}
