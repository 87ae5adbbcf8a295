import Kafka
import LeadModel

/// Backlog records parked at the waiting bound (``CoordinatorCore/Effect/park(_:account:paid:)``),
/// which the coordinator's loop holds: where each is, whose lead, and the account whose gates
/// hold it. No offset past a parked record is stored (``floors()``) until its lead is handled
/// again, so a crash or a new owner reads it again. A backlog command (a re-enrich, a found
/// profile) of a parked lead parks behind it, so it is not handled before the lead is known; once
/// the lead's own record is handled, its commands are handled as they come back (one command
/// never parks behind another: two of one lead parked each other again for good).
/// About 460 bytes a record (100,000 with 41-character lead ids: 46 MB resident).
struct ParkedRecords {
    /// A backlog record's place.
    struct Position: Hashable, Comparable {
        let partition: TopicPartition
        let offset: Int64

        static func < (lhs: Position, rhs: Position) -> Bool {
            (lhs.partition.partition, lhs.offset) < (rhs.partition.partition, rhs.offset)
        }
    }

    /// The lead a parked record is of, and what holds it: the account's gates, billing only when
    /// the lead's mode has a paid phase.
    struct Hold: Hashable {
        let leadID: LeadID
        let account: AccountID
        let paid: Bool
    }

    private(set) var records: [Position: Hold] = [:]
    /// How many records each parked lead has parked, with what holds them, how many of them
    /// wait on the gates themselves (not parked behind the lead), and how many of those are not
    /// handed back.
    private var leads: [LeadID: (hold: Hold, records: Int, gated: Int, waiting: Int)] = [:]
    /// The leads with a record parked on their gates and not handed back: ``leads``' entries whose
    /// `waiting` is above 0.
    private(set) var leadsOnGates = 0
    /// The records parked behind their lead.
    private var behindLead: Set<Position> = []
    /// Records handed back (fetched again for their account's open gates), not handled yet.
    private(set) var releasing: Set<Position> = []
    /// The lowest parked offset of each partition, kept as records park: the loop asks for it
    /// every poll, and a walk over every parked record (up to ``CoordinatorSettings/maxParkedLeads``)
    /// each time would cost more than the poll. A partition whose lowest record left is in
    /// `staleFloors` until ``floors()`` walks the records again.
    private var lowest: [TopicPartition: Int64] = [:]
    private var staleFloors: Set<TopicPartition> = []

    var count: Int { records.count }
    /// What counts against ``CoordinatorSettings/maxParkedLeads``: records handed back do not, so
    /// a full instance starts them.
    var countedAgainstBound: Int { records.count - releasing.count }

    /// What holds `leadID`'s records parked on its gates (not behind it), if it has any: a
    /// command of the lead parks behind them.
    func hold(of leadID: LeadID) -> Hold? {
        guard let lead = leads[leadID], lead.gated > 0 else { return nil }
        return lead.hold
    }

    /// Parks the record at `position`: on its gates, or behind its lead's (`behindItsLead`).
    mutating func park(_ position: Position, _ hold: Hold, behindItsLead: Bool = false) {
        guard records.updateValue(hold, forKey: position) == nil else { return }
        leads[hold.leadID, default: (hold, 0, 0, 0)].records += 1
        if behindItsLead {
            behindLead.insert(position)
        } else {
            leads[hold.leadID]!.gated += 1
            leads[hold.leadID]!.waiting += 1
            if leads[hold.leadID]!.waiting == 1 { leadsOnGates += 1 }
        }
        if !staleFloors.contains(position.partition) {
            lowest[position.partition] = min(lowest[position.partition] ?? .max, position.offset)
        }
    }

    /// The record at `position` is handled again (started, refused or parked anew).
    mutating func remove(_ position: Position) {
        let wasReleasing = releasing.remove(position) != nil
        guard let hold = records.removeValue(forKey: position), let entry = leads[hold.leadID] else { return }
        let onGates = behindLead.remove(position) == nil
        let gated = onGates ? entry.gated - 1 : entry.gated
        let waiting = onGates && !wasReleasing ? entry.waiting - 1 : entry.waiting
        if entry.waiting > 0 && waiting == 0 { leadsOnGates -= 1 }
        leads[hold.leadID] = entry.records > 1 ? (entry.hold, entry.records - 1, gated, waiting) : nil
        if lowest[position.partition] == position.offset {
            lowest[position.partition] = nil
            staleFloors.insert(position.partition)
        }
    }

    /// The lowest parked offset of each partition: no offset past it may be stored. Walks the
    /// parked records only when the lowest of a partition left since the last call.
    mutating func floors() -> [TopicPartition: Int64] {
        guard !staleFloors.isEmpty else { return lowest }
        for position in records.keys where staleFloors.contains(position.partition) {
            lowest[position.partition] = min(lowest[position.partition] ?? .max, position.offset)
        }
        staleFloors = []
        return lowest
    }

    /// Up to `limit` records not handed back yet whose holds `isOpen` says are open, lowest
    /// offsets first, so a lead's command comes back after the lead.
    func releasable(limit: Int, isOpen: (Hold) -> Bool) -> [Position] {
        Array(records.filter { !releasing.contains($0.key) && isOpen($0.value) }.keys.sorted().prefix(limit))
    }

    mutating func markReleasing(_ positions: some Sequence<Position>) {
        for position in positions {
            guard let hold = records[position], releasing.insert(position).inserted, !behindLead.contains(position) else { continue }
            leads[hold.leadID]!.waiting -= 1
            if leads[hold.leadID]!.waiting == 0 { leadsOnGates -= 1 }
        }
    }

    /// Forgets the records of partitions given up (their next owner reads them again).
    mutating func removeAll(inPartitions partitions: Set<Int32>) {
        for position in records.keys where partitions.contains(position.partition.partition) {
            remove(position)
        }
    }
}
