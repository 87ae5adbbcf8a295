import Foundation
import LeadModel

/// The finalize phase: builds the finished profile's lead-pool entry and completes.
///
/// The entry travels in the result's payload; the coordinator writes it to the lead pool in the
/// same acknowledged batch as the lead's ready state. A request redelivered after a crash of this
/// stage therefore yields only a duplicate result, which the coordinator ignores: every lead is
/// written to the pool once per run. The coordinator also tracks the completion of the lead's
/// search from its ready state.
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
        let result = PhaseResult(answering: request, outcome: .completed, payload: PhasePayload(poolEntry: entry),
                                 finishedAt: at, service: service)
        return StageOutput(result: result)
    }
}
