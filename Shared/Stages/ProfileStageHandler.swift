import Foundation
import JSONCodec
import LeadModel
import LeadRules
import Runtime

/// The profile phase: LinkedIn and X enrichment, concurrently.
///
/// - A platform is fetched only when the request's `platforms` lists it and the lead has a valid
///   URL for it. Listed without a URL (or not listed and the lead has no URL): its outcome is
///   `skipped`. Not listed but the lead has a URL (a re-enrich of the other platform): no outcome,
///   so the lead keeps what an earlier run recorded.
/// - The two calls run concurrently and independently: one failing never blocks the other.
/// - Outcome of the phase: completed when at least one platform succeeded, or when no failure is
///   retriable (not found, permanent errors, nothing to fetch); failed and retriable when nothing
///   succeeded and some failure is retriable, so the coordinator retries the phase. The payload
///   always carries the per-platform outcomes.
/// - Charges: one unit per successful provider call (`linkedin`, `x`); with a vendor waterfall,
///   one unit per vendor whose fields the profile kept (`pdl`, `apollo`: what the platform's vendor
///   credits went to). A miss or an error costs nothing.
/// - A provider out of credits is a retriable failed platform outcome with that reason, like a
///   rate limit: the vendor contract is the platform's, so it never pauses the customer's account.
/// - Stopping: the providers' waits (a rate limiter's slot, a simulated call's latency) end when
///   the request's shutdown begins (``handle(_:stoppingOn:)``); a platform cut short so hands
///   the request back, and nothing of it is written. A provider call under way runs on.
/// - Size: with an output budget (a quarter of MAX_RECORD_BYTES in the service), an output above
///   it loses its LinkedIn lists, then the end of its longest texts
///   (``ProfilePhaseOutput/bounded(toAbout:size:)``), named in the payload's `omitted`, which the
///   pool entry repeats. A provider's answer has no bound of its own: without one, a result above
///   MAX_RECORD_BYTES was dead-lettered on every attempt, each one charged, and the lead went on
///   without a profile.
public struct ProfileStageHandler: PhaseHandler {
    /// ``Phase/profile``.
    public let phase = Phase.profile
    /// The provider name charged for a LinkedIn match.
    public static let linkedinProvider = "linkedin"
    /// The provider name charged for an X match.
    public static let xProvider = "x"

    private let linkedin: any LinkedInProvider
    private let x: any XProvider
    private let outputBudget: Int?
    private let logger: Logger?
    private let service: String
    private let now: @Sendable () -> Date

    /// Creates the handler.
    /// - Parameters:
    ///   - outputBudget: about how many bytes of JSON the output may take (see the type's
    ///     documentation); nil: no bound.
    ///   - logger: says when an output is bounded.
    ///   - service: written into each result.
    ///   - now: the clock for `finishedAt`.
    public init(
        linkedin: any LinkedInProvider, x: any XProvider, outputBudget: Int? = nil, logger: Logger? = nil,
        service: String = "profile-stage", now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.linkedin = linkedin
        self.x = x
        self.outputBudget = outputBudget
        self.logger = logger
        self.service = service
        self.now = now
    }

    /// See the type's documentation.
    public func handle(_ request: PhaseRequest) async -> StageOutput {
        await handleUnstopped(request)
    }

    /// See the type's documentation; nil when `stop` ended a provider's wait.
    public func handle(_ request: PhaseRequest, stoppingOn stop: GracefulShutdown) async -> StageOutput? {
        let linkedinPlan = Self.plan(.linkedin, request: request)
        let xPlan = Self.plan(.x, request: request)
        let lead = LeadIdentity(leadID: request.leadID, name: request.lead.name)
        let (linkedinResult, xResult) = await stop.bindingCurrent {
            async let linkedinFetch = fetchLinkedIn(linkedinPlan, lead: lead, attempt: request.attempt)
            async let xFetch = fetchX(xPlan, lead: lead, attempt: request.attempt)
            return await (linkedinFetch, xFetch)
        }
        // The other platform's answer is not written either: the next owner asks both again.
        if stop.hasBegun && (linkedinResult.wasCancelled || xResult.wasCancelled) { return nil }

        var output = ProfilePhaseOutput(
            linkedin: linkedinResult.value?.profile, x: xResult.value, company: linkedinResult.value?.company,
            linkedinOutcome: linkedinResult.outcome, xOutcome: xResult.outcome)
        var omitted: [String] = []
        if let outputBudget {
            (output, omitted) = output.bounded(toAbout: outputBudget) { (try? JSONStreamEncoder.encode($0).count) ?? .max }
            if !omitted.isEmpty {
                logger?.warning("profile above its output budget (\(outputBudget) bytes); left out: \(omitted.joined(separator: "; "))", [
                    LogKey.leadID: request.leadID.rawValue,
                ])
            }
        }
        var charges: [BillableCharge] = []
        if let enrichment = linkedinResult.value {
            // A vendor waterfall's answer charges each vendor whose fields were kept; another
            // provider's, `linkedin`.
            let vendors = VendorWaterfall.chargeableVendors(enrichment)
            for vendor in vendors.isEmpty ? [Self.linkedinProvider] : vendors {
                charges.append(BillableCharge(provider: vendor, units: 1))
            }
        }
        if xResult.value != nil { charges.append(BillableCharge(provider: Self.xProvider, units: 1)) }
        let outcome = Self.phaseOutcome(linkedin: linkedinResult.outcome, x: xResult.outcome)
        let result = PhaseResult(
            answering: request, outcome: outcome, payload: PhasePayload(profile: output, omitted: omitted.isEmpty ? nil : omitted),
            charges: charges,
            finishedAt: now(), service: service)
        return StageOutput(result: result)
    }

    /// The phase outcome from the platform outcomes (see the type's documentation).
    public static func phaseOutcome(linkedin: PlatformOutcome?, x: PlatformOutcome?) -> PhaseOutcome {
        let outcomes = [(Platform.linkedin, linkedin), (Platform.x, x)].compactMap { platform, outcome in
            outcome.map { (platform, $0) }
        }
        if outcomes.contains(where: { $0.1 == .succeeded }) { return .completed }
        let retriable = outcomes.compactMap { platform, outcome -> String? in
            if case .failed(let reason, true) = outcome { return "\(platform.displayName): \(reason)" }
            return nil
        }
        guard !retriable.isEmpty else { return .completed }
        return .failed(reason: retriable.joined(separator: "; "), isRetriable: true)
    }

    // MARK: - Per platform

    /// What to do for one platform.
    enum Plan: Equatable {
        /// Call the provider with this handle.
        case fetch(String)
        /// Record a skip with this reason.
        case skip(String)
        /// Leave the platform alone (no outcome).
        case leave
    }

    static func plan(_ platform: Platform, request: PhaseRequest) -> Plan {
        let url: ProfileURL?
        switch platform {
        case .linkedin:
            url = request.lead.linkedinProfile ?? request.profile.linkedinURL.flatMap { try? ProfileURL.linkedin($0).get() }
        case .x:
            url = request.lead.xProfile ?? request.profile.xURL.flatMap { try? ProfileURL.x($0).get() }
        }
        guard let url else { return .skip("no \(platform.displayName) profile URL") }
        return request.platforms.contains(platform) ? .fetch(url.handle) : .leave
    }

    /// A platform's data (when fetched) and outcome (nil when left alone).
    struct Fetched<Value: Sendable>: Sendable {
        var value: Value?
        var outcome: PlatformOutcome?
        /// The provider's wait was cut short (``ProviderError/cancelled``).
        var wasCancelled = false

        static func failure(_ error: ProviderError) -> Fetched {
            var failed = Fetched(value: nil, outcome: .failed(reason: error.description, isRetriable: error.isRetriable))
            if case .cancelled = error { failed.wasCancelled = true }
            return failed
        }
    }

    private func fetchLinkedIn(_ plan: Plan, lead: LeadIdentity, attempt: Int) async -> Fetched<LinkedInEnrichment> {
        switch plan {
        case .leave: return Fetched(value: nil, outcome: nil)
        case .skip(let reason): return Fetched(value: nil, outcome: .skipped(reason: reason))
        case .fetch(let handle):
            do {
                return Fetched(value: try await linkedin.fetchProfile(handle: handle, lead: lead, attempt: attempt), outcome: .succeeded)
            } catch {
                return .failure(error)
            }
        }
    }

    private func fetchX(_ plan: Plan, lead: LeadIdentity, attempt: Int) async -> Fetched<XProfile> {
        switch plan {
        case .leave: return Fetched(value: nil, outcome: nil)
        case .skip(let reason): return Fetched(value: nil, outcome: .skipped(reason: reason))
        case .fetch(let username):
            do {
                return Fetched(value: try await x.fetchProfile(username: username, lead: lead, attempt: attempt), outcome: .succeeded)
            } catch {
                return .failure(error)
            }
        }
    }
}

extension Platform {
    /// `LinkedIn` or `X`.
    var displayName: String {
        switch self {
        case .linkedin: "LinkedIn"
        case .x: "X"
        }
    }
}
