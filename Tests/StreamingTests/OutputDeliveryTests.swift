@testable import Kafka
@testable import Runtime
@testable import Streaming
import Synchronization
import XCTest

/// ``OutputDelivery`` over a send that refuses records by topic, without a broker: what becomes
/// of an input whose outputs, and then its dead letters, the broker refuses.
final class OutputDeliveryTests: XCTestCase {
    /// A send that refuses every record of a topic listed in `refusals` with that code, and
    /// acknowledges the others; it keeps the records it was given.
    final class RefusingSend: Sendable {
        let refusals: [String: Int32]
        /// How many records of each refused topic are refused; the later ones are acknowledged.
        let times: Int
        private let sent = Mutex<[ProducerRecord]>([])
        init(_ refusals: [String: Int32], times: Int = .max) {
            self.refusals = refusals
            self.times = times
        }

        var records: [ProducerRecord] { sent.withLock { $0 } }

        func callAsFunction(_ records: [ProducerRecord]) -> [Result<DeliveryReport, KafkaError>] {
            let before = sent.withLock { sent in
                defer { sent += records }
                return sent
            }
            return records.enumerated().map { index, record in
                let earlier = before.count { $0.topic == record.topic } + records[..<index].count { $0.topic == record.topic }
                if let code = refusals[record.topic], earlier < times {
                    return .failure(KafkaError(code: code, message: "refused: \(String(decoding: record.value ?? [], as: UTF8.self))",
                                               operation: "produce"))
                }
                return .success(DeliveryReport(topic: record.topic, partition: 0, offset: Int64(index)))
            }
        }
    }

    /// A send that answers the records of `topic`, one after another across sends, with the codes
    /// of `script` in turn (nil: stored), and stores the others and those past the script.
    final class ScriptedSend: Sendable {
        let topic: String
        let script: [Int32?]
        private let answered = Mutex(0)
        init(_ topic: String, _ script: [Int32?]) {
            self.topic = topic
            self.script = script
        }

        /// How many records of `topic` were sent.
        var sends: Int { answered.withLock { $0 } }

        func callAsFunction(_ records: [ProducerRecord]) -> [Result<DeliveryReport, KafkaError>] {
            records.map { record in
                let code: Int32? = record.topic != topic ? nil : answered.withLock { answered in
                    defer { answered += 1 }
                    return answered < script.count ? script[answered] : nil
                }
                guard let code else { return .success(DeliveryReport(topic: record.topic, partition: 0, offset: 0)) }
                return .failure(KafkaError(code: code, operation: "produce"))
            }
        }
    }

    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var logger: Logger { Logger(service: "test-stage", level: .warning) { [self] line in lines.withLock { $0.append(line) } } }
        var all: [String] { lines.withLock { $0 } }
    }

    private let input = ConsumerRecord(topic: "requests", partition: 3, offset: 41, key: Array("lead-1".utf8),
                                       value: Array("secret-payload".utf8))

    private func delivery(_ send: RefusingSend, _ lines: Lines) -> OutputDelivery {
        var delivery = OutputDelivery(send: { send($0) }, deadLetter: testDeadLetter(topic: "dead"), answer: nil, logger: lines.logger,
                                      abandonment: Abandonment())
        delivery.retryDelay = .milliseconds(1)
        return delivery
    }

    /// The output and both letters (with the payload, then without) refused for what they are:
    /// the input is given up, done, so its partition goes on; an error line names it, without
    /// the payload. Before: `.fatal`, so the process exited and hit the record again at restart.
    func testInputWhoseLettersAreRefusedTooIsGivenUpNotFatal() async {
        let send = RefusingSend(["out": 10 /* MSG_SIZE_TOO_LARGE */, "dead": 32 /* INVALID_TIMESTAMP */])
        let lines = Lines()
        let outcome = await delivery(send, lines).deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input, unless: Abandonment(), stoppingOn: GracefulShutdown())
        if case .fatal(let error) = outcome { XCTFail("fatal: \(error)") }
        XCTAssertTrue(outcome.isDone, "the partition goes on past the record")
        guard case .givenUp(let refusal, let letterRefusal) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(refusal.code, 10)
        XCTAssertEqual(letterRefusal.code, 32)
        XCTAssertEqual(send.records.filter { $0.topic == "dead" }.count, 2, "the letter with the payload, then without")
        let errors = lines.all.filter { $0.contains("\"error\"") && $0.contains("given up") }
        XCTAssertEqual(errors.count, 1, "\(lines.all)")
        for field in ["\"topic\":\"requests\"", "\"partition\":3", "\"offset\":41", "MSG_SIZE_TOO_LARGE", "INVALID_TIMESTAMP"] {
            XCTAssertTrue(errors.first?.contains(field) ?? false, "\(field) in \(errors)")
        }
        XCTAssertFalse(lines.all.contains { $0.contains("secret-payload") }, "no payload in the log: \(lines.all)")
    }

    /// A letter refused because the producer is unusable still stops the runner: that is not
    /// the record's doing, and a new producer can write it.
    func testLetterRefusedByAnUnusableProducerIsFatal() async {
        let send = RefusingSend(["out": 10, "dead": -150 /* _FATAL */])
        let outcome = await delivery(send, Lines()).deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input, unless: Abandonment(), stoppingOn: GracefulShutdown())
        guard case .fatal(.producerUnusable(let error)) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(error.code, -150)
        XCTAssertFalse(outcome.isDone)
    }

    /// Letters refused for their topic (a dead-letter topic misnamed, or without the partition
    /// asked for) would be refused for every input: the delivery is fatal, not given up, so no
    /// refused input is dropped while the topic is wrong. Before: given up, record after record.
    func testLettersRefusedForTheirTopicAreFatalNotGivenUp() async {
        for code: Int32 in [17 /* TOPIC_EXCEPTION */, -190 /* _UNKNOWN_PARTITION */] {
            let send = RefusingSend(["out": 10 /* MSG_SIZE_TOO_LARGE */, "dead": code])
            let outcome = await delivery(send, Lines()).deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                                                unless: Abandonment(), stoppingOn: GracefulShutdown())
            guard case .fatal(.topicRefuses(let topic, let error)) = outcome else { return XCTFail("\(code): \(outcome)") }
            XCTAssertEqual(error.code, code)
            XCTAssertEqual(topic, "dead")
        }
    }

    /// An output refused for its topic (a misnamed output topic, TOPIC_EXCEPTION, or a partition
    /// the topic lacks, as a backlog topic with fewer partitions than the input) would be refused
    /// for every input: the delivery is fatal, naming the topic, and the input not done (not
    /// committed: redone once the configuration is fixed); no letter and no answer is sent.
    /// Before: the input was dead-lettered and answered failed, record after record.
    func testAnOutputRefusedForItsTopicIsFatalNotDeadLettered() async {
        for code: Int32 in [17 /* TOPIC_EXCEPTION */, -190 /* _UNKNOWN_PARTITION */] {
            let send = RefusingSend(["out": code])
            let lines = Lines()
            var delivery = delivery(send, lines)
            delivery.answer = { input, reason in ProducerRecord(topic: "results", key: input.key, value: Array(reason.utf8)) }
            let outcome = await delivery.deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input, unless: Abandonment(), stoppingOn: GracefulShutdown())
            XCTAssertFalse(outcome.isDone, "\(code): the input is not committed")
            guard case .fatal(.topicRefuses(let topic, let error)) = outcome else { return XCTFail("\(code): \(outcome)") }
            XCTAssertEqual(topic, "out")
            XCTAssertEqual(error.code, code)
            XCTAssertEqual(send.records.map(\.topic), ["out"], "\(code): no dead letter and no answer")
            XCTAssertTrue(lines.all.contains { $0.contains("\"error\"") && $0.contains("refuses") && $0.contains("\"out\"") }, "\(lines.all)")
        }
    }

    /// An output failed with a code neither retriable nor known as the record's
    /// (UNKNOWN_SERVER_ERROR) is sent again a bounded number of times, then taken as the record's:
    /// its input is dead-lettered with the reason and done. Before: `.fatal`, so a broker answering
    /// one record so had the stage restart, read the record again and fail again, for ever.
    func testAnUnclassifiedErrorIsRetriedThenDeadLettered() async {
        let send = RefusingSend(["out": -1 /* UNKNOWN (UNKNOWN_SERVER_ERROR) */])
        let outcome = await delivery(send, Lines()).deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                                            unless: Abandonment(), stoppingOn: GracefulShutdown())
        guard case .deadLettered(let error, let letter, _) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(error.code, -1)
        XCTAssertTrue(String(decoding: letter.value ?? [], as: UTF8.self).contains("UNKNOWN"), "the reason names the error")
        XCTAssertEqual(send.records.count { $0.topic == "out" }, ProduceFailure.unclassifiedAttempts)
        XCTAssertTrue(outcome.isDone)
    }

    /// An unclassified failure that passes when the record is sent again is delivered, as a
    /// transient one is. Before: `.fatal` at the first failure.
    func testAnUnclassifiedErrorThatPassesIsDelivered() async {
        let send = RefusingSend(["out": -1], times: 2)
        let outcome = await delivery(send, Lines()).deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                                            unless: Abandonment(), stoppingOn: GracefulShutdown())
        guard case .delivered = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(send.records.map(\.topic), ["out", "out", "out"])
    }

    /// When the dead letter fails with an unclassified code too, after its own retries, the
    /// broker may be failing every write so (UNKNOWN_SERVER_ERROR to all): the delivery is fatal,
    /// naming the dead-letter topic, and the input not done (redone after the restart), no
    /// letter without the payload tried. Before: given up, committed with neither output nor
    /// letter, input after input.
    func testAnInputWhoseLettersFailUnclassifiedTooIsFatalNotGivenUp() async {
        let send = RefusingSend(["out": -1, "dead": -1])
        let outcome = await delivery(send, Lines()).deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                                            unless: Abandonment(), stoppingOn: GracefulShutdown())
        XCTAssertFalse(outcome.isDone, "the input is not committed")
        guard case .fatal(.deadLettersFail(let topic, let error)) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(topic, "dead")
        XCTAssertEqual(error.code, -1)
        XCTAssertEqual(send.records.count { $0.topic == "dead" }, ProduceFailure.unclassifiedAttempts, "the first letter, retried")
    }

    /// A topic or broker refusing what the records are written as (a record format without
    /// headers, UNSUPPORTED_FOR_MESSAGE_FORMAT (43); a compression type, UNSUPPORTED_COMPRESSION_TYPE
    /// (76); the produce request's version, UNSUPPORTED_VERSION (35)) refuses every record alike:
    /// an output or a letter refused so stops the stage at once, naming the topic, the input not
    /// done. Before: unclassified, so each output was sent six times, then its input
    /// dead-lettered, or given up when the letters failed so too.
    func testAnOutputOrLetterRefusedForItsFormatOrVersionStopsTheStage() async {
        for code: Int32 in [43, 76, 35] {
            let send = RefusingSend(["out": code])
            let outcome = await delivery(send, Lines()).deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                                                unless: Abandonment(), stoppingOn: GracefulShutdown())
            XCTAssertFalse(outcome.isDone, "\(code): the input is not committed")
            guard case .fatal(.topicRefuses(let topic, let error)) = outcome else { XCTFail("\(code): \(outcome)"); continue }
            XCTAssertEqual(topic, "out")
            XCTAssertEqual(error.code, code)
            XCTAssertEqual(send.records.map(\.topic), ["out"], "\(code): sent once, no letter")

            let letters = RefusingSend(["out": 10 /* MSG_SIZE_TOO_LARGE */, "dead": code])
            let lettered = await delivery(letters, Lines()).deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                                                    unless: Abandonment(), stoppingOn: GracefulShutdown())
            guard case .fatal(.topicRefuses(let deadTopic, _)) = lettered else { XCTFail("\(code): \(lettered)"); continue }
            XCTAssertEqual(deadTopic, "dead")
        }
    }

    /// Only an output's failures for a reason not classified in a row dead-letter its input: one
    /// failed so three times, then for a passing reason (the broker away), then so five times is
    /// delivered at the next send. Before, the count ran on across the outage, and the input was
    /// dead-lettered at the third failure after it.
    func testOnlyUnclassifiedFailuresInARowDeadLetterTheInput() async {
        let outage: [Int32?] = [-1, -1, -1, -185 /* _TIMED_OUT */]
        let send = ScriptedSend("out", outage + Array(repeating: -1, count: ProduceFailure.unclassifiedAttempts - 1))
        var delivery = OutputDelivery(send: { send($0) }, deadLetter: testDeadLetter(topic: "dead"), answer: nil, logger: Lines().logger,
                                      abandonment: Abandonment())
        delivery.retryDelay = .milliseconds(1)
        let outcome = await delivery.deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                             unless: Abandonment(), stoppingOn: GracefulShutdown())
        XCTAssertEqual(send.sends, outage.count + ProduceFailure.unclassifiedAttempts, "stored at the sixth send after the outage")
        guard case .delivered = outcome else { return XCTFail("\(outcome)") }
    }

    /// An output that waited out an outage (its backoff grown to its 5 s bound) and then fails
    /// unclassified is retried from the first delay again, so its six sends take about 3 s, not
    /// 25 s (past finalize's 30 s attempt timeout with the letter's); the warning is logged at
    /// the first and the last retry only. Before: the outage's 5 s delays, a warning each retry.
    func testAnUnclassifiedFailureAfterAnOutageIsRetriedFromTheFirstDelay() async {
        let sends = Mutex<[ContinuousClock.Instant]>([])
        let outage = 8  // transient failures: the delay grows to 128 x 20 ms, 2.56 s
        let lines = Lines()
        var delivery = OutputDelivery(send: { records in
            guard records.first?.topic == "out" else { return records.map { .success(DeliveryReport(topic: $0.topic, partition: 0, offset: 0)) } }
            let count = sends.withLock { sends in
                sends.append(.now)
                return sends.count
            }
            let code: Int32 = count <= outage ? -185 /* _TIMED_OUT */ : -1 /* UNKNOWN */
            return records.map { _ in .failure(KafkaError(code: code, operation: "produce")) }
        }, deadLetter: testDeadLetter(topic: "dead"), answer: nil, logger: lines.logger, abandonment: Abandonment())
        delivery.retryDelay = .milliseconds(20)
        _ = await delivery.deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                   unless: Abandonment(), stoppingOn: GracefulShutdown())
        let times = sends.withLock { $0 }
        XCTAssertEqual(times.count, outage + ProduceFailure.unclassifiedAttempts)
        let unclassified = times[outage + ProduceFailure.unclassifiedAttempts - 1] - times[outage]
        // From 20 ms: 20 + 40 + 80 + 160 + 320 = 620 ms; from the outage's delay: over 20 s.
        XCTAssertLessThan(unclassified, .seconds(2), "the unclassified retries' waits")
        let warnings = lines.all.filter { $0.contains("not classified") }
        XCTAssertEqual(warnings.count, 2, "the first and the last retry: \(warnings)")
    }

    /// The input's stop (its partition revoked, the process stopping) ends the wait before an
    /// unclassified failure is sent again, and the input is handed back, not dead-lettered: its
    /// next owner sends it again. (The wait here is a minute: a test that waits it out fails.)
    func testTheStopEndsTheWaitBeforeAnUnclassifiedFailureIsRetried() async {
        let stop = GracefulShutdown()
        let send = RefusingSend(["out": -1])
        var delivery = OutputDelivery(send: { records in
            stop.begin()  // the partition is revoked while the record is sent
            return send(records)
        }, deadLetter: testDeadLetter(topic: "dead"), answer: nil, logger: Lines().logger, abandonment: Abandonment())
        delivery.retryDelay = .seconds(60)
        let started = ContinuousClock.now
        let outcome = await delivery.deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                             unless: Abandonment(), stoppingOn: stop)
        guard case .handedBack = outcome else { return XCTFail("\(outcome)") }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(30), "the wait was not cut short")
        XCTAssertEqual(send.records.map(\.topic), ["out"], "sent once, no letter")
    }

    /// An unclassified code from a producer whose instance hit a fatal error is fatal: a new
    /// producer is what mends it, and its records are not the cause.
    func testAnUnclassifiedCodeOfAFatalProducerIsFatal() async {
        let delivery = OutputDelivery(send: { records in
            records.map { _ in .failure(KafkaError(code: 45 /* OUT_OF_ORDER_SEQUENCE_NUMBER */, isFatal: true, operation: "produce")) }
        }, deadLetter: testDeadLetter(topic: "dead"), answer: nil, logger: Lines().logger, abandonment: Abandonment())
        let outcome = await delivery.deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input,
                                             unless: Abandonment(), stoppingOn: GracefulShutdown())
        guard case .fatal(.producerUnusable(let error)) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(error.code, 45)
    }

    /// An output refused by a broker policy (POLICY_VIOLATION) dead-letters its input; before,
    /// the code was not known as the record's, so the outcome was `.fatal`.
    func testOutputRefusedByPolicyIsDeadLettered() async {
        let send = RefusingSend(["out": 44 /* POLICY_VIOLATION */])
        let outcome = await delivery(send, Lines()).deliver([ProducerRecord(topic: "out", key: "lead-1", value: [1])], for: input, unless: Abandonment(), stoppingOn: GracefulShutdown())
        guard case .deadLettered(let error, let letter, _) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(error.code, 44)
        XCTAssertEqual(letter.topic, "dead")
    }
}

/// The steps of one input's outputs (``RecordOutputs/next``).
final class OutputStepsDeliveryTests: XCTestCase {
    private let input = ConsumerRecord(topic: "requests", partition: 0, offset: 5, key: Array("lead-1".utf8), value: [1])

    /// A later step that hands the input back leaves it undone (uncommitted: the partition's
    /// next owner redoes it), with the first step's records written. Before: the hand-back was
    /// sent as no records, `.delivered([])`, and the input was committed without its outputs.
    func testALaterStepHandingBackLeavesTheInputUndone() async {
        let send = OutputDeliveryTests.RefusingSend([:])
        let delivery = OutputDelivery(send: { send($0) }, deadLetter: testDeadLetter(topic: "dead"), answer: nil,
                                      logger: OutputDeliveryTests.Lines().logger, abandonment: Abandonment())
        let first = ProducerRecord(topic: "out", key: "lead-1", value: [1])
        let (outcome, written) = await delivery.deliver(
            steps: RecordOutputs([first], next: { _ in .handedBack }), for: input, unless: Abandonment(), stoppingOn: GracefulShutdown())
        guard case .handedBack = outcome else { return XCTFail("\(outcome)") }
        XCTAssertFalse(outcome.isDone)
        XCTAssertEqual(written.map(\.topic), ["out"])
        XCTAssertEqual(send.records.map(\.topic), ["out"])
    }

    /// An input whose output was refused and whose dead letter is in, but whose answer then
    /// stops the runner (its topic refuses records for what it is) or is handed back (the
    /// runner abandoned it), is not done, and its letter is among the records written: the
    /// runner counts what is written by topic and the letters by kind (``StageRunnerMetrics``).
    /// Before: written held nothing, so the letter in `dead.letters` was never counted.
    func testALetterInBeforeTheAnswerTurnsFatalOrHandedBackIsWritten() async {
        let input = input
        func deliver(answerRefusal: Int32?, abandoningAtTheAnswer: Bool) async -> (DeliveryOutcome, written: [ProducerRecord]) {
            let abandonment = Abandonment()
            var refusals: [String: Int32] = ["out": 10 /* MSG_SIZE_TOO_LARGE */]
            refusals["answers"] = answerRefusal
            let send = OutputDeliveryTests.RefusingSend(refusals)
            let delivery = OutputDelivery(send: { records in
                if abandoningAtTheAnswer, records.contains(where: { $0.topic == "dead" }) { abandonment.raise() }
                return send(records)
            }, deadLetter: testDeadLetter(topic: "dead"), answer: { input, _ in
                ProducerRecord(topic: "answers", key: input.key, value: [0])
            }, logger: OutputDeliveryTests.Lines().logger, abandonment: Abandonment())
            return await delivery.deliver(steps: RecordOutputs([ProducerRecord(topic: "out", key: "lead-1", value: [1])], next: nil),
                                          for: input, unless: abandonment, stoppingOn: GracefulShutdown())
        }
        let (refused, refusedWritten) = await deliver(answerRefusal: -190 /* _UNKNOWN_PARTITION */, abandoningAtTheAnswer: false)
        guard case .fatal(.topicRefuses(topic: "answers", _)) = refused else { return XCTFail("\(refused)") }
        XCTAssertEqual(refusedWritten.map(\.topic), ["dead"], "the letter is in")
        let (handedBack, handedBackWritten) = await deliver(answerRefusal: nil, abandoningAtTheAnswer: true)
        guard case .handedBack = handedBack else { return XCTFail("\(handedBack)") }
        XCTAssertEqual(handedBackWritten.map(\.topic), ["dead"], "the letter is in")
    }

    /// Steps that all deliver end delivered, with every step's records written.
    func testStepsAreSentInTurn() async {
        let send = OutputDeliveryTests.RefusingSend([:])
        let delivery = OutputDelivery(send: { send($0) }, deadLetter: testDeadLetter(topic: "dead"), answer: nil,
                                      logger: OutputDeliveryTests.Lines().logger, abandonment: Abandonment())
        let (outcome, written) = await delivery.deliver(steps: RecordOutputs(
            [ProducerRecord(topic: "entry", key: "lead-1", value: [1])],
            afterward: { reports in [ProducerRecord(topic: "result", key: "lead-1", value: [UInt8(reports.count)])] }), for: input, unless: Abandonment(), stoppingOn: GracefulShutdown())
        guard case .delivered = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(written.map(\.topic), ["entry", "result"])
    }
}
