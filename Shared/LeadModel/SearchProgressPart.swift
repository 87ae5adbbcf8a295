import Foundation

/// How many of one search's leads are where, among the leads of one partition of the lead-keyed
/// topics (topic ``Topics/progressParts``, compacted; key `<searchID>/<partition>`, written to
/// the partition of the search id, so that one reader has every part of a search).
///
/// The coordinator instance that owns the partition writes the part whenever a count changes,
/// in the batch of the state changes that changed it, and writes every part of a partition it
/// restores, counted from the restored states. A part is absolute, not a delta: a batch handled
/// again after a crash writes the same counts. The progress tracker adds a search's parts up into
/// its ``ProgressSnapshot``.
public struct SearchProgressPart: Message, Hashable {
    /// `progress.part`.
    public static let schemaName = "progress.part"
    /// Version 1.
    public static let schemaVersion = 1

    public var searchID: SearchID
    public var accountID: AccountID
    /// The partition of the lead-keyed topics whose leads are counted.
    public var partition: Int32
    /// Queued until the coordinator has room for them.
    public var pending: Int
    /// In the profile or activity phase.
    public var enriching: Int
    /// In the scoring phase.
    public var scoring: Int
    /// In the finalize phase.
    public var finalizing: Int
    /// Waiting for billing to resume.
    public var billingPaused: Int
    /// Waiting for the outreach window.
    public var deferred: Int
    /// Ready.
    public var completed: Int
    /// Refused at discovery (absent in records written before it: 0).
    public var refused: Int
    /// Already known from another search (absent in records written before it: 0).
    public var alreadyKnown: Int
    public var updatedAt: Date

    public init(searchID: SearchID, accountID: AccountID, partition: Int32, pending: Int = 0, enriching: Int = 0,
                scoring: Int = 0, finalizing: Int = 0, billingPaused: Int = 0, deferred: Int = 0, completed: Int = 0,
                refused: Int = 0, alreadyKnown: Int = 0, updatedAt: Date) {
        self.searchID = searchID
        self.accountID = accountID
        self.partition = partition
        self.pending = pending
        self.enriching = enriching
        self.scoring = scoring
        self.finalizing = finalizing
        self.billingPaused = billingPaused
        self.deferred = deferred
        self.completed = completed
        self.refused = refused
        self.alreadyKnown = alreadyKnown
        self.updatedAt = updatedAt
    }

    private enum CodingKeys: String, CodingKey {
        case searchID, accountID, partition, pending, enriching, scoring, finalizing, billingPaused, deferred, completed, refused,
             alreadyKnown, updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(searchID: try container.decode(SearchID.self, forKey: .searchID),
                  accountID: try container.decode(AccountID.self, forKey: .accountID),
                  partition: try container.decode(Int32.self, forKey: .partition),
                  pending: try container.decode(Int.self, forKey: .pending),
                  enriching: try container.decode(Int.self, forKey: .enriching),
                  scoring: try container.decode(Int.self, forKey: .scoring),
                  finalizing: try container.decode(Int.self, forKey: .finalizing),
                  billingPaused: try container.decode(Int.self, forKey: .billingPaused),
                  deferred: try container.decode(Int.self, forKey: .deferred),
                  completed: try container.decode(Int.self, forKey: .completed),
                  refused: try container.decodeIfPresent(Int.self, forKey: .refused) ?? 0,
                  alreadyKnown: try container.decodeIfPresent(Int.self, forKey: .alreadyKnown) ?? 0,
                  updatedAt: try container.decode(Date.self, forKey: .updatedAt))
    }

    /// Each count is 0 to ``SearchTotalDeclared/maxTotal``: a partition holds no more leads of one
    /// search than a search may declare, and the progress tracker adds the parts of every
    /// partition of a search.
    public func validate() throws {
        for (field, count) in [("pending", pending), ("enriching", enriching), ("scoring", scoring), ("finalizing", finalizing),
                               ("billingPaused", billingPaused), ("deferred", deferred), ("completed", completed),
                               ("refused", refused), ("alreadyKnown", alreadyKnown)] {
            try CountBound.check(count, field, in: 0...SearchTotalDeclared.maxTotal)
        }
    }

    /// The record key: one part per search and partition survives compaction.
    public var key: String { "\(searchID)/\(partition)" }
}
