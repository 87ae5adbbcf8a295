import Foundation
import LeadModel
@testable import Coordinator
import XCTest

/// The ready leads' table, keyed by digests of the ids: every lead finds its own pointer and no
/// other's, and a partition given up takes only its own leads.
final class FinishedLeadsTests: XCTestCase {
    func testEachLeadFindsItsOwnPointerAmongManyAndOnlyReadyLeadsAreFound() {
        var finished = Coordinator.FinishedLeads()
        let ids = (0..<200_000).map { LeadID("lead-\(UUID().uuidString.lowercased())-\($0)") }
        for (index, id) in ids.enumerated() {
            finished[id] = Coordinator.ChangelogPointer(partition: Int32(index % 12), origin: .init("search-1"), offset: Int64(index))
        }
        XCTAssertEqual(finished.count, ids.count, "no two ids share an entry")
        for (index, id) in ids.enumerated() where index.isMultiple(of: 97) {
            XCTAssertEqual(finished[id]?.offset, Int64(index), "\(id)")
            XCTAssertEqual(finished[id]?.partition, Int32(index % 12))
        }
        XCTAssertNil(finished[LeadID("lead-never-seen")])
        XCTAssertNil(finished[LeadID("LEAD-\(ids[0].rawValue.dropFirst(5))")], "ids differing in case are different leads")

        finished[ids[0]] = nil
        XCTAssertNil(finished[ids[0]])
        XCTAssertEqual(finished.count, ids.count - 1)
    }

    func testGivingPartitionsUpForgetsTheirLeadsOnlyAndAMergeTakesTheNewerPointer() {
        var finished = Coordinator.FinishedLeads()
        finished["lead-1"] = Coordinator.ChangelogPointer(partition: 1, origin: .init("search-1"), offset: 10)
        finished["lead-2"] = Coordinator.ChangelogPointer(partition: 2, origin: .init("search-1"), offset: 20)
        finished["lead-3"] = Coordinator.ChangelogPointer(partition: 3, origin: .init("search-1"), offset: 30)
        finished.removeAll(inPartitions: [1, 3])
        XCTAssertNil(finished["lead-1"])
        XCTAssertNil(finished["lead-3"])
        XCTAssertEqual(finished["lead-2"]?.offset, 20)

        var restored = Coordinator.FinishedLeads()
        restored["lead-2"] = Coordinator.ChangelogPointer(partition: 2, origin: .init("search-1"), offset: 25)
        restored["lead-4"] = Coordinator.ChangelogPointer(partition: 4, origin: .init("search-1"), offset: 40)
        finished.merge(restored)
        XCTAssertEqual(finished.count, 2)
        XCTAssertEqual(finished["lead-2"]?.offset, 25)
        XCTAssertEqual(finished["lead-4"]?.offset, 40)
    }
}
