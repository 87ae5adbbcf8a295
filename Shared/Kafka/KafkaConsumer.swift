import CRdKafka
import Dispatch
import Foundation
import Runtime
import Synchronization

/// A change of this consumer's partitions, reported from inside the group's rebalance.
public enum RebalanceEvent: Sendable, Equatable {
    /// These partitions were added to the assignment; reading starts at the committed offsets,
    /// unpaused (whatever was paused before the rebalance).
    case assigned([TopicPartition])
    /// These partitions are about to be taken away. The handler runs before the final commit, so
    /// offsets it stores for finished work are still committed. A consumer that defers
    /// revocations keeps them, and the group's rebalance waits, until its owner calls
    /// ``KafkaConsumer/completeRevocation(commitTimeout:)``.
    case revoking([TopicPartition])
    /// These partitions are gone: their offsets were committed (unless the assignment was lost,
    /// or the commit failed or got no answer in time: ``RevocationCommit``).
    case revoked([TopicPartition])
}

/// How the commit a revocation makes of the offsets stored for its partitions ended
/// (``KafkaConsumer/completeRevocation(commitTimeout:)``).
public enum RevocationCommit: Sendable {
    /// The broker took them, or nothing was stored since the last commit.
    case committed
    /// The assignment was lost (the group went on without this member): nothing may be committed.
    case lost
    /// The broker refused them, or gave no answer within the bound (`_TIMED_OUT`; the commit goes
    /// on unwaited for): the partitions' next owner reads again from the last offsets committed,
    /// and re-processes the records finished since.
    case failed(KafkaError)
}

/// A member of a consumer group with manual offset management.
///
/// Offsets: nothing is committed until the caller marks a record done (``markDone(_:)`` stores
/// offset + 1). Stored offsets are committed in the background every `auto.commit.interval.ms`,
/// synchronously when partitions are revoked (waiting for the broker at most a bound,
/// ``revocationCommitTimeout`` unless the owner gives one, ``completeRevocation(commitTimeout:)``),
/// and by ``close()``. A record that is never marked
/// done is read again after a restart or a rebalance.
///
/// Reading is pull-based: ``poll(maxRecords:timeoutMilliseconds:)`` (or iterating ``records``)
/// blocks a dedicated dispatch queue, never Swift's cooperative pool, and holds at most one batch;
/// librdkafka's fetch queue bounds what is read ahead (``boundedReadAhead`` where memory counts). Keep polling
/// while work is in flight: rebalances are served from the poll, and a member that stops polling
/// for `max.poll.interval.ms` leaves the group. Use ``pause(_:)`` for backpressure.
///
/// Priority: records of the `priorityTopics` given at creation are fetched into a queue of their
/// own, and a poll returns what that queue holds before anything else, up to three quarters of
/// the batch. So a priority record waits behind at most one poll, not behind everything read
/// ahead from the other topics, and a flood of priority records still leaves the other topics a
/// quarter of every poll.
///
/// Lifetime: the librdkafka handle is destroyed (in ``close()`` or `deinit`) before the
/// rebalance context it calls into is released.
public final class KafkaConsumer: Sendable {
    private let rk: RDHandle
    private let queue: RDHandle
    /// Where the partitions of priority topics deliver; nil without priority topics.
    private let priorityQueue: RDHandle?
    /// Written by librdkafka when either queue gets a record after being empty, so a poll with
    /// priority topics waits on both at once; nil without priority topics (one queue to wait on).
    private let wakeUp: WakeUpPipe?
    private let context: RebalanceContext
    private let contextPointer: Unmanaged<RebalanceContext>
    private let pollQueue = DispatchQueue(label: "kafka-consumer-poll")
    /// Closed by ``shutDown()``; calls into the client from outside the poll queue pass through it.
    private let gate = ClientGate()
    /// The group this consumer belongs to.
    public let groupID: String

    /// Defaults applied before the configuration's properties.
    ///
    /// `fetch.wait.max.ms` is 100 for the local broker (Tansu), which answers a fetch only when
    /// the wait is over: a record waits half of it on average. Apache Kafka answers as soon as
    /// records arrive, so there the wait only paces an idle consumer's fetches, and the
    /// deployments (`Deploy/k8s/configmap.yaml`, `Deploy/compose.yaml`) set librdkafka's 500:
    /// measured on the local broker, the seven idle processes used 5.2 and 5.1% of a core with
    /// 100 and 4.1 and 4.4% with 500.
    public static let defaultProperties: [String: String] = [
        "enable.auto.commit": "true",
        "auto.commit.interval.ms": "1000",
        "auto.offset.reset": "earliest",
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "1000",
        "max.poll.interval.ms": "300000",
        "fetch.wait.max.ms": "100",
        "partition.assignment.strategy": "range",
        "log.connection.close": "false",
    ]

    /// Read-ahead bounds for a consumer that holds memory to a budget (the coordinator's, and
    /// every reader of fixed partitions: restores, tables), not librdkafka's defaults (64 MB,
    /// 100,000 records). The bounds are checked before a fetch, and one fetch response comes on
    /// top, decompressed: a batch stays in memory until its last record is polled. So a response
    /// is kept small (64 KB a partition, compressed; a larger record still comes whole), and the
    /// queue is bounded in records as well as bytes, since librdkafka counts only a record's
    /// payload and a small record costs a few hundred bytes more. A partition whose queue is full
    /// is fetched again after `fetch.queue.backoff.ms`: librdkafka's 1 s halved the
    /// coordinator's leads/s in a burst once the record bound was reached, 20 ms does not.
    /// Measured (Benchmarks/pipeline-report.md, "2026-12-04, night"): the coordinator's heap at
    /// the peak of a 100,000-lead backlog held 58 MB of read-ahead with 256 KB a partition and
    /// no record bound, 13 MB with these; restoring 30,000 ready leads peaked at 207-216 MB
    /// with librdkafka's defaults. The configuration's properties win.
    public static let boundedReadAhead = ["queued.max.messages.kbytes": "4096", "queued.min.messages": "2000",
                                          "fetch.queue.backoff.ms": "20", "max.partition.fetch.bytes": "65536"]

    /// Creates a consumer and subscribes it to `topics` as a member of `groupID`.
    /// - Parameters:
    ///   - properties: librdkafka properties for this consumer; they win over the defaults and
    ///     the configuration's properties. `enable.auto.offset.store` is always false.
    ///   - defaults: librdkafka properties for this consumer that the configuration's properties
    ///     (`KAFKA_PROPERTY_*`, the properties file) and `properties` win over.
    ///   - priorityTopics: topics (of `topics`) whose records a poll returns first.
    ///   - defersRevocation: partitions being revoked stay assigned (and the rebalance waits)
    ///     until ``completeRevocation(commitTimeout:)``, so their owner can write what it holds for them after
    ///     the poll that reported ``RebalanceEvent/revoking(_:)`` and before anyone else reads
    ///     them. Call it before polling again.
    ///   - onRebalance: called on the poll queue inside the rebalance; keep it short.
    ///
    /// With the configuration's ``KafkaConfiguration/statisticsObserver`` it reports librdkafka's
    /// statistics there, from the poll.
    public convenience init(configuration: KafkaConfiguration, groupID: String, topics: [String],
                            priorityTopics: Set<String> = [], properties: [String: String] = [:],
                            defaults: [String: String] = [:], defersRevocation: Bool = false,
                            onRebalance: (@Sendable (RebalanceEvent) -> Void)? = nil) throws {
        try self.init(configuration: configuration, groupID: groupID, priorityTopics: priorityTopics.intersection(topics),
                      properties: properties, defaults: defaults, defersRevocation: defersRevocation, onRebalance: onRebalance)
        do {
            try subscribe(to: topics)
        } catch {
            shutDown()
            throw error
        }
    }

    /// Creates a consumer of `groupID` that joins the group only when ``subscribe(to:)`` is
    /// called: librdkafka joins in the background as soon as a consumer subscribes, and a member
    /// that then does not poll holds the group's next rebalance (it cannot hand its partitions
    /// back), so an owner with work to do first (tables to read) subscribes after it. The
    /// parameters are those of ``init(configuration:groupID:topics:priorityTopics:properties:defaults:defersRevocation:onRebalance:)``.
    public convenience init(configuration: KafkaConfiguration, groupID: String, priorityTopics: Set<String> = [],
                            properties: [String: String] = [:], defaults: [String: String] = [:],
                            defersRevocation: Bool = false, onRebalance: (@Sendable (RebalanceEvent) -> Void)? = nil) throws {
        try self.init(configuration: configuration, groupID: groupID, properties: properties,
                      defaults: configuration.statisticsDefaults.merging(defaults) { _, new in new },
                      priorityTopics: priorityTopics,
                      statisticsObserver: configuration.statisticsObserver, defersRevocation: defersRevocation,
                      onRebalance: onRebalance)
    }

    /// Subscribes to `topics`: librdkafka joins the group in the background, and the partitions
    /// assigned arrive from the following polls. Keep polling from here on.
    /// - Throws: ``KafkaError`` when librdkafka refuses the subscription, or the consumer is closed.
    public func subscribe(to topics: [String]) throws {
        let list = makePartitionList(topics.map { TopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard let err = gate.whileOpen({ rd_kafka_subscribe(rk.pointer, list) }) else {
            throw KafkaError.closed(operation: "subscribe")
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, operation: "subscribe")
        }
    }

    /// The start offset meaning "the first record still stored".
    public static let beginning: Int64 = Int64(RD_KAFKA_OFFSET_BEGINNING)
    /// The start offset meaning "only records produced from now on".
    public static let end: Int64 = Int64(RD_KAFKA_OFFSET_END)

    /// Creates a reader of fixed partitions from given offsets (``beginning``, ``end`` or an
    /// offset), outside any group: nothing is committed and no rebalance happens. For restoring
    /// state from a changelog and for reading whole tables. Its statistics go to
    /// `statisticsObserver` (every `statistics.interval.ms` of `properties`), not to the
    /// configuration's observer, so a service's metrics count only its long-lived clients. Its
    /// read-ahead is ``boundedReadAhead``, and it reports the ends it reaches
    /// (``reachedEnd(of:)``).
    public convenience init(configuration: KafkaConfiguration, startingAt offsets: [TopicPartition: Int64],
                            properties: [String: String] = [:], statisticsObserver: KafkaStatisticsObserver? = nil) throws {
        try self.init(configuration: configuration, groupID: "reader-\(UUID().uuidString)", properties: Self.readerProperties(properties),
                      defaults: Self.boundedReadAhead, priorityTopics: [], statisticsObserver: statisticsObserver, defersRevocation: false,
                      onRebalance: nil)
        let list = makePartitionList(Array(offsets.keys), offsets: offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(rk.pointer, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            shutDown()
            throw KafkaError(err, operation: "assign")
        }
        context.assigned(Array(offsets.keys))
    }

    /// A reader's `properties` with what every reader of fixed partitions needs, over whatever
    /// the configuration says for the group consumers: no commits, the ends it reaches reported,
    /// and a position not in the log (deleted by retention, or past the end) going on from the
    /// first record kept ("latest" would skip the records it is asked for).
    static func readerProperties(_ properties: [String: String]) -> [String: String] {
        properties.merging(["enable.auto.commit": "false", "enable.partition.eof": "true", "auto.offset.reset": "earliest"]) { _, fixed in fixed }
    }

    private init(configuration: KafkaConfiguration, groupID: String, properties: [String: String], defaults: [String: String],
                 priorityTopics: Set<String>, statisticsObserver: KafkaStatisticsObserver?, defersRevocation: Bool,
                 onRebalance: (@Sendable (RebalanceEvent) -> Void)?) throws {
        var overrides = properties
        overrides["group.id"] = groupID
        overrides["enable.auto.offset.store"] = "false"
        let conf = try configuration.makeConf(defaults: Self.defaultProperties.merging(defaults) { _, new in new },
                                              overrides: overrides)
        let context = RebalanceContext(priorityTopics: priorityTopics, statisticsObserver: statisticsObserver,
                                       defersRevocation: defersRevocation, handler: onRebalance)
        let contextPointer = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, contextPointer.toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        if statisticsObserver != nil { setStatisticsCallback(conf) }
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        let rk: RDHandle
        do {
            rk = try makeRDKafkaHandle(type: RD_KAFKA_CONSUMER, conf: conf, operation: "createConsumer")
        } catch {
            contextPointer.release()
            throw error
        }
        rd_kafka_poll_set_consumer(rk.pointer)
        self.rk = rk
        let queue = RDHandle(pointer: rd_kafka_queue_get_consumer(rk.pointer))
        let priorityQueue = priorityTopics.isEmpty ? nil : RDHandle(pointer: rd_kafka_queue_new(rk.pointer))
        let wakeUp = priorityQueue.map { priorityQueue in
            let wakeUp = WakeUpPipe()
            wakeUp.enable(on: [queue, priorityQueue])
            return wakeUp
        }
        self.queue = queue
        self.priorityQueue = priorityQueue
        self.wakeUp = wakeUp
        context.priorityQueue = priorityQueue
        self.context = context
        self.contextPointer = contextPointer
        self.groupID = groupID
    }

    deinit {
        if !gate.isClosed {
            shutDown()
        }
    }

    /// The partitions currently assigned to this member.
    public var assignment: Set<TopicPartition> { context.assignment }

    /// The end this consumer last reached in `partition` since it was assigned: librdkafka says
    /// so (`enable.partition.eof`, set for every reader of fixed partitions; a group member sets
    /// it in its properties) when a fetch finds nothing after its position, and a poll takes the
    /// word in order, after every record before it. The end counts offsets no consumer receives
    /// (a transaction's marker, records compacted away), so a read to an end is complete here
    /// without waiting for a record at the end's last offset. It is the high watermark, or under
    /// `isolation.level=read_committed` (the default) the last stable offset: a read to a high
    /// watermark waits out a transaction still open. Nil until a poll took such a word.
    public func reachedEnd(of partition: TopicPartition) -> Int64? {
        context.endsReached.withLock { $0[partition] }
    }

    /// Waits up to `timeoutMilliseconds` for records and returns at most `maxRecords` of them
    /// (possibly none). Rebalance callbacks run during this call.
    /// - Throws: ``KafkaError`` when the consumer is closed or hit a fatal error.
    public func poll(maxRecords: Int = 1000, timeoutMilliseconds: Int32 = 100) async throws -> [ConsumerRecord] {
        let result: Result<[ConsumerRecord], KafkaError> = await withCheckedContinuation { continuation in
            pollQueue.async { [self] in
                guard !gate.isClosed else {
                    continuation.resume(returning: .failure(.closed(operation: "poll")))
                    return
                }
                continuation.resume(returning: consume(maxRecords: maxRecords, timeoutMilliseconds: timeoutMilliseconds))
            }
        }
        return try result.get()
    }

    /// One poll, on the poll queue. With priority topics it takes what both queues hold, the
    /// priority queue first, and when both are empty waits for librdkafka to say either got
    /// something (``WakeUpPipe``): a priority record arriving during a wait is returned at once,
    /// and an idle consumer sleeps instead of looking at its queues every few milliseconds.
    private func consume(maxRecords: Int, timeoutMilliseconds: Int32) -> Result<[ConsumerRecord], KafkaError> {
        guard let priorityQueue, let wakeUp else {
            return Self.consumeBatch(rk: rk, queue: queue, maxRecords: maxRecords, timeoutMilliseconds: timeoutMilliseconds,
                                     endsReached: context.endsReached)
        }
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMilliseconds))
        while true {
            // Emptied before the queues are read: a record enqueued after this wakes the wait below.
            wakeUp.drain()
            // A quarter (at least one place) is left for the consumer queue, which also serves the
            // rebalance callbacks.
            var records: [ConsumerRecord]
            switch Self.consumeBatch(rk: rk, queue: priorityQueue, maxRecords: Self.priorityShare(of: maxRecords), timeoutMilliseconds: 0,
                                     endsReached: context.endsReached) {
            case .success(let batch): records = batch
            case .failure(let error): return .failure(error)
            }
            if maxRecords > records.count {
                switch Self.consumeBatch(rk: rk, queue: queue, maxRecords: maxRecords - records.count, timeoutMilliseconds: 0,
                                         endsReached: context.endsReached) {
                case .success(let batch): records += batch
                case .failure(let error): return .failure(error)
                }
            }
            let remaining = (deadline - ContinuousClock.now).wholeMilliseconds
            if !records.isEmpty || remaining <= 0 { return .success(records) }
            wakeUp.wait(milliseconds: remaining)
        }
    }

    /// The most priority records one poll of `maxRecords` returns.
    static func priorityShare(of maxRecords: Int) -> Int {
        max(1, min(maxRecords - 1, maxRecords * 3 / 4))
    }

    private static func consumeBatch(rk: RDHandle, queue: RDHandle, maxRecords: Int, timeoutMilliseconds: Int32,
                                     endsReached: borrowing Mutex<[TopicPartition: Int64]>) -> Result<[ConsumerRecord], KafkaError> {
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: maxRecords)
        defer { messages.deallocate() }
        let count = rd_kafka_consume_batch_queue(queue.pointer, timeoutMilliseconds, messages, maxRecords)
        guard count >= 0 else {
            return .failure(KafkaError(rd_kafka_last_error(), operation: "poll"))
        }
        var records: [ConsumerRecord] = []
        records.reserveCapacity(count)
        var failure: KafkaError?
        // One topic name per topic handle and batch, not one String per record.
        var lastTopicHandle: OpaquePointer?
        var lastTopicName = ""
        var headers = HeaderReuse()
        for i in 0..<count {
            guard let message = messages[i] else { continue }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    if let topic = m.rkt.map({ String(cString: rd_kafka_topic_name($0)) }) {
                        let partition = TopicPartition(topic: topic, partition: m.partition)
                        endsReached.withLock { $0[partition] = m.offset }
                    }
                    continue
                }
                let reason = rd_kafka_message_errstr(message).map { String(cString: $0) }
                let error = KafkaError(m.err, message: reason, operation: "poll")
                if m.err == RD_KAFKA_RESP_ERR__FATAL {
                    failure = error
                } else {
                    errorCallback(rk.pointer, m.err.rawValue, reason, nil)
                }
                continue
            }
            var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let timestamp = rd_kafka_message_timestamp(message, &timestampType)
            if m.rkt != lastTopicHandle {
                lastTopicHandle = m.rkt
                lastTopicName = String(cString: rd_kafka_topic_name(m.rkt))
            }
            records.append(ConsumerRecord(
                topic: lastTopicName,
                partition: m.partition,
                offset: m.offset,
                key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
                value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) },
                headers: headers.headers(of: message),
                timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp))
        }
        if let failure { return .failure(failure) }
        return .success(records)
    }

    /// Marks a record done: its offset + 1 is stored and committed with the next commit.
    /// Callers that finish records out of order store only the contiguous finished prefix.
    /// - Throws: ``KafkaError`` (`_STATE`) when the partition is no longer assigned.
    public func markDone(_ record: ConsumerRecord) throws {
        try storeOffsets([record.topicPartition: record.offset + 1])
    }

    /// Stores the next offsets to read for partitions (one past the last finished record).
    public func storeOffsets(_ nextOffsets: [TopicPartition: Int64]) throws {
        guard !nextOffsets.isEmpty else { return }
        let list = makePartitionList(Array(nextOffsets.keys), offsets: nextOffsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard let err = gate.whileOpen({ rd_kafka_offsets_store(rk.pointer, list) }) else {
            throw KafkaError.closed(operation: "storeOffsets")
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, operation: "storeOffsets")
        }
        // Looked at before any name is copied: a batch stores offsets for each partition it read.
        if let index = (0..<Int(list.pointee.cnt)).first(where: { list.pointee.elems[$0].err != RD_KAFKA_RESP_ERR_NO_ERROR }) {
            let failed = partitionListElements(list)[index]
            throw KafkaError(failed.error, message: "\(failed.0): \(String(cString: rd_kafka_err2str(failed.error)))",
                             operation: "storeOffsets")
        }
    }

    /// Commits the stored offsets now and waits for the broker's answer.
    public func commit() async throws {
        let rk = self.rk
        let err: rd_kafka_resp_err_t = await withCheckedContinuation { continuation in
            pollQueue.async { [self] in
                guard !gate.isClosed else {
                    continuation.resume(returning: RD_KAFKA_RESP_ERR__DESTROY)
                    return
                }
                continuation.resume(returning: rd_kafka_commit(rk.pointer, nil, 0))
            }
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(err, operation: "commit")
        }
    }

    /// Stops fetching from partitions until ``resume(_:)``; records already polled stay valid.
    public func pause(_ partitions: [TopicPartition]) throws {
        try changeFetching(partitions, operation: "pause") { rd_kafka_pause_partitions($0, $1) }
        context.paused(partitions)
    }

    /// Fetches from partitions again after ``pause(_:)``.
    public func resume(_ partitions: [TopicPartition]) throws {
        try changeFetching(partitions, operation: "resume") { rd_kafka_resume_partitions($0, $1) }
        context.resumed(partitions)
    }

    /// Moves the reading of assigned partitions to the given offsets: the next records a poll
    /// returns from each are those from its offset on. Asynchronous, for a reader that skips
    /// ahead: librdkafka (2.8) drops what it fetched from the old position, also a fetch still on
    /// its way; per-partition errors are not reported.
    public func seek(_ offsets: [TopicPartition: Int64]) throws {
        guard !offsets.isEmpty else { return }
        let list = makePartitionList(Array(offsets.keys), offsets: offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard let error = gate.whileOpen({ rd_kafka_seek_partitions(rk.pointer, list, 0) }) else {
            throw KafkaError.closed(operation: "seek")
        }
        if let error {
            defer { rd_kafka_error_destroy(error) }
            throw KafkaError(rd_kafka_error_code(error), message: String(cString: rd_kafka_error_string(error)), operation: "seek")
        }
    }

    private func changeFetching(
        _ partitions: [TopicPartition], operation: String,
        _ call: (OpaquePointer, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> rd_kafka_resp_err_t
    ) throws {
        guard !partitions.isEmpty else { return }
        let list = makePartitionList(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard let err = gate.whileOpen({ call(rk.pointer, list) }) else { throw KafkaError.closed(operation: operation) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: operation) }
    }

    /// The committed offsets of this group for `partitions` (`nil` where none is committed);
    /// fails naming a partition the broker answered with an error of its own.
    public func committed(_ partitions: [TopicPartition], timeoutMilliseconds: Int32 = 10_000) async throws -> [TopicPartition: Int64?] {
        let rk = self.rk
        return try await withCheckedThrowingContinuation { continuation in
            pollQueue.async { [gate] in
                guard !gate.isClosed else { return continuation.resume(throwing: KafkaError.closed(operation: "committed")) }
                continuation.resume(with: fetchCommitted(rk: rk, partitions, timeoutMilliseconds: timeoutMilliseconds))
            }
        }
    }

    /// The low and high watermarks last returned by a fetch for an assigned partition.
    /// `nil` until this consumer has fetched from it.
    public func fetchedWatermarks(_ partition: TopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = gate.whileOpen {
            partition.topic.withCString { rd_kafka_get_watermark_offsets(rk.pointer, $0, partition.partition, &low, &high) }
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// The fetch positions of assigned partitions: the offset of the next record this consumer
    /// will return (`nil` where it has not fetched yet). Local state, no broker call.
    public func positions(_ partitions: [TopicPartition]) -> [TopicPartition: Int64?] {
        guard !partitions.isEmpty else { return [:] }
        let list = makePartitionList(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard gate.whileOpen({ rd_kafka_position(rk.pointer, list) }) == RD_KAFKA_RESP_ERR_NO_ERROR else {
            return Dictionary(uniqueKeysWithValues: partitions.map { ($0, nil) })
        }
        var result: [TopicPartition: Int64?] = [:]
        for (tp, offset, _) in partitionListElements(list) {
            result[tp] = offset >= 0 ? offset : nil
        }
        return result
    }

    /// Leaves the group: revokes the assignment (committing stored offsets), commits, and frees
    /// the client. Safe to call more than once; `deinit` does the same if it was never called.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            pollQueue.async { [self] in
                shutDown()
                continuation.resume()
            }
        }
    }

    /// ``close()``, waited for until `end` at most (a warning to `logger` when it did not finish
    /// by then). During an outage the close's last commit waits for the broker until
    /// `socket.timeout.ms` (a minute by default) and the group's leave after it; a process
    /// shutting down within its bound stops waiting, and the close goes on behind it (the group
    /// drops the member after its session timeout, and the offsets not committed are read again
    /// by the next owner).
    public func close(by end: ContinuousClock.Instant, logger: Logger) async {
        if await !waitForEnd(of: Task { await close() }, atMost: max(.zero, end - ContinuousClock.now)) {
            logger.warning("leaving the group did not finish before the shutdown bound: not waited for")
        }
    }

    /// How long the commit of a revocation waits for the broker's answer unless told otherwise
    /// (and always when the revocation is not deferred: a consumer's close, or one that does not
    /// defer). A broker answers a commit within milliseconds; one without an answer in 10 s is
    /// away, and waiting longer would hold the consumer's poll queue, and its owner's loop, for
    /// nothing: the next owner reads from that same broker once it is back.
    public static let revocationCommitTimeout: Duration = .seconds(10)

    /// Gives up the partitions of a deferred revocation (``RebalanceEvent/revoking(_:)``):
    /// commits the offsets stored for them (unless the assignment was lost), waiting for the
    /// broker's answer at most `commitTimeout`, unassigns them, and reports
    /// ``RebalanceEvent/revoked(_:)`` before returning. The group's rebalance goes on from here.
    /// Returns how the commit ended (the caller logs a failure: the next owner re-processes what
    /// was not committed); nil when no revocation is deferred.
    @discardableResult
    public func completeRevocation(commitTimeout: Duration = KafkaConsumer.revocationCommitTimeout) async -> RevocationCommit? {
        await withCheckedContinuation { (continuation: CheckedContinuation<RevocationCommit?, Never>) in
            pollQueue.async { [self] in
                guard !gate.isClosed, let revocation = context.takeDeferredRevocation() else {
                    return continuation.resume(returning: nil)
                }
                continuation.resume(returning: finishRevocation(rk.pointer, revocation, context, commitTimeout: commitTimeout))
            }
        }
    }

    /// A member that was never assigned (closed while its first join is under way) goes without
    /// a leave: the group drops it after the session timeout, as it drops a killed process. The
    /// test broker, given a leave during a join, waited for the member for good and assigned no
    /// one else (the test `testAMemberClosedWhileJoiningDoesNotHoldUpTheNext`). Nor does a client
    /// that hit a fatal error: librdkafka does not close its consumer (the close returns at once
    /// and its group never ends), and a destroy that closes it waits for good
    /// (`testAConsumerWhoseClientHitAFatalErrorCloses`; confluent-kafka-go PR 1588).
    private func shutDown() {
        guard gate.close() else { return }
        // The revocation of the close itself is done at once; one still deferred is done first.
        context.isClosing.store(true, ordering: .releasing)
        context.takeDeferredRevocation().map { finishImmediateRevocation(rk.pointer, $0, context) }
        let hasFatalError = rd_kafka_fatal_error(rk.pointer, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR
        if context.hasBeenAssigned && !hasFatalError { rd_kafka_consumer_close(rk.pointer) }
        destroy()
    }

    /// Destroys the client without closing its consumer: closed already, or not to be closed (a
    /// fatal error raised since the check must not make the destroy close it, and wait for good).
    private func destroy() {
        if let priorityQueue {
            wakeUp?.disable(on: [queue, priorityQueue])
            rd_kafka_queue_destroy(priorityQueue.pointer)
        }
        rd_kafka_queue_destroy(queue.pointer)
        rd_kafka_destroy_flags(rk.pointer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE)
        wakeUp?.close()
        contextPointer.release()
    }

    /// Raises a fatal error in the client, as librdkafka would on one it cannot get past
    /// (`rd_kafka_test_fatal_error`): its next polls throw a fatal ``KafkaError``. For tests of
    /// what such an error does to the consumer's owner (a table that is no longer followed).
    func raiseFatalError(reason: String) {
        _ = gate.whileOpen { rd_kafka_test_fatal_error(rk.pointer, RD_KAFKA_RESP_ERR__FATAL, reason) }
    }

    /// The records of this consumer as an async sequence; see ``KafkaConsumer`` for the
    /// buffering (one batch at most) and the need to keep iterating.
    public func records(batchSize: Int = 1000) -> Records {
        Records(consumer: self, batchSize: batchSize)
    }

    /// An async sequence over ``KafkaConsumer/poll(maxRecords:timeoutMilliseconds:)``. It ends
    /// when the task is cancelled or the consumer is closed.
    public struct Records: AsyncSequence, Sendable {
        public typealias Element = ConsumerRecord
        let consumer: KafkaConsumer
        let batchSize: Int

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(consumer: consumer, batchSize: batchSize)
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            let batchSize: Int
            var batch: [ConsumerRecord] = []
            var index = 0

            public mutating func next() async throws -> ConsumerRecord? {
                while index == batch.count {
                    if Task.isCancelled || consumer.gate.isClosed { return nil }
                    do {
                        batch = try await consumer.poll(maxRecords: batchSize)
                    } catch let error as KafkaError where error.code == RD_KAFKA_RESP_ERR__DESTROY.rawValue {
                        return nil
                    }
                    index = 0
                }
                defer { index += 1 }
                return batch[index]
            }
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down, clamped to `Int32`.
    fileprivate var wholeMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// Reads committed offsets with a handle's group id. Blocking.
func fetchCommitted(rk: RDHandle, _ partitions: [TopicPartition], timeoutMilliseconds: Int32) -> Result<[TopicPartition: Int64?], KafkaError> {
    let list = makePartitionList(partitions)
    defer { rd_kafka_topic_partition_list_destroy(list) }
    let err = rd_kafka_committed(rk.pointer, list, timeoutMilliseconds)
    if err != RD_KAFKA_RESP_ERR_NO_ERROR { return .failure(KafkaError(err, operation: "committed")) }
    return committedOffsets(in: list)
}

/// The committed offsets a fetch filled `list` with (`nil` where none is committed); a failure
/// naming the partition where the broker answered one with an error of its own, whose offset
/// (-1) would otherwise read as nothing committed.
func committedOffsets(in list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> Result<[TopicPartition: Int64?], KafkaError> {
    var result: [TopicPartition: Int64?] = [:]
    for (tp, offset, error) in partitionListElements(list) {
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            return .failure(KafkaError(error, message: "\(tp): \(String(cString: rd_kafka_err2str(error)))", operation: "committed"))
        }
        result[tp] = offset >= 0 ? offset : nil
    }
    return .success(result)
}

/// What the rebalance and statistics callbacks reach: the assignment set, the priority queue,
/// the caller's handler and the statistics observer.
final class RebalanceContext: KafkaClientContext, @unchecked Sendable {
    // Unchecked like its base class; everything mutable here is behind a Mutex.
    private let current = Mutex<Set<TopicPartition>>([])
    /// Per partition, the end a poll last reported the consumer reached
    /// (``KafkaConsumer/reachedEnd(of:)``); forgotten when the partition is assigned or revoked,
    /// so an end reached in an earlier assignment does not count in the next.
    let endsReached = Mutex<[TopicPartition: Int64]>([:])
    let handler: (@Sendable (RebalanceEvent) -> Void)?
    let priorityTopics: Set<String>
    private let queue = Mutex<RDHandle?>(nil)

    /// Whether revocations wait for ``KafkaConsumer/completeRevocation(commitTimeout:)``.
    let defersRevocation: Bool
    /// Set when the consumer closes: from then on revocations are carried out at once.
    let isClosing = Atomic<Bool>(false)
    private let deferred = Mutex<DeferredRevocation?>(nil)

    init(priorityTopics: Set<String>, statisticsObserver: KafkaStatisticsObserver?, defersRevocation: Bool,
         handler: (@Sendable (RebalanceEvent) -> Void)?) {
        self.priorityTopics = priorityTopics
        self.defersRevocation = defersRevocation
        self.handler = handler
        super.init(statisticsObserver: statisticsObserver)
    }

    /// Keeps a revocation until it is taken. librdkafka starts no other rebalance before it is
    /// carried out, so at most one is kept.
    func deferRevocation(_ revocation: DeferredRevocation) {
        deferred.withLock { $0 = revocation }
    }

    /// The revocation kept, if any, which the caller carries out.
    func takeDeferredRevocation() -> DeferredRevocation? {
        deferred.withLock { kept in
            defer { kept = nil }
            return kept
        }
    }

    /// Set once, after the handle exists and before the consumer subscribes.
    var priorityQueue: RDHandle? {
        get { queue.withLock { $0 } }
        set { queue.withLock { $0 = newValue } }
    }

    /// Sends the fetched records of the priority topics among `partitions` to the priority
    /// queue. Done before librdkafka starts fetching them; the forward outlives reassignments,
    /// and repeating it is harmless.
    func routePriorityPartitions(_ rk: OpaquePointer, _ partitions: [TopicPartition]) {
        guard let priorityQueue else { return }
        for partition in partitions where priorityTopics.contains(partition.topic) {
            guard let partitionQueue = rd_kafka_queue_get_partition(rk, partition.topic, partition.partition) else { continue }
            rd_kafka_queue_forward(partitionQueue, priorityQueue.pointer)
            rd_kafka_queue_destroy(partitionQueue)
        }
    }

    var assignment: Set<TopicPartition> { current.withLock { $0 } }

    /// Partitions the application paused and has not resumed: librdkafka keeps them paused
    /// through revoke and assign.
    private let pausedByApplication = Mutex<Set<TopicPartition>>([])

    func paused(_ partitions: [TopicPartition]) { pausedByApplication.withLock { $0.formUnion(partitions) } }

    func resumed(_ partitions: [TopicPartition]) { pausedByApplication.withLock { $0.subtract(partitions) } }

    /// Those of `partitions` still paused from an earlier assignment, now forgotten: the caller
    /// resumes them. Only those: a pause or resume call bumps the partition's op version in
    /// librdkafka, which discards what a fetch of the fresh assignment had under way.
    func takeStillPaused(_ partitions: [TopicPartition]) -> [TopicPartition] {
        pausedByApplication.withLock { paused in
            let still = partitions.filter { paused.contains($0) }
            paused.subtract(still)
            return still
        }
    }

    /// Whether an assignment (possibly of no partitions) ever reached this consumer: its join
    /// completed once.
    var hasBeenAssigned: Bool { joined.load(ordering: .acquiring) }
    private let joined = Atomic<Bool>(false)

    func assigned(_ partitions: [TopicPartition]) {
        joined.store(true, ordering: .releasing)
        current.withLock { $0.formUnion(partitions) }
        endsReached.withLock { ends in for partition in partitions { ends[partition] = nil } }
        handler?(.assigned(partitions.sorted()))
    }

    func revoking(_ partitions: [TopicPartition]) {
        handler?(.revoking(partitions.sorted()))
    }

    func revoked(_ partitions: [TopicPartition]) {
        current.withLock { $0.subtract(partitions) }
        endsReached.withLock { ends in for partition in partitions { ends[partition] = nil } }
        handler?(.revoked(partitions.sorted()))
    }
}

/// librdkafka's rebalance callback. It performs the (incremental) assign or unassign itself, as
/// librdkafka requires, commits stored offsets before giving partitions up, and tells Swift.
private let rebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = {
    rk, err, partitions, opaque in
    guard let rk, let partitions, let opaque else { return }
    let context = Unmanaged<RebalanceContext>.fromOpaque(opaque).takeUnretainedValue()
    let changed = partitionListElements(partitions).map(\.0)
    let isCooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        context.routePriorityPartitions(rk, changed)
        if isCooperative {
            if let error = rd_kafka_incremental_assign(rk, partitions) { logConsuming(error, "incrementalAssign") }
        } else {
            rd_kafka_assign(rk, partitions)
        }
        // librdkafka keeps a partition's paused flag through revoke and assign: a partition
        // paused before a rebalance would stay silent with nobody tracking it. Assigned
        // partitions start fetching, as `RebalanceEvent.assigned` says; the owner pauses again.
        let stillPaused = context.takeStillPaused(changed)
        if !stillPaused.isEmpty {
            let list = makePartitionList(stillPaused)
            _ = rd_kafka_resume_partitions(rk, list)
            rd_kafka_topic_partition_list_destroy(list)
        }
        context.assigned(changed)
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        context.revoking(changed)
        // librdkafka lets the (un)assign come after the callback: the rebalance waits for it.
        let revocation = DeferredRevocation(partitions: rd_kafka_topic_partition_list_copy(partitions), changed: changed,
                                            isCooperative: isCooperative)
        if context.defersRevocation && !context.isClosing.load(ordering: .acquiring) {
            context.deferRevocation(revocation)
        } else {
            finishImmediateRevocation(rk, revocation, context)
        }
    default:
        errorCallback(rk, err.rawValue, rd_kafka_err2str(err), nil)
        rd_kafka_assign(rk, nil)
        context.revoked(changed)
    }
}

/// A revocation reported and not yet carried out (``KafkaConsumer/completeRevocation(commitTimeout:)``); its
/// partition list is librdkafka's copy, destroyed once it is.
struct DeferredRevocation: @unchecked Sendable {
    let partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    let changed: [TopicPartition]
    let isCooperative: Bool
}

/// Commits what is stored for a revocation's partitions (unless the assignment was lost),
/// waiting for the broker's answer at most `commitTimeout`, unassigns them and reports them
/// revoked; returns how the commit ended.
private func finishRevocation(_ rk: OpaquePointer, _ revocation: DeferredRevocation, _ context: RebalanceContext,
                              commitTimeout: Duration) -> RevocationCommit {
    defer { rd_kafka_topic_partition_list_destroy(revocation.partitions) }
    let commit: RevocationCommit
    if rd_kafka_assignment_lost(rk) == 0 {
        commit = commitStored(rk, timeout: commitTimeout).map(RevocationCommit.failed) ?? .committed
    } else {
        commit = .lost
    }
    if revocation.isCooperative {
        if let error = rd_kafka_incremental_unassign(rk, revocation.partitions) { logConsuming(error, "incrementalUnassign") }
    } else {
        rd_kafka_assign(rk, nil)
    }
    context.revoked(revocation.changed)
    return commit
}

/// ``finishRevocation(_:_:_:commitTimeout:)`` where no owner hears how the commit ended (inside
/// the rebalance callback, in a close), with the default bound; a failed commit is logged here.
private func finishImmediateRevocation(_ rk: OpaquePointer, _ revocation: DeferredRevocation, _ context: RebalanceContext) {
    let changed = revocation.changed
    guard case .failed(let error) = finishRevocation(rk, revocation, context, commitTimeout: KafkaConsumer.revocationCommitTimeout) else {
        return
    }
    errorCallback(rk, error.code, "commit at revocation failed (\(error.message)): the next owner of "
                  + changed.map(\.description).joined(separator: ",") + " re-processes their records since the last commit", nil)
}

/// Commits the offsets stored for the assignment and waits for the broker's answer at most
/// `timeout` (a synchronous `rd_kafka_commit` waits as long as the broker is away); past it the
/// commit goes on unwaited for, and its answer is dropped with the queue. Nil when the offsets
/// were committed or nothing was stored since the last commit.
private func commitStored(_ rk: OpaquePointer, timeout: Duration) -> KafkaError? {
    guard let queue = rd_kafka_queue_new(rk) else { return KafkaError(RD_KAFKA_RESP_ERR__FAIL, operation: "commit") }
    defer { rd_kafka_queue_destroy(queue) }
    let requested = rd_kafka_commit_queue(rk, nil, queue, nil, nil)
    guard requested == RD_KAFKA_RESP_ERR_NO_ERROR else {
        return requested == RD_KAFKA_RESP_ERR__NO_OFFSET ? nil : KafkaError(requested, operation: "commit")
    }
    // Polled as an event (`RD_KAFKA_EVENT_OFFSET_COMMIT`), the answer needs no callback.
    guard let event = rd_kafka_queue_poll(queue, timeout.wholeMilliseconds) else {
        return KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, message: "no answer from the broker within \(timeout)", operation: "commit")
    }
    defer { rd_kafka_event_destroy(event) }
    let answer = rd_kafka_event_error(event)
    if answer != RD_KAFKA_RESP_ERR_NO_ERROR && answer != RD_KAFKA_RESP_ERR__NO_OFFSET {
        return KafkaError(answer, message: rd_kafka_event_error_string(event).map { String(cString: $0) }, operation: "commit")
    }
    if let offsets = rd_kafka_event_topic_partition_list(event),
       let failed = partitionListElements(offsets).first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) {
        return KafkaError(failed.error, message: "\(failed.0): \(String(cString: rd_kafka_err2str(failed.error)))", operation: "commit")
    }
    return nil
}

private func logConsuming(_ error: OpaquePointer, _ operation: String) {
    let kafkaError = KafkaError(consuming: error, operation: operation)
    errorCallback(nil, kafkaError.code, kafkaError.message, nil)
}

/// A non-blocking pipe that librdkafka writes a byte to when a queue it is enabled on gets an
/// element after being empty (`rd_kafka_queue_io_event_enable`), and that a poll waits on: the
/// way to wait on two queues at once. Used from the consumer's poll queue only.
final class WakeUpPipe: @unchecked Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        // Without a pipe (out of descriptors) the waits below return at once: the poll then looks
        // at its queues in a loop instead of sleeping, which costs CPU but loses nothing.
        if pipe(&ends) == 0 {
            for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    /// Has librdkafka write to the pipe when any of `queues` gets an element after being empty.
    func enable(on queues: [RDHandle]) {
        guard writeEnd >= 0 else { return }
        var byte: UInt8 = 1
        for queue in queues { rd_kafka_queue_io_event_enable(queue.pointer, writeEnd, &byte, 1) }
    }

    /// Stops the writes; before the queues are destroyed.
    func disable(on queues: [RDHandle]) {
        for queue in queues { rd_kafka_queue_io_event_enable(queue.pointer, -1, nil, 0) }
    }

    /// Reads what was written, so the next wait sleeps until the next write.
    func drain() {
        guard readEnd >= 0 else { return }
        var bytes: UInt64 = 0
        while read(readEnd, &bytes, MemoryLayout<UInt64>.size) > 0 {}
    }

    /// Returns once something was written, or after `milliseconds`.
    func wait(milliseconds: Int32) {
        guard readEnd >= 0 else { return }
        var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, milliseconds)
    }

    /// Closes both ends; after the handle is destroyed, when nothing writes any more.
    func close() {
        for end in [readEnd, writeEnd] where end >= 0 { _ = Glibc.close(end) }
    }
}
