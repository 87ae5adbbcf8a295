import Foundation
import Kafka
import LeadModel

/// The lowest input record of each lead whose state is held (``CoordinatorCore/unwrittenStates``),
/// per partition: no offset past it is stored until the state is written, so a crash reads it
/// again. (Inputs come in offset order, but a backlog record handed back can be lower than one
/// read before it.) The loop asks for each partition's lowest every poll (``floors(heldSince:)``), and
/// thousands of leads can be held at once (a running lead's state is written every
/// ``CoordinatorSettings/stateWriteInterval``), so each partition's inputs are a min-heap whose
/// entries of leads written since leave as they reach its top: a poll costs the entries that
/// left, not a walk over every held lead.
///
/// A hold is known by the time it began (``CoordinatorCore/HeldState/since``): a lead written
/// and held again is a new hold, whose inputs are later records.
struct HeldInputs {
    private struct Entry {
        let offset: Int64
        let leadID: LeadID
        let since: Date
    }

    private struct Key: Hashable {
        let leadID: LeadID
        let partition: TopicPartition
    }

    private var heaps: [TopicPartition: MinHeap<Entry>] = [:]
    /// The hold whose lowest input in the partition is in its heap, and that input, per lead and
    /// partition.
    private var noted: [Key: (since: Date, offset: Int64)] = [:]

    /// `leadID`, held since `since`, read an input at `offset` of `partition`: kept when it is
    /// the hold's lowest there.
    mutating func note(_ leadID: LeadID, heldSince since: Date, _ partition: TopicPartition, _ offset: Int64) {
        let key = Key(leadID: leadID, partition: partition)
        if let kept = noted[key], kept.since == since, kept.offset <= offset { return }
        noted[key] = (since, offset)
        heaps[partition, default: MinHeap { $0.offset < $1.offset }].insert(Entry(offset: offset, leadID: leadID, since: since))
    }

    /// The lowest input of a held lead in each partition that has one. `heldSince` says
    /// when a lead's current hold began (nil: its state is written); entries of other holds
    /// leave as they reach the top.
    mutating func floors(heldSince: (LeadID) -> Date?) -> [TopicPartition: Int64] {
        var floors: [TopicPartition: Int64] = [:]
        for partition in Array(heaps.keys) {
            var heap = heaps.removeValue(forKey: partition)!  // one owner while it changes: no copy
            while let top = heap.first {
                let key = Key(leadID: top.leadID, partition: partition)
                if heldSince(top.leadID) == top.since, noted[key]?.since == top.since {
                    floors[partition] = top.offset
                    break
                }
                if noted[key]?.since == top.since { noted[key] = nil }
                heap.removeFirst()
            }
            if !heap.isEmpty { heaps[partition] = heap }
        }
        return floors
    }
}
