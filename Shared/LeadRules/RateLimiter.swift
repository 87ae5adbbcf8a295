import Foundation
import Runtime
import Synchronization

/// A token bucket on a timeline of seconds, as pure logic (no clock, no sleeping): the caller
/// passes `now` and sleeps itself. ``RateLimiter`` wraps it for concurrent callers.
///
/// Implemented as a generic cell rate algorithm: instead of a token count it keeps the
/// *theoretical arrival time* of the next call. Up to ``burst`` calls go at once after a quiet
/// period; after that one call per ``interval``. Every admitted call reserves its slot, so
/// callers waiting together are spread out at the rate rather than woken together.
///
/// ``pause(until:)`` (a 429 with a reset time) moves the whole bucket: nothing is admitted before
/// the reset, and after it the bucket is empty (one call at the reset, then one per interval),
/// so the calls held back do not burst when the limit lifts.
public struct TokenBucket: Sendable, Hashable {
    /// Seconds between two calls at the steady rate.
    public let interval: Double
    /// Calls allowed at once after a quiet period (at least 1).
    public let burst: Int
    /// No call is admitted before this instant (set by ``pause(until:)``).
    public private(set) var pausedUntil: Double
    private var theoreticalArrival: Double

    /// What ``reserve(now:maxWait:)`` decided.
    public enum Decision: Sendable, Hashable {
        /// The slot at this instant is the caller's: go at (or after) it.
        case proceed(at: Double)
        /// The next free slot is more than the allowed wait away, this many seconds from now;
        /// nothing was reserved.
        case refuse(retryAfter: Double)
    }

    /// A bucket allowing `ratePerMinute` calls a minute (> 0) with bursts of `burst` (≥ 1), full
    /// at `now`.
    public init(ratePerMinute: Double, burst: Int, now: Double) {
        precondition(ratePerMinute > 0, "rate must be positive")
        interval = 60 / ratePerMinute
        self.burst = max(1, burst)
        pausedUntil = -.infinity
        theoreticalArrival = now
    }

    private var tolerance: Double { Double(burst - 1) * interval }

    /// Reserves the next free slot when it is at most `maxWait` seconds after `now`.
    public mutating func reserve(now: Double, maxWait: Double) -> Decision {
        let arrival = max(theoreticalArrival, now)
        let allowedAt = max(now, arrival - tolerance)
        let wait = allowedAt - now
        if wait > maxWait { return .refuse(retryAfter: wait) }
        theoreticalArrival = arrival + interval
        return .proceed(at: allowedAt)
    }

    /// Gives back the slot at `at` that ``reserve(now:maxWait:)`` gave and its caller did not use
    /// (it stopped waiting), so that the next caller takes it rather than queue behind a call
    /// never made. Only the latest slot reserved is given back: one with others reserved after
    /// it stays, since giving it back would put the next caller on a slot already taken.
    public mutating func release(slotAt at: Double, now: Double) {
        guard at >= theoreticalArrival - interval - tolerance else { return }
        theoreticalArrival = max(now, theoreticalArrival - interval)
    }

    /// Admits nothing before `until`, then restarts empty (see the type's documentation). An
    /// earlier reset than one already in force changes nothing.
    public mutating func pause(until: Double) {
        guard until > pausedUntil else { return }
        pausedUntil = until
        theoreticalArrival = max(theoreticalArrival, until + tolerance)
    }

    /// Whether a pause is in force at `now`.
    public func isPaused(now: Double) -> Bool { now < pausedUntil }
}

/// Time for a ``RateLimiter``: a monotonic count of seconds and a way to sleep until an instant
/// on it. Tests inject a manual clock.
public protocol RateLimiterClock: Sendable {
    /// Seconds since an arbitrary fixed origin; never goes backwards.
    func now() -> Double
    /// Suspends until `deadline` (on the ``now()`` scale) or throws when the task is cancelled.
    func sleep(until deadline: Double) async throws
}

/// The process's monotonic clock (`ContinuousClock`).
public struct ContinuousRateLimiterClock: RateLimiterClock {
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// A clock whose origin is now.
    public init() { origin = clock.now }

    /// Seconds since the clock was created.
    public func now() -> Double {
        let elapsed = origin.duration(to: clock.now).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }

    /// Sleeps until `deadline`; throws `CancellationError` when the task is cancelled or the
    /// work's shutdown (``Runtime/GracefulShutdown/current``) begins first.
    public func sleep(until deadline: Double) async throws {
        let seconds = deadline - now()
        guard seconds > 0 else { return }
        guard await GracefulShutdown.sleepUnlessStopping(for: .seconds(seconds)) else { throw CancellationError() }
    }
}

/// A per-provider rate limit shared by all in-flight work of one process: a ``TokenBucket``
/// behind a `Mutex`, plus the waiting.
///
/// - ``acquire()`` waits for the caller's slot (callers are admitted in the order they reserved)
///   or, when the slot is further away than ``maxWaitSeconds``, throws
///   ``ProviderError/rateLimited(retryAfter:)`` at once, so a stage does not hold a lead past its
///   phase timeout; the coordinator retries the phase with backoff.
/// - ``pause(seconds:)`` (the provider answered 429 with Retry-After or a reset time) holds back
///   every caller of this limiter, including those already waiting for a slot: after waking they
///   check for a pause and queue again behind it, spaced at the rate.
public final class RateLimiter: Sendable {
    /// Longer waits are refused (see the type's documentation).
    public let maxWaitSeconds: Double
    /// Pauses asked for are capped at this (a provider's reset header could say anything).
    public static let maxPauseSeconds: Double = 3_600
    private let bucket: Mutex<TokenBucket>
    private let clock: any RateLimiterClock

    /// A limiter of `ratePerMinute` calls a minute with bursts of `burst`.
    public init(
        ratePerMinute: Double, burst: Int, maxWaitSeconds: Double = 30, clock: any RateLimiterClock = ContinuousRateLimiterClock()
    ) {
        self.maxWaitSeconds = maxWaitSeconds
        self.clock = clock
        bucket = Mutex(TokenBucket(ratePerMinute: ratePerMinute, burst: burst, now: clock.now()))
    }

    /// Waits until the caller may make one call.
    /// - Throws: ``ProviderError/rateLimited(retryAfter:)`` when the wait would exceed
    ///   ``maxWaitSeconds``; ``ProviderError/cancelled`` when the task is cancelled while waiting,
    ///   or the work's shutdown (``Runtime/GracefulShutdown/current``: a stage's record whose
    ///   partition is being revoked, or the process stopping) begins: its slot is not waited for.
    public func acquire() async throws(ProviderError) {
        while true {
            let now = clock.now()
            let decision = bucket.withLock { $0.reserve(now: now, maxWait: maxWaitSeconds) }
            switch decision {
            case .refuse(let retryAfter):
                throw .rateLimited(retryAfter: retryAfter)
            case .proceed(let at):
                if at > now {
                    do {
                        try await clock.sleep(until: at)
                    } catch {
                        bucket.withLock { $0.release(slotAt: at, now: clock.now()) }  // the slot goes to the next caller
                        throw .cancelled
                    }
                }
            }
            // A pause that arrived while this caller slept overrides its reservation.
            let isPaused = bucket.withLock { $0.isPaused(now: clock.now()) }
            if !isPaused { return }
        }
    }

    /// Holds back every caller for `seconds` (capped at ``maxPauseSeconds``).
    public func pause(seconds: Double) {
        let seconds = min(max(0, seconds), Self.maxPauseSeconds)
        let until = clock.now() + seconds
        bucket.withLock { $0.pause(until: until) }
    }

    /// Seconds until the current pause lifts; 0 when none is in force.
    public var pausedSeconds: Double {
        let now = clock.now()
        return bucket.withLock { max(0, $0.pausedUntil - now) }
    }
}
