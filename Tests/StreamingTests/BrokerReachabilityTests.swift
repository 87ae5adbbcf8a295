import Foundation
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

    func testAnOutageIsKeptFromItsFirstUnansweredQuestionUntilTaken() {
        let broker = BrokerReachability()
        let asked = Date().addingTimeInterval(-30)
        broker.record(isReachable: false, askedAt: asked)
        broker.record(isReachable: false, askedAt: asked.addingTimeInterval(10))
        XCTAssertEqual(broker.takeOutages(), [], "not over yet")
        broker.record(isReachable: true)
        let outages = broker.takeOutages()
        XCTAssertEqual(outages.map(\.start), [asked], "from the first question left unanswered")
        XCTAssertEqual(outages.first?.duration ?? 0, 30, accuracy: 5)
        XCTAssertEqual(broker.takeOutages(), [], "taken once")
    }
}
