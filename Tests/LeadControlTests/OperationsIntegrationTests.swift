import Foundation
import Kafka
import KafkaTestSupport
import LeadControl
import LeadModel
import Streaming
import XCTest

/// `billing`, `dead-letters replay`, `progress` and `lag` against the real broker, each test in
/// its own namespace whose topics are deleted afterwards.
final class OperationsIntegrationTests: XCTestCase {
    private func withNamespace(_ body: (PipelineEnvironment, [String: String]) async throws -> Void) async throws {
        let variables = [
            "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers,
            "PIPELINE_NAMESPACE": "ops-\(UUID().uuidString.prefix(8).lowercased())", "PIPELINE_PARTITIONS": "2",
        ]
        let environment = try PipelineEnvironment(service: "leadctl-test", environment: variables)
        try await environment.ensureTopics()
        do {
            try await body(environment, variables)
        } catch {
            try? await KafkaAdmin(configuration: environment.kafka).deleteTopics(environment.topics.all)
            throw error
        }
        try await KafkaAdmin(configuration: environment.kafka).deleteTopics(environment.topics.all)
    }

    private func run(_ arguments: [String], _ variables: [String: String]) async -> (status: Int32, console: CapturedConsole) {
        let captured = CapturedConsole()
        let status = await LeadControl.main(arguments: arguments, environment: variables, console: captured.console)
        return (status, captured)
    }

    private func send(_ records: [ProducerRecord], _ environment: PipelineEnvironment) async throws {
        let producer = try KafkaProducer(configuration: environment.kafka)
        _ = try await producer.send(records)
        await producer.close()
    }

    /// Every record of `topic` up to its end.
    private func readAll(_ topic: String, _ environment: PipelineEnvironment) async throws -> [ConsumerRecord] {
        let admin = try KafkaAdmin(configuration: environment.kafka)
        var records: [ConsumerRecord] = []
        try await KafkaConsumer.readToEnd(try await admin.partitions(of: topic), configuration: environment.kafka, admin: admin,
                                          timeout: .seconds(30)) { records.append($0) }
        return records
    }

    func testBillingPauseAndResumePublishBillingEventsAndLeaveTheAccountAlone() async throws {
        try await withNamespace { environment, variables in
            let (missing, missingConsole) = await run(["billing", "pause", "--account", "acct-x"], variables)
            XCTAssertEqual(missing, LeadControl.failure)
            XCTAssertTrue(missingConsole.error.contains("no configuration for account acct-x"), missingConsole.error)

            let window = OutreachWindow(timeZoneID: "Europe/Berlin")
            let old = AccountConfig(accountID: "acct-x", outreachWindow: nil, updatedAt: Samples.now)
            let latest = AccountConfig(accountID: "acct-x", outreachWindow: window, autopilot: AutopilotRule(), updatedAt: Samples.now)
            try await send([try environment.codec.record(old, topic: environment.topics.accounts, key: "acct-x"),
                            try environment.codec.record(latest, topic: environment.topics.accounts, key: "acct-x")], environment)

            let (paused, pausedConsole) = await run(["billing", "pause", "--account", "acct-x", "--reason", "invoice unpaid"], variables)
            XCTAssertEqual(paused, LeadControl.success, pausedConsole.error)
            XCTAssertTrue(pausedConsole.output.contains("billing paused for account acct-x"), pausedConsole.output)
            let (resumed, resumedConsole) = await run(["billing", "resume", "--account", "acct-x"], variables)
            XCTAssertEqual(resumed, LeadControl.success, resumedConsole.error)

            let accounts = try await readAll(environment.topics.accounts, environment)
            XCTAssertEqual(accounts.count, 2, "the account's configuration is not rewritten")
            let events = try await readAll(environment.topics.billingEvents, environment)
            XCTAssertEqual(events.map(\.keyString), ["acct-x", "acct-x"])
            let written = try events.map { try environment.codec.decode(AccountBillingEvent.self, record: $0) }
            XCTAssertEqual(written.map(\.state), [.paused, .active])
            XCTAssertEqual(written.map(\.reason), ["invoice unpaid", "resumed by an operator"])
            XCTAssertEqual(Set(written.map(\.source)), [LeadControl.billingEventSource])
            XCTAssertEqual(Set(written.map(\.eventID)).count, 2, "each event has an id of its own")
            XCTAssertEqual(BillingState.inForce(event: written.last, configuration: latest), .active)
        }
    }

    func testReplayRepublishesOriginalOrFixedBytesWithTheOriginalKey() async throws {
        try await withNamespace { environment, variables in
            let source = environment.topics.leadsDiscovered
            let broken = DeadLetter(original: Array("{\"broken".utf8), originalKey: Array("lead-9".utf8), sourceTopic: source,
                                    partition: 0, offset: 3, reason: "malformed JSON", failedAt: Samples.now, service: "coordinator")
            let other = DeadLetter(original: Array("other".utf8), originalKey: Array("lead-10".utf8), sourceTopic: source,
                                   partition: 1, offset: 4, reason: "malformed JSON", failedAt: Samples.now, service: "coordinator")
            // Both in partition 0 of the dead letters topic, at offsets 0 and 1.
            try await send([
                ProducerRecord(topic: environment.topics.deadLetters, partition: 0, key: Array("lead-9".utf8),
                               value: try environment.codec.encode(broken)),
                ProducerRecord(topic: environment.topics.deadLetters, partition: 0, key: Array("lead-10".utf8),
                               value: try environment.codec.encode(other)),
            ], environment)

            let (listed, listing) = await run(["dead-letters", "list"], variables)
            XCTAssertEqual(listed, LeadControl.success)
            XCTAssertTrue(listing.output.hasPrefix("0@0  "), listing.output)

            let (nothing, nothingConsole) = await run(["dead-letters", "replay", "1@0"], variables)
            XCTAssertEqual(nothing, LeadControl.failure)
            XCTAssertTrue(nothingConsole.error.contains("no dead letter at 1@0"), nothingConsole.error)

            let fixed = Samples.lead(id: "lead-9")
            let fixedBytes = try environment.codec.encode(fixed)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("fixed-\(UUID().uuidString).json")
            try Data(fixedBytes).write(to: path)
            defer { try? FileManager.default.removeItem(at: path) }
            let (replayed, replayConsole) = await run(["dead-letters", "replay", "0@0", "--file", path.path], variables)
            XCTAssertEqual(replayed, LeadControl.success, replayConsole.error)
            var inputs = try await readAll(source, environment)
            XCTAssertEqual(inputs.count, 1)
            XCTAssertEqual(inputs[0].keyString, "lead-9")
            XCTAssertEqual(inputs[0].value, fixedBytes)
            XCTAssertEqual(inputs[0].header(MessageHeaders.schema).map { String(decoding: $0, as: UTF8.self) }, "lead.discovered")
            XCTAssertEqual(try environment.codec.decode(LeadDiscovered.self, record: inputs[0]), fixed)

            let (all, allConsole) = await run(["dead-letters", "replay", "--all"], variables)
            XCTAssertEqual(all, LeadControl.success, allConsole.error)
            inputs = try await readAll(source, environment)
            XCTAssertEqual(inputs.count, 3)
            XCTAssertEqual(Set(inputs.dropFirst().map { String(decoding: $0.value ?? [], as: UTF8.self) }), ["{\"broken", "other"])
            XCTAssertEqual(Set(inputs.dropFirst().compactMap(\.keyString)), ["lead-9", "lead-10"])
        }
    }

    /// Letters without their original value cannot be replayed as they are: one whose payload
    /// was withheld (its full letter was refused) would go out as an empty record, and one too
    /// large to keep has none. Each is refused with the way out (`--file`); `--all` replays the
    /// rest, names the ones it skipped and exits 1. `list --json` gives each letter's place.
    func testLettersWithoutTheirOriginalAreSkippedAndTheRestReplayed() async throws {
        try await withNamespace { environment, variables in
            let source = environment.topics.leadsDiscovered
            let good = DeadLetter(original: Array("good".utf8), originalKey: Array("lead-1".utf8), sourceTopic: source,
                                  partition: 0, offset: 1, reason: "malformed JSON", failedAt: Samples.now, service: "coordinator")
            let withheld = DeadLetter(original: [], originalKey: Array("lead-2".utf8), sourceTopic: source, partition: 0, offset: 2,
                                      reason: "output refused; payload withheld: 900000 bytes, fnv1a64 0123456789abcdef",
                                      failedAt: Samples.now, service: "profile-stage")
            let large = DeadLetter(original: Array(repeating: 0x41, count: 10), originalKey: Array("lead-3".utf8), sourceTopic: source,
                                   partition: 0, offset: 3, reason: "too large", failedAt: Samples.now, service: "coordinator",
                                   keepOriginal: false)
            try await send([good, withheld, large].map {
                ProducerRecord(topic: environment.topics.deadLetters, partition: 0, key: Array("k".utf8), value: try environment.codec.encode($0))
            }, environment)

            let (listed, listing) = await run(["dead-letters", "list", "--json"], variables)
            XCTAssertEqual(listed, LeadControl.success, listing.error)
            let places = try listing.output.split(separator: "\n").map { line in
                try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["deadLetterAt"] as? String
            }
            XCTAssertEqual(places, ["0@0", "0@1", "0@2"], "each JSON line names the letter's place for replay")

            let (one, oneConsole) = await run(["dead-letters", "replay", "0@1"], variables)
            XCTAssertEqual(one, LeadControl.failure)
            XCTAssertTrue(oneConsole.error.contains("0@1") && oneConsole.error.contains("--file"), oneConsole.error)
            let sent = try await readAll(source, environment)
            XCTAssertTrue(sent.isEmpty, "nothing was sent for a letter without its original")

            let (all, allConsole) = await run(["dead-letters", "replay", "--all"], variables)
            XCTAssertEqual(all, LeadControl.failure, "letters were skipped")
            XCTAssertTrue(allConsole.error.contains("0@1") && allConsole.error.contains("0@2"), allConsole.error)
            let inputs = try await readAll(source, environment)
            XCTAssertEqual(inputs.map { String(decoding: $0.value ?? [], as: UTF8.self) }, ["good"], "the replayable letter went out")
            XCTAssertEqual(inputs.map(\.keyString), ["lead-1"])
        }
    }

    /// A letter whose record the broker refuses (here an invalid topic name; with the shipped
    /// ACLs, an internal topic operators may not write) is named and skipped, and the letters
    /// after it in the same batch are replayed: before, the first refusal ended the replay, the
    /// batch's other records sent or not.
    func testAReplayTheBrokerRefusesForOneLetterSkipsItAndReplaysTheRest() async throws {
        try await withNamespace { environment, variables in
            let source = environment.topics.leadsDiscovered
            let letters = [("lead-1", source), ("lead-2", "not a topic!"), ("lead-3", source)].enumerated().map { index, item in
                DeadLetter(original: Array("value-\(index)".utf8), originalKey: Array(item.0.utf8), sourceTopic: item.1,
                           partition: 0, offset: Int64(index), reason: "malformed JSON", failedAt: Samples.now, service: "coordinator")
            }
            try await send(letters.map {
                ProducerRecord(topic: environment.topics.deadLetters, partition: 0, key: Array("k".utf8), value: try environment.codec.encode($0))
            }, environment)

            let (all, console) = await run(["dead-letters", "replay", "--all"], variables)
            XCTAssertEqual(all, LeadControl.failure, "a letter was skipped")
            XCTAssertTrue(console.error.contains("0@1"), console.error)
            let inputs = try await readAll(source, environment)
            XCTAssertEqual(Set(inputs.map { String(decoding: $0.value ?? [], as: UTF8.self) }), ["value-0", "value-2"])
            XCTAssertEqual(console.output.split(separator: "\n").count, 2, console.output)
        }
    }

    /// A publish that fails part-way says how much of the file went out: the batches before the
    /// failing one were acknowledged, so the operator knows where to resume.
    func testAPublishThatFailsPartWaySaysHowManyRecordsWereAcknowledged() async throws {
        try await withNamespace { environment, variables in
            let valid = (0..<500).map { index in
                #"{"leadID":"lead-\#(index)","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Lead \#(index)","xURL":"x.com/lead\#(index)"}"#
            }
            let tooLarge = String(repeating: "x", count: 2 << 20)  // invalid, sent as is, above MAX_RECORD_BYTES
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("leads-\(UUID().uuidString).jsonl")
            try (valid + [tooLarge, valid[0]]).joined(separator: "\n").write(to: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: path) }
            let (status, console) = await run(["publish", "--file", path.path, "--publish-invalid"], variables)
            XCTAssertNotEqual(status, LeadControl.success)
            XCTAssertTrue(console.error.contains("500 records were acknowledged (the first 500, in order) before a batch of 2 failed"),
                          console.error)
        }
    }

    /// A pool topic of `count` records of `bytes` bytes on a private broker, and a `leadctl` on it.
    private func poolOf(_ count: Int, recordsOf bytes: Int, on broker: PrivateBroker,
                        namespace: String) async throws -> (LeadControl, String, KafkaAdmin) {
        let variables = ["KAFKA_BOOTSTRAP_SERVERS": broker.bootstrapServers, "PIPELINE_NAMESPACE": namespace, "PIPELINE_PARTITIONS": "2"]
        let environment = try PipelineEnvironment(service: "leadctl-test", environment: variables)
        try await environment.ensureTopics()
        let topic = environment.topics.leadPool
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: bytes)
        try await send((0..<count).map { ProducerRecord(topic: topic, key: Array("lead-\($0)".utf8), value: value) }, environment)
        return (LeadControl(environment: environment, console: CapturedConsole().console), topic, try KafkaAdmin(configuration: environment.kafka))
    }

    /// A broker that stops answering for longer than a few seconds in the middle of a read
    /// (a long pause, a partition) does not make a list end short: the read waits for the
    /// partitions' ends (or fails with the time it was allowed), never counts silence as the end.
    func testAReadAcrossABrokerPauseOfSevenSecondsIsWhole() async throws {
        let broker = PrivateBroker()
        defer { broker.stop() }
        // More than the reader fetches ahead (2,000 records a partition), so most are still on
        // the broker when it stops.
        let count = 20_000
        let (control, topic, admin) = try await poolOf(count, recordsOf: 200, on: broker, namespace: "ops-pause")
        var read = 0
        try await control.readToEnd(try await admin.partitions(of: topic), admin: admin) { _ in
            read += 1
            guard read == 1 else { return }
            broker.suspend()
            Task {
                try? await Task.sleep(for: .seconds(7))  // the length of the outage, not a wait for an event
                broker.resume()
            }
        }
        XCTAssertEqual(read, count, "every record up to the ends the read began with")
    }

    /// `readTimeout` bounds how long a read waits without a record, not how long it takes: a read
    /// of 50,000 records by a reader that spends 60 µs on each, 3 s in all, longer than a read
    /// timeout of 2 s, is whole (it failed "timed out reading … to its end" once 2 s had passed,
    /// so `leadctl show`, `pool match` and `dead-letters list` failed on every topic that takes
    /// longer than the timeout to read).
    func testAReadLongerThanTheReadTimeoutThatKeepsReceivingRecordsIsWhole() async throws {
        let broker = PrivateBroker()
        defer { broker.stop() }
        let count = 50_000
        var (control, topic, admin) = try await poolOf(count, recordsOf: 100, on: broker, namespace: "ops-long")
        control.readTimeout = .seconds(2)
        var read = 0
        let start = ContinuousClock.now
        try await control.readToEnd(try await admin.partitions(of: topic), admin: admin) { _ in
            read += 1
            usleep(60)  // the reader's work on each record
        }
        XCTAssertEqual(read, count, "every record up to the ends the read began with")
        XCTAssertGreaterThan(ContinuousClock.now - start, control.readTimeout, "longer than the read timeout in all")
    }

    func testProgressAndLagReadTheirTopics() async throws {
        try await withNamespace { environment, variables in
            let first = OperationsReportTests.snapshot("s-1", account: "acct-1")
            var latest = first
            latest.completed = 10
            latest.enriching = 0
            latest.scoring = 0
            latest.deferred = 0
            latest.state = .completed
            let other = OperationsReportTests.snapshot("s-2", account: "acct-2")
            try await send([
                try environment.codec.record(first, topic: environment.topics.progress, key: "s-1"),
                try environment.codec.record(other, topic: environment.topics.progress, key: "s-2"),
                try environment.codec.record(latest, topic: environment.topics.progress, key: "s-1"),
            ], environment)
            let (status, console) = await run(["progress", "--json"], variables)
            XCTAssertEqual(status, LeadControl.success, console.error)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(console.output.utf8)) as? [String: Any])
            let searches = try XCTUnwrap(object["searches"] as? [[String: Any]])
            XCTAssertEqual(searches.map { $0["searchID"] as? String ?? "" }, ["s-1", "s-2"])
            XCTAssertEqual(searches[0]["state"] as? String, "completed", "the latest snapshot per search wins")

            // --watch ends at once when every shown search is completed.
            let (watched, watchConsole) = await run(["progress", "--watch", "--search", "s-1"], variables)
            XCTAssertEqual(watched, LeadControl.success, watchConsole.error)
            XCTAssertTrue(watchConsole.output.contains("[##############################]  10/10  100%  completed"), watchConsole.output)
            let (unknown, _) = await run(["progress", "--search", "s-9"], variables)
            XCTAssertEqual(unknown, LeadControl.failure)

            // Lag: a request nobody consumed yet is lag of the profile stage's group.
            try await send([ProducerRecord(topic: environment.topics.phaseRequests(.profile), key: "lead-1", value: Array("{}".utf8))],
                           environment)
            // Nobody consumes it over the window: stalled; every other group has nothing to read.
            let (lagStatus, lagConsole) = await run(["lag", "--json", "--max-lag", "0", "--window", "1", "--interval", "0.5"], variables)
            XCTAssertEqual(lagStatus, LeadControl.failure, "lag 1 is above --max-lag 0")
            let lag = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lagConsole.output.utf8)) as? [String: Any])
            XCTAssertGreaterThanOrEqual(lag["samples"] as? Int ?? 0, 2)
            XCTAssertGreaterThanOrEqual(lag["windowSeconds"] as? Double ?? 0, 1, "the samples span the window")
            let groups = try XCTUnwrap(lag["groups"] as? [[String: Any]])
            XCTAssertEqual(groups.map { $0["group"] as? String ?? "" }, environment.topics.consumerGroups.map(\.id))
            let profile = try XCTUnwrap(groups.first { $0["group"] as? String == environment.topics.stageGroup(.profile) })
            XCTAssertEqual(profile["totalLag"] as? Int, 1)
            XCTAssertEqual(profile["status"] as? String, "stalled")
            for group in groups where group["group"] as? String != environment.topics.stageGroup(.profile) {
                XCTAssertEqual(group["status"] as? String, group["totalLag"] is NSNull ? "untracked" : "ok", "\(group)")
            }
            let (okStatus, okConsole) = await run(["lag", "--max-lag", "1", "--window", "0"], variables)
            XCTAssertEqual(okStatus, LeadControl.success)
            XCTAssertTrue(okConsole.output.contains("group \(environment.topics.stageGroup(.profile))  total lag 1  unknown"),
                          okConsole.output)

            // --watch prints a report after every sample until cancelled.
            let watching = CapturedConsole()
            let watch = Task {
                await LeadControl.main(arguments: ["lag", "--watch", "--json", "--window", "1", "--interval", "0.2"],
                                       environment: variables, console: watching.console)
            }
            try await waitUntil("two watch reports", timeoutSeconds: 30, pollMilliseconds: 100) {
                watching.output.split(separator: "\n").count >= 2
            }
            watch.cancel()
            let watchStatus = await watch.value
            XCTAssertEqual(watchStatus, LeadControl.success, watching.error)
            let reports = watching.output.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            XCTAssertGreaterThanOrEqual(reports.count, 2, "one JSON document per line")
            XCTAssertEqual(reports.first?["samples"] as? Int, 1, "the first report comes after the first sample")
        }
    }

    func testHeatPrintsTheSignalEachCompanyLastPublishedHottestFirst() async throws {
        try await withNamespace { environment, variables in
            func signal(_ account: AccountID, _ company: String, heat: Int, leads: Int, minutes: Double) -> AccountSignal {
                AccountSignal(accountID: account, companyKey: company, companyName: company.hasPrefix("li:") ? "Acme Inc" : "Globex",
                              heatScore: heat, category: heat >= 70 ? .hot : heat >= 40 ? .warm : .cool, trend: .stable, leadCount: leads,
                              signals: heat == 0 ? [] : [CompanySignal(leadID: "l1", kind: "switching-intent", detail: "Outreach",
                                                                       date: Samples.now, weight: 9)],
                              computedAt: Samples.now.addingTimeInterval(minutes * 60))
            }
            func state(_ published: AccountSignal?, _ account: AccountID = "acct-1", _ company: String = "") -> AccountHeatState {
                AccountHeatState(accountID: published?.accountID ?? account, companyKey: published?.companyKey ?? company,
                                 companyName: published?.companyName ?? company, published: published, updatedAt: Samples.now)
            }
            let current = signal("acct-1", "li:1001", heat: 85, leads: 3, minutes: 2)
            let cooled = signal("acct-1", "name:globex", heat: 0, leads: 1, minutes: 3)  // one lead left
            let other = signal("acct-2", "li:2002", heat: 45, leads: 2, minutes: 4)
            let states: [(String, AccountHeatState?)] = [
                ("acct-1|li:1001", state(signal("acct-1", "li:1001", heat: 82, leads: 2, minutes: 0))),
                ("acct-1|name:globex", state(signal("acct-1", "name:globex", heat: 75, leads: 2, minutes: 1))),
                ("acct-1|li:1001", state(current)),
                ("acct-1|name:globex", state(cooled)),
                ("acct-2|li:2002", state(other)),
                ("acct-1|name:initech", state(signal("acct-1", "name:initech", heat: 90, leads: 2, minutes: 0))),
                ("acct-1|name:initech", nil),  // forgotten past the window
                ("acct-1|name:hooli", state(nil, "acct-1", "name:hooli")),  // never two leads
            ]
            try await send(try states.map { key, state in
                guard let state else { return ProducerRecord(topic: environment.topics.accountHeat, key: Array(key.utf8), value: nil) }
                return try environment.codec.record(state, topic: environment.topics.accountHeat, key: key)
            }, environment)

            let (status, console) = await run(["heat"], variables)
            XCTAssertEqual(status, LeadControl.success, console.error)
            let lines = console.output.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 2, console.output)
            XCTAssertTrue(lines[0].hasPrefix("acct-1") && lines[0].contains("li:1001") && lines[0].contains("heat 85 hot"), lines[0])
            XCTAssertTrue(lines[0].contains("3 people") && lines[0].contains("switching-intent"), lines[0])
            XCTAssertTrue(lines[1].hasPrefix("acct-2") && lines[1].contains("heat 45 warm"), lines[1])
            XCTAssertTrue(console.error.contains("1 cooled"), console.error)

            let (_, all) = await run(["heat", "--all", "--account", "acct-1"], variables)
            let allLines = all.output.split(separator: "\n").map(String.init)
            XCTAssertEqual(allLines.count, 2, all.output)
            XCTAssertTrue(allLines[1].contains("name:globex") && allLines[1].contains("heat 0 cool") && allLines[1].contains("1 person"),
                          allLines[1])

            let (_, json) = await run(["heat", "--json", "--account", "acct-2"], variables)
            let decoded = try json.output.split(separator: "\n").map {
                try environment.codec.decode(AccountSignal.self, from: Array($0.utf8))
            }
            XCTAssertEqual(decoded, [other])
        }
    }
}
