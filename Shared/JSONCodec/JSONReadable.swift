import Foundation
import Synchronization

/// A type that reads itself from a JSON object member by member, without going through
/// `Decodable`'s keyed containers (the reading side of ``JSONWritable``).
///
/// ``JSONIndexDecoder`` (and so the pipeline's message codec) reads a conforming value this way
/// wherever it meets one. A reader may refuse what it does not expect (throw anything): the
/// decoder then reads the value with `init(from:)`, which accepts or rejects it exactly as it
/// always did. So a reader needs to handle only the JSON its writer writes, and must never accept
/// anything `init(from:)` would not, or read it differently: it reads every member `init(from:)`
/// reads, under the same key, and refuses a missing required member, a null where `init(from:)`
/// needs a value, an integer written with a fraction or an exponent, an empty identifier and an
/// unknown enumeration case. Members it does not know are ignored, as `init(from:)` ignores them.
public protocol JSONReadable: Decodable {
    /// Reads the value from `object`'s members.
    init(reading object: inout JSONObjectReader) throws
}

/// Reads the members of one object for a ``JSONReadable`` value; see there. Every method throws
/// when the member is not there (the `optional…` ones: not there or null) or not of its type.
public struct JSONObjectReader {
    /// What a reader throws for JSON it does not expect (`init(from:)` then reads it).
    public struct Unexpected: Error {
        /// The error.
        public init() {}
    }

    private let document: JSONIndex
    /// The object's node.
    private let node: Int

    /// Counts the values readers refused in the task that sets it (``refusals``).
    public final class RefusalCount: Sendable {
        private let count = Atomic<Int>(0)

        /// A count at zero.
        public init() {}

        /// The refusals so far.
        public var value: Int { count.load(ordering: .relaxed) }

        fileprivate func add() { count.add(1, ordering: .relaxed) }
    }

    /// Where refusals are counted in the current task, if anywhere. A refused value is read a
    /// second time, by `init(from:)`: valid records written by this codec should never be
    /// refused, which tests check with a count of their own.
    @TaskLocal public static var refusals: RefusalCount?

    init(decoder: IndexDecoder) {
        document = decoder.document
        node = decoder.node
    }

    private init(document: JSONIndex, node: Int) {
        self.document = document
        self.node = node
    }

    /// A reader of the object `decoder` reads; nil when `decoder` is not the index decoder's or
    /// its value is not an object. For a value whose `init(from:)` shares its object with
    /// others' (a message and its envelope).
    public init?(membersOf decoder: any Decoder) {
        guard let decoder = decoder as? IndexDecoder, decoder.document.nodes[decoder.node].kind == .object else { return nil }
        self.init(decoder: decoder)
    }

    /// A `Readable` read from this object by its reader, as the `T` it is (the caller's generic
    /// name for the same type); nil when the reader refuses the JSON, which is counted in the
    /// task's ``refusals``.
    public func read<Readable: JSONReadable, T>(_ type: Readable.Type, as: T.Type) -> T? {
        var object = self
        guard let value = try? Readable(reading: &object) else {
            Self.refusals?.add()
            return nil
        }
        let read: T = value as! T  // the same type: no conversion
        return read
    }

    /// The value node of `key`; nil when it is absent or null.
    private func node(_ key: StaticString) throws -> Int? {
        let found = try key.withUTF8Buffer { name in Result { try document.member(of: self.node, utf8: name) } }.get()
        guard let found, document.nodes[found].kind != .null else { return nil }
        return found
    }

    private func requiredNode(_ key: StaticString) throws -> Int {
        guard let node = try node(key) else { throw JSONIndexDecoder.Unsupported() }
        return node
    }

    /// An integer; one written with a fraction or an exponent is refused (`init(from:)` rejects it
    /// with its place).
    private func integer(at node: Int) throws -> Int {
        guard !document.nodes[node].isComplex else { throw JSONIndexDecoder.Unsupported() }
        return try document.integer(at: node, path: { [] }, as: Int.self)
    }

    /// The raw value `text` names when it is not empty (an identifier's `init(from:)` rejects an
    /// empty one) and names a case.
    private func rawValue<Value: RawRepresentable>(_ text: String) throws -> Value where Value.RawValue == String {
        guard !text.isEmpty, let value = Value(rawValue: text) else { throw JSONIndexDecoder.Unsupported() }
        return value
    }

    /// A decoder of a member's value, for a type without a reader. Its coding path starts at the
    /// member: an error inside a reader is never reported from there, only counted as a refusal
    /// (the whole value is then read again by `init(from:)`, with full paths).
    private func child(_ node: Int, _ key: StaticString) -> IndexDecoder {
        IndexDecoder(document: document, node: node, parent: nil, key: StaticCodingKey(name: key))
    }

    /// A nested object, read by its reader with no decoder of its own. A nested value the reader
    /// refuses makes this reader refuse: the enclosing value is then read by `init(from:)`, which
    /// reads the nested one as it always did.
    private func nested<Value: JSONReadable>(_ node: Int) throws -> Value {
        guard document.nodes[node].kind == .object else { throw JSONIndexDecoder.Unsupported() }
        var reader = JSONObjectReader(document: document, node: node)
        return try Value(reading: &reader)
    }

    private func objects<Element: JSONReadable>(at node: Int) throws -> [Element] {
        guard document.nodes[node].kind == .array else { throw JSONIndexDecoder.Unsupported() }
        let count = Int(document.nodes[node].count)
        var elements: [Element] = []
        elements.reserveCapacity(count)
        var element = node + 1
        for _ in 0..<count {
            elements.append(try nested(element))
            element = Int(document.nodes[element].after)
        }
        return elements
    }

    /// A string.
    public func string(_ key: StaticString) throws -> String { try document.string(at: requiredNode(key)) }
    /// An integer.
    public func int(_ key: StaticString) throws -> Int { try integer(at: requiredNode(key)) }
    /// A boolean.
    public func bool(_ key: StaticString) throws -> Bool { try document.bool(at: requiredNode(key)) }
    /// A finite number.
    public func double(_ key: StaticString) throws -> Double { try document.double(at: requiredNode(key)) }
    /// An ``ISO8601`` date.
    public func date(_ key: StaticString) throws -> Date { try document.date(at: requiredNode(key)) }
    /// An array of strings.
    public func strings(_ key: StaticString) throws -> [String] { try document.strings(at: requiredNode(key)) }
    /// A value's JSON text as it stands (``RawJSON``).
    public func rawJSON(_ key: StaticString) throws -> RawJSON { RawJSON(parsed: document.rawBytes(at: try requiredNode(key))) }
    /// An enumeration or identifier written as its raw string.
    public func rawValue<Value: RawRepresentable>(_ key: StaticString) throws -> Value where Value.RawValue == String {
        try rawValue(document.string(at: requiredNode(key)))
    }
    /// An array of enumerations written as their raw strings.
    public func rawValues<Value: RawRepresentable>(_ key: StaticString) throws -> [Value] where Value.RawValue == String {
        try document.strings(at: requiredNode(key)).map { try rawValue($0) }
    }
    /// Any other value, read by its `init(from:)`.
    public func decoded<Value: Decodable>(_ key: StaticString, as type: Value.Type) throws -> Value {
        try child(requiredNode(key), key).decodeValue(Value.self)
    }
    /// A nested object, read by its reader; when that refuses, so does this reader.
    public func object<Value: JSONReadable>(_ key: StaticString) throws -> Value {
        try nested(requiredNode(key))
    }
    /// An array of objects.
    public func objects<Element: JSONReadable>(_ key: StaticString) throws -> [Element] {
        try objects(at: requiredNode(key))
    }

    /// An optional string.
    public func optionalString(_ key: StaticString) throws -> String? { try node(key).map { try document.string(at: $0) } }
    /// An optional integer.
    public func optionalInt(_ key: StaticString) throws -> Int? { try node(key).map { try integer(at: $0) } }
    /// An optional boolean.
    public func optionalBool(_ key: StaticString) throws -> Bool? { try node(key).map { try document.bool(at: $0) } }
    /// An optional number.
    public func optionalDouble(_ key: StaticString) throws -> Double? { try node(key).map { try document.double(at: $0) } }
    /// An optional date.
    public func optionalDate(_ key: StaticString) throws -> Date? { try node(key).map { try document.date(at: $0) } }
    /// An optional array of strings.
    public func optionalStrings(_ key: StaticString) throws -> [String]? { try node(key).map { try document.strings(at: $0) } }
    /// An optional enumeration or identifier.
    public func optionalRawValue<Value: RawRepresentable>(_ key: StaticString) throws -> Value? where Value.RawValue == String {
        try node(key).map { try rawValue(document.string(at: $0)) }
    }
    /// An optional array of enumerations written as their raw strings.
    public func optionalRawValues<Value: RawRepresentable>(_ key: StaticString) throws -> [Value]? where Value.RawValue == String {
        try node(key).map { try document.strings(at: $0).map { try rawValue($0) } }
    }
    /// An optional nested object.
    public func optionalObject<Value: JSONReadable>(_ key: StaticString) throws -> Value? {
        try node(key).map { try nested($0) }
    }
    /// An optional array of objects.
    public func optionalObjects<Element: JSONReadable>(_ key: StaticString) throws -> [Element]? {
        try node(key).map { try objects(at: $0) }
    }
    /// Any other optional value, read by its `init(from:)`.
    public func optionalDecoded<Value: Decodable>(_ key: StaticString, as type: Value.Type) throws -> Value? {
        try node(key).map { try child($0, key).decodeValue(Value.self) }
    }
}

/// A member's key as a reader names it; its string is made only when asked for (a coding path
/// in an error).
private struct StaticCodingKey: CodingKey {
    let name: StaticString

    init(name: StaticString) { self.name = name }

    var stringValue: String { "\(name)" }
    var intValue: Int? { nil }

    init?(stringValue: String) { nil }
    init?(intValue: Int) { nil }
}
