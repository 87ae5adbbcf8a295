import Kafka
import XCTest

/// ``sleepIgnoringCancellation(for:)``: a loop that must go on waiting in a cancelled task.
final class SleepIgnoringCancellationTests: XCTestCase {
    func testALoopInACancelledTaskSleepsEveryTime() async throws {
        let looping = Task {
            var iterations = 0
            let deadline = ContinuousClock.now + .seconds(1)
            while ContinuousClock.now < deadline {
                await sleepIgnoringCancellation(for: .milliseconds(50))
                iterations += 1
            }
            return (iterations, Task.isCancelled)
        }
        looping.cancel()
        let (iterations, wasCancelled) = await looping.value
        XCTAssertTrue(wasCancelled)
        // 20 sleeps of 50 ms fill the second; `Task.sleep` would have returned at once every time.
        XCTAssertLessThanOrEqual(iterations, 21)
        XCTAssertGreaterThanOrEqual(iterations, 10)
    }
}
