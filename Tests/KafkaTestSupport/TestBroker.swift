import Foundation
import Kafka

/// The broker tests talk to: `KAFKA_TEST_BOOTSTRAP_SERVERS` when set (Deploy/test.sh starts one per lane),
/// otherwise a Tansu broker this process starts on a free loopback port through
/// `Deploy/broker.sh` and stops when it exits.
public enum TestBroker {
    public static let bootstrapServers: String = {
        if let servers = ProcessInfo.processInfo.environment["KAFKA_TEST_BOOTSTRAP_SERVERS"], !servers.isEmpty {
            return servers
        }
        let port = freeLoopbackPort()
        runBrokerScript("start", port: port)
        startedPort = port
        atexit { if let port = TestBroker.startedPort { TestBroker.runBrokerScript("stop", port: port) } }
        return "127.0.0.1:\(port)"
    }()

    nonisolated(unsafe) static var startedPort: Int?

    /// The project's root, found from this file's location.
    public static let projectRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Stops the broker process (SIGSTOP) for `seconds`, as a hung or partitioned broker looks
    /// to its clients, and lets it go on (SIGCONT), also when the wait is cancelled.
    /// - Throws: when the broker was not started by `Deploy/broker.sh` (no pid file).
    public static func pause(seconds: Double) async throws {
        try suspend()
        defer { try? resume() }
        try? await Task.sleep(for: .seconds(seconds))
    }

    /// Stops the shared broker (SIGSTOP) until ``resume()``: for a test that watches the
    /// pipeline during the outage. Resume it on every path out.
    public static func suspend() throws {
        kill(try sharedBrokerPID(), SIGSTOP)
    }

    /// Lets the shared broker go on (SIGCONT).
    public static func resume() throws {
        kill(try sharedBrokerPID(), SIGCONT)
    }

    private static func sharedBrokerPID() throws -> pid_t {
        let port = bootstrapServers.split(separator: ":").last.flatMap { Int($0) } ?? 0
        guard let pid = brokerPID(port: port) else {
            throw BrokerPauseError(description: "no broker pid for port \(port) in .run/: start the broker with Deploy/broker.sh")
        }
        return pid
    }

    /// The pid of the broker `Deploy/broker.sh` started on `port`, from its pid file.
    static func brokerPID(port: Int) -> pid_t? {
        let pidFile = projectRoot.appendingPathComponent(".run/broker-\(port).pid")
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A configuration for the test broker with a recognisable client id.
    public static func configuration(clientID: String = "test", properties: [String: String] = [:]) -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: bootstrapServers, clientID: clientID, properties: properties)
    }

    /// Consumer settings that keep group joins and rebalances short on the local broker.
    public static let fastGroupProperties: [String: String] = [
        "session.timeout.ms": "3000",
        "heartbeat.interval.ms": "500",
        "max.poll.interval.ms": "30000",
        "fetch.wait.max.ms": "50",
    ]

    /// Runs `Deploy/broker.sh COMMAND PORT` and waits for it with waitpid: Foundation's Process
    /// depends on a run loop to notice the exit, which nothing runs while a test is initialising.
    static func runBrokerScript(_ command: String, port: Int) {
        let arguments = ["/bin/bash", projectRoot.appendingPathComponent("Deploy/broker.sh").path, command, String(port)]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        // The broker outlives a test run that ends without atexit handlers unless it watches us.
        setenv("BROKER_WATCH_PID", String(getpid()), 1)
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, &argv, environ)
        guard spawned == 0 else { fatalError("cannot run Deploy/broker.sh \(command): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exitCode = (status >> 8) & 0xff
        if exitCode != 0 && command == "start" {
            fatalError("Deploy/broker.sh start \(port) failed (exit \(exitCode)); run Deploy/setup.sh first")
        }
    }

    /// A TCP port on 127.0.0.1 that is free now, below the kernel's ephemeral range when there
    /// is room. A port the kernel hands out for `bind` to port 0 is an ephemeral one, which the
    /// outgoing connections of every other process (the brokers' clients of the other test
    /// lanes) also take: one was taken between its pick and a stage's `bind` in a CI run, and
    /// the stage exited. Outgoing connections never take a port below the range.
    public static func freeLoopbackPort() -> Int {
        let lowest = 10_000
        let ephemeralStart = ephemeralPortRange().lowerBound
        if ephemeralStart - lowest >= 1_000 {
            for _ in 0..<200 {
                let port = Int.random(in: lowest..<ephemeralStart)
                if bindLoopback(port: port) != nil { return port }
            }
        }
        return bindLoopback(port: 0) ?? 0
    }

    /// The kernel's ephemeral ports (`/proc/sys/net/ipv4/ip_local_port_range`; Linux's default
    /// when it cannot be read).
    public static func ephemeralPortRange() -> ClosedRange<Int> {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { return 32_768...60_999 }
        return bounds[0]...bounds[1]
    }

    /// Binds a socket to 127.0.0.1:`port` (0: any) and closes it; the port bound, or nil.
    private static func bindLoopback(port: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}

/// A topic name no other test uses.
public func uniqueTopicName(_ prefix: String = "test") -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// Creates a uniquely named topic, runs `body` with its name, and deletes it afterwards
/// (the local broker keeps every record in memory until its topic is deleted).
public func withTestTopic<T>(partitions: Int = 1, prefix: String = "test",
                             _ body: (String) async throws -> T) async throws -> T {
    let configuration = TestBroker.configuration(clientID: "test-admin")
    let name = uniqueTopicName(prefix)
    try await KafkaAdmin(configuration: configuration).createTopics([TopicSpecification(name: name, partitions: partitions)])
    return try await deletingTopics([name], configuration: configuration) { try await body(name) }
}

/// Runs `body`, then deletes `topics` (the local broker keeps every record in memory until its
/// topic is deleted), also when `body` throws.
public func deletingTopics<T>(_ topics: [String], configuration: KafkaConfiguration,
                              after body: () async throws -> T) async throws -> T {
    let admin = try KafkaAdmin(configuration: configuration)
    do {
        let result = try await body()
        try? await admin.deleteTopics(topics)
        return result
    } catch {
        try? await admin.deleteTopics(topics)
        throw error
    }
}

/// Thrown by ``waitUntil(_:timeoutSeconds:pollMilliseconds:_:)`` when the deadline passes.
public struct WaitTimeout: Error, CustomStringConvertible {
    public let what: String
    public var description: String { "timed out waiting for \(what)" }
}

/// Re-evaluates `condition` until it holds or the deadline passes.
public func waitUntil(_ what: String, timeoutSeconds: Double = 30, pollMilliseconds: UInt64 = 50,
                      _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(nanoseconds: pollMilliseconds * 1_000_000)
    }
    if try await condition() { return }
    throw WaitTimeout(what: what)
}

/// Polls `consumer` until `count` records arrived (or the deadline passes) and returns them.
public func consume(_ consumer: KafkaConsumer, count: Int, timeoutSeconds: Double = 30) async throws -> [ConsumerRecord] {
    var records: [ConsumerRecord] = []
    try await waitUntil("\(count) records (have \(records.count))", timeoutSeconds: timeoutSeconds, pollMilliseconds: 0) {
        records += try await consumer.poll(maxRecords: 1000, timeoutMilliseconds: 100)
        return records.count >= count
    }
    return records
}

/// Reads `topics` from their start with a consumer of a new group until `count` records arrived
/// (``consume(_:count:timeoutSeconds:)``), and closes it.
public func consumeInNewGroup(_ topics: [String], count: Int, timeoutSeconds: Double = 30) async throws -> [ConsumerRecord] {
    let reader = try KafkaConsumer(configuration: TestBroker.configuration(), groupID: uniqueTopicName("reader"),
                                   topics: topics, properties: TestBroker.fastGroupProperties)
    do {
        let records = try await consume(reader, count: count, timeoutSeconds: timeoutSeconds)
        await reader.close()
        return records
    } catch {
        await reader.close()
        throw error
    }
}

/// Why ``TestBroker/pause(seconds:)`` could not pause the broker.
public struct BrokerPauseError: Error, CustomStringConvertible {
    public let description: String
}

/// A broker of one test's own, on a free loopback port, for tests that stop it (an outage) and
/// must not disturb the shared one. Started through `Deploy/broker.sh`; ``stop()`` it at the end.
public final class PrivateBroker: Sendable {
    /// The broker's port on 127.0.0.1.
    public let port: Int

    /// Starts the broker and waits until it answers.
    public init() {
        port = TestBroker.freeLoopbackPort()
        TestBroker.runBrokerScript("start", port: port)
    }

    /// Where clients find it.
    public var bootstrapServers: String { "127.0.0.1:\(port)" }

    /// A configuration for this broker with a recognisable client id.
    public func configuration(clientID: String = "test", properties: [String: String] = [:]) -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: bootstrapServers, clientID: clientID, properties: properties)
    }

    /// Freezes the broker process (SIGSTOP): connections stay open and nothing answers, as in a
    /// long pause or a network partition.
    public func suspend() { signal(SIGSTOP) }

    /// Lets a suspended broker run again (SIGCONT).
    public func resume() { signal(SIGCONT) }

    /// Stops the broker (resuming it first if it is suspended).
    public func stop() {
        resume()
        TestBroker.runBrokerScript("stop", port: port)
    }

    private func signal(_ number: Int32) {
        if let pid = TestBroker.brokerPID(port: port) { kill(pid, number) }
    }
}
