import Foundation
import LeadModel

extension AutopilotCheck {
    /// The enrollment a finalize request calls for, or nil.
    ///
    /// Only a run whose plan scored the lead and did not skip scoring enrolls, with the card the
    /// request carries: the scoring result the coordinator accepted for this run. Never for a lead
    /// whose buyer state is `manual` or `disqualified` (a person's override, see
    /// ``LeadOverridePolicy``), nor for one under an `override` in force now (set after the
    /// request was sent), whatever the account's rule requires; otherwise as
    /// ``enrollment(account:card:leadID:runID:offerID:at:)`` decides. The result depends only on
    /// the request, the account and `at`, so a retried or redelivered finalize yields the same
    /// ``AutopilotEnrollment/enrollmentID``. `profile` is the profile the request stands for
    /// when the caller has put it together already (``DocumentAssembly/profile(of:)``), so it is
    /// not put together twice.
    public static func enrollment(
        finalizing request: PhaseRequest, profile: EnrichedProfile? = nil, account: AccountConfig?, override: LeadOverride? = nil,
        at: Date
    ) -> AutopilotEnrollment? {
        let profile = profile ?? DocumentAssembly.profile(of: request)
        guard request.phase == .finalize, request.mode.phases.contains(.scoring), override?.stateInForce == nil,
              !profile.skippedPhases.contains(where: { $0.phase == .scoring }),
              let card = profile.scores, let account,
              card.buyerState != .manual, card.buyerState != .disqualified else {
            return nil
        }
        return enrollment(
            account: account, card: card, leadID: request.leadID, runID: request.runID, offerID: request.offerID, at: at)
    }
}
