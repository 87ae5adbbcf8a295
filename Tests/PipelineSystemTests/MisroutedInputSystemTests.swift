import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// Leads published the way a careless producer would: another partition than murmur2 of the key
/// (librdkafka's default partitioner, say), or no key at all. Each finishes once, enriched.
final class MisroutedInputSystemTests: XCTestCase {
    func testLeadsInTheWrongPartitionOrWithoutAKeyFinishEnriched() async throws {
        try await withPipeline(partitions: 4, environment: PipelineHarness.reliableProviders.merging([
            "SIM_LATENCY_SCALE": "0", "PHASE_TIMEOUT_SECONDS": "20",
        ]) { $1 }) { harness in
            try harness.startAll()
            let topics = harness.environment.topics
            let leads = harness.makeLeads(30)
            var records: [ProducerRecord] = []
            for (index, lead) in leads.enumerated() {
                var record = try harness.environment.codec.record(lead, topic: topics.leadsDiscovered, key: lead.leadID.rawValue)
                if index % 3 == 0 {
                    record.key = nil
                    record.partition = Int32(index % 4)
                } else {
                    let right = KafkaPartitioner.partition(forKey: lead.leadID.rawValue, partitionCount: 4)
                    record.partition = (right + 1) % 4
                }
                records.append(record)
            }
            let producer = try KafkaProducer(configuration: harness.environment.kafka)
            _ = try await producer.send(records)
            await producer.close()

            let pool = try await harness.waitForPool(leads.count, timeoutSeconds: 120)
            XCTAssertEqual(pool.count, leads.count, "each lead once")
            let states = try await harness.latestStates()
            for lead in leads {
                let state = try XCTUnwrap(states[lead.leadID], "\(lead.leadID)")
                let skipped = state.profile.skippedPhases.filter { !$0.reason.contains("no profile URL") }
                XCTAssertEqual(skipped.map(\.reason), [], "\(lead.leadID) finished without its phases")
            }
        }
    }
}
