import Foundation
import LeadModel

/// What a person's ``LeadOverride`` does to automatic scoring, enrollment, pool matching and
/// account heat. Pure functions; the coordinator's ``LeadStateMachine``, the finalize stage, the
/// pool matcher and the account heat aggregator call them.
public enum LeadOverridePolicy {
    /// The state reason of a card under an override: `manual override: <reason>`.
    public static func stateReason(_ override: LeadOverride) -> String {
        "manual override: \(override.reason)"
    }

    /// `card` with the override's buyer state and ``stateReason(_:)``; the scores and their
    /// reasons stay as scored. Unchanged when no override is in force.
    public static func applied(_ override: LeadOverride?, to card: ScoreCard) -> ScoreCard {
        guard let override, let state = override.stateInForce else { return card }
        var card = card
        card.buyerState = state.buyerState
        card.stateReason = stateReason(override)
        return card
    }

    /// Why the scoring phase is skipped for a lead under `override`: a disqualified lead is not
    /// rescored automatically; nil when scoring runs (no override, `manual`, or cleared).
    public static func scoringSkipReason(_ override: LeadOverride?) -> String? {
        guard let override, override.stateInForce == .disqualified else { return nil }
        return "disqualified by \(stateReason(override))"
    }

    /// Whether a lead under `override` counts in no account heat (``AccountHeat/setExcluded(_:at:)``):
    /// a disqualified lead is not scored again, so without this its last contribution would keep
    /// counting for good; nil, `manual` or cleared, it counts.
    public static func isExcludedFromHeat(_ override: LeadOverride?) -> Bool {
        override?.stateInForce == .disqualified
    }

    /// Whether a pool entry's profile may become a match for another offer: not when its card
    /// says `disqualified`, nor when an override disqualifies it now.
    public static func mayMatchFromPool(_ profile: EnrichedProfile, override: LeadOverride? = nil) -> Bool {
        if let override { return override.stateInForce != .disqualified }
        return profile.scores?.buyerState != .disqualified
    }
}
