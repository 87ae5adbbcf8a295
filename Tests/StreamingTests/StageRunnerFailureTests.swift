import Foundation
@testable import Kafka
import KafkaTestSupport
@testable import Runtime
@testable import Streaming
import Synchronization
import XCTest

/// The stage runner when outputs fail, partitions move and the broker goes away: it never
/// freezes, never drops an output, and dead-letters what the broker refuses for good.
final class StageRunnerFailureTests: XCTestCase {
    /// The lines a runner logs, for conditions to wait on.
    final class LogCapture: Sendable {
        private let lines = Mutex<[String]>([])
        var logger: Logger {
            Logger(service: "test-stage", level: .warning) { [self] line in
                lines.withLock { $0.append(line) }
                Logger.standardError(line)
            }
        }
        func count(containing text: String) -> Int { lines.withLock { $0.filter { $0.contains(text) }.count } }
    }

    // MARK: - Classification (no broker)

    func testProduceFailuresAreClassified() {
        func failure(_ code: Int32, fatal: Bool = false) -> ProduceFailure {
            ProduceFailure(KafkaError(code: code, isFatal: fatal, operation: "produce"))
        }
        XCTAssertEqual(failure(10), .refused, "MSG_SIZE_TOO_LARGE")
        XCTAssertEqual(failure(87), .refused, "INVALID_RECORD")
        XCTAssertEqual(failure(2), .refused, "CORRUPT_MESSAGE (librdkafka's INVALID_MSG)")
        XCTAssertEqual(failure(44), .refused, "POLICY_VIOLATION: a broker policy refused the record")
        XCTAssertEqual(failure(32), .refused, "INVALID_TIMESTAMP")
        XCTAssertEqual(failure(-192), .transient, "_MSG_TIMED_OUT")
        XCTAssertEqual(failure(-195), .transient, "_TRANSPORT")
        XCTAssertEqual(failure(-184), .transient, "_QUEUE_FULL")
        XCTAssertEqual(failure(-187), .transient, "_ALL_BROKERS_DOWN")
        XCTAssertEqual(failure(-188), .transient, "_UNKNOWN_TOPIC")
        XCTAssertEqual(failure(-138), .transient, "_INVALID_DIFFERENT_RECORD: another record of the batch was refused, not this one")
        XCTAssertEqual(failure(-150), .fatal, "_FATAL")
        XCTAssertEqual(failure(-152), .fatal, "_PURGE_QUEUE")
        XCTAssertEqual(failure(-192, fatal: true), .fatal, "anything the client calls fatal")
        XCTAssertEqual(failure(29), .fatal, "TOPIC_AUTHORIZATION_FAILED: an ACL refuses every record alike")
        XCTAssertEqual(failure(58), .fatal, "SASL_AUTHENTICATION_FAILED: the principal, not the record")
        XCTAssertEqual(failure(45), .fatal, "OUT_OF_ORDER_SEQUENCE_NUMBER: the producer's idempotence state")
        XCTAssertEqual(failure(90), .fatal, "PRODUCER_FENCED")
        XCTAssertEqual(failure(-1), .unclassified, "UNKNOWN_SERVER_ERROR: retried, then the record's")
        XCTAssertEqual(failure(36), .unclassified, "TOPIC_ALREADY_EXISTS: a code no produce is known to report")
    }

    func testWithheldPayloadKeepsSizeAndHashAndDropsALongKey() {
        let input = ConsumerRecord(topic: "in", partition: 2, offset: 7, key: Array(repeating: 1, count: 2000),
                                   value: Array("hello".utf8))
        let (copy, note) = OutputDelivery.withholdingPayload(input)
        XCTAssertNil(copy.value)
        XCTAssertNil(copy.key)
        XCTAssertEqual(copy.topic, "in")
        XCTAssertEqual(copy.partition, 2)
        XCTAssertEqual(copy.offset, 7)
        // FNV-1a 64 of "hello".
        XCTAssertTrue(note.contains("payload withheld: 5 bytes, fnv1a64 a430d84680aabd0b"), note)
        XCTAssertTrue(note.contains("key withheld: 2000 bytes"), note)
    }

    // MARK: - Against the broker

    /// A runner of a new group on `input`, dead-lettering to `deadLetters`, with a producer of
    /// `producerProperties` (which the test sends its inputs with too), logging errors only.
    private func refusingRunner(input: String, deadLetters: String, producerProperties: [String: String] = [:],
                                handler: @escaping RecordHandler) throws -> (StageRunner, KafkaProducer, group: String) {
        let configuration = TestBroker.configuration(clientID: "stage")
        let producer = try KafkaProducer(configuration: configuration, properties: producerProperties)
        let group = uniqueTopicName("group")
        let runner = try StageRunner(
            configuration: configuration, groupID: group, topics: [input],
            consumerProperties: TestBroker.fastGroupProperties, producer: producer,
            logger: Logger(service: "test-stage", level: .error), deadLetter: testDeadLetter(topic: deadLetters), handler: handler)
        return (runner, producer, group)
    }

    /// An output over the producer's `message.max.bytes` turns its input into a dead letter
    /// (with the input's payload when that fits, without it when not) and the partition's commit
    /// point passes it.
    func testRefusedOutputIsDeadLetteredAndThePartitionMovesOn() async throws {
        try await withTestTopic(prefix: "refused-in") { input in
            try await withTestTopic(prefix: "refused-out") { output in
                try await withTestTopic(prefix: "refused-dead") { deadLetters in
                    let (runner, producer, group) = try refusingRunner(
                        input: input, deadLetters: deadLetters, producerProperties: ["message.max.bytes": "2000"]) { record in
                        let isHuge = record.keyString == "k1" || record.keyString == "k3"
                        return [ProducerRecord(topic: output, key: record.key,
                                               value: isHuge ? Array(repeating: 7, count: 5000) : record.value)]
                    }
                    let task = Task { try await runner.run() }
                    let publisher = try KafkaProducer(configuration: TestBroker.configuration(clientID: "publisher"))
                    // k1: a small input whose output is too large; k3: an input too large to travel
                    // in its own dead letter (1,900 bytes plus the reason).
                    _ = try await publisher.send((0..<6).map { i in
                        ProducerRecord(topic: input, key: "k\(i)", value: i == 3 ? Array(repeating: 3, count: 1900) : Array("v\(i)".utf8))
                    })
                    let admin = try KafkaAdmin(configuration: TestBroker.configuration())
                    let partition = TopicPartition(topic: input, partition: 0)
                    try await waitUntil("every input committed") {
                        try await admin.committedOffsets(group: group, partitions: [partition])[partition] == 6
                    }
                    let records = try await consumeInNewGroup([output, deadLetters], count: 6)
                    task.cancel()
                    try await task.value
                    await producer.close()
                    await publisher.close()

                    XCTAssertEqual(Set(records.filter { $0.topic == output }.compactMap(\.keyString)), ["k0", "k2", "k4", "k5"])
                    let letters = Dictionary(uniqueKeysWithValues: records.filter { $0.topic == deadLetters }.map {
                        ($0.keyString ?? "", String(decoding: $0.value ?? [], as: UTF8.self))
                    })
                    XCTAssertEqual(Set(letters.keys), ["k1", "k3"])
                    XCTAssertTrue(letters["k1"]?.contains("MSG_SIZE_TOO_LARGE") == true, letters["k1"] ?? "")
                    XCTAssertTrue(letters["k1"]?.hasSuffix("\nv1") == true, "the small input travels in its letter")
                    XCTAssertTrue(letters["k3"]?.contains("payload withheld: 1900 bytes") == true, letters["k3"] ?? "")
                    XCTAssertFalse(letters["k3"]?.contains("\u{3}") == true, "the large payload is left out")
                }
            }
        }
    }

    /// An output sent to a partition its topic does not have (a backlog topic with fewer
    /// partitions than the input) is refused for its topic: the runner stops, throwing
    /// ``StageRunnerError/topicRefuses(topic:_:)`` naming the topic, with no dead letter and the
    /// input uncommitted, so it is redone once the topic is fixed. Before, the input was
    /// dead-lettered and committed.
    func testAnOutputToAPartitionItsTopicLacksStopsTheRunnerUncommitted() async throws {
        try await withTestTopic(prefix: "lacking-in") { input in
            try await withTestTopic(partitions: 1, prefix: "lacking-out") { output in
                try await withTestTopic(prefix: "lacking-dead") { deadLetters in
                    let (runner, producer, group) = try refusingRunner(input: input, deadLetters: deadLetters) { record in
                        [ProducerRecord(topic: output, partition: 3, key: record.key, value: record.value)]
                    }
                    let task = Task { try await runner.run() }
                    _ = try await producer.send(ProducerRecord(topic: input, key: "k0", value: Array("v0".utf8)))
                    // A bound on the wait, not a synchronisation: a runner that goes on is stopped.
                    let bound = Task {
                        try await Task.sleep(for: .seconds(60))
                        task.cancel()
                    }
                    let stopped = await task.result
                    bound.cancel()
                    let admin = try KafkaAdmin(configuration: TestBroker.configuration())
                    let partition = TopicPartition(topic: input, partition: 0)
                    let committed = try await admin.committedOffsets(group: group, partitions: [partition])[partition] ?? nil
                    let letters = try await admin.watermarks([TopicPartition(topic: deadLetters, partition: 0)]).values.first?.high
                    await producer.close()
                    switch stopped {
                    case .success: XCTFail("the runner went on: the output was dead-lettered, committed \(String(describing: committed))")
                    case .failure(let error as StageRunnerError):
                        guard case .topicRefuses(let topic, let cause) = error else { return XCTFail("\(error)") }
                        XCTAssertEqual(topic, output)
                        XCTAssertEqual(cause.code, -190, "_UNKNOWN_PARTITION")
                        XCTAssertTrue(error.description.contains(output), error.description)
                    case .failure(let error): XCTFail("\(error)")
                    }
                    XCTAssertNil(committed, "the input was committed")
                    XCTAssertEqual(letters, 0, "the input was dead-lettered")
                }
            }
        }
    }

    /// A runner that stops throws its error and does not log it: the process's runner
    /// (``ServiceRunner``) logs it once, as its exit. The delivery's line naming the input and
    /// the topic stays. Before: the runner logged it too ("stopping: topic ... refuses
    /// records ..."), so the process logged it twice with the exit's line.
    func testARunnerThatStopsLeavesItsErrorToTheProcessToLog() async throws {
        try await withTestTopic(prefix: "logged-in") { input in
            try await withTestTopic(partitions: 1, prefix: "logged-out") { output in
                let log = LogCapture()
                let configuration = TestBroker.configuration(clientID: "stage")
                let producer = try KafkaProducer(configuration: configuration)
                let runner = try StageRunner(
                    configuration: configuration, groupID: uniqueTopicName("group"), topics: [input],
                    consumerProperties: TestBroker.fastGroupProperties, producer: producer, logger: log.logger,
                    deadLetter: testDeadLetter(topic: input)
                ) { record in
                    [ProducerRecord(topic: output, partition: 3, key: record.key, value: record.value)]
                }
                let task = Task { try await runner.run() }
                _ = try await producer.send(ProducerRecord(topic: input, key: "k0", value: [1]))
                let bound = Task {  // a bound on the wait, not a synchronisation
                    try await Task.sleep(for: .seconds(60))
                    task.cancel()
                }
                let stopped = await task.result
                bound.cancel()
                await producer.close()
                guard case .failure(let error as StageRunnerError) = stopped, case .topicRefuses = error else {
                    return XCTFail("\(stopped)")
                }
                XCTAssertEqual(log.count(containing: "fix the topic or the configuration naming it"), 0,
                               "the error the runner throws is logged by the process's runner, not here")
                XCTAssertEqual(log.count(containing: "output topic \(output) refuses records"), 1, "the delivery's line, with the input")
            }
        }
    }

    /// Once an outcome stops the runner, no record waiting is started: with one record in
    /// flight at a time, the first one's output to a partition its topic lacks stops the runner,
    /// and the nine records waiting behind it never reach the handler (in a stage, paid vendor
    /// calls whose outputs would not be sent, again at every restart). Before, the loop's pass
    /// that learned of the stop started the next record.
    func testNoRecordStartsOnceAnOutcomeStopsTheRunner() async throws {
        try await withTestTopic(prefix: "stopped-in") { input in
            try await withTestTopic(partitions: 1, prefix: "stopped-out") { output in
                let calls = Atomic(0)
                let configuration = TestBroker.configuration(clientID: "stage")
                let producer = try KafkaProducer(configuration: configuration)
                let runner = try StageRunner(
                    configuration: configuration, groupID: uniqueTopicName("group"), topics: [input],
                    consumerProperties: TestBroker.fastGroupProperties, producer: producer,
                    settings: StageRunnerSettings(maxInFlight: 1), logger: Logger(service: "test-stage", level: .error),
                    deadLetter: testDeadLetter(topic: input)
                ) { record in
                    calls.add(1, ordering: .relaxed)
                    return [ProducerRecord(topic: output, partition: 3, key: record.key, value: record.value)]
                }
                let task = Task { try await runner.run() }
                _ = try await producer.send((0..<10).map { i in ProducerRecord(topic: input, key: "k\(i)", value: [1]) })
                let bound = Task {
                    try await Task.sleep(for: .seconds(60))
                    task.cancel()
                }
                let stopped = await task.result
                bound.cancel()
                await producer.close()
                guard case .failure(StageRunnerError.topicRefuses) = stopped else { return XCTFail("\(stopped)") }
                XCTAssertEqual(calls.load(ordering: .relaxed), 1, "records started after the stop")
            }
        }
    }

    /// librdkafka keeps a partition paused across revoke and assign: a partition paused for
    /// backpressure, revoked while paused and assigned again must still be consumed. The records
    /// waiting when it was revoked are dropped unstarted and read again: they count as consumed
    /// once, when they run (before, also when they were first polled).
    func testPausedPartitionIsConsumedAfterItIsRevokedAndAssignedAgain() async throws {
        try await withTestTopic(prefix: "rebalance-in") { input in
            let gate = Mutex(false)
            let calls = Atomic(0)
            let configuration = TestBroker.configuration(clientID: "stage")
            let producer = try KafkaProducer(configuration: configuration)
            let group = uniqueTopicName("group")
            let metrics = MetricsRegistry()
            let runner = try StageRunner(
                configuration: configuration, groupID: group, topics: [input],
                consumerProperties: TestBroker.fastGroupProperties, producer: producer,
                // The revocation waits 1 s for the hanging record, then hands it back.
                settings: StageRunnerSettings(maxInFlight: 2, drainTimeout: .seconds(1)),
                logger: Logger(service: "test-stage", level: .error),
                metrics: StageRunnerMetrics(registry: metrics, stage: "test"), deadLetter: testDeadLetter(topic: input)
            ) { _ in
                calls.add(1, ordering: .relaxed)
                while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
                return []
            }
            let task = Task { try await runner.run() }
            // One key: one record in flight, five waiting, so the partition is paused.
            _ = try await producer.send((0..<6).map { _ in ProducerRecord(topic: input, key: "lead-1", value: [1]) })
            let paused = { metrics.value(MetricNames.stagePausedPartitions, ["stage": "test"]) }
            try await waitUntil("the partition paused") { paused() == 1 }

            // A second member joins (the runner's partition is revoked, whoever gets it) and
            // leaves (the runner gets it back), while the first record still hangs.
            let joined = Mutex(false)
            let helper = try KafkaConsumer(configuration: TestBroker.configuration(clientID: "helper"), groupID: group,
                                           topics: [input], properties: TestBroker.fastGroupProperties) { event in
                if case .assigned = event { joined.withLock { $0 = true } }
            }
            try await waitUntil("the second member joined") {
                _ = try await helper.poll(maxRecords: 10, timeoutMilliseconds: 100)
                return joined.withLock { $0 }
            }
            await helper.close()
            let partition = TopicPartition(topic: input, partition: 0)
            try await waitUntil("the runner owns the partition again") { runner.assignment.contains(partition) }

            gate.withLock { $0 = true }
            let admin = try KafkaAdmin(configuration: TestBroker.configuration())
            try await waitUntil("every record committed") {
                try await admin.committedOffsets(group: group, partitions: [partition])[partition] == 6
            }
            task.cancel()
            try await task.value
            await producer.close()
            XCTAssertEqual(metrics.value(MetricNames.stageRecordsConsumed, ["stage": "test", "topic": input]),
                           Double(calls.load(ordering: .relaxed)), "consumed counts the records run, not those dropped unstarted")
        }
    }

    /// What the handler of a ``Handover`` runner shares with the test: its calls per key, the
    /// gate its calls hang on, and the lines the runner logs (info and above).
    final class HandoverProbe: Sendable {
        let calls = Mutex<[String: Int]>([:])
        let released = Mutex(false)
        let log = Mutex<[String]>([])
        /// When the runner said its drain gave up on the records still in flight.
        let drainGaveUpAt = Mutex<ContinuousClock.Instant?>(nil)

        /// Whether the runner said it waits for records in flight of partitions being revoked.
        var isWaiting: Bool { log.withLock { $0.contains { $0.contains("revoking: waiting for records in flight") } } }
    }

    /// A runner on `input` whose handler counts its calls and hangs until the probe releases it.
    struct Handover {
        let probe = HandoverProbe()
        let producer: KafkaProducer
        let group = uniqueTopicName("group")
        let runner: StageRunner
        let task: Task<Void, Error>

        init(input: String, drainTimeout: Duration) throws {
            let configuration = TestBroker.configuration(clientID: "stage")
            let probe = probe
            producer = try KafkaProducer(configuration: configuration)
            let runner = try StageRunner(
                configuration: configuration, groupID: group, topics: [input],
                consumerProperties: TestBroker.fastGroupProperties, producer: producer,
                settings: StageRunnerSettings(drainTimeout: drainTimeout),
                logger: Logger(service: "test-stage", level: .info) { line in
                    if line.contains("drain timed out") { probe.drainGaveUpAt.withLock { $0 = $0 ?? .now } }
                    probe.log.withLock { $0.append(line) }
                },
                deadLetter: testDeadLetter(topic: input)
            ) { record in
                probe.calls.withLock { $0[record.keyString ?? "", default: 0] += 1 }
                while !probe.released.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
                return []
            }
            self.runner = runner
            task = Task { try await runner.run() }
        }
    }

    /// A member joining (a scale-up, a restart) revokes every partition of the eager assignor.
    /// Records in flight then finish and are committed before the partitions move: the next
    /// owner does not run them again (a vendor would be paid twice for the same lookup).
    func testRecordsInFlightAtARevocationFinishBeforeThePartitionsMove() async throws {
        try await withTestTopic(partitions: 2, prefix: "handover-in") { input in
            let handover = try Handover(input: input, drainTimeout: .seconds(20))
            let (runner, task, producer, group, probe) = (handover.runner, handover.task, handover.producer, handover.group, handover.probe)
            let keys = (0..<8).map { "lead-\($0)" }
            _ = try await producer.send(keys.map { ProducerRecord(topic: input, key: $0, value: [1]) })
            try await waitUntil("every record in flight") { probe.calls.withLock { $0.count } == keys.count }

            // A second member joins while all eight hang. The handlers answer once the runner
            // says it waits for them, or once the member has joined (the partitions moved
            // under them).
            let joined = Mutex(false)
            let member = try KafkaConsumer(configuration: TestBroker.configuration(clientID: "member"), groupID: group,
                                           topics: [input], properties: TestBroker.fastGroupProperties) { event in
                if case .assigned = event { joined.withLock { $0 = true } }
            }
            try await waitUntil("the member joined", timeoutSeconds: 60) {
                if probe.isWaiting { probe.released.withLock { $0 = true } }
                _ = try await member.poll(maxRecords: 10, timeoutMilliseconds: 100)
                return joined.withLock { $0 }
            }
            probe.released.withLock { $0 = true }
            await member.close()
            let admin = try KafkaAdmin(configuration: TestBroker.configuration())
            let partitions = (0..<2).map { TopicPartition(topic: input, partition: Int32($0)) }
            try await waitUntil("every record committed", timeoutSeconds: 60) {
                try await admin.committedOffsets(group: group, partitions: partitions).values.reduce(0) { $0 + ($1 ?? 0) } == Int64(keys.count)
                    && partitions.allSatisfy(runner.assignment.contains)
            }
            task.cancel()
            try await task.value
            await producer.close()
            XCTAssertEqual(probe.calls.withLock { $0 }, Dictionary(uniqueKeysWithValues: keys.map { ($0, 1) }),
                           "each record handled once across the rebalance")
        }
    }

    /// A SIGTERM while a revocation waits for records in flight ends the wait and the drain
    /// within the drain timeout of the SIGTERM, as the process's shutdown bound expects (the
    /// process is killed past it, uncommitted and without leaving the group): not the rest of
    /// the wait and then a whole drain timeout more.
    func testASIGTERMDuringARevocationsWaitEndsWithinTheDrainTimeout() async throws {
        try await withTestTopic(prefix: "handover-term") { input in
            let handover = try Handover(input: input, drainTimeout: .seconds(4))
            let (task, producer, group, probe) = (handover.task, handover.producer, handover.group, handover.probe)
            _ = try await producer.send([ProducerRecord(topic: input, key: "lead-1", value: [1])])
            try await waitUntil("the record in flight") { probe.calls.withLock { $0.count } == 1 }
            let member = try KafkaConsumer(configuration: TestBroker.configuration(clientID: "member"), groupID: group,
                                           topics: [input], properties: TestBroker.fastGroupProperties)
            let polling = Task { while !Task.isCancelled { _ = try? await member.poll(maxRecords: 10, timeoutMilliseconds: 100) } }
            try await waitUntil("the revocation waits", timeoutSeconds: 60) { probe.isWaiting }
            let sigterm = ContinuousClock.now
            task.cancel()
            try await task.value
            // Until the drain gave up, not until `run()` returned: leaving the group after it is the
            // broker's time (the test broker took up to 3 s more in a CI run), not the runner's.
            let took = try XCTUnwrap(probe.drainGaveUpAt.withLock { $0 }, "the drain gave up on the hanging record") - sigterm
            probe.released.withLock { $0 = true }
            polling.cancel()
            await member.close()
            await producer.close()
            XCTAssertLessThan(took, .milliseconds(6_500), "the drain timeout is 4 s; took \(took)")
        }
    }

    /// The commit a revocation makes of what its partitions finished, while the broker gives no
    /// answer (a private broker, suspended once the revocation waits for the record in flight,
    /// which then finishes): it is given up after the drain timeout (3 s here), logged as failed
    /// (the partition's next owner re-processes what it did not commit) and counted, and the
    /// runner goes on. Before, the commit had no bound and its result was not looked at: the run
    /// loop stood in it (librdkafka waits for the group's coordinator) until the broker was back.
    func testARevocationsCommitWithoutAnAnswerIsBoundedLoggedAndCounted() async throws {
        let broker = PrivateBroker()
        defer { broker.stop() }
        let input = uniqueTopicName("revoke-commit-in")
        let group = uniqueTopicName("group")
        let admin = try KafkaAdmin(configuration: broker.configuration(clientID: "admin"))
        _ = try await admin.createTopics([TopicSpecification(name: input, partitions: 1)])
        let lines = LogLines()
        let registry = MetricsRegistry()
        let entered = Atomic(false)
        let released = Atomic(false)
        let producer = try KafkaProducer(configuration: broker.configuration(clientID: "stage"))
        let runner = try StageRunner(
            configuration: broker.configuration(clientID: "stage"), groupID: group, topics: [input],
            consumerProperties: TestBroker.fastGroupProperties, producer: producer,
            settings: StageRunnerSettings(drainTimeout: .seconds(3)), logger: lines.logger(service: "test-stage"),
            metrics: StageRunnerMetrics(registry: registry, stage: "test"), deadLetter: testDeadLetter(topic: input)
        ) { _ in
            entered.store(true, ordering: .relaxed)
            while !released.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(20)) }
            return []
        }
        let task = Task { try await runner.run() }
        _ = try await producer.send(ProducerRecord(topic: input, key: "lead-1", value: [1]))
        try await waitUntil("the record in flight", timeoutSeconds: 60) { entered.load(ordering: .relaxed) }
        let member = try KafkaConsumer(configuration: broker.configuration(clientID: "member"), groupID: group,
                                       topics: [input], properties: TestBroker.fastGroupProperties)
        let polling = Task { while !Task.isCancelled { _ = try? await member.poll(maxRecords: 10, timeoutMilliseconds: 100) } }
        try await waitUntil("the revocation waits", timeoutSeconds: 60) {
            lines.first(containing: "revoking: waiting for records in flight") != nil
        }
        broker.suspend()
        let suspendedAt = ContinuousClock.now
        released.store(true, ordering: .relaxed)  // the record finishes, and the revocation commits it
        let failedAt = try? await {
            try await waitUntil("the failed commit logged", timeoutSeconds: 20) {
                lines.first(containing: "commit at revocation failed") != nil
            }
            return lines.first(containing: "commit at revocation failed")
        }()
        let metrics = registry.render()
        broker.resume()
        polling.cancel()
        task.cancel()
        try? await task.value
        await member.close()
        await producer.close()
        let took = try XCTUnwrap(failedAt ?? nil, "no failed commit logged in 20 s") - suspendedAt
        XCTAssertLessThan(took, .seconds(8), "the bound is the drain timeout, 3 s")
        XCTAssertTrue(metrics.contains("pipeline_stage_revocation_commit_failures_total{stage=\"test\"} 1\n"), metrics)
    }

    /// What an outage test runs: a private broker with 40 records on a two-partition input,
    /// handlers that answer only when `gate` opens, and the runner's log.
    final class Outage: Sendable {
        let broker = PrivateBroker()
        let input = uniqueTopicName("outage-in")
        let output = uniqueTopicName("outage-out")
        let group = uniqueTopicName("group")
        let gate = Mutex(false)
        /// Handler calls started and finished.
        let entered = Mutex(0)
        let answered = Mutex(0)
        /// Runners whose ``StageRunner/run()`` returned or threw.
        let ended = Mutex(0)
        let log = LogCapture()

        /// Creates the topics and publishes the records.
        func prepare() async throws {
            let admin = try KafkaAdmin(configuration: broker.configuration(clientID: "admin"))
            try await admin.createTopics([TopicSpecification(name: input, partitions: 2), TopicSpecification(name: output, partitions: 2)])
            let publisher = try KafkaProducer(configuration: broker.configuration(clientID: "publisher"))
            _ = try await publisher.send((0..<40).map { i in ProducerRecord(topic: input, key: "lead-\(i)", value: Array("\(i)".utf8)) })
            await publisher.close()
        }

        /// A runner (as one process would make it) with a producer of `producerProperties`.
        func startRunner(producerProperties: [String: String]) throws -> (Task<Void, Error>, KafkaProducer) {
            let configuration = broker.configuration(clientID: "stage")
            let producer = try KafkaProducer(configuration: configuration, properties: producerProperties)
            let output = self.output
            let runner = try StageRunner(
                configuration: configuration, groupID: group, topics: [input],
                consumerProperties: TestBroker.fastGroupProperties, producer: producer, logger: log.logger,
                deadLetter: testDeadLetter(topic: output)
            ) { [self] record in
                entered.withLock { $0 += 1 }
                while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
                answered.withLock { $0 += 1 }
                return [ProducerRecord(topic: output, key: record.key, value: record.value)]
            }
            return (Task { [self] in
                defer { ended.withLock { $0 += 1 } }
                try await runner.run()
            }, producer)
        }

        /// Prepares, starts a runner with the producer settings a ``StageService`` uses (sends
        /// never time out), suspends the broker once every record is in a handler, then lets
        /// every handler answer: their outputs wait for the broker.
        func answeringWhileSuspended() async throws -> (Task<Void, Error>, KafkaProducer) {
            try await prepare()
            let started = try startRunner(producerProperties: ["message.timeout.ms": "0", "request.timeout.ms": "1000"])
            try await waitUntil("every record in a handler") { self.entered.withLock { $0 } == 40 }
            broker.suspend()
            gate.withLock { $0 = true }
            try await waitUntil("every handler answered") { self.answered.withLock { $0 } == 40 }
            return started
        }

        func isEverythingCommitted() async throws -> Bool {
            let admin = try KafkaAdmin(configuration: broker.configuration(clientID: "admin"))
            return try await admin.lag(group: group, topics: [input]).reduce(0) { $0 + $1.lag } == 0
        }

        /// The distinct keys on the output topic, once 40 records (or more) are there.
        /// The keys of the outputs, read until each of the 40 inputs has one (or 60 s passed): a
        /// send retried after a timeout may have written an output twice, so 40 records are not
        /// yet 40 outputs.
        func outputKeys() async throws -> Set<String> {
            let reader = try KafkaConsumer(configuration: broker.configuration(), groupID: uniqueTopicName("reader"),
                                           topics: [output], properties: TestBroker.fastGroupProperties)
            var keys: Set<String> = []
            let deadline = ContinuousClock.now + .seconds(60)
            while keys.count < 40 && ContinuousClock.now < deadline {
                keys.formUnion(try await reader.poll(maxRecords: 1000, timeoutMilliseconds: 100).compactMap(\.keyString))
            }
            await reader.close()
            return keys
        }
    }

    /// A broker that stops answering for longer than the producer's request timeout, with the
    /// producer settings a ``StageService`` uses (sends never time out): the outputs wait, the
    /// runner keeps running, nothing is refused and every input is committed once it is back.
    func testOutputsWaitOutABrokerOutage() async throws {
        let outage = Outage()
        defer { outage.broker.stop() }
        let (task, producer) = try await outage.answeringWhileSuspended()
        // The outage itself: several request timeouts long.
        try await Task.sleep(for: .seconds(5))
        outage.broker.resume()

        try await waitUntil("every input committed", timeoutSeconds: 90) { try await outage.isEverythingCommitted() }
        let keys = try await outage.outputKeys()
        XCTAssertEqual(keys.count, 40)
        for text in ["refused", "unusable"] {
            XCTAssertEqual(outage.log.count(containing: text), 0, text)
        }
        task.cancel()
        try await task.value  // it never stopped by itself
        await producer.close()
    }

    /// SIGTERM while the broker is away: the run ends within the process's shutdown bound (10 s:
    /// the 8 s drain, then at most 2 s to commit, leave the group and flush), so the process
    /// exits cleanly instead of being ended by its shutdown timer. Outputs not acknowledged by
    /// then belong to inputs not committed, which the next owner runs again.
    func testAShutdownDuringAnOutageEndsWithinTheShutdownBound() async throws {
        let outage = Outage()
        defer { outage.broker.stop() }
        let (task, producer) = try await outage.answeringWhileSuspended()
        let started = ContinuousClock.now
        task.cancel()
        _ = try? await task.value
        let took = ContinuousClock.now - started
        outage.broker.resume()
        await producer.close()
        XCTAssertLessThan(took, .seconds(10), "the drain is 8 s; took \(took)")
        XCTAssertGreaterThanOrEqual(took, .seconds(7), "the drain waited for the outputs")
    }

    /// Sends that time out during an outage (`message.timeout.ms` 1.5 s) are retried; where the
    /// broker then fences the producer (the local broker does), the runner stops with
    /// ``StageRunnerError/producerUnusable(_:)`` instead of freezing, and a restarted runner
    /// finishes the work. Either way no output is lost and none is dead-lettered.
    func testTimedOutSendsAreRetriedOrTheRunnerStopsForARestart() async throws {
        let outage = Outage()
        defer { outage.broker.stop() }
        try await outage.prepare()
        var (task, producer) = try outage.startRunner(producerProperties: ["message.timeout.ms": "1500"])
        try await waitUntil("every record in a handler") { outage.entered.withLock { $0 } == 40 }
        outage.broker.suspend()
        outage.gate.withLock { $0 = true }
        try await waitUntil("sends timed out and are retried", timeoutSeconds: 60) {
            outage.log.count(containing: "retrying") > 0
        }
        outage.broker.resume()

        var restarts = 0
        try await waitUntil("every input committed", timeoutSeconds: 120) {
            if try await outage.isEverythingCommitted() { return true }
            guard outage.ended.withLock({ $0 }) > restarts else { return false }
            // The process would exit here and be restarted with a new producer.
            do {
                try await task.value
                XCTFail("the runner returned without being cancelled")
            } catch let error as StageRunnerError {
                guard case .producerUnusable = error else { throw error }
            }
            restarts += 1
            await producer.close()
            (task, producer) = try outage.startRunner(producerProperties: ["message.timeout.ms": "1500"])
            return false
        }
        let keys = try await outage.outputKeys()
        XCTAssertEqual(keys.count, 40)
        XCTAssertEqual(outage.log.count(containing: "refused"), 0)
        task.cancel()
        try await task.value
        await producer.close()
    }
}
