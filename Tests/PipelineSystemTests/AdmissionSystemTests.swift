import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// The coordinator's bound on running leads: standard leads wait in `leads.backlog`, intent
/// leads overtake them.
final class AdmissionSystemTests: XCTestCase {
    /// Starts the coordinator (with `coordinator` settings and a metrics port, returned) and the stages.
    private func startPipeline(_ harness: PipelineHarness, coordinator: [String: String]) throws -> Int {
        let port = TestBroker.freeLoopbackPort()
        try harness.start("coordinator", environment: coordinator.merging(["METRICS_PORT": String(port)]) { _, new in new })
        for stage in PipelineHarness.stages { try harness.start(stage) }
        return port
    }

    /// `count` leads from a standard (not intent) source.
    private func standardLeads(_ harness: PipelineHarness, _ count: Int) -> [LeadDiscovered] {
        harness.makeLeads(count).map { lead in
            var lead = lead
            lead.source = .csvImport
            return lead
        }
    }

    func testStandardLeadsWaitInTheBacklogWhileAnIntentLeadOvertakesThem() async throws {
        let bound = 6
        try await withPipeline(environment: ["SIM_LATENCY_SCALE": "0.5", "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0"]) { harness in
            // A queued lead's state is written once it has waited the state interval: 1 s here, as
            // the 54 queued leads may all be admitted within the default 5 s on a quiet machine.
            let port = try startPipeline(harness, coordinator: ["COORDINATOR_MAX_RUNNING_LEADS": String(bound),
                                                                "COORDINATOR_STATE_WRITE_INTERVAL_SECONDS": "1"])
            let standard = standardLeads(harness, 60)
            try await harness.publish(leads: standard)

            // Running leads (pending or processing) on the coordinator's /metrics, sampled until all are ready.
            var mostRunning = 0
            func sampleRunning() async throws -> Int? {
                guard let (_, text) = try? await httpGet("http://127.0.0.1:\(port)/metrics") else { return nil }
                let samples = try PrometheusSamples.parse(text)
                let running = ["pending", "processing"].compactMap { samples["pipeline_coordinator_leads{status=\"\($0)\"}"] }
                guard running.count == 2 else { return nil }
                let count = Int(running.reduce(0, +))
                mostRunning = max(mostRunning, count)
                return count
            }
            try await waitUntil("the coordinator at its bound", timeoutSeconds: 60, pollMilliseconds: 100) {
                (try await sampleRunning() ?? 0) >= bound
            }
            var intent = harness.makeLeads(1, prefix: "intent")[0]
            intent.source = .intentSearch
            try await harness.publish(leads: [intent])

            // Meanwhile a lead waiting for room has a state, pending, which leadctl shows once it
            // has waited the state interval (COORDINATOR_STATE_WRITE_INTERVAL_SECONDS), and
            // progress counts at once (checked after the intent lead is out, so as not to delay it).
            // Which leads still wait depends on how the 60 fall into partitions, and one may be
            // admitted between the read and `leadctl show`: ask again about a lead still pending.
            try await waitUntil("leadctl shows a pending lead queued", timeoutSeconds: 30, pollMilliseconds: 100) {
                let states = try await harness.latestStates()
                guard let queued = standard.last(where: { states[$0.leadID]?.status == .pending }) else { return false }
                let (shown, output) = try await harness.leadctl(["show", queued.leadID.rawValue])
                XCTAssertEqual(shown, 0, output)
                return output.contains("queued")
            }
            try await waitUntil("progress counts leads pending", timeoutSeconds: 30, pollMilliseconds: 200) {
                (try await harness.latestProgress(of: "search-1")?.pending ?? 0) > 0
            }

            var pool: [(key: String, value: LeadPoolEntry)] = []
            try await waitUntil("every lead ready", timeoutSeconds: 180, pollMilliseconds: 250) {
                _ = try await sampleRunning()
                pool = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool)
                return Set(pool.map(\.key)).count == standard.count + 1
            }
            XCTAssertEqual(pool.count, standard.count + 1, "every lead ready exactly once")
            XCTAssertLessThanOrEqual(mostRunning, bound + 1, "at most the bound of standard leads ran at once, plus the intent lead")
            try await waitUntil("progress counts every lead completed, none pending", timeoutSeconds: 30, pollMilliseconds: 200) {
                let progress = try await harness.latestProgress(of: "search-1")
                return progress?.completed == standard.count + 1 && progress?.pending == 0
            }

            // The first standard leads started at once, while there was room and nothing queued;
            // every one after went through the backlog; the intent lead did not.
            let backlog = try await harness.readAll(LeadDiscovered.self, topic: harness.environment.topics.leadsBacklog)
            XCTAssertTrue(Set(backlog.map(\.key)).isSubset(of: Set(standard.map(\.leadID.rawValue))))
            XCTAssertGreaterThanOrEqual(Set(backlog.map(\.key)).count, standard.count - bound)
            XCTAssertLessThan(Set(backlog.map(\.key)).count, standard.count, "leads that found room started without the backlog")

            // The intent lead overtook the backlog: most standard leads finished after it.
            let finished = Dictionary(pool.map { ($0.key, $0.value.finishedAt) }) { first, _ in first }
            let intentFinished = try XCTUnwrap(finished[intent.leadID.rawValue])
            let after = standard.filter { (finished[$0.leadID.rawValue] ?? .distantPast) > intentFinished }.count
            XCTAssertGreaterThanOrEqual(after, standard.count / 2, "only \(after) of \(standard.count) standard leads finished after the intent lead")
        }
    }

    /// Intent leads start past the running bound, but a burst of them waits unread on the broker
    /// at twice it (`leads.discovered.priority` paused), rather than running all at once in the
    /// coordinator's memory.
    func testABurstOfIntentLeadsRunsAtMostTwiceTheBoundAtOnceAndAllFinish() async throws {
        try await burstOfIntentLeads(onPriorityTopic: true)
    }

    /// The same burst published to `leads.discovered` (a publisher that does not use the
    /// priority twin): that topic is paused at the same ceiling (before, all 40 ran at once).
    func testABurstOfIntentLeadsOnTheStandardTopicIsBoundedToo() async throws {
        try await burstOfIntentLeads(onPriorityTopic: false)
    }

    private func burstOfIntentLeads(onPriorityTopic: Bool) async throws {
        let bound = 3
        let pollBatch = 2
        try await withPipeline(environment: ["SIM_LATENCY_SCALE": "0.5", "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0"]) { harness in
            let port = try startPipeline(harness, coordinator: ["COORDINATOR_MAX_RUNNING_LEADS": String(bound),
                                                                "COORDINATOR_POLL_BATCH": String(pollBatch)])
            let intent = harness.makeLeads(40, prefix: "burst").map { lead in
                var lead = lead
                lead.source = .intentSearch
                return lead
            }
            if onPriorityTopic {
                try await harness.publish(leads: intent)
            } else {
                let producer = try KafkaProducer(configuration: harness.environment.kafka)
                _ = try await producer.send(intent.map {
                    try harness.environment.codec.record($0, topic: harness.environment.topics.leadsDiscovered, key: $0.leadID.rawValue)
                })
                await producer.close()
            }

            var mostRunning = 0
            var pool: [(key: String, value: LeadPoolEntry)] = []
            try await waitUntil("every intent lead ready", timeoutSeconds: 240, pollMilliseconds: 100) {
                if let (_, text) = try? await httpGet("http://127.0.0.1:\(port)/metrics") {
                    let samples = try PrometheusSamples.parse(text)
                    let running = ["pending", "processing"].compactMap { samples["pipeline_coordinator_leads{status=\"\($0)\"}"] }
                    if running.count == 2 { mostRunning = max(mostRunning, Int(running.reduce(0, +))) }
                }
                pool = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool)
                return Set(pool.map(\.key)).count == intent.count
            }
            XCTAssertEqual(pool.count, intent.count, "every lead ready exactly once")
            XCTAssertGreaterThan(mostRunning, bound, "intent leads ran past the standard bound")
            // The loop that reaches the ceiling may already hold one poll's records.
            XCTAssertLessThanOrEqual(mostRunning, 2 * bound + pollBatch, "a burst of \(intent.count) ran \(mostRunning) at once")
            let backlog = try await harness.readAll(LeadDiscovered.self, topic: harness.environment.topics.leadsBacklog)
            XCTAssertTrue(backlog.isEmpty, "intent leads wait on their own topic, not in the backlog")
        }
    }

    /// Leads waiting on a paused account are held whole, so they have a bound too: the rest of
    /// the backlog stays on the broker until the account resumes.
    /// Leads waiting on a billing pause are bounded in memory; past the bound the paused
    /// account's leads wait on the broker, pending, and another account's leads go on.
    func testWaitingLeadsAreBoundedAndOtherAccountsGoOnPastTheBound() async throws {
        let waitingBound = 10
        try await withPipeline(environment: ["SIM_LATENCY_SCALE": "0.2", "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0"]) { harness in
            let other: AccountID = "acct-other"
            try await harness.publish(account: AccountConfig(accountID: other, updatedAt: Date()))
            try await harness.publishBilling(.paused)
            let port = try startPipeline(harness, coordinator: ["COORDINATOR_MAX_WAITING_LEADS": String(waitingBound)])
            let leads = standardLeads(harness, 40)
            try await harness.publish(leads: leads)

            // Leads billing-paused on the coordinator's /metrics.
            func paused() async throws -> Int? {
                guard let (_, text) = try? await httpGet("http://127.0.0.1:\(port)/metrics") else { return nil }
                return try PrometheusSamples.parse(text)["pipeline_coordinator_leads{status=\"billing-paused\"}"].map { Int($0) }
            }
            try await waitUntil("the coordinator at its waiting bound", timeoutSeconds: 60, pollMilliseconds: 100) {
                (try await paused() ?? 0) >= waitingBound
            }
            // The others are pending, each with a small state (parked in the backlog: not held).
            var states = try await harness.latestStates()
            try await waitUntil("the other leads' pending states written", timeoutSeconds: 30, pollMilliseconds: 250) {
                states = try await harness.latestStates()
                return states.values.filter { $0.status == .pending }.count >= leads.count - waitingBound
            }
            XCTAssertEqual(states.values.filter { $0.status != .pending }.count, waitingBound, "only the admitted leads started")
            XCTAssertEqual(states.values.filter { $0.status == .pending }.count, leads.count - waitingBound,
                           "the others are pending, each with a small state")
            func pausedAccounts() async throws -> Int? {
                guard let (_, text) = try? await httpGet("http://127.0.0.1:\(port)/metrics") else { return nil }
                return try PrometheusSamples.parse(text)["pipeline_coordinator_accounts_billing_paused"].map { Int($0) }
            }
            let pausedWhileHeld = try await pausedAccounts()
            XCTAssertEqual(pausedWhileHeld, 1, "the account counted as billing paused")

            // Another account's leads go on while the paused one is at the bound.
            let others = harness.makeLeads(20, prefix: "other", account: other).map { lead in
                var lead = lead
                lead.source = .csvImport
                return lead
            }
            try await harness.publish(leads: others)
            let finishedOthers = try await harness.waitForPool(others.count, timeoutSeconds: 120)
            XCTAssertEqual(Set(finishedOthers.map(\.key)), Set(others.map(\.leadID.rawValue)), "only the other account's leads finished")
            let heldWhileOthersRan = try await paused()
            XCTAssertEqual(heldWhileOthersRan, waitingBound, "waiting leads held beyond the bound")

            // Resumed, every lead finishes, exactly once.
            try await harness.publishBilling(.active)
            let pool = try await harness.waitForPool(leads.count + others.count, timeoutSeconds: 120)
            XCTAssertEqual(pool.count, leads.count + others.count)
            XCTAssertEqual(Set(pool.map(\.key)), Set((leads + others).map(\.leadID.rawValue)))
            try await waitUntil("no account counted as billing paused", timeoutSeconds: 10, pollMilliseconds: 200) {
                try await pausedAccounts() == 0
            }
        }
    }
    /// Parked leads survive a SIGKILL of the coordinator: no offset past them was stored, so its
    /// successor reads them again from the backlog and parks them again; once the account
    /// resumes every lead finishes, once.
    func testParkedLeadsSurviveACoordinatorKill() async throws {
        let waitingBound = 5
        try await withPipeline(environment: ["SIM_LATENCY_SCALE": "0.2", "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0"]) { harness in
            try await harness.publishBilling(.paused)
            func coordinator() throws -> (Process, Int) {
                let port = TestBroker.freeLoopbackPort()
                let process = try harness.start("coordinator", environment: ["COORDINATOR_MAX_WAITING_LEADS": String(waitingBound),
                                                                             "METRICS_PORT": String(port)])
                return (process, port)
            }
            func paused(_ port: Int) async throws -> Int? {
                guard let (_, text) = try? await httpGet("http://127.0.0.1:\(port)/metrics") else { return nil }
                return try PrometheusSamples.parse(text)["pipeline_coordinator_leads{status=\"billing-paused\"}"].map { Int($0) }
            }
            let (first, _) = try coordinator()
            for stage in PipelineHarness.stages { try harness.start(stage) }
            let leads = standardLeads(harness, 20)
            try await harness.publish(leads: leads)
            try await waitUntil("the parked leads' pending states written", timeoutSeconds: 60, pollMilliseconds: 250) {
                try await harness.latestStates().values.filter { $0.status == .pending }.count >= leads.count - waitingBound
            }
            try await harness.stop(first, signal: SIGKILL)

            let (_, port) = try coordinator()
            try await waitUntil("the successor at the waiting bound", timeoutSeconds: 60, pollMilliseconds: 100) {
                (try await paused(port) ?? 0) >= waitingBound
            }
            try await harness.publishBilling(.active)
            let pool = try await harness.waitForPool(leads.count, timeoutSeconds: 120)
            XCTAssertEqual(pool.count, leads.count, "each lead's pool entry written once")
            XCTAssertEqual(Set(pool.map(\.key)), Set(leads.map(\.leadID.rawValue)))
        }
    }
    /// At the parked bound the backlog waits on the broker; once the account resumes, the records
    /// handed back pass that bound (they no longer count), and every lead finishes, once.
    func testAtTheParkedBoundTheRestWaitsAndEveryLeadFinishesOnResume() async throws {
        try await withPipeline(environment: ["SIM_LATENCY_SCALE": "0.2", "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0"]) { harness in
            try await harness.publishBilling(.paused)
            let port = try startPipeline(harness, coordinator: ["COORDINATOR_MAX_WAITING_LEADS": "2", "COORDINATOR_MAX_PARKED_LEADS": "3"])
            let leads = standardLeads(harness, 20)
            try await harness.publish(leads: leads)
            func gauge(_ name: String) async throws -> Int? {
                guard let (_, text) = try? await httpGet("http://127.0.0.1:\(port)/metrics") else { return nil }
                return try PrometheusSamples.parse(text)[name].map { Int($0) }
            }
            try await waitUntil("two leads waiting and three parked", timeoutSeconds: 60, pollMilliseconds: 100) {
                let waiting = try await gauge("pipeline_coordinator_leads{status=\"billing-paused\"}")
                let parked = try await gauge("pipeline_coordinator_leads_parked")
                return waiting == 2 && parked == 3
            }
            try await harness.publishBilling(.active)
            let pool = try await harness.waitForPool(leads.count, timeoutSeconds: 120)
            XCTAssertEqual(pool.count, leads.count, "each lead's pool entry written once")
            XCTAssertEqual(Set(pool.map(\.key)), Set(leads.map(\.leadID.rawValue)))
            try await waitUntil("nothing parked", timeoutSeconds: 10, pollMilliseconds: 200) {
                try await gauge("pipeline_coordinator_leads_parked") == 0
            }
        }
    }
    /// A re-enrich of a parked lead is queued behind it and parks behind it: handled before its
    /// lead is known it would be refused. Once the account resumes, the lead runs, then the
    /// re-enrich run (which may take over the first); nothing is dead-lettered.
    func testAReEnrichOfAParkedLeadRunsAfterIt() async throws {
        try await withPipeline(environment: ["SIM_LATENCY_SCALE": "0.2", "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0"]) { harness in
            try await harness.publishBilling(.paused)
            let port = try startPipeline(harness, coordinator: ["COORDINATOR_MAX_WAITING_LEADS": "2"])
            let leads = standardLeads(harness, 6)
            try await harness.publish(leads: leads)
            func parked() async throws -> Int? {
                guard let (_, text) = try? await httpGet("http://127.0.0.1:\(port)/metrics") else { return nil }
                return try PrometheusSamples.parse(text)["pipeline_coordinator_leads_parked"].map { Int($0) }
            }
            try await waitUntil("four leads parked", timeoutSeconds: 60, pollMilliseconds: 100) { try await parked() == 4 }
            let states = try await harness.latestStates()
            let target = try XCTUnwrap(leads.first { states[$0.leadID]?.status == .pending }?.leadID)
            // Two commands of the lead: each parks behind the lead, and neither behind the other
            // once the lead is handled (they re-parked each other for good).
            for request in 1...2 {
                try await harness.publish(ReEnrichRequested(leadID: target, types: [.activity], requestedAt: Date(), requestedBy: "test",
                                                            requestID: RequestID("rerun-\(request)-\(target)")),
                                          topic: harness.environment.topics.leadsDiscovered, key: target.rawValue)
            }
            try await waitUntil("the re-enriches parked behind their lead", timeoutSeconds: 30, pollMilliseconds: 100) { try await parked() == 6 }

            try await harness.publishBilling(.active)
            let pool = try await harness.waitForPool(leads.count, timeoutSeconds: 120)
            XCTAssertEqual(Set(pool.map(\.key)), Set(leads.map(\.leadID.rawValue)))
            try await waitUntil("nothing parked", timeoutSeconds: 30, pollMilliseconds: 200) { try await parked() == 0 }
            try await waitUntil("the re-enrich run ready", timeoutSeconds: 60, pollMilliseconds: 500) {
                let state = try await harness.latestStates()[target]
                return state?.status == .ready && state?.runID.rawValue.hasPrefix("run-re-") == true
            }
            let letters = try await harness.readAll(DeadLetter.self, topic: harness.environment.topics.deadLetters)
            XCTAssertTrue(letters.isEmpty, letters.map { $0.value.reason }.joined(separator: "; "))
        }
    }
}
