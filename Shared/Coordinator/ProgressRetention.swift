import Foundation
import LeadModel

/// How long the progress of a finished search is kept (`PROGRESS_RETENTION_DAYS`), and the two
/// decisions that forget it, each taken by the owner of what it forgets (no broker, the time
/// given: tests move it on by hand).
///
/// A search is forgotten by its progress tracker (the owner of its `progress` key and of its
/// `progress.account-parts` keys) once it has a declared total, no lead in flight (pending,
/// enriching, scoring, finalizing, billing paused or outside the outreach window) and no change
/// for the retention period: no part written and no total declared since. A completed search
/// is such a search; so is one that stopped short of its total and has sat idle that long, the
/// most it will get to. The tracker writes tombstones for its snapshot and account parts and
/// drops it; its account then no longer counts it.
///
/// A coordinator instance forgets its part of a search (its `progress.parts` key
/// `<search>/<partition>`) once the part has no lead in flight, has not changed for the
/// retention period, and the search is no longer in `progress` (its tracker forgot it first:
/// a part is never taken from under a search still shown). It writes the part's tombstone and
/// drops it from memory.
///
/// A search with no declared total is kept: its end is not known. The declared total is
/// discovery's record in `search.totals` and stays there: a forgotten search given a lead again
/// (a re-enrich of one of its ready leads, a lead published again) counts from its new parts
/// alone, shown running below its old total until that lead is done and the search has sat
/// idle for the retention period again; a total declared again counts as a change.
struct ProgressRetention: Equatable, Sendable {
    /// The retention period; nil: progress is kept for ever.
    let period: TimeInterval?

    /// How often the tracker and the coordinator look for what to forget, by their clocks: a
    /// minute, or a tenth of a shorter retention period.
    var sweepInterval: TimeInterval { min(60, (period ?? 600) / 10) }

    /// `days` (decimals allowed); 0 or less keeps progress for ever.
    init(days: Double) {
        period = days > 0 ? days * 86_400 : nil
    }

    /// Whether a part counts no lead still on its way (every lead ready, refused or already known).
    static func isSettled(_ part: SearchProgressPart) -> Bool {
        part.pending == 0 && part.enriching == 0 && part.scoring == 0 && part.finalizing == 0 && part.billingPaused == 0
            && part.deferred == 0
    }

    /// The tracker's decision: whether the search of `parts` (its latest part per partition) and
    /// `declared` total is forgotten at `now`.
    func forgetsSearch(parts: some Collection<SearchProgressPart>, declared: SearchTotalDeclared?, at now: Date) -> Bool {
        guard let period, let declared, parts.allSatisfy(Self.isSettled) else { return false }
        let lastChange = parts.lazy.map(\.updatedAt).reduce(declared.declaredAt, max)
        return now.timeIntervalSince(lastChange) >= period
    }

    /// The coordinator's decision: whether `part` is forgotten at `now`, its search being in
    /// `progress` or not.
    func forgetsPart(_ part: SearchProgressPart, isSearchPublished: Bool, at now: Date) -> Bool {
        guard let period, !isSearchPublished, Self.isSettled(part) else { return false }
        return now.timeIntervalSince(part.updatedAt) >= period
    }
}
