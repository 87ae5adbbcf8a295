import Foundation
import LeadModel
import Synchronization

/// A score card and what producing it costs.
public struct Evaluation: Sendable, Hashable {
    public var card: ScoreCard
    /// Paid calls made for it (a model call); the rules cost nothing.
    public var charges: [BillableCharge]
    /// The competitor the lead works for, when the card is the competitor-employee rule's: such
    /// a lead is no buyer, and its signals heat no company.
    public var competitorEmployer: String?
    /// What the profile says about fit, when the rules gathered it for the card: the account
    /// signal contribution reads the lead's employer from it instead of parsing the X bio again.
    public var evidence: FitEvidence?
    /// The signals of the lead's whole activity, when the rules detected them for the card and
    /// read all of it: the account-signal contribution counts them instead of detecting them again.
    public var activitySignals: ActivitySignals?

    public init(card: ScoreCard, charges: [BillableCharge] = [], competitorEmployer: String? = nil, evidence: FitEvidence? = nil,
                activitySignals: ActivitySignals? = nil) {
        self.card = card
        self.charges = charges
        self.competitorEmployer = competitorEmployer
        self.evidence = evidence
        self.activitySignals = activitySignals
    }
}

/// The signals detected in an activity record (``SignalDetector/signals(in:clusters:)``): its
/// posts' and its orbit's, and apart its orbit clusters'.
public struct ActivitySignals: Sendable, Hashable {
    public var signals: [SignalDetector.Signal]
    public var clusterSignals: [SignalDetector.Signal]

    public init(signals: [SignalDetector.Signal], clusterSignals: [SignalDetector.Signal]) {
        self.signals = signals
        self.clusterSignals = clusterSignals
    }
}

/// Scores a lead against an offer, the rules or a model behind the same call.
public protocol Scorer: Sendable {
    /// A short name written into each card, e.g. `rules-v2`.
    var name: String { get }

    /// Scores `profile` against `offer`. `source` is how the lead was found; `now` anchors recency.
    /// Never fails: a scorer that depends on a service falls back to the rules.
    func evaluate(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) async -> Evaluation
}

/// The rule-based scorer: transparent points per signal, every point with a reason and, for
/// fit, the platform the evidence came from.
///
/// **Fit** (0-100), from LinkedIn when present, else from what X gives (``FitEvidence``): industry
/// 25 when the company's industry falls under the ICP's (``ScoringVocabulary``'s hierarchy; a
/// known industry outside it takes 10 away), company size 20 (8 when within a factor of two of the
/// range), role 25 when the title names an ICP role or its synonym (18 when only the function
/// matches: "VP Marketing" for an ICP "demand generation"), seniority 15, geography 10 (places are
/// known by their country, a US state, or a city or region of the ``Gazetteer``: "Seattle",
/// "Amsterdam", "Remote — EU"; only one known to be elsewhere counts against, while a place the
/// scorer does not know, or a region that may hold the ICP's country, is no evidence either way:
/// ``placement(of:in:)``), skills 5 per match up to 10. A criterion the
/// ICP leaves empty gives half its points, as do locations every one of which names no place
/// ("Global", "Remote": one beside a place is left out). An abbreviation of several chiefs ("CSO": sales,
/// security or strategy) is read from the person's own words
/// (``ScoringVocabulary/role(ofTitle:context:)``) and in an ICP from its other titles; a lead's
/// that nothing tells apart scores 0 for its role and is no evidence either way (its evidence
/// lacks the title).
///
/// **Evidence**: each card says how complete the evidence was (``ScoreEvidence``): the share of
/// the ICP's constrained criteria (role, industry, company size, location) the profile gave
/// evidence for, and which were missing; a value that is no evidence either way (a place the
/// scorer does not know or cannot place against the ICP, a title nothing tells apart) is missing.
///
/// **Intent** (0-100): intent source 15; per recent post, weighted by recency (≤30 days ×1,
/// ≤90 ×0.6, ≤180 ×0.3): pain point 20 (cap 40), competitor mention 15 (cap 30), asking for
/// recommendations 20 and switching/alternatives 20 (together cap 40), custom keyword 10 (cap 20);
/// orbit: competitor engagement 10 per competitor (cap 20), adjacent vendor 3 (cap 6); orbit
/// clusters (``OrbitClusters``, recency weighted at their last interaction): competitor cluster 20,
/// other new cluster 10 (together cap 30); an X bio naming a competitor (not as employer) 10. An
/// X post naming a competitor counts once, as the post's mention: X reports what a lead's posts
/// mention as engagement (``SignalDetector/withoutRestatedMentions(orbit:clusters:posts:postSignals:)``). A
/// competitor whose name is an everyday word of sellers ("Outreach", "Close", "Reply":
/// ``SignalDetector/everydayNames``) is named in a post or bio only where written as a name; one
/// the offer lists by its domain ("outreach.io") is looked for by its name.
///
/// **Timing** (0-100): current role started ≤90 days ago 35, ≤180 25, ≤365 12, or dated 1-90 days
/// ahead (an announced move: "starts as ... in 20 days") 35; an X bio naming a
/// newer employer than LinkedIn's (not one LinkedIn lists as left: ``FitEvidence``) 25; newest post ≤14 days 25, ≤30 15, ≤90 5; hiring, funding,
/// launch 15 each (recency weighted, cap 40).
///
/// **Buyer state**, first rule that applies: works at a competitor (LinkedIn or X employer;
/// LinkedIn's even when the X bio names another) → poor fit, all scores zero; builds the offer in-house → poor fit; intent ≥ 70 and fit ≥ 40 → active;
/// evidence below half complete and no evidence against the ICP → monitor ("not enough data");
/// fit < 30 → poor fit; composite ≥ 60 and fit ≥ 40 → active; otherwise monitor.
public struct RuleBasedScorer: Scorer {
    /// `rules-v2` (v2 reads X and states how complete its evidence was).
    public let name = "rules-v2"

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
    /// Evidence completeness (percent) below which a lead is not judged poor fit.
    public static let enoughEvidence = 50

    private let readings: PerOffer<OfferReading>

    /// Creates the scorer with the bundled vocabulary (an offer's additions apply per offer).
    public init(vocabulary: ScoringVocabulary = .standard) {
        readings = PerOffer { OfferReading(offer: $0, vocabulary: vocabulary) }
    }

    /// The most Unicode scalars of the profile's words a card quotes (a title, an industry, a
    /// place, an employer, a signal's detail); a longer one is shortened and ends with "…", so
    /// a card, and every record carrying it, is never as long as the texts it read.
    public static let quotedLength = 120

    /// `text` as a card quotes it (``quotedLength``), cut between characters.
    static func quoted(_ text: String) -> String {
        text.shortened(toScalars: quotedLength)
    }

    /// ``score(profile:offer:source:now:)``, which is pure and free.
    public func evaluate(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) async -> Evaluation {
        let scoring = scored(profile: profile, offer: offer, source: source, now: now)
        return Evaluation(card: scoring.card, competitorEmployer: scoring.competitor, evidence: scoring.evidence,
                          activitySignals: scoring.activitySignals)
    }

    /// The card of a lead employed by one of `offer`'s competitors, with that competitor: poor
    /// fit with every score zeroed, a published rule that holds whoever scores (a model is not
    /// asked); nil when the lead's current employer is no competitor.
    public func competitorEmployee(profile: EnrichedProfile, offer: OfferConfig, now: Date) -> (card: ScoreCard, competitor: String)? {
        competitorEmployee(profile: profile, evidence: FitEvidence(profile: profile), offer: offer, now: now)
    }

    /// ``competitorEmployee(profile:offer:now:)`` with the profile's evidence already gathered.
    public func competitorEmployee(profile: EnrichedProfile, evidence: FitEvidence, offer: OfferConfig, now: Date)
        -> (card: ScoreCard, competitor: String)? {
        competitorEmployee(profile, evidence: evidence, detector: readings.value(for: offer).detector, offer: offer, now: now)
    }

    private func competitorEmployee(
        _ profile: EnrichedProfile, evidence: FitEvidence, detector: SignalDetector, offer: OfferConfig, now: Date
    ) -> (card: ScoreCard, competitor: String)? {
        // LinkedIn's employer (and its company record) counts even when an X bio names another:
        // the bio may be the newer word, but a competitor's employee is never pitched on it.
        let employers: [(name: String?, source: String?)] = [
            (evidence.company?.value, evidence.company?.source), (profile.linkedin?.company, "linkedin"), (profile.company?.name, "company"),
        ]
        guard let (competitor, source) = employers.lazy.compactMap({ employer in
            employer.name.flatMap(detector.competitor(employing:)).map { ($0, employer.source) }
        }).first else { return nil }
        let bioEmployer = evidence.company.flatMap { $0.source == "x" && source != "x" ? $0.value : nil }
        let besideBio = bioEmployer.map { " (\(source == "company" ? "company record" : "LinkedIn"); the X bio names \(RuleBasedScorer.quoted($0)))" } ?? ""
        let reason = ScoreReason(signal: "works at competitor \(competitor)\(besideBio)", points: 0, source: source)
        let card = ScoreCard(
            fit: 0, intent: 0, timing: 0, composite: 0, buyerState: .poorFit, fitReasons: [reason],
            intentReasons: [], timingReasons: [], stateReason: "employed by competitor \(competitor)",
            scorer: name, scoredAt: now, evidence: Self.completeness(evidence, icp: offer.icp, locations: readings.value(for: offer).icpLocations))
        return (card, competitor)
    }

    /// See the type's documentation for the rules.
    public func score(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) -> ScoreCard {
        scored(profile: profile, offer: offer, source: source, now: now).card
    }

    /// The card, the competitor the lead works for when that rule decided it, the evidence read,
    /// and the activity's signals when every part of the activity was read.
    private func scored(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date)
        -> (card: ScoreCard, competitor: String?, evidence: FitEvidence, activitySignals: ActivitySignals?) {
        let reading = readings.value(for: offer)
        let detector = reading.detector
        // As the activity stage keeps them: a pool profile is scored as sent, and a post or
        // engagement dated later is no evidence of anything.
        let latest = ActivityBuilder.latestDate(at: now)
        let activity = profile.activity ?? .empty
        let posts = activity.posts.filter { $0.date <= latest && Self.ageInDays($0.date, now: now) <= Self.horizonDays }
        let postSignals = detector.signals(in: posts)
        let readOrbit = activity.orbit.filter { $0.lastSeen <= latest }
        let formed = OrbitClusters.clusters(of: activity, now: now)
        let readClusters = formed.filter { $0.lastSeen <= latest }
        let (orbit, clusters) = detector.withoutRestatedMentions(orbit: readOrbit, clusters: readClusters, posts: posts,
                                                                 postSignals: postSignals)
        let signals = postSignals + detector.signals(in: orbit)
        // Read whole (as the activity stage keeps every record), these are the signals
        // `SignalDetector.signals(in:clusters:)` finds in the activity, none dated past `latest`.
        let isReadWhole = posts.count == activity.posts.count && readOrbit.count == activity.orbit.count
            && readClusters.count == formed.count
        let activitySignals = isReadWhole ? ActivitySignals(signals: signals, clusterSignals: detector.signals(in: clusters)) : nil
        let evidence = FitEvidence(profile: profile)
        if let (card, competitor) = competitorEmployee(profile, evidence: evidence, detector: detector, offer: offer, now: now) {
            return (card, competitor, evidence, activitySignals)
        }

        let fit = Fit(evidence: evidence, icp: offer.icp, reading: reading)
        var (intent, intentReasons) = Self.intent(signals: signals, clusters: clusters, source: source, now: now)
        if let bio = profile.x?.bio, let mention = detector.competitor(matching: bio) {
            let reason = ScoreReason(signal: "X bio mentions competitor \(mention)", points: min(10, 100 - intent), source: "x")
            if reason.points > 0 {
                intentReasons.append(reason)
                intent += reason.points
            }
        }
        let (timing, timingReasons) = Self.timing(profile: profile, evidence: evidence, posts: posts, signals: postSignals, now: now)
        let composite = Self.composite(fit: fit.points, intent: intent, timing: timing, likelihood: offer.signalLikelihood)
        let completeness = Self.completeness(evidence, icp: offer.icp, locations: reading.icpLocations, unread: fit.unread)

        let state: BuyerState
        let stateReason: String
        // The latest in-house build, unless the lead asked for a tool or to switch since.
        if let build = postSignals.filter({ $0.kind == .inHouseBuild }).max(by: { $0.date < $1.date }),
           !postSignals.contains(where: { ($0.kind == .recommendationRequest || $0.kind == .switchingIntent) && $0.date > build.date }) {
            state = .poorFit
            stateReason = "builds an in-house equivalent (\(RuleBasedScorer.quoted(build.detail)))"
        } else if intent >= Self.activeIntent && fit.points >= Self.activeFit {
            state = .active
            stateReason = "intent \(intent) ≥ \(Self.activeIntent) with fit \(fit.points) ≥ \(Self.activeFit)"
        } else if completeness.completeness < Self.enoughEvidence && !fit.hasEvidenceAgainst {
            state = .monitor
            stateReason = "not enough data to judge fit: no \(completeness.missing.joined(separator: ", ")) "
                + "(evidence \(completeness.completeness)% complete)"
        } else if fit.points < Self.poorFitBelow {
            state = .poorFit
            stateReason = "fit \(fit.points) < \(Self.poorFitBelow)"
        } else if composite >= Self.activeComposite && fit.points >= Self.activeFit {
            state = .active
            stateReason = "composite \(composite) ≥ \(Self.activeComposite) with fit \(fit.points) ≥ \(Self.activeFit)"
        } else {
            state = .monitor
            stateReason = "composite \(composite) below \(Self.activeComposite) or fit below \(Self.activeFit)"
        }
        let missingReasons = completeness.missing.map { ScoreReason(signal: "missing: \($0)", points: 0) }
        let card = ScoreCard(
            fit: fit.points, intent: Self.clamp(intent), timing: timing, composite: composite, buyerState: state,
            fitReasons: Self.addingUp(fit.reasons, to: fit.points) + missingReasons,
            intentReasons: Self.addingUp(intentReasons, to: Self.clamp(intent)), timingReasons: Self.addingUp(timingReasons, to: timing),
            stateReason: stateReason, scorer: name, scoredAt: now, evidence: completeness)
        return (card, nil, evidence, activitySignals)
    }

    /// How complete `evidence` is for the criteria `icp` constrains (its location when `locations`,
    /// the ICP's as ``OfferReading/icpLocations`` reads them, is not empty); those named in
    /// `unread` have a value that says nothing about the ICP (``Fit/unread``) and count as missing.
    static func completeness(_ evidence: FitEvidence, icp: IdealCustomerProfile, locations: [ICPLocation],
                             unread: Set<String> = []) -> ScoreEvidence {
        let criteria: [(name: String, isConstrained: Bool, hasEvidence: Bool)] = [
            ("title", !icp.titles.isEmpty || !icp.seniorities.isEmpty, evidence.title != nil),
            ("industry", !icp.industries.isEmpty, evidence.industry != nil),
            ("company size", icp.minimumEmployees != nil || icp.maximumEmployees != nil, evidence.employees != nil),
            ("location", !locations.isEmpty, evidence.location != nil),
        ].map { ($0.0, $0.1, $0.2 && !unread.contains($0.0)) }
        let constrained = criteria.filter(\.isConstrained)
        let known = constrained.filter(\.hasEvidence).count
        let percent = constrained.isEmpty ? 100 : Int((100 * Double(known) / Double(constrained.count)).rounded())
        return ScoreEvidence(
            completeness: percent, missing: constrained.filter { !$0.hasEvidence }.map(\.name), sources: evidence.sources)
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

    /// Fit points with their reasons, and whether any evidence speaks against the ICP.
    struct Fit {
        var reasons: [ScoreReason] = []
        /// An industry, size, role or location known and outside the ICP.
        var hasEvidenceAgainst = false
        /// The criteria (as ``RuleBasedScorer/completeness(_:icp:locations:unread:)`` names them) whose
        /// value the profile gives says nothing about the ICP, such as a place the scorer does
        /// not know or a title nothing tells apart ("CSO"): no evidence either way, so not
        /// counted as evidence.
        var unread: Set<String> = []

        var points: Int { RuleBasedScorer.clamp(reasons.reduce(0) { $0 + $1.points }) }

        init(evidence: FitEvidence, icp: IdealCustomerProfile, reading: OfferReading) {
            industry(evidence.industry, icp: icp, reading: reading)
            size(evidence.employees, icp: icp)
            role(evidence, icp: icp, reading: reading)
            location(evidence.location, wanted: reading.icpLocations)
            skills(evidence.skills, icpPhrases: reading.skillPhrases)
        }

        private mutating func add(_ signal: String, _ points: Int, _ source: String? = nil) {
            reasons.append(ScoreReason(signal: signal, points: points, source: source))
        }

        private mutating func industry(_ industry: FitEvidence.Fact<String>?, icp: IdealCustomerProfile, reading: OfferReading) {
            guard !icp.industries.isEmpty else { return add("no industry constraint", 12) }
            guard let industry else { return }
            if let match = reading.vocabulary.industry(industry.value, firstIn: reading.industries) {
                add("industry \(RuleBasedScorer.quoted(industry.value)) falls under \(match)", 25, industry.source)
            } else if let narrower = reading.vocabulary.industry(industry.value, broaderThanOneOf: reading.industries) {
                unread.insert("industry")
                add("industry \(RuleBasedScorer.quoted(industry.value)) is broader than \(narrower): no evidence either way", 0,
                    industry.source)
            } else {
                hasEvidenceAgainst = true
                add("industry \(RuleBasedScorer.quoted(industry.value)) is outside the ICP", -10, industry.source)
            }
        }

        /// A head count within the ICP's range, near it (within a factor of two) or outside it;
        /// a vendor's band ("51-200") as a band: within when all of it is, partly within when it
        /// overlaps, else near or outside by its nearest bound.
        private mutating func size(_ employees: FitEvidence.Fact<EmployeeRange>?, icp: IdealCustomerProfile) {
            guard icp.minimumEmployees != nil || icp.maximumEmployees != nil else { return add("no company size constraint", 10) }
            guard let employees else { return }
            let low = icp.minimumEmployees ?? 0
            let high = max(low, icp.maximumEmployees ?? Int.max)
            let range = "\(icp.minimumEmployees.map(String.init) ?? "any")-\(icp.maximumEmployees.map(String.init) ?? "any")"
            let fewest = employees.value.minimum
            let most = employees.value.maximum ?? Int.max
            let nearest = most < low ? most : fewest
            if low <= fewest && most <= high {
                add("\(employees.value) employees within \(range)", 20, employees.source)
            } else if fewest <= high && most >= low {
                add("\(employees.value) employees, partly within \(range)", 8, employees.source)
            } else if Double(nearest) * 2 >= Double(low) && nearest / 2 <= high {  // a vendor's count may be any Int
                add("\(employees.value) employees near \(range)", 8, employees.source)
            } else {
                hasEvidenceAgainst = true
                add("\(employees.value) employees outside \(range)", 0, employees.source)
            }
        }

        private mutating func role(_ evidence: FitEvidence, icp: IdealCustomerProfile, reading: OfferReading) {
            let title = evidence.title
            let role = title.flatMap { reading.vocabulary.role(ofTitle: $0.value, context: evidence.titleContext) }
            let newer = evidence.earlierLinkedInRole.map { " (X bio; newer than LinkedIn's \(RuleBasedScorer.quoted($0.title)) at \(RuleBasedScorer.quoted($0.company)))" } ?? ""
            if icp.titles.isEmpty {
                add("no title constraint", 12)
            } else if let title, let role {
                // A title that is only a role ("Chief Revenue Officer", "CEO") has no specialty:
                // it is named by the whole of its words.
                let named = reading.icpTitles.first { Self.names(role, $0) }
                let sameFunction = reading.icpTitles.first { Self.sharesFunction(role, $0) }
                if let named = named?.title {
                    add("title \"\(RuleBasedScorer.quoted(title.value))\" matches \(named)\(newer)", 25, title.source)
                } else if let sameFunction = sameFunction?.title {
                    add("title \"\(RuleBasedScorer.quoted(title.value))\" is in the same function as \(sameFunction)\(newer)", 18, title.source)
                } else if case let open = openReadings(of: title.value, evidence: evidence, reading: reading), !open.isEmpty {
                    // "CSO" alone, one of whose readings an ICP title names or shares a function
                    // with: no evidence either way, nor evidence of the role at all.
                    unread.insert("title")
                    add("title \"\(RuleBasedScorer.quoted(title.value))\" may be \(open.joined(separator: ", ")): nothing says which\(newer)", 0, title.source)
                } else {
                    hasEvidenceAgainst = true
                    add("title \"\(RuleBasedScorer.quoted(title.value))\" matches no ICP role\(newer)", 0, title.source)
                }
            } else if let title {
                hasEvidenceAgainst = true
                add("title \"\(RuleBasedScorer.quoted(title.value))\" names no known role", 0, title.source)
            }

            if icp.seniorities.isEmpty {
                add("no seniority constraint", 7)
            } else if let title, let seniority = role?.seniority {
                if icp.seniorities.contains(seniority) || (seniority == .founder && icp.seniorities.contains(.cLevel)) {
                    add("seniority \(seniority.rawValue)", 15, title.source)
                } else {
                    add("seniority \(seniority.rawValue) is not among \(icp.seniorities.map(\.rawValue).joined(separator: ", "))", 0, title.source)
                }
            }
        }

        /// Whether `role` is named by an ICP title: by its specialty, or by the whole of its words
        /// for a title that is only a role ("Chief Revenue Officer", "CEO").
        private static func names(_ role: ScoringVocabulary.Role, _ icpTitle: OfferReading.ICPTitle) -> Bool {
            icpTitle.specialty.map(role.names) ?? icpTitle.role.map { role.names($0.words) } ?? false
        }

        private static func sharesFunction(_ role: ScoringVocabulary.Role, _ icpTitle: OfferReading.ICPTitle) -> Bool {
            !(icpTitle.role?.functions ?? []).isDisjoint(with: role.functions)
        }

        /// The readings a lead's ambiguous title leaves open that an ICP title names or shares a
        /// function with.
        private func openReadings(of title: String, evidence: FitEvidence, reading: OfferReading) -> [String] {
            reading.vocabulary.openReadings(ofTitle: title, context: evidence.titleContext).filter { text in
                guard let role = reading.vocabulary.role(ofTitle: text) else { return false }
                return reading.icpTitles.contains { Self.names(role, $0) || Self.sharesFunction(role, $0) }
            }
        }

        private mutating func location(_ location: FitEvidence.Fact<String>?, wanted: [ICPLocation]) {
            guard !wanted.isEmpty else { return add("no location constraint", 5) }
            guard let location else { return }
            let areas = RuleBasedScorer.areas(of: SignalDetector.Phrase(location.value),
                                              readingStatesAndCities: wanted.contains(where: \.readsStatesAndCities))
            let placements = wanted.map { RuleBasedScorer.placement(of: areas, in: $0) }
            if let index = placements.firstIndex(of: .inside) {
                add("located in \(wanted[index].phrase.text)", 10, location.source)
            } else if placements.allSatisfy({ $0 == .outside }) {
                hasEvidenceAgainst = true
                add("located in \(RuleBasedScorer.quoted(location.value)), outside the ICP", 0, location.source)
            } else if areas.named.isEmpty {
                // "Springfield Gardens" may well be in the ICP's country: unknown is not elsewhere.
                unread.insert("location")
                add("location \"\(RuleBasedScorer.quoted(location.value))\" is no place the scorer knows: no evidence either way", 0, location.source)
            } else {
                // "Remote — EU" for an ICP of Germany: it may be there or not.
                unread.insert("location")
                add("location \"\(RuleBasedScorer.quoted(location.value))\" may be in the ICP or not: no evidence either way", 0, location.source)
            }
        }

        private mutating func skills(_ skills: [String], icpPhrases: [SignalDetector.Phrase]) {
            let matching = skills.filter { skill in
                let skill = SignalDetector.Phrase(skill)
                return icpPhrases.contains { skill.occurs(in: $0) || $0.occurs(in: skill) }
            }
            guard !matching.isEmpty else { return }
            add("skills \(matching.prefix(3).map(RuleBasedScorer.quoted).joined(separator: ", ")) match the ICP", min(10, 5 * matching.count), "linkedin")
        }
    }

    /// What the scorer reads from an offer, the same for every lead scored against it.
    struct OfferReading: Sendable {
        /// The scorer's vocabulary with the offer's additions.
        let vocabulary: ScoringVocabulary
        let detector: SignalDetector
        /// The ICP's titles, each with its role and specialty read with ``vocabulary``.
        let icpTitles: [ICPTitle]
        /// An ICP title as written, with the role and specialty read in it (one per reading of an
        /// ambiguous one nothing tells apart).
        typealias ICPTitle = (title: String, role: ScoringVocabulary.Role?, specialty: String?)
        /// The ICP phrases a skill is compared with: pain points, intent keywords and titles.
        let skillPhrases: [SignalDetector.Phrase]
        /// The ICP's industries with the industries under them.
        let industries: ScoringVocabulary.IndustryScopes
        /// The ICP's locations, each read as ``placement(of:in:)`` compares a place with it,
        /// without those that name no place (``icpNamesNoPlace(_:)``: "Global", "Remote") and blank
        /// ones; none when every entry is such, so the ICP constrains no location ("United
        /// States, Remote" is the United States).
        let icpLocations: [ICPLocation]

        init(offer: OfferConfig, vocabulary: ScoringVocabulary) {
            let extended = vocabulary.extended(with: offer.vocabulary)
            self.vocabulary = extended
            detector = SignalDetector(offer: offer)
            // "CSO" beside "VP Sales" is the sales one; one the other titles leave in question
            // stands for each reading left (never for the words they share, "chief officer").
            icpTitles = zip(offer.icp.titles, extended.icpReadings(ofTitles: offer.icp.titles)).flatMap { title, readings -> [ICPTitle] in
                readings.map { (title, $0.role, $0.specialty) }
            }
            let icp = offer.icp
            skillPhrases = (icp.painPoints + icp.customIntentKeywords + icp.titles).map(SignalDetector.Phrase.init)
            industries = extended.scopes(ofIndustries: icp.industries)
            icpLocations = icp.locations.filter { !$0.isBlank && !RuleBasedScorer.icpNamesNoPlace($0) }.map { ICPLocation($0) }
        }
    }

    /// An ICP location as written ("Germany", "EMEA", "US & Canada", "Texas", "Bay Area"), with what
    /// ``placement(of:in:)`` reads in it: read once per offer, not once per lead.
    struct ICPLocation: Sendable {
        /// As written.
        let phrase: SignalDetector.Phrase
        /// As written and by the city's other names (``Gazetteer/otherNames(of:)``; "NYC" for New
        /// York), without accents (``Gazetteer/folded(_:)``): "Zurich" names "Zürich", "München" Munich.
        let names: [SignalDetector.Phrase]
        /// Normalised, a country's other names ("USA") as the country's.
        let country: String
        /// Whether it is a country.
        let isCountry: Bool
        /// The countries it spans when it is a country, a region of the ``Gazetteer``, or a list of
        /// them (``countries(listedIn:)``).
        let scope: Set<String>?
        /// The US state it is, by name or postal code.
        let usState: String?
        /// The province or state of another country it is, by name ("Ontario", "New South
        /// Wales"), folded as the ``Gazetteer``'s subdivisions are.
        let province: String?
        /// The countries the areas it names lie in (for "Bay Area", the United States).
        let countries: Set<String>
        /// The places it lists when they are not all countries and regions ("US & London", "New
        /// York, UK": ``places(listedIn:)``), each read on its own; empty otherwise.
        let places: [ICPLocation]
        /// Set when it names one place and, after a comma, the US state, province, country or
        /// region holding it ("London, UK", "Austin, TX", "Paris, France", "London, Ontario,
        /// Canada", "Texas, US"), or a city the scorer knows alone, as written with its state or
        /// country (``writtenWithWhereItLies(_:)``: "London" is "London, United Kingdom",
        /// "Austin" "Austin, Texas"); nil otherwise.
        let held: HeldPlace?
        /// Whether placing a lead against it reads the lead's streets, state or province and
        /// cities (``PlaceAreas/hasStatesAndCities``): it is a US state, a province, a place with
        /// where it lies or a city, or lists one; a country or region reads only the areas named.
        let readsStatesAndCities: Bool

        /// - Parameters:
        ///   - isWhereAPlaceLies: `wanted` follows a place's comma ("Melbourne, Victoria"),
        ///     where a name of a province that is also a city's or a person's ("Victoria") is the
        ///     province; alone or in a list it is read by its name only.
        ///   - isBeforeAComma: `wanted` is what a ``HeldPlace`` names before its comma, so a city
        ///     is not written out with where it lies again.
        init(_ wanted: String, isWhereAPlaceLies: Bool = false, isBeforeAComma: Bool = false) {
            phrase = SignalDetector.Phrase(wanted)
            let normalized = SignalDetector.normalize(wanted)
            country = countryNames[normalized] ?? normalized
            isCountry = RuleBasedScorer.isCountry(country)
            scope = isCountry ? [country] : Gazetteer.standard.regions[Gazetteer.folded(wanted)] ?? RuleBasedScorer.countries(listedIn: normalized)
            usState = usStatesByName[normalized] ?? usStatesByCode[normalized]
            // "Victoria" alone is a city, a state and a name (places.json): only its name is read.
            let isAmbiguous = !isWhereAPlaceLies && Gazetteer.folded(wanted) == "victoria"
            let provinceCountry = isAmbiguous ? nil : Gazetteer.standard.subdivisions[Gazetteer.folded(wanted)]
            province = provinceCountry == nil ? nil : Gazetteer.folded(wanted)
            countries = Set(RuleBasedScorer.namedAreas(of: phrase).named.joined() + [provinceCountry].compactMap { $0 })
            let isRegion = isCountry || scope != nil || usState != nil || province != nil
            places = isRegion ? [] : RuleBasedScorer.places(listedIn: wanted) ?? []
            // New York City is "New York, NY", the city named as its state; a city alone, the
            // one the scorer knows by its name, is that city with its state or country.
            held = isRegion || !places.isEmpty ? nil : HeldPlace(newYorkCityNames.contains(normalized) ? "New York, NY" : wanted)
                ?? (isBeforeAComma ? nil : RuleBasedScorer.writtenWithWhereItLies(wanted).flatMap(HeldPlace.init))
            let otherNames = Gazetteer.standard.otherNames(of: wanted) + (usState == newYork ? ["nyc"] : [])
            names = ([Gazetteer.folded(wanted)] + otherNames).map(SignalDetector.Phrase.init)
            readsStatesAndCities = usState != nil || province != nil || held != nil || places.contains(where: \.readsStatesAndCities)
        }

        /// Whether `place` names it by one of its ``names`` as whole words, with or without
        /// accents; `folded` is `place` without accents (``Gazetteer/folded(_:)``).
        func isNamed(in place: SignalDetector.Phrase, folded: SignalDetector.Phrase) -> Bool {
            phrase.occurs(in: place) || names.contains { $0.occurs(in: folded) }
        }

        /// Whether it names a place the scorer knows: a country, a region, a US state, or a place
        /// whose country it knows (a city, "Bay Area", a province).
        var isKnown: Bool { isCountry || scope != nil || usState != nil || !countries.isEmpty }
    }

    /// An ICP location naming one place before its first comma and, after it, where that place
    /// lies ("London, UK", "Austin, TX", "London, Ontario, Canada", "Texas, US"), each part read
    /// as an ICP location of its own. A class, so that an ``ICPLocation`` can hold two.
    final class HeldPlace: Sendable {
        /// What it names before its first comma: a city ("London"), an area the scorer knows
        /// by its country only ("Ontario"), or a US state or country ("Texas").
        let place: ICPLocation
        /// Where ``place`` lies: what follows the first comma ("UK", "TX", "Ontario, Canada"), or
        /// for a city the scorer knows in one state or province of the country there, that state
        /// or province ("Austin, USA": Texas; "Toronto, Canada": Ontario); a
        /// code of a US state and of a country (``countriesOfStateCodes``) is the country when the
        /// scorer knows the city there ("Toronto, CA": Canada), else the state, as "City, ST" is
        /// how US places are written ("San Francisco, CA"; "Wilmington, DE", a city it does not
        /// know: Delaware); a province's or territory's code is the province ("Toronto, ON"), and
        /// one that is a country's too or two territories' (``readings(ofCodeIn:city:)``) the
        /// place the country after it or the city names ("Regina, SK" and "Moose Jaw, SK,
        /// Canada": Saskatchewan; "Amsterdam, NL": the Netherlands), else the country ("Moose
        /// Jaw, SK": Slovakia).
        let holder: ICPLocation
        /// Whether ``place`` is a city named as a US state, with a US state after the comma ("New
        /// York, NY", "Washington, DC", "Indiana, PA"), not the state.
        let isCityNamedAsState: Bool
        /// Whether the scorer knows ``place`` as a city in the country of ``holder``
        /// (``countries(ofKnownCity:)``: "London, UK", "Austin, TX"; not "London, Ontario" nor
        /// "Springfield, IL"), so it knows another city it lists there is elsewhere.
        let isKnownCity: Bool
        /// The other places the code after the comma stands for when the scorer does not know the
        /// city and ``holder`` is one reading of it: the country of a code that is a US state's
        /// too ("Mannheim, DE", read as Delaware: Germany), or the province of one that is a
        /// country's too ("Moose Jaw, SK", read as Slovakia: Saskatchewan). A place naming the
        /// city there ("Mannheim, Germany", "Moose Jaw, Saskatchewan") may be the city meant, so
        /// it is no evidence either way rather than outside ("Windsor, Ontario" for "Windsor, CA"
        /// may be California's namesake).
        let otherReadings: [ICPLocation]
        /// ``place``'s names, folded (``ICPLocation/names``).
        let names: Set<String>
        /// The metropolitan areas ``place`` is in by any of its names (``Gazetteer/metroAreas(of:)``),
        /// read once per offer.
        let metroAreas: Set<Int>

        /// Nil unless `wanted` is one place with where it lies after its last comma (``isOnePlace(_:)``).
        init?(_ wanted: String) {
            guard RuleBasedScorer.isOnePlace(wanted), let comma = wanted.firstIndex(of: ",") else { return nil }
            let name = String(wanted[..<comma])
            guard !SignalDetector.Phrase(name).isBlank else { return nil }
            let after = String(wanted[wanted.index(after: comma)...])
            let readings = RuleBasedScorer.readings(ofCodeIn: after, city: name).map { ICPLocation($0, isWhereAPlaceLies: true) }
            var holder = readings.first ?? ICPLocation(after, isWhereAPlaceLies: true)
            // A province of the country after the comma is the province ("Victoria, Australia").
            place = ICPLocation(name, isWhereAPlaceLies: Gazetteer.standard.subdivisions[Gazetteer.folded(name)] == holder.country,
                                isBeforeAComma: true)
            var otherReadings = Array(readings.dropFirst())
            if let country = countriesOfStateCodes[SignalDetector.normalize(after)] {
                if RuleBasedScorer.countries(ofCity: name).contains(SignalDetector.normalize(country)) {
                    holder = ICPLocation(country, isWhereAPlaceLies: true)
                } else {
                    otherReadings = [ICPLocation(country, isWhereAPlaceLies: true)]
                }
            }
            // A city the scorer knows in one state or province of the country after the comma is
            // read with it, as the city alone is ("Austin, USA" is "Austin, Texas": ``writtenWithWhereItLies(_:)``).
            let states = Gazetteer.standard.states(ofCity: name)
            if holder.isCountry, states.count == 1, let state = states.first,
               (Gazetteer.standard.subdivisions[state] ?? unitedStates) == holder.country {
                holder = ICPLocation(state, isWhereAPlaceLies: true)
            }
            self.holder = holder
            self.otherReadings = otherReadings
            names = Set(place.names.map(\.text))
            metroAreas = place.names.reduce(into: []) { $0.formUnion(Gazetteer.standard.metroAreas(of: $1.text)) }
            let holderCountries = holder.isCountry ? [holder.country] : holder.countries.union(holder.usState == nil ? [] : [unitedStates])
            isKnownCity = !RuleBasedScorer.countries(ofKnownCity: name).isDisjoint(with: holderCountries)
            // The holder may name where it lies in turn ("New York, NY, USA": its first part is the state).
            isCityNamedAsState = usStatesByName[SignalDetector.normalize(name)] != nil
                && (holder.usState ?? ICPLocation(String(after.prefix { $0 != "," })).usState) != nil
        }

        /// Whether `other` names ``place`` (``ICPLocation/isNamed(in:folded:)``: by any of its
        /// names, with or without accents); a city named as a US state only in its first
        /// comma-separated part, and not as a state (``PlaceAreas/firstPart``: "New York, NY"
        /// names the city; "Albany, New York", "Upstate New York", "New York State" the state).
        /// A street named after it ("Oxford Street, London") does not name it.
        func isNamed(in other: PlaceAreas) -> Bool {
            guard isCityNamedAsState else { return place.isNamed(in: other.streetless.phrase, folded: other.streetless.folded) }
            return other.firstPart.map { place.isNamed(in: $0.phrase, folded: $0.folded) } ?? false
        }

        /// Whether `other`, which does not name ``place``, names only cities the scorer knows to
        /// be elsewhere: ``place`` is a city it knows (``isKnownCity``), every part `other` lists
        /// names a city the scorer knows (not "Manchester & Croydon": Croydon may be in London,
        /// ``PlaceAreas/hasPartNamingNoCity``), and every city it knows in `other`
        /// (``PlaceAreas/cities``) is another city, of another metropolitan area
        /// (``Gazetteer/isOneMetroArea(_:_:)``: "Oakland" may be in San Francisco's area).
        func namesOnlyOtherCities(_ other: PlaceAreas) -> Bool {
            guard isKnownCity, !other.hasPartNamingNoCity else { return false }
            return !other.cities.isEmpty && other.cities.indices.allSatisfy { index in
                !names.contains(other.cities[index]) && other.citiesMetroAreas[index].isDisjoint(with: metroAreas)
            }
        }

        /// Whether `other` names a city the scorer knows where `other` says it is
        /// (``PlaceAreas/cities``) that is in a metropolitan area of ``place``, a city it knows
        /// (``Gazetteer/metroAreas(of:)``), whatever state or province each is in: "Jersey City"
        /// or "Newark, NJ" for New York City, "Gatineau, QC" for Ottawa, "Kansas City, KS" and
        /// "Overland Park" for "Kansas City, MO", "Noida" for Gurgaon (not "Portland, ME" for
        /// "Portland, OR": a name of two cities, of no one area).
        func namesCityOfItsMetroArea(_ other: PlaceAreas) -> Bool {
            isKnownCity && other.citiesMetroAreas.contains { !$0.isDisjoint(with: metroAreas) }
        }

        /// Whether `other`, which names ``place``, names it only as another city of its name
        /// (``PlaceAreas/namesakes``) when the scorer knows ``place`` (``isKnownCity``): "Austin,
        /// MN" for "Austin, USA", as for "Austin, TX".
        func namesOnlyANamesake(_ other: PlaceAreas) -> Bool {
            isKnownCity && other.namesakes.contains(where: names.contains) && !other.cities.contains(where: names.contains)
        }
    }

    /// The countries (normalised) of the city the scorer knows by the name `name`: one the
    /// gazetteer lists, or one of its own (``ownCities``: London, New York City); none for
    /// any other name.
    static func countries(ofKnownCity name: String) -> Set<String> {
        let key = Gazetteer.folded(name)
        return Gazetteer.standard.countries(ofCity: key) ?? ownCities[key].map { [$0] } ?? []
    }

    /// The cities the scorer knows that `place` names, folded: the gazetteer's and its own
    /// (``ownCities``; "New York" alone is as often the state, so only "NYC" and "New York City").
    static func cities(in place: SignalDetector.Phrase) -> [String] {
        let folded = SignalDetector.Phrase(Gazetteer.folded(place.text))
        return Gazetteer.standard.cities(in: place.text) + ownCityPhrases.filter { $0.occurs(in: folded) }.map(\.text)
    }

    /// `city` written with its state or province when the gazetteer lists one for it
    /// ("Austin, texas", "Toronto, ontario"), else with its country ("London, united kingdom"),
    /// when the scorer knows a city by that name (``countries(ofKnownCity:)``) in one country;
    /// nil otherwise, and for anything with a comma.
    static func writtenWithWhereItLies(_ city: String) -> String? {
        guard !city.contains(","), !SignalDetector.Phrase(city).isBlank else { return nil }
        let countries = countries(ofKnownCity: city)
        guard countries.count == 1, let country = countries.first else { return nil }
        let states = Gazetteer.standard.states(ofCity: city)
        return city + ", " + (states.count == 1 ? states.first! : country)
    }

    /// Cities the scorer knows by its own names, not the gazetteer's, folded, with their country:
    /// London (a name of the United Kingdom in ``locationAliases``) and New York City.
    private static let ownCities: [String: String] = [
        "london": unitedKingdom, "new york": unitedStates, "nyc": unitedStates, "new york city": unitedStates,
    ]
    /// The names of ``ownCities`` that name the city in a place: not "New York", as often the state.
    private static let ownCityPhrases = ["london", "nyc", "new york city"].map(SignalDetector.Phrase.init)

    /// The countries the scorer knows the city `name` in: by its ``namedAreas(of:)`` or as one of
    /// ``citiesAbroad``, normalised.
    static func countries(ofCity name: String) -> Set<String> {
        var countries = Set(namedAreas(of: SignalDetector.Phrase(name)).named.joined())
        if let city = citiesAbroad[SignalDetector.normalize(name)] { countries.insert(city.country) }
        return countries
    }

    /// The US states' postal codes that are as often a country's code after a city (normalised,
    /// with the country's name): those of ``citiesAbroad``, with "WA" for Western Australia, and
    /// ``codesOfCountriesToo``. Read as the country only where the scorer knows the city in it
    /// (``HeldPlace/holder``). The other codes of both ("GA", "MD", "ME") are read as US states.
    private static let countriesOfStateCodes: [String: String] = [
        "ca": "Canada", "il": "Israel", "co": "Colombia", "ma": "Morocco", "pa": "Panama", "wa": "Australia",
        "de": "Germany", "in": "India", "ar": "Argentina", "id": "Indonesia",
    ].reduce(into: [:]) { codes, entry in codes[SignalDetector.normalize(entry.key)] = entry.value }

    /// The places an ICP location lists when it lists places the scorer knows, not all of them
    /// countries and regions (those ``countries(listedIn:)`` reads): cities or US states beside
    /// them or each other, between commas, "&", "/", "+", ";", "|", "and", "or" and "plus" ("US &
    /// London", "New York, UK", "EMEA and New York", "Texas / Oregon"); those that name no place
    /// (``icpNamesNoPlace(_:)``) left out, as an ICP's entries are. A place with, after a comma,
    /// the state, province or country it lies in ("Austin, TX", "London, Ontario", "Paris,
    /// France": ``isOnePlace(_:)``) is one part ("Austin, TX & London": Austin and London, not
    /// Texas). Nil when it names one place: a part the scorer does not know ("Bosnia and
    /// Herzegovina"), or one place with where it lies ("Austin, TX", "London, Ontario, Canada").
    static func places(listedIn wanted: String) -> [ICPLocation]? {
        var parts: [String] = []
        // Whether the last part ended at a comma, so the next may say where it lies.
        var afterComma = false
        for piece in wanted.split(omittingEmptySubsequences: false, whereSeparator: { ",&/+;|".contains($0) }) {
            let separator = piece.endIndex < wanted.endIndex ? wanted[piece.endIndex] : nil
            var words: [Substring] = []
            var isFirst = true
            func append() {
                let part = words.joined(separator: " ")
                if isFirst, afterComma, let last = parts.last, isOnePlace(last + ", " + part) {
                    parts[parts.count - 1] = last + ", " + part
                } else {
                    parts.append(part)
                }
                isFirst = false
            }
            for word in piece.split(whereSeparator: \.isWhitespace) {
                if listConjunctions.contains(word.lowercased()) {
                    if !words.isEmpty { append() }
                    words = []
                    isFirst = false
                } else {
                    words.append(word)
                }
            }
            if !words.isEmpty { append() }
            afterComma = separator == "," && !words.isEmpty
        }
        guard parts.count > 1 else { return nil }
        let places = parts.filter { !icpNamesNoPlace($0) }.map { ICPLocation($0) }
        guard !places.isEmpty, places.allSatisfy(\.isKnown) else { return nil }
        return places
    }

    /// Words an ICP location lists places with (``places(listedIn:)``).
    private static let listConjunctions: Set<String> = ["and", "or", "plus"]

    /// Whether `wanted` is a place followed, after its last comma, by where it lies (not a list of
    /// countries, ``countries(listedIn:)``: "UK, NL"): a US state,
    /// a province or state of another country (by name or code: "Regina, SK"), or a country or
    /// region holding every area named before it or the province before it, or after a place
    /// the scorer does not know ("Austin, TX", "London, Ontario", "Paris, France", "Ontario,
    /// Canada", "Moose Jaw, SK, Canada", "Cambridge, UK"; not "New York, UK", nor "Remote, UK",
    /// whose first part names no place).
    static func isOnePlace(_ wanted: String) -> Bool {
        guard let comma = wanted.lastIndex(of: ",") else { return false }
        // Countries listed by name or code are several places: "UK, NL", "Germany, NL".
        if countries(listedIn: SignalDetector.normalize(wanted)) != nil { return false }
        let last = String(wanted[wanted.index(after: comma)...])
        let name = SignalDetector.normalize(last)
        if usStatesByName[name] != nil || usStatesByCode[name] != nil || regionCodes[name] != nil
            || Gazetteer.standard.subdivisions[Gazetteer.folded(last)] != nil || !readings(ofCode: name).isEmpty {
            return true
        }
        guard let scope = ICPLocation(last).scope else { return false }
        let before = String(wanted[..<comma])
        // A province or state of the country: "Ontario, Canada", "Moose Jaw, SK, Canada".
        if let country = Gazetteer.standard.subdivisions[Gazetteer.folded(before)] { return scope.contains(country) }
        if let code = before.split(separator: ",").dropFirst().last,
           readings(ofCode: SignalDetector.normalize(String(code))).contains(where: { scope.contains(country(ofReading: $0)) }) {
            return true
        }
        let areasBefore = namedAreas(of: SignalDetector.Phrase(before)).named
        // A city the scorer does not know, with its country: "Cambridge, UK" (not "Remote, UK").
        guard !areasBefore.isEmpty else { return !icpNamesNoPlace(before) && !SignalDetector.Phrase(before).isBlank }
        return areasBefore.allSatisfy { $0.isSubset(of: scope) }
    }

    /// The countries an ICP location names when it lists only countries and regions of the
    /// ``Gazetteer`` (``listingWords`` between or after them): "US & Canada", "UK and Ireland",
    /// "Germany, Austria, Switzerland", "EMEA and North America", "US only", and, in a list of
    /// two or more, countries by their codes (``countryCodes``: "UK, NL", "Germany, NL"); nil when
    /// it names anything else (a state, a city) or nothing. `normalized` is ``SignalDetector/normalize(_:)``'s.
    static func countries(listedIn normalized: String) -> Set<String>? {
        let words = normalized.split(separator: " ")
        var countries: Set<String> = []
        var start = 0
        var names = 0
        var codes: [String] = []
        while start < words.count {
            if listingWords.contains(words[start]) {
                start += 1
                continue
            }
            if let country = countryCodes[" \(words[start]) "] {
                countries.insert(country)
                codes.append(" \(words[start]) ")
                start += 1
                continue
            }
            // The longest name starting here (a country's has at most four words: "United States of America").
            let longest = (1...min(4, words.count - start)).reversed().lazy.compactMap { length -> (Int, Set<String>)? in
                let name = words[start..<start + length].joined(separator: " ")
                let country = countryNames[" \(name) "] ?? " \(name) "
                if isCountry(country) { return (length, [country]) }
                return Gazetteer.standard.regions[Gazetteer.folded(name)].map { (length, $0) }
            }.first
            guard let (length, named) = longest else { return nil }
            countries.formUnion(named)
            names += 1
            start += length
        }
        // A code alone ("NL", "SK") may be a province's: only a list says it is a country, and
        // not one naming the province's country ("Canada, NL" is Newfoundland and Labrador).
        guard !countries.isEmpty, codes.isEmpty || names + codes.count > 1 else { return nil }
        let isProvinceThere = codes.contains { code in
            countriesOfCodes(provincesByCode[code] ?? []).contains { countries.contains($0) }
        }
        return isProvinceThere ? nil : countries
    }

    /// Two-letter codes of the countries the scorer knows, normalised, with the countries'
    /// names, read in an ICP's list of countries (``countries(listedIn:)``): not those of US
    /// states too (CA, DE, IN, IL, CO, MA, AR, ID), which stay the states' there, nor "SA"
    /// (Saudi Arabia's, and South Africa's as people write it); "UK" and "US" are names (``countryNames``).
    private static let countryCodes: [String: String] = [
        "nl": "netherlands", "be": "belgium", "lu": "luxembourg", "ch": "switzerland", "at": "austria", "se": "sweden",
        "no": "norway", "dk": "denmark", "fi": "finland", "is": "iceland", "pl": "poland", "cz": "czechia", "sk": "slovakia",
        "hu": "hungary", "ro": "romania", "bg": "bulgaria", "gr": "greece", "hr": "croatia", "rs": "serbia", "si": "slovenia",
        "ee": "estonia", "lv": "latvia", "lt": "lithuania", "ua": "ukraine", "tr": "turkey", "ae": "united arab emirates",
        "qa": "qatar", "eg": "egypt", "za": "south africa", "ng": "nigeria", "ke": "kenya", "gh": "ghana", "br": "brazil",
        "mx": "mexico", "cl": "chile", "pe": "peru", "uy": "uruguay", "jp": "japan", "cn": "china", "kr": "south korea",
        "tw": "taiwan", "hk": "hong kong", "sg": "singapore", "my": "malaysia", "ph": "philippines", "th": "thailand",
        "vn": "vietnam", "pk": "pakistan", "bd": "bangladesh", "lk": "sri lanka", "au": "australia", "nz": "new zealand",
        "ie": "ireland", "fr": "france", "es": "spain", "pt": "portugal", "it": "italy", "gb": "united kingdom",
    ].reduce(into: [:]) { codes, entry in codes[SignalDetector.normalize(entry.key)] = SignalDetector.normalize(entry.value) }

    /// Words an ICP location lists countries with besides its punctuation.
    private static let listingWords: Set<Substring> = ["and", "or", "the", "only", "plus", "region", "regions", "countries"]

    /// Whether free-text `place` is in the ICP location `wanted` ("Austin, TX" in "United States"):
    /// ``placement(of:in:)`` is ``Placement/inside``.
    static func location(_ place: SignalDetector.Phrase, isIn wanted: String) -> Bool {
        placement(of: areas(of: place), in: ICPLocation(wanted)) == .inside
    }

    /// Where a place stands against one ICP location.
    enum Placement: Equatable {
        case inside
        /// Known to be elsewhere: evidence against the ICP.
        case outside
        /// No evidence either way: a place the scorer does not know, or an area that may or may
        /// not be in the ICP location ("Remote — EU" for Germany).
        case unknown
    }

    /// A lead's place as ``placement(of:in:)`` reads it, read once per lead whatever the ICP's
    /// locations (``areas(of:)``): the areas it names, each as the countries (normalised) it may
    /// be in, the cities it names, the state or province it names, and the forms of its text
    /// the ICP locations are looked for in, so that placing it against each costs lookups only.
    struct PlaceAreas {
        /// The place as read: as written, with a part it lists that is only a city's short name
        /// written out (``shortCityNames``: "LA / NYC" is "Los Angeles / NYC"; "Baton Rouge, LA"
        /// stays) and a comma before a code after a name (``withCommasBeforeCodes(_:)``).
        var phrase: SignalDetector.Phrase
        /// ``phrase`` without accents (``Gazetteer/folded(_:)``).
        var folded: SignalDetector.Phrase
        /// ``phrase`` without "New South Wales" and "New England", which a name of the United
        /// Kingdom's ("Wales", "England") is not in (``withoutLookalikes(_:of:)``).
        var withoutUKLookalikes: SignalDetector.Phrase
        /// ``phrase`` without its streets (``withoutStreets(_:)``), and folded.
        var streetless: (phrase: SignalDetector.Phrase, folded: SignalDetector.Phrase)
        /// The first comma-separated part of ``streetless``, and folded, where a city named as a
        /// US state is named (``HeldPlace/isNamed(in:)``); nil when it says it means the state
        /// ("Upstate New York", "New York State").
        var firstPart: (phrase: SignalDetector.Phrase, folded: SignalDetector.Phrase)?
        /// Every area named; one country when the place's last part names it (``lastPartCountry(of:)``).
        var named: [Set<String>]
        /// The country the last part names, which wins over every other name in the place:
        /// "Paris, TX" is in the United States, not in France.
        var lastPartCountry: String?
        /// Whether the scorer knows an area of the place without the ``Gazetteer``'s cities and
        /// regions: a country, a US state, another alias (London).
        var isKnownWithoutGazetteer: Bool
        /// The US state ``streetless`` names after its first part, by name or code, or as its
        /// only part (``usState(ofParts:)``), normalised.
        var usState: String?
        /// The province or state of another country ``streetless`` names after its first part
        /// (``province(ofParts:country:)``), folded.
        var province: String?
        /// ``streetless`` folded without the cities the scorer knows (``Gazetteer/withoutCities(_:)``),
        /// where a state or province is named as a place ("Southern Ontario", not "Kansas City").
        var withoutCities: SignalDetector.Phrase
        /// The cities the scorer knows that the place names outside its streets, folded
        /// (``cities(in:)``), in the order named, where the place says they are: in its last
        /// part's country and its US state or province when it names one, as far as the
        /// ``Gazetteer`` knows a city's state ("Kansas City, KS": Kansas City; not "Austin, MN",
        /// "London, Ontario" nor "Paris, TX", which name ``namesakes``).
        var cities: [String]
        /// The metropolitan areas of each of ``cities`` (``Gazetteer/metroAreas(of:)``).
        var citiesMetroAreas: [Set<Int>]
        /// The states or provinces of the ``Gazetteer``'s ``cities`` (not the scorer's own, London
        /// and New York City): empty when it lists none for one (``placementByCities(of:in:)``).
        var citiesStates: [Set<String>]
        /// The names of cities the scorer knows that the place names elsewhere than those cities
        /// are, folded: another city of the name ("austin" in "Austin, MN", "london" in "London, Ontario").
        var namesakes: [String]
        /// The US states (and DC) the place names as places outside its streets and the cities
        /// the scorer knows (``usStatesNamed(in:)``), normalised: Texas for "Austin Texas", DC
        /// for "Washington DC-Baltimore Area", West Virginia (not Virginia) for "Morgantown West
        /// Virginia", none for "Kansas City".
        var usStatesNamed: [String]
        /// Whether a part the place lists (``listedParts(of:)``) names no city the scorer knows
        /// ("Croydon" in "Manchester & Croydon", "Croydon, England", "England"): that part may
        /// be in any city.
        var hasPartNamingNoCity: Bool
        /// Whether the reading holds the place's streets, state or province and cities (from
        /// ``streetless`` to ``hasPartNamingNoCity``), which only ICP locations that
        /// ``ICPLocation/readsStatesAndCities`` read; without them, those are empty.
        var hasStatesAndCities: Bool
    }

    /// `place` read once for every ICP location (``PlaceAreas``): the country its last part
    /// names, else the countries, their aliases (a US state, London) and the ``Gazetteer``'s
    /// cities and regions in it; with `readingStatesAndCities` (the ICP has a location that
    /// ``ICPLocation/readsStatesAndCities``), the cities it names, the state or province it names
    /// and whether a part it lists names no city. The gazetteer reads it once (twice when it
    /// names a street).
    static func areas(of written: SignalDetector.Phrase, readingStatesAndCities: Bool = true) -> PlaceAreas {
        let parts = listedParts(of: written.text)
        var text = written.text
        for part in parts.reversed() {
            if let name = shortCityNames[String(part)] { text.replaceSubrange(part.startIndex..<part.endIndex, with: name) }
        }
        text = withCommasBeforeCodes(text)
        let place = text == written.text ? written : SignalDetector.Phrase(text)
        guard readingStatesAndCities else {
            let folded = SignalDetector.Phrase(Gazetteer.folded(place.text))
            let named = namedAreas(of: place)
            return PlaceAreas(
                phrase: place, folded: folded, withoutUKLookalikes: withoutLookalikes(place, of: unitedKingdom),
                streetless: (place, folded), firstPart: nil, named: named.named, lastPartCountry: named.lastPartCountry,
                isKnownWithoutGazetteer: named.isKnownWithoutGazetteer, usState: nil, province: nil, withoutCities: folded,
                cities: [], citiesMetroAreas: [], citiesStates: [], namesakes: [], usStatesNamed: [], hasPartNamingNoCity: false,
                hasStatesAndCities: false)
        }
        let streetless = withoutStreets(place)
        let hasStreets = streetless.text != place.text
        let foldedText = Gazetteer.folded(place.text)
        let streetlessFoldedText = hasStreets ? Gazetteer.folded(streetless.text) : foldedText
        let gazetteer = Gazetteer.standard.reading(ofFolded: streetlessFoldedText)
        let named = namedAreas(of: place, gazetteer: hasStreets ? Gazetteer.standard.areas(in: place.text) : gazetteer.areas)
        let folded = SignalDetector.Phrase(foldedText)
        let streetlessFolded = hasStreets ? SignalDetector.Phrase(streetlessFoldedText) : folded
        // The state or province the place names (as placement(of:inStateOrProvince:) reads it, its
        // streets left out), and as the gazetteer's states of cities are written ("Perth, WA"
        // names Western Australia, not Washington).
        let streetlessCountry = hasStreets ? lastPartCountry(of: streetless.text) : named.lastPartCountry
        let commaParts = streetless.text.split(separator: ",").map { Gazetteer.folded(String($0)) }
        let usState = usState(ofParts: commaParts)
        let province = province(ofParts: commaParts, country: streetlessCountry)
        let isInUnitedStates = named.lastPartCountry.map { $0 == unitedStates } ?? true
        let state = (isInUnitedStates ? usState.map(Gazetteer.folded) : nil) ?? province
        var reading = PlaceAreas(
            phrase: place, folded: folded, withoutUKLookalikes: withoutLookalikes(place, of: unitedKingdom),
            streetless: (streetless, streetlessFolded), firstPart: nil, named: named.named, lastPartCountry: named.lastPartCountry,
            isKnownWithoutGazetteer: named.isKnownWithoutGazetteer, usState: usState, province: province,
            withoutCities: SignalDetector.Phrase(gazetteer.withoutCities), cities: [], citiesMetroAreas: [], citiesStates: [],
            namesakes: [], usStatesNamed: usStatesNamed(in: gazetteer.withoutCities), hasPartNamingNoCity: false,
            hasStatesAndCities: true)
        let first = String(streetless.text.prefix { $0 != "," })
        if !SignalDetector.normalize(first).split(separator: " ").contains(where: stateWords.contains) {
            reading.firstPart = first == streetless.text ? reading.streetless
                : (SignalDetector.Phrase(first), SignalDetector.Phrase(Gazetteer.folded(first)))
        }
        for city in gazetteer.cities + ownCityPhrases.filter({ $0.occurs(in: streetlessFolded) }).map(\.text) {
            let states = Gazetteer.standard.states(ofCity: city)
            if named.lastPartCountry.map(countries(ofKnownCity: city).contains) ?? true,
               state.map({ states.isEmpty || states.contains($0) }) ?? true {
                reading.cities.append(city)
                reading.citiesMetroAreas.append(Gazetteer.standard.metroAreas(of: city))
                if Gazetteer.standard.countries(ofCity: city) != nil { reading.citiesStates.append(states) }
            } else {
                reading.namesakes.append(city)
            }
        }
        reading.hasPartNamingNoCity = parts.count > 1 && parts.contains { part in
            !namesNoPlace(String(part)) && Self.cities(in: withoutStreets(SignalDetector.Phrase(String(part)))).isEmpty
        }
        return reading
    }

    /// Words by which a place that names a US state's name means the state ("Upstate New York",
    /// "New York State"), not a city named as it.
    private static let stateWords: Set<Substring> = ["state", "upstate"]

    /// The areas `place` names (``PlaceAreas/named``), the country its last part names and
    /// whether the scorer knows an area of it without the gazetteer; `gazetteer`, the
    /// ``Gazetteer``'s areas in it, when read already.
    private static func namedAreas(of place: SignalDetector.Phrase, gazetteer: @autoclosure () -> [Set<String>])
        -> (named: [Set<String>], lastPartCountry: String?, isKnownWithoutGazetteer: Bool) {
        if let country = lastPartCountry(of: place.text) { return ([[country]], country, true) }
        let withoutUKLookalikes = withoutLookalikes(place, of: unitedKingdom)
        var named: [Set<String>] = aliasedCountries.filter { country in
            let place = country == unitedKingdom ? withoutUKLookalikes : place
            return locationAliases[country, default: []].contains { $0.occurs(in: place) }
        }.map { [$0] }
        named += otherCountryPhrases.filter { $0.occurs(in: place) }.map { [countryNames[$0.text] ?? $0.text] }
        let isKnown = !named.isEmpty
        return (named + gazetteer(), nil, isKnown)
    }

    /// ``namedAreas(of:gazetteer:)`` with the gazetteer's areas read from `place`.
    private static func namedAreas(of place: SignalDetector.Phrase)
        -> (named: [Set<String>], lastPartCountry: String?, isKnownWithoutGazetteer: Bool) {
        namedAreas(of: place, gazetteer: Gazetteer.standard.areas(in: place.text))
    }

    /// The places a lead's place lists, as written and trimmed: its text between the characters
    /// that part them (any but a letter, a digit, a space, ",", ".", "'", "’", "-", "(" and ")":
    /// "/", "&", "|", "+", "·", "—", an emoji, "SF ✈️ NYC"), a "-" between spaces, and the words
    /// "and" and "or"; a place with where it lies after a comma ("Austin, TX") is one part.
    static func listedParts(of text: String) -> [Substring] {
        let bytes = text.utf8
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return listedParts(ofUnicode: text) }
        // ASCII, the common case, is read byte by byte: Character's properties cost most of the time otherwise.
        func isLetterOrDigit(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte >= 0x30 && byte <= 0x39 }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
        var parts: [Substring] = []
        var words: [Range<String.Index>] = []
        var wordStart: String.Index?
        func closeWord(at end: String.Index) {
            guard let start = wordStart else { return }
            wordStart = nil
            if (2...4).contains(bytes.distance(from: start, to: end)), listConjunctions.contains(text[start..<end].lowercased()) {
                closePart()
            } else {
                words.append(start..<end)
            }
        }
        func closePart() {
            if let first = words.first, let last = words.last { parts.append(text[first.lowerBound..<last.upperBound]) }
            words = []
        }
        var index = bytes.startIndex
        var previous: UInt8 = 0x20
        while index < bytes.endIndex {
            let byte = bytes[index]
            let next = bytes.index(after: index)
            if isSpace(byte) {
                closeWord(at: index)
            } else if isLetterOrDigit(byte) || (byte == 0x2D && !(isSpace(previous) && next < bytes.endIndex && isSpace(bytes[next])))
                        || ",.'()".utf8.contains(byte) {
                if wordStart == nil { wordStart = index }
            } else {
                closeWord(at: index)
                closePart()
            }
            previous = byte
            index = next
        }
        closeWord(at: bytes.endIndex)
        closePart()
        return parts
    }

    /// ``listedParts(of:)`` of a text that is not all ASCII, read by its characters.
    private static func listedParts(ofUnicode text: String) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        func close(at end: String.Index) {
            var words: [Substring] = []
            for word in text[start..<end].split(whereSeparator: \.isWhitespace) {
                if listConjunctions.contains(word.lowercased()) {
                    if let first = words.first, let last = words.last { parts.append(text[first.startIndex..<last.endIndex]) }
                    words = []
                } else {
                    words.append(word)
                }
            }
            if let first = words.first, let last = words.last { parts.append(text[first.startIndex..<last.endIndex]) }
        }
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            let isSeparator = !(character.isLetter || character.isNumber || character.isWhitespace || ",.'’-()".contains(character))
                || (character == "-" && index > text.startIndex && text[text.index(before: index)].isWhitespace
                    && next < text.endIndex && text[next].isWhitespace)
            if isSeparator {
                close(at: index)
                start = next
            }
            index = next
        }
        close(at: text.endIndex)
        return parts
    }

    /// `text` with a comma before a US state's or a province's code that ends a part of it
    /// (between commas or what parts a list, ``listedParts(of:)``) after a name without one:
    /// "Sydney NS" is "Sydney, NS" (Nova Scotia), "Greenwich CT" "Greenwich, CT", "Hartford CT,
    /// USA" "Hartford, CT, USA". Only a code in capitals after capitalised words, in a text not
    /// all in capitals, is one ("Based in LA", "BATON ROUGE LA" stay as written).
    static func withCommasBeforeCodes(_ text: String) -> String {
        guard mayHaveCodeAfterAName(text) else { return text }
        var commas: [String.Index] = []
        let segments = text.split { !($0.isLetter || $0.isNumber || $0.isWhitespace || ".'’-".contains($0)) }
        for segment in segments {
            let words = segment.split(whereSeparator: \.isWhitespace)
            guard words.count > 1, let code = words.last, (2...3).contains(code.count), code.allSatisfy({ $0.isUppercase }),
                  words.dropLast().allSatisfy({ $0.first?.isUppercase == true }),
                  words.dropLast().contains(where: { $0.contains(where: \.isLowercase) }) else { continue }
            let normalized = SignalDetector.normalize(String(code))
            if usStatesByCode[normalized] != nil || provincesByCode[normalized] != nil { commas.append(words[words.count - 2].endIndex) }
        }
        var written = text
        for index in commas.reversed() { written.insert(",", at: index) }
        return written
    }

    /// Whether `text` has two or three capitals (ASCII, as every code is) after a space that
    /// follows a word's letter, digit or dot, and before no letter: what ``withCommasBeforeCodes(_:)``
    /// needs to find a code ("Sydney NS"; not "Austin, TX"), looked for in its bytes.
    private static func mayHaveCodeAfterAName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
        var index = 1
        while index < bytes.count {
            defer { index += 1 }
            guard isUpper(bytes[index]), bytes[index - 1] == 0x20 else { continue }
            var end = index
            while end < bytes.count, isUpper(bytes[end]) { end += 1 }
            guard (2...3).contains(end - index), end == bytes.count || !((bytes[end] | 0x20) >= 0x61 && (bytes[end] | 0x20) <= 0x7A) else { continue }
            var before = index - 1
            while before > 0, bytes[before] == 0x20 { before -= 1 }
            let byte = bytes[before]
            if (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte >= 0x30 && byte <= 0x39 || byte == 0x2E || byte >= 0x80 { return true }
        }
        return false
    }

    /// Short names of cities that name the city only as a part of a place of their own ("LA /
    /// NYC", "LA"): after a comma "LA" is Louisiana's code, and "la" a word of many names.
    private static let shortCityNames = ["LA": "Los Angeles", "L.A.": "Los Angeles"]

    /// Where a lead's place, as ``areas(of:)`` reads it, stands against the ICP location
    /// `wanted`. For a country, a region of the ``Gazetteer`` ("EMEA", "North America") or a list
    /// of them ("US & Canada"): inside when the place names it or an area within it ("Vancouver"
    /// in Canada, "Amsterdam" in EMEA, "Austin, TX" in North America; a place whose
    /// last part is a country is in that country only: "London, Ontario, Canada" is not in the
    /// United Kingdom), outside when every area it names lies elsewhere ("Remote — EU" for the
    /// United States), else unknown ("Remote — EU" for Germany). For anything else ("Texas",
    /// "Bay Area", "London"): outside when the place's last part names a country it is not in
    /// ("London, Ontario", "Paris, TX"), inside when the place names it, outside when the scorer knows the place's
    /// country without the gazetteer or it is another country than `wanted`'s, else unknown
    /// ("USA" for Texas: the scorer knows only its country); a US state or a province of
    /// another country ("Ontario") by the place's own state or province, named or by its code
    /// ("Toronto, ON"), when it names one, else by the state of a city the scorer knows in it
    /// ("Toronto" is in Ontario, "Seattle" not in Texas). For a list of places not all
    /// countries or regions ("US & London": ``ICPLocation/places``): inside when it is in one of
    /// them, outside when it is outside every one, else unknown. For a place with where it lies
    /// (``ICPLocation/held``): outside when the place is outside where it lies ("Paris, TX" for
    /// "Paris, France", "London, Ontario" for "London, UK", "Columbus, OH" for "Austin, TX");
    /// else for a US state or country before the comma ("Texas, US"), unless it is a city named
    /// as a US state ("New York, NY": ``HeldPlace/isCityNamedAsState``), as for that state or
    /// country; else (a city, "London, UK", or a city the scorer knows alone, "London", as
    /// written with its country) inside when the place names the city, however it writes the
    /// city's country or state ("London", "London, England", "Austin, Texas"); outside when
    /// every city the scorer knows in the place is another city of another metropolitan area,
    /// the ICP's city being one it knows there (``HeldPlace/namesOnlyOtherCities(_:)``:
    /// "Manchester, UK", "Houston, TX"; not "Oakland" for "San Francisco"); and unknown
    /// otherwise: a place naming only the city's country or state, a place the scorer does not
    /// know, or a city of the same area ("United Kingdom", "Croydon, England", "Brooklyn, NY"),
    /// may be in the city's area or not, as the scorer does not know where a city's area ends
    /// nor every name of a city (only the common ones, ``ICPLocation/names``: München is
    /// Munich), so it is no evidence against the ICP and gives no location points.
    static func placement(of areas: PlaceAreas, in wanted: ICPLocation) -> Placement {
        if !wanted.places.isEmpty {
            let placements = wanted.places.map { placement(of: areas, in: $0) }
            if placements.contains(.inside) { return .inside }
            return placements.allSatisfy { $0 == .outside } ? .outside : .unknown
        }
        assert(areas.hasStatesAndCities || !wanted.readsStatesAndCities, "\(wanted.phrase.text) reads the place's states and cities")
        if let held = wanted.held {
            guard placement(of: areas, in: held.holder) != .outside else {
                if held.isNamed(in: areas), held.otherReadings.contains(where: { placement(of: areas, in: $0) == .inside }) {
                    return .unknown
                }
                // A city of the ICP city's area across a state or province line: "Jersey City" for New York City.
                return held.namesCityOfItsMetroArea(areas) ? .unknown : .outside
            }
            let part = held.place
            if !held.isCityNamedAsState, part.isCountry || part.scope != nil || part.usState != nil || part.province != nil {
                return placement(of: areas, in: part)
            }
            if held.isNamed(in: areas) { return held.namesOnlyANamesake(areas) ? .outside : .inside }
            return held.namesOnlyOtherCities(areas) ? .outside : .unknown
        }
        let country = wanted.country
        if wanted.isCountry, let placeCountry = areas.lastPartCountry {
            return placeCountry == country ? .inside : .outside
        }
        // A place ending with a country, or a state or province of one, is in that country only:
        // "London, Ontario" is not in London, the United Kingdom's, nor "Tbilisi, Georgia" in the state.
        if wanted.scope == nil, let placeCountry = areas.lastPartCountry, !wanted.countries.isEmpty,
           !wanted.countries.contains(placeCountry) {
            return .outside
        }
        if wanted.usState != nil || wanted.province != nil {
            return placement(of: areas, inStateOrProvince: wanted)
        }
        if wanted.isNamed(in: areas.phrase, folded: areas.folded) || locationAliases[country, default: []].contains(where: {
            $0.occurs(in: country == unitedKingdom ? areas.withoutUKLookalikes : areas.phrase)
        }) {
            return .inside
        }
        if let scope = wanted.scope {
            if areas.named.contains(where: { $0.isSubset(of: scope) }) { return .inside }
            return !areas.named.isEmpty && areas.named.allSatisfy({ $0.isDisjoint(with: scope) }) ? .outside : .unknown
        }
        guard !areas.named.isEmpty else { return .unknown }
        if areas.isKnownWithoutGazetteer { return .outside }
        return !wanted.countries.isEmpty && areas.named.allSatisfy({ $0.isDisjoint(with: wanted.countries) }) ? .outside : .unknown
    }

    private static let otherCountryPhrases = otherCountries.sorted().map(SignalDetector.Phrase.init)
    /// The countries of ``locationAliases``, in order.
    private static let aliasedCountries = locationAliases.keys.sorted()

    /// Where a lead's place, its streets left out (``PlaceAreas/streetless``), stands against `wanted`, a
    /// US state or a province or state of another country, in the country of `wanted` or naming
    /// none: the state or province the place names after its first part, by name or code,
    /// decides ("Austin, TX" is in Texas, "Columbus, OH" is not, nor "Kansas City, MO" in
    /// Kansas, nor "Washington, D.C." in Washington; "Toronto, ON" is in Ontario); else its name
    /// as a place ("Southern Ontario", "Austin Texas"), not within a city's name the scorer knows
    /// ("Kansas City", "Virginia Beach") nor within another state's ("Washington DC", "West
    /// Virginia": ``PlaceAreas/usStatesNamed``), puts it inside; else the state of a city the
    /// scorer knows in it (``placementByCities(of:in:)``: "Toronto" is in Ontario, "Seattle" not
    /// in Texas); else another US state (or DC) it names as a place puts it outside ("Washington
    /// DC-Baltimore Area" for Washington, "Morgantown West Virginia" for Virginia); else a place
    /// elsewhere in the country may be in it or not.
    private static func placement(of areas: PlaceAreas, inStateOrProvince wanted: ICPLocation) -> Placement {
        if let wantedState = wanted.usState, let state = areas.usState {
            return state == wantedState ? .inside : .outside
        }
        if let wantedProvince = wanted.province, let province = areas.province {
            return province == wantedProvince ? .inside : .outside
        }
        let withoutCities = areas.withoutCities
        if let wantedState = wanted.usState {
            // By its name, or by its code where the ICP writes it so ("CT" in "Greenwich CT").
            if areas.usStatesNamed.contains(wantedState)
                || (usStatesByCode[SignalDetector.normalize(wanted.phrase.text)] != nil && wanted.phrase.occurs(in: withoutCities)) {
                return .inside
            }
        } else if wanted.isNamed(in: withoutCities, folded: withoutCities) {
            return .inside
        }
        guard !areas.named.isEmpty else { return .unknown }
        if let placed = placementByCities(of: areas, in: wanted.usState.map(Gazetteer.folded) ?? wanted.province ?? "") {
            return placed
        }
        if wanted.usState != nil, !areas.usStatesNamed.isEmpty { return .outside }
        let countries = wanted.usState == nil ? wanted.countries : [unitedStates]
        return areas.named.contains { !$0.isDisjoint(with: countries) } ? .unknown : .outside
    }

    /// `place` without its comma-separated parts that name a street, "Ontario Street", "Michigan
    /// Ave W", "Rue Ontario": a street named after a state, a province or a city is in none of
    /// them. A part names a street when a ``streetWords`` word ends it, before directions only,
    /// or one of ``leadingStreetWords`` starts it, with other words; but a street word that is a
    /// US state's code ("CT", Court or Connecticut) ends a street only before a part that is no
    /// country ("Elm Ct, Boston") or after a house number ("12 Maple Ct"): "Stamford ct" and
    /// "Hartford Ct, USA" are in Connecticut.
    static func withoutStreets(_ place: SignalDetector.Phrase) -> SignalDetector.Phrase {
        guard namesAStreetWord(place) else { return place }
        let parts = place.text.split(separator: ",", omittingEmptySubsequences: false)
        let words = parts.map { SignalDetector.normalize(String($0)).split(separator: " ") }
        let kept = parts.indices.filter { index in
            let words = words[index]
            guard words.count > 1 else { return true }
            let named = words.reversed().drop(while: directionWords.contains)
            guard named.count > 1, let last = named.first, streetWords.contains(last) else { return !leadingStreetWords.contains(words[0]) }
            return stateCodeStreetWords.contains(last) && !(words[0].first?.isNumber ?? false)
                && parts[(index + 1)...].allSatisfy { isCountry(countryNames[SignalDetector.normalize(String($0))] ?? SignalDetector.normalize(String($0))) }
        }
        return kept.count == parts.count ? place : SignalDetector.Phrase(kept.map { parts[$0] }.joined(separator: ","))
    }

    /// Whether a word of `place` is one of ``streetWords`` or ``leadingStreetWords``, read in its
    /// normalised bytes: a place with none names no street (most do not).
    private static func namesAStreetWord(_ place: SignalDetector.Phrase) -> Bool {
        let needle = place.needle
        var start = needle.startIndex
        while let end = needle[start...].dropFirst().firstIndex(of: 0x20) {
            if streetWordBytes.contains(needle[(start + 1)..<end]) { return true }
            start = end
        }
        return false
    }

    /// ``streetWords`` and ``leadingStreetWords`` as bytes.
    private static let streetWordBytes: Set<ArraySlice<UInt8>> = Set(streetWords.union(leadingStreetWords).map { ArraySlice($0.utf8) })

    /// The ``streetWords`` that are a US state's code too: "ct", Connecticut's.
    private static let stateCodeStreetWords = streetWords.filter { usStatesByCode[" \($0) "] != nil }

    /// Words that end a street's name (``withoutStreets(_:)``), normalised.
    private static let streetWords: Set<Substring> = [
        "street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "drive", "dr", "lane", "ln", "way",
        "parkway", "pkwy", "highway", "hwy", "court", "ct", "terrace", "crescent",
    ]
    /// Words that start a street's name in French, Spanish and Portuguese ("Rue Ontario", "Calle Mayor").
    private static let leadingStreetWords: Set<Substring> = ["rue", "calle", "avenida", "rua", "chemin", "boulevard", "avenue"]
    /// Directions written after a street's name ("Queen Street West", "Ontario Ave W").
    private static let directionWords: Set<Substring> = ["north", "south", "east", "west", "n", "s", "e", "w", "ne", "nw", "se", "sw"]

    /// Where the ``Gazetteer``'s cities a place names where it says they are
    /// (``PlaceAreas/cities``: not Perth in "Perth, Scotland") stand against the US state or
    /// province `wanted` (folded) by the states they lie in (``Gazetteer/states(ofCity:)``):
    /// inside when one lies in it only ("Toronto" in Ontario), outside when none may ("Seattle"
    /// for Texas), else unknown ("Portland", Oregon's or Maine's, for Oregon); nil when the place
    /// names no such city, or one whose state the gazetteer does not list.
    private static func placementByCities(of areas: PlaceAreas, in wanted: String) -> Placement? {
        let states = areas.citiesStates
        guard !states.isEmpty, !states.contains(where: \.isEmpty) else { return nil }
        if states.contains([wanted]) { return .inside }
        return states.allSatisfy { !$0.contains(wanted) } ? .outside : .unknown
    }

    /// The US state a place names after its first comma-separated part, by name or postal code
    /// ("Austin, TX, United States", "Houston, Texas"), or as its only part ("Texas"), normalised;
    /// nil when none. `parts` are the place's comma-separated parts, folded (``Gazetteer/folded(_:)``).
    private static func usState(ofParts parts: [String]) -> String? {
        for part in parts.count > 1 ? Array(parts.dropFirst().reversed()) : parts {
            let part = " \(part) "
            if let state = usStatesByName[part] ?? (parts.count > 1 ? usStatesByCode[part] : nil) { return state }
            if newYorkCityNames.contains(part) { return newYork }
        }
        return nil
    }

    /// The province or state of another country a place names after its first comma-separated
    /// part, by name ("Toronto, Ontario") or by a code of ``provincesByCode`` of the country the
    /// place is in, `country` (its ``lastPartCountry(of:)``: "Toronto, ON"; "Perth, WA" where
    /// Perth is Australia's, not "Seattle, WA"), folded; nil when none. `parts` are as for
    /// ``usState(ofParts:)``.
    private static func province(ofParts parts: [String], country: String?) -> String? {
        for name in parts.dropFirst().reversed() {
            if Gazetteer.standard.subdivisions[name] != nil { return name }
            if let named = provincesByCode[" \(name) "]?.first(where: {
                Gazetteer.standard.subdivisions[$0] == country
            }) {
                return named
            }
        }
        return nil
    }

    /// The US states (and DC) `text` names by name, normalised as ``usStatesByName``'s values,
    /// the longest name first ("west virginia", not "virginia"; "washington dc", not
    /// "washington"): a state's name, DC's ("DC", "D.C.", "Washington DC", "District of
    /// Columbia") and New York City's (``newYorkCityNames``: New York); not the other postal
    /// codes, most of which are words ("in", "or", "me"). `folded` is written as
    /// ``Gazetteer/folded(_:)`` and ``Gazetteer/withoutCities(_:)`` write (its "," a word no name has).
    static func usStatesNamed(in folded: String) -> [String] {
        let words = folded.split(separator: " ")
        var found: [String] = []
        var start = 0
        while start < words.count {
            guard let longest = usStatePlaceNameLengths[words[start]] else {
                start += 1
                continue
            }
            let match = (1...min(longest, words.count - start)).reversed().lazy.compactMap { length -> (Int, String)? in
                usStatesByPlaceName[" " + words[start..<start + length].joined(separator: " ") + " "].map { (length, $0) }
            }.first
            if let (length, state) = match {
                found.append(state)
                start += length
            } else {
                start += 1
            }
        }
        return found
    }

    /// The names ``usStatesNamed(in:)`` reads, normalised, with their state's.
    private static let usStatesByPlaceName: [String: String] = usStatesByName
        .merging(["dc", "d c", "washington dc", "washington d c"].map { (SignalDetector.normalize($0), districtOfColumbia) }) { name, _ in name }
        .merging(newYorkCityNames.map { ($0, newYork) }) { name, _ in name }
    /// The first words of the names of ``usStatesByPlaceName``, with the most words of a name starting with each.
    private static let usStatePlaceNameLengths: [Substring: Int] = usStatesByPlaceName.keys.reduce(into: [:]) { lengths, name in
        let words = name.split(separator: " ")
        lengths[words[0]] = max(lengths[words[0]] ?? 0, words.count)
    }
    private static let districtOfColumbia = SignalDetector.normalize("district of columbia")

    /// New York City's names that are no US state's, normalised: in the state of New York.
    private static let newYorkCityNames: Set<String> = Set(["nyc", "new york city"].map(SignalDetector.normalize))
    private static let newYork = SignalDetector.normalize("new york")

    /// The US states (and DC, written "DC" or "D.C.") by postal code and by name, normalised, each to its name.
    private static let usStatesByCode: [String: String] = [
        "al": "alabama", "ak": "alaska", "az": "arizona", "ar": "arkansas", "ca": "california", "co": "colorado",
        "ct": "connecticut", "de": "delaware", "fl": "florida", "ga": "georgia", "hi": "hawaii", "id": "idaho",
        "il": "illinois", "in": "indiana", "ia": "iowa", "ks": "kansas", "ky": "kentucky", "la": "louisiana", "me": "maine",
        "md": "maryland", "ma": "massachusetts", "mi": "michigan", "mn": "minnesota", "ms": "mississippi", "mo": "missouri",
        "mt": "montana", "ne": "nebraska", "nv": "nevada", "nh": "new hampshire", "nj": "new jersey", "nm": "new mexico",
        "ny": "new york", "nc": "north carolina", "nd": "north dakota", "oh": "ohio", "ok": "oklahoma", "or": "oregon",
        "pa": "pennsylvania", "ri": "rhode island", "sc": "south carolina", "sd": "south dakota", "tn": "tennessee",
        "tx": "texas", "ut": "utah", "vt": "vermont", "va": "virginia", "wa": "washington", "wv": "west virginia",
        "wi": "wisconsin", "wy": "wyoming", "dc": "district of columbia", "d c": "district of columbia",
    ].reduce(into: [:]) { states, entry in
        states[SignalDetector.normalize(entry.key)] = SignalDetector.normalize(entry.value)
    }
    private static let usStatesByName: [String: String] = Dictionary(
        usStatesByCode.values.map { ($0, $0) }, uniquingKeysWith: { first, _ in first })

    /// The country the last comma-separated part of `place` names, normalised, if it names one:
    /// a country's name, or its two-letter code after one of its ``citiesAbroad``.
    private static func lastPartCountry(of place: String) -> String? {
        let parts = place.split(separator: ",")
        guard let last = parts.last else { return nil }
        let name = SignalDetector.normalize(String(last))
        if parts.count > 1, let city = citiesAbroad[SignalDetector.normalize(String(parts[0]))], city.code == name {
            return city.country
        }
        // Any other Canadian city the gazetteer knows, with Canada's code: "Saskatoon, CA".
        if parts.count > 1, name == canadaCode, Gazetteer.standard.areas(in: String(parts[0])) == [[canada]] { return canada }
        // A US state's name ends a US place: "Santa Fe, New Mexico" is not in Mexico.
        if parts.count > 1, usStateNames.contains(name) { return unitedStates }
        if parts.count > 1, let country = regionCodes[name] { return country }
        // A code of a province and of a country, or of two territories: where the city is ("Regina, SK").
        if let reading = codeReading(after: place) { return country(ofReading: reading) }
        // A province or state of another country: "London, Ontario" is not in the United Kingdom.
        if parts.count > 1, let country = Gazetteer.standard.subdivisions[Gazetteer.folded(String(last))] { return country }
        let country = countryNames[name] ?? ukCountries[name] ?? name
        return isCountry(country) ? country : nil
    }

    /// The countries of the United Kingdom, normalised, that end a place in it ("Perth,
    /// Scotland", "Cardiff, Wales"): the United Kingdom's only as where a place lies, not as an
    /// ICP's country (``countryNames``).
    private static let ukCountries: [String: String] = ["england", "scotland", "wales", "northern ireland"]
        .reduce(into: [:]) { names, name in names[SignalDetector.normalize(name)] = unitedKingdom }

    /// Whether free text written where a place goes names none: "Everywhere 🌍", "Remote",
    /// "Planet Earth", "he/him", an emoji: no word in it but ``noPlaceWords``.
    static func namesNoPlace(_ text: String) -> Bool {
        SignalDetector.normalize(text).split(separator: " ").allSatisfy { noPlaceWords.contains($0) }
    }

    /// Whether an ICP location names no place, "Global", "Worldwide", "Remote", "Anywhere": its
    /// words are all ``icpNoPlaceWords``, fewer than an X user's (``noPlaceWords``), whose "in",
    /// "or", "at" and "on" are Indiana, Oregon, Austria and Ontario in an ICP's list.
    static func icpNamesNoPlace(_ text: String) -> Bool {
        let words = SignalDetector.normalize(text).split(separator: " ")
        return !words.isEmpty && words.allSatisfy { icpNoPlaceWords.contains($0) }
    }

    private static let icpNoPlaceWords: Set<Substring> = [
        "global", "globally", "worldwide", "world", "wide", "anywhere", "everywhere", "remote", "international",
        "internationally", "all", "any", "location", "locations", "regions", "countries",
    ]

    /// Words of what X users write as their location when it is no place.
    private static let noPlaceWords: Set<Substring> = [
        "everywhere", "anywhere", "nowhere", "somewhere", "wherever", "here", "there", "remote", "remotely", "worldwide",
        "global", "globally", "world", "the", "earth", "planet", "universe", "space", "internet", "online", "web", "cloud",
        "metaverse", "home", "on", "in", "at", "a", "road", "transit", "digital", "nomad", "he", "him", "she", "her",
        "they", "them", "his", "hers", "theirs", "and", "or",
    ]

    private static let unitedStates = SignalDetector.normalize("united states")
    /// The postal codes of the US states (and DC), Canada's provinces and territories and
    /// Australia's states and territories, normalised, with their country: read only as the last
    /// part of a place ("Nashville, TN", "Vancouver, BC", "Sydney, NSW"), as most are also words
    /// ("in", "or", "me"). Not those as often a country's code there (``codesOfCountriesToo``),
    /// nor a province's code that is a country's too or two territories' (``countriesOfCodes``).
    private static let regionCodes: [String: String] = usStatesByCode.keys.filter { !codesOfCountriesToo.contains($0) }
        .reduce(into: [:]) { codes, code in codes[code] = unitedStates }
        // "WA" stays Washington's.
        .merging(provincesByCode.compactMapValues { provinces in
            countriesOfCodes(provinces).count == 1 ? Gazetteer.standard.subdivisions[provinces[0]] : nil
        }.filter { countriesByProvinceCode[$0.key] == nil }) { state, _ in state }
    /// The postal codes of Canada's provinces and territories and Australia's states and
    /// territories people write after a city, normalised, with the names of the provinces or
    /// states each stands for as the ``Gazetteer``'s subdivisions hold them: one but for "NT",
    /// the Northwest Territories' and the Northern Territory's.
    private static let provincesByCode: [String: [String]] = [
        "ab": ["alberta"], "bc": ["british columbia"], "mb": ["manitoba"], "nb": ["new brunswick"], "ns": ["nova scotia"],
        "on": ["ontario"], "qc": ["quebec"], "sk": ["saskatchewan"], "nl": ["newfoundland and labrador"],
        "pe": ["prince edward island"], "pei": ["prince edward island"], "nt": ["northwest territories", "northern territory"],
        "nwt": ["northwest territories"], "yt": ["yukon"], "nu": ["nunavut"], "nsw": ["new south wales"], "vic": ["victoria"],
        "qld": ["queensland"], "tas": ["tasmania"], "wa": ["western australia"], "sa": ["south australia"],
        "act": ["australian capital territory"],
    ].reduce(into: [:]) { codes, entry in codes[SignalDetector.normalize(entry.key)] = entry.value }
    /// The codes of ``provincesByCode`` that are as often a country's code after a city,
    /// normalised, with the countries' names: "SK" Slovakia, "NL" the Netherlands, "PE" Peru, "SA"
    /// Saudi Arabia (and South Africa as people write it). Such a code, and "NT", is read as the
    /// country or province in which the scorer knows the city before it (``codeReading(after:)``).
    private static let countriesByProvinceCode: [String: [String]] = [
        "sk": ["slovakia"], "nl": ["netherlands"], "pe": ["peru"], "sa": ["saudi arabia", "south africa"],
    ].reduce(into: [:]) { codes, entry in codes[SignalDetector.normalize(entry.key)] = entry.value.map(SignalDetector.normalize) }

    /// The countries of the provinces `provinces` (folded names of the ``Gazetteer``'s subdivisions).
    private static func countriesOfCodes(_ provinces: [String]) -> Set<String> {
        Set(provinces.compactMap { Gazetteer.standard.subdivisions[$0] })
    }

    /// The places a code after a place's comma may stand for when it is a province's or
    /// territory's code (``provincesByCode``; not a US state's, whose readings are
    /// ``countriesOfStateCodes``'), each as a country's name (normalised) or a province's
    /// (folded), the countries first: for "SK", Slovakia and Saskatchewan. Empty when it is none.
    private static func readings(ofCode code: String) -> [String] {
        guard usStatesByCode[code] == nil, let provinces = provincesByCode[code] else { return [] }
        return (countriesByProvinceCode[code] ?? []) + provinces
    }

    /// The places `after`, what follows a place's first comma, stands for when it starts with a
    /// province's or territory's code (``readings(ofCode:)``), each written out ("SK, Canada":
    /// "saskatchewan, Canada"): those in the country the rest of `after` names, else those in
    /// the one country the scorer knows the city `city` in, else all of them, a country first.
    /// Empty when `after` starts with no such code.
    static func readings(ofCodeIn after: String, city: String) -> [String] {
        let parts = after.split(separator: ",", omittingEmptySubsequences: false)
        let all = readings(ofCode: SignalDetector.normalize(String(parts[0])))
        guard !all.isEmpty else { return [] }
        let rest = parts.dropFirst().joined(separator: ",")
        let context: Set<String>
        if SignalDetector.Phrase(rest).isBlank {
            context = countries(ofCity: city)
        } else {
            let location = ICPLocation(rest, isWhereAPlaceLies: true)
            context = location.isCountry ? [location.country] : location.countries
        }
        let narrowed = context.count == 1 ? all.filter { context.contains(country(ofReading: $0)) } : []
        return (narrowed.isEmpty ? all : narrowed).map { rest.isEmpty ? $0 : $0 + "," + rest }
    }

    /// The country (normalised) of a reading of ``readings(ofCode:)``.
    private static func country(ofReading reading: String) -> String {
        Gazetteer.standard.subdivisions[reading] ?? reading
    }

    /// The one reading of the code that ends `place` ("Regina, SK") that the scorer knows the
    /// place's first part in as a city, as ``readings(ofCode:)`` gives it: "saskatchewan" for
    /// "Regina, SK", "slovakia" for "Bratislava, SK", "northern territory" for "Darwin, NT"; nil
    /// when the code is no province's, or the scorer knows the city in none of the readings'
    /// countries or in two ("Moose Jaw, SK").
    private static func codeReading(after place: String) -> String? {
        let parts = place.split(separator: ",")
        guard parts.count > 1, let last = parts.last else { return nil }
        let all = readings(ofCode: SignalDetector.normalize(String(last)))
        guard !all.isEmpty else { return nil }
        let known = Gazetteer.standard.areas(in: String(parts[0]))
        let readings = all.filter { known == [[country(ofReading: $0)]] }
        return Set(readings.map(country(ofReading:))).count == 1 ? readings.first : nil
    }
    /// The codes of ``usStatesByCode`` that are as often a country's code after a place: DE
    /// (Germany), IN (India), AR (Argentina), ID (Indonesia).
    private static let codesOfCountriesToo = Set(["de", "in", "ar", "id"].map(SignalDetector.normalize))
    /// The US states' names (not their codes, nor DC's), normalised.
    private static let usStateNames = Set(usStatesByName.keys).subtracting([SignalDetector.normalize("district of columbia")])

    /// Well-known cities of the countries whose two-letter code is also a US state's postal code,
    /// with that code and the country, normalised: "Toronto, CA" is in Canada and "Tel Aviv, IL"
    /// in Israel, while "San Diego, CA" and "Vancouver, WA" stay in the United States.
    private static let citiesAbroad: [String: (code: String, country: String)] = [
        ("ca", "canada", ["toronto", "montreal", "montréal", "vancouver", "calgary", "ottawa", "edmonton", "winnipeg",
                          "mississauga", "halifax", "quebec city", "québec city", "kitchener"]),
        ("il", "israel", ["tel aviv", "tel aviv yafo", "tel aviv-yafo", "jerusalem", "haifa", "herzliya", "ramat gan",
                          "petah tikva", "beersheba", "be'er sheva"]),
        ("co", "colombia", ["bogota", "bogotá", "medellin", "medellín", "cali", "barranquilla", "cartagena"]),
        ("ma", "morocco", ["casablanca", "rabat", "marrakech", "marrakesh", "tangier"]),
        ("pa", "panama", ["panama city", "panamá"]),
        ("wa", "australia", ["perth", "fremantle"]),
        // The country Georgia, not the state.
        ("georgia", "georgia", ["tbilisi", "batumi", "kutaisi", "rustavi"]),
    ].reduce(into: [:]) { cities, entry in
        let (code, country, names) = entry
        for name in names {
            cities[SignalDetector.normalize(name)] = (SignalDetector.normalize(code), SignalDetector.normalize(country))
        }
    }

    /// Whether the scorer knows `normalized` as a country's name.
    static func isCountry(_ normalized: String) -> Bool {
        otherCountries.contains(normalized) || locationAliases[normalized] != nil
    }

    /// Regions named after a part of the United Kingdom elsewhere: New England is in the United
    /// States, New South Wales in Australia.
    private static func withoutLookalikes(_ place: SignalDetector.Phrase, of country: String) -> SignalDetector.Phrase {
        guard country == unitedKingdom, ukLookalikes.contains(where: { $0.occurs(in: place) }) else { return place }
        let text = SignalDetector.normalize(place.text)
        return SignalDetector.Phrase(text.replacingOccurrences(of: " new south wales ", with: " ")
            .replacingOccurrences(of: " new england ", with: " "))
    }

    private static let ukLookalikes = ["new south wales", "new england"].map(SignalDetector.Phrase.init)
    private static let unitedKingdom = SignalDetector.normalize("united kingdom")
    private static let canada = SignalDetector.normalize("canada")
    private static let canadaCode = SignalDetector.normalize("ca")

    /// Countries besides those with aliases, normalised, that LinkedIn and X places end with.
    private static let otherCountries: Set<String> = Set([
        "australia", "new zealand", "canada", "ireland", "india", "germany", "france", "spain", "portugal", "italy",
        "netherlands", "belgium", "luxembourg", "switzerland", "austria", "sweden", "norway", "denmark", "finland",
        "iceland", "poland", "czechia", "czech republic", "slovakia", "hungary", "romania", "bulgaria", "greece",
        "croatia", "serbia", "slovenia", "estonia", "latvia", "lithuania", "ukraine", "turkey", "türkiye", "israel",
        "united arab emirates", "uae", "saudi arabia", "qatar", "egypt", "south africa", "nigeria", "kenya", "ghana",
        "morocco", "brazil", "mexico", "argentina", "chile", "colombia", "peru", "uruguay", "japan", "china",
        "south korea", "korea", "taiwan", "hong kong", "singapore", "malaysia", "indonesia", "philippines",
        "thailand", "vietnam", "pakistan", "bangladesh", "sri lanka",
    ].map(SignalDetector.normalize))

    /// Other names of the ICP locations that have them, keyed by the location normalised.
    /// Not "america" alone: Latin and South America are not the United States.
    private static let locationAliases: [String: [SignalDetector.Phrase]] = [
        "united states": ["united states", "usa", "us", "u s", "u s a", "united states of america", "new england"] + usStates,
        "united kingdom": ["united kingdom", "uk", "u k", "england", "scotland", "wales", "great britain", "britain", "london"],
    ].reduce(into: [:]) { aliases, entry in
        aliases[SignalDetector.normalize(entry.key)] = entry.value.map(SignalDetector.Phrase.init)
    }

    /// The short and long names an ICP may give a country with aliases, normalised, to the key
    /// of ``locationAliases``: an ICP of "USA" takes what one of "United States" takes.
    private static let countryNames: [String: String] = [
        "usa": "united states", "us": "united states", "u s": "united states", "u s a": "united states",
        "united states of america": "united states", "america": "united states",
        "uk": "united kingdom", "u k": "united kingdom", "great britain": "united kingdom", "britain": "united kingdom",
        // As the gazetteer's regions and cities name them.
        "uae": "united arab emirates", "czech republic": "czechia", "korea": "south korea", "türkiye": "turkey",
    ].reduce(into: [:]) { names, entry in
        names[SignalDetector.normalize(entry.key)] = SignalDetector.normalize(entry.value)
    }

    /// US state names and the postal codes that are not also common words.
    private static let usStates = [
        "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware", "florida",
        "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky", "louisiana", "maine",
        "maryland", "massachusetts", "michigan", "minnesota", "mississippi", "missouri", "montana", "nebraska",
        "nevada", "new hampshire", "new jersey", "new mexico", "new york", "north carolina", "north dakota", "ohio",
        "oklahoma", "oregon", "pennsylvania", "rhode island", "south carolina", "south dakota", "tennessee", "texas",
        "utah", "vermont", "virginia", "washington", "west virginia", "wisconsin", "wyoming", "ca", "tx", "ny", "nj",
        "wa", "ma", "il", "fl", "co", "ga", "nc", "va", "az", "pa", "mn", "ut", "sf", "nyc", "bay area", "silicon valley",
    ]

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
                add(signal, base: 20, cap: 40, bucket: "pain", text: "post mentions pain point \"\(RuleBasedScorer.quoted(signal.detail))\"")
            case .competitorMention:
                add(signal, base: 15, cap: 30, bucket: "competitor", text: "post mentions competitor \(RuleBasedScorer.quoted(signal.detail))")
            case .recommendationRequest:
                add(signal, base: 20, cap: 40, bucket: "asking", text: "post asks for recommendations (\"\(RuleBasedScorer.quoted(signal.detail))\")")
            case .switchingIntent:
                add(signal, base: 20, cap: 40, bucket: "asking", text: "post talks about switching (\"\(RuleBasedScorer.quoted(signal.detail))\")")
            case .customKeyword:
                add(signal, base: 10, cap: 20, bucket: "keyword", text: "post contains keyword \"\(RuleBasedScorer.quoted(signal.detail))\"")
            case .competitorEngagement:
                add(signal, base: 10, cap: 20, bucket: "orbit-competitor", text: "engages with competitor \(RuleBasedScorer.quoted(signal.detail)) (\(signal.count) interactions)")
            case .adjacentEngagement:
                add(signal, base: 3, cap: 6, bucket: "orbit-adjacent", text: "engages with adjacent vendor \(RuleBasedScorer.quoted(signal.detail))")
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

    /// The current position LinkedIn names as the lead's title or employer, else the latest
    /// started: an advisor's seat or a board role started lately beside it is no new role.
    static func mainExperience(of linkedin: LinkedInProfile) -> Experience? {
        let current = linkedin.experiences.filter(\.isCurrent)
        guard current.count > 1 else { return current.first }
        let company = ScoringVocabulary.normalize(linkedin.company)
        let title = ScoringVocabulary.normalize(linkedin.jobTitle)
        let named = current.filter { experience in
            (!linkedin.company.isBlank && ScoringVocabulary.normalize(experience.company) == company)
                || (!linkedin.jobTitle.isBlank && ScoringVocabulary.normalize(experience.title) == title)
        }
        return (named.isEmpty ? current : named).max { ($0.startDate ?? .distantPast) < ($1.startDate ?? .distantPast) }
    }

    private static func timing(
        profile: EnrichedProfile, evidence: FitEvidence, posts: [Post], signals: [SignalDetector.Signal], now: Date
    ) -> (Int, [ScoreReason]) {
        var reasons: [ScoreReason] = []
        if let earlier = evidence.earlierLinkedInRole, let title = evidence.title {
            let employer = evidence.company.map { " at \(RuleBasedScorer.quoted($0.value))" } ?? ""
            reasons.append(ScoreReason(
                signal: "job change: X bio says \(RuleBasedScorer.quoted(title.value))\(employer), LinkedIn still \(RuleBasedScorer.quoted(earlier.title)) at \(RuleBasedScorer.quoted(earlier.company))",
                points: 25, source: "x"))
        }
        if evidence.earlierLinkedInRole == nil, let current = profile.linkedin.flatMap(mainExperience), let start = current.startDate {
            if start > ActivityBuilder.latestDate(at: now) {
                // Dated ahead, past the clocks' day (an announced move): not started yet.
                let days = start.timeIntervalSince(now) / 86_400
                if days <= 90 {
                    reasons.append(ScoreReason(signal: "starts as \(RuleBasedScorer.quoted(current.title)) in \(Int(days)) days", points: 35))
                }
            } else {
                let days = ageInDays(start, now: now)
                let points = days <= 90 ? 35 : days <= 180 ? 25 : days <= 365 ? 12 : 0
                if points > 0 {
                    reasons.append(ScoreReason(signal: "started as \(RuleBasedScorer.quoted(current.title)) \(Int(days)) days ago", points: points))
                }
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
            reasons.append(ScoreReason(signal: "\(signal.kind.rawValue) (\"\(RuleBasedScorer.quoted(signal.detail))\", \(ageText(signal.date, now: now)))", points: points))
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

    static func clamp(_ value: Int) -> Int { min(100, max(0, value)) }

    /// `reasons`, and when their points add up to other than `score` (held within 0 and 100), a
    /// last reason that says so with the difference: a card's reasons add up to its score.
    static func addingUp(_ reasons: [ScoreReason], to score: Int) -> [ScoreReason] {
        let sum = reasons.reduce(0) { $0 + $1.points }
        guard sum != score else { return reasons }
        return reasons + [ScoreReason(signal: "held at \(score) (the reasons above add up to \(sum))", points: score - sum)]
    }
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
        decide(account: account, card: card, keepingReasons: true)
    }

    /// ``evaluate(account:card:)``'s verdict without its reasons: what most leads need (an
    /// ineligible lead's reasons are not kept).
    public static func isEligible(account: AccountConfig, card: ScoreCard) -> Bool {
        decide(account: account, card: card, keepingReasons: false).isEligible
    }

    /// The checks, in one place; their reasons are written only when `keepingReasons`.
    private static func decide(account: AccountConfig, card: ScoreCard, keepingReasons: Bool) -> Decision {
        guard let rule = account.autopilot, rule.isEnabled else {
            return Decision(isEligible: false, reasons: keepingReasons ? ["autopilot is off for the account"] : [])
        }
        var reasons: [String] = []
        var isEligible = true
        func check(_ passed: Bool, _ text: @autoclosure () -> String) {
            if keepingReasons { reasons.append((passed ? "passed: " : "failed: ") + text()) }
            isEligible = isEligible && passed
        }
        check(account.billingState == .active, "billing is \(account.billingState.rawValue)")
        check(card.buyerState == rule.requiredBuyerState, "buyer state \(card.buyerState.rawValue), required \(rule.requiredBuyerState.rawValue)")
        // Whatever the rule asks: a poor-fit or monitored lead is never put into outreach.
        if rule.requiredBuyerState != .active {
            check(card.buyerState == .active, "autopilot enrolls only active leads (the rule asks for \(rule.requiredBuyerState.rawValue))")
        }
        check(card.fit >= rule.minimumFit, "fit \(card.fit), minimum \(rule.minimumFit)")
        check(card.intent >= rule.minimumIntent, "intent \(card.intent), minimum \(rule.minimumIntent)")
        return Decision(isEligible: isEligible, reasons: reasons)
    }

    /// The enrollment record for an eligible lead; nil when not eligible.
    public static func enrollment(
        account: AccountConfig, card: ScoreCard, leadID: LeadID, runID: RunID, offerID: OfferID, at: Date
    ) -> AutopilotEnrollment? {
        guard isEligible(account: account, card: card) else { return nil }
        let decision = evaluate(account: account, card: card)
        return AutopilotEnrollment(
            leadID: leadID, runID: runID, accountID: account.accountID, offerID: offerID, fit: card.fit,
            intent: card.intent, buyerState: card.buyerState, reasons: decision.reasons, enrolledAt: at)
    }
}
