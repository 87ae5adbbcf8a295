import Foundation
import Kafka
import KafkaTestSupport
import Runtime
import Stages
import Streaming
import XCTest

/// A stage process's Kafka clients report librdkafka's statistics into the registry its
/// endpoint serves (real broker).
final class StageKafkaStatisticsTests: XCTestCase {
    func testScoringStageAndItsAggregatorReportTheirClients() async throws {
        try await withNamespace(service: "scoring-stage") { environment in
            var environment = environment
            environment.kafka.properties["statistics.interval.ms"] = "500"
            let service = try StageService.makeScoringStage(
                environment: environment, configuration: StageConfiguration(consumerProperties: TestBroker.fastGroupProperties))
            try await withRunning({ _ = try? await service.run() }) {
                // The stage's and the aggregator's group consumers, each settled in its group, and both producers.
                try await waitUntil("two settled group consumers and two producers", timeoutSeconds: 60) {
                    let settled = service.metrics.labelSets(of: MetricNames.kafkaGroupState).filter { $0["join_state"] == "steady" }
                    return Set(settled.compactMap { $0["client"] }).count >= 2
                        && service.metrics.labelSets(of: MetricNames.kafkaProducerQueueMessages).count >= 2
                }
                let rtts = service.metrics.labelSets(of: MetricNames.kafkaBrokerRTTSeconds)
                XCTAssertFalse(rtts.isEmpty)
                for labels in rtts {
                    XCTAssertGreaterThanOrEqual(try XCTUnwrap(service.metrics.value(MetricNames.kafkaBrokerRTTSeconds, labels)), 0)
                }
                XCTAssertTrue(service.metrics.render().contains("pipeline_kafka_consumer_group_rebalances_total{client=\"scoring-stage#consumer-"))
            }
        }
    }
}
