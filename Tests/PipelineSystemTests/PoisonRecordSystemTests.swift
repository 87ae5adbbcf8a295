import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// Records of any size or shape on every input topic of the coordinator and the stages: no
/// process stops or freezes, every bad record becomes a dead letter, and later leads finish.
final class PoisonRecordSystemTests: XCTestCase {
    func testRecordsOfAnySizeOnEveryInputTopicNeverStopAProcess() async throws {
        try await withPipeline(partitions: 2, environment: ["LOG_LEVEL": "warning"]) { harness in
            let services = ["coordinator"] + PipelineHarness.stages
            let ports = Dictionary(uniqueKeysWithValues: services.map { ($0, TestBroker.freeLoopbackPort()) })
            let processes = try services.map { try harness.start($0, environment: ["METRICS_PORT": String(ports[$0]!)]) }
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
            do {
                try await waitUntil("a dead letter for every invalid record", timeoutSeconds: 60, pollMilliseconds: 500) {
                    let letters = try await harness.readAll(DeadLetter.self, topic: topics.deadLetters)
                    lettered = Set(letters.map { "\($0.value.sourceTopic)/\($0.value.partition)/\($0.value.offset)" })
                    return invalid.isSubset(of: lettered)
                }
            } catch let timeout as WaitTimeout {
                // Which ones, and the letters each process counts as sent (below): a letter a
                // process counted but the topic does not show was lost by the broker or its reader.
                let missing = invalid.subtracting(lettered).sorted()
                XCTFail("\(timeout): \(missing.count) of \(invalid.count) missing, \(missing.prefix(12).joined(separator: ", "))")
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

            // Each process counts the letters it sent, by kind of reason: together, every letter.
            var byReason: [String: Double] = [:]
            var byService: [String: Double] = [:]
            try? await waitUntil("every dead letter counted", timeoutSeconds: 30, pollMilliseconds: 500) {
                byReason = [:]
                byService = [:]
                for (service, port) in ports {
                    let (_, text) = try await httpGet("http://127.0.0.1:\(port)/metrics")
                    for (series, value) in try PrometheusSamples.parse(text) where series.hasPrefix("pipeline_dead_letters_total{") {
                        byReason[series, default: 0] += value
                        byService[service, default: 0] += value
                    }
                }
                return Int(byReason.values.reduce(0, +)) == letters.count
            }
            let lettersByService = Dictionary(grouping: letters.map(\.value.service), by: { $0 }).mapValues(\.count)
            XCTAssertEqual(Int(byReason.values.reduce(0, +)), letters.count, "\(byReason); letters by service \(lettersByService), counted \(byService)")
            XCTAssertGreaterThan(byReason["pipeline_dead_letters_total{reason=\"malformed\"}"] ?? 0, 0, "\(byReason)")
            XCTAssertGreaterThan(byReason["pipeline_dead_letters_total{reason=\"too-large\"}"] ?? 0, 0, "\(byReason)")
            XCTAssertEqual(byReason.count, DeadLetterKind.allCases.count, "every kind is served, at zero when none came: \(byReason)")
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
