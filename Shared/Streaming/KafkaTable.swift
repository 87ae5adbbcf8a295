import Foundation
import Kafka
import LeadModel
import Runtime
import Synchronization

/// What a reader asks of a table whatever its rows are: its topic, and to catch up with it.
public protocol FollowedTable: Sendable {
    /// The compacted topic it reads.
    var topic: String { get }
    /// See ``KafkaTable/catchUp(timeout:)``.
    func catchUp(timeout: Duration) async throws -> Bool
}

/// A compacted topic read whole into memory and kept current: accounts, offers, overrides,
/// billing events.
///
/// ``start()`` returns once every partition is read up to the high watermark it had at start,
/// then a background task follows new records; ``watch()`` throws once it no longer can. The
/// last record per key wins; a tombstone
/// removes the key; an undecodable record (a newer writer's schema version during an upgrade, a
/// hand-written mistake) is logged, counted (`pipeline_table_records_skipped_total`, by topic)
/// and skipped: the key keeps its previous row, which is the writer's to correct. Forgetting the
/// row instead would make a typo in one account refuse every new lead of it (unknown account).
/// Why the key's latest record was skipped is kept until a later one is applied
/// (``refusal(of:)``), so that a reader finding no row can say the record was refused, not missing.
public final class KafkaTable<Value: Message>: FollowedTable {
    private let configuration: KafkaConfiguration
    /// The compacted topic it reads.
    public let topic: String
    private let codec: MessageCodec
    private let logger: Logger
    private let rows = Mutex<[String: Value]>([:])
    /// Why the latest record of each key was skipped, for keys whose latest record was.
    private let refusals = Mutex<[String: String]>([:])
    /// One past the last offset applied, per partition.
    private let applied = Mutex<[TopicPartition: Int64]>([:])
    private let partitions = Mutex<[TopicPartition]>([])
    /// Asks for the topic's end in ``catchUp(timeout:)``: the admin client of the set that reads
    /// the table.
    private let admin = Mutex<KafkaAdmin?>(nil)
    /// The set of this table alone, when the table was started by itself.
    private let solo = Mutex<KafkaTableSet?>(nil)
    /// The keys applied since ``takeChangedKeys()`` last took them; nil when not recorded.
    private let changedKeys: Mutex<Set<String>>?
    /// Undecodable records skipped (`pipeline_table_records_skipped_total{topic}`).
    private let skipped: Counter?

    /// - Parameters:
    ///   - recordsChanges: whether to keep the keys of applied records for ``takeChangedKeys()``.
    ///   - metrics: where to count the undecodable records skipped (the series starts at 0).
    public init(configuration: KafkaConfiguration, topic: String, codec: MessageCodec, logger: Logger, recordsChanges: Bool = false,
                metrics: MetricsRegistry? = nil) {
        self.configuration = configuration
        self.topic = topic
        self.codec = codec
        self.logger = logger
        changedKeys = recordsChanges ? Mutex([]) : nil
        skipped = metrics?.counter(MetricNames.tableRecordsSkipped, ["topic": topic])
        skipped?.increment(by: 0)
    }

    /// The keys of the records applied (rows written or removed) since the last call; always
    /// empty for a table made without `recordsChanges`. A key is given once its row is written, so
    /// a caller that reads the rows of the keys it took reads what their records left (or newer).
    public func takeChangedKeys() -> Set<String> {
        changedKeys?.withLock { keys in
            defer { keys = [] }
            return keys
        } ?? []
    }

    /// The value stored under `key`, if any.
    public subscript(key: String) -> Value? { rows.withLock { $0[key] } }

    /// Every row.
    public var all: [String: Value] { rows.withLock { $0 } }

    /// Why the latest record of `key` was skipped (undecodable, or refused by its type's rules:
    /// ``Message/validate()``), if it was: the key keeps its previous row, or has none. nil once
    /// a later record of the key is applied.
    public func refusal(of key: String) -> String? { refusals.withLock { $0[key] } }

    /// The row under `key`; when there is none, the row after the table caught up with its
    /// topic (``catchUp(timeout:)``, up to `timeout`): for a key another process may have read
    /// a moment ago (a stage asked for an offer the coordinator admitted a lead for). Still
    /// missing, it catches up twice more, ``recheckDelay`` apart, within `timeout`: a broker can
    /// list an end short of a record just acknowledged (the local one does after batched
    /// produces; a CI run missed a row written just before it was asked for). nil when it is
    /// still missing, or the broker could not be asked.
    public func row(_ key: String, catchingUpWithin timeout: Duration) async -> Value? {
        if let row = self[key] { return row }
        let deadline = ContinuousClock.now + timeout
        for check in 1...3 {
            _ = try? await catchUp(timeout: deadline - ContinuousClock.now)
            if let row = self[key] { return row }
            guard check < 3, ContinuousClock.now + Self.recheckDelay < deadline else { break }
            try? await Task.sleep(for: Self.recheckDelay)  // at most twice, so a cancelled task does not spin
        }
        return nil
    }

    /// How long ``row(_:catchingUpWithin:)`` waits before it catches up again for a missing row.
    public static var recheckDelay: Duration { .milliseconds(100) }

    /// Reads the table up to its current end, then keeps following it in the background, with
    /// clients of its own. A process that keeps several tables reads them together with a
    /// ``KafkaTableSet``.
    public func start() async throws {
        let set = KafkaTableSet(configuration: configuration, self)
        try await set.start()
        solo.withLock { $0 = set }
    }

    /// ``KafkaTableSet/watch()`` of the set that ``start()`` started: waits until cancelled,
    /// and throws once the table is no longer followed. A table of a set is watched with its set.
    public func watch() async throws {
        try await KafkaTableSet.watch(solo.withLock { $0 }?.followingTask)
    }

    /// What a ``KafkaTableSet`` needs of the table.
    var member: KafkaTableSet.Member {
        KafkaTableSet.Member(
            topic: topic, logger: logger,
            attach: { [self] admin, partitions in
                self.admin.withLock { $0 = admin }
                self.partitions.withLock { $0 = partitions }
            },
            apply: { [self] record in apply(record) },
            reached: { [self] partition, end in
                applied.withLock { applied in applied[partition] = max(applied[partition] ?? 0, end) }
            },
            nextOffsets: { [self] in
                let partitions = self.partitions.withLock { $0 }
                return applied.withLock { applied in
                    Dictionary(uniqueKeysWithValues: partitions.map { ($0, applied[$0] ?? KafkaConsumer.beginning) })
                }
            })
    }

    /// Waits until every record stored in the topic now has been applied (or `timeout` passes):
    /// for a reader that must not miss a row written before the records it is about to handle
    /// (a billing pause acknowledged before a lead was published). One ListOffsets round trip
    /// when the table is current, so a caller may ask once per batch. Returns whether it caught
    /// up (false: the time passed first, or the table is not started).
    @discardableResult
    public func catchUp(timeout: Duration = .seconds(5)) async throws -> Bool {
        let partitions = self.partitions.withLock { $0 }
        guard let admin = self.admin.withLock({ $0 }) else { return false }
        let ends = try await admin.listedWatermarks(partitions)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let done = applied.withLock { applied in
                partitions.allSatisfy { (applied[$0] ?? ends[$0]?.low ?? 0) >= (ends[$0]?.high ?? 0) }
            }
            if done { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Stops following, when ``start()`` started it (a ``KafkaTableSet`` stops its tables).
    public func stop() async {
        let set = solo.withLock { set in
            defer { set = nil }
            return set
        }
        await set?.stop()
    }

    private func apply(_ record: ConsumerRecord) {
        applied.withLock { $0[record.topicPartition] = record.offset + 1 }
        guard let key = record.keyString else { return }
        // Once the row is written: a reader that took the key reads the row the record left.
        defer { changedKeys?.withLock { _ = $0.insert(key) } }
        guard record.value != nil else {
            rows.withLock { $0[key] = nil }
            refusals.withLock { _ = $0.removeValue(forKey: key) }
            return
        }
        do {
            let value = try codec.decode(Value.self, record: record)
            rows.withLock { $0[key] = value }
            refusals.withLock { _ = $0.removeValue(forKey: key) }
        } catch {
            refusals.withLock { $0[key] = "\(error)" }
            skipped?.increment()
            logger.warning("skipping undecodable table record, keeping the key's previous row: \(error)",
                           [LogKey.topic: record.topic, LogKey.partition: String(record.partition), LogKey.offset: String(record.offset)])
        }
    }
}

/// The tables one process keeps, read with one admin client and followed by one consumer: each
/// librdkafka client costs the process threads, connections and CPU even when idle (the
/// coordinator's four tables were eight of its fourteen clients).
///
/// ``start()`` reads every table up to the end its partitions have then (one reader for all), then
/// follows them all with one consumer in the background; ``stop()`` stops following. The tables
/// answer lookups and ``KafkaTable/catchUp(timeout:)`` as when started alone. A follower that
/// cannot go on (a fatal client error) stops, and ``watch()``, which the process runs beside the
/// work that reads the tables, throws: a process answering from rows that no longer change,
/// with only a log line to say so, stops instead.
public final class KafkaTableSet: Sendable {
    /// One table, as the set reads it.
    struct Member: Sendable {
        let topic: String
        let logger: Logger
        /// Gives the table the set's admin client and the partitions of its topic.
        let attach: @Sendable (KafkaAdmin, [TopicPartition]) -> Void
        let apply: @Sendable (ConsumerRecord) -> Void
        /// The follower reached this end of the partition: every offset below it is applied, also
        /// those no consumer receives (a transaction's marker), which ``KafkaTable/catchUp(timeout:)``
        /// would otherwise wait for.
        let reached: @Sendable (TopicPartition, Int64) -> Void
        /// Where following the table starts: one past the last offset applied, per partition.
        let nextOffsets: @Sendable () -> [TopicPartition: Int64]
    }

    private let configuration: KafkaConfiguration
    private let members: [Member]
    /// The members by topic (a topic read by two tables feeds both).
    private let byTopic: [String: [Member]]
    /// Follows the tables from ``start()`` to ``stop()``; fails with
    /// ``KafkaTableError/noLongerFollowed(topics:_:)``.
    private let follower = Mutex<Task<Void, any Error>?>(nil)
    /// The follower's reader, while it follows.
    private let reader = Mutex<KafkaConsumer?>(nil)

    /// A set of `tables`, not started.
    public init<each Value: Message>(configuration: KafkaConfiguration, _ tables: repeat KafkaTable<each Value>) {
        var members: [Member] = []
        for table in repeat each tables { members.append(table.member) }
        self.configuration = configuration
        self.members = members
        byTopic = Dictionary(grouping: members, by: \.topic)
    }

    /// Reads every table up to its current end, then keeps following them in the background.
    /// While the broker is away it waits here (the process not ready) rather than fail.
    public func start() async throws {
        let admin = try KafkaAdmin(configuration: configuration)
        var partitions: [TopicPartition] = []
        for (topic, tables) in byTopic {
            let logger = tables[0].logger
            let waiting: (KafkaError) -> Void = { error in logger.warning("waiting for the broker to read \(topic): \(error)") }
            let found = try await KafkaError.waitingForBroker({ try await admin.partitions(of: topic) }, waiting: waiting)
            for table in tables { table.attach(admin, found) }
            partitions += found
        }
        let waiting: (KafkaError) -> Void = { [members] error in
            members.first?.logger.warning("waiting for the broker to read \(members.map(\.topic).joined(separator: ", ")): \(error)")
        }
        // A SIGTERM during the read (a large table, a broker gone quiet) ends it: the service stops.
        try await KafkaConsumer.readToEnd(partitions, configuration: configuration, admin: admin,
                                          whileBrokerUnreachable: waiting, stopsOnCancellation: true) { apply($0) }
        // The follower waits longer per fetch than the loading reader: a table changes seldom, and
        // an idle reader asking every 50 ms (every 25 ms on Tansu) cost every process that keeps
        // tables CPU for ever. A broker answers a fetch as soon as a record arrives, so this delays
        // no update (Tansu holds every fetch for about half the wait: there, updates arrive within
        // about 0.25 s).
        let starts = members.reduce(into: [TopicPartition: Int64]()) { starts, member in
            starts.merge(member.nextOffsets()) { min($0, $1) }
        }
        let reader = try KafkaConsumer(configuration: configuration, startingAt: starts, properties: ["fetch.wait.max.ms": "500"])
        let logger = members.first?.logger
        let task = Task { [self] in
            var told: [TopicPartition: Int64] = [:]
            var failure: (any Error)?
            while !Task.isCancelled {
                let records: [ConsumerRecord]
                do {
                    // Waiting 100 ms, not the fetch's 500: a stop waits for this poll to return.
                    records = try await reader.poll(timeoutMilliseconds: 100)
                } catch let error as KafkaError where !error.isFatal {
                    // Polled again after a pause: a table that stopped following would go on
                    // answering with what it held, and nothing would say so.
                    logger?.warning("tables: polling \(members.map(\.topic).joined(separator: ", ")) failed, polling again: \(error)")
                    try? await Task.sleep(for: .seconds(1))
                    continue
                } catch {
                    failure = error  // thrown by watch(): the process's exit line says it, once
                    break
                }
                for record in records { apply(record) }
                for partition in starts.keys {
                    guard let end = reader.reachedEnd(of: partition), end != told[partition] else { continue }
                    told[partition] = end
                    for member in byTopic[partition.topic] ?? [] { member.reached(partition, end) }
                }
            }
            await reader.close()
            if let failure { throw KafkaTableError.noLongerFollowed(topics: members.map(\.topic), failure) }
        }
        follower.withLock { $0 = task }
        self.reader.withLock { $0 = reader }
    }

    /// Waits until the caller is cancelled, and throws ``KafkaTableError/noLongerFollowed(topics:_:)``
    /// as soon as following stops on an error it cannot get past (a fatal client error): the
    /// tables would go on answering with rows that no longer change. Run it beside the work that
    /// reads the tables (``withCompanion(_:running:)``, or a task group), so that the failure
    /// stops that work, and the process. Before ``start()`` and after ``stop()`` there is nothing
    /// to fail: it waits for the cancellation.
    public func watch() async throws {
        try await Self.watch(followingTask)
    }

    /// The task following the tables, once started and until stopped.
    var followingTask: Task<Void, any Error>? { follower.withLock { $0 } }

    /// ``watch()`` of `follower`.
    static func watch(_ follower: Task<Void, any Error>?) async throws {
        let failure = FirstAnswer<(any Error)?>()
        if let follower {
            // Awaits only the follower, which ends at stop() if not before: an unstructured
            // task, since awaiting another task's result does not end on cancellation.
            Task {
                if case .failure(let error) = await follower.result { failure.answer(error) }
            }
        }
        let error = await withTaskCancellationHandler {
            await failure.wait()
        } onCancel: {
            failure.answer(nil)
        }
        if let error { throw error }
    }

    /// The reader that follows the tables once ``start()`` returned, for a test to fail it.
    var followingReader: KafkaConsumer? { reader.withLock { $0 } }

    /// Stops following.
    public func stop() async {
        let task = follower.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        _ = await task?.result  // a failure was the watcher's to report
        reader.withLock { $0 = nil }
    }

    private func apply(_ record: ConsumerRecord) {
        for member in byTopic[record.topic] ?? [] { member.apply(record) }
    }
}

/// Why tables stopped answering with current rows.
public enum KafkaTableError: Error, CustomStringConvertible {
    /// Following the tables of these topics stopped on an error the follower cannot get past
    /// (a fatal client error): their rows no longer change.
    case noLongerFollowed(topics: [String], any Error)

    public var description: String {
        switch self {
        case .noLongerFollowed(let topics, let error):
            "tables \(topics.joined(separator: ", ")) no longer followed: \(error)"
        }
    }
}
