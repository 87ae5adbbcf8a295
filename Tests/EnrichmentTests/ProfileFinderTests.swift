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

    /// A `lead.pool` partition as the loop reads it: records at offsets 0, 1, 2, …
    struct PoolLog {
        var records: [(key: String, entry: LeadPoolEntry?)] = []

        mutating func append(_ key: String, _ entry: LeadPoolEntry?, to state: inout OfferPoolMatching) {
            state.applyPoolRecord(key: key, at: .init(partition: 0, offset: Int64(records.count)), isTombstone: entry == nil)
            records.append((key, entry))
        }

        /// What a scan of the log publishes for `offers`.
        func scan(_ state: OfferPoolMatching, for offers: [OfferConfig], now: Date) -> [LeadID] {
            records.enumerated().flatMap { offset, record -> [LeadID] in
                guard let entry = record.entry else { return [] }
                return state.matches(for: offers, from: entry, key: record.key, at: .init(partition: 0, offset: Int64(offset)), now: now)
                    .map(\.lead.leadID)
            }
        }
    }

    func testAScanMatchesEachLeadsLatestEntryOnlyAndNoMatchAlreadyInThePool() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        var log = PoolLog()
        log.append("alice", poolEntry("alice", title: "Intern"), to: &state)
        log.append("bobby", poolEntry("bobby", title: "VP of Sales"), to: &state)
        log.append("carol", poolEntry("carol", title: "VP of Sales"), to: &state)
        log.append("david", poolEntry("david", title: "VP of Sales", offer: "offer-new"), to: &state)
        log.append("alice", poolEntry("alice", title: "VP of Sales"), to: &state)  // re-enriched: this entry counts
        log.append("bobby", poolEntry("bobby", title: "Intern"), to: &state)  // and this one
        log.append("carol", nil, to: &state)  // a tombstone removes the lead
        XCTAssertEqual(state.latest, ["alice": .init(partition: 0, offset: 4), "bobby": .init(partition: 0, offset: 5),
                                      "david": .init(partition: 0, offset: 3)], "positions only, no profiles")
        XCTAssertEqual(state.scanEnds, [0: 6])

        XCTAssertEqual(log.scan(state, for: [offer()], now: now), ["alice@offer-new"],
                       "the latest entry of a fitting lead; none already in the offer; none removed")
        let leads = state.matches(for: [offer()], from: log.records[4].entry!, key: "alice", at: .init(partition: 0, offset: 4), now: now)
        XCTAssertEqual(leads.first?.lead.mode, .scoringOnly)
        XCTAssertEqual(leads.first?.lead.poolProfile, log.records[4].entry!.profile, "a match carries the profile the scan read")

        // The match reached the pool: indexed as an id, not as a lead to match.
        log.append("alice@offer-new", LeadPoolEntry(profile: log.records[4].entry!.profile, accountID: "acct-new",
                                                    offerID: "offer-new", finishedAt: now), to: &state)
        XCTAssertEqual(state.pooledMatches, ["alice@offer-new"])
        XCTAssertNil(state.latest["alice@offer-new"])
        log.append("erin0", poolEntry("erin0", title: "Head of Sales"), to: &state)
        XCTAssertEqual(log.scan(state, for: [offer(titles: ["VP of Sales", "Head of Sales"])], now: now), ["erin0@offer-new"],
                       "matched again without the match already in the pool")
        XCTAssertEqual(log.scan(state, for: [offer(titles: ["Head of Sales"]), offer(id: "offer-other")], now: now),
                       ["david@offer-other", "alice@offer-other", "erin0@offer-new", "erin0@offer-other"],
                       "one scan matches several offers, in the pool's order")
        XCTAssertEqual(log.scan(OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 101)), for: [offer()], now: now), [],
                       "nothing is indexed in an empty state")
    }

    func testAnOfferNeedsMatchingOnceAndAgainOnlyWhenItsICPChanges() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        XCTAssertTrue(state.needsMatching(offer()))
        state.markMatched(offer())
        XCTAssertFalse(state.needsMatching(offer()), "the same offer again: nothing to do")
        var republished = offer()
        republished.name = "Renamed"
        republished.updatedAt = now.addingTimeInterval(60)
        XCTAssertFalse(state.needsMatching(republished), "same ICP: nothing to do")
        let changed = offer(titles: ["VP of Sales", "Head of Sales"])
        XCTAssertTrue(state.needsMatching(changed))
        state.markMatched(changed)
        XCTAssertFalse(state.needsMatching(changed))
        state.forgetOffer("offer-new")
        XCTAssertTrue(state.needsMatching(changed), "a deleted offer put again")
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
