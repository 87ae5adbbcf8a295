import Kafka
import Streaming
import XCTest

/// The topics `leadctl topics create` (and the benchmarks and tests) ask the broker for.
final class TopicSpecificationTests: XCTestCase {
    /// Each topic accepts the largest record the producers may send: with `MAX_RECORD_BYTES`
    /// raised above the broker's default (about 1 MB), a topic at that default refused the records
    /// between the two, and the stages dead-lettered them. A lowered bound leaves the topics at
    /// 1 MiB's, so that an upstream producer's default batches are not refused whole.
    func testEveryTopicAcceptsTheRecordsTheProducersMaySend() throws {
        for (maxRecordBytes, topicBound) in [(1 << 20, (1 << 20) + (64 << 10)), (4 << 20, (4 << 20) + (64 << 10)),
                                             (128 << 10, (1 << 20) + (64 << 10))] {
            let environment = try PipelineEnvironment(service: "test", environment: ["MAX_RECORD_BYTES": String(maxRecordBytes)])
            let producerBound = try XCTUnwrap(environment.kafka.properties["message.max.bytes"])
            XCTAssertEqual(producerBound, String(maxRecordBytes + PipelineEnvironment.recordOverheadBytes))
            XCTAssertFalse(environment.topicSpecifications.isEmpty)
            for specification in environment.topicSpecifications {
                XCTAssertEqual(specification.configs["max.message.bytes"], String(topicBound), specification.name)
            }
            let compacted = environment.topicSpecifications.filter { $0.configs["cleanup.policy"] == "compact" }.map(\.name)
            XCTAssertTrue(compacted.contains(environment.topics.leadPool), "the bound does not replace compaction")
        }
    }

    /// `leads.backlog` keeps its records for good: the coordinator parks a lead's backlog record
    /// behind a billing pause and fetches it again when the account resumes, so the broker's
    /// default retention (7 days on Apache Kafka) lost the leads of a longer pause, which stayed
    /// pending for good. No other topic is kept for good.
    func testTheBacklogKeepsItsRecordsHoweverLongABillingPauseLasts() throws {
        let environment = try PipelineEnvironment(service: "test", environment: [:])
        let kept = environment.topicSpecifications.filter { $0.configs["retention.ms"] == "-1" }.map(\.name)
        XCTAssertEqual(kept, [environment.topics.leadsBacklog])
    }
}
