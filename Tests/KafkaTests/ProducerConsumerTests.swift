import Foundation
@testable import Kafka
import KafkaTestSupport
import Runtime
import Synchronization
import XCTest

/// Producer and consumer against the real broker on loopback.
final class ProducerConsumerTests: XCTestCase {
    func testRoundTripKeepsKeysValuesAndHeaders() async throws {
        try await withTestTopic(partitions: 3) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            let sent = (0..<20).map { i in
                ProducerRecord(topic: topic, key: "lead-\(i)", value: Array("payload \(i)".utf8),
                               headers: [KafkaHeader(key: "schema", string: "lead.discovered"),
                                         KafkaHeader(key: "version", value: [1, UInt8(i)])])
            }
            let reports = try await producer.send(sent)
            XCTAssertEqual(reports.count, 20)
            XCTAssertTrue(reports.allSatisfy { $0.topic == topic && $0.offset >= 0 })
            await producer.close()

            let consumer = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("group"),
                                             topics: [topic], properties: TestBroker.fastGroupProperties)
            let received = try await consume(consumer, count: 20)
            await consumer.close()

            XCTAssertEqual(received.count, 20)
            for record in received {
                let i = Int(record.keyString!.dropFirst("lead-".count))!
                XCTAssertEqual(record.value, Array("payload \(i)".utf8))
                XCTAssertEqual(record.header("schema"), Array("lead.discovered".utf8))
                XCTAssertEqual(record.header("version"), [1, UInt8(i)])
                let report = reports[i]
                XCTAssertEqual(record.partition, report.partition)
                XCTAssertEqual(record.offset, report.offset)
                XCTAssertNotNil(record.timestampMilliseconds)
            }
        }
    }

    /// A poll reuses the header lists of earlier records that have the same headers; a record
    /// whose headers differ in a name, a value, a byte, their order or their number gets its own.
    func testEachRecordGetsItsOwnHeadersWhenAPollReusesEqualOnes() async throws {
        let shapes: [[KafkaHeader]] = [
            [KafkaHeader(key: "schema", string: "phase.result"), KafkaHeader(key: "schema-version", string: "2")],
            [KafkaHeader(key: "schema", string: "phase.result"), KafkaHeader(key: "schema-version", string: "20")],
            [KafkaHeader(key: "schema", string: "phase.resulT"), KafkaHeader(key: "schema-version", string: "2")],
            [KafkaHeader(key: "schema2", string: "phase.result"), KafkaHeader(key: "schema-version", string: "2")],
            [KafkaHeader(key: "schema-version", string: "2"), KafkaHeader(key: "schema", string: "phase.result")],
            [KafkaHeader(key: "schema", string: "phase.result")],
            [KafkaHeader(key: "schema", string: "phase.result"), KafkaHeader(key: "schema-version", string: "2"),
             KafkaHeader(key: "run-id", string: "run-1")],
            [KafkaHeader(key: "schema", value: [])],
            [KafkaHeader(key: "schema", value: [0, 255, 1])],
            [],
        ] + (0..<12).map { [KafkaHeader(key: "run-id", string: "run-\($0)")] }  // more lists than a poll keeps
        try await withTestTopic(partitions: 1) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            // Every shape three times, interleaved, so equal lists come in one poll apart.
            let sent = (0..<(shapes.count * 3)).map { i in
                ProducerRecord(topic: topic, key: "lead-\(i)", value: [UInt8(i % 256)], headers: shapes[i % shapes.count])
            }
            _ = try await producer.send(sent)
            await producer.close()
            let consumer = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("group"),
                                             topics: [topic], properties: TestBroker.fastGroupProperties)
            let received = try await consume(consumer, count: sent.count)
            await consumer.close()
            XCTAssertEqual(received.count, sent.count)
            for record in received {
                let i = Int(record.keyString!.dropFirst("lead-".count))!
                XCTAssertEqual(record.headers, shapes[i % shapes.count], "record \(i)")
            }
        }
    }

    /// Batches enqueued one after another while earlier ones are still unacknowledged land in
    /// the order enqueued, and each batch's reports come whenever it is awaited.
    func testEnqueuedBatchesKeepTheirOrderAndReportLater() async throws {
        try await withTestTopic(partitions: 2) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            var deliveries: [(records: [ProducerRecord], delivery: Delivery)] = []
            for batch in 0..<5 {
                let records = (0..<40).map { i in
                    ProducerRecord(topic: topic, key: "lead-\(i % 4)", value: Array("\(batch)-\(i)".utf8))
                }
                deliveries.append((records, await producer.enqueue(records)))
            }
            let empty = try await producer.enqueue([]).reports()
            XCTAssertTrue(empty.isEmpty)
            // Nobody waits for this one: the batch stays alive until its last report all the same.
            _ = await producer.enqueue([ProducerRecord(topic: topic, key: "other", value: [1])])
            // Awaited last batch first; every batch's offsets in a partition follow the batch before.
            var reports: [[DeliveryReport]] = Array(repeating: [], count: deliveries.count)
            for index in deliveries.indices.reversed() {
                reports[index] = try await deliveries[index].delivery.reports()
                XCTAssertEqual(reports[index].count, deliveries[index].records.count)
            }
            await producer.close()
            for (earlier, later) in zip(reports, reports.dropFirst()) {
                for partition in Set(later.map(\.partition)) {
                    let before = earlier.filter { $0.partition == partition }.map(\.offset).max() ?? -1
                    XCTAssertGreaterThan(later.filter { $0.partition == partition }.map(\.offset).min()!, before)
                }
            }
            let consumer = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("group"),
                                             topics: [topic], properties: TestBroker.fastGroupProperties)
            let received = try await consume(consumer, count: 201)
            await consumer.close()
            for key in 0..<4 {
                let values = received.filter { $0.keyString == "lead-\(key)" }.map { String(decoding: $0.value ?? [], as: UTF8.self) }
                let expected = (0..<5).flatMap { batch in (0..<40).filter { $0 % 4 == key }.map { "\(batch)-\($0)" } }
                XCTAssertEqual(values, expected, "lead-\(key) in the order enqueued")
            }
        }
    }

    func testSameKeyAlwaysLandsOnSamePartition() async throws {
        try await withTestTopic(partitions: 6) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            var records: [ProducerRecord] = []
            for round in 0..<5 {
                for lead in 0..<30 {
                    records.append(ProducerRecord(topic: topic, key: "lead-\(lead)", value: Array("\(round)".utf8)))
                }
            }
            let reports = try await producer.send(records)
            await producer.close()
            var partitionOfKey: [String: Set<Int32>] = [:]
            for (record, report) in zip(records, reports) {
                partitionOfKey[String(decoding: record.key!, as: UTF8.self), default: []].insert(report.partition)
            }
            XCTAssertEqual(partitionOfKey.count, 30)
            XCTAssertTrue(partitionOfKey.values.allSatisfy { $0.count == 1 }, "\(partitionOfKey)")
            XCTAssertGreaterThan(Set(partitionOfKey.values.map { $0.first! }).count, 1, "keys should spread over partitions")
            // Within one key, offsets grow in send order.
            for lead in 0..<30 {
                let offsets = zip(records, reports).filter { $0.0.key == Array("lead-\(lead)".utf8) }.map { $0.1.offset }
                XCTAssertEqual(offsets, offsets.sorted())
            }
        }
    }

    /// Storing offsets for an assigned partition and one that is not names the one refused.
    func testStoringAnOffsetOfAPartitionNotAssignedNamesIt() async throws {
        try await withTestTopic(partitions: 1) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send([ProducerRecord(topic: topic, key: "k", value: [1])])
            await producer.close()
            let consumer = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("group"),
                                             topics: [topic], properties: TestBroker.fastGroupProperties)
            let record = try await consume(consumer, count: 1)[0]
            let stranger = TopicPartition(topic: uniqueTopicName("other"), partition: 3)
            XCTAssertThrowsError(try consumer.storeOffsets([record.topicPartition: record.offset + 1, stranger: 1])) { error in
                XCTAssertTrue("\(error)".contains("\(stranger)"), "\(error)")
            }
            XCTAssertNoThrow(try consumer.storeOffsets([record.topicPartition: record.offset + 1]))
            await consumer.close()
        }
    }

    func testNewMemberResumesExactlyAfterLastCommittedRecord() async throws {
        try await withTestTopic(partitions: 1) { topic in
            let group = uniqueTopicName("group")
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send((0..<100).map { ProducerRecord(topic: topic, key: "k", value: Array("\($0)".utf8)) })

            let first = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: group, topics: [topic],
                                          properties: TestBroker.fastGroupProperties)
            let firstBatch = try await consume(first, count: 100)
            // Mark only the first 40 done; the rest were read but not finished.
            for record in firstBatch where record.offset < 40 {
                try first.markDone(record)
            }
            await first.close()

            let admin = try KafkaAdmin(configuration: TestBroker.configuration())
            let committed = try await admin.committedOffsets(group: group, partitions: [TopicPartition(topic: topic, partition: 0)])
            XCTAssertEqual(committed[TopicPartition(topic: topic, partition: 0)], 40)

            _ = try await producer.send((100..<110).map { ProducerRecord(topic: topic, key: "k", value: Array("\($0)".utf8)) })
            await producer.close()
            let second = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: group, topics: [topic],
                                           properties: TestBroker.fastGroupProperties)
            let resumed = try await consume(second, count: 70)
            await second.close()
            XCTAssertEqual(resumed.map(\.offset), Array(40..<110), "no loss, no replay of committed records")
        }
    }

    func testTwoMembersSplitPartitionsAndSurvivorTakesAll() async throws {
        try await withTestTopic(partitions: 6) { topic in
            let group = uniqueTopicName("group")
            let events = Mutex<[String]>([])
            func member(_ name: String) throws -> KafkaConsumer {
                try KafkaConsumer(configuration: TestBroker.configuration(clientID: name), groupID: group, topics: [topic],
                                  properties: TestBroker.fastGroupProperties) { event in
                    events.withLock { $0.append("\(name): \(event)") }
                }
            }
            let a = try member("a")
            let b = try member("b")
            let all = Set((0..<6).map { TopicPartition(topic: topic, partition: Int32($0)) })
            // Both members must keep polling for the group to settle.
            try await waitUntil("a 3/3 split", timeoutSeconds: 60) {
                async let pa = a.poll(timeoutMilliseconds: 50)
                async let pb = b.poll(timeoutMilliseconds: 50)
                _ = try await (pa, pb)
                return a.assignment.count == 3 && b.assignment.count == 3
            }
            XCTAssertEqual(a.assignment.union(b.assignment), all)
            XCTAssertTrue(a.assignment.isDisjoint(with: b.assignment))

            // Records for every partition reach whichever member owns it.
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send((0..<60).map { ProducerRecord(topic: topic, key: "lead-\($0)", value: [1]) })

            await b.close()
            var records: [ConsumerRecord] = []
            try await waitUntil("survivor owns all 6", timeoutSeconds: 60) {
                records += try await a.poll(timeoutMilliseconds: 50)
                return a.assignment == all
            }
            let log = events.withLock { $0 }
            XCTAssertTrue(log.contains { $0.hasPrefix("b: revoked") }, "\(log)")
            XCTAssertTrue(log.contains { $0.hasPrefix("a: assigned") }, "\(log)")

            // The survivor reads all 60 records (it owns every partition and nothing was committed).
            _ = try await producer.send((60..<66).map { ProducerRecord(topic: topic, key: "lead-\($0)", value: [2]) })
            await producer.close()
            try await waitUntil("all 66 records at the survivor") {
                records += try await a.poll(timeoutMilliseconds: 50)
                return Set(records.map { "\($0.partition):\($0.offset)" }).count == 66
            }
            XCTAssertEqual(Set(records.compactMap(\.keyString)).count, 66)
            await a.close()
        }
    }

    /// A member closed while it is still joining (a process stopped right after it started)
    /// must not hold the group up: the next member is assigned. Measured on the test broker: a
    /// leave sent during the join left the group waiting for the member for good (no assignment
    /// in 70 s), while a member that vanished without leaving expired after the session timeout.
    func testAMemberClosedWhileJoiningDoesNotHoldUpTheNext() async throws {
        try await withTestTopic(partitions: 2) { topic in
            let group = uniqueTopicName("group")
            let joining = try KafkaConsumer(configuration: TestBroker.configuration(clientID: "joining"), groupID: group,
                                            topics: [topic], properties: TestBroker.fastGroupProperties)
            _ = try await joining.poll(timeoutMilliseconds: 200)  // its join is under way
            XCTAssertEqual(joining.assignment, [], "closed before it was assigned")
            await joining.close()

            let next = try KafkaConsumer(configuration: TestBroker.configuration(clientID: "next"), groupID: group,
                                         topics: [topic], properties: TestBroker.fastGroupProperties)
            try await waitUntil("the next member assigned", timeoutSeconds: 30) {
                _ = try await next.poll(timeoutMilliseconds: 50)
                return next.assignment.count == 2
            }
            await next.close()
        }
    }

    /// A member that defers revocations keeps its partitions, and the rebalance waits, until it
    /// completes the revocation: what it writes for them in between comes before anyone else
    /// reads them. Without the deferral the partitions are gone when `.revoking` is seen.
    func testADeferredRevocationHoldsTheRebalanceUntilCompleted() async throws {
        try await withTestTopic(partitions: 4) { topic in
            let group = uniqueTopicName("group")
            let events = Mutex<[RebalanceEvent]>([])
            let all = Set((0..<4).map { TopicPartition(topic: topic, partition: Int32($0)) })
            let a = try KafkaConsumer(configuration: TestBroker.configuration(clientID: "a"), groupID: group, topics: [topic],
                                      properties: TestBroker.fastGroupProperties, defersRevocation: true) { event in
                events.withLock { $0.append(event) }
            }
            try await waitUntil("a owns all 4", timeoutSeconds: 60) {
                _ = try await a.poll(timeoutMilliseconds: 50)
                return a.assignment == all
            }
            let b = try KafkaConsumer(configuration: TestBroker.configuration(clientID: "b"), groupID: group, topics: [topic],
                                      properties: TestBroker.fastGroupProperties)
            try await waitUntil("a told its partitions are being revoked", timeoutSeconds: 60) {
                async let pa = a.poll(timeoutMilliseconds: 50)
                async let pb = b.poll(timeoutMilliseconds: 50)
                _ = try await (pa, pb)
                return events.withLock { $0.contains(.revoking(all.sorted())) }
            }
            XCTAssertEqual(a.assignment, all, "a keeps its partitions until it completes the revocation")
            // Longer than the test broker takes for a rebalance (about half the session timeout).
            for _ in 0..<30 { _ = try await b.poll(timeoutMilliseconds: 100) }
            XCTAssertEqual(b.assignment, [], "the rebalance waits for a")
            XCTAssertFalse(events.withLock { $0.contains(.revoked(all.sorted())) })

            await a.completeRevocation()
            XCTAssertEqual(events.withLock { $0.last }, .revoked(all.sorted()), "reported before completeRevocation returns")
            XCTAssertEqual(a.assignment, [])
            try await waitUntil("a 2/2 split", timeoutSeconds: 60) {
                async let pa = a.poll(timeoutMilliseconds: 50)
                async let pb = b.poll(timeoutMilliseconds: 50)
                _ = try await (pa, pb)
                // A second revocation (none is expected) would hold the group: complete it too.
                await a.completeRevocation()
                return a.assignment.count == 2 && b.assignment.count == 2
            }
            await a.close()
            await b.close()
        }
    }

    /// librdkafka keeps a partition's paused flag through a rebalance; a partition assigned
    /// again must start fetching, as ``RebalanceEvent/assigned(_:)`` promises.
    func testPartitionPausedBeforeARebalanceIsFetchedOnceAssignedAgain() async throws {
        try await withTestTopic(partitions: 4) { topic in
            let group = uniqueTopicName("group")
            func member(_ name: String) throws -> KafkaConsumer {
                try KafkaConsumer(configuration: TestBroker.configuration(clientID: name), groupID: group, topics: [topic],
                                  properties: TestBroker.fastGroupProperties)
            }
            let all = Set((0..<4).map { TopicPartition(topic: topic, partition: Int32($0)) })
            let a = try member("a")
            try await waitUntil("a owns all 4", timeoutSeconds: 60) {
                _ = try await a.poll(timeoutMilliseconds: 50)
                return a.assignment == all
            }
            try a.pause(all.sorted())
            // A second member joins and leaves: every partition is revoked from a and assigned again.
            let b = try member("b")
            try await waitUntil("a 2/2 split", timeoutSeconds: 60) {
                async let pa = a.poll(timeoutMilliseconds: 50)
                async let pb = b.poll(timeoutMilliseconds: 50)
                _ = try await (pa, pb)
                return a.assignment.count == 2 && b.assignment.count == 2
            }
            await b.close()
            try await waitUntil("a owns all 4 again", timeoutSeconds: 60) {
                _ = try await a.poll(timeoutMilliseconds: 50)
                return a.assignment == all
            }
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send((0..<4).map { ProducerRecord(topic: topic, partition: Int32($0), key: nil, value: [1]) })
            await producer.close()
            let records = try await consume(a, count: 4, timeoutSeconds: 20)
            XCTAssertEqual(Set(records.map(\.partition)), [0, 1, 2, 3])
            await a.close()
        }
    }

    func testPausedPartitionDeliversNothingUntilResumed() async throws {
        try await withTestTopic(partitions: 2) { topic in
            let consumer = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("group"),
                                             topics: [topic], properties: TestBroker.fastGroupProperties)
            try await waitUntil("assignment") {
                _ = try await consumer.poll(timeoutMilliseconds: 50)
                return consumer.assignment.count == 2
            }
            let p0 = TopicPartition(topic: topic, partition: 0)
            let p1 = TopicPartition(topic: topic, partition: 1)
            try consumer.pause([p0])

            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send((0..<10).map { ProducerRecord(topic: topic, partition: 0, key: nil, value: [UInt8($0)]) })
            _ = try await producer.send((0..<10).map { ProducerRecord(topic: topic, partition: 1, key: nil, value: [UInt8($0)]) })
            await producer.close()

            // Partition 1 flows; partition 0 stays silent for a while after partition 1 has drained.
            let fromP1 = try await consume(consumer, count: 10)
            XCTAssertTrue(fromP1.allSatisfy { $0.partition == 1 })
            var late: [ConsumerRecord] = []
            for _ in 0..<10 { late += try await consumer.poll(timeoutMilliseconds: 100) }
            XCTAssertTrue(late.isEmpty, "paused partition delivered \(late.count) records")

            try consumer.resume([p0])
            let fromP0 = try await consume(consumer, count: 10)
            XCTAssertEqual(fromP0.map(\.partition), Array(repeating: 0, count: 10))
            XCTAssertEqual(fromP0.map(\.offset), Array(0..<10))
            _ = p1
            await consumer.close()
        }
    }

    /// A member of a new group on a standard topic of `standardPartitions` and a priority topic of
    /// one partition, with its assignment; closed after `body`.
    private func withPriorityConsumer(
        standardPartitions: Int, _ body: (_ standard: String, _ priority: String, KafkaConsumer) async throws -> Void
    ) async throws {
        try await withTestTopic(partitions: standardPartitions, prefix: "standard") { standard in
            try await withTestTopic(partitions: 1, prefix: "priority") { priority in
                let consumer = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("group"),
                                                 topics: [standard, priority], priorityTopics: [priority],
                                                 properties: TestBroker.fastGroupProperties)
                try await waitUntil("assignment") {
                    _ = try await consumer.poll(maxRecords: 1, timeoutMilliseconds: 50)
                    return consumer.assignment.count == standardPartitions + 1
                }
                do {
                    try await body(standard, priority, consumer)
                } catch {
                    await consumer.close()
                    throw error
                }
                await consumer.close()
            }
        }
    }

    func testPriorityTopicRecordOvertakesRecordsAlreadyReadAhead() async throws {
        try await withPriorityConsumer(standardPartitions: 2) { standard, priority, consumer in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            let reports = try await producer.send((0..<3000).map {
                ProducerRecord(topic: standard, key: "s-\($0)", value: Array(repeating: 1, count: 100))
            })
            // The standard records are fetched (read ahead into the client) before the
            // priority record is even produced.
            for partition: Int32 in [0, 1] {
                let expected = Int64(reports.filter { $0.partition == partition }.count)
                try await waitUntil("standard partition \(partition) fetched") {
                    consumer.fetchedWatermarks(TopicPartition(topic: standard, partition: partition))?.high == expected
                }
            }
            _ = try await producer.send([ProducerRecord(topic: priority, key: "p", value: [2])])
            await producer.close()
            try await waitUntil("priority partition fetched") {
                consumer.fetchedWatermarks(TopicPartition(topic: priority, partition: 0))?.high == 1
            }

            var received: [ConsumerRecord] = []
            try await waitUntil("the priority record", pollMilliseconds: 0) {
                received += try await consumer.poll(maxRecords: 10, timeoutMilliseconds: 100)
                return received.contains { $0.topic == priority }
            }
            let position = received.firstIndex { $0.topic == priority }!
            XCTAssertLessThan(position, 20, "the priority record came after \(position) of 3000 standard records")
            // The standard records still all arrive, in order per partition.
            received += try await consume(consumer, count: 3001 - received.count)
            for partition: Int32 in [0, 1] {
                let offsets = received.filter { $0.topic == standard && $0.partition == partition }.map(\.offset)
                XCTAssertEqual(offsets, Array(0..<Int64(offsets.count)))
            }
            XCTAssertEqual(received.count, 3001)
        }
    }

    /// A poll waiting on both queues (priority topics) wakes when either gets a record: the
    /// record comes back as soon as it is fetched, not at the end of the poll's timeout.
    func testAWaitingPollReturnsARecordOfEitherTopicOnceItIsFetched() async throws {
        try await withPriorityConsumer(standardPartitions: 1) { standard, priority, consumer in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            for topic in [priority, standard, priority] {
                let poll = Task { try await consumer.poll(maxRecords: 10, timeoutMilliseconds: 20_000) }
                _ = try await producer.send([ProducerRecord(topic: topic, key: "k", value: [1])])
                let sentAt = ContinuousClock.now
                let records = try await poll.value
                XCTAssertEqual(records.map(\.topic), [topic])
                XCTAssertLessThan(ContinuousClock.now - sentAt, .seconds(5), "a poll of 20 s returned \(topic)'s record only at its end")
            }
            await producer.close()
        }
    }

    func testPriorityRecordsLeaveAQuarterOfEachPollToTheOtherTopics() async throws {
        try await withPriorityConsumer(standardPartitions: 1) { standard, priority, consumer in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send((0..<200).map { ProducerRecord(topic: priority, key: "p-\($0)", value: [1]) })
            _ = try await producer.send((0..<200).map { ProducerRecord(topic: standard, key: "s-\($0)", value: [2]) })
            await producer.close()
            for topic in [standard, priority] {
                try await waitUntil("\(topic) fetched") {
                    consumer.fetchedWatermarks(TopicPartition(topic: topic, partition: 0))?.high == 200
                }
            }
            // Both queues hold records: a poll of 20 takes at most 15 priority records, and
            // (from the second poll, when nothing fetched can still be on its way into the
            // queues) exactly 15 priority records and 5 others.
            for round in 0..<4 {
                let batch = try await consumer.poll(maxRecords: 20, timeoutMilliseconds: 100)
                let priorityCount = batch.filter { $0.topic == priority }.count
                XCTAssertLessThanOrEqual(priorityCount, 15)
                if round > 0 {
                    XCTAssertEqual(priorityCount, 15)
                    XCTAssertEqual(batch.filter { $0.topic == standard }.count, 5)
                }
            }
        }
    }

    func testRecordsSequenceEndsWhenConsumerCloses() async throws {
        try await withTestTopic(partitions: 1) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send((0..<5).map { ProducerRecord(topic: topic, key: "k", value: [UInt8($0)]) })
            await producer.close()
            let group = uniqueTopicName("group")
            let consumer = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: group,
                                             topics: [topic], properties: TestBroker.fastGroupProperties)
            var seen: [Int64] = []
            for try await record in consumer.records() {
                seen.append(record.offset)
                try consumer.markDone(record)
                if seen.count == 3 { break }  // the caller leaves the loop early
            }
            await consumer.close()  // commits what was marked done and leaves the group
            XCTAssertEqual(seen, [0, 1, 2])
            let admin = try KafkaAdmin(configuration: TestBroker.configuration())
            let committed = try await admin.committedOffsets(group: group, partitions: [TopicPartition(topic: topic, partition: 0)])
            XCTAssertEqual(committed[TopicPartition(topic: topic, partition: 0)], 3)
            do {
                _ = try await consumer.poll()
                XCTFail("poll after close must fail")
            } catch let error as KafkaError {
                XCTAssertFalse(error.isRetriable)
            }
        }
    }

    func testReaderReadsFixedPartitionsFromGivenOffsets() async throws {
        try await withTestTopic(partitions: 2) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send((0..<20).map { ProducerRecord(topic: topic, partition: Int32($0 % 2), key: nil, value: [UInt8($0)]) })
            await producer.close()
            let p0 = TopicPartition(topic: topic, partition: 0)
            let p1 = TopicPartition(topic: topic, partition: 1)
            let reader = try KafkaConsumer(configuration: TestBroker.configuration(),
                                           startingAt: [p0: KafkaConsumer.beginning, p1: 7])
            XCTAssertEqual(reader.assignment, [p0, p1])
            let records = try await consume(reader, count: 13)
            await reader.close()
            XCTAssertEqual(records.filter { $0.partition == 0 }.map(\.offset), Array(0..<10))
            XCTAssertEqual(records.filter { $0.partition == 1 }.map(\.offset), Array(7..<10))
        }
    }

    func testKeysArePartitionedLikeTheJavaClient() async throws {
        // murmur2 of the key, positive, modulo the partition count: the Java client's choice.
        try await withTestTopic(partitions: 12) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            let keys = (0..<50).map { "lead-\($0)" }
            let reports = try await producer.send(keys.map { ProducerRecord(topic: topic, key: $0, value: [0]) })
            await producer.close()
            for (key, report) in zip(keys, reports) {
                XCTAssertEqual(report.partition, Int32((murmur2(Array(key.utf8)) & 0x7fffffff) % 12), key)
            }
        }
    }

    func testSendToUnreachableBrokerFailsWithinItsTimeout() async throws {
        let configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:\(1)", clientID: "unreachable")
        let producer = try KafkaProducer(configuration: configuration, properties: ["message.timeout.ms": "1500"])
        let started = Date()
        do {
            _ = try await producer.send(ProducerRecord(topic: "nowhere", key: "k", value: Array("lead Jane Doe".utf8)))
            XCTFail("send to an unreachable broker must fail")
        } catch let error as KafkaError {
            XCTAssertEqual(error.name, "_MSG_TIMED_OUT", "\(error)")
            XCTAssertTrue(error.isRetriable)
            // The error says what went wrong, never what the record held.
            XCTAssertFalse(error.description.contains("Jane"), "\(error)")
        }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertLessThan(elapsed, 5, "failed after \(elapsed)s")
        await producer.close(flushTimeoutMilliseconds: 100)
    }

    /// When librdkafka's queue is full a send waits for room, also in a cancelled task (a
    /// service draining after SIGTERM), without spinning on a sleep that cancellation cuts short.
    func testSendWaitingForQueueRoomInACancelledTaskDoesNotSpin() async throws {
        let configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:\(1)", clientID: "unreachable")
        // Room for one record, which fails after 1.5 s: the second waits that long for room.
        let producer = try KafkaProducer(configuration: configuration, properties: [
            "message.timeout.ms": "1500", "queue.buffering.max.messages": "1", "enable.idempotence": "false",
        ])
        let records = (0..<2).map { ProducerRecord(topic: "nowhere", key: "k\($0)", value: [1]) }
        let cpuBefore = processCPUTime()
        let clock = ContinuousClock()
        let elapsed = await clock.measure {
            let sending = Task { _ = await producer.enqueue(records) }
            sending.cancel()
            await sending.value
        }
        let cpu = processCPUTime() - cpuBefore
        XCTAssertGreaterThan(elapsed, .milliseconds(1000), "the second record must wait for room")
        XCTAssertLessThan(cpu, elapsed / 4, "used \(cpu) of CPU in \(elapsed) waiting for room")
        await producer.close(flushTimeoutMilliseconds: 100)
    }

    /// Sends still waiting for room in librdkafka's queue when the producer closes (a stage whose
    /// drain timed out abandons them) fail as closed, and none touches the freed client.
    func testSendsWaitingForRoomWhenTheProducerClosesFailWithoutTouchingIt() async throws {
        for _ in 0..<5 {
            let producer = try KafkaProducer(
                configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: "closing"),
                properties: ["message.timeout.ms": "60000", "queue.buffering.max.messages": "1", "enable.idempotence": "false"])
            let records = (0..<20).map { ProducerRecord(topic: "nowhere", key: "k\($0)", value: [1]) }
            let sending = Task { await producer.sendReportingEach(records) }
            // The first record fills the queue; the others wait for room, retrying.
            try await waitUntil("the queue full", timeoutSeconds: 10, pollMilliseconds: 1) { producer.queuedRecordCount == 1 }
            await producer.close(flushTimeoutMilliseconds: 50)
            let outcomes = await sending.value
            XCTAssertEqual(outcomes.count, 20)
            for outcome in outcomes {
                guard case .failure(let error) = outcome, error.isClientClosed else { return XCTFail("\(outcome)") }
            }
        }
    }

    func testRecordAboveSizeLimitFails() async throws {
        try await withTestTopic(partitions: 1) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration(), properties: ["message.max.bytes": "10000"])
            do {
                _ = try await producer.send(ProducerRecord(topic: topic, key: "k", value: Array(repeating: 7, count: 20_000)))
                XCTFail("an oversized record must fail")
            } catch let error as KafkaError {
                XCTAssertEqual(error.name, "MSG_SIZE_TOO_LARGE", "\(error)")
                XCTAssertFalse(error.isRetriable)
                XCTAssertTrue(error.isRecordRejected, "sending this record again fails the same way")
            }
            // The producer still works for records within the limit.
            let report = try await producer.send(ProducerRecord(topic: topic, key: "k", value: Array(repeating: 7, count: 100)))
            XCTAssertEqual(report.offset, 0)
            await producer.close()
        }
    }

    /// A task a shutting-down process left behind (``ShutdownDeadline``) may call its consumer
    /// after the close freed the client: each call fails or answers nothing, instead of reaching
    /// freed memory.
    func testCallsIntoAClosedConsumerFailWithoutTouchingIt() async throws {
        try await withTestTopic(partitions: 1) { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            _ = try await producer.send(ProducerRecord(topic: topic, key: "k", value: [1]))
            await producer.close()
            let consumer = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("group"),
                                             topics: [topic], properties: TestBroker.fastGroupProperties)
            var polled: [ConsumerRecord] = []
            for try await record in consumer.records() {
                polled.append(record)
                break
            }
            let partition = TopicPartition(topic: topic, partition: 0)
            XCTAssertNotNil(consumer.fetchedWatermarks(partition), "answered while open")
            await consumer.close()
            XCTAssertNil(consumer.fetchedWatermarks(partition))
            XCTAssertEqual(consumer.positions([partition]), [partition: nil])
            XCTAssertThrowsError(try consumer.storeOffsets([partition: 1])) { XCTAssertEqual(($0 as? KafkaError)?.name, "_DESTROY") }
            XCTAssertThrowsError(try consumer.pause([partition])) { XCTAssertEqual(($0 as? KafkaError)?.name, "_DESTROY") }
            XCTAssertThrowsError(try consumer.resume([partition])) { XCTAssertEqual(($0 as? KafkaError)?.name, "_DESTROY") }
            do {
                _ = try await consumer.committed([partition])
                XCTFail("committed after close must fail")
            } catch let error as KafkaError {
                XCTAssertEqual(error.name, "_DESTROY")
            }
            XCTAssertEqual(polled.count, 1)
        }
    }

    /// A consumer whose client hit a fatal error closes, a reader of fixed partitions as a group
    /// member: librdkafka does not close the consumer of a client with a fatal error (the close
    /// returns at once, its group never ends), so a destroy that closes it waits for good, one of
    /// the client's threads spinning meanwhile. Before: neither close returned within 10 s.
    func testAConsumerWhoseClientHitAFatalErrorCloses() async throws {
        try await withTestTopic(partitions: 1) { topic in
            let partition = TopicPartition(topic: topic, partition: 0)
            let reader = try KafkaConsumer(configuration: TestBroker.configuration(), startingAt: [partition: KafkaConsumer.beginning])
            let member = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("group"),
                                           topics: [topic], properties: TestBroker.fastGroupProperties)
            try await waitUntil("the member is assigned", pollMilliseconds: 0) {
                _ = try await member.poll(timeoutMilliseconds: 100)
                return !member.assignment.isEmpty
            }
            for (name, consumer) in [("reader", reader), ("member", member)] {
                consumer.raiseFatalError(reason: "a test's fatal error")
                try await waitUntil("\(name): a poll throws the fatal error", pollMilliseconds: 0) {
                    do {
                        _ = try await consumer.poll(timeoutMilliseconds: 100)
                        return false
                    } catch let error as KafkaError {
                        XCTAssertTrue(error.isFatal, "\(name): \(error)")
                        return true
                    }
                }
                let closed = await result(within: .seconds(10)) {
                    await consumer.close()
                    return true
                }
                XCTAssertEqual(closed, true, "\(name) closed within 10 s of its fatal error")
            }
        }
    }

    func testSendAfterCloseFails() async throws {
        let producer = try KafkaProducer(configuration: TestBroker.configuration())
        await producer.close()
        do {
            _ = try await producer.send(ProducerRecord(topic: "t", key: "k", value: [1]))
            XCTFail("send after close must fail")
        } catch let error as KafkaError {
            XCTAssertEqual(error.name, "_DESTROY")
        }
    }
}

/// Kafka's murmur2 (the Java client's `Utils.murmur2`), written from its published definition.
func murmur2(_ data: [UInt8]) -> UInt32 {
    let m: UInt32 = 0x5bd1e995
    var h: UInt32 = 0x9747b28c ^ UInt32(data.count)
    var i = 0
    while i + 4 <= data.count {
        var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
        k = k &* m
        k ^= k >> 24
        k = k &* m
        h = h &* m
        h ^= k
        i += 4
    }
    let rest = data.count - i
    if rest >= 3 { h ^= UInt32(data[i + 2]) << 16 }
    if rest >= 2 { h ^= UInt32(data[i + 1]) << 8 }
    if rest >= 1 {
        h ^= UInt32(data[i])
        h = h &* m
    }
    h ^= h >> 13
    h = h &* m
    h ^= h >> 15
    return h
}
