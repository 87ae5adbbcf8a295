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
