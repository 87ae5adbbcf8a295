import Kafka
import Streaming
import XCTest

/// The topics `leadctl topics create` (and every service's start) asks the broker for.
final class TopicSpecificationTests: XCTestCase {
    /// Each topic accepts the largest record the producers may send: with `MAX_RECORD_BYTES`
    /// raised above the broker's default (about 1 MB), a topic at that default refused the records
    /// between the two, and the stages dead-lettered them.
    func testEveryTopicAcceptsTheRecordsTheProducersMaySend() throws {
        for maxRecordBytes in [1 << 20, 4 << 20] {
            let environment = try PipelineEnvironment(service: "test", environment: ["MAX_RECORD_BYTES": String(maxRecordBytes)])
            let producerBound = try XCTUnwrap(environment.kafka.properties["message.max.bytes"])
            XCTAssertEqual(producerBound, String(maxRecordBytes + PipelineEnvironment.recordOverheadBytes))
            XCTAssertFalse(environment.topicSpecifications.isEmpty)
            for specification in environment.topicSpecifications {
                XCTAssertEqual(specification.configs["max.message.bytes"], producerBound, specification.name)
            }
            let compacted = environment.topicSpecifications.filter { $0.configs["cleanup.policy"] == "compact" }.map(\.name)
            XCTAssertTrue(compacted.contains(environment.topics.leadPool), "the bound does not replace compaction")
        }
    }
}
