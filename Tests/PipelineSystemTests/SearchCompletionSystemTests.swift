import Foundation
import KafkaTestSupport
import LeadModel
import XCTest

/// A search completes once each of its declared leads is ready or refused: a lead the
/// coordinator refuses (its configuration refuses it, or the record breaks the input rules)
/// never runs, and a search waiting for it would show running for good.
final class SearchCompletionSystemTests: XCTestCase {
    func testASearchWithRefusedLeadsCompletesAndCountsThemTheSameAfterARestart() async throws {
        try await withPipeline(environment: PipelineHarness.reliableProviders) { harness in
            var coordinator = try harness.start("coordinator")
            for stage in PipelineHarness.stages { try harness.start(stage) }
            // Two leads name an offer of another account: refused, with a dead letter each.
            try await harness.publish(account: AccountConfig(accountID: "acct-other", updatedAt: Date()))
            let good = harness.makeLeads(4, search: "search-r", prefix: "good")
            var refused = harness.makeLeads(2, search: "search-r", prefix: "refused")
            for index in refused.indices { refused[index].offerID = harness.offerID(of: "acct-other") }
            // One breaks the input rules (no profile URL): its ids are readable, so it counts too.
            let invalid = harness.makeLeads(1, search: "search-r", prefix: "invalid")[0]
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(harness.environment.codec.encode(invalid))) as? [String: Any])
            object["linkedinURL"] = nil
            object["xURL"] = nil
            try await harness.publish(SearchTotalDeclared(searchID: "search-r", accountID: harness.accountID, total: 7, declaredAt: Date()),
                                      topic: harness.environment.topics.searchTotals, key: "search-r")
            try await harness.publish(leads: good + refused)
            try await harness.publishRaw(Array(try JSONSerialization.data(withJSONObject: object)), key: invalid.leadID.rawValue)

            func snapshots() async throws -> [ProgressSnapshot] {
                try await harness.readAll(ProgressSnapshot.self, topic: harness.environment.topics.progress)
                    .filter { $0.key == "search-r" }.map(\.value)
            }
            var published: [ProgressSnapshot] = []
            try await waitUntil("the search completed", timeoutSeconds: 60, pollMilliseconds: 250) {
                published = try await snapshots()
                return published.last?.state == .completed
            }
            let done = try XCTUnwrap(published.last)
            XCTAssertEqual([done.total, done.completed, done.refused], [7, 4, 3])
            let deadLetters = try await harness.readAll(DeadLetter.self, topic: harness.environment.topics.deadLetters)
            XCTAssertEqual(Set(deadLetters.map(\.key)), Set((refused + [invalid]).map(\.leadID.rawValue)))

            _ = try await harness.stop(coordinator, signal: SIGKILL)
            coordinator = try harness.start("coordinator")
            var again: [ProgressSnapshot] = []
            try await waitUntil("the restarted coordinator's progress", timeoutSeconds: 60, pollMilliseconds: 250) {
                again = try await snapshots()
                return again.count > published.count
            }
            var restored = try XCTUnwrap(again.last)
            restored.updatedAt = done.updatedAt
            XCTAssertEqual(restored, done, "refused leads are counted from their states after a restart")
        }
    }

    /// Two searches finding the same people: a lead of the second search already known from the
    /// first (running, queued or ready) counts there as already known, so both complete, with
    /// the same counts after a restart.
    func testSearchesSharingLeadsBothCompleteAndCountTheSameAfterARestart() async throws {
        try await withPipeline(environment: PipelineHarness.reliableProviders) { harness in
            var coordinator = try harness.start("coordinator")
            for stage in PipelineHarness.stages { try harness.start(stage) }
            let first = harness.makeLeads(6, search: "search-1", prefix: "lead")
            var shared = Array(first.prefix(3))
            for index in shared.indices { shared[index].sourceSearchID = "search-2" }
            let second = harness.makeLeads(2, search: "search-2", prefix: "second") + shared
            for (search, total) in [("search-1", 6), ("search-2", second.count)] {
                try await harness.publish(SearchTotalDeclared(searchID: SearchID(search), accountID: harness.accountID, total: total,
                                                              declaredAt: Date()),
                                          topic: harness.environment.topics.searchTotals, key: search)
            }
            try await harness.publish(leads: first + second)

            var done: [SearchID: ProgressSnapshot] = [:]
            func latest() async throws -> [SearchID: ProgressSnapshot] {
                var latest: [SearchID: ProgressSnapshot] = [:]
                for (_, snapshot) in try await harness.readAll(ProgressSnapshot.self, topic: harness.environment.topics.progress) {
                    latest[snapshot.searchID] = snapshot
                }
                return latest
            }
            try await waitUntil("both searches completed", timeoutSeconds: 60, pollMilliseconds: 250) {
                done = try await latest()
                return done["search-1"]?.state == .completed && done["search-2"]?.state == .completed
            }
            XCTAssertEqual([done["search-1"]?.completed, done["search-1"]?.alreadyKnown], [6, 0])
            XCTAssertEqual([done["search-2"]?.completed, done["search-2"]?.alreadyKnown], [2, 3])
            let pool = try await harness.waitForPool(8)
            XCTAssertEqual(pool.count, 8, "each shared lead ran once")

            _ = try await harness.stop(coordinator, signal: SIGKILL)
            let before = try await harness.readAll(ProgressSnapshot.self, topic: harness.environment.topics.progress).count
            coordinator = try harness.start("coordinator")
            var again: [SearchID: ProgressSnapshot] = [:]
            try await waitUntil("the restarted coordinator's progress", timeoutSeconds: 60, pollMilliseconds: 250) {
                let count = try await harness.readAll(ProgressSnapshot.self, topic: harness.environment.topics.progress).count
                again = try await latest()
                return count >= before + 2
            }
            for search in ["search-1", "search-2"] as [SearchID] {
                var restored = try XCTUnwrap(again[search])
                restored.updatedAt = try XCTUnwrap(done[search]).updatedAt
                XCTAssertEqual(restored, done[search], "\(search): the same counts after a restart")
            }
        }
    }
}
