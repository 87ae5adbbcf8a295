import Foundation
import KafkaTestSupport
import LeadModel
import XCTest

/// Progress per account: the coordinator adds up an account's search snapshots, wherever their
/// searches' partitions are, into `progress.accounts`, and gives the same after a SIGKILL and
/// restart (it reads compacted tables, never the history).
final class AccountProgressSystemTests: XCTestCase {
    func testAnAccountsProgressAddsUpItsSearchesAndIsTheSameAfterARestart() async throws {
        try await withPipeline(environment: PipelineHarness.reliableProviders) { harness in
            var coordinator = try harness.start("coordinator")
            for stage in PipelineHarness.stages { try harness.start(stage) }
            let searches: [(SearchID, [LeadDiscovered])] = [
                ("search-a", harness.makeLeads(12, search: "search-a", prefix: "a")),
                ("search-b", harness.makeLeads(8, search: "search-b", prefix: "b")),
            ]
            for (search, leads) in searches {
                try await harness.publish(SearchTotalDeclared(searchID: search, accountID: harness.accountID, total: leads.count, declaredAt: Date()),
                                          topic: harness.environment.topics.searchTotals, key: search.rawValue)
                try await harness.publish(leads: leads)
            }
            _ = try await harness.waitForPool(20)

            func accountProgress() async throws -> [AccountProgressSnapshot] {
                try await harness.readAll(AccountProgressSnapshot.self, topic: harness.environment.topics.accountProgress)
                    .filter { $0.key == harness.accountID.rawValue }.map(\.value)
            }
            var published: [AccountProgressSnapshot] = []
            try await waitUntil("the account's progress completed", timeoutSeconds: 60, pollMilliseconds: 250) {
                published = try await accountProgress()
                return published.last?.state == .completed
            }
            let done = try XCTUnwrap(published.last)
            XCTAssertEqual(done.searches, .init(running: 0, completed: 2, paused: 0))
            XCTAssertEqual(done.total, 20)
            XCTAssertEqual(done.completed, 20)
            XCTAssertEqual([done.pending, done.enriching, done.scoring, done.billingPaused, done.deferred], [0, 0, 0, 0, 0])
            for (search, leads) in searches {
                let snapshot = try await harness.latestProgress(of: search)
                XCTAssertEqual(snapshot?.completed, leads.count, "\(search)")
            }

            _ = try await harness.stop(coordinator, signal: SIGKILL)
            coordinator = try harness.start("coordinator")
            var again: [AccountProgressSnapshot] = []
            try await waitUntil("the restarted coordinator's account progress", timeoutSeconds: 60, pollMilliseconds: 250) {
                again = try await accountProgress()
                return again.count > published.count
            }
            var restored = try XCTUnwrap(again.last)
            restored.updatedAt = done.updatedAt
            XCTAssertEqual(restored, done, "the same counts from the compacted tables after a restart")
        }
    }

    /// A search moved to another account (a total declared for it, `leadctl search total
    /// --move-account`) leaves its old account's progress: before, its part stayed under the old
    /// account for good, and both accounts counted it.
    func testASearchMovedToAnotherAccountIsCountedUnderThatAccountOnly() async throws {
        try await withPipeline(environment: PipelineHarness.reliableProviders) { harness in
            try harness.start("coordinator")
            for stage in PipelineHarness.stages { try harness.start(stage) }
            let leads = harness.makeLeads(4, search: "search-moved", prefix: "m")
            let topics = harness.environment.topics
            try await harness.publish(SearchTotalDeclared(searchID: "search-moved", accountID: harness.accountID, total: leads.count,
                                                          declaredAt: Date()),
                                      topic: topics.searchTotals, key: "search-moved")
            try await harness.publish(leads: leads)
            _ = try await harness.waitForPool(leads.count)

            func latest(_ account: AccountID) async throws -> AccountProgressSnapshot? {
                try await harness.readAll(AccountProgressSnapshot.self, topic: topics.accountProgress)
                    .last { $0.key == account.rawValue }?.value
            }
            try await waitUntil("the first account's progress completed", timeoutSeconds: 60, pollMilliseconds: 250) {
                try await latest(harness.accountID)?.state == .completed
            }
            let other: AccountID = "acct-moved-to"
            try await harness.publish(SearchTotalDeclared(searchID: "search-moved", accountID: other, total: leads.count, declaredAt: Date()),
                                      topic: topics.searchTotals, key: "search-moved")
            try await waitUntil("the other account's progress", timeoutSeconds: 60, pollMilliseconds: 250) {
                try await latest(other)?.completed == leads.count
            }
            try await waitUntil("the first account no longer counts the search", timeoutSeconds: 30, pollMilliseconds: 250) {
                let records = try await harness.readAllRecords(topic: topics.accountProgress).filter { $0.keyString == harness.accountID.rawValue }
                return records.last?.value == nil
            }
        }
    }
}
