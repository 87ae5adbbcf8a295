import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import PipelineServices
import XCTest

/// Records of any size or shape on every input topic of the coordinator and the stages: no
/// process stops or freezes, every bad record becomes a dead letter, and later leads finish.
final class PoisonRecordSystemTests: XCTestCase {
    func testRecordsOfAnySizeOnEveryInputTopicNeverStopAProcess() async throws {
        try await withPipeline(partitions: 2, environment: ["LOG_LEVEL": "warning"]) { harness in
            let processes = try (["coordinator"] + PipelineHarness.stages).map { try harness.start($0) }
            let topics = harness.environment.topics
            let inputs = [topics.leadsDiscovered, topics.leadsDiscoveredPriority, topics.leadCommands, topics.phaseResults,
                          topics.phaseResultsPriority, topics.webEnrichments]
                + Phase.allCases.flatMap { [topics.phaseRequests($0), topics.phaseRequests($0, isPriority: true)] }
            let sizes = [500_000, 900_000, 1_100_000, 5_000_000]

            // Invalid JSON of each size on every input topic, and on the input topic valid leads
            // whose name alone is that large.
            var records = Self.invalidRecords(on: inputs, sizes: sizes)
            for size in sizes {
                var lead = harness.makeLeads(1, prefix: "huge-\(size)")[0]
                lead.name = String(repeating: "N", count: size)
                records.append(try harness.environment.codec.record(lead, topic: topics.leadsDiscovered, key: lead.leadID.rawValue))
            }
            let reports = try await Self.sendThenFinishLeads(records, harness)

            // Every invalid record is a dead letter naming where it was; every huge lead is a
            // dead letter or ready.
            let invalid = Set(reports.prefix(inputs.count * sizes.count).map { "\($0.topic)/\($0.partition)/\($0.offset)" })
            var lettered: Set<String> = []
            try await waitUntil("a dead letter for every invalid record", timeoutSeconds: 60, pollMilliseconds: 500) {
                let letters = try await harness.readAll(DeadLetter.self, topic: topics.deadLetters)
                lettered = Set(letters.map { "\($0.value.sourceTopic)/\($0.value.partition)/\($0.value.offset)" })
                return invalid.isSubset(of: lettered)
            }
            let letters = try await harness.readAll(DeadLetter.self, topic: topics.deadLetters)
            for letter in letters.map(\.value) {
                XCTAssertNotNil(letter.originalBytes)
                XCTAssertNotNil(letter.originalFNV1a64)
                if let bytes = letter.originalBytes, bytes > 700_000 {
                    XCTAssertNil(letter.originalBase64, "an original of \(bytes) bytes cannot be copied into a record")
                }
            }
            let states = try await harness.latestStates()
            for (size, report) in zip(sizes, reports.suffix(sizes.count)) {
                let key = "\(report.topic)/\(report.partition)/\(report.offset)"
                let isReady = states[LeadID("huge-\(size)-0")]?.status == .ready
                XCTAssertTrue(lettered.contains(key) || isReady, "lead with a name of \(size) bytes neither dead-lettered nor ready")
            }
            for (service, process) in zip(["coordinator"] + PipelineHarness.stages, processes) {
                XCTAssertTrue(process.isRunning, "\(service) stopped")
            }
        }
    }

    /// The same on the inputs of the optional processes and on the tables every process reads:
    /// web enrichment requests become dead letters; records of the pool, accounts and offers that
    /// do not decode are skipped with a warning (their writers are the pipeline and operators).
    func testRecordsOfAnySizeOnTheOtherProcessesInputsAndTheTables() async throws {
        try await withPipeline(partitions: 2, environment: ["LOG_LEVEL": "warning"]) { harness in
            let services = ["coordinator"] + PipelineHarness.stages + ["profile-finder", "web-enricher"]
            let processes = try services.map { try harness.start($0) }
            let topics = harness.environment.topics
            let sizes = [500_000, 900_000, 1_100_000, 5_000_000]
            let records = Self.invalidRecords(on: [topics.webEnrichmentRequests, topics.leadPool, topics.accounts, topics.offers],
                                              sizes: sizes)
            let reports = try await Self.sendThenFinishLeads(records, harness)
            let requests = Set(reports.prefix(sizes.count).map { "\($0.topic)/\($0.partition)/\($0.offset)" })
            try await waitUntil("a dead letter for every web enrichment request", timeoutSeconds: 60, pollMilliseconds: 500) {
                let letters = try await harness.readAll(DeadLetter.self, topic: topics.deadLetters)
                return requests.isSubset(of: Set(letters.map { "\($0.value.sourceTopic)/\($0.value.partition)/\($0.value.offset)" }))
            }
            for (service, process) in zip(services, processes) {
                XCTAssertTrue(process.isRunning, "\(service) stopped")
            }
        }
    }

    /// Invalid JSON of each size on each topic, keyed `poison-<size>`.
    private static func invalidRecords(on topics: [String], sizes: [Int]) -> [ProducerRecord] {
        topics.flatMap { topic in
            sizes.map { size in
                ProducerRecord(topic: topic, key: "poison-\(size)",
                               value: Array("{\"schema\":".utf8) + Array(repeating: UInt8(ascii: "x"), count: size))
            }
        }
    }

    /// Sends `records` (the test's producer takes records of up to 10 MB), then 12 ordinary leads
    /// on every partition and waits for them in the pool; the reports of `records`.
    private static func sendThenFinishLeads(_ records: [ProducerRecord], _ harness: PipelineHarness) async throws -> [DeliveryReport] {
        let producer = try KafkaProducer(configuration: harness.environment.kafka, properties: ["message.max.bytes": "10000000"])
        let reports = try await producer.send(records)
        await producer.close()
        try await harness.publish(leads: harness.makeLeads(12, prefix: "after"))
        _ = try await harness.waitForPool(12, timeoutSeconds: 180)
        return reports
    }
}
