/// Runs `body` while each of `services` runs in a child task (a stage runner's `run()`, a table
/// follower's loop), then cancels the services and waits for them to end, on every path out of
/// `body`: a thrown assertion or a timed-out wait included. So no consumer of a test outlives
/// it: one left running kept fetching the topics its test then deleted, and librdkafka 2.8.0
/// crashed the whole test process on such a fetch (DeletedTopicTests).
///
/// When `body` returns, the first error a service threw (other than a `CancellationError`) is
/// thrown, as `try await task.value` after `task.cancel()` would; when `body` throws, its error
/// is, once the services have ended. A service that ends early is not restarted, and `body` is
/// not told: a test that waits for a service's own end keeps its task.
public func withRunning<T>(_ services: [@Sendable () async throws -> Void],
                           _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        for service in services {
            group.addTask { try await service() }
        }
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(error)
        }
        group.cancelAll()
        var serviceFailure: (any Error)?
        while let ended = await group.nextResult() {
            if case .failure(let error) = ended, !(error is CancellationError), serviceFailure == nil {
                serviceFailure = error
            }
        }
        let result = try outcome.get()
        if let serviceFailure { throw serviceFailure }
        return result
    }
}

/// ``withRunning(_:_:)`` with one service.
public func withRunning<T>(_ service: @escaping @Sendable () async throws -> Void,
                           _ body: () async throws -> T) async throws -> T {
    try await withRunning([service], body)
}
