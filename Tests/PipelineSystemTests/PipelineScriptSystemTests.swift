import Foundation
import KafkaTestSupport
import XCTest

/// `Deploy/pipeline.sh` as an operator runs it: `start` brings up all seven services, each on a
/// metrics port of its own, and returns once every one is ready; their expositions parse with
/// Prometheus' own parser (`promtool check metrics`); `stop` ends every process.
final class PipelineScriptSystemTests: XCTestCase {
    static let services = ["coordinator", "profile-stage", "activity-stage", "scoring-stage", "finalize-stage",
                           "profile-finder", "web-enricher"]
    static let bash = URL(fileURLWithPath: "/bin/bash")
    static let script = TestBroker.projectRoot.appendingPathComponent("Deploy/pipeline.sh").path
    static let promtool = TestBroker.projectRoot.appendingPathComponent(".tools/bin/promtool")

    func testStartServesEveryServicesMetricsOnItsOwnPortAndStopEndsEveryProcess() async throws {
        // Deploy/setup.sh installs promtool and CI runs it first: missing is a broken setup, not a skip.
        guard FileManager.default.isExecutableFile(atPath: Self.promtool.path) else {
            XCTFail("\(Self.promtool.path) is missing; run Deploy/setup.sh")
            return
        }
        try await withPipeline(environment: PipelineHarness.reliableProviders) { harness in
            let folder = TestBroker.projectRoot.appendingPathComponent(".run/test-logs/\(harness.namespace)/pipeline-sh")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var environment = ProcessInfo.processInfo.environment.merging(harness.baseEnvironment) { _, new in new }
            environment.removeValue(forKey: "METRICS_PORT")
            environment["PIPELINE_RUN_DIR"] = folder.path
            environment["METRICS_BASE_PORT"] = String(20_000 + 100 * Int.random(in: 0..<100))  // below the ephemeral range
            environment["PIPELINE_START_TIMEOUT_SECONDS"] = "120"
            let pipeline = ScriptRunner(folder: folder, environment: environment)

            let start = try await pipeline.run(Self.bash, [Self.script, "start", PipelineHarness.binDirectory.path], name: "start")
            // A start that fails has stopped what it started, and says why.
            guard start.status == 0 else { return XCTFail("pipeline.sh start failed:\n\(start.output)") }
            var pids: [String: pid_t] = [:]
            do {
                XCTAssertTrue(start.output.contains("started 7 processes, all ready"), start.output)
                for name in Self.services.map({ "\($0)-1" }) {
                    pids[name] = try XCTUnwrap(pid_t(Self.read(folder.appendingPathComponent("pids/\(name).pid"))), name)
                }
                try await checkMetrics(of: harness, folder: folder, pipeline: pipeline)
            } catch {
                _ = try? await pipeline.run(Self.bash, [Self.script, "stop"], name: "stop")
                throw error
            }

            let stop = try await pipeline.run(Self.bash, [Self.script, "stop"], name: "stop")
            XCTAssertEqual(stop.status, 0, stop.output)
            for (name, pid) in pids.sorted(by: { $0.key < $1.key }) {
                XCTAssertFalse(Self.isRunning(pid), "\(name) (pid \(pid)) still runs after stop")
            }
            let left = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("pids").path)
            XCTAssertEqual(left, [], "stop removes the pid and port files")
        }
    }

    /// Publishes a few leads, waits for them in the pool, then scrapes each service's `/metrics`
    /// (the port from its `.port` file) and parses it with promtool.
    private func checkMetrics(of harness: PipelineHarness, folder: URL, pipeline: ScriptRunner) async throws {
        var ports: [String: Int] = [:]
        for service in Self.services {
            ports[service] = try XCTUnwrap(Int(Self.read(folder.appendingPathComponent("pids/\(service)-1.port"))), service)
        }
        XCTAssertEqual(Set(ports.values).count, Self.services.count, "one metrics port per process: \(ports)")

        try await harness.publish(leads: harness.makeLeads(4))
        _ = try await harness.waitForPool(4)

        for service in Self.services {
            let (status, body) = try await httpGet("http://127.0.0.1:\(ports[service]!)/metrics")
            XCTAssertEqual(status, 200, service)
            XCTAssertTrue(body.contains("# TYPE "), "\(service) serves metrics: \(body.prefix(200))")
            let exposition = folder.appendingPathComponent("\(service).metrics")
            try Data(body.utf8).write(to: exposition)
            let check = try await pipeline.run(Self.promtool, ["check", "metrics"], name: "promtool-\(service)", input: exposition)
            // promtool exits 1 when the text does not parse and 3 for lint findings (naming, help).
            switch check.status {
            case 0: break
            case 3: XCTFail("\(service)'s metrics parse but promtool finds lint problems:\n\(check.output)")
            default: XCTFail("\(service)'s metrics do not parse (promtool status \(check.status)):\n\(check.output)")
            }
        }
    }

    static func read(_ file: URL) throws -> String {
        try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether the process exists and is not a zombie waiting for its parent.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? false)
    }
}

/// Runs a command with its output in a file of `folder` (the services `pipeline.sh start`
/// leaves running inherit its descriptors, so a pipe would not reach its end).
struct ScriptRunner {
    let folder: URL
    let environment: [String: String]

    func run(_ executable: URL, _ arguments: [String], name: String, input: URL? = nil) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        let log = folder.appendingPathComponent("\(name).out")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = try input.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        let exited = AsyncStream<Int32> { continuation in
            process.terminationHandler = { continuation.yield($0.terminationStatus); continuation.finish() }
        }
        try process.run()
        var status: Int32 = -1
        for await code in exited { status = code }
        return (status, try String(contentsOf: log, encoding: .utf8))
    }
}
