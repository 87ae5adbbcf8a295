import Foundation
import Kafka
import KafkaTestSupport
import Runtime
import Streaming
import Synchronization
import XCTest

/// A dead-letter maker for tests: the reason, a newline, then the input's value, keyed like the input.
func testDeadLetter(topic: String) -> DeadLetterMaker {
    { input, reason in ProducerRecord(topic: topic, key: input.key, value: Array((reason + "\n").utf8) + (input.value ?? [])) }
}

/// The stage runner against the real broker: concurrency, key order, bounds, commits.
final class StageRunnerTests: XCTestCase {
    /// Counts handler calls in flight, overall and per key.
    final class Probe: Sendable {
        struct State {
            var inFlight = 0
            var maxInFlight = 0
            var keysInFlight: Set<String> = []
            var overlappingKey = false
            var order: [String: [Int64]] = [:]
        }
        let state = Mutex(State())

        func enter(_ record: ConsumerRecord) {
            state.withLock { s in
                s.inFlight += 1
                s.maxInFlight = max(s.maxInFlight, s.inFlight)
                let key = record.keyString ?? ""
                if !s.keysInFlight.insert(key).inserted { s.overlappingKey = true }
                s.order[key, default: []].append(record.offset)
            }
        }

        func leave(_ record: ConsumerRecord) {
            state.withLock { s in
                s.inFlight -= 1
                s.keysInFlight.remove(record.keyString ?? "")
            }
        }

        /// A handler that copies each record to `output` after `work`, counted in flight meanwhile.
        func echo(to output: String, after work: Duration) -> RecordHandler {
            { [self] record in
                enter(record)
                try? await Task.sleep(for: work)
                leave(record)
                return [ProducerRecord(topic: output, key: record.key, value: record.value)]
            }
        }
    }

    func runStage(input: String, output: String, group: String, settings: StageRunnerSettings,
                  handler: @escaping RecordHandler) throws -> (StageRunner, Task<Void, Error>, KafkaProducer) {
        let producer = try KafkaProducer(configuration: TestBroker.configuration(clientID: "stage"))
        let runner = try StageRunner(configuration: TestBroker.configuration(clientID: "stage"), groupID: group,
                                     topics: [input], consumerProperties: TestBroker.fastGroupProperties,
                                     producer: producer, settings: settings,
                                     logger: Logger(service: "test-stage", level: .warning),
                                     deadLetter: testDeadLetter(topic: output), handler: handler)
        let task = Task { try await runner.run() }
        return (runner, task, producer)
    }

    func testManyInFlightWithKeysInOrderAndBounded() async throws {
        try await withTestTopic(partitions: 2, prefix: "runner-in") { input in
            try await withTestTopic(partitions: 2, prefix: "runner-out") { output in
                let probe = Probe()
                let group = uniqueTopicName("group")
                let (_, task, producer) = try runStage(
                    input: input, output: output, group: group,
                    settings: StageRunnerSettings(maxInFlight: 40, pollBatch: 100),
                    handler: probe.echo(to: output, after: .milliseconds(100)))
                // 400 records, 100 keys: 4 records per key must run one after another.
                let records = (0..<400).map { i in
                    ProducerRecord(topic: input, key: "lead-\(i % 100)", value: Array("\(i)".utf8))
                }
                let started = Date()
                _ = try await producer.send(records)
                let reader = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("reader"),
                                               topics: [output], properties: TestBroker.fastGroupProperties)
                let outputs = try await consume(reader, count: 400, timeoutSeconds: 60)
                let elapsed = Date().timeIntervalSince(started)
                await reader.close()
                task.cancel()
                try await task.value

                XCTAssertEqual(Set(outputs.map { String(decoding: $0.value!, as: UTF8.self) }).count, 400)
                let state = probe.state.withLock { $0 }
                XCTAssertFalse(state.overlappingKey, "two records of one key ran at once")
                XCTAssertLessThanOrEqual(state.maxInFlight, 40, "the in-flight bound was exceeded")
                XCTAssertGreaterThan(state.maxInFlight, 10, "records should run concurrently")
                for (key, offsets) in state.order {
                    XCTAssertEqual(offsets, offsets.sorted(), "\(key) ran out of order")
                }
                // One at a time would take 400 x 100 ms = 40 s.
                XCTAssertLessThan(elapsed, 20, "took \(elapsed)s")

                // Everything finished, so everything is committed.
                let admin = try KafkaAdmin(configuration: TestBroker.configuration())
                try await waitUntil("all committed") {
                    let lag = try await admin.lag(group: group, topics: [input])
                    return lag.reduce(0) { $0 + $1.lag } == 0
                }
                await producer.close()
            }
        }
    }

    /// A bound of one (one request at a time, behind a strict vendor limit) runs every record:
    /// the partitions paused at the bound are resumed once nothing is held.
    func testABoundOfOneRunsOneRecordAtATimeAndAllOfThem() async throws {
        try await withTestTopic(partitions: 2, prefix: "runner-one-in") { input in
            try await withTestTopic(partitions: 2, prefix: "runner-one-out") { output in
                let probe = Probe()
                let (_, task, producer) = try runStage(
                    input: input, output: output, group: uniqueTopicName("group"),
                    settings: StageRunnerSettings(maxInFlight: 1, pollBatch: 10),
                    handler: probe.echo(to: output, after: .milliseconds(5)))
                let records = (0..<20).map { i in ProducerRecord(topic: input, key: "lead-\(i)", value: Array("\(i)".utf8)) }
                _ = try await producer.send(records)
                let outputs = try await consumeInNewGroup([output], count: 20)
                task.cancel()
                try await task.value
                await producer.close()
                XCTAssertEqual(Set(outputs.map { String(decoding: $0.value!, as: UTF8.self) }).count, 20)
                XCTAssertEqual(probe.state.withLock { $0.maxInFlight }, 1, "the in-flight bound was exceeded")
            }
        }
    }

    func testCommitStopsAtTheFirstUnfinishedRecord() async throws {
        try await withTestTopic(partitions: 1, prefix: "runner-in") { input in
            let gate = Mutex(false)
            let group = uniqueTopicName("group")
            let (_, task, producer) = try runStage(
                input: input, output: input, group: group, settings: StageRunnerSettings(maxInFlight: 100)
            ) { record in
                if record.offset == 5 {
                    // Offset 5 hangs until the gate opens; 0-4 and 6-19 finish.
                    while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
                }
                return []
            }
            _ = try await producer.send((0..<20).map { ProducerRecord(topic: input, key: "k\($0)", value: [1]) })
            let admin = try KafkaAdmin(configuration: TestBroker.configuration())
            let partition = TopicPartition(topic: input, partition: 0)
            try await waitUntil("offset 5 committed") {
                try await admin.committedOffsets(group: group, partitions: [partition])[partition] == 5
            }
            // Later records finished long ago, but the commit must not pass the unfinished one.
            try await Task.sleep(for: .milliseconds(1500))  // two auto-commit intervals
            let stuck = try await admin.committedOffsets(group: group, partitions: [partition])[partition]
            XCTAssertEqual(stuck, 5)
            gate.withLock { $0 = true }
            try await waitUntil("offset 20 committed") {
                try await admin.committedOffsets(group: group, partitions: [partition])[partition] == 20
            }
            task.cancel()
            try await task.value
            await producer.close()
        }
    }

    /// One record that does not finish holds its partition's commit point back; the records
    /// behind it that finished are not committed, and a crash would run them again. So the
    /// partition is paused at ``StageRunnerSettings/maxUncommitted`` records from the first
    /// unfinished one, and goes on once it finishes.
    func testAPartitionBehindAnUnfinishedRecordPausesAtTheBound() async throws {
        try await withTestTopic(partitions: 1, prefix: "runner-window-in") { input in
            let gate = Mutex(false)
            let whileHeld = Mutex(0)
            let settings = StageRunnerSettings(maxInFlight: 4, pollBatch: 10)
            XCTAssertEqual(settings.maxUncommitted, 16)
            let group = uniqueTopicName("group")
            let (_, task, producer) = try runStage(input: input, output: input, group: group, settings: settings) { record in
                if record.offset == 0 {
                    while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
                } else if !gate.withLock({ $0 }) {
                    whileHeld.withLock { $0 += 1 }
                }
                return []
            }
            _ = try await producer.send((0..<200).map { ProducerRecord(topic: input, key: "k\($0)", value: [1]) })
            try await waitUntil("the records behind the held one ran") { whileHeld.withLock { $0 } >= settings.maxUncommitted - 1 }
            // Given time to run them all, the runner takes no more than the bound and a fetch.
            try await Task.sleep(for: .milliseconds(1500))
            let ran = whileHeld.withLock { $0 }
            XCTAssertLessThanOrEqual(ran, settings.maxUncommitted + settings.pollBatch, "behind the held record: \(ran) of 199 ran")
            gate.withLock { $0 = true }
            let admin = try KafkaAdmin(configuration: TestBroker.configuration())
            let partition = TopicPartition(topic: input, partition: 0)
            try await waitUntil("every record committed") {
                try await admin.committedOffsets(group: group, partitions: [partition])[partition] == 200
            }
            task.cancel()
            try await task.value
            await producer.close()
        }
    }

    /// A record of the second step names where the first step's went (as a finalize result names
    /// its pool entry): it is sent after them, with their acknowledged offsets.
    func testASecondStepIsSentAfterTheFirstWithItsOffsets() async throws {
        try await withTestTopic(partitions: 1, prefix: "runner-in") { input in
            try await withTestTopic(partitions: 1, prefix: "runner-side") { side in
                try await withTestTopic(partitions: 1, prefix: "runner-out") { output in
                    let producer = try KafkaProducer(configuration: TestBroker.configuration(clientID: "stage"))
                    let runner = try StageRunner(
                        configuration: TestBroker.configuration(clientID: "stage"), groupID: uniqueTopicName("group"), topics: [input],
                        consumerProperties: TestBroker.fastGroupProperties, producer: producer,
                        logger: Logger(service: "test-stage", level: .warning), deadLetter: testDeadLetter(topic: output)
                    ) { record, _ in
                        RecordOutputs([ProducerRecord(topic: side, key: record.key, value: record.value)]) { reports in
                            reports.map { ProducerRecord(topic: output, key: record.key, value: Array("\($0.topic)@\($0.offset)".utf8)) }
                        }
                    }
                    let task = Task { try await runner.run() }
                    _ = try await producer.send((0..<5).map { ProducerRecord(topic: input, key: "k\($0)", value: Array("\($0)".utf8)) })
                    let named = try await consumeInNewGroup([output], count: 5, timeoutSeconds: 60)
                    let sides = try await KafkaConsumer.records(at: [TopicPartition(topic: side, partition: 0): Set(0..<5)],
                                                                configuration: TestBroker.configuration())
                    task.cancel()
                    try await task.value
                    await producer.close()
                    for record in named {
                        let text = String(decoding: record.value ?? [], as: UTF8.self)
                        let offset = try XCTUnwrap(Int64(text.split(separator: "@").last ?? ""), text)
                        XCTAssertTrue(text.hasPrefix(side + "@"), text)
                        let first = try XCTUnwrap(sides[TopicPartition(topic: side, partition: 0)]?[offset], text)
                        XCTAssertEqual(first.key, record.key, "the offset named is the one of this input's first-step record")
                    }
                }
            }
        }
    }

    /// A record whose handler runs on past its partition's revocation (a call that does not end
    /// on the record's stop) is handed back when the revocation's wait times out, and its
    /// outputs are not written once the handler finishes: the partition's next owner runs it.
    /// Before, only the drain at SIGTERM gave up on outputs: the old owner wrote them after the
    /// revocation, beside the next owner's.
    func testTheOutputsOfARecordWhosePartitionWasRevokedWithoutItAreNotWritten() async throws {
        try await withTestTopic(partitions: 1, prefix: "runner-in") { input in
            try await withTestTopic(partitions: 1, prefix: "runner-out") { output in
                let group = uniqueTopicName("group")
                let started = Atomic<Bool>(false)
                let finished = Atomic<Bool>(false)
                let (_, task, producer) = try runStage(
                    input: input, output: output, group: group,
                    settings: StageRunnerSettings(drainTimeout: .seconds(2))) { record in
                    started.store(true, ordering: .relaxed)
                    await sleepIgnoringCancellation(for: .seconds(6))
                    finished.store(true, ordering: .relaxed)
                    return [ProducerRecord(topic: output, key: record.key, value: record.value)]
                }
                _ = try await producer.send(ProducerRecord(topic: input, key: "k", value: Array("v".utf8)))
                try await waitUntil("the record is in flight", timeoutSeconds: 60) { started.load(ordering: .relaxed) }
                let (member, _) = try await joiningMember(of: group, topics: [input], configuration: TestBroker.configuration())
                try await waitUntil("the handler finished", timeoutSeconds: 30) { finished.load(ordering: .relaxed) }
                try await Task.sleep(for: .seconds(1))  // its outputs sent, if they are
                var written = 0
                try await KafkaConsumer.readToEnd([TopicPartition(topic: output, partition: 0)],
                                                  configuration: TestBroker.configuration()) { _ in written += 1 }
                task.cancel()
                try await task.value
                await member.close()
                await producer.close()
                XCTAssertEqual(written, 0, "the old owner wrote the outputs after the revocation")
            }
        }
    }

    /// After cancellation (SIGTERM) the drain waits for the record still in flight without
    /// spinning: its sleeps are not cut short by the cancellation.
    func testDrainWaitsForInFlightRecordsWithoutSpinning() async throws {
        try await withTestTopic(partitions: 1, prefix: "runner-in") { input in
            let gate = Mutex(false)
            let (started, handlerStarted) = AsyncStream.makeStream(of: Void.self)
            let (_, task, producer) = try runStage(
                input: input, output: input, group: uniqueTopicName("group"),
                settings: StageRunnerSettings(drainTimeout: .seconds(20))
            ) { _ in
                handlerStarted.yield()
                while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
                return []
            }
            _ = try await producer.send(ProducerRecord(topic: input, key: "k", value: [1]))
            for await _ in started { break }
            task.cancel()
            let cpuBefore = processCPUTime()
            let window = Duration.seconds(1)
            try await Task.sleep(for: window)  // the window the CPU is measured over, not a synchronisation
            let cpu = processCPUTime() - cpuBefore
            gate.withLock { $0 = true }
            try await task.value
            XCTAssertLessThan(cpu, window / 4, "draining used \(cpu) of CPU in \(window)")
            await producer.close()
        }
    }

    /// A record whose handler never returns is timed out after the record timeout: its dead
    /// letter names why, and the records behind it, of its own key too, run and are committed.
    /// Before, it held its key and its partition's commit point for good.
    func testARecordWhoseHandlerHangsIsTimedOutAfterTheRecordTimeout() async throws {
        try await withTestTopic(partitions: 1, prefix: "hung-in") { input in
            try await withTestTopic(partitions: 1, prefix: "hung-out") { output in
                let released = GracefulShutdown()
                defer { released.begin() }
                let registry = MetricsRegistry()
                let group = uniqueTopicName("group")
                let (task, producer) = try runTimedStage(TestBroker.configuration(clientID: "stage"), input: input, output: output,
                                                         group: group, registry: registry, stage: "hung") { record in
                    if record.offset == 0 { _ = await released.sleep(for: .seconds(3600)) }
                }
                _ = try await producer.send((0..<3).map { ProducerRecord(topic: input, key: "lead-1", value: Array("v\($0)".utf8)) })
                let admin = try KafkaAdmin(configuration: TestBroker.configuration())
                let partition = TopicPartition(topic: input, partition: 0)
                // Stopped before asserting: a runner left running past the test crashes the run.
                let committed: Void? = try? await waitUntil("every record committed", timeoutSeconds: 30) {
                    try await admin.committedOffsets(group: group, partitions: [partition])[partition] == 3
                }
                task.cancel()
                try await task.value
                await producer.close()
                XCTAssertNotNil(committed, "the hung record held its key and its partition's commit point")
                let written = try await KafkaConsumer.records(at: [TopicPartition(topic: output, partition: 0): [0, 1, 2]],
                                                              configuration: TestBroker.configuration(), timeout: .seconds(10))
                let values = written[TopicPartition(topic: output, partition: 0)]?.sorted { $0.key < $1.key }
                    .map { String(decoding: $0.value.value ?? [], as: UTF8.self) } ?? []
                XCTAssertEqual(values.count, 3)
                XCTAssertTrue(values.first?.contains("did not finish within 1 s") == true, "the hung record's letter first: \(values)")
                XCTAssertEqual(Array(values.dropFirst()), ["done", "done"], "the records behind it, of its key")
                XCTAssertEqual(registry.value(MetricNames.stageRecordsTimedOut, ["stage": "hung"]), 1)
                XCTAssertEqual(registry.value(MetricNames.stageRecordsProduced, ["stage": "hung", "topic": output]), 3,
                               "the letter is counted as produced, with the two outputs")
            }
        }
    }

    /// Outputs waiting for a broker that is away are no hung handler: a record whose handler
    /// returned at once, its outputs waiting past the record timeout (a private broker suspended
    /// by the handler for 2.5 s, the bound 1 s), is not timed out: its output is written when the
    /// broker is back, and no dead letter. A broker outage of any length is waited out.
    func testOutputsWaitingForTheBrokerPastTheRecordTimeoutAreNotTimedOut() async throws {
        let broker = PrivateBroker()
        defer { broker.stop() }
        let (input, output) = (uniqueTopicName("wait-in"), uniqueTopicName("wait-out"))
        let group = uniqueTopicName("group")
        let admin = try KafkaAdmin(configuration: broker.configuration(clientID: "admin"))
        _ = try await admin.createTopics([TopicSpecification(name: input, partitions: 1), TopicSpecification(name: output, partitions: 1)])
        let registry = MetricsRegistry()
        let suspended = Atomic(false)
        let (task, producer) = try runTimedStage(broker.configuration(clientID: "stage"), input: input, output: output,
                                                 group: group, registry: registry, stage: "waiting") { _ in
            if !suspended.exchange(true, ordering: .relaxed) { broker.suspend() }
        }
        _ = try await producer.send(ProducerRecord(topic: input, key: "lead-1", value: [1]))
        try await waitUntil("the handler ran", timeoutSeconds: 60) { registry.value(MetricNames.stageRecordsConsumed, ["stage": "waiting", "topic": input]) == 1 }
        try await Task.sleep(for: .milliseconds(2_500))  // the outage: past the record timeout and its check, within the session (10 s)
        broker.resume()
        let partition = TopicPartition(topic: input, partition: 0)
        let committed: Void? = try? await waitUntil("the record committed", timeoutSeconds: 30) {
            try await admin.committedOffsets(group: group, partitions: [partition])[partition] == 1
        }
        task.cancel()
        try await task.value
        await producer.close()
        XCTAssertNotNil(committed)
        let written = try await KafkaConsumer.records(at: [TopicPartition(topic: output, partition: 0): [0, 1]],
                                                      configuration: broker.configuration(), timeout: .seconds(5))
        let values = written[TopicPartition(topic: output, partition: 0)]?.sorted { $0.key < $1.key }
            .map { String(decoding: $0.value.value ?? [], as: UTF8.self) } ?? []
        XCTAssertEqual(values, ["done"], "the output alone, no dead letter")
        XCTAssertEqual(registry.value(MetricNames.stageRecordsTimedOut, ["stage": "waiting"]), 0)
    }

    /// A timed-out handler that still runs is counted (`pipeline_stage_timed_out_handlers_running`)
    /// until it returns: two hung handlers count 2, then 1 once the first is released, then 0.
    /// Before, nothing showed them: they had left the in-flight gauge at their time-out.
    func testTimedOutHandlersAreCountedWhileTheyStillRun() async throws {
        try await withTestTopic(partitions: 1, prefix: "still-in") { input in
            try await withTestTopic(partitions: 1, prefix: "still-out") { output in
                let releases = ["lead-1": GracefulShutdown(), "lead-2": GracefulShutdown()]
                defer { for release in releases.values { release.begin() } }
                let registry = MetricsRegistry()
                let (task, producer) = try runTimedStage(TestBroker.configuration(clientID: "stage"), input: input, output: output,
                                                         group: uniqueTopicName("group"), registry: registry, stage: "still") { record in
                    _ = await releases[record.keyString ?? ""]?.sleep(for: .seconds(3600))
                }
                _ = try await producer.send(["lead-1", "lead-2"].map { ProducerRecord(topic: input, key: $0, value: [1]) })
                func running() -> Double? { registry.value(MetricNames.stageTimedOutHandlersRunning, ["stage": "still"]) }
                let bothCounted: Void? = try? await waitUntil("both handlers timed out", timeoutSeconds: 30) { running() == 2 }
                releases["lead-1"]?.begin()
                let oneCounted: Void? = try? await waitUntil("the released handler returned", timeoutSeconds: 10) { running() == 1 }
                releases["lead-2"]?.begin()
                let noneCounted: Void? = try? await waitUntil("both handlers returned", timeoutSeconds: 10) { running() == 0 }
                task.cancel()
                try await task.value
                await producer.close()
                XCTAssertEqual(registry.value(MetricNames.stageRecordsTimedOut, ["stage": "still"]), 2)
                XCTAssertNotNil(bothCounted, "two hung handlers counted: \(String(describing: running()))")
                XCTAssertNotNil(oneCounted, "one counted once the other returned: \(String(describing: running()))")
                XCTAssertNotNil(noneCounted, "none counted once both returned: \(String(describing: running()))")
            }
        }
    }

    /// More timed-out handlers still running than ``StageRunnerSettings/maxTimedOutHandlers``
    /// stop the runner with ``StageRunnerError/handlersHang(running:bound:)``, so the process
    /// exits and its restart ends them, rather than piling up hung tasks for ever. At the bound
    /// it goes on: the runner stops at the second hung handler of a bound of 1, not the first.
    func testMoreTimedOutHandlersStillRunningThanTheBoundStopTheRunner() async throws {
        try await withTestTopic(partitions: 1, prefix: "pile-in") { input in
            try await withTestTopic(partitions: 1, prefix: "pile-out") { output in
                let released = GracefulShutdown()
                defer { released.begin() }
                let registry = MetricsRegistry()
                let (task, producer) = try runTimedStage(TestBroker.configuration(clientID: "stage"), input: input, output: output,
                                                         group: uniqueTopicName("group"), registry: registry, stage: "pile",
                                                         maxTimedOutHandlers: 1) { record in
                    if record.keyString != "lead-ok" { _ = await released.sleep(for: .seconds(3600)) }
                }
                _ = try await producer.send(ProducerRecord(topic: input, key: "lead-1", value: [1]))
                let oneTimedOut: Void? = try? await waitUntil("the first handler timed out", timeoutSeconds: 30) {
                    registry.value(MetricNames.stageRecordsTimedOut, ["stage": "pile"]) == 1
                }
                // At the bound the runner goes on: a record sent now is handled.
                _ = try await producer.send(ProducerRecord(topic: input, key: "lead-ok", value: [1]))
                let handledAtTheBound: Void? = try? await waitUntil("a record handled at the bound", timeoutSeconds: 30) {
                    registry.value(MetricNames.stageRecordsProduced, ["stage": "pile", "topic": output]) == 2
                }
                _ = try await producer.send(ProducerRecord(topic: input, key: "lead-2", value: [1]))
                let bound = Task {  // a bound on the wait, not a synchronisation: a runner that goes on is stopped
                    try await Task.sleep(for: .seconds(30))
                    task.cancel()
                }
                let stopped = await task.result
                bound.cancel()
                await producer.close()
                XCTAssertNotNil(oneTimedOut)
                XCTAssertNotNil(handledAtTheBound, "the runner stopped at the bound, not past it")
                guard case .failure(let error as StageRunnerError) = stopped, case .handlersHang(let running, let limit) = error else {
                    return XCTFail("the runner went on with two hung handlers: \(stopped)")
                }
                XCTAssertEqual(running, 2)
                XCTAssertEqual(limit, 1)
                XCTAssertTrue(error.description.contains("STAGE_MAX_TIMED_OUT_HANDLERS"), error.description)
            }
        }
    }

    /// A runner of `input` with a record timeout of 1 s (and `maxTimedOutHandlers`), started,
    /// counting in `registry` as `stage`: each record runs `work`, then writes "done" to `output`, where its dead letters go.
    /// The group's session outlasts a broker suspended for 2.5 s (10 s, not the tests' usual 3 s).
    private func runTimedStage(_ configuration: KafkaConfiguration, input: String, output: String, group: String,
                               registry: MetricsRegistry, stage: String, maxTimedOutHandlers: Int = 16,
                               work: @escaping @Sendable (ConsumerRecord) async -> Void) throws -> (Task<Void, Error>, KafkaProducer) {
        let producer = try KafkaProducer(configuration: configuration)
        let runner = try StageRunner(
            configuration: configuration, groupID: group, topics: [input],
            consumerProperties: TestBroker.fastGroupProperties.merging(["session.timeout.ms": "10000"]) { _, new in new },
            producer: producer, settings: StageRunnerSettings(maxInFlight: 10, recordTimeout: .seconds(1),
                                                                     maxTimedOutHandlers: maxTimedOutHandlers),
            logger: Logger(service: "test-stage", level: .error),
            metrics: StageRunnerMetrics(registry: registry, stage: stage), deadLetter: testDeadLetter(topic: output)
        ) { record in
            await work(record)
            return [ProducerRecord(topic: output, key: record.key, value: Array("done".utf8))]
        }
        return (Task { try await runner.run() }, producer)
    }

    /// A record whose outputs go in steps, the second refused by the broker: its request is
    /// dead-lettered, and the first step's records, which were written, are counted as produced,
    /// and so is the letter.
    func testTheRecordsOfEarlierStepsAreCountedWhenALaterStepIsRefused() async throws {
        try await withTestTopic(partitions: 1, prefix: "steps-in") { input in
            try await withTestTopic(partitions: 1, prefix: "steps-out") { output in
                // Records above 1,000 bytes are refused by the producer itself, for good.
                let configuration = TestBroker.configuration(clientID: "stage", properties: ["message.max.bytes": "1000"])
                let producer = try KafkaProducer(configuration: configuration)
                let registry = MetricsRegistry()
                let group = uniqueTopicName("group")
                let runner = try StageRunner(
                    configuration: configuration, groupID: group, topics: [input], consumerProperties: TestBroker.fastGroupProperties,
                    producer: producer, logger: Logger(service: "test-stage", level: .error),
                    metrics: StageRunnerMetrics(registry: registry, stage: "steps"), deadLetter: testDeadLetter(topic: output)
                ) { record, _ in
                    RecordOutputs([ProducerRecord(topic: output, key: record.key, value: [1])]) { _ in
                        RecordOutputs([ProducerRecord(topic: output, key: record.key, value: Array(repeating: 2, count: 2_000))], next: nil)
                    }
                }
                let task = Task { try await runner.run() }
                _ = try await producer.send([ProducerRecord(topic: input, key: "lead-1", value: [0])])
                let admin = try KafkaAdmin(configuration: TestBroker.configuration())
                let partition = TopicPartition(topic: input, partition: 0)
                try await waitUntil("the request committed") {
                    try await admin.committedOffsets(group: group, partitions: [partition])[partition] == 1
                }
                task.cancel()
                try await task.value
                await producer.close()
                let outputs = try await admin.watermarks([TopicPartition(topic: output, partition: 0)]).values.first?.high
                XCTAssertEqual(outputs, 2, "the first step and the dead letter")
                XCTAssertEqual(registry.value(MetricNames.stageRecordsProduced, ["stage": "steps", "topic": output]), 2,
                               "the first step's record and the dead letter (the test's letters go to the output topic) were written")
            }
        }
    }
}
