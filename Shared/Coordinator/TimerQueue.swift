import Foundation
import LeadModel
import LeadRules

/// The coordinator's pending timers, earliest first (a binary min-heap).
struct TimerQueue {
    struct Entry {
        let timer: LeadStateMachine.Timer
        var fireAt: Date { timer.fireAt }
    }

    private var heap: [Entry] = []

    var count: Int { heap.count }
    var nextFireAt: Date? { heap.first?.fireAt }

    mutating func schedule(_ timer: LeadStateMachine.Timer) {
        heap.append(Entry(timer: timer))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].fireAt < heap[parent].fireAt else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Keeps only the timers `isLive` accepts. A timer is never cancelled when its result comes
    /// (firing a stale one does nothing), so without this the queue holds every attempt's timeout
    /// until it fires; pruning keeps it, and the pending count, to the timers that matter.
    mutating func removeAll(where isStale: (LeadStateMachine.Timer) -> Bool) {
        let kept = heap.filter { !isStale($0.timer) }
        guard kept.count != heap.count else { return }
        heap = []
        for entry in kept { schedule(entry.timer) }
    }

    /// Moves every attempt timeout due after `start` later by `delay`; returns how many moved.
    mutating func postponeAttemptTimeouts(dueAfter start: Date, by delay: TimeInterval) -> Int {
        var moved = 0
        let timers = heap.map { entry in
            guard entry.timer.kind == .attemptTimeout, entry.fireAt > start else { return entry.timer }
            moved += 1
            var later = entry.timer
            later.fireAt = entry.fireAt.addingTimeInterval(delay)
            return later
        }
        guard moved > 0 else { return 0 }
        heap = []
        for timer in timers { schedule(timer) }
        return moved
    }

    /// Removes and returns every timer due at `now`, earliest first.
    mutating func popDue(at now: Date) -> [LeadStateMachine.Timer] {
        var due: [LeadStateMachine.Timer] = []
        while let first = heap.first, first.fireAt <= now {
            due.append(first.timer)
            heap.swapAt(0, heap.count - 1)
            heap.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].fireAt < heap[smallest].fireAt { smallest = left }
                if right < heap.count && heap[right].fireAt < heap[smallest].fireAt { smallest = right }
                guard smallest != parent else { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return due
    }
}
