import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import PipelineServices
import XCTest

/// The broker stops answering (SIGSTOP) while leads flow, then comes back: every process rides it
/// out, and every lead finishes once, with its phases done and nothing charged twice.
final class BrokerOutageSystemTests: XCTestCase {
    func testTwentySecondOutageUnderLoad() async throws {
        try await rideOut(outageSeconds: 20)
    }

    func testSixtySecondOutageUnderLoad() async throws {
        try await rideOut(outageSeconds: 60)
    }

    private func rideOut(outageSeconds: Double) async throws {
        try await withPipeline(partitions: 4, environment: [
            "SIM_LATENCY_SCALE": "0.05", "LOG_LEVEL": "warning",
            // No simulated failures: any skipped phase would be the outage's doing.
            "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0", "SIM_ACTIVITY_FAILURE_RATE": "0",
            "SIM_LINKEDIN_NOT_FOUND_RATE": "0", "SIM_X_NOT_FOUND_RATE": "0",
        ]) { harness in
            let services = ["coordinator"] + PipelineHarness.stages
            let processes = try services.map { try harness.start($0) }
            let leads = harness.makeLeads(600)
            try await harness.publish(leads: leads)
            try await waitUntil("leads flowing", timeoutSeconds: 120, pollMilliseconds: 200) {
                try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool).count >= 50
            }
            try await TestBroker.pause(seconds: outageSeconds)
            for (service, process) in zip(services, processes) {
                XCTAssertTrue(process.isRunning, "\(service) exited during a \(Int(outageSeconds)) s outage")
            }

            let pool = try await harness.waitForPool(leads.count, timeoutSeconds: 300)
            XCTAssertEqual(pool.count, leads.count, "each lead once in the pool")
            let states = try await harness.latestStates()
            let skipped = leads.compactMap { states[$0.leadID] }.flatMap(\.profile.skippedPhases)
                .filter { !$0.reason.contains("no profile URL") }
            XCTAssertEqual(skipped.map { "\($0.phase.rawValue): \($0.reason)" }, [], "phases skipped because the broker was away")
            let usage = try await harness.readAll(BillingUsage.self, topic: harness.environment.topics.billingUsage)
            XCTAssertEqual(usage.count, Set(usage.map(\.value.idempotencyKey)).count, "nothing charged twice")
            for (service, process) in zip(services, processes) {
                XCTAssertTrue(process.isRunning, "\(service) exited after the outage")
            }
        }
    }
}
