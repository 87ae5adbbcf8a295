import Runtime
import Synchronization
import XCTest

/// ``withCompanion(_:running:)``: a companion's failure stops the service; the service's end
/// stops the companion. No broker.
final class CompanionTests: XCTestCase {
    struct CompanionFailed: Error {}

    func testCompanionFailureCancelsTheServiceAndIsThrownOnceItHasDrained() async throws {
        let hasDrained = Mutex(false)
        do {
            try await withCompanion({ throw CompanionFailed() }) {
                try? await Task.sleep(for: .seconds(30))  // ends when the task is cancelled
                hasDrained.withLock { $0 = Task.isCancelled }
            }
            XCTFail("the companion's failure must be thrown")
        } catch is CompanionFailed {
            XCTAssertTrue(hasDrained.withLock { $0 }, "the service must drain before the error is thrown")
        }
    }

    func testServiceEndCancelsTheCompanionWithoutError() async throws {
        let wasCancelled = Mutex(false)
        try await withCompanion({
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                wasCancelled.withLock { $0 = true }
                throw error
            }
        }) {}
        XCTAssertTrue(wasCancelled.withLock { $0 })
    }

    func testServiceFailureIsThrown() async throws {
        do {
            try await withCompanion({ try await Task.sleep(for: .seconds(30)) }) { throw CompanionFailed() }
            XCTFail("the service's failure must be thrown")
        } catch is CompanionFailed {}
    }
}
