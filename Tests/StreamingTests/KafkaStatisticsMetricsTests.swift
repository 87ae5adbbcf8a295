import Foundation
import Kafka
import KafkaTestSupport
import Runtime
import Streaming
import XCTest

/// librdkafka statistics copied into the `pipeline_kafka_*` families: no broker.
final class KafkaStatisticsMetricsTests: XCTestCase {
    let consumer = KafkaStatistics(json: Data(StatisticsSamples.consumer.utf8))!
    let producer = KafkaStatistics(json: Data(StatisticsSamples.producer.utf8))!

    func testConsumerReportBecomesBrokerGroupAndLagSeries() {
        let registry = MetricsRegistry()
        KafkaStatisticsMetrics.record(consumer, in: registry)
        let client = ["client": "scoring-stage#consumer-2"]
        let broker = ["client": "scoring-stage#consumer-2", "broker": "broker-1:9092/1"]
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerRTTSeconds, broker), 0.0015)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerRTTP99Seconds, broker), 0.008)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerUp, broker), 1)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerUp, ["client": client["client"]!, "broker": "127.0.0.1:9092/bootstrap"]), 0)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerOutbufRequests, broker), 2)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerWaitrespRequests, broker), 4)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerTransmitErrors, broker), 7)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerReceiveErrors, broker), 6)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerRequestTimeouts, broker), 5)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerDisconnects, broker), 2)
        XCTAssertEqual(registry.value(MetricNames.kafkaReplyQueueOps, client), 3)
        XCTAssertEqual(registry.value(MetricNames.kafkaTransmittedBytes, client), 90211)
        XCTAssertEqual(registry.value(MetricNames.kafkaReceivedBytes, client), 120933)
        XCTAssertEqual(registry.value(MetricNames.kafkaGroupRebalances, client), 3)
        XCTAssertEqual(registry.value(MetricNames.kafkaGroupRebalanceAgeSeconds, client), 42.5)
        XCTAssertEqual(registry.labelSets(of: MetricNames.kafkaGroupState),
                       [["client": "scoring-stage#consumer-2", "state": "up", "join_state": "steady"]])
        XCTAssertEqual(registry.labelSets(of: MetricNames.kafkaConsumerLag),
                       [["client": "scoring-stage#consumer-2", "topic": "leads.scored", "partition": "0"]])
        XCTAssertEqual(registry.value(MetricNames.kafkaConsumerLag,
                                      ["client": "scoring-stage#consumer-2", "topic": "leads.scored", "partition": "0"]), 5)
        // A consumer has no producer queue.
        XCTAssertTrue(registry.labelSets(of: MetricNames.kafkaProducerQueueMessages).isEmpty)
        XCTAssertTrue(registry.render().contains("pipeline_kafka_broker_rtt_seconds{client=\"scoring-stage#consumer-2\",broker=\"broker-1:9092/1\"} 0.0015\n"),
                      registry.render())
    }

    func testLaterReportReplacesStateAndLagAndKeepsCountersMonotonic() {
        let registry = MetricsRegistry()
        KafkaStatisticsMetrics.record(consumer, in: registry)
        var later = consumer
        later.group = KafkaStatistics.ConsumerGroup(state: "up", joinState: "wait-join", rebalances: 4, rebalanceAgeMilliseconds: 10)
        later.consumerLag = [TopicPartition(topic: "leads.scored", partition: 1): 0]
        // A counter copied from a total never goes down (a total read before a reset).
        later.brokers[1].transmitErrors = 1
        KafkaStatisticsMetrics.record(later, in: registry)
        let client = ["client": "scoring-stage#consumer-2"]
        XCTAssertEqual(registry.labelSets(of: MetricNames.kafkaGroupState),
                       [["client": "scoring-stage#consumer-2", "state": "up", "join_state": "wait-join"]])
        XCTAssertEqual(registry.labelSets(of: MetricNames.kafkaConsumerLag),
                       [["client": "scoring-stage#consumer-2", "topic": "leads.scored", "partition": "1"]])
        XCTAssertEqual(registry.value(MetricNames.kafkaGroupRebalances, client), 4)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerTransmitErrors,
                                      ["client": "scoring-stage#consumer-2", "broker": "broker-1:9092/1"]), 7)
    }

    func testProducerReportSetsQueueGaugesAndOtherClientsStay() {
        let registry = MetricsRegistry()
        KafkaStatisticsMetrics.record(consumer, in: registry)
        var producer = producer
        producer.errors = ["_TRANSPORT": 3, "_ALL_BROKERS_DOWN": 1]
        KafkaStatisticsMetrics.record(producer, in: registry)
        let client = ["client": "coordinator#producer-1"]
        XCTAssertEqual(registry.value(MetricNames.kafkaClientErrors, ["client": "coordinator#producer-1", "error": "_TRANSPORT"]), 3)
        XCTAssertEqual(registry.value(MetricNames.kafkaClientErrors, ["client": "coordinator#producer-1", "error": "_ALL_BROKERS_DOWN"]), 1)
        XCTAssertEqual(registry.value(MetricNames.kafkaProducerQueueMessages, client), 12)
        XCTAssertEqual(registry.value(MetricNames.kafkaProducerQueueBytes, client), 3456)
        XCTAssertEqual(registry.value(MetricNames.kafkaBrokerRTTSeconds, ["client": "coordinator#producer-1", "broker": "127.0.0.1:9092/1"]),
                       0.00025)
        // The producer's report leaves the consumer's group and lag series alone.
        XCTAssertEqual(registry.labelSets(of: MetricNames.kafkaGroupState).count, 1)
        XCTAssertEqual(registry.labelSets(of: MetricNames.kafkaConsumerLag).count, 1)
    }

    func testConfigurationReportsIntoTheRegistry() throws {
        let registry = MetricsRegistry()
        let configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: "x").reportingStatistics(to: registry)
        let observer = try XCTUnwrap(configuration.statisticsObserver)
        observer(producer)
        XCTAssertEqual(registry.value(MetricNames.kafkaProducerQueueMessages, ["client": "coordinator#producer-1"]), 12)
    }
}
