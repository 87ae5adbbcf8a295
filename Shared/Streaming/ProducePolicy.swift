import Kafka
import Runtime

/// What a producer error means for a record, and so what every sender does about it: the stage
/// core (``OutputDelivery``), the coordinator, the progress tracker and the account heat
/// aggregator (``SettlingSend``) act on the same classes.
///
/// | class | what the sender does |
/// |---|---|
/// | ``transient`` | waits (100 ms doubling to 5 s) and sends the record again, for as long as it takes; the progress tracker, which does not send a record again, publishes what it stood for again as it then stands after its next poll, without a wait of its own |
/// | ``refused`` | the record is bad: it goes to dead letters with the reason (the stage core dead-letters its input), and the sender goes on |
/// | ``topicRefused`` | the topic is wrong, not the record: the process stops, its input not committed, and nothing is dead-lettered |
/// | ``fatal`` | the producer is unusable: the process stops, its input not committed, and restarts with a new producer |
/// | ``unclassified`` | sent again from the first delay (a later run of them, after a passing failure, from where the wait grew), then taken as the record's (``refused``) at its ``unclassifiedAttempts``th such failure in a row (a passing failure between starts the count again); a dead letter failing so too stops the process. Records a dead letter cannot stand in for (the coordinator's, the heat aggregator's changelog: ``SettlingSend/Unclassified/waitedOut``) are sent again as for ``transient``, for as long as it takes |
///
/// Policy reads the ``KafkaError`` classification (``KafkaError/isFatal``,
/// ``KafkaError/isClientClosed``, ``KafkaError/isTopicRefusal``, ``KafkaError/isRecordRejected``,
/// ``KafkaError/isRetriable``), never the message.
///
/// The raw value is the class's `class` label in ``MetricNames/produceFailures``.
public enum ProduceFailure: String, Sendable, Equatable {
    /// The broker is away or busy (timeouts, transport errors, a full queue, a leader moving),
    /// or the record was not stored for a reason the producer has mended itself (an epoch it
    /// bumped): sending the same record again can succeed, so it is retried for as long as it takes.
    case transient
    /// The record itself can never be stored (too large, invalid, ``KafkaError/isRecordRejected``):
    /// it goes to dead letters (a stage's input does) and its partition moves on.
    case refused
    /// The record was refused for its topic (``KafkaError/isTopicRefusal``: misnamed,
    /// TOPIC_EXCEPTION; a partition the topic lacks; a record format, compression or request
    /// version it does not take), which refuses every record sent there the same way: the
    /// process stops with its input uncommitted, so it is redone once the topic or the
    /// configuration naming it is fixed. Dead-lettering would fail every record alike (and lose
    /// what cannot be dead-lettered, as a lead's state).
    case topicRefused = "topic-refused"
    /// The producer cannot be used any more (a fatal error of the producer instance,
    /// `rd_kafka_fatal_error`, fenced, its idempotence state lost, the client closed or purged
    /// under us), or the principal is refused (authentication, an ACL), which refuses every
    /// record alike: the process must stop, so it restarts with a new producer.
    case fatal
    /// Neither retriable nor known to be one record's (UNKNOWN_SERVER_ERROR, a code not classified
    /// here): it may pass, or be the record's. A sender sends the record again from the first
    /// delay and takes it as the record's (as ``refused``) when it failed so ``unclassifiedAttempts``
    /// sends in a row (a passing failure between, as an outage, starts the count again): stopping instead would have the restarted process send the record again and
    /// fail again, for ever. Not given up on its account: when the dead letter fails so too, the
    /// broker may be failing every write, and the process stops. A record whose dead letter would
    /// lose what cannot be got back (a lead's state, a charge, a changelog's state) is sent again
    /// as a ``transient`` failure is instead, for as long as it takes
    /// (``SettlingSend/Unclassified/waitedOut``): a broker failing so for a while loses nothing.
    case unclassified

    /// The class of `error`, an error the producer reported for one record.
    public init(_ error: KafkaError) {
        if error.isFatal || error.isClientClosed || error.isAuthorizationFailure || Self.producerCodes.contains(error.code) {
            self = .fatal
        } else if error.isTopicRefusal {
            self = .topicRefused
        } else if error.isRecordRejected {
            self = .refused
        } else if error.isRetriable || Self.transientCodes.contains(error.code) {
            self = .transient
        } else {
            self = .unclassified
        }
    }

    /// How many sends in a row a record fails for an unclassified reason (``unclassified``)
    /// before the failure is taken as the record's: about 3 s of waits at the default backoff
    /// (0.1 + 0.2 + 0.4 + 0.8 + 1.6 s) for the records' first run of them (a later one, after a
    /// passing failure, waits as an outage does, up to 5 s a send), long enough for a broker's passing fault to clear and
    /// short of the phases' attempt timeouts (30 s for finalize, the shortest), so the
    /// coordinator gets a stage's failed answer, not a timeout, and retries the phase itself.
    public static let unclassifiedAttempts = 6

    /// The first wait before a record is sent again; each later one doubles, up to ``maxRetryDelay``.
    public static let firstRetryDelay: Duration = .milliseconds(100)

    /// The longest wait between two sends of a record.
    public static let maxRetryDelay: Duration = .seconds(5)

    /// Codes that say the producer or its principal is wrong, not the record: every record
    /// would fail alike, and a new producer (or an operator) is what mends it. The producer's
    /// idempotence state: OUT_OF_ORDER_SEQUENCE_NUMBER (45), INVALID_PRODUCER_ID_MAPPING (49),
    /// UNKNOWN_PRODUCER_ID (59), PRODUCER_FENCED (90) (when librdkafka raises a fatal error for
    /// them, ``KafkaError/isFatal`` says so too); its authentication: SASL_AUTHENTICATION_FAILED
    /// (58), `_AUTHENTICATION` (-169).
    static let producerCodes: Set<Int32> = [45, 49, 59, 90, 58, -169]

    /// Not marked retriable by the Kafka layer but worth waiting out: `_UNKNOWN_TOPIC` (-188, the
    /// output topic is not (yet) in the metadata); `_INVALID_DIFFERENT_RECORD` (-138: the
    /// broker refused another record of the same batch, and failed this one with it; sent again,
    /// without its neighbour, it is stored); INVALID_PRODUCER_EPOCH (47) on a record of an
    /// idempotent producer that is not transactional: librdkafka fails the batch as not stored
    /// and bumps the producer's epoch itself (`rd_kafka_handle_Produce_error`, a permanent error
    /// without `enable.gapless.guarantee`: `rd_kafka_idemp_drain_epoch_bump`), so the same
    /// producer stores the record sent again; a restart would only redo the uncommitted inputs.
    /// When librdkafka raised a fatal error instead, ``KafkaError/isFatal`` says so (``fatal``).
    static let transientCodes: Set<Int32> = [-188, -138, 47]

    /// The error's name and code, without its message: for a delivery report librdkafka's
    /// message text can be the record's payload, which must not reach a log line or a dead letter.
    public static func summary(of error: KafkaError) -> String {
        "\(error.operation): \(error.name) (\(error.code))\(error.isFatal ? " [fatal]" : "")"
    }
}

/// Sends records under the produce policy (``ProduceFailure``) until each one is settled, for a
/// sender whose records are its own rather than a stage's outputs for an input (the coordinator,
/// the account heat aggregator): stored, or refused for what it is (returned, for the sender to
/// dead-letter), or the sender stops (thrown).
///
/// A record that failed for a reason that passes is sent again, alone with the others that
/// failed, in their order (so what was acknowledged is not sent twice), after a wait of 100 ms
/// doubling to 5 s, for as long as it takes: a broker outage of any length is waited out, also
/// once the sender is cancelled (the waits do not end early, so nothing spins; its shutdown
/// bound closes the producer, which fails the sends, and the producer's error is thrown). One
/// failed for an unclassified reason is sent again as the caller chose (``Unclassified``). Each
/// failed send of a record is counted by its topic and class (``MetricNames/produceFailures``):
/// a broker failing records for good shows there, not only in warnings.
public struct SettlingSend: Sendable {
    /// What a failure for a reason not classified (``ProduceFailure/unclassified``, as
    /// UNKNOWN_SERVER_ERROR) means for the caller's records.
    public enum Unclassified: Sendable {
        /// Sent again from the first delay, and returned refused, for the sender to dead-letter,
        /// at the ``ProduceFailure/unclassifiedAttempts``th such failure in a row: for records a dead letter
        /// stands in for (a heat signal, a dead letter itself).
        case takenAsTheRecords
        /// Sent again as a transient failure is (100 ms doubling to 5 s, a warning at the first
        /// attempt and every tenth), for as long as it takes: for records whose dead letter would
        /// lose what cannot be got back (the coordinator's `lead.state` record, a `billing.usage`
        /// charge, the heat aggregator's changelog). A broker failing so for good holds the sender
        /// until its shutdown bound closes the producer; its failures count as `unclassified`.
        case waitedOut
    }

    /// Sends records and reports each one's outcome, in order (``KafkaProducer/sendReportingEach(_:)``).
    public typealias Send = @Sendable ([ProducerRecord]) async -> [Result<DeliveryReport, KafkaError>]

    /// How one record ended.
    public enum Settled: Sendable {
        /// Acknowledged: where the broker stored it.
        case stored(DeliveryReport)
        /// Refused for what it is (``ProduceFailure/refused``), or failed for an unclassified
        /// reason ``ProduceFailure/unclassifiedAttempts`` sends in a row (``ProduceFailure/unclassified``, under
        /// ``Unclassified/takenAsTheRecords``): the sender dead-letters it.
        case refused(KafkaError)
    }

    let send: Send
    let logger: Logger
    /// What a failure for a reason not classified means for the records.
    let unclassified: Unclassified
    /// Where each failed send of a record is counted (``MetricNames/produceFailures``, under the
    /// logger's service), if anywhere.
    let metrics: MetricsRegistry?
    /// The first wait before a record is sent again (tests make it short).
    var retryDelay = ProduceFailure.firstRetryDelay

    public init(send: @escaping Send, logger: Logger, unclassified: Unclassified, metrics: MetricsRegistry?) {
        self.send = send
        self.logger = logger
        self.unclassified = unclassified
        self.metrics = metrics
    }

    /// Sends `records` until each is settled, and returns how each one ended, in order. `first`
    /// is the outcome of their first send when the caller made it (``Delivery/results()`` of
    /// records enqueued ahead); otherwise they are sent here.
    /// - Throws: the producer's ``KafkaError`` when it is unusable (``ProduceFailure/fatal``; as
    ///   it is, so a close at the end of a shutdown's grace reads as one,
    ///   ``ShutdownDeadline/isGivingUp(_:)``), or ``StageRunnerError/topicRefuses(topic:_:)``
    ///   when a topic refuses records for what it is (``ProduceFailure/topicRefused``), left to
    ///   the process's exit line to log (it names the topic). Either way nothing the caller has not seen stored counts as stored.
    public func settle(_ records: [ProducerRecord], first: [Result<DeliveryReport, KafkaError>]? = nil) async throws -> [Settled] {
        guard !records.isEmpty else { return [] }
        var results: [Result<DeliveryReport, KafkaError>]
        if let first { results = first } else { results = await send(records) }
        var settled = [Settled?](repeating: nil, count: records.count)
        var retries = ProduceRetries(firstDelay: retryDelay, unclassifiedIsTransient: unclassified == .waitedOut)
        var unsent = Array(records.indices)
        while true {
            countFailures(results, of: unsent, in: records)
            let round = retries.classify(results, of: unsent) { settled[$0] = .stored($1) }
            if let fatal = round.fatal { throw fatal }
            if let refusal = round.topicRefusal {
                throw StageRunnerError.topicRefuses(topic: records[refusal.index].topic, refusal.error)
            }
            for (index, error) in round.refused { settled[index] = .refused(error) }
            if round.retry.isEmpty { return settled.map { $0! } }
            let (wait, _) = retries.nextWait(after: round, logger: logger,
                                             unclassified: "send failed for a reason not classified; sending again, then dead-lettering it",
                                             transient: "send failed, sending again")
            // Also once cancelled: the last writes are still made, within the shutdown's grace.
            await sleepIgnoringCancellation(for: wait)
            unsent = round.retry
            results = await send(unsent.map { records[$0] })
        }
    }

    /// Counts each failure of `results`, the outcomes of the records at `positions`, in
    /// ``MetricNames/produceFailures`` as the class it is (an unclassified failure waited out too).
    private func countFailures(_ results: [Result<DeliveryReport, KafkaError>], of positions: [Int], in records: [ProducerRecord]) {
        guard let metrics else { return }
        for (index, result) in zip(positions, results) {
            guard case .failure(let error) = result else { continue }
            let labels = ["service": logger.service, "topic": records[index].topic, "class": ProduceFailure(error).rawValue]
            metrics.counter(MetricNames.produceFailures, labels).increment()
        }
    }
}

/// What one send's results call for under the produce policy (``ProduceFailure``), records named
/// by their positions, as ``ProduceClassifier`` classes them: what ``ProduceRetries`` (records
/// sent again) and ``RepublishingRetries`` (what records stood for published again) act on.
package struct ProduceRound {
    /// The first error of an unusable producer: the sender stops.
    package var fatal: KafkaError?
    /// The first record refused for its topic: the sender stops.
    package var topicRefusal: (error: KafkaError, index: Int)?
    /// Records refused for what they are, or failed unclassified
    /// ``ProduceFailure/unclassifiedAttempts`` sends in a row, in order.
    package var refused: [(index: Int, error: KafkaError)] = []
    /// Records failed for a reason that passes, or unclassified fewer sends in a row than the
    /// bound, in order: to send again (the tracker: to publish again as they then stand).
    package var retry: [Int] = []
    /// The first transient failure, for the log line.
    package var transient: (error: KafkaError, index: Int)?
    /// Records failed unclassified and in ``retry``, with their failures in a row so far.
    package var unclassified: [(index: Int, error: KafkaError, sends: Int)] = []
}

/// Classes the results of sends under the produce policy (``ProduceFailure``), and counts each
/// record's failures for a reason not classified in a row, the record named across sends by a
/// `Key` (the stage core and ``SettlingSend``: its position among the records sent together;
/// the progress tracker: its topic and key). After each send only the counts of that send's
/// records failed so are kept: a record stored, refused, failed for a passing reason or not
/// sent starts from none again.
struct ProduceClassifier<Key: Hashable> {
    /// Per record, its failures for a reason not classified in a row, up to the last send.
    private var unclassifiedInARow: [Key: Int] = [:]
    /// Unclassified failures are classed ``ProduceFailure/transient`` (``SettlingSend/Unclassified/waitedOut``).
    private let unclassifiedIsTransient: Bool

    init(unclassifiedIsTransient: Bool = false) {
        self.unclassifiedIsTransient = unclassifiedIsTransient
    }

    /// How many records have failures counted.
    var countedKeys: Int { unclassifiedInARow.count }

    /// Classes `results`, the outcomes of the records at `positions`, each counted under
    /// `key(position)`; hands each report to `stored`. A record left out of a send loses its
    /// count (it starts from none when sent again): send every record still retried each time.
    mutating func classify(_ results: [Result<DeliveryReport, KafkaError>], of positions: [Int], countedAs key: (Int) -> Key,
                           stored: (Int, DeliveryReport) -> Void = { _, _ in }) -> ProduceRound {
        var round = ProduceRound()
        var counted: [Key: Int] = [:]
        defer { unclassifiedInARow = counted }
        for (index, result) in zip(positions, results) {
            let error: KafkaError
            switch result {
            case .success(let report):
                stored(index, report)
                continue
            case .failure(let failure): error = failure
            }
            var failure = ProduceFailure(error)
            if failure == .unclassified, unclassifiedIsTransient { failure = .transient }
            switch failure {
            case .fatal:
                round.fatal = round.fatal ?? error
            case .topicRefused:
                round.topicRefusal = round.topicRefusal ?? (error, index)
            case .refused:
                round.refused.append((index, error))
            case .transient:
                round.retry.append(index)
                round.transient = round.transient ?? (error, index)
            case .unclassified:
                let record = key(index)
                let sends = unclassifiedInARow[record, default: 0] + 1
                if sends >= ProduceFailure.unclassifiedAttempts {
                    round.refused.append((index, error))  // taken as the record's
                } else {
                    counted[record] = sends
                    round.retry.append(index)
                    round.unclassified.append((index, error, sends))
                }
            }
        }
        return round
    }
}

/// The retry state of records sent together under the produce policy (``ProduceFailure``): the
/// classification of each send (``ProduceClassifier``, records named by their positions), the
/// wait before the next send, and the attempt. Shared by the stage core's ``OutputDelivery`` and
/// ``SettlingSend``.
struct ProduceRetries {
    private var classifier: ProduceClassifier<Int>
    private let firstDelay: Duration
    private var delay: Duration
    private var attempt = 1
    /// The runs of unclassified failures in a row so far (the first one's wait went back to the first delay).
    private var unclassifiedRuns = 0

    init(firstDelay: Duration, unclassifiedIsTransient: Bool = false) {
        classifier = ProduceClassifier(unclassifiedIsTransient: unclassifiedIsTransient)
        self.firstDelay = firstDelay
        delay = firstDelay
    }

    /// Classifies `results`, the outcomes of the records at `positions`; hands each report to `stored`.
    mutating func classify(_ results: [Result<DeliveryReport, KafkaError>], of positions: [Int],
                           stored: (Int, DeliveryReport) -> Void) -> ProduceRound {
        classifier.classify(results, of: positions, countedAs: { $0 }, stored: stored)
    }

    /// The wait before `round`'s records are sent again, and whether it is for an unclassified
    /// failure; logs a warning, with the `unclassified` line at a record's first and last retry,
    /// or the `transient` line at the first attempt and every tenth. Only the records' first run
    /// of unclassified failures starts from the first delay: runs broken by passing failures (a
    /// broker whose leaders churn) wait and warn as an outage does, the wait growing and a
    /// warning at every tenth attempt.
    mutating func nextWait(after round: ProduceRound, logger: Logger, unclassified line: String, transient transientLine: String)
        -> (wait: Duration, isUnclassified: Bool) {
        defer {
            delay = min(delay * 2, ProduceFailure.maxRetryDelay)
            attempt += 1
        }
        if let unclassified = round.unclassified.first {
            // The first such failure waits from the first delay, not the one an outage before
            // it grew to 5 s: the record's sends stay within about 3 s of waits.
            if unclassified.sends == 1 {
                unclassifiedRuns += 1
                if unclassifiedRuns == 1 { delay = firstDelay }
            }
            let warns = unclassifiedRuns == 1
                ? unclassified.sends == 1 || unclassified.sends == ProduceFailure.unclassifiedAttempts - 1
                : attempt.isMultiple(of: 10)
            if warns {
                logger.warning(line, [
                    LogKey.error: ProduceFailure.summary(of: unclassified.error), "attempt": String(unclassified.sends),
                    "attempts": String(ProduceFailure.unclassifiedAttempts), "records": String(round.retry.count),
                ])
            }
            return (delay, true)
        }
        if let transient = round.transient, attempt == 1 || attempt.isMultiple(of: 10) {
            logger.warning(transientLine, [
                LogKey.error: ProduceFailure.summary(of: transient.error), "attempt": String(attempt), "records": String(round.retry.count),
            ])
        }
        return (delay, false)
    }
}

/// The produce policy for a sender that does not send a failed record again but publishes what
/// it stood for again, as it then stands, at its next round (the progress tracker: a record sent
/// again after an outage could land after a newer one of the member that took its partition
/// over). Classifies one round's results (``ProduceClassifier``), counting the rounds in a row
/// whose record failed for a reason not classified by topic and key, as each round's record of
/// a search or an account is a new one.
package struct RepublishingRetries {
    /// A record's topic and key: what is counted across rounds.
    private struct Identity: Hashable {
        let topic: String
        let key: [UInt8]?
    }

    private var classifier = ProduceClassifier<Identity>()

    package init() {}

    /// How many keys have failures counted.
    var countedKeys: Int { classifier.countedKeys }

    /// Classifies `results`, the outcomes of `records` sent in one round, records named by their
    /// positions in it; a key not in the round is forgotten.
    package mutating func classify(_ results: [Result<DeliveryReport, KafkaError>], of records: [ProducerRecord]) -> ProduceRound {
        classifier.classify(results, of: Array(records.indices)) { Identity(topic: records[$0].topic, key: records[$0].key) }
    }

    /// The wait before the next round, for `round`'s unclassified failures: the first delay,
    /// doubling with a key's rounds in a row, up to the longest; nil without one (a transient
    /// failure waits for nothing but the next poll).
    package static func wait(after round: ProduceRound) -> Duration? {
        round.unclassified.map { min(ProduceFailure.firstRetryDelay * (1 << ($0.sends - 1)), ProduceFailure.maxRetryDelay) }.max()
    }
}
