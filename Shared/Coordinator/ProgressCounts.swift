import Foundation
import Kafka
import LeadModel

/// Where the leads of each search are, per partition the coordinator owns: the counts behind
/// the ``SearchProgressPart`` records it writes. Kept as leads change (``move(_:from:to:)``), and
/// counted afresh from the states of a partition it restores, so a part is always absolute.
///
/// A part carries the time its counts last changed: the batch that moved a lead, or for a
/// restored part its latest lead's (``changedAt(restoring:writtenAt:)``). A part of a search its tracker forgot is
/// dropped once it has not changed for the retention period (``takeForgotten(retention:at:isPublished:)``),
/// so what is kept is bounded by the searches of that period, not every search ever run.
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
    /// Parts restored since ``takeChanged(at:)`` and not changed since: written with the time
    /// of their latest lead's record, not stamped anew.
    private var restored: Set<Key> = []

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
        restored.remove(key)
    }

    /// When a restored lead's count last changed, for ``noteRestored(_:changedAt:)``: for a ready
    /// lead, when it became ready (its `readyAt`); for any other, the time of its state's record
    /// (`writtenAt`). A ready lead's record is written again without its count moving (a
    /// completed web enrichment merged into it), and that time would bring a search its tracker
    /// forgot back after a restart, shown running below its total.
    static func changedAt(restoring summary: LeadStateSummary, writtenAt: Date) -> Date {
        summary.status == .ready ? summary.readyAt ?? writtenAt : writtenAt
    }

    /// Notes that `lead`, counted by a restore, last changed at `changedAt` (its record's time):
    /// its part is written with its latest lead's time, so a restart does not make a finished
    /// search look changed (nor keep it another retention period).
    mutating func noteRestored(_ lead: Lead, changedAt: Date) {
        let key = Key(searchID: lead.searchID, partition: lead.partition)
        guard var part = parts[key] else { return }
        part.updatedAt = max(part.updatedAt, changedAt)
        parts[key] = part
        changed.remove(key)
        restored.insert(key)
    }

    /// Drops the parts whose search is forgotten at `now` (``ProgressRetention/forgetsPart(_:isSearchPublished:at:)``;
    /// `isPublished`: whether the search is in `progress`) and returns them, for their tombstones.
    /// A lead of the search counted afterwards starts its part from nothing.
    mutating func takeForgotten(retention: ProgressRetention, at now: Date, isPublished: (SearchID) -> Bool) -> [SearchProgressPart] {
        guard retention.period != nil else { return [] }
        var published: [SearchID: Bool] = [:]
        let forgotten = parts.filter { key, part in
            guard ProgressRetention.isSettled(part) else { return false }
            let isSearchPublished = published[key.searchID] ?? isPublished(key.searchID)
            published[key.searchID] = isSearchPublished
            return retention.forgetsPart(part, isSearchPublished: isSearchPublished, at: now)
        }
        for key in forgotten.keys {
            parts[key] = nil
            changed.remove(key)
            restored.remove(key)
        }
        return forgotten.sorted { ($0.key.searchID.rawValue, $0.key.partition) < ($1.key.searchID.rawValue, $1.key.partition) }.map(\.value)
    }

    /// Forgets the counts of partitions given up; their next owner counts them from their states.
    mutating func remove(partitions: Set<Int32>) {
        parts = parts.filter { !partitions.contains($0.key.partition) }
        changed = changed.filter { !partitions.contains($0.partition) }
        restored = restored.filter { !partitions.contains($0.partition) }
    }

    /// The parts changed since the last call, stamped `at`, and those restored since, with
    /// their leads' time.
    mutating func takeChanged(at: Date) -> [SearchProgressPart] {
        defer {
            changed = []
            restored = []
        }
        return changed.union(restored).sorted { ($0.searchID.rawValue, $0.partition) < ($1.searchID.rawValue, $1.partition) }.compactMap { key in
            if changed.contains(key) { parts[key]?.updatedAt = at }
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
