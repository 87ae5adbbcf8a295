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

            // One at a time, as an operator's command or the billing system writes them: Tansu's
            // ListOffsets, which `catchUp` asks, can report an end short of a batch just written
            // (the three in one batch: one failure in 34 runs here).
            for later in [try record(topic, "acct-b", .paused), try record(topic, "acct-d", .active), try record(topic, "acct-a", nil)] {
                _ = try await producer.send([later])
            }
            try await table.catchUp(timeout: .seconds(20))
            XCTAssertEqual(table.all.mapValues(\.billingState), ["acct-b": .paused, "acct-d": .active])
            await table.stop()
            await producer.close()
        }
    }

    /// A row written just before it is asked for is found by `row(_:catchingUpWithin:)`, which
    /// catches the table up when the row is missing (a stage asked for an offer the coordinator
    /// already read): asked right after each write, every row is there.
    func testARowWrittenJustBeforeIsFoundWhenTheLookUpCatchesUp() async throws {
        try await withTestTopic(prefix: "table") { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send([try record(topic, "acct-0", .active)])
            let table = KafkaTable<AccountConfig>(configuration: TestBroker.configuration(), topic: topic, codec: codec,
                                                  logger: Logger(service: "table-test", level: .warning))
            try await table.start()
            for index in 1...5 {
                _ = try await producer.send([try record(topic, "acct-\(index)", .active)])
                let row = await table.row("acct-\(index)", catchingUpWithin: .seconds(10))
                XCTAssertEqual(row?.accountID, AccountID("acct-\(index)"))
            }
            let missing = await table.row("acct-none", catchingUpWithin: .seconds(10))
            XCTAssertNil(missing)
            await table.stop()
            await producer.close()
        }
    }

    /// A table whose partition ends with a transaction's marker (an offset no consumer receives)
    /// is caught up once its reader reaches that end: `catchUp` says so at once instead of
    /// waiting out its time for a record that never comes (the coordinator asks before every batch).
    func testATableWhoseEndIsAMarkerIsCaughtUp() async throws {
        try await withTestTopic(prefix: "table") { topic in
            let accounts = [("acct-a", BillingState.paused), ("acct-b", .active)]
            try produceInATransaction(try accounts.map { (key: $0.0, value: try codec.encode(account($0.0, $0.1))) }, to: topic,
                                      bootstrapServers: TestBroker.bootstrapServers)
            let table = KafkaTable<AccountConfig>(configuration: TestBroker.configuration(), topic: topic, codec: codec,
                                                  logger: Logger(service: "table-test", level: .warning))
            try await table.start()
            XCTAssertEqual(table.all.mapValues(\.billingState), ["acct-a": .paused, "acct-b": .active])
            let caughtUp = try await table.catchUp(timeout: .seconds(10))
            XCTAssertTrue(caughtUp, "the end is the marker's offset + 1, which the reader reached")
            await table.stop()
        }
    }

    /// A record the table cannot decode (a newer writer's version, a hand-written mistake) leaves
    /// the key's previous row in place, is counted in `pipeline_table_records_skipped_total` by
    /// topic (at 0 from the start, so an alert on its increase sees the series), and the table
    /// goes on applying what follows.
    func testAnUndecodableUpdateIsCountedAndKeepsThePreviousRow() async throws {
        try await withTestTopic(prefix: "table") { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send([try record(topic, "acct-a", .active)])
            let metrics = MetricsRegistry()
            let table = KafkaTable<AccountConfig>(configuration: TestBroker.configuration(), topic: topic, codec: codec,
                                                  logger: Logger(service: "table-test", level: .error), metrics: metrics)
            XCTAssertEqual(metrics.value(MetricNames.tableRecordsSkipped, ["topic": topic]), 0)
            try await table.start()
            _ = try await producer.send([ProducerRecord(topic: topic, key: "acct-a", value: Array(#"{"accountID":"acct-a","#.utf8))])
            _ = try await producer.send([try record(topic, "acct-b", .paused)])
            try await waitUntil("the table applies the record after the undecodable one", timeoutSeconds: 20) {
                table["acct-b"] != nil
            }
            XCTAssertEqual(table["acct-a"]?.billingState, .active, "the previous row stays")
            XCTAssertEqual(metrics.value(MetricNames.tableRecordsSkipped, ["topic": topic]), 1)
            await table.stop()
            await producer.close()
        }
    }

    /// An offer refused when read (a list of more than the 5,000 entries readers take) leaves its
    /// key without a row, as any undecodable record does, and the table keeps why
    /// (`refusal(of:)`), naming the list and the bound, so that a reader finding no row can say
    /// the offer was published but refused rather than never published; a later record of the
    /// offer that is applied clears it. Before: no row, and nothing said why.
    func testARefusedRecordIsRememberedUntilALaterOneIsApplied() async throws {
        try await withTestTopic(prefix: "table") { topic in
            var offer = OfferConfig(
                offerID: "offer-wide", accountID: "acct-a", name: "Outbound",
                icp: IdealCustomerProfile(titles: ["Head of Sales"], industries: (0..<6_000).map { "industry \($0)" }),
                updatedAt: Date(timeIntervalSince1970: 1_764_000_000))
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send([ProducerRecord(topic: topic, key: "offer-wide", value: try codec.encode(offer))])
            let table = KafkaTable<OfferConfig>(configuration: TestBroker.configuration(), topic: topic, codec: codec,
                                                logger: Logger(service: "table-test", level: .error))
            try await table.start()
            XCTAssertNil(table["offer-wide"])
            // No assertion throws before the table is stopped: one left following fails the next test.
            let refusal = table.refusal(of: "offer-wide")
            XCTAssertTrue(refusal?.contains("icp.industries holds 6000 entries; an offer's list holds at most 5000") == true,
                          refusal ?? "no refusal kept")
            XCTAssertNil(table.refusal(of: "offer-none"))

            offer.icp.industries = ["Software"]
            _ = try await producer.send([ProducerRecord(topic: topic, key: "offer-wide", value: try codec.encode(offer))])
            try? await waitUntil("the table applies the offer published again", timeoutSeconds: 20) { table["offer-wide"] != nil }
            XCTAssertNotNil(table["offer-wide"], "the offer published again is applied")
            XCTAssertNil(table.refusal(of: "offer-wide"), "cleared by the record applied")
            await table.stop()
            await producer.close()
        }
    }

    /// A set reads its tables (of different types, two of them on one topic) with one reader and
    /// follows them with one consumer: each table gets its own topic's rows, a topic read by two
    /// tables feeds both, and every table follows what is written after the start.
    func testASetLoadsAndFollowsEachOfItsTables() async throws {
        try await withTestTopic(partitions: 2, prefix: "table-accounts") { accountsTopic in
            try await withTestTopic(prefix: "table-billing") { billingTopic in
                let producer = try KafkaProducer(configuration: TestBroker.configuration())
                func event(_ id: String, _ state: BillingState) throws -> ProducerRecord {
                    let event = AccountBillingEvent(accountID: AccountID(id), state: state, reason: "test", source: "test",
                                                    occurredAt: Date(timeIntervalSince1970: 1_764_000_000), eventID: "\(id)-\(state)")
                    return ProducerRecord(topic: billingTopic, key: id, value: try codec.encode(event))
                }
                _ = try await producer.send([
                    try record(accountsTopic, "acct-a", .active), try record(accountsTopic, "acct-b", .paused),
                    try event("acct-a", .paused),
                ])
                let logger = Logger(service: "table-test", level: .warning)
                let accounts = KafkaTable<AccountConfig>(configuration: TestBroker.configuration(), topic: accountsTopic,
                                                         codec: codec, logger: logger)
                let sameAccounts = KafkaTable<AccountConfig>(configuration: TestBroker.configuration(), topic: accountsTopic,
                                                             codec: codec, logger: logger)
                let billing = KafkaTable<AccountBillingEvent>(configuration: TestBroker.configuration(), topic: billingTopic,
                                                              codec: codec, logger: logger)
                let set = KafkaTableSet(configuration: TestBroker.configuration(), accounts, billing, sameAccounts)
                try await set.start()
                XCTAssertEqual(accounts.all.mapValues(\.billingState), ["acct-a": .active, "acct-b": .paused])
                XCTAssertEqual(sameAccounts.all.mapValues(\.billingState), ["acct-a": .active, "acct-b": .paused])
                XCTAssertEqual(billing.all.mapValues(\.state), ["acct-a": .paused])

                _ = try await producer.send([
                    try record(accountsTopic, "acct-c", .active), try record(accountsTopic, "acct-b", nil),
                    try event("acct-c", .active),
                ])
                // Waited for by content: `catchUp` asks ListOffsets, which Tansu can answer with an end
                // short of a batch just written.
                let followed: [String: BillingState] = ["acct-a": .active, "acct-c": .active]
                try await waitUntil("the set's tables follow their topics", timeoutSeconds: 20) {
                    accounts.all.mapValues(\.billingState) == followed && sameAccounts.all.mapValues(\.billingState) == followed
                        && billing.all.mapValues(\.state) == ["acct-a": .paused, "acct-c": .active]
                }
                await set.stop()
                await producer.close()
            }
        }
    }
}
