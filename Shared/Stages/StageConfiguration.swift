import Foundation
import Runtime
import Streaming

/// Settings every stage service reads besides ``Streaming/PipelineEnvironment``.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `STAGE_MAX_IN_FLIGHT` | 256 | requests handled at once per process (see ``StageRunnerSettings/maxInFlight``) |
/// | `SCORING_CONTRIBUTION_WINDOW_MS` | 20 | scoring: the heat contributions of one account scored within this many milliseconds go out as one record (``ContributionBatcher``); 0: one record per lead, version 1 (for a rolling upgrade from a release whose aggregator reads only version 1) |
/// | `ACCOUNT_HEAT_WRITE_INTERVAL_SECONDS` | 5 | scoring: how long the heat aggregator holds a company's changed state before writing it to `account.heat` (its changes in between one record); the contributions' offsets are stored only as far as the written states reach; 0 writes after every poll |
/// | `STAGE_RECORD_TIMEOUT_SECONDS` | 600 | how long a request's handler may run before the request is timed out: dead-lettered with the reason, its lead and partition freed (``StageRunnerSettings/recordTimeout``) |
/// | `STAGE_MAX_TIMED_OUT_HANDLERS` | 16 | handlers timed out and still running above which the stage stops, so its restart ends them (``StageRunnerSettings/maxTimedOutHandlers``) |
/// | `STAGE_ORDERING` | `key` | `key`: one request per lead at a time; `partition`: one per partition at a time (for comparison only; see ``StageRunnerSettings/Ordering``) |
///
/// The last three, and `SHUTDOWN_TIMEOUT_SECONDS`, are read by ``Streaming/StageRunnerSettings/init(environment:maxInFlight:)``,
/// as the profile finder and the web enricher read them.
///
/// Consumer properties are not read from the environment here (`KAFKA_PROPERTY_*` covers them);
/// tests pass short group timeouts through ``consumerProperties``.
public struct StageConfiguration: Sendable {
    /// Environment variable names this type reads.
    public enum Variable {
        /// Requests in flight per process; 1...100000.
        public static let maxInFlight = "STAGE_MAX_IN_FLIGHT"
        /// Milliseconds a heat contribution waits for others of its account; 0...1000.
        public static let contributionWindow = "SCORING_CONTRIBUTION_WINDOW_MS"
        /// Seconds the heat aggregator holds a changed company state; 0...60.
        public static let heatWriteInterval = "ACCOUNT_HEAT_WRITE_INTERVAL_SECONDS"
    }

    /// Bounds and timings of the stage's ``StageRunner``.
    public var runner: StageRunnerSettings
    /// librdkafka properties for the stage's group consumer only; they win over the defaults.
    public var consumerProperties: [String: String]
    /// How long a heat contribution of the scoring stage waits for others of its account before
    /// their record goes out; zero sends each in a record of its own (version 1). Other stages
    /// produce none.
    public var contributionWindow: Duration
    /// How long the scoring stage's heat aggregator holds a company's changed state before it
    /// writes it (``AccountHeatAggregator/writeInterval``).
    public var heatWriteInterval: Duration

    /// Creates a configuration.
    public init(runner: StageRunnerSettings = StageRunnerSettings(), consumerProperties: [String: String] = [:],
                contributionWindow: Duration = .milliseconds(20), heatWriteInterval: Duration = .seconds(5)) {
        self.runner = runner
        self.consumerProperties = consumerProperties
        self.contributionWindow = contributionWindow
        self.heatWriteInterval = heatWriteInterval
    }

    /// Reads the configuration from environment variables (see ``Variable``).
    /// - Throws: ``ConfigurationError`` naming the variable that is wrong.
    public init(environment: [String: String], consumerProperties: [String: String] = [:]) throws {
        let reader = EnvironmentReader(environment)
        let maxInFlight = try reader.integer(Variable.maxInFlight, default: StageRunnerSettings().maxInFlight, range: 1...100_000)
        let runner = try StageRunnerSettings(environment: environment, maxInFlight: maxInFlight)
        let window = try reader.integer(Variable.contributionWindow, default: 20, range: 0...1000)
        let heatWrite = try reader.decimal(Variable.heatWriteInterval, default: 5, range: 0...60)
        self.init(runner: runner, consumerProperties: consumerProperties, contributionWindow: .milliseconds(window),
                  heatWriteInterval: .milliseconds(Int64(heatWrite * 1000)))
    }
}
