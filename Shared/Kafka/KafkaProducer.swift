import CRdKafka
import Foundation
import Runtime
import Synchronization

/// Sends records and reports when the broker has acknowledged them.
///
/// Defaults: keys are partitioned with murmur2 as the Java client does; `acks=all` with idempotence, so a retried send never duplicates a record within a
/// partition and never reorders it; `linger.ms=10` lets librdkafka batch, and `compression.type=lz4`
/// compresses each batch (the pipeline's JSON records shrink about fourfold on the wire and in the
/// broker, for under 2% of the pipeline's CPU: Benchmarks/pipeline-report.md). A send completes only on
/// the broker's delivery report; a failure is a ``KafkaError`` (see ``KafkaError/isRetriable``),
/// never silence. When librdkafka's local queue is full, a send waits for room rather than fail.
public final class KafkaProducer: Sendable {
    private let rk: RDHandle
    private let topics = Mutex<[String: RDHandle]>([:])
    private let poller: PollThread
    /// Closed by ``shutDown(flushTimeoutMilliseconds:)``; produce calls pass through it.
    private let gate = ClientGate()
    /// Reached by the statistics callback; released after the handle is destroyed.
    private let context: Unmanaged<KafkaClientContext>?

    /// The defaults this producer applies before the caller's properties.
    public static let defaultProperties: [String: String] = [
        "acks": "all",
        // The Java client's partitioner, so producers in any language agree on a key's partition.
        "partitioner": "murmur2_random",
        "enable.idempotence": "true",
        "linger.ms": "10",
        "compression.type": "lz4",
        "message.timeout.ms": "30000",
        "log.connection.close": "false",
    ]

    /// Creates a producer and starts its delivery-report thread. With the configuration's
    /// ``KafkaConfiguration/statisticsObserver`` it reports librdkafka's statistics there.
    /// - Parameter properties: librdkafka properties for this producer only; they win over
    ///   ``defaultProperties`` and the configuration's properties.
    public init(configuration: KafkaConfiguration, properties: [String: String] = [:]) throws {
        let conf = try configuration.makeConf(
            defaults: Self.defaultProperties.merging(configuration.statisticsDefaults) { _, new in new }, overrides: properties)
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        let context = configuration.statisticsObserver.map {
            Unmanaged.passRetained(KafkaClientContext(statisticsObserver: $0))
        }
        if let context {
            rd_kafka_conf_set_opaque(conf, context.toOpaque())
            setStatisticsCallback(conf)
        }
        let rk: RDHandle
        do {
            rk = try makeRDKafkaHandle(type: RD_KAFKA_PRODUCER, conf: conf, operation: "createProducer")
        } catch {
            context?.release()
            throw error
        }
        self.rk = rk
        self.context = context
        self.poller = PollThread(name: "kafka-delivery") {
            rd_kafka_poll(rk.pointer, 100)
        }
    }

    deinit {
        if !gate.isClosed {
            shutDown(flushTimeoutMilliseconds: 10_000)
        }
    }

    /// Sends one record and returns where the broker stored it.
    public func send(_ record: ProducerRecord) async throws -> DeliveryReport {
        try await send([record])[0]
    }

    /// Sends records in order and returns, once every one is acknowledged or has failed, their
    /// reports in the same order. Records to one partition keep their relative order.
    /// - Throws: the first record's error when any record failed; the others may still have been
    ///   stored, so callers that retry rely on idempotent handling downstream.
    public func send(_ records: [ProducerRecord]) async throws -> [DeliveryReport] {
        try await sendReportingEach(records).map { try $0.get() }
    }

    /// Sends records and returns each one's outcome, in the same order.
    public func sendReportingEach(_ records: [ProducerRecord]) async -> [Result<DeliveryReport, KafkaError>] {
        await enqueue(records).results()
    }

    /// Hands records to librdkafka in order and returns without waiting for the broker: the
    /// returned ``Delivery`` waits. Records of a later `enqueue` or `send` follow these in every
    /// partition, so a caller can prepare its next batch while this one is acknowledged.
    public func enqueue(_ records: [ProducerRecord]) async -> Delivery {
        if records.isEmpty { return Delivery(batch: nil) }
        let batch = DeliveryBatch(records: records)
        for index in records.indices {
            await enqueue(records[index], slot: batch.slots + index, batch: batch)
        }
        return Delivery(batch: batch)
    }

    private func enqueue(_ record: ProducerRecord, slot: UnsafeMutablePointer<DeliverySlot>,
                         batch: DeliveryBatch) async {
        guard !gate.isClosed else {
            batch.complete(slot.pointee.index, .failure(.closed(operation: "produce")))
            return
        }
        let rkt: RDHandle
        do {
            guard let handle = try gate.whileOpen({ try topicHandle(record.topic) }) else {
                batch.complete(slot.pointee.index, .failure(.closed(operation: "produce")))
                return
            }
            rkt = handle
        } catch {
            batch.complete(slot.pointee.index, .failure(error as! KafkaError))
            return
        }
        var backoffMicros: UInt64 = 200
        while true {
            // Closed while this record waited for room: the client may be freed already.
            guard let err = gate.whileOpen({ produceOnce(record, rkt: rkt, slot: slot) }) else {
                batch.complete(slot.pointee.index, .failure(.closed(operation: "produce")))
                return
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                // Backpressure: librdkafka's queue is the buffer; wait for deliveries to drain it
                // (also while a cancelled service drains: the record must still be sent).
                await sleepIgnoringCancellation(for: .microseconds(backoffMicros))
                backoffMicros = min(backoffMicros * 2, 50_000)
                continue
            }
            batch.complete(slot.pointee.index, .failure(KafkaError(err, operation: "produce")))
            return
        }
    }

    private func produceOnce(_ record: ProducerRecord, rkt: RDHandle,
                             slot: UnsafeMutablePointer<DeliverySlot>) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer?
        if !record.headers.isEmpty {
            headers = rd_kafka_headers_new(record.headers.count)
            for header in record.headers {
                // withCString lends a string's own bytes; a String passed as a C string is copied.
                header.key.withCString { name in
                    header.value.withUnsafeBytes { bytes in
                        _ = rd_kafka_header_add(headers, name, -1, bytes.baseAddress, bytes.count)
                    }
                }
            }
        }
        let partition = record.partition ?? RD_KAFKA_PARTITION_UA
        let err = withOptionalBytes(record.key) { key, keyCount in
            withOptionalBytes(record.value) { value, valueCount in
                crdk_produce(rk.pointer, rkt.pointer, partition, key, keyCount, value, valueCount,
                             headers, UnsafeMutableRawPointer(slot))
            }
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers {
            rd_kafka_headers_destroy(headers)
        }
        return err
    }

    private func topicHandle(_ name: String) throws -> RDHandle {
        try topics.withLock { topics in
            if let handle = topics[name] { return handle }
            guard let rkt = rd_kafka_topic_new(rk.pointer, name, nil) else {
                throw KafkaError(rd_kafka_last_error(), operation: "produce")
            }
            topics[name] = RDHandle(pointer: rkt)
            return topics[name]!
        }
    }

    /// Records in librdkafka's queue, not yet delivered or failed (for tests; not after close).
    var queuedRecordCount: Int32 { rd_kafka_outq_len(rk.pointer) }

    /// Waits until every queued record is delivered or failed, or the timeout passes.
    /// - Throws: a timed-out ``KafkaError`` when records are still queued.
    public func flush(timeoutMilliseconds: Int32 = 10_000) async throws {
        guard !gate.isClosed else { throw KafkaError.closed(operation: "flush") }
        let rk = self.rk
        let err = await runBlocking("kafka-producer-flush") { rd_kafka_flush(rk.pointer, timeoutMilliseconds) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: "flush") }
    }

    /// Flushes queued records (up to the timeout) and frees the client. Records still queued after
    /// the timeout fail with `_DESTROY`. Sends after close fail at once.
    public func close(flushTimeoutMilliseconds: Int32 = 10_000) async {
        guard !gate.isClosed else { return }
        await runBlocking("kafka-producer-close") { [self] in
            shutDown(flushTimeoutMilliseconds: flushTimeoutMilliseconds)
        }
    }

    /// ``close(flushTimeoutMilliseconds:)``, waited for at most `bound` (a warning to `logger`
    /// when it did not finish by then; another close already begun counts as finished). During
    /// an outage freeing the client can take a second after the flush (its broker threads notice
    /// the end late); a process at the end of its shutdown bound stops waiting, and the close
    /// goes on behind it.
    public func close(flushTimeoutMilliseconds: Int32, waitingAtMost bound: Duration, logger: Logger) async {
        if await !waitForEnd(of: Task { await close(flushTimeoutMilliseconds: flushTimeoutMilliseconds) }, atMost: bound) {
            logger.warning("closing the producer did not finish within \(bound): not waited for")
        }
    }

    private func shutDown(flushTimeoutMilliseconds: Int32) {
        // A produce call under way ends in microseconds (it never blocks): let it, then flush it too.
        guard gate.close() else { return }
        poller.stop()
        rd_kafka_flush(rk.pointer, flushTimeoutMilliseconds)
        // Fails whatever is left so every waiting send completes.
        rd_kafka_purge(rk.pointer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
        rd_kafka_poll(rk.pointer, 0)
        topics.withLock { topics in
            for handle in topics.values { rd_kafka_topic_destroy(handle.pointer) }
            topics.removeAll()
        }
        rd_kafka_destroy(rk.pointer)
        context?.release()
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
}

/// Records handed to librdkafka by ``KafkaProducer/enqueue(_:)``, acknowledged or not yet.
///
/// Any number of tasks and threads may wait for it, before or after the records complete; each
/// waiter gets the outcome once.
public final class Delivery: Sendable {
    private let batch: DeliveryBatch?

    init(batch: DeliveryBatch?) { self.batch = batch }

    /// Waits until every record is acknowledged or has failed; each one's outcome, in order.
    public func results() async -> [Result<DeliveryReport, KafkaError>] {
        await batch?.results() ?? []
    }

    /// Waits until every record is acknowledged; their reports, in order.
    /// - Throws: the first record's error when any record failed, as `KafkaProducer.send` does.
    public func reports() async throws -> [DeliveryReport] {
        try await results().map { try $0.get() }
    }

    /// Blocks the calling thread until every record is acknowledged or has failed: true, or
    /// false once `timeout` has passed first. For threads outside Swift concurrency, such as
    /// librdkafka's inside a rebalance callback; a task awaits ``results()`` instead.
    public func wait(timeout: Duration) -> Bool {
        batch?.wait(timeout: timeout) ?? true
    }
}

/// What the delivery callback finds in a message's opaque pointer: its batch and position.
struct DeliverySlot {
    unowned(unsafe) let batch: DeliveryBatch
    let index: Int
    /// The record's topic, which its report names (kept here rather than copied out of librdkafka
    /// for every report).
    let topic: String
}

/// The outcome of one `send` call's records. Completed from librdkafka's poll thread; the
/// state lives behind a mutex and the waiters are resumed outside it.
final class DeliveryBatch: Sendable {
    typealias Results = [Result<DeliveryReport, KafkaError>]

    private struct State {
        var results: [Result<DeliveryReport, KafkaError>?]
        var remaining: Int
        /// Tasks waiting in ``results()``.
        var continuations: [CheckedContinuation<Results, Never>] = []
        /// Threads blocked in ``wait(timeout:)``, one semaphore each; one that timed out stays
        /// here and is signalled for nobody.
        var blockedThreads: [DispatchSemaphore] = []
        /// The batch itself until its last record completes: librdkafka holds pointers into its
        /// slots (which keep only unowned references) even when nobody waits for the outcome.
        var keepAlive: DeliveryBatch?
    }

    private let state: Mutex<State>
    /// One slot per record, owned by this batch; librdkafka holds pointers into it until each
    /// record's delivery report.
    nonisolated(unsafe) let slots: UnsafeMutablePointer<DeliverySlot>
    private let count: Int

    init(records: [ProducerRecord]) {
        count = records.count
        state = Mutex(State(results: Array(repeating: nil, count: records.count), remaining: records.count))
        slots = .allocate(capacity: records.count)
        for index in 0..<records.count {
            (slots + index).initialize(to: DeliverySlot(batch: self, index: index, topic: records[index].topic))
        }
        state.withLock { $0.keepAlive = self }
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    func complete(_ index: Int, _ result: Result<DeliveryReport, KafkaError>) {
        var released: DeliveryBatch?
        let waiters: (Results, [CheckedContinuation<Results, Never>], [DispatchSemaphore])? = state.withLock { state in
            guard state.results[index] == nil else { return nil }
            state.results[index] = result
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            released = state.keepAlive.take()
            defer {
                state.continuations = []
                state.blockedThreads = []
            }
            return (state.results.map { $0! }, state.continuations, state.blockedThreads)
        }
        if let (results, continuations, blockedThreads) = waiters {
            for continuation in continuations { continuation.resume(returning: results) }
            for semaphore in blockedThreads { semaphore.signal() }
        }
        _ = released  // the last reference may go here, outside the lock
    }

    func results() async -> Results {
        await withCheckedContinuation { continuation in
            let ready: Results? = state.withLock { state in
                if state.remaining == 0 { return state.results.map { $0! } }
                state.continuations.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func wait(timeout: Duration) -> Bool {
        let semaphore = DispatchSemaphore(value: 0)
        let isDone = state.withLock { state in
            if state.remaining == 0 { return true }
            state.blockedThreads.append(semaphore)
            return false
        }
        if isDone { return true }
        return semaphore.wait(timeout: .now() + DispatchTimeInterval(timeout)) == .success
    }
}

/// librdkafka's delivery report, called on the producer's poll thread.
private let deliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    rk, message, _ in
    guard let message, let opaque = message.pointee._private else { return }
    let slot = opaque.assumingMemoryBound(to: DeliverySlot.self).pointee
    let batch = slot.batch  // held until the callback returns: the last completion releases the batch's own hold
    let m = message.pointee
    if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        batch.complete(slot.index, .success(DeliveryReport(topic: slot.topic, partition: m.partition, offset: m.offset)))
    } else {
        // Not rd_kafka_message_errstr: for a produced message it returns the record's own value
        // (unterminated), which would put lead data and stray heap bytes into logs.
        // A record in flight when the producer hit a fatal error (its idempotence state lost)
        // fails with the broker's code, not `_FATAL`: the instance's error says it is fatal.
        let isFatal = rk.map { rd_kafka_fatal_error($0, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR } ?? false
        batch.complete(slot.index, .failure(KafkaError(code: m.err.rawValue, isFatal: isFatal, operation: "produce")))
    }
}
