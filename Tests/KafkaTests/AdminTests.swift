import Foundation
@testable import Kafka
import KafkaTestSupport
import XCTest

/// Admin operations against the real broker on loopback.
final class AdminTests: XCTestCase {
    func testCreateIsIdempotentAndReportsPartitionMismatch() async throws {
        let admin = try KafkaAdmin(configuration: TestBroker.configuration())
        let name = uniqueTopicName("admin")
        try await admin.createTopics([TopicSpecification(name: name, partitions: 6, configs: ["cleanup.policy": "compact"])])
        defer { Task { try? await admin.deleteTopics([name]) } }
        let topics = try await admin.listTopics()
        XCTAssertEqual(topics[name], 6)
        let partitions = try await admin.partitions(of: name)
        XCTAssertEqual(partitions.count, 6)

        // Same partition count again: fine.
        try await admin.createTopics([TopicSpecification(name: name, partitions: 6)])
        // Another partition count: reported.
        do {
            try await admin.createTopics([TopicSpecification(name: name, partitions: 4)])
            XCTFail("a partition-count mismatch must be reported")
        } catch let error as KafkaError {
            XCTAssertTrue(error.message.contains("6 partitions"), "\(error)")
            XCTAssertFalse(error.isRetriable)
        }
        try await admin.deleteTopics([name])
        try await waitUntil("topic deleted") { try await admin.listTopics()[name] == nil }
    }

    func testHighWatermarkIsRightAfterBatchedProduces() async throws {
        try await withTestTopic(partitions: 3) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration(), properties: ["linger.ms": "20"])
            // Several batches per partition, sent concurrently so librdkafka batches them.
            var perPartition: [Int32: Int64] = [:]
            for round in 0..<5 {
                let records = (0..<1000).map { i in
                    ProducerRecord(topic: topic, partition: Int32(i % 3), key: nil, value: Array("\(round)-\(i)".utf8))
                }
                for report in try await producer.send(records) {
                    perPartition[report.partition] = max(perPartition[report.partition] ?? 0, report.offset + 1)
                }
            }
            await producer.close()
            XCTAssertEqual(perPartition.values.reduce(0, +), 5000)

            let admin = try KafkaAdmin(configuration: TestBroker.configuration())
            let partitions = (0..<3).map { TopicPartition(topic: topic, partition: Int32($0)) }
            let marks = try await admin.watermarks(partitions)
            for tp in partitions {
                XCTAssertEqual(marks[tp]?.low, 0)
                XCTAssertEqual(marks[tp]?.high, perPartition[tp.partition], "\(tp)")
            }
        }
    }

    func testLagIsHighWatermarkMinusCommitted() async throws {
        try await withTestTopic(partitions: 2) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send((0..<50).map { ProducerRecord(topic: topic, partition: Int32($0 % 2), key: nil, value: [1]) })
            await producer.close()
            let group = uniqueTopicName("group")
            let admin = try KafkaAdmin(configuration: TestBroker.configuration())

            var lag = try await admin.lag(group: group, topics: [topic])
            XCTAssertEqual(lag.map(\.lag).reduce(0, +), 50, "nothing committed: everything is lag")
            XCTAssertTrue(lag.allSatisfy { $0.committed == nil })

            let consumer = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: group, topics: [topic],
                                             properties: TestBroker.fastGroupProperties)
            let records = try await consume(consumer, count: 50)
            for record in records where record.partition == 0 || record.offset < 10 {
                try consumer.markDone(record)
            }
            try await consumer.commit()
            lag = try await admin.lag(group: group, topics: [topic])
            let byPartition = Dictionary(uniqueKeysWithValues: lag.map { ($0.partition.partition, $0) })
            XCTAssertEqual(byPartition[0]?.committed, 25)
            XCTAssertEqual(byPartition[0]?.lag, 0)
            XCTAssertEqual(byPartition[1]?.committed, 10)
            XCTAssertEqual(byPartition[1]?.lag, 15)
            await consumer.close()
        }
    }

    func testDeletingMissingTopicIsNotAnError() async throws {
        let admin = try KafkaAdmin(configuration: TestBroker.configuration())
        try await admin.deleteTopics([uniqueTopicName("never-created")])
    }

    /// Nothing but its own calls polls an admin handle, and librdkafka queues each broker error on
    /// the handle's reply queue for the error callback: before, an outage's errors piled up there
    /// for as long as a long-lived handle (the broker watch, a table's) lived.
    func testBrokerErrorsQueuedOnTheHandleAreServedByItsCalls() async throws {
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: "admin-unreachable"))
        for _ in 0..<3 {
            let answered = try? await admin.brokers(timeoutMilliseconds: 500)
            XCTAssertNil(answered, "nothing listens on port 1")
        }
        XCTAssertEqual(admin.queuedReplies, 0, "broker errors left on the admin handle's reply queue")
    }

    /// A topic's configuration is described, and values set on it leave its others as they are.
    func testTopicConfigsAreDescribedAndSetValueByValue() async throws {
        let admin = try KafkaAdmin(configuration: TestBroker.configuration())
        let name = uniqueTopicName("admin-configs")
        try await admin.createTopics([TopicSpecification(name: name, partitions: 2,
                                                         configs: ["retention.ms": "604800000", "cleanup.policy": "compact"])])
        let before = try await admin.topicConfigs([name])
        XCTAssertEqual(before[name]?["retention.ms"], "604800000")
        try await admin.setTopicConfigs([name: ["retention.ms": "-1"]])
        let after = try await admin.topicConfigs([name])
        XCTAssertEqual(after[name]?["retention.ms"], "-1")
        XCTAssertEqual(after[name]?["cleanup.policy"], "compact")
        try await admin.deleteTopics([name])
    }
}
