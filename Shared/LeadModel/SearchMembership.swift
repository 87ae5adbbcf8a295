import Foundation

/// A known lead discovered by another search than its own (topic ``Topics/leadState``, beside the
/// lead's state; key ``key``, in the lead's partition). The lead runs once, for its own search;
/// the other search counts it as already known, so it completes without waiting for a run it will
/// never see. The coordinator writes one per lead and search, and counts it again from the
/// changelog when it restores the partition.
public struct SearchMembership: Message, Hashable {
    /// `lead.search-membership`.
    public static let schemaName = "lead.search-membership"
    /// Version 1.
    public static let schemaVersion = 1

    public var leadID: LeadID
    /// The account of the search that found the lead again.
    public var accountID: AccountID
    /// The search that found the lead again.
    public var searchID: SearchID
    /// When it did.
    public var discoveredAt: Date

    public init(leadID: LeadID, accountID: AccountID, searchID: SearchID, discoveredAt: Date) {
        self.leadID = leadID
        self.accountID = accountID
        self.searchID = searchID
        self.discoveredAt = discoveredAt
    }

    /// `<lead id> NUL <search id>`: one record per lead and search survives compaction, and no
    /// lead's state has such a key (ids from outside hold no NUL).
    public var key: String { Self.key(leadID: leadID, searchID: searchID) }

    public static func key(leadID: LeadID, searchID: SearchID) -> String { "\(leadID)\u{0}\(searchID)" }

    /// Whether a `lead.state` key is a membership's rather than a lead's.
    public static func isKey(_ key: String) -> Bool { key.utf8.contains(0) }
}
