import Foundation
import JSONCodec

/// A record type that travels on a topic.
///
/// On the wire a message is one JSON object: the payload's fields plus two reserved top-level
/// fields, `"schema"` (``schemaName``) and `"version"` (``schemaVersion``). The same two values go
/// into the record headers ``MessageHeaders/schema`` and ``MessageHeaders/version``, so a reader
/// can route a record without parsing it. Payload types must not use the keys `schema` or
/// `version` for their own fields.
public protocol Message: Codable, Sendable {
    /// The schema name, e.g. `lead.discovered`. Stable: producers in other languages write it.
    static var schemaName: String { get }
    /// The version this code writes.
    static var schemaVersion: Int { get }
    /// The versions this code can read; defaults to exactly ``schemaVersion``.
    static var supportedVersions: ClosedRange<Int> { get }

    /// Checks rules the JSON shape cannot express; called by ``MessageCodec/decode(_:from:headers:)``.
    /// Throw an error whose description says what to fix.
    func validate() throws

    /// ``validate()``, and rules a record must keep from now on but that one stored by an earlier
    /// version may break (it is still read): checked where the pipeline's tools write the message
    /// (`leadctl ... put`), not where it is read.
    func validateForPublishing() throws

    /// Whether other systems write this message. ``MessageCodec/decode(_:from:headers:)`` holds
    /// such records to the input rules before decoding them: no string, key or nested value (a
    /// pool profile's, say), holds NUL or has more than ``FieldLimit/text`` Unicode scalars.
    /// False by default: the pipeline's own records may carry NUL from a provider's text.
    static var isExternalInput: Bool { get }

    /// For a message others write whose schema allows no other field
    /// (`additionalProperties: false`), its fields besides `schema` and `version`:
    /// ``MessageCodec/decode(_:from:headers:)`` refuses a record with another (a misspelt
    /// `linkedInURL` would otherwise be dropped without a word). Nil by default: fields this
    /// version does not know are ignored.
    static var fieldNames: Set<String>? { get }

    /// Checks each field against its own length limit (``FieldLimit``); called by
    /// ``MessageCodec/decode(_:from:headers:)`` before ``validate()``.
    func checkFieldLengths() throws(FieldTooLong)
}

extension Message {
    /// Exactly the version this code writes.
    public static var supportedVersions: ClosedRange<Int> { schemaVersion...schemaVersion }

    /// No rules beyond the JSON shape.
    public func validate() throws {}

    /// No rules beyond ``validate()``.
    public func validateForPublishing() throws { try validate() }

    /// Written by the pipeline.
    public static var isExternalInput: Bool { false }

    /// Any field; those this version does not know are ignored.
    public static var fieldNames: Set<String>? { nil }

    /// No limits.
    public func checkFieldLengths() throws(FieldTooLong) {}
}

/// The record header names carrying a message's schema; defined once here.
public enum MessageHeaders {
    /// Header with the schema name (``Message/schemaName``), UTF-8.
    public static let schema = "schema"
    /// Header with the schema version (``Message/schemaVersion``) in decimal, UTF-8.
    public static let version = "schema-version"
    /// Header with the run id the coordinator gave a lead when it first read it, carried by the
    /// copy it queues in ``Topics/leadsBacklog``, and with the run a ``Topics/leadPool`` entry
    /// finished, UTF-8.
    public static let runID = "run-id"

    /// The most bytes an input record's headers may take, names and values together: the
    /// producers and topics leave 64 KiB above `MAX_RECORD_BYTES` for a record's key, headers and
    /// framing, and the coordinator writes an input again with a header more (its backlog copy).
    public static let maxInputBytes = 16 << 10
}

/// Why a record could not be decoded. The description is written into dead-letter records, so
/// it says what is wrong and where.
public enum DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The record is larger than the configured limit.
    case oversized(bytes: Int, limit: Int)
    /// The bytes are not a JSON document.
    case malformedJSON(String)
    /// The JSON document is not an object.
    case notAnObject
    /// The value has no `"schema"` string.
    case missingSchema
    /// The schema (in the value or the header) is not the expected one.
    case wrongSchema(expected: String, found: String)
    /// The version is not one this code reads.
    case unsupportedVersion(schema: String, version: Int, supported: ClosedRange<Int>)
    /// The headers and the value disagree.
    case headerMismatch(header: String, headerValue: String, valueInRecord: String)
    /// A required field is absent or null.
    case missingField(String)
    /// A field has the wrong JSON type.
    case wrongType(field: String, expected: String)
    /// A field has the right type but an unacceptable value (unknown enum case, bad date, ...).
    case invalidValue(field: String, reason: String)
    /// The record is well-formed but breaks a rule of its schema.
    case invalidContent(String)
    /// An object has the key twice; `object` is its field path, `(record)` for the record itself.
    case duplicateKey(String, object: String)
    /// A string holds NUL (`\u0000`) or an unescaped control character (`scalar`).
    case controlCharacter(field: String, scalar: UInt32, isEscaped: Bool)
    /// A string is longer than its limit, in Unicode scalars.
    case tooLong(field: String, length: Int, limit: Int)

    /// A sentence a person can act on.
    public var description: String {
        switch self {
        case .oversized(let bytes, let limit):
            "record of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case .malformedJSON(let reason): "malformed JSON: \(reason)"
        case .notAnObject: "the record is JSON but not an object; expected {\"schema\": ..., \"version\": ..., ...}"
        case .missingSchema: "missing field \"schema\" (a string naming the message type)"
        case .wrongSchema(let expected, let found): "wrong schema \"\(found)\", expected \"\(expected)\""
        case .unsupportedVersion(let schema, let version, let supported):
            "unsupported version \(version) of \"\(schema)\"; this reader supports \(supported.lowerBound)...\(supported.upperBound)"
        case .headerMismatch(let header, let headerValue, let valueInRecord):
            "header \"\(header)\" says \"\(headerValue)\" but the record says \"\(valueInRecord)\""
        case .missingField(let field): "missing field \"\(field)\""
        case .wrongType(let field, let expected): "wrong type for field \"\(field)\": expected \(expected)"
        case .invalidValue(let field, let reason): "invalid value for field \"\(field)\": \(reason)"
        case .invalidContent(let reason): "invalid content: \(reason)"
        case .duplicateKey(let key, let object):
            "duplicate key \"\(key)\"" + (object == "(record)" ? "" : " in \"\(object)\"") + "; give each key once"
        case .controlCharacter(let field, let scalar, let isEscaped):
            isEscaped
                ? "field \"\(field)\" contains NUL (\\u0000), which no string may hold"
                : "field \"\(field)\" contains the unescaped control character U+\(String(format: "%04X", scalar)); escape it or remove it"
        case .tooLong(let field, let length, let limit):
            "field \"\(field)\" is \(length) characters long; the limit is \(limit)"
        }
    }
}

extension DecodeError {
    /// The codec's error for a document the index decoder rejected.
    init(_ rejection: JSONRejection) {
        switch rejection {
        case .invalidValue(let field, let reason): self = .invalidValue(field: field, reason: reason)
        case .invalidContent(let reason): self = .invalidContent(reason)
        case .duplicateKey(let key, let object): self = .duplicateKey(key, object: object)
        case .controlCharacter(let field, let scalar, let isEscaped):
            self = .controlCharacter(field: field, scalar: scalar, isEscaped: isEscaped)
        case .tooLong(let field, let length, let limit): self = .tooLong(field: field, length: length, limit: limit)
        }
    }
}

/// Encodes and decodes ``Message`` values as JSON bytes with their schema name and version.
///
/// Dates are ISO-8601 strings in UTC with milliseconds (`2025-01-31T12:00:00.000Z`) and
/// round-trip exactly (``ISO8601``); decoding also accepts them without fractional seconds or
/// with an offset. Decoding is strict (see ``decode(_:from:headers:)``) and never traps on any
/// input: every problem is a ``DecodeError``.
public struct MessageCodec: Sendable {
    /// The largest record ``decode(_:from:headers:)`` accepts, in bytes.
    public var maxRecordBytes: Int

    /// Creates a codec; records above `maxRecordBytes` (default 1 MiB) are rejected unread.
    public init(maxRecordBytes: Int = 1 << 20) {
        self.maxRecordBytes = maxRecordBytes
    }

    /// The header pairs to attach to a record of type `T`.
    public static func headers<T: Message>(for type: T.Type) -> [(key: String, value: String)] {
        [(MessageHeaders.schema, T.schemaName), (MessageHeaders.version, String(T.schemaVersion))]
    }

    /// Encodes a message as one JSON object with `schema` and `version` next to its fields.
    /// Keys are sorted (by their UTF-8 bytes), so equal values give equal bytes.
    public func encode<T: Message>(_ message: T) throws -> [UInt8] {
        try JSONStreamEncoder.encode(Envelope(message: message))
    }

    /// ``encode(_:)``, with a slot that lets records carrying the same value (a lead's profile)
    /// share one encoding of it; see ``JSONFragment``. The bytes are the same as without it.
    public func encode<T: Message, V>(_ message: T, fragment: JSONFragment<V>) throws -> [UInt8] {
        try JSONStreamEncoder.encode(Envelope(message: message), fragment: fragment)
    }

    /// Refuses a record of a message with ``Message/fieldNames`` that has another field: after the
    /// JSON's rules (a key too long or holding NUL is refused as such), before the message's own
    /// (a misspelt `linkedInURL` is named, not reported as a lead without a profile URL).
    /// - Parameter names: the record's member names; nil when it is not an object.
    private static func checkFieldNames<T: Message>(_ type: T.Type, _ names: [String]?) throws(DecodeError) {
        guard let allowed = T.fieldNames, let names else { return }
        let unknown = names.filter { !allowed.contains($0) && $0 != "schema" && $0 != "version" }
        guard !unknown.isEmpty else { return }
        throw .invalidContent("unknown field\(unknown.count == 1 ? "" : "s") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) "
            + "(\(T.schemaName) version \(T.schemaVersion) has only \(allowed.sorted().joined(separator: ", ")))")
    }

    /// Decodes a record as a `T`.
    ///
    /// Checks, in order: size; JSON, strictly: no key twice in an object, no unescaped control
    /// character in a string, no fraction or exponent in an integer (`"version": 1.0`), and for
    /// an input (``Message/isExternalInput``) no NUL and no string longer than
    /// ``FieldLimit/text``; the `schema` and `version` fields of the value; the headers (when
    /// present they must agree with the value); the payload's fields; no field outside
    /// ``Message/fieldNames`` when it is set; ``Message/checkFieldLengths()``;
    /// ``Message/validate()``.
    /// - Parameter headers: the record's headers as UTF-8 strings; missing headers are accepted.
    public func decode<T: Message>(
        _ type: T.Type, from bytes: [UInt8], headers: [String: String] = [:]
    ) throws(DecodeError) -> T {
        try decode(type, from: bytes, schemaHeader: headers[MessageHeaders.schema], versionHeader: headers[MessageHeaders.version])
    }

    /// ``decode(_:from:headers:)`` given the only two headers it reads, ``MessageHeaders/schema``
    /// and ``MessageHeaders/version`` (nil when missing).
    public func decode<T: Message>(
        _ type: T.Type, from bytes: [UInt8], schemaHeader: String?, versionHeader: String?
    ) throws(DecodeError) -> T {
        guard bytes.count <= maxRecordBytes else {
            throw .oversized(bytes: bytes.count, limit: maxRecordBytes)
        }
        // The usual, valid record takes one pass of the index decoder; anything it does not
        // take is decoded again, and diagnosed step by step, by JSONDecoder below. The strict
        // rules are the index decoder's alone, so a record it rejects is never decoded again.
        let decoded: EnvelopeAndMessage<T>?
        var memberNames: [String]?  // read from the same parse, only where ``Message/fieldNames`` is set
        var isJSON = true
        do {
            let (maxStringLength, rejectsNUL) = (T.isExternalInput ? FieldLimit.text : nil, T.isExternalInput)
            if T.fieldNames == nil {
                decoded = try JSONIndexDecoder.decode(EnvelopeAndMessage<T>.self, from: bytes, maxStringLength: maxStringLength, rejectsNUL: rejectsNUL)
            } else {
                let named = try JSONIndexDecoder.decodeNamingMembers(
                    EnvelopeAndMessage<T>.self, from: bytes, maxStringLength: maxStringLength, rejectsNUL: rejectsNUL)
                (decoded, memberNames) = (named.value, named.memberNames)
            }
        } catch let rejected as JSONIndexDecoder.Rejected {
            throw DecodeError(rejected.error)
        } catch {
            decoded = nil
            isJSON = !(error is JSONIndexDecoder.Malformed)
        }
        if let decoded, let message = Self.accepted(decoded, schemaHeader: schemaHeader, versionHeader: versionHeader) {
            try Self.checkFieldNames(T.self, memberNames)
            try Self.validated(message)
            return message
        }

        let data = Data(bytes)
        let decoder = Self.foundationDecoder()

        let schema: EnvelopeSchema
        do {
            schema = try decoder.decode(EnvelopeSchema.self, from: data)
        } catch let error as DecodingError {
            throw Self.envelopeError(error)
        } catch {
            throw .malformedJSON(String(describing: error))
        }
        // JSONDecoder took what the index decoder's stricter grammar did not (RFC 8259).
        guard isJSON else { throw .malformedJSON("the record is not JSON as RFC 8259 defines it") }
        guard let name = schema.schema else { throw .missingSchema }
        guard name == T.schemaName else { throw .wrongSchema(expected: T.schemaName, found: name) }
        guard let version = schema.version else { throw .missingField("version") }
        guard T.supportedVersions.contains(version) else {
            throw .unsupportedVersion(schema: name, version: version, supported: T.supportedVersions)
        }
        if let header = schemaHeader, header != name {
            throw .headerMismatch(header: MessageHeaders.schema, headerValue: header, valueInRecord: name)
        }
        if let header = versionHeader, header != String(version) {
            throw .headerMismatch(
                header: MessageHeaders.version, headerValue: header, valueInRecord: String(version))
        }

        let message: T
        do {
            message = try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw Self.fieldError(error)
        } catch {
            throw .invalidContent(String(describing: error))
        }
        try Self.checkFieldNames(T.self, JSONIndexDecoder.memberNames(of: bytes))  // the rare record only JSONDecoder takes
        try Self.validated(message)
        return message
    }

    /// The payload, when the schema and version in the record and its headers are the expected ones.
    private static func accepted<T: Message>(_ decoded: EnvelopeAndMessage<T>, schemaHeader: String?, versionHeader: String?) -> T? {
        guard decoded.schema == T.schemaName, let version = decoded.version, T.supportedVersions.contains(version),
              schemaHeader.map({ $0 == T.schemaName }) ?? true,
              versionHeader.map({ $0 == String(version) }) ?? true else { return nil }
        return decoded.message
    }

    private static func validated<T: Message>(_ message: T) throws(DecodeError) {
        do throws(FieldTooLong) {
            try message.checkFieldLengths()
        } catch {
            throw .tooLong(field: error.field, length: error.length, limit: error.limit)
        }
        do {
            try message.validate()
        } catch {
            throw .invalidContent(String(describing: error))
        }
    }

    /// A `JSONEncoder` that writes what ``encode(_:)`` writes, more slowly; for comparisons.
    public static func foundationEncoder() -> JSONEncoder { JSONStreamEncoder.foundationEncoder() }

    /// The `JSONDecoder` that reads what the index decoder leaves, and diagnoses bad records.
    public static func foundationDecoder() -> JSONDecoder { JSONIndexDecoder.foundationDecoder() }

    /// Maps a failure to read the `schema`/`version` fields.
    private static func envelopeError(_ error: DecodingError) -> DecodeError {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .malformedJSON(underlyingReason(context))
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return .notAnObject
        default:
            return fieldError(error)
        }
    }

    /// Maps a `DecodingError` to the field it concerns.
    private static func fieldError(_ error: DecodingError) -> DecodeError {
        switch error {
        case .keyNotFound(let key, let context):
            return .missingField(JSONRejection.fieldPath(context.codingPath + [key]))
        case .valueNotFound(_, let context):
            return .missingField(JSONRejection.fieldPath(context.codingPath))
        case .typeMismatch(let type, let context):
            return .wrongType(field: JSONRejection.fieldPath(context.codingPath), expected: jsonTypeName(type))
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return .malformedJSON(underlyingReason(context)) }
            return .invalidValue(field: JSONRejection.fieldPath(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return .malformedJSON(String(describing: error))
        }
    }

    private static func underlyingReason(_ context: DecodingError.Context) -> String {
        if let underlying = context.underlyingError {
            return "\(context.debugDescription) (\(underlying))"
        }
        return context.debugDescription
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [Any].Type: "an array"
        default: "\(type)"
        }
    }
}

/// Writes the schema and version next to the payload's own fields.
private struct Envelope<T: Message>: Encodable {
    let message: T

    enum CodingKeys: String, CodingKey {
        case schema, version
    }

    func encode(to encoder: any Encoder) throws {
        // A message that writes its members itself writes them among the envelope's.
        if let writable = T.self as? any JSONWritable.Type, var members = JSONObjectWriter(membersOf: encoder) {
            try Self.writeMembers(of: message, as: writable, to: &members)
            members.member("schema", T.schemaName)
            members.member("version", T.schemaVersion)
            return
        }
        try message.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(T.schemaName, forKey: .schema)
        try container.encode(T.schemaVersion, forKey: .version)
    }

    /// Cast to `W`, not to `any JSONWritable`, which boxes a large message on the heap.
    private static func writeMembers<W: JSONWritable>(of message: T, as _: W.Type, to members: inout JSONObjectWriter) throws {
        try (message as! W).writeMembers(to: &members)
    }
}

/// Reads the schema, the version and the payload in one pass.
private struct EnvelopeAndMessage<T: Message>: Decodable {
    let schema: String?
    let version: Int?
    let message: T

    enum CodingKeys: String, CodingKey {
        case schema, version
    }

    init(from decoder: any Decoder) throws {
        // The schema and version through the reader, without a keyed container; what it refuses
        // (a version with a fraction, say) through the container, which rejects it with its place.
        let members = JSONObjectReader(membersOf: decoder)
        if let members, let header = try? (members.optionalString("schema"), members.optionalInt("version")) {
            (schema, version) = header
        } else {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            schema = try container.decodeIfPresent(String.self, forKey: .schema)
            version = try container.decodeIfPresent(Int.self, forKey: .version)
        }
        // A message of this version that reads itself reads its members; anything else, an
        // older version or JSON its reader refuses, goes through init(from:).
        if version == T.schemaVersion, let readable = T.self as? any JSONReadable.Type,
           let message = members?.read(readable, as: T.self) {
            self.message = message
        } else {
            message = try T(from: decoder)
        }
    }
}

/// Reads only the schema and version of a record; both optional so absence is reported clearly.
private struct EnvelopeSchema: Decodable {
    let schema: String?
    let version: Int?
}
