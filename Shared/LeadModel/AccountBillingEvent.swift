import Foundation

/// The billing system's word on whether an account's paid work may run (topic
/// ``Topics/billingEvents``, compacted; key: account id). The topic is the store: the latest
/// record per account is in force, and every coordinator instance reads it whole.
///
/// While the event in force says `paused`, a lead of the account about to start a paid phase
/// (or, with the account's autopilot on, to retry a finalize that may enroll it) waits (status
/// billing paused); the coordinator continues it from that phase within about a
/// second of an `active` event, with nobody running a command. An account without any event
/// keeps the `billingState` of its configuration (``AccountConfig``), as deployments before this
/// topic did: see ``BillingState/inForce(event:configuration:)``. A tombstone (the key with no
/// value) removes the account's event, so its configuration applies again.
///
/// The record written last wins; `occurredAt` says when the billing system decided, for people
/// and audits, and does not order the records. Only the customer's plan pauses an account: a
/// vendor's exhausted credits are the platform's contract and never pause one.
///
/// Wire example:
/// ```json
/// {"schema": "account.billing-event", "version": 1, "accountID": "acct-1", "state": "paused",
///  "reason": "invoice 2025-01 unpaid", "source": "billing-system",
///  "occurredAt": "2025-01-31T12:00:00.000Z", "eventID": "evt-8c1f"}
/// ```
public struct AccountBillingEvent: Message, Hashable {
    /// `account.billing-event`.
    public static let schemaName = "account.billing-event"
    /// Version 1.
    public static let schemaVersion = 1

    /// The account; also the record key.
    public var accountID: AccountID
    /// `paused` stops the account's paid phases; `active` lets them run again.
    public var state: BillingState
    /// Why, for people and audits; required when pausing, may be empty when resuming.
    public var reason: String
    /// Who decided: `billing-system`, `leadctl`, a service's name.
    public var source: String
    /// When it was decided.
    public var occurredAt: Date
    /// The writer's id of this event (a UUID, say), for tracing it back to the billing system.
    public var eventID: String

    /// Creates the event.
    public init(accountID: AccountID, state: BillingState, reason: String, source: String, occurredAt: Date, eventID: String) {
        self.accountID = accountID
        self.state = state
        self.reason = reason
        self.source = source
        self.occurredAt = occurredAt
        self.eventID = eventID
    }

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// `accountID`, `source` and `eventID` at most ``FieldLimit/identifier``, `reason` at most
    /// ``FieldLimit/text`` scalars.
    public func checkFieldLengths() throws(FieldTooLong) {
        try FieldLimit.check(accountID, "accountID")
        try FieldLimit.check(source, "source", limit: FieldLimit.identifier)
        try FieldLimit.check(eventID, "eventID", limit: FieldLimit.identifier)
        try FieldLimit.check(reason, "reason", limit: FieldLimit.text)
    }

    /// A source and an event id (not blank), and a reason when pausing.
    public func validate() throws(AccountBillingEventValidationError) {
        if state == .paused && reason.isBlank { throw .emptyReason }
        if source.isBlank { throw .emptySource }
        if eventID.isBlank { throw .emptyEventID }
    }
}

/// Why an ``AccountBillingEvent`` is not acceptable; each description says what to change.
public enum AccountBillingEventValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A pause without a reason.
    case emptyReason
    /// `source` is empty.
    case emptySource
    /// `eventID` is empty.
    case emptyEventID

    /// What is wrong and how to fix it.
    public var description: String {
        switch self {
        case .emptyReason: "\"reason\" is empty; say why the account's billing is paused"
        case .emptySource: "\"source\" is empty; say who decided (billing-system, leadctl, ...)"
        case .emptyEventID: "\"eventID\" is empty; give each event an id (a UUID)"
        }
    }
}

extension BillingState {
    /// The billing state in force for an account: its latest ``AccountBillingEvent``'s when it
    /// has one; otherwise its configuration's `billingState` (deployments from before the
    /// billing events); active when neither is known.
    public static func inForce(event: AccountBillingEvent?, configuration: AccountConfig?) -> BillingState {
        event?.state ?? configuration?.billingState ?? .active
    }
}

extension AccountConfig {
    /// The configuration with the billing state in force (``BillingState/inForce(event:configuration:)``):
    /// what a reader of both the accounts and the billing events sees.
    public func applying(_ event: AccountBillingEvent?) -> AccountConfig {
        var account = self
        account.billingState = BillingState.inForce(event: event, configuration: self)
        return account
    }
}
