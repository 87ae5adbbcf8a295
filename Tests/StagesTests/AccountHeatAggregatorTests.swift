import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import Synchronization
import XCTest

/// The overrides table the aggregator follows (`lead.overrides` of `environment`), not started:
/// a test that overrides no lead leaves it so, and it reads as empty.
func overridesTable(_ environment: PipelineEnvironment) -> KafkaTable<LeadOverride> {
    KafkaTable<LeadOverride>(configuration: environment.kafka, topic: environment.topics.leadOverrides, codec: environment.codec,
                             logger: environment.logger, recordsChanges: true)
}

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

            let first = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment),
                                              consumerProperties: TestBroker.fastGroupProperties, now: { Fixtures.now })
            let signal = try await withRunning({ try await first.run() }) {
                _ = try await producer.send([
                    try send(contribution("lead-1"), "acct-1"), try send(contribution("lead-2"), "acct-1"),
                    try send(contribution("lead-9"), "acct-other"),
                    ProducerRecord(topic: topics.accountSignalContributions, key: "acct-1", value: Array("{not json".utf8)),
                ])
                let firstOutputs = try await consume(reader, count: 3, timeoutSeconds: 60)
                XCTAssertEqual(firstOutputs.filter { $0.topic == topics.deadLetters }.count, 2, "a wrong key and garbage")
                return try firstOutputs.first { $0.topic == topics.accountSignals }.map { try codec.decode(AccountSignal.self, record: $0) }
            }
            XCTAssertEqual(signal?.leadCount, 2)

            // The successor restores the changelog: lead-2 again (a replay) changes nothing, lead-3 counts.
            let second = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment),
                                               consumerProperties: TestBroker.fastGroupProperties, now: { Fixtures.now })
            let third = try await withRunning({ try await second.run() }) {
                _ = try await producer.send([try send(contribution("lead-2"), "acct-1"), try send(contribution("lead-3"), "acct-1")])
                let secondOutputs = try await consume(reader, count: 1, timeoutSeconds: 60)
                return try secondOutputs.first.map { try codec.decode(AccountSignal.self, record: $0) }
            }
            XCTAssertEqual(third?.leadCount, 3)
            XCTAssertGreaterThan(third?.heatScore ?? 0, signal?.heatScore ?? 100)

            // Thirty days on, with no contribution: a successor cools the company it restores.
            let later = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment),
                                              consumerProperties: TestBroker.fastGroupProperties,
                                              now: { Fixtures.now.addingTimeInterval(30 * 86_400) })
            let cooled = try await withRunning({ try await later.run() }) {
                try await consume(reader, count: 1, timeoutSeconds: 60).first.map { try codec.decode(AccountSignal.self, record: $0) }
            }
            XCTAssertEqual(cooled?.leadCount, 3)
            XCTAssertLessThan(cooled?.heatScore ?? 100, third?.heatScore ?? 0)
            XCTAssertEqual(cooled?.trend, .cooling)
            await reader.close()
            await producer.close()

            let signals = try await readAll(topics.accountSignals, environment)
            XCTAssertEqual(signals.count, 3, "the replay published nothing; the day's passing published once")
            var table: [String: AccountHeatState] = [:]
            for record in try await readAll(topics.accountHeat, environment) {
                table[record.keyString ?? ""] = try codec.decode(AccountHeatState.self, record: record)
            }
            let acme = try XCTUnwrap(table["acct-1|name:acme saas"])
            XCTAssertEqual(acme.leads.map(\.leadID).sorted(), ["lead-1", "lead-2", "lead-3"])
            XCTAssertEqual(acme.counted.map(\.leadID).sorted(), ["lead-1", "lead-2", "lead-3"], "each contribution counted once")
            XCTAssertEqual(acme.heatScore, cooled?.heatScore, "the cooled heat is written too")
        }
    }

    /// A changelog record the restore cannot read (a newer version's, after a rollback; one
    /// above a lowered MAX_RECORD_BYTES) leaves its company's heat to what came before it, and
    /// the next change of that company writes over it: counted in
    /// `pipeline_table_records_skipped_total{topic="<account.heat>"}` (so
    /// `PipelineTableRecordUndecodable` fires), at zero from the start. It was only logged.
    func testAnUnreadableChangelogRecordIsCountedWhenTheHeatIsRestored() async throws {
        try await withNamespace(service: "scoring-stage") { environment in
            let topics = environment.topics
            let producer = try KafkaProducer(configuration: environment.kafka)
            _ = try await producer.send([ProducerRecord(topic: topics.accountHeat, key: "acct-1|name:acme saas",
                                                        value: Array(#"{"schema": "account.heat", "version": 99}"#.utf8))])
            let metrics = MetricsRegistry()
            let aggregator = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment),
                                                   consumerProperties: TestBroker.fastGroupProperties, now: { Fixtures.now },
                                                   metrics: metrics)
            XCTAssertEqual(metrics.value(MetricNames.tableRecordsSkipped, ["topic": topics.accountHeat]), 0)
            let reader = try KafkaConsumer(configuration: environment.kafka, groupID: uniqueTopicName("reader"),
                                           topics: [topics.accountSignals], properties: TestBroker.fastGroupProperties)
            try await withRunning({ try await aggregator.run() }) {
                // Two people of the company: its signal, published once the restore is done, counts them alone.
                _ = try await producer.send(try ["lead-1", "lead-2"].map {
                    try environment.codec.record(contribution($0), topic: topics.accountSignalContributions, key: "acct-1")
                })
                let signal = try await consume(reader, count: 1, timeoutSeconds: 60).first.map {
                    try environment.codec.decode(AccountSignal.self, record: $0)
                }
                XCTAssertEqual(signal?.leadCount, 2)
                XCTAssertEqual(metrics.value(MetricNames.tableRecordsSkipped, ["topic": topics.accountHeat]), 1)
            }
            await reader.close()
            await producer.close()
        }
    }

    /// A lead a person disqualifies on `lead.overrides` leaves its company's heat at once, though
    /// no contribution of it comes (a disqualified lead is not scored again): the company, two
    /// people before, falls below two and says so. Cleared (`cleared`, a `manual` state, a
    /// tombstone), it counts again at once with the heat of two people, as its contribution
    /// stayed recorded in the changelog. A successor restoring the changelog while the lead is
    /// disqualified leaves it out too, and publishes its company's fall when the owner before it
    /// did not (here none ran when the override came).
    func testADisqualifiedLeadLeavesItsCompanysHeatUntilTheOverrideIsCleared() async throws {
        try await withNamespace(service: "scoring-stage") { environment in
            let topics = environment.topics
            let codec = environment.codec
            let producer = try KafkaProducer(configuration: environment.kafka)
            let reader = try KafkaConsumer(
                configuration: environment.kafka, groupID: uniqueTopicName("reader"), topics: [topics.accountSignals],
                properties: TestBroker.fastGroupProperties)
            /// An aggregator running with an overrides table of its own, read first, as in a scoring process.
            func start() async throws -> (overrides: KafkaTable<LeadOverride>, run: Task<Void, Error>) {
                let overrides = overridesTable(environment)
                try await overrides.start()
                let aggregator = AccountHeatAggregator(environment: environment, overrides: overrides,
                                                       consumerProperties: TestBroker.fastGroupProperties, writeInterval: .zero,
                                                       now: { Fixtures.now })
                return (overrides, Task { try await aggregator.run() })
            }
            func stop(_ running: (overrides: KafkaTable<LeadOverride>, run: Task<Void, Error>)) async {
                running.run.cancel()
                if case .failure(let error) = await running.run.result { XCTFail("the aggregator failed: \(error)") }
                await running.overrides.stop()
            }
            func nextSignal() async throws -> AccountSignal {
                let records = try await consume(reader, count: 1, timeoutSeconds: 60)
                XCTAssertEqual(records.count, 1, "one signal per change")
                return try codec.decode(AccountSignal.self, record: XCTUnwrap(records.last))
            }
            func send(_ leads: [LeadID]) async throws {
                _ = try await producer.send(try leads.map {
                    try codec.record(contribution($0), topic: topics.accountSignalContributions, key: "acct-1")
                })
            }
            func override(_ made: LeadOverride?) async throws {
                let record = try made.map { try codec.record($0, topic: topics.leadOverrides, key: "lead-2") }
                    ?? ProducerRecord(topic: topics.leadOverrides, key: "lead-2", value: nil)
                _ = try await producer.send([record])
            }
            func setting(_ state: LeadOverride.State) -> LeadOverride {
                LeadOverride(leadID: "lead-2", state: state, reason: "a student", requestedBy: "ops@example.com", at: Fixtures.now)
            }

            var running = try await start()
            do {
                try await send(["lead-1", "lead-2"])
                let hot = try await nextSignal()
                XCTAssertEqual(hot.leadCount, 2)
                XCTAssertGreaterThan(hot.heatScore, 0)

                let clearings: [(name: String, record: LeadOverride?)] = [
                    ("cleared", .clearing("lead-2", requestedBy: "ops@example.com", at: Fixtures.now)), ("manual", setting(.manual)),
                    ("a tombstone", nil),
                ]
                for clearing in clearings {
                    try await override(setting(.disqualified))
                    let cooled = try await nextSignal()
                    XCTAssertEqual([cooled.heatScore, cooled.leadCount], [0, 1], "lead-2 no longer counts")
                    XCTAssertEqual(cooled.category, .cool)
                    try await override(clearing.record)
                    let again = try await nextSignal()
                    XCTAssertEqual([again.heatScore, again.leadCount], [hot.heatScore, 2], "counted again after \(clearing.name)")
                }

                // Disqualified while no owner runs: the successor restores lead-2 left out, and says
                // so, as no owner did; then a contribution of lead-3 counts beside lead-1 only.
                await stop(running)
                try await override(setting(.disqualified))
                running = try await start()
                let left = try await nextSignal()
                XCTAssertEqual([left.heatScore, left.leadCount], [0, 1], "said by the successor")
                try await send(["lead-3"])
                let restored = try await nextSignal()
                XCTAssertEqual([restored.heatScore, restored.leadCount], [hot.heatScore, 2], "lead-1 and lead-3")
            } catch {
                // The aggregator and the clients must not outlive the topics.
                await stop(running)
                await reader.close()
                await producer.close()
                throw error
            }
            await stop(running)
            await reader.close()
            await producer.close()

            var table: [String: AccountHeatState] = [:]
            for record in try await readAll(topics.accountHeat, environment) {
                table[record.keyString ?? ""] = try codec.decode(AccountHeatState.self, record: record)
            }
            let acme = try XCTUnwrap(table["acct-1|name:acme saas"])
            XCTAssertEqual(acme.leads.map(\.leadID).sorted(), ["lead-1", "lead-2", "lead-3"], "recorded throughout")
            XCTAssertEqual(acme.published?.leadCount, 2)
        }
    }

    /// A heat output the broker refuses for good (here larger than the producer may send, as a
    /// company's state over a broker's `message.max.bytes` would be) goes to dead letters, or is
    /// logged and dropped when its dead letter is refused too: the aggregator, and with it the
    /// scoring stage, goes on instead of stopping and failing the same way after each restart.
    func testAnOutputTheBrokerRefusesDoesNotStopTheAggregator() async throws {
        try await withNamespace(service: "scoring-stage") { environment in
            let lines = Mutex<[String]>([])
            var small = environment
            small.kafka.properties["message.max.bytes"] = "1000"
            small.logger = Logger(service: "scoring-stage", level: .warning) { line in lines.withLock { $0.append(line) } }
            let ended = Mutex<String?>(nil)
            let aggregator = AccountHeatAggregator(environment: small, overrides: overridesTable(small),
                                                   consumerProperties: TestBroker.fastGroupProperties, writeInterval: .zero)
            let run: @Sendable () async throws -> Void = {
                do { try await aggregator.run() } catch { ended.withLock { $0 = "\(error)" } }
                ended.withLock { $0 = $0 ?? "returned" }
            }
            let producer = try KafkaProducer(configuration: environment.kafka)
            func send(_ leads: ClosedRange<Int>) async throws {
                _ = try await producer.send(try leads.map {
                    try environment.codec.record(contribution(LeadID("lead-\($0)")), topic: environment.topics.accountSignalContributions,
                                                 key: "acct-1")
                })
            }
            func refusals() -> Int { lines.withLock { $0.filter { $0.contains("refused") }.count } }
            try await withRunning(run) {
                try await send(1...6)
                try await waitUntil("a refusal logged", timeoutSeconds: 60) { refusals() > 0 || ended.withLock { $0 } != nil }
                let first = refusals()
                try await send(7...8)
                try await waitUntil("the next contributions handled too", timeoutSeconds: 60) {
                    refusals() > first || ended.withLock { $0 } != nil
                }
                XCTAssertNil(ended.withLock { $0 }, "the aggregator goes on")
            }
            await producer.close()

            // A refused output's letter carries the output, so it is refused too: it is sent
            // again without it (its size and hash kept), as a stage's runner does, not dropped.
            let letters = try await readAll(environment.topics.deadLetters, environment).map {
                try environment.codec.decode(DeadLetter.self, record: $0)
            }
            let withheld = letters.filter { $0.sourceTopic == environment.topics.accountHeat && $0.original == nil }
            XCTAssertFalse(withheld.isEmpty, "\(letters.map(\.reason))")
            for letter in withheld {
                XCTAssertGreaterThan(letter.originalBytes ?? 0, 1000, letter.reason)
                XCTAssertTrue(letter.reason.contains("refused") && letter.reason.contains("withheld"), letter.reason)
            }
        }
    }

    /// The aggregator's dead letters count in `pipeline_dead_letters_total` of the scoring
    /// stage's registry, as a stage's and the coordinator's do: the dead-letter alert and panel
    /// read it, and saw none of the aggregator's before.
    func testItsDeadLettersAreCountedByReason() async throws {
        try await withNamespace(service: "scoring-stage") { environment in
            let metrics = MetricsRegistry()
            let aggregator = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment),
                                                   consumerProperties: TestBroker.fastGroupProperties, writeInterval: .zero,
                                                   metrics: metrics)
            XCTAssertEqual(metrics.value(MetricNames.deadLetters, ["reason": "malformed"]), 0, "at zero from the start")
            let producer = try KafkaProducer(configuration: environment.kafka)
            try await withRunning({ _ = try? await aggregator.run() }) {
                _ = try await producer.send([ProducerRecord(topic: environment.topics.accountSignalContributions, key: "acct-1",
                                                            value: Array("not json".utf8))])
                try await waitUntil("the malformed contribution dead-lettered and counted", timeoutSeconds: 60) {
                    metrics.value(MetricNames.deadLetters, ["reason": "malformed"]) == 1
                }
            }
            await producer.close()
            let letters = try await readAll(environment.topics.deadLetters, environment)
            XCTAssertEqual(letters.count, 1)
        }
    }
}
