/// Why ``JSONIndexDecoder`` rejected a document that is JSON: the document breaks one of the
/// decoder's stricter rules, so no other reader may accept it. Fields are named by their path
/// (``fieldPath(_:)``).
public enum JSONRejection: Error, Hashable, Sendable {
    /// A value of the right type that the rules do not allow (an integer with a fraction).
    case invalidValue(field: String, reason: String)
    /// The document as a whole breaks a rule (nested too deep).
    case invalidContent(String)
    /// An object has the key twice; `object` is its field path, `(record)` for the top level.
    case duplicateKey(String, object: String)
    /// A string holds NUL (`\u0000`) or an unescaped control character (`scalar`).
    case controlCharacter(field: String, scalar: UInt32, isEscaped: Bool)
    /// A string is longer than its limit, in Unicode scalars.
    case tooLong(field: String, length: Int, limit: Int)

    /// `experiences[2].title` style paths; `(record)` for the top level.
    public static func fieldPath(_ path: [any CodingKey]) -> String {
        var result = ""
        for key in path {
            if let index = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == String(index) {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return result.isEmpty ? "(record)" : result
    }
}
