import Synchronization

/// A service's graceful shutdown, kept apart from task cancellation (as swift-service-lifecycle's
/// `GracefulShutdown` is): the service's runner begins it when the service is told to stop
/// (SIGTERM cancels the service's task, ``ServiceRunner``), and work it lets finish asks it
/// whether to wait any longer. A record in flight runs on in a task of its own that nothing
/// cancels, so that it can finish within the drain; its waits before trying again (a backoff)
/// end here instead, so the drain is not held up by a pause and nothing is tried again on the
/// way out.
///
/// A part of the work that can be stopped alone has a shutdown of its own, ``makeChild()``: it
/// begins with this one, or on its own before (a stage runner's records of a partition being
/// revoked, which the partition's next owner runs). Work that cannot hand its shutdown down to
/// every wait in it binds it to its task (``current``, ``bindingCurrent(_:)``).
public final class GracefulShutdown: Sendable {
    private struct State {
        var hasBegun = false
        var waiters: [Int: FirstAnswer<Bool>] = [:]
        /// The children not begun yet, by their number here.
        var children: [Int: GracefulShutdown] = [:]
        var nextID = 0

        mutating func takeID() -> Int {
            defer { nextID += 1 }
            return nextID
        }
    }

    private let state = Mutex(State())
    /// Forgets this shutdown in its parent's children once it has begun.
    private let leaveParent: (@Sendable () -> Void)?

    /// A shutdown not begun yet.
    public init() {
        leaveParent = nil
    }

    private init(leavingParent leaveParent: @escaping @Sendable () -> Void) {
        self.leaveParent = leaveParent
    }

    /// Whether the shutdown has begun.
    public var hasBegun: Bool { state.withLock { $0.hasBegun } }

    /// Begins the shutdown: every wait in ``sleep(for:)`` ends now, and every later one at once;
    /// so do those of its children (``makeChild()``). Later calls change nothing.
    public func begin() {
        let (waiters, children) = state.withLock { state in
            state.hasBegun = true
            defer { (state.waiters, state.children) = ([:], [:]) }
            return (Array(state.waiters.values), Array(state.children.values))
        }
        for waiter in waiters { waiter.answer(false) }
        for child in children { child.begin() }
        leaveParent?()
    }

    /// A shutdown that begins when this one does (at once if it has), or on its own before:
    /// its ``begin()`` ends its own waits only. Held here only until it begins, so a child made
    /// for each part of the work (each assignment of a partition) and begun when that part ends
    /// costs nothing once begun.
    public func makeChild() -> GracefulShutdown {
        let id = state.withLock { $0.takeID() }
        let child = GracefulShutdown(leavingParent: { [weak self] in
            self?.state.withLock { _ = $0.children.removeValue(forKey: id) }
        })
        let isBegun = state.withLock { state in
            if !state.hasBegun { state.children[id] = child }
            return state.hasBegun
        }
        if isBegun { child.begin() }
        return child
    }

    /// Waits `duration` unless the shutdown begins first (or has begun), or the calling task is
    /// cancelled: true when the whole time passed, false when the wait was cut short.
    public func sleep(for duration: Duration) async -> Bool {
        let waiter = FirstAnswer<Bool>()
        let id: Int? = state.withLock { state in
            guard !state.hasBegun else { return nil }
            let id = state.takeID()
            state.waiters[id] = waiter
            return id
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

extension GracefulShutdown {
    /// The shutdown of the work the current task does, bound with ``bindingCurrent(_:)`` (a
    /// stage's record, whose shutdown begins when the process stops or the record's partition is
    /// being revoked): the waits deep inside that work that it cannot be handed through every
    /// layer (a provider's rate limiter, a simulated call's latency) end on it, as
    /// swift-service-lifecycle's task-local graceful shutdown does. Nil outside such work.
    @TaskLocal public static var current: GracefulShutdown?

    /// Runs `operation`, and the child tasks it makes, with this shutdown as ``current``.
    public func bindingCurrent<T>(_ operation: () async -> T) async -> T {
        await Self.$current.withValue(self) { await operation() }
    }

    /// Waits `duration` unless the current work's shutdown (``current``) begins first (or has
    /// begun), or the task is cancelled: true when the whole time passed, false when the wait
    /// was cut short. Outside work with a shutdown, only cancellation cuts it short.
    public static func sleepUnlessStopping(for duration: Duration) async -> Bool {
        if let current { return await current.sleep(for: duration) }
        do {
            try await Task.sleep(for: duration)
            return true
        } catch {
            return false
        }
    }
}
