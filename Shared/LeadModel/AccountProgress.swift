import Foundation

/// Progress of one account: its searches' snapshots added up (topic ``Topics/accountProgress``,
/// compacted; key: account id).
///
/// The progress tracker that publishes a search's ``ProgressSnapshot`` also writes it, keyed
/// `<account id>/<search id>`, to the compacted ``Topics/accountProgressParts`` in the partition of
/// the account id (a repartition by account); the member of the account-progress group that owns
/// that partition adds an account's latest snapshots up into this message. Both inputs are
/// compacted, so a restart reads one record per search, never the history.
public struct AccountProgressSnapshot: Message, Hashable {
    /// `account.progress`.
    public static let schemaName = "account.progress"
    /// Version 2 added ``finalizing``; ``refused`` and ``alreadyKnown`` were added within version 2 (absent: 0).
    public static let schemaVersion = 2
    /// Versions 1 (no ``finalizing``: read as 0) and 2.
    public static let supportedVersions = 1...2

    /// The account.
    public var accountID: AccountID
    /// Running while any search runs; paused when a search waits on billing and none runs;
    /// completed when every search has completed.
    public var state: ProgressSnapshot.State
    /// Searches running, completed and paused.
    public var searches: SearchCounts
    /// The searches' declared totals added up; nil while any search has declared none.
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
    /// Leads refused at discovery (dead-lettered).
    public var refused: Int
    /// Leads already known from another search (counted in each search that found them again).
    public var alreadyKnown: Int
    /// When the snapshot was taken.
    public var updatedAt: Date

    /// How many of an account's searches are in each state.
    public struct SearchCounts: Codable, Hashable, Sendable {
        /// Running.
        public var running: Int
        /// Completed.
        public var completed: Int
        /// Paused.
        public var paused: Int

        /// Creates counts.
        public init(running: Int, completed: Int, paused: Int) {
            self.running = running
            self.completed = completed
            self.paused = paused
        }
    }

    /// Creates a snapshot.
    public init(
        accountID: AccountID, state: ProgressSnapshot.State, searches: SearchCounts, total: Int?, pending: Int, completed: Int,
        enriching: Int, scoring: Int, finalizing: Int = 0, billingPaused: Int, deferred: Int, refused: Int = 0, alreadyKnown: Int = 0,
        updatedAt: Date
    ) {
        self.accountID = accountID
        self.state = state
        self.searches = searches
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
        case accountID, state, searches, total, pending, completed, enriching, scoring, finalizing, billingPaused, deferred, refused,
             alreadyKnown, updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let columns = try ProgressColumns(from: decoder)
        self.init(
            accountID: try container.decode(AccountID.self, forKey: .accountID),
            state: try container.decode(ProgressSnapshot.State.self, forKey: .state),
            searches: try container.decode(SearchCounts.self, forKey: .searches),
            total: try container.decodeIfPresent(Int.self, forKey: .total),
            pending: columns.pending, completed: columns.completed, enriching: columns.enriching, scoring: columns.scoring,
            finalizing: columns.finalizing, billingPaused: columns.billingPaused, deferred: columns.deferred, refused: columns.refused,
            alreadyKnown: columns.alreadyKnown,
            updatedAt: try container.decode(Date.self, forKey: .updatedAt))
    }

    /// The account's progress from the latest snapshot of each of its searches (all of
    /// `accountID`; others are ignored); nil when there is none.
    public static func adding(_ searches: some Sequence<ProgressSnapshot>, accountID: AccountID, at now: Date) -> AccountProgressSnapshot? {
        let own = searches.filter { $0.accountID == accountID }
        guard !own.isEmpty else { return nil }
        // Saturating: a count too large to add (a total declared before totals were bounded) stays
        // the largest integer rather than stopping the process.
        let sum = { (count: (ProgressSnapshot) -> Int) in own.reduce(0) { $0.addingSaturated(count($1)) } }
        let counts = SearchCounts(
            running: own.count { $0.state == .running }, completed: own.count { $0.state == .completed },
            paused: own.count { $0.state == .paused })
        let state: ProgressSnapshot.State =
            counts.running > 0 ? .running : counts.paused > 0 ? .paused : .completed
        let totals = own.map(\.total)
        return AccountProgressSnapshot(
            accountID: accountID, state: state, searches: counts,
            total: totals.contains(nil) ? nil : totals.reduce(0) { $0.addingSaturated($1 ?? 0) },
            pending: sum(\.pending), completed: sum(\.completed), enriching: sum(\.enriching), scoring: sum(\.scoring),
            finalizing: sum(\.finalizing), billingPaused: sum(\.billingPaused), deferred: sum(\.deferred), refused: sum(\.refused),
            alreadyKnown: sum(\.alreadyKnown), updatedAt: now)
    }

    /// The key of a search's snapshot on ``Topics/accountProgressParts``: `<account id>/<search id>`.
    public static func partKey(_ snapshot: ProgressSnapshot) -> String {
        partKey(snapshot.accountID, snapshot.searchID)
    }

    public static func partKey(_ accountID: AccountID, _ searchID: SearchID) -> String {
        "\(accountID.rawValue)/\(searchID.rawValue)"
    }
}
