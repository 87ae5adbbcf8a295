import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// Account heat with the real processes on the real broker: owned per account by the aggregators
/// in the scoring processes, so it is the same with any number of them and across a crash.
final class AccountHeatSystemTests: XCTestCase {
    /// What the heat of one company came to.
    struct CompanyHeat: Hashable, CustomStringConvertible {
        var heatScore: Int?
        var leads: Set<LeadID>

        var description: String { "heat \(heatScore.map(String.init) ?? "none"), \(leads.count) leads" }
    }

    static let leadCount = 160
    static let providers = PipelineHarness.reliableProviders
    /// One account in each of the harness's four partitions: whichever instance is killed owned
    /// heat, and both instances aggregate.
    static let accounts: [AccountID] = {
        var byPartition: [Int32: AccountID] = [:]
        var index = 0
        while byPartition.count < 4 {
            let account = AccountID("acct-heat-\(index)")
            let partition = KafkaPartitioner.partition(forKey: Array(account.rawValue.utf8), partitionCount: 4)
            if byPartition[partition] == nil { byPartition[partition] = account }
            index += 1
        }
        return byPartition.sorted { $0.key < $1.key }.map(\.value)
    }()

    /// The same leads (the same profiles) in every pipeline, spread over ``accounts``.
    private func publishLeads(_ harness: PipelineHarness, handleSuffix: String) async throws {
        let perAccount = Self.leadCount / Self.accounts.count
        for (index, account) in Self.accounts.enumerated() {
            try await harness.publish(account: AccountConfig(accountID: account, updatedAt: Date()))
            try await harness.publish(leads: harness.makeLeads(
                perAccount, search: SearchID("search-\(index)"), prefix: "lead-\(index)", account: account, handleSuffix: handleSuffix))
        }
    }

    func testTwoScoringInstancesAndACrashGiveTheHeatOfOneInstance() async throws {
        // The same leads (same profiles) in both pipelines.
        let suffix = "heat-" + UUID().uuidString.prefix(6).lowercased()

        var single: [String: CompanyHeat] = [:]
        try await withPipeline(environment: Self.providers) { harness in
            try harness.startAll()
            try await publishLeads(harness, handleSuffix: suffix)
            _ = try await harness.waitForPool(Self.leadCount)
            single = try await settledHeat(harness)
            // The scoring stage sends the contributions of an account scored together as one record.
            let batches = try await harness.readAll(AccountSignalContributionBatch.self,
                                                    topic: harness.environment.topics.accountSignalContributions)
            XCTAssertEqual(Set(batches.flatMap { $0.value.contributions.map(\.leadID) }).count, Self.leadCount, "every lead contributed")
            XCTAssertLessThan(batches.count, Self.leadCount / 2, "contributions batched per account")
        }
        XCTAssertGreaterThan(single.values.filter { $0.leads.count >= 2 }.count, Self.accounts.count, "several companies have heat")

        try await withPipeline(environment: Self.providers) { harness in
            try harness.start("coordinator")
            for stage in PipelineHarness.stages where stage != "scoring-stage" {
                try harness.start(stage)
            }
            let crashing = try harness.start("scoring-stage")
            try harness.start("scoring-stage")
            try await publishLeads(harness, handleSuffix: suffix)

            // Mid-run: one scoring instance (and the aggregator in it) dies, a new one starts.
            let topics = harness.environment.topics
            try await waitUntil("a third of the leads scored", timeoutSeconds: 120, pollMilliseconds: 200) {
                try await harness.readAll(AccountHeatState.self, topic: topics.accountHeat).count >= Self.leadCount / 6
            }
            try await harness.stop(crashing, signal: SIGKILL)
            try harness.start("scoring-stage")

            _ = try await harness.waitForPool(Self.leadCount)
            let crashed = try await settledHeat(harness)
            XCTAssertEqual(crashed.keys.sorted(), single.keys.sorted(), "the same companies of the same accounts")
            for (company, expected) in single {
                let found = crashed[company]
                XCTAssertEqual(found?.leads, expected.leads, "\(company): the same leads, each once")
                // Heat is computed at each lead's scoring time: minutes apart, it may round one off.
                if let heat = found?.heatScore, let expectedHeat = expected.heatScore {
                    XCTAssertLessThanOrEqual(abs(heat - expectedHeat), 1, "\(company): \(found!) vs \(expected)")
                } else {
                    XCTAssertEqual(found?.heatScore, expected.heatScore, company)
                }
            }
            // The group may still be settling after the kill: wait for an owner to restore heat.
            try await waitUntil("a surviving instance took over accounts from the changelog", timeoutSeconds: 30,
                                pollMilliseconds: 500) {
                try harness.logLines().values.joined().contains {
                    $0.contains("restored account heat") && !$0.contains("\"companies\":\"0\"")
                }
            }
            let aggregating = try harness.logLines().filter { name, lines in
                name.hasPrefix("scoring-stage") && lines.contains { $0.contains("restored account heat") && !$0.contains("\"partitions\":\"\"") }
            }
            XCTAssertGreaterThanOrEqual(aggregating.count, 2, "more than one instance owned heat partitions")
        }
    }

    /// Waits until the aggregators have committed every contribution (their changelog written),
    /// then reads the heat table and checks the published signals agree with it. Keyed by
    /// changelog key (account and company).
    private func settledHeat(_ harness: PipelineHarness) async throws -> [String: CompanyHeat] {
        let topics = harness.environment.topics
        let admin = try KafkaAdmin(configuration: harness.environment.kafka)
        var quietChecks = 0
        try await waitUntil("the heat aggregators caught up", timeoutSeconds: 60, pollMilliseconds: 500) {
            let lag = try await admin.lag(group: topics.accountHeatGroup, topics: [topics.accountSignalContributions])
            let settled = !lag.isEmpty && lag.allSatisfy { $0.watermarks.high == 0 || $0.committed == $0.watermarks.high }
            quietChecks = settled ? quietChecks + 1 : 0
            return quietChecks >= 2
        }
        var table: [String: AccountHeatState] = [:]
        for (key, state) in try await harness.readAll(AccountHeatState.self, topic: topics.accountHeat) {
            table[key] = state
        }
        var heat: [String: CompanyHeat] = [:]
        var seen: [LeadID: String] = [:]
        for state in table.values where !state.leads.isEmpty {
            for lead in state.leads {
                XCTAssertNil(seen.updateValue(state.companyKey, forKey: lead.leadID), "\(lead.leadID) counts at one company")
            }
            heat[state.changelogKey] = CompanyHeat(heatScore: state.leads.count >= 2 ? state.heatScore : nil,
                                                 leads: Set(state.leads.map(\.leadID)))
        }
        var published: [String: AccountSignal] = [:]
        for (_, signal) in try await harness.readAll(AccountSignal.self, topic: topics.accountSignals) {
            published[AccountHeatState.changelogKey(accountID: signal.accountID, companyKey: signal.companyKey)] = signal
        }
        for (company, figures) in heat where figures.leads.count >= 2 {
            XCTAssertEqual(published[company]?.heatScore, figures.heatScore, "\(company): the last signal published is the table's heat")
            XCTAssertEqual(published[company]?.leadCount, figures.leads.count, company)
        }
        return heat
    }
}
