@testable import Coordinator
import LeadModel
import XCTest

/// Which leads' charges a coordinator knows acknowledged: after a restore, those whose last
/// state it wrote, unless their machine was restored from an earlier owner's; after a clean
/// hand-over and the partition back untouched, still those; after anyone else's record, or a
/// loss, only those written since.
final class ChargesKnownSentTests: XCTestCase {
    let (a, b, c) = (LeadID("lead-a"), LeadID("lead-b"), LeadID("lead-c"))

    /// `partition` handed over with every record acknowledged, then restored with the changelog at `end`.
    private func rebalance(_ sent: inout ChargesKnownSent, _ partition: Int32, end: Int64, running: [LeadID] = []) {
        sent.handOver(partition)
        sent.revoked(partition)
        sent.restored(partition, end: end, running: running)
    }

    func testAfterARestoreOnlyStatesWrittenHereByMachinesOfItsOwnAreKnownSent() {
        var sent = ChargesKnownSent()
        sent.restored(2, end: 40, running: [b])
        XCTAssertFalse(sent.contains(a, partition: 2, offset: 39), "an earlier owner's")
        XCTAssertFalse(sent.contains(b, partition: 2, offset: 31), "restored running: an earlier owner's")
        XCTAssertTrue(sent.contains(a, partition: 2, offset: 40))
        XCTAssertTrue(sent.contains(c, partition: 2, offset: 75))
        XCTAssertFalse(sent.contains(b, partition: 2, offset: 52), "written here, but what the earlier owner charged stays unknown")
        XCTAssertFalse(sent.contains(c, partition: 1, offset: 75), "a partition not owned")
    }

    func testAPartitionHandedOverCleanlyAndBackUntouchedKeepsWhatItKnew() {
        var sent = ChargesKnownSent()
        sent.restored(2, end: 40, running: [b])
        sent.acknowledged(2, offsets: Array(40...50))
        sent.acknowledged(2, offsets: Array(51...56))
        rebalance(&sent, 2, end: 57, running: [a, b])
        XCTAssertTrue(sent.contains(a, partition: 2, offset: 45), "written here before the rebalance")
        XCTAssertTrue(sent.contains(c, partition: 2, offset: 50))
        XCTAssertFalse(sent.contains(c, partition: 2, offset: 39))
        XCTAssertFalse(sent.contains(b, partition: 2, offset: 56), "still an earlier owner's machine")
        // Handed over again with nothing written: the same still holds.
        rebalance(&sent, 2, end: 57)
        XCTAssertTrue(sent.contains(a, partition: 2, offset: 45))
        XCTAssertFalse(sent.contains(b, partition: 2, offset: 56))
    }

    func testSomeoneElsesRecordsDrawTheLineAfresh() {
        var sent = ChargesKnownSent()
        sent.restored(1, end: 10, running: [])
        sent.acknowledged(1, offsets: [10, 11, 12])
        rebalance(&sent, 1, end: 20, running: [a])  // another owner wrote 13..<20
        XCTAssertFalse(sent.contains(c, partition: 1, offset: 12))
        XCTAssertFalse(sent.contains(c, partition: 1, offset: 19))
        XCTAssertTrue(sent.contains(c, partition: 1, offset: 20))
        XCTAssertFalse(sent.contains(a, partition: 1, offset: 25))
    }

    /// A coordinator that lost its partition without knowing (stalled past the session) writes
    /// its held states after another owner's: the changelog then ends with its own record, but
    /// the other owner's, whose charge may be lost, lies between.
    func testAnotherOwnersRecordBetweenOwnRecordsDrawsTheLineAfresh() {
        var sent = ChargesKnownSent()
        sent.restored(1, end: 10, running: [])
        sent.acknowledged(1, offsets: [11, 12])  // another owner wrote lead b at 10
        rebalance(&sent, 1, end: 13)
        XCTAssertFalse(sent.contains(b, partition: 1, offset: 10))
        XCTAssertTrue(sent.contains(b, partition: 1, offset: 13))
    }

    func testOwnRecordsAcknowledgedBatchByBatchKeepTheLine() {
        var sent = ChargesKnownSent()
        sent.restored(1, end: 10, running: [])
        sent.acknowledged(1, offsets: [10, 11, 12])
        sent.acknowledged(1, offsets: [13])
        rebalance(&sent, 1, end: 14)
        XCTAssertTrue(sent.contains(b, partition: 1, offset: 12))
    }

    func testAReadyLeadLoadedFromAnEarlierOwnersStateStaysUnknownWhenWrittenAgain() {
        var sent = ChargesKnownSent()
        sent.restored(0, end: 20, running: [])
        XCTAssertFalse(sent.contains(a, partition: 0, offset: 5))
        sent.inherit(a, partition: 0)
        sent.acknowledged(0, offsets: [20])
        XCTAssertFalse(sent.contains(a, partition: 0, offset: 20))
        XCTAssertTrue(sent.contains(b, partition: 0, offset: 20))
    }

    func testALostPartitionDrawsTheLineAfresh() {
        var sent = ChargesKnownSent()
        sent.restored(3, end: 5, running: [])
        sent.acknowledged(3, offsets: [5, 6, 7, 8])
        sent.revoked(3)  // lost: its last records may not all be acknowledged
        sent.restored(3, end: 9, running: [])
        XCTAssertFalse(sent.contains(a, partition: 3, offset: 8))
        XCTAssertTrue(sent.contains(a, partition: 3, offset: 9))
    }

    func testAHandOverCountsOnceAndOnlyForItsPartition() {
        var sent = ChargesKnownSent()
        sent.restored(0, end: 4, running: [])
        sent.restored(1, end: 4, running: [])
        sent.acknowledged(0, offsets: [4, 5, 6])
        sent.acknowledged(1, offsets: [4, 5, 6])
        sent.handOver(0)
        sent.revoked(0)
        sent.revoked(1)  // lost
        sent.restored(1, end: 7, running: [])
        XCTAssertFalse(sent.contains(a, partition: 1, offset: 6))
        sent.restored(0, end: 7, running: [])
        XCTAssertTrue(sent.contains(a, partition: 0, offset: 6))
        sent.revoked(0)  // lost this time: the earlier hand-over does not count again
        sent.restored(0, end: 7, running: [])
        XCTAssertFalse(sent.contains(a, partition: 0, offset: 6))
    }
}
