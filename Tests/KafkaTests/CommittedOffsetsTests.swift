import CRdKafka
@testable import Kafka
import XCTest

/// Reading the committed offsets librdkafka filled in, without a broker: no broker here answers
/// OffsetFetch with a partition's own error, so the list is filled by hand.
final class CommittedOffsetsTests: XCTestCase {
    private let first = TopicPartition(topic: "leads.discovered", partition: 0)
    private let second = TopicPartition(topic: "leads.discovered", partition: 1)

    func testAnOffsetIsReadAndANegativeOneIsNothingCommitted() throws {
        let list = makePartitionList([first, second], offsets: [first: 42, second: Int64(RD_KAFKA_OFFSET_INVALID)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let committed = try committedOffsets(in: list).get()
        XCTAssertEqual(committed[first], 42)
        XCTAssertEqual(committed[second], Optional<Int64?>.some(nil))
    }

    /// Apache Kafka answers a fetch of committed offsets with an error per partition and the
    /// offset -1, for example `UNKNOWN_TOPIC_OR_PARTITION` for a topic deleted after it was
    /// listed. Read as "nothing committed", that partition's lag would be its whole log.
    func testAPartitionsOwnErrorFailsTheReadNamingThePartition() {
        let list = makePartitionList([first, second], offsets: [first: 42, second: Int64(RD_KAFKA_OFFSET_INVALID)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        list.pointee.elems[1].err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
        switch committedOffsets(in: list) {
        case .success(let committed):
            XCTFail("read \(committed) despite the partition's error")
        case .failure(let error):
            XCTAssertEqual(error.code, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue)
            XCTAssertTrue(error.message.contains("leads.discovered[1]"), error.message)
        }
    }
}
