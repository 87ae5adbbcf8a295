import Foundation
import Kafka
import LeadModel
@testable import Stages
import XCTest

/// The heat aggregator's changes held before they are written, without a broker: a company's
/// changes make one record per interval, and no offset past an unwritten change is stored.
final class UnwrittenHeatTests: XCTestCase {
    private let topic = "t.account.signal.contributions"
    private let start = Date(timeIntervalSince1970: 1_750_000_000)

    private func change(_ company: String, partition: Int32, offsets: ClosedRange<Int64>) -> AccountHeatAggregator.Change {
        let last = ConsumerRecord(topic: topic, partition: partition, offset: offsets.upperBound, key: nil, value: nil, headers: [])
        return AccountHeatAggregator.Change(accountID: "acct-1", companyKey: company, partition: partition, by: last,
                                            firstOffset: offsets.lowerBound)
    }

    func testAChangeIsWrittenOnceHeldForTheIntervalWithEveryChangeSince() {
        var unwritten = UnwrittenHeat()
        unwritten.hold("acct-1|a", change("a", partition: 0, offsets: 10...12), at: start)
        unwritten.hold("acct-1|a", change("a", partition: 0, offsets: 20...25), at: start.addingTimeInterval(3))
        XCTAssertTrue(unwritten.takeDue(heldSince: start.addingTimeInterval(-1)).isEmpty, "held for less than the interval")
        let due = unwritten.takeDue(heldSince: start)
        XCTAssertEqual(due.map(\.key), ["acct-1|a"], "one record for both polls")
        XCTAssertEqual(due.first?.change.by.offset, 25, "the state as the last poll left it")
        XCTAssertEqual(due.first?.change.firstOffset, 10, "from the first contribution not written")
        XCTAssertTrue(unwritten.entries.isEmpty)
    }

    func testNoOffsetPastTheFirstContributionOfAnUnwrittenChangeIsStored() {
        var unwritten = UnwrittenHeat()
        let p0 = TopicPartition(topic: topic, partition: 0)
        let p1 = TopicPartition(topic: topic, partition: 1)
        unwritten.hold("acct-1|a", change("a", partition: 0, offsets: 10...12), at: start)
        unwritten.hold("acct-1|b", change("b", partition: 0, offsets: 7...30), at: start.addingTimeInterval(2))
        unwritten.hold("acct-2|c", change("c", partition: 1, offsets: 4...4), at: start)
        XCTAssertEqual(unwritten.committable([p0: 31, p1: 5]), [p0: 7, p1: 4])
        _ = unwritten.takeDue(heldSince: start)  // a and c written
        XCTAssertEqual(unwritten.committable([p0: 31, p1: 5]), [p0: 7, p1: 5])
        unwritten.drop(partitions: [0])  // revoked: the next owner replays b
        XCTAssertEqual(unwritten.committable([p0: 31, p1: 5]), [p0: 31, p1: 5])
        XCTAssertEqual(unwritten.takeDue(heldSince: nil).count, 0)
    }
}
