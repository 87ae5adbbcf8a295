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
    /// The bytes a reader received from the broker to read those records back: the batches as
    /// stored (compressed as produced) and the fetch protocol's bytes.
    var fetchedBytes: Int? = nil
    /// Leads published to the namespace, warm-up leads included.
    var leadsInNamespace = 0
    var memory: [(service: String, kilobytes: Int)]
    /// CPU seconds each process used from its start until the last timed lead was in the pool
    /// (start-up and warm-up included; the benchmark's read-back of the topics after it not).
    var cpu: [(service: String, seconds: Double)] = []
    /// CPU seconds all the pipeline's processes used from the first timed lead's publication
    /// until the last timed lead was in the pool.
    var timedCPUSeconds: Double?
    /// CPU seconds the broker used from the services' start until the last timed lead was in
    /// the pool (the benchmark's read-back of every topic after it left out), when it runs on
    /// this machine: serving any other clients too.
    var brokerCPUSeconds: Double? = nil
    /// The broker's CPU seconds while the timed leads went through (as ``timedCPUSeconds``).
    var brokerTimedCPUSeconds: Double? = nil
    /// CPU seconds of all the pipeline's processes from their start until the benchmark had read
    /// every topic back after the run (it waits 2 s for the last writes first), when it did.
    var cpuSecondsAfterReadBack: Double? = nil

    var leadsPerSecond: Double { seconds > 0 ? Double(completed) / seconds : 0 }

    /// The CPU time of every process until the last timed lead ÷ the timed leads: start-up and
    /// warm-up are charged to the timed leads, as the peers of scenario h count theirs.
    var cpuMillisecondsPerLead: Double {
        cpu.reduce(0) { $0 + $1.seconds } * 1000 / Double(max(1, published))
    }

    /// `seconds` of CPU ÷ the timed leads, in milliseconds to two places; "n/a" when not measured.
    func millisecondsPerLead(_ seconds: Double?) -> String {
        seconds.map { String(format: "%.2f", $0 * 1000 / Double(max(1, published))) } ?? "n/a"
    }

    /// Every topic of the namespace together.
    var totalVolume: TopicVolume? {
        volumes.map { volumes in
            TopicVolume(topic: "all", records: volumes.reduce(0) { $0 + $1.records }, bytes: volumes.reduce(0) { $0 + $1.bytes })
        }
    }

    /// Records on every topic of the namespace ÷ leads published to it (warm-up included).
    var recordsPerLead: Double? {
        totalVolume.map { Double($0.records) / Double(max(1, leadsInNamespace)) }
    }

    /// Key, value and header bytes on every topic of the namespace ÷ leads published to it.
    var bytesPerLead: Double? {
        totalVolume.map { Double($0.bytes) / Double(max(1, leadsInNamespace)) }
    }

    /// The bytes fetched to read every topic of the namespace back ÷ leads published to it: what
    /// a lead costs the broker's storage and network, compression included.
    var fetchedBytesPerLead: Double? {
        fetchedBytes.map { Double($0) / Double(max(1, leadsInNamespace)) }
    }

    /// Key, value and header bytes per record, over every topic of the namespace.
    var meanRecordBytes: Double? {
        totalVolume.map { Double($0.bytes) / Double(max(1, $0.records)) }
    }

    /// Records and bytes per lead in each topic, as a Markdown table.
    var volumeTable: String {
        guard let volumes, let totalVolume, leadsInNamespace > 0 else { return "" }
        let leads = Double(leadsInNamespace)
        var text = "| topic | records per lead | mean bytes | bytes per lead |\n|---|---|---|---|\n"
        for volume in volumes + [totalVolume] {
            text += "| \(volume.topic) | " + String(format: "%.2f | %.0f | %.0f", Double(volume.records) / leads,
                                                   Double(volume.bytes) / Double(max(1, volume.records)), Double(volume.bytes) / leads) + " |\n"
        }
        if let fetchedBytesPerLead {
            text += "\nFetched to read it all back (batches as the broker keeps them, compressed as produced, with the "
                + String(format: "fetch protocol's bytes): %.0f bytes per lead.\n", fetchedBytesPerLead)
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
    /// Summary lines and sections of an earlier report, for scenarios this run did not run.
    private var keptRows: [String] = []
    private var keptSections: [String] = []

    /// The scenarios whose figures come from an earlier report.
    var keptScenarios: [String] {
        Array(Set(keptSections.compactMap { Self.scenario(of: $0.dropFirst(4)) })).sorted()
    }

    mutating func add(_ figure: String, _ value: String, latency: String, target: String = "", verdict: String = "") {
        rows.append(Row(figure: figure, value: value, latency: latency, target: target, verdict: verdict))
    }

    /// Keeps the summary lines and sections of `previous` (a report this type wrote, hand-added
    /// notes after a section included) of every scenario not in `ran`, so that running one
    /// scenario rewrites its part of the report only.
    mutating func keep(from previous: String, except ran: [String]) {
        let lines = previous.split(separator: "\n", omittingEmptySubsequences: false)
        if let summary = lines.firstIndex(of: "## Summary") {
            // The table's header and separator lines name no scenario, so they drop out.
            let table = lines[(summary + 1)...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
            keptRows = table.filter { line in
                Self.scenario(of: line.dropFirst(2)).map { !ran.contains($0) } ?? false
            }.map(String.init)
        }
        // A section runs from its `### x)` heading to the next one; the split keeps each
        // section's text as it was written, so joining them again gives the same bytes. A
        // section of no scenario (a dated comparison written by hand) is kept, after them all.
        keptSections = previous.components(separatedBy: "\n### ").dropFirst().filter { section in
            Self.scenario(of: Substring(section)).map { !ran.contains($0) } ?? true
        }.map { "### " + $0 }
    }

    /// `b` for text that starts with `b)`.
    private static func scenario(of text: Substring) -> String? {
        guard let letter = text.first, letter.isLetter, text.dropFirst().first == ")" else { return nil }
        return String(letter)
    }

    func markdown(header: String) -> String {
        let lines = keptRows + rows.map { "| \($0.figure) | \($0.value) | \($0.latency) | \($0.target) | \($0.verdict) |" }
        let allSections = keptSections + sections
        var text = header + "\n## Summary\n\n| figure | value | per-lead latency | target | verdict |\n|---|---|---|---|---|\n"
        // Stable sorts: a scenario's rows and sections keep their order, scenarios go a to z.
        text += Self.ordered(lines, dropping: 2).map { $0 + "\n" }.joined()
        return text + "\n" + Self.ordered(allSections, dropping: 4).joined(separator: "\n")
    }

    /// `texts` in scenario order (the letter after `dropping` characters), stable within one.
    private static func ordered(_ texts: [String], dropping prefix: Int) -> [String] {
        texts.enumerated().sorted { a, b in
            let (x, y) = (scenario(of: a.element.dropFirst(prefix)) ?? "~", scenario(of: b.element.dropFirst(prefix)) ?? "~")
            return x == y ? a.offset < b.offset : x < y
        }.map(\.element)
    }
}

func verdict(_ isMet: Bool) -> String { isMet ? "met" : "**missed**" }
