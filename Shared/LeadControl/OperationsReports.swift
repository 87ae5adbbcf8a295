import Foundation
import Kafka
import LeadModel

/// The progress of one account: its searches' snapshots added up.
public struct AccountProgress: Codable, Hashable, Sendable {
    /// The account.
    public var accountID: AccountID
    /// Running when any search runs; else paused when any is paused; else completed.
    public var state: ProgressSnapshot.State
    /// How many searches were added up.
    public var searches: Int
    /// The sum of the declared totals; nil while any search has no declared total.
    public var total: Int?
    /// Leads queued until the coordinator has room for them.
    public var pending: Int
    /// Leads ready.
    public var completed: Int
    /// Leads in profile or activity.
    public var enriching: Int
    /// Leads in scoring.
    public var scoring: Int
    /// Leads waiting for billing to resume.
    public var billingPaused: Int
    /// Leads waiting for the outreach window.
    public var deferred: Int
}

/// What `leadctl progress` shows: the latest snapshot per search and the per-account sums.
public struct ProgressReport: Codable, Hashable, Sendable {
    /// Snapshots, sorted by account then search.
    public var searches: [ProgressSnapshot]
    /// One entry per account of ``searches``, sorted by account.
    public var accounts: [AccountProgress]

    /// Builds the report from the latest snapshot per search, keeping `searchID` only when given.
    public init(latest: [ProgressSnapshot], searchID: SearchID? = nil) {
        let shown = latest.filter { searchID == nil || $0.searchID == searchID }
        searches = shown.sorted { ($0.accountID.rawValue, $0.searchID.rawValue) < ($1.accountID.rawValue, $1.searchID.rawValue) }
        accounts = Dictionary(grouping: searches, by: \.accountID).map { accountID, snapshots in
            let states = Set(snapshots.map(\.state))
            let totals = snapshots.map(\.total)
            return AccountProgress(
                accountID: accountID,
                state: states.contains(.running) ? .running : states.contains(.paused) ? .paused : .completed,
                searches: snapshots.count,
                total: totals.contains(nil) ? nil : totals.reduce(0) { $0 + ($1 ?? 0) },
                pending: snapshots.reduce(0) { $0 + $1.pending },
                completed: snapshots.reduce(0) { $0 + $1.completed }, enriching: snapshots.reduce(0) { $0 + $1.enriching },
                scoring: snapshots.reduce(0) { $0 + $1.scoring }, billingPaused: snapshots.reduce(0) { $0 + $1.billingPaused },
                deferred: snapshots.reduce(0) { $0 + $1.deferred })
        }.sorted { $0.accountID.rawValue < $1.accountID.rawValue }
    }

    /// Whether there is at least one search and every one shown is completed (`--watch` stops).
    public var isEverySearchCompleted: Bool {
        !searches.isEmpty && searches.allSatisfy { $0.state == .completed }
    }

    /// The table `leadctl progress` prints.
    public func renderTable() -> String {
        guard !searches.isEmpty else { return "no progress snapshots yet" }
        let header = ["", "state", "total", "pending", "completed", "enriching", "scoring", "billing paused", "deferred"]
        var rows: [[String]] = []
        for snapshot in searches {
            rows.append([
                "search \(snapshot.searchID) (\(snapshot.accountID))", snapshot.state.rawValue, snapshot.total.map(String.init) ?? "?",
                String(snapshot.pending), String(snapshot.completed), String(snapshot.enriching), String(snapshot.scoring), String(snapshot.billingPaused),
                String(snapshot.deferred),
            ])
        }
        for account in accounts {
            rows.append([
                "account \(account.accountID) (\(account.searches) search\(account.searches == 1 ? "" : "es"))", account.state.rawValue,
                account.total.map(String.init) ?? "?", String(account.pending), String(account.completed), String(account.enriching), String(account.scoring),
                String(account.billingPaused), String(account.deferred),
            ])
        }
        return TextTable.render(header: header, rows: rows, rightAligned: Set(2..<header.count))
    }

    /// One progress bar per search, for `--watch`: `search-1  [#####-----]  50/100  50%  running ...`.
    public func renderBars(width: Int = 30) -> String {
        guard !searches.isEmpty else { return "waiting for progress snapshots..." }
        let nameWidth = searches.map { $0.searchID.rawValue.count }.max() ?? 0
        return searches.map { snapshot in
            let total = snapshot.total
            let fraction = total.map { $0 > 0 ? min(1, Double(snapshot.completed) / Double($0)) : 1 } ?? 0
            let filled = Int((fraction * Double(width)).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let count = "\(snapshot.completed)/\(total.map(String.init) ?? "?")"
            let percent = total == nil ? "  ?%" : String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
            var details = "\(snapshot.state.rawValue)  " + (snapshot.pending > 0 ? "pending \(snapshot.pending), " : "") + "enriching \(snapshot.enriching), scoring \(snapshot.scoring)"
            if snapshot.billingPaused > 0 { details += ", billing paused \(snapshot.billingPaused)" }
            if snapshot.deferred > 0 { details += ", deferred \(snapshot.deferred)" }
            return "\(pad(snapshot.searchID.rawValue, nameWidth))  [\(bar)]  \(count)  \(percent)  \(details)"
        }.joined(separator: "\n")
    }

    /// The report as one line of JSON (sorted keys, ISO-8601 dates).
    public func renderJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// A consumer group of the pipeline and the topics it consumes.
public struct PipelineGroup: Hashable, Sendable {
    /// The group id.
    public var group: String
    /// Its input topics.
    public var topics: [String]

    /// The pipeline's groups under `topics`' namespace: `coordinator` on the input and results
    /// topics, then `stage.<phase>` on each phase's priority and standard request topics, then
    /// `account-heat` (the account heat aggregators in the scoring stage) on the contributions.
    /// The names come from ``Topics`` (defined once); a deployment that sets `KAFKA_GROUP_ID` on
    /// a service needs `leadctl lag` to learn that name too.
    public static func all(_ topics: Topics) -> [PipelineGroup] {
        [PipelineGroup(group: topics.coordinatorGroup, topics: topics.coordinatorInputs)]
            + Phase.allCases.map { phase in
                PipelineGroup(group: topics.stageGroup(phase),
                              topics: [topics.phaseRequests(phase, isPriority: true), topics.phaseRequests(phase)])
            }
            + [PipelineGroup(group: topics.accountHeatGroup, topics: [topics.accountSignalContributions])]
    }
}

/// What `leadctl lag` shows: per group, per partition committed offset, high watermark and lag.
public struct LagReport: Hashable, Sendable {
    /// One partition of a group's input.
    public struct Partition: Hashable, Sendable {
        /// Topic and partition.
        public var partition: TopicPartition
        /// The group's committed offset; nil when it has committed none.
        public var committed: Int64?
        /// The first offset still stored.
        public var lowWatermark: Int64
        /// One past the last offset written.
        public var highWatermark: Int64
        /// `high - committed`, or `high - low` with nothing committed (see ``PartitionLag/lag``).
        public var lag: Int64 { max(0, highWatermark - (committed ?? lowWatermark)) }

        /// Creates a row.
        public init(partition: TopicPartition, committed: Int64?, lowWatermark: Int64, highWatermark: Int64) {
            self.partition = partition
            self.committed = committed
            self.lowWatermark = lowWatermark
            self.highWatermark = highWatermark
        }

        /// The row of what ``KafkaAdmin/lag(group:topics:)`` measured.
        public init(_ measured: PartitionLag) {
            self.init(partition: measured.partition, committed: measured.committed, lowWatermark: measured.watermarks.low,
                      highWatermark: measured.watermarks.high)
        }
    }

    /// One group's partitions and total.
    public struct Group: Hashable, Sendable {
        /// The group id.
        public var group: String
        /// Its partitions, sorted by topic and partition.
        public var partitions: [Partition]
        /// The sum of the partitions' lag.
        public var totalLag: Int64 { partitions.reduce(0) { $0 + $1.lag } }

        /// Creates a group's entry.
        public init(group: String, partitions: [Partition]) {
            self.group = group
            self.partitions = partitions
        }
    }

    /// The groups, in ``PipelineGroup/all(_:)`` order.
    public var groups: [Group]

    /// Creates a report.
    public init(groups: [Group]) {
        self.groups = groups.map { Group(group: $0.group, partitions: $0.partitions.sorted { $0.partition < $1.partition }) }
    }

    /// The groups whose total lag is above `maxLag`.
    public func groups(above maxLag: Int64) -> [Group] {
        groups.filter { $0.totalLag > maxLag }
    }

    /// The table `leadctl lag` prints: a block per group, then its total.
    public func renderTable() -> String {
        var blocks: [String] = []
        for group in groups {
            var rows = group.partitions.map { lag in
                [lag.partition.topic, String(lag.partition.partition), lag.committed.map(String.init) ?? "-",
                 String(lag.highWatermark), String(lag.lag)]
            }
            rows.append(["total", "", "", "", String(group.totalLag)])
            let table = group.partitions.isEmpty
                ? "  (no partitions: topics missing)"
                : TextTable.render(header: ["topic", "partition", "committed", "high", "lag"], rows: rows,
                                   rightAligned: [1, 2, 3, 4], indent: "  ")
            blocks.append("group \(group.group)  total lag \(group.totalLag)\n\(table)")
        }
        return blocks.joined(separator: "\n\n")
    }

    /// `{"groups": [{"group": ..., "totalLag": N, "partitions": [{"topic", "partition", "committed", "highWatermark", "lag"}]}]}`
    /// on one line, keys sorted; `committed` is null where the group has committed nothing.
    public func renderJSON() throws -> String {
        let groups: [[String: Any]] = groups.map { group in
            [
                "group": group.group, "totalLag": group.totalLag,
                "partitions": group.partitions.map { lag -> [String: Any] in
                    [
                        "topic": lag.partition.topic, "partition": Int(lag.partition.partition),
                        "committed": lag.committed.map { $0 as Any } ?? NSNull(), "lowWatermark": lag.lowWatermark,
                        "highWatermark": lag.highWatermark, "lag": lag.lag,
                    ]
                },
            ]
        }
        let data = try JSONSerialization.data(withJSONObject: ["groups": groups], options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

/// Plain-text tables with padded columns.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = [], indent: String = "") -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            indent + row.indices.map { column -> String in
                let cell = row[column]
                let padding = String(repeating: " ", count: max(0, widths[column] - cell.count))
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ")
        }.map { String($0.reversed().drop { $0 == " " }.reversed()) }.joined(separator: "\n")
    }
}
