import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import XCTest

/// A pool entry that cannot be written (above MAX_RECORD_BYTES) dead-letters its finalize
/// request, and the run is not remembered as written: the retried attempt tries the entry again
/// instead of answering "completed" without one, so a lead is never ready without its entry.
/// No broker: the processor is fed records directly.
final class FinalizeUnwrittenEntryTests: XCTestCase {
    let topics = Topics(namespace: "ns")
    let codec = MessageCodec(maxRecordBytes: 100_000)

    /// A request under the bound whose entry is over it: the entry renders the posts' plain text.
    private func request(attempt: Int) throws -> ConsumerRecord {
        let text = String(repeating: "Comparing sales engagement tools for our SDR team this quarter. ", count: 2)
        let posts = (0..<300).map {
            Post(id: "p\($0)", platform: .x, date: Fixtures.daysAgo(Double($0 % 30)), text: text, likes: 1, replies: 0, reposts: 0,
                 url: "https://x.com/janedoe/status/\($0)")
        }
        var profile = Fixtures.profile(posts: posts)
        profile.activity?.plainText = ""
        let request = Fixtures.request(.finalize, attempt: attempt, profile: profile)
        let record = try codec.record(request, topic: topics.phaseRequests(.finalize), key: request.leadID.rawValue)
        XCTAssertLessThan(record.value?.count ?? 0, codec.maxRecordBytes, "the request itself is within the bound")
        return ConsumerRecord(topic: record.topic, partition: 0, offset: Int64(attempt), key: record.key, value: record.value,
                              headers: record.headers)
    }

    func testARetriedAttemptTriesTheEntryAgainInsteadOfAnsweringCompletedWithoutIt() async throws {
        let processor = StageRecordProcessor(
            handler: FinalizeStageHandler(now: Fixtures.clock), codec: codec, topics: topics, service: "test",
            logger: Logger(service: "test", level: .error, sink: { _ in }))
        for attempt in 1...3 {
            let outputs = await processor.process(try request(attempt: attempt))
            XCTAssertEqual(outputs.records.map(\.topic), [topics.deadLetters], "attempt \(attempt): a dead letter, not a result")
            let letter = try codec.decode(DeadLetter.self, from: try XCTUnwrap(outputs.records.first?.value))
            XCTAssertTrue(letter.reason.contains("lead.pool") && letter.reason.contains("above MAX_RECORD_BYTES"), letter.reason)
        }
    }
}
