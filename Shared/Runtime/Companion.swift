import Synchronization
/// Runs `body` with `companion` beside it as a child task, for work that serves a service (a
/// tracker, a refresher) and whose failure must not go unseen. Whichever ends first ends the
/// other: when `body` returns, the companion is cancelled; when the companion returns or throws,
/// `body` is cancelled and drains as it does on SIGTERM.
///
/// Returns once both have finished.
/// - Throws: the first error either throws (a companion's failure stops the service, and so
///   the process); a `CancellationError` of the one cancelled is not an error.
public func withCompanion(_ companion: @escaping @Sendable () async throws -> Void,
                          running body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { children in
        children.addTask(operation: companion)
        children.addTask(operation: body)
        try await children.next()
        children.cancelAll()
        do {
            try await children.waitForAll()
        } catch is CancellationError {}
    }
}

/// Waits for `task` to end, at most `bound`: true when it did. A shutting-down process that must
/// end within its bound stops waiting for a task stuck in a call that ignores cancellation (one
/// waiting for an unreachable broker), and leaves it behind.
public func waitForEnd(of task: Task<Void, Never>, atMost bound: Duration) async -> Bool {
    let waiter = FirstAnswer<Bool>()
    Task {
        await task.value
        waiter.answer(true)
    }
    Task {
        try? await Task.sleep(for: bound)
        waiter.answer(false)
    }
    return await waiter.wait()
}

/// What `body` returns, or nil once `limit` is over or the caller is cancelled, whichever is
/// first. `body` is not stopped (a call that cannot be, such as `getaddrinfo` on a thread of its
/// own): it goes on in a task of its own, and what it returns late is dropped.
public func result<T: Sendable>(within limit: Duration, of body: @escaping @Sendable () async -> T) async -> T? {
    let waiter = FirstAnswer<T?>()
    let timer = Task {
        try? await Task.sleep(for: limit)
        waiter.answer(nil)
    }
    Task {
        waiter.answer(await body())
        timer.cancel()
    }
    return await withTaskCancellationHandler {
        await waiter.wait()
    } onCancel: {
        waiter.answer(nil)
        timer.cancel()
    }
}

/// A wait ended by the first of several answers; the later ones are dropped. An answer given
/// before the wait begins ends it as soon as it begins.
public final class FirstAnswer<Value: Sendable>: Sendable {
    private enum State {
        case open
        case waiting(CheckedContinuation<Value, Never>)
        case answered(Value)
        case over
    }

    private let state = Mutex(State.open)

    public init() {}

    /// Waits for the first answer; one caller only.
    public func wait() async -> Value {
        await withCheckedContinuation { continuation in
            let early = state.withLock { state -> Value? in
                switch state {
                case .open:
                    state = .waiting(continuation)
                    return nil
                case .answered(let value):
                    state = .over
                    return value
                case .waiting, .over:
                    preconditionFailure("a FirstAnswer is waited for once")
                }
            }
            if let early { continuation.resume(returning: early) }
        }
    }

    public func answer(_ value: Value) {
        let waiting = state.withLock { state -> CheckedContinuation<Value, Never>? in
            switch state {
            case .open:
                state = .answered(value)
                return nil
            case .waiting(let continuation):
                state = .over
                return continuation
            case .answered, .over:
                return nil
            }
        }
        waiting?.resume(returning: value)
    }
}
