import Kafka
import LeadModel

/// How a consumer group (or one of its partitions) fares over a window of lag samples, judged
/// the way Burrow judges it: by the trend of its lag and whether its committed offsets move,
/// not by a lag threshold.
public enum LagStatus: String, Codable, Hashable, Sendable, CaseIterable {
    /// No lag at the last sample, or the committed offsets move and the lag is not growing.
    case ok
    /// The lag at the last sample is above the lag at the first: the consumers fall behind (or
    /// records just arrived and nothing committed yet: the next window says which).
    case lagging
    /// Lag at every sample and no committed offset moved over the window: nobody consumes (no
    /// process runs in the group, or it is stuck). A group that has never committed counts as not
    /// moving, so records waiting for a service that was never started show as stalled.
    case stalled
    /// Lag at the only sample (`--window 0`): without a second sample there is no trend.
    /// Also a group whose topics do not exist.
    case unknown
    /// A group whose members commit no offsets (``ConsumerGroup/commitsOffsets``): it has no lag.
    case untracked

    /// The status of a series of lag figures, oldest first, and whether any committed offset
    /// moved between the first sample and the last.
    public static func classify(lags: [Int64], isCommittedMoving: Bool) -> LagStatus {
        guard let first = lags.first, let last = lags.last else { return .unknown }
        if last == 0 { return .ok }
        if lags.count < 2 { return .unknown }
        if !isCommittedMoving && lags.allSatisfy({ $0 > 0 }) { return .stalled }
        return last > first ? .lagging : .ok
    }
}

/// One reading of every group's partitions: committed offsets and watermarks at one moment.
public struct LagSample: Sendable {
    /// When it was read, in seconds on a monotonic clock (only differences matter).
    public var time: Double
    /// Per group id, the measured partitions of its topics (topics that do not exist are missing).
    public var groups: [String: [PartitionLag]]

    /// Creates a sample.
    public init(time: Double, groups: [String: [PartitionLag]]) {
        self.time = time
        self.groups = groups
    }
}

/// The samples of the last `length` seconds, from which each group's status is judged.
///
/// A sliding window: `--watch` judges over the last `length` seconds of samples, while
/// `leadctl lag` judges over one window sampled from start to end.
public struct LagWindow: Sendable {
    /// The window's length in seconds; 0 keeps only the newest sample.
    public let length: Double
    /// The samples kept, oldest first.
    public private(set) var samples: [LagSample] = []

    /// An empty window of `length` seconds.
    public init(length: Double) {
        self.length = length
    }

    /// Adds `sample` (newer than every sample kept) and drops the oldest samples while the one
    /// after them is still `length` seconds older than `sample`: the samples kept span at least
    /// the window once there are enough, and not much more.
    public mutating func append(_ sample: LagSample) {
        samples.append(sample)
        while samples.count > 1, sample.time - samples[1].time >= length {
            samples.removeFirst()
        }
    }

    /// Seconds between the oldest and the newest sample.
    public var span: Double {
        guard let first = samples.first, let last = samples.last else { return 0 }
        return last.time - first.time
    }

    /// The report of `groups` at the newest sample, each group and partition with its status
    /// over the window. A group's status is judged on its total lag and on whether any of its
    /// committed offsets moved; a partition's on its own, so one partition can be stalled in a
    /// group that is ok (a stuck lead, or the coordinator's backlog while it has no room).
    public func report(of groups: [ConsumerGroup]) -> LagReport {
        let entries = groups.map { group -> LagReport.Group in
            guard group.commitsOffsets else {
                return LagReport.Group(group: group.id, service: group.service, status: .untracked, partitions: [])
            }
            let series = samples.map { $0.groups[group.id] ?? [] }
            guard let newest = series.last, !newest.isEmpty else {
                return LagReport.Group(group: group.id, service: group.service, status: .unknown, partitions: [])
            }
            // Each partition of the newest sample with its readings over the window, oldest first.
            let histories = newest.map { measured in
                (measured, series.compactMap { sample in sample.first { $0.partition == measured.partition } })
            }
            let partitions = histories.map { measured, history -> LagReport.Partition in
                var row = LagReport.Partition(measured)
                row.status = LagStatus.classify(lags: history.map(\.lag), isCommittedMoving: Self.isMoving(history))
                return row
            }
            let totals = series.map { sample in sample.reduce(0) { $0 + $1.lag } }
            let isMoving = histories.contains { _, history in Self.isMoving(history) }
            return LagReport.Group(group: group.id, service: group.service,
                                   status: LagStatus.classify(lags: totals, isCommittedMoving: isMoving), partitions: partitions)
        }
        return LagReport(groups: entries, windowSeconds: span, samples: samples.count)
    }

    /// Whether the committed offset changed between the first and the last reading (nil to a
    /// number counts as a change: the group committed for the first time).
    private static func isMoving(_ history: [PartitionLag]) -> Bool {
        guard let first = history.first, let last = history.last else { return false }
        return first.committed != last.committed
    }
}
