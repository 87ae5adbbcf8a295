import LeadModel

/// A lead id as two SipHash values (the standard library's `Hasher`, seeded per process, which
/// is enough: the tables keyed by it live in one process), one with each prefix: 16 bytes
/// whatever the id's length. Two ids share a digest with a chance of about n² ÷ 2¹²⁹ among n
/// leads, which is nil for any number there will be.
struct LeadDigest: Hashable {
    let high: UInt64
    let low: UInt64

    init(_ leadID: LeadID) {
        var first = Hasher()
        first.combine(UInt8(0))
        first.combine(leadID.rawValue)
        var second = Hasher()
        second.combine(UInt8(1))
        second.combine(leadID.rawValue)
        high = UInt64(UInt(bitPattern: first.finalize()))
        low = UInt64(UInt(bitPattern: second.finalize()))
    }
}
