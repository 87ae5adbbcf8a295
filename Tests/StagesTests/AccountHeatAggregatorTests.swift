import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import LeadRules
import Stages
import Streaming
import XCTest

/// The account heat aggregator against the real broker: heat published and written to the
/// changelog, bad contributions dead-lettered, and a successor restoring the changelog and
/// counting a replayed contribution once.
final class AccountHeatAggregatorTests: XCTestCase {
    private let asking = [Fixtures.post("Can anyone recommend an alternative to Outreach?", daysAgo: 1)]

    private func contribution(_ lead: LeadID, run: RunID = "run-1") -> AccountSignalContribution {
        AccountSignalAggregator.contribution(
            of: Fixtures.profile(leadID: lead.rawValue, posts: asking), leadID: lead, runID: run, accountID: "acct-1",
            offer: Fixtures.offer(), at: Fixtures.now)
    }

    private func readAll(_ topic: String, _ environment: PipelineEnvironment) async throws -> [ConsumerRecord] {
        let partitions = try await KafkaAdmin(configuration: environment.kafka).partitions(of: topic)
        var records: [ConsumerRecord] = []
        try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka) { records.append($0) }
        return records
    }

    func testOwnsHeatAndASuccessorRestoresItAndCountsAReplayOnce() async throws {
        try await withNamespace(service: "scoring-stage") { environment in
            let topics = environment.topics
            let codec = environment.codec
            let producer = try KafkaProducer(configuration: environment.kafka)
            let send = { (message: AccountSignalContribution, key: String) in
                try codec.record(message, topic: topics.accountSignalContributions, key: key)
            }
            let reader = try KafkaConsumer(
                configuration: environment.kafka, groupID: uniqueTopicName("reader"),
                topics: [topics.accountSignals, topics.deadLetters], properties: TestBroker.fastGroupProperties)

            let first = AccountHeatAggregator(environment: environment, consumerProperties: TestBroker.fastGroupProperties)
            let firstRun = Task { try await first.run() }
            _ = try await producer.send([
                try send(contribution("lead-1"), "acct-1"), try send(contribution("lead-2"), "acct-1"),
                try send(contribution("lead-9"), "acct-other"),
                ProducerRecord(topic: topics.accountSignalContributions, key: "acct-1", value: Array("{not json".utf8)),
            ])
            let firstOutputs = try await consume(reader, count: 3, timeoutSeconds: 60)
            XCTAssertEqual(firstOutputs.filter { $0.topic == topics.deadLetters }.count, 2, "a wrong key and garbage")
            let signal = try firstOutputs.first { $0.topic == topics.accountSignals }.map { try codec.decode(AccountSignal.self, record: $0) }
            XCTAssertEqual(signal?.leadCount, 2)
            firstRun.cancel()
            try await firstRun.value

            // The successor restores the changelog: lead-2 again (a replay) changes nothing, lead-3 counts.
            let second = AccountHeatAggregator(environment: environment, consumerProperties: TestBroker.fastGroupProperties)
            let secondRun = Task { try await second.run() }
            _ = try await producer.send([try send(contribution("lead-2"), "acct-1"), try send(contribution("lead-3"), "acct-1")])
            let secondOutputs = try await consume(reader, count: 1, timeoutSeconds: 60)
            let third = try secondOutputs.first.map { try codec.decode(AccountSignal.self, record: $0) }
            XCTAssertEqual(third?.leadCount, 3)
            XCTAssertGreaterThan(third?.heatScore ?? 0, signal?.heatScore ?? 100)
            secondRun.cancel()
            try await secondRun.value
            await reader.close()
            await producer.close()

            let signals = try await readAll(topics.accountSignals, environment)
            XCTAssertEqual(signals.count, 2, "the replay published nothing")
            var table: [String: AccountHeatState] = [:]
            for record in try await readAll(topics.accountHeat, environment) {
                table[record.keyString ?? ""] = try codec.decode(AccountHeatState.self, record: record)
            }
            let acme = try XCTUnwrap(table["acct-1|name:acme saas"])
            XCTAssertEqual(acme.leads.map(\.leadID).sorted(), ["lead-1", "lead-2", "lead-3"])
            XCTAssertEqual(acme.counted.map(\.leadID).sorted(), ["lead-1", "lead-2", "lead-3"], "each contribution counted once")
            XCTAssertEqual(acme.heatScore, third?.heatScore)
        }
    }
}
