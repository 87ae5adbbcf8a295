import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// Every ready run is in the lead pool exactly once, whatever was cut short: the coordinator's
/// batch writes the ready state and the pool entry to different partitions, and a SIGKILL can
/// leave either one acknowledged without the other.
final class PoolRepairSystemTests: XCTestCase {
    /// A ready state whose run has no pool entry (the entry was lost with the process) gets its
    /// entry when the coordinator restores the partition; ready runs that have one get no other.
    func testRestoreWritesThePoolEntryOfAReadyRunThatLostIt() async throws {
        try await withPipeline(partitions: 2, environment: ["SIM_LATENCY_SCALE": "0"]) { harness in
            let topics = harness.environment.topics
            for stage in PipelineHarness.stages { try harness.start(stage) }
            var coordinator = try harness.start("coordinator")
            let leads = harness.makeLeads(6)
            try await harness.publish(leads: leads)
            _ = try await harness.waitForPool(6, timeoutSeconds: 120)
            try await harness.stop(coordinator, signal: SIGKILL)

            // As if a second run of lead-1 became ready and the process died before its pool entry
            // was acknowledged: its ready state is in the changelog, its entry nowhere.
            let states = try await harness.latestStates()
            var state = try XCTUnwrap(states[leads[1].leadID])
            state.runID = "run-lost-entry"
            try await harness.publish(state, topic: topics.leadState, key: state.leadID.rawValue)

            coordinator = try harness.start("coordinator")
            var entries: [(key: String, value: LeadPoolEntry)] = []
            try await waitUntil("the lost entry is written", timeoutSeconds: 60, pollMilliseconds: 300) {
                entries = try await harness.readAll(LeadPoolEntry.self, topic: topics.leadPool)
                return entries.count >= 7
            }
            let runs = try await poolRuns(harness)
            XCTAssertEqual(runs.filter { $0.lead == leads[1].leadID.rawValue }.map(\.run).last, "run-lost-entry")
            XCTAssertEqual(entries.filter { $0.key == leads[1].leadID.rawValue }.last?.value.profile, state.profile)

            // A restore again (the repair was acknowledged) writes nothing more.
            try await harness.stop(coordinator, signal: SIGTERM)
            coordinator = try harness.start("coordinator")
            let more = harness.makeLeads(1, prefix: "later")
            try await harness.publish(leads: more)
            _ = try await harness.waitForPool(7, timeoutSeconds: 60)
            entries = try await harness.readAll(LeadPoolEntry.self, topic: topics.leadPool)
            XCTAssertEqual(entries.count, 8, "6 first runs, the repaired run, the later lead: \(entries.map(\.key))")
        }
    }

    /// The lead and run header of every pool record, in order.
    private func poolRuns(_ harness: PipelineHarness) async throws -> [(lead: String, run: String?)] {
        let admin = try KafkaAdmin(configuration: harness.environment.kafka)
        let partitions = try await admin.partitions(of: harness.environment.topics.leadPool)
        var runs: [(lead: String, run: String?)] = []
        try await KafkaConsumer.readToEnd(partitions, configuration: harness.environment.kafka, admin: admin,
                                          timeout: .seconds(30)) { record in
            runs.append((record.keyString ?? "", record.header(MessageHeaders.runID).map { String(decoding: $0, as: UTF8.self) }))
        }
        return runs
    }
}
