import Foundation
import LeadModel
import LeadRules
import XCTest

/// Properties the scorer must keep over a few hundred seeded random leads for the demo offer
/// (Fixtures.offer()). The generated evidence matches the ICP wherever it is present (ICP titles
/// with an ICP seniority, software industries, sizes inside the range, US locations, no competitor
/// employer, no in-house build), so removing data can never reveal a known mismatch.
final class ScoringPropertyTests: XCTestCase {
    let scorer = RuleBasedScorer()
    let offer = Fixtures.offer()
    let now = Fixtures.now
    static let leadCount = 300

    func testAddingARecentPainPointNeverLowersIntent() {
        var random = SeededRandom(seed: 20_261_130)
        var failures: [String] = []
        for index in 0..<Self.leadCount {
            let (profile, source) = Self.randomLead(index: index, using: &random)
            let before = score(profile, source)
            var withPain = profile
            let post = Post(
                id: "pain-\(index)", platform: .linkedin, date: now.addingTimeInterval(-86_400),
                text: "Manual prospecting is slowing the whole team down.", likes: 1, replies: 0, reposts: 0,
                url: "https://example.com/pain-\(index)")
            var activity = withPain.activity ?? .empty
            activity.posts.insert(post, at: 0)
            activity.signalDate = activity.posts.map(\.date).max()
            withPain.activity = activity
            let after = score(withPain, source)
            if after.intent < before.intent {
                failures.append("\(profile.leadID.rawValue): intent \(before.intent) → \(after.intent)")
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) leads lost intent:\n" + failures.prefix(10).joined(separator: "\n"))
    }

    func testRemovingDataNeverMakesALeadPoorFit() {
        let removals: [(String, (inout EnrichedProfile) -> Void)] = [
            ("LinkedIn profile", { $0.linkedin = nil }),
            ("company record", { $0.company = nil }),
            ("X profile", { $0.x = nil }),
            ("posts", { $0.activity?.posts = [] }),
        ]
        var random = SeededRandom(seed: 7_2026)
        var failures: [String: [String]] = [:]
        var checked = 0
        for index in 0..<Self.leadCount {
            let (profile, source) = Self.randomLead(index: index, using: &random)
            let before = score(profile, source)
            guard before.buyerState != .poorFit else { continue }
            for (name, remove) in removals {
                var reduced = profile
                remove(&reduced)
                guard reduced != profile else { continue }
                checked += 1
                let after = score(reduced, source)
                if after.buyerState == .poorFit {
                    failures[name, default: []].append(
                        "\(profile.leadID.rawValue): \(before.buyerState.rawValue) (fit \(before.fit)) → poor-fit (\(after.stateReason))")
                }
            }
        }
        XCTAssertGreaterThan(checked, 100, "enough removals were checked")
        let summary = failures.keys.sorted().map { name in
            "without the \(name): \(failures[name]!.count) leads became poor-fit, e.g.\n  "
                + failures[name]!.prefix(3).joined(separator: "\n  ")
        }
        XCTAssertTrue(failures.isEmpty, "removing data made leads poor-fit:\n" + summary.joined(separator: "\n"))
    }

    func testXOnlyLeadWithMatchingRoleStrongIntentAndUSLocationIsActive() {
        var random = SeededRandom(seed: 42)
        let bios = [
            "VP Growth at Northwind", "Head of Demand Generation @ acme", "Director of Sales Development, Initech",
            "Chief Growth Officer at Hooli", "Vice President, Demand Generation at Globex",
        ]
        let locations = ["Austin, TX, United States", "New York, United States", "Denver, Colorado, United States"]
        var failures: [String] = []
        for index in 0..<20 {
            let bio = bios[index % bios.count]
            let location = locations[Int(random.next() % UInt64(locations.count))]
            var profile = EnrichedProfile(leadID: LeadID("x-only-\(index)"), name: "Lead \(index)")
            profile.xURL = "https://x.com/lead\(index)"
            profile.x = XProfile(
                userID: "\(index)", name: "Lead \(index)", username: "lead\(index)", bio: bio, followersCount: 300,
                followingCount: 200, isVerified: false, profileImageURL: nil, canDM: true, isProtected: false,
                location: location)
            let post = Post(
                id: "ask-\(index)", platform: .x, date: now.addingTimeInterval(-Double(random.next() % 10) * 86_400),
                text: "Can anyone recommend a tool? Manual prospecting and low reply rates are hurting us.", likes: 4,
                replies: 6, reposts: 0, url: "https://x.com/lead\(index)/status/\(index)")
            profile.activity = Activity(posts: [post], plainText: "", orbit: [], signalDate: post.date)
            let card = score(profile, .keywordSearch)
            if card.buyerState != .active {
                failures.append(
                    "\"\(bio)\" in \(location): \(card.buyerState.rawValue), fit \(card.fit), intent \(card.intent) (\(card.stateReason))")
            }
        }
        XCTAssertTrue(failures.isEmpty, "X-only leads that should be active:\n" + failures.joined(separator: "\n"))
    }

    // MARK: - The generator

    private func score(_ profile: EnrichedProfile, _ source: LeadSource) -> ScoreCard {
        scorer.score(profile: profile, offer: offer, source: source, now: now)
    }

    private static let titles = [
        "VP of Demand Generation", "Director of Sales Development", "Head of Growth", "VP Growth",
        "Vice President, Sales Development", "Chief Growth Officer",
    ]
    private static let companies = ["Northwind", "Brightline", "Kitewire", "Tallyhouse", "Pollenware", "Fieldnote"]
    private static let industries = ["Computer Software", "SaaS", "Internet", "Developer Tools"]
    private static let locations = ["Austin, TX, United States", "Boston, MA, United States", "United States"]
    private static let postTexts = [
        "Manual prospecting takes most of my week.",
        "Any recommendations for fixing low reply rates?",
        "Great offsite with the team this week.",
        "We are hiring SDRs, join our team.",
        "Looking for a tool for sequences.",
        "Switching from spreadsheets to something real.",
    ]

    /// A random lead whose evidence, where present, matches the demo offer's ICP.
    static func randomLead(index: Int, using random: inout SeededRandom) -> (EnrichedProfile, LeadSource) {
        func chance(_ probability: Double) -> Bool { random.unit() < probability }
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func daysAgo(_ days: Double) -> Date { Fixtures.now.addingTimeInterval(-days * 86_400) }

        let title = pick(titles)
        let company = pick(companies)
        var profile = EnrichedProfile(leadID: LeadID("random-\(index)"), name: "Lead \(index)")
        if chance(0.6) {
            let started = Double(10 + random.next() % 1_000)
            profile.linkedinURL = "https://www.linkedin.com/in/lead\(index)"
            profile.linkedin = LinkedInProfile(
                publicIdentifier: "lead\(index)", fullName: "Lead \(index)", headline: "\(title) at \(company)",
                jobTitle: title, company: company, companyLinkedInID: nil, location: chance(0.7) ? pick(locations) : "",
                experiences: [Experience(company: company, title: title, startDate: daysAgo(started))], education: [],
                skills: chance(0.5) ? ["Demand Generation"] : [], certifications: [], languages: [], connections: 400,
                followers: 500)
        }
        if chance(0.6) {
            profile.xURL = "https://x.com/lead\(index)"
            profile.x = XProfile(
                userID: "\(index)", name: "Lead \(index)", username: "lead\(index)",
                bio: chance(0.7) ? "\(title) at \(company)" : "Coffee, pipelines and hiking.", followersCount: 200,
                followingCount: 150, isVerified: false, profileImageURL: nil, canDM: false, isProtected: false,
                location: chance(0.6) ? pick(locations) : nil)
        }
        if chance(0.6) {
            profile.company = Company(
                name: company, employeeCount: chance(0.8) ? 50 + Int(random.next() % 951) : nil,
                industry: chance(0.8) ? pick(industries) : nil)
        }
        let postCount = Int(random.next() % 4)
        let posts = (0..<postCount).map { number in
            Post(
                id: "random-\(index)-\(number)", platform: chance(0.5) ? .linkedin : .x,
                date: daysAgo(Double(random.next() % 200)), text: pick(postTexts), likes: 1, replies: 0, reposts: 0,
                url: "https://example.com/random-\(index)-\(number)")
        }
        if !posts.isEmpty {
            profile.activity = Activity(posts: posts, plainText: "", orbit: [], signalDate: posts.map(\.date).max())
        }
        return (profile, pick(LeadSource.allCases))
    }
}
