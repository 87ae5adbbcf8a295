import Foundation
import Kafka
import Synchronization

/// Bounds and timings of a ``StageRunner``.
public struct StageRunnerSettings: Sendable {
    /// Handler calls at once; records held (in flight plus waiting) above it pause standard
    /// partitions. Priority records get a quarter more before they wait or pause too.
    public var maxInFlight: Int
    /// Bytes of record values held at once; at the bound every partition is paused.
    public var maxBufferedBytes: Int
    /// Records taken from the consumer per poll.
    public var pollBatch: Int
    /// How long SIGTERM waits for in-flight records before handing them back uncommitted.
    public var drainTimeout: Duration

    public init(maxInFlight: Int = 256, maxBufferedBytes: Int = 64 << 20, pollBatch: Int = 500,
                drainTimeout: Duration = .seconds(8)) {
        self.maxInFlight = maxInFlight
        self.maxBufferedBytes = maxBufferedBytes
        self.pollBatch = pollBatch
        self.drainTimeout = drainTimeout
    }
}

/// Turns one input record into the records to produce before the input counts as done.
/// It must not throw: failures become result or dead-letter records.
public typealias RecordHandler = @Sendable (ConsumerRecord) async -> [ProducerRecord]

/// Consumes records with many in flight at once and commits only what is finished.
///
/// - Ordering: records with the same key run one at a time, in offset order; others run
///   concurrently and finish in any order.
/// - Offsets: a record is done when every record its handler returned is acknowledged by the
///   broker; each partition's stored offset is the end of its contiguous done prefix, so a crash
///   redoes at most the records that were in flight.
/// - Backpressure: at ``StageRunnerSettings/maxInFlight`` records or
///   ``StageRunnerSettings/maxBufferedBytes`` the runner pauses partitions, and resumes them below
///   three quarters of the bound. Records of priority topics are admitted first and pause later.
/// - Shutdown: cancelling ``run()`` stops taking records, waits for in-flight ones up to the drain
///   timeout, commits, leaves the group and flushes the producer.
public final class StageRunner: Service {
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let settings: StageRunnerSettings
    private let logger: Logger
    private let handler: RecordHandler
    private let isPriorityTopic: @Sendable (String) -> Bool
    private let inbox: Inbox

    /// Creates the consumer (a member of `groupID` on `topics`) and the runner around it.
    public init(configuration: KafkaConfiguration, groupID: String, topics: [String],
                consumerProperties: [String: String] = [:], producer: KafkaProducer,
                settings: StageRunnerSettings = StageRunnerSettings(), logger: Logger,
                isPriorityTopic: @escaping @Sendable (String) -> Bool = { _ in false },
                handler: @escaping RecordHandler) throws {
        let inbox = Inbox()
        self.inbox = inbox
        self.consumer = try KafkaConsumer(configuration: configuration, groupID: groupID, topics: topics,
                                          properties: consumerProperties) { event in
            inbox.rebalances.append(event)
        }
        self.producer = producer
        self.settings = settings
        self.logger = logger
        self.handler = handler
        self.isPriorityTopic = isPriorityTopic
    }

    /// The partitions this instance owns now.
    public var assignment: Set<TopicPartition> { consumer.assignment }

    public func run() async throws {
        var state = LoopState()
        while !Task.isCancelled {
            applyRebalances(&state)
            finishCompleted(&state)
            admit(&state)
            try adjustPausing(&state)
            let batch: [ConsumerRecord]
            do {
                batch = try await consumer.poll(maxRecords: settings.pollBatch,
                                                timeoutMilliseconds: state.inFlight > 0 ? 10 : 100)
            } catch let error as KafkaError where !error.isFatal {
                logger.warning("poll failed: \(error)")
                continue
            }
            applyRebalances(&state)
            for record in batch where state.trackers[record.topicPartition] != nil || consumer.assignment.contains(record.topicPartition) {
                state.trackers[record.topicPartition, default: OffsetTracker()].register(record.offset)
                state.bufferedBytes += record.value?.count ?? 0
                if isPriorityTopic(record.topic) {
                    state.priorityPending.append(record)
                } else {
                    state.standardPending.append(record)
                }
            }
        }
        try await drain(&state)
    }

    private func drain(_ state: inout LoopState) async throws {
        logger.info("draining", ["inFlight": String(state.inFlight)])
        let deadline = ContinuousClock.now + settings.drainTimeout
        while state.inFlight > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))  // not cancellable: the task already is
            finishCompleted(&state)
        }
        finishCompleted(&state)
        if state.inFlight > 0 {
            logger.warning("drain timed out: records handed back uncommitted", ["inFlight": String(state.inFlight)])
        }
        await consumer.close()
        try? await producer.flush()
    }

    // MARK: - The loop's steps (all on the run task)

    private func applyRebalances(_ state: inout LoopState) {
        for event in inbox.rebalances.drain() {
            switch event {
            case .assigned(let partitions):
                logger.info("assigned", ["partitions": partitions.map(\.description).joined(separator: ",")])
                state.paused.subtract(partitions)
            case .revoked(let partitions):
                logger.info("revoked", ["partitions": partitions.map(\.description).joined(separator: ",")])
                let gone = Set(partitions)
                for tp in gone { state.trackers[tp] = nil }
                state.paused.subtract(gone)
                let dropped = state.standardPending.filter { gone.contains($0.topicPartition) }
                    + state.priorityPending.filter { gone.contains($0.topicPartition) }
                state.bufferedBytes -= dropped.reduce(0) { $0 + ($1.value?.count ?? 0) }
                state.standardPending.removeAll { gone.contains($0.topicPartition) }
                state.priorityPending.removeAll { gone.contains($0.topicPartition) }
            case .revoking:
                break
            }
        }
    }

    private func finishCompleted(_ state: inout LoopState) {
        let completed = inbox.completions.drain()
        guard !completed.isEmpty else { return }
        var commitPoints: [TopicPartition: Int64] = [:]
        for completion in completed {
            state.inFlight -= 1
            state.bufferedBytes -= completion.bytes
            state.busyKeys.remove(completion.key)
            guard completion.isDone else { continue }
            if let point = state.trackers[completion.partition]?.finish(completion.offset) {
                commitPoints[completion.partition] = point
            }
        }
        do {
            try consumer.storeOffsets(commitPoints)
        } catch {
            // A partition revoked meanwhile: its records are redone by the new owner.
            logger.debug("offsets not stored: \(error)")
        }
    }

    private func admit(_ state: inout LoopState) {
        state.priorityPending = admit(state.priorityPending, limit: priorityLimit, &state)
        state.standardPending = admit(state.standardPending, limit: settings.maxInFlight, &state)
    }

    /// Priority records may use a quarter more slots than standard ones.
    private var priorityLimit: Int { settings.maxInFlight + max(1, settings.maxInFlight / 4) }

    /// Starts queued records whose key is free while fewer than `limit` are in flight; returns
    /// the ones still waiting, in order.
    private func admit(_ queue: [ConsumerRecord], limit: Int, _ state: inout LoopState) -> [ConsumerRecord] {
        guard !queue.isEmpty else { return queue }
        var waiting: [ConsumerRecord] = []
        for record in queue {
            let key = KeyID(record)
            if state.inFlight >= limit || state.busyKeys.contains(key) {
                waiting.append(record)  // behind an earlier record of the same key
                continue
            }
            state.busyKeys.insert(key)
            state.inFlight += 1
            start(record, key: key)
        }
        return waiting
    }

    private func start(_ record: ConsumerRecord, key: KeyID) {
        let (handler, producer, logger, inbox) = (self.handler, self.producer, self.logger, self.inbox)
        Task {
            let outputs = await handler(record)
            var isDone = false
            var delay: Duration = .milliseconds(100)
            while true {
                let results = await producer.sendReportingEach(outputs)
                let failures = results.compactMap { result -> KafkaError? in
                    if case .failure(let error) = result { return error }
                    return nil
                }
                guard let failure = failures.first else {
                    isDone = true
                    break
                }
                if !failure.isRetriable || failure.isFatal {
                    logger.error("output not accepted; record left uncommitted", [
                        LogKey.topic: record.topic, LogKey.partition: String(record.partition),
                        LogKey.offset: String(record.offset), LogKey.error: failure.description,
                    ])
                    break
                }
                logger.warning("output send failed; retrying", [LogKey.error: failure.description])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
            let completion = Completion(partition: record.topicPartition, offset: record.offset, key: key,
                                        bytes: record.value?.count ?? 0, isDone: isDone)
            inbox.completions.append(completion)
        }
    }

    private func adjustPausing(_ state: inout LoopState) throws {
        let held = state.inFlight + state.standardPending.count + state.priorityPending.count
        let overBytes = state.bufferedBytes >= settings.maxBufferedBytes
        let standardLimit = settings.maxInFlight
        var toPause: [TopicPartition] = []
        var toResume: [TopicPartition] = []
        for tp in consumer.assignment {
            let limit = isPriorityTopic(tp.topic) ? priorityLimit : standardLimit
            let isPaused = state.paused.contains(tp)
            if !isPaused && (overBytes || held >= limit) {
                toPause.append(tp)
            } else if isPaused && !overBytes && held < limit * 3 / 4 && state.bufferedBytes < settings.maxBufferedBytes * 3 / 4 {
                toResume.append(tp)
            }
        }
        if !toPause.isEmpty {
            try consumer.pause(toPause)
            state.paused.formUnion(toPause)
        }
        if !toResume.isEmpty {
            try consumer.resume(toResume)
            state.paused.subtract(toResume)
        }
    }
}

/// What the run loop owns; touched only by the run task.
private struct LoopState {
    var trackers: [TopicPartition: OffsetTracker] = [:]
    var priorityPending: [ConsumerRecord] = []
    var standardPending: [ConsumerRecord] = []
    var busyKeys: Set<KeyID> = []
    var paused: Set<TopicPartition> = []
    var inFlight = 0
    var bufferedBytes = 0
}

/// The ordering key of a record: its key bytes, or its partition and offset when it has none.
private struct KeyID: Hashable, Sendable {
    let bytes: [UInt8]
    init(_ record: ConsumerRecord) {
        bytes = record.key ?? Array("\(record.topic)/\(record.partition)/\(record.offset)".utf8)
    }
}

private struct Completion: Sendable {
    let partition: TopicPartition
    let offset: Int64
    let key: KeyID
    let bytes: Int
    /// False when its outputs were not acknowledged: the offset must not move past it.
    let isDone: Bool
}

/// What other tasks and the rebalance callback hand to the run loop.
private final class Inbox: Sendable {
    let completions = Mailbox<Completion>()
    let rebalances = Mailbox<RebalanceEvent>()
}
