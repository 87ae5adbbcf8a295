import Foundation
import Kafka
import Runtime
import Synchronization

/// Bounds and timings of a ``StageRunner``.
public struct StageRunnerSettings: Sendable {
    /// What a ``StageRunner`` serialises on: at most one record per unit is in flight.
    public enum Ordering: String, Sendable, CaseIterable {
        /// One record per key at a time (records without a key are independent): many leads of
        /// one partition run at once. The default.
        case key
        /// One record per partition at a time, as a plain consume-process-commit loop does.
        /// For comparison (benchmarks); it caps a stage at one handler call per partition.
        case partition
    }

    /// Handler calls at once; records held (in flight plus waiting) above it pause standard
    /// partitions. Priority records get a quarter more before they wait or pause too.
    public var maxInFlight: Int
    /// Bytes of record values held at once; at the bound every partition is paused.
    public var maxBufferedBytes: Int
    /// Records taken from the consumer per poll.
    public var pollBatch: Int
    /// How long SIGTERM, or a rebalance revoking partitions (at most ``maxRevocationWait``),
    /// waits for in-flight records before handing them back uncommitted
    /// (``drainTimeout(environment:)``: within the process's shutdown bound). A SIGTERM during
    /// a revocation's wait ends both within this time of its arrival.
    public var drainTimeout: Duration

    /// The longest a revocation waits, whatever the drain timeout: far within librdkafka's
    /// `max.poll.interval.ms` (300 s), past which the member would lose its partitions
    /// uncommitted.
    public static let maxRevocationWait: Duration = .seconds(60)
    /// What records are serialised on (see ``Ordering``).
    public var ordering: Ordering
    /// How long a record's handler may run before the record is timed out: dead-lettered with
    /// the reason, its key freed and its offset passed, so a handler that hangs (a call that
    /// never returns) holds neither its lead nor its partition's commit point. Only the handler
    /// is timed, not the sending of its outputs. Far past any wait a healthy handler makes (the
    /// coordinator's phase timeouts are 30 to 120 s): the coordinator has retried the phase long
    /// before.
    public var recordTimeout: Duration
    /// Handlers timed out (``recordTimeout``) and still running above which the runner stops
    /// (``StageRunnerError/handlersHang(running:bound:)``): a time-out frees the record, not the
    /// handler's task, and hung tasks must not pile up for ever. The restarted process has none,
    /// and its uncommitted records come back to the group.
    public var maxTimedOutHandlers: Int
    /// Records of one partition from its first unfinished one on, finished or not, above which
    /// the partition is paused: its commit point waits for that record, so a crash would run
    /// them all again, and its tracker holds them. Four times ``maxInFlight`` (as it is now)
    /// unless set.
    public var maxUncommitted: Int {
        get { max(1, uncommittedBound ?? 4 * maxInFlight) }
        set { uncommittedBound = newValue }
    }
    private var uncommittedBound: Int?

    public init(maxInFlight: Int = 256, maxBufferedBytes: Int = 64 << 20, pollBatch: Int = 500,
                drainTimeout: Duration = .seconds(8), ordering: Ordering = .key, maxUncommitted: Int? = nil,
                recordTimeout: Duration = .seconds(600), maxTimedOutHandlers: Int = 16) {
        self.uncommittedBound = maxUncommitted
        self.recordTimeout = recordTimeout
        self.maxTimedOutHandlers = maxTimedOutHandlers
        self.maxInFlight = maxInFlight
        self.maxBufferedBytes = maxBufferedBytes
        self.pollBatch = pollBatch
        self.drainTimeout = drainTimeout
        self.ordering = ordering
    }

    /// Environment variable names ``init(environment:maxInFlight:)`` reads, besides
    /// `SHUTDOWN_TIMEOUT_SECONDS` (``drainTimeout(environment:)``).
    public enum Variable {
        /// Seconds a record's handler may run before the record is timed out (``recordTimeout``); 1...86400.
        public static let recordTimeout = "STAGE_RECORD_TIMEOUT_SECONDS"
        /// Handlers timed out and still running above which the runner stops (``maxTimedOutHandlers``); 0...10000.
        public static let maxTimedOutHandlers = "STAGE_MAX_TIMED_OUT_HANDLERS"
        /// What records are serialised on (``Ordering``): `key` or `partition`.
        public static let ordering = "STAGE_ORDERING"
    }

    /// The settings every process running a ``StageRunner`` reads from `environment` (see
    /// ``Variable``), with `maxInFlight`, whose variable is each service's own; the rest keep
    /// their defaults.
    /// - Throws: ``Runtime/ConfigurationError`` naming the variable that is wrong.
    public init(environment: [String: String], maxInFlight: Int) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment)
        self.init(maxInFlight: maxInFlight)
        ordering = try reader.choice(Variable.ordering, default: ordering)
        drainTimeout = try Self.drainTimeout(environment: environment)
        recordTimeout = .seconds(try reader.integer(Variable.recordTimeout, default: Int(recordTimeout.components.seconds), range: 1...86_400))
        maxTimedOutHandlers = try reader.integer(Variable.maxTimedOutHandlers, default: maxTimedOutHandlers, range: 0...10_000)
    }

    /// The drain that fits in the process's `SHUTDOWN_TIMEOUT_SECONDS` (10 s unless set): the
    /// bound less a quarter of it, at most 2 s, left to commit, flush and leave the group (8 s
    /// of 10, 58 of 60, 1.5 of 2).
    public static func drainTimeout(environment: [String: String]) throws(ConfigurationError) -> Duration {
        let shutdown = try ServiceRunner.shutdownTimeout(environment: environment)
        return shutdown - min(.seconds(2), shutdown / 4)
    }

    /// How long after a drain of `drainTimeout` a stopping process may take to leave its group
    /// and flush: half a second, at most a quarter of the drain. The rest of the time the drain
    /// leaves within the shutdown bound (1.5 s of 10) is for closing clients and scheduling on a
    /// busy host. During an outage the leave is not waited for past it.
    public static func leavingTime(after drainTimeout: Duration) -> Duration {
        min(.milliseconds(500), drainTimeout / 4)
    }
}

/// Turns one input record into the records to produce before the input counts as done.
/// It must not throw: failures become result or dead-letter records.
public typealias RecordHandler = @Sendable (ConsumerRecord) async -> [ProducerRecord]

/// Turns one input record into its outputs, some of which may name where others went, given
/// the record's ``Runtime/GracefulShutdown``: a child of the runner's, begun also when the
/// record's partition is being revoked. A wait (before trying again, for a rate limit's slot)
/// ends on it, and the handler hands the record back (``RecordOutputs/handedBack``), so that
/// neither the drain nor the revocation waits for the pause and only the partition's next owner
/// tries again.
public typealias StagedRecordHandler = @Sendable (ConsumerRecord, GracefulShutdown) async -> RecordOutputs

/// The records one input produces, in steps when a record must wait for others (the finalize
/// result names its pool entry's offset; a result must not be read before the records it
/// stands on are in): ``records`` first, then, once all of them are acknowledged, the outputs
/// ``next`` makes from their delivery reports (in the same order), and so on.
///
/// Records are keyed and leave their partition to librdkafka's partitioner, which picks among
/// the partitions the topic has. A record given an explicit partition the topic lacks is
/// refused for its topic (_UNKNOWN_PARTITION) and stops the runner, its input uncommitted.
public struct RecordOutputs: Sendable {
    /// Sent first.
    public var records: [ProducerRecord]
    /// The next step, made once ``records`` are acknowledged, given their delivery reports.
    /// It must not throw: a failure becomes a dead letter. It may hand the input back
    /// (``handedBack``): the input is not done then, although the steps before were written.
    public var next: (@Sendable ([DeliveryReport]) -> RecordOutputs)?
    /// Whether the input is handed back undone (``handedBack``).
    public private(set) var isHandedBack = false

    /// Creates the outputs: `records`, then the step `next` makes.
    public init(_ records: [ProducerRecord], next: (@Sendable ([DeliveryReport]) -> RecordOutputs)?) {
        self.records = records
        self.next = next
    }

    /// Nothing to send, and the input is not done: its offset is not stored, so the partition's
    /// next owner handles it again. For a handler cut short by the runner's
    /// ``Runtime/GracefulShutdown`` or the record's (``StagedRecordHandler``: a wait ended by
    /// the stop or the partition's revocation), as what the handler returns or what a later
    /// step, ``next``, makes: then the records of the steps before it stay written, and the next
    /// owner, redoing the input, writes them again (the outputs are at least once). The runner
    /// does not run the input again itself, so one handed back while it runs on holds its
    /// partition's commit point until the partition moves.
    public static var handedBack: RecordOutputs {
        var outputs = RecordOutputs([], next: nil)
        outputs.isHandedBack = true
        return outputs
    }

    /// Creates the outputs: `records`, then, when given, the records `afterward` makes.
    public init(_ records: [ProducerRecord], afterward: (@Sendable ([DeliveryReport]) -> [ProducerRecord])? = nil) {
        guard let afterward else {
            self.init(records, next: nil)
            return
        }
        self.init(records, next: { @Sendable reports in RecordOutputs(afterward(reports), next: nil) })
    }
}

/// Why ``StageRunner/run()`` stopped by itself; the coordinator, its progress tracker and the
/// account heat aggregator stop for the same produce failures (``ProduceFailure``,
/// ``SettlingSend``; ``handlersHang(running:bound:)`` is the stage runner's alone).
public enum StageRunnerError: Error, CustomStringConvertible {
    /// The producer cannot send any more (a fatal error, or closed under the runner); a restart
    /// makes a new one and redoes the uncommitted records.
    case producerUnusable(KafkaError)
    /// `topic`, where outputs, dead letters or answers go, refuses records for what it is
    /// (misnamed, TOPIC_EXCEPTION, or without the partition asked for:
    /// ``Kafka/KafkaError/isTopicRefusal``): every input would fail so. The input is not
    /// committed, so it is redone once the configuration is fixed.
    case topicRefuses(topic: String, KafkaError)
    /// An input's dead letter to `topic` failed, after its retries, for a reason neither
    /// retriable nor known to be the record's (``ProduceFailure/unclassified``, as
    /// UNKNOWN_SERVER_ERROR): the broker may be failing every write so, and giving the input up
    /// would commit it with neither its outputs nor a letter. The input is not committed, so
    /// the restarted stage redoes it.
    case deadLettersFail(topic: String, KafkaError)
    /// `running` handlers timed out are still running, more than `bound`
    /// (``StageRunnerSettings/maxTimedOutHandlers``): something hangs them, and only a restart
    /// ends them. Their records are dead-lettered already; those the drain does not finish are
    /// left uncommitted, so the restarted stage redoes them.
    case handlersHang(running: Int, bound: Int)

    public var description: String {
        switch self {
        case .producerUnusable(let error): "the producer is unusable: \(ProduceFailure.summary(of: error))"
        case .topicRefuses(let topic, let error):
            "topic \(topic) refuses records for what it is (misnamed, without the partition asked for, or not taking their format): "
                + "\(ProduceFailure.summary(of: error)); fix the topic or the configuration naming it"
        case .deadLettersFail(let topic, let error):
            "an output and then its input's dead letter to \(topic) failed for a reason not classified: "
                + "\(ProduceFailure.summary(of: error)); the input is left uncommitted, to be redone"
        case .handlersHang(let running, let bound):
            "\(running) handlers timed out (\(StageRunnerSettings.Variable.recordTimeout)) are still running, more than "
                + "\(StageRunnerSettings.Variable.maxTimedOutHandlers) (\(bound)): stopping, so that a restart ends them; "
                + "the records not finished are left uncommitted, to be redone"
        }
    }
}

/// Consumes records with many in flight at once and commits only what is finished.
///
/// - Ordering: records with the same key run one at a time, in offset order; others run
///   concurrently and finish in any order. With ``StageRunnerSettings/Ordering/partition`` the
///   partition takes the key's place: one record per partition at a time, in offset order.
/// - Offsets: a record is done when every record its handler returned is acknowledged by the
///   broker, or when it is dead-lettered; each partition's stored offset is the end of its
///   contiguous done prefix, so a crash redoes the records from the first unfinished one on:
///   at most ``StageRunnerSettings/maxUncommitted`` and a poll's batch, since a partition is
///   paused at that many behind a record that does not finish (a slow vendor call).
/// - Output failures (see ``ProduceFailure``): transient ones (the broker away, timeouts, a full
///   queue) are retried with a backoff for as long as it takes, re-sending only what was not
///   acknowledged; no output is ever dropped. When the broker refuses an output for good (too
///   large, invalid), the input record goes to dead letters with the reason (made by the
///   ``DeadLetterMaker``; without its payload when the letter with it is refused too) and its
///   partition moves on; when that letter is refused too, the input is given up: logged with its
///   topic, partition and offset, counted (``MetricNames/stageRecordsGivenUp``), and done. A
///   failure neither retriable nor known as the record's (``ProduceFailure/unclassified``) is
///   retried a few times, then taken as the record's the same way. When
///   the producer is unusable, ``run()`` stops taking records, drains, and throws
///   ``StageRunnerError/producerUnusable(_:)``, so the process exits and restarts. When a topic
///   refuses records for what it is (an output's, the dead letters', the answers'; misnamed, or
///   without the partition asked for), it throws ``StageRunnerError/topicRefuses(topic:_:)``
///   the same way, with the input uncommitted: dead-lettering would fail every input alike.
///   The runner does not log the error it throws: the process's runner does, as its exit
///   (``Runtime/ServiceRunner``).
/// - Rebalances: partitions being revoked stay assigned until their records in flight finish
///   and are committed (up to the drain timeout; the group's rebalance waits meanwhile), so the
///   next owner does not run them again: a vendor lookup is paid once, not at every scaling
///   event. Records still in flight at the timeout are handed back: their outputs not sent yet
///   are not sent (nor retried), whenever their handlers finish, so only the next owner writes
///   them. The records' own shutdown (``StagedRecordHandler``) begins when the revocation
///   does, so a record waiting (to be tried again, for a rate limit) is handed back at once
///   rather than holding the revocation for the wait and running beside its next owner. A
///   newly assigned partition starts unpaused (``KafkaConsumer`` resumes one that
///   librdkafka still holds paused from an earlier assignment), and the runner pauses it again
///   when it must.
/// - Backpressure: at ``StageRunnerSettings/maxInFlight`` records held (in flight or waiting) or
///   ``StageRunnerSettings/maxBufferedBytes`` the runner pauses partitions, and resumes them below
///   three quarters of the bound (a bound of one: once nothing is held). Records of priority
///   topics are admitted first, may use a quarter more slots, and their partitions pause only
///   when that many priority records wait.
///   The consumer fetches them into a queue of their own (see ``KafkaConsumer``), so they do not
///   wait behind standard records already read ahead.
/// - Shutdown: cancelling ``run()`` begins its ``Runtime/GracefulShutdown`` (handlers waiting to
///   try again stop waiting, and may hand their input back, ``RecordOutputs/handedBack``), stops
///   taking records, waits for in-flight ones up to the drain timeout (from the cancellation),
///   commits, leaves the group and flushes the producer, these within
///   ``StageRunnerSettings/leavingTime(after:)`` of the drain's deadline (during an outage the
///   leave goes on unwaited for; what is unsent then belongs to inputs not committed). The
///   handlers' tasks are not cancelled: a record in flight may finish within the drain.
public final class StageRunner: Service {
    private let consumer: KafkaConsumer
    /// The topics the consumer subscribes to when ``run()`` starts.
    private let topics: [String]
    private let producer: KafkaProducer
    private let settings: StageRunnerSettings
    private let logger: Logger
    private let handler: StagedRecordHandler
    private let delivery: OutputDelivery
    private let isPriorityTopic: @Sendable (String) -> Bool
    private let inbox: Inbox
    private let metrics: StageRunnerMetrics?
    private let onJoinedGroup: (@Sendable () -> Void)?
    private let gracefulShutdown: GracefulShutdown

    /// Creates the consumer (of `groupID`) and the runner around it. The consumer subscribes to
    /// `topics`, and so joins the group, when ``run()`` starts, not here: a member that has
    /// joined but does not poll yet (its owner still reading tables) would get partitions nobody
    /// reads and hold up every rebalance of the group until it polls.
    /// - Parameters:
    ///   - metrics: where the runner records its counters, gauges and latencies; nil records none.
    ///   - onJoinedGroup: called once, on the run task, when the first assignment (possibly
    ///     empty) arrives: the member has joined its group.
    ///   - deadLetter: the dead letter for an input whose outputs the broker refused for good.
    ///   - answer: the record that answers such an input, sent once its letter is in.
    ///   - gracefulShutdown: begun when ``run()`` is cancelled, before the drain; the handler's
    ///     waits end on it (and on a record's own, ``StagedRecordHandler``).
    public convenience init(configuration: KafkaConfiguration, groupID: String, topics: [String],
                consumerProperties: [String: String] = [:], producer: KafkaProducer,
                settings: StageRunnerSettings = StageRunnerSettings(), logger: Logger,
                isPriorityTopic: @escaping @Sendable (String) -> Bool = { _ in false },
                metrics: StageRunnerMetrics? = nil, onJoinedGroup: (@Sendable () -> Void)? = nil,
                deadLetter: @escaping DeadLetterMaker, answer: DeadLetterAnswerMaker? = nil,
                gracefulShutdown: GracefulShutdown = GracefulShutdown(), handler: @escaping RecordHandler) throws {
        try self.init(configuration: configuration, groupID: groupID, topics: topics, consumerProperties: consumerProperties,
                      producer: producer, settings: settings, logger: logger, isPriorityTopic: isPriorityTopic, metrics: metrics,
                      onJoinedGroup: onJoinedGroup, deadLetter: deadLetter, answer: answer, gracefulShutdown: gracefulShutdown,
                      stagedHandler: { record, _ in RecordOutputs(await handler(record)) })
    }

    /// As the initializer above, for a handler whose outputs come in two steps (``RecordOutputs``)
    /// and that is given each record's own shutdown, which begins with `gracefulShutdown` or
    /// when the record's partition is being revoked (``StagedRecordHandler``).
    public init(configuration: KafkaConfiguration, groupID: String, topics: [String],
                consumerProperties: [String: String] = [:], producer: KafkaProducer,
                settings: StageRunnerSettings = StageRunnerSettings(), logger: Logger,
                isPriorityTopic: @escaping @Sendable (String) -> Bool = { _ in false },
                metrics: StageRunnerMetrics? = nil, onJoinedGroup: (@Sendable () -> Void)? = nil,
                deadLetter: @escaping DeadLetterMaker, answer: DeadLetterAnswerMaker? = nil,
                gracefulShutdown: GracefulShutdown = GracefulShutdown(),
                stagedHandler handler: @escaping StagedRecordHandler) throws {
        let inbox = Inbox()
        self.inbox = inbox
        // Subscribed in run(): a member that joins before it polls holds up its group's rebalances.
        self.consumer = try KafkaConsumer(configuration: configuration, groupID: groupID,
                                          priorityTopics: Set(topics.filter(isPriorityTopic)),
                                          properties: consumerProperties, defersRevocation: true) { event in
            inbox.rebalances.append(event)
        }
        self.topics = topics
        self.producer = producer
        self.settings = settings
        self.logger = logger
        self.handler = handler
        self.delivery = OutputDelivery(send: { await producer.sendReportingEach($0) }, deadLetter: deadLetter, answer: answer, logger: logger,
                                       abandonment: inbox.abandonment)
        self.isPriorityTopic = isPriorityTopic
        self.metrics = metrics
        self.onJoinedGroup = onJoinedGroup
        self.gracefulShutdown = gracefulShutdown
        if let metrics {
            // Every input's series from the start, so a rate over them exists before the first record.
            for topic in topics {
                metrics.registry.counter(MetricNames.stageRecordsConsumed, ["stage": metrics.stage, "topic": topic]).increment(by: 0)
            }
        }
    }

    /// The partitions this instance owns now.
    public var assignment: Set<TopicPartition> { consumer.assignment }

    /// Subscribes (joins the group), then consumes until cancelled or until it stops by itself
    /// (``StageRunnerError``: the producer unusable, a topic refusing its records, too many hung
    /// handlers), and drains (see the type's documentation).
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await consume()
        } onCancel: { [inbox, gracefulShutdown] in
            inbox.cancelledAt.withLock { $0 = $0 ?? ContinuousClock.now }
            gracefulShutdown.begin()
        }
    }

    /// ``run()``'s loop, then its drain.
    private func consume() async throws {
        var state = LoopState()
        do {
            // Stopped already (while the tables were read): not joining spares the group a
            // member that leaves unannounced, which it would wait for until the session timeout.
            if !Task.isCancelled { try consumer.subscribe(to: topics) }
        } catch {
            await consumer.close(by: .now + StageRunnerSettings.leavingTime(after: settings.drainTimeout), logger: logger)
            throw error
        }
        while !Task.isCancelled && state.fatalError == nil {
            await applyRebalances(&state)
            finishCompleted(&state)
            timeOutHungRecords(&state)
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
            await applyRebalances(&state)
            for record in batch where state.trackers[record.topicPartition] != nil || consumer.assignment.contains(record.topicPartition) {
                state.trackers[record.topicPartition, default: OffsetTracker()].register(record.offset)
                state.bufferedBytes += record.value?.count ?? 0
                if isPriorityTopic(record.topic) {
                    state.priorityPending.append(record)
                } else {
                    state.standardPending.append(record)
                }
            }
            updateGauges(&state)
        }
        try await drain(&state)
        // Not logged here: the process's runner logs what ends it, once (``Runtime/ServiceRunner``).
        if let error = state.fatalError { throw error }
    }

    /// ``run()``, marking `health` not ready ("draining") as soon as the run is cancelled, so
    /// readiness drops while in-flight records finish.
    public func run(markingDrainingOn health: HealthStatus) async throws {
        try await withTaskCancellationHandler {
            try await run()
        } onCancel: {
            health.markNotReady("draining")
        }
    }

    private func drain(_ state: inout LoopState) async throws {
        gracefulShutdown.begin()  // also when the drain is not the run's cancellation (an unusable producer)
        logger.info("draining", ["inFlight": String(state.inFlight)])
        let deadline = state.shutdownDeadline ?? inbox.drainDeadline(settings.drainTimeout)
        while state.inFlight > 0 && ContinuousClock.now < deadline {
            await sleepIgnoringCancellation(for: .milliseconds(10))  // the task is cancelled already
            finishCompleted(&state)
        }
        finishCompleted(&state)
        if state.inFlight > 0 {
            inbox.abandonment.raise()  // their retries stop, and nothing more of theirs is sent
            logger.warning("drain timed out: records handed back uncommitted", ["inFlight": String(state.inFlight)])
        }
        // Leaving the group and flushing what is still unsent end within the leaving time past
        // the drain's deadline, inside the process's shutdown bound. During an outage the close's
        // commit waits for the broker: it goes on unwaited for, and the next owner reads again
        // what it would have committed. What is unsent belongs to inputs not committed, which
        // the next owner runs again.
        let end = deadline + StageRunnerSettings.leavingTime(after: settings.drainTimeout)
        await consumer.close(by: end, logger: logger)
        let left = max(.zero, end - ContinuousClock.now)
        try? await producer.flush(timeoutMilliseconds: Int32(left / .milliseconds(1)))
    }

    // MARK: - The loop's steps (all on the run task)

    /// Applies what rebalances reported, until nothing more is: a revocation completed here
    /// reports its partitions revoked, which must be applied before a record of theirs starts.
    private func applyRebalances(_ state: inout LoopState) async {
        var events = inbox.rebalances.drain()
        while !events.isEmpty {
            for event in events { await apply(event, &state) }
            events = inbox.rebalances.drain()
        }
    }

    private func apply(_ event: RebalanceEvent, _ state: inout LoopState) async {
        switch event {
        case .assigned(let partitions):
            logger.info("assigned", ["partitions": partitions.map(\.description).joined(separator: ",")])
            // Assigned partitions start unpaused (KafkaConsumer sees to it).
            state.paused.subtract(partitions)
            for tp in partitions {
                state.generations[tp, default: 0] += 1
                state.stops.updateValue(gracefulShutdown.makeChild(), forKey: tp)?.begin()
                state.abandonments.updateValue(Abandonment(), forKey: tp)?.raise()
            }
            if !state.hasJoinedGroup {
                state.hasJoinedGroup = true
                onJoinedGroup?()
            }
        case .revoked(let partitions):
            logger.info("revoked", ["partitions": partitions.map(\.description).joined(separator: ",")])
            let gone = Set(partitions)
            for tp in gone {
                state.trackers[tp] = nil
                state.stops.removeValue(forKey: tp)?.begin()  // lost, without a revoking first
                state.abandonments.removeValue(forKey: tp)?.raise()
            }
            state.paused.subtract(gone)
            let dropped = state.standardPending.filter { gone.contains($0.topicPartition) }
                + state.priorityPending.filter { gone.contains($0.topicPartition) }
            state.bufferedBytes -= dropped.reduce(0) { $0 + ($1.value?.count ?? 0) }
            state.standardPending.removeAll { gone.contains($0.topicPartition) }
            state.priorityPending.removeAll { gone.contains($0.topicPartition) }
        case .revoking(let partitions):
            // Their records' waits before trying again end: those records are handed back now.
            for tp in partitions { state.stops.removeValue(forKey: tp)?.begin() }
            await finishInFlight(of: Set(partitions), &state)
            // Those still in flight are the next owner's: nothing more of theirs is sent.
            for tp in partitions { state.abandonments.removeValue(forKey: tp)?.raise() }
            let commitTimeout = revocationCommitTimeout(state)
            if case .failed(let error) = await consumer.completeRevocation(commitTimeout: commitTimeout) {
                guard commitTimeout > .zero else {
                    // The shutdown's time is spent: the commit was not waited for, and it usually
                    // succeeds a moment later, so it is no failure to count.
                    logger.debug("commit at revocation not waited for: the shutdown's time is spent", [LogKey.error: "\(error)"])
                    return
                }
                metrics?.revocationCommitFailures.increment()
                logger.warning("commit at revocation failed: the partitions' next owner re-processes their records finished since the last commit", [
                    "partitions": partitions.map(\.description).joined(separator: ","), LogKey.error: "\(error)",
                    "timeout": "\(commitTimeout)",
                ])
            }
        }
    }

    /// How long a revocation's commit waits for the broker: as long as the revocation may wait for
    /// its records (the drain timeout, at most ``StageRunnerSettings/maxRevocationWait``), so the
    /// run loop (and with it a SIGTERM's drain) is not held past twice that; the group's
    /// rebalance may still wait for the commit, as librdkafka's assignment waits for outstanding
    /// commits (`wait_commit_cnt`). Once the
    /// process is stopping, no later than the drain's deadline and the leaving time after it,
    /// within the process's shutdown bound. Past it the next owner re-processes what the commit
    /// would have covered.
    private func revocationCommitTimeout(_ state: LoopState) -> Duration {
        let bound = min(settings.drainTimeout, StageRunnerSettings.maxRevocationWait)
        guard Task.isCancelled else { return bound }
        let end = (state.shutdownDeadline ?? inbox.drainDeadline(settings.drainTimeout))
            + StageRunnerSettings.leavingTime(after: settings.drainTimeout)
        return min(bound, max(.zero, end - ContinuousClock.now))
    }

    /// Waits, up to the drain timeout, for the records in flight of `partitions` (being revoked)
    /// to finish, storing their offsets as they do; the revocation then commits them.
    private func finishInFlight(of partitions: Set<TopicPartition>, _ state: inout LoopState) async {
        func count(_ state: LoopState) -> Int { partitions.reduce(0) { $0 + (state.inFlightByPartition[$1] ?? 0) } }
        guard count(state) > 0 else { return }
        logger.info("revoking: waiting for records in flight", ["inFlight": String(count(state))])
        var deadline = ContinuousClock.now + min(settings.drainTimeout, StageRunnerSettings.maxRevocationWait)
        while count(state) > 0 && ContinuousClock.now < deadline {
            // A SIGTERM meanwhile starts the drain's time: the wait and the drain after it end
            // within the drain timeout of it, as the process's shutdown bound expects.
            if Task.isCancelled && state.shutdownDeadline == nil {
                state.shutdownDeadline = inbox.drainDeadline(settings.drainTimeout)
                deadline = min(deadline, state.shutdownDeadline!)
            }
            await sleepIgnoringCancellation(for: .milliseconds(10))
            finishCompleted(&state)
        }
        if count(state) > 0 {
            logger.warning("revoking: records still in flight handed back uncommitted, their outputs unsent",
                           ["inFlight": String(count(state))])
        }
    }

    private func finishCompleted(_ state: inout LoopState) {
        let completed = inbox.completions.drain()
        guard !completed.isEmpty else { return }
        var commitPoints: [TopicPartition: Int64] = [:]
        for completion in completed {
            // A record timed out (``timeOutHungRecords(_:)``) is done by its time-out's completion: its handler's own, if it ever comes, changes nothing.
            if !completion.isTimeOut, state.timedOut.remove(completion.run) != nil { continue }
            state.running[completion.run] = nil
            state.inFlight -= 1
            state.inFlightByPartition[completion.partition, default: 0] -= 1
            state.bufferedBytes -= completion.bytes
            state.busyKeys.remove(completion.key)
            if case .fatal(let error) = completion.outcome { state.fatalError = state.fatalError ?? error }
            // A record read under an earlier assignment of the partition is read again under this one.
            guard completion.outcome.isDone, completion.generation == state.generations[completion.partition] else { continue }
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

    /// Starts what may start; nothing once an outcome has stopped the runner
    /// (``LoopState/fatalError``): a record started then would make its handler's calls (paid
    /// vendor calls) for outputs that are not sent, and again after every restart.
    private func admit(_ state: inout LoopState) {
        guard state.fatalError == nil else { return }
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
            let key = KeyID(record, ordering: settings.ordering)
            if state.inFlight >= limit || state.busyKeys.contains(key) {
                waiting.append(record)  // behind an earlier record of the same key
                continue
            }
            state.busyKeys.insert(key)
            state.inFlight += 1
            state.inFlightByPartition[record.topicPartition, default: 0] += 1
            let generation = state.generations[record.topicPartition] ?? 0
            state.lastRun += 1
            state.running[state.lastRun] = RunningHandler(record: record, key: key, generation: generation, since: ContinuousClock.now)
            start(record, run: state.lastRun, key: key, generation: generation,
                  stop: state.stops[record.topicPartition] ?? gracefulShutdown,
                  abandonment: state.abandonments[record.topicPartition] ?? Abandonment())
        }
        return waiting
    }

    /// Times out, once a second, the records whose handler has run longer than the record
    /// timeout (``StageRunnerSettings/recordTimeout``): a handler that hangs would hold its key,
    /// and its partition's commit point, for good (the partition paused at
    /// ``StageRunnerSettings/maxUncommitted``). Only the handler is timed: outputs waiting for a
    /// broker that is away are waited for however long it takes. A record of its partition's
    /// current assignment is dead-lettered with the reason, unanswered (the coordinator's phase
    /// timeout, far shorter, has sent another attempt, which runs once this one is done); one of
    /// a revoked partition is handed back, its next owner's. Either frees its slot and key. Its
    /// handler is left running: what it returns, if it ever does, is sent as a slow one's is (a
    /// late answer of an earlier attempt). More handlers timed out and still running than
    /// ``StageRunnerSettings/maxTimedOutHandlers`` stop the runner
    /// (``StageRunnerError/handlersHang(running:bound:)``): only the process's restart ends them.
    private func timeOutHungRecords(_ state: inout LoopState) {
        let now = ContinuousClock.now
        guard now - state.hungRecordsCheckedAt >= .seconds(1) else { return }
        state.hungRecordsCheckedAt = now
        for run in inbox.handlersReturned.drain() {
            state.running[run] = nil
            state.timedOutRunning.remove(run)
        }
        let timeout = settings.recordTimeout
        for (run, handler) in state.running where now - handler.since >= timeout {
            state.running[run] = nil
            state.timedOut.insert(run)
            state.timedOutRunning.insert(run)
            let record = handler.record
            let partition = record.topicPartition
            let isCurrent = handler.generation == state.generations[partition] && state.abandonments[partition] != nil
            metrics?.recordsTimedOut.increment()
            logger.error("record timed out: its handler did not finish within \(timeout)", [
                LogKey.topic: record.topic, LogKey.partition: String(record.partition), LogKey.offset: String(record.offset),
                "deadLettered": String(isCurrent),
            ])
            let reason = Self.timedOutReason(after: timeout)
            // The letter alone: one refused is dead-lettered again without its payload, and never answered.
            var delivery = self.delivery
            delivery.answer = nil
            let (inbox, metrics) = (self.inbox, self.metrics)
            let stop = state.stops[partition] ?? gracefulShutdown
            let abandonment = state.abandonments[partition] ?? Abandonment()
            let completion = { (outcome: DeliveryOutcome) in
                Completion(partition: partition, offset: record.offset, key: handler.key, bytes: record.value?.count ?? 0,
                           generation: handler.generation, outcome: outcome, run: run, isTimeOut: true)
            }
            Task {
                guard isCurrent else { return inbox.completions.append(completion(.handedBack)) }
                let (outcome, written) = await delivery.deliver(steps: RecordOutputs([delivery.deadLetter(record, reason)], next: nil),
                                                                for: record, unless: abandonment, stoppingOn: stop)
                metrics?.recordSettled(record, outcome, written: written, after: ContinuousClock.now - handler.since)
                inbox.completions.append(completion(outcome))
            }
        }
        if state.timedOutRunning.count > settings.maxTimedOutHandlers {
            state.fatalError = state.fatalError ?? .handlersHang(running: state.timedOutRunning.count, bound: settings.maxTimedOutHandlers)
        }
    }

    /// The reason a timed-out record's dead letter gives (its kind ``DeadLetterKind/timedOut``).
    public static func timedOutReason(after timeout: Duration) -> String {
        "the stage's handler did not finish within \(timeout.components.seconds) s (\(StageRunnerSettings.Variable.recordTimeout)): timed out"
    }

    /// Runs `record` (``process(_:handler:delivery:metrics:stop:abandonment:handlerReturned:)``) in a task of
    /// its own, and hands its outcome to the loop.
    private func start(_ record: ConsumerRecord, run: Int, key: KeyID, generation: Int, stop: GracefulShutdown,
                       abandonment: Abandonment) {
        let (handler, delivery, inbox, metrics) = (self.handler, self.delivery, self.inbox, self.metrics)
        Task {
            let outcome = await Self.process(record, handler: handler, delivery: delivery, metrics: metrics, stop: stop,
                                             abandonment: abandonment, handlerReturned: { inbox.handlersReturned.append(run) })
            inbox.completions.append(Completion(partition: record.topicPartition, offset: record.offset, key: key,
                                                bytes: record.value?.count ?? 0, generation: generation, outcome: outcome, run: run))
        }
    }

    /// What the task of one record does: counts it consumed, runs its handler (`handlerReturned`
    /// called once it returned), then sends its outputs step by step, each send unless `abandonment` (its partition's assignment's) or the
    /// runner's is raised by then, and counts what it produced
    /// (``StageRunnerMetrics/recordSettled(_:_:written:after:)``). A record is counted consumed
    /// here, when it runs, not when it is polled: one dropped unstarted at its partition's
    /// revocation is its next owner's to count.
    static func process(_ record: ConsumerRecord, handler: StagedRecordHandler, delivery: OutputDelivery,
                        metrics: StageRunnerMetrics?, stop: GracefulShutdown, abandonment: Abandonment,
                        handlerReturned: @Sendable () -> Void = {}) async -> DeliveryOutcome {
        metrics?.recordStarted(record)
        let started = ContinuousClock.now
        let step = await handler(record, stop)
        handlerReturned()
        let (outcome, written) = await delivery.deliver(steps: step, for: record, unless: abandonment, stoppingOn: stop)
        metrics?.recordSettled(record, outcome, written: written, after: ContinuousClock.now - started)
        return outcome
    }

    private func adjustPausing(_ state: inout LoopState) throws {
        // Standard partitions count everything held; priority ones only the priority records
        // waiting, so a standard backlog never stops a priority record from being fetched.
        let heldByAll = state.inFlight + state.standardPending.count + state.priorityPending.count
        let overBytes = state.bufferedBytes >= settings.maxBufferedBytes
        var toPause: [TopicPartition] = []
        var toResume: [TopicPartition] = []
        for tp in consumer.assignment {
            let isPriority = isPriorityTopic(tp.topic)
            let held = isPriority ? state.priorityPending.count : heldByAll
            let limit = isPriority ? priorityLimit : settings.maxInFlight
            // Behind an unfinished record: what a crash would run again.
            let uncommitted = state.trackers[tp]?.unfinishedCount ?? 0
            let isPaused = state.paused.contains(tp)
            if !isPaused && (overBytes || held >= limit || uncommitted >= settings.maxUncommitted) {
                toPause.append(tp)
            } else if isPaused && !overBytes && held < max(1, limit * 3 / 4) && state.bufferedBytes < settings.maxBufferedBytes * 3 / 4
                        && uncommitted < max(1, settings.maxUncommitted * 3 / 4) {
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

    /// Sets the gauges (every loop) and the per-partition lag (once a second).
    private func updateGauges(_ state: inout LoopState) {
        guard let metrics else { return }
        metrics.inFlight.set(Double(state.inFlight))
        metrics.waiting.set(Double(state.standardPending.count + state.priorityPending.count))
        metrics.timedOutHandlersRunning.set(Double(state.timedOutRunning.count))
        metrics.pausedPartitions.set(Double(state.paused.count))
        let assignment = consumer.assignment
        metrics.assignedPartitions.set(Double(assignment.count))
        let now = ContinuousClock.now
        guard now - state.lagUpdatedAt >= metrics.lagInterval else { return }
        state.lagUpdatedAt = now
        // Lag = the last fetched high watermark minus the first unfinished offset (the commit
        // point); before anything is tracked, minus the fetch position.
        let positions = consumer.positions(assignment.filter { state.trackers[$0]?.commitPoint == nil }.sorted())
        var lags: [TopicPartition: (lag: Int64, commitPoint: Int64)] = [:]
        for tp in assignment {
            guard let high = consumer.fetchedWatermarks(tp)?.high,
                  let next = state.trackers[tp]?.commitPoint ?? (positions[tp] ?? nil) else { continue }
            lags[tp] = (max(0, high - next), next)
        }
        metrics.setLags(lags)
    }
}

/// The series a ``StageRunner`` records, all labelled `stage` with the runner's name: a phase
/// (`profile`, `activity`, `scoring`, `finalize`) or `profile-finder`, `web-enricher` (see
/// ``MetricNames``).
public struct StageRunnerMetrics: Sendable {
    let registry: MetricsRegistry
    let stage: String
    let inFlight: Gauge
    let waiting: Gauge
    let pausedPartitions: Gauge
    let assignedPartitions: Gauge
    let outputFailures: Counter
    let recordsGivenUp: Counter
    /// Records whose handler ran past the record timeout.
    let recordsTimedOut: Counter
    /// Handlers timed out that have not returned yet.
    let timedOutHandlersRunning: Gauge
    /// Revocations whose commit failed or got no answer in time.
    let revocationCommitFailures: Counter
    /// How often the per-partition lag is recomputed.
    let lagInterval: Duration
    /// The per-topic series, looked up once per topic rather than once per record.
    private let perTopic: PerTopicSeries

    /// The series of the stage `stage` in `registry`.
    /// - Parameter zeroOutputTopics: output topics whose produced counter starts at zero (the
    ///   dead-letter topic, so that an increase over a window sees the first letter).
    public init(registry: MetricsRegistry, stage: String, zeroOutputTopics: [String] = [], lagInterval: Duration = .seconds(1)) {
        self.registry = registry
        self.stage = stage
        let labels = ["stage": stage]
        inFlight = registry.gauge(MetricNames.stageInFlight, labels)
        waiting = registry.gauge(MetricNames.stageWaiting, labels)
        pausedPartitions = registry.gauge(MetricNames.stagePausedPartitions, labels)
        assignedPartitions = registry.gauge(MetricNames.stageAssignedPartitions, labels)
        outputFailures = registry.counter(MetricNames.stageOutputFailures, labels)
        recordsGivenUp = registry.counter(MetricNames.stageRecordsGivenUp, labels)
        recordsTimedOut = registry.counter(MetricNames.stageRecordsTimedOut, labels)
        timedOutHandlersRunning = registry.gauge(MetricNames.stageTimedOutHandlersRunning, labels)
        revocationCommitFailures = registry.counter(MetricNames.stageRevocationCommitFailures, labels)
        self.lagInterval = lagInterval
        perTopic = PerTopicSeries(registry: registry, stage: stage)
        for gauge in [inFlight, waiting, pausedPartitions, assignedPartitions, timedOutHandlersRunning] { gauge.set(0) }
        outputFailures.increment(by: 0)
        recordsGivenUp.increment(by: 0)
        recordsTimedOut.increment(by: 0)
        revocationCommitFailures.increment(by: 0)
        DeadLetterKind.registerAtZero(in: registry)
        for topic in zeroOutputTopics {
            registry.counter(MetricNames.stageRecordsProduced, ["stage": stage, "topic": topic]).increment(by: 0)
        }
    }

    /// Counts `record` consumed: its handler runs now.
    func recordStarted(_ record: ConsumerRecord) {
        perTopic.series(of: record.topic).consumed.increment()
    }

    func recordFinished(_ record: ConsumerRecord, outputs: [ProducerRecord], after elapsed: Duration) {
        perTopic.series(of: record.topic).processing.observe(elapsed)
        recordProduced(outputs)
    }

    /// Counts what a record whose outputs settled as `outcome` wrote (`written`: the records of
    /// the steps acknowledged), and how it settled.
    func recordSettled(_ record: ConsumerRecord, _ outcome: DeliveryOutcome, written: [ProducerRecord], after elapsed: Duration) {
        switch outcome {
        case .delivered:
            recordFinished(record, outputs: written, after: elapsed)
        case .deadLettered(_, let letter, let answer):
            // The steps before the refused one were written, then the letter (counted by the
            // kind its header names too, as every other letter is) and the answer.
            recordProduced(written + [letter] + (answer.map { [$0] } ?? []))
            outputFailures.increment()
        case .givenUp:
            recordProduced(written)
            recordsGivenUp.increment()
        case .handedBack, .fatal:
            recordProduced(written)
        }
    }

    /// Counts records written for an input, by topic (outputs, dead letters, answers alike), and
    /// the dead letters among them by kind.
    func recordProduced(_ outputs: [ProducerRecord]) {
        for output in outputs { perTopic.series(of: output.topic).produced.increment() }
        DeadLetterKind.count(outputs, in: registry)
    }

    /// Replaces the lag and commit-point series: partitions no longer assigned disappear.
    func setLags(_ lags: [TopicPartition: (lag: Int64, commitPoint: Int64)]) {
        func labels(_ tp: TopicPartition) -> [String: String] { ["stage": stage, "topic": tp.topic, "partition": String(tp.partition)] }
        registry.replaceGauges(MetricNames.stagePartitionLag, with: Dictionary(uniqueKeysWithValues: lags.map { (labels($0), Double($1.lag)) })) {
            $0["stage"] == stage
        }
        registry.replaceGauges(MetricNames.stagePartitionCommitPoint,
                               with: Dictionary(uniqueKeysWithValues: lags.map { (labels($0), Double($1.commitPoint)) })) { $0["stage"] == stage }
    }
}

/// The handles of a stage's series labelled by topic, made at a topic's first record and kept,
/// so a record costs a lookup by topic rather than a label dictionary built and checked. (A
/// handle makes no series: a series still appears at its first update.)
private final class PerTopicSeries: Sendable {
    struct Series: Sendable {
        let consumed: Counter
        let produced: Counter
        let processing: Histogram
    }

    private let registry: MetricsRegistry
    private let stage: String
    private let byTopic = Mutex<[String: Series]>([:])

    init(registry: MetricsRegistry, stage: String) {
        self.registry = registry
        self.stage = stage
    }

    func series(of topic: String) -> Series {
        byTopic.withLock { byTopic in
            if let known = byTopic[topic] { return known }
            let labels = ["stage": stage, "topic": topic]
            let made = Series(consumed: registry.counter(MetricNames.stageRecordsConsumed, labels),
                              produced: registry.counter(MetricNames.stageRecordsProduced, labels),
                              processing: registry.histogram(MetricNames.stageProcessingSeconds, labels))
            byTopic[topic] = made
            return made
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
    /// How many times each partition was assigned: tells a record of the current assignment
    /// from one read before the partition was revoked.
    var generations: [TopicPartition: Int] = [:]
    /// The shutdown of each assigned partition's records (``StagedRecordHandler``): a child
    /// of the runner's, made at the assignment and begun when the partition is revoked.
    var stops: [TopicPartition: GracefulShutdown] = [:]
    /// What each assigned partition's records in flight are given up with (``Abandonment``):
    /// made at the assignment, raised when the partition's revocation completes or it is lost.
    var abandonments: [TopicPartition: Abandonment] = [:]
    /// Why the runner must stop (the producer unusable, a topic refusing records): the loop
    /// stops and ``StageRunner/run()`` throws it.
    var fatalError: StageRunnerError?
    var inFlight = 0
    /// ``inFlight`` per partition, for a revocation to wait on.
    var inFlightByPartition: [TopicPartition: Int] = [:]
    /// When the drain must end, once a SIGTERM came during a revocation's wait.
    var shutdownDeadline: ContinuousClock.Instant?
    var bufferedBytes = 0
    /// The handlers running, by the number of their run (``StageRunner/timeOutHungRecords(_:)``);
    /// those that returned are dropped at the next check.
    var running: [Int: RunningHandler] = [:]
    /// The number of the last run started: each record's run has its own, whatever its offset.
    var lastRun = 0
    /// The runs timed out whose task has not finished yet: its completion is not theirs.
    var timedOut: Set<Int> = []
    /// The runs timed out whose handler has not returned yet
    /// (``StageRunnerSettings/maxTimedOutHandlers``).
    var timedOutRunning: Set<Int> = []
    var hungRecordsCheckedAt = ContinuousClock.now
    var hasJoinedGroup = false
    var lagUpdatedAt = ContinuousClock.now - .seconds(3600)
}

/// The ordering key of a record: its key bytes, or its partition and offset when it has none;
/// with ``StageRunnerSettings/Ordering/partition``, its partition.
private struct KeyID: Hashable, Sendable {
    let bytes: [UInt8]
    init(_ record: ConsumerRecord, ordering: StageRunnerSettings.Ordering) {
        switch ordering {
        case .key:
            bytes = record.key ?? Array("\(record.topic)/\(record.partition)/\(record.offset)".utf8)
        case .partition:
            bytes = Array("\(record.topic)/\(record.partition)".utf8)
        }
    }
}

private struct Completion: Sendable {
    let partition: TopicPartition
    let offset: Int64
    let key: KeyID
    let bytes: Int
    /// The partition's assignment the record was read under (``LoopState/generations``).
    let generation: Int
    /// Whether the offset may move past it, and why.
    let outcome: DeliveryOutcome
    /// The record's run (``LoopState/lastRun``).
    let run: Int
    /// Whether the runner timed the record out (``StageRunner/timeOutHungRecords(_:)``), rather
    /// than its handler's task finishing it.
    var isTimeOut = false
}

/// A record whose handler runs: what a time-out needs of it, and when the handler started.
private struct RunningHandler {
    let record: ConsumerRecord
    let key: KeyID
    /// The partition's assignment the record was read under (``LoopState/generations``).
    let generation: Int
    let since: ContinuousClock.Instant
}

/// What other tasks and the rebalance callback hand to the run loop.
private final class Inbox: Sendable {
    let completions = Mailbox<Completion>()
    /// The runs whose handler returned (``StageRunner/timeOutHungRecords(_:)``).
    let handlersReturned = Mailbox<Int>()
    let rebalances = Mailbox<RebalanceEvent>()
    /// Raised when the drain stops waiting: in-flight records stop retrying, send nothing more
    /// and are handed back.
    let abandonment = Abandonment()
    /// When the run was cancelled (SIGTERM): the drain's time starts here, not when the loop
    /// next looks, so the process's shutdown bound holds however long a poll took.
    let cancelledAt = Mutex<ContinuousClock.Instant?>(nil)

    /// The drain's deadline: `timeout` after the cancellation (after now if not cancelled).
    func drainDeadline(_ timeout: Duration) -> ContinuousClock.Instant {
        (cancelledAt.withLock { $0 } ?? ContinuousClock.now) + timeout
    }
}
