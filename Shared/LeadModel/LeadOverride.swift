import Foundation

/// A person's override of a lead's buyer state, or the end of one (topic
/// ``Topics/leadOverrides``, compacted; key: lead id). The topic is the store: the latest record
/// per lead is in force, and every coordinator instance reads it whole.
///
/// While an override is in force:
/// - `manual`: scoring still runs and its scores are kept, but the buyer state stays `manual`
///   and the card's state reason reads `manual override: <reason>`.
/// - `disqualified`: the lead is not scored again (the scoring phase is skipped with the reason);
///   enrichment still runs; its card, if it has one, reads `disqualified`. The pool matcher makes no
///   matches from it. It counts in no account heat (``Topics/leadOverrides`` is read by the heat
///   aggregator too), and counts again once the override ends.
/// - Autopilot enrolls neither.
///
/// A record with `"cleared": true` and no state ends the override: the next scoring sets the
/// buyer state again as usual.
///
/// Wire example:
/// ```json
/// {"schema": "lead.override", "version": 1, "leadID": "lead-1", "state": "manual",
///  "reason": "spoke at our event; sales owns it", "requestedBy": "ops@example.com",
///  "at": "2025-01-31T12:00:00.000Z"}
/// ```
public struct LeadOverride: Message, Hashable {
    /// `lead.override`.
    public static let schemaName = "lead.override"
    /// Version 1.
    public static let schemaVersion = 1

    /// The buyer states a person may set.
    public enum State: String, Codable, Sendable, CaseIterable {
        /// Protected from automatic rescoring: scores update, the state stays.
        case manual
        /// Excluded from automatic rescoring and from pool matching.
        case disqualified

        /// The same state as a ``BuyerState``.
        public var buyerState: BuyerState {
            switch self {
            case .manual: .manual
            case .disqualified: .disqualified
            }
        }
    }

    /// The lead; also the record key.
    public var leadID: LeadID
    /// The state set; nil in a record that clears the override.
    public var state: State?
    /// True in a record that clears the override; absent or false otherwise.
    public var cleared: Bool?
    /// Why (shown on the lead's card); may be empty only when clearing.
    public var reason: String
    /// Who (a person's login, a service name).
    public var requestedBy: String
    /// When it was decided.
    public var at: Date

    /// An override setting `state`.
    public init(leadID: LeadID, state: State, reason: String, requestedBy: String, at: Date) {
        self.leadID = leadID
        self.state = state
        self.cleared = nil
        self.reason = reason
        self.requestedBy = requestedBy
        self.at = at
    }

    /// A record ending the lead's override.
    public static func clearing(_ leadID: LeadID, reason: String = "", requestedBy: String, at: Date) -> LeadOverride {
        var record = LeadOverride(leadID: leadID, state: .manual, reason: reason, requestedBy: requestedBy, at: at)
        record.state = nil
        record.cleared = true
        return record
    }

    /// The state in force after this record: nil when it clears.
    public var stateInForce: State? { cleared == true ? nil : state }

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// `leadID` and `requestedBy` at most ``FieldLimit/identifier``, `reason` at most
    /// ``FieldLimit/text`` scalars.
    public func checkFieldLengths() throws(FieldTooLong) {
        try FieldLimit.check(leadID, "leadID")
        try FieldLimit.check(requestedBy, "requestedBy", limit: FieldLimit.identifier)
        try FieldLimit.check(reason, "reason", limit: FieldLimit.text)
    }

    /// Either a state with a reason, or `cleared: true` without a state; and a requester.
    public func validate() throws(LeadOverrideValidationError) {
        switch (state, cleared == true) {
        case (nil, false): throw .neitherStateNorCleared
        case (.some, true): throw .stateAndCleared
        case (.some, false) where reason.isBlank: throw .emptyReason
        default: break
        }
        if requestedBy.isBlank { throw .emptyRequester }
    }
}

/// Why a ``LeadOverride`` is not acceptable; each description says what to change.
public enum LeadOverrideValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No state and not cleared.
    case neitherStateNorCleared
    /// A state and `cleared: true`.
    case stateAndCleared
    /// A state without a reason.
    case emptyReason
    /// `requestedBy` is empty.
    case emptyRequester

    /// What is wrong and how to fix it.
    public var description: String {
        switch self {
        case .neitherStateNorCleared: "neither \"state\" nor \"cleared\": set \"state\" (manual, disqualified) or \"cleared\": true"
        case .stateAndCleared: "both \"state\" and \"cleared\": true; send one of them"
        case .emptyReason: "\"reason\" is empty; say why the state is overridden"
        case .emptyRequester: "\"requestedBy\" is empty; say who overrides the lead"
        }
    }
}
