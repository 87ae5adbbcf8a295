import Foundation
import Kafka
import KafkaTestSupport
import XCTest

/// A failed delivery is logged without the record: neither librdkafka's own lines nor the error a
/// service logs hold the value's bytes or the key. Against the real broker, paused for one case.
final class DeliveryFailureLogTests: XCTestCase {
    static let key = "lead-key-7f3a9c"
    static let value = Array(#"{"name":"Jane Doe","email":"jane.doe@example.com","marker":"value-bytes-5d1e"}"#.utf8)
    /// librdkafka's debug contexts about messages and the connection: the most it says of a record.
    static let verbose = ["debug": "msg,topic,broker,protocol", "log_level": "7", "message.timeout.ms": "1500"]

    /// Everything written to standard error (file descriptor 2: librdkafka's log lines and the
    /// services' own) while `body` runs.
    private func capturingStandardError(_ body: () async throws -> Void) async throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString).log")
        XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: nil), "could not create \(file.path)")
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forWritingTo: file)
        let saved = dup(STDERR_FILENO)
        dup2(handle.fileDescriptor, STDERR_FILENO)
        do {
            try await body()
        } catch {
            dup2(saved, STDERR_FILENO)
            close(saved)
            throw error
        }
        dup2(saved, STDERR_FILENO)
        close(saved)
        try handle.close()
        return try String(contentsOf: file, encoding: .utf8)
    }

    private func assertHoldsNoRecord(_ log: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(log.isEmpty, "something was logged", file: file, line: line)
        for secret in ["Jane", "jane.doe@example.com", "value-bytes-5d1e", Self.key] {
            XCTAssertFalse(log.contains(secret), "\(secret) in the log:\n\(log)", file: file, line: line)
        }
        // Nor a base64 or hex copy of the value.
        XCTAssertFalse(log.contains(Data(Self.value).base64EncodedString().prefix(24)), log, file: file, line: line)
        XCTAssertFalse(log.contains(Self.value.prefix(12).map { String(format: "%02x", $0) }.joined()), log, file: file, line: line)
    }

    /// Sends `record`, which must fail with the error named `expected`, and logs the error as a
    /// service logs a failed send.
    private func sendExpectingFailure(_ producer: KafkaProducer, _ record: ProducerRecord, expected: String,
                                      file: StaticString = #filePath, line: UInt = #line) async throws {
        do {
            _ = try await producer.send(record)
            XCTFail("the send must fail with \(expected)", file: file, line: line)
        } catch let error as KafkaError {
            XCTAssertEqual(error.name, expected, "\(error)", file: file, line: line)
            FileHandle.standardError.write(Data("send failed: \(error)\n".utf8))
        }
    }

    /// The broker stops answering (SIGSTOP) after the producer connected: the record times out.
    func testTimedOutDeliveryOnAPausedBrokerLogsNoRecord() async throws {
        try await withTestTopic(partitions: 1) { topic in
            let log = try await capturingStandardError {
                let producer = try KafkaProducer(configuration: TestBroker.configuration(), properties: Self.verbose)
                _ = try await producer.send(ProducerRecord(topic: topic, key: "warm-up", value: [1]))
                let pause = Task { try await TestBroker.pause(seconds: 4) }
                try await Task.sleep(for: .milliseconds(200))
                // The broker is paused for longer than message.timeout.ms.
                try await self.sendExpectingFailure(producer, ProducerRecord(topic: topic, key: Self.key, value: Self.value),
                                                    expected: "_MSG_TIMED_OUT")
                try await pause.value
                await producer.close(flushTimeoutMilliseconds: 2000)
            }
            assertHoldsNoRecord(log)
            XCTAssertTrue(log.contains("_MSG_TIMED_OUT") || log.contains("timed out"), log)
        }
    }

    /// A record the producer refuses (above `message.max.bytes`) and one to an unreachable broker.
    func testRefusedAndUndeliverableRecordsLogNoRecord() async throws {
        try await withTestTopic(partitions: 1) { topic in
            let log = try await capturingStandardError {
                let producer = try KafkaProducer(configuration: TestBroker.configuration(),
                                                 properties: Self.verbose.merging(["message.max.bytes": "1000"]) { _, new in new })
                let large = Self.value + Array(repeating: UInt8(ascii: "x"), count: 2000)
                try await self.sendExpectingFailure(producer, ProducerRecord(topic: topic, key: Self.key, value: large),
                                                    expected: "MSG_SIZE_TOO_LARGE")
                await producer.close()

                let unreachable = try KafkaProducer(
                    configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: "unreachable"), properties: Self.verbose)
                try await self.sendExpectingFailure(unreachable, ProducerRecord(topic: topic, key: Self.key, value: Self.value),
                                                    expected: "_MSG_TIMED_OUT")
                await unreachable.close(flushTimeoutMilliseconds: 100)
            }
            assertHoldsNoRecord(log)
        }
    }
}
