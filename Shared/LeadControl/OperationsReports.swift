import Foundation
import JSONCodec
import Kafka
import LeadModel

/// What `leadctl progress` shows: the latest snapshot per search and the per-account sums.
public struct ProgressReport: Codable, Hashable, Sendable {
    /// Snapshots, sorted by account then search.
    public var searches: [ProgressSnapshot]
    /// One entry per account of ``searches``, sorted by account: the sums the coordinator also
    /// publishes to `progress.accounts` (``AccountProgressSnapshot/adding(_:accountID:at:)``),
    /// dated by the account's newest search snapshot.
    public var accounts: [AccountProgressSnapshot]

    /// Builds the report from the latest snapshot per search, keeping `searchID` only when given.
    public init(latest: [ProgressSnapshot], searchID: SearchID? = nil) {
        let shown = latest.filter { searchID == nil || $0.searchID == searchID }
        searches = shown.sorted { ($0.accountID.rawValue, $0.searchID.rawValue) < ($1.accountID.rawValue, $1.searchID.rawValue) }
        accounts = Dictionary(grouping: searches, by: \.accountID).compactMap { accountID, snapshots in
            AccountProgressSnapshot.adding(snapshots, accountID: accountID, at: snapshots.map(\.updatedAt).max() ?? .distantPast)
        }.sorted { $0.accountID.rawValue < $1.accountID.rawValue }
    }

    /// Whether there is at least one search and every one shown is completed (`--watch` stops).
    public var isEverySearchCompleted: Bool {
        !searches.isEmpty && searches.allSatisfy { $0.state == .completed }
    }

    /// The table `leadctl progress` prints.
    public func renderTable() -> String {
        guard !searches.isEmpty else { return "no progress snapshots yet" }
        let header = ["", "state", "total", "pending", "completed", "enriching", "scoring", "finalizing", "billing paused", "deferred", "refused", "already known"]
        var rows: [[String]] = []
        for snapshot in searches {
            rows.append([
                "search \(snapshot.searchID) (\(snapshot.accountID))", snapshot.state.rawValue, snapshot.total.map(String.init) ?? "?",
                String(snapshot.pending), String(snapshot.completed), String(snapshot.enriching), String(snapshot.scoring),
                String(snapshot.finalizing), String(snapshot.billingPaused), String(snapshot.deferred), String(snapshot.refused),
                String(snapshot.alreadyKnown),
            ])
        }
        for account in accounts {
            let count = account.searches.running + account.searches.completed + account.searches.paused
            rows.append([
                "account \(account.accountID) (\(count) search\(count == 1 ? "" : "es"))", account.state.rawValue,
                account.total.map(String.init) ?? "?", String(account.pending), String(account.completed), String(account.enriching), String(account.scoring),
                String(account.finalizing), String(account.billingPaused), String(account.deferred), String(account.refused),
                String(account.alreadyKnown),
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
            // Refused leads never run, and leads already known run for another search: the bar
            // and the count take them as done, the details name them.
            let done = snapshot.completed.addingSaturated(snapshot.refused).addingSaturated(snapshot.alreadyKnown)
            // Within 0 and 1 whatever the counts: a record is checked when read, a bar is drawn anyway.
            let fraction = total.map { $0 > 0 ? min(1, max(0, Double(done) / Double($0))) : 1 } ?? 0
            let filled = Int((fraction * Double(width)).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let count = "\(done)/\(total.map(String.init) ?? "?")"
            let percent = total == nil ? "  ?%" : String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
            var details = "\(snapshot.state.rawValue)  " + (snapshot.pending > 0 ? "pending \(snapshot.pending), " : "") + "enriching \(snapshot.enriching), scoring \(snapshot.scoring)"
            if snapshot.finalizing > 0 { details += ", finalizing \(snapshot.finalizing)" }
            if snapshot.billingPaused > 0 { details += ", billing paused \(snapshot.billingPaused)" }
            if snapshot.deferred > 0 { details += ", deferred \(snapshot.deferred)" }
            if snapshot.refused > 0 { details += ", refused \(snapshot.refused)" }
            if snapshot.alreadyKnown > 0 { details += ", already known \(snapshot.alreadyKnown)" }
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

/// What `leadctl lag` shows: per group its status over the sampling window and, at the newest
/// sample, per partition the committed offset, high watermark and lag.
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
        /// The partition's own status over the window.
        public var status: LagStatus
        /// `high - committed`, or `high - low` with nothing committed (see ``PartitionLag/lag``).
        public var lag: Int64 { max(0, highWatermark - (committed ?? lowWatermark)) }

        /// Creates a row.
        public init(partition: TopicPartition, committed: Int64?, lowWatermark: Int64, highWatermark: Int64,
                    status: LagStatus = .unknown) {
            self.partition = partition
            self.committed = committed
            self.lowWatermark = lowWatermark
            self.highWatermark = highWatermark
            self.status = status
        }

        /// The row of what ``KafkaAdmin/lag(group:topics:)`` measured, its status not judged yet.
        public init(_ measured: PartitionLag) {
            self.init(partition: measured.partition, committed: measured.committed, lowWatermark: measured.watermarks.low,
                      highWatermark: measured.watermarks.high)
        }
    }

    /// One group's status, partitions and total.
    public struct Group: Hashable, Sendable {
        /// The group id.
        public var group: String
        /// The executable whose processes are its members.
        public var service: String
        /// Its status over the window (see ``LagWindow/report(of:)``).
        public var status: LagStatus
        /// Its partitions, sorted by topic and partition; none for an untracked group.
        public var partitions: [Partition]
        /// The sum of the partitions' lag.
        public var totalLag: Int64 { partitions.reduce(0) { $0 + $1.lag } }

        /// Creates a group's entry.
        public init(group: String, service: String, status: LagStatus, partitions: [Partition]) {
            self.group = group
            self.service = service
            self.status = status
            self.partitions = partitions
        }
    }

    /// The groups, in ``Topics/consumerGroups`` order.
    public var groups: [Group]
    /// Seconds between the first and the last sample the statuses were judged on.
    public var windowSeconds: Double
    /// How many samples they were judged on.
    public var samples: Int

    /// Creates a report.
    public init(groups: [Group], windowSeconds: Double, samples: Int) {
        self.groups = groups.map { group in
            var sorted = group
            sorted.partitions.sort { $0.partition < $1.partition }
            return sorted
        }
        self.windowSeconds = windowSeconds
        self.samples = samples
    }

    /// The groups with lag whose total lag, less that of the topics `waiting`, is above `maxLag`
    /// (untracked groups have none), each with that total.
    /// - Parameter waiting: topics whose records wait by design (`leads.backlog`, held under the
    ///   coordinator's bound on running leads), which `--max-lag` does not count, as the alerts do not.
    public func groups(above maxLag: Int64, notCounting waiting: Set<String> = []) -> [(group: Group, lag: Int64)] {
        groups.compactMap { group in
            guard group.status != .untracked else { return nil }
            let lag = group.partitions.reduce(Int64(0)) { $0 + (waiting.contains($1.partition.topic) ? 0 : $1.lag) }
            return lag > maxLag ? (group, lag) : nil
        }
    }

    /// The table `leadctl lag` prints: a line on the window, then a block per group with its
    /// total and status, a row per partition with its own.
    public func renderTable() -> String {
        var blocks = ["statuses over \(Self.seconds(windowSeconds)) s, \(samples) sample\(samples == 1 ? "" : "s")"]
        for group in groups {
            guard group.status != .untracked else {
                blocks.append("group \(group.group)  untracked (commits no offsets: re-reads its compacted inputs on assignment)")
                continue
            }
            var rows = group.partitions.map { lag in
                [lag.partition.topic, String(lag.partition.partition), lag.committed.map(String.init) ?? "-",
                 String(lag.highWatermark), String(lag.lag), lag.status.rawValue]
            }
            rows.append(["total", "", "", "", String(group.totalLag), group.status.rawValue])
            let table = group.partitions.isEmpty
                ? "  (no partitions: topics missing)"
                : TextTable.render(header: ["topic", "partition", "committed", "high", "lag", "status"], rows: rows,
                                   rightAligned: [1, 2, 3, 4], indent: "  ")
            blocks.append("group \(group.group)  total lag \(group.totalLag)  \(group.status.rawValue)\n\(table)")
        }
        return blocks.joined(separator: "\n\n")
    }

    /// `{"windowSeconds": S, "samples": N, "groups": [{"group", "service", "status", "totalLag",
    /// "partitions": [{"topic", "partition", "committed", "lowWatermark", "highWatermark", "lag", "status"}]}]}`
    /// on one line, keys sorted; `committed` is null where the group has committed nothing,
    /// `totalLag` null for an untracked group.
    public func renderJSON() throws -> String {
        let groups: [[String: Any]] = groups.map { group in
            [
                "group": group.group, "service": group.service, "status": group.status.rawValue,
                "totalLag": group.status == .untracked ? NSNull() : group.totalLag as Any,
                "partitions": group.partitions.map { lag -> [String: Any] in
                    [
                        "topic": lag.partition.topic, "partition": Int(lag.partition.partition),
                        "committed": lag.committed.map { $0 as Any } ?? NSNull(), "lowWatermark": lag.lowWatermark,
                        "highWatermark": lag.highWatermark, "lag": lag.lag, "status": lag.status.rawValue,
                    ]
                },
            ]
        }
        let document: [String: Any] = ["windowSeconds": (windowSeconds * 1000).rounded() / 1000, "samples": samples, "groups": groups]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// Seconds with one decimal, without a trailing `.0`.
    private static func seconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
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
