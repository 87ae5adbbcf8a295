import Foundation
import LeadModel
@testable import Coordinator
import XCTest

/// The queued leads' table, keyed by digests of the ids: a lead is found queued in its own
/// partition until it is taken out, and a partition given up takes only its own leads.
final class QueuedLeadsTests: XCTestCase {
    func testEachQueuedLeadIsFoundInItsPartitionUntilTakenOut() {
        var queued = Coordinator.QueuedLeads()
        XCTAssertTrue(queued.isEmpty)
        let ids = (0..<100_000).map { LeadID("lead-\(UUID().uuidString.lowercased())-\($0)") }
        for (index, id) in ids.enumerated() { queued[id] = .init(partition: Int32(index % 12), origin: .init("search-1")) }
        XCTAssertEqual(queued.count, ids.count, "no two ids share an entry")
        for (index, id) in ids.enumerated() where index.isMultiple(of: 97) {
            XCTAssertEqual(queued[id]?.partition, Int32(index % 12), "\(id)")
        }
        XCTAssertNil(queued[LeadID("lead-never-queued")])
        XCTAssertNil(queued[LeadID("LEAD-\(ids[0].rawValue.dropFirst(5))")], "ids differing in case are different leads")

        XCTAssertEqual(queued.remove(ids[1])?.partition, 1)
        XCTAssertNil(queued.remove(ids[1]), "taken out once")
        XCTAssertNil(queued[ids[1]])
        XCTAssertEqual(queued.count, ids.count - 1)
    }

    func testGivingPartitionsUpForgetsTheirLeadsOnlyAndAMergeTakesTheNewerPartition() {
        var queued = Coordinator.QueuedLeads()
        queued["lead-1"] = .init(partition: 1, origin: .init("search-1"))
        queued["lead-2"] = .init(partition: 2, origin: .init("search-1"))
        queued["lead-3"] = .init(partition: 3, origin: .init("search-1"))
        queued.removeAll(inPartitions: [1, 3])
        XCTAssertNil(queued["lead-1"])
        XCTAssertNil(queued["lead-3"])
        XCTAssertEqual(queued["lead-2"]?.partition, 2)

        var restored = Coordinator.QueuedLeads()
        restored["lead-2"] = .init(partition: 5, origin: .init("search-1"))
        restored["lead-4"] = .init(partition: 4, origin: .init("search-1"))
        queued.merge(restored)
        XCTAssertEqual(queued.count, 2)
        XCTAssertEqual(queued["lead-2"]?.partition, 5)
        XCTAssertEqual(queued["lead-4"]?.partition, 4)
        queued.removeAll(inPartitions: [4, 5])
        XCTAssertTrue(queued.isEmpty)
    }
}
