import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import XCTest

/// A phase stage whose partition is revoked in a rebalance while a request waits, against the
/// real broker, in a namespace of its own.
final class StageRevocationTests: XCTestCase {
    /// A pipeline environment of one partition per topic, as ``withNamespace(service:_:)`` makes.
    private func withOnePartition(service: String, _ body: (PipelineEnvironment) async throws -> Void) async throws {
        let environment = try PipelineEnvironment(service: service, environment: [
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("stage"),
            "PIPELINE_PARTITIONS": "1", "SIM_LATENCY_SCALE": "0", "LOG_LEVEL": "warning",
        ])
        try await environment.ensureTopics()
        try await deletingTopics(environment.topics.all, configuration: environment.kafka) { try await body(environment) }
    }

    /// A scoring request waiting out its latency (a model call's stand-in, 16 s) when a second
    /// member joins the stage's group and the eager assignor revokes every partition and gives
    /// the request's to the member (whose id sorts first; it does not run it): the wait
    /// ends at once and the request is handed back uncommitted, so the revocation does not wait
    /// out the drain timeout (8 s), and no result is written by the old owner afterwards. Before,
    /// the stop the revocation began never reached the handler: the revocation took the whole
    /// drain timeout, and the handler, once its sleep was over, wrote its result beside the
    /// partition's next owner.
    func testARevocationEndsTheWaitOfARequestInFlightAndNothingIsWrittenAfterIt() async throws {
        try await withOnePartition(service: "scoring-stage") { environment in
            var environment = environment
            let log = LogLines()
            environment.logger = log.logger(service: "scoring-stage")
            environment.simulation.scoring = SimulationSettings.ProviderBehavior(meanLatency: .seconds(16))
            let (topics, codec) = (environment.topics, environment.codec)
            let producer = try KafkaProducer(configuration: environment.kafka)
            _ = try await producer.send(Fixtures.configurationRecords(in: environment))
            var configuration = StageConfiguration(consumerProperties: TestBroker.fastGroupProperties)
            configuration.runner.drainTimeout = .seconds(8)
            let service = try StageService.makeScoringStage(environment: environment, configuration: configuration,
                                                            scorer: FixedScorer.active())
            let running = Task { try await service.run() }
            let request = Fixtures.request(.scoring, profile: Fixtures.profile())
            let report = try await producer.send(try codec.record(request, topic: topics.phaseRequests(.scoring), key: "lead-1"))
            await producer.close()
            try await waitUntil("the request is in flight", timeoutSeconds: 60) {
                (service.metrics.value(MetricNames.stageInFlight, ["stage": "scoring"]) ?? 0) >= 1
            }
            let inFlightSince = ContinuousClock.now

            var memberKafka = environment.kafka
            memberKafka.clientID = "0-member"  // first in the range assignor's order: given the partitions
            let (member, joinedAt) = try await joiningMember(of: service.groupID, topics: service.inputTopics, configuration: memberKafka)
            let revoking = try XCTUnwrap(log.first(containing: "revoking: waiting for records in flight"), "the revocation waited for nothing")
            let took = joinedAt - revoking
            // Past the latency: a handler still running has written its result by then.
            let past = inFlightSince + .seconds(19) - ContinuousClock.now
            if past > .zero { try await Task.sleep(for: past) }
            let results = try await readAll(topics.phaseResults, environment)
            let partition = TopicPartition(topic: report.topic, partition: report.partition)
            let memberHasIt = member.assignment.contains(partition)
            let committed = try await KafkaAdmin(configuration: environment.kafka).committedOffsets(group: service.groupID, partitions: [partition])
            running.cancel()
            try await running.value
            await member.close()
            print("revocation took \(took)")
            XCTAssertTrue(memberHasIt, "the request's partition went back to the stage: the test shows nothing")
            XCTAssertLessThan(took, .seconds(5), "the revocation waited out the request's latency (drain timeout 8 s)")
            XCTAssertEqual(results.count, 0, "the old owner wrote a result after its partition was revoked")
            XCTAssertNil(log.first(containing: "records still in flight handed back uncommitted"), "the revocation gave up on the request")
            XCTAssertLessThanOrEqual(committed[partition].flatMap { $0 } ?? 0, report.offset, "the unfinished request was committed")
        }
    }
}
