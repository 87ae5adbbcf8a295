import Streaming
import XCTest

/// What a broker watch saw last: the broker counts as having answered for a time only when no
/// question went unanswered in it.
final class BrokerReachabilityTests: XCTestCase {
    func testAMissStartsTheCountAgain() {
        let broker = BrokerReachability()
        XCTAssertTrue(broker.hasAnswered(for: .zero))
        XCTAssertFalse(broker.hasAnswered(for: .seconds(60)), "counted from its creation")

        broker.record(isReachable: false)
        XCTAssertFalse(broker.hasAnswered(for: .zero), "not while it does not answer")
        broker.record(isReachable: true)
        XCTAssertTrue(broker.hasAnswered(for: .zero))
        XCTAssertFalse(broker.hasAnswered(for: .seconds(10)), "counted from the first answer after the miss")
    }

    func testAnswersAfterAnAnswerKeepTheCount() {
        let broker = BrokerReachability()
        broker.record(isReachable: false)
        broker.record(isReachable: false)
        XCTAssertFalse(broker.hasAnswered(for: .zero))
        broker.record(isReachable: true)
        broker.record(isReachable: true)
        XCTAssertTrue(broker.hasAnswered(for: .zero))
    }
}
