import Foundation
import PipelineServices
import ServiceRuntime

/// Settings every stage service reads besides ``PipelineServices/PipelineEnvironment``.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `STAGE_MAX_IN_FLIGHT` | 256 | requests handled at once per process (see ``StageRunnerSettings/maxInFlight``) |
/// | `STAGE_ORDERING` | `key` | `key`: one request per lead at a time; `partition`: one per partition at a time (for comparison only; see ``StageRunnerSettings/Ordering``) |
///
/// Consumer properties are not read from the environment here (`KAFKA_PROPERTY_*` covers them);
/// tests pass short group timeouts through ``consumerProperties``.
public struct StageConfiguration: Sendable {
    /// Environment variable names this type reads.
    public enum Variable {
        /// Requests in flight per process; 1...100000.
        public static let maxInFlight = "STAGE_MAX_IN_FLIGHT"
        /// What requests are serialised on: `key` or `partition`.
        public static let ordering = "STAGE_ORDERING"
    }

    /// Bounds and timings of the stage's ``StageRunner``.
    public var runner: StageRunnerSettings
    /// librdkafka properties for the stage's group consumer only; they win over the defaults.
    public var consumerProperties: [String: String]

    /// Creates a configuration.
    public init(runner: StageRunnerSettings = StageRunnerSettings(), consumerProperties: [String: String] = [:]) {
        self.runner = runner
        self.consumerProperties = consumerProperties
    }

    /// Reads the configuration from environment variables (see ``Variable``).
    /// - Throws: ``ConfigurationError`` naming the variable that is wrong.
    public init(environment: [String: String], consumerProperties: [String: String] = [:]) throws {
        var runner = StageRunnerSettings()
        if let text = environment[Variable.maxInFlight]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let value = Int(text), (1...100_000).contains(value) else {
                throw ConfigurationError(variable: Variable.maxInFlight, problem: "'\(text)' is not a whole number in 1...100000")
            }
            runner.maxInFlight = value
        }
        if let text = environment[Variable.ordering]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let ordering = StageRunnerSettings.Ordering(rawValue: text.lowercased()) else {
                let allowed = StageRunnerSettings.Ordering.allCases.map(\.rawValue).joined(separator: " or ")
                throw ConfigurationError(variable: Variable.ordering, problem: "'\(text)' is not \(allowed)")
            }
            runner.ordering = ordering
        }
        self.init(runner: runner, consumerProperties: consumerProperties)
    }
}
