import Foundation

/// The two Python peers of `--peers-dir` (someone else's code, run where it lies): the same four
/// phases over their own topics on the benchmark's broker, each printing one JSON line.
struct PeerPipelines {
    enum Peer: String {
        case concurrent
        case naive

        var script: String { "\(rawValue)_pipeline.py" }
        var name: String { "\(rawValue) peer" }
    }

    let directory: URL
    let python: String
    let bootstrap: String
    let partitions: Int
    let timeout: Double
    let logDirectory: URL
    /// The broker's process, when it runs on this machine: its CPU over each peer run is read too.
    let broker: BrokerProcess?

    init(options: Options, broker: BrokerProcess?) {
        self.broker = broker
        directory = URL(fileURLWithPath: options.peersDirectory).standardizedFileURL
        let venv = ".venv-peers/bin/python"
        python = options.peerPython ?? (FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3")
        bootstrap = options.bootstrap
        partitions = options.partitions
        timeout = options.timeout
        logDirectory = URL(fileURLWithPath: options.logDirectory).appendingPathComponent("peers")
    }

    /// Why the peers cannot run here, or nil when they can.
    func unavailability() async -> String? {
        for peer in [Peer.concurrent, .naive] where !FileManager.default.fileExists(atPath: directory.appendingPathComponent(peer.script).path) {
            return "`\(peer.script)` is not in `\(directory.path)` (set `--peers-dir`)"
        }
        let check = await run(["-c", "import confluent_kafka"], name: "import-check", timeout: 60)
        guard check.status == 0 else {
            return "`\(python)` cannot import confluent_kafka (run `Benchmarks/setup-peers.sh`, or set `--peer-python`)"
        }
        return nil
    }

    /// Runs `peer` on `leads` leads with provider latencies `latencies` (seconds of profile,
    /// activity, scoring, finalize); its figures, or why there are none.
    func measure(_ peer: Peer, leads: Int, latencies: [Double]) async -> PeerOutcome {
        var arguments = [directory.appendingPathComponent(peer.script).path, bootstrap, String(leads), String(partitions)]
        arguments += latencies.map { String($0) }
        if peer == .concurrent { arguments.append("256") }
        log("\(peer.name): \(leads) leads, latencies \(latencies.map { String($0) }.joined(separator: "/")) s")
        // The peers sleep 8 s before their clock starts and delete their topics after it.
        let brokerBefore = broker?.cpuSeconds()
        let result = await run(arguments, name: peer.rawValue, timeout: timeout + 30)
        let brokerCPU = broker?.cpuSeconds().flatMap { now in brokerBefore.map { now - $0 } }
        guard result.status == 0 else {
            return .failed("exited with status \(result.status)\(result.isTimedOut ? " (killed after \(Int(timeout + 30)) s)" : ""); see \(result.log)")
        }
        guard let line = result.output.split(separator: "\n").last,
              var figures = try? JSONDecoder().decode(PeerFigures.self, from: Data(line.utf8)) else {
            return .failed("printed no figures; see \(result.log)")
        }
        figures.sampledCPUMillisecondsPerLead = result.descendantCPUSeconds * 1000 / Double(max(1, figures.leads))
        figures.brokerCPUMillisecondsPerLead = brokerCPU.map { $0 * 1000 / Double(max(1, figures.leads)) }
        log(String(format: "%@: %.1f leads/s, p50 %.3f s / p99 %.3f s, %.2f ms CPU per lead (sampled %.2f)", peer.name,
                   figures.leadsPerSecond, figures.p50, figures.p99, figures.cpuMillisecondsPerLead,
                   figures.sampledCPUMillisecondsPerLead ?? .nan))
        return .measured(figures)
    }

    struct Finished {
        var status: Int32
        var isTimedOut: Bool
        var output: String
        var log: String
        /// CPU seconds of the processes the peer started, as last read from /proc.
        var descendantCPUSeconds: Double = 0
    }

    /// Runs `python arguments`; stdout is returned, stderr goes to a log file. After `timeout`
    /// seconds the process and every process it started (the peers fork one per stage) are killed.
    /// The CPU time of those processes is read every 100 ms (each one's last reading counts, so
    /// up to its last 100 ms can be missed); the parent's own, which publishes the leads, is not.
    private func run(_ arguments: [String], name: String, timeout: Double) async -> Finished {
        let stamp = UUID().uuidString.prefix(6).lowercased()
        let output = logDirectory.appendingPathComponent("\(name)-\(stamp).out")
        let errors = logDirectory.appendingPathComponent("\(name)-\(stamp).log")
        let process = Process()
        do {
            try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python] + arguments
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
        } catch {
            return Finished(status: -1, isTimedOut: false, output: "", log: "\(error)")
        }
        var deadline = Date().addingTimeInterval(timeout)
        var isTimedOut = false
        var isPrinted = false
        var descendants: [Int32] = []
        /// Each process seen below the peer, with its start time (so that a reused pid is not killed).
        var seen: [Int32: Substring] = [:]
        var lastScan = Date.distantPast
        var cpu: [Int32: Double] = [:]
        while process.isRunning {
            // The peers start their processes once, so a scan of /proc a second is enough.
            if Date().timeIntervalSince(lastScan) >= 1 {
                descendants = Self.descendants(of: process.processIdentifier)
                for pid in descendants where seen[pid] == nil { seen[pid] = Self.startTime(of: pid) }
                lastScan = Date()
                // A peer prints its line last; one seen hanging at exit afterwards gets 15 s more.
                if !isPrinted, let attributes = try? FileManager.default.attributesOfItem(atPath: output.path),
                   (attributes[.size] as? Int ?? 0) > 0 {
                    isPrinted = true
                    deadline = min(deadline, Date().addingTimeInterval(15))
                }
            }
            for pid in descendants {
                if let seconds = PipelineRun.cpuSeconds(pid: pid) { cpu[pid] = seconds }
            }
            if Date() > deadline {
                isTimedOut = !isPrinted
                if isPrinted { log("\(name) printed its figures but did not exit; killing it") }
                for pid in descendants + [process.processIdentifier] { kill(pid, SIGKILL) }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        // Processes the peer left behind (it kills its stages itself) would load the next runs.
        for (pid, started) in seen where Self.startTime(of: pid) == started { kill(pid, SIGKILL) }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return Finished(status: isPrinted ? 0 : process.terminationStatus, isTimedOut: isTimedOut, output: text, log: errors.path,
                        descendantCPUSeconds: cpu.values.reduce(0, +))
    }

    /// Every process below `pid`, children before their own children, from /proc.
    static func descendants(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var children: [Int32: [Int32]] = [:]
        for entry in entries {
            // Field 4 of /proc/PID/stat is the parent.
            guard let child = Int32(entry), let fields = statFields(of: child), fields.count > 1 else { continue }
            if let parent = Int32(fields[1]) { children[parent, default: []].append(child) }
        }
        var found: [Int32] = []
        var next = children[pid] ?? []
        while let child = next.first {
            next.removeFirst()
            found.append(child)
            next += children[child] ?? []
        }
        return found
    }

    /// Field 22 of /proc/PID/stat: when the process started, in clock ticks after boot; nil
    /// when it has gone (a zombie counts as gone).
    static func startTime(of pid: Int32) -> Substring? {
        guard let fields = statFields(of: pid), fields.count > 19, fields[0] != "Z" else { return nil }
        return fields[19]
    }

    /// The fields of /proc/PID/stat from the third on (state, parent, ...): the command name in
    /// field 2 is parenthesised and may hold spaces, so they are counted from its closing one.
    static func statFields(of pid: Int32) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
}

/// The JSON line a peer prints.
struct PeerFigures: Decodable {
    let leads: Int
    let wallSeconds: Double
    /// CPU of the peer's processes (its stages and coordinator, not its parent nor the broker),
    /// start-up and its 8 s settling included, ÷ its leads.
    let cpuMillisecondsPerLead: Double
    /// The same processes' CPU as the benchmark read it from /proc while the peer ran, ÷ its
    /// leads: a check on the peer's own figure, which counts only the processes it reaped.
    var sampledCPUMillisecondsPerLead: Double?
    /// The broker's CPU over the whole peer run (its settling and topic deletion included) ÷
    /// its leads; nil when the broker is not on this machine.
    var brokerCPUMillisecondsPerLead: Double?
    let leadsPerSecond: Double
    let p50: Double
    let p99: Double

    enum CodingKeys: String, CodingKey {
        case leads
        case wallSeconds = "wall_s"
        case cpuMillisecondsPerLead = "cpu_ms_per_lead"
        case leadsPerSecond = "leads_per_s"
        case p50 = "p50_s"
        case p99 = "p99_s"
    }
}

/// What became of one peer run.
enum PeerOutcome {
    case measured(PeerFigures)
    case failed(String)
    case skipped(String)

    var figures: PeerFigures? {
        if case .measured(let figures) = self { figures } else { nil }
    }

    /// Why there are no figures.
    var reason: String {
        switch self {
        case .measured: ""
        case .failed(let why): "failed: \(why)"
        case .skipped(let why): "not run: \(why)"
        }
    }
}
