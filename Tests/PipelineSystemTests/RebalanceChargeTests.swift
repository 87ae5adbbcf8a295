import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// A coordinator that gets back partitions it gave up, with nothing written to their changelog
/// meanwhile, knows it sent every charge of the leads it finished there.
final class RebalanceChargeTests: XCTestCase {
    /// The leads are finished by the one coordinator; a member joins its group and leaves (a
    /// rebalance, as a broker outage or a deployment makes: every partition is revoked and
    /// assigned again); then each charged result is answered again, as a stage does when it
    /// replays requests after a SIGKILL. Nothing is charged twice. Before, the coordinator took
    /// the changelog end its new restore read as the line between leads it had finished and
    /// leads an earlier owner had, and sent every charge of these leads again.
    func testGivenBackItsOwnPartitionsTheCoordinatorSendsNoChargeAgain() async throws {
        try await withPipeline { harness in
            try harness.startAll()
            let (topics, codec) = (harness.environment.topics, harness.environment.codec)
            let leads = harness.makeLeads(8)
            try await harness.publish(leads: leads)
            _ = try await harness.waitForPool(leads.count)
            let charged = try await harness.readAll(BillingUsage.self, topic: topics.billingUsage).count
            XCTAssertGreaterThan(charged, 0, "the leads' phases charged")

            func restores() throws -> Int {
                try harness.logLines().filter { $0.key.hasPrefix("coordinator") }.values.joined()
                    .filter { $0.contains(#""message":"restored""#) }.count
            }
            let restoredBefore = try restores()
            var properties = TestBroker.fastGroupProperties
            properties["partition.assignment.strategy"] = "range"
            let member = try KafkaConsumer(configuration: harness.environment.kafka, groupID: topics.coordinatorGroup,
                                           topics: topics.coordinatorInputs, properties: properties)
            try await waitUntil("the member is given partitions", timeoutSeconds: 60, pollMilliseconds: 0) {
                _ = try await member.poll(maxRecords: 100, timeoutMilliseconds: 100)
                return !member.assignment.isEmpty
            }
            await member.close()  // it stored no offset: it commits none
            try await waitUntil("the coordinator restores its partitions twice more", timeoutSeconds: 60, pollMilliseconds: 200) {
                try restores() >= restoredBefore + 2
            }

            let partitions = try await KafkaAdmin(configuration: harness.environment.kafka).partitions(of: topics.phaseResults)
            var repeats: [ProducerRecord] = []
            try await KafkaConsumer.readToEnd(partitions, configuration: harness.environment.kafka) { record in
                guard let result = try? codec.decode(PhaseResultEnvelope.self, record: record), case .completed = result.outcome,
                      result.charges.contains(where: { $0.units > 0 }) else { return }
                repeats.append(ProducerRecord(topic: record.topic, key: record.key, value: record.value, headers: record.headers))
            }
            XCTAssertFalse(repeats.isEmpty)
            let producer = try KafkaProducer(configuration: harness.environment.kafka)
            let reports = try await producer.send(repeats)
            await producer.close()
            let admin = try KafkaAdmin(configuration: harness.environment.kafka)
            var ends: [TopicPartition: Int64] = [:]
            for report in reports {
                let partition = TopicPartition(topic: report.topic, partition: report.partition)
                ends[partition] = max(ends[partition] ?? 0, report.offset + 1)
            }
            try await waitUntil("the coordinator commits past the repeated answers", timeoutSeconds: 60, pollMilliseconds: 250) {
                let committed = try await admin.committedOffsets(group: topics.coordinatorGroup, partitions: Array(ends.keys))
                return ends.allSatisfy { partition, end in (committed[partition] ?? nil).map { $0 >= end } ?? false }
            }

            let usage = try await harness.readAll(BillingUsage.self, topic: topics.billingUsage)
            XCTAssertEqual(usage.count, charged, "no charge sent again")
            XCTAssertEqual(usage.count, Set(usage.map(\.value.idempotencyKey)).count, "nothing charged twice")
        }
    }
}
