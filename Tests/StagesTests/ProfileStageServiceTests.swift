import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Stages
import Streaming
import XCTest

/// A pipeline environment on the test broker under a unique namespace, its topics created for
/// `body` and deleted afterwards (the local broker keeps every record in memory otherwise).
func withNamespace(service: String, _ body: (PipelineEnvironment) async throws -> Void) async throws {
    let environment = try PipelineEnvironment(service: service, environment: [
        "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("stage"),
        "PIPELINE_PARTITIONS": "2", "SIM_LATENCY_SCALE": "0", "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0",
        "SIM_ACTIVITY_FAILURE_RATE": "0", "LOG_LEVEL": "warning",
    ])
    try await environment.ensureTopics()
    try await deletingTopics(environment.topics.all, configuration: environment.kafka) { try await body(environment) }
}

/// Every record of `topic` in `environment`'s namespace, read up to the ends its partitions have now.
func readAll(_ topic: String, _ environment: PipelineEnvironment) async throws -> [ConsumerRecord] {
    let partitions = try await KafkaAdmin(configuration: environment.kafka).partitions(of: topic)
    var records: [ConsumerRecord] = []
    try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka) { records.append($0) }
    return records
}

/// The profile stage's Kafka wrapper against the real broker, in a namespace of its own.
final class ProfileStageServiceTests: XCTestCase {
    func testAnswersRequestsAndDeadLettersGarbage() async throws {
        try await withNamespace(service: "profile-stage") { environment in
            try await exercise(environment, topics: environment.topics)
        }
    }

    private func exercise(_ environment: PipelineEnvironment, topics: Topics) async throws {
        let service = try StageService.makeProfileStage(
            environment: environment, configuration: StageConfiguration(consumerProperties: TestBroker.fastGroupProperties))
        XCTAssertEqual(service.groupID, "\(topics.namespace!).stage.profile")
        let task = Task { try await service.run() }

        let codec = environment.codec
        let producer = try KafkaProducer(configuration: environment.kafka)
        var requests = (1...3).map { index in
            Fixtures.request(.profile, lead: Fixtures.lead(
                id: "lead-\(index)", linkedin: "linkedin.com/in/person\(index)", x: "x.com/person\(index)"))
        }
        requests[2].isPriority = true
        var records = try requests.map { request in
            try codec.record(request, topic: topics.phaseRequests(.profile, isPriority: request.isPriority), key: request.leadID.rawValue)
        }
        records.append(ProducerRecord(topic: topics.phaseRequests(.profile), key: "garbage", value: Array("not json".utf8)))
        let misrouted = Fixtures.request(.activity, lead: Fixtures.lead(id: "lead-9"))
        records.append(try codec.record(misrouted, topic: topics.phaseRequests(.profile), key: "lead-9"))
        _ = try await producer.send(records)

        let reader = try KafkaConsumer(
            configuration: environment.kafka, groupID: uniqueTopicName("reader"),
            topics: [topics.phaseResults, topics.phaseResultsPriority, topics.deadLetters], properties: TestBroker.fastGroupProperties)
        let outputs = try await consume(reader, count: 5, timeoutSeconds: 60)
        await reader.close()

        // The priority request is answered on the priority twin of the results topic.
        XCTAssertEqual(outputs.filter { $0.topic == topics.phaseResultsPriority }.map(\.keyString), ["lead-3"])
        let resultTopics: Set = [topics.phaseResults, topics.phaseResultsPriority]
        let results = try outputs.filter { resultTopics.contains($0.topic) }.map { try codec.decode(PhaseResult.self, record: $0) }
        XCTAssertEqual(Set(results.map(\.leadID)), ["lead-1", "lead-2", "lead-3"])
        for result in results {
            XCTAssertEqual(result.phase, .profile)
            XCTAssertEqual(result.runID, "run-1")
            XCTAssertEqual(result.attempt, 1)
            XCTAssertEqual(result.service, "profile-stage")
            XCTAssertNotNil(result.payload.profile)
        }
        XCTAssertEqual(
            outputs.filter { resultTopics.contains($0.topic) }.map(\.keyString), results.map { Optional($0.leadID.rawValue) })
        let letters = try outputs.filter { $0.topic == topics.deadLetters }.map { try codec.decode(DeadLetter.self, record: $0) }
        XCTAssertEqual(letters.count, 2)
        let garbage = letters.first { $0.original == Array("not json".utf8) }
        XCTAssertNotNil(garbage)
        XCTAssertTrue(garbage?.reason.contains("malformed JSON") ?? false, garbage?.reason ?? "")
        XCTAssertTrue(letters.contains { $0.reason.contains("request for phase activity on the profile stage") }, "\(letters.map(\.reason))")
        XCTAssertTrue(letters.allSatisfy { $0.service == "profile-stage" })

        // Every input offset is committed once its outputs are acknowledged and the stage stops.
        task.cancel()
        try await task.value
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let lag = try await admin.lag(group: service.groupID, topics: service.inputTopics)
        XCTAssertEqual(lag.reduce(0) { $0 + $1.lag }, 0, "\(lag)")
        await producer.close()
    }
}
