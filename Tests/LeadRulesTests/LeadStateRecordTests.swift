import Foundation
import JSONCodec
import LeadModel
import XCTest

/// The `lead.state` record's history: version 3 writes each entry as a short array, and a
/// version 2 record (entries as objects) still reads the same.
final class LeadStateRecordTests: XCTestCase {
    private let codec = MessageCodec()

    private func readyState() -> LeadState {
        let lead = Fixtures.lead()
        let at = Fixtures.now
        let history = [
            HistoryEntry(at: at, kind: .ready, runID: "run-0"),  // an earlier run's entry keeps its run
            HistoryEntry(at: at, kind: .runStarted, runID: "run-1", detail: "mode full"),
            HistoryEntry(at: at, kind: .phaseStarted, runID: "run-1", phase: .profile, attempt: 1),
            HistoryEntry(at: at.addingTimeInterval(0.25), kind: .phaseFailed, runID: "run-1", phase: .profile, attempt: 1,
                         detail: "no result within 120s"),
            HistoryEntry(at: at.addingTimeInterval(0.5), kind: .phaseCompleted, runID: "run-1", phase: .profile, attempt: 2),
            HistoryEntry(at: at.addingTimeInterval(0.75), kind: .phaseSkipped, runID: "run-1", phase: .activity, detail: "no URL"),
            HistoryEntry(at: at.addingTimeInterval(1), kind: .ready, runID: "run-1"),
        ]
        return LeadState(lead: lead, runID: "run-1", mode: .full, status: .ready, plan: Phase.allCases, phaseIndex: 4,
                         inFlight: nil, profile: EnrichedProfile(startingRunOf: lead), history: history, createdAt: at,
                         updatedAt: at.addingTimeInterval(1), readyAt: at.addingTimeInterval(1))
    }

    func testVersion3WritesEachEntryAsAShortArrayAndReadsItBack() throws {
        let state = readyState()
        let bytes = try codec.encode(state)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["version"] as? Int, 4, "version 4 (status refused) keeps version 3's history entries")
        let history = try XCTUnwrap(object["history"] as? [[Any]])
        XCTAssertEqual(history.map(\.count), [6, 5, 4, 5, 4, 5, 2], "trailing absent values are left out")
        XCTAssertEqual(history[0].last as? String, "run-0", "an entry of another run names it")
        XCTAssertEqual(history[2].map { "\($0)" }, ["2025-06-15T15:06:40.000Z", "phase-started", "profile", "1"])
        XCTAssertTrue(history[5][3] is NSNull, "an absent value before a present one is null")
        XCTAssertEqual(try codec.decode(LeadState.self, from: bytes), state)
    }

    func testAVersion2RecordWithObjectEntriesReadsTheSame() throws {
        let state = readyState()
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try codec.encode(state))) as? [String: Any])
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        object["history"] = try state.history.map { try JSONSerialization.jsonObject(with: encoder.encode($0)) }
        object["version"] = 2
        let version2 = Array(try JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(try codec.decode(LeadState.self, from: version2), state)
        let version3 = try codec.encode(state)
        XCTAssertLessThan(version3.count, version2.count)
        XCTAssertLessThan(Double(try historyBytes(version3)), Double(try historyBytes(version2)) * 0.7, "the history takes under 70 % (here; a run without details, half)")
    }

    /// A running lead's record refers to its outputs only when it has one for each phase of the
    /// run that produced one so far, in order (a skipped phase has none); else it carries the
    /// profile.
    func testARunningStateRefersToItsOutputsOnlyWhenItHasEachCompletedPhasesInOrder() throws {
        let lead = Fixtures.lead()
        var state = LeadState(lead: lead, runID: "run-1", mode: .full, status: .processing, plan: Phase.allCases, phaseIndex: 3,
                              inFlight: nil, profile: EnrichedProfile(startingRunOf: lead), history: [], createdAt: Fixtures.now,
                              updatedAt: Fixtures.now, readyAt: nil)
        state.profile.skippedPhases = [PhaseSkip(phase: .activity, reason: "no URL", at: Fixtures.now)]
        func reference(_ phase: Phase) -> OutputReference {
            OutputReference(phase: phase, topic: "phase.results", partition: 0, offset: 7)
        }
        func output(_ phase: Phase) -> PhaseOutput { PhaseOutput(phase: phase, payload: try! RawJSON(encoding: [String: String]())) }
        let cases: [([Phase], Bool)] = [
            ([.profile, .scoring], true),  // before finalize, activity skipped
            ([.scoring, .profile], false),  // out of order
            ([.profile], false),  // scoring's missing
            ([.profile, .scoring, .finalize], false),  // one too many
            ([.profile, .activity], false),  // the skipped one instead
            ([], false),
        ]
        for (phases, expected) in cases {
            state.outputs = phases.map(reference)
            XCTAssertEqual(state.carriesReferences, expected, "\(phases)")
            XCTAssertEqual(state.holdsOutputs(of: phases.map(output)), expected, "\(phases)")
        }
        state.phaseIndex = 0
        state.outputs = []
        XCTAssertTrue(state.carriesReferences, "nothing completed yet: nothing to refer to")
        XCTAssertTrue(state.holdsOutputs(of: []))
    }

    private func historyBytes(_ record: [UInt8]) throws -> Int {
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(record)) as? [String: Any])
        return try JSONSerialization.data(withJSONObject: try XCTUnwrap(object["history"])).count
    }
}
