import Foundation
import Synchronization

/// Encodes `Encodable` values as compact JSON, writing bytes as it goes.
///
/// The output is what `JSONEncoder` writes with `[.sortedKeys, .withoutEscapingSlashes]`, dates
/// as ``ISO8601`` strings and non-finite numbers as the strings `Infinity`, `-Infinity` and
/// `NaN`: object keys in the byte order of their UTF-8, numbers as `JSONEncoder` spells them, the
/// same string escapes. `JSONEncoder` first builds a tree of boxed values and then writes it;
/// this encoder writes each value once into one buffer and reorders an object's members in place
/// when it closes, which costs less (figure g of `Benchmarks/pipeline-report.md`).
public struct JSONStreamEncoder {
    /// The JSON text of `value`; nested values equal to the one `fragment` holds are written
    /// from its bytes, and the first other one it meets replaces it.
    public static func encode<T: Encodable>(_ value: T, fragment: (any JSONFragmentSlot)? = nil) throws -> [UInt8] {
        let sink = ByteSink.reused()
        defer { sink.putBack() }
        let encoder = StreamEncoder(sink: sink, parent: nil, key: nil)
        encoder.fragment = fragment
        try encoder.encodeValue(value)
        guard encoder.shape != .empty else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(T.self) did not encode any values"))
        }
        try encoder.finish()
        return sink.copyOfBytes()
    }

    /// A `JSONEncoder` that writes what ``encode(_:fragment:)`` writes, more slowly; for comparisons.
    public static func foundationEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }
}

/// The JSON of one nested value, kept from one encoding for the next ones: a value written into
/// several records (a lead's profile, in its state, a request and a pool entry) is encoded once.
///
/// An encoder given the slot writes a nested value of type `Value` that equals the slot's value
/// from the slot's bytes; it encodes any other one and keeps it in the slot. Equal values have
/// equal JSON, so the output is the same with or without the slot. Comparing costs little when
/// the values are copies of one another: arrays and strings that share storage compare by
/// identity. One slot serves one thread at a time.
public final class JSONFragment<Value: Encodable & Equatable>: JSONFragmentSlot {
    private var value: Value?
    private var bytes: [UInt8] = []

    /// An empty slot.
    public init() {}

    /// `Value`.
    public var valueType: Any.Type { Value.self }

    /// The kept JSON when `candidate` equals the kept value.
    public func bytes<T>(for candidate: T) -> [UInt8]? {
        guard T.self == Value.self, let value, value == (candidate as! Value) else { return nil }
        return bytes
    }

    /// Keeps `candidate` and its JSON.
    public func keep<T>(_ candidate: T, bytes: ArraySlice<UInt8>) {
        guard T.self == Value.self else { return }
        value = (candidate as! Value)
        self.bytes = Array(bytes)
    }
}

/// What the encoder asks of a ``JSONFragment`` of any value type.
public protocol JSONFragmentSlot: AnyObject {
    /// The type of the values the slot holds: the encoder asks the slot about values of this
    /// type only (asking about any other costs a runtime metadata lookup for nothing).
    var valueType: Any.Type { get }
    /// The JSON of `candidate` when the slot holds an equal value; nil for any other value or type.
    func bytes<T>(for candidate: T) -> [UInt8]?
    /// Keeps `candidate` and its JSON, when it is of the slot's type.
    func keep<T>(_ candidate: T, bytes: ArraySlice<UInt8>)
}

/// The growing output, and what the encoders writing into it reuse. One encode uses a sink at a
/// time; between encodes it waits, empty, among the idle sinks (so it may change threads, never
/// while in use).
final class ByteSink: @unchecked Sendable {
    @exclusivity(unchecked) var bytes: [UInt8] = []
    /// The members of every object open in this sink, innermost last: the encoders writing here
    /// nest (each finishes before its parent goes on), so each one's members are the top of the
    /// stack while it is open, and one array serves them all.
    @exclusivity(unchecked) var members: [StreamEncoder.Member] = []
    /// Where an object's members are put in key order, kept from one object to the next.
    @exclusivity(unchecked) var scratch: [UInt8] = []

    init() {
        bytes.reserveCapacity(2048)
        members.reserveCapacity(32)  // the members of the objects open at once; grown from empty, each encode paid six copies
    }

    /// Sinks of finished encodes, emptied, kept for the next ones: a top-level encode took a new
    /// sink and its three buffers every time (four of a record's allocations).
    private static let idle = Mutex<[ByteSink]>([])
    /// How many idle sinks are kept (about the threads that encode at once).
    private static let idleLimit = 16
    /// A sink keeps byte buffers up to this size; a larger one (a large record) is given back.
    private static let keptCapacity = 1 << 16
    /// A sink keeps a member stack up to this many members (an object of thousands of members).
    private static let keptMembers = 1 << 10

    /// The bytes written, in a buffer of their own sized for them (the sink's buffer stays with
    /// the sink for its next encode).
    func copyOfBytes() -> [UInt8] {
        bytes.withUnsafeBufferPointer { written in
            [UInt8](unsafeUninitializedCapacity: written.count) { copy, count in
                count = copy.initialize(from: written).1
            }
        }
    }

    /// An idle sink, or a new one.
    static func reused() -> ByteSink {
        idle.withLock { $0.popLast() } ?? ByteSink()
    }

    /// Empties this sink and keeps it for ``reused()``.
    func putBack() {
        guard bytes.capacity <= Self.keptCapacity, scratch.capacity <= Self.keptCapacity, members.capacity <= Self.keptMembers
        else { return }
        bytes.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        Self.idle.withLock { if $0.count < Self.idleLimit { $0.append(self) } }
    }

    var count: Int { bytes.count }

    func write(_ byte: UInt8) { bytes.append(byte) }

    func write(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `text` as a JSON string: quotes, backslashes and control characters escaped.
    func writeString(_ text: String) {
        write(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var clean = 0  // start of the run not yet written
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean..<index]))
                clean = index + 1
                switch byte {
                case UInt8(ascii: "\""): write("\\\"")
                case UInt8(ascii: "\\"): write("\\\\")
                case 0x08: write("\\b")
                case 0x0C: write("\\f")
                case UInt8(ascii: "\n"): write("\\n")
                case UInt8(ascii: "\r"): write("\\r")
                case UInt8(ascii: "\t"): write("\\t")
                default:
                    write("\\u00")
                    write(Self.hexDigits[Int(byte >> 4)])
                    write(Self.hexDigits[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean...]))
        }
        write(UInt8(ascii: "\""))
    }

    /// `date` as a JSON string in ``ISO8601``'s format (which needs no escaping).
    func writeDate(_ date: Date) {
        write(UInt8(ascii: "\""))
        ISO8601.write(date, to: &bytes)
        write(UInt8(ascii: "\""))
    }

    /// `strings` as a JSON array.
    func writeStrings(_ strings: [String]) {
        write(UInt8(ascii: "["))
        for (index, string) in strings.enumerated() {
            if index > 0 { write(UInt8(ascii: ",")) }
            writeString(string)
        }
        write(UInt8(ascii: "]"))
    }

    func writeInteger<T: BinaryInteger>(_ value: T) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Shortest round-trip digits, without a trailing `.0`, as `JSONEncoder` writes them.
    func writeFloatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(_ value: T) {
        guard value.isFinite else {
            writeString(value.isNaN ? "NaN" : value > 0 ? "Infinity" : "-Infinity")
            return
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

/// One value being written: an object, an array or a single value.
final class StreamEncoder: Encoder {
    enum Shape { case empty, object, array, single }

    /// A member of an open object: where its `"key":value` starts, and the encoder of a nested
    /// container or super encoder whose bytes are appended when the object closes.
    struct Member {
        let key: String
        /// The key's first eight UTF-8 bytes, big-endian and zero-padded: members with different
        /// prefixes compare as their prefixes do, without reading the keys.
        let prefix: UInt64
        let start: Int
        let deferred: StreamEncoder?
    }

    let sink: ByteSink
    let parent: StreamEncoder?
    let key: (any CodingKey)?
    /// The root's fragment slot, shared by every nested encoder.
    @exclusivity(unchecked) var fragment: (any JSONFragmentSlot)?
    @exclusivity(unchecked) private(set) var shape = Shape.empty
    /// An object's members are `sink.members[memberBase...]`, `memberCount` of them.
    @exclusivity(unchecked) private var memberBase = 0
    @exclusivity(unchecked) private var memberCount = 0
    /// Where the object or array began (just after `{` or `[`).
    @exclusivity(unchecked) private var contentStart = 0
    @exclusivity(unchecked) private(set) var elementCount = 0
    /// Nested containers of an array and the positions their bytes go to.
    @exclusivity(unchecked) private var deferredElements: [(position: Int, encoder: StreamEncoder)] = []

    init(sink: ByteSink, parent: StreamEncoder?, key: (any CodingKey)?) {
        self.sink = sink
        self.parent = parent
        self.key = key
        fragment = parent?.fragment
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var node: StreamEncoder? = self
        while let current = node, let key = current.key {
            path.append(key)
            node = current.parent
        }
        return path.reversed()
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        beginObject()
        return KeyedEncodingContainer(StreamKeyedContainer<Key>(encoder: self))
    }

    /// Makes this value an object, whose members ``beginMember(_:deferred:)`` starts and
    /// ``finish()`` sorts.
    func beginObject() {
        if shape == .empty {
            shape = .object
            sink.write(UInt8(ascii: "{"))
            contentStart = sink.count
            memberBase = sink.members.count
        }
        precondition(shape == .object, "a value asked for a keyed container after writing something else")
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if shape == .empty {
            shape = .array
            sink.write(UInt8(ascii: "["))
            contentStart = sink.count
        }
        precondition(shape == .array, "a value asked for an unkeyed container after writing something else")
        return StreamUnkeyedContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        StreamSingleValueContainer(encoder: self)
    }

    // MARK: Writing

    /// Starts a single value; a second one is a programming error, as with `JSONEncoder`.
    func beginSingle() {
        precondition(shape == .empty, "a single value container was written twice")
        shape = .single
    }

    func beginMember(_ key: String, deferred: StreamEncoder? = nil) {
        if memberCount > 0 { sink.write(UInt8(ascii: ",")) }
        sink.members.append(Member(key: key, prefix: Self.prefix(of: key), start: sink.count, deferred: deferred))
        memberCount += 1
        sink.writeString(key)
        sink.write(UInt8(ascii: ":"))
    }

    func beginElement() {
        if elementCount > 0 { sink.write(UInt8(ascii: ",")) }
        elementCount += 1
    }

    /// The next element, written by an encoder with a buffer of its own and spliced in when the
    /// array closes.
    func deferredElement() -> StreamEncoder {
        let child = deferredChild(key: StreamCodingKey(index: elementCount))
        beginElement()
        deferredElements.append((sink.count, child))
        return child
    }

    /// Writes `value` in this encoder's place (it becomes this encoder's single value, object or array).
    func encodeValue<T: Encodable>(_ value: T) throws {
        if writePrimitive(value) {
            beginSingle()
        } else if T.self == URL.self {
            beginSingle()
            sink.writeString((value as! URL).absoluteString)
        } else if T.self == Data.self {
            beginSingle()
            sink.writeString((value as! Data).base64EncodedString())
        } else if let writable = T.self as? any JSONWritable.Type {
            beginSingle()
            try writeObject(value, as: writable)
        } else {
            try value.encode(to: self)
        }
    }

    /// Writes strings, numbers, booleans, dates, arrays of strings and ``RawJSON``; false for any other type. Types are compared
    /// by metadata, which is cheaper than casting every value.
    func writePrimitive<T: Encodable>(_ value: T) -> Bool {
        if T.self == String.self {
            sink.writeString(value as! String)
        } else if T.self == Int.self {
            sink.writeInteger(value as! Int)
        } else if T.self == Bool.self {
            sink.write((value as! Bool) ? "true" : "false")
        } else if T.self == Double.self {
            sink.writeFloatingPoint(value as! Double)
        } else if T.self == Date.self {
            sink.writeDate(value as! Date)
        } else if T.self == [String].self {
            sink.writeStrings(value as! [String])
        } else if T.self == Float.self {
            sink.writeFloatingPoint(value as! Float)
        } else if T.self == Int8.self {
            sink.writeInteger(value as! Int8)
        } else if T.self == Int16.self {
            sink.writeInteger(value as! Int16)
        } else if T.self == Int32.self {
            sink.writeInteger(value as! Int32)
        } else if T.self == Int64.self {
            sink.writeInteger(value as! Int64)
        } else if T.self == UInt.self {
            sink.writeInteger(value as! UInt)
        } else if T.self == UInt8.self {
            sink.writeInteger(value as! UInt8)
        } else if T.self == UInt16.self {
            sink.writeInteger(value as! UInt16)
        } else if T.self == UInt32.self {
            sink.writeInteger(value as! UInt32)
        } else if T.self == UInt64.self {
            sink.writeInteger(value as! UInt64)
        } else if T.self == RawJSON.self {
            sink.bytes.append(contentsOf: (value as! RawJSON).bytes)
        } else {
            return false
        }
        return true
    }

    /// Encodes `value` as a member or element written inline, from the fragment slot's bytes
    /// when it holds an equal value.
    func encodeChild<T: Encodable>(_ value: T, key: (any CodingKey)?) throws {
        try throughFragmentSlot(value) {
            // The type is asked, not the value: a value cast that fails costs twice as much (four
            // times for an optional, which it unwraps), and most nested values are not writable.
            if let writable = T.self as? any JSONWritable.Type {
                try writeObject(value, as: writable)
            } else {
                let child = StreamEncoder(sink: sink, parent: self, key: key)
                try child.encodeValue(value)
                try child.finish()
            }
        }
    }

    /// Writes a nested `value` with its own ``JSONWritable/writeMembers(to:)``, or from the
    /// fragment slot's bytes when it holds an equal value (as ``encodeChild(_:key:)`` does).
    func writeNestedObject<T: JSONWritable>(_ value: T) throws {
        try throughFragmentSlot(value) { try writeObject(value) }
    }

    /// Writes `value` from the fragment slot's bytes when the slot holds an equal value; else
    /// with `write`, and keeps what it wrote in the slot when the slot is for `T`.
    private func throughFragmentSlot<T: Encodable>(_ value: T, _ write: () throws -> Void) rethrows {
        let slot = fragment.flatMap { $0.valueType == T.self ? $0 : nil }
        if let bytes = slot?.bytes(for: value) {
            sink.bytes.append(contentsOf: bytes)
            return
        }
        let start = sink.count
        try write()
        slot?.keep(value, bytes: sink.bytes[start...])
    }

    /// Writes `value`'s object with its own ``JSONWritable/writeMembers(to:)``; nested values it
    /// hands back to the encoder are written as children of this one.
    func writeObject(_ value: some JSONWritable) throws {
        sink.write(UInt8(ascii: "{"))
        var object = JSONObjectWriter(encoder: self)
        try value.writeMembers(to: &object)
        sink.write(UInt8(ascii: "}"))
    }

    /// ``writeObject(_:)`` for a value whose type was found to be `W`: cast to `W`, not to
    /// `any JSONWritable`, which boxes a large value on the heap.
    private func writeObject<T, W: JSONWritable>(_ value: T, as _: W.Type) throws {
        try writeObject(value as! W)
    }

    /// An encoder with a buffer of its own, for a container whose lifetime may overlap others.
    func deferredChild(key: (any CodingKey)?) -> StreamEncoder {
        StreamEncoder(sink: ByteSink(), parent: self, key: key)
    }

    /// Closes the value: an object's members sorted by key, nested containers spliced in.
    func finish() throws {
        switch shape {
        case .empty:
            sink.write("{}")  // as JSONEncoder writes a nested value that encoded nothing
        case .single:
            break
        case .array:
            if !deferredElements.isEmpty { try spliceDeferredElements() }
            sink.write(UInt8(ascii: "]"))
        case .object:
            try closeObject()
        }
    }

    private func spliceDeferredElements() throws {
        var content = Array(sink.bytes[contentStart...])
        for (position, encoder) in deferredElements.reversed() {
            try encoder.finish()
            content.insert(contentsOf: encoder.sink.bytes, at: position - contentStart)
        }
        sink.bytes.replaceSubrange(contentStart..., with: content)
    }

    private func closeObject() throws {
        defer { sink.members.removeLast(memberCount) }
        let end = sink.count
        let members = memberBase..<(memberBase + memberCount)
        let isSorted = members.dropFirst().allSatisfy { Self.compare(sink.members[$0 - 1], sink.members[$0]) < 0 }
        if isSorted && !sink.members[members].contains(where: { $0.deferred != nil }) {
            sink.write(UInt8(ascii: "}"))
            return
        }
        var content: [UInt8] = []
        swap(&content, &sink.scratch)
        defer { swap(&content, &sink.scratch) }
        content.removeAll(keepingCapacity: true)
        content.reserveCapacity(end - contentStart + 1)  // once, not grown from empty in every new sink
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: memberCount) { order in
            sortMembers(into: order)
            for (position, index) in order.enumerated() {
                if position > 0 { content.append(UInt8(ascii: ",")) }
                // A member runs from its start to the comma before the next one written.
                let member = sink.members[index]
                let memberEnd = index + 1 < members.upperBound ? sink.members[index + 1].start - 1 : end
                content.append(contentsOf: sink.bytes[member.start..<memberEnd])
                if let deferred = member.deferred {
                    try deferred.finish()
                    content.append(contentsOf: deferred.sink.bytes)
                }
            }
        }
        content.append(UInt8(ascii: "}"))
        sink.bytes.replaceSubrange(contentStart..., with: content)
    }

    /// Puts the indices in `sink.members` of this object's members in key order into `order`.
    /// Stable, so a key written twice keeps both in the order written (the envelope's keys never
    /// collide with a payload's; see ``Message``). Objects have a few members: an insertion sort,
    /// which needs no closure, unless there are many.
    private func sortMembers(into order: UnsafeMutableBufferPointer<Int>) {
        for position in 0..<memberCount { order[position] = memberBase + position }
        guard memberCount <= 32 else {
            var order = order
            order.sort { lhs, rhs in
                let comparison = Self.compare(sink.members[lhs], sink.members[rhs])
                return comparison == 0 ? lhs < rhs : comparison < 0
            }
            return
        }
        for position in order.indices.dropFirst() {
            let index = order[position]
            var slot = position
            while slot > 0 && Self.compare(sink.members[order[slot - 1]], sink.members[index]) > 0 {
                order[slot] = order[slot - 1]
                slot -= 1
            }
            order[slot] = index
        }
    }

    /// Orders members by key: by the prefixes when they differ, else by the whole keys.
    private static func compare(_ lhs: Member, _ rhs: Member) -> Int {
        if lhs.prefix != rhs.prefix { return lhs.prefix < rhs.prefix ? -1 : 1 }
        return compare(lhs.key, rhs.key)
    }

    /// See ``Member/prefix``.
    private static func prefix(of key: String) -> UInt64 {
        var key = key
        return key.withUTF8 { utf8 in
            var prefix: UInt64 = 0
            let count = min(8, utf8.count)
            for index in 0..<count { prefix = prefix << 8 | UInt64(utf8[index]) }
            return count == 0 ? 0 : prefix << (8 * (8 - count))
        }
    }

    /// Compares in the byte order of the UTF-8, which is the order of `String`'s `<` for the
    /// keys of our types: negative, zero or positive.
    private static func compare(_ lhs: String, _ rhs: String) -> Int {
        var lhs = lhs
        var rhs = rhs
        return lhs.withUTF8 { left in
            rhs.withUTF8 { right in
                let common = min(left.count, right.count)
                let order = common == 0 ? 0 : Int(memcmp(left.baseAddress!, right.baseAddress!, common))
                return order != 0 ? order : left.count - right.count
            }
        }
    }
}

private struct StreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: StreamEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws {
        encoder.beginMember(key.stringValue)
        encoder.sink.write("null")
    }

    /// Every type, strings and numbers included: this one method serves the protocol's
    /// `encode(_:forKey:)` requirements but those of the types below.
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        encoder.beginMember(key.stringValue)
        if !encoder.writePrimitive(value) { try encoder.encodeChild(value, key: key) }
    }

    // The most common members, strings, integers, booleans and doubles, present or optional, are
    // written by methods of their own: a synthesized `encode(to:)` calls these requirements
    // directly, without the generic method's type checks, casts and optional metadata lookups.

    mutating func encode(_ value: String, forKey key: Key) throws {
        encoder.beginMember(key.stringValue)
        encoder.sink.writeString(value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        encoder.beginMember(key.stringValue)
        encoder.sink.writeInteger(value)
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        encoder.beginMember(key.stringValue)
        encoder.sink.write(value ? "true" : "false")
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        encoder.beginMember(key.stringValue)
        encoder.sink.writeFloatingPoint(value)
    }

    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }

    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }

    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }

    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let child = encoder.deferredChild(key: key)
        encoder.beginMember(key.stringValue, deferred: child)
        return child.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = encoder.deferredChild(key: key)
        encoder.beginMember(key.stringValue, deferred: child)
        return child.unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(named: "super")
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(named: key.stringValue)
    }

    private func superEncoder(named name: String) -> any Encoder {
        let child = encoder.deferredChild(key: StreamCodingKey(name))
        encoder.beginMember(name, deferred: child)
        return child
    }
}

private struct StreamUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: StreamEncoder

    /// The array's elements so far, whichever container wrote them.
    var count: Int { encoder.elementCount }

    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws {
        encoder.beginElement()
        encoder.sink.write("null")
    }

    /// Every type, strings and numbers included: this one method serves the protocol's
    /// `encode(_:)` requirements but the one for strings.
    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        encoder.beginElement()
        if !encoder.writePrimitive(value) { try encoder.encodeChild(value, key: StreamCodingKey(index: index)) }
    }

    /// A string element, the most common, without the generic method's type checks.
    mutating func encode(_ value: String) throws {
        encoder.beginElement()
        encoder.sink.writeString(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        encoder.deferredElement().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        encoder.deferredElement().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        encoder.deferredElement()
    }
}

private struct StreamSingleValueContainer: SingleValueEncodingContainer {
    let encoder: StreamEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws {
        encoder.beginSingle()
        encoder.sink.write("null")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encoder.encodeValue(value)
    }

    /// A string, as every enumeration with string raw values writes itself, without the generic
    /// method's type checks.
    mutating func encode(_ value: String) throws {
        encoder.beginSingle()
        encoder.sink.writeString(value)
    }
}

/// A key made at run time: array positions and `super`. An array position's name is made only
/// when asked for (a coding path in an error).
struct StreamCodingKey: CodingKey {
    private let name: String?
    let intValue: Int?

    var stringValue: String { name ?? "Index \(intValue ?? 0)" }

    init(_ string: String) {
        name = string
        intValue = nil
    }

    init(index: Int) {
        name = nil
        intValue = index
    }

    init?(stringValue: String) { self.init(stringValue) }

    init?(intValue: Int) { self.init(index: intValue) }
}
