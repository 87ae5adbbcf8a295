import Synchronization

/// A service's graceful shutdown, kept apart from task cancellation (as swift-service-lifecycle's
/// `GracefulShutdown` is): the service's runner begins it when the service is told to stop
/// (SIGTERM cancels the service's task, ``ServiceRunner``), and work it lets finish asks it
/// whether to wait any longer. A record in flight runs on in a task of its own that nothing
/// cancels, so that it can finish within the drain; its waits before trying again (a backoff)
/// end here instead, so the drain is not held up by a pause and nothing is tried again on the
/// way out.
public final class GracefulShutdown: Sendable {
    private struct State {
        var hasBegun = false
        var waiters: [Int: FirstAnswer<Bool>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// A shutdown not begun yet.
    public init() {}

    /// Whether the shutdown has begun.
    public var hasBegun: Bool { state.withLock { $0.hasBegun } }

    /// Begins the shutdown: every wait in ``sleep(for:)`` ends now, and every later one at once.
    /// Later calls change nothing.
    public func begin() {
        let waiters = state.withLock { state in
            state.hasBegun = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.answer(false) }
    }

    /// Waits `duration` unless the shutdown begins first (or has begun), or the calling task is
    /// cancelled: true when the whole time passed, false when the wait was cut short.
    public func sleep(for duration: Duration) async -> Bool {
        let waiter = FirstAnswer<Bool>()
        let id: Int? = state.withLock { state in
            guard !state.hasBegun else { return nil }
            defer { state.nextWaiter += 1 }
            state.waiters[state.nextWaiter] = waiter
            return state.nextWaiter
        }
        guard let id else { return false }
        let timer = Task {
            do {
                try await Task.sleep(for: duration)
                waiter.answer(true)
            } catch {}  // cancelled: the wait was answered already
        }
        let hasSlept = await withTaskCancellationHandler {
            await waiter.wait()
        } onCancel: {
            waiter.answer(false)
        }
        timer.cancel()
        state.withLock { _ = $0.waiters.removeValue(forKey: id) }
        return hasSlept
    }
}
