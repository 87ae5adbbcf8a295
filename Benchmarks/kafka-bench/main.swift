// kafka-bench: this project's Kafka library against librdkafka's own rdkafka_performance, on the
// same broker in the same run.
//
//   kafka-bench throughput [--bootstrap HOST:PORT] [--records N] [--size BYTES] [--rounds R]
//                          [--rdkafka-performance PATH] [--report FILE]
//   kafka-bench sample [--bootstrap HOST:PORT]
import Foundation
import Kafka

struct Options {
    var command = "throughput"
    var bootstrap = ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP_SERVERS"] ?? "127.0.0.1:9092"
    var records = 1_000_000
    var size = 200
    var rounds = 3
    var rdkafkaPerformance = ".tools/bin/rdkafka_performance"
    var report: String?

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        if let first = rest.first, !first.hasPrefix("--") { command = first; rest = rest.dropFirst() }
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw UsageError("\(flag) needs a value") }
            switch flag {
            case "--bootstrap": bootstrap = value
            case "--records": records = try Self.number(flag, value)
            case "--size": size = try Self.number(flag, value)
            case "--rounds": rounds = try Self.number(flag, value)
            case "--rdkafka-performance": rdkafkaPerformance = value
            case "--report": report = value
            default: throw UsageError("unknown option \(flag)")
            }
        }
    }

    static func number(_ flag: String, _ value: String) throws -> Int {
        guard let n = Int(value), n > 0 else { throw UsageError("\(flag) takes a positive whole number, not '\(value)'") }
        return n
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func log(_ line: String) {
    FileHandle.standardError.write(Data("kafka-bench: \(line)\n".utf8))
}

/// Produces `count` records of `size` bytes to partition 0, batches of 10,000 with 8 in flight;
/// returns records per second from the first send to the last acknowledgement.
func produceWithLibrary(_ configuration: KafkaConfiguration, topic: String, count: Int, size: Int) async throws -> Double {
    let producer = try KafkaProducer(configuration: configuration, properties: ["linger.ms": "10"])
    let value = [UInt8](repeating: 0x61, count: size)
    let batchSize = 10_000
    let started = Date()
    try await withThrowingTaskGroup(of: Void.self) { group in
        var sent = 0
        var inFlight = 0
        while sent < count {
            if inFlight == 8 { try await group.next(); inFlight -= 1 }
            let n = min(batchSize, count - sent)
            let batch = [ProducerRecord](repeating: ProducerRecord(topic: topic, partition: 0, key: nil, value: value), count: n)
            group.addTask { _ = try await producer.send(batch) }
            inFlight += 1
            sent += n
        }
        try await group.waitForAll()
    }
    let elapsed = Date().timeIntervalSince(started)
    await producer.close()
    return Double(count) / elapsed
}

/// Consumes `count` records in a group, storing offsets per batch; records per second from the
/// first record to the last (group join excluded, as rdkafka_performance measures).
func consumeWithLibrary(_ configuration: KafkaConfiguration, topic: String, count: Int) async throws -> Double {
    let consumer = try KafkaConsumer(configuration: configuration, groupID: "bench-\(UUID().uuidString.prefix(8))",
                                     topics: [topic], properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"])
    var received = 0
    var started: Date?
    var bytes = 0
    while received < count {
        let batch = try await consumer.poll(maxRecords: 10_000, timeoutMilliseconds: 100)
        guard let last = batch.last else { continue }
        if started == nil { started = Date() }
        received += batch.count
        bytes &+= batch.reduce(0) { $0 &+ ($1.value?.count ?? 0) }
        try consumer.markDone(last)
    }
    let elapsed = Date().timeIntervalSince(started!)
    await consumer.close()
    precondition(bytes > 0)
    return Double(received) / elapsed
}

/// Runs rdkafka_performance and returns the msgs/s figure of its summary line.
func runRdkafkaPerformance(_ path: String, _ arguments: [String]) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    // "... in 488ms: 1022609 msgs/s and 204.52 MB/s ..."
    guard let range = text.range(of: #"([0-9]+) msgs/s"#, options: .regularExpression),
          let rate = Double(text[range].split(separator: " ")[0]) else {
        throw UsageError("rdkafka_performance printed no rate: \(text.suffix(400))")
    }
    return rate
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func throughput(_ options: Options) async throws {
    let configuration = KafkaConfiguration(bootstrapServers: options.bootstrap, clientID: "kafka-bench")
    let admin = try KafkaAdmin(configuration: configuration)
    let common = ["-b", options.bootstrap, "-q"]
    var rows: [(round: Int, ourProduce: Double, theirProduce: Double, ourConsume: Double, theirConsume: Double)] = []
    for round in 1...options.rounds {
        let ours = "bench-ours-\(UUID().uuidString.prefix(8))"
        let theirs = "bench-theirs-\(UUID().uuidString.prefix(8))"
        try await admin.createTopics([TopicSpecification(name: ours, partitions: 1), TopicSpecification(name: theirs, partitions: 1)])
        // Alternate which side goes first so drift on a noisy machine favours neither.
        var ourProduce = 0.0, theirProduce = 0.0, ourConsume = 0.0, theirConsume = 0.0
        let producerArguments = ["-P", "-t", theirs, "-p", "0", "-s", String(options.size), "-c", String(options.records),
                                 "-a", "-1", "-X", "enable.idempotence=true", "-X", "linger.ms=10"] + common
        let consumerArguments = ["-C", "-t", theirs, "-p", "0", "-o", "beginning", "-c", String(options.records),
                                 "-B", "10000"] + common
        if round % 2 == 1 {
            ourProduce = try await produceWithLibrary(configuration, topic: ours, count: options.records, size: options.size)
            theirProduce = try runRdkafkaPerformance(options.rdkafkaPerformance, producerArguments)
            ourConsume = try await consumeWithLibrary(configuration, topic: ours, count: options.records)
            theirConsume = try runRdkafkaPerformance(options.rdkafkaPerformance, consumerArguments)
        } else {
            theirProduce = try runRdkafkaPerformance(options.rdkafkaPerformance, producerArguments)
            ourProduce = try await produceWithLibrary(configuration, topic: ours, count: options.records, size: options.size)
            theirConsume = try runRdkafkaPerformance(options.rdkafkaPerformance, consumerArguments)
            ourConsume = try await consumeWithLibrary(configuration, topic: ours, count: options.records)
        }
        try await admin.deleteTopics([ours, theirs])
        log(String(format: "round %d: produce %.0f vs %.0f/s, consume %.0f vs %.0f/s", round,
                   ourProduce, theirProduce, ourConsume, theirConsume))
        rows.append((round, ourProduce, theirProduce, ourConsume, theirConsume))
    }
    var report = """
    # Kafka library throughput against rdkafka_performance

    Command: `kafka-bench throughput --records \(options.records) --size \(options.size) --rounds \(options.rounds)`
    against the local Tansu broker at \(options.bootstrap); rdkafka_performance from the same
    librdkafka build (\(librdkafkaVersion())). One topic of one partition per side per round, deleted after.
    Producer: acks=all, idempotence, linger.ms=10 on both sides; ours sends batches of 10,000 with
    8 batches in flight and waits for every delivery report. Consumer: ours is a group member storing
    offsets per batch; rdkafka_performance reads the partition in batch mode (-B 10000); both are
    timed from the first record to the last. Sides alternate order each round.

    | round | produce ours (rec/s) | produce rdkafka_performance | ratio | consume ours (rec/s) | consume rdkafka_performance | ratio |
    |---|---|---|---|---|---|---|

    """
    for row in rows {
        report += String(format: "| %d | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", row.round,
                         row.ourProduce, row.theirProduce, row.ourProduce / row.theirProduce,
                         row.ourConsume, row.theirConsume, row.ourConsume / row.theirConsume)
    }
    let produceRatio = median(rows.map { $0.ourProduce / $0.theirProduce })
    let consumeRatio = median(rows.map { $0.ourConsume / $0.theirConsume })
    report += String(format: "\nMedian ratio of rounds: produce %.2f, consume %.2f (target: at least 0.8 each).\n",
                     produceRatio, consumeRatio)
    print(report)
    if let path = options.report {
        try report.write(toFile: path, atomically: true, encoding: .utf8)
        log("report written to \(path)")
    }
}

func librdkafkaVersion() -> String {
    (try? String(contentsOfFile: "/usr/local/lib/pkgconfig/rdkafka.pc", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("Version:") }
        .map { "librdkafka " + $0.dropFirst("Version:".count).trimmingCharacters(in: .whitespaces) } ?? "librdkafka"
}

/// Produces a few sample leads and reads them back: the smallest end-to-end check of a broker.
func sample(_ options: Options) async throws {
    let configuration = KafkaConfiguration(bootstrapServers: options.bootstrap, clientID: "kafka-sample")
    let admin = try KafkaAdmin(configuration: configuration)
    let topic = "sample-leads-\(UUID().uuidString.prefix(8))"
    try await admin.createTopics([TopicSpecification(name: topic, partitions: 3)])
    let leads = [("lead-1", "Jane Doe", "https://linkedin.com/in/janedoe"),
                 ("lead-2", "Sam Lee", "https://x.com/samlee"),
                 ("lead-3", "Ada Byron", "https://linkedin.com/in/adabyron")]
    let producer = try KafkaProducer(configuration: configuration)
    let reports = try await producer.send(leads.map { id, name, url in
        ProducerRecord(topic: topic, key: id, value: Array(#"{"schema":"lead.discovered","version":1,"name":"\#(name)","url":"\#(url)"}"#.utf8),
                       headers: [KafkaHeader(key: "schema", string: "lead.discovered")])
    })
    for report in reports { print("produced \(report.topic)[\(report.partition)]@\(report.offset)") }
    await producer.close()
    let consumer = try KafkaConsumer(configuration: configuration, groupID: "sample", topics: [topic],
                                     properties: ["session.timeout.ms": "3000", "heartbeat.interval.ms": "500"])
    var seen = 0
    for try await record in consumer.records() {
        print("consumed \(record.topic)[\(record.partition)]@\(record.offset) key=\(record.keyString ?? "") value=\(String(decoding: record.value ?? [], as: UTF8.self))")
        try consumer.markDone(record)
        seen += 1
        if seen == leads.count { break }
    }
    await consumer.close()
    try await admin.deleteTopics([topic])
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    switch options.command {
    case "throughput": try await throughput(options)
    case "sample": try await sample(options)
    default: throw UsageError("unknown command \(options.command); use throughput or sample")
    }
} catch {
    log("error: \(error)")
    exit(1)
}
