import Foundation
import LeadModel
import LeadRules
@testable import Coordinator
import Streaming
import XCTest

/// The coordinator's progress counts (no broker): absolute parts per search and partition.
final class ProgressCountsTests: XCTestCase {
    private let at = Date(timeIntervalSince1970: 1_000)

    private func lead(_ search: SearchID, partition: Int32) -> ProgressCounts.Lead {
        let discovered = LeadDiscovered(leadID: "lead-1", accountID: "acct-1", offerID: "offer-1", sourceSearchID: search,
                                        source: .csvImport, name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/jane",
                                        discoveredAt: at)
        return ProgressCounts.Lead(discovered, partition: partition)
    }

    func testALeadMovesThroughItsBucketsAndOnlyChangedPartsAreWritten() throws {
        var counts = ProgressCounts()
        let first = lead("search-1", partition: 0)
        counts.move(first, from: nil, to: .pending)
        counts.move(first, from: .pending, to: nil)
        counts.move(first, from: nil, to: .enriching)
        counts.move(lead("search-1", partition: 1), from: nil, to: .scoring)
        var parts = counts.takeChanged(at: at)
        XCTAssertEqual(parts.map(\.partition), [0, 1])
        XCTAssertEqual(parts.map(\.pending), [0, 0])
        XCTAssertEqual(parts.map(\.enriching), [1, 0])
        XCTAssertEqual(parts.map(\.scoring), [0, 1])
        XCTAssertEqual(parts.map(\.key), ["search-1/0", "search-1/1"])
        XCTAssertTrue(counts.takeChanged(at: at).isEmpty, "nothing changed since")

        counts.move(first, from: .enriching, to: .enriching)
        XCTAssertTrue(counts.takeChanged(at: at).isEmpty, "a move within a bucket changes nothing")
        counts.move(first, from: .enriching, to: .completed)
        parts = counts.takeChanged(at: at.addingTimeInterval(1))
        XCTAssertEqual(parts.count, 1)
        XCTAssertEqual(parts.first?.completed, 1)
        XCTAssertEqual(parts.first?.enriching, 0, "absolute counts: a part written again says the same")
        XCTAssertEqual(parts.first?.updatedAt, at.addingTimeInterval(1))
    }

    func testPartitionsGivenUpAreForgotten() {
        var counts = ProgressCounts()
        counts.move(lead("search-1", partition: 0), from: nil, to: .completed)
        counts.move(lead("search-1", partition: 2), from: nil, to: .completed)
        counts.remove(partitions: [2])
        XCTAssertEqual(counts.takeChanged(at: at).map(\.partition), [0])
        XCTAssertNil(counts.part("search-1", partition: 2))
    }

    func testBucketsFollowStatusAndPhase() {
        let discovered = LeadDiscovered(leadID: "lead-1", accountID: "acct-1", offerID: "offer-1", sourceSearchID: "s",
                                        source: .csvImport, name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/jane",
                                        discoveredAt: at)
        var state = LeadStateMachine.queued(discovered, runID: "run-1", at: at)
        XCTAssertEqual(ProgressCounts.Bucket(state), .pending)
        state.status = .processing
        XCTAssertEqual(ProgressCounts.Bucket(state), .enriching)
        state.phaseIndex = state.plan.firstIndex(of: .scoring)!
        XCTAssertEqual(ProgressCounts.Bucket(state), .scoring)
        state.phaseIndex = state.plan.firstIndex(of: .finalize)!
        XCTAssertEqual(ProgressCounts.Bucket(state), .finalizing)
        state.status = .billingPaused
        XCTAssertEqual(ProgressCounts.Bucket(state), .billingPaused)
        state.status = .outsideOutreachWindow
        XCTAssertEqual(ProgressCounts.Bucket(state), .deferred)
        state.status = .ready
        XCTAssertEqual(ProgressCounts.Bucket(state), .completed)
        state.status = .refused
        XCTAssertEqual(ProgressCounts.Bucket(state), .refused)
    }

    /// A search whose every declared lead is ready or refused is completed: a refused lead
    /// never runs, so waiting for it to be ready would leave the search running for good.
    func testASearchCompletesWhenEachDeclaredLeadIsReadyOrRefused() throws {
        var search = SearchProgressPublisher.Search(partition: 0)
        search.parts[0] = SearchProgressPart(searchID: "search-1", accountID: "acct-1", partition: 0, completed: 3, refused: 1, updatedAt: at)
        search.parts[1] = SearchProgressPart(searchID: "search-1", accountID: "acct-1", partition: 1, enriching: 1, refused: 1, updatedAt: at)
        let declared = SearchTotalDeclared(searchID: "search-1", accountID: "acct-1", total: 6, declaredAt: at)
        var snapshot = try XCTUnwrap(search.snapshot("search-1", declared: declared, at: at))
        XCTAssertEqual([snapshot.completed, snapshot.refused], [3, 2])
        XCTAssertEqual(snapshot.state, .running, "one lead still enriching")

        search.parts[1] = SearchProgressPart(searchID: "search-1", accountID: "acct-1", partition: 1, completed: 1, refused: 1, updatedAt: at)
        snapshot = try XCTUnwrap(search.snapshot("search-1", declared: declared, at: at))
        XCTAssertEqual(snapshot.state, .completed)
        let account = try XCTUnwrap(AccountProgressSnapshot.adding([snapshot, snapshot], accountID: "acct-1", at: at))
        XCTAssertEqual(account.refused, 4, "an account adds its searches' refused leads up")
        XCTAssertEqual(account.state, .completed)
    }

    /// A search's snapshot accounts for every lead of its parts: each bucket has its column, so
    /// the columns add up to the leads the coordinator counted (finalizing ones included).
    func testASearchSnapshotsColumnsAddUpToItsParts() throws {
        let parts: [SearchProgressPart] = [
            SearchProgressPart(searchID: "search-1", accountID: "acct-1", partition: 0, pending: 1, enriching: 2, scoring: 3,
                               finalizing: 4, billingPaused: 5, deferred: 6, completed: 7, updatedAt: at),
            SearchProgressPart(searchID: "search-1", accountID: "acct-1", partition: 1, finalizing: 2, completed: 1, updatedAt: at),
        ]
        var search = SearchProgressPublisher.Search(partition: 0)
        for part in parts { search.parts[part.partition] = part }
        let declared = SearchTotalDeclared(searchID: "search-1", accountID: "acct-1", total: 40, declaredAt: at)
        let snapshot = try XCTUnwrap(search.snapshot("search-1", declared: declared, at: at))
        XCTAssertEqual(snapshot.finalizing, 6)
        let columns = snapshot.pending + snapshot.enriching + snapshot.scoring + snapshot.finalizing + snapshot.billingPaused
            + snapshot.deferred + snapshot.completed
        XCTAssertEqual(columns, 31, "every counted lead is in one column")
        XCTAssertEqual(snapshot.state, .running)

        let account = try XCTUnwrap(AccountProgressSnapshot.adding([snapshot, snapshot], accountID: "acct-1", at: at))
        XCTAssertEqual(account.finalizing, 12, "an account adds its searches' finalizing leads up too")
    }
}
