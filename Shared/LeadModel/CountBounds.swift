/// Bounds on the counts the pipeline's records carry, checked when a record is read
/// (``Message/validate()``): the processes add, subtract and range over them, and a record of
/// any shape may arrive, so a count that would overflow a sum is refused before any arithmetic.
public enum CountBound {
    /// A lead's attempt at a phase (and the attempts of it that timed out): at most this many;
    /// the coordinator's retry bounds are far below it, and adding one to it cannot overflow.
    public static let attempts = Int(Int32.max)

    /// Throws, naming `field`, unless `value` is in `range`.
    public static func check(_ value: Int, _ field: String, in range: ClosedRange<Int>) throws(LeadModelRuleError) {
        guard range.contains(value) else {
            throw LeadModelRuleError("\"\(field)\" is \(value); it must be \(range.lowerBound) to \(range.upperBound)")
        }
    }
}

extension Int {
    /// `self + other`, or the largest or smallest integer where that overflows: for sums of counts
    /// read from records, which are bounded where they are read but must not trap where they are not.
    public func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
