import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Runtime
import Streaming
import XCTest

/// A compacted topic read into memory and followed, against the real broker.
final class KafkaTableTests: XCTestCase {
    let codec = MessageCodec()

    func account(_ id: String, _ state: BillingState) -> AccountConfig {
        AccountConfig(accountID: AccountID(id), billingState: state, updatedAt: Date(timeIntervalSince1970: 1_764_000_000))
    }

    func record(_ topic: String, _ id: String, _ state: BillingState?) throws -> ProducerRecord {
        ProducerRecord(topic: topic, key: id, value: try state.map { try codec.encode(account(id, $0)) })
    }

    /// `start()` returns with what the topic held (the last record of a key wins, a tombstone
    /// removes it); the table then follows what is written later, and `catchUp()` returns once it
    /// has applied it. Loading and following are two readers: nothing written between them is lost.
    func testLoadsTheTopicThenFollowsItsLaterRecords() async throws {
        try await withTestTopic(prefix: "table") { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send([
                try record(topic, "acct-a", .active), try record(topic, "acct-b", .active),
                try record(topic, "acct-a", .paused), try record(topic, "acct-c", .active), try record(topic, "acct-c", nil),
            ])
            let table = KafkaTable<AccountConfig>(configuration: TestBroker.configuration(), topic: topic, codec: codec,
                                                  logger: Logger(service: "table-test", level: .warning))
            try await table.start()
            XCTAssertEqual(table.all.mapValues(\.billingState), ["acct-a": .paused, "acct-b": .active])

            _ = try await producer.send([try record(topic, "acct-b", .paused), try record(topic, "acct-d", .active),
                                         try record(topic, "acct-a", nil)])
            try await table.catchUp(timeout: .seconds(20))
            XCTAssertEqual(table.all.mapValues(\.billingState), ["acct-b": .paused, "acct-d": .active])
            await table.stop()
            await producer.close()
        }
    }
}
