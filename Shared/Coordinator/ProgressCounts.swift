import Foundation
import Kafka
import LeadModel

/// Where the leads of each search are, per partition the coordinator owns: the counts behind
/// the ``SearchProgressPart`` records it writes. Kept as leads change (``move(_:from:to:)``), and
/// counted afresh from the states of a partition it restores, so a part is always absolute.
struct ProgressCounts {
    /// Where a lead counts.
    enum Bucket: Hashable {
        case pending, enriching, scoring, finalizing, billingPaused, deferred, completed, refused
        /// Counted by a ``SearchMembership``, never by a lead's state.
        case alreadyKnown

        /// The bucket of a lead in `state`; nil for a lead that counts nowhere (processing
        /// between phases, which the machine never leaves a lead in).
        init?(_ state: LeadState) {
            self.init(status: state.status, phase: state.currentPhase)
        }

        init?(_ summary: LeadStateSummary) {
            self.init(status: summary.status, phase: summary.currentPhase)
        }

        init?(status: LeadStatus, phase: Phase?) {
            switch status {
            case .pending: self = .pending
            case .ready: self = .completed
            case .billingPaused: self = .billingPaused
            case .outsideOutreachWindow: self = .deferred
            case .refused: self = .refused
            case .processing:
                switch phase {
                case .profile, .activity: self = .enriching
                case .scoring: self = .scoring
                case .finalize: self = .finalizing
                case nil: return nil
                }
            }
        }
    }

    /// One search's leads in one partition.
    struct Key: Hashable {
        let searchID: SearchID
        let partition: Int32
    }

    /// The lead a count is about: its search, account and partition.
    struct Lead {
        let searchID: SearchID
        let accountID: AccountID
        let partition: Int32

        init(_ lead: LeadDiscovered, partition: Int32) {
            self.searchID = lead.sourceSearchID
            self.accountID = lead.accountID
            self.partition = partition
        }

        init(_ membership: SearchMembership, partition: Int32) {
            self.searchID = membership.searchID
            self.accountID = membership.accountID
            self.partition = partition
        }

        init(_ lead: LeadStateSummary.LeadReference, partition: Int32) {
            self.searchID = lead.sourceSearchID
            self.accountID = lead.accountID
            self.partition = partition
        }
    }

    private var parts: [Key: SearchProgressPart] = [:]
    /// Parts changed since ``takeChanged(at:)``.
    private var changed: Set<Key> = []

    /// Moves `lead` from one bucket to another (nil: it was not counted, or stops being counted).
    mutating func move(_ lead: Lead, from: Bucket?, to: Bucket?) {
        guard from != to else { return }
        let key = Key(searchID: lead.searchID, partition: lead.partition)
        var part = parts[key] ?? SearchProgressPart(searchID: lead.searchID, accountID: lead.accountID,
                                                    partition: lead.partition, updatedAt: Date(timeIntervalSince1970: 0))
        if let from { Self.add(-1, to: from, of: &part) }
        if let to { Self.add(1, to: to, of: &part) }
        parts[key] = part
        changed.insert(key)
    }

    /// Forgets the counts of partitions given up; their next owner counts them from their states.
    mutating func remove(partitions: Set<Int32>) {
        parts = parts.filter { !partitions.contains($0.key.partition) }
        changed = changed.filter { !partitions.contains($0.partition) }
    }

    /// The parts changed since the last call, stamped `at`.
    mutating func takeChanged(at: Date) -> [SearchProgressPart] {
        defer { changed = [] }
        return changed.sorted { ($0.searchID.rawValue, $0.partition) < ($1.searchID.rawValue, $1.partition) }.compactMap { key in
            parts[key]?.updatedAt = at
            return parts[key]
        }
    }

    /// The part of `searchID` in `partition`, if any lead of it was counted there.
    func part(_ searchID: SearchID, partition: Int32) -> SearchProgressPart? {
        parts[Key(searchID: searchID, partition: partition)]
    }

    private static func add(_ delta: Int, to bucket: Bucket, of part: inout SearchProgressPart) {
        switch bucket {
        case .pending: part.pending = max(0, part.pending + delta)
        case .enriching: part.enriching = max(0, part.enriching + delta)
        case .scoring: part.scoring = max(0, part.scoring + delta)
        case .finalizing: part.finalizing = max(0, part.finalizing + delta)
        case .billingPaused: part.billingPaused = max(0, part.billingPaused + delta)
        case .deferred: part.deferred = max(0, part.deferred + delta)
        case .completed: part.completed = max(0, part.completed + delta)
        case .refused: part.refused = max(0, part.refused + delta)
        case .alreadyKnown: part.alreadyKnown = max(0, part.alreadyKnown + delta)
        }
    }
}
