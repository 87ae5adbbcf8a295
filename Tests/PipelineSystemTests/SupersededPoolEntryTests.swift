import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Stages
import Streaming
import XCTest

/// A superseded run's finalize answered late does not leave its entry as the lead's in the pool.
final class SupersededPoolEntryTests: XCTestCase {
    /// The ready lead's own finalize request answered again (a finalize stage SIGKILLed between
    /// the entry's acknowledgement and the commit redoes it): the same entry further on in the
    /// pool. The lead's state follows it, with no entry written, so that a command of the lead
    /// later reads its entry where it is: before, the state kept naming the first, which
    /// compaction takes away, and loading the lead read the pool partition on for it (on a large
    /// pool, past the time allowed: the command dead-lettered).
    func testTheRunsOwnFinalizeAnsweredAgainMovesTheStateToTheLaterEntry() async throws {
        try await withPipeline { harness in
            let requests = try harness.startAsTheFinalizeStage()
            let (topics, codec) = (harness.environment.topics, harness.environment.codec)
            let lead = harness.makeLeads(1)[0]
            let producer = try KafkaProducer(configuration: harness.environment.kafka)
            try await harness.publish(leads: [lead])
            let request = try codec.decode(PhaseRequest.self, record: try await consume(requests, count: 1, timeoutSeconds: 120)[0])
            let first = try await answer(request, topics: topics, codec: codec, producer: producer)
            try await waitUntil("ready", timeoutSeconds: 60, pollMilliseconds: 200) {
                try await harness.latestStates(loadingPoolEntries: false)[lead.leadID]?.poolEntry == first
            }
            let again = try await answer(request, topics: topics, codec: codec, producer: producer)
            XCTAssertGreaterThan(again.offset, first.offset)
            try await waitUntil("the state names the later entry", timeoutSeconds: 60, pollMilliseconds: 200) {
                try await harness.latestStates(loadingPoolEntries: false)[lead.leadID]?.poolEntry == again
            }
            await requests.close()
            await producer.close()
            let state = try await harness.latestStates(loadingPoolEntries: false)[lead.leadID]
            XCTAssertEqual(state?.status, .ready)
            XCTAssertEqual(state?.runID, request.runID)
            var entries = 0
            try await KafkaConsumer.readToEnd(try await KafkaAdmin(configuration: harness.environment.kafka).partitions(of: topics.leadPool),
                                              configuration: harness.environment.kafka) { record in
                if record.keyString == lead.leadID.rawValue { entries += 1 }
            }
            XCTAssertEqual(entries, 2, "the stage's two; the coordinator wrote none")
        }
    }

    /// Answers `request` as a finalize stage restarted after a SIGKILL does (a handler of its
    /// own, remembering no run): its entry, then its result naming it. Returns where the entry went.
    private func answer(_ request: PhaseRequest, topics: Topics, codec: MessageCodec, producer: KafkaProducer) async throws -> RecordPosition {
        let output = await FinalizeStageHandler().handle(request)
        let side = try await producer.send(try output.sideRecords(topics: topics, codec: codec))
        let entry = try XCTUnwrap(side.first { $0.topic == topics.leadPool })
        let position = RecordPosition(topic: entry.topic, partition: entry.partition, offset: entry.offset)
        _ = try await producer.send(try output.resultRecord(topics: topics, codec: codec, isPriority: request.isPriority, poolEntry: position))
        return position
    }

    /// Run 1's finalize request is answered once (the lead is ready), the lead is re-enriched
    /// (run 2, ready with its own entry), and then run 1's request is answered again, as a
    /// finalize stage does after a SIGKILL when that request is redelivered behind run 2's on
    /// the priority topic: its entry lands after run 2's. The coordinator, which holds the lead
    /// only as a changelog position by then, loads it and writes run 2's entry over it. Before,
    /// the compacted pool kept run 1's entry as the lead's for good.
    func testARedeliveredFinalizeOfASupersededRunIsWrittenOver() async throws {
        try await withPipeline { harness in
            let requests = try harness.startAsTheFinalizeStage()  // so that it can answer a request a second time
            let (topics, codec) = (harness.environment.topics, harness.environment.codec)
            let lead = harness.makeLeads(1)[0]
            let producer = try KafkaProducer(configuration: harness.environment.kafka)
            func answer(_ request: PhaseRequest) async throws -> RecordPosition {
                try await self.answer(request, topics: topics, codec: codec, producer: producer)
            }
            func readyRun() async throws -> RunID? {
                let state = try await harness.latestStates(loadingPoolEntries: false)[lead.leadID]
                return state?.status == .ready ? state?.runID : nil
            }

            try await harness.publish(leads: [lead])
            let first = try codec.decode(PhaseRequest.self, record: try await consume(requests, count: 1, timeoutSeconds: 120)[0])
            _ = try await answer(first)
            try await waitUntil("run 1 ready", timeoutSeconds: 60, pollMilliseconds: 200) { try await readyRun() == first.runID }

            try await harness.publish(ReEnrichRequested(leadID: lead.leadID, types: [.activity], requestedAt: Date(), requestedBy: "test",
                                                        requestID: RequestID("rerun-\(lead.leadID)")),
                                      topic: topics.leadCommands, key: lead.leadID.rawValue)
            let second = try codec.decode(PhaseRequest.self, record: try await consume(requests, count: 1, timeoutSeconds: 120)[0])
            XCTAssertNotEqual(second.runID, first.runID)
            let secondEntry = try await answer(second)
            try await waitUntil("run 2 ready", timeoutSeconds: 60, pollMilliseconds: 200) { try await readyRun() == second.runID }

            let stale = try await answer(first)
            XCTAssertGreaterThan(stale.offset, secondEntry.offset)
            try await waitUntil("run 2's entry written over run 1's late one", timeoutSeconds: 60, pollMilliseconds: 300) {
                var latest: ConsumerRecord?
                try await KafkaConsumer.readToEnd(try await KafkaAdmin(configuration: harness.environment.kafka).partitions(of: topics.leadPool),
                                                  configuration: harness.environment.kafka) { record in
                    if record.keyString == lead.leadID.rawValue { latest = record }
                }
                guard let latest, latest.offset > stale.offset else { return false }
                let run = latest.header(MessageHeaders.runID).map { String(decoding: $0, as: UTF8.self) }
                XCTAssertEqual(run, second.runID.rawValue)
                return true
            }
            await requests.close()
            await producer.close()
            let run = try await readyRun()
            XCTAssertEqual(run, second.runID)
            let letters = try await harness.readAll(DeadLetter.self, topic: topics.deadLetters)
            XCTAssertTrue(letters.isEmpty, letters.map { $0.value.reason }.joined(separator: "; "))
        }
    }
}
