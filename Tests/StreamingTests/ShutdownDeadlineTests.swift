import Foundation
import Kafka
import KafkaTestSupport
import Streaming
import Synchronization
import XCTest

/// The bound ``ShutdownDeadline/run(closingAfterGrace:_:)`` keeps once cancelled. The producer
/// names a port nothing listens on: no record is sent, only its close is used.
final class ShutdownDeadlineTests: XCTestCase {
    func testAServiceStuckInACallThatIgnoresCancellationEndsAtTheLeavingEnd() async throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(
            bootstrapServers: "127.0.0.1:\(TestBroker.freeLoopbackPort())", clientID: "shutdown-deadline"))
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
        let endedByItself = try await service.value
        let took = clock.now - cancelled
        stuck.release()
        XCTAssertFalse(endedByItself, "the service was left behind, not ended by itself")
        let bound = deadline.grace + StageRunnerSettings.leavingTime(after: deadline.grace)
        XCTAssertGreaterThanOrEqual(took, deadline.grace, "it had its grace first")
        XCTAssertLessThan(took, bound + .seconds(1), "ended \(took) after the cancellation, bound \(bound)")
    }

    func testAServiceThatEndsWithinItsGraceEndsByItself() async throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(
            bootstrapServers: "127.0.0.1:\(TestBroker.freeLoopbackPort())", clientID: "shutdown-deadline"))
        let deadline = ShutdownDeadline(grace: .seconds(5))
        let service = Task {
            try await deadline.run(closingAfterGrace: producer) {
                while !Task.isCancelled { await Task.yield() }
            }
        }
        service.cancel()
        let endedByItself = try await service.value
        XCTAssertTrue(endedByItself)
    }

    func testAServicesFailureIsThrown() async throws {
        struct Failure: Error {}
        let producer = try KafkaProducer(configuration: KafkaConfiguration(
            bootstrapServers: "127.0.0.1:\(TestBroker.freeLoopbackPort())", clientID: "shutdown-deadline"))
        let deadline = ShutdownDeadline(grace: .seconds(5))
        do {
            _ = try await deadline.run(closingAfterGrace: producer) { throw Failure() }
            XCTFail("the failure was not thrown")
        } catch is Failure {}
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
