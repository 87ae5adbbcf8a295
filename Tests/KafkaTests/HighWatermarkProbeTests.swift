import CRdKafka
@testable import Kafka
import XCTest

/// The watermark probe's bookkeeping, without a broker: no broker here enforces ACLs, so a
/// refused fetch is fed to it by hand.
final class HighWatermarkProbeTests: XCTestCase {
    private let shown = TopicPartition(topic: "phase.profile.requests", partition: 0)
    private let other = TopicPartition(topic: "phase.profile.requests", partition: 1)

    func testAFetchAnswerRaisesAShortListedEnd() {
        var probe = HighWatermarkProbe(listed: [shown: Watermarks(low: 0, high: 10), other: Watermarks(low: 0, high: 5)])
        probe.answered(shown, high: 12)
        XCTAssertEqual(probe.pending, [other])
        probe.answered(other, high: 3)
        XCTAssertTrue(probe.pending.isEmpty)
        XCTAssertEqual(probe.ends[shown], Watermarks(low: 0, high: 12))
        XCTAssertEqual(probe.ends[other], Watermarks(low: 0, high: 5), "a fetch never lowers the listed end")
    }

    /// Operators have Describe, not Read, on the phase topics (Deploy/kafka/acls.txt): the
    /// probe's fetch is refused there, and ListOffsets, which needs only Describe, is exact on
    /// Apache Kafka. Before, the probe waited for an answer that never came and `leadctl lag`
    /// failed with "no fetch answered".
    func testARefusedFetchKeepsTheListedEndAndOtherErrorsWait() {
        var probe = HighWatermarkProbe(listed: [shown: Watermarks(low: 2, high: 10), other: Watermarks(low: 0, high: 5)])
        probe.failed(shown, error: RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        probe.failed(other, error: RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
        XCTAssertEqual(probe.pending, [other], "a refusal settles its partition; a passing error waits for an answer")
        XCTAssertEqual(probe.ends[shown], Watermarks(low: 2, high: 10))
        XCTAssertEqual(probe.refused, [shown])
        probe.answered(other, high: 7)
        XCTAssertTrue(probe.pending.isEmpty)
        XCTAssertEqual(probe.ends[other]?.high, 7)
    }

    func testAnErrorForAPartitionNotAskedChangesNothing() {
        var probe = HighWatermarkProbe(listed: [shown: Watermarks(low: 0, high: 10)])
        probe.failed(other, error: RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        probe.answered(other, high: 4)
        XCTAssertEqual(probe.pending, [shown])
        XCTAssertNil(probe.ends[other])
    }
}
