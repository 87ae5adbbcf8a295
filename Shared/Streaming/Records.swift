import Foundation
import JSONCodec
import Kafka
import LeadModel
import Synchronization

private let kafkaHeadersByType = Mutex<[ObjectIdentifier: [KafkaHeader]]>([:])

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

    /// A type's headers, made at its first record and shared by the rest (a record's headers
    /// are those of its type).
    private static func kafkaHeaders<T: Message>(for type: T.Type) -> [KafkaHeader] {
        kafkaHeadersByType.withLock { known in
            if let headers = known[ObjectIdentifier(type)] { return headers }
            let headers = headers(for: type).map { KafkaHeader(key: $0.key, string: $0.value) }
            known[ObjectIdentifier(type)] = headers
            return headers
        }
    }

    /// Why `record` cannot be written, when its value is above ``MessageCodec/maxRecordBytes``;
    /// nil when it fits. Checked before the producer sees a record: one between MAX_RECORD_BYTES
    /// and the producer's limit would be stored, then refused by every reader. The value alone,
    /// as readers check it: the producers and topics leave
    /// ``PipelineEnvironment/recordOverheadBytes`` for the key and headers, so that a copy of an
    /// input (the coordinator's backlog copy, with a run id header added) is written wherever the
    /// input was read.
    public func oversizeReason(_ record: ProducerRecord) -> String? {
        let bytes = record.value?.count ?? 0
        guard bytes > maxRecordBytes else { return nil }
        return "its \(record.topic) record of \(bytes) bytes is above MAX_RECORD_BYTES (\(maxRecordBytes))"
    }

    /// Decodes a consumed record as `T`, checking its headers against its value.
    public func decode<T: Message>(_ type: T.Type, record: ConsumerRecord) throws(DecodeError) -> T {
        // The two headers the codec checks, the last of each name as a dictionary of all would keep.
        var schema: String?
        var version: String?
        for header in record.headers {
            switch header.key {
            case MessageHeaders.schema: schema = String(decoding: header.value, as: UTF8.self)
            case MessageHeaders.version: version = String(decoding: header.value, as: UTF8.self)
            default: break
            }
        }
        return try decode(type, from: record.value ?? [], schemaHeader: schema, versionHeader: version)
    }

    /// The dead-letter record for a record that cannot be processed: its original bytes, where it
    /// came from and a reason a person can act on. Keyed like the original (a key above
    /// ``DeadLetter/maxKeyBytes`` is replaced by its hash).
    ///
    /// The letter itself stays within ``MessageCodec/maxRecordBytes``: an original too large to
    /// copy (base64 makes it a third larger) is left out, with its size and hash kept, so the
    /// record that could not be processed cannot make its own dead letter fail to send.
    public func deadLetter(for record: ConsumerRecord, reason: String, service: String, topics: Topics) -> ProducerRecord {
        deadLetter(value: record.value ?? [], key: record.key, topic: record.topic, partition: Int(record.partition),
                   offset: record.offset, reason: reason, service: service, topics: topics)
    }

    /// The dead letter of a record this process could not write (above the size limit, or
    /// refused by the broker): `sourceTopic` is where it was going; partition and offset are -1.
    public func deadLetter(refused record: ProducerRecord, reason: String, service: String, topics: Topics) -> ProducerRecord {
        deadLetter(value: record.value ?? [], key: record.key, topic: record.topic, partition: -1, offset: -1,
                   reason: reason, service: service, topics: topics)
    }

    private func deadLetter(value original: [UInt8], key: [UInt8]?, topic: String, partition: Int, offset: Int64,
                            reason: String, service: String, topics: Topics) -> ProducerRecord {
        var letter = DeadLetter(original: original, originalKey: key, sourceTopic: topic, partition: partition,
                                offset: offset, reason: reason, failedAt: Date(), service: service,
                                keepOriginal: (original.count + 2) / 3 * 4 + Self.deadLetterAllowance <= maxRecordBytes)
        if letter.originalBase64 == nil {
            letter.reason += " (original of \(original.count) bytes not kept)"
        }
        // Encoding a dead letter cannot fail (strings, numbers and a date), but never lose one.
        let value = (try? encode(letter)) ?? Array(#"{"schema":"dead.letter","version":2,"reason":"unencodable"}"#.utf8)
        let letterKey = key.map { $0.count <= DeadLetter.maxKeyBytes ? $0 : Array(DeadLetter.fnv1a64($0).utf8) }
        return ProducerRecord(topic: topics.deadLetters, key: letterKey, value: value,
                              headers: Self.kafkaHeaders(for: DeadLetter.self) + [DeadLetterKind.header(forReason: reason)])
    }

    /// `letter` (a dead letter this codec made) without its copy of the original, for a letter
    /// the broker refused (one whose limit is below `MAX_RECORD_BYTES`): the original's size and
    /// hash stay, and the reason says it was withheld. Nil when there is no copy to leave out.
    public func withholdingOriginal(ofLetter letter: ProducerRecord) -> ProducerRecord? {
        guard var decoded = try? decode(DeadLetter.self, from: letter.value ?? [], schemaHeader: nil, versionHeader: nil),
              decoded.originalBase64 != nil
        else { return nil }
        decoded.originalBase64 = nil
        let note = "; the letter was refused too: original withheld (\(decoded.originalBytes ?? 0) bytes, fnv1a64 \(decoded.originalFNV1a64 ?? "?"))"
        decoded.reason = decoded.reason.prefix(scalars: DeadLetter.maxReasonCharacters - note.unicodeScalars.count) + note
        guard let value = try? encode(decoded) else { return nil }
        var record = letter
        record.value = value
        return record
    }

    /// Room in a dead letter for everything but the original value: the key (at most
    /// ``DeadLetter/maxKeyBytes``, base64), the reason, the other fields and the headers.
    static let deadLetterAllowance = 16 << 10
}
