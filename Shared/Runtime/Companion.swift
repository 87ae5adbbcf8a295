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
    let waiter = FirstAnswer()
    return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
        waiter.wait(continuation)
        Task {
            await task.value
            waiter.answer(true)
        }
        Task {
            try? await Task.sleep(for: bound)
            waiter.answer(false)
        }
    }
}

/// A continuation resumed by the first of several answers.
private final class FirstAnswer: Sendable {
    private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func wait(_ waiting: CheckedContinuation<Bool, Never>) {
        continuation.withLock { $0 = waiting }
    }

    func answer(_ value: Bool) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
