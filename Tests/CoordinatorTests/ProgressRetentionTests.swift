import Foundation
import LeadModel
import LeadRules
@testable import Coordinator
import Streaming
import XCTest

/// When the progress of a finished search is forgotten (no broker): the tracker's decision per
/// search, the coordinator's per part, and the counts the coordinator keeps and drops.
final class ProgressRetentionTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_000_000)
    private let day: TimeInterval = 86_400
    private let week = ProgressRetention(days: 7)

    private func part(_ partition: Int32, completed: Int = 0, enriching: Int = 0, pending: Int = 0, billingPaused: Int = 0,
                      deferred: Int = 0, refused: Int = 0, updatedAt: Date) -> SearchProgressPart {
        SearchProgressPart(searchID: "search-1", accountID: "acct-1", partition: partition, pending: pending, enriching: enriching,
                           billingPaused: billingPaused, deferred: deferred, completed: completed, refused: refused, updatedAt: updatedAt)
    }

    private func total(_ count: Int, at: Date) -> SearchTotalDeclared {
        SearchTotalDeclared(searchID: "search-1", accountID: "acct-1", total: count, declaredAt: at)
    }

    func testACompletedSearchUnchangedForTheRetentionIsForgotten() {
        let parts = [part(0, completed: 3, updatedAt: start), part(1, completed: 1, refused: 1, updatedAt: start.addingTimeInterval(day))]
        let declared = total(5, at: start)
        let lastChange = start.addingTimeInterval(day)
        XCTAssertFalse(week.forgetsSearch(parts: parts, declared: declared, at: lastChange.addingTimeInterval(7 * day - 1)),
                       "changed less than the retention ago (its latest part)")
        XCTAssertTrue(week.forgetsSearch(parts: parts, declared: declared, at: lastChange.addingTimeInterval(7 * day)))
        XCTAssertTrue(week.forgetsSearch(parts: parts, declared: declared, at: lastChange.addingTimeInterval(300 * day)))
        XCTAssertFalse(week.forgetsSearch(parts: parts, declared: total(5, at: start.addingTimeInterval(3 * day)),
                                          at: lastChange.addingTimeInterval(7 * day)),
                       "a total declared again is a change")
        XCTAssertFalse(ProgressRetention(days: 0).forgetsSearch(parts: parts, declared: declared, at: start.addingTimeInterval(3_650 * day)),
                       "0 days: kept for ever")
    }

    func testASearchWithALeadInFlightOrNoDeclaredTotalIsKept() {
        let late = start.addingTimeInterval(30 * day)
        for (name, inFlight) in [("pending", part(1, pending: 1, updatedAt: start)), ("enriching", part(1, enriching: 1, updatedAt: start)),
                                 ("billing paused", part(1, billingPaused: 1, updatedAt: start)),
                                 ("outside the outreach window", part(1, deferred: 1, updatedAt: start))] {
            XCTAssertFalse(week.forgetsSearch(parts: [part(0, completed: 4, updatedAt: start), inFlight], declared: total(4, at: start), at: late),
                           "a lead \(name)")
        }
        XCTAssertFalse(week.forgetsSearch(parts: [part(0, completed: 4, updatedAt: start)], declared: nil, at: late),
                       "no total declared: its end is not known")
    }

    /// A forgotten search's total stays in `search.totals` (discovery's record): read again (a
    /// rebalance, a restart) with no part, or with the parts of a lead that came after it was
    /// forgotten and finished, the search is settled and forgotten again, never shown running
    /// for good below a total its forgotten leads had reached.
    func testATotalAloneOrASearchCountingAgainBelowItsTotalIsForgottenOnceSettled() {
        let declared = total(10, at: start)
        XCTAssertTrue(week.forgetsSearch(parts: [], declared: declared, at: start.addingTimeInterval(7 * day)))
        XCTAssertFalse(week.forgetsSearch(parts: [], declared: declared, at: start.addingTimeInterval(6 * day)),
                       "a total declared before its leads arrive")
        let again = start.addingTimeInterval(20 * day)
        XCTAssertFalse(week.forgetsSearch(parts: [part(3, enriching: 1, updatedAt: again)], declared: declared, at: again.addingTimeInterval(8 * day)))
        XCTAssertFalse(week.forgetsSearch(parts: [part(3, completed: 1, updatedAt: again)], declared: declared, at: again.addingTimeInterval(day)))
        XCTAssertTrue(week.forgetsSearch(parts: [part(3, completed: 1, updatedAt: again)], declared: declared, at: again.addingTimeInterval(7 * day)))
    }

    func testTheTrackersSearchIsDecidedOnItsPartsAndTotal() {
        var search = SearchProgressPublisher.Search(partition: 0)
        search.parts[0] = part(0, completed: 2, updatedAt: start)
        XCTAssertTrue(search.isForgotten(declared: total(2, at: start), retention: week, at: start.addingTimeInterval(7 * day)))
        XCTAssertFalse(search.isForgotten(declared: total(2, at: start), retention: week, at: start.addingTimeInterval(6 * day)))
    }

    func testACoordinatorForgetsASettledPartOnlyOnceItsSearchIsNoLongerPublished() {
        let old = part(0, completed: 3, refused: 1, updatedAt: start)
        let later = start.addingTimeInterval(7 * day)
        XCTAssertTrue(week.forgetsPart(old, isSearchPublished: false, at: later))
        XCTAssertFalse(week.forgetsPart(old, isSearchPublished: true, at: later), "its tracker has not forgotten the search")
        XCTAssertFalse(week.forgetsPart(old, isSearchPublished: false, at: later.addingTimeInterval(-1)),
                       "a part changed less than the retention ago (a search counting again) is kept")
        XCTAssertFalse(week.forgetsPart(part(0, completed: 3, pending: 1, updatedAt: start), isSearchPublished: false, at: later))
        XCTAssertFalse(ProgressRetention(days: 0).forgetsPart(old, isSearchPublished: false, at: later))
    }

    private func lead(_ id: LeadID, _ search: SearchID, partition: Int32) -> ProgressCounts.Lead {
        let discovered = LeadDiscovered(leadID: id, accountID: "acct-1", offerID: "offer-1", sourceSearchID: search,
                                        source: .csvImport, name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/jane",
                                        discoveredAt: start)
        return ProgressCounts.Lead(discovered, partition: partition)
    }

    /// The coordinator drops a forgotten part from memory and hands it back for its tombstone; a
    /// lead of the search moving afterwards counts from nothing (its part says only what came
    /// after), and a search still published keeps its parts.
    func testForgottenPartsAreDroppedAndASearchCountingAgainStartsFromItsNewLeads() {
        var counts = ProgressCounts()
        counts.move(lead("a", "search-old", partition: 0), from: nil, to: .completed)
        counts.move(lead("b", "search-old", partition: 0), from: nil, to: .completed)
        counts.move(lead("c", "search-old", partition: 1), from: nil, to: .completed)
        counts.move(lead("d", "search-kept", partition: 0), from: nil, to: .completed)
        counts.move(lead("e", "search-busy", partition: 0), from: nil, to: .enriching)
        _ = counts.takeChanged(at: start)

        let later = start.addingTimeInterval(7 * day)
        XCTAssertTrue(counts.takeForgotten(retention: week, at: later.addingTimeInterval(-1), isPublished: { _ in false }).isEmpty)
        let forgotten = counts.takeForgotten(retention: week, at: later, isPublished: { $0 == "search-kept" })
        XCTAssertEqual(forgotten.map(\.key), ["search-old/0", "search-old/1"])
        XCTAssertNil(counts.part("search-old", partition: 0))
        XCTAssertNotNil(counts.part("search-kept", partition: 0))
        XCTAssertNotNil(counts.part("search-busy", partition: 0))
        XCTAssertTrue(counts.takeChanged(at: later).isEmpty, "forgetting writes no part, only its tombstone")

        // A re-enrich of one of its ready leads, after the search was forgotten.
        counts.move(lead("a", "search-old", partition: 0), from: .completed, to: .enriching)
        counts.move(lead("a", "search-old", partition: 0), from: .enriching, to: .completed)
        let again = counts.takeChanged(at: later.addingTimeInterval(60))
        XCTAssertEqual(again.map(\.completed), [1])
        XCTAssertEqual(again.first?.updatedAt, later.addingTimeInterval(60))
    }

    /// A restored part carries the time of its latest lead's record, not the restore's: a
    /// restart neither keeps a finished search for another retention period nor writes the part
    /// of a forgotten one again.
    func testARestoredPartKeepsTheTimeOfItsLatestLead() {
        var counts = ProgressCounts()
        for (id, bucket, at) in [("a", ProgressCounts.Bucket.completed, start), ("b", .refused, start.addingTimeInterval(day)),
                                 ("c", .completed, start.addingTimeInterval(-day))] {
            counts.move(lead(LeadID(id), "search-1", partition: 0), from: nil, to: bucket)
            counts.noteRestored(lead(LeadID(id), "search-1", partition: 0), changedAt: at)
        }
        XCTAssertEqual(counts.part("search-1", partition: 0)?.updatedAt, start.addingTimeInterval(day))

        let restart = start.addingTimeInterval(30 * day)
        let forgotten = counts.takeForgotten(retention: week, at: restart, isPublished: { _ in false })
        XCTAssertEqual(forgotten.map(\.key), ["search-1/0"])
        XCTAssertTrue(counts.takeChanged(at: restart).isEmpty, "a forgotten search's part is not written again")

        counts.move(lead("d", "search-2", partition: 0), from: nil, to: .completed)
        counts.noteRestored(lead("d", "search-2", partition: 0), changedAt: start)
        XCTAssertTrue(counts.takeForgotten(retention: week, at: restart, isPublished: { _ in true }).isEmpty)
        let written = counts.takeChanged(at: restart)
        XCTAssertEqual(written.map(\.updatedAt), [start], "written with its leads' time")
    }

    /// A ready lead's count last changed when it became ready (its `readyAt`), not when its
    /// state's record was last written: a completed web enrichment of a ready lead writes the
    /// record again and changes no count, and a restart after it must not bring a forgotten
    /// search back from the part it gives the record's time.
    func testARestoredReadyLeadCountsAsChangedWhenItBecameReady() throws {
        let codec = MessageCodec()
        let discovered = LeadDiscovered(leadID: "lead-1", accountID: "acct-1", offerID: "offer-1", sourceSearchID: "search-1",
                                        source: .csvImport, name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/jane",
                                        discoveredAt: start)
        var state = LeadStateMachine.queued(discovered, runID: "run-1", at: start)
        state.status = .ready
        state.readyAt = start.addingTimeInterval(day)
        state.updatedAt = start.addingTimeInterval(9 * day)  // web-enriched since
        let ready = try codec.decode(LeadStateSummary.self, from: codec.encode(state))
        let rewritten = start.addingTimeInterval(9 * day)
        XCTAssertEqual(ProgressCounts.changedAt(restoring: ready, writtenAt: rewritten), start.addingTimeInterval(day))

        var pending = LeadStateMachine.queued(discovered, runID: "run-2", at: start)
        pending.readyAt = nil
        let queued = try codec.decode(LeadStateSummary.self, from: codec.encode(pending))
        XCTAssertEqual(ProgressCounts.changedAt(restoring: queued, writtenAt: rewritten), rewritten, "a lead not ready: its record's time")

        // The part restored from it is forgotten 8 days after the lead became ready, its search gone.
        var counts = ProgressCounts()
        let counted = ProgressCounts.Lead(ready.lead, partition: 0)
        counts.move(counted, from: nil, to: .completed)
        counts.noteRestored(counted, changedAt: ProgressCounts.changedAt(restoring: ready, writtenAt: rewritten))
        let restart = start.addingTimeInterval(9 * day + 60)
        XCTAssertEqual(counts.takeForgotten(retention: week, at: restart, isPublished: { _ in false }).map(\.key), ["search-1/0"])
        XCTAssertTrue(counts.takeChanged(at: restart).isEmpty, "the forgotten search's part is not written again")
    }

    func testTheRetentionFromTheEnvironment() throws {
        XCTAssertEqual(try CoordinatorSettings(environment: [:]).progressRetention, ProgressRetention(days: 7))
        XCTAssertEqual(try CoordinatorSettings(environment: ["PROGRESS_RETENTION_DAYS": "30"]).progressRetention, ProgressRetention(days: 30))
        XCTAssertEqual(try CoordinatorSettings(environment: ["PROGRESS_RETENTION_DAYS": "0.5"]).progressRetention.period, 43_200)
        XCTAssertNil(try CoordinatorSettings(environment: ["PROGRESS_RETENTION_DAYS": "0"]).progressRetention.period, "kept for ever")
        for bad in ["-1", "4000", "week"] {
            XCTAssertThrowsError(try CoordinatorSettings(environment: ["PROGRESS_RETENTION_DAYS": bad]), bad) { error in
                XCTAssertTrue("\(error)".contains("PROGRESS_RETENTION_DAYS"), "\(error)")
            }
        }
    }
}
