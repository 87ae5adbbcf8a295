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
        let written = try await enrich(["/", "/gone"])
        let enrichments = written.compactMap { key, enrichment in enrichment.map { (key, $0) } }
        XCTAssertEqual(Set(enrichments.map(\.1.status)), [.completed, .failed])
        let compacted = Dictionary(enrichments, uniquingKeysWith: { _, last in last })
        XCTAssertEqual(compacted["lead-1"]?.status, .completed, "the lead's enrichment after compaction")
        XCTAssertEqual(compacted["lead-1"]?.name, "Acme")
    }

    /// A completed enrichment clears an earlier failure of the same lead: with the completion it
    /// writes a tombstone under `<key>#failed`, so compaction leaves the lead with its page and
    /// no failure beside it. The failure record stayed for good: a reader of `lead-1#failed`
    /// saw a lead whose latest request failed unless it compared the two records' times.
    func testACompletedEnrichmentClearsAnEarlierFailureOfTheSameLead() async throws {
        let written = try await enrich(["/gone", "/"])
        let compacted = Dictionary(written, uniquingKeysWith: { _, last in last })
        let failureKey = "lead-1" + WebEnrichment.failureKeySuffix
        XCTAssertEqual(compacted.keys.sorted(), ["lead-1", failureKey])
        XCTAssertEqual(compacted["lead-1"]??.status, .completed, "the lead's enrichment after compaction")
        XCTAssertEqual(compacted["lead-1"]??.name, "Acme")
        XCTAssertEqual(written.filter { $0.key == failureKey }.count, 2, "a failure, then its tombstone")
        XCTAssertNil(compacted[failureKey] ?? nil, "the failure was not cleared by a tombstone")
    }

    /// What the web enricher writes for requests of lead-1 for `paths` of a stub site (`/` its
    /// page, anything else a 404), in this order: each record's key and enrichment (nil: a
    /// tombstone), in the order written for each key. Read once the service, having answered
    /// every request, has stopped: its drain acknowledged every record it wrote.
    private func enrich(_ paths: [String]) async throws -> [(key: String, enrichment: WebEnrichment?)] {
        let site = try HTTPServer { request in
            request.path == "/" ? StubSite.page : HTTPResponse.text("gone", status: 404)
        }
        defer { site.stop() }
        var written: [(key: String, enrichment: WebEnrichment?)] = []
        try await withEnrichmentNamespace(service: "web-enricher") { environment in
            let settings = WebEnricherSettings(isLoopbackHTTPAllowed: true, consumerProperties: TestBroker.fastGroupProperties)
            let service = try WebEnricherService(environment: environment, settings: settings, metricsSettings: MetricsSettings())
            let running = Task { try await service.run() }
            let (topics, codec) = (environment.topics, environment.codec)
            let requests = paths.map {
                WebEnrichmentRequested(leadID: "lead-1", domain: "127.0.0.1", url: "http://127.0.0.1:\(site.port)\($0)", requestedAt: Date())
            }
            let producer = try KafkaProducer(configuration: environment.kafka)
            _ = try await producer.send(try requests.map { try codec.record($0, topic: topics.webEnrichmentRequests, key: $0.key) })
            await producer.close()
            let partitions = try await KafkaAdmin(configuration: environment.kafka).partitions(of: topics.webEnrichments)
            func read() async throws {
                written = []
                try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka) { record in
                    written.append((record.keyString ?? "", try record.value.map { _ in try codec.decode(WebEnrichment.self, record: record) }))
                }
            }
            try await waitUntil("every request answered", pollMilliseconds: 100) {
                try await read()
                return written.filter { $0.enrichment != nil }.count >= requests.count
            }
            running.cancel()
            try await running.value
            try await read()
        }
        return written
    }
}
