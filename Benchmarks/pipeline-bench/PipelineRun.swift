import Foundation
import JSONCodec
import Kafka
import LeadControl
import LeadModel
import Streaming
import Synchronization

/// One scenario's pipeline: a topic namespace of its own on the benchmark's broker, the release
/// executables started as processes with the scenario's environment, and its clean-up.
///
/// Used from one task at a time (the scenario that made it); not shared.
final class PipelineRun {
    static let services = ["coordinator", "profile-stage", "activity-stage", "scoring-stage", "finalize-stage"]

    let namespace: String
    let environment: PipelineEnvironment
    let accountID: AccountID = "acct-bench"
    let offerID: OfferID = "offer-bench"
    private let variables: [String: String]
    private let binDirectory: URL
    private let logDirectory: URL
    private(set) var processes: [(service: String, process: Process)] = []

    /// Creates the namespace's topics and publishes the account and the offer every lead uses.
    /// - Parameter extra: variables every process of the run gets on top of the defaults.
    init(label: String, options: Options, extra: [String: String]) async throws {
        // Topic names allow letters, digits, '.', '_' and '-' only.
        let slug = String(label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
        namespace = "bench-\(slug)-" + UUID().uuidString.prefix(6).lowercased()
        variables = [
            "KAFKA_BOOTSTRAP_SERVERS": options.bootstrap,
            "PIPELINE_NAMESPACE": namespace,
            "PIPELINE_PARTITIONS": String(options.partitions),
            "KAFKA_PROPERTY_SESSION_TIMEOUT_MS": "6000",
            "KAFKA_PROPERTY_HEARTBEAT_INTERVAL_MS": "1000",
            "KAFKA_PROPERTY_LOG__LEVEL": "3",
            "LOG_LEVEL": "warning",
            "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0", "SIM_ACTIVITY_FAILURE_RATE": "0",
            "SIM_LINKEDIN_NOT_FOUND_RATE": "0", "SIM_X_NOT_FOUND_RATE": "0",
        ].merging(extra) { _, new in new }
        binDirectory = URL(fileURLWithPath: options.binDirectory)
        logDirectory = URL(fileURLWithPath: options.logDirectory).appendingPathComponent(namespace)
        environment = try PipelineEnvironment(service: "pipeline-bench", environment: variables)
        for service in Self.services where !FileManager.default.isExecutableFile(atPath: binDirectory.appendingPathComponent(service).path) {
            throw BenchError("\(service) is not built in \(binDirectory.path); build the services beside this benchmark first "
                + "(`swift build -c release --static-swift-stdlib --scratch-path .build/static`) or name their folder with --bin-dir")
        }
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        try await environment.ensureTopics()
        let producer = try KafkaProducer(configuration: environment.kafka)
        let account = AccountConfig(accountID: accountID, autopilot: AutopilotRule(), updatedAt: Date())
        _ = try await producer.send([
            try environment.codec.record(account, topic: environment.topics.accounts, key: accountID.rawValue),
            try environment.codec.record(Self.offer(offerID, accountID), topic: environment.topics.offers, key: offerID.rawValue),
        ])
        await producer.close()
    }

    /// The variables a process of this run sees (besides the benchmark's own environment).
    var processVariables: [String: String] { variables }

    static func offer(_ offerID: OfferID, _ accountID: AccountID) -> OfferConfig {
        OfferConfig(
            offerID: offerID, accountID: accountID, name: "Outbound autopilot", productKeywords: ["outbound automation"],
            icp: IdealCustomerProfile(
                titles: ["VP of Demand Generation", "Head of Sales", "Revenue Operations"], seniorities: [.vp, .director],
                industries: ["B2B software", "SaaS"], minimumEmployees: 50, maximumEmployees: 2000, locations: ["United States"],
                painPoints: ["manual prospecting", "low reply rates", "outbound automation"], competitors: ["Outreach", "Apollo"],
                customIntentKeywords: ["sequence"]),
            signalLikelihood: .medium, updatedAt: Date())
    }

    // MARK: - Processes

    /// Starts one instance of `service`; its output goes to a log file under the run's folder.
    func start(_ service: String, extra: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent(service)
        process.environment = ProcessInfo.processInfo.environment.merging(variables) { _, new in new }
            .merging(extra) { _, new in new }
        let log = logDirectory.appendingPathComponent("\(service)-\(processes.count).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.append((service, process))
    }

    /// Starts the coordinator and every stage, `instances[stage]` times (default once).
    func startPipeline(instances: [String: Int] = [:]) throws {
        for service in Self.services {
            for _ in 0..<(instances[service] ?? 1) { try start(service) }
        }
    }

    /// Fails when a process has exited (a crash would otherwise look like a slow pipeline).
    func checkAlive() throws {
        for (service, process) in processes where !process.isRunning {
            throw BenchError("\(service) exited with status \(process.terminationStatus); see \(logDirectory.path)")
        }
    }

    /// Peak resident memory (VmHWM) of every running process, in kB.
    func peakMemory() -> [(service: String, kilobytes: Int)] {
        processes.compactMap { service, process in
            guard process.isRunning, let kB = Self.vmHWM(pid: process.processIdentifier) else { return nil }
            return (service, kB)
        }
    }

    /// CPU time (user + system) every running process has used so far, in seconds.
    func cpuSeconds() -> [(service: String, seconds: Double)] {
        processes.compactMap { service, process in
            guard process.isRunning, let seconds = Self.cpuSeconds(pid: process.processIdentifier) else { return nil }
            return (service, seconds)
        }
    }

    /// ``cpuSeconds()`` of every process together.
    func totalCPUSeconds() -> Double {
        cpuSeconds().reduce(0) { $0 + $1.seconds }
    }

    static func cpuSeconds(pid: Int32) -> Double? {
        // Fields 14 and 15 of /proc/PID/stat (utime, stime) in clock ticks.
        guard let fields = PeerPipelines.statFields(of: pid), fields.count > 12,
              let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func vmHWM(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    /// SIGTERM to every process, SIGKILL after 15 s; then deletes the namespace's topics (Tansu
    /// keeps records in memory until then).
    func tearDown() async {
        for (_, process) in processes where process.isRunning {
            kill(process.processIdentifier, SIGTERM)
        }
        let deadline = Date().addingTimeInterval(15)
        for (service, process) in processes {
            while process.isRunning && Date() < deadline { await sleepIgnoringCancellation(for: .milliseconds(100)) }
            if process.isRunning {
                log("\(service) ignored SIGTERM for 15 s; killing it")
                kill(process.processIdentifier, SIGKILL)
            }
        }
        processes.removeAll()
        if let admin = try? KafkaAdmin(configuration: environment.kafka) {
            do { try await admin.deleteTopics(environment.topics.all) } catch { log("deleting \(namespace)'s topics: \(error)") }
        }
    }

    // MARK: - Leads

    /// Lead `i` of a batch (id `<prefix><i>`): platforms mixed as the system tests mix them (both, LinkedIn only,
    /// X only); `discoveredAt` is set when the batch is sent.
    func lead(_ i: Int, prefix: String, source: LeadSource) -> LeadDiscovered {
        let handle = "\(prefix)\(i)-\(namespace)"
        let platforms = i % 3
        return LeadDiscovered(
            leadID: LeadID("\(prefix)\(i)"), accountID: accountID, offerID: offerID, sourceSearchID: "search-bench",
            source: source, name: "Person \(i)",
            linkedinURL: platforms != 2 ? "https://www.linkedin.com/in/\(handle)" : nil,
            xURL: platforms != 1 ? "https://x.com/\(handle.replacingOccurrences(of: "-", with: "_").prefix(15))" : nil,
            mode: .full, discoveredAt: Date())
    }

    /// Publishes `count` leads in batches of 5,000 (each batch stamped when it is built) and
    /// returns when the broker acknowledged all; returns each lead's `discoveredAt`. Leads go to
    /// the input topic for their source (intent sources: the priority twin) unless `topic` is given.
    @discardableResult
    func publish(count: Int, prefix: String, source: LeadSource = .csvImport, topic: String? = nil) async throws -> [String: Date] {
        let producer = try KafkaProducer(configuration: environment.kafka, properties: ["linger.ms": "5"])
        var discovered: [String: Date] = [:]
        discovered.reserveCapacity(count)
        var next = 0
        while next < count {
            let range = next..<min(count, next + 5_000)
            let leads = range.map { lead($0, prefix: prefix, source: source) }
            let records = try leads.map {
                try environment.codec.record($0, topic: topic ?? environment.topics.leadsDiscovered(for: $0.source), key: $0.leadID.rawValue)
            }
            _ = try await producer.send(records)
            for lead in leads { discovered[lead.leadID.rawValue] = lead.discoveredAt }
            next = range.upperBound
        }
        await producer.close()
        return discovered
    }

    /// Records stored on every topic of the namespace now (sum over partitions of high − low).
    func recordCount() async throws -> Int {
        let admin = try KafkaAdmin(configuration: environment.kafka)
        var total = 0
        for topic in environment.topics.all {
            let partitions = try await admin.partitions(of: topic)
            for (_, marks) in try await admin.watermarks(partitions) { total += Int(marks.high - marks.low) }
        }
        return total
    }

    /// What every topic of the namespace holds, read back from the broker: each topic's records
    /// and their key, value and header bytes (topics named without the namespace, the largest
    /// first), and the bytes the reader received to read them: the batches as the broker keeps
    /// them (compressed as their producers wrote them) with the fetch protocol around them, so a
    /// little more than the broker stores.
    func readBack() async throws -> (volumes: [TopicVolume], fetchedBytes: Int) {
        let admin = try KafkaAdmin(configuration: environment.kafka)
        var partitions: [TopicPartition] = []
        for topic in environment.topics.all { partitions += try await admin.partitions(of: topic) }
        let ends = try await admin.watermarks(partitions).filter { $0.value.high > $0.value.low }.mapValues(\.high)
        guard !ends.isEmpty else { return ([], 0) }
        let received = Mutex((bytes: Int64(0), reports: 0))
        let reader = try KafkaConsumer(
            configuration: environment.kafka, startingAt: ends.mapValues { _ in KafkaConsumer.beginning },
            properties: ["fetch.wait.max.ms": "50", "statistics.interval.ms": "100"],
            statisticsObserver: { statistics in received.withLock { $0 = (statistics.receivedBytes, $0.reports + 1) } })
        var volumes: [String: TopicVolume] = [:]
        do {
            try await reader.read(upTo: ends, timeout: .seconds(120)) { record in
                let bytes = (record.key?.count ?? 0) + (record.value?.count ?? 0)
                    + record.headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
                let topic = record.topic.hasPrefix(namespace + ".") ? String(record.topic.dropFirst(namespace.count + 1)) : record.topic
                volumes[topic, default: TopicVolume(topic: topic)].add(bytes: bytes)
            }
            // The first report after the last record counts every byte fetched for it.
            let reportsAtEnd = received.withLock { $0.reports }
            while received.withLock({ $0.reports }) <= reportsAtEnd {
                _ = try await reader.poll(maxRecords: 5000, timeoutMilliseconds: 50)
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return (volumes.values.sorted { $0.bytes > $1.bytes }, Int(received.withLock { $0.bytes }))
    }

    /// The latest `lead.state` of `leadID`, as `leadctl show` reads it.
    func latestState(of leadID: String) async throws -> LeadState? {
        try await LeadControl(environment: environment).latestState(of: LeadID(leadID)).state
    }
}

/// Follows the namespace's lead pool from its beginning and keeps each lead's `finishedAt`.
final class PoolWatcher: Sendable {
    /// What the reading task and the benchmark share.
    private final class State: Sendable {
        let finished = Mutex<[String: Date]>([:])
        let failure = Mutex<String?>(nil)
    }

    private let state = State()
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// The two fields of a pool entry the watcher needs. Decoding only these (not the whole
    /// profile, nor validating it) keeps the benchmark's own CPU low: it shares the two cores
    /// with the pipeline it measures.
    private struct PoolEntryTimes: Decodable {
        let leadID: String
        let finishedAt: String
    }

    /// Starts following `run`'s pool topic.
    init(run: PipelineRun) async throws {
        let environment = run.environment
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let partitions = try await admin.partitions(of: environment.topics.leadPool)
        let reader = try KafkaConsumer(
            configuration: environment.kafka,
            startingAt: Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaConsumer.beginning) }),
            properties: ["fetch.wait.max.ms": "50"])
        let state = self.state
        task.withLock {
            $0 = Task {
                let decoder = JSONDecoder()
                while !Task.isCancelled {
                    do {
                        let batch = try await reader.poll(maxRecords: 2_000, timeoutMilliseconds: 100)
                        var decoded: [(String, Date)] = []
                        for record in batch {
                            if let value = record.value, let entry = try? decoder.decode(PoolEntryTimes.self, from: Data(value)),
                               let finishedAt = ISO8601.parse(entry.finishedAt) {
                                decoded.append((entry.leadID, finishedAt))
                            }
                        }
                        state.finished.withLock { map in
                            for (lead, at) in decoded where map[lead] == nil { map[lead] = at }
                        }
                    } catch {
                        state.failure.withLock { $0 = "\(error)" }
                        break
                    }
                }
                await reader.close()
            }
        }
    }

    /// `finishedAt` of every lead seen so far whose id starts with `prefix`.
    func finished(prefix: String) -> [String: Date] {
        state.finished.withLock { $0.filter { $0.key.hasPrefix(prefix) } }
    }

    func finishedAt(_ lead: String) -> Date? { state.finished.withLock { $0[lead] } }

    /// Waits until `count` leads with `prefix` are in the pool, or `timeout` seconds pass;
    /// checks the run's processes every second. Returns whether all arrived.
    func wait(for count: Int, prefix: String, timeout: Double, run: PipelineRun) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var lastCheck = Date.distantPast
        while Date() < deadline {
            if let failure = state.failure.withLock({ $0 }) { throw BenchError("reading the lead pool: \(failure)") }
            let seen = state.finished.withLock { map in map.keys.reduce(0) { $0 + ($1.hasPrefix(prefix) ? 1 : 0) } }
            if seen >= count { return true }
            if Date().timeIntervalSince(lastCheck) >= 1 {
                try run.checkAlive()
                lastCheck = Date()
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    func stop() async {
        let task = task.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}
