/// When work that failed for a reason that may pass (a 429, a 5xx, a dropped connection) is
/// tried again: after each of ``delays`` (one more try per delay), or after the failure's
/// `Retry-After` when that is longer, up to ``maxRetryAfter``; a longer one is waited for as
/// ``LongerRetryAfter`` says. The caller decides what may pass, and what else bounds the wait
/// (``WebFetchRetry``: the fetch's one timeout; ``ProfileFinderHandler``: its entry's shutdown).
public struct RetryPolicy: Hashable, Sendable {
    /// What a `Retry-After` longer than ``maxRetryAfter`` makes of the wait.
    public enum LongerRetryAfter: Hashable, Sendable {
        /// Wait ``maxRetryAfter``, and no wait is longer, a delay's neither (a vendor's quota is
        /// worth the wait: the profile finder).
        case waitTheMost
        /// Do not try again: the failure stands (a site asking for more than a fetch has time
        /// for: the web fetcher).
        case giveUp
    }

    /// The waits before each further try.
    public var delays: [Duration]
    /// The longest `Retry-After` waited for.
    public var maxRetryAfter: Duration
    /// What a longer one makes of the wait.
    public var longerRetryAfter: LongerRetryAfter

    /// A policy.
    public init(delays: [Duration], maxRetryAfter: Duration, longerRetryAfter: LongerRetryAfter) {
        self.delays = delays
        self.maxRetryAfter = maxRetryAfter
        self.longerRetryAfter = longerRetryAfter
    }

    /// The wait before another try after a failure that may pass ended try number `attempt`
    /// (from 1) asking to be tried again after `retryAfter` (nil: it did not say); nil when
    /// there is to be none.
    public func wait(afterTry attempt: Int, retryAfter: Duration? = nil) -> Duration? {
        guard attempt >= 1, attempt <= delays.count else { return nil }
        var wait = delays[attempt - 1]
        if let retryAfter {
            guard retryAfter <= maxRetryAfter || longerRetryAfter == .waitTheMost else { return nil }
            wait = max(wait, min(retryAfter, maxRetryAfter))
        }
        return longerRetryAfter == .waitTheMost ? min(wait, maxRetryAfter) : wait
    }
}
