import Foundation
import LeadModel
import LeadRules

/// The coordinator's pending timers, earliest first.
struct TimerQueue {
    private var heap = MinHeap(by: earlier)

    private static func earlier(_ first: LeadStateMachine.Timer, _ second: LeadStateMachine.Timer) -> Bool {
        first.fireAt < second.fireAt
    }

    var count: Int { heap.count }
    var nextFireAt: Date? { heap.first?.fireAt }

    mutating func schedule(_ timer: LeadStateMachine.Timer) {
        heap.insert(timer)
    }

    /// Keeps only the timers `isLive` accepts. A timer is never cancelled when its result comes
    /// (firing a stale one does nothing), so without this the queue holds every attempt's timeout
    /// until it fires; pruning keeps it, and the pending count, to the timers that matter.
    mutating func removeAll(where isStale: (LeadStateMachine.Timer) -> Bool) {
        let kept = heap.elements.filter { !isStale($0) }
        guard kept.count != heap.count else { return }
        heap = MinHeap(kept, by: Self.earlier)
    }

    /// Moves every attempt timeout due after `start` later by `delay`; returns how many moved.
    mutating func postponeAttemptTimeouts(dueAfter start: Date, by delay: TimeInterval) -> Int {
        var moved = 0
        let timers = heap.elements.map { timer in
            guard timer.kind == .attemptTimeout, timer.fireAt > start else { return timer }
            moved += 1
            var later = timer
            later.fireAt = timer.fireAt.addingTimeInterval(delay)
            return later
        }
        guard moved > 0 else { return 0 }
        heap = MinHeap(timers, by: Self.earlier)
        return moved
    }

    /// Removes and returns every timer due at `now`, earliest first.
    mutating func popDue(at now: Date) -> [LeadStateMachine.Timer] {
        var due: [LeadStateMachine.Timer] = []
        while let first = heap.first, first.fireAt <= now {
            due.append(first)
            heap.removeFirst()
        }
        return due
    }
}
