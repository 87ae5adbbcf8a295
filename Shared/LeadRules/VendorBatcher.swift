import Foundation
import Runtime
import Synchronization

/// Batches one vendor's single lookups from many leads in flight into bulk calls.
///
/// - A batch is sent when it holds `maxBatchSize` queries or `maxWait` after its first query
///   arrived, whichever comes first. With a batch size of 1 every call goes straight through to
///   the vendor, in the caller's task, without waiting.
/// - Batches are independent: a full batch is sent at once, while earlier ones are still in
///   flight.
/// - A batch's vendor call runs in a task of its own, so cancelling one waiter never cancels the
///   call its batch-mates wait for. A cancelled waiter gets ``ProviderError/cancelled`` at once;
///   it leaves its batch when that has not been sent yet, and its answer is dropped otherwise.
/// - A whole-call error (thrown by the vendor) is every waiter's of that batch; an entry's
///   failure is its own lead's. A reply with more or fewer entries than asked is
///   ``ProviderError/transient(_:)`` for the whole batch, since no entry can be trusted to be
///   whose it claims.
public final class VendorBatcher: Sendable {
    /// The vendor every batch goes to.
    public let vendor: any PersonVendor
    /// How long the first query of a batch waits for batch-mates.
    public let maxWait: Duration
    /// The most queries of one vendor call (at least 1).
    public let maxBatchSize: Int
    private let state: Mutex<BatchingState>

    /// A batcher for `vendor`; `maxBatchSize` nil takes the vendor's ``PersonVendor/maxBatchSize``,
    /// and a larger one than the vendor's is capped at it.
    public init(vendor: any PersonVendor, maxWait: Duration = .milliseconds(50), maxBatchSize: Int? = nil) {
        self.vendor = vendor
        self.maxWait = maxWait
        let size = max(1, min(maxBatchSize ?? vendor.maxBatchSize, max(1, vendor.maxBatchSize)))
        self.maxBatchSize = size
        state = Mutex(BatchingState(maxBatchSize: size))
    }

    /// The match for one person; the call waits at most ``maxWait`` for batch-mates, then one
    /// vendor call serves the batch. A whole-call error is every waiter's; an entry's error is its own.
    /// - Throws: the batch's or the entry's ``ProviderError``; ``ProviderError/cancelled`` when
    ///   the caller's task is cancelled while it waits, or the caller's work stops
    ///   (``Runtime/GracefulShutdown/current`` begins: its request's partition is being revoked,
    ///   the process stops). Either way the caller leaves the batch; the batch's call goes on for
    ///   the others.
    public func enrich(_ query: PersonQuery) async throws(ProviderError) -> VendorMatch {
        if maxBatchSize == 1 {
            return try await Self.answers(of: vendor, for: [query])[0].get()
        }
        let waiter = BatchWaiter()
        // The caller's work stopping ends its wait as a cancellation does.
        let watcher = GracefulShutdown.current.map { stop in
            Task { [self] in
                guard await !stop.sleep(for: .seconds(86_400)), !Task.isCancelled else { return }
                // Out of the batch first, so that no batch-mate counts it once its caller is back.
                state.withLock { $0.withdraw(waiter) }
                _ = waiter.finish(.failure(.cancelled))
            }
        }
        defer { watcher?.cancel() }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard waiter.install(continuation) else { return }
                // A waiter cancelled since installing stays out; one cancelled after this is
                // withdrawn by its cancellation handler (lock order: state, then waiter).
                let action = state.withLock { state in
                    waiter.isFinished ? .none : state.add(BatchEntry(query: query, waiter: waiter))
                }
                perform(action)
            }
        } onCancel: {
            if waiter.finish(.failure(.cancelled)) {
                state.withLock { $0.withdraw(waiter) }
            }
        }
        return try result.get()
    }

    /// Queries waiting in the batch not yet sent (for tests).
    var waitingCount: Int { state.withLock { $0.waitingCount } }

    private func perform(_ action: BatchingState.Action) {
        switch action {
        case .none:
            break
        case .startTimer(let batchID):
            // Unstructured on purpose: no waiter's cancellation may reach the batch's call, nor
            // the shutdown of the work of the waiter that opened the batch (a task inherits
            // ``Runtime/GracefulShutdown/current``; the batch stands for other waiters' leads too).
            // Every outcome reaches the waiters through their continuations.
            GracefulShutdown.$current.withValue(nil) {
                Task { [self] in
                    try? await Task.sleep(for: maxWait)
                    if let entries = state.withLock({ $0.seal(batchID: batchID) }) { await send(entries) }
                }
            }
        case .send(let entries):
            GracefulShutdown.$current.withValue(nil) {
                Task { [self] in await send(entries) }
            }
        }
    }

    private func send(_ entries: [BatchEntry]) async {
        let results: [Result<VendorMatch, ProviderError>]
        do {
            results = try await Self.answers(of: vendor, for: entries.map(\.query))
        } catch {
            results = Array(repeating: .failure(error), count: entries.count)
        }
        for (entry, result) in zip(entries, results) { entry.waiter.finish(result) }
    }

    /// The vendor's answers, one per query, or the reason the whole call failed.
    private static func answers(
        of vendor: any PersonVendor, for queries: [PersonQuery]
    ) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>] {
        let answers = try await vendor.enrich(queries)
        guard answers.count == queries.count else {
            throw .transient("\(vendor.name): \(answers.count) answers to \(queries.count) queries")
        }
        return answers
    }
}

/// One query waiting in a batch.
struct BatchEntry: Sendable {
    let query: PersonQuery
    let waiter: BatchWaiter
}

/// The batches of a ``VendorBatcher`` as pure logic: queries in, what to do out. Only the batch
/// still filling is kept; a sealed batch belongs to the task sending it.
struct BatchingState: Sendable {
    /// What the caller does, outside the lock, after a change.
    enum Action: Sendable {
        /// Nothing.
        case none
        /// A batch opened: seal it with ``seal(batchID:)`` after the wait.
        case startTimer(batchID: Int)
        /// A batch filled up: send it now.
        case send([BatchEntry])
    }

    let maxBatchSize: Int
    private var openID = 0
    private var open: [BatchEntry] = []

    init(maxBatchSize: Int) { self.maxBatchSize = maxBatchSize }

    var waitingCount: Int { open.count }

    /// Adds a query to the open batch, opening one when there is none.
    mutating func add(_ entry: BatchEntry) -> Action {
        open.append(entry)
        if open.count >= maxBatchSize { return .send(takeOpen()) }
        return open.count == 1 ? .startTimer(batchID: openID) : .none
    }

    /// The batch `batchID` when it is still open (its wait is over), or nil when it was sent full
    /// or emptied by withdrawals.
    mutating func seal(batchID: Int) -> [BatchEntry]? {
        guard batchID == openID, !open.isEmpty else { return nil }
        return takeOpen()
    }

    /// Takes a cancelled waiter out of the open batch; nothing when its batch was already sent.
    mutating func withdraw(_ waiter: BatchWaiter) {
        guard let index = open.firstIndex(where: { $0.waiter === waiter }) else { return }
        open.remove(at: index)
        // An emptied batch is closed, so the next query opens one with a wait of its own.
        if open.isEmpty { openID += 1 }
    }

    private mutating func takeOpen() -> [BatchEntry] {
        defer {
            open = []
            openID += 1
        }
        return open
    }
}

/// One caller's continuation, resumed exactly once: by its answer or by its cancellation,
/// whichever comes first; the later one is dropped.
final class BatchWaiter: Sendable {
    typealias Continuation = CheckedContinuation<Result<VendorMatch, ProviderError>, Never>

    private enum State {
        case idle
        case waiting(Continuation)
        case finished
    }

    private let state = Mutex(State.idle)

    /// Keeps `continuation` for the answer; false (and `continuation` resumed with
    /// ``ProviderError/cancelled``) when the caller was cancelled before.
    func install(_ continuation: Continuation) -> Bool {
        let isInstalled = state.withLock { state in
            guard case .idle = state else { return false }
            state = .waiting(continuation)
            return true
        }
        if !isInstalled { continuation.resume(returning: .failure(.cancelled)) }
        return isInstalled
    }

    /// Whether the answer or the cancellation was delivered.
    var isFinished: Bool {
        state.withLock { state in
            if case .finished = state { return true }
            return false
        }
    }

    /// Delivers `result` when nothing was delivered before; whether this call did.
    @discardableResult
    func finish(_ result: Result<VendorMatch, ProviderError>) -> Bool {
        let outcome: (isFirst: Bool, continuation: Continuation?) = state.withLock { state in
            switch state {
            case .idle:
                state = .finished
                return (true, nil)
            case .waiting(let continuation):
                state = .finished
                return (true, continuation)
            case .finished:
                return (false, nil)
            }
        }
        outcome.continuation?.resume(returning: result)
        return outcome.isFirst
    }
}
