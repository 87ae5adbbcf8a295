import Foundation
import Kafka
import Runtime
import KafkaTestSupport
import Streaming
import Synchronization
import XCTest

/// How ``ShutdownDeadline/run(closingAfterGrace:_:)`` ends a service once cancelled. The
/// producer names a port nothing listens on, as a broker that does not answer: its records wait
/// (`message.timeout.ms` 0, as a pipeline process's producer) until the grace's close.
final class ShutdownDeadlineTests: XCTestCase {
    private func unansweredProducer() throws -> KafkaProducer {
        try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:\(TestBroker.freeLoopbackPort())",
                                                            clientID: "shutdown-deadline"),
                          properties: ["message.timeout.ms": "0"])
    }

    /// A companion of the service (the tables' follower, the progress tracker) that fails stops
    /// the service within the grace, as a cancellation does: its last send, waiting for a broker
    /// that does not answer, fails at the grace's close. Before, the failure cancelled the work,
    /// but the grace started only with the service's own cancellation, so the send waited for
    /// good (here, until the test's safety net closed the producer after 10 s).
    func testACompanionsFailureStopsTheServiceWithinTheGrace() async throws {
        struct CompanionFailed: Error {}
        let producer = try unansweredProducer()
        let deadline = ShutdownDeadline(grace: .milliseconds(400))
        let safetyNet = Task { try await Task.sleep(for: .seconds(10)); await producer.close(flushTimeoutMilliseconds: 0) }
        defer { safetyNet.cancel() }
        let sending = Mutex(false)
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try await deadline.run(closingAfterGrace: producer) {
                try await withCompanion(deadline.startingOnFailure(of: {
                    while !sending.withLock({ $0 }) { await Task.yield() }
                    throw CompanionFailed()
                }, closing: producer)) {
                    sending.withLock { $0 = true }
                    _ = try await producer.send(ProducerRecord(topic: "shutdown-deadline", key: nil, value: [1]))
                }
            }
            XCTFail("the companion's failure ends the service")
        } catch is CompanionFailed {}
        let took = clock.now - started
        XCTAssertLessThan(took, .seconds(5), "ended \(took) after the companion failed, grace \(deadline.grace)")
        XCTAssertNotNil(deadline.leavingEnd, "the shutdown started")
    }

    func testAServiceStuckInACallThatIgnoresCancellationIsLeftBehindAtTheLeavingEnd() async throws {
        let producer = try unansweredProducer()
        let deadline = ShutdownDeadline(grace: .milliseconds(400))
        // A call that ignores cancellation and outlives the bound many times over (an admin
        // request to a broker that does not answer): ends only when the test lets it.
        let stuck = StuckCall()
        let clock = ContinuousClock()
        let service = Task { try await deadline.run(closingAfterGrace: producer) { await stuck.enter() } }
        await stuck.entered()
        // Were the service waited for, the test would fail after this, not hang.
        let safetyNet = Task { try await Task.sleep(for: .seconds(10)); stuck.release() }
        defer { safetyNet.cancel() }
        let cancelled = clock.now
        service.cancel()
        let ending = try await service.value
        let took = clock.now - cancelled
        stuck.release()
        XCTAssertEqual(ending, .leftBehind)
        let bound = deadline.grace + StageRunnerSettings.leavingTime(after: deadline.grace)
        XCTAssertGreaterThanOrEqual(took, bound, "it had its grace and the leaving time first")
        XCTAssertLessThan(took, bound + .seconds(1), "ended \(took) after the cancellation, bound \(bound)")
    }

    func testAServiceWhoseSendTheBrokerDoesNotTakeIsGivenUpAtTheGrace() async throws {
        let producer = try unansweredProducer()
        // A grace with the longest leaving time after it (500 ms): the grace's close fails the
        // send within it. With 300 ms (75 ms to leave) a loaded machine's close took longer, and
        // the leaving end answered first (a clean-clone CI run beside a benchmark).
        let deadline = ShutdownDeadline(grace: .seconds(2))
        let sent = Mutex(false)
        let service = Task {
            try await deadline.run(closingAfterGrace: producer) {
                sent.withLock { $0 = true }
                _ = try await producer.send(ProducerRecord(topic: "shutdown-deadline", key: "lead-1", value: Array("{}".utf8)))
            }
        }
        try await waitUntil("the send is under way", timeoutSeconds: 10) { sent.withLock { $0 } }
        service.cancel()
        let ending = try await service.value
        XCTAssertEqual(ending, .givenUp)
    }

    func testAServiceThatEndsWithinItsGraceEndsByItself() async throws {
        let producer = try unansweredProducer()
        let deadline = ShutdownDeadline(grace: .seconds(5))
        let service = Task {
            try await deadline.run(closingAfterGrace: producer) {
                while !Task.isCancelled { await Task.yield() }
            }
        }
        service.cancel()
        let ending = try await service.value
        await producer.close(flushTimeoutMilliseconds: 0)
        XCTAssertEqual(ending, .byItself)
    }

    func testAServicesFailureIsThrown() async throws {
        struct Failure: Error {}
        let producer = try unansweredProducer()
        let deadline = ShutdownDeadline(grace: .seconds(5))
        do {
            _ = try await deadline.run(closingAfterGrace: producer) { throw Failure() }
            XCTFail("the failure was not thrown")
        } catch is Failure {}
        await producer.close(flushTimeoutMilliseconds: 0)
    }
}

/// A call blocked on a semaphore, as a C call is: cancellation does not reach it.
private final class StuckCall: Sendable {
    private let inside = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)

    func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue(label: "stuck").async { [self] in
                inside.signal()
                gate.wait()
                continuation.resume()
            }
        }
    }

    func entered() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue(label: "waiting").async { [self] in
                inside.wait()
                continuation.resume()
            }
        }
    }

    func release() { gate.signal() }
}
