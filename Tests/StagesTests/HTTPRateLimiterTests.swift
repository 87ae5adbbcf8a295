import Foundation
import LeadRules
import Synchronization
import XCTest

/// A clock that moves only when told; sleepers wake when it passes their deadline.
final class ManualClock: RateLimiterClock {
    private struct State {
        var now: Double = 0
        var sleepers: [(deadline: Double, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    func now() -> Double { state.withLock { $0.now } }

    func sleep(until deadline: Double) async throws {
        await withCheckedContinuation { continuation in
            let wakeNow = state.withLock { state -> Bool in
                if deadline <= state.now { return true }
                state.sleepers.append((deadline, continuation))
                return false
            }
            if wakeNow { continuation.resume() }
        }
    }

    var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    func advance(to time: Double) {
        let due = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.now = time
            let due = state.sleepers.filter { $0.deadline <= time }.map(\.continuation)
            state.sleepers.removeAll { $0.deadline <= time }
            return due
        }
        due.forEach { $0.resume() }
    }
}

final class HTTPRateLimiterTests: XCTestCase {
    private func proceedTimes(_ bucket: inout TokenBucket, count: Int, now: Double, maxWait: Double = 1_000) -> [Double] {
        (0..<count).map { _ in
            guard case .proceed(let at) = bucket.reserve(now: now, maxWait: maxWait) else { return -1 }
            return at
        }
    }

    func testBurstThenSteadyRate() {
        var bucket = TokenBucket(ratePerMinute: 60, burst: 3, now: 0)
        XCTAssertEqual(proceedTimes(&bucket, count: 6, now: 0), [0, 0, 0, 1, 2, 3])
    }

    func testQuietPeriodRefillsUpToTheBurstOnly() {
        var bucket = TokenBucket(ratePerMinute: 60, burst: 2, now: 0)
        _ = proceedTimes(&bucket, count: 2, now: 0)
        XCTAssertEqual(proceedTimes(&bucket, count: 3, now: 100), [100, 100, 101], "a long pause gives back the burst, not more")
    }

    func testRefusesBeyondMaxWaitWithoutReserving() {
        var bucket = TokenBucket(ratePerMinute: 6, burst: 1, now: 0)  // one call per 10 s
        XCTAssertEqual(bucket.reserve(now: 0, maxWait: 5), .proceed(at: 0))
        XCTAssertEqual(bucket.reserve(now: 0, maxWait: 5), .refuse(retryAfter: 10))
        XCTAssertEqual(bucket.reserve(now: 6, maxWait: 5), .proceed(at: 10), "the refused call took no slot")
    }

    /// The latest slot given back (its caller stopped waiting: a revocation, a stop) goes to the
    /// next caller, who does not queue behind a call never made. Before, every cut-short wait
    /// kept its slot, and a revocation cutting many short pushed the requests redone after it
    /// past the limiter's longest wait. A slot with others reserved after it stays taken: giving
    /// it back would put the next caller on a slot a waiting caller holds (two calls at once).
    func testTheLatestSlotGivenBackGoesToTheNextCaller() {
        var bucket = TokenBucket(ratePerMinute: 60, burst: 1, now: 0)
        XCTAssertEqual(proceedTimes(&bucket, count: 4, now: 0), [0, 1, 2, 3])
        bucket.release(slotAt: 1, now: 0)  // its caller stopped, slots 2 and 3 still waited for: kept
        bucket.release(slotAt: 3, now: 0)  // the latest: given back
        bucket.release(slotAt: 2, now: 0)  // now the latest: given back
        XCTAssertEqual(proceedTimes(&bucket, count: 2, now: 0.5), [2, 3])
        // Nothing reserved to give back: the bucket is as full as it gets, never more.
        var quiet = TokenBucket(ratePerMinute: 60, burst: 1, now: 0)
        quiet.release(slotAt: 0, now: 10)
        XCTAssertEqual(proceedTimes(&quiet, count: 2, now: 10), [10, 11])
    }

    func testPauseHoldsEveryoneAndLiftsWithoutABurst() {
        var bucket = TokenBucket(ratePerMinute: 60, burst: 5, now: 0)
        bucket.pause(until: 30)
        XCTAssertTrue(bucket.isPaused(now: 10))
        XCTAssertEqual(bucket.reserve(now: 10, maxWait: 5), .refuse(retryAfter: 20))
        XCTAssertEqual(proceedTimes(&bucket, count: 4, now: 10), [30, 31, 32, 33], "one call per interval after the reset")
        bucket.pause(until: 20)
        XCTAssertEqual(bucket.pausedUntil, 30, "an earlier reset does not shorten the pause")
    }

    func testLimiterWaitersAreSpacedAndAPauseArrivingWhileWaitingHoldsThem() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(ratePerMinute: 60, burst: 1, maxWaitSeconds: 100, clock: clock)
        try await limiter.acquire()  // the burst
        let admitted = Recorder<Double>()
        let tasks = (0..<3).map { _ in
            Task {
                try await limiter.acquire()
                admitted.append(clock.now())
            }
        }
        try await waitUntil { clock.sleeperCount == 3 }  // reserved 1, 2 and 3
        limiter.pause(seconds: 10)  // a 429 says: nothing before t=10
        clock.advance(to: 1)
        clock.advance(to: 2)
        clock.advance(to: 3)
        try await waitUntil { clock.sleeperCount == 3 }  // all re-queued behind the pause
        XCTAssertTrue(admitted.values.isEmpty, "nobody goes during the pause")
        for (index, t) in [10.0, 11, 12].enumerated() {
            clock.advance(to: t)
            try await waitUntil { admitted.values.count == index + 1 }
            try await Task.sleep(for: .milliseconds(20))
            XCTAssertEqual(admitted.values.count, index + 1, "after the reset: one per interval, no burst")
        }
        for task in tasks { try await task.value }
        XCTAssertEqual(admitted.values, [10, 11, 12])
    }

    func testLimiterFailsFastWhenTheWaitIsTooLong() async {
        let clock = ManualClock()
        let limiter = RateLimiter(ratePerMinute: 60, burst: 1, maxWaitSeconds: 5, clock: clock)
        limiter.pause(seconds: 900)
        do {
            try await limiter.acquire()
            XCTFail("should refuse")
        } catch {
            XCTAssertEqual(error, .rateLimited(retryAfter: 900))
        }
        XCTAssertEqual(limiter.pausedSeconds, 900)
    }

    private func waitUntil(_ condition: @escaping () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(5)
        while !condition() {
            if Date() > deadline {
                XCTFail("condition not reached in time")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
