import Foundation

/// Scenario h's provider latencies for the project, the peers' fixed sleeps: profile 400 ms (both
/// LinkedIn and X, so every lead's profile phase takes 400 ms), activity 300 ms, scoring 600 ms,
/// no jitter; finalize has no simulated latency.
let peerLatencyProviders = [
    "SIM_LINKEDIN_LATENCY_MS": "400", "SIM_X_LATENCY_MS": "400", "SIM_ACTIVITY_LATENCY_MS": "300",
    "SIM_SCORING_LATENCY_MS": "600", "SIM_LATENCY_JITTER": "0",
]

/// One provider setting of scenario h, for the project and the peers alike.
struct PeerCondition {
    let name: String
    let slug: String
    let providers: [String: String]
    /// Seconds of profile, activity, scoring and finalize, as the peers take them.
    let peerLatencies: [Double]
    /// Leads of the project and of the concurrent peer.
    let leads: Int
    /// Leads of the naive peer; 0: it is not run.
    let naiveLeads: Int
}

/// The project and the two peers under one condition.
struct PeerComparison {
    let condition: PeerCondition
    let project: PipelineFigures
    let concurrent: PeerOutcome
    let naive: PeerOutcome
    /// The machine's 1-minute load average as each run started, by the pipeline's name in the table.
    let loads: [String: Double]

    /// The project's leads/s ÷ the concurrent peer's.
    var overConcurrent: Double? { concurrent.figures.map { project.leadsPerSecond / $0.leadsPerSecond } }
    var overNaive: Double? { naive.figures.map { project.leadsPerSecond / $0.leadsPerSecond } }

    /// The side-by-side table's rows for this condition.
    var rows: [String] {
        let cpu = String(format: "%.2f", project.cpuMillisecondsPerLead)
            + " (timed leads only: \(project.millisecondsPerLead(project.timedCPUSeconds)))"
        func load(_ name: String) -> String { loads[name].map { String(format: "%.1f", $0) } ?? "" }
        let brokerCPU = "\(project.millisecondsPerLead(project.brokerCPUSeconds)) "
            + "(timed leads only: \(project.millisecondsPerLead(project.brokerTimedCPUSeconds)))"
        var rows = ["| \(condition.name) | project | \(load("project")) | \(project.countText) | \(String(format: "%.1f", project.leadsPerSecond)) | \(cpu) | \(brokerCPU) | "
            + "\(project.latency.text) | \(project.recordsPerLead.map { String(format: "%.1f", $0) } ?? "n/a") | "
            + "\(project.bytesPerLead.map { String(format: "%.0f", $0) } ?? "n/a")"
            + "\(project.fetchedBytesPerLead.map { String(format: " (fetched: %.0f)", $0) } ?? "") |"]
        for (peer, outcome) in [(PeerPipelines.Peer.concurrent, concurrent), (.naive, naive)] {
            guard let figures = outcome.figures else {
                rows.append("| \(condition.name) | \(peer.name) | \(load(peer.name)) | \(outcome.reason) | | | | | | |")
                continue
            }
            rows.append("| \(condition.name) | \(peer.name) | \(load(peer.name)) | "
                + String(format: "%d leads in %.1f s | %.1f | %.2f (sampled: %.2f) | ", figures.leads, figures.wallSeconds,
                         figures.leadsPerSecond, figures.cpuMillisecondsPerLead, figures.sampledCPUMillisecondsPerLead ?? .nan)
                + (figures.brokerCPUMillisecondsPerLead.map { String(format: "%.2f", $0) } ?? "n/a") + " | "
                + "p50 \(LatencySummary.format(figures.p50)) / p99 \(LatencySummary.format(figures.p99)) | 9 (by its code) | not measured |")
        }
        return rows
    }
}

extension Scenarios {
    // MARK: - h) the project beside the Python peers

    /// The project, the concurrent peer and the naive peer one after another on the same broker,
    /// with instant providers and then with 400/300/600 ms providers; the targets of issue 13
    /// as ratios of figures from this one run.
    mutating func peersSideBySide() async throws {
        let instantLeads = options.leads ?? 3_000
        let conditions = [
            PeerCondition(name: "instant", slug: "instant", providers: instantProviders, peerLatencies: [0, 0, 0, 0],
                          leads: instantLeads, naiveLeads: options.naiveLeads),
            PeerCondition(name: "400/300/600 ms", slug: "slow",
                          providers: peerLatencyProviders.merging(["STAGE_MAX_IN_FLIGHT": "\(options.slowInFlight)"]) { _, new in new },
                          peerLatencies: [0.4, 0.3, 0.6, 0],
                          leads: options.slowLeads, naiveLeads: options.slowNaiveLeads),
        ]
        let command = command("h", "--leads \(instantLeads) --slow-leads \(options.slowLeads) --naive-leads \(options.naiveLeads) "
            + "--slow-naive-leads \(options.slowNaiveLeads) --slow-in-flight \(options.slowInFlight) --peers-dir \(options.peersDirectory)")
        let peers = PeerPipelines(options: options, broker: broker)
        let missing = await peers.unavailability()
        if let missing { log("h: the peers are skipped: \(missing)") }
        var comparisons: [PeerComparison] = []
        for condition in conditions {
            var loads: [String: Double] = [:]
            loads["project"] = loadAverage()
            let project = try await timedRun(label: "h-project-\(condition.slug)", command: command, leads: condition.leads,
                                             extra: condition.providers, countMessages: true)
            var concurrent = PeerOutcome.skipped(missing ?? "")
            var naive = PeerOutcome.skipped(missing ?? "`--\(condition.slug == "slow" ? "slow-" : "")naive-leads 0`")
            if missing == nil {
                loads[PeerPipelines.Peer.concurrent.name] = loadAverage()
                concurrent = await peers.measure(.concurrent, leads: condition.leads, latencies: condition.peerLatencies)
                if condition.naiveLeads > 0 {
                    loads[PeerPipelines.Peer.naive.name] = loadAverage()
                    naive = await peers.measure(.naive, leads: condition.naiveLeads, latencies: condition.peerLatencies)
                }
            }
            comparisons.append(PeerComparison(condition: condition, project: project, concurrent: concurrent, naive: naive, loads: loads))
        }
        let targets = Self.peerTargets(comparisons)
        for comparison in comparisons {
            let project = comparison.project
            report.add("h) project, \(comparison.condition.name) providers",
                       String(format: "%.1f leads/s, %.2f ms CPU per lead", project.leadsPerSecond, project.cpuMillisecondsPerLead),
                       latency: project.latency.text)
            for (peer, outcome) in [(PeerPipelines.Peer.concurrent, comparison.concurrent), (.naive, comparison.naive)] {
                let value = outcome.figures.map {
                    String(format: "%.1f leads/s, %.2f ms CPU per lead (sampled: %.2f; %d leads)", $0.leadsPerSecond,
                           $0.cpuMillisecondsPerLead, $0.sampledCPUMillisecondsPerLead ?? .nan, $0.leads)
                } ?? outcome.reason
                let latency = outcome.figures.map { "p50 \(LatencySummary.format($0.p50)) / p99 \(LatencySummary.format($0.p99))" } ?? ""
                report.add("h) \(peer.name), \(comparison.condition.name) providers", value, latency: latency)
            }
        }
        for target in targets {
            report.add("h) \(target.name)", target.measured, latency: "", target: target.target, verdict: target.verdictText)
        }
        let peerNote = missing.map { "\n**The peers were not run: \($0).** Their rows and the targets that compare with them say so.\n" } ?? ""
        report.sections.append("""
        ### h) Side by side with the Python peers

        Command: \(command)

        The peers are `naive_pipeline.py` and `concurrent_pipeline.py` from `\(options.peersDirectory)`, run
        where they lie with `\(peers.python)` (`Benchmarks/setup-peers.sh` makes `.venv-peers` with
        confluent-kafka): the same four phases over their own topics (\(options.partitions) partitions) on the same
        broker, carrying only a lead id and the list of finished phases. The concurrent peer has 256
        provider calls in flight per stage, as the project's `STAGE_MAX_IN_FLIGHT` default; it
        auto-commits. The naive peer handles one record at a time and flushes and commits after each.
        Each condition runs the project, then the concurrent peer with as many leads, then the naive
        peer with fewer (it is slow), one after another, in this one run.

        - instant: the project with `SIM_LATENCY_SCALE=0`; the peers with latencies `0 0 0 0`.
        - 400/300/600 ms: the project with `SIM_LINKEDIN_LATENCY_MS=400 SIM_X_LATENCY_MS=400
          SIM_ACTIVITY_LATENCY_MS=300 SIM_SCORING_LATENCY_MS=600 SIM_LATENCY_JITTER=0` (fixed sleeps,
          as the peers') and `STAGE_MAX_IN_FLIGHT=\(options.slowInFlight)` (`--slow-in-flight`: with slow
          providers a stage's throughput is its calls in flight ÷ their latency, so this is the setting
          that says how many leads a stage works on at once; the default, 256, bounds the scoring
          stage at 256 ÷ 0.6 s ≈ 427 leads/s); the peers with `0.4 0.3 0.6 0` and their 256.

        The project: one instance of each service, warm-up leads first, timed as in b). Its CPU per
        lead = CPU time of its five processes from their start until the last timed lead was in the
        pool (start-up and warm-up included) ÷ the timed leads, the way the peers count theirs
        (their stages and coordinator from start to exit, their 8 s settling included); in
        brackets, only what they used while the timed leads went through. The services do not
        exit, so their run ends with the last lead, as the broker's figure below does; until the
        benchmark had read every topic back (2 s after the last lead, then the read-back) they
        used \(afterReadBackLine(comparisons)). A peer's CPU is the figure it prints, from `RUSAGE_CHILDREN`, which counts
        only the processes it reaped before reading it; in brackets, the same processes as the
        benchmark read them from `/proc` every 100 ms while the peer ran (their parent, which
        publishes the leads, excluded, as the benchmark's publisher is for the project). The
        comparison of CPU below uses the sampled figure. A peer that prints its figures but has not
        exited 15 s later is killed, and its figures are kept (the naive peer once hung at exit).

        Broker CPU per lead: the CPU time of the broker's process (found by the port it listens on,
        read from `/proc`) ÷ the same leads: for the project from its services' start until its last
        timed lead was in the pool (start-up and warm-up included, the read-back of its topics
        after the run not) and, in brackets, while the timed leads went through; for a peer over its
        whole run (its 8 s settling and its topics' deletion included).
        The broker shares the machine's two cores, so with instant providers a pipeline's leads/s
        is bounded by the cores ÷ (its own CPU + the broker's per lead): \(coresLine(comparisons))

        Records and bytes per lead: every record of every topic of the namespace (key, value and
        headers), read back after the run, ÷ the leads published to it, warm-up leads included; in
        brackets, the bytes the reader fetched to read them, the batches as the broker keeps them
        (compressed as the producers wrote them, `compression.type`) with the fetch protocol's own
        bytes, ÷ the same leads. The target is read on the first figure. The peers write 9 records per lead (input, four requests, four results); they delete their
        topics, so their bytes are not measured. Peer latency = from the send to their coordinator
        seeing the last result; the project's = from the send to `finishedAt` in the pool.
        \(peerNote)
        Load = the machine's 1-minute load average (`/proc/loadavg`) as the run started. It counts
        every process, the previous run's included, so it says how busy the 2 cores were (other
        sessions' builds and tests share them), not who kept them busy.

        | providers | pipeline | load | leads | leads/s | CPU ms per lead | broker CPU ms per lead | per-lead latency | records per lead | bytes per lead |
        |---|---|---|---|---|---|---|---|---|---|
        \(comparisons.flatMap(\.rows).joined(separator: "\n"))

        Targets (issue 13), each from the figures above. Ratio: measured ÷ target for the first
        three (at most 1 meets them); the project's leads/s ÷ the concurrent peer's for the last two.

        | target | measured | ratio | verdict |
        |---|---|---|---|
        \(targets.map(\.row).joined(separator: "\n"))

        Besides: the project ÷ the naive peer in leads/s: \(comparisons.map { comparison in
            "\(comparison.condition.name) " + (comparison.overNaive.map { String(format: "%.1f×", $0) } ?? "n/a")
        }.joined(separator: ", ")); the project's CPU per lead ÷ the concurrent peer's (instant, its sampled figure): \(
            comparisons.first.flatMap { c in
                c.concurrent.figures.map { String(format: "%.1f×", c.project.cpuMillisecondsPerLead / ($0.sampledCPUMillisecondsPerLead ?? $0.cpuMillisecondsPerLead)) }
            } ?? "n/a").

        \(volumesText(comparisons))
        """)
    }

    /// Where the project's records and bytes went, per topic, in the instant run: what the first
    /// two targets are made of.
    private func volumesText(_ comparisons: [PeerComparison]) -> String {
        guard let instant = comparisons.first, !instant.project.volumeTable.isEmpty else { return "" }
        return """
            The project's records and bytes per lead by topic, instant run (\(instant.project.leadsInNamespace) leads
            in the namespace, warm-up included):

            \(instant.project.volumeTable)
            """
    }

    /// The project's CPU per lead until the read-back after each run had ended.
    private func afterReadBackLine(_ comparisons: [PeerComparison]) -> String {
        let figures = comparisons.map { comparison in
            let project = comparison.project
            guard let seconds = project.cpuSecondsAfterReadBack else { return "not measured (\(comparison.condition.name))" }
            return "\(project.millisecondsPerLead(seconds)) ms per lead (\(comparison.condition.name))"
        }
        return figures.joined(separator: " and ")
    }

    /// How many cores the project's processes and the broker used while the instant run's
    /// timed leads went through, and what that bounds leads/s at.
    private func coresLine(_ comparisons: [PeerComparison]) -> String {
        guard let project = comparisons.first?.project, let broker = project.brokerTimedCPUSeconds,
              let pipeline = project.timedCPUSeconds, project.seconds > 0 else {
            return "not measured in this run (the broker is not on this machine)."
        }
        let perLead = (pipeline + broker) / Double(max(1, project.published))
        return String(format: "in this run the project's five processes and the broker used %.2f cores together (%.2f and "
            + "%.2f) while the instant run's timed leads went through, %.2f ms of CPU per lead between them, which at 2 busy "
            + "cores allows at most %.0f leads/s.", (pipeline + broker) / project.seconds, pipeline / project.seconds,
            broker / project.seconds, perLead * 1000, 2 / perLead)
    }

    struct PeerTarget {
        let name: String
        let target: String
        let measured: String
        let ratio: Double?
        /// nil: not measured.
        let isMet: Bool?

        var verdictText: String {
            isMet.map { verdict($0) + (ratio.map { String(format: " (%.2f×)", $0) } ?? "") } ?? "not measured"
        }

        var row: String {
            "| \(name): \(target) | \(measured) | \(ratio.map { String(format: "%.2f×", $0) } ?? "n/a") | \(isMet.map { verdict($0) } ?? "not measured") |"
        }
    }

    /// The five targets of issue 13 against `comparisons` (instant first, then 400/300/600 ms).
    static func peerTargets(_ comparisons: [PeerComparison]) -> [PeerTarget] {
        let instant = comparisons[0]
        let slow = comparisons[1]
        func perLead(_ name: String, _ limit: Double, _ limitText: String, _ value: (PipelineFigures) -> Double?, _ format: String) -> PeerTarget {
            let values = comparisons.map { value($0.project) }
            let measured = zip(comparisons, values).map { comparison, value in
                (value.map { String(format: format, $0) } ?? "n/a") + " (\(comparison.condition.name))"
            }.joined(separator: ", ")
            let worst = values.compactMap { $0 }.max()
            return PeerTarget(name: name, target: limitText, measured: measured, ratio: worst.map { $0 / limit },
                              isMet: values.contains { $0 == nil } ? nil : worst.map { $0 <= limit })
        }
        func overPeer(_ comparison: PeerComparison, _ factor: Double) -> PeerTarget {
            let peer = comparison.concurrent.figures
            let measured = String(format: "project %.1f leads/s", comparison.project.leadsPerSecond)
                + (peer.map { String(format: ", concurrent peer %.1f", $0.leadsPerSecond) } ?? "; concurrent peer \(comparison.concurrent.reason)")
            return PeerTarget(
                name: "leads/s, \(comparison.condition.name) providers", target: factor == 1 ? "≥ the concurrent peer's" : "≥ \(factor)× the concurrent peer's",
                measured: measured, ratio: comparison.overConcurrent, isMet: comparison.overConcurrent.map { $0 >= factor })
        }
        let cpu = instant.project.cpuMillisecondsPerLead
        return [
            perLead("records per lead (all topics)", 14, "≤ 14", \.recordsPerLead, "%.1f"),
            perLead("bytes per lead (all topics)", 10_000, "≤ 10 KB (10,000 bytes)", \.bytesPerLead, "%.0f bytes"),
            PeerTarget(name: "CPU per lead of the pipeline's processes, instant providers", target: "≤ 1.0 ms",
                       measured: String(format: "%.2f ms", cpu), ratio: cpu / 1.0, isMet: cpu <= 1.0),
            overPeer(instant, 1),
            overPeer(slow, 1.5),
        ]
    }
}
