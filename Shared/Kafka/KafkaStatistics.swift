import CRdKafka
import Foundation
import Synchronization

/// Receives a client's librdkafka statistics, every `statistics.interval.ms`, on the thread
/// that polls the client (the producer's delivery thread, the consumer's poll queue). Keep it
/// short: the client serves nothing else meanwhile.
public typealias KafkaStatisticsObserver = @Sendable (KafkaStatistics) -> Void

/// The figures of one librdkafka statistics report that the pipeline exports (librdkafka's
/// STATISTICS.md names the fields). Counts marked "total" are cumulative since the client
/// started; the others are the value now.
public struct KafkaStatistics: Sendable, Equatable {
    /// The handle's name (`name`, `<client.id>#producer-1`), unique within the process.
    public var name: String
    /// `client_id`.
    public var clientID: String
    /// `type`: `producer` or `consumer`.
    public var type: String
    /// `replyq`: callbacks and events waiting for the application to poll them.
    public var replyQueueOps: Int64
    /// `msg_cnt`: messages in the producer's queues (0 for a consumer).
    public var queuedMessages: Int64
    /// `msg_size`: bytes of those messages.
    public var queuedBytes: Int64
    /// `tx_bytes`: bytes sent to the brokers, total: requests as they go on the wire, so a
    /// producer's records compressed when `compression.type` says so.
    public var transmittedBytes: Int64 = 0
    /// `rx_bytes`: bytes received from the brokers, total: a consumer's fetched batches as the
    /// broker keeps them (compressed as their producer wrote them).
    public var receivedBytes: Int64 = 0
    /// The real brokers (not librdkafka's internal and logical ones), by name.
    public var brokers: [Broker]
    /// The consumer group handler (`cgrp`); nil for producers.
    public var group: ConsumerGroup?
    /// `consumer_lag` of each partition the consumer is assigned (`desired`) whose lag is known.
    public var consumerLag: [TopicPartition: Int64]
    /// Error events librdkafka reported to the client (its error callback), by error name
    /// (`_TRANSPORT`, `_ALL_BROKERS_DOWN`, ...), total. Not part of librdkafka's document: the
    /// client counts them and adds them to each report.
    public var errors: [String: Int64] = [:]

    /// One broker connection (`brokers.<name>`).
    public struct Broker: Sendable, Equatable {
        /// The key in `brokers`: `host:port/nodeid` (`/bootstrap` before metadata names it).
        public var name: String
        /// `state`: `UP`, `DOWN`, `CONNECT`, ...
        public var state: String
        /// `rtt.avg`: average round-trip time of the last window, in microseconds.
        public var rttAverageMicroseconds: Int64
        /// `rtt.p99`, in microseconds.
        public var rttP99Microseconds: Int64
        /// `outbuf_cnt`: requests waiting to be sent.
        public var outbufRequests: Int64
        /// `waitresp_cnt`: requests sent and waiting for their response.
        public var waitingResponses: Int64
        /// `txerrs`: transmission errors, total.
        public var transmitErrors: Int64
        /// `rxerrs`: receive errors, total.
        public var receiveErrors: Int64
        /// `req_timeouts`: requests timed out, total.
        public var requestTimeouts: Int64
        /// `disconnects`: connections lost, total.
        public var disconnects: Int64

        public init(name: String, state: String, rttAverageMicroseconds: Int64, rttP99Microseconds: Int64,
                    outbufRequests: Int64, waitingResponses: Int64, transmitErrors: Int64, receiveErrors: Int64,
                    requestTimeouts: Int64, disconnects: Int64) {
            self.name = name
            self.state = state
            self.rttAverageMicroseconds = rttAverageMicroseconds
            self.rttP99Microseconds = rttP99Microseconds
            self.outbufRequests = outbufRequests
            self.waitingResponses = waitingResponses
            self.transmitErrors = transmitErrors
            self.receiveErrors = receiveErrors
            self.requestTimeouts = requestTimeouts
            self.disconnects = disconnects
        }
    }

    /// The consumer group handler (`cgrp`).
    public struct ConsumerGroup: Sendable, Equatable {
        /// `state`: `up` once the coordinator is known, else `init`, `wait-coord`, ...
        public var state: String
        /// `join_state`: `steady` when assigned, else `wait-join`, `wait-sync`, ...
        public var joinState: String
        /// `rebalance_cnt`: rebalances (assign or revoke), total.
        public var rebalances: Int64
        /// `rebalance_age`: milliseconds since the last rebalance.
        public var rebalanceAgeMilliseconds: Int64

        public init(state: String, joinState: String, rebalances: Int64, rebalanceAgeMilliseconds: Int64) {
            self.state = state
            self.joinState = joinState
            self.rebalances = rebalances
            self.rebalanceAgeMilliseconds = rebalanceAgeMilliseconds
        }
    }

    /// `statistics.interval.ms` of a client given an observer, unless the configuration's
    /// properties set it.
    public static let defaultIntervalMilliseconds = 15_000

    /// Reads a statistics document; nil when it is not a JSON object naming its handle.
    /// Missing numbers read as 0.
    public init?(json: Data) {
        guard let root = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any],
              let name = root["name"] as? String else { return nil }
        self.name = name
        clientID = root["client_id"] as? String ?? ""
        type = root["type"] as? String ?? ""
        replyQueueOps = Self.number(root["replyq"])
        queuedMessages = Self.number(root["msg_cnt"])
        queuedBytes = Self.number(root["msg_size"])
        transmittedBytes = Self.number(root["tx_bytes"])
        receivedBytes = Self.number(root["rx_bytes"])
        let brokers = root["brokers"] as? [String: Any] ?? [:]
        self.brokers = brokers.compactMap { key, value -> Broker? in
            guard let broker = value as? [String: Any],
                  !["internal", "logical"].contains(broker["source"] as? String ?? "") else { return nil }
            let rtt = broker["rtt"] as? [String: Any] ?? [:]
            return Broker(
                name: key, state: broker["state"] as? String ?? "",
                rttAverageMicroseconds: Self.number(rtt["avg"]), rttP99Microseconds: Self.number(rtt["p99"]),
                outbufRequests: Self.number(broker["outbuf_cnt"]), waitingResponses: Self.number(broker["waitresp_cnt"]),
                transmitErrors: Self.number(broker["txerrs"]), receiveErrors: Self.number(broker["rxerrs"]),
                requestTimeouts: Self.number(broker["req_timeouts"]), disconnects: Self.number(broker["disconnects"]))
        }.sorted { $0.name < $1.name }
        group = (root["cgrp"] as? [String: Any]).map { cgrp in
            ConsumerGroup(state: cgrp["state"] as? String ?? "", joinState: cgrp["join_state"] as? String ?? "",
                          rebalances: Self.number(cgrp["rebalance_cnt"]),
                          rebalanceAgeMilliseconds: Self.number(cgrp["rebalance_age"]))
        }
        var lag: [TopicPartition: Int64] = [:]
        if type == "consumer" {
            for (topic, value) in root["topics"] as? [String: Any] ?? [:] {
                let partitions = (value as? [String: Any])?["partitions"] as? [String: Any] ?? [:]
                for case let partition as [String: Any] in partitions.values {
                    let id = Self.number(partition["partition"])
                    let consumerLag = Self.number(partition["consumer_lag"], missing: -1)
                    // -1 is the unassigned pseudo-partition, and a lag of -1 is "not known".
                    guard id >= 0, consumerLag >= 0, partition["desired"] as? Bool == true else { continue }
                    lag[TopicPartition(topic: topic, partition: Int32(id))] = consumerLag
                }
            }
        }
        consumerLag = lag
    }

    private static func number(_ value: Any?, missing: Int64 = 0) -> Int64 {
        (value as? NSNumber)?.int64Value ?? missing
    }
}

/// What librdkafka's callbacks reach through a handle's opaque pointer. A client that reports
/// statistics keeps one alive until its handle is destroyed; the consumer's
/// ``RebalanceContext`` is one.
class KafkaClientContext: @unchecked Sendable {
    // Unchecked because the class is open to subclasses; its own state is Sendable (a Mutex).
    let statisticsObserver: KafkaStatisticsObserver?
    private let errorCounts = Mutex<[String: Int64]>([:])

    init(statisticsObserver: KafkaStatisticsObserver?) {
        self.statisticsObserver = statisticsObserver
    }

    /// Counts one error event, from the error callback.
    func countError(_ name: String) {
        errorCounts.withLock { $0[name, default: 0] += 1 }
    }

    /// The error events counted so far, by name.
    var errors: [String: Int64] { errorCounts.withLock { $0 } }
}

extension KafkaConfiguration {
    /// Defaults for a client that reports statistics: the interval, when there is an observer.
    var statisticsDefaults: [String: String] {
        statisticsObserver == nil ? [:] : ["statistics.interval.ms": String(KafkaStatistics.defaultIntervalMilliseconds)]
    }
}

/// Registers the statistics callback on `conf`, whose opaque is (or will be) a retained
/// ``KafkaClientContext``.
func setStatisticsCallback(_ conf: OpaquePointer) {
    rd_kafka_conf_set_stats_cb(conf, statisticsCallback)
}

/// Parses the statistics document and hands it to the context's observer. Returning 0 leaves
/// the document to librdkafka to free.
private let statisticsCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = {
    _, json, length, opaque in
    guard let json, let opaque else { return 0 }
    let context = Unmanaged<KafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
    guard let observer = context.statisticsObserver,
          var statistics = KafkaStatistics(json: Data(bytes: json, count: length)) else { return 0 }
    statistics.errors = context.errors
    observer(statistics)
    return 0
}
