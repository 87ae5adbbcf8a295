import Foundation
import JSONCodec
import Kafka
import KafkaTestSupport
import LeadControl
import LeadModel
import Streaming
import XCTest

/// Two instances of every service; one random process killed with SIGKILL and restarted every
/// few seconds while leads flow (half of them published after the first kill), and the broker
/// stopped (SIGSTOP) once after the second kill. A second account is billing-paused from the
/// start with five times more leads than its two coordinators hold waiting
/// (`COORDINATOR_MAX_WAITING_LEADS` each): the rest park in the backlog while the first
/// account's standard leads go on through it, and through the kills, until it resumes after the
/// fourth kill once some of them are ready (at the eighth kill whatever is).
/// Sized by CHAOS_LEADS (default 300), CHAOS_KILL_SECONDS (default 2) and
/// CHAOS_BROKER_PAUSE_SECONDS (default 10); `Deploy/chaos.sh` runs it with 5,000 leads.
final class ChaosSystemTests: XCTestCase {
    func testSigkillAtRandomLosesNothingAndChargesNothingTwice() async throws {
        let settings = ProcessInfo.processInfo.environment
        let count = Int(settings["CHAOS_LEADS"] ?? "") ?? 300
        let killEvery = Double(settings["CHAOS_KILL_SECONDS"] ?? "") ?? 2
        let brokerPause = Double(settings["CHAOS_BROKER_PAUSE_SECONDS"] ?? "") ?? 10
        let phaseTimeout = 20
        let pausedAccount: AccountID = "acct-paused"
        let pausedCount = max(40, count / 5)
        try await withPipeline(partitions: 6, environment: [
            "SIM_LATENCY_SCALE": settings["CHAOS_LATENCY_SCALE"] ?? "0.05",
            "PHASE_TIMEOUT_SECONDS": String(phaseTimeout), "RETRY_BACKOFF_SECONDS": "1", "LOG_LEVEL": "warning",
            "COORDINATOR_MAX_WAITING_LEADS": String(pausedCount / 10),
        ]) { harness in
            try await harness.publish(account: AccountConfig(accountID: pausedAccount, updatedAt: Date()))
            try await harness.publishBilling(.paused, account: pausedAccount)
            var processes: [(service: String, process: Process)] = []
            for service in ["coordinator"] + PipelineHarness.stages {
                for _ in 0..<2 { processes.append((service, try harness.start(service))) }
            }
            let started = Date()
            let pausedLeads = harness.makeLeads(pausedCount, modes: [.full, .enrichOnly], prefix: "paused", account: pausedAccount)
            try await harness.publish(leads: pausedLeads)
            let others = harness.makeLeads(count, modes: [.full, .full, .scoringOnly, .enrichOnly, .noOp])
            let leads = others + pausedLeads
            // Half now, half after the first kill: the pool cannot be complete before a kill, so
            // leads always flow through a killed and restarted process (300 leads at CI's speed
            // could finish before the first kill: kills 0 in a CI run at 1e03bbb).
            let secondHalf = Array(others[(count / 2)...])
            try await harness.publish(leads: Array(others[..<(count / 2)]))

            var kills = 0
            var brokerPaused = false
            var othersReadyAtResume: Int?
            var events: [String] = []  // what was done when, for reading a skipped lead's history against
            var generator = SystemRandomNumberGenerator()
            while Date().timeIntervalSince(started) < 900 {
                try await Task.sleep(for: .seconds(killEvery))
                if !brokerPaused && kills == 2 {
                    // Once, while leads flow and processes restart: the broker stops answering.
                    // After the second kill: 5,000 leads now finish before a fifth (4 kills and no
                    // pause in two runs of `Deploy/chaos.sh` at 2f74ccf).
                    events.append(String(format: "%.0fs broker paused", Date().timeIntervalSince(started)))
                    try await TestBroker.pause(seconds: brokerPause)
                    brokerPaused = true
                }
                let ready = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool)
                if Set(ready.map(\.key)).count >= leads.count { break }
                // Standard leads only: intent leads start at once, whatever the backlog holds.
                let otherIDs = Set(others.filter { !$0.source.isIntent }.map(\.leadID.rawValue))
                let othersReady = Set(ready.map(\.key)).filter(otherIDs.contains).count
                // From the fourth kill on, once some of the other account's leads went on (the
                // first four victims all coordinators, the broker's pause between them, left none
                // ready at 21 s in a CI run at 86444f6), or at the eighth whatever went on.
                if kills >= 4 && othersReadyAtResume == nil && (othersReady > 0 || kills >= 8) {
                    othersReadyAtResume = othersReady
                    events.append(String(format: "%.0fs ", Date().timeIntervalSince(started)) + "\(pausedAccount) resumed")
                    try await harness.publishBilling(.active, account: pausedAccount)
                }
                let victim = Int.random(in: 0..<processes.count, using: &generator)
                events.append(String(format: "%.0fs ", Date().timeIntervalSince(started)) + "\(processes[victim].service) killed")
                try await harness.stop(processes[victim].process, signal: SIGKILL)
                processes[victim].process = try harness.start(processes[victim].service)
                kills += 1
                if kills == 1 { try await harness.publish(leads: secondHalf) }
            }
            // A pool short of leads still gets its figures printed (the assertions below fail).
            var pool = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool)
            if let complete = try? await harness.waitForPool(leads.count, timeoutSeconds: 300) { pool = complete }
            let wall = Date().timeIntervalSince(started)

            // Every consumer group drains to zero lag.
            let admin = try KafkaAdmin(configuration: harness.environment.kafka)
            let topics = harness.environment.topics
            // Not drained in time is a failure with the summary below, not a thrown timeout that
            // leaves the run's figures unprinted.
            var remainingLag: Int64 = -1  // until a reading of every group succeeds
            var lagging: [String] = []  // group topic[partition] lag, where some is left
            do {
                try await waitUntil("zero lag", timeoutSeconds: 60, pollMilliseconds: 500) {
                    var total: Int64 = 0
                    var left: [String] = []
                    for group in harness.groupsOfStartAll {
                        for partition in try await admin.lag(group: group.id, topics: group.topics) where partition.lag > 0 {
                            total += partition.lag
                            left.append("\(group.id) \(partition.partition.topic)[\(partition.partition.partition)] \(partition.lag)")
                        }
                    }
                    (remainingLag, lagging) = (total, left)
                    return total == 0
                }
            } catch is WaitTimeout {}  // reported below; a failed reading still throws

            // Loss is counted where the result is: the pool (a ready state without its pool
            // entry is a lost lead too).
            let pooled = Set(pool.map(\.key))
            let lost = leads.filter { !pooled.contains($0.leadID.rawValue) }.count
            let states = try await harness.latestStates()
            let notReady = leads.filter { states[$0.leadID]?.status != .ready }.count
            // Once per run: no lead finished twice (two runs in the pool). A SIGKILL of a finalize
            // stage between its entry's acknowledgement and its commit, or a retried attempt that
            // another instance takes after a rebalance, writes the same run's entry again: same
            // key and run, which compaction folds into one. Those are counted, not failed.
            var runsInPool: [String: Set<String>] = [:]
            var entries = 0
            try await KafkaConsumer.readToEnd(try await admin.partitions(of: topics.leadPool), configuration: harness.environment.kafka,
                                              admin: admin, timeout: .seconds(60)) { record in
                entries += 1
                let run = record.header(MessageHeaders.runID).map { String(decoding: $0, as: UTF8.self) } ?? ""
                runsInPool[record.keyString ?? "", default: []].insert(run)
            }
            let duplicatedInPool = runsInPool.values.filter { $0.count > 1 }.count
            // The paused account's leads the coordinators queued in the backlog: past the bound.
            let pausedIDs = Set(pausedLeads.map(\.leadID.rawValue))
            let queuedPaused = Set(try await harness.readAll(LeadDiscovered.self, topic: topics.leadsBacklog).map(\.key))
                .intersection(pausedIDs)
            let rewrittenInPool = entries - runsInPool.values.reduce(0) { $0 + $1.count }
            let usage = try await harness.readAll(BillingUsage.self, topic: topics.billingUsage)
            // Charged twice: a lead's phase charged under two idempotency keys (each
            // lead runs once here, so two keys, two runs, are two charges the billing system would
            // both count). A usage record sent again after a SIGKILL between its acknowledgement
            // and its lead's state change carries the same key, which the billing system absorbs
            // (the guarantee is at-least-once with an idempotency key): counted, not failed.
            var keysByPhase: [String: Set<String>] = [:]
            for record in usage.map(\.value) {
                keysByPhase["\(record.leadID)/\(record.phase)", default: []].insert(record.idempotencyKey)
            }
            let doubleCharged = keysByPhase.values.filter { $0.count > 1 }.count
            let resentUsage = usage.count - keysByPhase.values.reduce(0) { $0 + $1.count }
            var seenKeys: Set<String> = []
            let resent = usage.map(\.value).filter { !seenKeys.insert($0.idempotencyKey).inserted }
            let line = "chaos: leads \(count) + \(pausedCount) of a paused account (\(queuedPaused.count) queued in the backlog; "
                + "\(othersReadyAtResume ?? 0) of the other account's standard leads ready when it resumed), "
                + "kills \(kills), broker paused \(brokerPaused ? Int(brokerPause) : 0) s, "
                + "lost \(lost), not ready \(notReady), finished twice \(duplicatedInPool), same-run rewrites in pool \(rewrittenInPool), "
                + "billing records \(usage.count), charged twice \(doubleCharged), same-key resends \(resentUsage), lag \(remainingLag), "
                + String(format: "wall %.1fs", wall)
            // Where charges went missing, if they did: the finished leads' skipped phases (a
            // skipped phase is not charged), the attempts that failed on the way, and the charges.
            // A kept result without its charge: a provider call that succeeded (its outcome in the
            // finished profile) with no billing record for that lead, phase and provider.
            let finished = Dictionary(pool.map { ($0.key, $0.value.profile) }, uniquingKeysWith: { $1 })
            let skips = finished.values.flatMap(\.skippedPhases)
            let failures = states.values.flatMap { $0.history.filter { $0.kind == .phaseFailed } }
            // Each charge of each record: lead, phase and provider.
            let charges = usage.flatMap { record in record.value.charges.map { (lead: record.value.leadID, phase: record.value.phase.rawValue, provider: $0.provider) } }
            let charged = Set(charges.map { "\($0.lead)/\($0.phase)/\($0.provider)" })
            let uncharged = finished.values.flatMap { profile in
                [("profile/linkedin", profile.linkedinOutcome), ("profile/x", profile.xOutcome), ("activity/activity", profile.activityOutcome)]
                    .filter { $0.1 == .succeeded && !charged.contains("\(profile.leadID)/\($0.0)") }.map(\.0)
            }
            // Each attempt that timed out, by when its stage answered: before its deadline (the
            // coordinator had not read the result when the timeout was handled), after the deadline
            // but before the timeout was handled, after that, or never.
            var answered: [String: Date] = [:]  // lead/run/phase/attempt: when its stage finished
            for topic in [topics.phaseResults, topics.phaseResultsPriority] {
                for result in try await harness.readAll(PhaseResult.self, topic: topic).map(\.value) {
                    let key = "\(result.leadID)/\(result.runID)/\(result.phase.rawValue)/\(result.attempt)"
                    answered[key] = min(answered[key] ?? result.finishedAt, result.finishedAt)
                }
            }
            var timeouts: [String] = []
            var timeoutStarts: [String] = []  // when each timed-out attempt started, in 5 s steps of the run
            for state in states.values {
                var startedAt: [String: Date] = [:]
                for entry in state.history {
                    let key = "\(state.leadID)/\(entry.runID)/\(entry.phase?.rawValue ?? "-")/\(entry.attempt ?? 0)"
                    if entry.kind == .phaseStarted { startedAt[key] = entry.at }
                    guard entry.kind == .phaseFailed, entry.detail?.hasPrefix("no result within") == true else { continue }
                    let start = startedAt[key] ?? entry.at
                    let deadline = start.addingTimeInterval(Double(phaseTimeout))
                    let when = answered[key].map { $0 <= deadline ? "before the deadline" : $0 <= entry.at ? "before it was handled" : "later" }
                    timeouts.append("\(entry.phase?.rawValue ?? "-") answered \(when ?? "never")")
                    let step = Int(start.timeIntervalSince(started) / 5) * 5
                    timeoutStarts.append("\(step)-\(step + 5)s")
                }
            }
            let breakdown = [
                "timed-out attempts \(timeouts.count): " + Self.tally(timeouts),
                "timed-out attempts by when they started (against the chaos events below): " + Self.tally(timeoutStarts),
                "skipped phases \(skips.count): " + Self.tally(skips.map { "\($0.phase.rawValue): \(Self.pattern($0.reason))" }),
                "failed attempts \(failures.count): " + Self.tally(failures.map { "\($0.phase?.rawValue ?? "-"): \(Self.pattern($0.detail ?? ""))" }),
                "charges by provider: " + Self.tally(charges.map { "\($0.phase)/\($0.provider)" }),
                "succeeded calls without a billing record \(uncharged.count): " + Self.tally(uncharged),
                "same-key resends by phase: " + Self.tally(resent.map(\.phase.rawValue)),
                "lag left: " + (lagging.isEmpty ? "none" : lagging.prefix(10).joined(separator: "; ")),
                "chaos events: " + events.joined(separator: ", "),
            ]
            let summary = ([line] + breakdown).joined(separator: "\n  ")
            print(summary)
            let skippedLeads = finished.values.filter { !$0.skippedPhases.isEmpty }.map(\.leadID)
            for record in resent.prefix(2) {
                let charges = usage.map(\.value).filter { $0.idempotencyKey == record.idempotencyKey }
                print("RESENT \(record.idempotencyKey) charged at " + charges.map { String(format: "%.1fs", $0.chargedAt.timeIntervalSince(started)) }.joined(separator: ", "))
            }
            for leadID in (skippedLeads + resent.prefix(2).map(\.leadID)).sorted(by: { $0.rawValue < $1.rawValue }).prefix(5) {
                let history = states[leadID]?.history ?? []
                print("HISTORY \(leadID): " + history.map { entry in
                    String(format: "%.1fs ", entry.at.timeIntervalSince(started)) + "\(entry.kind.rawValue) \(entry.phase?.rawValue ?? "-") "
                        + "\(entry.attempt ?? 0) \(entry.detail ?? "")"
                }.joined(separator: " | "))
            }
            try? summary.write(to: TestBroker.projectRoot.appendingPathComponent(".run/chaos-summary.txt"), atomically: true, encoding: .utf8)
            XCTAssertEqual(lost, 0, summary)
            XCTAssertEqual(notReady, 0, summary)
            XCTAssertEqual(Set(pool.map(\.key)).count, leads.count, summary)
            XCTAssertGreaterThan(queuedPaused.count, 0, "the paused account's leads went past the waiting bound: " + summary)
            XCTAssertGreaterThan(othersReadyAtResume ?? 0, 0, "the other account's standard leads went on while one account waited past the bound: " + summary)
            XCTAssertEqual(duplicatedInPool, 0, summary)
            XCTAssertEqual(remainingLag, 0, summary)
            XCTAssertEqual(doubleCharged, 0, summary)
            // Every stage is up again within seconds of a kill, so no phase may be given up on
            // after an attempt of it timed out: that skip would be the chaos's doing, and a
            // skipped phase reaches the sales team as a lead without its profile, activity or
            // score. (The simulated providers fail now and then; one that failed every attempt
            // of a lead's phase skips it, as it would without chaos: about one lead in 5,000.)
            let skippedAfterATimeout = pool.filter { key, entry in
                entry.profile.skippedPhases.contains { skip in
                    (states[LeadID(key)]?.history ?? []).contains {
                        $0.kind == .phaseFailed && $0.phase == skip.phase && $0.detail?.hasPrefix("no result within") == true
                    }
                }
            }
            XCTAssertEqual(skippedAfterATimeout.map(\.key), [], summary)
            XCTAssertGreaterThan(kills, 0, summary)
        }
    }

    /// `text` with every run of digits as `#`, so reasons that differ only in a number count together.
    private static func pattern(_ text: String) -> String {
        text.replacing(/[0-9]+/, with: "#")
    }

    /// "label count" for each distinct label, most frequent first; "none" when there is none.
    private static func tally(_ labels: [String]) -> String {
        let counts = Dictionary(labels.map { ($0, 1) }, uniquingKeysWith: +)
        guard !counts.isEmpty else { return "none" }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")
    }
}

/// Coordinators joining and leaving while leads flow, without crashes.
final class CoordinatorHandOverSystemTests: XCTestCase {
    /// A coordinator hands a partition over only once the state records of the batch it has
    /// sent are acknowledged, so the next owner restores every lead as it was: no result is
    /// ignored as stale and no phase waits for its timeout.
    func testPartitionsChangeHandsWithoutAnyPhaseTimingOut() async throws {
        try await withPipeline(partitions: 6, environment: [
            // 30 s: 3,000 leads at once queue for seconds at each stage on 2 cores (15 s was hit
            // by queueing alone); a result lost or ignored in a hand-over still times out.
            "SIM_LATENCY_SCALE": "0", "PHASE_TIMEOUT_SECONDS": "30", "LOG_LEVEL": "warning",
        ]) { harness in
            for stage in PipelineHarness.stages { _ = try harness.start(stage) }
            let first = try harness.start("coordinator")
            let leads = harness.makeLeads(3000)
            try await harness.publish(leads: leads)
            // Hand partitions over twice while leads are in every phase: to a second coordinator,
            // and back when the first leaves.
            try await Task.sleep(for: .seconds(4))
            _ = try harness.start("coordinator")
            try await Task.sleep(for: .seconds(6))
            _ = try await harness.stop(first, signal: SIGTERM)
            _ = try await harness.waitForPool(leads.count, timeoutSeconds: 240)

            let states = try await harness.latestStates()
            let timedOut = leads.compactMap { states[$0.leadID] }.filter { state in
                state.history.contains { $0.kind == .phaseFailed && ($0.detail ?? "").contains("no result within") }
            }
            for state in timedOut.prefix(2) {
                print("TIMED-OUT \(state.leadID): " + state.history.map { "\(ISO8601.format($0.at)) \($0.kind.rawValue) \($0.phase?.rawValue ?? "-") \($0.attempt ?? 0) \($0.detail ?? "")" }.joined(separator: " | "))
            }
            XCTAssertEqual(timedOut.map(\.leadID), [], "leads whose phase result was lost or ignored")
            XCTAssertTrue(leads.allSatisfy { states[$0.leadID]?.status == .ready })
        }
    }
}
