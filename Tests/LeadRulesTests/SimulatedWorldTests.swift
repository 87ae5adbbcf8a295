import Foundation
import LeadModel
@testable import LeadRules
import XCTest

/// Statistics over many simulated leads: the simulated world should look like the real one.
final class SimulatedWorldTests: XCTestCase {
    let clock: @Sendable () -> Date = { Fixtures.now }
    let leadCount = 2_000

    /// A made-up offer with none of the demo offer's words.
    static let securityOffer = OfferConfig(
        offerID: "offer-sec", accountID: "acct-1", name: "Cloud posture", productKeywords: ["cloud security posture management"],
        icp: IdealCustomerProfile(
            titles: ["security", "it"], seniorities: [.director, .vp], industries: ["software"], minimumEmployees: 200,
            maximumEmployees: nil, locations: [], painPoints: ["alert fatigue", "misconfigured buckets", "audit prep"],
            competitors: ["Wiz", "Orca Security", "Lacework"], customIntentKeywords: ["SOC 2"]),
        signalLikelihood: .medium, updatedAt: Fixtures.now)

    func lead(_ index: Int) -> LeadIdentity {
        LeadIdentity(leadID: LeadID("lead-\(index)"), name: "Person Number\(index)")
    }

    func linkedinProfiles() async throws -> [LinkedInEnrichment] {
        let provider = SimulatedLinkedInProvider(settings: .instant, now: clock)
        var profiles: [LinkedInEnrichment] = []
        for index in 0..<leadCount {
            profiles.append(try await provider.fetchProfile(handle: "handle-\(index)", lead: lead(index), attempt: 1))
        }
        return profiles
    }

    /// Posts of every lead for `offer`, within the horizon.
    func posts(for offer: OfferConfig) async throws -> [Post] {
        let provider = SimulatedActivityProvider(settings: .instant, now: clock)
        var posts: [Post] = []
        for index in 0..<leadCount {
            let query = ActivityQuery(
                leadID: lead(index).leadID, linkedinHandle: "handle-\(index)", xUsername: nil, since: Fixtures.daysAgo(180),
                offerVocabulary: OfferVocabulary(offer: offer))
            let raw = try await provider.fetchActivity(query, attempt: 1)
            posts += ActivityBuilder.build(raw: raw, competitors: offer.icp.competitors, now: Fixtures.now).posts
        }
        return posts
    }

    /// Share of `posts` with at least one signal of the given kinds.
    func share(of posts: [Post], detector: SignalDetector, kinds: Set<BuyingSignal.Kind>) -> Double {
        let hits = posts.filter { post in detector.signals(in: [post]).contains { kinds.contains($0.kind) } }
        return Double(hits.count) / Double(max(1, posts.count))
    }

    func testJobChangesWithin90DaysAreNearTheBaseRate() async throws {
        let recent = try await linkedinProfiles().filter { enrichment in
            (enrichment.profile.currentExperience?.startDate ?? .distantPast) >= Fixtures.daysAgo(90)
        }
        let share = Double(recent.count) / Double(leadCount)
        print("job changes within 90 days: \(share)")
        // A quarter per year is about 6.8 % in 90 days; founders and young companies move it a little.
        XCTAssertTrue((0.04...0.10).contains(share), "job changes within 90 days: \(share)")
    }

    func testSmallCompaniesHaveNoVicePresidentsOrChiefOfficers() async throws {
        let sizes = Dictionary(uniqueKeysWithValues: SimulatedWorld.companies.map { ($0.name, $0.employees) })
        let executive = /\b(S?VP|Vice President|Chief .* Officer)\b/
        for enrichment in try await linkedinProfiles() {
            for experience in enrichment.profile.experiences where (sizes[experience.company] ?? 0) < 50 {
                let isFounder = experience.title.contains("Founder") || experience.title.contains("CEO")
                XCTAssertTrue(
                    isFounder || experience.title.firstMatch(of: executive) == nil,
                    "\(experience.title) at \(experience.company), \(sizes[experience.company] ?? 0) people")
            }
        }
    }

    func testCompanySizeFundingAndRevenueGoTogether() async throws {
        for company in SimulatedWorld.companies {
            if company.employees > 5_000 {
                XCTAssertFalse([.seed, .seriesA, .seriesB].contains(company.stage), company.name)
            }
            if [.seed, .seriesA].contains(company.stage) { XCTAssertLessThan(company.employees, 100, company.name) }
            if company.stage == .listed { XCTAssertGreaterThan(company.employees, 1_000, company.name) }
            let revenuePerEmployee = company.revenueUSD / company.employees
            XCTAssertTrue((20_000...1_000_000).contains(revenuePerEmployee), "\(company.name): \(revenuePerEmployee) per employee")
        }
        for enrichment in try await linkedinProfiles() {
            let company = try XCTUnwrap(enrichment.company)
            let template = try XCTUnwrap(SimulatedWorld.companies.first { $0.name == company.name })
            XCTAssertEqual(company.employeeCount, template.employees)
            if let country = template.country {
                XCTAssertTrue(enrichment.profile.location.hasSuffix(country), "\(enrichment.profile.location) at \(company.name)")
            }
        }
    }

    func testBuyingLanguageIsAFewPercentOfPosts() async throws {
        let offer = Fixtures.offer()
        let posts = try await posts(for: offer)
        let share = share(of: posts, detector: SignalDetector(offer: offer), kinds: [.recommendationRequest, .switchingIntent])
        print("posts: \(posts.count), buying-language share: \(share)")
        XCTAssertGreaterThan(posts.count, leadCount * 2)
        XCTAssertTrue((0.01...0.06).contains(share), "buying-language share: \(share)")
    }

    func testAnyOfferGetsASimilarShareOfPostsInItsWords() async throws {
        let offerWords: Set<BuyingSignal.Kind> = [.painPoint, .competitorMention, .customKeyword]
        var shares: [Double] = []
        for offer in [Fixtures.offer(), Self.securityOffer] {
            let posts = try await posts(for: offer)
            shares.append(share(of: posts, detector: SignalDetector(offer: offer), kinds: offerWords))
        }
        print("share of posts in the offer's words, demo then security: \(shares)")
        XCTAssertTrue(shares.allSatisfy { (0.05...0.30).contains($0) }, "\(shares)")
        XCTAssertLessThan(abs(shares[0] - shares[1]), 0.04, "\(shares)")
    }

    func testFundingPostsComeFromCompaniesThatRaiseAndNameTheirRound() async throws {
        let offer = Fixtures.offer()
        let detector = SignalDetector(offer: offer)
        let provider = SimulatedActivityProvider(settings: .instant, now: clock)
        var fundingPosts = 0
        for index in 0..<leadCount {
            let query = ActivityQuery(
                leadID: lead(index).leadID, linkedinHandle: "handle-\(index)", xUsername: nil, since: Fixtures.daysAgo(180))
            let posts = try await provider.fetchActivity(query, attempt: 1).posts
            let person = SimulatedPerson.make(key: SimulatedData.personKey(leadID: query.leadID), salt: "", today: Fixtures.now)
            for post in posts where detector.signals(in: [post]).contains(where: { $0.kind == .funding }) {
                fundingPosts += 1
                XCTAssertTrue(person.company.stage.raisesRounds, "\(post.text) at \(person.company.name)")
                XCTAssertTrue(post.text.contains(person.company.stage.roundName), post.text)
            }
        }
        XCTAssertGreaterThan(fundingPosts, 0)
    }

    func testProfilesCarryTheLeadsNameAndOnePerson() async throws {
        let linkedin = SimulatedLinkedInProvider(settings: .instant, now: clock)
        let x = SimulatedXProvider(settings: .instant, now: clock)
        var namingRole = 0
        var withURL = 0
        let count = 500
        for index in 0..<count {
            let lead = lead(index)
            let profile = try await linkedin.fetchProfile(handle: "li-\(index)", lead: lead, attempt: 1)
            let xProfile = try await x.fetchProfile(username: "x_\(index)", lead: lead, attempt: 1)
            XCTAssertEqual(profile.profile.fullName, lead.name)
            XCTAssertEqual(xProfile.name, lead.name)
            if let location = xProfile.location {
                XCTAssertTrue(profile.profile.location.hasPrefix(location), "\(location) vs \(profile.profile.location)")
            }
            if xProfile.bio.contains(profile.profile.jobTitle) { namingRole += 1 }
            if let url = xProfile.url {
                withURL += 1
                XCTAssertEqual(url, "https://" + (profile.company?.domain ?? "none"))
            }
        }
        let roleShare = Double(namingRole) / Double(count)
        print("X bios naming role and company: \(roleShare), with a url: \(Double(withURL) / Double(count))")
        XCTAssertTrue((0.4...0.7).contains(roleShare), "\(roleShare)")
        XCTAssertGreaterThan(withURL, count / 10)
    }
}
