import Foundation
import Kafka
import LeadModel
import Runtime
import Streaming
import Synchronization

/// Something a stage reads whole before it takes work (the offers and accounts tables).
public protocol StageTable: Sendable {
    /// Reads the table up to its current end, then follows it.
    func start() async throws
    /// Waits until cancelled; throws once the table is no longer followed (``KafkaTableSet/watch()``).
    func watch() async throws
    /// Stops following.
    func stop() async
}

extension KafkaTable: StageTable {}
extension KafkaTableSet: StageTable {}

/// A stateless stage worker: consumes one phase's request topics, answers each request with a
/// ``PhaseResult`` on ``Topics/phaseResults`` (``Topics/phaseResultsPriority`` for a priority
/// request) and the stage's extra outputs.
///
/// - Input: `phase.<phase>.requests` and its `.priority` twin (admitted first), as a member of
///   the group `stage.<phase>` (namespaced), or `KAFKA_GROUP_ID` when set.
/// - Per record: a record that does not decode as a ``PhaseRequest``, or asks for another phase,
///   becomes one dead letter and nothing else. Otherwise the ``PhaseHandler`` runs and its
///   ``StageOutput`` is produced; or, when the record's shutdown (the process stopping, or the
///   request's partition being revoked) cut the handler's wait short
///   (``PhaseHandler/handle(_:stoppingOn:)``), nothing is, and the request is handed back
///   uncommitted for the partition's next owner.
/// - Guarantees (from ``StageRunner``): requests of one lead run one at a time, in order; many
///   leads run at once; an input offset is committed only after every output record of it is
///   acknowledged, so a crash redoes in-flight requests (the coordinator absorbs the duplicate
///   results by lead, run, phase and attempt). While the broker is away, outputs are retried
///   until it returns; none is dropped and no phase is failed for it. A request whose output the
///   broker refuses for good (too large, invalid) is dead-lettered instead; an unusable producer,
///   or a topic that refuses records for what it is (misnamed, or without the partition asked
///   for), makes ``run()`` throw so the process stops, the request uncommitted.
/// - Shutdown: cancelling ``run()`` drains in-flight requests (a profile or activity handler
///   waiting for a provider's rate limit hands its request back; the model scorer's calls,
///   `SCORER=model`, are not cut short and may outlast the drain), commits, leaves the group, stops the tables
///   and closes the producer. A rebalance revoking a partition does the same for its requests
///   (``StageRunner``).
/// - Operations: the runner records its metrics in ``metrics`` (``MetricNames``, label `phase`);
///   with `METRICS_PORT` set, ``run()`` serves them with `/healthz` and `/readyz` (ready once the
///   tables are read and the group is joined; not ready again while draining).
public final class StageService: Service {
    /// The phase this stage runs.
    public let phase: Phase
    /// The consumer group.
    public let groupID: String
    /// The topics consumed: the priority twin, then the standard request topic.
    public let inputTopics: [String]
    private let runner: StageRunner
    private let producer: KafkaProducer
    private let tables: [any StageTable]
    private let companions: [any Service]
    private let logger: Logger
    private let readiness: Readiness
    private let metricsSettings: MetricsSettings
    private let service: String
    /// The Kafka connection, whose broker the endpoint's readiness watches.
    private let kafka: KafkaConfiguration
    /// The stage's metrics (served on `/metrics` when the endpoint is on).
    public let metrics: MetricsRegistry
    /// Liveness and readiness (served on `/healthz` and `/readyz`).
    public let health: HealthStatus
    /// The endpoint while ``run()`` serves it (its ``MetricsEndpoint/port`` is the bound port).
    public var metricsEndpoint: MetricsEndpoint? { endpoint.withLock { $0 } }
    private let endpoint = Mutex<MetricsEndpoint?>(nil)

    /// The default group of a phase's stage: `stage.<phase>` under the namespace.
    public static func defaultGroupID(for phase: Phase, namespace: String?) -> String {
        Topics(namespace: namespace).stageGroup(phase)
    }

    /// Creates the producer, the group consumer and the runner around `handler`. The consumer
    /// joins its group in ``run()``, once the tables are read: a member that joined before would
    /// get partitions nobody reads and hold up the group's rebalances for the tables' read.
    /// - Parameters:
    ///   - tables: started (read whole) at the beginning of ``run()``, before the stage joins its
    ///     group and takes any request, and stopped at its end; one no longer followed stops the
    ///     stage, so the process restarts.
    ///   - companions: services of the same process run beside the stage once the tables are read
    ///     (the scoring stage's ``AccountHeatAggregator``): cancelled with it, and one that fails
    ///     stops the stage, so the process restarts.
    ///   - metricsSettings: where to serve metrics; nil reads `METRICS_PORT` and
    ///     `METRICS_BIND_ADDRESS` from the process environment.
    ///   - metrics: the registry the endpoint serves; companions that report into it pass it.
    public init(
        environment: PipelineEnvironment, configuration: StageConfiguration, handler: any PhaseHandler,
        tables: [any StageTable] = [], companions: [any Service] = [], metricsSettings: MetricsSettings? = nil,
        metrics: MetricsRegistry = MetricsRegistry()
    ) throws {
        let environment = environment.reportingKafkaStatistics(to: metrics)
        let phase = handler.phase
        let priorityTopic = environment.topics.phaseRequests(phase, isPriority: true)
        let standardTopic = environment.topics.phaseRequests(phase)
        let groupID = environment.kafka.groupID ?? Self.defaultGroupID(for: phase, namespace: environment.topics.namespace)
        let logger = environment.logger.with([LogKey.phase: phase.rawValue])
        let producer = try environment.makeProducer()
        let contributions = configuration.contributionWindow > .zero
            ? ContributionBatcher(window: configuration.contributionWindow, topics: environment.topics, codec: environment.codec,
                                  metrics: metrics, producer: producer)
            : nil
        let processor = StageRecordProcessor(
            handler: handler, codec: environment.codec, topics: environment.topics, service: environment.service, logger: logger,
            metrics: metrics, contributions: contributions)
        let health = HealthStatus()
        let readiness = Readiness(health: health, waitingFor: [.tables, .group])
        self.metricsSettings = try metricsSettings ?? MetricsSettings(environment: ProcessInfo.processInfo.environment)
        self.runner = try StageRunner(
            configuration: environment.kafka, groupID: groupID, topics: [priorityTopic, standardTopic],
            consumerProperties: configuration.consumerProperties, producer: producer, settings: configuration.runner,
            logger: logger, isPriorityTopic: { $0 == priorityTopic },
            metrics: StageRunnerMetrics(registry: metrics, stage: phase.rawValue, zeroOutputTopics: [environment.topics.deadLetters]),
            onJoinedGroup: { readiness.satisfy(.group) }, deadLetter: { processor.deadLetter(for: $0, reason: $1) },
            answer: { processor.failedAnswer(to: $0, reason: $1) },
            stagedHandler: { record, stop in await processor.process(record, stoppingOn: stop) })
        self.metrics = metrics
        self.health = health
        self.readiness = readiness
        self.service = environment.service
        self.phase = phase
        self.groupID = groupID
        self.inputTopics = [priorityTopic, standardTopic]
        self.producer = producer
        self.tables = tables
        self.companions = companions
        self.logger = logger
        self.kafka = environment.kafka
    }

    /// Starts the metrics endpoint (when configured) and the tables, then joins the group and
    /// consumes until cancelled (see the type's documentation).
    public func run() async throws {
        var started: [any StageTable] = []
        do {
            if let endpoint = try MetricsEndpoint.start(metricsSettings, service: service, registry: metrics, health: health,
                                                       broker: (kafka, logger)) {
                self.endpoint.withLock { $0 = endpoint }
                logger.info("serving /metrics, /healthz, /readyz", ["port": String(endpoint.port)])
            }
            for table in tables {
                try await table.start()
                started.append(table)
            }
            readiness.satisfy(.tables)
            logger.info("taking requests", ["group": groupID, "topics": inputTopics.joined(separator: ",")])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for companion in companions {
                    group.addTask { try await companion.run() }
                }
                for table in started {
                    group.addTask { try await table.watch() }
                }
                group.addTask { [runner, health] in try await runner.run(markingDrainingOn: health) }
                // The runner and the tables' watches return only when cancelled; a companion's
                // failure, or a table no longer followed, ends them all.
                try await group.next()
                group.cancelAll()
                try await group.waitForAll()
            }
        } catch {
            health.markFailed("\(error)")
            for table in started { await table.stop() }
            await producer.close(flushTimeoutMilliseconds: Self.closingFlush, waitingAtMost: Self.closingWait, logger: logger)
            stopEndpoint()
            throw error
        }
        for table in started { await table.stop() }
        await producer.close(flushTimeoutMilliseconds: Self.closingFlush, waitingAtMost: Self.closingWait, logger: logger)
        stopEndpoint()
    }

    /// How long closing the producer waits for what is unsent: not at all. The runner flushed
    /// already, within the process's shutdown bound, and what is left belongs to inputs not
    /// committed, which the next owner runs again.
    static let closingFlush: Int32 = 0

    /// How long the service waits for its producer's close. With nothing flushed the close is
    /// only librdkafka ending its threads: quick with a broker, and during an outage a wait for
    /// nothing that took the whole leaving time again (500 ms) after the runner had used its own,
    /// so a loaded host ended a stage past its shutdown bound. Past this the close goes on behind
    /// the ending process.
    static let closingWait = Duration.milliseconds(100)

    private func stopEndpoint() {
        endpoint.withLock { endpoint in
            endpoint?.stop()
            endpoint = nil
        }
    }
}

/// Marks a service ready once every condition it waits for is met.
final class Readiness: Sendable {
    enum Condition: Hashable, Sendable {
        /// The tables were read to their end.
        case tables
        /// The consumer joined its group (first assignment, possibly empty).
        case group
    }

    private let health: HealthStatus
    private let missing: Mutex<Set<Condition>>

    init(health: HealthStatus, waitingFor conditions: Set<Condition>) {
        self.health = health
        self.missing = Mutex(conditions)
        health.markNotReady("waiting for \(conditions.map { "\($0)" }.sorted().joined(separator: ", "))")
    }

    func satisfy(_ condition: Condition) {
        let remaining = missing.withLock { missing in
            missing.remove(condition)
            return missing
        }
        if remaining.isEmpty {
            health.markReady()
        } else {
            health.markNotReady("waiting for \(remaining.map { "\($0)" }.sorted().joined(separator: ", "))")
        }
    }
}

/// Turns one consumed record into the records to produce: dead letter, or the handler's output.
/// Never throws: whatever cannot be processed is dead-lettered with the reason.
public struct StageRecordProcessor: Sendable {
    private let handler: any PhaseHandler
    private let codec: MessageCodec
    private let topics: Topics
    private let service: String
    private let logger: Logger
    private let metrics: MetricsRegistry?
    private let contributions: ContributionBatcher?

    /// Creates a processor for `handler`'s phase; with `metrics`, it counts the provider calls its
    /// results record as failed (``MetricNames/stageProviderFailures``, at zero from the start).
    /// With `contributions`, a heat contribution goes into its account's next batch, and the
    /// request's own records follow once that batch is acknowledged; it goes out with them when
    /// the batch could not be written.
    public init(handler: any PhaseHandler, codec: MessageCodec, topics: Topics, service: String, logger: Logger,
                metrics: MetricsRegistry? = nil, contributions: ContributionBatcher? = nil) {
        self.handler = handler
        self.contributions = contributions
        self.codec = codec
        self.topics = topics
        self.service = service
        self.logger = logger
        self.metrics = metrics
        for (provider, _) in Self.providerOutcomes(PhasePayload(), phase: handler.phase) {
            metrics?.counter(MetricNames.stageProviderFailures, ["stage": handler.phase.rawValue, "provider": provider]).increment(by: 0)
        }
    }

    /// The provider calls a phase's payload records, by provider name (as in its charges).
    static func providerOutcomes(_ payload: PhasePayload, phase: Phase) -> [(provider: String, outcome: PlatformOutcome?)] {
        switch phase {
        case .profile: [(ProfileStageHandler.linkedinProvider, payload.profile?.linkedinOutcome),
                        (ProfileStageHandler.xProvider, payload.profile?.xOutcome)]
        case .activity: [(ActivityStageHandler.activityProvider, payload.activityOutcome)]
        case .scoring, .finalize: []
        }
    }

    /// The records for `record`: exactly one dead letter when it is no ``PhaseRequest`` of this
    /// stage's phase; the request's dead letter and then a failed answer
    /// (``failedAnswer(to:reason:)``) when its output cannot be encoded or written; else the
    /// handler's ``StageOutput``.
    /// Side records go before the result, which follows once they are acknowledged: a heat
    /// contribution (when no batcher took it), then the result; a pool entry, then the run's
    /// enrollment if any, then the result naming the entry's position (``PhaseResult/poolEntry``).
    /// A step the broker refuses dead-letters the request, and the steps after it are not sent.
    /// With `stop` (the record's shutdown) begun while the handler waited, nothing: the request is
    /// handed back (``PhaseHandler/handle(_:stoppingOn:)``).
    public func process(_ record: ConsumerRecord, stoppingOn stop: GracefulShutdown = GracefulShutdown()) async -> RecordOutputs {
        let request: PhaseRequest
        do {
            request = try codec.decode(PhaseRequest.self, record: record)
        } catch {
            return RecordOutputs([deadLetter(for: record, reason: error.description)])
        }
        guard request.phase == handler.phase else {
            // Not answered: the stage of its phase may have it too, and its answer is the one that counts.
            return RecordOutputs([deadLetter(for: record, reason: "request for phase \(request.phase.rawValue) on the \(handler.phase.rawValue) stage's topic")])
        }
        func fields() -> [String: String] {
            [LogKey.leadID: request.leadID.rawValue, LogKey.runID: request.runID.rawValue, LogKey.attempt: String(request.attempt)]
        }
        guard var handled = await handler.handle(request, stoppingOn: stop) else {
            logger.info("stopping or revoked: the request is handed back unanswered", fields())
            return .handedBack
        }
        if let contribution = handled.contribution, let contributions, await contributions.send(contribution) {
            handled.contribution = nil
        }
        var output = handled
        for case (let provider, .failed?) in Self.providerOutcomes(output.result.payload, phase: handler.phase) {
            metrics?.counter(MetricNames.stageProviderFailures, ["stage": handler.phase.rawValue, "provider": provider]).increment()
        }
        switch output.result.outcome {
        case .failed(let reason, let isRetriable): logger.info("phase failed\(isRetriable ? " (retriable)" : ""): \(reason)", fields())
        case .waitsForBilling(let reason): logger.info("phase waits for billing: \(reason)", fields())
        case .completed, .accountPaused: logger.debug("phase completed", fields())
        }
        var side: [ProducerRecord]
        let result: ProducerRecord?  // nil for finalize: its result names where the entry went, known once it is in
        do {
            side = try output.sideRecords(topics: topics, codec: codec)
            result = output.poolEntry == nil ? try output.resultRecord(topics: topics, codec: codec, isPriority: request.isPriority) : nil
            if let entry = output.poolEntry, let index = side.firstIndex(where: { $0.topic == self.topics.leadPool }),
               codec.oversizeReason(side[index]) != nil, let fitted = fitting(entry, written: side[index], for: request) {
                output.poolEntry = fitted
                side = try output.sideRecords(topics: topics, codec: codec)
            }
        } catch {
            return dismissal(of: record, request: request, reason: "cannot encode the stage's output: \(error)")
        }
        if let reason = oversizeReason(side + [result].compactMap { $0 }) { return dismissal(of: record, request: request, reason: reason) }
        // The side records first, and the result once they are in: the coordinator acts on a
        // result at once (a heat contribution no batcher took goes before it).
        if let result { return side.isEmpty ? RecordOutputs([result]) : RecordOutputs(side) { _ in [result] } }
        // Finalize: the entry, then the run's enrollment, which autopilot stands on, then the
        // result naming the entry's position.
        let (topics, codec, written) = (topics, codec, output)
        let handler = handler
        let finalResult = { @Sendable (entry: RecordPosition?) -> RecordOutputs in
            handler.outputWritten(for: request)  // the entry and the enrollment are in
            do {
                let result = try written.resultRecord(topics: topics, codec: codec, isPriority: request.isPriority, poolEntry: entry)
                if let reason = self.oversizeReason([result]) { return self.dismissal(of: record, request: request, reason: reason) }
                return RecordOutputs([result])
            } catch {
                return self.dismissal(of: record, request: request, reason: "cannot encode the stage's result: \(error)")
            }
        }
        let enrollments = side.filter { $0.topic == topics.autopilotEnrollments }
        return RecordOutputs(side.filter { $0.topic != topics.autopilotEnrollments }, next: { reports in
            let entry = reports.first { $0.topic == topics.leadPool }.map {
                RecordPosition(topic: $0.topic, partition: $0.partition, offset: $0.offset)
            }
            guard !enrollments.isEmpty else { return finalResult(entry) }
            return RecordOutputs(enrollments, next: { _ in finalResult(entry) })
        })
    }

    /// `entry`, whose record `written` is above MAX_RECORD_BYTES, made to fit
    /// (``LeadPoolEntry/fitted(codec:framing:renderingAt:)``, logged as a warning); nil when it cannot be
    /// (its request is then dead-lettered). Only an entry above the bound is encoded again.
    private func fitting(_ entry: LeadPoolEntry, written: ProducerRecord, for request: PhaseRequest) -> LeadPoolEntry? {
        // The key and headers as the entry's record has them (``StageOutput/sideRecords(topics:codec:)``).
        let framing = written.byteCount - (written.value?.count ?? 0)
        guard let fitted = entry.fitted(codec: codec, framing: framing, renderingAt: request.requestedAt) else { return nil }
        logger.warning("pool entry above MAX_RECORD_BYTES (\(codec.maxRecordBytes)); written without: \(fitted.omitted?.joined(separator: "; ") ?? "")", [
            LogKey.leadID: request.leadID.rawValue, LogKey.runID: request.runID.rawValue,
        ])
        return fitted
    }

    /// Why one of `records` cannot be written: above MAX_RECORD_BYTES (``MessageCodec/oversizeReason(_:)``).
    private func oversizeReason(_ records: [ProducerRecord]) -> String? {
        records.lazy.compactMap(codec.oversizeReason).first
    }

    /// A request this stage cannot answer with its work, for `reason`: its dead letter, then,
    /// once the letter is in, a failed answer (``failedAnswer(to:reason:)``).
    private func dismissal(of record: ConsumerRecord, request: PhaseRequest, reason: String) -> RecordOutputs {
        let letter = deadLetter(for: record, reason: reason)
        guard let answer = failedAnswer(to: request, reason: reason) else { return RecordOutputs([letter]) }
        return RecordOutputs([letter]) { _ in [answer] }
    }

    /// The result that answers a request dead-lettered for `reason`: failed for good, saying so.
    /// Without it the coordinator would wait out the attempt's timeout for an answer that never
    /// comes, retry (another paid call, for an output that cannot be written either), and give
    /// up on the phase as unanswered, without the reason; with it, the phase is skipped at once
    /// with the reason in the lead's history. Finalize is retried all the same, with the
    /// coordinator's backoff, until its entry is written. Nil when it cannot be encoded within
    /// the bound.
    public func failedAnswer(to request: PhaseRequest, reason: String) -> ProducerRecord? {
        let said = "dead-lettered by the \(handler.phase.rawValue) stage: \(reason.prefix(scalars: Self.answeredReasonLength))"
        let result = PhaseResult(answering: request, outcome: .failed(reason: said, isRetriable: false), payload: .empty,
                                 finishedAt: Date(), service: service)
        guard let record = try? StageOutput(result: result).resultRecord(topics: topics, codec: codec, isPriority: request.isPriority),
              codec.oversizeReason(record) == nil else { return nil }
        return record
    }

    /// The most of a dead letter's reason a failed answer repeats (the letter has it whole).
    static let answeredReasonLength = 1_000

    /// ``failedAnswer(to:reason:)`` for the request `record` holds; nil when it holds none of
    /// this stage's phase.
    public func failedAnswer(to record: ConsumerRecord, reason: String) -> ProducerRecord? {
        guard let request = try? codec.decode(PhaseRequest.self, record: record), request.phase == handler.phase else { return nil }
        return failedAnswer(to: request, reason: reason)
    }

    /// The dead letter for `record` (its bytes, where it was read and `reason`), logged as a
    /// warning. Also what the ``StageRunner`` sends when the broker refuses the outputs for good.
    /// A request of this stage's phase is handed to ``PhaseHandler/outputNotWritten(for:)``.
    public func deadLetter(for record: ConsumerRecord, reason: String) -> ProducerRecord {
        logger.warning("dead-lettering: \(reason)", [
            LogKey.topic: record.topic, LogKey.partition: String(record.partition), LogKey.offset: String(record.offset),
        ])
        if let request = try? codec.decode(PhaseRequest.self, record: record), request.phase == handler.phase {
            handler.outputNotWritten(for: request)
        }
        return codec.deadLetter(for: record, reason: reason, service: service, topics: topics)
    }
}
