import Foundation
import Kafka
import LeadModel
import Runtime
import Synchronization

/// A compacted topic read whole into memory and kept current: accounts, offers, overrides,
/// billing events.
///
/// ``start()`` returns once every partition is read up to the high watermark it had at start,
/// then a background task follows new records. The last record per key wins; a tombstone
/// removes the key; an undecodable record is logged and skipped (its producer gets no ack
/// problem, so it is the writer's to fix).
public final class KafkaTable<Value: Message>: Sendable {
    private let configuration: KafkaConfiguration
    private let topic: String
    private let codec: MessageCodec
    private let logger: Logger
    private let rows = Mutex<[String: Value]>([:])
    /// One past the last offset applied, per partition.
    private let applied = Mutex<[TopicPartition: Int64]>([:])
    private let partitions = Mutex<[TopicPartition]>([])
    private let follower = Mutex<Task<Void, Never>?>(nil)
    /// Asks for the topic's end in ``catchUp(timeout:)``; made once, in ``start()``.
    private let admin = Mutex<KafkaAdmin?>(nil)

    public init(configuration: KafkaConfiguration, topic: String, codec: MessageCodec, logger: Logger) {
        self.configuration = configuration
        self.topic = topic
        self.codec = codec
        self.logger = logger
    }

    /// The value stored under `key`, if any.
    public subscript(key: String) -> Value? { rows.withLock { $0[key] } }

    /// Every row.
    public var all: [String: Value] { rows.withLock { $0 } }

    /// Reads the table up to its current end, then keeps following it in the background.
    public func start() async throws {
        let admin = try KafkaAdmin(configuration: configuration)
        self.admin.withLock { $0 = admin }
        // While the broker is away the process waits here, not ready, rather than exit.
        let waiting: (KafkaError) -> Void = { [logger, topic] error in logger.warning("waiting for the broker to read \(topic): \(error)") }
        let partitions = try await KafkaError.waitingForBroker({ try await admin.partitions(of: topic) }, waiting: waiting)
        self.partitions.withLock { $0 = partitions }
        try await KafkaConsumer.readToEnd(partitions, configuration: configuration, admin: admin, whileBrokerUnreachable: waiting) { apply($0) }
        // The follower waits longer per fetch than the loading reader: a table changes seldom, and
        // an idle reader asking every 50 ms (every 25 ms on Tansu) cost every process that keeps
        // tables CPU for ever. A broker answers a fetch as soon as a record arrives, so this delays
        // no update (Tansu holds every fetch for about half the wait: there, updates arrive within
        // about 0.25 s).
        let starts = applied.withLock { applied in
            Dictionary(uniqueKeysWithValues: partitions.map { ($0, applied[$0] ?? KafkaConsumer.beginning) })
        }
        let reader = try KafkaConsumer(configuration: configuration, startingAt: starts, properties: ["fetch.wait.max.ms": "500"])
        let task = Task { [self] in
            while !Task.isCancelled {
                guard let records = try? await reader.poll(timeoutMilliseconds: 500) else { break }
                for record in records { apply(record) }
            }
            await reader.close()
        }
        follower.withLock { $0 = task }
    }

    /// Waits until every record stored in the topic now has been applied (or `timeout` passes):
    /// for a reader that must not miss a row written before the records it is about to handle
    /// (a billing pause acknowledged before a lead was published). One ListOffsets round trip
    /// when the table is current, so a caller may ask once per batch.
    public func catchUp(timeout: Duration = .seconds(5)) async throws {
        let partitions = self.partitions.withLock { $0 }
        guard let admin = self.admin.withLock({ $0 }) else { return }
        let ends = try await admin.listedWatermarks(partitions)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let done = applied.withLock { applied in
                partitions.allSatisfy { (applied[$0] ?? ends[$0]?.low ?? 0) >= (ends[$0]?.high ?? 0) }
            }
            if done { return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops following.
    public func stop() async {
        let task = follower.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
    }

    private func apply(_ record: ConsumerRecord) {
        applied.withLock { $0[record.topicPartition] = record.offset + 1 }
        guard let key = record.keyString else { return }
        guard record.value != nil else {
            rows.withLock { $0[key] = nil }
            return
        }
        do {
            let value = try codec.decode(Value.self, record: record)
            rows.withLock { $0[key] = value }
        } catch {
            logger.warning("skipping undecodable table record: \(error)", [LogKey.topic: record.topic, LogKey.offset: String(record.offset)])
        }
    }
}
