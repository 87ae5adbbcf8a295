import Foundation

/// Progress of one search (topic ``Topics/progress``; key: search id).
public struct ProgressSnapshot: Message, Hashable {
    /// `progress.snapshot`.
    public static let schemaName = "progress.snapshot"
    /// Version 2 added ``pending``, version 3 ``finalizing``; ``refused`` and ``alreadyKnown``
    /// were added within version 3 (absent: 0).
    public static let schemaVersion = 3
    /// Versions 1 (no ``pending``: read as 0), 2 (no ``finalizing``: read as 0) and 3.
    public static let supportedVersions = 1...3

    /// Overall state.
    public enum State: String, Codable, Sendable, CaseIterable {
        /// Leads are still being processed, or the total is not known yet.
        case running
        /// The declared total has completed.
        case completed
        /// Work waits on the account (billing paused).
        case paused
    }

    /// The search.
    public var searchID: SearchID
    /// Its account.
    public var accountID: AccountID
    /// Running, completed or paused.
    public var state: State
    /// Declared total, when discovery has declared it.
    public var total: Int?
    /// Leads queued until the coordinator has room for them.
    public var pending: Int
    /// Leads ready.
    public var completed: Int
    /// Leads in the profile or activity phase.
    public var enriching: Int
    /// Leads in the scoring phase.
    public var scoring: Int
    /// Leads in the finalize phase (their pool entry being written).
    public var finalizing: Int
    /// Leads waiting for billing to resume.
    public var billingPaused: Int
    /// Leads waiting for the outreach window.
    public var deferred: Int
    /// Leads refused at discovery (dead-lettered): they never run, and count toward the total.
    public var refused: Int
    /// Leads already known from another search (``SearchMembership``): they run once, for that
    /// search, and count toward this one's total.
    public var alreadyKnown: Int
    /// When the snapshot was taken.
    public var updatedAt: Date

    /// Creates a snapshot.
    public init(
        searchID: SearchID, accountID: AccountID, state: State, total: Int?, pending: Int = 0, completed: Int, enriching: Int,
        scoring: Int, finalizing: Int = 0, billingPaused: Int, deferred: Int, refused: Int = 0, alreadyKnown: Int = 0,
        updatedAt: Date
    ) {
        self.searchID = searchID
        self.accountID = accountID
        self.state = state
        self.total = total
        self.pending = pending
        self.completed = completed
        self.enriching = enriching
        self.scoring = scoring
        self.finalizing = finalizing
        self.billingPaused = billingPaused
        self.deferred = deferred
        self.refused = refused
        self.alreadyKnown = alreadyKnown
        self.updatedAt = updatedAt
    }

    private enum CodingKeys: String, CodingKey {
        case searchID, accountID, state, total, pending, completed, enriching, scoring, finalizing, billingPaused, deferred, refused,
             alreadyKnown, updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let columns = try ProgressColumns(from: decoder)
        self.init(
            searchID: try container.decode(SearchID.self, forKey: .searchID),
            accountID: try container.decode(AccountID.self, forKey: .accountID),
            state: try container.decode(State.self, forKey: .state),
            total: try container.decodeIfPresent(Int.self, forKey: .total),
            pending: columns.pending, completed: columns.completed, enriching: columns.enriching, scoring: columns.scoring,
            finalizing: columns.finalizing, billingPaused: columns.billingPaused, deferred: columns.deferred,
            refused: columns.refused, alreadyKnown: columns.alreadyKnown, updatedAt: try container.decode(Date.self, forKey: .updatedAt))
    }

    /// No count below 0, none above a quarter of the largest integer (the parts of a search add
    /// up to far less), so a reader may add three of them.
    public func validate() throws {
        let counts = [("total", total ?? 0), ("pending", pending), ("completed", completed), ("enriching", enriching),
                      ("scoring", scoring), ("finalizing", finalizing), ("billingPaused", billingPaused), ("deferred", deferred),
                      ("refused", refused), ("alreadyKnown", alreadyKnown)]
        for (field, count) in counts { try CountBound.check(count, field, in: 0...(Int.max / 4)) }
    }
}

/// The lead counters of a search's or an account's snapshot, read from the snapshot's own
/// object: `pending` (from version 2 of a search's) and `finalizing` (from version 3 of a
/// search's, 2 of an account's) read as 0 when absent, as `refused` and `alreadyKnown` are (added within those versions).
struct ProgressColumns: Decodable {
    var pending: Int
    var completed: Int
    var enriching: Int
    var scoring: Int
    var finalizing: Int
    var billingPaused: Int
    var deferred: Int
    var refused: Int
    var alreadyKnown: Int

    private enum CodingKeys: String, CodingKey {
        case pending, completed, enriching, scoring, finalizing, billingPaused, deferred, refused, alreadyKnown
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        pending = try container.decodeIfPresent(Int.self, forKey: .pending) ?? 0
        completed = try container.decode(Int.self, forKey: .completed)
        enriching = try container.decode(Int.self, forKey: .enriching)
        scoring = try container.decode(Int.self, forKey: .scoring)
        finalizing = try container.decodeIfPresent(Int.self, forKey: .finalizing) ?? 0
        billingPaused = try container.decode(Int.self, forKey: .billingPaused)
        deferred = try container.decode(Int.self, forKey: .deferred)
        refused = try container.decodeIfPresent(Int.self, forKey: .refused) ?? 0
        alreadyKnown = try container.decodeIfPresent(Int.self, forKey: .alreadyKnown) ?? 0
    }
}
