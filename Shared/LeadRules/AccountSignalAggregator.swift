import Foundation
import LeadModel

/// Combines the signals of several leads at one company into a heat score (the dark funnel).
///
/// A value type: ``add(leadID:profile:)`` records (or replaces) one lead's contribution, and
/// ``signals(previousHeat:now:)`` computes the heat of every company with at least two people.
///
/// People, not leads: one person can be several leads of an account (found for one offer and
/// matched from the lead pool into another, or found by two searches). Leads with the same
/// person key (``AccountSignalContribution/personKey``: their LinkedIn, else X, profile URL) are
/// one person at a company, and a signal two of them carry (one post read for two offers) counts
/// once. Without it, a person and their pool match made a company of one person hot.
///
/// Heat: each signal has a base weight (asking for a recommendation 10, switching 9, competitor
/// mention 6, pain point 5, custom keyword 4, competitor engagement 3 per interaction up to 4,
/// competitor orbit cluster 10, new orbit cluster 4 (``OrbitClusters``), hiring/funding/launch 2,
/// adjacent-vendor engagement 1), halved every 30 days of age. The raw sum
/// is multiplied by `1 + 0.25 × (people - 1)` (more people, more heat) and mapped onto 0-100 by
/// `100 × (1 - e^(-raw / 30))`. Hot ≥ 70, warm ≥ 40, else cool. Trend against the previous day's
/// heat: ≥ +5 rising, ≤ -5 cooling, else stable; without a previous value, stable.
///
/// Recording or forgetting a lead costs its person's signals at the company (for most people,
/// the lead's own), not the company's: every weight falls by the same factor as time passes, so
/// the sum of weights is kept scaled to a reference date, and the strongest signals keep their
/// order; a re-scored lead moves only the signals it gains or loses. Only a listed signal leaving
/// (others waiting behind the list), or signals dated after `now`, make a company's figures be
/// computed from all its signals.
public struct AccountSignalAggregator: Sendable {
    /// A signal with the lead it came from and its weight relative to the company's reference date.
    private struct Weighted: Sendable {
        var leadID: LeadID
        var signal: SignalDetector.Signal
        /// `baseWeight × 2^((date − reference) / 30 days)`: the weight at the reference date,
        /// in the order of the weights at any date after every signal.
        var scaled: Double

        /// Strongest first; ties by lead, kind and detail, so equal inputs give equal records.
        static func isStronger(_ lhs: (weight: Double, leadID: String, signal: SignalDetector.Signal),
                               than rhs: (weight: Double, leadID: String, signal: SignalDetector.Signal)) -> Bool {
            (lhs.weight, rhs.leadID, rhs.signal.kind.rawValue, rhs.signal.detail)
                > (rhs.weight, lhs.leadID, lhs.signal.kind.rawValue, lhs.signal.detail)
        }
    }

    /// A company's identity, the leads and people seen there, and the running figures of their signals.
    ///
    /// The figures count each person's signals: the distinct signals of their leads here (one
    /// seen by two of their leads, the same post read for two offers, counts once; a relationship
    /// two of them saw on different days counts once, as last seen: ``counted(of:)``).
    private struct CompanyBucket: Sendable {
        var name: String
        /// Each lead's person and signals.
        var leads: [LeadID: (person: String, signals: [SignalDetector.Signal])] = [:]
        /// Each person's leads here.
        var people: [String: Set<LeadID>] = [:]
        /// The date the scaled weights refer to: the latest signal's, so none exceeds its base weight.
        var reference: Date?
        /// The sum of every counted signal's scaled weight.
        var scaledSum = 0.0
        /// The strongest counted signals by scaled weight, at most ``AccountSignalAggregator/maxListedSignals``.
        var strongest: [Weighted] = []
        /// How many signals count.
        var signalCount = 0

        init(name: String) { self.name = name }

        /// Records a lead, or records it again (re-scored): only the signals its person gains or
        /// loses move the figures.
        mutating func add(_ leadID: LeadID, person: String, _ signals: [SignalDetector.Signal]) {
            if let recorded = leads[leadID]?.person, recorded != person { remove(leadID) }
            let before = counted(of: person)
            leads[leadID] = (person, signals)
            people[person, default: []].insert(leadID)
            recount(person, before: before)
        }

        /// Takes a lead out; its person's signals count as their other leads here have them.
        mutating func remove(_ leadID: LeadID) {
            guard let person = leads[leadID]?.person else { return }
            let before = counted(of: person)
            leads[leadID] = nil
            people[person]?.remove(leadID)
            if people[person]?.isEmpty == true { people[person] = nil }
            recount(person, before: before)
            if leads.isEmpty { reference = nil }
        }

        /// The signals a person counts with, each with the lead it is listed under (see the type).
        ///
        /// Of a person's several leads: a signal of a post counts as often as the lead that has it
        /// most often, listed under the first of them by id. Signals of no post (engagement with
        /// an account, an orbit cluster) are a relationship seen when a lead was enriched, with
        /// that day's date and count: leads enriched weeks apart see it twice, so per kind and
        /// detail the signals of one lead count, the one that saw it last (then more of it, then
        /// the first by id).
        func counted(of person: String) -> [(leadID: LeadID, signal: SignalDetector.Signal)] {
            guard let ids = people[person] else { return [] }
            if ids.count == 1, let id = ids.first { return leads[id]!.signals.map { (id, $0) } }
            var counted: [(leadID: LeadID, signal: SignalDetector.Signal)] = []
            var multiplicity: [SignalDetector.Signal: Int] = [:]
            /// Per relationship, the lead whose sight of it counts, and its signals of it.
            var relationships: [RelationshipKey: (leadID: LeadID, signals: [SignalDetector.Signal])] = [:]
            for id in ids.sorted(by: { $0.rawValue < $1.rawValue }) {
                var seen: [SignalDetector.Signal: Int] = [:]
                var sights: [RelationshipKey: [SignalDetector.Signal]] = [:]
                for signal in leads[id]!.signals {
                    guard signal.postID != nil else {
                        sights[RelationshipKey(kind: signal.kind, detail: signal.detail), default: []].append(signal)
                        continue
                    }
                    seen[signal, default: 0] += 1
                    if seen[signal]! > multiplicity[signal, default: 0] {
                        multiplicity[signal] = seen[signal]!
                        counted.append((id, signal))
                    }
                }
                for (key, signals) in sights {
                    if let kept = relationships[key], Self.lastSeen(kept.signals) >= Self.lastSeen(signals) { continue }
                    relationships[key] = (id, signals)
                }
            }
            for (_, sight) in relationships.sorted(by: { ($0.key.kind.rawValue, $0.key.detail) < ($1.key.kind.rawValue, $1.key.detail) }) {
                counted += sight.signals.map { (sight.leadID, $0) }
            }
            return counted
        }

        /// When a lead saw a relationship, and how much of it: its signals' latest date and
        /// their count.
        private static func lastSeen(_ signals: [SignalDetector.Signal]) -> (Date, Int) {
            (signals.map(\.date).max() ?? .distantPast, signals.reduce(0) { $0.addingSaturated($1.count) })
        }

        /// A relationship a signal of no post stands for.
        private struct RelationshipKey: Hashable {
            var kind: SignalDetector.Kind
            var detail: String
        }

        /// A counted signal and the lead it is listed under.
        private struct Listed: Hashable {
            var leadID: LeadID
            var signal: SignalDetector.Signal
        }

        /// Moves the figures from a person's counted signals, `before`, to those they count with
        /// now: what both have stays as it is, so a re-scored lead, or a person's second lead
        /// with the same signals, costs only the difference. The strongest are listed again from
        /// every signal only when a listed one left and signals were left off the list.
        private mutating func recount(_ person: String, before: [(leadID: LeadID, signal: SignalDetector.Signal)]) {
            let after = counted(of: person)
            var leaving = before, arriving = after
            if !before.isEmpty && !after.isEmpty {
                var unmatched: [Listed: Int] = [:]
                for entry in before { unmatched[Listed(leadID: entry.leadID, signal: entry.signal), default: 0] += 1 }
                arriving = after.filter { entry in
                    let key = Listed(leadID: entry.leadID, signal: entry.signal)
                    guard let count = unmatched[key], count > 0 else { return true }
                    unmatched[key] = count - 1
                    return false
                }
                leaving = before.filter { entry in
                    let key = Listed(leadID: entry.leadID, signal: entry.signal)
                    guard let count = unmatched[key], count > 0 else { return false }
                    unmatched[key] = count - 1
                    return true
                }
            }
            var relisting = false
            if !leaving.isEmpty {
                signalCount -= leaving.count
                if let reference, signalCount > 0 {
                    for entry in leaving { scaledSum -= Self.scaled(entry.signal, at: reference) }
                    scaledSum = max(0, scaledSum)
                } else {
                    // No signal left: nothing to subtract from.
                    scaledSum = 0
                }
                for entry in leaving {
                    guard let index = strongest.firstIndex(where: { $0.leadID == entry.leadID && $0.signal == entry.signal }) else { continue }
                    strongest.remove(at: index)
                    relisting = true
                }
            }
            if let latest = arriving.map(\.signal.date).max() {
                if let reference, latest > reference {
                    // A later reference scales every weight down by the same factor; the order stays.
                    let factor = pow(2, reference.timeIntervalSince(latest) / AccountSignalAggregator.halfLife)
                    scaledSum *= factor
                    for index in strongest.indices { strongest[index].scaled *= factor }
                }
                let reference = max(reference ?? latest, latest)
                self.reference = reference
                for entry in arriving {
                    let scaled = Self.scaled(entry.signal, at: reference)
                    scaledSum += scaled
                    strongest.append(Weighted(leadID: entry.leadID, signal: entry.signal, scaled: scaled))
                }
                signalCount += arriving.count
            }
            if relisting, let reference, signalCount > strongest.count {
                relist(at: reference)
            } else if !arriving.isEmpty {
                keepStrongest()
            }
        }

        /// Lists the strongest of every counted signal again: one pass, each signal weighed
        /// against the weakest listed, not a sort of them all.
        private mutating func relist(at reference: Date) {
            let limit = AccountSignalAggregator.maxListedSignals
            var listed: [Weighted] = []
            listed.reserveCapacity(limit + 1)
            forEachCounted { lead, signal in
                let candidate = Weighted(leadID: lead, signal: signal, scaled: Self.scaled(signal, at: reference))
                if listed.count == limit, !Self.isStronger(candidate, than: listed[limit - 1]) { return }
                var index = listed.count
                while index > 0, Self.isStronger(candidate, than: listed[index - 1]) { index -= 1 }
                listed.insert(candidate, at: index)
                if listed.count > limit { listed.removeLast() }
            }
            strongest = listed
        }

        /// Calls `body` with every counted signal and the lead it is listed under.
        func forEachCounted(_ body: (LeadID, SignalDetector.Signal) -> Void) {
            for (person, ids) in people {
                if ids.count == 1, let id = ids.first {
                    for signal in leads[id]!.signals { body(id, signal) }
                } else {
                    for (id, signal) in counted(of: person) { body(id, signal) }
                }
            }
        }

        private static func isStronger(_ lhs: Weighted, than rhs: Weighted) -> Bool {
            Weighted.isStronger((lhs.scaled, lhs.leadID.rawValue, lhs.signal), than: (rhs.scaled, rhs.leadID.rawValue, rhs.signal))
        }

        /// Sorts the listed signals, strongest first, and keeps at most
        /// ``AccountSignalAggregator/maxListedSignals``.
        private mutating func keepStrongest() {
            strongest.sort(by: Self.isStronger)
            if strongest.count > AccountSignalAggregator.maxListedSignals {
                strongest.removeLast(strongest.count - AccountSignalAggregator.maxListedSignals)
            }
        }

        /// The signal's weight at `reference`.
        private static func scaled(_ signal: SignalDetector.Signal, at reference: Date) -> Double {
            AccountSignalAggregator.baseWeight(signal) * pow(2, signal.date.timeIntervalSince(reference) / AccountSignalAggregator.halfLife)
        }
    }

    /// The account the leads belong to.
    public let accountID: AccountID
    /// Detects the signals of profiles given to ``add(leadID:profile:)``; nil for an aggregator
    /// fed signals already detected (``add(leadID:companyKey:companyName:signals:)``).
    private let detector: SignalDetector?
    private var companies: [String: CompanyBucket] = [:]
    private var companyOfLead: [LeadID: String] = [:]

    /// Words that identify no company: a name made only of them ("Freelance Consultant",
    /// "Independent Contractor", "Stealth Startup", "N/A") is generic; "mode" only after "stealth"
    /// (Mode is a company).
    public static let genericCompanyWords: Set<Substring> = [
        "self", "employed", "freelance", "freelancer", "freelancing", "consultant", "consultants", "consulting", "independent",
        "contractor", "contracting", "stealth", "startup", "confidential", "undisclosed", "private", "none", "n", "a",
        "retired", "unemployed",
    ]

    /// Legal suffixes dropped when normalising company names.
    private static let legalSuffixes: Set<Substring> = ["inc", "llc", "ltd", "gmbh", "corp", "corporation", "co", "plc", "sa", "ag", "bv", "limited"]

    /// An empty aggregator for `accountID`, detecting signals against `offer`.
    public init(accountID: AccountID, offer: OfferConfig) {
        self.accountID = accountID
        self.detector = SignalDetector(offer: offer)
    }

    /// An empty aggregator for `accountID` fed signals already detected (the account heat
    /// aggregator's: each lead's signals were detected against its own offer when it was scored).
    public init(accountID: AccountID) {
        self.accountID = accountID
        self.detector = nil
    }

    /// The company key of a profile: `li:<LinkedIn company id>`, else `name:<normalised name>`;
    /// nil for generic or missing companies. After a job change LinkedIn does not show yet (an X
    /// bio naming another employer, which the scorer then reads: ``FitEvidence/company`` from X),
    /// the new employer's `name:` key.
    public static func companyKey(for profile: EnrichedProfile) -> String? {
        employer(of: profile).key
    }

    /// The start of a company key made of a LinkedIn company id.
    static let identifierPrefix = "li:"
    /// The start of a company key made of a normalised company name (``normalizedCompanyName(_:)``).
    static let namePrefix = "name:"

    /// The key of the lead's current company (``companyKey(for:)``) and its display name.
    /// - Parameter evidence: the profile's ``FitEvidence`` when the caller has it (the scorer
    ///   gathered it); else gathered here when the X bio could name another employer.
    static func employer(of profile: EnrichedProfile, evidence: FitEvidence? = nil) -> (key: String?, name: String?) {
        let linkedinEmployer = profile.company?.name ?? profile.linkedin?.company
        // Only a bio beside a LinkedIn employer can name another one; the bio is parsed only then.
        if linkedinEmployer != nil, let bio = profile.x?.bio, !bio.isBlank {
            let evidence = evidence ?? FitEvidence(profile: profile)
            if evidence.replacesLinkedInEmployer, let newer = evidence.company {
                return (normalizedCompanyName(newer.value).map { namePrefix + $0 }, newer.value)
            }
        }
        if let id = profile.company?.linkedInID ?? profile.linkedin?.companyLinkedInID, !id.isEmpty {
            return (identifierPrefix + id, linkedinEmployer ?? identifierPrefix + id)
        }
        let key = normalizedCompanyName(linkedinEmployer ?? "").map { namePrefix + $0 }
        return (key, key == nil ? nil : linkedinEmployer)
    }

    /// Lowercase words without punctuation and legal suffixes; nil when empty or generic (every
    /// word one of ``genericCompanyWords``).
    public static func normalizedCompanyName(_ name: String) -> String? {
        let normalized = SignalDetector.droppingTrailing(legalSuffixes, from: SignalDetector.normalize(name))
        let words = normalized.split(separator: " ")
        let isGeneric = words.indices.allSatisfy { index in
            genericCompanyWords.contains(words[index]) || (words[index] == "mode" && index > 0 && words[index - 1] == "stealth")
        }
        return isGeneric ? nil : normalized
    }

    /// Records a lead's signals, replacing what was recorded for the lead before (so a re-scored
    /// lead counts once). Leads without an identifiable company are ignored. An aggregator made
    /// without an offer detects no signals. The clusters counted are those the activity record
    /// carries.
    public mutating func add(leadID: LeadID, profile: EnrichedProfile) {
        let activity = profile.activity ?? .empty
        let found = detector?.signals(in: activity, clusters: activity.clusters ?? [])
        let signals = (found?.signals ?? []) + (found?.clusterSignals ?? [])
        let (key, name) = Self.employer(of: profile)
        add(leadID: leadID, person: Self.personKey(of: profile), companyKey: key, companyName: name ?? key ?? "", signals: signals)
    }

    /// Who the profile is, for heat (``AccountSignalContribution/personKey``): its LinkedIn
    /// person key, else its X one (``PersonSelection/persons(of:)``); nil without a URL that parses.
    public static func personKey(of profile: EnrichedProfile) -> String? {
        PersonSelection.persons(of: profile).first
    }

    /// Records a lead's signals at the company `companyKey`, replacing what was recorded for the
    /// lead before; a nil key only removes the lead. The company's display name is the first
    /// name recorded for it.
    /// - Parameter person: who the lead is (``AccountSignalContribution/personKey``): a person's
    ///   leads at a company count as one person, each of their signals once; nil: a person of
    ///   its own.
    public mutating func add(leadID: LeadID, person: String? = nil, companyKey: String?, companyName: String,
                             signals: [SignalDetector.Signal]) {
        // A lead re-scored at the same company is recorded again there, not taken out first.
        if companyOfLead[leadID] != companyKey { remove(leadID: leadID) }
        guard let key = companyKey else { return }
        companies[key, default: CompanyBucket(name: companyName)].add(leadID, person: person ?? "lead:" + leadID.rawValue, signals)
        companyOfLead[leadID] = key
    }

    /// Forgets the lead's signals.
    public mutating func remove(leadID: LeadID) {
        if let previous = companyOfLead.removeValue(forKey: leadID) {
            companies[previous]?.remove(leadID)
            if companies[previous]?.leads.isEmpty == true { companies[previous] = nil }
        }
    }

    /// The contribution of a scored lead to its account's heat: its company and the signals
    /// detected in its posts and orbit against `offer`, and apart those of its orbit clusters
    /// (clusters missing from an older activity record are formed at `scoredAt`).
    /// - Parameters:
    ///   - detector: the offer's detector, when the caller keeps one per offer (``PerOffer``);
    ///     else made here.
    ///   - evidence: the profile's ``FitEvidence``, when the scorer gathered it (``Evaluation/evidence``).
    ///   - activitySignals: the activity's signals against `offer` at `scoredAt`, when the scorer
    ///     detected them (``Evaluation/activitySignals``).
    public static func contribution(
        of profile: EnrichedProfile, leadID: LeadID, runID: RunID, accountID: AccountID, offer: OfferConfig, at scoredAt: Date,
        detector: SignalDetector? = nil, evidence: FitEvidence? = nil, activitySignals: ActivitySignals? = nil
    ) -> AccountSignalContribution {
        let activity = profile.activity ?? .empty
        // As the scorer reads them (a pool profile is not checked by the activity stage).
        let latest = ActivityBuilder.latestDate(at: scoredAt)
        let found = activitySignals
            ?? (detector ?? SignalDetector(offer: offer)).signals(in: activity, clusters: OrbitClusters.clusters(of: activity, now: scoredAt))
        let clusterSignals = found.clusterSignals.filter { $0.date <= latest }
        let (key, name) = employer(of: profile, evidence: evidence)
        return AccountSignalContribution(
            accountID: accountID, leadID: leadID, runID: runID, offerID: offer.offerID, companyKey: key,
            companyName: key == nil ? nil : name ?? key, personKey: personKey(of: profile),
            signals: strongest(found.signals.filter { $0.date <= latest }, at: scoredAt),
            clusterSignals: clusterSignals.isEmpty ? nil : strongest(clusterSignals, at: scoredAt, keeping: maxClusterSignalsPerLead),
            scoredAt: scoredAt)
    }

    /// The most signals one lead's contribution carries (``strongest(_:at:)``): a company's state
    /// keeps every counted lead's signals, and a lead's twentieth already sits in a heat near its
    /// ceiling (``signals(of:previousHeat:now:)``: twenty pain points are a raw 100, heat 96).
    public static let maxSignalsPerLead = 20

    /// The most orbit-cluster signals one lead's contribution carries (``strongest(_:at:keeping:)``),
    /// apart from its ``maxSignalsPerLead`` others: a lead's tenth competitor cluster already sits
    /// in a heat near its ceiling (ten are a raw 100, heat 96), and the scorer's intent counts
    /// at most 30 points of clusters (two competitor clusters, three new ones).
    public static let maxClusterSignalsPerLead = 10

    /// The strongest `limit` of a lead's `signals`, weighed as the heat weighs them at `now` (the
    /// weights of any later time are in the same order), in the order found; all of them when
    /// fewer. Ties by kind, detail and date, so equal inputs keep equal signals.
    static func strongest(_ signals: [SignalDetector.Signal], at now: Date, keeping limit: Int = maxSignalsPerLead)
        -> [SignalDetector.Signal] {
        guard signals.count > limit else { return signals }
        let weights = signals.map { baseWeight($0) * decay($0.date, now: now) }
        let kept = Set(signals.indices.sorted { a, b in
            (weights[a], signals[b].kind.rawValue, signals[b].detail, signals[a].date)
                > (weights[b], signals[a].kind.rawValue, signals[a].detail, signals[b].date)
        }.prefix(limit))
        return signals.indices.filter(kept.contains).map { signals[$0] }
    }

    /// How many people the leads recorded at the company with `companyKey` are.
    public func leadCount(companyKey: String) -> Int {
        companies[companyKey]?.people.count ?? 0
    }

    /// The signals an ``AccountSignal`` lists: the strongest, so a record stays small however
    /// many leads a company has. The heat counts them all.
    public static let maxListedSignals = 20

    /// Heat of the companies with two or more people, hottest first.
    /// - Parameters:
    ///   - keys: the companies to compute; nil for every company (the cost grows with their leads).
    ///   - previousHeat: yesterday's heat per company key, for the trend.
    public func signals(of keys: Set<String>? = nil, previousHeat: [String: Int] = [:], now: Date) -> [AccountSignal] {
        let selected = keys.map { keys in keys.compactMap { key in companies[key].map { (key, $0) } } }
            ?? companies.map { ($0.key, $0.value) }
        return selected.compactMap { key, bucket -> AccountSignal? in
            guard bucket.people.count >= 2 else { return nil }
            let (sum, strongest) = Self.weights(of: bucket, now: now)
            let raw = sum * (1 + 0.25 * Double(bucket.people.count - 1))
            let heat = Int((100 * (1 - exp(-raw / 30))).rounded())
            let listed = strongest.map {
                CompanySignal(leadID: LeadID($0.leadID), kind: $0.signal.kind.rawValue, detail: $0.signal.detail, date: $0.signal.date, weight: $0.weight)
            }
            return AccountSignal(
                accountID: accountID, companyKey: key, companyName: bucket.name, heatScore: heat,
                category: Self.category(heat: heat), trend: Self.trend(heat: heat, previous: previousHeat[key]),
                leadCount: bucket.people.count, signals: listed, computedAt: now)
        }
        .sorted { ($0.heatScore, $1.companyKey) > ($1.heatScore, $0.companyKey) }
    }

    /// The sum of a company's signal weights at `now`, and its strongest signals with their weights.
    private static func weights(of bucket: CompanyBucket, now: Date)
        -> (sum: Double, strongest: [(weight: Double, leadID: String, signal: SignalDetector.Signal)]) {
        if let reference = bucket.reference, now >= reference {
            // No signal is dated after now, so every weight is its scaled weight times one factor.
            let strongest = bucket.strongest.map { (baseWeight($0.signal) * decay($0.signal.date, now: now), $0.leadID.rawValue, $0.signal) }
            return (bucket.scaledSum * pow(2, reference.timeIntervalSince(now) / halfLife),
                    strongest.sorted(by: Weighted.isStronger))
        }
        var weighted: [(weight: Double, leadID: String, signal: SignalDetector.Signal)] = []
        bucket.forEachCounted { leadID, signal in
            weighted.append((baseWeight(signal) * decay(signal.date, now: now), leadID.rawValue, signal))
        }
        weighted.sort(by: Weighted.isStronger)
        return (weighted.reduce(0) { $0 + $1.weight }, Array(weighted.prefix(maxListedSignals)))
    }

    /// Hot ≥ 70, warm ≥ 40, else cool.
    public static func category(heat: Int) -> HeatCategory {
        heat >= 70 ? .hot : heat >= 40 ? .warm : .cool
    }

    /// Rising when heat gained 5 or more since `previous`, cooling when it lost 5 or more; any
    /// two integers compare (a restored state's are 0-100, ``AccountHeatState/validate()``).
    public static func trend(heat: Int, previous: Int?) -> HeatTrend {
        guard let previous else { return .stable }
        let (gain, overflow) = heat.subtractingReportingOverflow(previous)
        if overflow { return heat > previous ? .rising : .cooling }
        return gain >= 5 ? .rising : gain <= -5 ? .cooling : .stable
    }

    /// Weights halve every 30 days.
    static let halfLife: TimeInterval = 30 * 86_400

    static func baseWeight(_ signal: SignalDetector.Signal) -> Double {
        switch signal.kind {
        case .recommendationRequest: 10
        case .switchingIntent: 9
        case .competitorMention: 6
        case .painPoint: 5
        case .customKeyword: 4
        case .competitorEngagement: 3 * Double(min(4, max(1, signal.count)))
        case .competitorCluster: 10
        case .orbitCluster: 4
        case .hiring, .funding, .productLaunch: 2
        case .adjacentEngagement: 1
        case .inHouseBuild: 0
        }
    }

    /// Halves every 30 days.
    private static func decay(_ date: Date, now: Date) -> Double {
        let days = max(0, now.timeIntervalSince(date) / 86_400)
        return pow(0.5, days / 30)
    }
}
