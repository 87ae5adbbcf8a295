import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import PipelineServices
import XCTest

/// The coordinator's bound on running leads: standard leads wait in `leads.backlog`, intent
/// leads overtake them.
final class AdmissionSystemTests: XCTestCase {
    func testStandardLeadsWaitInTheBacklogWhileAnIntentLeadOvertakesThem() async throws {
        let bound = 6
        try await withPipeline(environment: ["SIM_LATENCY_SCALE": "0.5", "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0"]) { harness in
            let port = TestBroker.freeLoopbackPort()
            try harness.start("coordinator", environment: ["COORDINATOR_MAX_RUNNING_LEADS": String(bound), "METRICS_PORT": String(port)])
            for stage in PipelineHarness.stages { try harness.start(stage) }
            let standard = harness.makeLeads(60).map { lead in
                var lead = lead
                lead.source = .csvImport
                return lead
            }
            try await harness.publish(leads: standard)

            // Running leads (pending or processing) on the coordinator's /metrics, sampled until all are ready.
            var mostRunning = 0
            func sampleRunning() async throws -> Int? {
                guard let (_, text) = try? await httpGet("http://127.0.0.1:\(port)/metrics") else { return nil }
                let samples = try PrometheusSamples.parse(text)
                let running = ["pending", "processing"].compactMap { samples["pipeline_coordinator_leads{status=\"\($0)\"}"] }
                guard running.count == 2 else { return nil }
                let count = Int(running.reduce(0, +))
                mostRunning = max(mostRunning, count)
                return count
            }
            try await waitUntil("the coordinator at its bound", timeoutSeconds: 60, pollMilliseconds: 100) {
                (try await sampleRunning() ?? 0) >= bound
            }
            var intent = harness.makeLeads(1, prefix: "intent")[0]
            intent.source = .intentSearch
            try await harness.publish(leads: [intent])

            var pool: [(key: String, value: LeadPoolEntry)] = []
            try await waitUntil("every lead ready", timeoutSeconds: 180, pollMilliseconds: 250) {
                _ = try await sampleRunning()
                pool = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool)
                return Set(pool.map(\.key)).count == standard.count + 1
            }
            XCTAssertEqual(pool.count, standard.count + 1, "every lead ready exactly once")
            XCTAssertLessThanOrEqual(mostRunning, bound + 1, "at most the bound of standard leads ran at once, plus the intent lead")

            // Every standard lead went through the backlog; the intent lead did not.
            let backlog = try await harness.readAll(LeadDiscovered.self, topic: harness.environment.topics.leadsBacklog)
            XCTAssertEqual(Set(backlog.map(\.key)), Set(standard.map(\.leadID.rawValue)))

            // The intent lead overtook the backlog: most standard leads finished after it.
            let finished = Dictionary(pool.map { ($0.key, $0.value.finishedAt) }) { first, _ in first }
            let intentFinished = try XCTUnwrap(finished[intent.leadID.rawValue])
            let after = standard.filter { (finished[$0.leadID.rawValue] ?? .distantPast) > intentFinished }.count
            XCTAssertGreaterThanOrEqual(after, standard.count / 2, "only \(after) of \(standard.count) standard leads finished after the intent lead")
        }
    }
}
