import Foundation
import Kafka
import LeadModel
@testable import Coordinator
import Streaming
import XCTest

/// What the progress tracker's search loop publishes (no broker), above all the order of the
/// records that remove a search from an account: the account parts' tombstones are stored before
/// `progress` stops naming the account, since `progress` is how the next owner of the search
/// learns which account parts to remove.
final class SearchProgressPublisherTests: XCTestCase {
    private let topics = Topics()
    private let codec = MessageCodec()
    private let start = Date(timeIntervalSince1970: 1_000_000)
    private let day: TimeInterval = 86_400
    private var totals: [String: SearchTotalDeclared] = [:]

    private func publisher() -> SearchProgressPublisher {
        SearchProgressPublisher(topics: topics, codec: codec, partitionCount: 1, accountPartitions: 4, retention: ProgressRetention(days: 7))
    }

    private func partRecord(completed: Int, account: AccountID = "acct-a", at: Date) throws -> ConsumerRecord {
        let part = SearchProgressPart(searchID: "search-1", accountID: account, partition: 0, completed: completed, updatedAt: at)
        let record = try codec.record(part, topic: topics.progressParts, key: "search-1/0")
        return ConsumerRecord(topic: record.topic, partition: 0, offset: 0, key: record.key, value: record.value)
    }

    private func declare(_ account: AccountID, total: Int = 2, at: Date) {
        totals["search-1"] = SearchTotalDeclared(searchID: "search-1", accountID: account, total: total, declaredAt: at)
    }

    /// One poll: reads `batch`, then publishes.
    private func poll(_ publisher: inout SearchProgressPublisher, _ batch: [ConsumerRecord] = [], changedTotals: Set<String> = [],
                      at: Date) -> [ProducerRecord] {
        publisher.read(batch, owned: [0], changedTotals: changedTotals, allTotals: { self.totals })
        return publisher.publish(totals: { self.totals[$0] }, at: at)
    }

    private func describe(_ records: [ProducerRecord]) -> [String] {
        records.map { record in
            let key = record.key.map { String(decoding: $0, as: UTF8.self) } ?? "-"
            return "\(record.topic) \(key)\(record.value == nil ? " tombstone" : "")"
        }
    }

    /// A completed search is forgotten after the retention: its account part's tombstone goes
    /// first, alone; its `progress` tombstone only once that is stored. Before, both went in one
    /// poll: with the account part's not stored and a rebalance before it was sent again, the
    /// next owner read no snapshot in `progress`, dropped the search without a word, and the
    /// account counted it for good.
    func testAForgottenSearchLeavesItsAccountBeforeProgress() throws {
        var publisher = publisher()
        declare("acct-a", at: start)
        let published = poll(&publisher, [try partRecord(completed: 2, at: start)], changedTotals: ["search-1"], at: start)
        XCTAssertEqual(describe(published), ["progress search-1", "progress.account-parts acct-a/search-1"])

        let later = start.addingTimeInterval(8 * day)
        let first = poll(&publisher, at: later)
        XCTAssertEqual(describe(first), ["progress.account-parts acct-a/search-1 tombstone"], "the account part's tombstone alone")
        publisher.unsent([0])
        let again = poll(&publisher, at: later.addingTimeInterval(1))
        XCTAssertEqual(describe(again), ["progress.account-parts acct-a/search-1 tombstone"], "not stored: sent again, still alone")
        let then = poll(&publisher, at: later.addingTimeInterval(2))
        XCTAssertEqual(describe(then), ["progress search-1 tombstone"], "stored: now the snapshot's")
        XCTAssertTrue(poll(&publisher, at: later.addingTimeInterval(3)).isEmpty)
    }

    /// The `progress` tombstone not stored is sent again, alone.
    func testAForgottenSearchsProgressTombstoneNotStoredIsSentAgain() throws {
        var publisher = publisher()
        declare("acct-a", at: start)
        _ = poll(&publisher, [try partRecord(completed: 2, at: start)], changedTotals: ["search-1"], at: start)
        let later = start.addingTimeInterval(8 * day)
        _ = poll(&publisher, at: later)
        XCTAssertEqual(describe(poll(&publisher, at: later)), ["progress search-1 tombstone"])
        publisher.unsent([0])
        XCTAssertEqual(describe(poll(&publisher, at: later)), ["progress search-1 tombstone"])
        XCTAssertTrue(poll(&publisher, at: later).isEmpty)
    }

    /// A search moved to another account (a total declared with it) leaves the old account
    /// first: the old part's tombstone alone, then the snapshot under the new account with its
    /// part. Before, the three went in one poll: with the tombstone not stored and a rebalance,
    /// the next owner read the new account in `progress` and never removed the old part.
    func testAMovedSearchLeavesItsOldAccountBeforeProgressNamesTheNewOne() throws {
        var publisher = publisher()
        declare("acct-a", at: start)
        _ = poll(&publisher, changedTotals: ["search-1"], at: start)
        declare("acct-b", at: start.addingTimeInterval(60))
        let first = poll(&publisher, changedTotals: ["search-1"], at: start.addingTimeInterval(60))
        XCTAssertEqual(describe(first), ["progress.account-parts acct-a/search-1 tombstone"])
        publisher.unsent([0])
        let again = poll(&publisher, at: start.addingTimeInterval(61))
        XCTAssertEqual(describe(again), ["progress.account-parts acct-a/search-1 tombstone"], "not stored: sent again, still alone")
        let then = poll(&publisher, at: start.addingTimeInterval(62))
        XCTAssertEqual(describe(then), ["progress search-1", "progress.account-parts acct-b/search-1"])
        XCTAssertTrue(poll(&publisher, at: start.addingTimeInterval(63)).isEmpty, "published once")
    }

    /// A search with a declared total only (no lead counted yet: no part names an account)
    /// moved from one account to another, then to a third and back, leaves each account it was
    /// published under, and only that one: its part's tombstone there first, then its snapshot
    /// under the new account. (Before 26522c5 the snapshot was recorded as published before the
    /// accounts to leave were asked for, so the first account kept its part for good.)
    func testASearchWithATotalOnlyLeavesEachAccountItWasPublishedUnder() {
        var publisher = publisher()
        var at = start
        /// What the poll after the move publishes, and the poll after that.
        func move(to account: AccountID) -> [[String]] {
            at = at.addingTimeInterval(60)
            declare(account, at: at)
            return [describe(poll(&publisher, changedTotals: ["search-1"], at: at)),
                    describe(poll(&publisher, at: at.addingTimeInterval(1)))]
        }
        func published(under account: AccountID) -> [String] {
            ["progress search-1", "progress.account-parts \(account.rawValue)/search-1"]
        }
        func leaving(_ account: AccountID) -> [String] { ["progress.account-parts \(account.rawValue)/search-1 tombstone"] }
        XCTAssertEqual(move(to: "acct-a"), [published(under: "acct-a"), []])
        XCTAssertEqual(move(to: "acct-a"), [[], []], "nothing but the time changed")
        XCTAssertEqual(move(to: "acct-b"), [leaving("acct-a"), published(under: "acct-b")])
        XCTAssertEqual(move(to: "acct-c"), [leaving("acct-b"), published(under: "acct-c")])
        XCTAssertEqual(move(to: "acct-a"), [leaving("acct-c"), published(under: "acct-a")], "moved back, counted under the first again")
        XCTAssertEqual(move(to: "acct-b"), [leaving("acct-a"), published(under: "acct-b")])
    }

    /// The next owner of a search whose account part under one account was stored, and its
    /// snapshot in `progress` not, moved to another account: its parts name the first, which it
    /// leaves before publishing. Before, a search not in `progress` was published at once, and
    /// the first account kept its part for good.
    func testASearchNeverInProgressMovedLeavesTheAccountItsPartsName() throws {
        var publisher = publisher()
        declare("acct-b", at: start.addingTimeInterval(60))
        let first = poll(&publisher, [try partRecord(completed: 1, account: "acct-a", at: start)], changedTotals: ["search-1"],
                         at: start.addingTimeInterval(60))
        XCTAssertEqual(describe(first), ["progress.account-parts acct-a/search-1 tombstone"])
        XCTAssertEqual(describe(poll(&publisher, at: start.addingTimeInterval(61))),
                       ["progress search-1", "progress.account-parts acct-b/search-1"])
    }

    /// A moved search's snapshot under its new account not stored (its old account's tombstone
    /// was) is published again, after the tombstone again.
    func testAMovedSearchsSnapshotNotStoredIsPublishedAgain() throws {
        var publisher = publisher()
        declare("acct-a", at: start)
        _ = poll(&publisher, changedTotals: ["search-1"], at: start)
        declare("acct-b", at: start.addingTimeInterval(60))
        _ = poll(&publisher, changedTotals: ["search-1"], at: start.addingTimeInterval(60))
        XCTAssertEqual(describe(poll(&publisher, at: start.addingTimeInterval(61))),
                       ["progress search-1", "progress.account-parts acct-b/search-1"])
        publisher.unsent([0, 1])
        XCTAssertEqual(describe(poll(&publisher, at: start.addingTimeInterval(62))), ["progress.account-parts acct-a/search-1 tombstone"])
        XCTAssertEqual(describe(poll(&publisher, at: start.addingTimeInterval(63))),
                       ["progress search-1", "progress.account-parts acct-b/search-1"])
    }

    /// A forgotten search's account part tombstone refused for what it is (the tracker leaves it
    /// out) holds its `progress` tombstone back: `progress` keeps naming the account, so the
    /// search's next owner still removes the part first. Before, the tracker logged the refusal
    /// and went on as if it were stored, and the next poll sent the `progress` tombstone after it.
    func testAnAccountPartTombstoneLeftOutHoldsTheProgressTombstoneBack() throws {
        var publisher = publisher()
        declare("acct-a", at: start)
        _ = poll(&publisher, [try partRecord(completed: 2, at: start)], changedTotals: ["search-1"], at: start)
        let later = start.addingTimeInterval(8 * day)
        XCTAssertEqual(describe(poll(&publisher, at: later)), ["progress.account-parts acct-a/search-1 tombstone"])
        publisher.leftOut([0])
        XCTAssertEqual(describe(poll(&publisher, at: later.addingTimeInterval(1))), [], "the progress tombstone went after a refused one")
        XCTAssertEqual(describe(poll(&publisher, at: later.addingTimeInterval(2))), [])
    }

    /// A moved search's old account tombstone refused for what it is holds its snapshot under
    /// the new account back; when the search changes again, the tombstone goes first again.
    func testAMovedSearchsTombstoneLeftOutHoldsItsNewSnapshotBack() throws {
        var publisher = publisher()
        declare("acct-a", at: start)
        _ = poll(&publisher, changedTotals: ["search-1"], at: start)
        declare("acct-b", at: start.addingTimeInterval(60))
        XCTAssertEqual(describe(poll(&publisher, changedTotals: ["search-1"], at: start.addingTimeInterval(60))),
                       ["progress.account-parts acct-a/search-1 tombstone"])
        publisher.leftOut([0])
        XCTAssertEqual(describe(poll(&publisher, at: start.addingTimeInterval(61))), [], "progress named the new account after a refused tombstone")
        let changed = poll(&publisher, [try partRecord(completed: 1, account: "acct-b", at: start.addingTimeInterval(62))],
                           at: start.addingTimeInterval(62))
        XCTAssertEqual(describe(changed), ["progress.account-parts acct-a/search-1 tombstone"], "changed: the tombstone first again")
        XCTAssertEqual(describe(poll(&publisher, at: start.addingTimeInterval(63))),
                       ["progress search-1", "progress.account-parts acct-b/search-1"])
    }

    /// The next owner of a forgotten search whose `progress` tombstone was never sent reads its
    /// snapshot there, and removes the account part again before the snapshot.
    func testTheNextOwnerOfASearchForgottenHalfWayRemovesItsAccountPartFirst() throws {
        var publisher = publisher()
        declare("acct-a", at: start)
        let snapshot = try XCTUnwrap(SearchProgressPublisher.Search(partition: 0).snapshot("search-1", declared: totals["search-1"], at: start))
        let stored = try codec.record(snapshot, topic: topics.progress, key: "search-1")
        let batch = [ConsumerRecord(topic: topics.progress, partition: 0, offset: 0, key: stored.key, value: stored.value),
                     try partRecord(completed: 2, at: start)]
        let later = start.addingTimeInterval(8 * day)
        XCTAssertEqual(describe(poll(&publisher, batch, changedTotals: ["search-1"], at: later)),
                       ["progress.account-parts acct-a/search-1 tombstone"])
        XCTAssertEqual(describe(poll(&publisher, at: later)), ["progress search-1 tombstone"])
    }
}
