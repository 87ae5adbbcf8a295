import Dispatch

/// Suspends for `duration`, also when the task is cancelled.
///
/// SIGTERM cancels a service's task (see `ServiceRunner`), and from then on `Task.sleep` returns
/// at once. A loop that must go on waiting after that (a drain, a re-send backoff, a full send
/// queue) sleeps with this instead, so it waits rather than spins; it bounds itself with a
/// deadline, or the shutdown timeout bounds it.
package func sleepIgnoringCancellation(for duration: Duration) async {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().asyncAfter(deadline: .now() + DispatchTimeInterval(duration)) {
            continuation.resume()
        }
    }
}

extension DispatchTimeInterval {
    /// `duration` to the nanosecond; a negative one is zero.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(max(0, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)))
    }
}
