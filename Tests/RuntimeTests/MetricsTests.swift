import Foundation
import Runtime
import Streaming
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The metrics registry's text format, the endpoint's routing and its settings: no broker.
final class MetricsTests: XCTestCase {
    static let requests = MetricDescriptor(name: "test_requests_total", help: "Requests.", kind: .counter, labelNames: ["path", "code"])
    static let depth = MetricDescriptor(name: "test_queue_depth", help: "Queue depth\nin records \\ items.", kind: .gauge)
    static let latency = MetricDescriptor(name: "test_latency_seconds", help: "Latency.", kind: .histogram,
                                          labelNames: ["op"], buckets: [0.1, 0.5, 1])

    func testRendersCountersAndGaugesInTheTextFormat() {
        let registry = MetricsRegistry()
        registry.counter(Self.requests, ["path": "/b", "code": "200"]).increment()
        registry.counter(Self.requests, ["path": "/a", "code": "500"]).increment(by: 2)
        registry.counter(Self.requests, ["path": "/a", "code": "500"]).increment()
        registry.gauge(Self.depth).set(12.5)
        XCTAssertEqual(registry.render(), """
            # HELP test_queue_depth Queue depth\\nin records \\\\ items.
            # TYPE test_queue_depth gauge
            test_queue_depth 12.5
            # HELP test_requests_total Requests.
            # TYPE test_requests_total counter
            test_requests_total{path="/a",code="500"} 3
            test_requests_total{path="/b",code="200"} 1

            """)
        XCTAssertEqual(registry.value(Self.requests, ["path": "/a", "code": "500"]), 3)
    }

    func testHistogramBucketsAreCumulativeWithSumAndCount() {
        let registry = MetricsRegistry()
        let histogram = registry.histogram(Self.latency, ["op": "get"])
        for value in [0.0625, 0.125, 0.25, 0.75, 2.0] { histogram.observe(value) }  // exact in binary
        histogram.observe(.milliseconds(250))
        XCTAssertEqual(registry.render(), """
            # HELP test_latency_seconds Latency.
            # TYPE test_latency_seconds histogram
            test_latency_seconds_bucket{op="get",le="0.1"} 1
            test_latency_seconds_bucket{op="get",le="0.5"} 4
            test_latency_seconds_bucket{op="get",le="1"} 5
            test_latency_seconds_bucket{op="get",le="+Inf"} 6
            test_latency_seconds_sum{op="get"} 3.4375
            test_latency_seconds_count{op="get"} 6

            """)
    }

    func testLabelValuesAreEscapedAndSeriesCanBeRemoved() {
        let registry = MetricsRegistry()
        registry.counter(Self.requests, ["path": "a\"b\\c\nd", "code": "1"]).increment()
        XCTAssertTrue(registry.render().contains(#"test_requests_total{path="a\"b\\c\nd",code="1"} 1"#), registry.render())
        registry.remove(Self.requests, labels: ["path": "a\"b\\c\nd", "code": "1"])
        XCTAssertFalse(registry.render().contains("test_requests_total{"))
        XCTAssertEqual(registry.labelSets(of: Self.requests), [])
    }

    func testEveryProjectMetricHasALegalUniqueNameAndCountersEndInTotal() {
        let names = MetricNames.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "a metric name is defined twice")
        for descriptor in MetricNames.all {
            XCTAssertTrue(descriptor.name.hasPrefix("pipeline_") || descriptor.name.hasPrefix("process_"), descriptor.name)
            XCTAssertEqual(descriptor.kind == .counter, descriptor.name.hasSuffix("_total"), descriptor.name)
            XCTAssertFalse(descriptor.help.isEmpty)
        }
    }

    func testTheOutputParsesAsPrometheusText() throws {
        let registry = MetricsRegistry()
        let runner = StageRunnerMetricsProbe(registry: registry)
        runner.fill()
        let samples = try PrometheusTextParser.parse(registry.render())
        XCTAssertEqual(samples["pipeline_stage_in_flight{stage=\"profile\"}"], 0)
        XCTAssertEqual(samples["pipeline_service_ready{service=\"test\"}"], 1)
    }

    func testAScrapeCarriesTheProcessFiguresAndTheBuild() throws {
        let registry = MetricsRegistry()
        let response = MetricsEndpoint.respond(to: HTTPRequest(method: "GET", path: "/metrics"), service: "svc", registry: registry,
                                               health: HealthStatus())
        let samples = try PrometheusTextParser.parse(String(decoding: response.body, as: UTF8.self))
        XCTAssertEqual(samples["pipeline_build_info{service=\"svc\",version=\"\(BuildInfo.version)\"}"], 1)
        let resident = try XCTUnwrap(samples["process_resident_memory_bytes"])
        XCTAssertGreaterThan(resident, 1_000_000, "a Swift test process holds more than a megabyte")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(samples["process_virtual_memory_bytes"]), resident)
        XCTAssertGreaterThan(try XCTUnwrap(samples["process_cpu_seconds_total"]), 0)
        let open = try XCTUnwrap(samples["process_open_fds"])
        XCTAssertGreaterThanOrEqual(open, 3, "stdin, stdout, stderr")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(samples["process_max_fds"]), open)
        // Started before now, and not before the machine booted (well within a year).
        let started = try XCTUnwrap(samples["process_start_time_seconds"])
        XCTAssertLessThanOrEqual(started, Date().timeIntervalSince1970 + 1)
        XCTAssertGreaterThan(started, Date().timeIntervalSince1970 - 365 * 86_400)
    }

    // MARK: endpoint

    func testEndpointRoutesMetricsHealthAndReadiness() {
        let registry = MetricsRegistry()
        let health = HealthStatus()
        func get(_ path: String, method: String = "GET") -> HTTPResponse {
            MetricsEndpoint.respond(to: HTTPRequest(method: method, path: path), service: "svc", registry: registry, health: health)
        }
        XCTAssertEqual(get("/healthz").status, 200)
        XCTAssertEqual(get("/readyz").status, 503)
        XCTAssertEqual(String(decoding: get("/readyz").body, as: UTF8.self), "not ready: starting\n")
        health.markReady()
        XCTAssertEqual(get("/readyz").status, 200)
        let metrics = get("/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertEqual(metrics.headers.first { $0.name == "Content-Type" }?.value, MetricsRegistry.contentType)
        XCTAssertTrue(String(decoding: metrics.body, as: UTF8.self).contains("pipeline_service_ready{service=\"svc\"} 1"))
        health.markNotReady("draining")
        XCTAssertEqual(get("/readyz").status, 503)
        health.markFailed("consumer fatal error")
        XCTAssertEqual(get("/healthz").status, 503)
        XCTAssertEqual(get("/nope").status, 404)
        XCTAssertEqual(get("/metrics", method: "POST").status, 405)
    }

    func testAnUnreachableBrokerMakesAReadyServiceNotReadyUntilItAnswers() {
        let health = HealthStatus()
        health.setBrokerProblem("listTopics: _TRANSPORT")
        XCTAssertEqual(health.notReadyReason, "starting", "a starting service says so first")
        health.markReady()
        XCTAssertEqual(health.notReadyReason, "broker unreachable: listTopics: _TRANSPORT")
        health.setBrokerProblem(nil)
        XCTAssertNil(health.notReadyReason)
        health.markNotReady("draining")
        XCTAssertEqual(health.notReadyReason, "draining", "an answering broker does not make a draining service ready")
        XCTAssertNil(health.failure, "an outage is not a failure: the process stays up")
    }

    func testSettingsFromTheEnvironment() throws {
        XCTAssertNil(try MetricsSettings(environment: [:]).port)
        XCTAssertNil(try MetricsSettings(environment: ["METRICS_PORT": ""]).port)
        let settings = try MetricsSettings(environment: ["METRICS_PORT": "9090", "METRICS_BIND_ADDRESS": "127.0.0.1"])
        XCTAssertEqual(settings, MetricsSettings(port: 9090, bindAddress: "127.0.0.1"))
        XCTAssertThrowsError(try MetricsSettings(environment: ["METRICS_PORT": "70000"])) { error in
            XCTAssertEqual((error as? MetricsSettingsError)?.variable, "METRICS_PORT")
        }
        XCTAssertThrowsError(try MetricsSettings(environment: ["METRICS_BIND_ADDRESS": "localhost"])) { error in
            XCTAssertEqual((error as? MetricsSettingsError)?.variable, "METRICS_BIND_ADDRESS")
        }
    }

    func testEndpointServesOverHTTP() async throws {
        let registry = MetricsRegistry()
        registry.counter(Self.requests, ["path": "/x", "code": "200"]).increment()
        let health = HealthStatus()
        health.markReady()
        let endpoint = try XCTUnwrap(try MetricsEndpoint.start(MetricsSettings(port: 0), service: "svc", registry: registry, health: health))
        defer { endpoint.stop() }
        let url = try XCTUnwrap(URL(string: "http://127.0.0.1:\(endpoint.port)/metrics"))
        let (data, response) = try await URLSession.shared.data(from: url)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        let samples = try PrometheusTextParser.parse(String(decoding: data, as: UTF8.self))
        XCTAssertEqual(samples["test_requests_total{path=\"/x\",code=\"200\"}"], 1)
        let (_, ready) = try await URLSession.shared.data(from: try XCTUnwrap(URL(string: "http://127.0.0.1:\(endpoint.port)/readyz")))
        XCTAssertEqual((ready as? HTTPURLResponse)?.statusCode, 200)
    }
}

/// Fills the project's stage families the way a running stage would.
private struct StageRunnerMetricsProbe {
    let registry: MetricsRegistry
    func fill() {
        _ = StageRunnerMetrics(registry: registry, stage: "profile")
        registry.gauge(MetricNames.serviceReady, ["service": "test"]).set(1)
        registry.histogram(MetricNames.stageProcessingSeconds, ["stage": "profile", "topic": "t"]).observe(0.2)
        registry.gauge(MetricNames.stagePartitionLag, ["stage": "profile", "topic": "t", "partition": "0"]).set(4)
    }
}

/// A strict reader of the Prometheus text format (0.0.4) for tests: every line is a comment
/// (`# HELP`/`# TYPE` of a family declared once, before its samples) or `name{labels} value`.
enum PrometheusTextParser {
    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    /// Samples keyed by `name{labels}` exactly as written.
    static func parse(_ text: String) throws -> [String: Double] {
        var samples: [String: Double] = [:]
        var typed: [String: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count >= 3, parts[1] == "HELP" || parts[1] == "TYPE" else { continue }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])),
                          typed[String(parts[2])] == nil else {
                        throw ParseError(description: "line \(number + 1): bad or repeated TYPE: \(line)")
                    }
                    typed[String(parts[2])] = String(parts[3])
                }
                continue
            }
            guard let space = line.lastIndex(of: " ") else { throw ParseError(description: "line \(number + 1): no value: \(line)") }
            let series = String(line[..<space])
            let valueText = line[line.index(after: space)...]
            guard let value = valueText == "+Inf" ? Double.infinity : Double(valueText) else {
                throw ParseError(description: "line \(number + 1): bad value: \(line)")
            }
            let name = String(series.prefix { $0 != "{" })
            guard name.range(of: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", options: .regularExpression) != nil else {
                throw ParseError(description: "line \(number + 1): bad name: \(line)")
            }
            if series.contains("{") {
                guard series.hasSuffix("}"),
                      series.range(of: #"^[^{]+\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\}$"#,
                                   options: .regularExpression) != nil else {
                    throw ParseError(description: "line \(number + 1): bad labels: \(line)")
                }
            }
            let family = ["_bucket", "_sum", "_count"].first { name.hasSuffix($0) && typed[String(name.dropLast($0.count))] == "histogram" }
                .map { String(name.dropLast($0.count)) } ?? name
            guard typed[family] != nil else { throw ParseError(description: "line \(number + 1): sample before its TYPE: \(line)") }
            guard samples.updateValue(value, forKey: series) == nil else {
                throw ParseError(description: "line \(number + 1): repeated series: \(line)")
            }
        }
        return samples
    }
}
