import Foundation
import Kafka
import LeadModel
import LeadRules
@testable import Stages
import Streaming
import XCTest

/// The heat aggregator's changelog per poll, without a broker: a company changed by several
/// contributions of one poll is written once, with the state after the last; a state too large
/// to write dead-letters the last contribution that changed it; a batch record (version 2) counts
/// as its contributions in records of their own.
final class AccountHeatChangelogTests: XCTestCase {
    private let asking = [Fixtures.post("Can anyone recommend an alternative to Outreach?", daysAgo: 1)]

    /// An environment whose codec refuses records above `maxRecordBytes` (the setting's own
    /// minimum, 64 KiB, would take hundreds of contributions to reach).
    private func environment(maxRecordBytes: Int = 1 << 20) throws -> PipelineEnvironment {
        var environment = try PipelineEnvironment(service: "scoring-stage", environment: [
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9", "LOG_LEVEL": "error",
        ])
        environment.codec = MessageCodec(maxRecordBytes: maxRecordBytes)
        return environment
    }

    private func records(_ leads: [String], _ environment: PipelineEnvironment) throws -> [ConsumerRecord] {
        try leads.enumerated().map { index, lead in
            let contribution = AccountSignalAggregator.contribution(
                of: Fixtures.profile(leadID: lead, posts: asking), leadID: LeadID(lead), runID: "run-1", accountID: "acct-1",
                offer: Fixtures.offer(), at: Fixtures.now)
            let record = try environment.codec.record(contribution, topic: environment.topics.accountSignalContributions, key: "acct-1")
            return ConsumerRecord(topic: record.topic, partition: 1, offset: Int64(index), key: record.key, value: record.value,
                                  headers: record.headers)
        }
    }

    /// A contribution scored more than a day after the aggregator's clock is dead-lettered, not
    /// applied: it would move the heat's latest time a year on, forget every lead as older than
    /// the window, and make every contribution after it count as too old, for good (the
    /// changelog keeps the time).
    func testAContributionScoredFarInTheFutureIsDeadLetteredAndTheHeatGoesOn() throws {
        let environment = try environment()
        let aggregator = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment))
        var owned = AccountHeatAggregator.Owned(partitions: [1])
        var outputs = AccountHeatAggregator.Outputs()
        func record(_ lead: String, at: Date, offset: Int64) throws -> ConsumerRecord {
            let contribution = AccountSignalAggregator.contribution(
                of: Fixtures.profile(leadID: lead, posts: asking), leadID: LeadID(lead), runID: "run-1", accountID: "acct-1",
                offer: Fixtures.offer(), at: at)
            let record = try environment.codec.record(contribution, topic: environment.topics.accountSignalContributions, key: "acct-1")
            return ConsumerRecord(topic: record.topic, partition: 1, offset: offset, key: record.key, value: record.value, headers: record.headers)
        }
        let now = Date()
        aggregator.apply(try record("lead-1", at: now, offset: 0), &owned, &outputs)
        aggregator.apply(try record("lead-2", at: now, offset: 1), &owned, &outputs)
        aggregator.apply(try record("lead-3", at: now.addingTimeInterval(365 * 86_400), offset: 2), &owned, &outputs)
        aggregator.apply(try record("lead-4", at: now.addingTimeInterval(60), offset: 3), &owned, &outputs)
        aggregator.apply(try record("lead-5", at: now.addingTimeInterval(3_600), offset: 4), &owned, &outputs)
        let letters = try outputs.deadLetters.map { try environment.codec.decode(DeadLetter.self, from: XCTUnwrap($0.value)) }
        XCTAssertEqual(letters.map(\.offset), [2])
        XCTAssertTrue(letters.first?.reason.contains("clock") == true, letters.first?.reason ?? "")
        let changelog = aggregator.changelogRecords(&outputs, owned: owned)
        let state = try environment.codec.decode(AccountHeatState.self, from: XCTUnwrap(changelog.first?.value))
        XCTAssertEqual(Set(state.leads.map(\.leadID)), ["lead-1", "lead-2", "lead-4", "lead-5"], "an hour ahead is a clock's skew, applied")
    }

    func testACompanyChangedByManyContributionsOfAPollIsWrittenOnceWithItsLastState() throws {
        let environment = try environment()
        let aggregator = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment))
        var owned = AccountHeatAggregator.Owned(partitions: [1])
        var outputs = AccountHeatAggregator.Outputs()
        for record in try records(["lead-1", "lead-2", "lead-3"], environment) { aggregator.apply(record, &owned, &outputs) }
        let changelog = aggregator.changelogRecords(&outputs, owned: owned)
        XCTAssertEqual(changelog.count, 1, "one company, one record")
        XCTAssertEqual(changelog.first?.partition, 1, "to the partition of its contributions")
        let state = try environment.codec.decode(AccountHeatState.self, from: XCTUnwrap(changelog.first?.value))
        XCTAssertEqual(Set(state.leads.map(\.leadID)), ["lead-1", "lead-2", "lead-3"])
        XCTAssertTrue(outputs.deadLetters.isEmpty)
    }

    func testAHeldChangeIsWrittenAsTheHeatStandsWhenWrittenAndAForgottenCompanyAsATombstone() throws {
        let environment = try environment()
        let aggregator = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment))
        var owned = AccountHeatAggregator.Owned(partitions: [1])
        let inputs = try records(["lead-1", "lead-2"], environment)
        var first = AccountHeatAggregator.Outputs()
        aggregator.apply(inputs[0], &owned, &first)
        var second = AccountHeatAggregator.Outputs()
        aggregator.apply(inputs[1], &owned, &second)
        // The first poll's change, written after the second poll (held): the company as it stands.
        let held = first.changed.map { (key: $0.key, change: $0.value) }
        var deadLetters: [ProducerRecord] = []
        let written = aggregator.changelogRecords(held, owned: owned, deadLetters: &deadLetters)
        let state = try environment.codec.decode(AccountHeatState.self, from: XCTUnwrap(written.first?.value))
        XCTAssertEqual(Set(state.leads.map(\.leadID)), ["lead-1", "lead-2"])
        XCTAssertEqual(written.first?.key, held.first.map { Array($0.key.utf8) })

        // A company the heat no longer holds is written as a tombstone under its key.
        var gone = try XCTUnwrap(held.first)
        gone.change.companyKey = "name:gone"
        gone.key = AccountHeatState.changelogKey(accountID: "acct-1", companyKey: "name:gone")
        let tombstones = aggregator.changelogRecords([gone], owned: owned, deadLetters: &deadLetters)
        XCTAssertEqual(tombstones.count, 1)
        XCTAssertNil(tombstones.first?.value, "a tombstone")
        XCTAssertEqual(tombstones.first?.partition, 1)
        XCTAssertTrue(deadLetters.isEmpty)
    }

    func testACompanyChangedByManyContributionsOfAPollPublishesOneSignalAsItStandsAfterThePoll() throws {
        let environment = try environment()
        let aggregator = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment))
        var owned = AccountHeatAggregator.Owned(partitions: [1])
        var outputs = AccountHeatAggregator.Outputs()
        for record in try records(["lead-1", "lead-2", "lead-3", "lead-4"], environment) { aggregator.apply(record, &owned, &outputs) }
        let signals = try aggregator.signalRecords(&outputs).map { try environment.codec.decode(AccountSignal.self, from: XCTUnwrap($0.value)) }
        XCTAssertEqual(signals.count, 1, "one company, one signal")
        XCTAssertEqual(signals.first?.leadCount, 4, "the heat after the last contribution")
        XCTAssertEqual(signals.first?.accountID, "acct-1")
        XCTAssertTrue(outputs.deadLetters.isEmpty)
    }

    func testABatchRecordCountsEachOfItsContributionsAsRecordsOfTheirOwnWould() throws {
        let environment = try environment()
        let singles = try records(["lead-1", "lead-2", "lead-3"], environment)
        let contributions = try singles.map { try environment.codec.decode(AccountSignalContribution.self, record: $0) }
        let batch = try environment.codec.record(AccountSignalContributionBatch(accountID: "acct-1", contributions: contributions),
                                                 topic: environment.topics.accountSignalContributions, key: "acct-1")
        let aggregator = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment))

        func heat(_ inputs: [ConsumerRecord]) throws -> AccountHeatState {
            var owned = AccountHeatAggregator.Owned(partitions: [1])
            var outputs = AccountHeatAggregator.Outputs()
            for record in inputs { aggregator.apply(record, &owned, &outputs) }
            XCTAssertTrue(outputs.deadLetters.isEmpty)
            return try environment.codec.decode(AccountHeatState.self, from: XCTUnwrap(aggregator.changelogRecords(&outputs, owned: owned).first?.value))
        }
        let batched = try heat([ConsumerRecord(topic: batch.topic, partition: 1, offset: 0, key: batch.key, value: batch.value,
                                               headers: batch.headers)])
        let one = try heat(singles)
        XCTAssertEqual(Set(batched.leads.map(\.leadID)), ["lead-1", "lead-2", "lead-3"])
        XCTAssertEqual(batched.heatScore, one.heatScore)
        XCTAssertEqual(batched.leads, one.leads)

        // A batch keyed by another account would reach another account's owner: a dead letter.
        var owned = AccountHeatAggregator.Owned(partitions: [1])
        var outputs = AccountHeatAggregator.Outputs()
        aggregator.apply(ConsumerRecord(topic: batch.topic, partition: 1, offset: 1, key: Array("acct-2".utf8), value: batch.value,
                                        headers: batch.headers), &owned, &outputs)
        XCTAssertEqual(outputs.deadLetters.count, 1)
        XCTAssertTrue(owned.accounts.isEmpty)
    }

    func testAStateTooLargeToWriteDeadLettersTheLastContributionThatChangedIt() throws {
        let environment = try environment(maxRecordBytes: 1_500)
        let aggregator = AccountHeatAggregator(environment: environment, overrides: overridesTable(environment))
        var owned = AccountHeatAggregator.Owned(partitions: [1])
        var outputs = AccountHeatAggregator.Outputs()
        let inputs = try records(["lead-1", "lead-2", "lead-3"], environment)
        for record in inputs { aggregator.apply(record, &owned, &outputs) }
        XCTAssertTrue(aggregator.changelogRecords(&outputs, owned: owned).isEmpty, "nothing written")
        XCTAssertEqual(outputs.deadLetters.count, 1)
        let letter = try environment.codec.decode(DeadLetter.self, from: XCTUnwrap(outputs.deadLetters.first?.value))
        XCTAssertEqual(letter.offset, inputs.last?.offset)
        XCTAssertTrue(letter.reason.contains("above MAX_RECORD_BYTES"), letter.reason)
    }
}
