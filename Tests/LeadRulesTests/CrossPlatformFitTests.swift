import Foundation
import LeadModel
import LeadRules
import XCTest

/// Fit from every platform, and missing data that is no verdict.
final class CrossPlatformFitTests: XCTestCase {
    let scorer = RuleBasedScorer()

    static func xProfile(bio: String, location: String? = "Austin, TX") -> XProfile {
        XProfile(userID: "1", name: "Sam Lee", username: "samlee", bio: bio, followersCount: 900, followingCount: 300,
                 isVerified: false, profileImageURL: nil, canDM: true, isProtected: false, location: location)
    }

    static func xOnly(bio: String, location: String? = "Austin, TX", posts: [Post] = []) -> EnrichedProfile {
        var profile = EnrichedProfile(leadID: "lead-x", name: "Sam Lee", xURL: "https://x.com/samlee")
        profile.x = xProfile(bio: bio, location: location)
        profile.activity = Activity(posts: posts, plainText: "", orbit: [], signalDate: posts.map(\.date).max())
        return profile
    }

    func testAnXOnlyLeadIsScoredFromItsBioWithReasonsNamingX() {
        let card = scorer.score(profile: Self.xOnly(bio: "Head of Growth at Northwind | B2B SaaS"), offer: Fixtures.offer(),
                                source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(card.fit, 50, card.fitReasons.map(\.description).joined(separator: "; "))
        XCTAssertTrue(card.fitReasons.contains { $0.signal.contains("Head of Growth") && $0.source == "x" && $0.points == 25 })
        XCTAssertTrue(card.fitReasons.contains { $0.signal == "located in United States" && $0.source == "x" })
        XCTAssertEqual(card.evidence?.completeness, 50)
        XCTAssertEqual(card.evidence?.missing, ["industry", "company size"])
        XCTAssertEqual(card.evidence?.sources, ["x"])
        XCTAssertNotEqual(card.buyerState, .poorFit)
    }

    func testAnXOnlyLeadWithAMatchingRoleAndStrongIntentIsActive() {
        let posts = [
            Fixtures.post("Can anyone recommend a tool? Manual prospecting eats our week.", daysAgo: 2, id: "a"),
            Fixtures.post("Low reply rates again; thinking about switching from Outreach.", daysAgo: 5, id: "b"),
        ]
        let card = scorer.score(profile: Self.xOnly(bio: "VP Growth @northwind", posts: posts), offer: Fixtures.offer(),
                                source: .keywordSearch, now: Fixtures.now)
        XCTAssertGreaterThanOrEqual(card.intent, 70)
        XCTAssertEqual(card.buyerState, .active, card.stateReason)
    }

    func testAnEmptyProfileIsNotPoorFitButNotEnoughData() {
        let card = scorer.score(profile: EnrichedProfile(leadID: "lead-0", name: "Nobody"), offer: Fixtures.offer(),
                                source: .leadPool, now: Fixtures.now)
        XCTAssertEqual(card.buyerState, .monitor)
        XCTAssertTrue(card.stateReason.hasPrefix("not enough data"), card.stateReason)
        XCTAssertEqual(card.evidence?.completeness, 0)
        XCTAssertEqual(card.evidence?.missing, ["title", "industry", "company size", "location"])
        XCTAssertEqual(card.fitReasons.filter { $0.signal.hasPrefix("missing: ") }.count, 4)
    }

    func testKnownEvidenceAgainstTheICPIsStillPoorFitWhenSparse() {
        let card = scorer.score(profile: Self.xOnly(bio: "Software engineer at Initech", location: nil), offer: Fixtures.offer(),
                                source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(card.buyerState, .poorFit, card.stateReason)
    }

    func testAnXBioNamingACompetitorEmployerIsPoorFitEvenWithLinkedIn() {
        var profile = Fixtures.profile()
        profile.x = Self.xProfile(bio: "Account Executive at Salesloft")
        let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(card.buyerState, .poorFit)
        XCTAssertEqual([card.fit, card.intent, card.timing], [0, 0, 0])
        XCTAssertTrue(card.stateReason.contains("Salesloft"))
    }

    func testAnXBioWithANewerEmployerIsAJobChangeAndTheRoleThatCounts() {
        var profile = Fixtures.profile()
        profile.x = Self.xProfile(bio: "Head of Demand Gen at Brightwave (new!)")
        let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertTrue(card.fitReasons.contains { $0.source == "x" && $0.signal.contains("newer than LinkedIn's") },
                      card.fitReasons.map(\.description).joined(separator: "; "))
        XCTAssertTrue(card.timingReasons.contains { $0.signal.hasPrefix("job change") && $0.points == 25 })
    }

    /// The scoring stage hands the evidence the rules gathered to the lead's account-signal
    /// contribution, so the X bio is parsed once a lead: the employer read from it is the one the
    /// contribution would have gathered itself.
    func testTheScorersEvidenceNamesTheContributionsEmployerAsItsOwnWould() async {
        var profile = Fixtures.profile()
        profile.x = Self.xProfile(bio: "Head of Demand Gen at Brightwave (new!)")
        let evaluation = await scorer.evaluate(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(evaluation.evidence, FitEvidence(profile: profile))
        func companyKey(_ evidence: FitEvidence?) -> String? {
            AccountSignalAggregator.contribution(of: profile, leadID: "lead-1", runID: "run-1", accountID: "acct-1",
                                                 offer: Fixtures.offer(), at: Fixtures.now, evidence: evidence).companyKey
        }
        XCTAssertEqual(companyKey(evaluation.evidence), "name:brightwave")
        XCTAssertEqual(companyKey(nil), "name:brightwave")
        var other = evaluation.evidence
        other?.company?.value = "Northwind"
        XCTAssertEqual(companyKey(other), "name:northwind", "the evidence handed over is the one read")
    }

    /// "Former VP Sales at Brightwave" names where the lead was, not a newer employer: LinkedIn's
    /// role and employer stand, and it is no job change.
    func testAnXBioNamingAPastRoleIsNeitherTheRoleNorAJobChange() {
        var profile = Fixtures.profile()
        let linkedInOnly = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        profile.x = Self.xProfile(bio: "Former VP Sales at Brightwave | dad of two")
        let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        let reasons = card.fitReasons.map(\.description).joined(separator: "; ")
        XCTAssertFalse(card.fitReasons.contains { $0.signal.contains("Brightwave") || $0.signal.contains("newer than LinkedIn's") }, reasons)
        XCTAssertFalse(card.timingReasons.contains { $0.signal.hasPrefix("job change") })
        XCTAssertEqual(card.fit, linkedInOnly.fit, reasons)
        // Nor is a competitor it names as a past employer the lead's employer.
        profile.x = Self.xProfile(bio: "Ex-Account Executive at Salesloft")
        let alumnus = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertNotEqual(alumnus.buyerState, .poorFit, alumnus.stateReason)
    }

    /// Only an employer the bio names with "at" or "@" can be a newer one than LinkedIn's, and a
    /// handle is its company's ("@AcmeHQ" is Acme SaaS): a region after a comma or a company's
    /// handle is no job change.
    func testAnXBioRegionOrCompanyHandleIsNoJobChange() {
        let base = Fixtures.profile()
        let linkedInOnly = scorer.score(profile: base, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        for bio in ["VP Demand Gen, EMEA", "CEO, husband, dad", "VP Demand Gen @AcmeHQ", "VP Demand Gen at getacme"] {
            var profile = base
            profile.x = Self.xProfile(bio: bio)
            let evidence = FitEvidence(profile: profile)
            XCTAssertFalse(evidence.replacesLinkedInEmployer, bio)
            XCTAssertNil(evidence.earlierLinkedInRole, bio)
            let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
            XCTAssertFalse(card.timingReasons.contains { $0.signal.hasPrefix("job change") }, bio)
            XCTAssertEqual(card.fit, linkedInOnly.fit, "\(bio): " + card.fitReasons.map(\.description).joined(separator: "; "))
        }
    }

    /// Without a LinkedIn title, an X bio naming another employer is read as the current one; the
    /// company record, which describes LinkedIn's employer, is then not evidence of the lead's
    /// industry or size (as with a title, where LinkedIn's role is the earlier one).
    func testACompanyRecordOfTheEmployerLeftIsNoEvidenceWithoutALinkedInTitle() {
        var profile = Fixtures.profile(company: "Globex")
        profile.linkedin?.headline = ""
        profile.linkedin?.jobTitle = ""
        profile.x = Self.xProfile(bio: "VP of Demand Generation at Brightwave Labs")
        let evidence = FitEvidence(profile: profile)
        XCTAssertEqual(evidence.company?.value, "Brightwave Labs")
        XCTAssertNil(evidence.industry, "Globex's industry is not Brightwave's")
        XCTAssertNil(evidence.employees, "nor its size")

        profile.x = Self.xProfile(bio: "VP of Demand Generation at Globex")
        XCTAssertEqual(FitEvidence(profile: profile).industry?.value, "Computer Software", "the same employer: the record holds")
    }

    /// LinkedIn still says Outreach and the X bio names another employer: LinkedIn's competitor
    /// employer decides, whatever the bio says (a seller must not pitch a competitor's staff; a
    /// lead who did move on is overridden by a person), and the reason names the bio's employer
    /// so that person sees why. Before, the bio was taken as the newer job: scored at Brightwave,
    /// not poor fit, with a "job change" reason.
    func testACompetitorEmployeeOnLinkedInIsZeroedWhateverTheXBioSays() {
        var profile = Fixtures.profile(company: "Outreach")
        profile.x = Self.xProfile(bio: "Head of Demand Gen at Brightwave (new!)")
        let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(card.buyerState, .poorFit, card.stateReason)
        XCTAssertEqual(card.stateReason, "employed by competitor Outreach")
        XCTAssertEqual([card.fit, card.intent, card.timing, card.composite], [0, 0, 0, 0])
        XCTAssertEqual(card.fitReasons.map(\.description), ["+0 works at competitor Outreach (LinkedIn; the X bio names Brightwave)"])
        XCTAssertNotEqual(card.fitReasons.first?.source, "x")
    }

    /// A competitor's name inside another company's name is not that competitor: "Apollo
    /// Hospitals" is not Apollo. The competitor's own name with a legal or domain suffix is.
    func testAnEmployerIsACompetitorOnlyByItsOwnName() {
        var offer = Fixtures.offer()
        offer.icp.competitors = ["Apollo", "Outreach.io"]
        func state(employer: String) -> BuyerState {
            scorer.score(profile: Fixtures.profile(company: employer), offer: offer, source: .csvImport, now: Fixtures.now).buyerState
        }
        XCTAssertNotEqual(state(employer: "Apollo Hospitals"), .poorFit)
        XCTAssertNotEqual(state(employer: "Community Outreach Partners"), .poorFit)
        for employer in ["Apollo", "Apollo.io", "Apollo, Inc.", "Outreach", "Outreach Corporation"] {
            XCTAssertEqual(state(employer: employer), .poorFit, employer)
        }
    }

    func testAnXBioMentioningACompetitorAddsIntent() {
        var profile = Fixtures.profile()
        let quiet = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        profile.x = Self.xProfile(bio: "VP Demand Generation. Outreach power user.")
        let mention = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(mention.intent - quiet.intent, 10)
        XCTAssertNotEqual(mention.buyerState, .poorFit)
    }

    func testBothPlatformsNeverScoreBelowLinkedInAlone() {
        var both = Fixtures.profile()
        both.x = Self.xProfile(bio: "VP of Demand Generation at Acme SaaS")
        let linkedinOnly = scorer.score(profile: Fixtures.profile(), offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        let card = scorer.score(profile: both, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(card.fit, linkedinOnly.fit)
        XCTAssertEqual(card.evidence?.sources, ["linkedin", "company"])
    }

    func testSynonymTitlesAndSecuritySoftwareFitASalesAndSoftwareICP() {
        var icp = Fixtures.offer().icp
        icp.titles = ["head of sales"]
        icp.seniorities = [.director, .vp]
        let offer = OfferConfig(offerID: "o", accountID: "a", name: "n", icp: icp, updatedAt: Fixtures.now)
        var profile = Fixtures.profile()
        profile.linkedin?.jobTitle = "VP Sales"
        profile.company?.industry = "Computer & Network Security"
        let card = scorer.score(profile: profile, offer: offer, source: .csvImport, now: Fixtures.now)
        XCTAssertTrue(card.fitReasons.contains { $0.signal.contains("matches head of sales") && $0.points == 25 })
        XCTAssertTrue(card.fitReasons.contains { $0.signal.contains("falls under software") && $0.points == 25 })
        XCTAssertTrue(card.fitReasons.contains { $0.signal == "seniority vp" && $0.points == 15 })
    }
}
