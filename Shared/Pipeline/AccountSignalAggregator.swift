import Foundation
import LeadModel

/// Combines the signals of several leads at one company into a heat score (the dark funnel).
///
/// A value type: ``add(leadID:profile:)`` records (or replaces) one lead's contribution, and
/// ``signals(previousHeat:now:)`` computes the heat of every company with at least two leads.
///
/// Heat: each signal has a base weight (asking for a recommendation 10, switching 9, competitor
/// mention 6, pain point 5, custom keyword 4, competitor engagement 3 per interaction up to 4,
/// hiring/funding/launch 2, adjacent-vendor engagement 1), halved every 30 days of age. The raw sum
/// is multiplied by `1 + 0.25 × (leads - 1)` (more people, more heat) and mapped onto 0-100 by
/// `100 × (1 - e^(-raw / 30))`. Hot ≥ 70, warm ≥ 40, else cool. Trend against the previous day's
/// heat: ≥ +5 rising, ≤ -5 cooling, else stable; without a previous value, stable.
public struct AccountSignalAggregator: Sendable {
    /// A company's identity and the per-lead signals seen there.
    private struct CompanyBucket: Sendable {
        var name: String
        var leads: [LeadID: [SignalDetector.Signal]]
    }

    /// The account the leads belong to.
    public let accountID: AccountID
    private let detector: SignalDetector
    private var companies: [String: CompanyBucket] = [:]
    private var companyOfLead: [LeadID: String] = [:]

    /// Company names that identify no company.
    public static let genericCompanyNames: Set<String> = [
        "self employed", "self", "freelance", "freelancer", "consultant", "independent consultant",
        "independent", "consulting", "stealth", "stealth startup", "none", "n a", "retired", "unemployed",
    ]

    /// Legal suffixes dropped when normalising company names.
    private static let legalSuffixes: Set<String> = ["inc", "llc", "ltd", "gmbh", "corp", "corporation", "co", "plc", "sa", "ag", "bv", "limited"]

    /// An empty aggregator for `accountID`, detecting signals against `offer`.
    public init(accountID: AccountID, offer: OfferConfig) {
        self.accountID = accountID
        self.detector = SignalDetector(offer: offer)
    }

    /// The company key of a profile: `li:<LinkedIn company id>`, else `name:<normalised name>`;
    /// nil for generic or missing companies.
    public static func companyKey(for profile: EnrichedProfile) -> String? {
        if let id = profile.company?.linkedInID ?? profile.linkedin?.companyLinkedInID, !id.isEmpty {
            return "li:\(id)"
        }
        let name = profile.company?.name ?? profile.linkedin?.company ?? ""
        return normalizedCompanyName(name).map { "name:\($0)" }
    }

    /// Lowercase words without punctuation and legal suffixes; nil when empty or generic.
    public static func normalizedCompanyName(_ name: String) -> String? {
        var words = SignalDetector.normalize(name).split(separator: " ").map(String.init)
        while let last = words.last, words.count > 1, legalSuffixes.contains(last) { words.removeLast() }
        let normalized = words.joined(separator: " ")
        guard !normalized.isEmpty, !genericCompanyNames.contains(normalized) else { return nil }
        return normalized
    }

    /// Records a lead's signals, replacing what was recorded for the lead before (so a re-scored
    /// lead counts once). Leads without an identifiable company are ignored.
    public mutating func add(leadID: LeadID, profile: EnrichedProfile) {
        if let previous = companyOfLead.removeValue(forKey: leadID) {
            companies[previous]?.leads.removeValue(forKey: leadID)
        }
        guard let key = Self.companyKey(for: profile) else { return }
        let activity = profile.activity ?? .empty
        let signals = detector.signals(in: activity.posts) + detector.signals(in: activity.orbit)
        let name = profile.company?.name ?? profile.linkedin?.company ?? key
        companies[key, default: CompanyBucket(name: name, leads: [:])].leads[leadID] = signals
        companyOfLead[leadID] = key
    }

    /// How many leads are recorded at the company with `companyKey`.
    public func leadCount(companyKey: String) -> Int {
        companies[companyKey]?.leads.count ?? 0
    }

    /// Heat of every company with two or more leads, hottest first.
    /// - Parameter previousHeat: yesterday's heat per company key, for the trend.
    public func signals(previousHeat: [String: Int] = [:], now: Date) -> [AccountSignal] {
        companies.compactMap { key, bucket -> AccountSignal? in
            guard bucket.leads.count >= 2 else { return nil }
            var counted: [CompanySignal] = []
            for (leadID, signals) in bucket.leads.sorted(by: { $0.key < $1.key }) {
                for signal in signals {
                    let weight = Self.baseWeight(signal) * Self.decay(signal.date, now: now)
                    counted.append(
                        CompanySignal(leadID: leadID, kind: signal.kind.rawValue, detail: signal.detail, date: signal.date, weight: weight))
                }
            }
            let raw = counted.reduce(0) { $0 + $1.weight } * (1 + 0.25 * Double(bucket.leads.count - 1))
            let heat = Int((100 * (1 - exp(-raw / 30))).rounded())
            return AccountSignal(
                accountID: accountID, companyKey: key, companyName: bucket.name, heatScore: heat,
                category: Self.category(heat: heat), trend: Self.trend(heat: heat, previous: previousHeat[key]),
                leadCount: bucket.leads.count, signals: counted.sorted { $0.weight > $1.weight }, computedAt: now)
        }
        .sorted { ($0.heatScore, $1.companyKey) > ($1.heatScore, $0.companyKey) }
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

    private static func baseWeight(_ signal: SignalDetector.Signal) -> Double {
        switch signal.kind {
        case .recommendationRequest: 10
        case .switchingIntent: 9
        case .competitorMention: 6
        case .painPoint: 5
        case .customKeyword: 4
        case .competitorEngagement: 3 * Double(min(4, max(1, signal.count)))
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
