import Enrichment
import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Runtime
import Streaming
import XCTest

/// The web enricher's process against the real broker, in a namespace of its own, reading pages
/// from a stub site on 127.0.0.1.
final class WebEnricherServiceTests: XCTestCase {
    /// `web.enrichments` is compacted: of a key, the last record is what stays. A request of a lead
    /// that fails after one that completed must not write under the key of the completed
    /// enrichment, or compaction leaves the lead with the failure and its company's page is lost
    /// to every reader of the table.
    func testAFailureDoesNotReplaceACompletedEnrichmentOfTheSameLead() async throws {
        let site = try HTTPServer { request in
            request.path == "/" ? StubSite.page : HTTPResponse.text("gone", status: 404)
        }
        defer { site.stop() }
        try await withEnrichmentNamespace(service: "web-enricher") { environment in
            let settings = WebEnricherSettings(isLoopbackHTTPAllowed: true, consumerProperties: TestBroker.fastGroupProperties)
            let service = try WebEnricherService(environment: environment, settings: settings, metricsSettings: MetricsSettings())
            let running = Task { try await service.run() }
            let topics = environment.topics
            let base = "http://127.0.0.1:\(site.port)"
            let requests = [
                WebEnrichmentRequested(leadID: "lead-1", domain: "127.0.0.1", url: base + "/", requestedAt: Date()),
                WebEnrichmentRequested(leadID: "lead-1", domain: "127.0.0.1", url: base + "/gone", requestedAt: Date()),
            ]
            let producer = try KafkaProducer(configuration: environment.kafka)
            _ = try await producer.send(try requests.map { try environment.codec.record($0, topic: topics.webEnrichmentRequests, key: $0.key) })
            await producer.close()
            let partitions = try await KafkaAdmin(configuration: environment.kafka).partitions(of: topics.webEnrichments)
            var written: [ConsumerRecord] = []
            try await waitUntil("both requests answered", pollMilliseconds: 100) {
                written = []
                try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka) { written.append($0) }
                return written.count >= 2
            }
            running.cancel()
            try await running.value

            let enrichments = try written.map { ($0.keyString ?? "", try environment.codec.decode(WebEnrichment.self, record: $0)) }
            XCTAssertEqual(Set(enrichments.map(\.1.status)), [.completed, .failed])
            let compacted = Dictionary(enrichments, uniquingKeysWith: { _, last in last })
            XCTAssertEqual(compacted["lead-1"]?.status, .completed, "the lead's enrichment after compaction")
            XCTAssertEqual(compacted["lead-1"]?.name, "Acme")
        }
    }
}
