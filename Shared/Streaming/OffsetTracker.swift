import Runtime
/// The commit point of one partition when records finish out of order.
///
/// Records are registered in offset order as they are polled and marked done in any order; the
/// commit point is one past the end of the contiguous finished prefix, so a crash redoes at most
/// the unfinished records. Amortised O(1) per record.
public struct OffsetTracker: Sendable {
    private var outstanding: [Int64] = []
    private var head = 0
    private var done: Set<Int64> = []
    private var nextAfterLast: Int64?

    public init() {}

    /// Registers a polled record. Offsets must increase.
    public mutating func register(_ offset: Int64) {
        precondition(nextAfterLast.map { offset >= $0 } ?? true, "offsets must be registered in increasing order")
        outstanding.append(offset)
        nextAfterLast = offset + 1
    }

    /// Marks a registered record finished and returns the new commit point if it moved.
    public mutating func finish(_ offset: Int64) -> Int64? {
        done.insert(offset)
        var moved = false
        while head < outstanding.count, done.remove(outstanding[head]) != nil {
            head += 1
            moved = true
        }
        if head > 1024 && head * 2 > outstanding.count {
            outstanding.removeFirst(head)
            head = 0
        }
        return moved ? commitPoint : nil
    }

    /// The next offset to read after a restart: the first unfinished record, or one past the
    /// last registered one. `nil` before anything is registered.
    public var commitPoint: Int64? {
        head < outstanding.count ? outstanding[head] : nextAfterLast
    }

    /// How many registered records are not finished.
    public var unfinishedCount: Int { outstanding.count - head }
}
