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
}
