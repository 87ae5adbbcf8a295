import Foundation
import Kafka
import KafkaTestSupport
import LeadControl
import LeadModel
import LeadModelTestSupport
import LeadRules
import Streaming
import XCTest

/// Overrides and autopilot enrollments on a real broker with every process running: `leadctl
/// lead override` before the leads arrive and a re-enrich after; enrollments keyed by lead and run.
final class OverrideSystemTests: XCTestCase {
    func testOverriddenLeadsKeepTheirStateAndAreNeverEnrolled() async throws {
        try await withPipeline(environment: PipelineHarness.reliableProviders) { harness in
            let topics = harness.environment.topics
            // Autopilot takes any active lead, so only the override keeps an active card out.
            let account = AccountConfig(
                accountID: harness.accountID,
                autopilot: AutopilotRule(isEnabled: true, minimumFit: 0, minimumIntent: 0, requiredBuyerState: .active),
                updatedAt: Date())
            try await harness.publish(account: account)
            try harness.startAll()
            // Fixed handles: the simulated profiles, so the scores, are the same in every run.
            let leads = harness.makeLeads(8, handleSuffix: "override-test")
            let (manual, disqualified, cleared) = (leads[0].leadID, leads[1].leadID, leads[2].leadID)
            for arguments in [
                ["lead", "override", manual.rawValue, "--state", "manual", "--reason", "sales owns it"],
                ["lead", "override", disqualified.rawValue, "--state", "disqualified", "--reason", "left the company"],
                ["lead", "override", cleared.rawValue, "--state", "manual", "--reason", "for a while"],
                ["lead", "override", cleared.rawValue, "--clear"],
            ] {
                let (status, output) = try await harness.leadctl(arguments)
                XCTAssertEqual(status, 0, "\(arguments): \(output)")
            }
            try await harness.publish(leads: leads)
            var states: [LeadID: LeadState] = [:]
            try await waitUntil("every lead ready", timeoutSeconds: 180, pollMilliseconds: 500) {
                states = try await harness.latestStates()
                return leads.allSatisfy { states[$0.leadID]?.status == .ready }
            }

            let manualCard = try XCTUnwrap(states[manual]?.profile.scores, "a manual lead is still scored")
            XCTAssertEqual(manualCard.buyerState, .manual)
            XCTAssertEqual(manualCard.stateReason, "manual override: sales owns it")
            let skipped = states[disqualified]?.profile.skippedPhases.map(\.reason)
            XCTAssertEqual(skipped, ["disqualified by manual override: left the company"])
            XCTAssertNil(states[disqualified]?.profile.scores, "a disqualified lead is not scored")
            let clearedCard = try XCTUnwrap(states[cleared]?.profile.scores)
            XCTAssertFalse(clearedCard.stateReason.hasPrefix("manual override"), "cleared: scored as usual")
            XCTAssertNotEqual(clearedCard.buyerState, .manual)

            // Every enrollment is published before the finalize result that makes its lead ready.
            var enrollments = try await harness.readAll(AutopilotEnrollment.self, topic: topics.autopilotEnrollments).map(\.value)
            for lead in leads {
                let state = try XCTUnwrap(states[lead.leadID])
                let ids = Set(enrollments.filter { $0.leadID == lead.leadID }.map(\.enrollmentID))
                let isEligible = state.profile.scores.map { AutopilotCheck.evaluate(account: account, card: $0).isEligible } ?? false
                let expected: Set<String> = isEligible && lead.leadID != manual ? ["\(lead.leadID):\(state.runID)"] : []
                XCTAssertEqual(ids, expected, "\(lead.leadID)")
            }
            XCTAssertTrue(enrollments.allSatisfy { $0.leadID != manual && $0.leadID != disqualified })

            // A re-enrich of the overridden leads: enrichment runs, the state stays, no enrollment.
            for lead in [manual, disqualified] {
                let (status, output) = try await harness.leadctl(["reenrich", lead.rawValue, "--types", "activity"])
                XCTAssertEqual(status, 0, output)
            }
            try await waitUntil("re-enriched leads ready", timeoutSeconds: 120, pollMilliseconds: 500) {
                states = try await harness.latestStates()
                return [manual, disqualified].allSatisfy { id in
                    states[id]?.status == .ready && states[id]?.history.contains { $0.kind == .runStarted && $0.detail?.hasPrefix("re-enrich") == true } == true
                }
            }
            XCTAssertEqual(states[manual]?.profile.scores?.buyerState, .manual)
            XCTAssertNil(states[disqualified]?.profile.scores)
            enrollments = try await harness.readAll(AutopilotEnrollment.self, topic: topics.autopilotEnrollments).map(\.value)
            XCTAssertTrue(enrollments.allSatisfy { $0.leadID != manual && $0.leadID != disqualified })

            let (shown, output) = try await harness.leadctl(["show", manual.rawValue])
            XCTAssertEqual(shown, 0)
            XCTAssertTrue(output.contains("override: manual, by "), output)
            XCTAssertTrue(output.contains("manual: manual override: sales owns it"), output)

            // A new offer: the disqualified lead is left out of the pool matches, the others run
            // scoring-only; the account's rule now asks for monitor leads, as every one of these
            // scores, and autopilot enrolls active leads only: none is enrolled.
            let watching = AccountConfig(
                accountID: harness.accountID,
                autopilot: AutopilotRule(isEnabled: true, minimumFit: 0, minimumIntent: 0, requiredBuyerState: .monitor),
                updatedAt: Date())
            try await harness.publish(account: watching)
            try await harness.publish(offer: OfferConfig.sample(offerID: "offer-second", accountID: harness.accountID))
            let (matched, matches) = try await harness.leadctl(["pool", "match", "--offer", "offer-second", "--min-fit", "0"])
            XCTAssertEqual(matched, 0, matches)
            XCTAssertTrue(matches.contains("\(manual)@offer-second"), matches)
            XCTAssertFalse(matches.contains("\(disqualified)@offer-second"), matches)
            let pooled = leads.map(\.leadID).filter { $0 != disqualified }.map { LeadPoolMatcher.matchedLeadID($0, offerID: "offer-second") }
            try await waitUntil("pool matches ready", timeoutSeconds: 120, pollMilliseconds: 500) {
                states = try await harness.latestStates()
                return pooled.allSatisfy { states[$0]?.status == .ready }
            }
            XCTAssertNil(states[LeadPoolMatcher.matchedLeadID(disqualified, offerID: "offer-second")])
            enrollments = try await harness.readAll(AutopilotEnrollment.self, topic: topics.autopilotEnrollments).map(\.value)
            var enrolled = 0
            for lead in pooled {
                let state = try XCTUnwrap(states[lead])
                let card = try XCTUnwrap(state.profile.scores, "\(lead)")
                let ids = enrollments.filter { $0.leadID == lead }.map(\.enrollmentID)
                let eligible = AutopilotCheck.evaluate(account: watching, card: card).isEligible
                XCTAssertEqual(ids, eligible ? ["\(lead):\(state.runID)"] : [], "\(lead): once, keyed by lead and run")
                enrolled += ids.count
            }
            XCTAssertEqual(enrolled, 0, "a rule asking for monitor leads enrolls none: autopilot enrolls active leads only")
        }
    }
}
