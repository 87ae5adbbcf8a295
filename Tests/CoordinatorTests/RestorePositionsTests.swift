import LeadModel
@testable import Coordinator
import XCTest

/// What a restore reads back of a running lead's results: only positions where results are.
final class RestorePositionsTests: XCTestCase {
    /// A running lead's state names where each result of its run is, and a state of any shape
    /// may name a topic or partition the broker does not have: the restore read them all in one
    /// read, which failed on such a position (UNKNOWN_TOPIC_OR_PART is no outage to wait out),
    /// and the coordinator stopped, at every start. Only positions on the results topic or its
    /// priority twin, in a partition they have, are read now; the lead's run goes on without the others.
    func testOnlyPositionsOnAResultsTopicsPartitionAreRead() {
        let topics = Topics(namespace: "ns")
        func isRead(_ topic: String, _ partition: Int32, _ offset: Int64 = 0) -> Bool {
            Coordinator.isResultPosition(OutputReference(phase: .profile, topic: topic, partition: partition, offset: offset),
                                         topics: topics, partitionCount: 4)
        }
        XCTAssertTrue(isRead(topics.phaseResults, 0))
        XCTAssertTrue(isRead(topics.phaseResultsPriority, 3, 12_345))
        XCTAssertFalse(isRead(topics.phaseResults, 4), "no partition 4 of 4")
        XCTAssertFalse(isRead(topics.phaseResults, -1))
        XCTAssertFalse(isRead(topics.phaseResults, 0, -2), "a negative offset is a logical one (the beginning) to librdkafka")
        XCTAssertFalse(isRead("phase.results", 0), "another namespace's")
        XCTAssertFalse(isRead(topics.leadState, 0))
        XCTAssertFalse(isRead("no-such-topic", 0))
    }
}
