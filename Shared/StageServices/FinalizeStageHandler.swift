import Foundation
import LeadModel

/// The finalize phase: the lead's pool entry, assembled from the whole profile the request
/// carries (``Phase/readsEnrichedProfile``), finished now.
///
/// The entry goes to `lead.pool` before the result (``StageOutput/records(topics:codec:isPriority:)``),
/// and the request's offset is committed only when both are acknowledged: so a lead the
/// coordinator marks ready on this result is in the pool, and a SIGKILL in between makes the
/// request run again, writing the same run's entry again (same key and run: compaction keeps
/// one). The coordinator retries finalize until it completes and never skips it. It also counts
/// the lead's completion for its source search when it marks the lead ready.
public struct FinalizeStageHandler: PhaseHandler {
    /// ``Phase/finalize``.
    public let phase = Phase.finalize

    private let service: String
    private let now: @Sendable () -> Date

    /// Creates the handler.
    public init(service: String = "finalize-stage", now: @escaping @Sendable () -> Date = { Date() }) {
        self.service = service
        self.now = now
    }

    /// See the type's documentation.
    public func handle(_ request: PhaseRequest) async -> StageOutput {
        let finishedAt = now()
        let entry = LeadPoolEntry(profile: request.profile, accountID: request.accountID, offerID: request.offerID,
                                  finishedAt: finishedAt)
        let result = PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: finishedAt, service: service)
        return StageOutput(result: result, poolEntry: entry)
    }
}
