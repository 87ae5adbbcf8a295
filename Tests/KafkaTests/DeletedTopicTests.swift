import Foundation
import Kafka
import KafkaTestSupport
import Synchronization
import XCTest

/// A consumer still fetching a topic that is deleted under it. The local broker answers such a
/// fetch with a zero topic id and a leader tag, and librdkafka 2.8.0's leader discovery then
/// looked a topic with no name up by name: signal 11 in the consumer's process, the whole test
/// run with it (Deploy/patches/librdkafka-2.8.0-nameless-leader-update.patch).
final class DeletedTopicTests: XCTestCase {
    /// How long a consumer goes on polling after the delete: the crash came within a few
    /// fetches of it.
    private static let pollingAfterDelete: Duration = .seconds(8)

    /// A group member reading a topic keeps polling after the topic is deleted, and the topic's
    /// absence reaches it as a rebalance taking its partition away.
    func testAGroupMemberOfADeletedTopicKeepsPollingAndLosesItsPartition() async throws {
        let admin = try KafkaAdmin(configuration: TestBroker.configuration(clientID: "test-admin"))
        let topic = uniqueTopicName("deleted-member")
        try await admin.createTopics([TopicSpecification(name: topic, partitions: 1)])
        try await produceOneRecord(to: topic)
        let revoked = Mutex(false)
        // The deletion is seen at the member's next metadata refresh: every second here, not
        // librdkafka's five minutes.
        let properties = TestBroker.fastGroupProperties.merging(["topic.metadata.refresh.interval.ms": "1000"]) { _, new in new }
        let member = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("deleted-group"),
                                       topics: [topic], properties: properties) { event in
            if case .revoked = event { revoked.withLock { $0 = true } }
        }
        do {
            let records = try await consume(member, count: 1)
            XCTAssertEqual(records.map(\.topic), [topic])
            try await admin.deleteTopics([topic])
            try await pollFor(Self.pollingAfterDelete, member)
            try await waitUntil("the deleted topic's partition revoked", timeoutSeconds: 30) {
                _ = try await member.poll(maxRecords: 10, timeoutMilliseconds: 100)
                return revoked.withLock { $0 } && member.assignment.isEmpty
            }
        } catch {
            await member.close()
            throw error
        }
        await member.close()
    }

    /// A reader of fixed partitions (a table's, a restore's) keeps polling after its topic is
    /// deleted, returning nothing, and keeps its partition: giving it up is its owner's call.
    func testAReaderOfADeletedTopicKeepsPolling() async throws {
        let admin = try KafkaAdmin(configuration: TestBroker.configuration(clientID: "test-admin"))
        let topic = uniqueTopicName("deleted-reader")
        try await admin.createTopics([TopicSpecification(name: topic, partitions: 1)])
        try await produceOneRecord(to: topic)
        let partition = TopicPartition(topic: topic, partition: 0)
        let reader = try KafkaConsumer(configuration: TestBroker.configuration(), startingAt: [partition: KafkaConsumer.beginning],
                                       properties: ["fetch.wait.max.ms": "50"])
        do {
            let records = try await consume(reader, count: 1)
            XCTAssertEqual(records.map(\.topicPartition), [partition])
            try await admin.deleteTopics([topic])
            try await pollFor(Self.pollingAfterDelete, reader)
            let topics = try await admin.listTopics()
            XCTAssertNil(topics[topic])
            XCTAssertEqual(reader.assignment, [partition], "a reader's partitions are its own to give up")
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }

    private func produceOneRecord(to topic: String) async throws {
        let producer = try KafkaProducer(configuration: TestBroker.configuration())
        _ = try await producer.send([ProducerRecord(topic: topic, partition: 0, key: Array("k".utf8), value: Array("v".utf8))])
        await producer.close()
    }

    /// Polls `consumer` for `duration`; a poll that throws fails the test.
    private func pollFor(_ duration: Duration, _ consumer: KafkaConsumer) async throws {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            let records = try await consumer.poll(maxRecords: 10, timeoutMilliseconds: 100)
            XCTAssertEqual(records.count, 0, "records of a deleted topic")
        }
    }
}
