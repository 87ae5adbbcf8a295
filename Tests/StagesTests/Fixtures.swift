import Foundation
import Kafka
import LeadModel
import LeadRules
import Streaming

/// Shared test data for the stage handlers.
enum Fixtures {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)  // 2025-06-15T15:06:40Z
    static let clock: @Sendable () -> Date = { Fixtures.now }

    static func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }

    static func lead(
        id: String = "lead-1", linkedin: String? = "https://www.linkedin.com/in/janedoe", x: String? = "x.com/janedoe",
        offer: String = "offer-1"
    ) -> LeadDiscovered {
        LeadDiscovered(
            leadID: LeadID(id), accountID: "acct-1", offerID: OfferID(offer), sourceSearchID: "search-1",
            source: .keywordSearch, name: "Jane Doe", linkedinURL: linkedin, xURL: x, discoveredAt: now)
    }

    static func request(
        _ phase: Phase, lead: LeadDiscovered = Fixtures.lead(), platforms: [Platform] = [.linkedin, .x], attempt: Int = 1,
        profile: EnrichedProfile? = nil
    ) -> PhaseRequest {
        PhaseRequest(
            leadID: lead.leadID, runID: "run-1", phase: phase, attempt: attempt, mode: .full, platforms: platforms,
            lead: lead, profile: profile ?? EnrichedProfile(discovered: lead), accountID: lead.accountID,
            offerID: lead.offerID, isPriority: false, requestedAt: now)
    }

    static func offer(id: String = "offer-1") -> OfferConfig {
        OfferConfig(
            offerID: OfferID(id), accountID: "acct-1", name: "Outbound autopilot", productKeywords: ["sales engagement platform"],
            icp: IdealCustomerProfile(
                titles: ["demand generation", "sales development", "growth"], seniorities: [.director, .vp, .cLevel],
                industries: ["software"], minimumEmployees: 50, maximumEmployees: 1_000, locations: ["United States"],
                painPoints: ["manual prospecting", "low reply rates"], competitors: ["Outreach", "Salesloft"],
                customIntentKeywords: ["sequences"]),
            updatedAt: now)
    }

    static func account(autopilot: AutopilotRule? = AutopilotRule()) -> AccountConfig {
        AccountConfig(accountID: "acct-1", autopilot: autopilot, updatedAt: now)
    }

    /// The records of ``offer(id:)`` and ``account(autopilot:)`` in `environment`'s tables, for a
    /// stage service that reads them at start.
    static func configurationRecords(in environment: PipelineEnvironment) throws -> [ProducerRecord] {
        [
            try environment.codec.record(offer(), topic: environment.topics.offers, key: "offer-1"),
            try environment.codec.record(account(), topic: environment.topics.accounts, key: "acct-1"),
        ]
    }

    static func profile(leadID: String = "lead-1", company: String = "Acme SaaS", posts: [Post] = []) -> EnrichedProfile {
        // A person of their own for each lead id (account heat counts people: ``AccountSignalAggregator``);
        // lead-1 is ``lead(id:linkedin:x:offer:)``'s Jane.
        let handle = leadID == "lead-1" ? "janedoe" : "janedoe-\(leadID)"
        var profile = EnrichedProfile(leadID: LeadID(leadID), name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/\(handle)")
        profile.linkedin = LinkedInProfile(
            publicIdentifier: "janedoe", fullName: "Jane Doe", headline: "VP of Demand Generation at \(company)",
            jobTitle: "VP of Demand Generation", company: company, companyLinkedInID: nil,
            location: "San Francisco, CA, United States",
            experiences: [Experience(company: company, title: "VP of Demand Generation", startDate: daysAgo(400))],
            education: [], skills: ["Demand Generation", "Salesforce"], certifications: [], languages: ["English"],
            connections: 500, followers: 1_200)
        profile.company = Company(name: company, employeeCount: 250, revenueUSD: 30_000_000, industry: "Computer Software")
        // The text as the activity stage renders it at `now`.
        profile.activity = Activity(posts: posts, plainText: ActivityBuilder.renderPlainText(posts, now: now), orbit: [],
                                    signalDate: posts.map(\.date).max())
        return profile
    }

    static func post(_ text: String, daysAgo days: Double, id: String = "p1") -> Post {
        Post(id: id, platform: .linkedin, date: daysAgo(days), text: text, likes: 3, replies: 1, reposts: 0, url: "https://example.com/\(id)")
    }

    /// Simulation with no latency and the given behaviour per provider.
    static func simulation(
        linkedin: SimulationSettings.ProviderBehavior = .instant, x: SimulationSettings.ProviderBehavior = .instant,
        activity: SimulationSettings.ProviderBehavior = .instant
    ) -> SimulationSettings {
        SimulationSettings(linkedin: linkedin, x: x, activity: activity)
    }
}

/// An activity provider answering with fixed data or a fixed error.
struct StubActivityProvider: ActivityProvider {
    var result: Result<RawActivity, ProviderError>

    func fetchActivity(_ query: ActivityQuery, attempt: Int) async throws(ProviderError) -> RawActivity {
        try result.get()
    }
}

/// A scorer that returns a fixed card.
struct FixedScorer: Scorer {
    let name = "fixed"
    var card: ScoreCard

    func evaluate(profile: EnrichedProfile, offer: OfferConfig, source: LeadSource, now: Date) async -> Evaluation {
        Evaluation(card: card)
    }

    static func active(fit: Int = 80, intent: Int = 75) -> FixedScorer {
        FixedScorer(card: ScoreCard(
            fit: fit, intent: intent, timing: 50, composite: 70, buyerState: .active, fitReasons: [], intentReasons: [],
            timingReasons: [], stateReason: "test", scorer: "fixed", scoredAt: Fixtures.now))
    }
}
