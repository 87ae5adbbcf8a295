import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import XCTest

/// The steps a stage's outputs go in. The coordinator acts on a result as soon as it is in, and
/// autopilot on an enrollment: so a result goes only once the records it stands on are
/// acknowledged (a heat contribution, a pool entry), and an enrollment only once its run's pool
/// entry is. A step refused by the broker dead-letters the request and stops there. No broker:
/// the processor's steps are walked with made-up delivery reports.
final class StageOutputStepsTests: XCTestCase {
    let topics = Topics(namespace: "ns")
    let codec = MessageCodec()

    /// Each step's topics, the reports of step n naming offsets 10n, 10n + 1, ...; and the records.
    private func steps(_ outputs: RecordOutputs) -> (topics: [[String]], records: [ProducerRecord]) {
        var topics: [[String]] = []
        var records: [ProducerRecord] = []
        var step: RecordOutputs? = outputs
        while let current = step {
            topics.append(current.records.map(\.topic))
            records += current.records
            let reports = current.records.enumerated().map { index, record in
                DeliveryReport(topic: record.topic, partition: 0, offset: Int64(10 * topics.count + index))
            }
            step = current.next?(reports)
        }
        return (topics, records)
    }

    private func process(_ request: PhaseRequest, with handler: any PhaseHandler) async throws -> RecordOutputs {
        let processor = StageRecordProcessor(handler: handler, codec: codec, topics: topics, service: "test",
                                             logger: Logger(service: "test", level: .error, sink: { _ in }))
        let record = try codec.record(request, topic: topics.phaseRequests(request.phase), key: request.leadID.rawValue)
        return await processor.process(ConsumerRecord(topic: record.topic, partition: 0, offset: 1, key: record.key,
                                                      value: record.value, headers: record.headers))
    }

    func testFinalizeWritesTheEntryThenTheEnrollmentThenTheResultNamingTheEntry() async throws {
        let account = Fixtures.account()
        var profile = Fixtures.profile()
        profile.scores = FixedScorer.active().card
        let handler = FinalizeStageHandler(accounts: { _ in account }, service: "test", now: Fixtures.clock)
        let walked = steps(try await process(Fixtures.request(.finalize, profile: profile), with: handler))
        XCTAssertEqual(walked.topics, [[topics.leadPool], [topics.autopilotEnrollments], [topics.phaseResults(isPriority: false)]])
        let result = try codec.decode(PhaseResult.self, from: try XCTUnwrap(walked.records.last?.value))
        XCTAssertEqual(result.poolEntry, RecordPosition(topic: topics.leadPool, partition: 0, offset: 10), "the entry's report")

        let plain = FinalizeStageHandler(service: "test", now: Fixtures.clock)
        let withoutEnrollment = steps(try await process(Fixtures.request(.finalize, profile: profile), with: plain))
        XCTAssertEqual(withoutEnrollment.topics, [[topics.leadPool], [topics.phaseResults(isPriority: false)]],
                       "no enrollment: the entry, then the result")
    }

    /// A scoring result whose heat contribution goes with it (no batcher took it) waits for it.
    func testAScoringResultGoesOnceItsContributionIsIn() async throws {
        struct Contributing: PhaseHandler {
            let phase = Phase.scoring
            func handle(_ request: PhaseRequest) async -> StageOutput {
                let contribution = AccountSignalContribution(
                    accountID: request.accountID, leadID: request.leadID, runID: request.runID, offerID: request.offerID,
                    companyKey: "name:acme", companyName: "Acme", signals: [], scoredAt: Fixtures.now)
                return StageOutput(result: PhaseResult(answering: request, outcome: .completed, payload: PhasePayload(), finishedAt: Fixtures.now,
                                                       service: "test"),
                                   contribution: contribution)
            }
        }
        let walked = steps(try await process(Fixtures.request(.scoring, profile: Fixtures.profile()), with: Contributing()))
        XCTAssertEqual(walked.topics, [[topics.accountSignalContributions], [topics.phaseResults(isPriority: false)]])
    }
}
