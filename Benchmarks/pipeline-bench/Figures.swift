import Foundation

/// p50, p99 and max of a set of latencies, in seconds.
struct LatencySummary {
    let count: Int
    let p50: Double
    let p99: Double
    let max: Double

    init(_ seconds: [Double]) {
        let sorted = seconds.sorted()
        count = sorted.count
        func rank(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            // Nearest rank: the smallest value with at least q of the values at or below it.
            let index = Int((q * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.max(0, Swift.min(sorted.count - 1, index))]
        }
        p50 = rank(0.50)
        p99 = rank(0.99)
        max = sorted.last ?? .nan
    }

    /// `p50 1.23 s / p99 4.56 s`.
    var text: String {
        count == 0 ? "n/a" : String(format: "p50 %@ / p99 %@", Self.format(p50), Self.format(p99))
    }

    static func format(_ seconds: Double) -> String {
        seconds < 1 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.2f s", seconds)
    }
}

/// The records of one topic and their key, value and header bytes.
struct TopicVolume {
    var topic: String
    var records = 0
    var bytes = 0

    mutating func add(bytes: Int) {
        records += 1
        self.bytes += bytes
    }
}

/// What one timed pipeline run measured.
struct PipelineFigures {
    var label: String
    var command: String
    var published: Int
    var completed: Int
    /// From the first lead's publication to the last measured lead's `finishedAt`.
    var seconds: Double
    var latency: LatencySummary
    var messagesPerLead: Double?
    /// What every topic of the namespace holds after the run, warm-up leads included.
    var volumes: [TopicVolume]? = nil
    /// Leads published to the namespace, warm-up leads included.
    var leadsInNamespace = 0
    var memory: [(service: String, kilobytes: Int)]
    /// CPU seconds each process used over the whole run (warm-up included).
    var cpu: [(service: String, seconds: Double)] = []

    var leadsPerSecond: Double { seconds > 0 ? Double(completed) / seconds : 0 }

    /// Key, value and header bytes per record, over every topic of the namespace.
    var meanRecordBytes: Double? {
        volumes.map { volumes in
            Double(volumes.reduce(0) { $0 + $1.bytes }) / Double(max(1, volumes.reduce(0) { $0 + $1.records }))
        }
    }

    /// Records and bytes per lead in each topic, as a Markdown table.
    var volumeTable: String {
        guard let volumes, leadsInNamespace > 0 else { return "" }
        let leads = Double(leadsInNamespace)
        var text = "| topic | records per lead | mean bytes | bytes per lead |\n|---|---|---|---|\n"
        for volume in volumes + [TopicVolume(topic: "all", records: volumes.reduce(0) { $0 + $1.records },
                                             bytes: volumes.reduce(0) { $0 + $1.bytes })] {
            text += "| \(volume.topic) | " + String(format: "%.2f | %.0f | %.0f", Double(volume.records) / leads,
                                                   Double(volume.bytes) / Double(max(1, volume.records)), Double(volume.bytes) / leads) + " |\n"
        }
        return text
    }

    var memoryText: String {
        memory.map { "\($0.service) \($0.kilobytes / 1024) MB" }.joined(separator: ", ")
    }

    var cpuText: String {
        cpu.map { String(format: "%@ %.1f s", $0.service, $0.seconds) }.joined(separator: ", ")
    }

    /// `1234 leads in 5.6 s` (with `of N` when some did not finish).
    var countText: String {
        completed == published
            ? String(format: "%d leads in %.1f s", completed, seconds)
            : String(format: "%d of %d leads in %.1f s (time-out)", completed, published, seconds)
    }
}

/// The Markdown report: a summary table of figures against targets, then one section per
/// scenario with its command and details.
struct Report {
    struct Row {
        var figure: String
        var value: String
        var latency: String
        var target: String
        var verdict: String
    }

    var rows: [Row] = []
    var sections: [String] = []

    mutating func add(_ figure: String, _ value: String, latency: String, target: String = "", verdict: String = "") {
        rows.append(Row(figure: figure, value: value, latency: latency, target: target, verdict: verdict))
    }

    func markdown(header: String) -> String {
        var text = header + "\n## Summary\n\n| figure | value | per-lead latency | target | verdict |\n|---|---|---|---|---|\n"
        for row in rows {
            text += "| \(row.figure) | \(row.value) | \(row.latency) | \(row.target) | \(row.verdict) |\n"
        }
        return text + "\n" + sections.joined(separator: "\n")
    }
}

func verdict(_ isMet: Bool) -> String { isMet ? "met" : "**missed**" }
