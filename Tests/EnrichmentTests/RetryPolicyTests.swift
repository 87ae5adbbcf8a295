import Enrichment
import XCTest

/// The one retry policy of the web fetcher and the profile finder: a delay per further try, a
/// longer `Retry-After` waited for up to a bound, and past it either the bound or no try.
final class RetryPolicyTests: XCTestCase {
    func testALongerRetryAfterIsWaitedTheMost() {
        let policy = RetryPolicy(delays: [.seconds(1), .seconds(5), .seconds(40)], maxRetryAfter: .seconds(30), longerRetryAfter: .waitTheMost)
        XCTAssertEqual(policy.wait(afterTry: 1), .seconds(1))
        XCTAssertEqual(policy.wait(afterTry: 2, retryAfter: .seconds(2)), .seconds(5), "a shorter Retry-After")
        XCTAssertEqual(policy.wait(afterTry: 1, retryAfter: .seconds(12)), .seconds(12))
        XCTAssertEqual(policy.wait(afterTry: 1, retryAfter: .seconds(120)), .seconds(30), "the most")
        XCTAssertEqual(policy.wait(afterTry: 3), .seconds(30), "no wait is longer, a delay's neither")
        XCTAssertNil(policy.wait(afterTry: 4), "one try more per delay")
        XCTAssertNil(policy.wait(afterTry: 0))
    }

    func testALongerRetryAfterGivesUp() {
        let policy = RetryPolicy(delays: [.milliseconds(500), .seconds(8)], maxRetryAfter: .seconds(5), longerRetryAfter: .giveUp)
        XCTAssertEqual(policy.wait(afterTry: 1, retryAfter: .seconds(3)), .seconds(3))
        XCTAssertEqual(policy.wait(afterTry: 1, retryAfter: .seconds(5)), .seconds(5))
        XCTAssertNil(policy.wait(afterTry: 1, retryAfter: .seconds(6)), "past the most")
        XCTAssertEqual(policy.wait(afterTry: 2, retryAfter: .zero), .seconds(8), "a delay is not bounded by the Retry-After's most")
        XCTAssertNil(policy.wait(afterTry: 3))
    }
}
