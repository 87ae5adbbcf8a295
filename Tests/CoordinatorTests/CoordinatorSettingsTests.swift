import Foundation
import LeadModel
import Coordinator
import Runtime
import Streaming
import XCTest

/// The coordinator's settings from the environment (no broker).
final class CoordinatorSettingsTests: XCTestCase {
    func testRetryBackoffsFromTheEnvironment() throws {
        let defaults = try CoordinatorSettings(environment: [:])
        XCTAssertEqual(defaults.machine.backoffBase, 5)
        XCTAssertEqual(defaults.machine.priorityBackoffBase, 0.5)

        let set = try CoordinatorSettings(environment: ["RETRY_BACKOFF_SECONDS": "2", "PRIORITY_RETRY_BACKOFF_SECONDS": "0.2"])
        XCTAssertEqual(set.machine.backoffBase, 2)
        XCTAssertEqual(set.machine.priorityBackoffBase, 0.2)

        // Above 300 s, the longest backoff (`backoffMax`), a setting would be cut to it silently.
        for variable in ["RETRY_BACKOFF_SECONDS", "PRIORITY_RETRY_BACKOFF_SECONDS"] {
            for bad in ["-1", "abc", "301", "3600"] {
                XCTAssertThrowsError(try CoordinatorSettings(environment: [variable: bad]), bad) { error in
                    XCTAssertEqual((error as? ConfigurationError)?.variable, variable, "\(error)")
                }
            }
        }
        XCTAssertEqual(try CoordinatorSettings(environment: ["RETRY_BACKOFF_SECONDS": "300"]).machine.backoffBase, 300)
    }

    func testPhaseTimeoutsFromTheEnvironmentAndABlankValueKeepsEachPhasesDefault() throws {
        let defaults = try CoordinatorSettings(environment: [:]).machine
        XCTAssertEqual(defaults.timeout(for: .profile), 120)
        XCTAssertEqual(defaults.timeout(for: .finalize), 30)
        let blank = try CoordinatorSettings(environment: ["PHASE_TIMEOUT_SECONDS": " "]).machine
        XCTAssertEqual(Phase.allCases.map { blank.timeout(for: $0) }, Phase.allCases.map { defaults.timeout(for: $0) })
        let set = try CoordinatorSettings(environment: ["PHASE_TIMEOUT_SECONDS": "45"]).machine
        XCTAssertEqual(Phase.allCases.map { set.timeout(for: $0) }, Phase.allCases.map { _ in 45 })
    }

    /// The priority backoff is at most the standard one: set above it, it names its variable.
    func testAPriorityBackoffSetAboveTheStandardOneFails() throws {
        XCTAssertThrowsError(try CoordinatorSettings(environment: ["RETRY_BACKOFF_SECONDS": "2", "PRIORITY_RETRY_BACKOFF_SECONDS": "3"])) {
            XCTAssertEqual(($0 as? ConfigurationError)?.variable, "PRIORITY_RETRY_BACKOFF_SECONDS", "\($0)")
        }
        // Left to its default (0.5), it is held at a smaller standard backoff, as the state machine does.
        XCTAssertNoThrow(try CoordinatorSettings(environment: ["RETRY_BACKOFF_SECONDS": "0.1"]))
    }

    func testTheStateWriteIntervalFromTheEnvironment() throws {
        XCTAssertEqual(try CoordinatorSettings(environment: [:]).stateWriteInterval, .seconds(5))
        XCTAssertEqual(try CoordinatorSettings(environment: ["COORDINATOR_STATE_WRITE_INTERVAL_SECONDS": "0"]).stateWriteInterval, .zero)
        XCTAssertEqual(try CoordinatorSettings(environment: ["COORDINATOR_STATE_WRITE_INTERVAL_SECONDS": "0.25"]).stateWriteInterval,
                       .milliseconds(250))
        for bad in ["-1", "soon", "61"] {
            XCTAssertThrowsError(try CoordinatorSettings(environment: ["COORDINATOR_STATE_WRITE_INTERVAL_SECONDS": bad]), bad) { error in
                XCTAssertEqual((error as? ConfigurationError)?.variable, "COORDINATOR_STATE_WRITE_INTERVAL_SECONDS", "\(error)")
            }
        }
    }

    /// The coordinator waits for the broker after SIGTERM as long as a stage drains: the shutdown
    /// bound less a quarter of it, at most 2 s.
    func testTheShutdownGraceFollowsTheShutdownTimeout() throws {
        XCTAssertEqual(try CoordinatorSettings(environment: [:]).shutdownGrace, .seconds(8))
        XCTAssertEqual(try CoordinatorSettings(environment: ["SHUTDOWN_TIMEOUT_SECONDS": "30"]).shutdownGrace, .seconds(28))
        XCTAssertEqual(try CoordinatorSettings(environment: ["SHUTDOWN_TIMEOUT_SECONDS": "2"]).shutdownGrace, .milliseconds(1500))
        XCTAssertThrowsError(try CoordinatorSettings(environment: ["SHUTDOWN_TIMEOUT_SECONDS": "-3"]))
    }
}
