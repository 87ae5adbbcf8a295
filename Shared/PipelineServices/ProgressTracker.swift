import Foundation
import Kafka
import LeadModel
import ServiceRuntime

/// Adds up each search's ``SearchProgressPart``s (one per partition of the lead-keyed topics,
/// written by the coordinator instance that owns it) and its declared total into one
/// ``ProgressSnapshot``, published to `progress` whenever it changes.
///
/// Both inputs are compacted tables, each key's latest record the truth, and every part of a
/// search and its total are in the partition of the search id; so the tracker commits no offsets
/// and reads its partitions from the beginning on assignment: what it reads is as large as the
/// number of searches times partitions, however many leads ran, and stays right on a cluster
/// with retention. A search is completed when its total is declared and that many of its leads
/// are ready.
final class ProgressTracker: Service {
    private let environment: PipelineEnvironment
    private let producer: KafkaProducer
    private let consumerProperties: [String: String]
    private let now: @Sendable () -> Date

    init(environment: PipelineEnvironment, producer: KafkaProducer, consumerProperties: [String: String],
         now: @escaping @Sendable () -> Date) {
        self.environment = environment
        self.producer = producer
        self.consumerProperties = consumerProperties
        self.now = now
    }

    /// What the tracker knows of one search.
    struct Search {
        var accountID: AccountID?
        var total: Int?
        /// The latest part of each partition of the lead-keyed topics.
        var parts: [Int32: SearchProgressPart] = [:]
        /// The partition of the inputs the search is in.
        var partition: Int32
        var lastPublished: ProgressSnapshot?

        /// The snapshot of the search now; nil until its account is known.
        func snapshot(_ searchID: SearchID, at now: Date) -> ProgressSnapshot? {
            guard let accountID else { return nil }
            let sum = { (count: (SearchProgressPart) -> Int) in parts.values.reduce(0) { $0 + count($1) } }
            let completed = sum(\.completed)
            let active = sum(\.enriching) + sum(\.scoring) + sum(\.finalizing)
            let paused = sum(\.billingPaused)
            let state: ProgressSnapshot.State
            if let total, completed >= total {
                state = .completed
            } else if paused > 0 && active == 0 {
                state = .paused
            } else {
                state = .running
            }
            return ProgressSnapshot(searchID: searchID, accountID: accountID, state: state, total: total,
                                    pending: sum(\.pending), completed: completed, enriching: sum(\.enriching),
                                    scoring: sum(\.scoring), billingPaused: paused,
                                    deferred: sum(\.deferred), updatedAt: now)
        }
    }

    func run() async throws {
        let topics = environment.topics
        let group = topics.progressGroup
        var properties = consumerProperties
        properties["partition.assignment.strategy"] = "range"
        properties["auto.offset.reset"] = "earliest"
        properties["enable.auto.commit"] = "false"
        let consumer = try KafkaConsumer(configuration: environment.kafka, groupID: group,
                                         topics: topics.progressInputs, properties: properties,
                                         defaults: ["queued.max.messages.kbytes": "8192"])
        var searches: [SearchID: Search] = [:]
        while !Task.isCancelled {
            let batch: [ConsumerRecord]
            do {
                batch = try await consumer.poll(maxRecords: 5000, timeoutMilliseconds: 100)
            } catch let error as KafkaError where !error.isFatal {
                continue
            }
            let owned = Set(consumer.assignment.map(\.partition))
            searches = searches.filter { owned.contains($0.value.partition) }
            var changed: Set<SearchID> = []
            for record in batch {
                if record.topic == topics.searchTotals,
                   let declared = try? environment.codec.decode(SearchTotalDeclared.self, record: record) {
                    searches[declared.searchID, default: Search(partition: record.partition)].total = declared.total
                    searches[declared.searchID]?.accountID = declared.accountID
                    changed.insert(declared.searchID)
                } else if let part = try? environment.codec.decode(SearchProgressPart.self, record: record) {
                    searches[part.searchID, default: Search(partition: record.partition)].parts[part.partition] = part
                    searches[part.searchID]?.accountID = part.accountID
                    changed.insert(part.searchID)
                }
            }
            var records: [ProducerRecord] = []
            for searchID in changed {
                guard var search = searches[searchID], let snapshot = search.snapshot(searchID, at: now()) else { continue }
                var comparable = snapshot
                comparable.updatedAt = search.lastPublished?.updatedAt ?? snapshot.updatedAt
                guard comparable != search.lastPublished else { continue }
                search.lastPublished = snapshot
                searches[searchID] = search
                if let record = try? environment.codec.record(snapshot, topic: topics.progress, key: searchID.rawValue) {
                    records.append(record)
                }
            }
            if !records.isEmpty {
                _ = try? await producer.send(records)
            }
        }
        await consumer.close()
    }
}
