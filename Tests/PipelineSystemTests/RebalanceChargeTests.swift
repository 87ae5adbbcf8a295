import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Stages
import Streaming
import XCTest

/// A coordinator that gets back partitions it gave up, with nothing written to their changelog
/// meanwhile, knows it sent every charge of the leads it finished there; what an earlier owner
/// charged stays unknown for a lead's life here, even once this coordinator writes its state.
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
            let topics = harness.environment.topics
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

            let repeated = try await Self.answerChargedResultsAgain(harness)
            XCTAssertGreaterThan(repeated, 0)

            let usage = try await harness.readAll(BillingUsage.self, topic: topics.billingUsage)
            XCTAssertEqual(usage.count, charged, "no charge sent again")
            XCTAssertEqual(usage.count, Set(usage.map(\.value.idempotencyKey)).count, "nothing charged twice")
        }
    }

    /// A coordinator killed after finishing a lead is followed by another, for which the lead
    /// is an earlier owner's: a repeated charged answer sends its charge again (under its key:
    /// the killed one may have stopped between the lead's state and its charges). A web
    /// enrichment makes the new coordinator write the lead's state itself, after the line its
    /// restore drew; its charges are still not known sent, and each answer repeated after that
    /// sends its charge again. (Before the lead was kept as inherited, the state written here
    /// made them count as sent, and none went again.)
    func testALeadAnEarlierOwnerFinishedKeepsItsChargesUnknownOnceItsStateIsWrittenHere() async throws {
        try await withPipeline { harness in
            let first = try harness.start("coordinator")
            for stage in PipelineHarness.stages { _ = try harness.start(stage) }
            let topics = harness.environment.topics
            let lead = harness.makeLeads(1)[0]
            try await harness.publish(leads: [lead])
            _ = try await harness.waitForPool(1)
            // Its ready state written (the pool entry comes first): the next coordinator restores
            // it ready, an earlier owner's, not running.
            try await waitUntil("the lead's state is ready", timeoutSeconds: 30, pollMilliseconds: 200) {
                try await harness.latestStates()[lead.leadID]?.status == .ready
            }
            // And every answer committed: one left for the next coordinator would send its charge
            // again before the repeats do.
            try await Self.waitForTheCoordinatorToCommitItsInputs(harness)
            let charged = try await harness.readAll(BillingUsage.self, topic: topics.billingUsage).count
            XCTAssertGreaterThan(charged, 0, "the lead's phases charged")

            _ = try await harness.stop(first, signal: SIGKILL)
            _ = try harness.start("coordinator")
            let enrichment = WebEnrichment(
                leadID: lead.leadID, searchID: nil, domain: "acme.example", url: "https://acme.example/", status: .completed,
                name: "Acme SaaS", companyDescription: "Outbound automation for B2B teams", socialLinks: [], fetchedAt: Date())
            try await harness.publish(enrichment, topic: topics.webEnrichments, key: lead.leadID.rawValue)
            try await waitUntil("the new coordinator writes the lead's state with its enrichment", timeoutSeconds: 60, pollMilliseconds: 300) {
                try await harness.latestStates()[lead.leadID]?.profile.web?.name == "Acme SaaS"
            }
            // The enrichment's batch confirmed and the lead retired again, its state this
            // coordinator's: a repeat handled while the machine was still held would send its
            // charge again whatever the lead's state.
            try await Self.waitForTheCoordinatorToCommitItsInputs(harness)

            let repeated = try await Self.answerChargedResultsAgain(harness)
            XCTAssertGreaterThan(repeated, 0)
            let usage = try await harness.readAll(BillingUsage.self, topic: topics.billingUsage)
            XCTAssertEqual(usage.count, charged + repeated, "each repeated charged answer sent its charge again")
            XCTAssertEqual(Set(usage.map(\.value.idempotencyKey)).count, charged, "under the keys it was charged with")
        }
    }

    /// Waits until the coordinator's group has committed every record of its inputs.
    private static func waitForTheCoordinatorToCommitItsInputs(_ harness: PipelineHarness) async throws {
        let topics = harness.environment.topics
        let admin = try KafkaAdmin(configuration: harness.environment.kafka)
        try await waitUntil("the coordinator commits all its inputs", timeoutSeconds: 60, pollMilliseconds: 250) {
            try await admin.lag(group: topics.coordinatorGroup, topics: topics.coordinatorInputs).allSatisfy { $0.lag == 0 }
        }
    }

    /// Sends every completed, charged phase result again (of both priorities), as a stage does
    /// that replays its requests after a SIGKILL, and waits until the coordinator has committed
    /// past them; the number sent.
    private static func answerChargedResultsAgain(_ harness: PipelineHarness) async throws -> Int {
        let (topics, codec) = (harness.environment.topics, harness.environment.codec)
        let admin = try KafkaAdmin(configuration: harness.environment.kafka)
        var partitions: [TopicPartition] = []
        for topic in [topics.phaseResults, topics.phaseResultsPriority] { partitions += try await admin.partitions(of: topic) }
        var repeats: [ProducerRecord] = []
        try await KafkaConsumer.readToEnd(partitions, configuration: harness.environment.kafka) { record in
            guard let result = try? codec.decode(PhaseResultEnvelope.self, record: record), case .completed = result.outcome,
                  result.charges.contains(where: { $0.units > 0 }) else { return }
            repeats.append(ProducerRecord(topic: record.topic, key: record.key, value: record.value, headers: record.headers))
        }
        guard !repeats.isEmpty else { return 0 }
        let producer = try KafkaProducer(configuration: harness.environment.kafka)
        _ = try await producer.send(repeats)
        await producer.close()
        try await waitForTheCoordinatorToCommitItsInputs(harness)
        return repeats.count
    }
}
