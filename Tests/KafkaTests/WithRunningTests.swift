import Kafka
import KafkaTestSupport
import Synchronization
import XCTest

/// `withRunning`, the scope tests start their runners in (no broker).
final class WithRunningTests: XCTestCase {
    private struct Failed: Error, Equatable { let what: String }

    /// Set once a service has ended.
    private final class Ended: Sendable {
        private let flag = Mutex(false)
        var value: Bool { flag.withLock { $0 } }
        func set() { flag.withLock { $0 = true } }
    }

    /// A service that runs until cancelled and then says it ended, after a moment (a runner's
    /// drain), without throwing.
    private static func untilCancelled(_ ended: Ended) -> @Sendable () async throws -> Void {
        {
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
            await sleepIgnoringCancellation(for: .milliseconds(50))
            ended.set()
        }
    }

    func testAServiceIsCancelledAndAwaitedWhenTheBodyThrows() async throws {
        let ended = Ended()
        do {
            try await withRunning(Self.untilCancelled(ended)) {
                try await Task.sleep(for: .milliseconds(20))
                throw Failed(what: "body")
            }
            XCTFail("the body's error must be thrown")
        } catch let error as Failed {
            XCTAssertEqual(error, Failed(what: "body"))
        }
        XCTAssertTrue(ended.value, "the service ended before withRunning returned")
    }

    func testEveryServiceIsCancelledAndAwaitedWhenTheBodyReturns() async throws {
        let first = Ended()
        let second = Ended()
        let value = try await withRunning([Self.untilCancelled(first), Self.untilCancelled(second)]) { 42 }
        XCTAssertEqual(value, 42)
        XCTAssertTrue(first.value && second.value)
    }

    /// As `try await task.value` after `task.cancel()` did: a service's failure fails the test,
    /// its cancellation does not.
    func testAServicesFailureIsThrownButNotItsCancellation() async throws {
        do {
            _ = try await withRunning({ throw Failed(what: "service") }) { try await Task.sleep(for: .milliseconds(20)) }
            XCTFail("the service's error must be thrown")
        } catch let error as Failed {
            XCTAssertEqual(error, Failed(what: "service"))
        }
        try await withRunning({ try await Task.sleep(for: .seconds(60)) }) {}
    }
}
