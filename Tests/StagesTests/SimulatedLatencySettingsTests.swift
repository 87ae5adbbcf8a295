import Foundation
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import XCTest

/// The settings the pipeline benchmark turns: `STAGE_ORDERING`, the `SIM_*` latencies and the
/// scoring stage's simulated latency. No broker.
final class SimulatedLatencySettingsTests: XCTestCase {
    func testStageOrderingIsReadFromTheEnvironment() throws {
        XCTAssertEqual(try StageConfiguration(environment: [:]).runner.ordering, .key)
        XCTAssertEqual(try StageConfiguration(environment: ["STAGE_ORDERING": "partition"]).runner.ordering, .partition)
        XCTAssertEqual(try StageConfiguration(environment: ["STAGE_ORDERING": " Key "]).runner.ordering, .key)
        XCTAssertThrowsError(try StageConfiguration(environment: ["STAGE_ORDERING": "lead"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "STAGE_ORDERING")
        }
    }

    /// A request's handler may run 600 s unless `STAGE_RECORD_TIMEOUT_SECONDS` says otherwise
    /// (``StageRunnerSettings/recordTimeout``); a value out of range is an error naming it.
    func testTheRecordTimeoutIsReadFromTheEnvironment() throws {
        XCTAssertEqual(try StageConfiguration(environment: [:]).runner.recordTimeout, .seconds(600))
        XCTAssertEqual(try StageConfiguration(environment: ["STAGE_RECORD_TIMEOUT_SECONDS": "90"]).runner.recordTimeout, .seconds(90))
        XCTAssertThrowsError(try StageConfiguration(environment: ["STAGE_RECORD_TIMEOUT_SECONDS": "0"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "STAGE_RECORD_TIMEOUT_SECONDS")
        }
    }

    /// Up to 16 handlers timed out may still run unless `STAGE_MAX_TIMED_OUT_HANDLERS` says
    /// otherwise (``StageRunnerSettings/maxTimedOutHandlers``; 0 stops at the first); a value
    /// out of range is an error naming it.
    func testTheBoundOnTimedOutHandlersIsReadFromTheEnvironment() throws {
        XCTAssertEqual(try StageConfiguration(environment: [:]).runner.maxTimedOutHandlers, 16)
        XCTAssertEqual(try StageConfiguration(environment: ["STAGE_MAX_TIMED_OUT_HANDLERS": "0"]).runner.maxTimedOutHandlers, 0)
        XCTAssertEqual(try StageConfiguration(environment: ["STAGE_MAX_TIMED_OUT_HANDLERS": "40"]).runner.maxTimedOutHandlers, 40)
        XCTAssertThrowsError(try StageConfiguration(environment: ["STAGE_MAX_TIMED_OUT_HANDLERS": "-1"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "STAGE_MAX_TIMED_OUT_HANDLERS")
        }
    }

    func testDefaultLatenciesAreTheRealisticOnes() throws {
        let simulation = try PipelineEnvironment(service: "test", environment: [:]).simulation
        XCTAssertEqual(simulation.linkedin.meanLatency, .milliseconds(800))
        XCTAssertEqual(simulation.linkedin.latencyJitter, .milliseconds(400))
        XCTAssertEqual(simulation.activity.latencyJitter, .milliseconds(600))
        XCTAssertEqual(simulation.scoring.meanLatency, .zero)
    }

    /// A variable set to blanks is unset: its default applies, as for every other variable.
    func testBlankSimulationVariablesKeepTheirDefaults() throws {
        let defaults = try PipelineEnvironment(service: "test", environment: [:]).simulation
        let blank = try PipelineEnvironment(service: "test", environment: [
            "SIM_LINKEDIN_LATENCY_MS": "  ", "SIM_X_FAILURE_RATE": "", "SIM_LINKEDIN_NOT_FOUND_RATE": " ",
        ]).simulation
        XCTAssertEqual(blank.linkedin.meanLatency, defaults.linkedin.meanLatency)
        XCTAssertEqual(blank.x.failureRate, defaults.x.failureRate)
        XCTAssertGreaterThan(blank.x.failureRate, 0)
        XCTAssertEqual(blank.linkedin.notFoundRate, defaults.linkedin.notFoundRate)
    }

    func testPerProviderLatenciesAndJitter() throws {
        let simulation = try PipelineEnvironment(service: "test", environment: [
            "SIM_LINKEDIN_LATENCY_MS": "400", "SIM_X_LATENCY_MS": "250", "SIM_ACTIVITY_LATENCY_MS": "300",
            "SIM_SCORING_LATENCY_MS": "600", "SIM_LATENCY_JITTER": "0.1",
        ]).simulation
        XCTAssertEqual(simulation.linkedin.meanLatency, .milliseconds(400))
        XCTAssertEqual(simulation.x.meanLatency, .milliseconds(250))
        XCTAssertEqual(simulation.activity.meanLatency, .milliseconds(300))
        XCTAssertEqual(simulation.scoring.meanLatency, .milliseconds(600))
        XCTAssertEqual(simulation.scoring.latencyJitter, .milliseconds(60))
        XCTAssertEqual(simulation.x.latencyJitter, .milliseconds(25))
    }

    func testScaleZeroMakesEveryLatencyZero() throws {
        let simulation = try PipelineEnvironment(service: "test", environment: [
            "SIM_SCORING_LATENCY_MS": "600", "SIM_LATENCY_SCALE": "0",
        ]).simulation
        for behavior in [simulation.linkedin, simulation.x, simulation.activity, simulation.scoring] {
            XCTAssertEqual(behavior.meanLatency, .zero)
            XCTAssertEqual(behavior.latencyJitter, .zero)
        }
    }

    func testWrongLatencyNamesItsVariable() {
        for (name, value) in [("SIM_X_LATENCY_MS", "-5"), ("SIM_SCORING_LATENCY_MS", "fast"), ("SIM_LATENCY_JITTER", "1.5")] {
            XCTAssertThrowsError(try PipelineEnvironment(service: "test", environment: [name: value])) { error in
                XCTAssertEqual((error as? ConfigurationError)?.variable, name)
            }
        }
    }

    func testDrawnLatencyStaysWithinTheJitterAndIsDeterministic() {
        let behavior = SimulationSettings.ProviderBehavior(meanLatency: .milliseconds(600), latencyJitter: .milliseconds(300))
        for i in 0..<200 {
            let latency = behavior.drawLatency(seedText: "lead-\(i)")
            XCTAssertGreaterThanOrEqual(latency, .milliseconds(300))
            XCTAssertLessThanOrEqual(latency, .milliseconds(900))
            XCTAssertEqual(latency, behavior.drawLatency(seedText: "lead-\(i)"))
        }
    }

    func testScoringSleepsItsSimulatedLatencyBeforeScoring() async {
        let offer = Fixtures.offer()
        let handler = ScoringStageHandler(
            offers: { $0 == offer.offerID ? offer : nil }, service: "test", now: Fixtures.clock,
            simulatedLatency: SimulationSettings.ProviderBehavior(meanLatency: .milliseconds(150)))
        let clock = ContinuousClock()
        let started = clock.now
        let output = await handler.handle(Fixtures.request(.scoring, profile: Fixtures.profile()))
        XCTAssertGreaterThanOrEqual(clock.now - started, .milliseconds(150))
        XCTAssertEqual(output.result.outcome, .completed)
    }
}
