import Foundation
import JSONCodec
import LeadModel
import LeadRules
import XCTest

/// The billing system's events: the message, its strict decoding and the rule that says which
/// billing state is in force; no broker.
final class AccountBillingEventTests: XCTestCase {
    let codec = MessageCodec()
    let paused = AccountBillingEvent(accountID: "acct-1", state: .paused, reason: "invoice unpaid", source: "billing-system",
                                     occurredAt: Fixtures.now, eventID: "evt-1")
    let resumed = AccountBillingEvent(accountID: "acct-1", state: .active, reason: "", source: "billing-system",
                                      occurredAt: Fixtures.now, eventID: "evt-2")
    let base = #""schema":"account.billing-event","version":1,"accountID":"acct-1","occurredAt":"2025-01-31T12:00:00.000Z""#

    private func decodeError(_ json: String) -> String? {
        do {
            _ = try codec.decode(AccountBillingEvent.self, from: Array(json.utf8))
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testCodecRoundTripsAndWritesTheDocumentedFields() throws {
        for event in [paused, resumed] {
            XCTAssertEqual(try codec.decode(AccountBillingEvent.self, from: codec.encode(event)), event)
        }
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(codec.encode(paused))) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["schema", "version", "accountID", "state", "reason", "source", "occurredAt", "eventID"])
        XCTAssertEqual(object["schema"] as? String, "account.billing-event")
        XCTAssertEqual(object["occurredAt"] as? String, ISO8601.format(Fixtures.now))
    }

    func testBrokenEventsAreRefusedWithWhatToFix() {
        let broken = [
            #"{\#(base),"state":"paused","reason":"  ","source":"billing-system","eventID":"e1"}"#: "\"reason\" is empty",
            #"{\#(base),"state":"active","reason":"","source":" ","eventID":"e1"}"#: "\"source\" is empty",
            #"{\#(base),"state":"active","reason":"","source":"billing-system","eventID":""}"#: "\"eventID\" is empty",
            #"{\#(base),"state":"suspended","reason":"r","source":"billing-system","eventID":"e1"}"#: "state",
            #"{\#(base),"reason":"r","source":"billing-system","eventID":"e1"}"#: "state",
            #"{\#(base),"state":"paused","reason":"r","source":"billing-system"}"#: "eventID",
            #"{\#(base),"state":"paused","state":"active","reason":"r","source":"billing-system","eventID":"e1"}"#: "duplicate key",
            #"{\#(base),"state":"paused","reason":"r","source":"\#(String(repeating: "s", count: FieldLimit.identifier + 1))","eventID":"e1"}"#:
                "source",
            #"{\#(base),"state":"paused","reason":"r\u0000","source":"billing-system","eventID":"e1"}"#: "NUL",
        ]
        for (json, expected) in broken {
            let error = decodeError(json)
            XCTAssertNotNil(error, json)
            XCTAssertTrue(error?.contains(expected) ?? false, "\(json): \(error ?? "accepted")")
        }
        XCTAssertNil(decodeError(#"{\#(base),"state":"active","reason":"","source":"billing-system","eventID":"e1"}"#),
                     "a resume needs no reason")
    }

    func testTheLatestEventIsInForceElseTheConfiguration() {
        let active = AccountConfig(accountID: "acct-1", billingState: .active, updatedAt: Fixtures.now)
        let pausedConfiguration = AccountConfig(accountID: "acct-1", billingState: .paused, updatedAt: Fixtures.now)
        XCTAssertEqual(BillingState.inForce(event: paused, configuration: active), .paused)
        XCTAssertEqual(BillingState.inForce(event: resumed, configuration: pausedConfiguration), .active,
                       "an active event resumes an account its configuration still calls paused")
        XCTAssertEqual(BillingState.inForce(event: nil, configuration: pausedConfiguration), .paused, "no event: the configuration, as before")
        XCTAssertEqual(BillingState.inForce(event: nil, configuration: active), .active)
        XCTAssertEqual(BillingState.inForce(event: nil, configuration: nil), .active)
    }

    func testAutopilotSeesTheBillingStateInForce() {
        let account = AccountConfig(accountID: "acct-1", autopilot: AutopilotRule(minimumFit: 40, minimumIntent: 50), updatedAt: Fixtures.now)
        let card = ScoreCard(fit: 60, intent: 75, timing: 10, composite: 50, buyerState: .active, fitReasons: [], intentReasons: [],
                             timingReasons: [], stateReason: "", scorer: "t", scoredAt: Fixtures.now)
        XCTAssertTrue(AutopilotCheck.evaluate(account: account.applying(nil), card: card).isEligible)
        XCTAssertTrue(AutopilotCheck.evaluate(account: account.applying(resumed), card: card).isEligible)
        let decision = AutopilotCheck.evaluate(account: account.applying(paused), card: card)
        XCTAssertFalse(decision.isEligible, "an account paused by a billing event enrolls no one")
        XCTAssertTrue(decision.reasons.contains("failed: billing is paused"), "\(decision.reasons)")
    }

    /// Autopilot enrolls active leads only (DOMAIN): a rule that asks for another state enrolls
    /// no one, and says why, rather than putting poor-fit leads into outreach.
    func testAutopilotEnrollsOnlyActiveLeadsWhateverTheRuleAsks() {
        let account = AccountConfig(accountID: "acct-1", autopilot: AutopilotRule(minimumFit: 0, minimumIntent: 0, requiredBuyerState: .poorFit),
                                    updatedAt: Fixtures.now)
        let card = ScoreCard(fit: 0, intent: 0, timing: 0, composite: 0, buyerState: .poorFit, fitReasons: [], intentReasons: [],
                             timingReasons: [], stateReason: "employed by competitor Outreach", scorer: "t", scoredAt: Fixtures.now)
        let decision = AutopilotCheck.evaluate(account: account, card: card)
        XCTAssertFalse(decision.isEligible)
        XCTAssertTrue(decision.reasons.contains { $0.hasPrefix("failed:") && $0.contains("only active") }, "\(decision.reasons)")
        XCTAssertFalse(AutopilotCheck.isEligible(account: account, card: card))
    }
}
