import Foundation
import Kafka
import LeadModel
import Runtime
import Streaming
import Synchronization

/// Gathers the heat contributions of the leads a scoring stage finishes close together into one
/// record per account (``AccountSignalContributionBatch``), instead of one record per lead.
///
/// ``send(_:)`` returns once the record holding the contribution is acknowledged: the request it
/// came from is then answered, and its input offset stored, as if the contribution had been its
/// own record, so a crash loses no contribution (one sent and redone is a replay the aggregator
/// recognises by lead and run). A record is sent `window` after the first contribution it holds,
/// or at once when it holds `maxContributions`. When the record cannot be written (above
/// `MAX_RECORD_BYTES`, refused, the producer failing) `send(_:)` returns false to each of its
/// contributions, whose requests then send their contribution themselves, version 1, with the
/// stage's usual retries and dead letters.
public final class ContributionBatcher: Sendable {
    /// Writes one record and says whether it was acknowledged.
    public typealias Writer = @Sendable (ProducerRecord) async -> Bool

    private struct Waiting {
        var contributions: [AccountSignalContribution] = []
        var senders: [CheckedContinuation<Bool, Never>] = []

        /// Adds a contribution and the request waiting for it; returns how many the batch holds.
        mutating func add(_ contribution: AccountSignalContribution, _ sender: CheckedContinuation<Bool, Never>) -> Int {
            contributions.append(contribution)
            senders.append(sender)
            return contributions.count
        }
    }

    private let window: Duration
    private let maxContributions: Int
    private let topic: String
    private let codec: MessageCodec
    private let write: Writer
    private let metrics: MetricsRegistry?
    private let waiting = Mutex<[AccountID: Waiting]>([:])

    /// Creates a batcher writing to `topic` through `write`, counting its records and their
    /// contributions in `metrics` (``MetricNames/scoringContributionRecords``,
    /// ``MetricNames/scoringContributions``, both outcomes at zero from the start).
    public init(window: Duration, maxContributions: Int = 200, topic: String, codec: MessageCodec, metrics: MetricsRegistry? = nil,
                write: @escaping Writer) {
        self.metrics = metrics
        for outcome in ["written", "not-written"] {
            metrics?.counter(MetricNames.scoringContributionRecords, ["outcome": outcome]).increment(by: 0)
            metrics?.counter(MetricNames.scoringContributions, ["outcome": outcome]).increment(by: 0)
        }
        self.window = window
        self.maxContributions = max(1, maxContributions)
        self.topic = topic
        self.codec = codec
        self.write = write
    }

    /// A batcher writing with `producer`: true once the broker acknowledged the record.
    public convenience init(window: Duration, topics: Topics, codec: MessageCodec, metrics: MetricsRegistry? = nil,
                            producer: KafkaProducer) {
        self.init(window: window, topic: topics.accountSignalContributions, codec: codec, metrics: metrics) { record in
            (try? await producer.send(record)) != nil
        }
    }

    /// Adds `contribution` to its account's next record and waits for that record: true once it
    /// is acknowledged, false when it could not be written (see the type's documentation).
    public func send(_ contribution: AccountSignalContribution) async -> Bool {
        await withCheckedContinuation { continuation in
            let (isFirst, full) = waiting.withLock { waiting -> (Bool, Waiting?) in
                // In place: a batch taken out of the dictionary and put back is copied per contribution.
                let count = waiting[contribution.accountID, default: Waiting()].add(contribution, continuation)
                guard count >= maxContributions else { return (count == 1, nil) }
                return (count == 1, waiting.removeValue(forKey: contribution.accountID))
            }
            if let full {
                Task { await self.flush(full, of: contribution.accountID) }
            } else if isFirst {
                // Not a child of the caller's task: a stage being shut down still sends what it gathered.
                Task { [window] in
                    await sleepIgnoringCancellation(for: window)
                    guard let batch = self.waiting.withLock({ $0.removeValue(forKey: contribution.accountID) }) else { return }
                    await self.flush(batch, of: contribution.accountID)
                }
            }
        }
    }

    private func flush(_ batch: Waiting, of account: AccountID) async {
        var written = false
        if let record = try? codec.record(AccountSignalContributionBatch(accountID: account, contributions: batch.contributions),
                                          topic: topic, key: account.rawValue),
           codec.oversizeReason(record) == nil {
            written = await write(record)
        }
        let outcome = written ? "written" : "not-written"
        metrics?.counter(MetricNames.scoringContributionRecords, ["outcome": outcome]).increment()
        metrics?.counter(MetricNames.scoringContributions, ["outcome": outcome]).increment(by: Double(batch.contributions.count))
        for sender in batch.senders {
            sender.resume(returning: written)
        }
    }
}
