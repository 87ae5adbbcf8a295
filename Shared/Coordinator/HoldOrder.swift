import Foundation
import LeadModel

/// Leads in the order their states were first held, with when: the coordinator writes a held
/// state once it has been held long enough, oldest first. An entry stays when its lead's state is
/// written early or held again; the caller skips one whose `since` is no longer its lead's.
struct HoldOrder {
    private var entries: [(leadID: LeadID, since: Date)] = []
    private var start = 0

    /// Adds a lead held from `since` (not earlier than the entries before it).
    mutating func append(_ leadID: LeadID, since: Date) {
        entries.append((leadID, since))
    }

    /// Removes and returns the entries held since `cutoff` or before, oldest first; with no
    /// cutoff, every entry.
    mutating func removeDue(heldSince cutoff: Date?) -> ArraySlice<(leadID: LeadID, since: Date)> {
        var end = start
        while end < entries.count, cutoff.map({ entries[end].since <= $0 }) ?? true { end += 1 }
        let due = entries[start..<end]
        start = end
        if start > 1024 && start * 2 > entries.count {  // the removed half goes
            entries.removeFirst(start)
            start = 0
        }
        return due
    }
}
