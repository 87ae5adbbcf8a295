import Foundation
import LeadControl
import LeadModel
import LeadRules
import XCTest

/// What `show`, `pool tail` and `dead-letters list` print: no broker.
final class RenderingTests: XCTestCase {
    func testShowRendersTheOverrideInForceOrItsEnd() throws {
        let at = Date(timeIntervalSince1970: 1_750_000_000)
        XCTAssertNil(LeadStateReport.overrideLine(nil))
        let manual = try XCTUnwrap(LeadStateReport.overrideLine(
            LeadOverride(leadID: "l1", state: .manual, reason: "sales owns it", requestedBy: "ann", at: at)))
        XCTAssertTrue(manual.contains("override: manual, by ann at 2025-06-15T15:06:40.000Z: sales owns it"), manual)
        let cleared = try XCTUnwrap(LeadStateReport.overrideLine(LeadOverride.clearing("l1", requestedBy: "ann", at: at)))
        XCTAssertTrue(cleared.contains("override: none (cleared by ann"), cleared)
    }

    func testShowRendersStatusPlanProfileAndHistory() {
        let text = LeadStateReport.render(Samples.state())
        for expected in [
            "lead lead-1: Jane Doe", "status    ready", "run       run-1", "mode      full",
            "profile   done", "activity  skipped: timed out 3 times", "scoring   done", "finalize  done",
            "title     VP of Demand Generation", "company   Acme SaaS (250 employees, $30M revenue, Computer Software)",
            "@janedoe: 3400 followers", "fit 87, intent 72, timing 65, composite 78", "buyer     active: intent 72 and fit 87",
            "(failed (retriable): HTTP 503 from provider)", "phase-failed     activity  1   timed out",
        ] {
            XCTAssertTrue(text.contains(expected), "missing \"\(expected)\" in:\n\(text)")
        }
    }

    /// `show` prints each failure with its reason, then the retry it caused, in order.
    func testShowPrintsAFailureAndItsRetryInOrder() throws {
        var machine = LeadStateMachine()
        let lead = LeadDiscovered(leadID: "lead-9", accountID: "acct-1", offerID: "offer-1", sourceSearchID: "s1",
                                  source: .csvImport, name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe",
                                  xURL: nil, discoveredAt: Samples.now)
        let actions = machine.handle(.discovered(lead, runID: "run-1", at: Samples.now))
        let request = try XCTUnwrap(actions.compactMap { if case .sendPhaseRequest(let r) = $0 { r } else { nil } }.first)
        let failed = PhaseResult(answering: request, outcome: .failed(reason: "HTTP 429 from provider", isRetriable: true),
                                 payload: .empty, finishedAt: Samples.now, service: "profile-stage")
        _ = machine.handle(.phaseResult(try PhaseResultEnvelope(failed), at: Samples.now))
        let text = LeadStateReport.render(try XCTUnwrap(machine.state))
        let failure = try XCTUnwrap(text.range(of: "phase-failed     profile   1   HTTP 429 from provider"), text)
        let retry = try XCTUnwrap(text.range(of: "retry-scheduled  profile   2"), text)
        XCTAssertLessThan(failure.lowerBound, retry.lowerBound)
    }

    /// A refused lead shows why, and a plan that never ran.
    func testShowRendersARefusedLeadsReason() {
        let lead = LeadDiscovered(leadID: "lead-9", accountID: "acct-1", offerID: "offer-2", sourceSearchID: "s1",
                                  source: .csvImport, name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe",
                                  xURL: nil, discoveredAt: Samples.now)
        let reason = "offer 'offer-2' belongs to account 'acct-2', not to the lead's account 'acct-1'"
        let text = LeadStateReport.render(LeadStateMachine.refused(lead, runID: "run-1", reason: reason, at: Samples.now))
        for expected in ["status    refused", "refused   \(reason)", "→ profile   not run", "  finalize  not run", "search s1"] {
            XCTAssertTrue(text.contains(expected), "missing \"\(expected)\" in:\n\(text)")
        }
    }

    func testShowRendersTheRunningPhase() {
        var state = Samples.state(status: .processing)
        state.phaseIndex = 1
        state.inFlight = InFlightAttempt(phase: .activity, attempt: 2, isBackingOff: true, deadline: Samples.now)
        let text = LeadStateReport.render(state)
        XCTAssertTrue(text.contains("→ activity  backing off, attempt 2 at 2025-06-15T15:06:40.000Z"), text)
        XCTAssertTrue(text.contains("  scoring   pending"), text)
        state.status = .billingPaused
        XCTAssertEqual(LeadStateReport.phaseState(state, index: 1), "waiting: billing paused")
    }

    func testPoolAndDeadLetterLines() {
        let entry = LeadPoolEntry(profile: Samples.profile(), accountID: "acct-1", offerID: "offer-1", finishedAt: Samples.now)
        XCTAssertEqual(LeadPoolLine.render(entry),
                       "lead-1  Jane Doe  VP of Demand Generation @ Acme SaaS  fit 87 intent 72 timing 65 active  (acct-1/offer-1, 2025-06-15T15:06:40.000Z)")
        var fitted = entry
        fitted.omitted = ["activity.posts: the 120 oldest of 300", "activity"]
        XCTAssertTrue(LeadPoolLine.render(fitted).hasSuffix("  [without activity.posts: the 120 oldest of 300; activity]"),
                      "an operator sees that the entry is partial")
        XCTAssertEqual(LeadStateReport.omittedLine(fitted.omitted),
                       "  pool entry  made to fit MAX_RECORD_BYTES, without: activity.posts: the 120 oldest of 300; activity")
        XCTAssertNil(LeadStateReport.omittedLine(nil))
        let letter = DeadLetter(original: Array("{\"leadID\":\n\"x\"".utf8), sourceTopic: "leads.discovered", partition: 3, offset: 42,
                                reason: "malformed JSON", failedAt: Samples.now, service: "coordinator")
        XCTAssertEqual(DeadLetterLine.render(letter),
                       "2025-06-15T15:06:40.000Z  leads.discovered[3]@42  coordinator: malformed JSON  | original: {\"leadID\": \"x\"")
        let large = DeadLetter(original: Array(repeating: 120, count: 2_000_000), sourceTopic: "leads.discovered", partition: 1, offset: 7,
                               reason: "record too large", failedAt: Samples.now, service: "coordinator", keepOriginal: false)
        XCTAssertTrue(DeadLetterLine.render(large).hasSuffix("| original: (not kept: 2000000 bytes)"), DeadLetterLine.render(large))
    }

    /// A line printed to an operator's terminal carries no control character from a record
    /// (an upstream publisher's bad bytes, a name): a carriage return or an escape sequence
    /// could overwrite the `PARTITION@OFFSET` an operator replays by, or the line's start.
    func testLinesPrintNoControlCharacterFromARecord() {
        let hostile = "\r\u{1B}[2K\u{07}\u{9B}2J\u{2028}x\ty"
        let letter = DeadLetter(original: Array("{\"leadID\":\"\(hostile)\"}".utf8), sourceTopic: "leads.discovered", partition: 3,
                                offset: 42, reason: "bad \(hostile)", failedAt: Samples.now, service: "coordinator")
        var profile = Samples.profile()
        profile.name = "Jane \(hostile)"
        let entry = LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: Samples.now)
        var state = Samples.state()
        state.profile.name = profile.name
        for line in [DeadLetterLine.render(letter, partition: 1, offset: 2), LeadPoolLine.render(entry)]
            + LeadStateReport.render(state).split(separator: "\n").map(String.init) {
            let controls = line.unicodeScalars.filter { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" }
            XCTAssertTrue(controls.isEmpty, "\(line.debugDescription) keeps \(controls.map { String($0.value, radix: 16) })")
        }
        XCTAssertTrue(DeadLetterLine.render(letter).contains(#"\u{1B}[2K"#), "shown, escaped")
    }

    func testReEnrichRequestedValidation() throws {
        let codec = MessageCodec()
        let request = ReEnrichRequested(leadID: "l1", types: [.x], requestedAt: Samples.now, requestedBy: "ops", requestID: "r1")
        XCTAssertEqual(try codec.decode(ReEnrichRequested.self, from: codec.encode(request)), request)
        XCTAssertEqual(request.mode, .reEnrich([.x]))
        XCTAssertEqual(MessageCodec.headers(for: ReEnrichRequested.self).map(\.value), ["lead.reenrich.requested", "2"])
        XCTAssertThrowsError(try ReEnrichRequested(leadID: "l1", types: [], requestedAt: Samples.now, requestedBy: "ops", requestID: "r1").validate()) {
            XCTAssertEqual($0 as? ReEnrichValidationError, .noTypes)
        }
        XCTAssertThrowsError(try ReEnrichRequested(leadID: "l1", types: [.x, .activity, .x], requestedAt: Samples.now, requestedBy: "ops", requestID: "r1").validate()) {
            XCTAssertEqual(($0 as? ReEnrichValidationError)?.description, "\"types\" repeats x; name each type once")
        }
        XCTAssertThrowsError(try ReEnrichRequested(leadID: "l1", types: [.x], requestedAt: Samples.now, requestedBy: " ", requestID: "r1").validate())
        let empty = #"{"schema":"lead.reenrich.requested","version":1,"leadID":"l1","types":[],"requestedAt":"2025-01-31T12:00:00Z","requestedBy":"ops"}"#
        XCTAssertThrowsError(try codec.decode(ReEnrichRequested.self, from: Array(empty.utf8))) {
            XCTAssertEqual(($0 as? DecodeError)?.description, "invalid content: \"types\" is empty; name at least one of linkedin, x, activity")
        }
    }
}
