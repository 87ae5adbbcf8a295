import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// The broker stops answering (SIGSTOP) while leads flow, then comes back: every process rides it
/// out, and every lead finishes once, with its phases done and nothing charged twice.
final class BrokerOutageSystemTests: XCTestCase {
    /// All seven processes: each stays up, answers `/readyz` 503 while the broker is away and
    /// 200 again after it is back.
    func testThirtySecondOutageUnderLoadEveryProcessStaysUpNotReadyThenReady() async throws {
        try await rideOut(outageSeconds: 30, services: ["coordinator"] + PipelineHarness.stages + ["profile-finder", "web-enricher"],
                          checkingReadiness: true)
    }

    func testSixtySecondOutageUnderLoad() async throws {
        try await rideOut(outageSeconds: 60)
    }

    /// An outage longer than the phase timeout: every lead still finishes once, with no phase
    /// skipped and nothing charged twice. How many attempts timed out is printed, not asserted:
    /// the coordinator holds timeouts while the broker is away and 10 s after, yet clean-clone CI
    /// runs counted 18 and 160 of 600 leads (0 on a quiet machine; 360 before the hold), so the
    /// hold does not yet make the count small enough to bound.
    func testAnOutageLongerThanThePhaseTimeoutFinishesEveryLeadOnce() async throws {
        try await rideOut(outageSeconds: 25, environment: ["PHASE_TIMEOUT_SECONDS": "10"], reportingTimeouts: true)
    }

    /// The `/readyz` status of each service, 0 when it does not answer.
    private func readiness(_ ports: [String: Int]) async -> [String: Int] {
        var statuses: [String: Int] = [:]
        for (service, port) in ports {
            statuses[service] = (try? await httpGet("http://127.0.0.1:\(port)/readyz"))?.0 ?? 0
        }
        return statuses
    }

    private func rideOut(outageSeconds: Double, services: [String] = ["coordinator"] + PipelineHarness.stages,
                         environment: [String: String] = [:], checkingReadiness: Bool = false, reportingTimeouts: Bool = false) async throws {
        try await withPipeline(partitions: 4, environment: environment.merging([
            "SIM_LATENCY_SCALE": "0.05", "LOG_LEVEL": "warning",
            // No simulated failures: any skipped phase would be the outage's doing.
            "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0", "SIM_ACTIVITY_FAILURE_RATE": "0",
            "SIM_LINKEDIN_NOT_FOUND_RATE": "0", "SIM_X_NOT_FOUND_RATE": "0",
        ]) { given, _ in given }) { harness in
            let ports = Dictionary(uniqueKeysWithValues: services.map { ($0, TestBroker.freeLoopbackPort()) })
            let processes = try services.map { try harness.start($0, environment: ["METRICS_PORT": String(ports[$0]!)]) }
            let leads = harness.makeLeads(600)
            try await harness.publish(leads: leads)
            try await waitUntil("leads flowing", timeoutSeconds: 120, pollMilliseconds: 200) {
                try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool).count >= 50
            }
            if checkingReadiness {
                try await waitUntil("every process ready", timeoutSeconds: 60, pollMilliseconds: 200) {
                    await self.readiness(ports).values.allSatisfy { $0 == 200 }
                }
                let stoppedAt = ContinuousClock.now
                try TestBroker.suspend()
                do {
                    var statuses: [String: Int] = [:]
                    try await waitUntil("every process not ready", timeoutSeconds: outageSeconds - 5, pollMilliseconds: 500) {
                        statuses = await self.readiness(ports)
                        return statuses.values.allSatisfy { $0 == 503 }
                    }
                    // The rest of the outage, then the broker comes back.
                    try await Task.sleep(until: stoppedAt + .seconds(outageSeconds))
                } catch {
                    try TestBroker.resume()
                    throw error
                }
                try TestBroker.resume()
                try await waitUntil("every process ready again", timeoutSeconds: 60, pollMilliseconds: 500) {
                    await self.readiness(ports).values.allSatisfy { $0 == 200 }
                }
            } else {
                try await TestBroker.pause(seconds: outageSeconds)
            }
            for (service, process) in zip(services, processes) {
                XCTAssertTrue(process.isRunning, "\(service) exited during a \(Int(outageSeconds)) s outage")
            }

            let pool = try await harness.waitForPool(leads.count, timeoutSeconds: 300)
            XCTAssertEqual(pool.count, leads.count, "each lead once in the pool")
            let states = try await harness.latestStates()
            let skipped = leads.compactMap { states[$0.leadID] }.flatMap(\.profile.skippedPhases)
                .filter { !$0.reason.contains("no profile URL") }
            XCTAssertEqual(skipped.map { "\($0.phase.rawValue): \($0.reason)" }, [], "phases skipped because the broker was away")
            if reportingTimeouts {
                let timedOut = leads.compactMap { states[$0.leadID] }.flatMap { state in
                    state.history.filter { $0.kind == .phaseFailed && $0.detail?.hasPrefix("no result within") == true }
                        .map { "\(state.leadID) \($0.phase?.rawValue ?? "-")#\($0.attempt ?? 0)" }
                }
                print("outage of \(Int(outageSeconds)) s: \(timedOut.count) of \(leads.count) leads had an attempt timed out: \(timedOut.prefix(5))")
            }
            let usage = try await harness.readAll(BillingUsage.self, topic: harness.environment.topics.billingUsage)
            XCTAssertEqual(usage.count, Set(usage.map(\.value.idempotencyKey)).count, "nothing charged twice")
            for (service, process) in zip(services, processes) {
                XCTAssertTrue(process.isRunning, "\(service) exited after the outage")
            }
        }
    }
}
