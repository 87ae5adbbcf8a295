import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
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
        }
    }
}
