import Enrichment
import Foundation
import LeadModel
import LeadRules
import XCTest

final class ProfileFinderTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_750_000_000)

    func entry(_ id: String, linkedin: String? = "https://www.linkedin.com/in/jane-doe", x: String? = nil,
               account: AccountID = "acct-1") -> LeadPoolEntry {
        let profile = EnrichedProfile(leadID: LeadID(id), name: "Jane Doe", linkedinURL: linkedin, xURL: x)
        return LeadPoolEntry(profile: profile, accountID: account, offerID: "offer-1", finishedAt: now)
    }

    struct FixedSearch: ProfileSearchProvider {
        let candidates: [ProfileCandidate]
        func search(_ query: ProfileQuery) async throws(ProviderError) -> [ProfileCandidate] { candidates }
    }

    func testAcceptsOnlyCandidatesAtOrAboveTheThreshold() {
        let candidates = [
            ProfileCandidate(platform: .x, url: "https://x.com/janedoe", confidence: 0.79),
            ProfileCandidate(platform: .x, url: "https://x.com/jane", confidence: 0.8),
            ProfileCandidate(platform: .x, url: "not a url", confidence: 0.99),
            ProfileCandidate(platform: .linkedin, url: "https://www.linkedin.com/in/j", confidence: 0.95),
        ]
        XCTAssertEqual(ProfileFinding.accepted(candidates, platform: .x, minimumConfidence: 0.8)?.url, "https://x.com/jane")
        XCTAssertNil(ProfileFinding.accepted(candidates, platform: .x, minimumConfidence: 0.81))
    }

    func testQueriesOnlyLeadsWithExactlyOnePlatform() {
        XCTAssertEqual(ProfileFinding.query(for: entry("a"))?.platform, .x)
        XCTAssertEqual(ProfileFinding.query(for: entry("b", linkedin: nil, x: "https://x.com/jd"))?.platform, .linkedin)
        XCTAssertNil(ProfileFinding.query(for: entry("c", x: "https://x.com/jd")))
    }

    func testSimulatedSearchIsDeterministicAndSometimesBelowThreshold() {
        let queries = (0..<60).map { ProfileQuery(name: "Person \($0)", company: nil, platform: .x, knownURL: "https://www.linkedin.com/in/p\($0)") }
        let first = queries.map(SimulatedProfileSearchProvider.candidates(for:))
        XCTAssertEqual(first, queries.map(SimulatedProfileSearchProvider.candidates(for:)))
        let accepted = first.filter { ProfileFinding.accepted($0, platform: .x, minimumConfidence: 0.8) != nil }.count
        XCTAssertGreaterThan(accepted, 5)
        XCTAssertLessThan(accepted, 55)
    }

    func testHandlerRespectsTheAccountRule() async {
        let search = FixedSearch(candidates: [ProfileCandidate(platform: .x, url: "https://x.com/janedoe", confidence: 0.85)])
        let accounts: [AccountID: AccountConfig] = [
            "on": AccountConfig(accountID: "on", profileFinder: ProfileFinderRule(), updatedAt: now),
            "strict": AccountConfig(accountID: "strict", profileFinder: ProfileFinderRule(minimumConfidence: 0.9), updatedAt: now),
            "off": AccountConfig(accountID: "off", updatedAt: now),
        ]
        let handler = ProfileFinderHandler(provider: search, accounts: { accounts[$0] }, minimumConfidence: 0.8, service: "test")
        guard case .found(let found) = await handler.handle(entry("a", account: "on"), now: now) else { return XCTFail() }
        XCTAssertEqual(found.url, "https://x.com/janedoe")
        XCTAssertEqual(found.platform, .x)
        let strict = await handler.handle(entry("a", account: "strict"), now: now)
        XCTAssertEqual(strict, .belowThreshold(best: 0.85))
        let off = await handler.handle(entry("a", account: "off"), now: now)
        XCTAssertEqual(off, .disabled)
        let unknown = await handler.handle(entry("a", account: "nobody"), now: now)
        XCTAssertEqual(unknown, .disabled)
    }

    func testAccountConfigWithoutTheRuleStillDecodes() throws {
        let json = #"{"schema":"account.config","version":1,"accountID":"a","billingState":"active","updatedAt":"2025-01-01T00:00:00Z"}"#
        let account = try MessageCodec().decode(AccountConfig.self, from: Array(json.utf8))
        XCTAssertFalse(account.isProfileFinderEnabled)
    }

    func testFoundProfileIsAddedOnceToTheLead() {
        let lead = LeadDiscovered(leadID: "l1", accountID: "a", offerID: "o", sourceSearchID: "s", source: .manual,
                                  name: "Jane", linkedinURL: "https://www.linkedin.com/in/jane", discoveredAt: now)
        let state = LeadState(lead: lead, runID: "r1", mode: .full, status: .ready, plan: [], phaseIndex: 0, inFlight: nil,
                              profile: EnrichedProfile(discovered: lead), history: [], createdAt: now, updatedAt: now, readyAt: now)
        let found = ProfileFound(leadID: "l1", platform: .x, url: "twitter.com/Jane_D", confidence: 0.9, foundBy: "t", foundAt: now)
        let updated = ProfileFinding.adding(found, to: state, at: now)
        XCTAssertEqual(updated?.lead.xURL, "https://x.com/Jane_D")
        XCTAssertEqual(updated?.profile.xURL, "https://x.com/Jane_D")
        XCTAssertNil(updated.flatMap { ProfileFinding.adding(found, to: $0, at: now) }, "a second time changes nothing")
        let linkedin = ProfileFound(leadID: "l1", platform: .linkedin, url: "https://www.linkedin.com/in/other", confidence: 0.9,
                                    foundBy: "t", foundAt: now)
        XCTAssertNil(ProfileFinding.adding(linkedin, to: state, at: now), "the lead has LinkedIn already")
    }
}

final class LeadPoolMatcherTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_750_000_000)

    func poolEntry(_ id: String, title: String, industry: String, employees: Int, offer: OfferID = "offer-old") -> LeadPoolEntry {
        var profile = EnrichedProfile(leadID: LeadID(id), name: "Person \(id)", linkedinURL: "https://www.linkedin.com/in/\(id)")
        profile.linkedin = LinkedInProfile(
            publicIdentifier: id, fullName: "Person \(id)", headline: title, jobTitle: title, company: "Co \(id)",
            companyLinkedInID: nil, location: "San Francisco, CA, United States", experiences: [], education: [],
            skills: ["outbound"], certifications: [], languages: [], connections: 500, followers: 100)
        profile.company = Company(name: "Co \(id)", employeeCount: employees, industry: industry)
        return LeadPoolEntry(profile: profile, accountID: "acct-old", offerID: offer, finishedAt: now)
    }

    var offer: OfferConfig {
        OfferConfig(offerID: "offer-new", accountID: "acct-new", name: "New",
                    icp: IdealCustomerProfile(titles: ["VP of Sales"], seniorities: [.vp], industries: ["software"],
                                              minimumEmployees: 50, maximumEmployees: 1000, locations: ["United States"]),
                    updatedAt: now)
    }

    func testMatchesFittingProfilesAsScoringOnlyLeadsWithDeterministicIDs() {
        let pool = [
            poolEntry("fit", title: "VP of Sales", industry: "Software", employees: 200),
            poolEntry("misfit", title: "Intern", industry: "Farming", employees: 3),
            poolEntry("same-offer", title: "VP of Sales", industry: "Software", employees: 200, offer: "offer-new"),
            poolEntry("fit@offer-x", title: "VP of Sales", industry: "Software", employees: 200),
        ]
        let matches = LeadPoolMatcher(minimumFit: 60).matches(offer: offer, pool: pool, at: now)
        XCTAssertEqual(matches.map(\.lead.leadID), ["fit@offer-new"])
        let lead = matches[0].lead
        XCTAssertEqual(lead.source, .leadPool)
        XCTAssertEqual(lead.mode, .scoringOnly)
        XCTAssertEqual(lead.accountID, "acct-new")
        XCTAssertEqual(lead.offerID, "offer-new")
        XCTAssertNoThrow(try lead.validate())
        XCTAssertEqual(LeadPoolMatcher(minimumFit: 60).matches(offer: offer, pool: pool.reversed(), at: now).map(\.lead.leadID),
                       ["fit@offer-new"], "the same matches however the pool is ordered")
        XCTAssertTrue(LeadPoolMatcher(minimumFit: 101).matches(offer: offer, pool: pool, at: now).isEmpty)
    }
}

final class OfferPoolMatchingTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_750_000_000)

    func poolEntry(_ id: String, title: String, offer: OfferID = "offer-old") -> LeadPoolEntry {
        var profile = EnrichedProfile(leadID: LeadID(id), name: "Person \(id)", linkedinURL: "https://www.linkedin.com/in/\(id)")
        profile.linkedin = LinkedInProfile(
            publicIdentifier: id, fullName: "Person \(id)", headline: title, jobTitle: title, company: "Co \(id)",
            companyLinkedInID: nil, location: "San Francisco, CA, United States", experiences: [], education: [],
            skills: ["outbound"], certifications: [], languages: [], connections: 500, followers: 100)
        profile.company = Company(name: "Co \(id)", employeeCount: 200, industry: "Software")
        return LeadPoolEntry(profile: profile, accountID: "acct-old", offerID: offer, finishedAt: now)
    }

    func offer(titles: [String] = ["VP of Sales"], id: OfferID = "offer-new") -> OfferConfig {
        OfferConfig(offerID: id, accountID: "acct-new", name: "New",
                    icp: IdealCustomerProfile(titles: titles, seniorities: [.vp], industries: ["software"],
                                              minimumEmployees: 50, maximumEmployees: 1000, locations: ["United States"]),
                    updatedAt: now)
    }

    func testMatchesANewOfferOnceAndAgainOnlyWhenItsICPChanges() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        for entry in [poolEntry("alice", title: "VP of Sales"), poolEntry("bobby", title: "Intern"), poolEntry("carol", title: "VP of Sales"),
                      poolEntry("david", title: "VP of Sales", offer: "offer-new")] {
            state.applyPoolRecord(key: entry.leadID.rawValue, entry: entry)
        }
        state.applyPoolRecord(key: "carol", entry: nil)  // a tombstone removes it
        XCTAssertEqual(state.pool.keys.sorted(), ["alice", "bobby", "david"])

        let first = state.leadsToPublish(for: offer(), at: now)
        XCTAssertEqual(first?.map(\.leadID), ["alice@offer-new"], "the fitting profile only; none already in the offer")
        XCTAssertEqual(first?.first?.mode, .scoringOnly)
        XCTAssertNotNil(first?.first?.poolProfile)
        XCTAssertEqual(state.leadsToPublish(for: offer(), at: now)?.map(\.leadID), ["alice@offer-new"], "not marked yet")
        state.markMatched(offer())
        XCTAssertNil(state.leadsToPublish(for: offer(), at: now), "the same offer again: nothing to do")
        var republished = offer()
        republished.name = "Renamed"
        republished.updatedAt = now.addingTimeInterval(60)
        XCTAssertNil(state.leadsToPublish(for: republished, at: now), "same ICP: nothing to do")

        // The match reached the pool (it is indexed as an id, not as a profile to match).
        let match = LeadPoolEntry(profile: state.pool["alice"]!.profile, accountID: "acct-new", offerID: "offer-new", finishedAt: now)
        state.applyPoolRecord(key: "alice@offer-new", entry: match)
        XCTAssertEqual(state.pooledMatches, ["alice@offer-new"])
        XCTAssertNil(state.pool["alice@offer-new"])
        state.applyPoolRecord(key: "erin0", entry: poolEntry("erin0", title: "Head of Sales"))

        let changed = offer(titles: ["VP of Sales", "Head of Sales"])
        XCTAssertEqual(state.leadsToPublish(for: changed, at: now)?.map(\.leadID), ["erin0@offer-new"],
                       "ICP changed: matched again, without the match already in the pool")
        state.markMatched(changed)
        XCTAssertNil(state.leadsToPublish(for: changed, at: now))
        state.forgetOffer("offer-new")
        XCTAssertEqual(state.leadsToPublish(for: changed, at: now)?.map(\.leadID), ["erin0@offer-new"], "a deleted offer put again")
        XCTAssertEqual(OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 101)).leadsToPublish(for: offer(), at: now), [])
    }

    func testSettingsReadPoolMatchingVariables() throws {
        let defaults = try ProfileFinderSettings(environment: [:])
        XCTAssertTrue(defaults.isPoolMatchingEnabled)
        XCTAssertEqual(defaults.poolMatchMinimumFit, LeadPoolMatcher().minimumFit)
        let set = try ProfileFinderSettings(environment: ["POOL_MATCHING_ENABLED": "false", "POOL_MATCH_MIN_FIT": "75"])
        XCTAssertFalse(set.isPoolMatchingEnabled)
        XCTAssertEqual(set.poolMatchMinimumFit, 75)
        XCTAssertThrowsError(try ProfileFinderSettings(environment: ["POOL_MATCHING_ENABLED": "maybe"]))
        XCTAssertThrowsError(try ProfileFinderSettings(environment: ["POOL_MATCH_MIN_FIT": "101"]))
    }
}
