import Foundation

/// Where a service serves `/metrics`, `/healthz` and `/readyz`.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `METRICS_PORT` | unset: no endpoint | TCP port of the endpoint; `0` picks a free one (tests) |
/// | `METRICS_BIND_ADDRESS` | `127.0.0.1` | IPv4 address to listen on (`0.0.0.0` in a container, for probes) |
public struct MetricsSettings: Sendable, Hashable {
    /// Environment variable names this type reads.
    public enum Variable {
        /// The endpoint's port; unset or empty turns the endpoint off.
        public static let port = "METRICS_PORT"
        /// The IPv4 address to bind.
        public static let bindAddress = "METRICS_BIND_ADDRESS"
    }

    /// The port, or nil for no endpoint.
    public var port: Int?
    /// The IPv4 address to bind.
    public var bindAddress: String

    /// Creates settings; the default is no endpoint.
    public init(port: Int? = nil, bindAddress: String = "127.0.0.1") {
        self.port = port
        self.bindAddress = bindAddress
    }

    /// Reads ``Variable/port`` and ``Variable/bindAddress``.
    /// - Throws: ``ConfigurationError`` naming the variable that is wrong.
    public init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment)
        var settings = MetricsSettings()
        settings.port = try reader.integer(Variable.port, range: 0...65_535)
        if let text = reader.string(Variable.bindAddress) {
            // As the listener will read it (inet_pton: four decimal octets, no sign or leading zero).
            var address = in_addr()
            guard inet_pton(AF_INET, text, &address) == 1 else {
                throw ConfigurationError(variable: Variable.bindAddress, problem: "'\(text)' is not an IPv4 address")
            }
            settings.bindAddress = text
        }
        self = settings
    }
}

/// A metrics setting that is wrong, named by its variable (the name it had before every
/// setting threw ``ConfigurationError``).
public typealias MetricsSettingsError = ConfigurationError

/// The operational HTTP endpoint of a service, on ``HTTPServer``:
///
/// - `GET /metrics`: ``MetricsRegistry/render()`` in the Prometheus text format.
/// - `GET /healthz`: 200 while the process is live; 503 after ``HealthStatus/markFailed(_:)``
///   (the liveness probe: restart it).
/// - `GET /readyz`: 200 once ready (joined the group, state restored), else 503 with the reason
///   (the readiness probe; not ready while starting and draining).
///
/// Other paths answer 404, other methods 405. Within ``defaultLimits``: `/healthz` and `/readyz`
/// are probes, answered even when every connection slot is taken (``HTTPServer``).
public final class MetricsEndpoint: Sendable {
    /// The paths answered ahead of the connection cap.
    public static let probePaths: Set<String> = ["/healthz", "/readyz"]
    /// 32 connections and 64 more for probes; a request complete within 5 s and at most 8 KiB,
    /// its head at most 4 KiB and 50 lines.
    public static let defaultLimits = HTTPServer.Limits(
        maxConnections: 32, reservedConnections: 64, requestTimeout: .seconds(5), maxRequestLineBytes: 2 * 1024,
        maxHeadBytes: 4 * 1024, maxHeaderCount: 50, maxRequestBytes: 8 * 1024)

    /// The port it listens on (the chosen one when the settings said 0).
    public let port: Int
    private let server: HTTPServer
    /// The task behind `/readyz`, when the endpoint was given something to watch (Streaming's
    /// `BrokerWatch`).
    private let watch: Task<Void, Never>?

    /// Starts listening.
    /// - Throws: ``HTTPServerError`` when the address or port cannot be bound.
    /// - Parameter watch: runs until ``stop()`` and keeps `health` current (Streaming's
    ///   `start(_:service:registry:health:broker:)` watches the broker with it); nil watches nothing.
    public init(port: Int, bindAddress: String = "127.0.0.1", limits: HTTPServer.Limits = MetricsEndpoint.defaultLimits,
                service: String, registry: MetricsRegistry, health: HealthStatus,
                watch: (@Sendable () async -> Void)? = nil) throws {
        server = try HTTPServer(host: bindAddress, port: port, limits: limits, probePaths: Self.probePaths) { request in
            MetricsEndpoint.respond(to: request, service: service, registry: registry, health: health)
        }
        self.port = server.port
        self.watch = watch.map { watch in Task { await watch() } }
    }

    /// Starts the endpoint `settings` ask for, or nothing when they have no port.
    public static func start(_ settings: MetricsSettings, service: String, registry: MetricsRegistry,
                             health: HealthStatus, watch: (@Sendable () async -> Void)? = nil) throws -> MetricsEndpoint? {
        guard let port = settings.port else { return nil }
        return try MetricsEndpoint(port: port, bindAddress: settings.bindAddress, service: service, registry: registry,
                                   health: health, watch: watch)
    }

    /// Stops listening (and watching).
    public func stop() {
        watch?.cancel()
        server.stop()
    }

    /// The answer to one request (routing only; no I/O), for the server and for tests.
    public static func respond(to request: HTTPRequest, service: String, registry: MetricsRegistry,
                               health: HealthStatus) -> HTTPResponse {
        guard request.method == "GET" else {
            return .text("only GET\n", status: 405, headers: [("Allow", "GET")])
        }
        switch request.path {
        case "/metrics":
            registry.gauge(MetricNames.serviceReady, ["service": service]).set(health.notReadyReason == nil ? 1 : 0)
            ProcessMetrics.update(registry, service: service)
            return HTTPResponse(status: 200, headers: [("Content-Type", MetricsRegistry.contentType)],
                                    body: Data(registry.render().utf8))
        case "/healthz":
            return health.failure.map { .text("failed: \($0)\n", status: 503) } ?? .text("ok\n")
        case "/readyz":
            return health.notReadyReason.map { .text("not ready: \($0)\n", status: 503) } ?? .text("ready\n")
        default:
            return .text("not found; try /metrics, /healthz or /readyz\n", status: 404)
        }
    }
}
