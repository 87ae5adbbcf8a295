import Foundation
import LeadModel
@testable import Coordinator
import XCTest

/// What the progress tracker keeps of one search (no broker): the accounts a search leaves when
/// a total moves it to another account.
final class ProgressTrackerSearchTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_000_000)

    private func total(_ account: AccountID, at: Date) -> SearchTotalDeclared {
        SearchTotalDeclared(searchID: "search-1", accountID: account, total: 10, declaredAt: at)
    }

    /// A search with a declared total only (no lead counted yet: no part names an account) moved
    /// from one account to another, then to a third, leaves each account it was published under.
    /// Before, the snapshot was recorded as published before the accounts to leave were asked
    /// for, so the account it was published under was its new one: the first account kept its
    /// part for good, and a second move left it under the second.
    func testASearchWithATotalOnlyLeavesEachAccountItWasPublishedUnder() throws {
        var search = ProgressTracker.Search(partition: 0)
        var at = start
        func publish(_ account: AccountID) throws -> Set<AccountID>? {
            at = at.addingTimeInterval(60)
            let snapshot = try XCTUnwrap(search.snapshot("search-1", declared: total(account, at: at), at: at))
            return search.publish(snapshot)
        }
        XCTAssertEqual(try publish("acct-a"), [])
        XCTAssertEqual(try publish("acct-a"), nil, "nothing but the time changed")
        XCTAssertEqual(try publish("acct-b"), ["acct-a"])
        XCTAssertEqual(try publish("acct-c"), ["acct-b"])
        XCTAssertEqual(try publish("acct-a"), ["acct-c"], "moved back, it is counted under the first again")
        XCTAssertEqual(try publish("acct-b"), ["acct-a"])
    }
}
