/// Length limits on the fields of messages other systems write, in Unicode scalars: what JSON
/// Schema's `maxLength` counts, so `docs/schemas/` states the same numbers (a scalar is 1 to 4
/// UTF-8 bytes). ``MessageCodec/decode(_:from:headers:)`` rejects a record over a limit with a
/// ``DecodeError/tooLong(field:length:limit:)`` naming the field, so it becomes a dead letter
/// before any state or result record can grow from it.
public enum FieldLimit {
    /// Ids (lead, account, offer, search) and short labels (`requestedBy`, `foundBy`, a time zone).
    public static let identifier = 200
    /// A person's, offer's or company's name, and one keyword or phrase of an offer.
    public static let name = 300
    /// A URL or a domain.
    public static let url = 2_048
    /// Any other string, at any depth of an input record (a pool profile's free text, say):
    /// ``Message/maxStringLength`` of every input message.
    public static let text = 10_000

    /// Throws when `value` has more than `limit` Unicode scalars.
    public static func check(_ value: String?, _ field: String, limit: Int) throws(FieldTooLong) {
        // A string has at most as many scalars as UTF-8 bytes, so only a long one needs counting.
        guard let value, value.utf8.count > limit else { return }
        let length = value.unicodeScalars.count
        if length > limit { throw FieldTooLong(field: field, length: length, limit: limit) }
    }

    /// Throws when an element of `values` has more than `limit` Unicode scalars; the field is
    /// named with the element's index, `productKeywords[3]`.
    public static func check(_ values: [String], _ field: String, limit: Int) throws(FieldTooLong) {
        for (index, value) in values.enumerated() {
            try check(value, "\(field)[\(index)]", limit: limit)
        }
    }

    /// Throws when an identifier has more than ``identifier`` scalars.
    public static func check(_ value: (some StringIdentifier)?, _ field: String) throws(FieldTooLong) {
        try check(value?.rawValue, field, limit: identifier)
    }
}

extension String {
    /// The string's first `limit` Unicode scalars: a field cut as the limits count
    /// (``FieldLimit``), and as JSON Schema's `maxLength` does. The string itself when it has no
    /// more; only a long one is counted.
    public func prefix(scalars limit: Int) -> String {
        guard hasMoreScalars(than: limit) else { return self }
        return String(String.UnicodeScalarView(unicodeScalars.prefix(limit)))
    }

    /// The string as a reader is shown it within about `limit` Unicode scalars: itself when it
    /// has no more; else its first whole characters within `limit` scalars, then "…". It is cut
    /// between characters, never inside one (a letter and its accent, an emoji of several scalars).
    public func shortened(toScalars limit: Int) -> String {
        guard hasMoreScalars(than: limit) else { return self }
        var kept = 0
        var end = startIndex
        for index in indices {
            kept += self[index].unicodeScalars.count
            if kept > limit { break }
            end = self.index(after: index)
        }
        return String(self[..<end]) + "\u{2026}"
    }

    /// Whether the string has more than `limit` Unicode scalars: only a long one is counted (a
    /// string has at most as many scalars as UTF-8 bytes).
    public func hasMoreScalars(than limit: Int) -> Bool {
        utf8.count > limit && unicodeScalars.count > limit
    }
}

/// A field longer than its limit (``FieldLimit``).
public struct FieldTooLong: Error, Hashable, Sendable, CustomStringConvertible {
    /// The field's path, `name` or `icp.titles[2]`.
    public let field: String
    /// Its length in Unicode scalars.
    public let length: Int
    /// The most it may have.
    public let limit: Int

    /// What is wrong, as ``DecodeError/tooLong(field:length:limit:)`` says it.
    public var description: String { DecodeError.tooLong(field: field, length: length, limit: limit).description }
}
