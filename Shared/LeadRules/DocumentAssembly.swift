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
    /// Its activity's plain text is rendered as of the request (``withActivityText(_:asOf:)``)
    /// unless `withActivityText` is false: for a stage that does not read it.
    public static func profile(of request: PhaseRequest, withActivityText: Bool = true) -> EnrichedProfile {
        let assembled = request.document.map { profile(lead: request.lead, document: $0, at: request.requestedAt).carried(to: request.phase) }
            ?? request.profile
        return withActivityText ? Self.withActivityText(assembled, asOf: request.requestedAt) : assembled
    }

    /// What the profile `request` stands for lacks, as a pool entry's `omitted` says it: what
    /// the lead's earlier records said (``DocumentParts/omitted``), then what the stages left out
    /// of this run's outputs (``PhasePayload/omitted``); nil when nothing.
    public static func omitted(of request: PhaseRequest) -> [String]? {
        guard let document = request.document else { return nil }
        return omitted(outputs: document.outputs, after: document.omitted)
    }

    /// `earlier` and what `outputs` left out (``PhasePayload/omitted``), in order: an output
    /// first forgets what it gives again (an activity output the activity's parts), and posts
    /// left out of one activity at several steps are said once, of all there were; nil when
    /// nothing. An output that cannot be read adds nothing.
    public static func omitted(outputs: [PhaseOutput], after earlier: [String]?) -> [String]? {
        var omitted = earlier ?? []
        for output in outputs {
            // Most outputs left nothing out, and a lead's records nothing either: not read then.
            if omitted.isEmpty && firstByteIndex(of: omittedMember, in: output.payload.bytes, from: 0) == nil { continue }
            guard let payload = try? output.decodedPayload() else { continue }
            omitted = FittedProfile.forgetting(omitted, replacedBy: payload, of: output.phase)
            for part in payload.omitted ?? [] { omitted = FittedProfile.omitting(part, after: omitted) }
        }
        return omitted.isEmpty ? nil : omitted
    }

    private static let omittedMember = Array(#""omitted""#.utf8)

    /// `profile` with its activity's plain text rendered from the posts, their ages as of `now`,
    /// when it has none: a phase result carries none (``PhasePayload``), so a profile put
    /// together from results lacks it until whoever writes a pool entry or asks a model renders it.
    public static func withActivityText(_ profile: EnrichedProfile, asOf now: Date) -> EnrichedProfile {
        guard let activity = profile.activity, activity.plainText.isEmpty, !activity.posts.isEmpty else { return profile }
        var rendered = profile
        rendered.activity?.plainText = ActivityBuilder.renderPlainText(activity.posts, now: now)
        return rendered
    }

    /// The whole profile of `lead` that `document` stands for. The coordinator's state machine
    /// uses it too, when it needs a lead's profile whole. An output whose payload cannot be read
    /// (a stage wrote what this version does not understand) is left out and its phase listed
    /// as skipped at `at`, with the reason, so the lead's entry says what it lacks.
    public static func profile(lead: LeadDiscovered, document: DocumentParts, at: Date) -> EnrichedProfile {
        var profile: EnrichedProfile
        if let base = document.base {
            profile = base
            // A profile found adds a URL the base may lack.
            if let url = lead.linkedinProfile?.canonical { profile.linkedinURL = url }
            if let url = lead.xProfile?.canonical { profile.xURL = url }
        } else {
            profile = EnrichedProfile(startingRunOf: lead)  // with the lead's URLs
        }
        var unreadable: [PhaseSkip] = []
        for output in document.outputs {
            do {
                profile = ProfileMerger.merge(try output.decodedPayload(), of: output.phase, into: profile)
            } catch {
                let skip = PhaseSkip(phase: output.phase, reason: "its output could not be read: \(error)", at: at)
                if !document.skippedPhases.contains(where: { $0.phase == skip.phase && $0.reason == skip.reason }) { unreadable.append(skip) }
            }
        }
        profile.skippedPhases = document.skippedPhases + unreadable
        if let web = document.web { profile.web = web }
        if let card = profile.scores { profile.scores = LeadOverridePolicy.applied(document.override, to: card) }
        return profile
    }
}

extension LeadState {
    /// The lead's profile whole: ``LeadState/profile`` when it is put together
    /// (``LeadState/isProfileLoaded``), else put together from what the run started from and the
    /// outputs the state holds (``LeadState/runOutputs``), `override` on the card. An output that
    /// cannot be read is listed as skipped as of `at`.
    public func wholeProfile(override: LeadOverride? = nil, at: Date) -> EnrichedProfile {
        guard !isProfileLoaded else { return profile }
        return DocumentAssembly.profile(lead: lead, document: DocumentParts(
            base: runBase, outputs: runOutputs, skippedPhases: profile.skippedPhases, web: profile.web, override: override), at: at)
    }
}
