import Foundation
import LeadModel

/// The finalize phase: the lead's last step; it completes at once.
///
/// The request carries only the lead's identity (``Phase/readsEnrichedProfile``). The
/// coordinator holds the whole profile: on this result it writes the lead's pool entry, finished
/// at the result's `finishedAt`, in the same acknowledged batch as the ready state. A request
/// redelivered after a crash of this stage yields only a duplicate result, which the coordinator
/// ignores, so every lead is written to the pool once per run. The coordinator also tracks the
/// completion of the lead's search from its ready state.
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
        StageOutput(result: PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: now(), service: service))
    }
}
