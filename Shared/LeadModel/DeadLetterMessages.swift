import Foundation

/// A record that could not be processed (topic ``Topics/deadLetters``; key: the original key,
/// or its hash when the key itself is too large).
///
/// Nothing is dropped silently: the original bytes travel with the reason, unless they are the
/// problem (a record too large to copy into a dead letter): then the letter keeps their size and
/// hash, and where they are (topic, partition, offset) for whoever needs the bytes.
///
/// Version 2 added ``originalBytes`` and ``originalFNV1a64`` and lets ``originalBase64`` be
/// absent; version 1 letters are still read.
public struct DeadLetter: Message, Hashable {
    /// `dead.letter`.
    public static let schemaName = "dead.letter"
    /// Version 2.
    public static let schemaVersion = 2
    /// Versions 1 and 2.
    public static let supportedVersions = 1...2

    /// The original record value, base64; nil when it was too large to keep.
    public var originalBase64: String?
    /// The size of the original value in bytes (version 2).
    public var originalBytes: Int?
    /// FNV-1a 64 of the original value, 16 hex digits (version 2).
    public var originalFNV1a64: String?
    /// The original record key, if any, base64; nil too when the key was too large to keep.
    public var originalKeyBase64: String?
    /// Where it was read.
    public var sourceTopic: String
    /// Partition it was read from.
    public var partition: Int
    /// Offset it was read at.
    public var offset: Int64
    /// Why it failed (e.g. a ``DecodeError`` description), at most ``maxReasonCharacters``.
    public var reason: String
    /// When it failed.
    public var failedAt: Date
    /// Which service dead-lettered it.
    public var service: String

    /// A longer reason is cut: a reason quoting its input must not make the letter too large.
    public static let maxReasonCharacters = 2000
    /// A longer key is not copied, only hashed.
    public static let maxKeyBytes = 1024

    /// Creates a dead letter.
    /// - Parameter keepOriginal: false when the original value must not be copied (it is too
    ///   large for a record); its size and hash are kept either way.
    public init(
        original: [UInt8], originalKey: [UInt8]? = nil, sourceTopic: String, partition: Int, offset: Int64,
        reason: String, failedAt: Date, service: String, keepOriginal: Bool = true
    ) {
        self.originalBase64 = keepOriginal ? Data(original).base64EncodedString() : nil
        self.originalBytes = original.count
        self.originalFNV1a64 = Self.fnv1a64(original)
        self.originalKeyBase64 = originalKey.flatMap { $0.count <= Self.maxKeyBytes ? Data($0).base64EncodedString() : nil }
        self.sourceTopic = sourceTopic
        self.partition = partition
        self.offset = offset
        // Cut by Unicode scalars, as the schema's maxLength counts: a character may be many
        // ("e" and 3,000 combining accents is one).
        self.reason = reason.unicodeScalars.count > Self.maxReasonCharacters
            ? reason.prefix(scalars: Self.maxReasonCharacters) + "… (cut)" : reason
        self.failedAt = failedAt
        self.service = service
    }

    /// The original value bytes; nil if they were not kept or the base64 is corrupt.
    public var original: [UInt8]? {
        originalBase64.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
    }

    /// FNV-1a 64 of `bytes` as 16 lowercase hex digits: enough to tell two large records apart
    /// or find one again, with no cryptographic claim.
    public static func fnv1a64(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
