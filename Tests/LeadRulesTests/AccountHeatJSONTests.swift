import Foundation
import JSONCodec
@testable import LeadModel
import XCTest

/// The account heat records read and write their JSON themselves (`AccountHeatMessages+JSON.swift`);
/// these tests hold them to what their `Codable` conformances write and read. The fixtures set
/// every field, and a test checks that they do.
final class AccountHeatJSONTests: XCTestCase {
    private static let day = Date(timeIntervalSince1970: 1_767_225_600.125)

    private static func signals() -> [BuyingSignal] {
        [BuyingSignal(kind: .painPoint, detail: "manual \"CSV\" exports", date: day, postID: "p-1", count: 1),
         BuyingSignal(kind: .competitorEngagement, detail: "Rival / Peer", date: day.addingTimeInterval(-86_400), postID: "p-3", count: 4)]
    }

    private static func clusterSignals() -> [BuyingSignal] {
        [BuyingSignal(kind: .competitorCluster, detail: "Outreach and Apollo", date: day, postID: "p-2", count: 6)]
    }

    static func fullContribution() -> AccountSignalContribution {
        AccountSignalContribution(
            accountID: "acct-1", leadID: "lead-1", runID: "run-1", offerID: "offer-1", companyKey: "li:42", companyName: "Analytical Ltd", personKey: "linkedin:ana-lytic",
            signals: signals(), clusterSignals: clusterSignals(), scoredAt: day)
    }

    static func fullSignal() -> AccountSignal {
        AccountSignal(
            accountID: "acct-1", companyKey: "li:42", companyName: "Analytical Ltd", heatScore: 71, category: .hot, trend: .rising,
            leadCount: 3, signals: [CompanySignal(leadID: "lead-1", kind: "pain-point", detail: "Écriture \u{1F4A1}", date: day, weight: 12.375)],
            computedAt: day)
    }

    static func fullState() -> AccountHeatState {
        AccountHeatState(
            accountID: "acct-1", companyKey: "li:42", companyName: "Analytical Ltd",
            leads: [HeatContribution(leadID: "lead-1", runID: "run-1", scoredAt: day, personKey: "linkedin:ana-lytic", signals: signals(), clusterSignals: clusterSignals())],
            counted: [CountedContribution(leadID: "lead-1", runID: "run-1", scoredAt: day)], heatScore: 71, heatDay: 20_454,
            earlierDayHeat: 40, published: fullSignal(), updatedAt: day)
    }

    func testTheFixturesSetEveryField() {
        var unset: [String] = []
        ProfileJSONTests.collectUnsetFields(of: Self.fullContribution(), path: "contribution", into: &unset)
        ProfileJSONTests.collectUnsetFields(of: Self.fullState(), path: "state", into: &unset)
        XCTAssertEqual(unset, [], "set these in the fixtures, then check their readers and writers")
    }

    /// Full and sparse values of every type, alone and as the message codec writes them.
    func testTheHeatRecordsWriteWhatEncodableWritesAndReadBack() throws {
        var sparseContribution = Self.fullContribution()
        sparseContribution.companyKey = nil
        sparseContribution.companyName = nil
        sparseContribution.clusterSignals = nil
        sparseContribution.signals = [BuyingSignal(kind: .hiring, detail: "hiring", date: Self.day)]  // no post
        var sparseState = AccountHeatState(accountID: "acct-2", companyKey: "name:plain", companyName: "Plain", updatedAt: Self.day)
        sparseState.leads = [HeatContribution(leadID: "lead-2", runID: "run-2", scoredAt: Self.day, signals: [])]
        let batch = AccountSignalContributionBatch(accountID: "acct-1", contributions: [Self.fullContribution(), sparseContribution])
        let codec = MessageCodec()
        try withoutRefusals {
            for contribution in [Self.fullContribution(), sparseContribution] {
                try assertSameJSON(contribution)
                try assertReadsBack(contribution)
                XCTAssertEqual(try codec.decode(AccountSignalContribution.self, from: try codec.encode(contribution)), contribution)
            }
            try assertSameJSON(batch)
            try assertReadsBack(batch)
            XCTAssertEqual(try codec.decode(AccountSignalContributionBatch.self, from: try codec.encode(batch)), batch)
            for state in [Self.fullState(), sparseState] {
                try assertSameJSON(state)
                try assertReadsBack(state)
                let bytes = try codec.encode(state)
                XCTAssertEqual(try codec.decode(AccountHeatState.self, from: bytes), state)
                XCTAssertEqual(try JSONIndexDecoder.foundationDecoder().decode(AccountHeatState.self, from: Data(bytes)), state)
            }
            try assertSameJSON(Self.fullSignal())
            try assertReadsBack(Self.fullSignal())
            XCTAssertEqual(try codec.decode(AccountSignal.self, from: try codec.encode(Self.fullSignal())), Self.fullSignal())
        }
    }

    /// What a reader refuses is read, or rejected, as `init(from:)` reads or rejects it.
    func testWhatTheReadersRefuseIsReadAsBefore() throws {
        let json = String(decoding: try JSONStreamEncoder.encode(Self.fullState()), as: UTF8.self)
        func decode(_ text: String) throws -> AccountHeatState {
            try JSONIndexDecoder.decode(AccountHeatState.self, from: Array(text.utf8))
        }
        for (old, new) in [(#""kind":"pain-point","postID""#, #""kind":"gone","postID""#), (#""leadID":"lead-1""#, #""leadID":"""#),
                           (#""count":4"#, #""count":4.5"#), (#""category":"hot""#, #""category":null"#),
                           (#""heatScore":71,"leadCount""#, #""leadCount""#)] {
            XCTAssertTrue(json.contains(old), old)
            XCTAssertThrowsError(try decode(json.replacingOccurrences(of: old, with: new)), new)
        }
        // An optional written as null reads as absent; an unknown member is ignored.
        var expected = Self.fullState()
        expected.earlierDayHeat = nil
        XCTAssertEqual(try decode(json.replacingOccurrences(of: #""earlierDayHeat":40"#, with: #""earlierDayHeat":null,"extra":[1]"#)),
                       expected)
    }
}
