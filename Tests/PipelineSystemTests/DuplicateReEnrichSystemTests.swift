import Foundation
import Kafka
import KafkaTestSupport
import LeadControl
import LeadModel
import Streaming
import XCTest

/// A re-enrich request delivered twice, seconds apart, as two records (a client retrying after a
/// timeout, say): one run and one charge.
final class DuplicateReEnrichSystemTests: XCTestCase {
    /// Starts every process and publishes `count` leads; returns them once they are in the pool.
    private static func readyLeads(_ count: Int, _ harness: PipelineHarness) async throws -> [LeadDiscovered] {
        try harness.startAll()
        let leads = harness.makeLeads(count)
        try await harness.publish(leads: leads)
        _ = try await harness.waitForPool(leads.count, timeoutSeconds: 120)
        return leads
    }

    func testTheSameReEnrichRequestTwiceIsOneRunAndOneCharge() async throws {
        try await withPipeline(environment: PipelineHarness.reliableProviders) { harness in
            let leads = try await Self.readyLeads(6, harness)
            let topics = harness.environment.topics
            let firstRuns = try await harness.latestStates().mapValues(\.runID)

            let chosen = Array(leads.prefix(3))
            let requests = chosen.map {
                ReEnrichRequested(leadID: $0.leadID, types: [.x, .activity], requestedAt: Date(), requestedBy: "test",
                                  requestID: RequestID("request-\($0.leadID)"))
            }
            // First on the commands topic, where leadctl writes; again where earlier versions wrote.
            for request in requests {
                try await harness.publish(request, topic: topics.leadCommands, key: request.leadID.rawValue)
            }
            try await Task.sleep(for: .seconds(3))
            for request in requests {
                try await harness.publish(request, topic: topics.leadsDiscoveredPriority, key: request.leadID.rawValue)
            }

            // Both copies handled: the re-enrich runs are in the pool and every group is at the end.
            try await waitUntil("re-enriched leads in the pool", timeoutSeconds: 120, pollMilliseconds: 500) {
                let pool = try await harness.readAll(LeadPoolEntry.self, topic: topics.leadPool)
                return chosen.allSatisfy { lead in pool.filter { $0.key == lead.leadID.rawValue }.count >= 2 }
            }
            let admin = try KafkaAdmin(configuration: harness.environment.kafka)
            try await waitUntil("zero lag", timeoutSeconds: 60, pollMilliseconds: 500) {
                var lag: Int64 = 0
                for group in harness.groupsOfStartAll {
                    lag += try await admin.lag(group: group.id, topics: group.topics).reduce(0) { $0 + $1.lag }
                }
                return lag == 0
            }

            let states = try await harness.latestStates()
            let pool = try await harness.readAll(LeadPoolEntry.self, topic: topics.leadPool)
            let usage = try await harness.readAll(BillingUsage.self, topic: topics.billingUsage).map(\.value)
            XCTAssertEqual(Set(usage.map(\.idempotencyKey)).count, usage.count, "no billing usage key used twice")
            for lead in chosen {
                let state = try XCTUnwrap(states[lead.leadID], "\(lead.leadID)")
                let firstRun = try XCTUnwrap(firstRuns[lead.leadID])
                let reRuns = Set(state.history.filter { $0.kind == .runStarted && $0.runID != firstRun }.map(\.runID))
                XCTAssertEqual(reRuns.count, 1, "\(lead.leadID): one new run for the request sent twice, not \(reRuns.sorted())")
                XCTAssertEqual(state.status, .ready, "\(lead.leadID)")
                XCTAssertEqual(pool.filter { $0.key == lead.leadID.rawValue }.count, 2, "\(lead.leadID): first run and one re-enrich")
                let charged = Set(usage.filter { $0.leadID == lead.leadID && $0.runID != firstRun }.map(\.runID))
                XCTAssertEqual(charged, reRuns, "\(lead.leadID): the re-enrich is charged for one run")
            }
        }
    }

    /// A re-enrich record keyed by another lead's id is dead-lettered, as a discovered lead or a
    /// found profile so keyed is: applied, it changed a lead whose partition the record is not
    /// in, and the record's offset could be committed before that lead's state was written.
    func testAReEnrichKeyedByAnotherLeadIsADeadLetter() async throws {
        try await withPipeline(environment: PipelineHarness.reliableProviders) { harness in
            let leads = try await Self.readyLeads(2, harness)
            let topics = harness.environment.topics
            let before = try await harness.latestStates()
            let firstRun = try XCTUnwrap(before[leads[1].leadID]?.runID)

            let request = ReEnrichRequested(leadID: leads[1].leadID, types: [.activity], requestedAt: Date(), requestedBy: "test",
                                            requestID: "request-misaddressed")
            try await harness.publish(request, topic: topics.leadCommands, key: leads[0].leadID.rawValue)
            try await waitUntil("a dead letter naming the key", timeoutSeconds: 60, pollMilliseconds: 500) {
                let letters = try await harness.readAll(DeadLetter.self, topic: topics.deadLetters)
                return letters.contains { $0.value.reason.contains("differs from leadID '\(leads[1].leadID)'") }
            }
            let after = try await harness.latestStates()
            let state = try XCTUnwrap(after[leads[1].leadID])
            XCTAssertEqual(Set(state.history.filter { $0.kind == .runStarted }.map(\.runID)), [firstRun], "no run for it")
        }
    }
}
