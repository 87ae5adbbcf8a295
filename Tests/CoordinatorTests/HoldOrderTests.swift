import Foundation
import LeadModel
@testable import Coordinator
import XCTest

final class HoldOrderTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_750_000_000)

    func testEntriesComeOutOldestFirstOncePastTheCutoffAndOnlyOnce() {
        var order = HoldOrder()
        for second in 0..<3 { order.append(LeadID("lead-\(second)"), since: start.addingTimeInterval(Double(second))) }
        XCTAssertTrue(order.removeDue(heldSince: start.addingTimeInterval(-1)).isEmpty, "none held long enough")
        XCTAssertEqual(order.removeDue(heldSince: start.addingTimeInterval(1)).map(\.leadID), ["lead-0", "lead-1"])
        XCTAssertTrue(order.removeDue(heldSince: start.addingTimeInterval(1)).isEmpty, "removed once")
        order.append("lead-3", since: start.addingTimeInterval(3))
        XCTAssertEqual(order.removeDue(heldSince: nil).map(\.leadID), ["lead-2", "lead-3"], "no cutoff: every entry")
    }

    func testManyEntriesRemovedKeepTheirOrderAcrossTheCompaction() {
        var order = HoldOrder()
        var due: [LeadID] = []
        for index in 0..<5000 {
            order.append(LeadID("lead-\(index)"), since: start.addingTimeInterval(Double(index)))
            if index % 7 == 6 { due += order.removeDue(heldSince: start.addingTimeInterval(Double(index - 3))).map(\.leadID) }
        }
        due += order.removeDue(heldSince: nil).map(\.leadID)
        XCTAssertEqual(due, (0..<5000).map { LeadID("lead-\($0)") })
    }
}
