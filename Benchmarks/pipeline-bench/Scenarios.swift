import Foundation
import Kafka
import LeadModel
import LeadRules
import Stages
import Streaming

/// Provider latencies of scenarios c, d, e and f: LinkedIn 400 ms, X 250 ms, activity 300 ms,
/// scoring 600 ms, each ±50 %.
let slowProviders = [
    "SIM_LINKEDIN_LATENCY_MS": "400", "SIM_X_LATENCY_MS": "250", "SIM_ACTIVITY_LATENCY_MS": "300",
    "SIM_SCORING_LATENCY_MS": "600", "SIM_LATENCY_JITTER": "0.5",
]
/// Scenario b: every simulated latency zero.
let instantProviders = ["SIM_LATENCY_SCALE": "0"]

/// The benchmark's scenarios; each adds its rows and section to the report.
struct Scenarios {
    let options: Options
    var report = Report()
    /// The broker's process when it runs on this machine: its CPU is read beside the pipelines'.
    let broker: BrokerProcess?

    init(options: Options) {
        self.options = options
        broker = BrokerProcess.listening(on: options.bootstrap)
    }

    func command(_ scenario: String, _ flags: String = "") -> String {
        "`\(Options.invokedPath) --scenario \(scenario)\(flags.isEmpty ? "" : " " + flags) --bootstrap \(options.bootstrap)`"
    }

    // MARK: - a) the ceiling

    /// Records/s through produce → consume with the project's Kafka library, for records of 200
    /// bytes (see ``measureCeiling(recordBytes:count:)``).
    mutating func ceiling() async throws -> Double {
        let count = options.ceilingRecords
        let ceiling = try await measureCeiling(recordBytes: 200, count: count)
        report.add("a) ceiling: produce → consume, 200-byte records", String(format: "%.0f records/s", ceiling.endToEnd),
                   latency: ceiling.latency.text + " (per record)")
        report.sections.append("""
        ### a) The ceiling: produce → consume with the project's Kafka library

        Command: \(command("a", "--ceiling-records \(count)"))

        One topic of \(options.partitions) partitions; a group consumer (joined before the first send) reads
        while one producer writes \(count) records of 200 bytes (acks=all, idempotent, linger.ms=10,
        batches of 10,000 with 8 in flight). Timed from the first send to the last record consumed.

        | measure | value |
        |---|---|
        | records consumed | \(ceiling.received) of \(count) |
        | end to end (produce → consume) | \(String(format: "%.0f", ceiling.endToEnd)) records/s |
        | produce alone (first send → last acknowledgement) | \(String(format: "%.0f", ceiling.produceRate)) records/s |
        | produce-to-consume latency per record (every 10th) | \(ceiling.latency.text), max \(LatencySummary.format(ceiling.latency.max)) |

        """)
        return ceiling.endToEnd
    }

    struct CeilingFigures {
        var received: Int
        var endToEnd: Double
        var produceRate: Double
        var latency: LatencySummary
    }

    /// A group consumer on a topic of `partitions` partitions reads while a producer writes
    /// `count` records of `recordBytes` bytes (batches of 10,000, 8 in flight, as kafka-bench does).
    func measureCeiling(recordBytes: Int, count: Int) async throws -> CeilingFigures {
        let configuration = KafkaConfiguration(bootstrapServers: options.bootstrap, clientID: "pipeline-bench")
        let admin = try KafkaAdmin(configuration: configuration)
        let topic = "bench-ceiling-" + UUID().uuidString.prefix(6).lowercased()
        let partitions = options.partitions
        try await admin.createTopics([TopicSpecification(name: topic, partitions: partitions)])
        defer { Task { [admin] in try? await admin.deleteTopics([topic]) } }
        let consumer = try KafkaConsumer(
            configuration: configuration, groupID: "bench-ceiling-\(UUID().uuidString.prefix(6))", topics: [topic],
            properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "1000", "fetch.wait.max.ms": "10"])
        // Join the group before producing, so the consume rate is not the join time.
        let joinDeadline = Date().addingTimeInterval(30)
        while consumer.assignment.isEmpty {
            guard Date() < joinDeadline else { throw BenchError("the ceiling consumer did not join its group in 30 s") }
            _ = try await consumer.poll(maxRecords: 1, timeoutMilliseconds: 100)
        }
        let producer = try KafkaProducer(configuration: configuration, properties: ["linger.ms": "10"])
        let value = [UInt8](repeating: 0x61, count: recordBytes)
        let started = Date()
        let produce = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var sent = 0
                var inFlight = 0
                while sent < count {
                    if inFlight == 8 { try await group.next(); inFlight -= 1 }
                    let batch = (sent..<min(count, sent + 10_000)).map {
                        ProducerRecord(topic: topic, partition: Int32($0 % partitions), key: nil, value: value)
                    }
                    group.addTask { _ = try await producer.send(batch) }
                    inFlight += 1
                    sent += batch.count
                }
                try await group.waitForAll()
            }
            return Date()
        }
        var received = 0
        var latencies: [Double] = []
        latencies.reserveCapacity(count / 10 + 1)
        let deadline = Date().addingTimeInterval(options.timeout)
        while received < count && Date() < deadline {
            let batch = try await consumer.poll(maxRecords: 10_000, timeoutMilliseconds: 100)
            guard let last = batch.last else { continue }
            let nowMs = Date().timeIntervalSince1970 * 1000
            // Every tenth record's produce-to-consume time (its CreateTime is the send time).
            for record in batch where record.offset % 10 == 0 {
                if let created = record.timestampMilliseconds { latencies.append((nowMs - Double(created)) / 1000) }
            }
            received += batch.count
            try consumer.markDone(last)
        }
        let finished = Date()
        let produced = try await produce.value
        await consumer.close()
        await producer.close()
        return CeilingFigures(received: received, endToEnd: Double(received) / finished.timeIntervalSince(started),
                              produceRate: Double(count) / produced.timeIntervalSince(started), latency: LatencySummary(latencies))
    }

    // MARK: - The timed pipeline run (b, c, f)

    /// Starts the pipeline in a fresh namespace, waits until a few warm-up leads come through
    /// (groups joined, tables read), publishes `leads` leads and waits for all of them in the pool.
    func timedRun(label: String, command: String, leads: Int, extra: [String: String],
                  instances: [String: Int] = [:], countMessages: Bool = false) async throws -> PipelineFigures {
        let run = try await PipelineRun(label: label, options: options, extra: extra)
        do {
            let figures = try await timedRun(run, label: label, command: command, leads: leads, instances: instances,
                                             countMessages: countMessages)
            await run.tearDown()
            return figures
        } catch {
            await run.tearDown()
            throw error
        }
    }

    private func timedRun(_ run: PipelineRun, label: String, command: String, leads: Int, instances: [String: Int],
                          countMessages: Bool) async throws -> PipelineFigures {
        let watcher = try await PoolWatcher(run: run)
        defer { Task { await watcher.stop() } }
        let brokerAtStart = broker?.cpuSeconds()
        try run.startPipeline(instances: instances)
        try await warmUp(run, watcher: watcher)
        var warmUpLeads = options.partitions
        if instances.values.contains(where: { $0 > 1 }) {
            // Let the later members' rebalances settle before the clock starts.
            try await Task.sleep(for: .seconds(8))
            try await warmUp(run, watcher: watcher, prefix: "warm2-")
            warmUpLeads += options.partitions
        }
        let before = countMessages ? try await run.recordCount() : 0
        log("\(label): publishing \(leads) leads")
        let cpuBefore = run.totalCPUSeconds()
        let brokerBefore = broker?.cpuSeconds()
        let started = Date()
        let discovered = try await run.publish(count: leads, prefix: "m-")
        let isComplete = try await watcher.wait(for: leads, prefix: "m-", timeout: options.timeout, run: run)
        if !isComplete { log("\(label): timed out after \(Int(options.timeout)) s") }
        let cpuAtEnd = run.cpuSeconds()
        let timedCPU = cpuAtEnd.reduce(0) { $0 + $1.seconds } - cpuBefore
        let brokerAtEnd = broker?.cpuSeconds()
        let brokerTimedCPU = brokerAtEnd.flatMap { end in brokerBefore.map { end - $0 } }
        let brokerCPU = brokerAtEnd.flatMap { end in brokerAtStart.map { end - $0 } }
        let finished = watcher.finished(prefix: "m-")
        var messagesPerLead: Double?
        var volumes: [TopicVolume]?
        var fetchedBytes: Int?
        if countMessages {
            try await Task.sleep(for: .seconds(2))  // the coordinator's last changelog and progress writes
            messagesPerLead = Double(try await run.recordCount() - before) / Double(leads)
            (volumes, fetchedBytes) = try await run.readBack()
        }
        let memory = run.peakMemory()
        let end = finished.values.max() ?? Date()
        let latencies = finished.compactMap { lead, at in discovered[lead].map { at.timeIntervalSince($0) } }
        let figures = PipelineFigures(
            label: label, command: command, published: leads, completed: finished.count,
            seconds: end.timeIntervalSince(started), latency: LatencySummary(latencies), messagesPerLead: messagesPerLead,
            volumes: volumes, fetchedBytes: fetchedBytes, leadsInNamespace: leads + warmUpLeads, memory: memory, cpu: cpuAtEnd,
            timedCPUSeconds: timedCPU, brokerCPUSeconds: brokerCPU, brokerTimedCPUSeconds: brokerTimedCPU,
            cpuSecondsAfterReadBack: countMessages ? run.totalCPUSeconds() : nil)
        log("\(label): \(figures.countText), \(String(format: "%.1f", figures.leadsPerSecond)) leads/s, \(figures.latency.text)")
        return figures
    }

    func warmUp(_ run: PipelineRun, watcher: PoolWatcher, prefix: String = "warm-") async throws {
        try await run.publish(count: options.partitions, prefix: prefix)
        guard try await watcher.wait(for: options.partitions, prefix: prefix, timeout: 90, run: run) else {
            throw BenchError("warm-up leads did not reach the pool in 90 s (namespace \(run.namespace))")
        }
    }

    static func table(_ runs: [PipelineFigures]) -> String {
        var text = "| run | leads | leads/s | per-lead latency | max | peak RSS (VmHWM) | CPU time (start → last lead) |\n|---|---|---|---|---|---|---|\n"
        for run in runs {
            text += "| \(run.label) | \(run.countText) | \(String(format: "%.1f", run.leadsPerSecond)) | \(run.latency.text) "
                + "| \(LatencySummary.format(run.latency.max)) | \(run.memoryText) | \(run.cpuText) |\n"
        }
        return text
    }

    /// The five processes' and the broker's CPU per lead while the timed leads went through.
    static func cpuLine(_ figures: PipelineFigures) -> String {
        let broker = figures.brokerTimedCPUSeconds.map { "\(figures.millisecondsPerLead($0)) ms" } ?? "not measured (not on this machine)"
        return "CPU per lead while the timed leads went through: the five processes "
            + "\(figures.millisecondsPerLead(figures.timedCPUSeconds)) ms, the broker \(broker)."
    }

    // MARK: - b) zero-latency providers

    mutating func zeroLatency(ceiling: Double?) async throws {
        let leads = options.leads ?? 5_000
        let command = command("b", "--leads \(leads)")
        let figures = try await timedRun(label: "b-zero-latency", command: command, leads: leads, extra: instantProviders,
                                         countMessages: true)
        let perLead = figures.messagesPerLead ?? .nan
        var ratioText = "n/a (run scenario a in the same run)"
        var verdictText = ""
        if let ceiling {
            let ratio = figures.leadsPerSecond / (ceiling / perLead)
            ratioText = String(format: "%.2f", ratio)
            verdictText = verdict(ratio >= 0.5)
        }
        report.add("b) pipeline, zero-latency providers, 1 instance each", String(format: "%.1f leads/s", figures.leadsPerSecond),
                   latency: figures.latency.text)
        // The ceiling again with records of the pipeline's mean size, at most about 200 MB of them.
        let meanBytes = Int((figures.meanRecordBytes ?? 200).rounded())
        let sizedCount = min(options.ceilingRecords, 200_000_000 / max(1, meanBytes))
        let sized = try await measureCeiling(recordBytes: meanBytes, count: sizedCount)
        let sizedRatio = figures.leadsPerSecond / (sized.endToEnd / perLead)
        report.add("b) messages per lead (all topics)", String(format: "%.1f, mean %d bytes", perLead, meanBytes), latency: "")
        report.add("b) leads/s ÷ (ceiling ÷ messages per lead)", ratioText, latency: "", target: "≥ 0.5", verdict: verdictText)
        report.add("b) the same against a ceiling of \(meanBytes)-byte records (\(String(format: "%.0f", sized.endToEnd)) records/s)",
                   String(format: "%.2f", sizedRatio), latency: "")
        report.sections.append("""
        ### b) The pipeline with zero-latency simulated providers

        Command: \(command)

        `SIM_LATENCY_SCALE=0`, failure and not-found rates 0, one instance of the coordinator and of
        each stage, default `STAGE_MAX_IN_FLIGHT` (256). Warm-up leads first (groups joined, tables
        read); then \(leads) leads are published and timed from the first send to the last lead's
        `finishedAt` in the pool. Messages per lead = records added to every topic of the namespace
        (watermarks before and after) ÷ leads. Mean record size = key, value and header bytes of
        every record of the namespace, read back after the run.

        \(Self.table([figures]))
        Messages per lead: \(String(format: "%.1f", perLead)), of \(meanBytes) bytes on average. Ceiling ÷ messages
        per lead = \(ceiling.map { String(format: "%.0f", $0 / perLead) } ?? "n/a") leads/s; ratio \(ratioText) (target ≥ 0.5).
        \(Self.cpuLine(figures))

        What each topic of the namespace held after the run, per lead (the \(leads) leads and
        \(figures.leadsInNamespace - leads) warm-up leads):

        \(figures.volumeTable)
        The ceiling measured again as in a), right after the run, with \(sizedCount) records of \(meanBytes) bytes:
        \(String(format: "%.0f", sized.endToEnd)) records/s end to end (produce alone \(String(format: "%.0f", sized.produceRate)) records/s,
        per record \(sized.latency.text)). Against it, the pipeline's \(String(format: "%.1f", figures.leadsPerSecond)) leads/s ×
        \(String(format: "%.1f", perLead)) messages is a ratio of \(String(format: "%.2f", sizedRatio)). The verdict above keeps the
        200-byte ceiling of a).

        """)
    }

    // MARK: - c) slow providers: concurrent stages against one-at-a-time designs

    mutating func slowProviderComparison() async throws {
        let keyLeads = options.leads ?? 3_000
        let partitionLeads = options.partitionLeads
        let keyCommand = command("c", "--leads \(keyLeads) --partition-leads \(partitionLeads) --sequential-leads \(options.sequentialLeads) --rounds \(options.rounds)")
        // The two designs alternate, so a slow spell of the machine falls on both.
        var perKey: [PipelineFigures] = []
        var perPartition: [PipelineFigures] = []
        for round in 1...options.rounds {
            let suffix = options.rounds > 1 ? ", round \(round)" : ""
            perKey.append(try await timedRun(label: "c-per-key (STAGE_ORDERING=key)\(suffix)", command: keyCommand, leads: keyLeads,
                                             extra: slowProviders))
            perPartition.append(try await timedRun(
                label: "c-per-partition (STAGE_ORDERING=partition)\(suffix)", command: keyCommand, leads: partitionLeads,
                extra: slowProviders.merging(["STAGE_ORDERING": "partition"]) { _, new in new }))
        }
        let sequential = try await sequentialJobs(count: options.sequentialLeads)
        let keyRate = perKey.map(\.leadsPerSecond).reduce(0, +) / Double(perKey.count)
        let partitionRate = perPartition.map(\.leadsPerSecond).reduce(0, +) / Double(perPartition.count)
        let overPartition = keyRate / partitionRate
        let overSequential = keyRate / sequential.leadsPerSecond
        let roundRatios = zip(perKey, perPartition).map { String(format: "%.1f×", $0.leadsPerSecond / $1.leadsPerSecond) }
        let mean = options.rounds > 1 ? ", mean of \(options.rounds) runs" : ""
        report.add("c) slow providers, 1 instance per stage\(mean)", String(format: "%.1f leads/s", keyRate),
                   latency: perKey.map(\.latency.text).joined(separator: "; "))
        report.add("c) same, one record at a time per partition (12)\(mean)", String(format: "%.1f leads/s", partitionRate),
                   latency: perPartition.map(\.latency.text).joined(separator: "; "))
        report.add("c) one sequential job per lead, in-process", String(format: "%.2f leads/s", sequential.leadsPerSecond),
                   latency: sequential.latency.text)
        report.add("c) per-key ÷ per-partition", String(format: "%.1f×", overPartition)
                    + (options.rounds > 1 ? " (rounds: \(roundRatios.joined(separator: ", ")))" : ""),
                   latency: "", target: "≥ 20×", verdict: verdict(overPartition >= 20))
        report.add("c) per-key ÷ sequential", String(format: "%.0f×", overSequential), latency: "")
        report.sections.append("""
        ### c) Provider latency: concurrent stages against one-at-a-time designs

        Command: \(keyCommand)

        Latencies `SIM_LINKEDIN_LATENCY_MS=400 SIM_X_LATENCY_MS=250 SIM_ACTIVITY_LATENCY_MS=300
        SIM_SCORING_LATENCY_MS=600 SIM_LATENCY_JITTER=0.5` (each ±50 %, uniform), failures 0;
        \(options.partitions) partitions; one instance per service. The profile stage calls LinkedIn
        and X concurrently, so a lead's own phases take about 0.4 + 0.3 + 0.6 ≈ 1.3 s.

        - per key: the stage runner as shipped (`STAGE_ORDERING=key`, up to 256 requests in flight per stage).
        - per partition: the same executables with `STAGE_ORDERING=partition`: one request in flight
          per partition (a consume-process-commit loop per partition), so at most \(options.partitions)
          at once per stage (plus the priority twin's partitions, unused here).
        - sequential: in the benchmark process, no Kafka: the four stage handlers
          (`ProfileStageHandler`, `ActivityStageHandler`, `ScoringStageHandler`, `FinalizeStageHandler`)
          with the same simulated providers, called one after another per lead, one lead at a time.

        The per-key and per-partition runs alternate \(options.rounds) time\(options.rounds == 1 ? "" : "s"), each on a fresh
        namespace; the ratio is of the mean rates\(options.rounds > 1 ? " (each round's own ratio: \(roundRatios.joined(separator: ", ")))" : "").

        \(Self.table(perKey + perPartition + [sequential]))
        Per key ÷ per partition: \(String(format: "%.1f", overPartition))× (target ≥ 20×); per key ÷ sequential:
        \(String(format: "%.0f", overSequential))×.

        """)
    }

    /// Runs `count` leads through the four stage handlers in this process, one after another.
    func sequentialJobs(count: Int, prefix: String = "seq-", source: LeadSource = .csvImport) async throws -> PipelineFigures {
        let environment = try PipelineEnvironment(
            service: "pipeline-bench",
            environment: slowProviders.merging(["SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0",
                                                "SIM_ACTIVITY_FAILURE_RATE": "0", "SIM_LINKEDIN_NOT_FOUND_RATE": "0",
                                                "SIM_X_NOT_FOUND_RATE": "0"]) { _, new in new })
        let job = SequentialJob(simulation: environment.simulation)
        var latencies: [Double] = []
        let started = Date()
        for i in 0..<count {
            let lead = SequentialJob.lead(i, prefix: prefix, source: source)
            let leadStarted = Date()
            try await job.run(lead)
            latencies.append(Date().timeIntervalSince(leadStarted))
        }
        let seconds = Date().timeIntervalSince(started)
        log(String(format: "sequential: %d leads in %.1f s", count, seconds))
        return PipelineFigures(
            label: "sequential job per lead (in-process)", command: "", published: count, completed: count, seconds: seconds,
            latency: LatencySummary(latencies), messagesPerLead: nil, memory: [])
    }

    // MARK: - d) an intent lead behind a standard backlog

    mutating func priorityBehindBacklog() async throws {
        let backlog = options.backlog
        let command = command("d", "--backlog \(backlog)")
        let run = try await PipelineRun(label: "d", options: options, extra: slowProviders)
        // The same kind of lead by both routes: the priority twin of the input topic (what
        // `leadctl publish` and the input contract do for intent sources), and the input topic
        // itself, behind the backlog.
        let routes = [
            IntentRoute(prefix: "intent-", topic: run.environment.topics.leadsDiscoveredPriority),
            IntentRoute(prefix: "intent-std-", topic: run.environment.topics.leadsDiscovered),
        ]
        var outcomes: [IntentOutcome] = []
        var backlogFigures: PipelineFigures?
        do {
            let watcher = try await PoolWatcher(run: run)
            try run.startPipeline()
            try await warmUp(run, watcher: watcher)
            log("d: publishing a backlog of \(backlog) standard leads, then one intent lead on each input topic")
            let started = Date()
            let discovered = try await run.publish(count: backlog, prefix: "m-")
            var sentAt: [String: Date] = [:]
            for route in routes {
                sentAt[route.prefix] = try await run.publish(count: 1, prefix: route.prefix, source: .intentSearch, topic: route.topic)["\(route.prefix)0"]
            }
            for route in routes {
                outcomes.append(try await intentOutcome(route, sent: sentAt[route.prefix]!, run: run, watcher: watcher))
            }
            let backlogDone = try await watcher.wait(for: backlog, prefix: "m-", timeout: options.timeout, run: run)
            if !backlogDone { log("d: the backlog did not finish in \(Int(options.timeout)) s") }
            let finished = watcher.finished(prefix: "m-")
            backlogFigures = PipelineFigures(
                label: "standard backlog", command: command, published: backlog, completed: finished.count,
                seconds: (finished.values.max() ?? Date()).timeIntervalSince(started),
                latency: LatencySummary(finished.compactMap { lead, at in discovered[lead].map { at.timeIntervalSince($0) } }),
                messagesPerLead: nil, memory: run.peakMemory())
            await watcher.stop()
            await run.tearDown()
        } catch {
            await run.tearDown()
            throw error
        }
        // Each intent lead's own phases: the same lead (same handles, so the same simulated
        // latencies) through the four handlers in-process, alone.
        for index in outcomes.indices {
            outcomes[index].own = try await ownPhases(of: run.lead(0, prefix: outcomes[index].route.prefix, source: .intentSearch))
        }
        let priority = outcomes[0]
        let standard = outcomes[1]
        report.add("d) intent lead behind \(backlog) standard leads, on `leads.discovered.priority`: time to ready",
                   priority.latency.map { LatencySummary.format($0) } ?? "not ready (time-out)",
                   latency: String(format: "own phases %@", LatencySummary.format(priority.own)),
                   target: "≤ 3× own phases", verdict: verdict(priority.ratio <= 3) + String(format: " (%.1f×)", priority.ratio))
        report.add("d) the same on `leads.discovered`, behind the backlog", standard.latency.map { LatencySummary.format($0) } ?? "not ready (time-out)",
                   latency: String(format: "own phases %@", LatencySummary.format(standard.own)),
                   verdict: String(format: "%.1f×", standard.ratio))
        if let backlogFigures {
            report.add("d) the backlog itself", String(format: "%.1f leads/s", backlogFigures.leadsPerSecond),
                       latency: backlogFigures.latency.text)
        }
        let historyRows = Self.historyRows(priority.history, standard.history)
        report.sections.append("""
        ### d) One intent lead behind a standard backlog

        Command: \(command)

        Latencies of (c), one instance per service. After warm-up, \(backlog) standard leads
        (`csv-import`) are published to `leads.discovered`, then two leads with source
        `intent-search`: `intent-0` on `leads.discovered.priority` (the route the input contract
        gives intent sources, and `leadctl publish` takes), and `intent-std-0` on `leads.discovered`
        itself, behind the backlog. Both run their phases on the `.priority` twin topics. Time to
        ready = when the coordinator marked the lead ready (the `ready` entry of its history,
        written in the batch that writes its pool entry) − its `discoveredAt` (set when it was sent).
        Own phases = the same lead (same handles, hence the same simulated provider latencies; the
        scoring draw differs by run id) through the four handlers in-process with nothing else running.

        | lead | input topic | time to ready | own phases | ratio |
        |---|---|---|---|---|
        \(outcomes.map(\.row).joined(separator: "\n"))

        Target: ≤ 3× own phases for the lead on the route intent sources take.

        The two leads' histories in `lead.state` (coordinator clock, from when each was sent):

        | event | `intent-0` (priority topic) | `intent-std-0` (input topic) |
        |---|---|---|
        \(historyRows.joined(separator: "\n"))

        \(backlogFigures.map { Self.table([$0]) } ?? "")
        """)
    }

    struct IntentRoute {
        let prefix: String
        let topic: String
    }

    struct IntentOutcome {
        let route: IntentRoute
        /// Seconds from sent to ready at the coordinator; nil when it timed out.
        let latency: Double?
        /// (event, seconds since sent)
        let history: [(String, Double)]
        var own: Double = 0

        var ratio: Double { (latency ?? .infinity) / own }

        var row: String {
            "| `\(route.prefix)0` | `\(route.topic)` | \(latency.map { LatencySummary.format($0) } ?? "not ready") | "
                + "\(LatencySummary.format(own)) | \(String(format: "%.1f", ratio))× |"
        }
    }

    /// Waits for the intent lead of `route` and reads its history back from the changelog.
    func intentOutcome(_ route: IntentRoute, sent: Date, run: PipelineRun, watcher: PoolWatcher) async throws -> IntentOutcome {
        let id = "\(route.prefix)0"
        guard try await watcher.wait(for: 1, prefix: route.prefix, timeout: options.timeout, run: run),
              let finished = watcher.finishedAt(id) else {
            return IntentOutcome(route: route, latency: nil, history: [])
        }
        // The pool entry carries the finalize stage's clock; the lead is ready when the
        // coordinator applies that result and writes the entry, a hop later.
        var latency = finished.timeIntervalSince(sent)
        var history: [(String, Double)] = []
        if let state = try await run.latestState(of: id) {
            history = state.history.map { entry in
                (entry.kind.rawValue + (entry.phase.map { " \($0.rawValue)" } ?? ""), entry.at.timeIntervalSince(sent))
            }
            if let readyAt = state.history.last(where: { $0.kind == .ready })?.at {
                latency = max(latency, readyAt.timeIntervalSince(sent))
            }
        }
        log(String(format: "d: %@ (on %@) ready after %.2f s", id, route.topic, latency))
        return IntentOutcome(route: route, latency: latency, history: history)
    }

    /// Rows of two histories side by side, matched by position (both leads take the same phases).
    static func historyRows(_ first: [(String, Double)], _ second: [(String, Double)]) -> [String] {
        (0..<max(first.count, second.count)).map { index in
            let event = index < first.count ? first[index].0 : second[index].0
            let a = index < first.count ? String(format: "+%.2f s", first[index].1) : ""
            let b = index < second.count ? String(format: "+%.2f s", second[index].1) : ""
            return "| \(event) | \(a) | \(b) |"
        }
    }

    func ownPhases(of lead: LeadDiscovered) async throws -> Double {
        let environment = try PipelineEnvironment(service: "pipeline-bench", environment: slowProviders.merging([
            "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0", "SIM_ACTIVITY_FAILURE_RATE": "0",
            "SIM_LINKEDIN_NOT_FOUND_RATE": "0", "SIM_X_NOT_FOUND_RATE": "0",
        ]) { _, new in new })
        let job = SequentialJob(simulation: environment.simulation)
        let started = Date()
        try await job.run(lead)
        return Date().timeIntervalSince(started)
    }

    // MARK: - e) memory with a backlog

    mutating func memoryWithBacklog() async throws {
        var rows: [(backlog: Int, figures: PipelineFigures)] = []
        let sizes = options.memoryBacklogs
        let command = command("e", "--memory-backlogs \(sizes.map(String.init).joined(separator: ",")) --window \(Int(options.window))")
        for backlog in sizes {
            let run = try await PipelineRun(label: "e\(backlog / 1000)k", options: options, extra: slowProviders)
            do {
                log("e: publishing \(backlog) leads before the services start")
                let discovered = try await run.publish(count: backlog, prefix: "m-")
                let watcher = try await PoolWatcher(run: run)
                let started = Date()
                try run.startPipeline()
                let isDone = try await watcher.wait(for: backlog, prefix: "m-", timeout: options.window, run: run)
                let memory = run.peakMemory()
                let finished = watcher.finished(prefix: "m-")
                let end = isDone ? (finished.values.max() ?? Date()) : Date()
                let figures = PipelineFigures(
                    label: "backlog \(backlog)", command: command, published: backlog, completed: finished.count,
                    seconds: end.timeIntervalSince(started),
                    latency: LatencySummary(finished.compactMap { lead, at in discovered[lead].map { at.timeIntervalSince($0) } }),
                    messagesPerLead: nil, memory: memory)
                log("e: backlog \(backlog): \(figures.countText); \(figures.memoryText)")
                rows.append((backlog, figures))
                await watcher.stop()
                await run.tearDown()
            } catch {
                await run.tearDown()
                throw error
            }
        }
        var table = "| backlog | leads done in the window | leads/s | per-lead latency (done ones) | "
            + PipelineRun.services.joined(separator: " | ") + " |\n|---|---|---|---|" + String(repeating: "---|", count: PipelineRun.services.count) + "\n"
        for (backlog, figures) in rows {
            let peaks = PipelineRun.services.map { service in
                figures.memory.filter { $0.service == service }.map { "\($0.kilobytes / 1024) MB" }.joined(separator: ", ")
            }
            table += "| \(backlog) | \(figures.countText) | \(String(format: "%.1f", figures.leadsPerSecond)) | \(figures.latency.text) | "
                + peaks.joined(separator: " | ") + " |\n"
        }
        let largest = rows.flatMap(\.figures.memory).map(\.kilobytes).max() ?? 0
        var growth = "n/a"
        if let small = rows.first, let large = rows.last, rows.count > 1 {
            let ratios = PipelineRun.services.compactMap { service -> String? in
                guard let a = small.figures.memory.first(where: { $0.service == service })?.kilobytes,
                      let b = large.figures.memory.first(where: { $0.service == service })?.kilobytes else { return nil }
                return "\(service) \(String(format: "%.2f", Double(b) / Double(a)))×"
            }
            growth = ratios.joined(separator: ", ")
        }
        for (backlog, figures) in rows {
            let peak = figures.memory.map(\.kilobytes).max() ?? 0
            report.add("e) peak RSS, largest service, backlog \(backlog)", "\(peak / 1024) MB", latency: figures.latency.text,
                       target: "< 150 MB", verdict: verdict(peak < 150 * 1024))
        }
        report.add("e) growth \(sizes.first ?? 0) → \(sizes.last ?? 0) (VmHWM ratio)", growth, latency: "", target: "flat")
        report.sections.append("""
        ### e) Peak resident memory with a backlog

        Command: \(command)

        Latencies of (c). The backlog is published before any service starts; then the five
        services start and run for at most \(Int(options.window)) s (or until the backlog is done).
        VmHWM (peak resident set) is read from `/proc/PID/status` just before SIGTERM. Both sizes get the
        same window, so the larger backlog is only partly worked through: what is compared is
        whether holding a larger backlog (on the broker) costs the services memory.

        \(table)
        Largest peak: \(largest / 1024) MB (target < 150 MB per service). Growth: \(growth).

        """)
    }

    // MARK: - f) one against two instances of the slowest stage

    mutating func scaleSlowestStage() async throws {
        let leads = options.leads ?? 3_000
        let command = command("f", "--leads \(leads)")
        let one = try await timedRun(label: "f: 1 scoring-stage", command: command, leads: leads, extra: slowProviders)
        let two = try await timedRun(label: "f: 2 scoring-stage", command: command, leads: leads, extra: slowProviders,
                                     instances: ["scoring-stage": 2])
        report.add("f) slowest stage (scoring, 600 ms): 1 instance", String(format: "%.1f leads/s", one.leadsPerSecond),
                   latency: one.latency.text)
        report.add("f) slowest stage: 2 instances", String(format: "%.1f leads/s", two.leadsPerSecond), latency: two.latency.text,
                   target: "", verdict: String(format: "%.2f× of one", two.leadsPerSecond / one.leadsPerSecond))
        report.sections.append("""
        ### f) One against two instances of the slowest stage

        Command: \(command)

        Latencies of (c); scoring (600 ms ±50 %) is the slowest phase. Same leads, fresh namespace
        each; with two scoring instances the clock starts after a second warm-up, 8 s after the
        first, so both members hold partitions.

        \(Self.table([one, two]))
        """)
    }
}

/// One lead's whole enrichment in-process: the four stage handlers called one after another
/// with the simulated providers, merging each payload as the coordinator does.
struct SequentialJob {
    let profile: ProfileStageHandler
    let activity: ActivityStageHandler
    let scoring: ScoringStageHandler
    let finalize: FinalizeStageHandler
    static let accountID: AccountID = "acct-bench"
    static let offerID: OfferID = "offer-bench"

    init(simulation: SimulationSettings) {
        let offer = PipelineRun.offer(Self.offerID, Self.accountID)
        let account = AccountConfig(accountID: Self.accountID, autopilot: AutopilotRule(), updatedAt: Date())
        profile = ProfileStageHandler(
            linkedin: SimulatedLinkedInProvider(settings: simulation), x: SimulatedXProvider(settings: simulation),
            service: "pipeline-bench")
        activity = ActivityStageHandler(
            provider: SimulatedActivityProvider(settings: simulation), offers: { $0 == offer.offerID ? offer : nil },
            service: "pipeline-bench")
        scoring = ScoringStageHandler(
            offers: { $0 == offer.offerID ? offer : nil }, service: "pipeline-bench", simulatedLatency: simulation.scoring)
        finalize = FinalizeStageHandler(accounts: { $0 == account.accountID ? account : nil }, service: "pipeline-bench")
    }

    /// A lead as ``PipelineRun/lead(_:prefix:source:)`` makes it, outside any namespace.
    static func lead(_ i: Int, prefix: String, source: LeadSource) -> LeadDiscovered {
        let handle = "\(prefix)\(i)-sequential"
        let platforms = i % 3
        return LeadDiscovered(
            leadID: LeadID("\(prefix)\(i)"), accountID: accountID, offerID: offerID, sourceSearchID: "search-bench",
            source: source, name: "Person \(i)",
            linkedinURL: platforms != 2 ? "https://www.linkedin.com/in/\(handle)" : nil,
            xURL: platforms != 1 ? "https://x.com/\(handle.replacingOccurrences(of: "-", with: "_").prefix(15))" : nil,
            mode: .full, discoveredAt: Date())
    }

    /// Runs the four phases; returns each phase's request and result, and the finished profile.
    @discardableResult
    func run(_ lead: LeadDiscovered) async throws -> (exchanges: [(request: PhaseRequest, result: PhaseResult)], profile: EnrichedProfile) {
        var exchanges: [(request: PhaseRequest, result: PhaseResult)] = []
        var enriched = EnrichedProfile(discovered: lead)
        let runID = RunID("run-\(lead.leadID)")
        var platforms: [Platform] = []
        if lead.linkedinURL != nil { platforms.append(.linkedin) }
        if lead.xURL != nil { platforms.append(.x) }
        let handlers: [any PhaseHandler] = [profile, activity, scoring, finalize]
        for handler in handlers {
            let request = PhaseRequest(
                leadID: lead.leadID, runID: runID, phase: handler.phase, attempt: 1, mode: .full,
                platforms: handler.phase == .profile ? platforms.sorted() : [], lead: lead, profile: enriched.carried(to: handler.phase),
                accountID: lead.accountID, offerID: lead.offerID, isPriority: false, requestedAt: Date())
            let output = await handler.handle(request)
            guard case .completed = output.result.outcome else {
                throw BenchError("in-process \(handler.phase.rawValue) failed for \(lead.leadID): \(output.result.outcome)")
            }
            enriched = ProfileMerger.merge(output.result.payload, of: handler.phase, into: enriched)
            exchanges.append((request, output.result))
        }
        return (exchanges, enriched)
    }
}
