import Foundation
import LeadModel
import LeadRules
import Runtime
import Streaming

/// The scoring phase: fit, intent, timing and buyer state against the lead's offer, then account
/// signals.
///
/// - Unknown offer, after the offers table caught up → failed, retriable, reason `unknown offer
///   <id>: …`: the coordinator admitted the lead because its own offers table held the offer, so
///   this stage's table is behind, and the coordinator's retry finds it. (Its last attempt failing,
///   the coordinator skips the phase with that reason and the lead still becomes ready.) An offer
///   whose latest record the table refused when read fails so too, its reason saying so and why
///   (``ConfigurationRefusal``).
/// - Account heat: the lead's contribution (its company and the signals detected against the
///   offer) is published keyed by account (``StageOutput/contribution``); the account's heat is
///   owned by the ``AccountHeatAggregator`` reading them, never by this handler, so any number of
///   scoring instances and restarts give one heat per account. Scoring itself does not read heat.
/// - Autopilot: not here. A scoring result may still be rejected by the coordinator (a stale or
///   duplicate attempt), so the enrollment is decided by the finalize stage from the card the
///   coordinator accepted (``FinalizeStageHandler``).
/// - Charges: what the scorer's ``Evaluation`` reports: nothing for the rules, one
///   `scoring-model` unit for a card the model produced.
/// - Simulated latency: before scoring, the handler sleeps a draw of `simulatedLatency` (zero by
///   default), standing in for a model call's latency in benchmarks. The sleep ends when the
///   request's shutdown begins (``handle(_:stoppingOn:)``), and the request is handed back.
public struct ScoringStageHandler: PhaseHandler {
    /// ``Phase/scoring``.
    public let phase = Phase.scoring

    private let scorer: any Scorer
    private let offers: @Sendable (OfferID) async -> OfferConfig?
    private let offerRefusal: @Sendable (OfferID) -> String?
    private let service: String
    private let now: @Sendable () -> Date
    private let simulatedLatency: SimulationSettings.ProviderBehavior
    /// The signal detector of each offer scored against lately, for the leads' contributions.
    private let detectors = PerOffer(SignalDetector.init(offer:))

    /// Creates the handler.
    /// - Parameters:
    ///   - offers: looks an offer up (the offers table, caught up first when the offer is
    ///     missing); nil when unknown.
    ///   - offerRefusal: why the offers table skipped the offer's latest record, if it did
    ///     (``KafkaTable/refusal(of:)``): asked when `offers` finds no row.
    ///   - simulatedLatency: slept before each scoring; nil takes `SIM_SCORING_LATENCY_MS` and
    ///     `SIM_LATENCY_JITTER` from the process environment (zero when unset), so the scoring
    ///     stage's executable honours them.
    public init(
        scorer: any Scorer = RuleBasedScorer(), offers: @escaping @Sendable (OfferID) async -> OfferConfig?,
        offerRefusal: @escaping @Sendable (OfferID) -> String? = { _ in nil },
        service: String = "scoring-stage", now: @escaping @Sendable () -> Date = { Date() },
        simulatedLatency: SimulationSettings.ProviderBehavior? = nil
    ) {
        self.simulatedLatency = simulatedLatency ?? Self.simulatedLatencyFromProcessEnvironment()
        self.scorer = scorer
        self.offers = offers
        self.offerRefusal = offerRefusal
        self.service = service
        self.now = now
    }

    /// See the type's documentation.
    public func handle(_ request: PhaseRequest) async -> StageOutput {
        await handleUnstopped(request)
    }

    /// See the type's documentation; nil when `stop` begins during the simulated latency.
    public func handle(_ request: PhaseRequest, stoppingOn stop: GracefulShutdown) async -> StageOutput? {
        let latency = simulatedLatency.drawLatency(seedText: "scoring|\(request.leadID)|\(request.runID)|\(request.attempt)")
        // The runner never cancels a record's task: its stop ends the sleep.
        if latency > .zero, await !stop.sleep(for: latency), stop.hasBegun { return nil }
        let at = now()
        guard let offer = await offers(request.offerID) else {
            // Retriable either way: the offer published again within the bounds, a later attempt scores.
            let reason = offerRefusal(request.offerID).map { ConfigurationRefusal.offer(request.offerID, refusal: $0) }
                ?? "unknown offer \(request.offerID): not in this stage's offers table yet"
            return StageOutput(
                result: PhaseResult(answering: request, outcome: .failed(reason: reason, isRetriable: true), payload: .empty,
                                    finishedAt: at, service: service))
        }
        // Without the activity's plain text: the rules do not read it, and the model scorer
        // renders it when the profile has none.
        let profile = DocumentAssembly.profile(of: request, withActivityText: false)
        // Not bound to the record's stop: the model scorer turns any failure of its call into the
        // rules' card, so a wait it cut short would write that card instead of handing back.
        let evaluation = await scorer.evaluate(profile: profile, offer: offer, source: request.lead.source, now: at)
        let card = evaluation.card
        var scored = profile
        scored.scores = card
        var contribution = AccountSignalAggregator.contribution(
            of: scored, leadID: request.leadID, runID: request.runID, accountID: request.accountID, offer: offer, at: at,
            detector: detectors.value(for: offer), evidence: evaluation.evidence, activitySignals: evaluation.activitySignals)
        if evaluation.competitorEmployer != nil {
            // A competitor's employee heats no company (the competitor's least of all); sent
            // without one, it takes the lead out of the company it counted at before.
            contribution.companyKey = nil
            contribution.companyName = nil
        }
        let result = PhaseResult(
            answering: request, outcome: .completed, payload: PhasePayload(scores: card), charges: evaluation.charges,
            finishedAt: at, service: service)
        return StageOutput(result: result, contribution: contribution)
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
