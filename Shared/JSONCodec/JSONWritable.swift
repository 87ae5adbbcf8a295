import Foundation

/// A type that writes its JSON object member by member, without going through `Encodable`'s
/// keyed containers.
///
/// ``JSONStreamEncoder`` (and so the pipeline's message codec) writes a conforming value this
/// way wherever it meets one; Foundation's `JSONEncoder` still uses `encode(to:)`. Through a
/// keyed container every object costs an encoder, a container box and runtime type lookups, and
/// every member a generic call: measured on a lead's activity result, writing its five posts
/// this way took 28% off encoding the whole record.
///
/// The two ways must write the same JSON. ``writeMembers(to:)`` writes every member
/// `encode(to:)` writes, under the same key, with the same value and the same omissions (an
/// absent optional is left out, as `encodeIfPresent` leaves it), in the byte order of the keys:
/// the order the stream encoder sorts an object's members in. The writer checks the order in
/// debug builds; tests compare the bytes with `JSONEncoder`'s for values with every field set.
public protocol JSONWritable: Encodable {
    /// Writes the object's members, keys in byte order.
    func writeMembers(to object: inout JSONObjectWriter) throws
}

/// Writes the members of one object for a ``JSONWritable`` value; see there.
///
/// Strings, numbers, booleans, dates, arrays of strings, enumerations with string raw values,
/// and nested ``JSONWritable`` values and arrays of them are written directly. Any other
/// `Encodable` goes back to the encoder (``member(_:encoding:)``).
public struct JSONObjectWriter {
    private let encoder: StreamEncoder
    private var isEmpty = true
    /// Members go through the encoder's object, which sorts them when it closes
    /// (``init(membersOf:)``).
    private let isMerging: Bool
    #if DEBUG
    private var previousKey: StaticString?
    #endif

    init(encoder: StreamEncoder) {
        self.encoder = encoder
        isMerging = false
    }

    /// A writer of members of the object `encoder` writes, in any order and among members
    /// written through its keyed containers; nil when `encoder` is not the stream encoder's. For a
    /// value whose `encode(to:)` shares its object with others' (a message and its envelope).
    public init?(membersOf encoder: any Encoder) {
        guard let encoder = encoder as? StreamEncoder else { return nil }
        encoder.beginObject()
        self.encoder = encoder
        isMerging = true
    }

    /// Writes `"key":`. Keys are plain ASCII without quotes or backslashes.
    private mutating func key(_ key: StaticString) {
        guard !isMerging else {
            encoder.beginMember("\(key)")
            return
        }
        #if DEBUG
        if let previousKey {
            let ordered = previousKey.withUTF8Buffer { previous in key.withUTF8Buffer { previous.lexicographicallyPrecedes($0) } }
            precondition(ordered, "JSONWritable: \(key) written after \(previousKey); write the keys in byte order")
        }
        previousKey = key
        #endif
        let sink = encoder.sink
        if !isEmpty { sink.write(UInt8(ascii: ",")) }
        isEmpty = false
        sink.write(UInt8(ascii: "\""))
        sink.write(key)
        sink.write("\":")
    }

    /// A string.
    public mutating func member(_ key: StaticString, _ value: String) {
        self.key(key)
        encoder.sink.writeString(value)
    }

    /// An integer.
    public mutating func member(_ key: StaticString, _ value: Int) {
        self.key(key)
        encoder.sink.writeInteger(value)
    }

    /// A boolean.
    public mutating func member(_ key: StaticString, _ value: Bool) {
        self.key(key)
        encoder.sink.write(value ? "true" : "false")
    }

    /// A number, spelled as `JSONEncoder` spells it.
    public mutating func member(_ key: StaticString, _ value: Double) {
        self.key(key)
        encoder.sink.writeFloatingPoint(value)
    }

    /// As an ``ISO8601`` string, as the stream encoder writes every date.
    public mutating func member(_ key: StaticString, _ value: Date) {
        self.key(key)
        encoder.sink.writeDate(value)
    }

    /// An array of strings.
    public mutating func member(_ key: StaticString, _ value: [String]) {
        self.key(key)
        encoder.sink.writeStrings(value)
    }

    /// JSON text as it is.
    public mutating func member(_ key: StaticString, _ value: RawJSON) {
        self.key(key)
        encoder.sink.bytes.append(contentsOf: value.bytes)
    }

    /// An enumeration or identifier that encodes itself as its raw string.
    public mutating func member<Value: RawRepresentable>(_ key: StaticString, _ value: Value) where Value.RawValue == String {
        member(key, value.rawValue)
    }

    /// An array of enumerations written as their raw strings.
    public mutating func member<Value: RawRepresentable>(_ key: StaticString, _ values: [Value]) where Value.RawValue == String {
        self.key(key)
        let sink = encoder.sink
        writeArray(values) { sink.writeString($0.rawValue) }  // as writeStrings would, without the array of strings
    }

    /// A nested object that writes itself (or the encoder's fragment slot holds).
    public mutating func member<Value: JSONWritable>(_ key: StaticString, _ value: Value) throws {
        self.key(key)
        try encoder.writeNestedObject(value)
    }

    /// An array of objects that write themselves.
    public mutating func member<Element: JSONWritable>(_ key: StaticString, _ values: [Element]) throws {
        self.key(key)
        try writeArray(values) { try encoder.writeNestedObject($0) }
    }

    /// An array of short arrays, one per element of `values`, each written by `write`: for records
    /// stored as arrays of values rather than objects.
    public mutating func member<Element>(_ key: StaticString, arraysOf values: [Element],
                                         _ write: (Element, inout JSONArrayWriter) -> Void) {
        self.key(key)
        let sink = encoder.sink
        writeArray(values) { value in
            var array = JSONArrayWriter(sink: sink)
            sink.write(UInt8(ascii: "["))
            write(value, &array)
            sink.write(UInt8(ascii: "]"))
        }
    }

    /// `[`, each element written by `write` with commas between, `]`.
    private func writeArray<Element>(_ values: [Element], _ write: (Element) throws -> Void) rethrows {
        let sink = encoder.sink
        sink.write(UInt8(ascii: "["))
        // By index: this function is not specialized for the writers' element types, and a
        // generic iterator's `next()` allocates for every element.
        for index in values.indices {
            if index > 0 { sink.write(UInt8(ascii: ",")) }
            try write(values[index])
        }
        sink.write(UInt8(ascii: "]"))
    }

    /// Any other value, written by the encoder through its `encode(to:)`.
    public mutating func member<Value: Encodable>(_ key: StaticString, encoding value: Value) throws {
        self.key(key)
        try encoder.encodeChild(value, key: StreamCodingKey("\(key)"))
    }

    // Optionals, each left out when nil, as `encodeIfPresent` leaves it out.

    /// An optional string.
    public mutating func member(_ key: StaticString, _ value: String?) {
        if let value { member(key, value) }
    }

    /// An optional integer.
    public mutating func member(_ key: StaticString, _ value: Int?) {
        if let value { member(key, value) }
    }

    /// An optional boolean.
    public mutating func member(_ key: StaticString, _ value: Bool?) {
        if let value { member(key, value) }
    }

    /// An optional number.
    public mutating func member(_ key: StaticString, _ value: Double?) {
        if let value { member(key, value) }
    }

    /// An optional date.
    public mutating func member(_ key: StaticString, _ value: Date?) {
        if let value { member(key, value) }
    }

    /// An optional array of strings.
    public mutating func member(_ key: StaticString, _ value: [String]?) {
        if let value { member(key, value) }
    }

    /// An optional enumeration or identifier.
    public mutating func member<Value: RawRepresentable>(_ key: StaticString, _ value: Value?) where Value.RawValue == String {
        if let value { member(key, value.rawValue) }
    }

    /// An optional nested object.
    public mutating func member<Value: JSONWritable>(_ key: StaticString, _ value: Value?) throws {
        if let value { try member(key, value) }
    }

    /// An optional array of objects.
    public mutating func member<Element: JSONWritable>(_ key: StaticString, _ values: [Element]?) throws {
        if let values { try member(key, values) }
    }

    /// Any other optional value.
    public mutating func member<Value: Encodable>(_ key: StaticString, encoding value: Value?) throws {
        if let value { try member(key, encoding: value) }
    }
}

/// Writes the values of one JSON array, in order, as an unkeyed encoding container would write
/// them (``JSONObjectWriter/member(_:arraysOf:_:)``).
public struct JSONArrayWriter {
    private let sink: ByteSink
    private var isEmpty = true

    init(sink: ByteSink) { self.sink = sink }

    private mutating func separate() {
        if !isEmpty { sink.write(UInt8(ascii: ",")) }
        isEmpty = false
    }

    /// A string.
    public mutating func string(_ value: String) {
        separate()
        sink.writeString(value)
    }

    /// An integer.
    public mutating func int(_ value: Int) {
        separate()
        sink.writeInteger(value)
    }

    /// A date, as an ``ISO8601`` string.
    public mutating func date(_ value: Date) {
        separate()
        sink.writeDate(value)
    }

    /// An enumeration or identifier that encodes itself as its raw string.
    public mutating func rawValue<Value: RawRepresentable>(_ value: Value) where Value.RawValue == String {
        string(value.rawValue)
    }

    /// `null`.
    public mutating func null() {
        separate()
        sink.write("null")
    }
}
