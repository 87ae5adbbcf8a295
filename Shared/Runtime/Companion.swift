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
