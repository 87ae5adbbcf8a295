@testable import Kafka
import Runtime
@testable import Streaming
import XCTest

/// What a stage runner counts per record, by topic: records consumed, records produced and the
/// processing time, each in its topic's series. No broker: the records are made here.
final class StageRunnerMetricsTests: XCTestCase {
    func testRecordsAreCountedInTheSeriesOfTheirOwnTopic() {
        let registry = MetricsRegistry()
        let metrics = StageRunnerMetrics(registry: registry, stage: "profile")
        let requests = (0..<3).map { ConsumerRecord(topic: "requests", partition: 0, offset: Int64($0), key: nil, value: nil) }
        let priority = ConsumerRecord(topic: "priority", partition: 1, offset: 0, key: nil, value: nil)

        for record in [requests[0], priority, requests[1], requests[2]] { metrics.recordStarted(record) }
        metrics.recordFinished(requests[0], outputs: [ProducerRecord(topic: "results", key: "a", value: []),
                                                      ProducerRecord(topic: "usage", key: "a", value: [])],
                               after: .milliseconds(20))
        metrics.recordFinished(priority, outputs: [ProducerRecord(topic: "results", key: "b", value: [])], after: .milliseconds(40))

        func value(_ descriptor: MetricDescriptor, _ topic: String) -> Double? {
            registry.value(descriptor, ["stage": "profile", "topic": topic])
        }
        XCTAssertEqual(value(MetricNames.stageRecordsConsumed, "requests"), 3)
        XCTAssertEqual(value(MetricNames.stageRecordsConsumed, "priority"), 1)
        XCTAssertEqual(value(MetricNames.stageRecordsProduced, "results"), 2)
        XCTAssertEqual(value(MetricNames.stageRecordsProduced, "usage"), 1)
        XCTAssertNil(value(MetricNames.stageRecordsProduced, "requests"), "no series for a topic nothing was produced to")
        XCTAssertNil(value(MetricNames.stageRecordsConsumed, "results"))

        let text = registry.render()
        XCTAssertTrue(text.contains("pipeline_stage_processing_seconds_count{stage=\"profile\",topic=\"requests\"} 1\n"), text)
        XCTAssertTrue(text.contains("pipeline_stage_processing_seconds_sum{stage=\"profile\",topic=\"priority\"} 0.04\n"), text)
    }

    /// A record run as the runner's task runs it (``StageRunner/process(_:handler:delivery:metrics:stop:abandonment:)``)
    /// over a send that refuses the `out` topic's records for good: its dead letter and its
    /// failed answer are what the stage produced for it, and count as produced, in their topics'
    /// series; the record counts as consumed once, when it runs. Before: neither the letter nor
    /// the answer was counted as produced (only by the letter's kind), and the record was counted
    /// consumed when polled, not here, so one dropped unstarted at a revocation counted too.
    func testARecordsOwnDeadLetterAndAnswerCountAsProducedAndTheRecordAsConsumedWhenItRuns() async {
        let registry = MetricsRegistry()
        let metrics = StageRunnerMetrics(registry: registry, stage: "profile")
        let delivery = OutputDelivery(
            send: { records in
                records.enumerated().map { index, record in
                    record.topic == "out" ? .failure(KafkaError(code: 10 /* MSG_SIZE_TOO_LARGE */, operation: "produce"))
                        : .success(DeliveryReport(topic: record.topic, partition: 0, offset: Int64(index)))
                }
            },
            deadLetter: { input, reason in ProducerRecord(topic: "dead", key: input.key, value: Array(reason.utf8)) },
            answer: { input, reason in ProducerRecord(topic: "results", key: input.key, value: Array(reason.utf8)) },
            logger: Logger(service: "test-stage", level: .error), abandonment: Abandonment())
        let record = ConsumerRecord(topic: "requests", partition: 0, offset: 7, key: Array("lead-1".utf8), value: [1])
        let outcome = await StageRunner.process(
            record, handler: { record, _ in RecordOutputs([ProducerRecord(topic: "out", key: record.key, value: [2])]) },
            delivery: delivery, metrics: metrics, stop: GracefulShutdown(), abandonment: Abandonment())
        guard case .deadLettered = outcome else { return XCTFail("\(outcome)") }

        func value(_ descriptor: MetricDescriptor, _ labels: [String: String]) -> Double? {
            registry.value(descriptor, labels.merging(["stage": "profile"]) { own, _ in own })
        }
        XCTAssertEqual(value(MetricNames.stageRecordsProduced, ["topic": "dead"]), 1, "the letter")
        XCTAssertEqual(value(MetricNames.stageRecordsProduced, ["topic": "results"]), 1, "the failed answer")
        XCTAssertNil(value(MetricNames.stageRecordsProduced, ["topic": "out"]), "the refused output was not produced")
        XCTAssertEqual(value(MetricNames.stageOutputFailures, [:]), 1)
        XCTAssertEqual(value(MetricNames.stageRecordsConsumed, ["topic": "requests"]), 1, "consumed once it runs")
    }
}
