import Kafka
import Runtime

/// Copies librdkafka's statistics reports into a process's metrics (the `pipeline_kafka_*`
/// families of ``MetricNames``), labelled by the client's handle name and, for broker figures,
/// the broker.
public enum KafkaStatisticsMetrics {
    /// Sets every family from one report. librdkafka's cumulative counts raise the counters to
    /// their totals; the consumer group state and the partition lags replace this client's
    /// earlier series, so a revoked partition or a left state disappears.
    public static func record(_ statistics: KafkaStatistics, in registry: MetricsRegistry) {
        let client = ["client": statistics.name]
        if statistics.type == "producer" {
            registry.gauge(MetricNames.kafkaProducerQueueMessages, client).set(Double(statistics.queuedMessages))
            registry.gauge(MetricNames.kafkaProducerQueueBytes, client).set(Double(statistics.queuedBytes))
        }
        registry.gauge(MetricNames.kafkaReplyQueueOps, client).set(Double(statistics.replyQueueOps))
        registry.counter(MetricNames.kafkaTransmittedBytes, client).raise(to: Double(statistics.transmittedBytes))
        registry.counter(MetricNames.kafkaReceivedBytes, client).raise(to: Double(statistics.receivedBytes))
        for (error, count) in statistics.errors {
            registry.counter(MetricNames.kafkaClientErrors, ["client": statistics.name, "error": error]).raise(to: Double(count))
        }
        for broker in statistics.brokers {
            let labels = ["client": statistics.name, "broker": broker.name]
            registry.gauge(MetricNames.kafkaBrokerUp, labels).set(broker.state == "UP" ? 1 : 0)
            registry.gauge(MetricNames.kafkaBrokerRTTSeconds, labels).set(Double(broker.rttAverageMicroseconds) / 1_000_000)
            registry.gauge(MetricNames.kafkaBrokerRTTP99Seconds, labels).set(Double(broker.rttP99Microseconds) / 1_000_000)
            registry.gauge(MetricNames.kafkaBrokerOutbufRequests, labels).set(Double(broker.outbufRequests))
            registry.gauge(MetricNames.kafkaBrokerWaitrespRequests, labels).set(Double(broker.waitingResponses))
            registry.counter(MetricNames.kafkaBrokerTransmitErrors, labels).raise(to: Double(broker.transmitErrors))
            registry.counter(MetricNames.kafkaBrokerReceiveErrors, labels).raise(to: Double(broker.receiveErrors))
            registry.counter(MetricNames.kafkaBrokerRequestTimeouts, labels).raise(to: Double(broker.requestTimeouts))
            registry.counter(MetricNames.kafkaBrokerDisconnects, labels).raise(to: Double(broker.disconnects))
        }
        if let group = statistics.group {
            registry.counter(MetricNames.kafkaGroupRebalances, client).raise(to: Double(group.rebalances))
            registry.gauge(MetricNames.kafkaGroupRebalanceAgeSeconds, client).set(Double(group.rebalanceAgeMilliseconds) / 1000)
            let state = ["client": statistics.name, "state": group.state, "join_state": group.joinState]
            registry.replaceGauges(MetricNames.kafkaGroupState, with: [state: 1]) { $0["client"] == statistics.name }
        }
        if statistics.type == "consumer" {
            let lags = statistics.consumerLag.reduce(into: [[String: String]: Double]()) { result, entry in
                let labels = ["client": statistics.name, "topic": entry.key.topic, "partition": String(entry.key.partition)]
                result[labels] = Double(entry.value)
            }
            registry.replaceGauges(MetricNames.kafkaConsumerLag, with: lags) { $0["client"] == statistics.name }
        }
    }
}

extension KafkaConfiguration {
    /// This configuration with a ``KafkaConfiguration/statisticsObserver`` that records every
    /// report of its producers and group consumers in `registry`.
    public func reportingStatistics(to registry: MetricsRegistry) -> KafkaConfiguration {
        var configuration = self
        configuration.statisticsObserver = { KafkaStatisticsMetrics.record($0, in: registry) }
        return configuration
    }
}
