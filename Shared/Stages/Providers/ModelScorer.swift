import Foundation
import JSONCodec
import LeadModel
import LeadRules
import Runtime

/// Scores a lead with a language model behind an OpenAI-compatible endpoint, falling back to
/// ``RuleBasedScorer`` whenever the model does not give a valid answer.
///
/// - Request: `POST {base}/v1/chat/completions` with the model name, `temperature` 0, `max_tokens`
///   ``maxAnswerTokens``,
///   `response_format: {"type": "json_object"}`, a system message stating the reply schema and a
///   user message holding the offer and the lead as JSON (activity text cut to
///   ``maxActivityCharacters``).
/// - Reply: `choices[0].message.content` must be one JSON object (a surrounding ```json fence is
///   tolerated) with `fit`, `intent`, `timing` (whole numbers 0...100), `buyer_state` (`active`,
///   `monitor`, `poor-fit` or `disqualified`), optional `fit_reasons` / `intent_reasons` /
///   `timing_reasons` (arrays of `{"signal": text, "points": -100...100}` or plain strings) and
///   `state_reason`. The composite is computed here with the offer's weights
///   (``RuleBasedScorer/composite(fit:intent:timing:likelihood:)``).
/// - Fallback: any provider error (timeout, 5xx, 429, 401…), an unreadable reply or a value out
///   of range → the rules score the lead; the card's `scorer` is then `rules-v2` and its
///   `stateReason` ends with `(model unavailable: <why>)`. A card from the model has `scorer`
///   `model:<name>`.
/// - The published rules hold: a lead employed by a competitor gets the rules' zeroed poor-fit
///   card without a model call; a model's `monitor` with intent 70+ and fit 40+ is `active`.
public struct ModelScorer: Sendable {
    /// What one scoring produced.
    public struct Scoring: Sendable, Hashable {
        /// The card.
        public var card: ScoreCard
        /// Why the rules scored instead of the model; nil when the model's card was used.
        public var fallbackReason: String?
        /// The competitor the lead works for, when that rule decided the card.
        public var competitorEmployer: String? = nil
        /// What the profile says about fit, as the competitor check or the rules read it.
        public var evidence: FitEvidence? = nil
        /// The activity's signals, when the rules scored and read all of it (``Evaluation/activitySignals``).
        public var activitySignals: ActivitySignals? = nil
        /// Whether the model produced ``card`` (a billable model call).
        public var isFromModel: Bool { fallbackReason == nil }
    }

    /// Activity text sent to the model is cut to this many characters.
    public static let maxActivityCharacters = 6_000
    /// Buyer states a model may choose.
    public static let allowedStates: [BuyerState] = [.active, .monitor, .poorFit, .disqualified]
    /// The most tokens the model may answer with (`max_tokens`): the answer is one small JSON
    /// object, and a model that loops would otherwise write, and be paid for, until its own limit.
    public static let maxAnswerTokens = 1_000

    /// The HTTP client (host, key, timeout).
    public let client: ProviderHTTPClient
    /// The model name sent with each request.
    public let model: String
    /// The scorer used when the model fails.
    public let fallback: RuleBasedScorer
    private let logger: Logger

    /// The `scorer` name on cards the model produced: `model:<name>`.
    public var name: String { "model:\(model)" }

    /// Creates the scorer.
    public init(client: ProviderHTTPClient, model: String, fallback: RuleBasedScorer = RuleBasedScorer(), logger: Logger) {
        self.client = client
        self.model = model
        self.fallback = fallback
        self.logger = logger
    }

    /// Scores `profile` against `offer` (see the type's documentation). Never fails.
    public func score(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) async -> Scoring {
        // A published rule, not a judgement: decided without asking (or paying) the model.
        let evidence = FitEvidence(profile: profile)
        if let (card, competitor) = fallback.competitorEmployee(profile: profile, evidence: evidence, offer: offer, now: now) {
            return Scoring(card: card, fallbackReason: "employed by a competitor: scored by the rules", competitorEmployer: competitor,
                           evidence: evidence)
        }
        do {
            let body = try makeRequestBody(profile: profile, offer: offer, source: source, now: now)
            let reply = try await client.send("POST", path: ["v1", "chat", "completions"], body: body)
            let card = try parse(reply.body, offer: offer, now: now)
            return Scoring(card: card, fallbackReason: nil, evidence: evidence)
        } catch {
            let reason = (error as? ProviderError)?.description ?? "\(error)"
            logger.log(.warning, "model scoring failed; scored by rules", [LogKey.leadID: profile.leadID.rawValue, LogKey.error: reason])
            let rules = await fallback.evaluate(profile: profile, offer: offer, source: source, now: now)
            var card = rules.card
            card.stateReason += " (model unavailable: \(reason))"
            return Scoring(card: card, fallbackReason: reason, competitorEmployer: rules.competitorEmployer, evidence: rules.evidence,
                           activitySignals: rules.activitySignals)
        }
    }

    // MARK: - Request

    private struct ChatRequest: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }
        struct ResponseFormat: Encodable {
            var type = "json_object"
        }
        var model: String
        var messages: [Message]
        var temperature = 0.0
        var max_tokens = ModelScorer.maxAnswerTokens
        var response_format = ResponseFormat()
    }

    private struct LeadView: Encodable {
        var name: String
        var linkedin: LinkedInProfile?
        var x: XProfile?
        var company: Company?
        var recentPosts: String
        /// The orbit's first 30 targets, each name and handle shortened to
        /// ``SignalDetector/maxOrbitDetailLength``, as a card quotes them.
        var orbit: [OrbitTarget]
        /// Targets engaged together recently (``OrbitClusters``), strongest first: the 10 strongest.
        var orbitClusters: [ClusterView]
        var foundBy: String
        var foundByIntentSearch: Bool
        var today: String
    }

    /// An orbit cluster as the prompt shows it: its accounts named within
    /// ``SignalDetector/maxOrbitDetailLength`` scalars (``OrbitClusters/listedNames(of:)``:
    /// "Apollo, Outreach and 38 others"), however many they are, and how many there are.
    private struct ClusterView: Encodable {
        /// The names that fit and how many others.
        var accounts: String
        /// How many accounts the cluster holds, however many ``accounts`` names.
        var accountCount: Int
        var hasCompetitor, isNew: Bool
        var interactionCount: Int
        var velocityPerWeek: Double
        var firstSeen, lastSeen: Date

        /// `cluster` as the prompt shows it.
        static func of(_ cluster: OrbitCluster) -> ClusterView {
            ClusterView(
                accounts: OrbitClusters.listedNames(of: cluster), accountCount: cluster.handles.count, hasCompetitor: cluster.hasCompetitor,
                isNew: cluster.isNew, interactionCount: cluster.interactionCount, velocityPerWeek: cluster.velocityPerWeek,
                firstSeen: cluster.firstSeen, lastSeen: cluster.lastSeen)
        }
    }

    private struct OfferView: Encodable {
        var name: String
        var productKeywords: [String]
        var idealCustomerProfile: IdealCustomerProfile
    }

    static let instructions = """
        You score sales leads against an offer. Answer with one JSON object and nothing else:
        {"fit": 0-100, "intent": 0-100, "timing": 0-100,
         "buyer_state": "active" | "monitor" | "poor-fit" | "disqualified",
         "fit_reasons": [{"signal": "...", "points": n}], "intent_reasons": [...], "timing_reasons": [...],
         "state_reason": "..."}
        Fit: industry, company size, role and seniority, geography, skills against the ideal customer profile.
        Intent: asking for recommendations, complaining about or switching from a tool, competitor mentions,
        pain points of the offer, competitor engagement, the offer's custom keywords, orbit clusters (accounts
        engaged together recently: a new cluster is intent, a competitor cluster the strongest, higher
        velocity more). Recent signals weigh more.
        Timing: job change, role tenure, funding, launches, hiring, recent engagement.
        A lead working at a competitor, or building the offer in-house, is poor-fit.
        Active means ready for outreach now (intent 70+ with fit 40+ is always active).
        """

    func makeRequestBody(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let text = DocumentAssembly.withActivityText(profile, asOf: now).activity?.plainText ?? ""  // rendered when the profile has none
        let lead = LeadView(
            name: profile.name, linkedin: profile.linkedin, x: profile.x, company: profile.company,
            recentPosts: String(text.prefix(Self.maxActivityCharacters)),
            orbit: (profile.activity?.orbit ?? []).prefix(30).map { target in
                var shown = target
                shown.name = target.name.shortened(toScalars: SignalDetector.maxOrbitDetailLength)
                shown.handle = target.handle.shortened(toScalars: SignalDetector.maxOrbitDetailLength)
                return shown
            },
            orbitClusters: OrbitClusters.clusters(of: profile.activity ?? .empty, now: now).prefix(10).map(ClusterView.of),
            foundBy: source.rawValue, foundByIntentSearch: source.isIntent, today: String(ISO8601.format(now).prefix(10)))
        let offerView = OfferView(name: offer.name, productKeywords: offer.productKeywords, idealCustomerProfile: offer.icp)
        let user = "Offer:\n\(String(decoding: try encoder.encode(offerView), as: UTF8.self))\n\nLead:\n\(String(decoding: try encoder.encode(lead), as: UTF8.self))"
        return try encoder.encode(
            ChatRequest(model: model, messages: [.init(role: "system", content: Self.instructions), .init(role: "user", content: user)]))
    }

    // MARK: - Reply

    /// Why a model reply was not used.
    public struct InvalidReply: Error, CustomStringConvertible, Hashable {
        /// What was wrong.
        public let description: String
    }

    private struct ChatReply: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable {
                var content: String?
            }
            var message: Message?
        }
        var choices: [Choice]?
    }

    /// The card in a chat-completions reply body, validated.
    func parse(_ body: Data, offer: OfferConfig, now: Date) throws(InvalidReply) -> ScoreCard {
        guard let reply = try? JSONDecoder().decode(ChatReply.self, from: body) else {
            throw InvalidReply(description: "the reply is not a chat completion")
        }
        guard let content = reply.choices?.first?.message?.content else { throw InvalidReply(description: "the reply has no message content") }
        var text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("```") {
            text = text.drop(while: { $0 != "\n" }).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.hasSuffix("```") { text = String(text.dropLast(3)).trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw InvalidReply(description: "the message is not a JSON object")
        }
        let fit = try Self.score(object, "fit")
        let intent = try Self.score(object, "intent")
        let timing = try Self.score(object, "timing")
        guard let stateText = object["buyer_state"] as? String else { throw InvalidReply(description: "buyer_state is missing") }
        let normalized = stateText.lowercased().replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: " ", with: "-")
        guard let state = BuyerState(rawValue: normalized), Self.allowedStates.contains(state) else {
            let quoted = stateText.count > 40 ? "\(stateText.prefix(40))… (\(stateText.count) characters)" : stateText
            throw InvalidReply(description: "buyer_state \"\(quoted)\" is not one of active, monitor, poor-fit, disqualified")
        }
        var stateReason = String(((object["state_reason"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "chosen by \(name)").prefix(500))
        var buyerState = state
        // The published guarantee: intent 70+ with fit 40+ is active. Poor fit stays (an in-house
        // build comes before it), and so does a state a person would have to undo.
        if state == .monitor, intent >= RuleBasedScorer.activeIntent, fit >= RuleBasedScorer.activeFit {
            buyerState = .active
            stateReason = "intent \(intent) and fit \(fit) guarantee active (the model said monitor: \(stateReason))"
        }
        return ScoreCard(
            fit: fit, intent: intent, timing: timing,
            composite: RuleBasedScorer.composite(fit: fit, intent: intent, timing: timing, likelihood: offer.signalLikelihood),
            buyerState: buyerState, fitReasons: try Self.reasons(object, "fit_reasons"), intentReasons: try Self.reasons(object, "intent_reasons"),
            timingReasons: try Self.reasons(object, "timing_reasons"), stateReason: stateReason, scorer: name,
            scoredAt: now)
    }

    private static func score(_ object: [String: Any], _ key: String) throws(InvalidReply) -> Int {
        guard let number = object[key] as? NSNumber, !(object[key] is Bool) else { throw InvalidReply(description: "\(key) is missing or not a number") }
        let value = number.doubleValue
        guard value.rounded() == value, (0...100).contains(value) else { throw InvalidReply(description: "\(key) \(value) is not a whole number in 0...100") }
        return Int(value)
    }

    private static func reasons(_ object: [String: Any], _ key: String) throws(InvalidReply) -> [ScoreReason] {
        guard let value = object[key], !(value is NSNull) else { return [] }
        guard let items = value as? [Any] else { throw InvalidReply(description: "\(key) is not an array") }
        var reasons: [ScoreReason] = []
        for item in items.prefix(20) {
            if let text = item as? String {
                reasons.append(ScoreReason(signal: String(text.prefix(300)), points: 0))
            } else if let entry = item as? [String: Any], let signal = entry["signal"] as? String {
                let points = (entry["points"] as? NSNumber)?.intValue ?? 0
                guard (-100...100).contains(points) else { throw InvalidReply(description: "\(key) has points \(points) outside -100...100") }
                reasons.append(ScoreReason(signal: String(signal.prefix(300)), points: points))
            } else {
                throw InvalidReply(description: "\(key) holds an entry without a signal")
            }
        }
        return reasons
    }
}

extension ModelScorer: Scorer {
    /// The provider name charged for a card the model produced.
    public static let modelProvider = "scoring-model"

    /// The model's card, charging one `scoring-model` unit; the rules' card, free, when the model
    /// fails (see ``score(profile:offer:source:now:)``).
    public func evaluate(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) async -> Evaluation {
        let scoring = await score(profile: profile, offer: offer, source: source, now: now)
        return Evaluation(card: scoring.card,
                          charges: scoring.isFromModel ? [BillableCharge(provider: Self.modelProvider, units: 1)] : [],
                          competitorEmployer: scoring.competitorEmployer, evidence: scoring.evidence, activitySignals: scoring.activitySignals)
    }
}
