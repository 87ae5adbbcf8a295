import Foundation
import LeadModel

/// The finalize phase: writes the finished profile to the lead pool and completes.
///
/// One ``LeadPoolEntry`` per request (keyed by lead id on a compacted topic, so a redelivered
/// request rewrites the same entry); the coordinator makes sure a lead finalizes once per run,
/// marks it ready and tracks the completion of its search from the result.
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
        let at = now()
        let entry = LeadPoolEntry(profile: request.profile, accountID: request.accountID, offerID: request.offerID, finishedAt: at)
        let result = PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: at, service: service)
        return StageOutput(result: result, poolEntry: entry)
    }
}
