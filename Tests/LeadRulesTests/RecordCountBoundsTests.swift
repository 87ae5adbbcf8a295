import Foundation
import LeadModel
import LeadRules
import XCTest

/// Counts read from the pipeline's own topics (progress parts and snapshots, a lead's attempts,
/// a signal's interactions, what a record left out) come from its own processes, but a record
/// of any shape may still arrive: one with a count no sum can take is refused when it is read,
/// or added without overflow, and never stops a process. Each of these trapped before.
final class RecordCountBoundsTests: XCTestCase {
    private let codec = MessageCodec()
    private let at = Date(timeIntervalSince1970: 1_764_000_000)

    /// `message` encoded, with `target` (which must occur in it) replaced by `replacement`.
    private func encoded(_ message: some Message, replacing target: String, with replacement: String) throws -> [UInt8] {
        let json = String(decoding: try codec.encode(message), as: UTF8.self)
        XCTAssertTrue(json.contains(target), "\(target) in \(json)")
        return Array(json.replacingOccurrences(of: target, with: replacement).utf8)
    }

    /// The progress tracker adds the parts of a search's partitions: a part counting more leads
    /// than a search may declare, or fewer than none, is refused (it overflowed the sum, and the
    /// tracker reads the topic again at every assignment: a crash loop).
    func testAProgressPartWithACountNoSearchCanHaveIsRefused() throws {
        let part = SearchProgressPart(searchID: "search-1", accountID: "acct-1", partition: 0, enriching: 1, completed: 2, updatedAt: at)
        XCTAssertEqual(try codec.decode(SearchProgressPart.self, from: try codec.encode(part)), part)
        for (target, replacement) in [(#""enriching":1"#, #""enriching":9223372036854775807"#),
                                      (#""completed":2"#, #""completed":-1"#),
                                      (#""completed":2"#, #""completed":1000000001"#)] {
            let bytes = try encoded(part, replacing: target, with: replacement)
            XCTAssertThrowsError(try codec.decode(SearchProgressPart.self, from: bytes), replacement) { error in
                XCTAssertTrue("\(error)".contains(String(replacement.dropFirst().prefix { $0 != "\"" })), "\(error) names the field")
            }
        }
    }

    /// `leadctl progress --watch` draws a bar from a snapshot's counts: a negative one is refused
    /// when read, and a bar drawn from one anyway is empty or full, never a trap.
    func testAProgressSnapshotWithANegativeCountIsRefusedAndABarOfOneDrawsWithinItsWidth() throws {
        let snapshot = ProgressSnapshot(searchID: "search-1", accountID: "acct-1", state: .running, total: 10, completed: 5,
                                        enriching: 1, scoring: 0, billingPaused: 0, deferred: 0, updatedAt: at)
        XCTAssertEqual(try codec.decode(ProgressSnapshot.self, from: try codec.encode(snapshot)), snapshot)
        XCTAssertThrowsError(try codec.decode(ProgressSnapshot.self,
                                              from: try encoded(snapshot, replacing: #""completed":5"#, with: #""completed":-5"#)))
        XCTAssertThrowsError(try codec.decode(ProgressSnapshot.self,
                                              from: try encoded(snapshot, replacing: #""total":10"#, with: #""total":-10"#)))
    }

    /// A restored lead state whose attempt numbers no coordinator writes (attempt 0, or more
    /// timed-out attempts than attempts) is refused: the machine adds to and ranges over them.
    func testALeadStateWithImpossibleAttemptNumbersIsRefused() throws {
        let lead = Fixtures.lead()
        var state = LeadState(lead: lead, runID: "run-1", mode: .full, status: .processing, plan: Phase.allCases, phaseIndex: 0,
                              inFlight: InFlightAttempt(phase: .profile, attempt: 2, isBackingOff: false, deadline: at, timedOutAttempts: 1),
                              profile: EnrichedProfile(startingRunOf: lead), history: [], createdAt: at, updatedAt: at, readyAt: nil)
        XCTAssertEqual(try codec.decode(LeadState.self, from: try codec.encode(state)).inFlight, state.inFlight)
        for (target, replacement) in [(#""timedOutAttempts":1"#, #""timedOutAttempts":9223372036854775807"#),
                                      (#""timedOutAttempts":1"#, #""timedOutAttempts":-1"#),
                                      (#""attempt":2"#, #""attempt":0"#),
                                      (#""attempt":2"#, #""attempt":9223372036854775807"#)] {
            XCTAssertThrowsError(try codec.decode(LeadState.self, from: try encoded(state, replacing: target, with: replacement)), replacement)
        }
        state.inFlight = nil
        state.nextAttempt = 3
        XCTAssertEqual(try codec.decode(LeadState.self, from: try codec.encode(state)).nextAttempt, 3)
        XCTAssertThrowsError(try codec.decode(LeadState.self, from: try encoded(state, replacing: #""nextAttempt":3"#, with: #""nextAttempt":0"#)))
    }

    /// An `omitted` entry naming posts left out with numbers no stage writes is not read as one
    /// (the finalize stage subtracted and added them for every request).
    func testAnOmittedPostsEntryWithImpossibleNumbersIsKeptAsText() {
        let forged = "activity.posts: the -1 oldest of 9223372036854775807"
        XCTAssertEqual(FittedProfile.omitting(oldestPosts: 0, of: 0, after: [forged]), [forged, "activity.posts: the 0 oldest of 0"])
        let huge = "activity.posts: the 9223372036854775807 oldest of 9223372036854775807"
        XCTAssertEqual(FittedProfile.omitting(oldestPosts: 5, of: 0, after: [huge]), [huge, "activity.posts: the 5 oldest of 0"])
        XCTAssertEqual(FittedProfile.omitting(oldestPosts: 5, of: 10, after: ["activity.posts: the 2 oldest of 12"]),
                       ["activity.posts: the 7 oldest of 12"], "a real one is still said once")
    }

    /// Two leads of one person saw one relationship: the aggregator compares their interaction
    /// counts added up, which a count near the largest integer overflowed.
    func testSignalCountsOfOnePersonsLeadsAddWithoutOverflow() throws {
        let now = at
        let engaged = { (count: Int) in
            BuyingSignal(kind: .competitorEngagement, detail: "Outreach", date: now.addingTimeInterval(-86_400), count: count)
        }
        var aggregator = AccountSignalAggregator(accountID: "acct-1")
        aggregator.add(leadID: "jane", person: "linkedin:jane", companyKey: "c", companyName: "C", signals: [engaged(.max), engaged(1)])
        aggregator.add(leadID: "jane@offer-2", person: "linkedin:jane", companyKey: "c", companyName: "C", signals: [engaged(1)])
        XCTAssertEqual(aggregator.leadCount(companyKey: "c"), 1, "one person")
    }

    /// A company's heat changelog state with these heats and day, as the aggregator keeps it for
    /// a company whose last signal counted two people and whose leads are gone.
    private func heatState(heatScore: Int? = 40, heatDay: Int? = 20_000, earlierDayHeat: Int? = 30) -> AccountHeatState {
        let published = AccountSignal(accountID: "acct-1", companyKey: "name:acme", companyName: "Acme", heatScore: 40,
                                      category: .warm, trend: .stable, leadCount: 2, signals: [], computedAt: at)
        return AccountHeatState(accountID: "acct-1", companyKey: "name:acme", companyName: "Acme", heatScore: heatScore,
                                heatDay: heatDay, earlierDayHeat: earlierDayHeat, published: published, updatedAt: at)
    }

    /// Asserts that the state with each `target` replaced is refused, naming the field.
    private func assertRefused(_ state: AccountHeatState, _ replacements: [(target: String, replacement: String)],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try codec.decode(AccountHeatState.self, from: try codec.encode(state)), state, file: file, line: line)
        for (target, replacement) in replacements {
            let bytes = try encoded(state, replacing: target, with: replacement)
            XCTAssertThrowsError(try codec.decode(AccountHeatState.self, from: bytes), replacement, file: file, line: line) { error in
                let field = String(replacement.dropFirst().prefix { $0 != "\"" })
                XCTAssertTrue("\(error)".contains(field), "\(error) names \(field)", file: file, line: line)
            }
        }
    }

    /// Restores `state` past the codec, refreshes it as a new owner does, and applies two leads'
    /// contributions after it: heat is computed, never trapped on.
    private func assertRestoresAndCounts(_ state: AccountHeatState, file: StaticString = #filePath, line: UInt = #line) {
        var heat = AccountHeat(accountID: "acct-1", restoring: [state])
        XCTAssertEqual(heat.refreshRestored(at: at).signals.map(\.heatScore), [0], "the company's heat is gone", file: file, line: line)
        _ = heat.refresh(at: at.addingTimeInterval(86_400))
        let posts = [Fixtures.post("Can anyone recommend a tool for manual prospecting? Tired of Outreach.", daysAgo: 2)]
        for lead: LeadID in ["l1", "l2"] {
            _ = heat.apply(AccountSignalAggregator.contribution(
                of: Fixtures.profile(company: "Acme", posts: posts), leadID: lead, runID: "run-1", accountID: "acct-1",
                offer: Fixtures.offer(), at: at))
        }
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme"), 2, file: file, line: line)
    }

    /// A heat changelog state whose heat is out of 0-100: the aggregator subtracts two heats for
    /// the trend, so `"heatScore": -9223372036854775808` trapped a new owner's refresh of the
    /// restored company, and the scoring stage reads the changelog at every start (a crash loop).
    /// The codec refuses it, naming the field, and the restore skips the record; a state with such
    /// heats built past the codec is restored without a trap.
    func testAHeatStateWithAHeatNoAggregatorComputesIsRefusedAndRestoresWithoutATrap() throws {
        try assertRefused(heatState(), [(#""heatScore":40,"leads""#, #""heatScore":-9223372036854775808,"leads""#),
                                        (#""heatScore":40,"leads""#, #""heatScore":101,"leads""#),
                                        (#""heatScore":40,"leadCount""#, #""heatScore":-1,"leadCount""#),
                                        (#""earlierDayHeat":30"#, #""earlierDayHeat":9223372036854775807"#)])
        for (heatScore, earlierDayHeat) in [(Int.min, nil), (.max, .min), (.min, .max), (0, .min), (.max, nil)] as [(Int, Int?)] {
            assertRestoresAndCounts(heatState(heatScore: heatScore, heatDay: 0, earlierDayHeat: earlierDayHeat))
            assertRestoresAndCounts(heatState(heatScore: heatScore, heatDay: 20_000, earlierDayHeat: earlierDayHeat))
        }
        XCTAssertEqual(AccountSignalAggregator.trend(heat: .min, previous: .max), .cooling)
        XCTAssertEqual(AccountSignalAggregator.trend(heat: .max, previous: .min), .rising)
        XCTAssertEqual(AccountSignalAggregator.trend(heat: 45, previous: 40), .rising)
        XCTAssertEqual(AccountSignalAggregator.trend(heat: 36, previous: 40), .stable)
    }

    /// A heat changelog state whose day no date can name: a restore took the start of that day
    /// for the time heat was last computed, and the first contribution after it turned that time
    /// back into a day, so `"heatDay": 9223372036854775807` trapped the aggregator. The codec
    /// refuses it, naming the field; a state with such a day built past the codec is restored,
    /// and heat computed after it, without a trap.
    func testAHeatStateWithADayNoDateNamesIsRefusedAndRestoresWithoutATrap() throws {
        try assertRefused(heatState(), [(#""heatDay":20000"#, #""heatDay":9223372036854775807"#),
                                        (#""heatDay":20000"#, #""heatDay":-1"#),
                                        (#""heatDay":20000"#, #""heatDay":2932897"#)])
        XCTAssertEqual(try codec.decode(AccountHeatState.self, from: try codec.encode(heatState(heatDay: 2_932_896))).heatDay, 2_932_896)
        for heatDay in [Int.max, .min, -1, 2_932_897] {
            assertRestoresAndCounts(heatState(heatDay: heatDay))
            assertRestoresAndCounts(heatState(heatScore: .min, heatDay: heatDay, earlierDayHeat: .max))
        }
        XCTAssertEqual(AccountHeat.day(of: Date(timeIntervalSince1970: 1e30)), AccountHeatState.heatDays.upperBound)
        XCTAssertEqual(AccountHeat.day(of: Date(timeIntervalSince1970: -1e30)), AccountHeatState.heatDays.lowerBound)
        XCTAssertEqual(AccountHeat.day(of: at), 20_416)
    }
}
