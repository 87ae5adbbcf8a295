/// A string identifier that encodes as a plain JSON string.
///
/// Each identifier kind is its own type so a lead id cannot be passed where an account id is
/// expected. All of them are opaque: the pipeline never parses their contents.
public protocol StringIdentifier: RawRepresentable, Codable, Hashable, Sendable, Comparable,
    CustomStringConvertible, ExpressibleByStringLiteral where RawValue == String
{
    /// Wraps a raw string.
    init(_ rawValue: String)
}

extension StringIdentifier {
    /// Wraps a raw string.
    public init(rawValue: String) { self.init(rawValue) }

    /// Wraps a string literal.
    public init(stringLiteral value: String) { self.init(value) }

    /// The raw string.
    public var description: String { rawValue }

    /// Orders identifiers by their raw strings.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes the identifier from a single JSON string; an empty string is rejected.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(String.self)
        guard !value.isEmpty else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "an identifier must not be empty")
        }
        self.init(value)
    }

    /// Encodes the identifier as a single JSON string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Identifies one lead across every topic; the key of all lead-keyed records.
public struct LeadID: StringIdentifier {
    /// The raw string.
    public let rawValue: String
    /// Wraps a raw string.
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// Identifies one run of the pipeline over a lead. A re-enrich starts a new run; results of an
/// older run are stale.
public struct RunID: StringIdentifier {
    /// The raw string.
    public let rawValue: String
    /// Wraps a raw string.
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// Identifies one request of a command (a re-enrich, say), chosen by whoever asks: the same
/// request delivered twice carries the same id and is acted on once.
public struct RequestID: StringIdentifier {
    /// The raw string.
    public let rawValue: String
    /// Wraps a raw string.
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a customer account (billing, outreach window, autopilot rules).
public struct AccountID: StringIdentifier {
    /// The raw string.
    public let rawValue: String
    /// Wraps a raw string.
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// Identifies an offer, whose ideal customer profile the lead is scored against.
public struct OfferID: StringIdentifier {
    /// The raw string.
    public let rawValue: String
    /// Wraps a raw string.
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// Identifies the search that found a lead; progress is tracked per search.
public struct SearchID: StringIdentifier {
    /// The raw string.
    public let rawValue: String
    /// Wraps a raw string.
    public init(_ rawValue: String) { self.rawValue = rawValue }
}
