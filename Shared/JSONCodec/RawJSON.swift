import Foundation

/// One JSON value kept as its bytes, for a reader that passes a value on without reading it.
///
/// ``JSONIndexDecoder`` gives a `RawJSON` member the bytes of the member's value as they stand in
/// the document, without decoding them, and ``JSONStreamEncoder`` writes them back as they are;
/// so a value read from one record and written into another costs a copy, not a decoding and an
/// encoding. With any other decoder or encoder (Foundation's) the value goes through its parts,
/// which gives the same JSON, more slowly.
public struct RawJSON: Codable, Hashable, Sendable {
    /// The value's JSON text, UTF-8.
    public let bytes: [UInt8]

    /// Wraps bytes a decoder took from a document it parsed, so they are one JSON value.
    init(parsed bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The JSON of `value`, as ``JSONStreamEncoder`` writes it.
    public init(encoding value: some Encodable) throws {
        bytes = try JSONStreamEncoder.encode(value)
    }

    /// Decodes the value as a `T`.
    public func decoded<T: Decodable>(as type: T.Type) throws -> T {
        try JSONIndexDecoder.decode(T.self, from: bytes)
    }

    /// Reads the value through its parts; only a decoder other than ``JSONIndexDecoder`` calls it.
    public init(from decoder: any Decoder) throws {
        bytes = try JSONStreamEncoder.encode(try JSONValue(from: decoder))
    }

    /// Writes the value through its parts; only an encoder other than ``JSONStreamEncoder`` calls it.
    public func encode(to encoder: any Encoder) throws {
        try JSONIndexDecoder.decode(JSONValue.self, from: bytes).encode(to: encoder)
    }
}

extension RawJSON {
    /// The members of the JSON object `bytes` holds, in document order, each value as written
    /// (nil for null); nil when `bytes` are not an object ``JSONIndexDecoder`` takes (not JSON,
    /// a key twice, ...). For a writer that fills in some members and passes the others on as
    /// they are.
    public static func members(of bytes: [UInt8]) -> [(name: String, value: RawJSON?)]? {
        try? JSONIndexDecoder.decode(Members.self, from: bytes).members
    }

    private struct Members: Decodable {
        var members: [(name: String, value: RawJSON?)] = []

        init(from decoder: any Decoder) throws {
            let object = try decoder.container(keyedBy: JSONValue.Key.self)
            for key in object.allKeys {
                members.append((key.stringValue, try object.decodeNil(forKey: key) ? nil : object.decode(RawJSON.self, forKey: key)))
            }
        }
    }
}

/// Any JSON value, read and written through the `Codable` containers: how ``RawJSON`` travels
/// through coders that do not know it.
private enum JSONValue: Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    fileprivate struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var members: [String: JSONValue] = [:]
            for key in object.allKeys { members[key.stringValue] = try object.decode(JSONValue.self, forKey: key) }
            self = .object(members)
        } else if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !array.isAtEnd { elements.append(try array.decode(JSONValue.self)) }
            self = .array(elements)
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() {
                self = .null
            } else if let value = try? single.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? single.decode(Int64.self) {
                self = .integer(value)
            } else if let value = try? single.decode(Double.self) {
                self = .number(value)
            } else {
                self = .string(try single.decode(String.self))
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let members):
            var object = encoder.container(keyedBy: Key.self)
            for (key, value) in members { try object.encode(value, forKey: Key(stringValue: key)) }
        case .array(let elements):
            var array = encoder.unkeyedContainer()
            for element in elements { try array.encode(element) }
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .integer(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .number(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .string(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        }
    }
}
