import Kafka
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

        metrics.recordConsumed([requests[0], priority, requests[1], requests[2]])
        metrics.recordConsumed([])
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
}
