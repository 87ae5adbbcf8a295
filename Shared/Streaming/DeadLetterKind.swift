import Foundation
import Kafka
import Runtime

/// What kind of problem sent a record to dead letters: a label with few values for counting
/// (`pipeline_dead_letters_total{reason}`), read from the reason sentence the letter carries.
/// Each dead letter says its kind in the header ``header`` too, so the process that sends it
/// counts it without decoding it.
public enum DeadLetterKind: String, CaseIterable, Sendable {
    /// Larger than the record limit, or than the broker takes.
    case tooLarge = "too-large"
    /// Not a JSON object, duplicate keys, control characters.
    case malformed
    /// No schema, another schema, a version this reader does not know, headers that disagree.
    case schema
    /// The schema's fields are there but wrong: missing, mistyped, out of range, too long, or a
    /// rule of the message broken.
    case invalid
    /// The lead's account or offer was never published, or its configuration was refused when
    /// read (``ConfigurationRefusal``).
    case unknownConfiguration = "unknown-configuration"
    /// The broker refused to store the record for another reason.
    case refused
    /// The stage's handler did not finish within its bound (``StageRunnerSettings/recordTimeout``).
    case timedOut = "timed-out"
    /// Anything else (a record this process could not encode, a request for another phase, ...).
    case other

    /// The header naming the kind on every dead letter.
    public static let header = "dead-letter-reason"

    /// The kind of `reason`, a dead letter's sentence, from the words this project's errors use.
    public init(reason: String) {
        let text = reason.lowercased()
        func has(_ words: String...) -> Bool { words.contains { text.contains($0) } }
        // First: the reason quotes the refusal, which may use any of the words below.
        if has("refused when read") {
            self = .unknownConfiguration
        } else if has("did not finish within") {
            self = .timedOut
        } else if has("exceeds the limit", "msg_size_too_large", "message_too_large", "record_list_too_large", "too large") {
            self = .tooLarge
        } else if has("malformed json", "not an object", "duplicate key", "control character", "nul (") {
            self = .malformed
        } else if has("schema", "unsupported version", "header \"") {
            self = .schema
        } else if has("unknown account", "unknown offer") {
            self = .unknownConfiguration
        } else if has("missing field", "wrong type", "invalid", "too long", "the limit is", "must ", "is above", "is not a", "not allowed") {
            self = .invalid
        } else if has("refused", "broker") {
            self = .refused
        } else {
            self = .other
        }
    }

    /// The header for a letter whose reason is `reason`.
    public static func header(forReason reason: String) -> KafkaHeader {
        KafkaHeader(key: header, value: Array(DeadLetterKind(reason: reason).rawValue.utf8))
    }

    /// Counts the dead letters among `records` (those carrying ``header``) in `registry`.
    public static func count(_ records: [ProducerRecord], in registry: MetricsRegistry) {
        for record in records {
            guard let value = record.headers.first(where: { $0.key == header })?.value else { continue }
            registry.counter(MetricNames.deadLetters, ["reason": String(decoding: value, as: UTF8.self)]).increment()
        }
    }

    /// Puts every kind's series at zero, so a rate over them exists before the first letter.
    public static func registerAtZero(in registry: MetricsRegistry) {
        for kind in allCases { registry.counter(MetricNames.deadLetters, ["reason": kind.rawValue]).increment(by: 0) }
    }
}
