import Foundation

/// Decodes `Decodable` values from JSON bytes through an index of the document.
///
/// One pass checks the bytes against the JSON grammar (RFC 8259) and records every value's
/// kind and extent; containers then read straight from the bytes, and only the strings and
/// numbers asked for are converted. `JSONDecoder` builds a map of the document too, but each
/// container and value goes through more layers, which costs more (figure g of
/// `Benchmarks/pipeline-report.md`).
///
/// It is stricter than `JSONDecoder`, and the codec relies on that: the rules below are checked
/// on every record before anything else reads it, so the `JSONDecoder` fallback only ever sees
/// documents that passed them. Breaking one throws ``Rejected`` with the reason:
/// - a key twice in one object (which value wins differs between readers);
/// - an unescaped control character in a string, or NUL (`\u0000`) when asked to;
/// - a string longer than the limit given to ``decode(_:from:maxStringLength:rejectsNUL:)``;
/// - nesting deeper than ``maxDepth``;
/// - a number with a fraction or an exponent (`1.0`, `1e0`) where an integer is read.
///
/// Bytes that are not JSON (RFC 8259) throw ``Malformed``; the codec asks `JSONDecoder` for a
/// precise reason. Otherwise it says little: what it cannot decode exactly as `JSONDecoder` would
/// (floats narrower than `Double`, `URL`, `Data`, a value of the wrong type) throws
/// ``Unsupported``, and the caller (LeadModel's `MessageCodec`) decodes the record again with `JSONDecoder`, which
/// either accepts it or says precisely what is wrong.
public struct JSONIndexDecoder {
    /// Why the index decoder gave up; carries no detail, the fallback has it.
    public struct Unsupported: Error {}

    /// The bytes are not JSON; carries no detail, `JSONDecoder` has it.
    public struct Malformed: Error {}

    /// The document breaks one of the decoder's rules; no other reader may accept it.
    public struct Rejected: Error {
        /// What is wrong and where, as the codec reports it.
        public let error: JSONRejection
    }

    /// Deeper documents are rejected.
    public static let maxDepth = 256

    /// The value of type `T` in `bytes`.
    /// - Parameters:
    ///   - maxStringLength: the most Unicode scalars (JSON Schema's `maxLength` count) any
    ///     string in the document, key or value, may have; nil for no limit.
    ///   - rejectsNUL: whether a string may hold `\u0000`.
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], maxStringLength: Int? = nil, rejectsNUL: Bool = false
    ) throws -> T {
        let document = try JSONIndex(bytes, maxStringLength: maxStringLength, rejectsNUL: rejectsNUL)
        return try IndexDecoder(document: document, node: 0, parent: nil, key: nil).decodeValue(T.self)
    }

    /// ``decode(_:from:maxStringLength:rejectsNUL:)``, and from the same parse the member names
    /// of the object `bytes` hold, in document order (nil when they are not an object).
    public static func decodeNamingMembers<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], maxStringLength: Int? = nil, rejectsNUL: Bool = false
    ) throws -> (value: T, memberNames: [String]?) {
        let document = try JSONIndex(bytes, maxStringLength: maxStringLength, rejectsNUL: rejectsNUL)
        let value = try IndexDecoder(document: document, node: 0, parent: nil, key: nil).decodeValue(T.self)
        guard document.nodes.first?.kind == .object else { return (value, nil) }
        return (value, try document.keyNodes(of: 0).map { try document.string(at: $0) })
    }

    /// The member names of the object `bytes` hold, in document order; nil when they are not a
    /// JSON object (the decode that follows says what is wrong).
    public static func memberNames(of bytes: [UInt8]) -> [String]? {
        guard let document = try? JSONIndex(bytes), document.nodes.first?.kind == .object else { return nil }
        return try? document.keyNodes(of: 0).map { try document.string(at: $0) }
    }

    /// The `JSONDecoder` this decoder agrees with (dates as ``ISO8601`` strings): it reads what
    /// ``decode(_:from:maxStringLength:rejectsNUL:)`` leaves, and says precisely what is wrong.
    public static func foundationDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "\"\(text)\" is not an ISO-8601 date-time")
            }
            return date
        }
        return decoder
    }
}

/// The parsed shape of a document: its values in document order, each container followed by
/// its contents (an object's as key, value, key, value, ...).
final class JSONIndex {
    /// Up to this many members, an object's names are compared, and a member found, by scanning
    /// them; a wider object's go through a set or dictionary of its names.
    static let scanLimit = 32

    enum Kind: UInt8 { case object, array, string, number, isTrue, isFalse, null }

    struct Node {
        var kind: Kind
        /// Strings: the first byte after the opening quote. Numbers: the first byte.
        var start: Int32
        /// Strings: the closing quote. Numbers: the byte after the last.
        var end: Int32
        /// The index of the node after this value and everything inside it.
        var after: Int32
        /// Members of an object, elements of an array.
        var count: Int32
        /// A string with escapes, or a number with a fraction or exponent.
        var isComplex: Bool
    }

    let bytes: [UInt8]
    @exclusivity(unchecked) private(set) var nodes: [Node] = []
    /// While parsing, the member each open container is at, by depth: an object's current key
    /// node, or `-(index + 1)` for an array's current element. Names the place of an error.
    @exclusivity(unchecked) private var trail: [Int32]
    private let maxStringLength: Int
    private let rejectsNUL: Bool

    init(_ bytes: [UInt8], maxStringLength: Int? = nil, rejectsNUL: Bool = false) throws {
        self.bytes = bytes
        self.maxStringLength = maxStringLength ?? Int.max
        self.rejectsNUL = rejectsNUL
        trail = Array(repeating: 0, count: JSONIndexDecoder.maxDepth)
        nodes.reserveCapacity(bytes.count / 8)
        var index = 0
        try bytes.withUnsafeBufferPointer { buffer in
            try parseValue(buffer, &index, depth: 0)
            skipWhitespace(buffer, &index)
            guard index == buffer.count else { throw JSONIndexDecoder.Malformed() }
        }
    }

    /// The field path (`poolProfile.linkedin.experiences[2]`) of the value being parsed at `depth`.
    private func path(depth: Int) -> String {
        JSONRejection.fieldPath((0..<depth).map { level -> any CodingKey in
            let member = Int(trail[level])
            guard member >= 0 else { return StreamCodingKey(index: -member - 1) }
            return StreamCodingKey((try? string(at: member)) ?? "?")
        })
    }

    // MARK: Parsing

    private func skipWhitespace(_ buffer: UnsafeBufferPointer<UInt8>, _ index: inout Int) {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private func parseValue(_ buffer: UnsafeBufferPointer<UInt8>, _ index: inout Int, depth: Int) throws {
        guard depth < JSONIndexDecoder.maxDepth else {
            throw JSONIndexDecoder.Rejected(error: .invalidContent("JSON nested deeper than \(JSONIndexDecoder.maxDepth) levels"))
        }
        skipWhitespace(buffer, &index)
        guard index < buffer.count else { throw JSONIndexDecoder.Malformed() }
        switch buffer[index] {
        case UInt8(ascii: "{"): try parseContainer(buffer, &index, depth: depth, isObject: true)
        case UInt8(ascii: "["): try parseContainer(buffer, &index, depth: depth, isObject: false)
        case UInt8(ascii: "\""): try parseString(buffer, &index, depth: depth, isKey: false)
        case UInt8(ascii: "t"): try parseLiteral(buffer, &index, "true", .isTrue)
        case UInt8(ascii: "f"): try parseLiteral(buffer, &index, "false", .isFalse)
        case UInt8(ascii: "n"): try parseLiteral(buffer, &index, "null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber(buffer, &index)
        default: throw JSONIndexDecoder.Malformed()
        }
    }

    private func parseContainer(_ buffer: UnsafeBufferPointer<UInt8>, _ index: inout Int, depth: Int, isObject: Bool) throws {
        let position = nodes.count
        nodes.append(Node(kind: isObject ? .object : .array, start: Int32(index), end: 0, after: 0, count: 0, isComplex: false))
        index += 1  // { or [
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        var count: Int32 = 0
        skipWhitespace(buffer, &index)
        if index < buffer.count && buffer[index] == close {
            index += 1
        } else {
            while true {
                if isObject {
                    skipWhitespace(buffer, &index)
                    guard index < buffer.count, buffer[index] == UInt8(ascii: "\"") else { throw JSONIndexDecoder.Malformed() }
                    trail[depth] = Int32(nodes.count)
                    try parseString(buffer, &index, depth: depth, isKey: true)
                    skipWhitespace(buffer, &index)
                    guard index < buffer.count, buffer[index] == UInt8(ascii: ":") else { throw JSONIndexDecoder.Malformed() }
                    index += 1
                } else {
                    trail[depth] = -(count + 1)
                }
                try parseValue(buffer, &index, depth: depth + 1)
                count += 1
                skipWhitespace(buffer, &index)
                guard index < buffer.count else { throw JSONIndexDecoder.Malformed() }
                if buffer[index] == UInt8(ascii: ",") {
                    index += 1
                } else if buffer[index] == close {
                    index += 1
                    break
                } else {
                    throw JSONIndexDecoder.Malformed()
                }
            }
        }
        nodes[position].end = Int32(index)
        nodes[position].count = count
        nodes[position].after = Int32(nodes.count)
        if isObject && count > 1 { try checkKeysAreUnique(object: position, depth: depth) }
    }

    /// Throws when a key appears twice in the object at node `object`. Small objects compare
    /// their raw keys pairwise; large ones, or ones with escaped keys, compare decoded keys.
    private func checkKeysAreUnique(object: Int, depth: Int) throws {
        let count = Int(nodes[object].count)
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { keys in
            var keyNode = object + 1
            // Names compare as Swift strings, as a dictionary's keys do ("é" written as one code
            // point or two is one name): their bytes may stand in only for plain ASCII names.
            var isPlainASCII = true
            bytes.withUnsafeBufferPointer { bytes in
                for member in 0..<count {
                    keys[member] = keyNode
                    let key = nodes[keyNode]
                    if isPlainASCII {
                        isPlainASCII = !key.isComplex && !(Int(key.start)..<Int(key.end)).contains { bytes[$0] >= 0x80 }
                    }
                    keyNode = Int(nodes[keyNode + 1].after)
                }
            }
            if count > Self.scanLimit || !isPlainASCII {
                var seen = Set<String>(minimumCapacity: count)
                for key in keys where !seen.insert(try string(at: key)).inserted {
                    try throwDuplicate(key, depth: depth)
                }
                return
            }
            try bytes.withUnsafeBufferPointer { bytes in
                for first in 0..<count {
                    let a = nodes[keys[first]]
                    let length = Int(a.end - a.start)
                    for second in (first + 1)..<count {
                        let b = nodes[keys[second]]
                        if Int(b.end - b.start) == length
                            && (length == 0 || memcmp(bytes.baseAddress! + Int(a.start), bytes.baseAddress! + Int(b.start), length) == 0) {
                            try throwDuplicate(keys[second], depth: depth)
                        }
                    }
                }
            }
        }
    }

    private func throwDuplicate(_ key: Int, depth: Int) throws -> Never {
        throw JSONIndexDecoder.Rejected(error: .duplicateKey(try string(at: key), object: path(depth: depth)))
    }

    /// Parses the string at `index`, a key of the object at `depth` or a value at `depth`.
    private func parseString(_ buffer: UnsafeBufferPointer<UInt8>, _ index: inout Int, depth: Int, isKey: Bool) throws {
        let start = index + 1
        var position = start
        var hasEscapes = false
        var isASCII = true
        while true {
            // Eight bytes at a time while none needs a look: most of a string is plain text.
            while position + 8 <= buffer.count,
                  Self.needsNoLook(UnsafeRawPointer(buffer.baseAddress! + position).loadUnaligned(as: UInt64.self)) {
                position += 8
            }
            guard position < buffer.count else { throw JSONIndexDecoder.Malformed() }
            let byte = buffer[position]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { try throwControlCharacter(UInt32(byte), isEscaped: false, depth: depth, isKey: isKey) }
            if byte >= 0x80 { isASCII = false }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                guard position + 1 < buffer.count else { throw JSONIndexDecoder.Malformed() }
                switch buffer[position + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 2
                case UInt8(ascii: "u"):
                    guard position + 5 < buffer.count,
                          (2...5).allSatisfy({ Self.hexValue(buffer[position + $0]) != nil }) else { throw JSONIndexDecoder.Malformed() }
                    let scalar = (2...5).reduce(0) { $0 << 4 | Self.hexValue(buffer[position + $1])! }
                    if scalar == 0 && rejectsNUL { try throwControlCharacter(0, isEscaped: true, depth: depth, isKey: isKey) }
                    if (0xDC00...0xDFFF).contains(scalar) { throw JSONIndexDecoder.Malformed() }  // a lone low surrogate
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard position + 11 < buffer.count, buffer[position + 6] == UInt8(ascii: "\\"),
                              buffer[position + 7] == UInt8(ascii: "u"),
                              let low = (8...11).reduce(UInt32?(0), { partial, offset in
                                  partial.flatMap { value in Self.hexValue(buffer[position + offset]).map { value << 4 | $0 } }
                              }),
                              (0xDC00...0xDFFF).contains(low) else { throw JSONIndexDecoder.Malformed() }
                        position += 6
                    }
                    position += 6
                default:
                    throw JSONIndexDecoder.Malformed()
                }
                continue
            }
            position += 1
        }
        if !isASCII {
            guard String(validating: UnsafeBufferPointer(rebasing: buffer[start..<position]), as: UTF8.self) != nil else {
                throw JSONIndexDecoder.Malformed()
            }
        }
        nodes.append(Node(kind: .string, start: Int32(start), end: Int32(position), after: Int32(nodes.count + 1),
                          count: 0, isComplex: hasEscapes))
        index = position + 1
        // A string has at most as many scalars as bytes, so only a long one needs counting.
        if position - start > maxStringLength {
            let length = try string(at: nodes.count - 1).unicodeScalars.count
            if length > maxStringLength {
                throw JSONIndexDecoder.Rejected(error: .tooLong(field: place(depth: depth, isKey: isKey), length: length, limit: maxStringLength))
            }
        }
    }

    /// Whether none of the eight bytes in `word` is a quote, a backslash, a control character
    /// or a byte of a multi-byte character. Each test sets a byte's high bit where it finds
    /// one (as a whole they are exact: a borrow spreads only above a byte that was found).
    private static func needsNoLook(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highBits }
        let control = (word &- ones &* 0x20) & ~word & highBits
        let quote = hasZeroByte(word ^ (ones &* UInt64(UInt8(ascii: "\""))))
        let backslash = hasZeroByte(word ^ (ones &* UInt64(UInt8(ascii: "\\"))))
        return (word & highBits) | control | quote | backslash == 0
    }

    private func throwControlCharacter(_ scalar: UInt32, isEscaped: Bool, depth: Int, isKey: Bool) throws -> Never {
        throw JSONIndexDecoder.Rejected(error: .controlCharacter(field: place(depth: depth, isKey: isKey), scalar: scalar, isEscaped: isEscaped))
    }

    /// The value at `depth`, or a key of the object at `depth`, named for an error message.
    private func place(depth: Int, isKey: Bool) -> String {
        guard isKey else { return path(depth: depth) }
        return depth == 0 ? "a key" : "a key in \(path(depth: depth))"
    }

    private func parseLiteral(_ buffer: UnsafeBufferPointer<UInt8>, _ index: inout Int, _ literal: StaticString, _ kind: Kind) throws {
        let length = literal.utf8CodeUnitCount
        guard index + length <= buffer.count,
              literal.withUTF8Buffer({ $0.elementsEqual(buffer[index..<index + length]) }) else { throw JSONIndexDecoder.Malformed() }
        nodes.append(Node(kind: kind, start: Int32(index), end: Int32(index + length), after: Int32(nodes.count + 1), count: 0, isComplex: false))
        index += length
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private func parseNumber(_ buffer: UnsafeBufferPointer<UInt8>, _ index: inout Int) throws {
        let start = index
        var position = index
        func isDigit(_ at: Int) -> Bool { at < buffer.count && buffer[at] >= UInt8(ascii: "0") && buffer[at] <= UInt8(ascii: "9") }
        func digits() throws {
            guard isDigit(position) else { throw JSONIndexDecoder.Malformed() }
            while isDigit(position) { position += 1 }
        }
        if buffer[position] == UInt8(ascii: "-") { position += 1 }
        if position < buffer.count && buffer[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            try digits()
        }
        var isComplex = false
        if position < buffer.count && buffer[position] == UInt8(ascii: ".") {
            isComplex = true
            position += 1
            try digits()
        }
        if position < buffer.count && (buffer[position] == UInt8(ascii: "e") || buffer[position] == UInt8(ascii: "E")) {
            isComplex = true
            position += 1
            if position < buffer.count && (buffer[position] == UInt8(ascii: "+") || buffer[position] == UInt8(ascii: "-")) { position += 1 }
            try digits()
        }
        nodes.append(Node(kind: .number, start: Int32(start), end: Int32(position), after: Int32(nodes.count + 1), count: 0, isComplex: isComplex))
        index = position
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    // MARK: Reading values

    func string(at node: Int) throws -> String {
        let value = nodes[node]
        guard value.kind == .string else { throw JSONIndexDecoder.Unsupported() }
        let range = Int(value.start)..<Int(value.end)
        guard value.isComplex else { return String(decoding: bytes[range], as: UTF8.self) }
        return try unescape(range)
    }

    private func unescape(_ range: Range<Int>) throws -> String {
        var output: [UInt8] = []
        output.reserveCapacity(range.count)
        var position = range.lowerBound
        func hex4(_ at: Int) -> UInt32 {
            (1...4).reduce(0) { $0 << 4 | Self.hexValue(bytes[at + $1])! }  // checked while parsing
        }
        while position < range.upperBound {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                position += 1
                continue
            }
            let escaped = bytes[position + 1]
            position += 2
            switch escaped {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(position - 1)
                position += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard position + 6 <= range.upperBound, bytes[position] == UInt8(ascii: "\\"),
                          bytes[position + 1] == UInt8(ascii: "u") else { throw JSONIndexDecoder.Unsupported() }
                    let low = hex4(position + 1)
                    guard (0xDC00...0xDFFF).contains(low) else { throw JSONIndexDecoder.Unsupported() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    position += 6
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw JSONIndexDecoder.Unsupported() }
                output.append(contentsOf: UTF8.encode(unicode)!)
            default: output.append(escaped)  // " \ /
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The integer at `node`; a number with a fraction or an exponent is rejected, naming `path`.
    func integer<T: FixedWidthInteger>(at node: Int, path: () -> [any CodingKey], as type: T.Type) throws -> T {
        let value = nodes[node]
        guard value.kind == .number else { throw JSONIndexDecoder.Unsupported() }
        guard !value.isComplex else {
            let text = String(decoding: bytes[Int(value.start)..<Int(value.end)], as: UTF8.self)
            throw JSONIndexDecoder.Rejected(error: .invalidValue(
                field: JSONRejection.fieldPath(path()), reason: "\(text) is not a JSON integer; write it without a fraction or an exponent"))
        }
        var position = Int(value.start)
        let isNegative = bytes[position] == UInt8(ascii: "-")
        if isNegative { position += 1 }
        var result: T = 0
        while position < Int(value.end) {
            let digit = T(bytes[position] - UInt8(ascii: "0"))
            let (shifted, overflowed) = result.multipliedReportingOverflow(by: 10)
            let (next, overflowedAgain) = isNegative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowed && !overflowedAgain else { throw JSONIndexDecoder.Unsupported() }
            result = next
            position += 1
        }
        return result
    }

    func double(at node: Int) throws -> Double {
        let value = nodes[node]
        guard value.kind == .number,
              let number = Double(String(decoding: bytes[Int(value.start)..<Int(value.end)], as: UTF8.self)),
              number.isFinite else { throw JSONIndexDecoder.Unsupported() }
        return number
    }

    func bool(at node: Int) throws -> Bool {
        switch nodes[node].kind {
        case .isTrue: true
        case .isFalse: false
        default: throw JSONIndexDecoder.Unsupported()
        }
    }

    /// The values the index reads itself (``primitive(_:at:path:)``) rather than through their
    /// `init(from:)`.
    enum Primitive {
        case string, int, bool, double, date, strings, rawJSON, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8
    }

    /// Which ``Primitive`` `type` is; nil for any other type, read through its `init(from:)`.
    /// For `Float`, `URL`, `Data` and `Decimal` it throws, and the caller falls back to
    /// Foundation's decoder. Types are compared by metadata, which is cheaper than casting; and
    /// the answer is not an optional `T`, whose metadata an unspecialised generic function looks
    /// up in the runtime's cache at every call.
    func primitiveKind<T: Decodable>(_ type: T.Type) throws -> Primitive? {
        if T.self == String.self { return .string }
        if T.self == Int.self { return .int }
        if T.self == Bool.self { return .bool }
        if T.self == Double.self { return .double }
        if T.self == Date.self { return .date }
        if T.self == [String].self { return .strings }
        if T.self == RawJSON.self { return .rawJSON }
        if T.self == Int64.self { return .int64 }
        if T.self == Int32.self { return .int32 }
        if T.self == Int16.self { return .int16 }
        if T.self == Int8.self { return .int8 }
        if T.self == UInt.self { return .uint }
        if T.self == UInt64.self { return .uint64 }
        if T.self == UInt32.self { return .uint32 }
        if T.self == UInt16.self { return .uint16 }
        if T.self == UInt8.self { return .uint8 }
        if T.self == Float.self || T.self == URL.self || T.self == Data.self || T.self == Decimal.self {
            throw JSONIndexDecoder.Unsupported()
        }
        return nil
    }

    /// The value at `node` as a `T` whose kind is `kind` (``primitiveKind(_:)``). `path` names
    /// the value in an error.
    func primitive<T: Decodable>(_ kind: Primitive, at node: Int, path: () -> [any CodingKey]) throws -> T {
        switch kind {
        case .string: return try string(at: node) as! T
        case .int: return try integer(at: node, path: path, as: Int.self) as! T
        case .bool: return try bool(at: node) as! T
        case .double: return try double(at: node) as! T
        case .date: return try date(at: node) as! T
        case .strings: return try strings(at: node) as! T
        case .rawJSON: return RawJSON(parsed: rawBytes(at: node)) as! T
        case .int64: return try integer(at: node, path: path, as: Int64.self) as! T
        case .int32: return try integer(at: node, path: path, as: Int32.self) as! T
        case .int16: return try integer(at: node, path: path, as: Int16.self) as! T
        case .int8: return try integer(at: node, path: path, as: Int8.self) as! T
        case .uint: return try integer(at: node, path: path, as: UInt.self) as! T
        case .uint64: return try integer(at: node, path: path, as: UInt64.self) as! T
        case .uint32: return try integer(at: node, path: path, as: UInt32.self) as! T
        case .uint16: return try integer(at: node, path: path, as: UInt16.self) as! T
        case .uint8: return try integer(at: node, path: path, as: UInt8.self) as! T
        }
    }

    /// The ``ISO8601`` date at `node`.
    func date(at node: Int) throws -> Date {
        let value = nodes[node]
        let date = value.kind == .string && !value.isComplex
            ? bytes.withUnsafeBufferPointer { ISO8601.parse(UnsafeBufferPointer(rebasing: $0[Int(value.start)..<Int(value.end)])) }
            : ISO8601.parse(try string(at: node))  // escaped: read as a string (which throws for a non-string)
        guard let date else { throw JSONIndexDecoder.Unsupported() }
        return date
    }

    /// The array of strings at `node`; any other value, or an element that is not a string,
    /// is ``JSONIndexDecoder/Unsupported``.
    func strings(at node: Int) throws -> [String] {
        guard nodes[node].kind == .array else { throw JSONIndexDecoder.Unsupported() }
        let count = Int(nodes[node].count)
        var strings: [String] = []
        strings.reserveCapacity(count)
        var element = node + 1
        for _ in 0..<count {
            strings.append(try string(at: element))
            element = Int(nodes[element].after)
        }
        return strings
    }

    /// The JSON text of the value at `node`, as it stands in the document.
    func rawBytes(at node: Int) -> [UInt8] {
        let value = nodes[node]
        let isString = value.kind == .string  // its extent excludes the quotes
        return Array(bytes[Int(value.start) - (isString ? 1 : 0)..<Int(value.end) + (isString ? 1 : 0)])
    }

    /// The key node of each member of `object`, in document order (its value node follows it).
    func keyNodes(of object: Int) -> some Sequence<Int> {
        let nodes = nodes
        return sequence(first: object + 1) { Int(nodes[$0 + 1].after) }.prefix(Int(nodes[object].count))
    }

    /// The value node of the member of `object` named `key`; nil when absent. (Parsing rejected
    /// any name present twice.)
    func member(of object: Int, named key: String) throws -> Int? {
        var key = key
        return try key.withUTF8 { try member(of: object, utf8: $0) }
    }

    /// ``member(of:named:)`` for a name given as its UTF-8.
    func member(of object: Int, utf8 name: UnsafeBufferPointer<UInt8>) throws -> Int? {
        try nodes.withUnsafeBufferPointer { nodes in
            try bytes.withUnsafeBufferPointer { bytes in
                var keyNode = object + 1
                for _ in 0..<Int(nodes[object].count) {
                    let candidate = nodes[keyNode]
                    let length = Int(candidate.end - candidate.start)
                    let matches = candidate.isComplex
                        ? try string(at: keyNode).utf8.elementsEqual(name)
                        : length == name.count
                            && (length == 0 || memcmp(bytes.baseAddress! + Int(candidate.start), name.baseAddress!, length) == 0)
                    if matches { return keyNode + 1 }
                    keyNode = Int(nodes[keyNode + 1].after)
                }
                return nil
            }
        }
    }
}

/// Decodes the value at one node of the index.
final class IndexDecoder: Decoder {
    let document: JSONIndex
    let node: Int
    let parent: IndexDecoder?
    let key: (any CodingKey)?

    init(document: JSONIndex, node: Int, parent: IndexDecoder?, key: (any CodingKey)?) {
        self.document = document
        self.node = node
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var current: IndexDecoder? = self
        while let decoder = current, let key = decoder.key {
            path.append(key)
            current = decoder.parent
        }
        return path.reversed()
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(try IndexKeyedContainer<Key>(decoder: self, object: node))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try IndexUnkeyedContainer(decoder: self, array: node)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        IndexSingleValueContainer(decoder: self)
    }

    func child(_ node: Int, key: any CodingKey) -> IndexDecoder {
        IndexDecoder(document: document, node: node, parent: self, key: key)
    }

    /// The value at this node as a `T`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if let kind = try document.primitiveKind(T.self) { return try document.primitive(kind, at: node, path: { codingPath }) }
        return try decodeStructured(T.self)
    }

    /// The value at this node as a `T` that is not a primitive: read by its ``JSONReadable``
    /// reader when it has one and the reader accepts the JSON, else by its `init(from:)`, which
    /// accepts or rejects the JSON exactly as it always does.
    func decodeStructured<T: Decodable>(_ type: T.Type) throws -> T {
        // The type is asked first: a failed cast costs less on a type than on a value.
        if T.self is any JSONReadable.Type, let readable = T.self as? any JSONReadable.Type,
           document.nodes[node].kind == .object, let value = JSONObjectReader(decoder: self).read(readable, as: T.self) {
            return value
        }
        return try T(from: self)
    }
}

private struct IndexKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: IndexDecoder
    /// The object's node; its members follow it as key node, value node and the value's contents.
    let object: Int

    /// For an object of more than ``JSONIndex/scanLimit`` members (a dictionary's: an offer's vocabulary,
    /// raw JSON), each name's value node, made in one pass: finding every member of such an
    /// object by scanning from the first is quadratic in their number (60,000 members took 21 s
    /// in a debug build). Names compare as Swift strings here, as the parser's duplicate check
    /// compares them above the same count.
    private let valueNodes: [String: Int]?

    init(decoder: IndexDecoder, object: Int) throws {
        let nodes = decoder.document.nodes
        guard nodes[object].kind == .object else { throw JSONIndexDecoder.Unsupported() }
        self.decoder = decoder
        self.object = object
        let count = Int(nodes[object].count)
        guard count > JSONIndex.scanLimit else {
            valueNodes = nil
            return
        }
        var valueNodes = [String: Int](minimumCapacity: count)
        for keyNode in decoder.document.keyNodes(of: object) {
            valueNodes[try decoder.document.string(at: keyNode)] = keyNode + 1
        }
        self.valueNodes = valueNodes
    }

    /// The key node of each member.
    private var keyNodes: some Sequence<Int> { decoder.document.keyNodes(of: object) }

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] {
        keyNodes.compactMap { (try? decoder.document.string(at: $0)).flatMap(Key.init(stringValue:)) }
    }

    /// The value node of `key`, nil when absent.
    private func valueNode(_ key: Key) throws -> Int? {
        if let valueNodes { return valueNodes[key.stringValue] }
        return try decoder.document.member(of: object, named: key.stringValue)
    }

    private func requiredNode(_ key: Key) throws -> Int {
        guard let node = try valueNode(key), decoder.document.nodes[node].kind != .null else { throw JSONIndexDecoder.Unsupported() }
        return node
    }

    func contains(_ key: Key) -> Bool {
        (try? valueNode(key)) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let node = try valueNode(key) else { throw JSONIndexDecoder.Unsupported() }
        return decoder.document.nodes[node].kind == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let node = try requiredNode(key)
        if let kind = try decoder.document.primitiveKind(T.self) { return try decoder.document.primitive(kind, at: node, path: { codingPath + [key] }) }
        return try decoder.child(node, key: key).decodeStructured(T.self)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let node = try presentNode(key) else { return nil }
        if let kind = try decoder.document.primitiveKind(T.self) { return try decoder.document.primitive(kind, at: node, path: { codingPath + [key] }) }
        return try decoder.child(node, key: key).decodeStructured(T.self)
    }

    // The most common members, strings, integers, booleans and doubles, present or optional, are
    // read by methods of their own: a synthesized `init(from:)` calls these requirements directly,
    // without the generic methods' type checks, casts and optional metadata lookups.

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try decoder.document.string(at: try requiredNode(key))
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try decoder.document.integer(at: try requiredNode(key), path: { codingPath + [key] }, as: Int.self)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try decoder.document.bool(at: try requiredNode(key))
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try decoder.document.double(at: try requiredNode(key))
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try presentNode(key).map { try decoder.document.string(at: $0) }
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try presentNode(key).map { try decoder.document.integer(at: $0, path: { codingPath + [key] }, as: Int.self) }
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try presentNode(key).map { try decoder.document.bool(at: $0) }
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try presentNode(key).map { try decoder.document.double(at: $0) }
    }

    /// The value node of `key`, nil when it is absent or null.
    private func presentNode(_ key: Key) throws -> Int? {
        guard let node = try valueNode(key), decoder.document.nodes[node].kind != .null else { return nil }
        return node
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(try requiredNode(key), key: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(try requiredNode(key), key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        throw JSONIndexDecoder.Unsupported()
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        throw JSONIndexDecoder.Unsupported()
    }
}

private struct IndexUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: IndexDecoder
    let count: Int?
    private(set) var currentIndex = 0
    /// The node of the element at ``currentIndex``.
    private var current: Int

    init(decoder: IndexDecoder, array: Int) throws {
        guard decoder.document.nodes[array].kind == .array else { throw JSONIndexDecoder.Unsupported() }
        self.decoder = decoder
        self.count = Int(decoder.document.nodes[array].count)
        self.current = array + 1
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    var isAtEnd: Bool { currentIndex >= count! }

    private mutating func next() throws -> (node: Int, key: StreamCodingKey) {
        guard !isAtEnd else { throw JSONIndexDecoder.Unsupported() }
        let element = (current, StreamCodingKey(index: currentIndex))
        current = Int(decoder.document.nodes[current].after)
        currentIndex += 1
        return element
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw JSONIndexDecoder.Unsupported() }
        guard decoder.document.nodes[current].kind == .null else { return false }
        _ = try next()
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (node, key) = try next()
        guard decoder.document.nodes[node].kind != .null else { throw JSONIndexDecoder.Unsupported() }
        if let kind = try decoder.document.primitiveKind(T.self) { return try decoder.document.primitive(kind, at: node, path: { codingPath + [key] }) }
        return try decoder.child(node, key: key).decodeStructured(T.self)
    }

    /// A string element, the most common, without the generic method's type checks.
    mutating func decode(_ type: String.Type) throws -> String {
        let (node, _) = try next()
        return try decoder.document.string(at: node)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (node, key) = try next()
        return try decoder.child(node, key: key).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (node, key) = try next()
        return try decoder.child(node, key: key).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        throw JSONIndexDecoder.Unsupported()
    }
}

private struct IndexSingleValueContainer: SingleValueDecodingContainer {
    let decoder: IndexDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        decoder.document.nodes[decoder.node].kind == .null
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard !decodeNil() else { throw JSONIndexDecoder.Unsupported() }
        return try decoder.decodeValue(T.self)
    }

    /// A string, as every enumeration with string raw values reads itself, without the generic
    /// method's type checks.
    func decode(_ type: String.Type) throws -> String {
        try decoder.document.string(at: decoder.node)
    }
}
