@testable import Kafka
@testable import Runtime
@testable import Streaming
import Synchronization
import XCTest

/// The produce policy every sender follows (``ProduceFailure``), and ``SettlingSend``, the
/// coordinator's and the heat aggregator's way of following it, over a send that refuses records
/// by topic, without a broker.
final class ProducePolicyTests: XCTestCase {
    typealias RefusingSend = OutputDeliveryTests.RefusingSend

    private func failure(_ code: Int32, fatal: Bool = false) -> ProduceFailure {
        ProduceFailure(KafkaError(code: code, isFatal: fatal, operation: "produce"))
    }

    /// Fails every record unclassified (UNKNOWN_SERVER_ERROR) until closed, then as a closed producer does.
    final class ClosingSend: Sendable {
        private let state = Mutex<(sends: Int, isClosed: Bool)>((0, false))
        var sends: Int { state.withLock { $0.sends } }
        func close() { state.withLock { $0.isClosed = true } }

        func callAsFunction(_ records: [ProducerRecord]) -> [Result<DeliveryReport, KafkaError>] {
            let code: Int32 = state.withLock { state in
                state.sends += 1
                return state.isClosed ? -197 /* _DESTROY */ : -1
            }
            return records.map { _ in .failure(KafkaError(code: code, operation: "produce")) }
        }
    }

    private func sending(_ send: RefusingSend, _ lines: OutputDeliveryTests.Lines = .init()) -> SettlingSend {
        var sending = SettlingSend(send: { send($0) }, logger: lines.logger, unclassified: .takenAsTheRecords, metrics: nil)
        sending.retryDelay = .milliseconds(1)
        return sending
    }

    /// A SettlingSend for records that cannot be dead-lettered without loss.
    private func waitingOut(_ send: RefusingSend, _ lines: OutputDeliveryTests.Lines) -> SettlingSend {
        var sending = SettlingSend(send: { send($0) }, logger: lines.logger, unclassified: .waitedOut, metrics: nil)
        sending.retryDelay = .milliseconds(1)
        return sending
    }

    private func records(_ topics: String...) -> [ProducerRecord] {
        topics.enumerated().map { ProducerRecord(topic: $0.element, key: "k\($0.offset)", value: Array("v\($0.offset)".utf8)) }
    }

    // MARK: - Classification

    /// A refusal for the topic (misnamed, a partition it lacks, a format, compression or version
    /// it does not take) is a class of its own, which every sender stops on; a fatal producer
    /// stays fatal whatever its code.
    func testTopicRefusalsAreTheirOwnClass() {
        for code: Int32 in [17 /* TOPIC_EXCEPTION */, -190 /* _UNKNOWN_PARTITION */, 43, 76, 35] {
            XCTAssertEqual(failure(code), .topicRefused, "\(code)")
        }
        XCTAssertEqual(failure(17, fatal: true), .fatal)
    }

    /// INVALID_PRODUCER_EPOCH on a record of an idempotent producer that is not transactional:
    /// librdkafka failed the batch not stored and bumped the epoch itself, so the record is sent
    /// again by the same producer, rather than the process restarting and redoing its inputs.
    /// Before: `.fatal`. When librdkafka raised a fatal error for it, it is fatal still.
    func testAnEpochTheProducerBumpsItselfIsWaitedOut() {
        XCTAssertEqual(failure(47), .transient, "INVALID_PRODUCER_EPOCH")
        XCTAssertEqual(failure(47, fatal: true), .fatal, "with the producer's fatal error raised")
        XCTAssertEqual(failure(45), .fatal, "OUT_OF_ORDER_SEQUENCE_NUMBER: librdkafka recovers what it can itself")
        XCTAssertEqual(failure(2), .refused, "CORRUPT_MESSAGE, when librdkafka reports it at all (it retries it itself)")
    }

    // MARK: - SettlingSend

    /// A record refused for its topic stops the sender, naming the topic, with nothing returned
    /// to dead-letter: a coordinator's `lead.state` record dead-lettered would be a lead lost.
    /// Before, the coordinator dead-lettered records refused so (TOPIC_EXCEPTION,
    /// _UNKNOWN_PARTITION) and retried 43/76/35 for ever, and the heat aggregator dead-lettered them.
    func testARecordRefusedForItsTopicStopsTheSender() async {
        for code: Int32 in [17, -190, 43, 76, 35] {
            let send = RefusingSend(["state": code])
            let lines = OutputDeliveryTests.Lines()
            do {
                let settled = try await sending(send, lines).settle(records("requests", "state"))
                XCTFail("\(code): went on: \(settled)")
            } catch StageRunnerError.topicRefuses(let topic, let error) {
                XCTAssertEqual(topic, "state")
                XCTAssertEqual(error.code, code)
            } catch {
                XCTFail("\(code): \(error)")
            }
            XCTAssertEqual(send.records.count { $0.topic == "state" }, 1, "\(code): sent again")
            // The process's exit line names the refusal; the sender logs none of its own.
            XCTAssertFalse(lines.all.contains { $0.contains("refuses") }, "\(code): logged twice: \(lines.all)")
        }
    }

    /// An unusable producer, or a principal refused, stops the sender with the producer's own
    /// error (a close at the end of a shutdown's grace reads as such). Before, the coordinator
    /// sent records failed for an ACL or its producer's state again for ever.
    func testAnUnusableProducerOrARefusedPrincipalStopsTheSender() async {
        for code: Int32 in [-150 /* _FATAL */, 29 /* TOPIC_AUTHORIZATION_FAILED */, 58 /* SASL_AUTHENTICATION_FAILED */,
                            90 /* PRODUCER_FENCED */, -197 /* _DESTROY */] {
            do {
                _ = try await sending(RefusingSend(["state": code])).settle(records("state"))
                XCTFail("\(code): went on")
            } catch let error as KafkaError {
                XCTAssertEqual(error.code, code)
            } catch {
                XCTFail("\(code): \(error)")
            }
        }
    }

    /// A record failed for a reason not classified (UNKNOWN_SERVER_ERROR) is sent again, six
    /// sends in all, then returned refused, for the sender to dead-letter; the others are stored
    /// once. Before, the coordinator sent it again for ever, and the heat aggregator (with the
    /// scoring stage) exited, to fail on it again after the restart.
    func testAnUnclassifiedFailureIsSentSixTimesThenTakenAsTheRecords() async throws {
        let send = RefusingSend(["state": -1])
        let settled = try await sending(send).settle(records("requests", "state", "usage"))
        XCTAssertEqual(send.records.count { $0.topic == "state" }, ProduceFailure.unclassifiedAttempts)
        XCTAssertEqual(send.records.count { $0.topic != "state" }, 2, "what was stored was sent again")
        guard case .refused(let error) = settled[1] else { return XCTFail("\(settled)") }
        XCTAssertEqual(error.code, -1)
        guard case .stored = settled[0], case .stored = settled[2] else { return XCTFail("\(settled)") }
    }

    /// Only failures for a reason not classified in a row take a record as the sender's to
    /// dead-letter: a passing failure between (the broker away) starts the count again, so a
    /// record failed so three times, then for a passing reason, then five times more is stored at
    /// the next send, and one failed six times more is returned refused at the sixth. Before, the
    /// count ran on across the outage, so both were returned refused at their third failure after it.
    func testOnlyUnclassifiedFailuresInARowTakeARecordAsRefused() async throws {
        let outage: [Int32?] = [-1, -1, -1, -195 /* _TRANSPORT */]
        for (failures, isStored) in [(ProduceFailure.unclassifiedAttempts - 1, true), (ProduceFailure.unclassifiedAttempts, false)] {
            let send = OutputDeliveryTests.ScriptedSend("state", outage + Array(repeating: -1, count: failures))
            var sending = SettlingSend(send: { send($0) }, logger: OutputDeliveryTests.Lines().logger, unclassified: .takenAsTheRecords, metrics: nil)
            sending.retryDelay = .milliseconds(1)
            let settled = try await sending.settle(records("state"))
            XCTAssertEqual(send.sends, outage.count + ProduceFailure.unclassifiedAttempts, "\(failures) failures after the outage")
            switch settled[0] {
            case .stored: XCTAssertTrue(isStored, "\(failures) failures after the outage: stored")
            case .refused(let error): XCTAssertFalse(isStored, "\(failures) failures after the outage: refused, \(error.code)")
            }
        }
    }

    /// A record failing for a reason not classified and for a passing one in turn (a broker
    /// whose leaders churn) is sent again with the wait growing, 100 ms doubling to 5 s, as in
    /// an outage, and warned about at the first failure and then at every tenth attempt. Before
    /// (since counting only in a row), each unclassified failure after a passing one was its
    /// record's first: the wait went back to 100 ms and a warning was logged every other send,
    /// about five sends a second for as long as the broker churned.
    func testUnclassifiedAndPassingFailuresInTurnBackOffAndWarnSeldom() {
        var retries = ProduceRetries(firstDelay: .milliseconds(100))
        let lines = OutputDeliveryTests.Lines()
        var waits: [Duration] = []
        for attempt in 0..<20 {
            let code: Int32 = attempt.isMultiple(of: 2) ? -1 /* UNKNOWN_SERVER_ERROR */ : -195 /* _TRANSPORT */
            let round = retries.classify([.failure(KafkaError(code: code, operation: "produce"))], of: [0]) { _, _ in }
            XCTAssertEqual(round.retry, [0], "attempt \(attempt): sent again")
            waits.append(retries.nextWait(after: round, logger: lines.logger, unclassified: "unclassified", transient: "transient").wait)
        }
        XCTAssertEqual(Array(waits.prefix(7)), [100, 200, 400, 800, 1_600, 3_200, 5_000].map { .milliseconds($0) }, "\(waits)")
        XCTAssertEqual(Set(waits.dropFirst(6)), [ProduceFailure.maxRetryDelay], "\(waits)")
        XCTAssertLessThanOrEqual(lines.all.count, 4, "a warning at the first failure and every tenth attempt: \(lines.all)")
    }

    /// For records whose dead letter would lose what cannot be got back (the coordinator's
    /// `lead.state` and `billing.usage` records, the heat aggregator's changelog), a failure for a
    /// reason not classified is waited out as a transient one: sent again, 100 ms doubling to 5 s,
    /// until stored, with a warning at the first attempt and every tenth. Before, such a record
    /// was returned refused after six sends, for the sender to dead-letter.
    func testAnUnclassifiedFailureIsWaitedOutWhenTheCallerSaysSo() async throws {
        let send = RefusingSend(["state": -1 /* UNKNOWN_SERVER_ERROR */], times: 10)
        let lines = OutputDeliveryTests.Lines()
        let settled = try await waitingOut(send, lines).settle(records("requests", "state"))
        guard case .stored = settled[0], case .stored = settled[1] else { return XCTFail("\(settled)") }
        XCTAssertEqual(send.records.count { $0.topic == "state" }, 11)
        XCTAssertEqual(send.records.count { $0.topic != "state" }, 1, "what was stored was sent again")
        let warnings = lines.all.filter { $0.contains("send failed, sending again") }
        XCTAssertEqual(warnings.count, 2, "at the first attempt and the tenth: \(lines.all)")
        XCTAssertTrue(warnings.allSatisfy { $0.contains("(-1)") }, "\(warnings)")
    }

    /// Each failed send of a record is counted by the sender's service, the record's topic and the
    /// failure's class, a failure waited out as what it is (unclassified): the count an operator
    /// alerts on when a broker keeps failing the coordinator's records for a reason not
    /// classified. Before, nothing counted them: the coordinator logged a warning every tenth send.
    func testEachFailedSendIsCountedByTopicAndClass() async throws {
        let send = RefusingSend(["state": -1 /* UNKNOWN_SERVER_ERROR */, "usage": -195 /* _TRANSPORT */], times: 3)
        let metrics = MetricsRegistry()
        var sending = SettlingSend(send: { send($0) }, logger: OutputDeliveryTests.Lines().logger, unclassified: .waitedOut,
                                   metrics: metrics)
        sending.retryDelay = .milliseconds(1)
        _ = try await sending.settle(records("requests", "state", "usage"))
        func failures(_ topic: String, _ failure: ProduceFailure) -> Double? {
            metrics.value(MetricNames.produceFailures, ["service": "test-stage", "topic": topic, "class": failure.rawValue])
        }
        XCTAssertEqual(failures("state", .unclassified), 3)
        XCTAssertNil(failures("state", .transient), "counted as waited out")
        XCTAssertEqual(failures("usage", .transient), 3)
        XCTAssertEqual(metrics.labelSets(of: MetricNames.produceFailures).count, 2, "nothing for the record stored")
    }

    /// Waiting out a failure not classified does not spin once the sender is cancelled (a
    /// SIGTERM), and ends when the shutdown's bound closes the producer: the closed producer's
    /// error is thrown as it is.
    func testAWaitedOutFailureEndsWhenTheProducerIsClosedAndDoesNotSpinOnceCancelled() async {
        let send = ClosingSend()
        var sending = SettlingSend(send: { send($0) }, logger: OutputDeliveryTests.Lines().logger, unclassified: .waitedOut, metrics: nil)
        sending.retryDelay = .milliseconds(1)
        let state = records("state")
        let task = Task { [sending] in try await sending.settle(state) }
        task.cancel()
        try? await Task.sleep(for: .milliseconds(300))
        send.close()
        do {
            let settled = try await task.value
            XCTFail("went on: \(settled)")
        } catch let error as KafkaError {
            XCTAssertEqual(error.code, -197)
        } catch {
            XCTFail("\(error)")
        }
        // 1, 2, 4, ... 256 ms waits in 300 ms: about ten sends, not thousands.
        XCTAssertLessThan(send.sends, 15)
    }

    /// An unclassified failure that passes, a transient one and an epoch the producer bumped are
    /// sent again until stored.
    func testFailuresThatPassAreSentAgainUntilStored() async throws {
        for code: Int32 in [-1 /* UNKNOWN_SERVER_ERROR */, -195 /* _TRANSPORT */, 47 /* INVALID_PRODUCER_EPOCH */] {
            let send = RefusingSend(["state": code], times: 3)
            let settled = try await sending(send).settle(records("state"))
            guard case .stored = settled[0] else { return XCTFail("\(code): \(settled)") }
            XCTAssertEqual(send.records.count, 4, "\(code)")
        }
    }

    /// A record refused for what it is is returned at once, for the sender to dead-letter.
    func testARecordRefusedForWhatItIsIsReturnedAtOnce() async throws {
        let send = RefusingSend(["state": 10 /* MSG_SIZE_TOO_LARGE */])
        let settled = try await sending(send).settle(records("state", "usage"))
        guard case .refused(let error) = settled[0], case .stored = settled[1] else { return XCTFail("\(settled)") }
        XCTAssertEqual(error.code, 10)
        XCTAssertEqual(send.records.count, 2)
    }

    /// Results of a first send made by the caller (records enqueued ahead) are read, not sent again.
    func testTheCallersFirstSendIsNotRepeated() async throws {
        let send = RefusingSend([:])
        let first: [Result<DeliveryReport, KafkaError>] = [
            .success(DeliveryReport(topic: "state", partition: 0, offset: 7)),
            .failure(KafkaError(code: -195, operation: "produce")),
        ]
        let settled = try await sending(send).settle(records("state", "usage"), first: first)
        XCTAssertEqual(send.records.map(\.topic), ["usage"], "only the failed record is sent again")
        guard case .stored(let report) = settled[0], case .stored = settled[1] else { return XCTFail("\(settled)") }
        XCTAssertEqual(report.offset, 7)
    }

    // MARK: - RepublishingRetries (the progress tracker's rounds)

    private func round(_ retries: inout RepublishingRetries, _ outcomes: [(key: String, code: Int32?)]) -> ProduceRound {
        let sent = outcomes.map { ProducerRecord(topic: "progress", key: $0.key, value: [1]) }
        let results: [Result<DeliveryReport, KafkaError>] = outcomes.map { outcome in
            guard let code = outcome.code else { return .success(DeliveryReport(topic: "progress", partition: 0, offset: 1)) }
            return .failure(KafkaError(code: code, operation: "produce"))
        }
        return retries.classify(results, of: sent)
    }

    /// A key's record is taken as refused only after failing unclassified six rounds in a row: a
    /// transient failure between starts the count again. Before, the count ran on across it, so
    /// three failures, one outage and three more left the record out.
    func testOnlyUnclassifiedFailuresInARowAreCounted() {
        var retries = RepublishingRetries()
        for _ in 1...3 { XCTAssertEqual(round(&retries, [("s1", -1)]).retry, [0]) }
        XCTAssertEqual(round(&retries, [("s1", -195 /* _TRANSPORT */)]).retry, [0])
        for sends in 1..<ProduceFailure.unclassifiedAttempts {
            let sent = round(&retries, [("s1", -1)])
            XCTAssertEqual(sent.retry, [0], "round \(sends) after the outage")
            XCTAssertEqual(sent.unclassified.map(\.sends), [sends])
            XCTAssertTrue(sent.refused.isEmpty, "round \(sends) after the outage")
        }
        let last = round(&retries, [("s1", -1)])
        XCTAssertEqual(last.refused.map(\.index), [0], "the sixth in a row")
        XCTAssertTrue(last.retry.isEmpty)
    }

    /// A key that is not in a round (its partition revoked, its search gone) is no longer
    /// counted, so the counts stay as many as the records of the last round at most, and a key
    /// sent again later starts from its first failure (and the first delay). Before, its entry
    /// stayed for the process's life.
    func testAKeyNotSentAgainIsForgotten() {
        var retries = RepublishingRetries()
        let first = round(&retries, [("s1", -1), ("s2", -1), ("s3", nil)])
        XCTAssertEqual(first.retry, [0, 1])
        XCTAssertEqual(RepublishingRetries.wait(after: first), ProduceFailure.firstRetryDelay)
        XCTAssertEqual(retries.countedKeys, 2)
        XCTAssertEqual(round(&retries, [("s2", -1)]).unclassified.map(\.sends), [2])
        XCTAssertEqual(retries.countedKeys, 1, "s1 was not sent")
        _ = round(&retries, [("s3", nil)])
        XCTAssertEqual(retries.countedKeys, 0)
        let again = round(&retries, [("s1", -1)])
        XCTAssertEqual(again.unclassified.map(\.sends), [1])
        XCTAssertEqual(RepublishingRetries.wait(after: again), ProduceFailure.firstRetryDelay)
    }

    /// A round's classes: the first fatal error and the first topic refusal stop the sender, a
    /// record refused for what it is is left out at once, and a transient failure is published
    /// again at the next round without a wait of its own.
    func testARoundsRecordsAreClassed() {
        var retries = RepublishingRetries()
        let sent = round(&retries, [("a", nil), ("b", 10 /* MSG_SIZE_TOO_LARGE */), ("c", -195), ("d", 17), ("e", 90)])
        XCTAssertEqual(sent.refused.map(\.index), [1])
        XCTAssertEqual(sent.retry, [2])
        XCTAssertEqual(sent.transient?.index, 2)
        XCTAssertNil(RepublishingRetries.wait(after: sent))
        XCTAssertEqual(sent.topicRefusal?.index, 3)
        XCTAssertEqual(sent.fatal?.code, 90)
    }
}
