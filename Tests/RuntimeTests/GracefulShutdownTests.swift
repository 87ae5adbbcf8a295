import Runtime
import XCTest

/// The shutdown that ends waits before another try, apart from task cancellation.
final class GracefulShutdownTests: XCTestCase {
    func testASleepLastsItsTimeUntilTheShutdownBegins() async {
        let shutdown = GracefulShutdown()
        let slept = await shutdown.sleep(for: .milliseconds(20))
        XCTAssertTrue(slept)
        XCTAssertFalse(shutdown.hasBegun)
    }

    /// A sleep under way, or one begun after, ends at once and says it was cut short.
    func testTheShutdownEndsEverySleepAtOnce() async {
        let shutdown = GracefulShutdown()
        await assertASleepIsCutShort(in: shutdown) { _ in shutdown.begin() }
        let later = await shutdown.sleep(for: .seconds(60))
        XCTAssertFalse(later)
        XCTAssertTrue(shutdown.hasBegun)
    }

    func testACancelledTasksSleepEndsAtOnce() async {
        let shutdown = GracefulShutdown()
        await assertASleepIsCutShort(in: shutdown) { $0.cancel() }
        XCTAssertFalse(shutdown.hasBegun, "cancellation is not the shutdown")
    }

    /// A child (a stage runner's partition) begins with its parent, or alone before it: its own
    /// shutdown ends its sleeps, not the parent's.
    func testAChildBeginsWithItsParentOrAlone() async {
        let parent = GracefulShutdown()
        let alone = parent.makeChild()
        await assertASleepIsCutShort(in: alone) { _ in alone.begin() }
        XCTAssertFalse(parent.hasBegun)
        let child = parent.makeChild()
        await assertASleepIsCutShort(in: child) { _ in parent.begin() }
        XCTAssertTrue(child.hasBegun)
        XCTAssertTrue(parent.makeChild().hasBegun, "a child of a shutdown begun has begun")
    }

    /// A sleep of a minute in `shutdown`, `stop` called beside it, ends at once, cut short.
    private func assertASleepIsCutShort(in shutdown: GracefulShutdown, by stop: (Task<Bool, Never>) -> Void,
                                        file: StaticString = #filePath, line: UInt = #line) async {
        let started = ContinuousClock.now
        let sleeping = Task { await shutdown.sleep(for: .seconds(60)) }
        stop(sleeping)
        let slept = await sleeping.value
        XCTAssertFalse(slept, file: file, line: line)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), file: file, line: line)
    }
}
