import Foundation
import Kafka
import LeadModel
import ServiceRuntime

/// Folds `search.events` and `search.totals` into one ``ProgressSnapshot`` per search and
/// publishes it to `progress` whenever it changes.
///
/// Event-sourced: it commits no offsets, so every assignment reads its partitions from the
/// beginning and rebuilds the same state; the latest event per lead wins, so redelivered
/// events change nothing. A search is completed when its total is declared and that many of
/// its leads are ready. (On a cluster with retention this needs a changelog instead; the
/// local broker keeps everything.)
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

    struct Search {
        var accountID: AccountID?
        var total: Int?
        /// Each lead's latest bucket, and how many leads are in each: a snapshot costs nothing
        /// however many leads the search has.
        var leads: [LeadID: Bucket] = [:]
        var counts: [Bucket: Int] = [:]
        var partition: Int32
        var lastPublished: ProgressSnapshot?

        mutating func record(_ event: SearchLeadEvent) {
            let bucket = Bucket(event)
            if let old = leads.updateValue(bucket, forKey: event.leadID) { counts[old, default: 0] -= 1 }
            counts[bucket, default: 0] += 1
        }
    }

    /// Where a lead counts in a ``ProgressSnapshot``.
    enum Bucket: UInt8 {
        case completed, enriching, scoring, billingPaused, deferred, other

        init(_ event: SearchLeadEvent) {
            switch event.status {
            case .ready: self = .completed
            case .billingPaused: self = .billingPaused
            case .outsideOutreachWindow: self = .deferred
            case .pending, .processing:
                switch event.phase {
                case .scoring: self = .scoring
                case .profile, .activity: self = .enriching
                default: self = .other
                }
            }
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
                                         topics: [topics.searchEvents, topics.searchTotals], properties: properties,
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
                } else if let event = try? environment.codec.decode(SearchLeadEvent.self, record: record) {
                    searches[event.searchID, default: Search(partition: record.partition)].record(event)
                    searches[event.searchID]?.accountID = event.accountID
                    changed.insert(event.searchID)
                }
            }
            var records: [ProducerRecord] = []
            for searchID in changed {
                guard var search = searches[searchID], let snapshot = snapshot(searchID, search) else { continue }
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

    private func snapshot(_ searchID: SearchID, _ search: Search) -> ProgressSnapshot? {
        guard let accountID = search.accountID else { return nil }
        let count = { (bucket: Bucket) in search.counts[bucket] ?? 0 }
        let (completed, enriching, scoring) = (count(.completed), count(.enriching), count(.scoring))
        let (paused, deferred) = (count(.billingPaused), count(.deferred))
        let state: ProgressSnapshot.State
        if let total = search.total, completed >= total {
            state = .completed
        } else if paused > 0 && enriching + scoring == 0 {
            state = .paused
        } else {
            state = .running
        }
        return ProgressSnapshot(searchID: searchID, accountID: accountID, state: state, total: search.total,
                                completed: completed, enriching: enriching, scoring: scoring, billingPaused: paused,
                                deferred: deferred, updatedAt: now())
    }
}
