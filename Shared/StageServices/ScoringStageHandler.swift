import Foundation
import LeadModel
import Pipeline
import PipelineServices
import Synchronization

/// The scoring phase: fit, intent, timing and buyer state against the lead's offer, then account
/// signals and the autopilot check.
///
/// - Unknown offer → failed, not retriable, reason `unknown offer <id>` (the coordinator skips the
///   phase with that reason and the lead still becomes ready).
/// - The lead is fed to this process's ``AccountSignalBook``; the company signals it changed are
///   published (``StageOutput/accountSignals``).
/// - Autopilot: checked against the account (unknown account → no enrollment); an eligible lead
///   gets one ``AutopilotEnrollment`` per request. A redelivered request publishes the same
///   enrollment again (same lead and run): downstream deduplicates on lead id + run id.
/// - Charges: what the scorer's ``Evaluation`` reports: nothing for the rules, one
///   `scoring-model` unit for a card the model produced.
/// - Simulated latency: before scoring, the handler sleeps a draw of `simulatedLatency` (zero by
///   default), standing in for a model call's latency in benchmarks.
public struct ScoringStageHandler: PhaseHandler {
    /// ``Phase/scoring``.
    public let phase = Phase.scoring

    private let scorer: any Scorer
    private let offers: @Sendable (OfferID) -> OfferConfig?
    private let accounts: @Sendable (AccountID) -> AccountConfig?
    private let signals: AccountSignalBook
    private let service: String
    private let now: @Sendable () -> Date
    private let simulatedLatency: SimulationSettings.ProviderBehavior

    /// Creates the handler.
    /// - Parameters:
    ///   - offers: looks an offer up (the offers table); nil when unknown.
    ///   - accounts: looks an account up (the accounts table); nil when unknown.
    ///   - signals: the per-account aggregators this process holds.
    ///   - simulatedLatency: slept before each scoring; nil takes `SIM_SCORING_LATENCY_MS` and
    ///     `SIM_LATENCY_JITTER` from the process environment (zero when unset), so the scoring
    ///     stage's executable honours them.
    public init(
        scorer: any Scorer = RuleBasedScorer(), offers: @escaping @Sendable (OfferID) -> OfferConfig?,
        accounts: @escaping @Sendable (AccountID) -> AccountConfig?, signals: AccountSignalBook = AccountSignalBook(),
        service: String = "scoring-stage", now: @escaping @Sendable () -> Date = { Date() },
        simulatedLatency: SimulationSettings.ProviderBehavior? = nil
    ) {
        self.simulatedLatency = simulatedLatency ?? Self.simulatedLatencyFromProcessEnvironment()
        self.scorer = scorer
        self.offers = offers
        self.accounts = accounts
        self.signals = signals
        self.service = service
        self.now = now
    }

    /// See the type's documentation.
    public func handle(_ request: PhaseRequest) async -> StageOutput {
        let latency = simulatedLatency.drawLatency(seedText: "scoring|\(request.leadID)|\(request.runID)|\(request.attempt)")
        if latency > .zero {
            try? await Task.sleep(for: latency)  // cancelled on shutdown: score at once
        }
        let at = now()
        guard let offer = offers(request.offerID) else {
            return StageOutput(
                result: PhaseResult(
                    answering: request, outcome: .failed(reason: "unknown offer \(request.offerID)", isRetriable: false),
                    payload: .empty, finishedAt: at, service: service))
        }
        let evaluation = await scorer.evaluate(profile: request.profile, offer: offer, source: request.lead.source, now: at)
        let card = evaluation.card
        var scored = request.profile
        scored.scores = card
        let changed = signals.record(leadID: request.leadID, accountID: request.accountID, offer: offer, profile: scored, now: at)
        let enrollment = accounts(request.accountID).flatMap { account in
            AutopilotCheck.enrollment(
                account: account, card: card, leadID: request.leadID, runID: request.runID, offerID: request.offerID, at: at)
        }
        let result = PhaseResult(
            answering: request, outcome: .completed, payload: PhasePayload(scores: card), charges: evaluation.charges,
            finishedAt: at, service: service)
        return StageOutput(result: result, accountSignals: changed, enrollment: enrollment)
    }
}

extension ScoringStageHandler {
    /// The scoring latency `SIM_*` variables of the process environment ask for (see
    /// ``PipelineEnvironment``); zero when they are unset or wrong (the environment's own
    /// validation reports a wrong value at start-up).
    static func simulatedLatencyFromProcessEnvironment() -> SimulationSettings.ProviderBehavior {
        let variables = ProcessInfo.processInfo.environment
        guard variables["SIM_SCORING_LATENCY_MS"] != nil,
              let environment = try? PipelineEnvironment(service: "scoring-stage", environment: variables) else {
            return .instant
        }
        return environment.simulation.scoring
    }
}

/// Per-account ``AccountSignalAggregator``s held in memory by one scoring process.
///
/// Each account's aggregator detects signals with the offer of the first lead recorded for it.
/// The state is this process's alone: with several scoring instances each sees the leads of its
/// partitions, and it starts empty after a restart (heat rebuilds as leads are scored again).
/// Trend compares with the heat this book last computed for the company on an earlier UTC day.
public final class AccountSignalBook: Sendable {
    private struct HeatHistory {
        var day: Int
        var heat: Int
        var earlierDayHeat: Int?
        var lastPublished: AccountSignal?
    }

    private struct AccountState {
        var aggregator: AccountSignalAggregator
        var companyOfLead: [LeadID: String] = [:]
        var history: [String: HeatHistory] = [:]
    }

    private let accounts = Mutex<[AccountID: AccountState]>([:])

    /// An empty book.
    public init() {}

    /// Records (or replaces) the lead's contribution and returns the company signals that changed:
    /// the lead's company and, when the lead moved, the company it left, each only when it has two
    /// or more leads and differs from what was last returned for it (heat, category, trend, lead
    /// count or the signals counted).
    public func record(leadID: LeadID, accountID: AccountID, offer: OfferConfig, profile: EnrichedProfile, now: Date) -> [AccountSignal] {
        accounts.withLock { accounts in
            // Taken out while it changes: a copy left in the dictionary would make every change
            // copy the account's leads.
            var state = accounts.removeValue(forKey: accountID)
                ?? AccountState(aggregator: AccountSignalAggregator(accountID: accountID, offer: offer))
            defer { accounts[accountID] = state }
            let newKey = AccountSignalAggregator.companyKey(for: profile)
            let oldKey = state.companyOfLead[leadID]
            state.aggregator.add(leadID: leadID, profile: profile)
            state.companyOfLead[leadID] = newKey
            let touched = Set([newKey, oldKey].compactMap { $0 })
            guard !touched.isEmpty else { return [] }

            let day = Int((now.timeIntervalSince1970 / 86_400).rounded(.down))
            var previousHeat: [String: Int] = [:]
            for key in touched {
                guard let history = state.history[key] else { continue }
                previousHeat[key] = history.day < day ? history.heat : history.earlierDayHeat
            }
            var changed: [AccountSignal] = []
            for signal in state.aggregator.signals(of: touched, previousHeat: previousHeat, now: now) {
                var history = state.history[signal.companyKey] ?? HeatHistory(day: day, heat: signal.heatScore)
                if history.day < day {
                    history.earlierDayHeat = history.heat
                    history.day = day
                }
                history.heat = signal.heatScore
                if !Self.isSame(signal, history.lastPublished) {
                    history.lastPublished = signal
                    changed.append(signal)
                }
                state.history[signal.companyKey] = history
            }
            return changed
        }
    }

    private static func isSame(_ signal: AccountSignal, _ previous: AccountSignal?) -> Bool {
        guard let previous else { return false }
        func counted(_ s: AccountSignal) -> [String] { s.signals.map { "\($0.leadID)|\($0.kind)|\($0.detail)" }.sorted() }
        return signal.heatScore == previous.heatScore && signal.category == previous.category && signal.trend == previous.trend
            && signal.leadCount == previous.leadCount && counted(signal) == counted(previous)
    }
}
