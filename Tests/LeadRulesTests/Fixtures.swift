import Foundation
import LeadModel
import LeadRules

/// Shared test data.
enum Fixtures {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)  // 2025-06-15T15:06:40Z

    static func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }

    static func lead(
        id: String = "lead-1", source: LeadSource = .keywordSearch, linkedin: String? = "https://www.linkedin.com/in/janedoe",
        x: String? = "x.com/janedoe", mode: ModeName = .full, types: [ReEnrichType]? = nil
    ) -> LeadDiscovered {
        LeadDiscovered(
            leadID: LeadID(id), accountID: "acct-1", offerID: "offer-1", sourceSearchID: "search-1", source: source,
            name: "Jane Doe", linkedinURL: linkedin, xURL: x, mode: mode, reEnrichTypes: types, discoveredAt: now,
            poolProfile: mode == .scoringOnly ? profile() : nil)  // scoring-only carries what it is scored on
    }

    static func offer(likelihood: SignalLikelihood = .medium) -> OfferConfig {
        OfferConfig(
            offerID: "offer-1", accountID: "acct-1", name: "Outbound autopilot", productKeywords: ["sales engagement platform"],
            icp: IdealCustomerProfile(
                titles: ["demand generation", "sales development", "growth"], seniorities: [.director, .vp, .cLevel],
                industries: ["software"], minimumEmployees: 50, maximumEmployees: 1_000, locations: ["United States"],
                painPoints: ["manual prospecting", "low reply rates"], competitors: ["Outreach", "Salesloft"],
                customIntentKeywords: ["sequences"]),
            signalLikelihood: likelihood, updatedAt: now)
    }

    static func linkedin(company: String = "Acme SaaS", title: String = "VP of Demand Generation", startedDaysAgo: Double = 400) -> LinkedInProfile {
        LinkedInProfile(
            publicIdentifier: "janedoe", fullName: "Jane Doe", headline: "\(title) at \(company)", jobTitle: title,
            company: company, companyLinkedInID: nil, location: "San Francisco, CA, United States",
            experiences: [Experience(company: company, title: title, startDate: daysAgo(startedDaysAgo))],
            education: [], skills: ["Demand Generation", "Salesforce"], certifications: [], languages: ["English"],
            connections: 500, followers: 1_200)
    }

    static func profile(company: String = "Acme SaaS", posts: [Post] = [], orbit: [OrbitTarget] = []) -> EnrichedProfile {
        var profile = EnrichedProfile(leadID: "lead-1", name: "Jane Doe")
        profile.linkedin = linkedin(company: company)
        profile.company = Company(name: company, employeeCount: 250, revenueUSD: 30_000_000, industry: "Computer Software")
        // The text as the activity stage renders it at `now`.
        profile.activity = Activity(posts: posts, plainText: ActivityBuilder.renderPlainText(posts, now: now), orbit: orbit,
                                    signalDate: posts.map(\.date).max())
        return profile
    }

    static func post(_ text: String, daysAgo days: Double, id: String = "p1") -> Post {
        Post(id: id, platform: .linkedin, date: daysAgo(days), text: text, likes: 3, replies: 1, reposts: 0, url: "https://example.com/\(id)")
    }
}

/// A generator that always yields the same value: jitter becomes predictable.
struct FixedRandom: RandomNumberGenerator {
    var value: UInt64 = 1 << 63
    mutating func next() -> UInt64 { value }
}
