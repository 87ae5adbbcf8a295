import Foundation
import KafkaTestSupport
import Coordinator
import Runtime
import Streaming
import XCTest

/// Deploy/monitoring/: the alerting rules pass `promtool check rules` and their unit tests
/// (`alerts-test.yaml`), the Grafana dashboard parses, and every metric the dashboard or the
/// rules query is one the services export. No broker; promtool comes from `Deploy/setup.sh`.
final class MonitoringFilesTests: XCTestCase {
    static let root = TestBroker.projectRoot
    static let folder = root.appendingPathComponent("Deploy/monitoring")
    static let alerts = folder.appendingPathComponent("alerts.yaml")
    static let alertTests = folder.appendingPathComponent("alerts-test.yaml")
    static let dashboard = folder.appendingPathComponent("grafana-dashboard.json")

    /// Every series name the services export: each family of ``MetricNames`` (where every
    /// family is defined), and for a histogram its `_bucket`, `_sum` and `_count` series.
    static let exportedNames: Set<String> = Set(MetricNames.all.flatMap { family in
        family.kind == .histogram ? ["_bucket", "_sum", "_count"].map { family.name + $0 } : [family.name]
    })

    // MARK: promtool

    func testAlertRulesPassPromtoolCheck() throws {
        let (status, output) = try Self.promtool(["check", "rules", Self.alerts.path])
        XCTAssertEqual(status, 0, "promtool check rules failed:\n\(output)")
    }

    func testAlertRulesFireAsTheirUnitTestsSay() throws {
        let (status, output) = try Self.promtool(["test", "rules", Self.alertTests.path])
        XCTAssertEqual(status, 0, "promtool test rules failed:\n\(output)")
    }

    /// Runs `.tools/bin/promtool` with `arguments`; its exit status and its output and errors.
    static func promtool(_ arguments: [String]) throws -> (Int32, String) {
        let executable = root.appendingPathComponent(".tools/bin/promtool")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw HarnessError("\(executable.path) is missing: run `bash Deploy/setup.sh`")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    // MARK: the rules

    func testEveryRuleSaysHowLongHowBadAndWhatToDo() throws {
        let rules = try Self.alertRules()
        XCTAssertGreaterThanOrEqual(rules.count, 5)
        for rule in rules {
            let name = rule["alert"] as? String ?? "?"
            XCTAssertNotNil(rule["for"], "\(name) has no `for:`")
            let severity = (rule["labels"] as? [String: Any])?["severity"] as? String
            XCTAssertTrue(["critical", "warning", "info"].contains(severity ?? ""), "\(name): severity \(severity ?? "none")")
            let annotations = rule["annotations"] as? [String: Any] ?? [:]
            for key in ["summary", "description"] {
                XCTAssertFalse((annotations[key] as? String ?? "").isEmpty, "\(name) has no \(key)")
            }
        }
    }

    func testRulesQueryOnlyExportedMetrics() throws {
        for rule in try Self.alertRules() {
            let expression = try XCTUnwrap(rule["expr"] as? String)
            Self.assertExported(expression, where: "alert \(rule["alert"] ?? "?")")
        }
    }

    /// The alerting rules of every group of alerts.yaml (PyYAML, as ``DeployManifestTests`` reads YAML).
    static func alertRules() throws -> [[String: Any]] {
        let document = try XCTUnwrap(try DeployManifestTests.loadYAML(alerts).first as? [String: Any])
        let groups = try XCTUnwrap(document["groups"] as? [[String: Any]])
        return groups.flatMap { $0["rules"] as? [[String: Any]] ?? [] }.filter { $0["alert"] != nil }
    }

    // MARK: the dashboard

    func testDashboardPanelsQueryOnlyExportedMetricsThroughTheDatasourceVariable() throws {
        let dashboard = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.dashboard)) as? [String: Any])
        let variables = try XCTUnwrap((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]])
        XCTAssertTrue(variables.contains { $0["name"] as? String == "datasource" && $0["type"] as? String == "datasource" },
                      "a `datasource` variable")
        for variable in variables where variable["type"] as? String == "query" {
            let query = ((variable["query"] as? [String: Any])?["query"] as? String) ?? (variable["query"] as? String) ?? ""
            let metric = DeployManifestTests.matches(of: #"label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)"#, in: query)
            XCTAssertEqual(metric.count, 1, "variable \(variable["name"] ?? "?"): \(query)")
            metric.forEach { XCTAssertTrue(Self.exportedNames.contains($0), "variable \(variable["name"] ?? "?") reads \($0), which no service exports") }
        }

        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]]).filter { $0["type"] as? String != "row" }
        XCTAssertGreaterThanOrEqual(panels.count, 8)
        let ids = panels.compactMap { $0["id"] as? Int }
        XCTAssertEqual(Set(ids).count, panels.count, "every panel has its own id")
        for panel in panels {
            let title = panel["title"] as? String ?? "?"
            let targets = try XCTUnwrap(panel["targets"] as? [[String: Any]], title)
            XCTAssertFalse(targets.isEmpty, "\(title) has no query")
            for target in targets {
                XCTAssertEqual((target["datasource"] as? [String: Any])?["uid"] as? String, "${datasource}", title)
                Self.assertExported(try XCTUnwrap(target["expr"] as? String, title), where: "panel \(title)")
            }
        }
    }

    /// The dead-letter alerts read `increase()`, which misses the first event of a series that
    /// appears at 1: the counters they read exist at zero before anything happens.
    func testCountersTheAlertsReadStartAtZero() throws {
        let environment = try PipelineEnvironment(service: "coordinator", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9", "PIPELINE_NAMESPACE": "ns1",
        ])
        let coordinatorMetrics = MetricsRegistry()
        _ = Coordinator(environment: environment, settings: CoordinatorSettings(), metrics: coordinatorMetrics)
        XCTAssertEqual(coordinatorMetrics.value(MetricNames.deadLetters, ["reason": "malformed"]), 0)
        XCTAssertEqual(coordinatorMetrics.value(MetricNames.coordinatorPhaseOutcomes, ["phase": "profile", "outcome": "failed"]), 0)
        XCTAssertEqual(coordinatorMetrics.value(MetricNames.coordinatorRecordsConsumed, ["topic": "ns1.leads.discovered"]), 0)

        let stageMetrics = MetricsRegistry()
        _ = StageRunnerMetrics(registry: stageMetrics, stage: "profile", zeroOutputTopics: [environment.topics.deadLetters])
        XCTAssertEqual(stageMetrics.value(MetricNames.stageRecordsProduced, ["stage": "profile", "topic": "ns1.dead.letters"]), 0)
        XCTAssertEqual(stageMetrics.value(MetricNames.stageRecordsGivenUp, ["stage": "profile"]), 0)
    }

    // MARK: PromQL

    /// Asserts that `expression` selects at least one metric and only exported ones.
    static func assertExported(_ expression: String, where place: String, file: StaticString = #filePath, line: UInt = #line) {
        let names = metricNames(in: expression)
        XCTAssertFalse(names.isEmpty, "\(place): no metric found in \(expression)", file: file, line: line)
        for name in names.sorted() where !exportedNames.contains(name) {
            XCTFail("\(place) queries \(name), which no service exports", file: file, line: line)
        }
    }

    /// The metric names a PromQL expression selects: what is left of its identifiers once
    /// strings, label matchers, ranges, grouping clauses, function calls and keywords are out.
    static func metricNames(in expression: String) -> Set<String> {
        var text = expression
        for pattern in [#""(?:[^"\\]|\\.)*""#, #"\{[^}]*\}"#, #"\[[^\]]*\]"#,
                        #"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#] {
            text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        let keywords: Set = ["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
                             "group_left", "group_right", "inf", "nan"]
        let identifiers = DeployManifestTests.matches(of: #"(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()"#, in: text)
        return Set(identifiers.filter { !keywords.contains($0.lowercased()) })
    }

    func testTheMetricNameReaderFindsSelectorsAndSkipsTheRest() {
        let expression = #"histogram_quantile(0.95, sum by (phase, le) (rate(a_bucket{phase=~"$phase", topic="x{y}"}[5m])))"#
            + #" / on (phase) group_left b unless absent(c{service="d"}) > 0.2 and deriv(sum(e)[10m:1m]) > 0"#
        XCTAssertEqual(Self.metricNames(in: expression), ["a_bucket", "b", "c", "e"])
    }
}
