import Foundation
import LeadModel
@testable import LeadRules
import Runtime
import Synchronization
import XCTest

/// The vendor batcher against an in-memory vendor: batch sizes, per-entry and whole-call errors,
/// the wait bound and cancellation.
final class VendorBatcherTests: XCTestCase {
    func testBatchesConcurrentLookupsIntoFullCallsAndAnswersEveryLeadItsOwn() async {
        let vendor = FakeVendor(maxBatchSize: 100)
        // A long wait, so that a slow machine cannot seal a batch before 250 callers arrived.
        let batcher = VendorBatcher(vendor: vendor, maxWait: .seconds(2))
        let answers = await withTaskGroup(of: (Int, Result<VendorMatch, ProviderError>).self) { group in
            for i in 0..<250 {
                group.addTask { (i, await lookup(batcher, "person-\(i)")) }
            }
            var answers: [Int: Result<VendorMatch, ProviderError>] = [:]
            for await (i, answer) in group { answers[i] = answer }
            return answers
        }
        XCTAssertEqual(answers.count, 250)
        for (i, answer) in answers {
            XCTAssertEqual(answer, .success(FakeVendor.match("person-\(i)")))
        }
        XCTAssertEqual(vendor.calls.map(\.count).sorted(), [50, 100, 100])
        XCTAssertEqual(Set(vendor.calls.joined()).count, 250)
    }

    /// The batch's call stands for every lead in it, so it runs under no lead's shutdown. Before,
    /// its task inherited the ``GracefulShutdown/current`` of the request that opened the batch,
    /// so that request's revocation ended a rate-limit wait in the call, failing every lead of
    /// the batch.
    func testTheBatchsCallRunsUnderNoWaitersShutdown() async {
        let seen = Mutex<[Bool]>([])
        let vendor = FakeVendor(maxBatchSize: 100) { queries in
            seen.withLock { $0.append(GracefulShutdown.current != nil) }
            return queries.map { .success(FakeVendor.match($0.linkedinHandle)) }
        }
        let batcher = VendorBatcher(vendor: vendor, maxWait: .milliseconds(50))
        let stop = GracefulShutdown()
        let answer = await stop.bindingCurrent { await lookup(batcher, "opener") }
        XCTAssertEqual(answer, .success(FakeVendor.match("opener")))
        XCTAssertEqual(seen.withLock { $0 }, [false], "the call saw the opener's shutdown")
    }

    /// A caller whose work stops while it waits for batch-mates (its request's partition being
    /// revoked: ``GracefulShutdown/current`` begins) leaves the batch at once, and a batch left
    /// empty calls nobody. Before, only a task cancellation ended the wait, and a stage's
    /// handler tasks are never cancelled: the revocation waited out the batch.
    func testACallerWhoseWorkStopsLeavesTheBatch() async {
        let vendor = FakeVendor(maxBatchSize: 100)
        let batcher = VendorBatcher(vendor: vendor, maxWait: .seconds(60))
        let stop = GracefulShutdown()
        let started = ContinuousClock.now
        async let answer = stop.bindingCurrent { await lookup(batcher, "leaving") }
        while batcher.waitingCount == 0 { await Task.yield() }
        stop.begin()
        let result = await answer
        XCTAssertEqual(result, .failure(.cancelled))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10), "waited for the batch")
        XCTAssertEqual(batcher.waitingCount, 0)
        XCTAssertEqual(vendor.calls, [], "an empty batch was sent")
    }

    func testABatchSizeOfOneCallsStraightThroughWithoutWaiting() async {
        for (vendorSize, batcherSize) in [(1, nil), (100, 1)] as [(Int, Int?)] {
            let vendor = FakeVendor(maxBatchSize: vendorSize)
            let batcher = VendorBatcher(vendor: vendor, maxWait: .seconds(60), maxBatchSize: batcherSize)
            XCTAssertEqual(batcher.maxBatchSize, 1)
            let started = ContinuousClock.now
            let answer = await lookup(batcher, "solo")
            XCTAssertEqual(answer, .success(FakeVendor.match("solo")))
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(10), "waited for batch-mates")
            XCTAssertEqual(vendor.calls, [["solo"]])
        }
    }

    func testALoneQueryIsSentAfterTheWaitAsACallOfOne() async {
        let vendor = FakeVendor(maxBatchSize: 100)
        let batcher = VendorBatcher(vendor: vendor, maxWait: .milliseconds(50))
        let started = ContinuousClock.now
        let answer = await lookup(batcher, "lone")
        XCTAssertEqual(answer, .success(FakeVendor.match("lone")))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10))
        XCTAssertEqual(vendor.calls, [["lone"]])
        XCTAssertEqual(batcher.waitingCount, 0)
    }

    func testOneBadEntryFailsOnlyItsOwnLead() async {
        let vendor = FakeVendor(maxBatchSize: 4) { queries in
            queries.map { $0.linkedinHandle == "ghost" ? .failure(.notFound) : .success(FakeVendor.match($0.linkedinHandle)) }
        }
        let batcher = VendorBatcher(vendor: vendor, maxWait: .seconds(2))
        let handles = ["a", "ghost", "b", "c"]
        let answers = await lookupAll(batcher, handles)
        XCTAssertEqual(answers["ghost"], .failure(.notFound))
        for handle in ["a", "b", "c"] { XCTAssertEqual(answers[handle], .success(FakeVendor.match(handle))) }
        XCTAssertEqual(vendor.calls.count, 1)
    }

    func testAWholeCallErrorReachesEveryWaiterOfThatBatchOnly() async {
        let gate = Gate()
        let vendor = FakeVendor(maxBatchSize: 3) { queries throws(ProviderError) in
            if queries.contains(where: { $0.linkedinHandle == "boom" }) {
                await gate.wait()
                throw .rateLimited(retryAfter: 7)
            }
            return queries.map { .success(FakeVendor.match($0.linkedinHandle)) }
        }
        let batcher = VendorBatcher(vendor: vendor, maxWait: .seconds(60))
        let first = ["a1", "boom", "a2"].map { handle in Task { await lookup(batcher, handle) } }
        var calls = vendor.callStream.makeAsyncIterator()
        let firstCall = await calls.next()
        XCTAssertEqual(firstCall.map(Set.init), Set(["a1", "boom", "a2"]))

        // The second batch is sent and answered while the first is still in flight.
        let second = await lookupAll(batcher, ["b1", "b2", "b3"])
        for handle in ["b1", "b2", "b3"] { XCTAssertEqual(second[handle], .success(FakeVendor.match(handle))) }

        gate.open()
        for task in first {
            let answer = await task.value
            XCTAssertEqual(answer, .failure(.rateLimited(retryAfter: 7)))
        }
        XCTAssertEqual(vendor.calls.count, 2)
    }

    func testAReplyOfTheWrongLengthFailsTheWholeBatch() async {
        let vendor = FakeVendor(maxBatchSize: 2) { queries in
            queries.dropLast().map { .success(FakeVendor.match($0.linkedinHandle)) }
        }
        let batcher = VendorBatcher(vendor: vendor, maxWait: .seconds(2))
        let answers = await lookupAll(batcher, ["x", "y"])
        for handle in ["x", "y"] {
            guard case .failure(.transient) = answers[handle] else {
                return XCTFail("\(handle): \(String(describing: answers[handle])), expected transient")
            }
        }
        XCTAssertEqual(vendor.calls.count, 1)
    }

    func testACancelledWaiterGetsCancelledAtOnceAndItsSentBatchStillServesTheOthers() async {
        let gate = Gate()
        let vendor = FakeVendor(maxBatchSize: 3) { queries in
            await gate.wait()
            return queries.map { .success(FakeVendor.match($0.linkedinHandle)) }
        }
        let batcher = VendorBatcher(vendor: vendor, maxWait: .seconds(60))
        let tasks = ["a", "b", "c"].map { handle in (handle, Task { await lookup(batcher, handle) }) }
        var calls = vendor.callStream.makeAsyncIterator()
        _ = await calls.next()

        tasks[1].1.cancel()
        // Answered while the vendor call is still held: the cancelled waiter does not wait for it.
        let cancelled = await tasks[1].1.value
        XCTAssertEqual(cancelled, .failure(.cancelled))

        gate.open()
        for (handle, task) in [tasks[0], tasks[2]] {
            let answer = await task.value
            XCTAssertEqual(answer, .success(FakeVendor.match(handle)))
        }
        XCTAssertEqual(vendor.calls.map(Set.init), [["a", "b", "c"]])
    }

    func testACancelledWaiterLeavesABatchNotYetSent() async throws {
        let vendor = FakeVendor(maxBatchSize: 3)
        let batcher = VendorBatcher(vendor: vendor, maxWait: .seconds(60))
        let a = Task { await lookup(batcher, "a") }
        let b = Task { await lookup(batcher, "b") }
        try await waitFor("both queued") { batcher.waitingCount == 2 }

        b.cancel()
        let cancelled = await b.value
        XCTAssertEqual(cancelled, .failure(.cancelled))
        XCTAssertEqual(batcher.waitingCount, 1)

        let others = await lookupAll(batcher, ["c", "d"])
        let first = await a.value
        XCTAssertEqual(first, .success(FakeVendor.match("a")))
        for handle in ["c", "d"] { XCTAssertEqual(others[handle], .success(FakeVendor.match(handle))) }
        XCTAssertEqual(vendor.calls.map(Set.init), [["a", "c", "d"]])
    }

    func testAWaiterCancelledBeforeItAsksNeverReachesTheVendor() async {
        let gate = Gate()
        let vendor = FakeVendor(maxBatchSize: 3)
        let batcher = VendorBatcher(vendor: vendor, maxWait: .milliseconds(50))
        let task = Task {
            await gate.wait()
            return await lookup(batcher, "late")
        }
        task.cancel()
        gate.open()
        let answer = await task.value
        XCTAssertEqual(answer, .failure(.cancelled))
        XCTAssertEqual(batcher.waitingCount, 0)
        XCTAssertEqual(vendor.calls, [])
    }
}

/// Looks `handle` up; a lookup without an answer in 20 s (a continuation never resumed) fails
/// the test and is cancelled, instead of hanging the suite.
private func lookup(_ batcher: VendorBatcher, _ handle: String) async -> Result<VendorMatch, ProviderError> {
    await withTaskGroup(of: Result<VendorMatch, ProviderError>?.self) { group in
        group.addTask {
            do throws(ProviderError) {
                return .success(try await batcher.enrich(PersonQuery(linkedinHandle: handle)))
            } catch {
                return .failure(error)
            }
        }
        group.addTask {
            try? await Task.sleep(for: .seconds(20))
            return nil
        }
        while let next = await group.next() {
            if let answer = next {
                group.cancelAll()
                return answer
            }
            // The deadline passed, unless the caller was cancelled (which ends the sleep early).
            if !Task.isCancelled {
                XCTFail("\(handle): no answer within 20 s")
                group.cancelAll()
            }
        }
        return .failure(.cancelled)
    }
}

/// Looks `handles` up concurrently; the answers by handle.
private func lookupAll(_ batcher: VendorBatcher, _ handles: [String]) async -> [String: Result<VendorMatch, ProviderError>] {
    await withTaskGroup(of: (String, Result<VendorMatch, ProviderError>).self) { group in
        for handle in handles {
            group.addTask { (handle, await lookup(batcher, handle)) }
        }
        var answers: [String: Result<VendorMatch, ProviderError>] = [:]
        for await (handle, answer) in group { answers[handle] = answer }
        return answers
    }
}

/// Polls `condition` every few milliseconds for up to 10 s.
private func waitFor(_ what: String, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            XCTFail("timed out waiting for \(what)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// An in-memory vendor recording the handles of every call.
private final class FakeVendor: PersonVendor {
    typealias Respond = @Sendable ([PersonQuery]) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>]

    let name = "fake"
    let maxBatchSize: Int
    /// Each call's handles, as the call arrives.
    let callStream: AsyncStream<[String]>
    private let callContinuation: AsyncStream<[String]>.Continuation
    private let recorded = Mutex<[[String]]>([])
    private let respond: Respond

    init(maxBatchSize: Int, respond: @escaping Respond = { queries in queries.map { .success(FakeVendor.match($0.linkedinHandle)) } }) {
        self.maxBatchSize = maxBatchSize
        self.respond = respond
        (callStream, callContinuation) = AsyncStream.makeStream()
    }

    /// The handles of every call so far.
    var calls: [[String]] { recorded.withLock { $0 } }

    func enrich(_ queries: [PersonQuery]) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>] {
        let handles = queries.map(\.linkedinHandle)
        recorded.withLock { $0.append(handles) }
        callContinuation.yield(handles)
        return try await respond(queries)
    }

    func search(_ search: PersonSearch) async throws(ProviderError) -> [VendorMatch] { [] }

    /// The match the fake gives `handle`.
    static func match(_ handle: String) -> VendorMatch {
        let profile = LinkedInProfile(
            publicIdentifier: handle, fullName: "Person \(handle)", headline: "", jobTitle: "Engineer", company: "Acme",
            companyLinkedInID: nil, location: "", experiences: [], education: [], skills: [], certifications: [], languages: [],
            connections: 0, followers: 0)
        return VendorMatch(vendor: "fake", confidence: 1, enrichment: LinkedInEnrichment(profile: profile, company: Company(name: "Acme")))
    }
}

/// Holds callers until opened; open for good after.
private final class Gate: Sendable {
    private let state = Mutex<(isOpen: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiting.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.isOpen = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
