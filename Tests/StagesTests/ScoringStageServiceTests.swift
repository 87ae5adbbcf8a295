import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Stages
import Streaming
import XCTest

/// The scoring stage against the real broker: the offers table read at start.
final class ScoringStageServiceTests: XCTestCase {
    func testScoresWithTheOffersTable() async throws {
        try await withNamespace(service: "scoring-stage") { environment in
            let topics = environment.topics
            let codec = environment.codec
            let producer = try KafkaProducer(configuration: environment.kafka)
            _ = try await producer.send(Fixtures.configurationRecords(in: environment))
            let service = try StageService.makeScoringStage(
                environment: environment, configuration: StageConfiguration(consumerProperties: TestBroker.fastGroupProperties),
                scorer: FixedScorer.active())
            let outputs = try await withRunning({ try await service.run() }) {
                let known = Fixtures.request(.scoring, profile: Fixtures.profile())
                let unknown = Fixtures.request(.scoring, lead: Fixtures.lead(id: "lead-2", offer: "offer-x"))
                _ = try await producer.send([
                    try codec.record(known, topic: topics.phaseRequests(.scoring), key: "lead-1"),
                    try codec.record(unknown, topic: topics.phaseRequests(.scoring), key: "lead-2"),
                ])
                let reader = try KafkaConsumer(
                    configuration: environment.kafka, groupID: uniqueTopicName("reader"),
                    topics: [topics.phaseResults, topics.autopilotEnrollments], properties: TestBroker.fastGroupProperties)
                let outputs = try await consume(reader, count: 2, timeoutSeconds: 60)
                await reader.close()
                return outputs
            }
            await producer.close()

            let results = try outputs.filter { $0.topic == topics.phaseResults }.map { try codec.decode(PhaseResult.self, record: $0) }
            let byLead = Dictionary(uniqueKeysWithValues: results.map { ($0.leadID, $0) })
            XCTAssertEqual(byLead["lead-1"]?.outcome, .completed)
            XCTAssertEqual(byLead["lead-1"]?.payload.scores?.buyerState, .active)
            XCTAssertEqual(byLead["lead-2"]?.outcome, .failed(reason: "unknown offer offer-x: not in this stage's offers table yet", isRetriable: true),
                           "after catching its table up: retried by the coordinator")
            XCTAssertFalse(outputs.contains { $0.topic == topics.autopilotEnrollments }, "finalize enrolls, not scoring")
        }
    }
}
