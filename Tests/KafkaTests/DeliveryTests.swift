import Foundation
import Kafka
import XCTest

/// Waiting for a ``Delivery``: any number of waiters, async or blocking. No broker: the records
/// go to an unreachable one and fail when their message timeout passes.
final class DeliveryTests: XCTestCase {
    /// A producer whose records fail after `timeoutMilliseconds`.
    func makeUnreachableProducer(timeoutMilliseconds: Int) throws -> KafkaProducer {
        let configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: "unreachable")
        return try KafkaProducer(configuration: configuration, properties: ["message.timeout.ms": String(timeoutMilliseconds)])
    }

    func testEveryWaiterIsResumedIncludingOneAfterCompletion() async throws {
        let producer = try makeUnreachableProducer(timeoutMilliseconds: 1500)
        let delivery = await producer.enqueue([ProducerRecord(topic: "nowhere", key: "k", value: [1])])
        let first = expectation(description: "first waiter resumed")
        let second = expectation(description: "second waiter resumed")
        Task {
            _ = await delivery.results()
            first.fulfill()
        }
        Task {
            _ = await delivery.results()
            second.fulfill()
        }
        await fulfillment(of: [first, second], timeout: 10)
        // Completed already: a late waiter gets the same outcome at once.
        let late = await delivery.results()
        XCTAssertEqual(late.count, 1)
        guard case .failure(let error) = late[0] else { return XCTFail("a record to an unreachable broker must fail") }
        XCTAssertEqual(error.name, "_MSG_TIMED_OUT", "\(error)")
        await producer.close(flushTimeoutMilliseconds: 100)
    }

    /// The blocking wait, on a thread of its own as a rebalance callback would be, beside a task
    /// awaiting the same delivery.
    func testBlockingWaitTimesOutThenReturnsOnCompletion() async throws {
        let producer = try makeUnreachableProducer(timeoutMilliseconds: 1500)
        let delivery = await producer.enqueue([ProducerRecord(topic: "nowhere", key: "k", value: [1])])
        let awaited = expectation(description: "the awaiting task resumed")
        Task {
            _ = await delivery.results()
            awaited.fulfill()
        }
        let (early, later) = await onThreadOfItsOwn {
            (delivery.wait(timeout: .milliseconds(100)), delivery.wait(timeout: .seconds(10)))
        }
        XCTAssertFalse(early, "the record cannot complete before its 1.5 s timeout")
        XCTAssertTrue(later, "the record failed after 1.5 s: the wait must end then")
        await fulfillment(of: [awaited], timeout: 10)
        let afterCompletion = await onThreadOfItsOwn { delivery.wait(timeout: .zero) }
        XCTAssertTrue(afterCompletion)
        await producer.close(flushTimeoutMilliseconds: 100)
    }

    /// The delivery-report thread carries its name in the kernel (top, perf).
    func testTheDeliveryThreadIsNamed() async throws {
        // Threads are told apart by id: an earlier test's producer may still be ending its own
        // delivery thread while this one starts (CI once counted one thread before and after).
        let before = Set(threadNames().keys)
        let producer = try makeUnreachableProducer(timeoutMilliseconds: 100)
        // A report handled means the thread has run, and it names itself before its first poll.
        let results = await producer.sendReportingEach([ProducerRecord(topic: "nowhere", key: "k", value: [1])])
        XCTAssertEqual(results.count, 1)
        let started = threadNames().filter { !before.contains($0.key) }
        XCTAssertEqual(started.values.filter { $0 == "kafka-delivery" }.count, 1, "threads started: \(started.values.sorted())")
        await producer.close(flushTimeoutMilliseconds: 100)
    }

    func testEmptyDeliveryIsCompleteAtOnce() async throws {
        let producer = try makeUnreachableProducer(timeoutMilliseconds: 1500)
        let delivery = await producer.enqueue([])
        XCTAssertTrue(delivery.wait(timeout: .zero))
        let results = await delivery.results()
        XCTAssertTrue(results.isEmpty)
        await producer.close(flushTimeoutMilliseconds: 100)
    }

    /// Runs a blocking `body` on a new thread, off the cooperative pool.
    func onThreadOfItsOwn<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }
}

/// This process's threads now, kernel thread id to name as the kernel has it
/// (`/proc/self/task/*/comm`).
private func threadNames() -> [String: String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    var names: [String: String] = [:]
    for task in tasks {
        guard let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8) else { continue }
        names[task] = name.trimmingCharacters(in: .newlines)
    }
    return names
}
