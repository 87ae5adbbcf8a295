import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Stages
import Streaming
import XCTest

/// The coordinator merges a lead's web enrichment into its profile and its lead-pool entry.
final class WebEnrichmentMergeTests: XCTestCase {
    func testCompletedEnrichmentOfAReadyLeadReachesItsStateAndPoolEntry() async throws {
        try await withPipeline { harness in
            try harness.startAll()
            let leads = harness.makeLeads(3)
            try await harness.publish(leads: leads)
            _ = try await harness.waitForPool(3)

            let target = leads[0].leadID
            let topic = harness.environment.topics.webEnrichments
            let enrichment = WebEnrichment(
                leadID: target, searchID: nil, domain: "acme.example", url: "https://acme.example/", status: .completed,
                name: "Acme SaaS", companyDescription: "Outbound automation for B2B teams",
                socialLinks: ["https://www.linkedin.com/company/acme"], fetchedAt: Date())
            try await harness.publish(enrichment, topic: topic, key: target.rawValue)
            // A refused one for another lead changes nothing.
            try await harness.publish(
                WebEnrichment(leadID: leads[1].leadID, searchID: nil, domain: "x.example", url: nil, status: .refused,
                              reason: "redirect to another host", fetchedAt: Date()),
                topic: topic, key: leads[1].leadID.rawValue)
            // The tombstone a completed enrichment writes under `<key>#failed` is skipped, not a dead letter.
            let producer = try KafkaProducer(configuration: harness.environment.kafka)
            _ = try await producer.send(ProducerRecord(topic: topic, key: target.rawValue + WebEnrichment.failureKeySuffix, value: nil))
            await producer.close()

            try await waitUntil("the enrichment in the lead's state and pool entry", timeoutSeconds: 30, pollMilliseconds: 300) {
                let states = try await harness.latestStates()
                let pool = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool)
                let latestEntry = pool.last { $0.key == target.rawValue }?.value
                return states[target]?.profile.web?.companyDescription == "Outbound automation for B2B teams"
                    && latestEntry?.profile.web?.name == "Acme SaaS"
            }
            let states = try await harness.latestStates()
            XCTAssertNil(states[leads[1].leadID]?.profile.web)
            XCTAssertEqual(states[target]?.status, .ready)
            let admin = try KafkaAdmin(configuration: harness.environment.kafka)
            try await waitUntil("the coordinator read every web enrichment", timeoutSeconds: 30, pollMilliseconds: 300) {
                try await admin.lag(group: harness.environment.topics.coordinatorGroup, topics: [topic]).reduce(0) { $0 + $1.lag } == 0
            }
            let letters = try await harness.readAll(DeadLetter.self, topic: harness.environment.topics.deadLetters)
            XCTAssertEqual(letters.filter { $0.value.sourceTopic == topic }.map(\.value.reason), [], "a web enrichment dead-lettered")
        }
    }

    /// An enrichment read in the same poll as the priority result that makes its lead ready is
    /// merged too. The coordinator applies the priority records first and, once their outputs
    /// are acknowledged, keeps a ready lead only as its changelog position; the rest of the poll
    /// must find the lead again, not drop the enrichment as one of a lead it does not hold.
    func testAnEnrichmentPolledWithTheResultThatMakesItsLeadReadyIsMerged() async throws {
        try await withPipeline { harness in
            // The test is its finalize stage, so that it can send the answer with the enrichment.
            let requests = try harness.startAsTheFinalizeStage()
            let (topics, codec) = (harness.environment.topics, harness.environment.codec)
            let lead = harness.makeLeads(1)[0]
            XCTAssertTrue(lead.source.isIntent, "a priority lead: its results come on the priority topic")
            try await harness.publish(leads: [lead])
            let request = try codec.decode(PhaseRequest.self, record: try await consume(requests, count: 1, timeoutSeconds: 120)[0])
            await requests.close()
            XCTAssertTrue(request.isPriority)
            let answer = try await FinalizeStageHandler().handle(request).records(topics: topics, codec: codec, isPriority: true)
            let enrichment = WebEnrichment(
                leadID: lead.leadID, searchID: nil, domain: "acme.example", url: "https://acme.example/", status: .completed,
                name: "Acme SaaS", companyDescription: "Outbound automation for B2B teams", socialLinks: [], fetchedAt: Date())
            let producer = try KafkaProducer(configuration: harness.environment.kafka)
            _ = try await producer.send(answer + [try codec.record(enrichment, topic: topics.webEnrichments, key: lead.leadID.rawValue)])
            await producer.close()

            try await waitUntil("the lead ready with its enrichment", timeoutSeconds: 30, pollMilliseconds: 300) {
                let state = try await harness.latestStates()[lead.leadID]
                return state?.status == .ready && state?.profile.web?.name == "Acme SaaS"
            }
        }
    }
}
