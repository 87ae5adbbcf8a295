import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// The whole pipeline as real processes on the real broker.
final class PipelineSystemTests: XCTestCase {
    /// The phases a lead's latest run went through (completed or skipped), in order.
    func phasesOfLatestRun(_ state: LeadState) -> [Phase] {
        state.history.filter { $0.runID == state.runID && ($0.kind == .phaseCompleted || $0.kind == .phaseSkipped) }
            .compactMap(\.phase)
    }

    func testMixedModesAllReachReadyOnceWithTheirPhases() async throws {
        // No simulated "profile does not exist" answers and no failures (a lead with one platform
        // whose every attempt fails ends without a profile, by design): every full-mode lead must
        // get a profile.
        try await withPipeline(environment: [
            "SIM_LINKEDIN_NOT_FOUND_RATE": "0", "SIM_X_NOT_FOUND_RATE": "0", "SIM_LINKEDIN_FAILURE_RATE": "0", "SIM_X_FAILURE_RATE": "0",
        ]) { harness in
            try harness.startAll()
            let modes: [ModeName] = [.full, .full, .scoringOnly, .enrichOnly, .noOp, .reEnrich]
            let leads = harness.makeLeads(500, modes: modes, reEnrichTypes: [.x, .activity])
            try await harness.publish(leads: leads)

            let pool = try await harness.waitForPool(500)
            XCTAssertEqual(pool.count, 500, "every lead exactly once in the pool")
            XCTAssertEqual(Set(pool.map(\.key)), Set(leads.map(\.leadID.rawValue)))

            let states = try await harness.latestStates()
            let records = try await harness.latestStates(loadingPoolEntries: false)
            let poolByLead = Dictionary(uniqueKeysWithValues: pool.map { ($0.key, $0.value) })
            for lead in leads {
                let state = try XCTUnwrap(states[lead.leadID], "\(lead.leadID) has no state")
                let record = try XCTUnwrap(records[lead.leadID])
                XCTAssertTrue(record.poolEntry != nil && !record.isProfileLoaded,
                              "\(lead.leadID): the ready record refers to the pool entry instead of carrying the profile")
                XCTAssertEqual(state.status, .ready, "\(lead.leadID)")
                XCTAssertEqual(phasesOfLatestRun(state), lead.resolvedMode.phases, "\(lead.leadID) in \(lead.mode)")
                let profile = try XCTUnwrap(poolByLead[lead.leadID.rawValue]?.profile)
                XCTAssertEqual(profile, state.profile, "\(lead.leadID): the pool holds the profile the coordinator finished with")
                if let activity = profile.activity, !activity.posts.isEmpty {
                    // The results carry the posts only; the finalize stage renders the text.
                    XCTAssertTrue(activity.posts.allSatisfy { activity.plainText.contains($0.text) }, "\(lead.leadID): \(activity.plainText)")
                }
                switch lead.mode {
                case .full:
                    XCTAssertNotNil(profile.scores, "\(lead.leadID)")
                    XCTAssertTrue(profile.linkedin != nil || profile.x != nil, "\(lead.leadID) got no profile")
                case .scoringOnly:
                    XCTAssertEqual(profile.linkedin, lead.poolProfile?.linkedin, "scoring-only is scored on the profile it carries")
                    XCTAssertNil(profile.x, "scoring-only must not fetch profiles")
                    XCTAssertNil(profile.activity)
                    XCTAssertNotNil(profile.scores)
                case .enrichOnly:
                    XCTAssertNil(profile.scores)
                case .noOp:
                    XCTAssertNil(profile.linkedin)
                    XCTAssertNil(profile.x)
                    XCTAssertNil(profile.scores)
                case .reEnrich:
                    XCTAssertNil(profile.linkedin, "only X and activity were selected")
                    XCTAssertNil(profile.scores)
                }
            }

            // A manual re-enrich of finished leads runs only the selected types, then finalize.
            let chosen = leads.filter { $0.mode == .full }.prefix(5)
            for lead in chosen {
                try await harness.publish(ReEnrichRequested(leadID: lead.leadID, types: [.activity], requestedAt: Date(), requestedBy: "test",
                                                            requestID: RequestID("rerun-\(lead.leadID)")),
                                          topic: harness.environment.topics.leadsDiscovered, key: lead.leadID.rawValue)
            }
            var rerun: [LeadID: LeadState] = [:]
            try await waitUntil("re-enriched leads ready", timeoutSeconds: 60, pollMilliseconds: 500) {
                let latest = try await harness.latestStates()
                rerun = latest.filter { id, state in chosen.contains { $0.leadID == id } && state.runID != states[id]?.runID && state.status == .ready }
                return rerun.count == chosen.count
            }
            for state in rerun.values {
                XCTAssertEqual(phasesOfLatestRun(state), [.activity, .finalize])
                XCTAssertEqual(state.profile.linkedin, states[state.leadID]?.profile.linkedin,
                               "the run started from the last run's profile, read back from its pool entry")
                XCTAssertNotNil(state.profile.linkedin)
            }
        }
    }

    func testLinkedInFailingForEveryLeadStillDeliversXAndReady() async throws {
        try await withPipeline(environment: [
            "SIM_LINKEDIN_FAILURE_RATE": "1", "SIM_X_FAILURE_RATE": "0", "SIM_X_NOT_FOUND_RATE": "0",
            "RETRY_BACKOFF_SECONDS": "0.1", "PHASE_MAX_ATTEMPTS": "2",
        ]) { harness in
            try harness.startAll()
            let leads = harness.makeLeads(60)
            try await harness.publish(leads: leads)
            let pool = try await harness.waitForPool(60)
            let profiles = Dictionary(pool.map { ($0.key, $0.value.profile) }) { first, _ in first }
            for lead in leads {
                let profile = try XCTUnwrap(profiles[lead.leadID.rawValue])
                XCTAssertNil(profile.linkedin, "LinkedIn failed for everyone")
                if lead.xURL != nil {
                    XCTAssertNotNil(profile.x, "\(lead.leadID): X data must arrive although LinkedIn failed")
                }
                XCTAssertNotNil(profile.scores, "\(lead.leadID) must still be scored")
            }
            let states = try await harness.latestStates()
            XCTAssertTrue(leads.allSatisfy { states[$0.leadID]?.status == .ready })
        }
    }

    func testActivityFailingForEveryLeadStillScoresAndReady() async throws {
        try await withPipeline(environment: [
            "SIM_ACTIVITY_FAILURE_RATE": "1", "RETRY_BACKOFF_SECONDS": "0.1", "PHASE_MAX_ATTEMPTS": "2",
        ]) { harness in
            try harness.startAll()
            let leads = harness.makeLeads(60)
            try await harness.publish(leads: leads)
            let pool = try await harness.waitForPool(60)
            for (_, entry) in pool {
                XCTAssertNil(entry.profile.activity?.posts.first, "activity failed for everyone")
                XCTAssertNotNil(entry.profile.scores, "\(entry.leadID) must still be scored")
            }
        }
    }

    func testCoordinatorRestartedMidRunLosesNothingAndRepeatsNothing() async throws {
        try await withPipeline { harness in
            let coordinator = try harness.start("coordinator")
            for stage in ["profile-stage", "activity-stage", "scoring-stage", "finalize-stage"] { try harness.start(stage) }
            let leads = harness.makeLeads(300)
            try await harness.publish(leads: leads)
            try await waitUntil("some leads ready", timeoutSeconds: 120, pollMilliseconds: 200) {
                try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool).count >= 30
            }
            let status = try await harness.stop(coordinator, signal: SIGTERM)
            XCTAssertEqual(status, 0, "SIGTERM must drain and exit cleanly")
            let poolAtStop = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool).count
            XCTAssertLessThan(poolAtStop, 300, "the restart should happen mid-run")
            let restartedAt = Date()
            try harness.start("coordinator")

            let pool = try await harness.waitForPool(300)
            XCTAssertEqual(pool.count, 300, "no lead finished twice")
            let states = try await harness.latestStates()
            XCTAssertTrue(leads.allSatisfy { states[$0.leadID]?.status == .ready })
            let usage = try await harness.readAll(BillingUsage.self, topic: harness.environment.topics.billingUsage)
            XCTAssertEqual(Set(usage.map(\.value.idempotencyKey)).count, usage.count, "no phase charged twice")
            XCTAssertFalse(usage.isEmpty)

            // No lead waited, so every scoring and finalize request carries the run's outputs as
            // the results held them, not the profile: after the restart too, from the results
            // the restore read back.
            for phase in [Phase.scoring, .finalize] {
                var requests: [(key: String, value: PhaseRequest)] = []
                for isPriority in [false, true] {
                    requests += try await harness.readAll(PhaseRequest.self, topic: harness.environment.topics.phaseRequests(phase, isPriority: isPriority))
                }
                XCTAssertGreaterThanOrEqual(requests.count, 300, "\(phase)")
                XCTAssertEqual(requests.filter { $0.value.document == nil }.map(\.key), [], "\(phase) requests that carried the profile")
                XCTAssertTrue(requests.contains { $0.value.requestedAt > restartedAt && !($0.value.document?.outputs.isEmpty ?? true) },
                              "\(phase): a request after the restart carries outputs")
            }

            // Progress is counted afresh from the restored states, not replayed: all 300, once.
            var progress: ProgressSnapshot?
            do {
                try await waitUntil("progress counts every lead completed", timeoutSeconds: 60, pollMilliseconds: 500) {
                    progress = try await harness.latestProgress(of: "search-1")
                    return progress?.completed == leads.count
                }
            } catch {
                let parts = try await harness.readAll(SearchProgressPart.self, topic: harness.environment.topics.progressParts)
                XCTFail("last progress: \(String(describing: progress)); parts: \(parts.map(\.value))")
                throw error
            }
            XCTAssertEqual(progress?.pending, 0)
            XCTAssertEqual(progress?.enriching, 0)
            XCTAssertEqual(progress?.scoring, 0)
        }
    }

    /// A coordinator that gives partitions up (a second one joins) first writes the states it
    /// held for their leads, so the next owner restores them and replays nothing: no result is
    /// applied twice and no charge sent again. Without the write, the next owner restores the
    /// states from before the held changes and applies their results again, each charge again
    /// under its key. The same happens to a lone coordinator whose group membership expires in
    /// a broker outage.
    func testCoordinatorGivingPartitionsUpWritesTheStatesItHeldFirst() async throws {
        try await withPipeline { harness in
            // A minute: every running lead's state is held when the second coordinator joins.
            let held = ["COORDINATOR_STATE_WRITE_INTERVAL_SECONDS": "60"]
            try harness.start("coordinator", environment: held)
            for stage in ["profile-stage", "activity-stage", "scoring-stage", "finalize-stage"] { try harness.start(stage) }
            let leads = harness.makeLeads(300)
            try await harness.publish(leads: leads)
            try await waitUntil("some leads ready", timeoutSeconds: 120, pollMilliseconds: 100) {
                try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool).count >= 30
            }
            let port = TestBroker.freeLoopbackPort()
            try harness.start("coordinator", environment: held.merging(["METRICS_PORT": String(port)]) { _, new in new })
            let poolAtJoin = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool).count
            XCTAssertLessThan(poolAtJoin, 300, "the second coordinator should join mid-run")

            let pool = try await harness.waitForPool(300)
            XCTAssertEqual(Set(pool.map(\.key)).count, 300)
            XCTAssertEqual(pool.count, 300, "no lead finished twice")
            // The first coordinator had handled every discovered lead before the second joined;
            // it stored their offsets once their states were written, so the second reads none
            // of them again.
            let (_, metrics) = try await httpGet("http://127.0.0.1:\(port)/metrics")
            let discoveredRead = try PrometheusSamples.parse(metrics)
                .filter { $0.key.hasPrefix("pipeline_coordinator_records_consumed_total{") && $0.key.contains(".leads.discovered\"") }
                .values.reduce(0, +)
            XCTAssertEqual(discoveredRead, 0, "discovered leads the second coordinator read again")
            let usage = try await harness.readAll(BillingUsage.self, topic: harness.environment.topics.billingUsage).map(\.value)
            XCTAssertFalse(usage.isEmpty)
            var seen: Set<String> = []
            let resent = usage.filter { !seen.insert($0.idempotencyKey).inserted }
            XCTAssertEqual(resent.count, 0, "charges sent again after the hand-over, of \(usage.count): \(resent.prefix(3).map(\.idempotencyKey))")
        }
    }

    /// A running lead's state is written at most once a second, so a SIGKILL loses the changes
    /// since; the offsets stored stop at them, and the restarted coordinator replays them.
    func testCoordinatorKilledMidRunReplaysTheChangesItHadNotWritten() async throws {
        try await withPipeline { harness in
            // Three seconds: at the kill most leads have changes held, and their inputs' offsets
            // would be committed (every second) if nothing held them back.
            let held = ["COORDINATOR_STATE_WRITE_INTERVAL_SECONDS": "3"]
            let coordinator = try harness.start("coordinator", environment: held)
            for stage in ["profile-stage", "activity-stage", "scoring-stage", "finalize-stage"] { try harness.start(stage) }
            let leads = harness.makeLeads(300)
            try await harness.publish(leads: leads)
            try await waitUntil("some leads ready", timeoutSeconds: 120, pollMilliseconds: 100) {
                try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool).count >= 30
            }
            _ = try await harness.stop(coordinator, signal: SIGKILL)
            let poolAtKill = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool).count
            XCTAssertLessThan(poolAtKill, 300, "the kill should happen mid-run")
            try harness.start("coordinator", environment: held)

            let pool = try await harness.waitForPool(300)
            XCTAssertEqual(Set(pool.map(\.key)).count, 300)
            let states = try await harness.latestStates()
            XCTAssertEqual(leads.filter { states[$0.leadID]?.status != .ready }.map(\.leadID), [], "not ready")
            // Nothing waited for an answer it had already read: the replay redoes the changes. (A
            // phase may still be skipped: the simulated providers fail now and then, three times
            // in a row for some lead.)
            let timedOut = states.values.flatMap(\.history).filter { $0.kind == .phaseFailed && $0.detail?.hasPrefix("no result within") == true }
            XCTAssertEqual(timedOut.map(\.description), [], "attempts that timed out")
            // A charge sent again carries the same key (the billing system absorbs it); two keys
            // for one phase would be two charges.
            let usage = try await harness.readAll(BillingUsage.self, topic: harness.environment.topics.billingUsage).map(\.value)
            var keys: [String: Set<String>] = [:]
            for charge in usage { keys["\(charge.leadID)/\(charge.phase)", default: []].insert(charge.idempotencyKey) }
            XCTAssertEqual(keys.filter { $0.value.count > 1 }.map(\.key), [], "charged twice")
            // Fewer state records than changes: each lead changes five times (four phases, ready).
            let stateRecords = try await harness.readAll(LeadStateSummary.self, topic: harness.environment.topics.leadState).count
            XCTAssertLessThan(Double(stateRecords) / 300, 4, "\(stateRecords) state records for 300 leads")
        }
    }
}
