import Kafka
import LeadModel
import Streaming
import XCTest

/// MAX_RECORD_BYTES bounds a record's value, for its writers as for its readers.
final class RecordBoundTests: XCTestCase {
    /// A reader takes a value up to the bound (``MessageCodec/decode(_:record:)``), so a writer
    /// writes one too, whatever its key and headers (the producers and topics leave 64 KiB for
    /// them). The coordinator queues an input as it came, with a run id header added: a lead
    /// whose value was within the bound but whose copy, headers counted, was not, had its copy
    /// dead-lettered after it was admitted, and stayed pending for good.
    func testAValueWithinTheBoundIsWrittenWhateverItsKeyAndHeaders() throws {
        let codec = MessageCodec(maxRecordBytes: 1_000)
        let headers = [KafkaHeader(key: MessageHeaders.runID, string: "run-" + String(repeating: "0", count: 40))]
        let atTheBound = ProducerRecord(topic: "leads.backlog", key: Array("lead-1".utf8), value: Array(repeating: 0x20, count: 1_000),
                                        headers: headers)
        XCTAssertGreaterThan(atTheBound.byteCount, 1_000)
        XCTAssertNil(codec.oversizeReason(atTheBound))
        let above = ProducerRecord(topic: "leads.backlog", key: Array("lead-1".utf8), value: Array(repeating: 0x20, count: 1_001))
        let reason = try XCTUnwrap(codec.oversizeReason(above))
        XCTAssertTrue(reason.contains("1001") && reason.contains("MAX_RECORD_BYTES (1000)"), reason)
    }
}
