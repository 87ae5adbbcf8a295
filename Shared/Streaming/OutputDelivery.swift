import Kafka
import Runtime
import Synchronization

/// Makes the dead-letter record for an input record with the reason it could not be handled.
/// The runner passes the input with its payload first; when that letter is refused too, it passes
/// a copy without the payload (and without a key longer than 1 KiB) and says so in the reason.
public typealias DeadLetterMaker = @Sendable (_ input: ConsumerRecord, _ reason: String) -> ProducerRecord

/// Makes the record that answers an input dead-lettered for `reason` (a stage's failed result to
/// a request), sent once the letter is in; nil when the input gets no answer.
public typealias DeadLetterAnswerMaker = @Sendable (_ input: ConsumerRecord, _ reason: String) -> ProducerRecord?

/// How the outputs of one input record ended.
enum DeliveryOutcome: Sendable {
    /// Every output was acknowledged; their delivery reports, in order.
    case delivered([DeliveryReport])
    /// An output was refused for good; the input's dead letter, `letter`, is acknowledged instead,
    /// and so is its `answer` when there is one and the broker took it.
    case deadLettered(KafkaError, letter: ProducerRecord, answer: ProducerRecord?)
    /// An output was refused for good, and so were the input's dead letters, with and without
    /// its payload, for what they are (`letterRefusal`, ``ProduceFailure/refused``): nothing of
    /// the record can be stored. It is logged (never its payload), counted, and done, so its
    /// partition goes on: a record must not stop it, nor make the process exit at every restart.
    case givenUp(KafkaError, letterRefusal: KafkaError)
    /// The runner stopped waiting (its drain timed out, or the revocation of the input's
    /// partition completed without it: ``Abandonment``), or the handler handed the input back
    /// (``RecordOutputs/handedBack``, in its first step or a later one): the input stays uncommitted.
    case handedBack
    /// The producer is unusable, or a topic the input's records go to (an output's, the dead
    /// letters', the answer's) refuses records for what it is (``Kafka/KafkaError/isTopicRefusal``):
    /// every input would fail the same way. The input stays uncommitted and the runner must stop.
    case fatal(StageRunnerError)

    /// Whether the input's offset may be committed.
    var isDone: Bool {
        switch self {
        case .delivered, .deadLettered, .givenUp: true
        case .handedBack, .fatal: false
        }
    }
}

/// Given up on by the run loop, for the records in flight it stands for: the runner's (raised
/// when the drain stops waiting) or a partition's assignment's (raised when the partition's
/// revocation completes with records of it in flight, its wait timed out, or the partition is
/// lost). Those records are handed back; the partition's next owner runs them.
final class Abandonment: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Whether it was raised.
    var isRaised: Bool { flag.load(ordering: .acquiring) }

    /// Raises it; for good.
    func raise() { flag.store(true, ordering: .releasing) }
}

/// Sends the outputs of one input record until they are settled: acknowledged, or replaced by
/// the input's dead letter, or, when even the letter without the payload is refused for what it
/// is, given up (logged with the input's topic, partition and offset, and done); or left undone
/// because the producer is unusable, because a topic refuses records for what it is (misnamed, or
/// without the partition asked for: every input would fail so; the runner stops, naming it), or
/// because the runner or the input's partition gave up on the input (``Abandonment``).
///
/// Transient failures are retried with a backoff (100 ms doubling to 5 s), re-sending only the
/// records that were not acknowledged, for as long as it takes: a broker outage of any length is
/// waited out and no output is dropped. Unclassified failures (``ProduceFailure/unclassified``)
/// are retried so too, then taken as the record's at its ``ProduceFailure/unclassifiedAttempts``th
/// such failure in a row (a passing failure between starts the count again): dead letter (a letter failing so too stops the runner, the input uncommitted: a
/// broker failing every write must not have inputs given up); a wait before such a retry ends
/// on the input's stop (its partition revoked, the process stopping) and hands the input back.
/// Nothing is sent, nor sent again, for an input given up on: its next owner writes the outputs.
struct OutputDelivery: Sendable {
    /// Sends records and reports each one's outcome, in order (``KafkaProducer/sendReportingEach(_:)``).
    typealias Send = @Sendable ([ProducerRecord]) async -> [Result<DeliveryReport, KafkaError>]

    let send: Send
    let deadLetter: DeadLetterMaker
    var answer: DeadLetterAnswerMaker?
    let logger: Logger
    /// Raised when the runner no longer waits for in-flight records (its drain timed out).
    let abandonment: Abandonment

    /// The first wait before a retry; each later one doubles, up to 5 s.
    var retryDelay = ProduceFailure.firstRetryDelay

    /// Keys of dead letters without the payload are dropped above this size too.
    static let maxKeptKeyBytes = 1024

    /// Sends the steps of `outputs` in turn (``RecordOutputs``), each once the one before it is
    /// acknowledged, unless `inputAbandonment` or the runner's is raised first; returns how they
    /// ended and the records written: those of the steps acknowledged, and the input's dead
    /// letter when it was acknowledged but the answer's send then stopped the runner or handed
    /// the input back (a `.deadLettered` outcome carries its letter and answer itself). A step that
    /// hands the input back, the first or a later one, ends them `.handedBack`: the input is not
    /// done, whatever the steps before it wrote. `stop` is the input's (``StagedRecordHandler``):
    /// it ends the waits before an unclassified failure is retried.
    func deliver(steps outputs: RecordOutputs, for input: ConsumerRecord, unless inputAbandonment: Abandonment,
                 stoppingOn stop: GracefulShutdown) async -> (DeliveryOutcome, written: [ProducerRecord]) {
        var step = outputs
        var written: [ProducerRecord] = []
        while true {
            guard !step.isHandedBack else { return (.handedBack, written) }
            let (outcome, letterIn) = await deliverReportingLetter(step.records, for: input, unless: inputAbandonment, stoppingOn: stop)
            guard case .delivered(let reports) = outcome else { return (outcome, written + (letterIn.map { [$0] } ?? [])) }
            written += step.records
            guard let next = step.next else { return (outcome, written) }
            step = next(reports)
        }
    }

    /// Sends `outputs`, then what a refusal calls for, unless the runner's ``abandonment`` or
    /// `inputAbandonment` (its partition's) is raised first: checked before each send and each
    /// retry. A wait before an unclassified failure is retried ends when `stop` begins, and
    /// the input is handed back.
    func deliver(_ outputs: [ProducerRecord], for input: ConsumerRecord, unless inputAbandonment: Abandonment,
                 stoppingOn stop: GracefulShutdown) async -> DeliveryOutcome {
        await deliverReportingLetter(outputs, for: input, unless: inputAbandonment, stoppingOn: stop).outcome
    }

    /// ``deliver(_:for:unless:stoppingOn:)``, with the input's dead letter when it is in but the
    /// outcome is not `.deadLettered`: the answer's send stopped the runner or handed the input
    /// back. The letter is written all the same, and counted with what is.
    private func deliverReportingLetter(_ outputs: [ProducerRecord], for input: ConsumerRecord, unless inputAbandonment: Abandonment,
                                        stoppingOn stop: GracefulShutdown) async -> (outcome: DeliveryOutcome, letterIn: ProducerRecord?) {
        let isGivenUp = { @Sendable [abandonment] in abandonment.isRaised || inputAbandonment.isRaised }
        func sendUntilSettled(_ records: [ProducerRecord]) async -> Settled {
            await self.sendUntilSettled(records, unless: isGivenUp, stoppingOn: stop)
        }
        let refusal: KafkaError
        let reason: String
        switch await sendUntilSettled(outputs) {
        case .delivered(let reports): return (.delivered(reports), nil)
        case .handedBack: return (.handedBack, nil)
        case .fatal(let error): return (.fatal(.producerUnusable(error)), nil)
        case .refused(let error, let topic) where error.isTopicRefusal:
            // Misnamed, or without the partition asked for: every input's output would be refused
            // so, and dead-lettering them all would fail every lead's phase until it is fixed.
            return (stopping(for: topic, error, input, what: "output"), nil)
        case .refused(let error, let topic):
            refusal = error
            reason = "output to \(topic) refused: \(ProduceFailure.summary(of: error))"
        }
        logger.error("output refused; dead-lettering the input", fields(input, refusal))
        var letters = [deadLetter(input, reason)]
        if input.value != nil || (input.key?.count ?? 0) > Self.maxKeptKeyBytes {
            let (withheld, note) = Self.withholdingPayload(input)
            letters.append(deadLetter(withheld, reason + "; " + note))
        }
        var lastRefusal = refusal
        for letter in letters {
            switch await sendUntilSettled([letter]) {
            case .delivered:
                guard let answer = answer?(input, reason) else { return (.deadLettered(refusal, letter: letter, answer: nil), nil) }
                switch await sendUntilSettled([answer]) {
                case .delivered: return (.deadLettered(refusal, letter: letter, answer: answer), nil)
                // The letter is in, and is written again when the input is redone (letters are at least once).
                case .handedBack: return (.handedBack, letter)
                case .fatal(let error): return (.fatal(.producerUnusable(error)), letter)
                case .refused(let error, let topic) where error.isTopicRefusal:
                    // Every answer would be refused so: stop until it is fixed.
                    return (stopping(for: topic, error, input, what: "answer"), letter)
                case .refused(let error, _):
                    // The letter is in: the input's sender waits for an answer as if there were none.
                    logger.warning("the answer to a dead-lettered input refused", fields(input, error))
                    return (.deadLettered(refusal, letter: letter, answer: nil), nil)
                }
            case .handedBack: return (.handedBack, nil)
            case .fatal(let error): return (.fatal(.producerUnusable(error)), nil)
            case .refused(let error, let topic) where error.isTopicRefusal:
                // The dead-letter topic refuses letters for what it is (its name, its partitions):
                // every refused input would be given up, so stop (an operator sees the exits and
                // the error).
                return (stopping(for: topic, error, input, what: "dead-letter"), nil)
            case .refused(let error, let topic) where !error.isRecordRejected:
                // Failed unclassified after its retries, as the output may have been: the broker
                // may be failing every write so, and giving the input up would commit it with
                // nothing stored. Stop, the input uncommitted: the restart redoes it.
                var given = fields(input, error)
                given["outputTopic"] = topic
                logger.error("dead letter failed for a reason not classified: stopping, the input uncommitted", given)
                return (.fatal(.deadLettersFail(topic: topic, error)), nil)
            case .refused(let error, _):
                logger.warning("dead letter refused", fields(input, error))
                lastRefusal = error
            }
        }
        // Not even a letter without the payload is accepted, for what it is (a refusal of the
        // producer, of the topic, or an unclassified failure is fatal above): a restart would meet the same record and fail the same way,
        // stopping its partition for good. Log it where an operator finds it, and go on.
        var given = fields(input, refusal)
        given[LogKey.error] = "\(ProduceFailure.summary(of: refusal)); dead letters: \(ProduceFailure.summary(of: lastRefusal))"
        logger.error("output and dead letters refused; input given up", given)
        return (.givenUp(refusal, letterRefusal: lastRefusal), nil)
    }

    /// The outcome for records refused for their `topic` (``Kafka/KafkaError/isTopicRefusal``):
    /// fatal, with an error line naming the topic. The input is not done, so it is redone once
    /// the topic is fixed.
    private func stopping(for topic: String, _ error: KafkaError, _ input: ConsumerRecord, what: String) -> DeliveryOutcome {
        var given = fields(input, error)
        given["outputTopic"] = topic
        logger.error("\(what) topic \(topic) refuses records for what it is (misnamed, without the partition asked for, or not taking their format): stopping", given)
        return .fatal(.topicRefuses(topic: topic, error))
    }

    private enum Settled {
        case delivered([DeliveryReport])
        case handedBack
        case refused(KafkaError, topic: String)
        case fatal(KafkaError)
    }

    private func sendUntilSettled(_ records: [ProducerRecord], unless isGivenUp: @Sendable () -> Bool,
                                  stoppingOn stop: GracefulShutdown) async -> Settled {
        if isGivenUp() { return .handedBack }
        var results = await send(records)
        // Most sends are acknowledged whole at the first attempt: their reports as they are,
        // without the bookkeeping of a retry (three arrays a send).
        var acknowledged: [DeliveryReport] = []
        acknowledged.reserveCapacity(results.count)
        for result in results {
            guard case .success(let report) = result else { break }
            acknowledged.append(report)
        }
        if acknowledged.count == records.count { return .delivered(acknowledged) }
        var unsent = Array(records.indices)
        var reports = [DeliveryReport?](repeating: nil, count: records.count)
        var retries = ProduceRetries(firstDelay: retryDelay)
        while true {
            let round = retries.classify(results, of: unsent) { reports[$0] = $1 }
            if let fatal = round.fatal { return .fatal(fatal) }
            // A topic refusal refuses every record sent there: it stops the stage, before any record's refusal.
            if let refusal = round.topicRefusal ?? round.refused.first.map({ (error: $0.error, index: $0.index) }) {
                return .refused(refusal.error, topic: records[refusal.index].topic)
            }
            if round.retry.isEmpty { return .delivered(reports.compactMap { $0 }) }
            if isGivenUp() { return .handedBack }
            let (delay, isUnclassified) = retries.nextWait(
                after: round, logger: logger, unclassified: "output failed for a reason not classified; retrying, then dead-lettering its input",
                transient: "output not acknowledged yet; retrying")
            if isUnclassified {
                // Not on the way out: the stop (the partition revoked, the process stopping)
                // hands the input back, and its next owner sends it again with attempts anew.
                guard await stop.sleep(for: delay) else { return .handedBack }
            } else {
                await sleepIgnoringCancellation(for: delay)
            }
            unsent = round.retry
            results = await send(unsent.map { records[$0] })
        }
    }

    /// A copy of `input` without its value (and without a key over ``maxKeptKeyBytes``), and the
    /// note that says what was left out: sizes and a 64-bit FNV-1a hash of the value.
    static func withholdingPayload(_ input: ConsumerRecord) -> (ConsumerRecord, String) {
        var copy = input
        copy.value = nil
        var note = "payload withheld: \(input.value?.count ?? 0) bytes, fnv1a64 \(hexHash(input.value ?? []))"
        if let key = input.key, key.count > maxKeptKeyBytes {
            copy.key = nil
            note += "; key withheld: \(key.count) bytes, fnv1a64 \(hexHash(key))"
        }
        return (copy, note)
    }

    /// 64-bit FNV-1a, as 16 hex digits: identifies a withheld payload, not a security hash.
    static func hexHash(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private func fields(_ input: ConsumerRecord, _ error: KafkaError) -> [String: String] {
        [LogKey.topic: input.topic, LogKey.partition: String(input.partition), LogKey.offset: String(input.offset),
         LogKey.error: ProduceFailure.summary(of: error)]
    }
}
