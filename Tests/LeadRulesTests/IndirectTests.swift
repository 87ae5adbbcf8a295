import LeadModel
import XCTest

final class IndirectTests: XCTestCase {
    private struct Holder: Hashable {
        @Indirect var names: [String]
    }

    func testACopyChangedInPlaceLeavesTheOriginalAlone() {
        var original = Holder(names: ["a"])
        var copy = original
        copy.names.append("b")
        original.names[0] = "z"
        XCTAssertEqual(original.names, ["z"])
        XCTAssertEqual(copy.names, ["a", "b"])
    }

    func testEqualityAndHashingAreTheValues() {
        let one = Holder(names: ["a", "b"])
        let other = Holder(names: ["a", "b"])  // another box, the same value
        XCTAssertEqual(one, other)
        XCTAssertEqual(one.hashValue, other.hashValue)
        XCTAssertNotEqual(one, Holder(names: ["a"]))
        XCTAssertEqual(Set([one, other]).count, 1)
    }

    /// The coordinator copies states, requests and the machine's actions on every event: the
    /// profiles they hold stay on the heap. Before `@Indirect` a state took 3,184 bytes inline, a
    /// request 3,336 and a discovered lead 1,088.
    func testTheHotTypesStaySmall() {
        XCTAssertLessThanOrEqual(MemoryLayout<LeadState>.size, 512)
        XCTAssertLessThanOrEqual(MemoryLayout<PhaseRequest>.size, 512)
        XCTAssertLessThanOrEqual(MemoryLayout<LeadDiscovered>.size, 256)
        XCTAssertGreaterThan(MemoryLayout<EnrichedProfile>.size, 512, "what the boxes keep off the hot types")
    }

    func testALeadWithAPoolProfileEncodesAsBefore() throws {
        var profile = EnrichedProfile(leadID: LeadID("lead-1"), name: "Jane Doe")
        profile.linkedinURL = "https://www.linkedin.com/in/janedoe"
        var lead = LeadDiscovered(
            leadID: LeadID("lead-1"), accountID: AccountID("acct-1"), offerID: OfferID("offer-1"),
            sourceSearchID: SearchID("search-1"), source: .leadPool, name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe", mode: .scoringOnly,
            discoveredAt: Date(timeIntervalSince1970: 1_700_000_000), poolProfile: profile)
        let codec = MessageCodec()
        let decoded = try codec.decode(LeadDiscovered.self, from: try codec.encode(lead))
        XCTAssertEqual(decoded, lead)
        XCTAssertEqual(decoded.poolProfile?.linkedinURL, "https://www.linkedin.com/in/janedoe")
        lead.poolProfile = nil
        let text = String(decoding: try codec.encode(lead), as: UTF8.self)
        XCTAssertFalse(text.contains("poolProfile"), "an absent pool profile is left out, not null: \(text)")
    }
}
