import Foundation

/// Runs `body`, which blocks (socket reads and writes, `getaddrinfo`), on a new thread of its
/// own, and returns what it returns.
///
/// Not on Dispatch's global queues: on Linux those run about one thread per core and add one a
/// second while every one of them is blocked, so blocking calls there wait for each other, and a
/// call with a deadline uses it up before it starts. A thread costs tens of microseconds to
/// start; callers bound how many run at once (the web enricher's in-flight bound).
public func onOwnThread<T: Sendable>(named name: String, _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            nameCurrentThread(name)
            continuation.resume(returning: body())
        }
        thread.start()
    }
}
