import Foundation
import Kafka
import KafkaTestSupport
import Runtime
import Streaming
import XCTest

/// What a process says at start-up: one line with its effective configuration and no secret in
/// it, or, for a bad setting, one error line naming the variable and a non-zero exit. No broker.
final class StartupConfigurationTests: XCTestCase {
    /// A secret value per librdkafka key that may hold one.
    static let secrets = [
        "KAFKA_PROPERTY_SASL_PASSWORD": "hunter2-sasl-password",
        "KAFKA_PROPERTY_SSL_KEY_PASSWORD": "hunter2-key-password",
        "KAFKA_PROPERTY_SASL_OAUTHBEARER_CONFIG": "principal=svc scope=all secret=hunter2-oauth",
        "KAFKA_PROPERTY_SSL_KEY_PEM": "-----BEGIN PRIVATE KEY-----hunter2-pem-----END PRIVATE KEY-----",
    ]

    func testConfigurationLineHoldsNoSecretValue() throws {
        var environment = try PipelineEnvironment(service: "svc", environment: Self.secrets.merging([
            "KAFKA_BOOTSTRAP_SERVERS": "broker-1:9093", "KAFKA_PROPERTY_SECURITY_PROTOCOL": "sasl_ssl",
            "KAFKA_PROPERTY_SASL_MECHANISMS": "PLAIN", "KAFKA_PROPERTY_SASL_USERNAME": "svc-user",
            "PIPELINE_NAMESPACE": "prod", "LOG_LEVEL": "info",
        ]) { _, new in new })
        let lines = LineCapture()
        environment.logger = Logger(service: "svc", sink: { lines.append($0) })
        environment.logConfiguration(["settings": "example"])

        XCTAssertEqual(lines.all.count, 1, "one line")
        let line = try XCTUnwrap(lines.all.first)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let object = parsed.compactMapValues { $0 as? String }
        XCTAssertEqual(parsed["partitions"] as? Int, environment.partitions, "numbers are JSON numbers")
        XCTAssertEqual(object["version"], BuildInfo.version)
        XCTAssertEqual(object["message"], "configuration")
        for secret in Self.secrets.values {
            XCTAssertFalse(line.contains(secret), "\(secret) in \(line)")
        }
        XCTAssertFalse(line.contains("hunter2"), line)
        let properties = try XCTUnwrap(object["kafka.properties"])
        for key in ["sasl.password", "ssl.key.password", "sasl.oauthbearer.config", "ssl.key.pem"] {
            XCTAssertTrue(properties.contains("\(key)=[redacted]"), "\(key) in \(properties)")
        }
        // What is no secret stays readable.
        XCTAssertTrue(properties.contains("security.protocol=sasl_ssl"), properties)
        XCTAssertTrue(properties.contains("sasl.username=svc-user"), properties)
        XCTAssertEqual(object["kafka.bootstrapServers"], "broker-1:9093")
        XCTAssertEqual(object["namespace"], "prod")
        XCTAssertEqual(object["logLevel"], "info")
        XCTAssertEqual(object["shutdownTimeout"], "10.0 seconds")
        XCTAssertEqual(object["settings"], "example")
    }

    /// Each service, started with a bad value, exits with status 1 after one error line naming
    /// the variable, before it connects to anything.
    func testBadSettingStopsEveryServiceWithOneLineNamingTheVariable() throws {
        let services = ["coordinator", "profile-stage", "activity-stage", "scoring-stage", "finalize-stage", "profile-finder", "web-enricher"]
        let cases = [("LOG_LEVEL", "verbose"), ("SHUTDOWN_TIMEOUT_SECONDS", "-3"), ("HEAP_TRIM_INTERVAL_SECONDS", "soon"),
                     ("METRICS_PORT", "http")]
        for service in services {
            let executable = PipelineHarness.binDirectory.appendingPathComponent(service)
            guard FileManager.default.isExecutableFile(atPath: executable.path) else {
                throw XCTSkip("\(service) is not built in \(PipelineHarness.binDirectory.path)")
            }
            for (variable, value) in cases {
                let process = Process()
                process.executableURL = executable
                process.environment = ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", variable: value]
                let errors = Pipe()
                process.standardError = errors
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                let context = "\(service) with \(variable)=\(value): \(output)"
                XCTAssertEqual(process.terminationStatus, 1, context)
                let lines = output.split(separator: "\n")
                XCTAssertEqual(lines.count, 1, context)
                let object = (try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])?
                    .compactMapValues { $0 as? String }
                XCTAssertEqual(object?["level"], "error", context)
                XCTAssertEqual(object?["variable"], variable, context)
                XCTAssertEqual(object?["service"], service, context)
            }
        }
    }
}

/// The command line of every service: `--version` and `--help` answer and exit 0 without
/// connecting to anything; any other argument is refused with status 2 before the service starts.
final class ServiceCommandLineTests: XCTestCase {
    static let services = ["coordinator", "profile-stage", "activity-stage", "scoring-stage", "finalize-stage", "profile-finder", "web-enricher"]

    func testAnswers() {
        XCTAssertEqual(ServiceCommandLine.answer([], service: "coordinator", summary: "s"), .run)
        XCTAssertEqual(ServiceCommandLine.answer(["--version"], service: "coordinator", summary: "s"), .print("coordinator \(BuildInfo.version)\n"))
        guard case .print(let help) = ServiceCommandLine.answer(["--help"], service: "coordinator", summary: "tracks leads.") else {
            return XCTFail("--help prints")
        }
        XCTAssertTrue(help.hasPrefix("coordinator \(BuildInfo.version): tracks leads."), help)
        XCTAssertTrue(help.contains("Services/coordinator/README.md"), help)
        for arguments in [["--verison"], ["start"], ["--help", "--version"]] {
            guard case .refuse(let text) = ServiceCommandLine.answer(arguments, service: "coordinator", summary: "s") else {
                return XCTFail("\(arguments) is refused")
            }
            XCTAssertTrue(text.contains("unexpected argument"), text)
        }
    }

    func testEveryServiceAnswersVersionAndHelpAndRefusesOtherArguments() throws {
        for service in Self.services {
            let executable = PipelineHarness.binDirectory.appendingPathComponent(service)
            guard FileManager.default.isExecutableFile(atPath: executable.path) else {
                throw XCTSkip("\(service) is not built in \(PipelineHarness.binDirectory.path)")
            }
            for (arguments, status, expected) in [(["--version"], Int32(0), "\(service) \(BuildInfo.version)"),
                                                  (["--help"], 0, "usage: \(service) [--help | --version]"),
                                                  (["--bogus"], 2, "unexpected argument '--bogus'")] {
                // An unreachable broker: a service that started anyway would not exit by itself.
                let outcome = try runToEnd(executable, arguments, environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"])
                XCTAssertEqual(outcome.status, status, "\(service) \(arguments): \(outcome.output)")
                XCTAssertTrue(outcome.output.contains(expected), "\(service) \(arguments): \(outcome.output)")
            }
        }
    }
}

/// librdkafka's own lines (its log and its error events) read like the services' lines.
final class KafkaLogLineTests: XCTestCase {
    func testLibrdkafkaLinesCarryTimeLevelAndService() async throws {
        let executable = PipelineHarness.binDirectory.appendingPathComponent("finalize-stage")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw XCTSkip("finalize-stage is not built in \(PipelineHarness.binDirectory.path)")
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-lines-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = executable
        // Nothing listens on port 1: librdkafka logs the failed connection and reports the error.
        process.environment = ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"]
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var text = ""
        try await waitUntil("librdkafka's log line and error event", timeoutSeconds: 20, pollMilliseconds: 100) {
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return text.contains("\"facility\":") && text.contains("\"error\":\"_TRANSPORT\"")
        }
        for line in text.split(separator: "\n") {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            XCTAssertEqual(object["service"] as? String, "finalize-stage", String(line))
            XCTAssertNotNil(object["level"] as? String, String(line))
            let time = object["time"] as? String ?? ""
            XCTAssertNotNil(time.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/), String(line))
        }
    }
}

/// Lines a test logger wrote.
final class LineCapture: @unchecked Sendable {  // guarded by its lock
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
