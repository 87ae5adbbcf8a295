import Foundation
import JSONCodec
import Kafka
import KafkaTestSupport
import LeadModel
import Coordinator
import Streaming
import Synchronization
import XCTest

/// Gates, bad input and stuck phases with the real processes on the real broker.
final class ResilienceSystemTests: XCTestCase {
    func testPausedAccountWaitsWhileOtherAccountsFinishThenResumes() async throws {
        let harness = try await PipelineHarness(environment: ["SIM_LATENCY_SCALE": "0.1"])
        do {
            let other: AccountID = "acct-other"
            try await harness.publish(account: AccountConfig(accountID: other, updatedAt: Date()))
            try harness.startAll()
            let pausedLeads = harness.makeLeads(200, search: "search-paused", prefix: "p")
            let otherLeads = harness.makeLeads(100, search: "search-other", prefix: "o", account: other)
            try await harness.publish(leads: pausedLeads + otherLeads)

            // Mid-run: some of the first account's leads are done, then its billing pauses.
            try await waitUntil("first leads ready", timeoutSeconds: 120, pollMilliseconds: 200) {
                try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool).count >= 10
            }
            try await harness.publishBilling(.paused)

            // The other account's leads all finish; the paused account's remaining leads wait.
            var states: [LeadID: LeadState] = [:]
            try await waitUntil("other account done and paused account's leads waiting", timeoutSeconds: 120, pollMilliseconds: 500) {
                states = try await harness.latestStates()
                let otherDone = otherLeads.allSatisfy { states[$0.leadID]?.status == .ready }
                let pausedSettled = pausedLeads.allSatisfy {
                    states[$0.leadID]?.status == .ready || states[$0.leadID]?.status == .billingPaused
                }
                return otherDone && pausedSettled
            }
            let waiting = pausedLeads.filter { states[$0.leadID]?.status == .billingPaused }
            XCTAssertGreaterThan(waiting.count, 0, "some leads of the paused account must wait")
            XCTAssertLessThan(waiting.count, pausedLeads.count, "the pause came mid-run")
            // Waiting leads hold before a paid phase or retry, not in one: no attempt sent. The
            // account's autopilot is on: a lead scored when the pause came, whose finalize its
            // stage failed (autopilot would enroll it but for the pause), holds its retry.
            for lead in waiting {
                XCTAssertTrue(states[lead.leadID]?.inFlight.map(\.isBackingOff) ?? true, "\(String(describing: states[lead.leadID]?.inFlight))")
            }
            let heldAtFinalize = waiting.filter { states[$0.leadID]?.currentPhase == .finalize }.map(\.leadID)
            for leadID in heldAtFinalize {
                XCTAssertGreaterThanOrEqual(states[leadID]?.inFlight?.attempt ?? 0, 2, "only a retry of finalize waits")
            }
            let progress = try await harness.readAll(ProgressSnapshot.self, topic: harness.environment.topics.progress)
            let latest = progress.last { $0.value.searchID == "search-paused" }?.value
            XCTAssertEqual(latest?.billingPaused, waiting.count, "progress counts the waiting leads as paused")

            // Resume: every waiting lead finishes without operator action.
            try await harness.publishBilling(.active)
            let pool = try await harness.waitForPool(300, timeoutSeconds: 120)
            XCTAssertEqual(Set(pool.map(\.key)).count, 300)
            // Each lead held at finalize is enrolled now that billing is active.
            let enrolled = Set(try await harness.readAll(AutopilotEnrollment.self, topic: harness.environment.topics.autopilotEnrollments)
                .map(\.value.leadID))
            XCTAssertEqual(Set(heldAtFinalize).subtracting(enrolled), [])
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    /// A billing pause is in force once acknowledged: leads of the account published right after
    /// it start no paid phase and are charged nothing until the account resumes.
    func testLeadsPublishedRightAfterAPauseAreNotCharged() async throws {
        try await withPipeline(environment: ["SIM_LATENCY_SCALE": "0.05"]) { harness in
            try harness.startAll()
            try await harness.publish(leads: harness.makeLeads(4, prefix: "warm"))
            _ = try await harness.waitForPool(4, timeoutSeconds: 120)

            // One producer, as a billing system and lead discovery sharing a client would: each
            // lead goes out the moment the pause before it is acknowledged.
            let topics = harness.environment.topics
            let codec = harness.environment.codec
            let producer = try KafkaProducer(configuration: harness.environment.kafka, properties: ["linger.ms": "0"])
            let leads = harness.makeLeads(40, prefix: "after-pause")
            for (index, lead) in leads.enumerated() {
                let pause = AccountBillingEvent(accountID: harness.accountID, state: .paused, reason: "invoice unpaid",
                                                source: "billing-system", occurredAt: Date(), eventID: UUID().uuidString)
                _ = try await producer.send(codec.record(pause, topic: topics.billingEvents, key: pause.accountID.rawValue))
                var intent = lead
                intent.source = index % 2 == 0 ? .keywordSearch : .csvImport
                _ = try await producer.send(codec.record(intent, topic: topics.leadsDiscovered(for: intent.source), key: intent.leadID.rawValue))
            }
            await producer.close()
            var states: [LeadID: LeadState] = [:]
            try await waitUntil("every lead waiting on billing", timeoutSeconds: 60, pollMilliseconds: 300) {
                states = try await harness.latestStates()
                return leads.allSatisfy { states[$0.leadID]?.status == .billingPaused }
            }
            let ids = Set(leads.map(\.leadID))
            let charged = try await harness.readAll(BillingUsage.self, topic: harness.environment.topics.billingUsage)
                .filter { ids.contains($0.value.leadID) }
            XCTAssertEqual(charged.map(\.value.leadID.rawValue), [], "charged after the pause was acknowledged")
            let started = leads.filter { states[$0.leadID]?.history.contains { $0.kind == .phaseStarted } == true }
            XCTAssertEqual(started.map(\.leadID.rawValue), [], "a paid phase started after the pause")

            try await harness.publishBilling(.active)
            _ = try await harness.waitForPool(44, timeoutSeconds: 120)
        }
    }

    /// A clock the test sets by hand; between jumps it runs at real speed, so backoffs and
    /// timeouts scheduled after a jump still come due.
    final class TestClock: Sendable {
        private let offset: Mutex<TimeInterval>
        init(_ date: Date) { offset = Mutex(date.timeIntervalSinceNow) }
        var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
        func set(_ date: Date) { offset.withLock { $0 = date.timeIntervalSinceNow } }
    }

    func testClosedOutreachWindowDefersThenReleases() async throws {
        let harness = try await PipelineHarness()
        // Mon-Fri 9-17 UTC; the clock starts on a Saturday.
        try await harness.publish(account: AccountConfig(
            accountID: harness.accountID, outreachWindow: OutreachWindow(timeZoneID: "UTC"), updatedAt: Date()))
        let clock = TestClock(try XCTUnwrap(ISO8601.parse("2026-11-28T10:00:00.000Z")))
        let coordinator = Coordinator(
            environment: try harness.environment(for: "coordinator"),
            settings: CoordinatorSettings(consumerProperties: TestBroker.fastGroupProperties),
            now: { clock.now })
        let task = Task { try await coordinator.run() }
        do {
            for stage in PipelineHarness.stages { try harness.start(stage) }
            let leads = harness.makeLeads(20)
            try await harness.publish(leads: leads)
            try await waitUntil("every lead deferred", timeoutSeconds: 60, pollMilliseconds: 300) {
                let states = try await harness.latestStates()
                return leads.allSatisfy { states[$0.leadID]?.status == .outsideOutreachWindow }
            }
            // Nothing runs while the window is closed.
            let pool = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool)
            XCTAssertTrue(pool.isEmpty)

            clock.set(try XCTUnwrap(ISO8601.parse("2026-11-30T09:00:00.000Z")))  // Monday 9:00
            let released = try await harness.waitForPool(20, timeoutSeconds: 60)
            XCTAssertEqual(Set(released.map(\.key)), Set(leads.map(\.leadID.rawValue)))
            let states = try await harness.latestStates()
            for lead in leads {
                XCTAssertTrue(states[lead.leadID]?.history.contains { $0.kind == .deferred } ?? false)
                XCTAssertEqual(states[lead.leadID]?.status, .ready)
            }
        } catch {
            task.cancel()
            _ = try? await task.value
            await harness.tearDown()
            throw error
        }
        task.cancel()
        _ = try? await task.value
        await harness.tearDown()
    }

    func testEveryKindOfBadInputIsDeadLetteredWhileGoodLeadsFinish() async throws {
        let harness = try await PipelineHarness(environment: ["MAX_RECORD_BYTES": "65536", "COORDINATOR_CONFIGURATION_WAIT_SECONDS": "2"])
        do {
            try harness.startAll()
            func json(_ fields: [String: Any]) throws -> [UInt8] {
                Array(try JSONSerialization.data(withJSONObject: fields))
            }
            let valid: [String: Any] = [
                "schema": "lead.discovered", "version": 1, "leadID": "x", "accountID": harness.accountID.rawValue,
                "offerID": harness.offerID.rawValue, "sourceSearchID": "search-bad", "source": "csv-import",
                "name": "Valid Person", "linkedinURL": "https://www.linkedin.com/in/valid-person",
                "discoveredAt": "2026-11-25T10:00:00.000Z",
            ]
            func variant(_ key: String, _ change: (inout [String: Any]) -> Void) throws -> [UInt8] {
                var fields = valid
                fields["leadID"] = key
                change(&fields)
                return try json(fields)
            }
            let bad: [(key: String, bytes: [UInt8], expect: String)] = [
                ("bad-json", Array(#"{"schema":"lead.discovered","version":1,"leadID":"#.utf8), "malformed JSON"),
                ("bad-random", (0..<64).map { _ in UInt8.random(in: 0...255) }, "JSON"),
                ("bad-schema", try variant("bad-schema") { $0["schema"] = "lead.invented" }, "wrong schema"),
                ("bad-version", try variant("bad-version") { $0["version"] = 99 }, "unsupported version"),
                ("bad-missing", try variant("bad-missing") { $0["name"] = nil }, "missing field \"name\""),
                ("bad-type", try variant("bad-type") { $0["name"] = 42 }, "wrong type for field \"name\""),
                ("bad-size", try variant("bad-size") { $0["name"] = String(repeating: "n", count: 70_000) }, "exceeds the limit"),
                ("bad-url", try variant("bad-url") { $0["linkedinURL"] = "https://www.linkedin.com/company/acme" }, "linkedin"),
                ("bad-host", try variant("bad-host") { $0["linkedinURL"] = "https://evil.example.com/in/jane" }, "host"),
                ("bad-account", try variant("bad-account") { $0["accountID"] = "acct-nobody" }, "unknown account"),
                ("bad-offer", try variant("bad-offer") { $0["offerID"] = "offer-nothing" }, "unknown offer"),
                ("bad-headers", try variant("bad-headers") { _ in }, "headers of 20"),
            ]
            // Headers other systems add are read past, up to a bound: a valid lead whose headers
            // filled the producers' 64 KiB allowance had its backlog copy (a run id header more)
            // refused after it was admitted.
            let extraHeaders = ["bad-headers": [KafkaHeader(key: "trace", value: Array(repeating: 0x61, count: 20_000))]]
            let good = harness.makeLeads(20)
            // Interleave: good, bad, good, bad, ...
            for (index, lead) in good.enumerated() {
                try await harness.publish(leads: [lead])
                if index < bad.count {
                    try await harness.publishRaw(bad[index].bytes, key: bad[index].key,
                                                 headers: [KafkaHeader(key: MessageHeaders.schema, string: "lead.discovered")]
                                                     + (extraHeaders[bad[index].key] ?? []))
                }
            }
            let pool = try await harness.waitForPool(20, timeoutSeconds: 120)
            XCTAssertEqual(Set(pool.map(\.key)), Set(good.map(\.leadID.rawValue)), "good leads around bad ones finish")

            var letters: [String: DeadLetter] = [:]
            try await waitUntil("every bad record dead-lettered", timeoutSeconds: 30, pollMilliseconds: 300) {
                for (key, letter) in try await harness.readAll(DeadLetter.self, topic: harness.environment.topics.deadLetters) {
                    letters[key] = letter
                }
                return bad.allSatisfy { letters[$0.key] != nil }
            }
            for item in bad {
                let letter = try XCTUnwrap(letters[item.key])
                XCTAssertTrue(letter.reason.lowercased().contains(item.expect.lowercased()), "\(item.key): \(letter.reason)")
                if item.bytes.count < 40_000 {
                    XCTAssertEqual(letter.original, item.bytes, "\(item.key): original bytes kept")
                } else {
                    XCTAssertNil(letter.original, "\(item.key): too large to copy into a dead letter")
                }
                XCTAssertEqual(letter.originalBytes, item.bytes.count)
                XCTAssertEqual(letter.originalFNV1a64, DeadLetter.fnv1a64(item.bytes))
                XCTAssertEqual(letter.sourceTopic, harness.environment.topics.leadsDiscovered)
                XCTAssertGreaterThanOrEqual(letter.offset, 0)
                XCTAssertEqual(letter.service, "coordinator")
            }
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    /// A lead may be published just before its account: it waits for it, bounded, while the
    /// leads behind it go on; a lead whose account never comes is dead-lettered after the wait,
    /// and refused.
    func testALeadWaitsForItsAccountWhileOthersGoOnThenRunsOrIsDeadLettered() async throws {
        let harness = try await PipelineHarness(environment: ["COORDINATOR_CONFIGURATION_WAIT_SECONDS": "20"])
        do {
            try harness.startAll()
            let late: AccountID = "acct-late"
            let early = harness.makeLeads(3, prefix: "early", account: late)
            let never = harness.makeLeads(3, prefix: "never", account: "acct-never")
            let known = harness.makeLeads(20, prefix: "known")
            try await harness.publish(leads: early + never + known)

            // The known account's leads finish while the others wait, unanswered.
            _ = try await harness.waitForPool(known.count, timeoutSeconds: 60)
            var letters = try await harness.readAll(DeadLetter.self, topic: harness.environment.topics.deadLetters)
            XCTAssertTrue(letters.isEmpty, "nothing dead-lettered before the wait is over: \(letters.map(\.value.reason))")

            // The late account arrives: its leads run.
            try await harness.publish(account: AccountConfig(accountID: late, updatedAt: Date()))
            let pool = try await harness.waitForPool(known.count + early.count, timeoutSeconds: 60)
            XCTAssertTrue(early.allSatisfy { lead in pool.contains { $0.key == lead.leadID.rawValue } })

            // The others are dead-lettered once the wait is over, with the reason.
            try await waitUntil("leads of an account that never came dead-lettered", timeoutSeconds: 60, pollMilliseconds: 500) {
                letters = try await harness.readAll(DeadLetter.self, topic: harness.environment.topics.deadLetters)
                return Set(letters.map(\.key)) == Set(never.map(\.leadID.rawValue))
            }
            for (_, letter) in letters {
                XCTAssertTrue(letter.reason.contains("unknown account 'acct-never'") && letter.reason.contains("waited 20 s"), letter.reason)
            }
            // Each has a refused state, written with its dead letter, so its search counts it.
            try await waitUntil("refused states", timeoutSeconds: 30, pollMilliseconds: 250) {
                let states = try await harness.latestStates()
                return never.allSatisfy { states[$0.leadID]?.status == .refused }
            }
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    /// A lead started once its late account arrives keeps its input uncommitted until its state
    /// is written, as a lead started by its own record does: a coordinator killed in between
    /// leaves the record to its successor, which runs the lead to the pool.
    func testALeadStartedWhenItsAccountArrivesSurvivesACoordinatorKilledBeforeItsStateIsWritten() async throws {
        let harness = try await PipelineHarness(environment: [
            "COORDINATOR_CONFIGURATION_WAIT_SECONDS": "60", "COORDINATOR_STATE_WRITE_INTERVAL_SECONDS": "60",
        ])
        do {
            let topics = harness.environment.topics
            let coordinator = try harness.start("coordinator")
            let late: AccountID = "acct-late"
            let lead = harness.makeLeads(1, prefix: "late", account: late)[0]
            let producer = try KafkaProducer(configuration: harness.environment.kafka)
            let report = try await producer.send(
                try harness.environment.codec.record(lead, topic: topics.leadsDiscovered(for: lead.source), key: lead.leadID.rawValue))
            await producer.close()
            try await waitUntil("the lead waiting for its account", timeoutSeconds: 60, pollMilliseconds: 200) {
                try harness.logLines().values.joined().contains { $0.contains("waiting for configuration") }
            }
            try await harness.publish(account: AccountConfig(accountID: late, updatedAt: Date()))

            // No stage runs: the profile request stays unanswered and the processing state is
            // held (written after 60 s).
            try await waitUntil("the lead started", timeoutSeconds: 60, pollMilliseconds: 300) {
                try await harness.readAll(PhaseRequest.self, topic: topics.phaseRequests(.profile, isPriority: lead.source.isIntent))
                    .contains { $0.key == lead.leadID.rawValue }
            }
            // Offsets are committed every second: watch for a commit past the lead's record for a
            // few intervals (the defect committed it within one; the fix never does before the
            // state is written).
            let input = TopicPartition(topic: report.topic, partition: report.partition)
            let admin = try KafkaAdmin(configuration: harness.environment.kafka)
            var committedPast = false
            for _ in 0..<16 where !committedPast {
                let committed = try await admin.committedOffsets(group: topics.coordinatorGroup, partitions: [input])[input] ?? nil
                committedPast = (committed ?? 0) > report.offset
                if !committedPast { try await Task.sleep(for: .milliseconds(250)) }
            }
            XCTAssertFalse(committedPast, "the input of a lead whose state is held must not be committed")
            _ = try await harness.stop(coordinator, signal: SIGKILL)

            try harness.startAll()
            let pool = try await harness.waitForPool(1, timeoutSeconds: 90)
            XCTAssertEqual(pool.map(\.key), [lead.leadID.rawValue])
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    func testPhaseThatNeverAnswersIsSkippedAndTheLeadIsReady() async throws {
        let harness = try await PipelineHarness(environment: [
            "PHASE_TIMEOUT_SECONDS": "1", "PHASE_MAX_ATTEMPTS": "2", "RETRY_BACKOFF_SECONDS": "0.2",
        ])
        do {
            // No activity stage runs: activity requests are never answered.
            for service in ["coordinator", "profile-stage", "scoring-stage", "finalize-stage"] { try harness.start(service) }
            let leads = harness.makeLeads(10)
            try await harness.publish(leads: leads)
            _ = try await harness.waitForPool(10, timeoutSeconds: 60)
            let states = try await harness.latestStates()
            for lead in leads {
                let state = try XCTUnwrap(states[lead.leadID])
                XCTAssertEqual(state.status, .ready)
                let skip = try XCTUnwrap(state.profile.skippedPhases.first { $0.phase == .activity }, "\(lead.leadID)")
                XCTAssertTrue(skip.reason.contains("gave up after 2 attempts"), skip.reason)
                XCTAssertNotNil(state.profile.scores, "scoring still ran")
            }
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    /// A lead whose requests outgrow MAX_RECORD_BYTES still finishes, once: a lead matched from
    /// the pool brings a profile just within the bound, and its scoring card takes the finalize
    /// request over it. Before, the coordinator dead-lettered its own request and tried finalize
    /// again forever; now the request carries the profile without its oldest posts, and the
    /// pool entry says so. Nothing of the lead is dead-lettered.
    func testALeadWhoseFinalizeRequestOutgrowsTheBoundFinishesWithoutItsOldestPosts() async throws {
        let harness = try await PipelineHarness(environment: ["MAX_RECORD_BYTES": "65536"])
        do {
            try harness.startAll()
            var lead = try XCTUnwrap(harness.makeLeads(1, modes: [.scoringOnly], prefix: "prolific").first)
            var profile = try XCTUnwrap(lead.poolProfile)
            var posts: [Post] = []
            let now = Date()
            // Posts until the lead's record is just within the bound.
            while try harness.environment.codec.encode(lead).count < 65_000 {
                posts.append(Post(id: "p\(posts.count)", platform: .linkedin, date: now.addingTimeInterval(-Double(posts.count) * 3_600),
                                  text: "Rebuilding the outbound motion, post \(posts.count): " + String(repeating: "pipeline ", count: 20),
                                  likes: 1, replies: 0, reposts: 0, url: "https://www.linkedin.com/feed/update/\(posts.count)"))
                profile.activity = Activity(posts: posts, plainText: "", orbit: [], signalDate: posts[0].date)
                lead.poolProfile = profile
            }
            let others = harness.makeLeads(5)
            try await harness.publish(leads: [lead] + others)
            let pool = try await harness.waitForPool(6, timeoutSeconds: 120)
            let entries = pool.filter { $0.key == lead.leadID.rawValue }.map(\.value)
            XCTAssertEqual(entries.count, 1, "finalized once")
            let entry = try XCTUnwrap(entries.first)
            let kept = try XCTUnwrap(entry.profile.activity?.posts)
            XCTAssertFalse(kept.isEmpty)
            XCTAssertEqual(kept.map(\.id), posts.prefix(kept.count).map(\.id), "the newest posts")
            XCTAssertNotNil(entry.profile.scores)
            XCTAssertEqual(entry.omitted?.count, 1)
            XCTAssertTrue(entry.omitted?.first?.hasPrefix("activity.posts: the \(posts.count - kept.count) oldest of \(posts.count)") == true,
                          "\(entry.omitted ?? [])")
            let letters = try await harness.readAll(DeadLetter.self, topic: harness.environment.topics.deadLetters)
            XCTAssertEqual(letters.map(\.value.reason), [], "nothing dead-lettered")
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }
}
