import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import LeadModelTestSupport
import Streaming
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs the pipeline's executables as real processes against the test broker, under a topic
/// namespace of their own, and reads what they produce.
final class PipelineHarness: @unchecked Sendable {  // used from one test at a time
    let namespace: String
    let environment: PipelineEnvironment
    let accountID: AccountID = "acct-acme"
    let offerID: OfferID = "offer-outbound"
    private(set) var baseEnvironment: [String: String]
    private var running: [(name: String, process: Process)] = []
    private let logDirectory: URL

    /// Simulated providers that never fail and always find a profile: every phase of every lead
    /// is done, so a test can count runs, pool entries and charges exactly.
    static let reliableProviders = [
        "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0", "SIM_ACTIVITY_FAILURE_RATE": "0",
        "SIM_LINKEDIN_NOT_FOUND_RATE": "0", "SIM_X_NOT_FOUND_RATE": "0",
    ]

    /// The folder the executables were built into (`swift build` puts them in .build/debug).
    static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["PIPELINE_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return TestBroker.projectRoot.appendingPathComponent(".build/debug")
    }()

    init(partitions: Int = 4, environment extra: [String: String] = [:]) async throws {
        namespace = "sys-" + UUID().uuidString.prefix(8).lowercased()
        baseEnvironment = [
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers,
            "PIPELINE_NAMESPACE": namespace,
            "PIPELINE_PARTITIONS": String(partitions),
            "SIM_LATENCY_SCALE": "0.02",
            "LOG_LEVEL": "info",
            "KAFKA_PROPERTY_SESSION_TIMEOUT_MS": "3000",
            "KAFKA_PROPERTY_HEARTBEAT_INTERVAL_MS": "500",
            "KAFKA_PROPERTY_FETCH_WAIT_MAX_MS": "50",
            "KAFKA_PROPERTY_LOG__LEVEL": "3",
        ].merging(extra) { _, new in new }
        environment = try PipelineEnvironment(service: "system-test", environment: baseEnvironment)
        logDirectory = TestBroker.projectRoot.appendingPathComponent(".run/test-logs/\(namespace)")
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        for service in ["coordinator", "profile-stage", "activity-stage", "scoring-stage", "finalize-stage"] {
            guard FileManager.default.isExecutableFile(atPath: Self.binDirectory.appendingPathComponent(service).path) else {
                throw HarnessError("\(service) is not built in \(Self.binDirectory.path); run `swift build` first (Deploy/test.sh does)")
            }
        }
        try await environment.ensureTopics()
        try await publish(account: AccountConfig(accountID: accountID, autopilot: AutopilotRule(), updatedAt: Date()))
        try await publish(offer: OfferConfig.sample(offerID: offerID, accountID: accountID))
    }

    /// The environment a service of this harness sees, for running one in the test process.
    func environment(for service: String, extra: [String: String] = [:]) throws -> PipelineEnvironment {
        try PipelineEnvironment(service: service, environment: baseEnvironment.merging(extra) { _, new in new })
    }

    // MARK: - Processes

    /// Starts one instance of `service` with the harness's environment plus `extra`.
    @discardableResult
    func start(_ service: String, environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(service)
        process.environment = ProcessInfo.processInfo.environment.merging(baseEnvironment) { _, new in new }
            .merging(extra) { _, new in new }
        let log = logDirectory.appendingPathComponent("\(service)-\(running.count).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        running.append((service, process))
        return process
    }

    static let stages = ["profile-stage", "activity-stage", "scoring-stage", "finalize-stage"]

    /// The consumer groups that committing processes of ``startAll(environment:)`` consume in
    /// (the coordinator's and the stages'), whose lag drains to zero once the work is done.
    var groupsOfStartAll: [ConsumerGroup] {
        environment.topics.consumerGroups.filter { $0.commitsOffsets && (["coordinator"] + Self.stages).contains($0.service) }
    }

    func startAll(environment extra: [String: String] = [:]) throws {
        for service in ["coordinator"] + Self.stages {
            try start(service, environment: extra)
        }
    }

    /// Sends `signal` and waits for the process to exit; returns its status.
    @discardableResult
    func stop(_ process: Process, signal: Int32 = SIGTERM, timeoutSeconds: Double = 20) async throws -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        try await waitUntil("pid \(process.processIdentifier) exits", timeoutSeconds: timeoutSeconds) { !process.isRunning }
        return process.terminationStatus
    }

    /// Every line the processes of this harness wrote to stdout and stderr so far, by log file.
    func logLines() throws -> [String: [String]] {
        var lines: [String: [String]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: logDirectory.path) {
            let text = try String(contentsOf: logDirectory.appendingPathComponent(name), encoding: .utf8)
            lines[name] = text.split(separator: "\n").map(String.init)
        }
        return lines
    }

    /// Stops every process and deletes the namespace's topics.
    func tearDown() async {
        for (_, process) in running where process.isRunning {
            kill(process.processIdentifier, SIGTERM)
        }
        for (_, process) in running {
            _ = try? await waitUntil("exit", timeoutSeconds: 15) { !process.isRunning }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        running.removeAll()
        if let admin = try? KafkaAdmin(configuration: environment.kafka) {
            try? await admin.deleteTopics(environment.topics.all)
        }
    }

    /// Runs the built `leadctl` in the harness's namespace; returns its exit status and stdout.
    func leadctl(_ arguments: [String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = PipelineHarness.binDirectory.appendingPathComponent("leadctl")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging([
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": namespace,
            "KAFKA_PROPERTY_LOG__LEVEL": "3",
        ]) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        // The exit comes through terminationHandler: waitUntilExit() can hang in a test.
        let exited = AsyncStream<Int32> { continuation in
            process.terminationHandler = { continuation.yield($0.terminationStatus); continuation.finish() }
        }
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        var status: Int32 = -1
        for await code in exited { status = code }
        return (status, String(decoding: data, as: UTF8.self))
    }

    // MARK: - Publishing

    func publish(leads: [LeadDiscovered]) async throws {
        let producer = try KafkaProducer(configuration: environment.kafka)
        let records = try leads.map {
            try environment.codec.record($0, topic: environment.topics.leadsDiscovered(for: $0.source), key: $0.leadID.rawValue)
        }
        _ = try await producer.send(records)
        await producer.close()
    }

    func publish<T: Message>(_ message: T, topic: String, key: String) async throws {
        let producer = try KafkaProducer(configuration: environment.kafka)
        _ = try await producer.send(environment.codec.record(message, topic: topic, key: key))
        await producer.close()
    }

    /// Publishes bytes as they are to the input topic, as a broken producer would.
    func publishRaw(_ bytes: [UInt8], key: String, headers: [KafkaHeader] = []) async throws {
        let producer = try KafkaProducer(configuration: environment.kafka)
        _ = try await producer.send(ProducerRecord(topic: environment.topics.leadsDiscovered, key: Array(key.utf8),
                                                   value: bytes, headers: headers))
        await producer.close()
    }

    /// Publishes an account's configuration; for an account other than the harness's, also an
    /// offer of its own (``offerID(of:)``) unless `withOffer` is false: a lead names an offer of
    /// its account.
    func publish(account: AccountConfig, withOffer: Bool = true) async throws {
        try await publish(account, topic: environment.topics.accounts, key: account.accountID.rawValue)
        if withOffer && account.accountID != accountID {
            try await publish(offer: OfferConfig.sample(offerID: offerID(of: account.accountID), accountID: account.accountID))
        }
    }

    /// The offer the harness's leads of `account` name: its own for the harness's account, and
    /// one per other account, published with that account's configuration.
    func offerID(of account: AccountID) -> OfferID {
        account == accountID ? offerID : OfferID("\(offerID)-\(account.rawValue)")
    }

    /// Publishes an ``AccountBillingEvent`` as the billing system does (`source`
    /// `billing-system`, a new event id) for `account` (the harness's by default).
    func publishBilling(_ state: BillingState, account: AccountID? = nil, reason: String = "set by a system test") async throws {
        let event = AccountBillingEvent(accountID: account ?? accountID, state: state, reason: reason, source: "billing-system",
                                        occurredAt: Date(), eventID: UUID().uuidString)
        try await publish(event, topic: environment.topics.billingEvents, key: event.accountID.rawValue)
    }

    func publish(offer: OfferConfig) async throws {
        try await publish(offer, topic: environment.topics.offers, key: offer.offerID.rawValue)
    }

    /// `count` leads of the harness's account and offer, modes and platforms mixed. Their profile
    /// handles end in `handleSuffix` (the namespace by default: other profiles in every test);
    /// tests comparing two pipelines pass the same suffix to both, for the same profiles.
    /// A `scoring-only` lead carries the profile it is scored on (``poolProfile(for:name:)``), as
    /// the input contract asks; without one it would run in full.
    func makeLeads(_ count: Int, search: SearchID = "search-1", modes: [ModeName] = [.full],
                   reEnrichTypes: [ReEnrichType]? = nil, prefix: String = "lead", account: AccountID? = nil,
                   handleSuffix: String? = nil) -> [LeadDiscovered] {
        (0..<count).map { i in
            let handle = "\(prefix)-\(i)-\(handleSuffix ?? namespace)"
            let platforms = i % 3  // 0: both, 1: LinkedIn only, 2: X only
            let mode = modes[i % modes.count]
            return LeadDiscovered(
                leadID: LeadID("\(prefix)-\(i)"), accountID: account ?? accountID, offerID: offerID(of: account ?? accountID),
                sourceSearchID: search,
                source: i % 5 == 0 ? .keywordSearch : .csvImport, name: "Person \(i)",
                linkedinURL: platforms != 2 ? "https://www.linkedin.com/in/\(handle)" : nil,
                xURL: platforms != 1 ? "https://x.com/\(handle.replacingOccurrences(of: "-", with: "_").prefix(15))" : nil,
                mode: mode, reEnrichTypes: mode == .reEnrich ? reEnrichTypes : nil, discoveredAt: Date(),
                poolProfile: mode == .scoringOnly ? Self.poolProfile(for: LeadID("\(prefix)-\(i)"), name: "Person \(i)") : nil)
        }
    }

    /// A small profile from the lead pool: a LinkedIn record and a company, no X, no activity.
    static func poolProfile(for lead: LeadID, name: String) -> EnrichedProfile {
        var profile = EnrichedProfile(leadID: lead, name: name)
        profile.linkedin = LinkedInProfile(
            publicIdentifier: lead.rawValue, fullName: name, headline: "VP Sales at Pool Corp", jobTitle: "VP Sales",
            company: "Pool Corp", companyLinkedInID: nil, location: "Austin, Texas, United States",
            experiences: [Experience(company: "Pool Corp", title: "VP Sales", startDate: nil)], education: [], skills: [],
            certifications: [], languages: [], connections: 300, followers: 300)
        profile.company = Company(name: "Pool Corp", employeeCount: 200, industry: "Computer Software")
        return profile
    }

    // MARK: - Reading

    /// Every record of `topic` up to its current end, decoded as `T` (undecodable ones skipped).
    /// A read whose end does not arrive within 30 s is made again with a new reader and new ends,
    /// up to three times. The harness reads while the pipeline writes, and the local broker can
    /// keep a batch from a reader while several producers write its partition: a clean-clone CI
    /// run once failed on this read of `lead.pool` after the 60 s outage test.
    func readAll<T: Message>(_ type: T.Type, topic: String) async throws -> [(key: String, value: T)] {
        try await readAllRecords(topic: topic).compactMap { record in
            (try? environment.codec.decode(T.self, record: record)).map { (record.keyString ?? "", $0) }
        }
    }

    /// Every record of `topic` up to its current end, tombstones too, read as ``readAll(_:topic:)`` reads.
    func readAllRecords(topic: String) async throws -> [ConsumerRecord] {
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let partitions = try await admin.partitions(of: topic)
        var attempt = 1
        while true {
            var records: [ConsumerRecord] = []
            do {
                try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka, admin: admin,
                                                  timeout: .seconds(30)) { records.append($0) }
                return records
            } catch let timeout as KafkaConsumer.ReadToEndTimeout where attempt < 3 {
                print("harness: \(timeout); reading \(topic) again with a new reader")
                attempt += 1
            }
        }
    }

    /// Starts the coordinator and every stage but finalize, whose requests the returned reader
    /// gets: the test is the finalize stage, so that it can answer as it chooses (again, late,
    /// with something beside).
    func startAsTheFinalizeStage() throws -> KafkaConsumer {
        try start("coordinator")
        for stage in ["profile-stage", "activity-stage", "scoring-stage"] { try start(stage) }
        return try KafkaConsumer(configuration: environment.kafka, groupID: uniqueTopicName("finalize"),
                                 topics: environment.topics.stageInputs(.finalize), properties: TestBroker.fastGroupProperties)
    }

    /// Waits until the lead pool holds `count` distinct leads; returns every pool record.
    func waitForPool(_ count: Int, timeoutSeconds: Double = 180) async throws -> [(key: String, value: LeadPoolEntry)] {
        var entries: [(key: String, value: LeadPoolEntry)] = []
        try await waitUntil("\(count) leads in the pool", timeoutSeconds: timeoutSeconds, pollMilliseconds: 500) {
            entries = try await readAll(LeadPoolEntry.self, topic: environment.topics.leadPool)
            return Set(entries.map(\.key)).count >= count
        }
        return entries
    }

    /// The latest changelog state of every lead, with the profiles of the pool entries ready
    /// leads' states refer to (throws when one is not there), unless `loadingPoolEntries` is false.
    func latestStates(loadingPoolEntries: Bool = true) async throws -> [LeadID: LeadState] {
        var states: [LeadID: LeadState] = [:]
        for (_, state) in try await readAll(LeadState.self, topic: environment.topics.leadState) {
            states[state.leadID] = state
        }
        guard loadingPoolEntries else { return states }
        let missing = try await PoolEntryReader.loadProfiles(&states, codec: environment.codec, configuration: environment.kafka).all
        guard missing.isEmpty else { throw PoolEntriesMissing(leads: missing) }
        return states
    }

    /// The last progress snapshot of `search`, if any.
    func latestProgress(of search: SearchID) async throws -> ProgressSnapshot? {
        try await readAll(ProgressSnapshot.self, topic: environment.topics.progress).last { $0.value.searchID == search }?.value
    }
}

/// Ready leads' states refer to pool entries that are not there.
struct PoolEntriesMissing: Error {
    let leads: [LeadID]
}

/// Runs `body` with a new harness and tears it down afterwards, also when `body` throws.
func withPipeline(partitions: Int = 4, environment: [String: String] = [:],
                  _ body: (PipelineHarness) async throws -> Void) async throws {
    let harness = try await PipelineHarness(partitions: partitions, environment: environment)
    do {
        try await body(harness)
    } catch {
        await harness.tearDown()
        throw error
    }
    await harness.tearDown()
}

/// The status and body of a GET of `address`.
func httpGet(_ address: String) async throws -> (Int, String) {
    let (data, response) = try await URLSession.shared.data(from: URL(string: address)!)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
