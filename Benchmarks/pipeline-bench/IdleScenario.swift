import Foundation

extension Scenarios {
    // MARK: - k) the pipeline at rest

    /// One run of k: CPU seconds per service (and the broker's) from the services' start until
    /// the warm-up leads are in the pool, and per second at rest after.
    struct AtRest {
        var startSeconds: Double
        var startUp: [String: Double]
        var atRest: [String: Double]
        var brokerStartUp: Double?
        var brokerAtRest: Double?

        var totalStartUp: Double { startUp.values.reduce(0, +) }
        var totalAtRest: Double { atRest.values.reduce(0, +) }
    }

    /// CPU time of each service from its start until the warm-up leads are in the pool, then per
    /// second while no lead arrives, and the broker's in the same spans: what a deployed pipeline
    /// costs when idle, and what a timed run's CPU per lead carries besides its leads. Once with
    /// the settings of the timed runs, once with the deployments' `fetch.wait.max.ms`.
    mutating func atRest() async throws {
        let asTimed = try await measureAtRest(label: "k-at-rest", extra: [:])
        let asDeployed = try await measureAtRest(label: "k-at-rest-500", extra: ["KAFKA_PROPERTY_FETCH_WAIT_MAX_MS": "500"])
        log(String(format: "at rest: start-up %.0f ms CPU, then %.1f ms per second (the five services), the broker %.0f ms per second",
                   asTimed.totalStartUp * 1000, asTimed.totalAtRest * 1000, (asTimed.brokerAtRest ?? 0) * 1000))
        report.add("k) the five services at rest: CPU from start to warmed up, then per second idle",
                   String(format: "%.0f ms, then %.1f ms/s (%.1f%% of one core); the broker %.0f ms/s for them",
                          asTimed.totalStartUp * 1000, asTimed.totalAtRest * 1000, asTimed.totalAtRest * 100,
                          (asTimed.brokerAtRest ?? 0) * 1000),
                   latency: "")
        func milliseconds(_ seconds: Double?, _ format: String) -> String {
            seconds.map { String(format: format, $0 * 1000) } ?? "not measured"
        }
        var rows = ""
        for service in PipelineRun.services {
            rows += "| \(service) | \(milliseconds(asTimed.startUp[service], "%.0f")) | \(milliseconds(asTimed.atRest[service], "%.1f")) "
                + "| \(milliseconds(asDeployed.atRest[service], "%.1f")) |\n"
        }
        rows += "| all five | \(milliseconds(asTimed.totalStartUp, "%.0f")) | \(milliseconds(asTimed.totalAtRest, "%.1f")) "
            + "| \(milliseconds(asDeployed.totalAtRest, "%.1f")) |\n"
        rows += "| the broker, for them | \(milliseconds(asTimed.brokerStartUp, "%.0f")) | \(milliseconds(asTimed.brokerAtRest, "%.1f")) "
            + "| \(milliseconds(asDeployed.brokerAtRest, "%.1f")) |\n"
        let leads = 3_000.0
        report.sections.append("""
        ### k) The pipeline at rest

        Command: `\(Options.invokedPath) --scenario k --idle-seconds \(Int(options.idleSeconds))`

        One instance of each service, `SIM_LATENCY_SCALE=0`, started together, and \(options.partitions)
        warm-up leads sent at once, as the timed runs do. Start-up = CPU time from the start until
        the last warm-up lead was in the pool (\(String(format: "%.1f", asTimed.startSeconds)) s: processes started, tables
        read, groups joined, the warm-up leads' work). Then 5 s for their last writes, then at rest =
        CPU time over \(Int(options.idleSeconds)) s with no lead arriving, per second. The broker's (its process; at rest
        only the services used it, at start-up the benchmark's reader of the pool too) over the same spans. Twice: with the timed runs' settings (a group
        consumer's `fetch.wait.max.ms` 100, as the services default to: this broker answers a fetch
        only when the wait is over), and with 500, as Deploy/k8s and Deploy/compose.yaml set it for
        Apache Kafka (which answers as soon as records arrive).

        | service | start-up (CPU ms) | at rest (CPU ms per second) | at rest, fetch wait 500 ms |
        |---|---|---|---|
        \(rows)
        A timed run counts its processes' CPU from their start (h): over \(Int(leads)) leads, start-up adds
        \(String(format: "%.2f", asTimed.totalStartUp * 1000 / leads)) ms a lead, and each second the services wait (for a group to settle,
        for the leads to be sent) \(String(format: "%.3f", asTimed.totalAtRest * 1000 / leads)) ms more; the broker's figure carries its
        own start-up and rest the same way. At rest the services poll: each stage's and the
        coordinator's consumer, each process's table reader, the coordinator's progress tracker and
        the scoring stage's heat aggregator wake every 100 ms or less, and librdkafka sends a fetch
        for each consumer whenever the last one returns.

        """)
    }

    private func measureAtRest(label: String, extra: [String: String]) async throws -> AtRest {
        let run = try await PipelineRun(label: label, options: options, extra: extra.merging(["SIM_LATENCY_SCALE": "0"]) { current, _ in current })
        // One instance of each service: their CPU seconds by name.
        func cpuByService() -> [String: Double] { Dictionary(uniqueKeysWithValues: run.cpuSeconds().map { ($0.service, $0.seconds) }) }
        do {
            let watcher = try await PoolWatcher(run: run)
            let brokerAtStart = broker?.cpuSeconds()
            let started = ContinuousClock.now
            try run.startPipeline()
            do {
                try await warmUp(run, watcher: watcher)
                await watcher.stop()
            } catch {
                await watcher.stop()
                throw error
            }
            let warmedUp = cpuByService()
            let brokerWarmedUp = broker?.cpuSeconds()
            let startSeconds = (ContinuousClock.now - started) / .seconds(1)
            // The warm-up's last changelog, progress and heat writes, before the span at rest.
            try await Task.sleep(for: .seconds(5))
            let before = cpuByService()
            let brokerBefore = broker?.cpuSeconds()
            let rest = ContinuousClock.now
            try await Task.sleep(for: .seconds(options.idleSeconds))
            let after = cpuByService()
            let brokerAfter = broker?.cpuSeconds()
            let restSeconds = (ContinuousClock.now - rest) / .seconds(1)
            try run.checkAlive()
            await run.tearDown()
            return AtRest(
                startSeconds: startSeconds, startUp: warmedUp,
                atRest: after.reduce(into: [:]) { perSecond, entry in perSecond[entry.key] = (entry.value - (before[entry.key] ?? 0)) / restSeconds },
                brokerStartUp: brokerWarmedUp.flatMap { end in brokerAtStart.map { end - $0 } },
                brokerAtRest: brokerAfter.flatMap { end in brokerBefore.map { (end - $0) / restSeconds } })
        } catch {
            await run.tearDown()
            throw error
        }
    }
}
