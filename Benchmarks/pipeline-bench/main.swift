// pipeline-bench: the pipeline's throughput, latency and memory against the Kafka ceiling, every
// figure from the release executables on one broker in one run.
//
//   swift build -c release --static-swift-stdlib --scratch-path .build/static
//       (the services and this benchmark, the services as Deploy/Dockerfile builds them)
//   .build/static/release/pipeline-bench [--scenario a|b|c|d|e|f|g|h|i|j|k|all] [--bootstrap HOST:PORT] [--leads N]
//       [--partition-leads N] [--sequential-leads N] [--rounds N] [--backlog N] [--memory-backlogs N,N]
//       [--window SECONDS] [--ceiling-records N] [--timeout SECONDS] [--bin-dir DIR] [--report FILE]
//       [--slow-leads N] [--naive-leads N] [--slow-naive-leads N] [--slow-in-flight N] [--peers-dir DIR]
//       [--peer-python PATH] [--heat-leads N] [--scoring-leads N] [--idle-seconds N]
//
// Run it from the project root: --bin-dir, --peers-dir and the peers' venv are relative to it.
// The services are the executables beside this one unless --bin-dir names others.
// --report FILE rewrites the summary rows and sections of the scenarios run and keeps the others.
//
// Scenarios: a) produce → consume ceiling; b) zero-latency providers; c) slow providers, per key
// against per partition against sequential; d) an intent lead behind a backlog; e) peak memory
// with a backlog; f) one against two instances of the slowest stage; g) the message codec against
// Foundation's JSONEncoder and JSONDecoder, on one lead's messages (no broker); h) the project
// beside the Python peers of --peers-dir, instant and at 400/300/600 ms providers; i) one
// account's heat as it grows to --heat-leads leads (no broker); j) the scoring stage's rules work
// per lead, its contribution handed the scorer's evidence and signals or detecting them again (no
// broker); k) each service's CPU from its start to warmed up, then per second at rest.
import Foundation

struct Options {
    static let knownScenarios = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]
    var scenarios = Options.knownScenarios
    var bootstrap = ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP_SERVERS"] ?? "127.0.0.1:19092"
    var partitions = 12
    /// Leads of the timed runs of b, c (per key), f and h (instant); each has its own default when nil.
    var leads: Int?
    /// h: leads of the project and the concurrent peer at 400/300/600 ms providers.
    var slowLeads = 2_000
    /// h: leads of the naive peer with instant providers, and at 400/300/600 ms (0: not run).
    var naiveLeads = 500
    var slowNaiveLeads = 20
    /// h: the project's `STAGE_MAX_IN_FLIGHT` at 400/300/600 ms providers (the peers keep 256).
    var slowInFlight = 1024
    /// h: the folder of `naive_pipeline.py` and `concurrent_pipeline.py`.
    var peersDirectory = "../shared/peers"
    /// h: the Python that runs the peers; nil: `.venv-peers/bin/python` when present, else `python3`.
    var peerPython: String?
    var partitionLeads = 600
    var sequentialLeads = 12
    /// c): how many times the per-key and per-partition runs alternate.
    var rounds = 2
    var backlog = 20_000
    var memoryBacklogs = [10_000, 100_000]
    var window: Double = 60
    var ceilingRecords = 200_000
    /// i: the leads (contributions) one account's heat is fed.
    var heatLeads = 300_000
    /// j: the simulated leads scored per round.
    var scoringLeads = 2_000
    /// k: how long the services are measured at rest.
    var idleSeconds: Double = 30
    /// Longest wait for one scenario's leads.
    var timeout: Double = 300
    /// Where the services' executables are: by default the folder of this one, as it was invoked.
    var binDirectory = Options.invokedFolder
    var logDirectory = ".run/bench-logs"
    var report: String?

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--scenario":
                let known = Self.knownScenarios
                scenarios = value == "all" ? known : value.split(separator: ",").map(String.init)
                if let unknown = scenarios.first(where: { !known.contains($0) }) {
                    throw BenchError("unknown scenario '\(unknown)'; use \(known.joined(separator: ", ")) or all")
                }
            case "--bootstrap": bootstrap = value
            case "--partitions": partitions = try Self.number(flag, value)
            case "--leads": leads = try Self.number(flag, value)
            case "--partition-leads": partitionLeads = try Self.number(flag, value)
            case "--sequential-leads": sequentialLeads = try Self.number(flag, value)
            case "--rounds": rounds = max(1, try Self.number(flag, value))
            case "--backlog": backlog = try Self.number(flag, value)
            case "--memory-backlogs": memoryBacklogs = try value.split(separator: ",").map { try Self.number(flag, String($0)) }
            case "--window": window = Double(try Self.number(flag, value))
            case "--ceiling-records": ceilingRecords = try Self.number(flag, value)
            case "--heat-leads": heatLeads = try Self.number(flag, value)
            case "--scoring-leads": scoringLeads = try Self.number(flag, value)
            case "--idle-seconds": idleSeconds = Double(try Self.number(flag, value))
            case "--timeout": timeout = Double(try Self.number(flag, value))
            case "--bin-dir": binDirectory = value
            case "--report": report = value
            case "--slow-leads": slowLeads = try Self.number(flag, value)
            case "--naive-leads": naiveLeads = try Self.number(flag, value, allowsZero: true)
            case "--slow-naive-leads": slowNaiveLeads = try Self.number(flag, value, allowsZero: true)
            case "--slow-in-flight": slowInFlight = try Self.number(flag, value)
            case "--peers-dir": peersDirectory = value
            case "--peer-python": peerPython = value
            default: throw BenchError("unknown option \(flag)")
            }
        }
    }

    /// This executable as it was invoked (`.build/static/release/pipeline-bench`, say), for the
    /// report's commands.
    static let invokedPath: String = {
        let invoked = CommandLine.arguments.first ?? ""
        return invoked.contains("/") ? invoked : (Bundle.main.executablePath ?? invoked)
    }()

    /// The folder of ``invokedPath``.
    static var invokedFolder: String { (invokedPath as NSString).deletingLastPathComponent }

    static func number(_ flag: String, _ value: String, allowsZero: Bool = false) throws -> Int {
        guard let n = Int(value), n > 0 || (allowsZero && n == 0) else {
            throw BenchError("\(flag) takes a \(allowsZero ? "non-negative" : "positive") whole number, not '\(value)'")
        }
        return n
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func log(_ line: String) {
    let stamp = Date().formatted(.iso8601.time(includingFractionalSeconds: false))
    FileHandle.standardError.write(Data("pipeline-bench \(stamp): \(line)\n".utf8))
}

/// How the coordinator of `folder` has the Swift runtime: linked in, as `Deploy/Dockerfile`
/// builds the image (`--static-swift-stdlib`), or from shared libraries.
func swiftRuntimeLinking(in folder: String) -> String {
    let path = (folder as NSString).appendingPathComponent("coordinator")
    guard let binary = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return "not read" }
    return binary.range(of: Data("libswiftCore.so".utf8)) == nil
        ? "the Swift runtime linked in, `--static-swift-stdlib`, as Deploy/Dockerfile builds the image"
        : "the Swift runtime from shared libraries, not as Deploy/Dockerfile builds the image"
}

/// The 1-minute load average of the machine (runnable and running tasks, every process's).
func loadAverage() -> Double? {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
    return text.split(separator: " ").first.flatMap { Double($0) }
}

/// CPU, cores, memory and kernel of this machine, for the report's header.
func machineDescription() -> String {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
    let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
    let memory = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal") }?
        .split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }.map { "\($0 / 1024 / 1024) GB" } ?? "?"
    let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "?")
        .trimmingCharacters(in: .whitespacesAndNewlines)
    return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(memory) RAM, Linux \(kernel)"
}

func runBenchmark(_ options: Options) async throws {
    var scenarios = Scenarios(options: options)
    let started = Date()
    var ceiling: Double?
    var failures: [String] = []
    for scenario in options.scenarios {
        log("scenario \(scenario)")
        do {
            switch scenario {
            case "a": ceiling = try await scenarios.ceiling()
            case "b": try await scenarios.zeroLatency(ceiling: ceiling)
            case "c": try await scenarios.slowProviderComparison()
            case "d": try await scenarios.priorityBehindBacklog()
            case "e": try await scenarios.memoryWithBacklog()
            case "f": try await scenarios.scaleSlowestStage()
            case "g": try await scenarios.codecCost()
            case "h": try await scenarios.peersSideBySide()
            case "i": try scenarios.heatAtScale()
            case "j": try await scenarios.scoringCost()
            case "k": try await scenarios.atRest()
            default: break
            }
        } catch {
            // One failed scenario does not lose the others' figures.
            log("scenario \(scenario) failed: \(error)")
            failures.append("- scenario \(scenario) failed: \(error)")
            scenarios.report.add("\(scenario)) failed", "\(error)", latency: "")
        }
    }
    let minutes = Date().timeIntervalSince(started) / 60
    if let path = options.report, options.scenarios != Options.knownScenarios,
       let previous = try? String(contentsOfFile: path, encoding: .utf8) {
        scenarios.report.keep(from: previous, except: options.scenarios)
    }
    let kept = scenarios.report.keptScenarios
    let keptNote = kept.isEmpty ? "" : """


    The summary rows and sections of scenarios \(kept.joined(separator: ", ")) are kept from an earlier
    run written to this file; their commands and notes say how they were measured.
    """
    let header = """
    # Pipeline benchmark

    Machine: \(machineDescription()). Broker: Tansu (memory storage) at \(options.bootstrap).
    The services ran as the release executables of `\(options.binDirectory)` (\(swiftRuntimeLinking(in: options.binDirectory))),
    one process each, with `PIPELINE_PARTITIONS=\(options.partitions)`,
    `KAFKA_PROPERTY_SESSION_TIMEOUT_MS=6000`, `KAFKA_PROPERTY_HEARTBEAT_INTERVAL_MS=1000`,
    `LOG_LEVEL=warning`, simulated providers with failure and not-found rates 0, a namespace per
    scenario (topics deleted after it). Scenario\(options.scenarios.count == 1 ? "" : "s") \(options.scenarios.joined(separator: ", ")) took
    \(String(format: "%.1f", minutes)) minutes. Per-lead latency = the lead's `finishedAt` in the lead
    pool − the `discoveredAt` the benchmark stamped when it sent the lead.\(keptNote)
    \(failures.isEmpty ? "" : "\nFailures:\n" + failures.joined(separator: "\n") + "\n")
    """
    let markdown = scenarios.report.markdown(header: header)
    print(markdown)
    if let path = options.report {
        try markdown.write(toFile: path, atomically: true, encoding: .utf8)
        log("report written to \(path)")
    }
}

do {
    try await runBenchmark(try Options(Array(CommandLine.arguments.dropFirst())))
} catch {
    log("error: \(error)")
    exit(1)
}
