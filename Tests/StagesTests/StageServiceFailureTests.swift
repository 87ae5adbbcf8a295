import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Stages
import Streaming
import Synchronization
import XCTest

/// A stage whose broker goes away while it answers requests (issue 17: stages dropped their
/// outputs and leads finished with every phase skipped), and one whose output the broker refuses.
final class StageServiceFailureTests: XCTestCase {
    /// Holds requests until it opens, counting the ones that arrived and the ones answered.
    final class Gate: Sendable {
        private let state = Mutex((isOpen: false, entered: 0, answered: 0))
        var entered: Int { state.withLock { $0.entered } }
        var answered: Int { state.withLock { $0.answered } }
        func open() { state.withLock { $0.isOpen = true } }

        func pass() async {
            state.withLock { $0.entered += 1 }
            while !state.withLock({ $0.isOpen }) { try? await Task.sleep(for: .milliseconds(20)) }
            state.withLock { $0.answered += 1 }
        }
    }

    /// The finalize stage's handler behind a ``Gate``.
    struct GatedFinalizeHandler: PhaseHandler {
        let phase = Phase.finalize
        let gate: Gate
        let inner = FinalizeStageHandler(service: "finalize-stage")

        func handle(_ request: PhaseRequest) async -> StageOutput {
            await gate.pass()
            return await inner.handle(request)
        }
    }

    func testAStageWaitsOutABrokerOutageAndAnswersEveryRequest() async throws {
        let broker = PrivateBroker()
        defer { broker.stop() }
        let environment = try PipelineEnvironment(service: "finalize-stage", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("outage"),
            "PIPELINE_PARTITIONS": "2", "LOG_LEVEL": "warning",
            // Requests in flight time out (and are sent again) several times during the outage.
            "KAFKA_PROPERTY_REQUEST_TIMEOUT_MS": "1000",
        ])
        try await environment.ensureTopics()
        let topics = environment.topics
        let gate = Gate()
        let service = try StageService(
            environment: environment, configuration: StageConfiguration(consumerProperties: TestBroker.fastGroupProperties),
            handler: GatedFinalizeHandler(gate: gate))
        let task = Task { try await service.run() }
        let publisher = try KafkaProducer(configuration: environment.kafka)
        _ = try await publisher.send((0..<20).map { i in
            try environment.codec.record(Fixtures.request(.finalize, lead: Fixtures.lead(id: "lead-\(i)")),
                                         topic: topics.phaseRequests(.finalize), key: "lead-\(i)")
        })
        await publisher.close()
        try await waitUntil("every request in the handler") { gate.entered == 20 }

        // The stage answers while the broker is away.
        broker.suspend()
        gate.open()
        try await waitUntil("every request answered") { gate.answered == 20 }
        // The outage's length: longer than librdkafka's default message.timeout.ms (30 s), after
        // which a send used to fail and the local broker fenced the producer.
        try await Task.sleep(for: .seconds(35))
        broker.resume()

        let admin = try KafkaAdmin(configuration: environment.kafka)
        try await waitUntil("every request committed", timeoutSeconds: 90) {
            try await admin.lag(group: service.groupID, topics: service.inputTopics).reduce(0) { $0 + $1.lag } == 0
        }
        let reader = try KafkaConsumer(configuration: environment.kafka, groupID: uniqueTopicName("reader"),
                                       topics: [topics.phaseResults, topics.deadLetters], properties: TestBroker.fastGroupProperties)
        // Every request answered; a result may come twice (sent again after the outage: results
        // are at least once, and the coordinator drops a duplicate).
        var outputs: [ConsumerRecord] = []
        var answered: Set<String> = []
        try? await waitUntil("a result for every request", timeoutSeconds: 60, pollMilliseconds: 0) {
            outputs += try await reader.poll(maxRecords: 1000, timeoutMilliseconds: 100)
            answered = Set(outputs.filter { $0.topic == topics.phaseResults }.compactMap(\.keyString))
            return answered.count == 20
        }
        await reader.close()
        XCTAssertEqual(outputs.filter { $0.topic == topics.deadLetters }.count, 0)
        let results = try outputs.map { try environment.codec.decode(PhaseResult.self, record: $0) }
        XCTAssertEqual(Set(results.map(\.leadID.rawValue)).count, 20, "every request answered")
        XCTAssertTrue(results.allSatisfy { $0.outcome == .completed }, "\(results.map(\.outcome))")
        XCTAssertNil(service.health.failure)

        task.cancel()
        try await task.value  // the stage never stopped by itself
        try? await admin.deleteTopics(topics.all)
    }

    /// SIGTERM to a scoring process while the broker is away, with account heat held to be
    /// written (``AccountHeatAggregator`` writes it on shutdown) and the stage's own work done:
    /// the whole service, its heat companion, tables and producer included, ends within the
    /// process's shutdown bound (10 s), cleanly, instead of waiting for the broker. The heat it
    /// could not write has its contributions uncommitted, so the next owner applies them again.
    func testAScoringProcessStoppedDuringAnOutageEndsWithinTheShutdownBound() async throws {
        let broker = PrivateBroker()
        defer { broker.stop() }
        let environment = try PipelineEnvironment(service: "scoring-stage", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("outage"),
            "PIPELINE_PARTITIONS": "2", "LOG_LEVEL": "warning", "SIM_LATENCY_SCALE": "0",
            "KAFKA_PROPERTY_REQUEST_TIMEOUT_MS": "1000",
        ])
        try await environment.ensureTopics()
        let topics = environment.topics
        let codec = environment.codec
        let publisher = try KafkaProducer(configuration: environment.kafka)
        _ = try await publisher.send(Fixtures.configurationRecords(in: environment))
        // Heat is held for a minute: at SIGTERM it is still to be written.
        let service = try StageService.makeScoringStage(
            environment: environment,
            configuration: StageConfiguration(consumerProperties: TestBroker.fastGroupProperties, heatWriteInterval: .seconds(60)),
            scorer: FixedScorer.active())
        let task = Task { try await service.run() }
        let asking = [Fixtures.post("Can anyone recommend an alternative to Outreach?", daysAgo: 1)]
        _ = try await publisher.send(try (1...3).map { i in
            let lead = Fixtures.lead(id: "lead-\(i)")
            return try codec.record(Fixtures.request(.scoring, lead: lead, profile: Fixtures.profile(leadID: "lead-\(i)", posts: asking)),
                                    topic: topics.phaseRequests(.scoring), key: "lead-\(i)")
        })
        await publisher.close()
        let reader = try KafkaConsumer(configuration: environment.kafka, groupID: uniqueTopicName("reader"),
                                       topics: [topics.accountSignals], properties: TestBroker.fastGroupProperties)
        _ = try await consume(reader, count: 1, timeoutSeconds: 60)
        await reader.close()

        broker.suspend()
        let sigterm = ContinuousClock.now
        task.cancel()
        // Waited for at most 30 s: before the fix the heat's last write waited for the broker for good.
        let ended = Mutex<(outcome: Result<Void, Error>, at: ContinuousClock.Instant)?>(nil)
        Task {
            let outcome: Result<Void, Error>
            do { try await task.value; outcome = .success(()) } catch { outcome = .failure(error) }
            ended.withLock { $0 = (outcome, ContinuousClock.now) }
        }
        try? await waitUntil("the service ended", timeoutSeconds: 30) { ended.withLock { $0 } != nil }
        let outcome = ended.withLock { $0 }
        broker.resume()
        let took = try XCTUnwrap(outcome, "the service had not ended 30 s after SIGTERM").at - sigterm
        XCTAssertLessThan(took, .seconds(10), "the shutdown bound is 10 s; took \(took)")
        if case .failure(let error)? = outcome?.outcome {
            XCTFail("a shutdown during an outage is not a failure: \(error)")
        }
        XCTAssertNil(service.health.failure)
        // The heat not written has its contributions uncommitted: the next owner applies them.
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let contributions = try await admin.partitions(of: topics.accountSignalContributions)
        let ends = try await admin.watermarks(contributions)
        let committed = try await admin.committedOffsets(group: topics.accountHeatGroup, partitions: contributions)
        XCTAssertGreaterThan(ends.values.reduce(0) { $0 + $1.high }, 0, "contributions were written")
        for partition in contributions where (ends[partition]?.high ?? 0) > 0 {
            XCTAssertLessThan(committed[partition].flatMap { $0 } ?? 0, ends[partition]?.high ?? 0, "\(partition)")
        }
    }

    /// A run's pool entry the broker refuses (here the producer, its `message.max.bytes` between
    /// the entry and the result) dead-letters its request and answers nothing, on the first
    /// attempt and on the retried one: the run is forgotten through the runner's dead letter
    /// (``PhaseHandler/outputNotWritten(for:)``), so the next attempt writes the entry again.
    /// Without that, the retried attempt answered completed with no entry written, and the
    /// coordinator would make the lead ready with none in the pool. A third attempt whose entry
    /// fits writes it and answers completed, naming where it is.
    func testAPoolEntryTheBrokerRefusesIsWrittenByALaterAttemptNeverAnsweredCompletedWithout() async throws {
        try await withNamespace(service: "finalize-stage") { namespaced in
            let lead = Fixtures.lead(id: "lead-refused")
            var big = Fixtures.profile(leadID: "lead-refused")
            big.linkedin?.headline = String(repeating: "Revenue operations leader. ", count: 150)  // about 4 KB
            let requests = [
                Fixtures.request(.finalize, lead: lead, attempt: 1, profile: big),
                Fixtures.request(.finalize, lead: lead, attempt: 2, profile: big),
                Fixtures.request(.finalize, lead: lead, attempt: 3, profile: EnrichedProfile(discovered: lead)),
            ]
            let topics = namespaced.topics
            let sizes = { (request: PhaseRequest) async throws -> (entry: Int, result: Int) in
                let output = await FinalizeStageHandler(service: "finalize-stage").handle(request)
                let records = try output.records(topics: topics, codec: namespaced.codec)
                return (try XCTUnwrap(records.first { $0.topic == topics.leadPool }).byteCount,
                        try XCTUnwrap(records.last).byteCount)
            }
            let (bigEntry, result) = try await sizes(requests[0])
            let (smallEntry, _) = try await sizes(requests[2])
            let limit = (bigEntry + max(smallEntry, result, 1_000)) / 2
            XCTAssertGreaterThan(bigEntry, limit + 500)
            XCTAssertLessThan(max(smallEntry, result), limit - 500)
            var environment = namespaced
            environment.kafka.properties["message.max.bytes"] = String(limit)
            let service = try StageService(
                environment: environment, configuration: StageConfiguration(consumerProperties: TestBroker.fastGroupProperties),
                handler: FinalizeStageHandler(service: "finalize-stage"))
            let task = Task { try await service.run() }
            let publisher = try KafkaProducer(configuration: namespaced.kafka)
            _ = try await publisher.send(try requests.map {
                try namespaced.codec.record($0, topic: topics.phaseRequests(.finalize), key: $0.leadID.rawValue)
            })
            await publisher.close()
            // One key: the stage takes the attempts in order, each once the one before is written
            // or dead-lettered; the results share a partition, read in the order written.
            let reader = try KafkaConsumer(configuration: namespaced.kafka, groupID: uniqueTopicName("reader"),
                                           topics: [topics.phaseResults], properties: TestBroker.fastGroupProperties)
            var results: [PhaseResult] = []
            while !results.contains(where: { $0.attempt == 3 }) {
                results += try await consume(reader, count: 1).map { try namespaced.codec.decode(PhaseResult.self, record: $0) }
            }
            await reader.close()
            task.cancel()
            try await task.value

            XCTAssertEqual(results.map(\.attempt), [1, 2, 3])
            for refused in results.prefix(2) {
                // Answered once dead-lettered, so the coordinator retries (finalize until it
                // completes) after its backoff instead of waiting out the attempt's timeout;
                // never answered completed.
                guard case .failed(let reason, let isRetriable) = refused.outcome else { return XCTFail("\(refused.outcome)") }
                XCTAssertFalse(isRetriable)
                XCTAssertTrue(reason.contains("dead-lettered") && reason.contains(topics.leadPool), reason)
                XCTAssertNil(refused.poolEntry)
            }
            XCTAssertEqual(results.last?.outcome, .completed, "the attempt whose entry was written")
            XCTAssertNotNil(results.last?.poolEntry, "the result names the entry")
            let letters = try await readAll(topics.deadLetters, namespaced)
            XCTAssertEqual(letters.count, 2, "attempts 1 and 2")
            let pool = try await readAll(topics.leadPool, namespaced)
            XCTAssertEqual(pool.count, 1, "only the third attempt's entry")
        }
    }

    /// Fails lead-big with a reason over the producer's `message.max.bytes` (1 MB by default).
    struct OversizedResultHandler: PhaseHandler {
        let phase = Phase.finalize

        func handle(_ request: PhaseRequest) async -> StageOutput {
            let reason = request.leadID == "lead-big" ? String(repeating: "x", count: 1_100_000) : "small"
            return StageOutput(result: PhaseResult(answering: request, outcome: .failed(reason: reason, isRetriable: false),
                                                   payload: .empty, finishedAt: Date(), service: "finalize-stage"))
        }
    }

    /// A result above MAX_RECORD_BYTES (that the producer might still accept, up to its own
    /// limit) dead-letters its request, with the request's bytes and the reason, and the requests
    /// behind it on the partition are answered and committed.
    func testARefusedResultDeadLettersItsRequestAndThePartitionMovesOn() async throws {
        try await withNamespace(service: "finalize-stage") { environment in
            let topics = environment.topics
            let service = try StageService(
                environment: environment, configuration: StageConfiguration(consumerProperties: TestBroker.fastGroupProperties),
                handler: OversizedResultHandler())
            let task = Task { try await service.run() }
            let publisher = try KafkaProducer(configuration: environment.kafka)
            // One key, so all three share a partition and lead-big sits between the others.
            let requests = try ["lead-1", "lead-big", "lead-2"].map { id in
                try environment.codec.record(Fixtures.request(.finalize, lead: Fixtures.lead(id: id)),
                                             topic: topics.phaseRequests(.finalize), key: "same-key")
            }
            _ = try await publisher.send(requests)
            await publisher.close()
            let admin = try KafkaAdmin(configuration: environment.kafka)
            try await waitUntil("every request committed") {
                try await admin.lag(group: service.groupID, topics: service.inputTopics).reduce(0) { $0 + $1.lag } == 0
            }
            let reader = try KafkaConsumer(configuration: environment.kafka, groupID: uniqueTopicName("reader"),
                                           topics: [topics.phaseResults, topics.deadLetters], properties: TestBroker.fastGroupProperties)
            let outputs = try await consume(reader, count: 4)
            await reader.close()
            task.cancel()
            try await task.value

            let results = try outputs.filter { $0.topic == topics.phaseResults }.map { try environment.codec.decode(PhaseResult.self, record: $0) }
            XCTAssertEqual(results.map(\.leadID.rawValue), ["lead-1", "lead-big", "lead-2"])
            guard case .failed(let reason, false) = results[1].outcome else { return XCTFail("\(results[1].outcome)") }
            XCTAssertTrue(reason.contains("dead-lettered") && reason.contains("above MAX_RECORD_BYTES"), reason)
            XCTAssertLessThan(reason.count, 2_000, "the letter has the reason whole; the answer says what it is about")
            let letters = try outputs.filter { $0.topic == topics.deadLetters }.map { try environment.codec.decode(DeadLetter.self, record: $0) }
            XCTAssertEqual(letters.count, 1)
            XCTAssertTrue(letters.first?.reason.contains("above MAX_RECORD_BYTES") == true, letters.first?.reason ?? "")
            XCTAssertEqual(letters.first?.original, requests[1].value, "the request itself is small: it travels in its letter")
            XCTAssertEqual(letters.first?.sourceTopic, topics.phaseRequests(.finalize))
        }
    }
}
