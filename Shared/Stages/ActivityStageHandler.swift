import Foundation
import LeadModel
import LeadRules
import Runtime

/// The activity phase: recent posts and the interaction orbit, from LinkedIn (preferred) or X.
///
/// - The query carries both handles; the provider uses LinkedIn when there is one, else X.
///   Posts since the horizon (``ActivityBuilder/horizonDays``) are asked for; the ``Activity`` is
///   built by ``ActivityBuilder`` with the competitors of the lead's offer (unknown offer after
///   the offers table caught up, as for an offer deleted since: none).
/// - Failure is non-fatal. Policy:
///   - a retriable provider error (rate limit, timeout, out of credits: the platform's vendor
///     contract, which never pauses the customer's account) on an attempt below
///     ``retriableAttempts`` → the phase fails retriably, so the coordinator retries it with backoff;
///   - any other error, or a retriable one from attempt ``retriableAttempts`` on → the phase
///     completes with `activityOutcome` failed (reason, whether retriable) and no activity: the
///     lead goes on to scoring without it;
///   - no LinkedIn or X URL → completed with `activityOutcome` skipped.
/// - Charges: one `activity` unit per successful provider call.
/// - Stopping: the provider's waits (a rate limiter's slot, a simulated call's latency) end when
///   the request's shutdown begins (``handle(_:stoppingOn:)``), and the request is handed back
///   unanswered. A provider call under way runs on.
/// - Size: with an output budget (a quarter of MAX_RECORD_BYTES in the service), the activity
///   keeps its newest posts and its orbit's competitors, other vendors, then people within about
///   that many bytes (``ActivityBuilder/bounded(_:toAbout:now:)``), what it left out named in
///   the payload's `omitted`, which the pool entry repeats. The requests and the pool entry that
///   carry it beside the profile then fit too. Without a budget, an activity above the bound was
///   dead-lettered on every attempt, each one charged, and the lead went on without any.
public struct ActivityStageHandler: PhaseHandler {
    /// ``Phase/activity``.
    public let phase = Phase.activity
    /// The provider name charged for an activity fetch.
    public static let activityProvider = "activity"
    /// Attempts below this fail retriably on a retriable error; the default, 3, gives the
    /// coordinator two retries before the lead moves on without activity.
    public static let defaultRetriableAttempts = 3

    private let provider: any ActivityProvider
    private let offers: @Sendable (OfferID) async -> OfferConfig?
    private let retriableAttempts: Int
    private let outputBudget: Int?
    private let logger: Logger?
    private let service: String
    private let now: @Sendable () -> Date

    /// Creates the handler.
    /// - Parameters:
    ///   - offers: looks an offer up (the offers table, caught up first when the offer is
    ///     missing); nil when unknown.
    ///   - retriableAttempts: see the type's documentation.
    ///   - outputBudget: about how many bytes of JSON the activity may take (see the type's
    ///     documentation); nil: no bound.
    ///   - logger: says when an activity is bounded.
    public init(
        provider: any ActivityProvider, offers: @escaping @Sendable (OfferID) async -> OfferConfig?,
        retriableAttempts: Int = ActivityStageHandler.defaultRetriableAttempts, outputBudget: Int? = nil, logger: Logger? = nil,
        service: String = "activity-stage", now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.provider = provider
        self.offers = offers
        self.retriableAttempts = retriableAttempts
        self.outputBudget = outputBudget
        self.logger = logger
        self.service = service
        self.now = now
    }

    /// See the type's documentation.
    public func handle(_ request: PhaseRequest) async -> StageOutput {
        await handleUnstopped(request)
    }

    /// See the type's documentation; nil when `stop` ended the provider's wait.
    public func handle(_ request: PhaseRequest, stoppingOn stop: GracefulShutdown) async -> StageOutput? {
        let start = now()
        let linkedin = request.lead.linkedinProfile ?? request.profile.linkedinURL.flatMap { try? ProfileURL.linkedin($0).get() }
        let x = request.lead.xProfile ?? request.profile.xURL.flatMap { try? ProfileURL.x($0).get() }
        guard linkedin != nil || x != nil else {
            return output(request, .completed, PhasePayload(activityOutcome: .skipped(reason: "no LinkedIn or X profile URL")))
        }
        let offer = await offers(request.offerID)
        let query = ActivityQuery(
            leadID: request.leadID, linkedinHandle: linkedin?.handle, xUsername: x?.handle,
            since: start.addingTimeInterval(-Double(ActivityBuilder.horizonDays) * 86_400),
            offerVocabulary: offer.map(OfferVocabulary.init(offer:)))
        let fetched = await stop.bindingCurrent { () -> Result<RawActivity, ProviderError> in
            do throws(ProviderError) {
                return .success(try await provider.fetchActivity(query, attempt: request.attempt))
            } catch {
                return .failure(error)
            }
        }
        do throws(ProviderError) {
            let raw = try fetched.get()
            let competitors = offer?.icp.competitors ?? []
            // No plain text: the result does not carry it (``PhasePayload``).
            let builtAt = now()
            var activity = ActivityBuilder.build(raw: raw, competitors: competitors, now: builtAt, withText: false)
            var omitted: [String] = []
            if let outputBudget {
                let bounded = ActivityBuilder.bounded(activity, toAbout: outputBudget, now: builtAt)
                if bounded.postsLeftOut > 0 {
                    omitted = FittedProfile.omitting(oldestPosts: bounded.postsLeftOut, of: activity.posts.count, after: [])
                }
                if bounded.orbitLeftOut > 0 {
                    omitted.append("activity.orbit: \(bounded.orbitLeftOut) of \(activity.orbit.count) targets, people before vendors")
                }
                activity = bounded.activity
                if bounded.postsLeftOut + bounded.orbitLeftOut > 0 {
                    logger?.info("activity above its output budget (\(outputBudget) bytes): left out the \(bounded.postsLeftOut) oldest posts and \(bounded.orbitLeftOut) orbit targets (people before vendors)", [
                        LogKey.leadID: request.leadID.rawValue,
                    ])
                }
            }
            return output(
                request, .completed,
                PhasePayload(activity: activity, activityOutcome: .succeeded, omitted: omitted.isEmpty ? nil : omitted),
                charges: [BillableCharge(provider: Self.activityProvider, units: 1)])
        } catch {
            if case .cancelled = error, stop.hasBegun { return nil }
            let failed = PlatformOutcome.failed(reason: error.description, isRetriable: error.isRetriable)
            if error.isRetriable && request.attempt < retriableAttempts {
                return output(
                    request, .failed(reason: "activity: \(error.description)", isRetriable: true),
                    PhasePayload(activityOutcome: failed))
            }
            return output(request, .completed, PhasePayload(activityOutcome: failed))
        }
    }

    private func output(
        _ request: PhaseRequest, _ outcome: PhaseOutcome, _ payload: PhasePayload, charges: [BillableCharge] = []
    ) -> StageOutput {
        StageOutput(
            result: PhaseResult(
                answering: request, outcome: outcome, payload: payload, charges: charges, finishedAt: now(), service: service))
    }
}
