import Foundation
import Kafka
import KafkaTestSupport
import Synchronization
import XCTest

/// librdkafka's statistics: parsing a document (no broker), and clients reporting them
/// (real broker).
final class StatisticsTests: XCTestCase {
    func testParsesAConsumerDocument() throws {
        let statistics = try XCTUnwrap(KafkaStatistics(json: Data(StatisticsSamples.consumer.utf8)))
        XCTAssertEqual(statistics.name, "scoring-stage#consumer-2")
        XCTAssertEqual(statistics.clientID, "scoring-stage")
        XCTAssertEqual(statistics.type, "consumer")
        XCTAssertEqual(statistics.replyQueueOps, 3)
        XCTAssertEqual(statistics.transmittedBytes, 90211)
        XCTAssertEqual(statistics.receivedBytes, 120933)
        // The internal and logical pseudo-brokers are left out.
        XCTAssertEqual(statistics.brokers.map(\.name), ["127.0.0.1:9092/bootstrap", "broker-1:9092/1"])
        XCTAssertEqual(statistics.brokers[1], KafkaStatistics.Broker(
            name: "broker-1:9092/1", state: "UP", rttAverageMicroseconds: 1500, rttP99Microseconds: 8000,
            outbufRequests: 2, waitingResponses: 4, transmitErrors: 7, receiveErrors: 6, requestTimeouts: 5, disconnects: 2))
        XCTAssertEqual(statistics.group, KafkaStatistics.ConsumerGroup(
            state: "up", joinState: "steady", rebalances: 3, rebalanceAgeMilliseconds: 42500))
        // Only the assigned partition whose lag is known.
        XCTAssertEqual(statistics.consumerLag, [TopicPartition(topic: "leads.scored", partition: 0): 5])
    }

    func testParsesAProducerDocument() throws {
        let statistics = try XCTUnwrap(KafkaStatistics(json: Data(StatisticsSamples.producer.utf8)))
        XCTAssertEqual(statistics.type, "producer")
        XCTAssertEqual(statistics.queuedMessages, 12)
        XCTAssertEqual(statistics.queuedBytes, 3456)
        XCTAssertNil(statistics.group)
        XCTAssertEqual(statistics.consumerLag, [:])
        XCTAssertEqual(statistics.brokers.map(\.rttAverageMicroseconds), [250])
    }

    func testRejectsWhatIsNotAStatisticsDocument() {
        XCTAssertNil(KafkaStatistics(json: Data("[1, 2]".utf8)))
        XCTAssertNil(KafkaStatistics(json: Data("{\"type\": \"producer\"}".utf8)))
        XCTAssertNil(KafkaStatistics(json: Data("not json".utf8)))
    }

    func testObserverIsNotPartOfEquality() {
        var observed = TestBroker.configuration(clientID: "statistics")
        observed.statisticsObserver = { _ in }
        XCTAssertEqual(observed, TestBroker.configuration(clientID: "statistics"))
    }

    func testProducerReportsStatisticsWithItsBroker() async throws {
        try await withTestTopic(prefix: "statistics") { topic in
            let reports = Mutex<[KafkaStatistics]>([])
            var configuration = TestBroker.configuration(clientID: "statistics-producer",
                                                         properties: ["statistics.interval.ms": "500"])
            configuration.statisticsObserver = { statistics in reports.withLock { $0.append(statistics) } }
            let producer = try KafkaProducer(configuration: configuration)
            _ = try await producer.send((0..<5).map { ProducerRecord(topic: topic, key: "k\($0)", value: [UInt8($0)]) })
            try await waitUntil("a report naming an up broker") {
                reports.withLock { $0.contains { $0.brokers.contains { $0.state == "UP" } } }
            }
            await producer.close()
            let report = try XCTUnwrap(reports.withLock { $0.last { $0.brokers.contains { $0.state == "UP" } } })
            XCTAssertEqual(report.type, "producer")
            XCTAssertEqual(report.clientID, "statistics-producer")
            XCTAssertTrue(report.name.hasPrefix("statistics-producer#producer-"), report.name)
            XCTAssertTrue(report.brokers.allSatisfy { $0.rttAverageMicroseconds >= 0 && $0.rttP99Microseconds >= 0 })
            XCTAssertNil(report.group)
        }
    }

    /// The producer compresses its batches by default (`compression.type=lz4`): JSON records like
    /// the pipeline's go on the wire, and come back to a reader, in well under half their bytes,
    /// and read back unchanged.
    func testProducerCompressesItsBatchesByDefault() async throws {
        try await withTestTopic(prefix: "statistics") { topic in
            let records = (0..<300).map { index in
                let value = #"{"leadId":"lead-\#(index)","fullName":"Person \#(index)","headline":"Head of Growth at Company \#(index % 17)","#
                    + #""experience":[{"title":"VP Marketing","company":"Company \#(index % 17)","startedOn":"2020-0\#(index % 9 + 1)"},"#
                    + #"{"title":"Director of Sales","company":"Company \#(index % 5)","startedOn":"2016-1\#(index % 3)"}],"#
                    + #""skills":["sales","marketing","demand generation","product-led growth","revenue operations"]}"#
                return ProducerRecord(topic: topic, key: "lead-\(index)", value: Array(value.utf8))
            }
            let payloadBytes = records.reduce(0) { $0 + $1.value!.count + $1.key!.count }
            let sent = Mutex<[KafkaStatistics]>([])
            var producing = TestBroker.configuration(clientID: "statistics-compression", properties: ["statistics.interval.ms": "100"])
            producing.statisticsObserver = { statistics in sent.withLock { $0.append(statistics) } }
            let producer = try KafkaProducer(configuration: producing)
            _ = try await producer.send(records)
            let reportsBeforeDelivery = sent.withLock { $0.count }
            try await waitUntil("a report after every record was delivered") { sent.withLock { $0.count > reportsBeforeDelivery } }
            await producer.close()
            let transmitted = try XCTUnwrap(sent.withLock { $0.last?.transmittedBytes })
            XCTAssertGreaterThan(transmitted, 0)
            XCTAssertLessThan(transmitted, Int64(payloadBytes / 2), "sent \(transmitted) bytes for \(payloadBytes) bytes of records")

            let partitions = try await KafkaAdmin(configuration: TestBroker.configuration()).partitions(of: topic)
            let ends = try await KafkaAdmin(configuration: TestBroker.configuration()).watermarks(partitions)
                .filter { $0.value.high > 0 }.mapValues(\.high)
            let fetched = Mutex<[KafkaStatistics]>([])
            let reader = try KafkaConsumer(configuration: TestBroker.configuration(), startingAt: ends.mapValues { _ in KafkaConsumer.beginning },
                                           properties: ["statistics.interval.ms": "100"],
                                           statisticsObserver: { statistics in fetched.withLock { $0.append(statistics) } })
            var read: [String: [UInt8]] = [:]
            try await reader.read(upTo: ends, timeout: .seconds(30)) { record in read[String(decoding: record.key ?? [], as: UTF8.self)] = record.value }
            let reportsAtEnd = fetched.withLock { $0.count }
            try await waitUntil("a report after the last record was read", pollMilliseconds: 0) {
                _ = try await reader.poll(timeoutMilliseconds: 50)
                return fetched.withLock { $0.count > reportsAtEnd }
            }
            await reader.close()
            XCTAssertEqual(read, Dictionary(uniqueKeysWithValues: records.map { (String(decoding: $0.key!, as: UTF8.self), $0.value!) }))
            let received = try XCTUnwrap(fetched.withLock { $0.last?.receivedBytes })
            XCTAssertLessThan(received, Int64(payloadBytes / 2), "fetched \(received) bytes for \(payloadBytes) bytes of records")
        }
    }

    /// No broker needed: the producer's only broker refuses connections.
    func testReportsCountTheClientsErrorEvents() async throws {
        let reports = Mutex<[KafkaStatistics]>([])
        var configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: "statistics-errors",
                                               properties: ["statistics.interval.ms": "500"])
        configuration.statisticsObserver = { statistics in reports.withLock { $0.append(statistics) } }
        let producer = try KafkaProducer(configuration: configuration)
        try await waitUntil("a report counting a transport error") {
            reports.withLock { $0.contains { ($0.errors["_TRANSPORT"] ?? 0) >= 1 } }
        }
        await producer.close(flushTimeoutMilliseconds: 100)
        // Totals: a later report never counts fewer.
        let counts = reports.withLock { $0.map { $0.errors["_TRANSPORT"] ?? 0 } }
        XCTAssertEqual(counts, counts.sorted())
    }

    func testGroupConsumerReportsItsGroup() async throws {
        try await withTestTopic(prefix: "statistics") { topic in
            let reports = Mutex<[KafkaStatistics]>([])
            var properties = TestBroker.fastGroupProperties
            properties["statistics.interval.ms"] = "500"
            var configuration = TestBroker.configuration(clientID: "statistics-consumer", properties: properties)
            configuration.statisticsObserver = { statistics in reports.withLock { $0.append(statistics) } }
            let consumer = try KafkaConsumer(configuration: configuration, groupID: uniqueTopicName("statistics-group"),
                                             topics: [topic])
            // Reports are served from the poll, so keep polling while waiting.
            try await waitUntil("a report of a joined group", pollMilliseconds: 0) {
                _ = try await consumer.poll(timeoutMilliseconds: 100)
                return reports.withLock { $0.contains { ($0.group?.rebalances ?? 0) >= 1 && $0.group?.joinState == "steady" } }
            }
            await consumer.close()
            XCTAssertTrue(reports.withLock { $0.allSatisfy { $0.type == "consumer" } })
        }
    }
}
