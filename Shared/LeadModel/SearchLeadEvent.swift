import Foundation

/// A lead of a search changed status or phase (topic ``Topics/searchEvents``; key: search id).
///
/// Written by the coordinator whenever it persists a lead whose status or current phase
/// changed; folded by the progress tracker into ``ProgressSnapshot``s. The latest event per
/// lead wins, so redelivered or repeated events change nothing.
public struct SearchLeadEvent: Message, Hashable {
    /// `search.lead-event`.
    public static let schemaName = "search.lead-event"
    /// Version 1.
    public static let schemaVersion = 1

    public var searchID: SearchID
    public var accountID: AccountID
    public var leadID: LeadID
    public var runID: RunID
    public var status: LeadStatus
    /// The phase the lead is in, when processing.
    public var phase: Phase?
    public var at: Date

    public init(searchID: SearchID, accountID: AccountID, leadID: LeadID, runID: RunID, status: LeadStatus,
                phase: Phase?, at: Date) {
        self.searchID = searchID
        self.accountID = accountID
        self.leadID = leadID
        self.runID = runID
        self.status = status
        self.phase = phase
        self.at = at
    }
}
