import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// Billing pauses from the billing system's `account.billing-event` records, with the real
/// processes on the real broker: a paused account's leads wait before their paid phases, and an
/// `active` event releases them with nobody running a command.
final class BillingEventSystemTests: XCTestCase {
    func testBillingEventsHoldAnAccountsLeadsAndAnActiveEventReleasesThem() async throws {
        try await withPipeline(environment: ["SIM_LATENCY_SCALE": "0.05"]) { harness in
            // One account paused by the billing system; one paused the older way, by its
            // configuration, with no event.
            let legacy: AccountID = "acct-legacy"
            try await harness.publish(account: AccountConfig(accountID: legacy, billingState: .paused, updatedAt: Date()))
            try await harness.publishBilling(.paused, reason: "invoice unpaid")
            let port = TestBroker.freeLoopbackPort()
            try harness.start("coordinator", environment: ["METRICS_PORT": String(port)])
            for stage in PipelineHarness.stages { try harness.start(stage) }
            func pausedAccounts() async throws -> Int? {
                guard let (_, text) = try? await httpGet("http://127.0.0.1:\(port)/metrics") else { return nil }
                return try PrometheusSamples.parse(text)["pipeline_coordinator_accounts_billing_paused"].map { Int($0) }
            }

            let leads = harness.makeLeads(24, search: "search-billing")
            let legacyLeads = harness.makeLeads(8, search: "search-legacy", prefix: "legacy", account: legacy)
            let all = leads + legacyLeads
            try await harness.publish(leads: all)

            var states: [LeadID: LeadState] = [:]
            try await waitUntil("every lead waiting on billing", timeoutSeconds: 60, pollMilliseconds: 300) {
                states = try await harness.latestStates()
                return all.allSatisfy { states[$0.leadID]?.status == .billingPaused }
            }
            let (shown, output) = try await harness.leadctl(["show", leads[1].leadID.rawValue])
            XCTAssertEqual(shown, 0, output)
            XCTAssertTrue(output.contains("status    billing-paused"), output)
            XCTAssertTrue(output.contains("waiting: billing paused"), output)
            try await waitUntil("both accounts counted as billing paused", timeoutSeconds: 10, pollMilliseconds: 200) {
                try await pausedAccounts() == 2
            }
            let topics = harness.environment.topics
            let early = try await harness.readAll(LeadPoolEntry.self, topic: topics.leadPool)
            XCTAssertEqual(early.map(\.key), [], "no held lead reached the pool")
            let earlyUsage = try await harness.readAll(BillingUsage.self, topic: topics.billingUsage)
            XCTAssertEqual(earlyUsage.map(\.key), [], "nothing charged while paused")

            // The billing system resumes the account; nobody runs a command. Its leads continue
            // within about a second (the coordinator checks held leads every second).
            try await harness.publishBilling(.active, reason: "invoice paid")
            try await waitUntil("a resumed lead running", timeoutSeconds: 5, pollMilliseconds: 100) {
                states = try await harness.latestStates()
                return leads.contains { states[$0.leadID]?.status != .billingPaused }
            }
            let resumed = try await harness.waitForPool(leads.count, timeoutSeconds: 120)
            XCTAssertEqual(Set(resumed.map(\.key)), Set(leads.map(\.leadID.rawValue)), "only the resumed account's leads finished")
            states = try await harness.latestStates()
            XCTAssertTrue(legacyLeads.allSatisfy { states[$0.leadID]?.status == .billingPaused },
                          "the account paused by its configuration still waits")
            try await waitUntil("one account counted as billing paused", timeoutSeconds: 10, pollMilliseconds: 200) {
                try await pausedAccounts() == 1
            }

            // An event is in force over the configuration: an active one resumes that account too.
            try await harness.publishBilling(.active, account: legacy)
            let pool = try await harness.waitForPool(all.count, timeoutSeconds: 120)
            XCTAssertEqual(pool.count, all.count, "every lead reaches the pool once")
            XCTAssertEqual(Set(pool.map(\.key)), Set(all.map(\.leadID.rawValue)))
            try await waitUntil("no account counted as billing paused", timeoutSeconds: 10, pollMilliseconds: 200) {
                try await pausedAccounts() == 0
            }

            // Nothing charged twice: no lead and phase under two idempotency keys.
            let usage = try await harness.readAll(BillingUsage.self, topic: topics.billingUsage).map(\.value)
            XCTAssertFalse(usage.isEmpty)
            var keysByCharge: [String: Set<String>] = [:]
            for record in usage {
                keysByCharge["\(record.leadID)/\(record.phase)", default: []].insert(record.idempotencyKey)
            }
            XCTAssertEqual(keysByCharge.filter { $0.value.count > 1 }.map(\.key), [], "charged twice")
            XCTAssertTrue(Set(usage.map(\.leadID)).isSubset(of: Set(all.map(\.leadID))))
            // The accounts' configurations are as published: the coordinator writes none.
            let accounts = try await harness.readAll(AccountConfig.self, topic: topics.accounts)
            XCTAssertEqual(accounts.count, 2)
        }
    }
}
