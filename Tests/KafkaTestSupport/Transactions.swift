import CRdKafka
import Foundation

/// Records `records` (key and value) to partition 0 of `topic` in one committed transaction,
/// with librdkafka's C API (the project's producer has no transactions). The commit writes a
/// marker after them that takes an offset and that no consumer receives: a partition whose end
/// is not a record.
public func produceInATransaction(_ records: [(key: String, value: [UInt8])], to topic: String, bootstrapServers: String) throws {
    func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    func check(_ error: OpaquePointer?, _ step: String) throws {
        guard let error else { return }
        defer { rd_kafka_error_destroy(error) }
        throw TransactionFailure(step: step, reason: String(cString: rd_kafka_error_string(error)))
    }
    var reason = [CChar](repeating: 0, count: 512)
    let conf = rd_kafka_conf_new()
    for (name, value) in ["bootstrap.servers": bootstrapServers, "transactional.id": "test-\(UUID().uuidString)"] {
        guard rd_kafka_conf_set(conf, name, value, &reason, reason.count) == RD_KAFKA_CONF_OK else {
            rd_kafka_conf_destroy(conf)
            throw TransactionFailure(step: "set \(name)", reason: text(reason))
        }
    }
    guard let producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &reason, reason.count) else {
        rd_kafka_conf_destroy(conf)  // librdkafka takes it only on success
        throw TransactionFailure(step: "create the producer", reason: text(reason))
    }
    defer { rd_kafka_destroy(producer) }
    try check(rd_kafka_init_transactions(producer, 10_000), "init the transactions")
    try check(rd_kafka_begin_transaction(producer), "begin the transaction")
    do {
        guard let handle = rd_kafka_topic_new(producer, topic, nil) else {
            throw TransactionFailure(step: "open the topic", reason: String(cString: rd_kafka_err2str(rd_kafka_last_error())))
        }
        defer { rd_kafka_topic_destroy(handle) }
        for record in records {
            var key = Array(record.key.utf8)
            var value = record.value
            guard rd_kafka_produce(handle, 0, RD_KAFKA_MSG_F_COPY, &value, value.count, &key, key.count, nil) == 0 else {
                throw TransactionFailure(step: "produce", reason: String(cString: rd_kafka_err2str(rd_kafka_last_error())))
            }
        }
        try check(rd_kafka_commit_transaction(producer, 10_000), "commit the transaction")
    } catch {
        // An open transaction would hold the topic's readers back until it timed out.
        if let abortError = rd_kafka_abort_transaction(producer, 10_000) { rd_kafka_error_destroy(abortError) }
        throw error
    }
}

/// Why ``produceInATransaction(_:to:bootstrapServers:)`` failed.
public struct TransactionFailure: Error, CustomStringConvertible {
    public let step: String
    public let reason: String
    public var description: String { "\(step): \(reason)" }
}
