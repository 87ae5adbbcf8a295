import Foundation

/// What every service process reads for itself, whatever its work: the log level, the shutdown
/// bound, the heap trim interval and the metrics endpoint. Read at start-up, before anything
/// connects, so a bad value stops the process with the variable's name.
///
/// | variable | default | allowed |
/// |---|---|---|
/// | `LOG_LEVEL` | `info` | `debug`, `info`, `warning`, `error` (any case) |
/// | `SHUTDOWN_TIMEOUT_SECONDS` | 10 | 0.1...3600: how long SIGTERM may drain before the process exits anyway |
/// | `HEAP_TRIM_INTERVAL_SECONDS` | 1 | 0...3600, seconds between looks at the heap; 0 turns trimming off (``HeapTrimmer``) |
/// | `METRICS_PORT`, `METRICS_BIND_ADDRESS` | no endpoint, `127.0.0.1` | see ``MetricsSettings`` |
public struct ProcessSettings: Sendable, Hashable {
    /// Environment variable names this type reads (the metrics ones are ``MetricsSettings/Variable``).
    public enum Variable {
        /// The lowest level logged.
        public static let logLevel = "LOG_LEVEL"
        /// Seconds a graceful shutdown may take.
        public static let shutdownTimeout = ServiceRunner.shutdownTimeoutVariable
        /// Seconds between heap trims; 0 is off.
        public static let heapTrimInterval = HeapTrimmer.intervalVariable
    }

    /// The lowest level logged.
    public var logLevel: LogLevel
    /// How long a graceful shutdown may take before the process exits with status 1.
    public var shutdownTimeout: Duration
    /// Time between heap trims, or nil for no trimming.
    public var heapTrimInterval: Duration?
    /// The operational HTTP endpoint.
    public var metrics: MetricsSettings

    /// Creates settings; the defaults are those of an unset environment.
    public init(logLevel: LogLevel = .info, shutdownTimeout: Duration = .seconds(10), heapTrimInterval: Duration? = .seconds(1),
                metrics: MetricsSettings = MetricsSettings()) {
        self.logLevel = logLevel
        self.shutdownTimeout = shutdownTimeout
        self.heapTrimInterval = heapTrimInterval
        self.metrics = metrics
    }

    /// Reads the settings (see the table above).
    /// - Throws: ``ConfigurationError`` naming the first variable that is wrong.
    public init(environment: [String: String]) throws(ConfigurationError) {
        self.init(
            logLevel: try Logger.level(environment: environment),
            shutdownTimeout: try ServiceRunner.shutdownTimeout(environment: environment),
            heapTrimInterval: try HeapTrimmer.interval(environment: environment),
            metrics: try MetricsSettings(environment: environment))
    }

    /// The settings as log fields, for the start-up configuration line.
    public var logFields: [String: String] {
        [
            "logLevel": logLevel.name,
            "shutdownTimeout": "\(shutdownTimeout)",
            "heapTrimInterval": heapTrimInterval.map { "\($0)" } ?? "off",
            "metrics": metrics.port.map { "\(metrics.bindAddress):\($0)" } ?? "off",
        ]
    }
}
