import Runtime
/// The commit point of one partition when records finish out of order.
///
/// Records are registered in offset order as they are polled and marked done in any order; the
/// commit point is one past the end of the contiguous finished prefix, so a crash redoes the
/// records from the first unfinished one on (``unfinishedCount``, which the ``StageRunner``
/// bounds). Amortised O(1) per record.
///
/// Offsets normally increase. When a partition's go back (the broker lost or truncated its log
/// and the consumer was reset), the records are tracked in the order they were polled, an offset
/// read twice counted twice: the partition goes on instead of stopping.
public struct OffsetTracker: Sendable {
    private var outstanding: [Int64] = []
    private var head = 0
    /// Finished records not yet at the head, with how many times each offset finished.
    private var done: [Int64: Int] = [:]
    private var nextAfterLast: Int64?

    public init() {}

    /// Registers a polled record.
    public mutating func register(_ offset: Int64) {
        outstanding.append(offset)
        nextAfterLast = offset + 1
    }

    /// Marks a registered record finished and returns the new commit point if it moved.
    public mutating func finish(_ offset: Int64) -> Int64? {
        done[offset, default: 0] += 1
        var moved = false
        while head < outstanding.count, let count = done[outstanding[head]] {
            done[outstanding[head]] = count > 1 ? count - 1 : nil
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

    /// How many registered records are from the first unfinished one on, finished or not: what
    /// the commit point holds back, and a crash would run again.
    public var unfinishedCount: Int { outstanding.count - head }
}
