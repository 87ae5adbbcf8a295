import Foundation
import Kafka
import KafkaTestSupport
import Runtime
import Streaming
import Synchronization
import XCTest

/// `StageRunnerSettings.ordering`: the default and the one-record-per-partition mode.
final class StageRunnerOrderingTests: XCTestCase {
    func testKeyOrderingIsTheDefault() {
        XCTAssertEqual(StageRunnerSettings().ordering, .key)
    }

    /// Distinct keys would all run at once by key; by partition only one per partition may.
    func testPartitionOrderingRunsOneRecordPerPartitionInOffsetOrder() async throws {
        final class Probe: Sendable {
            struct State {
                var inFlight: [Int32: Int] = [:]
                var maxPerPartition = 0
                var maxOverall = 0
                var offsets: [Int32: [Int64]] = [:]
            }
            let state = Mutex(State())
        }
        try await withTestTopic(partitions: 2, prefix: "ordering-in") { input in
            try await withTestTopic(partitions: 2, prefix: "ordering-out") { output in
                let probe = Probe()
                let producer = try KafkaProducer(configuration: TestBroker.configuration(clientID: "stage"))
                let runner = try StageRunner(
                    configuration: TestBroker.configuration(clientID: "stage"), groupID: uniqueTopicName("group"),
                    topics: [input], consumerProperties: TestBroker.fastGroupProperties, producer: producer,
                    settings: StageRunnerSettings(maxInFlight: 40, pollBatch: 100, ordering: .partition),
                    logger: Logger(service: "test-stage", level: .warning), deadLetter: testDeadLetter(topic: output)
                ) { record in
                    probe.state.withLock { s in
                        s.inFlight[record.partition, default: 0] += 1
                        s.maxPerPartition = max(s.maxPerPartition, s.inFlight[record.partition]!)
                        s.maxOverall = max(s.maxOverall, s.inFlight.values.reduce(0, +))
                        s.offsets[record.partition, default: []].append(record.offset)
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                    probe.state.withLock { $0.inFlight[record.partition, default: 0] -= 1 }
                    return [ProducerRecord(topic: output, key: record.key, value: record.value)]
                }
                let task = Task { try await runner.run() }
                // 40 records with 40 distinct keys over both partitions.
                _ = try await producer.send((0..<40).map { i in
                    ProducerRecord(topic: input, key: "lead-\(i)", value: Array("\(i)".utf8))
                })
                let outputs = try await consumeInNewGroup([output], count: 40, timeoutSeconds: 60)
                task.cancel()
                try await task.value
                await producer.close()

                XCTAssertEqual(outputs.count, 40)
                let state = probe.state.withLock { $0 }
                XCTAssertEqual(state.maxPerPartition, 1, "two records of one partition ran at once")
                XCTAssertLessThanOrEqual(state.maxOverall, 2)
                for (partition, offsets) in state.offsets {
                    XCTAssertEqual(offsets, offsets.sorted(), "partition \(partition) ran out of order")
                }
            }
        }
    }
}
