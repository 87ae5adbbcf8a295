import Foundation
import LeadModel
import XCTest

/// An account's progress is its searches' latest snapshots added up; no broker.
final class AccountProgressTests: XCTestCase {
    func search(_ id: String, account: String = "acct-1", state: ProgressSnapshot.State, total: Int?, completed: Int,
                enriching: Int = 0, paused: Int = 0, pending: Int = 0) -> ProgressSnapshot {
        ProgressSnapshot(searchID: SearchID(id), accountID: AccountID(account), state: state, total: total, pending: pending,
                         completed: completed, enriching: enriching, scoring: 1, billingPaused: paused, deferred: 0, updatedAt: Fixtures.now)
    }

    func testSearchesAreAddedUpAndTheStateIsTheMostUrgent() throws {
        let running = search("s1", state: .running, total: 10, completed: 4, enriching: 5, pending: 2)
        let done = search("s2", state: .completed, total: 20, completed: 20)
        let other = search("s9", account: "acct-2", state: .running, total: 99, completed: 0)
        let progress = try XCTUnwrap(AccountProgressSnapshot.adding([running, done, other], accountID: "acct-1", at: Fixtures.now))
        XCTAssertEqual(progress.state, .running)
        XCTAssertEqual(progress.searches, .init(running: 1, completed: 1, paused: 0))
        XCTAssertEqual(progress.total, 30, "another account's search is not counted")
        XCTAssertEqual(progress.completed, 24)
        XCTAssertEqual(progress.enriching, 5)
        XCTAssertEqual(progress.scoring, 2)
        XCTAssertEqual(progress.pending, 2)
    }

    func testPausedOnlyWhenNothingRunsAndCompletedOnlyWhenEverySearchIs() throws {
        let paused = search("s1", state: .paused, total: 10, completed: 4, paused: 6)
        let done = search("s2", state: .completed, total: 5, completed: 5)
        XCTAssertEqual(AccountProgressSnapshot.adding([paused, done], accountID: "acct-1", at: Fixtures.now)?.state, .paused)
        XCTAssertEqual(AccountProgressSnapshot.adding([done], accountID: "acct-1", at: Fixtures.now)?.state, .completed)
        XCTAssertNil(AccountProgressSnapshot.adding([done], accountID: "acct-3", at: Fixtures.now), "no search: no progress")
    }

    func testTheTotalIsUnknownWhileASearchHasDeclaredNone() {
        let undeclared = search("s1", state: .running, total: nil, completed: 3)
        let declared = search("s2", state: .completed, total: 5, completed: 5)
        XCTAssertNil(AccountProgressSnapshot.adding([undeclared, declared], accountID: "acct-1", at: Fixtures.now)?.total)
    }

    /// Totals and counts too large to add up (a search total declared near Int.max, accepted
    /// before totals were bounded) stop at Int.max: adding them trapped, which stopped the
    /// coordinator at every restart and `leadctl progress`.
    func testTotalsTooLargeToAddUpStopAtTheLargestInteger() throws {
        let huge = search("s1", state: .running, total: .max, completed: .max, enriching: .max)
        let small = search("s2", state: .running, total: 1, completed: 1, enriching: 1)
        let progress = try XCTUnwrap(AccountProgressSnapshot.adding([huge, small], accountID: "acct-1", at: Fixtures.now))
        XCTAssertEqual(progress.total, .max)
        XCTAssertEqual(progress.completed, .max)
        XCTAssertEqual(progress.enriching, .max)
        XCTAssertEqual(progress.scoring, 2)
    }

    func testPartsAreKeyedByAccountAndSearch() {
        XCTAssertEqual(AccountProgressSnapshot.partKey(search("s1", state: .running, total: nil, completed: 0)), "acct-1/s1")
    }
}
