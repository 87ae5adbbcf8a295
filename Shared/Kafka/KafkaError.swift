import CRdKafka

/// An error from the Kafka layer.
///
/// It carries librdkafka's error code and name, whether retrying the same operation can succeed,
/// whether the client is no longer usable, and where in this library it arose. Policy code asks
/// ``isRetriable`` and ``isFatal``; it never parses ``message``.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value; negative codes are local to the client.
    public let code: Int32
    /// librdkafka's symbolic name for ``code``, for example `MSG_SIZE_TOO_LARGE`.
    public let name: String
    /// A human-readable explanation.
    public let message: String
    /// Retrying the operation that failed may succeed (timeouts, leader moves, full queues).
    public let isRetriable: Bool
    /// The client that returned this error cannot be used any more.
    public let isFatal: Bool
    /// The operation that failed, for example `produce` or `createTopics`.
    public let operation: String

    /// The client was closed, or purged what it held, under the operation: nothing more can
    /// succeed through it.
    public var isClientClosed: Bool {
        [RD_KAFKA_RESP_ERR__DESTROY, RD_KAFKA_RESP_ERR__PURGE_QUEUE, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT]
            .contains(rd_kafka_resp_err_t(code))
    }

    /// The record was refused for the topic or partition it names (an invalid topic name, a
    /// partition the topic does not have; a topic that does not exist is waited for, as the
    /// broker may be creating it), or for what the topic or broker does not take of how records
    /// are written: a record format without headers (UNSUPPORTED_FOR_MESSAGE_FORMAT, 43), a
    /// compression type (UNSUPPORTED_COMPRESSION_TYPE, 76), the request's version
    /// (UNSUPPORTED_VERSION, 35). Every record sent there is refused the same way. A stage's
    /// output, dead letter or answer refused so is neither dead-lettered nor given up: the topic
    /// (or the broker) is misconfigured, and the process stops, its input uncommitted, rather
    /// than fail or drop every input.
    public var isTopicRefusal: Bool {
        switch rd_kafka_resp_err_t(code) {
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
            RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE,
            RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
            return true
        default:
            return false
        }
    }

    /// The client or the broker refused this record itself (too large, invalid, a bad topic
    /// name, a broker policy): sending the same record again fails the same way, and no other
    /// record is the cause. A caller takes the record out (to dead letters) rather than retry or
    /// stop. The codes are those of librdkafka's list (`rdkafka.h`) that a produce reports for
    /// what one record holds or where it goes: `INVALID_MSG` is the broker's CORRUPT_MESSAGE (a
    /// bad checksum, or a null key on a compacted topic), `POLICY_VIOLATION` a record a broker
    /// policy refuses. Codes that say the producer, the connection or the principal is wrong
    /// (``isFatal``, ``isClientClosed``, ``isAuthorizationFailure``, a protocol or configuration
    /// error) are not among them: those would refuse every record the same way.
    public var isRecordRejected: Bool {
        switch rd_kafka_resp_err_t(code) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
            RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP,
            RD_KAFKA_RESP_ERR_INVALID_MSG, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
            RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_POLICY_VIOLATION, RD_KAFKA_RESP_ERR__INVALID_ARG,
            RD_KAFKA_RESP_ERR__BAD_MSG, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
            return true
        default:
            return false
        }
    }

    /// The broker refused the principal (an ACL): the same request fails the same way until an
    /// operator changes the rules.
    public var isAuthorizationFailure: Bool {
        switch rd_kafka_resp_err_t(code) {
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
            RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
            return true
        default:
            return false
        }
    }

    /// No broker answered (down, unreachable, stopped, or too slow): waiting and asking again can
    /// succeed, and nothing is wrong with the request itself.
    public var isBrokerUnreachable: Bool {
        switch rd_kafka_resp_err_t(code) {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
            RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
            RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
            return true
        default:
            return false
        }
    }

    public var description: String {
        "\(operation): \(name) (\(code)): \(message)\(isFatal ? " [fatal]" : "")"
    }

    /// Runs `operation` until it succeeds or fails for another reason than an unreachable broker
    /// (``isBrokerUnreachable``), waiting 1 s, then twice as long each time up to 10 s, between
    /// tries, and calling `waiting` with each such error. For start-up reads a process cannot go
    /// on without: it waits for the broker, not ready, instead of exiting. Cancellation ends the
    /// wait with `CancellationError`.
    public static func waitingForBroker<T>(
        _ operation: () async throws -> T, waiting: (KafkaError) -> Void
    ) async throws -> T {
        var pause = Duration.seconds(1)
        while true {
            do {
                return try await operation()
            } catch let error as KafkaError where error.isBrokerUnreachable {
                waiting(error)
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(10))
            }
        }
    }

    init(code: Int32, message: String? = nil, isRetriable: Bool? = nil, isFatal: Bool = false,
         operation: String) {
        self.code = code
        self.name = String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code)))
        self.message = message ?? String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(code)))
        self.isRetriable = isRetriable ?? KafkaError.isRetriable(code: code)
        // A fatal error reported by code alone (a delivery report) is fatal too.
        self.isFatal = isFatal || [RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__FENCED].contains(rd_kafka_resp_err_t(code))
        self.operation = operation
    }

    init(_ err: rd_kafka_resp_err_t, message: String? = nil, operation: String) {
        self.init(code: err.rawValue, message: message, operation: operation)
    }

    /// Takes ownership of an `rd_kafka_error_t` and frees it.
    init(consuming error: OpaquePointer, operation: String) {
        self.init(
            code: rd_kafka_error_code(error).rawValue,
            message: String(cString: rd_kafka_error_string(error)),
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            operation: operation)
        rd_kafka_error_destroy(error)
    }

    /// A configuration key librdkafka rejected, or a setting this library rejects.
    static func configuration(key: String, _ message: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
                   message: "configuration key '\(key)': \(message)", isRetriable: false,
                   operation: "configure")
    }

    /// A topic exists with another partition count than the one asked for.
    static func partitionCountMismatch(topic: String, existing: Int, requested: Int) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR_INVALID_PARTITIONS.rawValue,
                   message: "topic '\(topic)' exists with \(existing) partitions, \(requested) requested",
                   isRetriable: false, operation: "createTopics")
    }

    /// The operation was attempted on a closed client.
    static func closed(operation: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__DESTROY.rawValue, message: "the client is closed",
                   isRetriable: false, operation: operation)
    }

    /// Errors that are worth retrying as the same operation.
    private static func isRetriable(code: Int32) -> Bool {
        switch rd_kafka_resp_err_t(code) {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT,
            RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__TRANSPORT,
            RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
            RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
            RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
            return true
        default:
            return false
        }
    }
}
