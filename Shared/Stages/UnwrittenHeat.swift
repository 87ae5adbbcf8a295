import Foundation
import Kafka
import LeadModel

/// The company states the heat aggregator changed and has not written to its changelog yet, and
/// the input offsets it may therefore store.
///
/// A company's state is written once it has been held for the aggregator's write interval, its
/// changes in between one record: a company's state holds every lead counted at it, so writing it
/// after every poll that changed it costs bytes in proportion to its leads, again and again.
/// Until a change is written, no input offset at or after the first contribution that made it is
/// stored, so a crash or a partition handed over replays those contributions onto the state last
/// written, and they count once (``AccountHeatState/counted``).
struct UnwrittenHeat {
    /// One company's change not written yet.
    struct Entry {
        /// The state to write; nil: forget the company (a tombstone).
        var state: AccountHeatState?
        /// The partition of its contributions, and of its changelog record.
        var partition: Int32
        /// The last contribution that changed it, for the dead letter if it cannot be written.
        var last: ConsumerRecord
        /// The offset of the first contribution that changed it since it was last written.
        var firstOffset: Int64
        /// When it was first changed since it was last written.
        var since: Date
    }

    /// By changelog key.
    private(set) var entries: [String: Entry] = [:]

    /// Holds a poll's change of the company under `key`: its state after the poll, the poll's
    /// first and last contributions that changed it. A change already held keeps its first offset
    /// and time.
    mutating func hold(_ key: String, _ change: AccountHeatAggregator.Change, at now: Date) {
        if var held = entries[key] {
            held.state = change.state
            held.last = change.by
            entries[key] = held
        } else {
            entries[key] = Entry(state: change.state, partition: change.partition, last: change.by, firstOffset: change.firstOffset,
                                 since: now)
        }
    }

    /// Removes and returns the changes held since `cutoff` or before, in key order; every change
    /// when `cutoff` is nil.
    mutating func takeDue(heldSince cutoff: Date?) -> [(key: String, entry: Entry)] {
        let due = entries.filter { cutoff == nil || $0.value.since <= cutoff! }.sorted { $0.key < $1.key }
        for (key, _) in due {
            entries[key] = nil
        }
        return due.map { (key: $0.key, entry: $0.value) }
    }

    /// Forgets the changes of `partitions` (revoked: their next owner replays them).
    mutating func drop(partitions: Set<Int32>) {
        entries = entries.filter { !partitions.contains($0.value.partition) }
    }

    /// The offsets to store: each partition's next offset after what was applied (`consumed`),
    /// but no further than the first contribution of a change still held in it.
    func committable(_ consumed: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        var floors: [Int32: Int64] = [:]
        for entry in entries.values {
            floors[entry.partition] = min(floors[entry.partition] ?? .max, entry.firstOffset)
        }
        return consumed.reduce(into: [:]) { offsets, pair in
            offsets[pair.key] = min(pair.value, floors[pair.key.partition] ?? .max)
        }
    }
}
