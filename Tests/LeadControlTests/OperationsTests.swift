import Foundation
import Kafka
import LeadControl
import LeadModel
import XCTest

/// `progress`, `lag`, `dead-letters replay` and `billing`: parsing and rendering, no broker.
final class OperationsCommandLineTests: XCTestCase {
    private func parse(_ line: String) throws -> LeadControlInvocation {
        try LeadControlCommandLine.parse(line.split(separator: " ").map(String.init))
    }

    private func assertUsageError(_ line: String, contains text: String, file: StaticString = #filePath, line number: UInt = #line) {
        XCTAssertThrowsError(try parse(line), file: file, line: number) { error in
            XCTAssertTrue((error as? UsageError)?.problem.contains(text) ?? false, "\(error)", file: file, line: number)
        }
    }

    func testProgress() throws {
        XCTAssertEqual(try parse("progress").command, .progress(searchID: nil, isWatching: false, isJSON: false))
        XCTAssertEqual(try parse("progress --search s-1 --watch --json --namespace demo"),
                       LeadControlInvocation(command: .progress(searchID: "s-1", isWatching: true, isJSON: true),
                                             overrides: ConnectionOverrides(namespace: "demo")))
        assertUsageError("progress --search", contains: "--search needs a value")
        assertUsageError("progress extra", contains: "unexpected argument")
    }

    func testLag() throws {
        XCTAssertEqual(try parse("lag").command, .lag(LagOptions(windowSeconds: 10, intervalSeconds: 2)))
        XCTAssertEqual(try parse("lag --json --max-lag 500").command, .lag(LagOptions(isJSON: true, maxLag: 500)))
        XCTAssertEqual(try parse("lag --window 0 --json").command, .lag(LagOptions(windowSeconds: 0, isJSON: true)))
        XCTAssertEqual(try parse("lag --watch --window 30 --interval 0.5").command,
                       .lag(LagOptions(windowSeconds: 30, intervalSeconds: 0.5, isWatching: true)))
        assertUsageError("lag --max-lag lots", contains: "--max-lag \"lots\" is not a whole number")
        assertUsageError("lag --window -1", contains: "--window \"-1\" is not a number")
        assertUsageError("lag --interval 0", contains: "--interval \"0\" is not a number")
        assertUsageError("lag --watch --max-lag 5", contains: "--watch never exits")
    }

    func testDeadLetterReplay() throws {
        XCTAssertEqual(try parse("dead-letters replay 3@17").command, .deadLettersReplay(.one(partition: 3, offset: 17), replacementPath: nil))
        XCTAssertEqual(try parse("dead-letters replay 17 --file fixed.json").command,
                       .deadLettersReplay(.one(partition: nil, offset: 17), replacementPath: "fixed.json"))
        XCTAssertEqual(try parse("dead-letters replay --all").command, .deadLettersReplay(.all, replacementPath: nil))
        assertUsageError("dead-letters replay", contains: "missing PARTITION@OFFSET")
        assertUsageError("dead-letters replay 3@x", contains: "is not PARTITION@OFFSET")
        assertUsageError("dead-letters replay --all --file f.json", contains: "--file replaces one dead letter")
        assertUsageError("dead-letters replay --all 3@1", contains: "unexpected argument")
        assertUsageError("dead-letters purge", contains: "expected one of: list, replay")
    }

    func testBilling() throws {
        XCTAssertEqual(try parse("billing pause --account acct-1").command, .billing(accountID: "acct-1", state: .paused, reason: nil))
        XCTAssertEqual(try parse("billing resume --account=acct-1").command, .billing(accountID: "acct-1", state: .active, reason: nil))
        XCTAssertEqual(try parse("billing pause --account acct-1 --reason card-declined").command,
                       .billing(accountID: "acct-1", state: .paused, reason: "card-declined"))
        assertUsageError("billing pause", contains: "--account is required")
        assertUsageError("billing pause --account a --reason=", contains: "--reason is empty")
        assertUsageError("billing pause --account a --reason=\(String(repeating: "r", count: FieldLimit.text + 1))", contains: "longer than")
        assertUsageError("billing stop --account a", contains: "expected one of: pause, resume")
    }

    func testEveryNewCommandHasUsage() {
        for name in ["progress", "lag", "dead-letters replay", "billing pause", "billing resume", "billing"] {
            XCTAssertNotNil(Usage.text(for: name), name)
        }
        for name in ["progress", "lag", "dead-letters replay", "billing pause"] {
            XCTAssertTrue(Usage.general.contains(name), name)
        }
    }
}

final class OperationsReportTests: XCTestCase {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)

    static func snapshot(_ search: String, account: String = "acct-1", state: ProgressSnapshot.State = .running, total: Int? = 10,
                         completed: Int = 4, enriching: Int = 3, scoring: Int = 2, finalizing: Int = 0, paused: Int = 0,
                         deferred: Int = 1, refused: Int = 0, alreadyKnown: Int = 0) -> ProgressSnapshot {
        ProgressSnapshot(searchID: SearchID(search), accountID: AccountID(account), state: state, total: total, completed: completed,
                         enriching: enriching, scoring: scoring, finalizing: finalizing, billingPaused: paused, deferred: deferred,
                         refused: refused, alreadyKnown: alreadyKnown, updatedAt: now)
    }

    func testProgressAddsUpAccountsAndFilters() {
        let report = ProgressReport(latest: [
            Self.snapshot("s-2", state: .completed, total: 5, completed: 5, enriching: 0, scoring: 0, deferred: 0),
            Self.snapshot("s-1"),
            Self.snapshot("s-3", account: "acct-2", state: .paused, total: nil, completed: 0, enriching: 0, scoring: 0, paused: 7, deferred: 0),
        ])
        XCTAssertEqual(report.searches.map(\.searchID), ["s-1", "s-2", "s-3"])
        XCTAssertEqual(report.accounts.map(\.accountID), ["acct-1", "acct-2"])
        let first = report.accounts[0]
        XCTAssertEqual(first.state, .running)
        XCTAssertEqual(first.total, 15)
        XCTAssertEqual([first.completed, first.enriching, first.scoring, first.billingPaused, first.deferred], [9, 3, 2, 0, 1])
        XCTAssertEqual(report.accounts[1].state, .paused)
        XCTAssertNil(report.accounts[1].total, "an undeclared total makes the account's total unknown")
        XCTAssertFalse(report.isEverySearchCompleted)

        let filtered = ProgressReport(latest: report.searches, searchID: "s-2")
        XCTAssertEqual(filtered.searches.map(\.searchID), ["s-2"])
        XCTAssertEqual(filtered.accounts.map(\.state), [.completed])
        XCTAssertTrue(filtered.isEverySearchCompleted)
        XCTAssertFalse(ProgressReport(latest: []).isEverySearchCompleted, "nothing shown is not done")
    }

    func testProgressTable() {
        let report = ProgressReport(latest: [
            Self.snapshot("s-1", finalizing: 1),
            Self.snapshot("s-2", state: .completed, total: 5, completed: 3, enriching: 0, scoring: 0, deferred: 0, refused: 1, alreadyKnown: 1),
        ])
        XCTAssertEqual(report.renderTable(), """
                                         state      total  pending  completed  enriching  scoring  finalizing  billing paused  deferred  refused  already known
            search s-1 (acct-1)          running       10        0          4          3        2           1               0         1        0              0
            search s-2 (acct-1)          completed      5        0          3          0        0           0               0         0        1              1
            account acct-1 (2 searches)  running       15        0          7          3        2           1               0         1        1              1
            """)
        XCTAssertEqual(ProgressReport(latest: []).renderTable(), "no progress snapshots yet")
    }

    func testProgressBars() {
        let report = ProgressReport(latest: [
            Self.snapshot("s-1", finalizing: 1, paused: 2),
            Self.snapshot("search-22", state: .completed, total: 5, completed: 3, enriching: 0, scoring: 0, deferred: 0, refused: 1, alreadyKnown: 1),
            Self.snapshot("s-3", total: nil, completed: 3, deferred: 0),
        ])
        XCTAssertEqual(report.renderBars(width: 10), """
            s-1        [####------]  4/10   40%  running  enriching 3, scoring 2, finalizing 1, billing paused 2, deferred 1
            s-3        [----------]  3/?    ?%  running  enriching 3, scoring 2
            search-22  [##########]  5/5  100%  completed  enriching 0, scoring 0, refused 1, already known 1
            """)
    }

    /// A snapshot whose counts no tracker writes (refused when read, so only a test makes one)
    /// still draws a bar within its width: `String(repeating:count:)` trapped on a negative count.
    func testProgressBarsOfImpossibleCountsStayWithinTheirWidth() {
        let report = ProgressReport(latest: [
            Self.snapshot("s-1", completed: -5),
            Self.snapshot("s-2", completed: .max, refused: 1, alreadyKnown: 1),
        ])
        let bars = report.renderBars(width: 10).split(separator: "\n")
        XCTAssertTrue(bars[0].contains("[----------]"), String(bars[0]))
        XCTAssertTrue(bars[1].contains("[##########]"), String(bars[1]))
    }

    func testProgressJSON() throws {
        let report = ProgressReport(latest: [Self.snapshot("s-1")])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try report.renderJSON().utf8)) as? [String: Any])
        let searches = try XCTUnwrap(object["searches"] as? [[String: Any]])
        XCTAssertEqual(searches.first?["searchID"] as? String, "s-1")
        XCTAssertEqual(searches.first?["state"] as? String, "running")
        XCTAssertEqual(searches.first?["total"] as? Int, 10)
        XCTAssertEqual(searches.first?["updatedAt"] as? String, "2025-06-15T15:06:40.000Z")
        let accounts = try XCTUnwrap(object["accounts"] as? [[String: Any]])
        XCTAssertEqual(accounts.first?["completed"] as? Int, 4)
        XCTAssertFalse(try report.renderJSON().contains("\n"), "one line per document")
    }

    static func lag(_ topic: String, _ partition: Int32, committed: Int64?, low: Int64 = 0, high: Int64,
                    status: LagStatus = .ok) -> LagReport.Partition {
        LagReport.Partition(partition: TopicPartition(topic: topic, partition: partition), committed: committed,
                            lowWatermark: low, highWatermark: high, status: status)
    }

    func testLagTableJSONAndThreshold() throws {
        let report = LagReport(groups: [
            LagReport.Group(group: "coordinator", service: "coordinator", status: .lagging, partitions: [
                Self.lag("phase.results", 1, committed: 90, high: 100, status: .lagging), Self.lag("leads.discovered", 0, committed: nil, high: 5),
            ]),
            LagReport.Group(group: "coordinator.progress", service: "coordinator", status: .untracked, partitions: []),
            LagReport.Group(group: "stage.finalize", service: "finalize-stage", status: .unknown, partitions: []),
        ], windowSeconds: 10.04, samples: 6)
        XCTAssertEqual(report.groups[0].totalLag, 15)
        XCTAssertEqual(report.renderTable(), """
            statuses over 10 s, 6 samples

            group coordinator  total lag 15  lagging
              topic             partition  committed  high  lag  status
              leads.discovered          0          -     5    5  ok
              phase.results             1         90   100   10  lagging
              total                                          15  lagging

            group coordinator.progress  untracked (commits no offsets: re-reads its compacted inputs on assignment)

            group stage.finalize  total lag 0  unknown
              (no partitions: topics missing)
            """)
        XCTAssertEqual(report.groups(above: 14).map(\.group.group), ["coordinator"])
        XCTAssertEqual(report.groups(above: 15).map(\.group.group), [])
        // leads.backlog grows in every burst and is paused at the coordinator's bound by design,
        // as the alerts leave it out: the threshold does not count it.
        let backlog = LagReport(groups: [
            LagReport.Group(group: "coordinator", service: "coordinator", status: .lagging, partitions: [
                Self.lag("leads.backlog", 0, committed: 0, high: 6_000, status: .lagging), Self.lag("phase.results", 1, committed: 90, high: 100),
            ]),
        ], windowSeconds: 10, samples: 6)
        XCTAssertEqual(backlog.groups(above: 5_000, notCounting: ["leads.backlog"]).map(\.group.group), [])
        XCTAssertEqual(backlog.groups(above: 5, notCounting: ["leads.backlog"]).map(\.lag), [10])
        XCTAssertEqual(backlog.groups(above: 5_000).map(\.group.group), ["coordinator"])

        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try report.renderJSON().utf8)) as? [String: Any])
        XCTAssertEqual(object["samples"] as? Int, 6)
        XCTAssertEqual(object["windowSeconds"] as? Double, 10.04)
        let groups = try XCTUnwrap(object["groups"] as? [[String: Any]])
        XCTAssertEqual(groups.map { $0["group"] as? String ?? "" }, ["coordinator", "coordinator.progress", "stage.finalize"])
        XCTAssertEqual(groups.map { $0["status"] as? String ?? "" }, ["lagging", "untracked", "unknown"])
        XCTAssertEqual(groups[0]["service"] as? String, "coordinator")
        XCTAssertEqual(groups[0]["totalLag"] as? Int, 15)
        XCTAssertTrue(groups[1]["totalLag"] is NSNull, "an untracked group has no lag")
        let partitions = try XCTUnwrap(groups[0]["partitions"] as? [[String: Any]])
        XCTAssertTrue(partitions[0]["committed"] is NSNull)
        XCTAssertEqual(partitions[1]["committed"] as? Int, 90)
        XCTAssertEqual(partitions[1]["highWatermark"] as? Int, 100)
        XCTAssertEqual(partitions[1]["lag"] as? Int, 10)
        XCTAssertEqual(partitions[1]["status"] as? String, "lagging")
    }

    func testEveryServiceGroupIsListed() {
        let groups = Topics(namespace: "ns").consumerGroups
        XCTAssertEqual(groups.map(\.id), ["ns.coordinator", "ns.coordinator.progress", "ns.coordinator.account-progress", "ns.stage.profile",
                                          "ns.stage.activity", "ns.stage.scoring", "ns.stage.finalize", "ns.account-heat", "ns.profile-finder",
                                          "ns.web-enricher"])
        XCTAssertEqual(groups.map(\.service), ["coordinator", "coordinator", "coordinator", "profile-stage", "activity-stage", "scoring-stage",
                                               "finalize-stage", "scoring-stage", "profile-finder", "web-enricher"])
        XCTAssertEqual(groups.filter { !$0.commitsOffsets }.map(\.id), ["ns.coordinator.progress", "ns.coordinator.account-progress"])
        XCTAssertEqual(groups[0].topics, ["ns.leads.discovered", "ns.leads.discovered.priority", "ns.lead.commands", "ns.leads.backlog", "ns.phase.results",
                                          "ns.phase.results.priority", "ns.web.enrichments"])
        XCTAssertEqual(groups[2].topics, ["ns.progress.account-parts"])
        XCTAssertEqual(groups[3].topics, ["ns.phase.profile.requests.priority", "ns.phase.profile.requests"])
        XCTAssertEqual(groups[7].topics, ["ns.account.signal.contributions"])
        XCTAssertEqual(groups[8].topics, ["ns.lead.pool"])
        XCTAssertEqual(groups[9].topics, ["ns.web.enrichment.requests"])
        XCTAssertEqual(Topics().consumerGroups.first?.id, "coordinator")
        // Every input topic of a group exists among the namespace's topics.
        XCTAssertTrue(Set(groups.flatMap(\.topics)).isSubset(of: Topics(namespace: "ns").all))
    }

    /// The guard behind "every group is listed": each group name Topics.swift defines is used in
    /// the table of ConsumerGroups.swift, and every consumer of a named group in Shared/ takes
    /// its name from Topics (so from a name the table lists), never from a literal.
    func testEveryGroupNameOfTheCodeIsInTheTable() throws {
        let root = Samples.projectRoot.appendingPathComponent("Shared")
        let topics = try String(contentsOf: root.appendingPathComponent("LeadModel/Topics.swift"), encoding: .utf8)
        let table = try String(contentsOf: root.appendingPathComponent("LeadModel/ConsumerGroups.swift"), encoding: .utf8)
        let declared = try Regex(#"public (?:var|func) (\w+Group)\b"#)
        let names = topics.matches(of: declared).compactMap { $0.output[1].substring.map(String.init) }
        XCTAssertGreaterThanOrEqual(names.count, 6, "Topics.swift's group names: \(names)")
        for name in names {
            XCTAssertTrue(table.contains("id: \(name)"), "\(name) is not in Topics.consumerGroups(of:)")
        }
        let literal = try Regex(#"groupID: "(?!reader-)"#)
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            XCTAssertNil(text.firstMatch(of: literal), "\(file.lastPathComponent) names a group with a literal")
        }
    }

    /// A dead letter of a record the pipeline could not write (its own output, refused by the
    /// broker: partition and offset -1) is not replayed: written now to `lead.state`,
    /// `billing.usage` or a phase's requests, an old output would pass for a new one (a stale
    /// state the newest at the next restore). A letter of a record read from a topic is.
    func testALetterOfAnOutputNeverWrittenIsNotReplayed() {
        let refused = DeadLetter(original: Array("{}".utf8), originalKey: Array("lead-1".utf8), sourceTopic: "lead.state", partition: -1,
                                 offset: -1, reason: "the coordinator could not write this lead.state record: too large",
                                 failedAt: Self.now, service: "coordinator")
        for replacement in [nil, Array("{\"x\":1}".utf8)] {
            guard case .failure(let problem) = LeadControl.replayRecord(of: refused, replacement: replacement) else {
                return XCTFail("replayed an output that was never written")
            }
            XCTAssertTrue(problem.reason.contains("never written"), problem.reason)
        }
        let read = DeadLetter(original: Array("{}".utf8), originalKey: Array("lead-1".utf8), sourceTopic: "leads.discovered", partition: 2,
                              offset: 9, reason: "bad", failedAt: Self.now, service: "coordinator")
        guard case .success(let record) = LeadControl.replayRecord(of: read, replacement: nil) else { return XCTFail() }
        XCTAssertEqual(record.topic, "leads.discovered")
        // An input the coordinator published again in its lead's partition is an input still.
        var republished = refused
        republished.sourceTopic = "leads.discovered"
        guard case .success = LeadControl.replayRecord(of: republished, replacement: nil, inputTopics: ["leads.discovered"]) else {
            return XCTFail("an input published again was not replayed")
        }
    }

    func testDeadLetterPositions() {
        XCTAssertEqual(DeadLetterSelection(position: "2@40"), .one(partition: 2, offset: 40))
        XCTAssertEqual(DeadLetterSelection(position: "40"), .one(partition: nil, offset: 40))
        for bad in ["", "@", "2@", "a@1", "-1", "1@2@3"] { XCTAssertNil(DeadLetterSelection(position: bad), bad) }
        let letter = DeadLetter(original: Array("x".utf8), sourceTopic: "leads.discovered", partition: 1, offset: 7, reason: "bad",
                                failedAt: Self.now, service: "coordinator")
        XCTAssertEqual(DeadLetterLine.render(letter, partition: 3, offset: 9), "3@9  " + DeadLetterLine.render(letter))
    }
}
