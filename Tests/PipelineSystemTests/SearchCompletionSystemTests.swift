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
}
