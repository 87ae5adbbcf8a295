import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
@testable import Coordinator
import Runtime
import Streaming
import Synchronization
import XCTest

/// A finished search's progress is forgotten once it has not changed for the retention period
/// (`PROGRESS_RETENTION_DAYS`): its snapshot and its account part get tombstones, and its account
/// stops counting it. The tracker's clock is the test's, moved on by hand: no waiting for days.
final class ProgressRetentionSystemTests: XCTestCase {
    func testACompletedSearchOlderThanTheRetentionIsTombstonedAndLeavesItsAccountsProgress() async throws {
        let environment = try PipelineEnvironment(service: "coordinator", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("retention"),
            "PIPELINE_PARTITIONS": "2", "LOG_LEVEL": "warning",
        ])
        try await environment.ensureTopics()
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let producer = try KafkaProducer(configuration: environment.kafka)
        let topics = environment.topics
        let started = Date()
        let clock = Mutex(started)
        let tracker = ProgressTracker(environment: environment, producer: producer, consumerProperties: TestBroker.fastGroupProperties,
                                      now: { clock.withLock { $0 } }, retention: ProgressRetention(days: 7))
        let running = Task { try await tracker.run() }
        do {
            // A completed search and a running one of the same account, each in both partitions.
            var records: [ProducerRecord] = []
            for (search, total, parts) in [("search-done", 5, [(0, 3, 0), (1, 2, 0)]), ("search-running", 4, [(0, 1, 1), (1, 1, 0)])] {
                records.append(try environment.codec.record(
                    SearchTotalDeclared(searchID: SearchID(search), accountID: "acct-1", total: total, declaredAt: started),
                    topic: topics.searchTotals, key: search))
                for (partition, completed, enriching) in parts {
                    let part = SearchProgressPart(searchID: SearchID(search), accountID: "acct-1", partition: Int32(partition),
                                                  enriching: enriching, completed: completed, updatedAt: started)
                    var record = try environment.codec.record(part, topic: topics.progressParts, key: part.key)
                    record.partition = KafkaPartitioner.partition(forKey: search, partitionCount: 2)
                    records.append(record)
                }
            }
            _ = try await producer.send(records)

            var account: AccountProgressSnapshot?
            try await waitUntil("both searches in the account's progress", timeoutSeconds: 60, pollMilliseconds: 200) {
                account = try await self.latest(AccountProgressSnapshot.self, topics.accountProgress, key: "acct-1", environment)
                return account?.searches == .init(running: 1, completed: 1, paused: 0)
            }
            XCTAssertEqual(account?.total, 9)
            XCTAssertEqual(account?.completed, 7)

            // Eight days on: the completed search is forgotten, the running one stays.
            clock.withLock { $0 = started.addingTimeInterval(8 * 86_400) }
            try await waitUntil("the completed search forgotten", timeoutSeconds: 60, pollMilliseconds: 200) {
                account = try await self.latest(AccountProgressSnapshot.self, topics.accountProgress, key: "acct-1", environment)
                return account?.searches == .init(running: 1, completed: 0, paused: 0)
            }
            XCTAssertEqual(account?.total, 4, "only the running search's total")
            XCTAssertEqual(account?.completed, 2)
            XCTAssertEqual(account?.enriching, 1)

            let progress = try await readRecords(topics.progress, environment)
            XCTAssertEqual(progress.last { $0.keyString == "search-done" }?.value, nil, "the snapshot's tombstone is its last record")
            XCTAssertFalse(progress.contains { $0.keyString == "search-running" && $0.value == nil })
            let accountParts = try await readRecords(topics.accountProgressParts, environment)
            XCTAssertTrue(accountParts.contains { $0.keyString == "acct-1/search-done" && $0.value == nil },
                          "the account part's tombstone")
            XCTAssertFalse(accountParts.contains { $0.keyString == "acct-1/search-running" && $0.value == nil })
        } catch {
            running.cancel()
            _ = try? await running.value
            await producer.close()
            try? await admin.deleteTopics(topics.all)
            throw error
        }
        running.cancel()
        _ = try? await running.value
        await producer.close()
        try await admin.deleteTopics(topics.all)
    }

    /// Every record of `topic` up to its end, tombstones too.
    private func readRecords(_ topic: String, _ environment: PipelineEnvironment) async throws -> [ConsumerRecord] {
        let partitions = try await KafkaAdmin(configuration: environment.kafka).partitions(of: topic)
        var records: [ConsumerRecord] = []
        try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka) { records.append($0) }
        return records
    }

    /// The latest value of `key` on `topic` (nil: none, or a tombstone).
    private func latest<T: Message>(_ type: T.Type, _ topic: String, key: String, _ environment: PipelineEnvironment) async throws -> T? {
        guard let record = try await readRecords(topic, environment).last(where: { $0.keyString == key }), record.value != nil else { return nil }
        return try environment.codec.decode(T.self, record: record)
    }
}

/// The coordinator's side, with real processes: once the tracker has forgotten a finished search,
/// the coordinator writes tombstones for its parts, and a restarted coordinator, counting the
/// search's leads again from `lead.state`, does not write them back.
final class ProgressRetentionPipelineTests: XCTestCase {
    func testAForgottenSearchsPartsAreTombstonedAndNotWrittenAgainAfterARestart() async throws {
        // 0.0001 days: 8.64 s, looked at every 0.86 s.
        try await withPipeline(partitions: 2, environment: PipelineHarness.reliableProviders.merging(["PROGRESS_RETENTION_DAYS": "0.0001"]) { $1 }) { harness in
            var coordinator = try harness.start("coordinator")
            for stage in PipelineHarness.stages { try harness.start(stage) }
            let topics = harness.environment.topics
            let leads = harness.makeLeads(4, search: "search-old", prefix: "o")
            try await harness.publish(SearchTotalDeclared(searchID: "search-old", accountID: harness.accountID, total: leads.count,
                                                          declaredAt: Date()),
                                      topic: topics.searchTotals, key: "search-old")
            try await harness.publish(leads: leads)
            _ = try await harness.waitForPool(leads.count)

            func latestPerKey(_ topic: String) async throws -> [String: ConsumerRecord] {
                var latest: [String: ConsumerRecord] = [:]
                for record in try await harness.readAllRecords(topic: topic) { latest[record.keyString ?? ""] = record }
                return latest
            }
            var parts: [String: ConsumerRecord] = [:]
            try await waitUntil("the search's snapshot, account part and parts tombstoned", timeoutSeconds: 90, pollMilliseconds: 500) {
                parts = try await latestPerKey(topics.progressParts).filter { $0.key.hasPrefix("search-old/") }
                let snapshot = try await latestPerKey(topics.progress)["search-old"]
                let accountPart = try await latestPerKey(topics.accountProgressParts)["\(harness.accountID.rawValue)/search-old"]
                return snapshot != nil && snapshot?.value == nil && accountPart != nil && accountPart?.value == nil
                    && !parts.isEmpty && parts.values.allSatisfy { $0.value == nil }
            }
            XCTAssertEqual(parts.count, 2, "a part in each partition its leads are in")
            let account = try await latestPerKey(topics.accountProgress)[harness.accountID.rawValue]
            XCTAssertNotNil(account)
            XCTAssertNil(account?.value, "its only search forgotten, the account has no progress")

            // Restarted, the coordinator counts the search's leads again from their states, and
            // drops them before writing: another search, run after the restart, is the mark.
            _ = try await harness.stop(coordinator, signal: SIGKILL)
            coordinator = try harness.start("coordinator")
            let later = harness.makeLeads(2, search: "search-new", prefix: "n")
            try await harness.publish(SearchTotalDeclared(searchID: "search-new", accountID: harness.accountID, total: later.count,
                                                          declaredAt: Date()),
                                      topic: topics.searchTotals, key: "search-new")
            try await harness.publish(leads: later)
            try await waitUntil("the new search completed", timeoutSeconds: 90, pollMilliseconds: 250) {
                try await harness.latestProgress(of: "search-new")?.state == .completed
            }
            let after = try await latestPerKey(topics.progressParts).filter { $0.key.hasPrefix("search-old/") }
            XCTAssertTrue(after.values.allSatisfy { $0.value == nil }, "no part of the forgotten search written again")
            let snapshot = try await latestPerKey(topics.progress)["search-old"]
            XCTAssertEqual(snapshot?.value, nil, "nor its snapshot")
        }
    }
}

/// The tracker restarted (or its partitions reassigned) knows what it published before: the
/// account each search was last published under, from its own snapshots in `progress`.
final class ProgressTrackerRestartSystemTests: XCTestCase {
    /// A tracker on the test's namespace, started (again) and stopped by the test.
    private final class Tracker {
        let environment: PipelineEnvironment
        let producer: KafkaProducer
        private var running: Task<Void, Error>?

        init(environment: PipelineEnvironment, producer: KafkaProducer) {
            self.environment = environment
            self.producer = producer
        }

        /// Starts a new tracker, stopping the one running first.
        func start() async {
            await stop()
            let tracker = ProgressTracker(environment: environment, producer: producer, consumerProperties: TestBroker.fastGroupProperties,
                                          now: { Date() }, retention: ProgressRetention(days: 7))
            running = Task { try await tracker.run() }
        }

        func stop() async {
            running?.cancel()
            _ = try? await running?.value
            running = nil
        }
    }

    /// Runs `body` on a namespace of its own (2 partitions), its tracker not started; stops the
    /// tracker and deletes the topics after it, whether it throws or not.
    private func withTracker(_ body: (Tracker) async throws -> Void) async throws {
        let environment = try PipelineEnvironment(service: "coordinator", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("tracker-restart"),
            "PIPELINE_PARTITIONS": "2", "LOG_LEVEL": "warning",
        ])
        try await environment.ensureTopics()
        let tracker = Tracker(environment: environment, producer: try KafkaProducer(configuration: environment.kafka))
        let admin = try KafkaAdmin(configuration: environment.kafka)
        do {
            try await body(tracker)
        } catch {
            await tracker.stop()
            await tracker.producer.close()
            try? await admin.deleteTopics(environment.topics.all)
            throw error
        }
        await tracker.stop()
        await tracker.producer.close()
        try await admin.deleteTopics(environment.topics.all)
    }

    private func declare(_ search: SearchID, _ account: AccountID, at: Date = Date(), _ environment: PipelineEnvironment,
                         _ producer: KafkaProducer) async throws {
        _ = try await producer.send([try environment.codec.record(
            SearchTotalDeclared(searchID: search, accountID: account, total: 5, declaredAt: at),
            topic: environment.topics.searchTotals, key: search.rawValue)])
    }

    /// Every record of `topic` with `key` up to its end, tombstones too, oldest first.
    private func records(_ topic: String, key: String, _ environment: PipelineEnvironment) async throws -> [ConsumerRecord] {
        let partitions = try await KafkaAdmin(configuration: environment.kafka).partitions(of: topic)
        var records: [ConsumerRecord] = []
        try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka) { if $0.keyString == key { records.append($0) } }
        return records
    }

    private func isCounted(_ search: SearchID, under account: AccountID, _ environment: PipelineEnvironment) async throws -> Bool {
        try await records(environment.topics.accountProgressParts, key: "\(account.rawValue)/\(search.rawValue)", environment).last?.value != nil
    }

    private func hasLeft(_ search: SearchID, _ account: AccountID, _ environment: PipelineEnvironment) async throws -> Bool {
        let parts = try await records(environment.topics.accountProgressParts, key: "\(account.rawValue)/\(search.rawValue)", environment)
        return !parts.isEmpty && parts.last?.value == nil
    }

    /// A search with a declared total only, moved from one account to another and, while the
    /// tracker was stopped, to a third, leaves each account it was published under. Before, the
    /// account it was published under was forgotten as it was published (the first move left its
    /// first account's part for good), and a restarted tracker knew none (the second left it
    /// under the second account).
    func testASearchMovedBeforeAndAfterARestartLeavesEachAccountItWasPublishedUnder() async throws {
        try await withTracker { tracker in
            let (environment, producer) = (tracker.environment, tracker.producer)
            await tracker.start()
            try await declare("search-moved", "acct-a", environment, producer)
            try await waitUntil("the search counted under acct-a", timeoutSeconds: 60, pollMilliseconds: 200) {
                try await self.isCounted("search-moved", under: "acct-a", environment)
            }
            try await declare("search-moved", "acct-b", environment, producer)
            try await waitUntil("the search counted under acct-b", timeoutSeconds: 30, pollMilliseconds: 200) {
                try await self.isCounted("search-moved", under: "acct-b", environment)
            }
            try await waitUntil("the search left acct-a", timeoutSeconds: 20, pollMilliseconds: 200) {
                try await self.hasLeft("search-moved", "acct-a", environment)
            }

            // Moved while no tracker runs: the restarted one publishes it under acct-c first.
            await tracker.stop()
            try await declare("search-moved", "acct-c", environment, producer)
            await tracker.start()
            try await waitUntil("the search counted under acct-c", timeoutSeconds: 30, pollMilliseconds: 200) {
                try await self.isCounted("search-moved", under: "acct-c", environment)
            }
            try await waitUntil("the search left acct-b", timeoutSeconds: 20, pollMilliseconds: 200) {
                try await self.hasLeft("search-moved", "acct-b", environment)
            }
            let stillUnderA = try await isCounted("search-moved", under: "acct-a", environment)
            XCTAssertFalse(stillUnderA)
        }
    }

    /// A total older than the retention whose search was never published (or was forgotten
    /// already) is read on every assignment of its partition, `search.totals` being upstream's
    /// and never tombstoned here; it is dropped without tombstones. Before, each assignment sent
    /// tombstones to `progress` and `progress.account-parts` for every such total.
    func testAnOldTotalNeverPublishedIsDroppedWithoutTombstones() async throws {
        try await withTracker { tracker in
            let (environment, producer) = (tracker.environment, tracker.producer)
            let topics = environment.topics
            try await declare("search-historic", "acct-1", at: Date().addingTimeInterval(-8 * 86_400), environment, producer)
            for (round, marker) in ["search-marker-1", "search-marker-2"].enumerated() {
                await tracker.start()  // again in the second round: another assignment
                try await declare(SearchID(marker), "acct-1", environment, producer)
                try await waitUntil("\(marker) published", timeoutSeconds: 60, pollMilliseconds: 200) {
                    try await self.isCounted(SearchID(marker), under: "acct-1", environment)
                }
                let progress = try await records(topics.progress, key: "search-historic", environment)
                XCTAssertEqual(progress.count, 0, "no record of the historic search in progress (round \(round))")
                let part = try await records(topics.accountProgressParts, key: "acct-1/search-historic", environment)
                XCTAssertEqual(part.count, 0, "nor in progress.account-parts (round \(round))")
            }
        }
    }
}
