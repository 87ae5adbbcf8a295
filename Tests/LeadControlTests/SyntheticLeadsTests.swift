import Foundation
import LeadControl
import LeadModel
import XCTest

/// Deterministic synthetic leads: no broker.
final class SyntheticLeadsTests: XCTestCase {
    func testSameSeedSameLeadsAndAllValid() throws {
        let options = SyntheticLeadOptions(count: 200, accountID: "acct-x", offerID: "offer-x", searchID: "search-x", mode: .enrichOnly, seed: 42)
        let first = SyntheticLeads.make(options, now: Samples.now)
        let second = SyntheticLeads.make(options, now: Samples.now)
        XCTAssertEqual(first, second)
        XCTAssertEqual(first.count, 200)
        XCTAssertEqual(Set(first.map(\.leadID)).count, 200, "lead ids are unique")
        for lead in first {
            XCTAssertNoThrow(try lead.validate(), "\(lead)")
            XCTAssertEqual(lead.accountID, "acct-x")
            XCTAssertEqual(lead.offerID, "offer-x")
            XCTAssertEqual(lead.sourceSearchID, "search-x")
            XCTAssertEqual(lead.mode, .enrichOnly)
            XCTAssertEqual(lead.name.split(separator: " ").count, 2, lead.name)
            XCTAssertLessThanOrEqual(lead.discoveredAt, Samples.now)
        }
        XCTAssertEqual(first[0].leadID, "syn-42-acct-x-00001", "the seed and the account name a synthetic lead")

        let both = first.filter { $0.linkedinURL != nil && $0.xURL != nil }.count
        let linkedinOnly = first.filter { $0.linkedinURL != nil && $0.xURL == nil }.count
        let xOnly = first.filter { $0.linkedinURL == nil && $0.xURL != nil }.count
        XCTAssertEqual(both + linkedinOnly + xOnly, 200)
        for (label, count) in [("both", both), ("LinkedIn only", linkedinOnly), ("X only", xOnly)] {
            XCTAssertGreaterThan(count, 20, label)
        }
        XCTAssertGreaterThanOrEqual(Set(first.map(\.source)).count, 5, "sources are mixed")
        XCTAssertGreaterThan(Set(first.map(\.name)).count, 100, "names vary")

        let other = SyntheticLeads.make(SyntheticLeadOptions(count: 200, seed: 43), now: Samples.now)
        XCTAssertNotEqual(other.map(\.name), first.map(\.name), "another seed gives other leads")
    }
}
