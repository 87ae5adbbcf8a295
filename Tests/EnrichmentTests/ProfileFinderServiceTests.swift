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
    /// A search that always fails for a reason that may pass (an HTTP 503), counting its calls
    /// and telling the test of the first.
    private final class FailingSearch: ProfileSearchProvider {
        private let count = Atomic<Int>(0)
        let firstCall: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation

        init() {
            (firstCall, continuation) = AsyncStream.makeStream(of: Void.self)
        }

        var calls: Int { count.load(ordering: .relaxed) }

        func search(_ query: ProfileQuery) async throws(ProviderError) -> [ProfileCandidate] {
            if count.add(1, ordering: .relaxed).newValue == 1 { continuation.yield() }
            throw .transient("HTTP 503")
        }
    }

    /// SIGTERM while a pool entry's search waits to be tried again (after a 503): the wait ends
    /// at once, nothing is searched again and the entry is not committed, so the partition's
    /// next owner searches it. The handler runs in a task that the stop does not cancel, so
    /// the waits (1 s, then 5 s) went on within the drain: the search ran twice more on the
    /// way out, and its failure was committed.
    func testAStopEndsTheWaitBeforeASearchIsTriedAgainAndCommitsNothing() async throws {
        try await withEnrichmentNamespace(service: "profile-finder") { environment in
            let (topics, codec) = (environment.topics, environment.codec)
            let now = Date()
            let account = AccountConfig(accountID: "acct-1", profileFinder: ProfileFinderRule(), updatedAt: now)
            let profile = EnrichedProfile(leadID: "lead-1", name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/jane-doe")
            let entry = LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: now)
            let producer = try KafkaProducer(configuration: environment.kafka)
            _ = try await producer.send(try codec.record(account, topic: topics.accounts, key: "acct-1"))

            let search = FailingSearch()
            let settings = ProfileFinderSettings(consumerProperties: TestBroker.fastGroupProperties, isPoolMatchingEnabled: false)
            let service = try ProfileFinderService(environment: environment, settings: settings, provider: search,
                                                   metricsSettings: MetricsSettings())
            let running = Task { try await service.run() }
            let report = try await producer.send(try codec.record(entry, topic: topics.leadPool, key: "lead-1"))
            await producer.close()
            for await _ in search.firstCall { break }

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
}
