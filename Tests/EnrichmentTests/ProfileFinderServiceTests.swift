import Enrichment
import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import LeadRules
import Runtime
import Streaming
import Synchronization
import XCTest

/// The profile finder's process against the real broker, in a namespace of its own.
final class ProfileFinderServiceTests: XCTestCase {
    /// A search that always fails for a reason that may pass (`error`: an HTTP 503 unless
    /// given), counting its calls and telling the test of the first.
    private final class FailingSearch: ProfileSearchProvider {
        private let count = Atomic<Int>(0)
        private let error: ProviderError
        let firstCall: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation

        init(failingWith error: ProviderError = .transient("HTTP 503")) {
            self.error = error
            (firstCall, continuation) = AsyncStream.makeStream(of: Void.self)
        }

        var calls: Int { count.load(ordering: .relaxed) }

        func search(_ query: ProfileQuery) async throws(ProviderError) -> [ProfileCandidate] {
            if count.add(1, ordering: .relaxed).newValue == 1 { continuation.yield() }
            throw error
        }
    }

    /// Starts a finder (pool matching off, its runner's settings `runner`) searching with
    /// `search`, publishes lead-1's pool entry of an account that enables finding, and returns
    /// once the entry is searched: the service, its task and where the entry went.
    private func startSearchingAnEntry(_ environment: PipelineEnvironment, with search: FailingSearch,
                                       runner: StageRunnerSettings = ProfileFinderSettings().runner) async throws
        -> (ProfileFinderService, Task<Void, Error>, DeliveryReport) {
        let (topics, codec) = (environment.topics, environment.codec)
        let now = Date()
        let account = AccountConfig(accountID: "acct-1", profileFinder: ProfileFinderRule(), updatedAt: now)
        let profile = EnrichedProfile(leadID: "lead-1", name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/jane-doe")
        let entry = LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: now)
        let producer = try KafkaProducer(configuration: environment.kafka)
        _ = try await producer.send(try codec.record(account, topic: topics.accounts, key: "acct-1"))

        let settings = ProfileFinderSettings(runner: runner, consumerProperties: TestBroker.fastGroupProperties, isPoolMatchingEnabled: false)
        let service = try ProfileFinderService(environment: environment, settings: settings, provider: search,
                                               metricsSettings: MetricsSettings())
        let running = Task { try await service.run() }
        let report = try await producer.send(try codec.record(entry, topic: topics.leadPool, key: "lead-1"))
        await producer.close()
        for await _ in search.firstCall { break }
        return (service, running, report)
    }

    /// SIGTERM while a pool entry's search waits to be tried again (after a 503): the wait ends
    /// at once, nothing is searched again and the entry is not committed, so the partition's
    /// next owner searches it. The handler runs in a task that the stop does not cancel, so
    /// the waits (1 s, then 5 s) went on within the drain: the search ran twice more on the
    /// way out, and its failure was committed.
    func testAStopEndsTheWaitBeforeASearchIsTriedAgainAndCommitsNothing() async throws {
        try await withEnrichmentNamespace(service: "profile-finder") { environment in
            let topics = environment.topics
            let search = FailingSearch()
            let (service, running, report) = try await startSearchingAnEntry(environment, with: search)
            let stopping = ContinuousClock.now
            running.cancel()
            try await running.value
            // Leaving the group takes its time too; the waits alone took 6 s.
            XCTAssertLessThan(ContinuousClock.now - stopping, .seconds(5), "the stop waited for the retries (1 s, then 5 s)")
            XCTAssertEqual(search.calls, 1, "searched again on the way out")
            let partition = TopicPartition(topic: topics.leadPool, partition: report.partition)
            let committed = try await KafkaAdmin(configuration: environment.kafka).committedOffsets(group: service.groupID, partitions: [partition])
            XCTAssertLessThanOrEqual(committed[partition].flatMap { $0 } ?? 0, report.offset, "the unfinished entry was committed")
        }
    }

    /// A rebalance revoking the partition of a pool entry whose search waits to be tried again
    /// (a 429 asking for 30 s): the wait ends at once and the entry is handed back uncommitted,
    /// so the revocation ends without waiting out the drain timeout and the new owner searches
    /// it. The wait ended only on SIGTERM: the revocation waited its whole drain timeout (20 s
    /// here, 8 s in production) and handed the entry back anyway, while the old handler went on
    /// to search it again once its wait was over, beside the new owner.
    func testARevocationEndsTheWaitBeforeASearchIsTriedAgainAndHandsTheEntryBack() async throws {
        try await withEnrichmentNamespace(service: "profile-finder") { environment in
            var environment = environment
            let log = LogLines()
            environment.logger = log.logger(service: "profile-finder")
            let topics = environment.topics
            let (service, running, report) = try await startSearchingAnEntry(
                environment, with: FailingSearch(failingWith: .rateLimited(retryAfter: 30)),
                runner: StageRunnerSettings(maxInFlight: 50, drainTimeout: .seconds(20)))

            // A second member joins: the eager assignor revokes every partition of the finder's.
            let (member, joinedAt) = try await joiningMember(of: service.groupID, topics: topics.profileFinderInputs,
                                                             configuration: environment.kafka)
            let revoking = try XCTUnwrap(log.first(containing: "revoking: waiting for records in flight"), "the revocation waited for nothing")
            let took = joinedAt - revoking
            let partition = TopicPartition(topic: topics.leadPool, partition: report.partition)
            let committed = try await KafkaAdmin(configuration: environment.kafka).committedOffsets(group: service.groupID, partitions: [partition])
            running.cancel()
            try await running.value
            await member.close()
            XCTAssertLessThan(took, .seconds(10), "the revocation waited out the search's wait (drain timeout 20 s)")
            XCTAssertNotNil(log.first(containing: "the pool entry is handed back unsearched"), "the entry was not handed back")
            XCTAssertNil(log.first(containing: "records still in flight handed back uncommitted"), "the revocation gave up on the search")
            XCTAssertLessThanOrEqual(committed[partition].flatMap { $0 } ?? 0, report.offset, "the unfinished entry was committed")
        }
    }
}
