import Foundation
import LeadModel
import LeadRules
import Synchronization

/// The finalize phase: the lead's pool entry, assembled from the whole profile the request
/// carries (``Phase/readsEnrichedProfile``), finished now. What the stages left out of their
/// outputs and the coordinator out of the request to fit them in records
/// (``DocumentAssembly/omitted(of:)``) the entry says it lacks too.
///
/// The entry goes to `lead.pool` before the result (``StageOutput/records(topics:codec:isPriority:)``),
/// and the request's offset is committed only when both are acknowledged: so a lead the
/// coordinator marks ready on this result is in the pool. The coordinator retries finalize until
/// it completes and never skips it, and counts the lead's completion for its source search when
/// it marks the lead ready.
///
/// Once per run: a retried attempt of a run this handler already wrote (the first attempt's
/// result came late, say after a broker outage) answers completed without a second entry; the
/// requests of one lead come to one instance, one at a time. A run counts as written once its
/// entry and enrollment are acknowledged (``outputWritten(for:)``), not when they are made: a
/// request handed back before (its partition revoked, its outputs abandoned) writes them again. The runs remembered are the last
/// ``rememberedRuns`` in memory, so a request redelivered after a SIGKILL of this stage, between
/// the entry's acknowledgement and the commit, writes the run's entry again: the same key and run,
/// which compaction folds into one, and the coordinator's state of the lead names the later one. An entry above MAX_RECORD_BYTES is made to fit where it is
/// written (``LeadPoolEntry/fitted(renderingAt:_:)``: its oldest posts, then its activity, then
/// the LinkedIn lists left out, then the end of long texts, as its `omitted` says). One that still cannot be written is not
/// remembered (``outputNotWritten(for:)``): its request is dead-lettered on every attempt, and
/// the lead is never ready without its entry.
///
/// Autopilot: the run's ``AutopilotEnrollment`` goes out once its pool entry is acknowledged, and
/// the result once the enrollment is (``StageRecordProcessor/process(_:)``), decided by
/// ``AutopilotCheck/enrollment(finalizing:profile:account:override:at:)`` from the card the request
/// carries, which is the scoring result the coordinator accepted (a rejected result never reaches
/// finalize), and the lead's override in force now (one set while the request was on its way).
/// It is written once per run like the entry; a redelivery after a SIGKILL writes it again with
/// the same ``AutopilotEnrollment/enrollmentID``, on which readers dedupe. A lead autopilot
/// would enroll but for a billing pause this stage sees is not finalized: the answer is
/// ``PhaseOutcome/waitsForBilling(reason:)``, with no entry, and the coordinator holds its retry
/// until the account resumes (or its autopilot is switched off).
public struct FinalizeStageHandler: PhaseHandler {
    /// ``Phase/finalize``.
    public let phase = Phase.finalize
    /// How many finished runs a handler remembers.
    public static let rememberedRuns = 100_000

    private let accounts: @Sendable (AccountID) -> AccountConfig?
    private let overrides: @Sendable (LeadID) -> LeadOverride?
    private let service: String
    private let now: @Sendable () -> Date
    private let written = RecentRuns(capacity: Self.rememberedRuns)

    /// Creates the handler.
    /// - Parameters:
    ///   - accounts: looks an account up (the accounts table) for its autopilot rule; nil when
    ///     unknown, and then nothing is enrolled.
    ///   - overrides: looks a lead's latest override up (the `lead.overrides` table).
    public init(
        accounts: @escaping @Sendable (AccountID) -> AccountConfig? = { _ in nil },
        overrides: @escaping @Sendable (LeadID) -> LeadOverride? = { _ in nil }, service: String = "finalize-stage",
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.accounts = accounts
        self.overrides = overrides
        self.service = service
        self.now = now
    }

    /// See the type's documentation.
    public func handle(_ request: PhaseRequest) async -> StageOutput {
        let finishedAt = now()
        let result = PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: finishedAt, service: service)
        guard !written.contains(Self.runKey(request)) else { return StageOutput(result: result) }
        let profile = DocumentAssembly.profile(of: request)
        // Decided as if billing were active: a lead enrolled so is finalized only while it is.
        let account = accounts(request.accountID)
        var active = account
        active?.billingState = .active
        let enrollment = AutopilotCheck.enrollment(finalizing: request, profile: profile, account: active,
                                                   override: overrides(request.leadID), at: finishedAt)
        if enrollment != nil, account?.billingState == .paused {
            let reason = "account billing paused: autopilot would enroll the lead, so it is finalized once billing resumes"
            let waiting = PhaseResult(answering: request, outcome: .waitsForBilling(reason: reason), payload: .empty,
                                      finishedAt: finishedAt, service: service)
            return StageOutput(result: waiting)
        }
        var entry = LeadPoolEntry(profile: profile, accountID: request.accountID, offerID: request.offerID, finishedAt: finishedAt)
        entry.omitted = DocumentAssembly.omitted(of: request)  // what the stages and the coordinator left out
        return StageOutput(result: result, enrollment: enrollment, poolEntry: entry)
    }

    /// The run's entry was not written (above MAX_RECORD_BYTES, say): forgotten, so that the
    /// retried attempt writes it again (and is dead-lettered again while it cannot be written)
    /// instead of answering completed without an entry. The lead stays in finalize, retried with a
    /// backoff of up to ``LeadStateMachine/Configuration/backoffMax``, until the entry fits.
    public func outputNotWritten(for request: PhaseRequest) {
        written.remove(Self.runKey(request))
    }

    /// The run's entry (and enrollment) are acknowledged: a retried attempt of the run answers
    /// completed without writing them again. Remembered only now, so that a request handed back
    /// before they were written (its partition revoked meanwhile, the outputs abandoned) writes
    /// them when it comes back, even to this instance.
    public func outputWritten(for request: PhaseRequest) {
        _ = written.insert(Self.runKey(request))
    }

    private static func runKey(_ request: PhaseRequest) -> String { "\(request.leadID)/\(request.runID)" }
}

/// The last `capacity` keys inserted, oldest forgotten first.
final class RecentRuns: Sendable {
    private struct State {
        var keys: Set<String> = []
        var order: [String] = []
        var head = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Forgets `key`. Its slot in the order stays until it comes round, so a key inserted again
    /// may be forgotten that much sooner.
    func remove(_ key: String) {
        _ = state.withLock { $0.keys.remove(key) }
    }

    /// Whether `key` is among the last `capacity` inserted (and not removed).
    func contains(_ key: String) -> Bool {
        state.withLock { $0.keys.contains(key) }
    }

    /// Inserts `key`; false when it was there already.
    func insert(_ key: String) -> Bool {
        state.withLock { state in
            guard state.keys.insert(key).inserted else { return false }
            if state.order.count < capacity {
                state.order.append(key)
            } else {
                state.keys.remove(state.order[state.head])
                state.order[state.head] = key
                state.head = (state.head + 1) % capacity
            }
            return true
        }
    }
}
