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
    /// One company's change not written yet: as the last poll left it, with the offset of the
    /// first contribution that changed it since it was last written.
    struct Entry {
        var change: AccountHeatAggregator.Change
        /// When it was first changed since it was last written.
        let since: Date
    }

    /// By changelog key.
    private(set) var entries: [String: Entry] = [:]

    /// Holds a poll's change of the company under `key`: its state after the poll, the poll's
    /// first and last contributions that changed it. A change already held keeps its first offset
    /// and time.
    mutating func hold(_ key: String, _ change: AccountHeatAggregator.Change, at now: Date) {
        if let held = entries[key] {
            var latest = change
            latest.firstOffset = held.change.firstOffset
            entries[key] = Entry(change: latest, since: held.since)
        } else {
            entries[key] = Entry(change: change, since: now)
        }
    }

    /// Removes and returns the changes held since `cutoff` or before, in key order; every change
    /// when `cutoff` is nil.
    mutating func takeDue(heldSince cutoff: Date?) -> [(key: String, change: AccountHeatAggregator.Change)] {
        let due = entries.filter { entry in cutoff.map { entry.value.since <= $0 } ?? true }.sorted { $0.key < $1.key }
        for (key, _) in due {
            entries[key] = nil
        }
        return due.map { (key: $0.key, change: $0.value.change) }
    }

    /// Forgets the changes of `partitions` (revoked: their next owner replays them).
    mutating func drop(partitions: Set<Int32>) {
        entries = entries.filter { !partitions.contains($0.value.change.partition) }
    }

    /// The offsets to store: each partition's next offset after what was applied (`consumed`),
    /// but no further than the first contribution of a change still held in it.
    func committable(_ consumed: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        var floors: [Int32: Int64] = [:]
        for entry in entries.values {
            floors[entry.change.partition] = min(floors[entry.change.partition] ?? .max, entry.change.firstOffset)
        }
        return consumed.reduce(into: [:]) { offsets, pair in
            offsets[pair.key] = min(pair.value, floors[pair.key.partition] ?? .max)
        }
    }
}
