import Foundation
import LeadModel

/// Combines the signals of several leads at one company into a heat score (the dark funnel).
///
/// A value type: ``add(leadID:profile:)`` records (or replaces) one lead's contribution, and
/// ``signals(previousHeat:now:)`` computes the heat of every company with at least two leads.
///
/// Heat: each signal has a base weight (asking for a recommendation 10, switching 9, competitor
/// mention 6, pain point 5, custom keyword 4, competitor engagement 3 per interaction up to 4,
/// competitor orbit cluster 10, new orbit cluster 4 (``OrbitClusters``), hiring/funding/launch 2,
/// adjacent-vendor engagement 1), halved every 30 days of age. The raw sum
/// is multiplied by `1 + 0.25 × (leads - 1)` (more people, more heat) and mapped onto 0-100 by
/// `100 × (1 - e^(-raw / 30))`. Hot ≥ 70, warm ≥ 40, else cool. Trend against the previous day's
/// heat: ≥ +5 rising, ≤ -5 cooling, else stable; without a previous value, stable.
///
/// Recording or forgetting a lead costs the lead's own signals, not the company's: every weight
/// falls by the same factor as time passes, so the sum of weights is kept scaled to a reference
/// date, and the strongest signals keep their order. Only a lead leaving with one of the listed
/// strongest signals (others waiting behind the list), or signals dated after `now`, make a
/// company's figures be computed from all its signals.
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

    /// A company's identity, the per-lead signals seen there, and their running figures.
    private struct CompanyBucket: Sendable {
        var name: String
        var leads: [LeadID: [SignalDetector.Signal]] = [:]
        /// The date the scaled weights refer to: the latest signal's, so none exceeds its base weight.
        var reference: Date?
        /// The sum of every signal's scaled weight.
        var scaledSum = 0.0
        /// The strongest signals by scaled weight, at most ``AccountSignalAggregator/maxListedSignals``.
        var strongest: [Weighted] = []
        /// How many signals its leads have.
        var signalCount = 0

        init(name: String) { self.name = name }

        mutating func add(_ leadID: LeadID, _ signals: [SignalDetector.Signal]) {
            leads[leadID] = signals
            guard let latest = signals.map(\.date).max() else { return }
            if let reference, latest > reference {
                // A later reference scales every weight down by the same factor; the order stays.
                let factor = pow(2, reference.timeIntervalSince(latest) / AccountSignalAggregator.halfLife)
                scaledSum *= factor
                for index in strongest.indices { strongest[index].scaled *= factor }
            }
            let reference = max(reference ?? latest, latest)
            self.reference = reference
            for signal in signals {
                let scaled = Self.scaled(signal, at: reference)
                scaledSum += scaled
                strongest.append(Weighted(leadID: leadID, signal: signal, scaled: scaled))
            }
            signalCount += signals.count
            keepStrongest()
        }

        /// Takes a lead's signals out of the running figures. The strongest are listed again from
        /// every signal only when one of the lead's was listed and signals were left off the list.
        mutating func remove(_ leadID: LeadID) {
            guard let signals = leads.removeValue(forKey: leadID) else { return }
            signalCount -= signals.count
            guard let reference, signalCount > 0 else {
                // No signal left: nothing to subtract from, nothing to list.
                scaledSum = 0
                strongest = []
                if leads.isEmpty { self.reference = nil }
                return
            }
            for signal in signals { scaledSum -= Self.scaled(signal, at: reference) }
            scaledSum = max(0, scaledSum)
            let listed = strongest.count
            strongest.removeAll { $0.leadID == leadID }
            if strongest.count < listed, signalCount > strongest.count {
                relist(at: reference)
            }
        }

        /// Lists the strongest of every signal again: one pass, each signal weighed against the
        /// weakest listed, not a sort of them all.
        private mutating func relist(at reference: Date) {
            let limit = AccountSignalAggregator.maxListedSignals
            var listed: [Weighted] = []
            listed.reserveCapacity(limit + 1)
            for (lead, signals) in leads {
                for signal in signals {
                    let candidate = Weighted(leadID: lead, signal: signal, scaled: Self.scaled(signal, at: reference))
                    if listed.count == limit, !Self.isStronger(candidate, than: listed[limit - 1]) { continue }
                    var index = listed.count
                    while index > 0, Self.isStronger(candidate, than: listed[index - 1]) { index -= 1 }
                    listed.insert(candidate, at: index)
                    if listed.count > limit { listed.removeLast() }
                }
            }
            strongest = listed
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

    /// Company names that identify no company.
    public static let genericCompanyNames: Set<String> = [
        "self employed", "self", "freelance", "freelancer", "consultant", "independent consultant",
        "independent", "consulting", "stealth", "stealth startup", "none", "n a", "retired", "unemployed",
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
    static func employer(of profile: EnrichedProfile) -> (key: String?, name: String?) {
        let linkedinEmployer = profile.company?.name ?? profile.linkedin?.company
        // Only a bio beside a LinkedIn employer can name another one; the bio is parsed only then.
        if linkedinEmployer != nil, let bio = profile.x?.bio, !bio.isBlank {
            let evidence = FitEvidence(profile: profile)
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

    /// Lowercase words without punctuation and legal suffixes; nil when empty or generic.
    public static func normalizedCompanyName(_ name: String) -> String? {
        let normalized = SignalDetector.droppingTrailing(legalSuffixes, from: SignalDetector.normalize(name))
        guard !normalized.isEmpty, !genericCompanyNames.contains(normalized) else { return nil }
        return normalized
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
        add(leadID: leadID, companyKey: key, companyName: name ?? key ?? "", signals: signals)
    }

    /// Records a lead's signals at the company `companyKey`, replacing what was recorded for the
    /// lead before; a nil key only removes the lead. The company's display name is the first
    /// name recorded for it.
    public mutating func add(leadID: LeadID, companyKey: String?, companyName: String, signals: [SignalDetector.Signal]) {
        remove(leadID: leadID)
        guard let key = companyKey else { return }
        companies[key, default: CompanyBucket(name: companyName)].add(leadID, signals)
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
    /// - Parameter detector: the offer's detector, when the caller keeps one per offer
    ///   (``PerOffer``); else made here.
    public static func contribution(
        of profile: EnrichedProfile, leadID: LeadID, runID: RunID, accountID: AccountID, offer: OfferConfig, at scoredAt: Date,
        detector: SignalDetector? = nil
    ) -> AccountSignalContribution {
        let detector = detector ?? SignalDetector(offer: offer)
        let activity = profile.activity ?? .empty
        // As the scorer reads them (a pool profile is not checked by the activity stage).
        let latest = ActivityBuilder.latestDate(at: scoredAt)
        let found = detector.signals(in: activity, clusters: OrbitClusters.clusters(of: activity, now: scoredAt))
        let clusterSignals = found.clusterSignals.filter { $0.date <= latest }
        let (key, name) = employer(of: profile)
        return AccountSignalContribution(
            accountID: accountID, leadID: leadID, runID: runID, offerID: offer.offerID, companyKey: key,
            companyName: key == nil ? nil : name ?? key,
            signals: found.signals.filter { $0.date <= latest }, clusterSignals: clusterSignals.isEmpty ? nil : clusterSignals,
            scoredAt: scoredAt)
    }

    /// How many leads are recorded at the company with `companyKey`.
    public func leadCount(companyKey: String) -> Int {
        companies[companyKey]?.leads.count ?? 0
    }

    /// The signals an ``AccountSignal`` lists: the strongest, so a record stays small however
    /// many leads a company has. The heat counts them all.
    public static let maxListedSignals = 20

    /// Heat of the companies with two or more leads, hottest first.
    /// - Parameters:
    ///   - keys: the companies to compute; nil for every company (the cost grows with their leads).
    ///   - previousHeat: yesterday's heat per company key, for the trend.
    public func signals(of keys: Set<String>? = nil, previousHeat: [String: Int] = [:], now: Date) -> [AccountSignal] {
        let selected = keys.map { keys in keys.compactMap { key in companies[key].map { (key, $0) } } }
            ?? companies.map { ($0.key, $0.value) }
        return selected.compactMap { key, bucket -> AccountSignal? in
            guard bucket.leads.count >= 2 else { return nil }
            let (sum, strongest) = Self.weights(of: bucket, now: now)
            let raw = sum * (1 + 0.25 * Double(bucket.leads.count - 1))
            let heat = Int((100 * (1 - exp(-raw / 30))).rounded())
            let listed = strongest.map {
                CompanySignal(leadID: LeadID($0.leadID), kind: $0.signal.kind.rawValue, detail: $0.signal.detail, date: $0.signal.date, weight: $0.weight)
            }
            return AccountSignal(
                accountID: accountID, companyKey: key, companyName: bucket.name, heatScore: heat,
                category: Self.category(heat: heat), trend: Self.trend(heat: heat, previous: previousHeat[key]),
                leadCount: bucket.leads.count, signals: listed, computedAt: now)
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
        for (leadID, signals) in bucket.leads {
            for signal in signals {
                weighted.append((baseWeight(signal) * decay(signal.date, now: now), leadID.rawValue, signal))
            }
        }
        weighted.sort(by: Weighted.isStronger)
        return (weighted.reduce(0) { $0 + $1.weight }, Array(weighted.prefix(maxListedSignals)))
    }

    /// Hot ≥ 70, warm ≥ 40, else cool.
    public static func category(heat: Int) -> HeatCategory {
        heat >= 70 ? .hot : heat >= 40 ? .warm : .cool
    }

    /// Rising when heat gained 5 or more since `previous`, cooling when it lost 5 or more.
    public static func trend(heat: Int, previous: Int?) -> HeatTrend {
        guard let previous else { return .stable }
        if heat - previous >= 5 { return .rising }
        if previous - heat >= 5 { return .cooling }
        return .stable
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
