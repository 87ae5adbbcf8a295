import Foundation
import Kafka
import LeadModel

extension MessageCodec {
    /// A record carrying `message` with its schema name and version in the value and the headers.
    public func record<T: Message>(_ message: T, topic: String, key: String) throws -> ProducerRecord {
        ProducerRecord(topic: topic, key: key, value: try encode(message), headers: Self.kafkaHeaders(for: T.self))
    }

    /// ``record(_:topic:key:)``, encoded with a ``JSONFragment`` slot (see
    /// ``MessageCodec/encode(_:fragment:)``).
    public func record<T: Message, V>(_ message: T, topic: String, key: String, fragment: JSONFragment<V>) throws -> ProducerRecord {
        ProducerRecord(topic: topic, key: key, value: try encode(message, fragment: fragment), headers: Self.kafkaHeaders(for: T.self))
    }

    private static func kafkaHeaders<T: Message>(for type: T.Type) -> [KafkaHeader] {
        headers(for: type).map { KafkaHeader(key: $0.key, string: $0.value) }
    }

    /// Decodes a consumed record as `T`, checking its headers against its value.
    public func decode<T: Message>(_ type: T.Type, record: ConsumerRecord) throws(DecodeError) -> T {
        var headers: [String: String] = [:]
        for header in record.headers {
            headers[header.key] = String(decoding: header.value, as: UTF8.self)
        }
        return try decode(type, from: record.value ?? [], headers: headers)
    }

    /// The dead-letter record for a record that cannot be processed: its original bytes, where it
    /// came from and a reason a person can act on. Keyed like the original.
    public func deadLetter(for record: ConsumerRecord, reason: String, service: String, topics: Topics) -> ProducerRecord {
        let letter = DeadLetter(original: record.value ?? [], originalKey: record.key, sourceTopic: record.topic,
                                partition: Int(record.partition), offset: record.offset, reason: reason,
                                failedAt: Date(), service: service)
        // Encoding a dead letter cannot fail (strings, numbers and a date), but never lose one.
        let value = (try? encode(letter)) ?? Array(#"{"schema":"dead.letter","version":1,"reason":"unencodable"}"#.utf8)
        return ProducerRecord(topic: topics.deadLetters, key: record.key, value: value, headers: Self.kafkaHeaders(for: DeadLetter.self))
    }
}
