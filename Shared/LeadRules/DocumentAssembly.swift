import Foundation
import LeadModel

/// Puts a lead's profile together from the pieces a version 2 ``PhaseRequest`` carries
/// (``DocumentParts``), as the coordinator's ``LeadStateMachine`` builds it step by step: the
/// run's start (``EnrichedProfile/init(startingRunOf:)``, or the base a re-enrich run starts
/// from), the lead's profile URLs, each completed phase's output folded in with
/// ``ProfileMerger``, the skipped phases, the web enrichment, and the override on the card.
/// So a stage that reads the profile gets the same one either way.
public enum DocumentAssembly {
    /// The profile `request` stands for, as far as its phase reads it: ``PhaseRequest/profile``
    /// for a version 1 request; put together from ``PhaseRequest/document`` for version 2.
    /// Its activity's plain text is rendered as of the request (``withActivityText(_:asOf:)``).
    public static func profile(of request: PhaseRequest) -> EnrichedProfile {
        let assembled = request.document.map { profile(lead: request.lead, document: $0).carried(to: request.phase) }
            ?? request.profile
        return withActivityText(assembled, asOf: request.requestedAt)
    }

    /// `profile` with its activity's plain text rendered from the posts, their ages as of `now`,
    /// when it has none: a phase result carries none (``PhasePayload``), so a profile put
    /// together from results lacks it until whoever writes a pool entry or asks a model renders it.
    public static func withActivityText(_ profile: EnrichedProfile, asOf now: Date) -> EnrichedProfile {
        guard let activity = profile.activity, activity.plainText.isEmpty, !activity.posts.isEmpty else { return profile }
        var rendered = profile
        rendered.activity?.plainText = ActivityBuilder.renderPlainText(activity.posts, now: now)
        return rendered
    }

    /// The whole profile of `lead` that `document` stands for. The coordinator uses it too, to
    /// put a running lead's profile together again from the results its state refers to.
    public static func profile(lead: LeadDiscovered, document: DocumentParts) -> EnrichedProfile {
        var profile: EnrichedProfile
        if let base = document.base {
            profile = base
            // A profile found adds a URL the base may lack.
            if let url = lead.linkedinProfile?.canonical { profile.linkedinURL = url }
            if let url = lead.xProfile?.canonical { profile.xURL = url }
        } else {
            profile = EnrichedProfile(startingRunOf: lead)  // with the lead's URLs
        }
        for output in document.outputs {
            profile = ProfileMerger.merge(output.payload, of: output.phase, into: profile)
        }
        profile.skippedPhases = document.skippedPhases
        if let web = document.web { profile.web = web }
        if let card = profile.scores { profile.scores = LeadOverridePolicy.applied(document.override, to: card) }
        return profile
    }
}
