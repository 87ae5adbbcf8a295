import Foundation
import LeadModel

/// A score card and what producing it costs.
public struct Evaluation: Sendable, Hashable {
    public var card: ScoreCard
    /// Paid calls made for it (a model call); the rules cost nothing.
    public var charges: [BillableCharge]

    public init(card: ScoreCard, charges: [BillableCharge] = []) {
        self.card = card
        self.charges = charges
    }
}

/// Scores a lead against an offer, the rules or a model behind the same call.
public protocol Scorer: Sendable {
    /// A short name written into each card, e.g. `rules-v1`.
    var name: String { get }

    /// Scores `profile` against `offer`. `source` is how the lead was found; `now` anchors recency.
    /// Never fails: a scorer that depends on a service falls back to the rules.
    func evaluate(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) async -> Evaluation
}

/// The rule-based scorer: transparent points per signal, every point with a reason.
///
/// **Fit** (0-100): industry 25 (a known mismatch takes 10 away), company size 20 (8 when within
/// a factor of two of the range), title 25, seniority 15, geography 10, skills 5 per match up to 10.
/// A criterion the ICP leaves empty gives half its points.
///
/// **Intent** (0-100): intent source 15; per recent post, weighted by recency (≤30 days ×1,
/// ≤90 ×0.6, ≤180 ×0.3): pain point 20 (cap 40), competitor mention 15 (cap 30), asking for
/// recommendations 20 and switching/alternatives 20 (together cap 40), custom keyword 10 (cap 20);
/// orbit: competitor engagement 10 per competitor (cap 20), adjacent vendor 3 (cap 6); orbit
/// clusters (``OrbitClusters``, recency weighted at their last interaction): competitor cluster 20,
/// other new cluster 10 (together cap 30).
///
/// **Timing** (0-100): current role started ≤90 days ago 35, ≤180 25, ≤365 12; newest post ≤14
/// days 25, ≤30 15, ≤90 5; hiring, funding, launch 15 each (recency weighted, cap 40).
///
/// **Buyer state**, first rule that applies: works at a competitor → poor fit, all scores zero;
/// builds the offer in-house → poor fit; intent ≥ 70 and fit ≥ 40 → active; fit < 30 → poor fit;
/// composite ≥ 60 and fit ≥ 40 → active; otherwise monitor.
public struct RuleBasedScorer: Scorer {
    /// `rules-v1`.
    public let name = "rules-v1"

    /// Posts older than this many days are ignored.
    public static let horizonDays = 180.0
    /// Intent at or above this with enough fit guarantees active.
    public static let activeIntent = 70
    /// Fit needed for active.
    public static let activeFit = 40
    /// Fit below this is poor fit.
    public static let poorFitBelow = 30
    /// Composite at or above this (with enough fit) is active.
    public static let activeComposite = 60

    /// Creates the scorer.
    public init() {}

    /// ``score(profile:offer:source:now:)``, which is pure and free.
    public func evaluate(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) async -> Evaluation {
        Evaluation(card: score(profile: profile, offer: offer, source: source, now: now))
    }

    /// See the type's documentation for the rules.
    public func score(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) -> ScoreCard {
        let detector = SignalDetector(offer: offer)
        let posts = (profile.activity?.posts ?? []).filter { Self.ageInDays($0.date, now: now) <= Self.horizonDays }
        let postSignals = detector.signals(in: posts)
        let orbitSignals = detector.signals(in: profile.activity?.orbit ?? [])

        let companyName = profile.company?.name ?? profile.linkedin?.company ?? ""
        if let competitor = detector.competitor(matching: companyName) {
            let reason = ScoreReason(signal: "works at competitor \(competitor)", points: 0)
            return ScoreCard(
                fit: 0, intent: 0, timing: 0, composite: 0, buyerState: .poorFit, fitReasons: [reason],
                intentReasons: [], timingReasons: [], stateReason: "employed by competitor \(competitor)",
                scorer: name, scoredAt: now)
        }

        let (fit, fitReasons) = Self.fit(profile: profile, icp: offer.icp)
        let (intent, intentReasons) = Self.intent(signals: postSignals + orbitSignals, clusters: OrbitClusters.clusters(of: profile.activity ?? .empty, now: now), source: source, now: now)
        let (timing, timingReasons) = Self.timing(profile: profile, posts: posts, signals: postSignals, now: now)
        let composite = Self.composite(fit: fit, intent: intent, timing: timing, likelihood: offer.signalLikelihood)

        let state: BuyerState
        let stateReason: String
        if let build = postSignals.first(where: { $0.kind == .inHouseBuild }) {
            state = .poorFit
            stateReason = "builds an in-house equivalent (\(build.detail))"
        } else if intent >= Self.activeIntent && fit >= Self.activeFit {
            state = .active
            stateReason = "intent \(intent) ≥ \(Self.activeIntent) with fit \(fit) ≥ \(Self.activeFit)"
        } else if fit < Self.poorFitBelow {
            state = .poorFit
            stateReason = "fit \(fit) < \(Self.poorFitBelow)"
        } else if composite >= Self.activeComposite && fit >= Self.activeFit {
            state = .active
            stateReason = "composite \(composite) ≥ \(Self.activeComposite) with fit \(fit) ≥ \(Self.activeFit)"
        } else {
            state = .monitor
            stateReason = "composite \(composite) below \(Self.activeComposite) or fit below \(Self.activeFit)"
        }
        return ScoreCard(
            fit: fit, intent: intent, timing: timing, composite: composite, buyerState: state, fitReasons: fitReasons,
            intentReasons: intentReasons, timingReasons: timingReasons, stateReason: stateReason, scorer: name,
            scoredAt: now)
    }

    /// The weighted composite (0-100) for the offer's signal likelihood.
    public static func composite(fit: Int, intent: Int, timing: Int, likelihood: SignalLikelihood) -> Int {
        let weights = likelihood.weights
        let value = weights.fit * Double(fit) + weights.intent * Double(intent) + weights.timing * Double(timing)
        return clamp(Int(value.rounded()))
    }

    /// Recency weight of evidence `days` old: 1 up to 30 days, 0.6 up to 90, 0.3 up to 180, then 0.
    public static func recencyWeight(ageInDays days: Double) -> Double {
        switch days {
        case ...30: 1.0
        case ...90: 0.6
        case ...horizonDays: 0.3
        default: 0
        }
    }

    // MARK: - Fit

    private static func fit(profile: EnrichedProfile, icp: IdealCustomerProfile) -> (Int, [ScoreReason]) {
        var reasons: [ScoreReason] = []
        let title = profile.linkedin?.jobTitle ?? ""
        let industry = profile.company?.industry

        if icp.industries.isEmpty {
            reasons.append(ScoreReason(signal: "no industry constraint", points: 12))
        } else if let industry {
            if let match = icp.industries.first(where: { SignalDetector.contains(industry, phrase: $0) || SignalDetector.contains($0, phrase: industry) }) {
                reasons.append(ScoreReason(signal: "industry \(industry) matches \(match)", points: 25))
            } else {
                reasons.append(ScoreReason(signal: "industry \(industry) is outside the ICP", points: -10))
            }
        }

        let hasSizeRange = icp.minimumEmployees != nil || icp.maximumEmployees != nil
        if !hasSizeRange {
            reasons.append(ScoreReason(signal: "no company size constraint", points: 10))
        } else if let employees = profile.company?.employeeCount {
            let low = icp.minimumEmployees ?? 0
            let high = icp.maximumEmployees ?? Int.max
            if (low...max(low, high)).contains(employees) {
                reasons.append(ScoreReason(signal: "\(employees) employees within \(sizeText(icp))", points: 20))
            } else if employees * 2 >= low && employees / 2 <= high {
                reasons.append(ScoreReason(signal: "\(employees) employees near \(sizeText(icp))", points: 8))
            }
        }

        if icp.titles.isEmpty {
            reasons.append(ScoreReason(signal: "no title constraint", points: 12))
        } else if let match = icp.titles.first(where: { SignalDetector.contains(title, phrase: $0) }) {
            reasons.append(ScoreReason(signal: "title \"\(title)\" matches \(match)", points: 25))
        }

        if icp.seniorities.isEmpty {
            reasons.append(ScoreReason(signal: "no seniority constraint", points: 7))
        } else if let seniority = Seniority.infer(fromTitle: title), icp.seniorities.contains(seniority) {
            reasons.append(ScoreReason(signal: "seniority \(seniority.rawValue)", points: 15))
        }

        let location = profile.linkedin?.location ?? ""
        if icp.locations.isEmpty {
            reasons.append(ScoreReason(signal: "no location constraint", points: 5))
        } else if let match = icp.locations.first(where: { SignalDetector.contains(location, phrase: $0) }) {
            reasons.append(ScoreReason(signal: "located in \(match)", points: 10))
        }

        let vocabulary = icp.painPoints + icp.customIntentKeywords + icp.titles
        let matchingSkills = (profile.linkedin?.skills ?? []).filter { skill in
            vocabulary.contains { SignalDetector.contains(skill, phrase: $0) || SignalDetector.contains($0, phrase: skill) }
        }
        if !matchingSkills.isEmpty {
            let points = min(10, 5 * matchingSkills.count)
            reasons.append(ScoreReason(signal: "skills \(matchingSkills.prefix(3).joined(separator: ", ")) match the ICP", points: points))
        }
        return (clamp(reasons.reduce(0) { $0 + $1.points }), reasons)
    }

    private static func sizeText(_ icp: IdealCustomerProfile) -> String {
        "\(icp.minimumEmployees.map(String.init) ?? "any")-\(icp.maximumEmployees.map(String.init) ?? "any")"
    }

    // MARK: - Intent

    private static func intent(
        signals: [SignalDetector.Signal], clusters: [OrbitCluster], source: LeadSource, now: Date
    ) -> (Int, [ScoreReason]) {
        var reasons: [ScoreReason] = []
        if source.isIntent {
            reasons.append(ScoreReason(signal: "found by \(source.rawValue)", points: 15))
        }
        // Per-kind points and caps; recommendation and switching share one cap.
        var used: [String: Int] = [:]
        func add(_ signal: SignalDetector.Signal, base: Int, cap: Int, bucket: String, text: String, source: String? = nil) {
            let weight = recencyWeight(ageInDays: ageInDays(signal.date, now: now))
            let room = cap - used[bucket, default: 0]
            let points = min(room, Int((Double(base) * weight).rounded()))
            guard points > 0 else { return }
            used[bucket, default: 0] += points
            reasons.append(ScoreReason(signal: "\(text) (\(ageText(signal.date, now: now)))", points: points, source: source))
        }
        for signal in signals {
            switch signal.kind {
            case .painPoint:
                add(signal, base: 20, cap: 40, bucket: "pain", text: "post mentions pain point \"\(signal.detail)\"")
            case .competitorMention:
                add(signal, base: 15, cap: 30, bucket: "competitor", text: "post mentions competitor \(signal.detail)")
            case .recommendationRequest:
                add(signal, base: 20, cap: 40, bucket: "asking", text: "post asks for recommendations (\"\(signal.detail)\")")
            case .switchingIntent:
                add(signal, base: 20, cap: 40, bucket: "asking", text: "post talks about switching (\"\(signal.detail)\")")
            case .customKeyword:
                add(signal, base: 10, cap: 20, bucket: "keyword", text: "post contains keyword \"\(signal.detail)\"")
            case .competitorEngagement:
                add(signal, base: 10, cap: 20, bucket: "orbit-competitor", text: "engages with competitor \(signal.detail) (\(signal.count) interactions)")
            case .adjacentEngagement:
                add(signal, base: 3, cap: 6, bucket: "orbit-adjacent", text: "engages with adjacent vendor \(signal.detail)")
            case .hiring, .funding, .productLaunch, .inHouseBuild, .orbitCluster, .competitorCluster:
                break
            }
        }
        // Clusters in their own bucket, strongest first, so one never takes points from another signal.
        for cluster in clusters.sorted(by: OrbitClusters.isStronger) {
            guard let kind = SignalDetector.kind(of: cluster) else { continue }
            let names = OrbitClusters.listedNames(of: cluster)
            let velocity = String(format: "%.1f", cluster.velocityPerWeek)
            let competitor = cluster.hasCompetitor ? ", a competitor among them" : ""
            let new = cluster.isNew ? ", new in the last \(OrbitClusters.windowDays) days" : ""
            add(SignalDetector.Signal(kind: kind, detail: names, date: cluster.lastSeen, count: cluster.interactionCount),
                base: kind == .competitorCluster ? 20 : 10, cap: 30, bucket: "orbit-cluster",
                text: "engages with \(names) together\(competitor), \(velocity) interactions a week\(new)", source: "activity")
        }
        return (clamp(reasons.reduce(0) { $0 + $1.points }), reasons)
    }

    // MARK: - Timing

    private static func timing(
        profile: EnrichedProfile, posts: [Post], signals: [SignalDetector.Signal], now: Date
    ) -> (Int, [ScoreReason]) {
        var reasons: [ScoreReason] = []
        if let current = profile.linkedin?.currentExperience, let start = current.startDate {
            let days = ageInDays(start, now: now)
            let points = days <= 90 ? 35 : days <= 180 ? 25 : days <= 365 ? 12 : 0
            if points > 0 {
                reasons.append(ScoreReason(signal: "started as \(current.title) \(Int(days)) days ago", points: points))
            }
        }
        if let newest = posts.map(\.date).max() {
            let days = ageInDays(newest, now: now)
            let points = days <= 14 ? 25 : days <= 30 ? 15 : days <= 90 ? 5 : 0
            if points > 0 {
                reasons.append(ScoreReason(signal: "recent engagement: last post \(ageText(newest, now: now))", points: points))
            }
        }
        var eventPoints = 0
        var seenKinds: Set<SignalDetector.Kind> = []
        for signal in signals where [.hiring, .funding, .productLaunch].contains(signal.kind) {
            guard !seenKinds.contains(signal.kind) else { continue }
            seenKinds.insert(signal.kind)
            let points = min(40 - eventPoints, Int((15 * recencyWeight(ageInDays: ageInDays(signal.date, now: now))).rounded()))
            guard points > 0 else { continue }
            eventPoints += points
            reasons.append(ScoreReason(signal: "\(signal.kind.rawValue) (\"\(signal.detail)\", \(ageText(signal.date, now: now)))", points: points))
        }
        return (clamp(reasons.reduce(0) { $0 + $1.points }), reasons)
    }

    // MARK: - Helpers

    static func ageInDays(_ date: Date, now: Date) -> Double {
        max(0, now.timeIntervalSince(date) / 86_400)
    }

    private static func ageText(_ date: Date, now: Date) -> String {
        let days = Int(ageInDays(date, now: now))
        return days == 0 ? "today" : days == 1 ? "1 day ago" : "\(days) days ago"
    }

    private static func clamp(_ value: Int) -> Int { min(100, max(0, value)) }
}

/// Whether a scored lead qualifies for automatic sequence enrollment.
public enum AutopilotCheck {
    /// The verdict with its reasons.
    public struct Decision: Hashable, Sendable {
        /// Whether to enroll.
        public var isEligible: Bool
        /// Why (every rule checked, passed or failed).
        public var reasons: [String]
    }

    /// Checks `card` against the account's rule. Not eligible when autopilot is off or missing,
    /// billing is paused, the buyer state is not the required one, or a minimum is not met.
    public static func evaluate(account: AccountConfig, card: ScoreCard) -> Decision {
        guard let rule = account.autopilot, rule.isEnabled else {
            return Decision(isEligible: false, reasons: ["autopilot is off for the account"])
        }
        var reasons: [String] = []
        var isEligible = true
        func check(_ passed: Bool, _ text: String) {
            reasons.append((passed ? "passed: " : "failed: ") + text)
            isEligible = isEligible && passed
        }
        check(account.billingState == .active, "billing is \(account.billingState.rawValue)")
        check(card.buyerState == rule.requiredBuyerState, "buyer state \(card.buyerState.rawValue), required \(rule.requiredBuyerState.rawValue)")
        check(card.fit >= rule.minimumFit, "fit \(card.fit), minimum \(rule.minimumFit)")
        check(card.intent >= rule.minimumIntent, "intent \(card.intent), minimum \(rule.minimumIntent)")
        return Decision(isEligible: isEligible, reasons: reasons)
    }

    /// The enrollment record for an eligible lead; nil when not eligible.
    public static func enrollment(
        account: AccountConfig, card: ScoreCard, leadID: LeadID, runID: RunID, offerID: OfferID, at: Date
    ) -> AutopilotEnrollment? {
        let decision = evaluate(account: account, card: card)
        guard decision.isEligible else { return nil }
        return AutopilotEnrollment(
            leadID: leadID, runID: runID, accountID: account.accountID, offerID: offerID, fit: card.fit,
            intent: card.intent, buyerState: card.buyerState, reasons: decision.reasons, enrolledAt: at)
    }
}
