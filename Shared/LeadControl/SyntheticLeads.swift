import Foundation
import LeadModel
import LeadRules

/// Deterministic, plausible leads for demos and load: the same options and `now` always give
/// the same leads (ids, names, URLs, sources), so publishing twice is idempotent downstream.
///
/// About half the leads have both URLs, 30% LinkedIn only and 20% X only; sources are mixed
/// (keyword and intent searches, competitor engagement, CSV imports, follower extraction,
/// manual entries). Every lead passes ``LeadDiscovered/validate()``.
public enum SyntheticLeads {
    static let firstNames = [
        "Jane", "Marcus", "Priya", "Daniel", "Sofia", "Kenji", "Amara", "Lukas", "Chloe", "Mateo", "Aisha", "Oliver",
        "Hannah", "Rafael", "Mei", "Tobias", "Leila", "Samuel", "Ingrid", "Diego", "Nora", "Arjun", "Elena", "Felix",
        "Grace", "Omar", "Yuki", "Isabel", "Ethan", "Zara", "Noah", "Clara",
    ]
    static let lastNames = [
        "Doe", "Whitfield", "Raman", "Okafor", "Lindqvist", "Tanaka", "Mensah", "Becker", "Dubois", "Alvarez",
        "Haddad", "Bennett", "Schmidt", "Costa", "Chen", "Novak", "Farouk", "Adeyemi", "Larsen", "Moreno", "Kowalski",
        "Iyer", "Petrova", "Weber", "Hughes", "Nakamura", "Rossi", "O'Neill", "Sato", "Martins", "Kaur", "Fischer",
    ]
    static let sources: [(LeadSource, weight: Int)] = [
        (.keywordSearch, 30), (.intentSearch, 20), (.competitorEngagement, 15), (.csvImport, 15),
        (.followerExtraction, 15), (.manual, 5),
    ]

    /// `options.count` leads discovered at `now` (minus a few deterministic minutes each).
    public static func make(_ options: SyntheticLeadOptions, now: Date) -> [LeadDiscovered] {
        var random = SeededRandom(seedText: "leadctl-synthetic|\(options.seed)")
        return (0..<options.count).map { index in
            let first = pick(firstNames, &random)
            let last = pick(lastNames, &random)
            let name = "\(first) \(last)"
            let plain = (first + last).lowercased().filter { $0.isLetter }
            let number = Int(random.next() % 900) + 100
            let linkedinHandle = "\(first.lowercased())-\(last.lowercased().filter(\.isLetter))-\(number)"
            let xHandle = String((plain.prefix(11) + String(number)).prefix(15))
            let platformDraw = random.unit()
            let hasLinkedIn = platformDraw < 0.8
            let hasX = platformDraw >= 0.3
            let source = weightedSource(random.unit())
            let minutesAgo = Double(random.next() % 600)
            return LeadDiscovered(
                // The account in the id: the same seed for another account is other leads (a lead id
                // is one account's), not the first account's again, which would start nothing.
                leadID: LeadID("syn-\(options.seed)-\(options.accountID)-\(String(format: "%05d", index + 1))"),
                accountID: options.accountID, offerID: options.offerID, sourceSearchID: options.searchID,
                source: source, name: name,
                linkedinURL: hasLinkedIn ? "https://www.linkedin.com/in/\(linkedinHandle)" : nil,
                xURL: hasX ? "https://x.com/\(xHandle)" : nil,
                mode: options.mode, discoveredAt: now.addingTimeInterval(-minutesAgo * 60))
        }
    }

    private static func pick(_ items: [String], _ random: inout SeededRandom) -> String {
        items[Int(random.next() % UInt64(items.count))]
    }

    private static func weightedSource(_ unit: Double) -> LeadSource {
        let total = sources.reduce(0) { $0 + $1.weight }
        var threshold = unit * Double(total)
        for (source, weight) in sources {
            threshold -= Double(weight)
            if threshold < 0 { return source }
        }
        return .keywordSearch
    }
}
