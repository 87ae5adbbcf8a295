import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Stages
import Synchronization
import XCTest

/// The scoring stage's heat contributions batched per account, without a broker: a writer stands
/// in for the producer.
final class ContributionBatcherTests: XCTestCase {
    private let codec = MessageCodec()
    private let topic = "test.account.signal.contributions"

    private static func contribution(_ lead: String, account: String) -> AccountSignalContribution {
        AccountSignalContribution(
            accountID: AccountID(account), leadID: LeadID(lead), runID: "run-1", offerID: "offer-1", companyKey: "li:1",
            companyName: "Acme", signals: [BuyingSignal(kind: .recommendationRequest, detail: "asked", date: Fixtures.now)],
            scoredAt: Fixtures.now)
    }

    /// Records the writes; `accepts` says whether each is acknowledged.
    private final class Writes: Sendable {
        let records = Mutex<[ProducerRecord]>([])
        let accepts: Bool
        init(accepts: Bool = true) { self.accepts = accepts }
        func write(_ record: ProducerRecord) -> Bool {
            records.withLock { $0.append(record) }
            return accepts
        }
        var all: [ProducerRecord] { records.withLock { $0 } }
    }

    private func batches(_ writes: Writes) throws -> [AccountSignalContributionBatch] {
        try writes.all.map { try codec.decode(AccountSignalContributionBatch.self, from: XCTUnwrap($0.value)) }
    }

    func testContributionsOfOneAccountWithinTheWindowGoOutAsOneRecordKeyedByTheAccount() async throws {
        let writes = Writes()
        let metrics = MetricsRegistry()
        let batcher = ContributionBatcher(window: .milliseconds(200), topic: topic, codec: codec, metrics: metrics) { writes.write($0) }
        let sent = await withTaskGroup(of: Bool.self) { group in
            for (lead, account) in [("l1", "acct-a"), ("l2", "acct-b"), ("l3", "acct-a"), ("l4", "acct-a")] {
                group.addTask { await batcher.send(Self.contribution(lead, account: account)) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(sent, [true, true, true, true], "each send returns once its record is acknowledged")
        XCTAssertEqual(writes.all.count, 2, "one record per account")
        let byAccount = Dictionary(uniqueKeysWithValues: try batches(writes).map { ($0.accountID, Set($0.contributions.map(\.leadID))) })
        XCTAssertEqual(byAccount, ["acct-a": ["l1", "l3", "l4"], "acct-b": ["l2"]])
        for record in writes.all {
            XCTAssertEqual(record.topic, topic)
            XCTAssertEqual(record.key.map { String(decoding: $0, as: UTF8.self) },
                           try codec.decode(AccountSignalContributionBatch.self, from: XCTUnwrap(record.value)).accountID.rawValue)
            XCTAssertTrue(record.headers.contains { $0.key == MessageHeaders.version && $0.value == Array("2".utf8) })
        }
        let rendered = metrics.render()
        XCTAssertTrue(rendered.contains(#"pipeline_scoring_contribution_records_total{outcome="written"} 2"#), rendered)
        XCTAssertTrue(rendered.contains(#"pipeline_scoring_contributions_total{outcome="written"} 4"#), rendered)
        XCTAssertTrue(rendered.contains(#"pipeline_scoring_contribution_records_total{outcome="not-written"} 0"#), rendered)
    }

    func testAFullBatchGoesOutWithoutWaitingForTheWindow() async throws {
        let writes = Writes()
        // An hour's window: the test would hang if a full batch waited for it.
        let batcher = ContributionBatcher(window: .seconds(3600), maxContributions: 3, topic: topic, codec: codec) { writes.write($0) }
        let sent = await withTaskGroup(of: Bool.self) { group in
            for lead in ["l1", "l2", "l3"] {
                group.addTask { await batcher.send(Self.contribution(lead, account: "acct-a")) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(sent, [true, true, true])
        XCTAssertEqual(try batches(writes).map(\.contributions.count), [3])
    }

    func testABatchNotAcknowledgedOrTooLargeTellsEverySenderToSendItsOwn() async throws {
        let refused = Writes(accepts: false)
        let metrics = MetricsRegistry()
        let refusing = ContributionBatcher(window: .milliseconds(50), topic: topic, codec: codec, metrics: metrics) { refused.write($0) }
        async let first = refusing.send(Self.contribution("l1", account: "acct-a"))
        async let second = refusing.send(Self.contribution("l2", account: "acct-a"))
        let refusedResults = await [first, second]
        XCTAssertEqual(refusedResults, [false, false])
        XCTAssertEqual(refused.all.count, 1, "one attempt, then the senders take over")
        XCTAssertTrue(metrics.render().contains(#"pipeline_scoring_contributions_total{outcome="not-written"} 2"#), metrics.render())

        let written = Writes()
        let small = ContributionBatcher(window: .milliseconds(50), topic: topic, codec: MessageCodec(maxRecordBytes: 600)) { written.write($0) }
        async let third = small.send(Self.contribution("l3", account: "acct-a"))
        async let fourth = small.send(Self.contribution("l4", account: "acct-a"))
        let oversizeResults = await [third, fourth]
        XCTAssertEqual(oversizeResults, [false, false], "a batch above MAX_RECORD_BYTES is not written")
        XCTAssertTrue(written.all.isEmpty)
    }
}
