import Foundation
import LeadModel
@testable import LeadRules
import XCTest

/// Readings a salesperson would see through at once, each once scored wrong (a review of the
/// scorer): a company written two ways, an idiom read as an employer, a tool someone wants to
/// replace read as one they build, whom a title serves read as its seniority, a company named
/// after a competitor's word, and places the scorer cannot place.
final class ScoringTrustTests: XCTestCase {
    let scorer = RuleBasedScorer()

    private func card(_ profile: EnrichedProfile, offer: OfferConfig = Fixtures.offer()) -> ScoreCard {
        scorer.score(profile: profile, offer: offer, source: .csvImport, now: Fixtures.now)
    }

    /// The card of an X-only lead at `place` for an offer whose ICP has the one location `wanted`.
    private func card(at place: String, for wanted: String) -> ScoreCard {
        var offer = Fixtures.offer()
        offer.icp.locations = [wanted]
        return card(CrossPlatformFitTests.xOnly(bio: "Growth marketer", location: place), offer: offer)
    }

    private func isIn(_ place: String, _ wanted: String) -> Bool {
        RuleBasedScorer.location(SignalDetector.Phrase(place), isIn: wanted)
    }

    /// An X bio naming LinkedIn's employer with another legal form or a shorter name, or with an
    /// idiom after "at", is no job change: the fit is LinkedIn's and no timing says "job change".
    /// A card quotes the profile's words it read (a title, an industry, a place, an employer) at
    /// a readable length: a text of the profile thousands of characters long would otherwise
    /// make the card, and every record that carries it, that long again.
    func testACardQuotesLongTextsShortened() throws {
        let long = String(repeating: "Revenue operations and pipeline ", count: 300)
        var profile = Fixtures.profile(company: long)
        profile.linkedin?.jobTitle = long
        profile.linkedin?.headline = long
        profile.linkedin?.location = long
        profile.company?.industry = long
        profile.x = CrossPlatformFitTests.xProfile(bio: "VP Sales at \(long)")
        let card = card(profile)
        let reasons = card.fitReasons + card.intentReasons + card.timingReasons
        XCTAssertFalse(reasons.isEmpty)
        for reason in reasons {
            XCTAssertLessThanOrEqual(reason.signal.unicodeScalars.count, 2 * RuleBasedScorer.quotedLength + 100, reason.signal)
        }
        XCTAssertTrue(reasons.contains { $0.signal.contains("Revenue operations and pipeline Revenue") && $0.signal.contains("…") },
                      "quoted, and marked as shortened")
        XCTAssertLessThanOrEqual(card.stateReason.unicodeScalars.count, 2 * RuleBasedScorer.quotedLength + 200)
    }

    func testTheSameEmployerWrittenAnotherWayOrAnIdiomIsNoJobChange() {
        for (company, bio) in [
            ("Globex Corporation", "VP of Demand Generation at Globex Corp"),
            ("Initech Limited", "VP of Demand Generation at Initech Ltd"),
            ("Acme Technologies", "VP of Demand Generation @ Acme Tech"),
            ("Acme SaaS", "Growth nerd at heart"),
            ("Acme SaaS", "Engineer at heart | VP Demand Generation @Acme SaaS"),
        ] {
            let base = Fixtures.profile(company: company)
            var profile = base
            profile.x = CrossPlatformFitTests.xProfile(bio: bio)
            let linkedInOnly = card(base)
            let both = card(profile)
            XCTAssertEqual(both.fit, linkedInOnly.fit, "\(bio): " + both.fitReasons.map(\.description).joined(separator: "; "))
            XCTAssertFalse(both.timingReasons.contains { $0.signal.hasPrefix("job change") }, bio)
        }
    }

    /// Dropping "Corp" or "Tech" names one company only when what is left is the same: Acme Corp
    /// is not Acme Health.
    func testOnlyTheSameCoreNameIsTheSameEmployer() {
        var profile = Fixtures.profile(company: "Acme Corp")
        profile.x = CrossPlatformFitTests.xProfile(bio: "VP of Demand Generation at Acme Health")
        XCTAssertTrue(card(profile).timingReasons.contains { $0.signal.hasPrefix("job change") })
    }

    /// A post about replacing a homegrown tool asks for a new one: it is no in-house build, and
    /// an old in-house post does not outweigh a later request.
    func testReplacingAHomegrownToolIsNoInHouseBuild() {
        let replacing = card(Fixtures.profile(posts: [
            Fixtures.post("Our homegrown sales engagement platform keeps breaking. Looking to replace it, any recommendations?", daysAgo: 2),
        ]))
        XCTAssertNotEqual(replacing.buyerState, .poorFit, replacing.stateReason)

        let later = card(Fixtures.profile(posts: [
            Fixtures.post("We built our own sales engagement platform in house.", daysAgo: 170, id: "old"),
            Fixtures.post("Can anyone recommend a sales engagement platform? Manual prospecting is killing us.", daysAgo: 1, id: "new"),
        ]))
        XCTAssertNotEqual(later.buyerState, .poorFit, later.stateReason)

        for text in ["We built our own sales engagement platform in house.",
                     "Frustrated with manual prospecting, so we built our own sales engagement platform in house.",
                     "Any recommendations for manual prospecting? Also: we're building our own sales engagement platform."] {
            let building = card(Fixtures.profile(posts: [Fixtures.post(text, daysAgo: 3)]))
            XCTAssertEqual(building.buyerState, .poorFit, "still a build: \(text)")
        }
    }

    /// X reports as engagement the accounts a lead's own posts mention: one X post naming
    /// @Outreach is one piece of evidence. It counts as the post's mention, not again as
    /// engagement with Outreach or as a competitor cluster, in the score and in account heat.
    /// Engagement seen on LinkedIn (reactions to Outreach's posts) is evidence of its own.
    func testAnXPostNamingACompetitorCountsOnce() {
        let date = Fixtures.daysAgo(3)
        var post = Fixtures.post("Anyone moving off @Outreach? Comparing it with @Gong this week.", daysAgo: 3)
        post.platform = .x
        func target(_ handle: String, _ classification: OrbitClassification, on platform: Platform = .x) -> OrbitTarget {
            OrbitTarget(platform: platform, handle: handle, name: handle, classification: classification,
                        interactionCount: 1, firstSeen: date, lastSeen: date)
        }
        let profile = Fixtures.profile(posts: [post], orbit: [target("Outreach", .competitor), target("Gong", .adjacentVendor)])
        let reasons = card(profile).intentReasons.map(\.signal)
        XCTAssertTrue(reasons.contains { $0.hasPrefix("post mentions competitor Outreach") }, "\(reasons)")
        XCTAssertFalse(reasons.contains { $0.hasPrefix("engages with competitor Outreach") }, "\(reasons)")
        XCTAssertFalse(reasons.contains { $0.contains("a competitor among them") }, "\(reasons)")

        let offer = Fixtures.offer()
        let contribution = AccountSignalAggregator.contribution(
            of: profile, leadID: "lead-1", runID: "run-1", accountID: "acct-1", offer: offer, at: Fixtures.now)
        XCTAssertEqual(contribution.signals.filter { $0.kind == .competitorEngagement }, [])
        XCTAssertFalse((contribution.clusterSignals ?? []).contains { $0.kind == .competitorCluster })

        var seenOnLinkedIn = profile
        seenOnLinkedIn.activity?.orbit.append(target("outreach-io", .competitor, on: .linkedin))
        XCTAssertTrue(card(seenOnLinkedIn).intentReasons.contains { $0.signal.hasPrefix("engages with competitor outreach-io") })
    }

    /// A post published on both platforms (the same text within two days, two ids) is one signal,
    /// and a competitor engaged with on both is one engagement: each counted twice before, 40 + 40
    /// points of intent for one question, 20 for one competitor where the rule says 10 each, and
    /// twice in account heat.
    func testWhatAPersonSaysOrEngagesWithOnBothPlatformsCountsOnce() {
        let text = "Can anyone recommend a sales engagement platform? Manual prospecting is killing us"
        let linkedin = Fixtures.post(text, daysAgo: 2, id: "li-1")
        var x = Fixtures.post(text, daysAgo: 1.6, id: "x-1")
        x.platform = .x
        let once = card(Fixtures.profile(posts: [linkedin]))
        let crossPosted = card(Fixtures.profile(posts: [x, linkedin]))
        XCTAssertEqual(crossPosted.intent, once.intent)
        XCTAssertEqual(crossPosted.intentReasons.count, once.intentReasons.count, "\(crossPosted.intentReasons)")
        // Said again a week later, it is said again.
        XCTAssertGreaterThan(card(Fixtures.profile(posts: [linkedin, Fixtures.post(text, daysAgo: 9, id: "li-2")])).intent, once.intent)

        func target(_ handle: String, _ name: String, on platform: Platform) -> OrbitTarget {
            OrbitTarget(platform: platform, handle: handle, name: name, classification: .competitor, interactionCount: 3,
                        firstSeen: Fixtures.daysAgo(40), lastSeen: Fixtures.daysAgo(platform == .x ? 2 : 5))
        }
        let both = Fixtures.profile(orbit: [target("Outreach", "Outreach", on: .x), target("outreach-io", "Outreach", on: .linkedin)])
        let engagements = card(both).intentReasons.filter { $0.signal.hasPrefix("engages with competitor") }
        XCTAssertEqual(engagements.map(\.points), [10], "\(engagements)")
        let contribution = AccountSignalAggregator.contribution(
            of: both, leadID: "lead-1", runID: "run-1", accountID: "acct-1", offer: Fixtures.offer(), at: Fixtures.now)
        let counted = contribution.signals.filter { $0.kind == .competitorEngagement }
        XCTAssertEqual(counted.map(\.count), [6], "one engagement, its interactions added")
        XCTAssertEqual(counted.map(\.date), [Fixtures.daysAgo(2)], "last seen on either")
    }

    /// Each score's reasons add up to it: where they add up to more than 100 or less than 0, a
    /// last reason says the score was held there and by how much. Before, two matching skills
    /// made fit reasons add up to 105 under a fit of 100, and a salesperson checking the sum found
    /// five points nobody explained.
    func testEveryScoresReasonsAddUpToIt() {
        let rich = [
            Fixtures.post("Can anyone recommend an alternative to Outreach? Manual prospecting and low reply rates are killing us", daysAgo: 1, id: "p1"),
            Fixtures.post("Fed up with Outreach sequences. Looking for a new tool, we are switching this quarter", daysAgo: 3, id: "p2"),
            Fixtures.post("Manual prospecting again today. Any recommendations for a sales engagement platform?", daysAgo: 5, id: "p3"),
        ]
        var strong = Fixtures.profile(posts: rich)
        strong.linkedin?.skills = ["Demand Generation", "Sales Engagement", "Outbound", "Salesforce"]
        var cards = [card(strong), card(Fixtures.profile()), card(Fixtures.profile(posts: rich))]
        var abroad = Fixtures.profile(company: "Outreach Partners")
        abroad.linkedin?.location = "London, United Kingdom"
        abroad.company?.industry = "Retail"
        abroad.company?.employeeCount = 3
        cards.append(card(abroad))
        for card in cards {
            XCTAssertEqual(card.fitReasons.reduce(0) { $0 + $1.points }, card.fit, "fit: \(card.fitReasons)")
            XCTAssertEqual(card.intentReasons.reduce(0) { $0 + $1.points }, card.intent, "intent: \(card.intentReasons)")
            XCTAssertEqual(card.timingReasons.reduce(0) { $0 + $1.points }, card.timing, "timing: \(card.timingReasons)")
        }
        XCTAssertTrue(cards.contains { $0.intentReasons.contains { $0.signal.hasPrefix("held at 100") } }, "the test reaches the cap")
    }

    /// A place names its country as people write it ("UAE", "Korea", "Czech Republic",
    /// "Türkiye"): the same country as the region lists name, so "Dubai, UAE" is in EMEA, not
    /// outside it. A Canadian city written with the code CA is in Canada, as the gazetteer knows
    /// it ("Saskatoon, CA"), while "San Diego, CA" stays in California.
    func testCountriesWrittenAnotherWayAndCanadianCitiesWithCAArePlaced() {
        XCTAssertTrue(isIn("Dubai, UAE", "EMEA"))
        XCTAssertTrue(isIn("Seoul, Korea", "APAC"))
        XCTAssertTrue(isIn("Prague, Czech Republic", "Europe"))
        XCTAssertTrue(isIn("Istanbul, Türkiye", "EMEA"))
        XCTAssertTrue(isIn("Dubai", "UAE"))
        XCTAssertTrue(isIn("Saskatoon, CA", "Canada"))
        XCTAssertTrue(isIn("Kobenhavn", "Denmark"), "ø is no o with an accent: both spellings listed")
        XCTAssertFalse(isIn("Saskatoon, CA", "United States"))
        XCTAssertTrue(isIn("San Diego, CA", "United States"))
    }

    /// Against an ICP location inside a country (a US state), a place in that country is inside
    /// when it is in that state ("Austin, TX" for Texas), outside when it names another state
    /// ("Columbus, OH") or is a city the scorer knows in another state ("Seattle"), and otherwise
    /// no evidence either way ("United States"); a place in another country is outside. Before,
    /// "Austin, TX" was outside Texas, with evidence against.
    func testAStateICPReadsStatesAndCountries() {
        func placement(_ place: String) -> RuleBasedScorer.Placement {
            let phrase = SignalDetector.Phrase(place)
            return RuleBasedScorer.placement(of: RuleBasedScorer.areas(of: phrase), in: RuleBasedScorer.ICPLocation("Texas"))
        }
        let expected: [(String, RuleBasedScorer.Placement)] = [
            ("Austin, TX", .inside), ("Houston, Texas", .inside), ("Columbus, OH", .outside), ("Portland, Oregon", .outside),
            ("Seattle", .outside), ("Dallas", .inside), ("United States", .unknown), ("London, United Kingdom", .outside),
            ("Amsterdam", .outside),
        ]
        for (place, placed) in expected { XCTAssertEqual(placement(place), placed, place) }
    }

    /// A company's industry broader than the ICP's ("Software" for "security software") says
    /// nothing of the narrower one either way: no points, no evidence against, and the industry
    /// counts as missing evidence. Before, it was "outside the ICP", -10 with evidence against.
    func testABroaderIndustryIsNoEvidenceEitherWay() throws {
        var profile = Fixtures.profile()
        profile.company?.industry = "Software"
        var offer = Fixtures.offer()
        offer.icp.industries = ["security software"]
        let card = card(profile, offer: offer)
        let reason = try XCTUnwrap(card.fitReasons.first { $0.signal.contains("Software") })
        XCTAssertEqual(reason.points, 0, reason.signal)
        XCTAssertTrue(card.evidence?.missing.contains("industry") == true, "\(String(describing: card.evidence))")
        profile.company?.industry = "Retail"
        XCTAssertEqual(self.card(profile, offer: offer).fitReasons.first { $0.signal.contains("Retail") }?.points, -10, "a different industry is still against")
    }

    /// A LinkedIn role dated ahead (an announced move) has not started: it reads "starts in",
    /// not "0 days ago". Within the first-90-days window it is that window's timing; a start
    /// further ahead than that is no timing at all.
    func testARoleDatedAheadReadsAsStartingNotStarted() {
        var soon = Fixtures.profile()
        soon.linkedin = Fixtures.linkedin(startedDaysAgo: -20.5)
        let reasons = card(soon).timingReasons
        XCTAssertTrue(reasons.contains { $0.signal == "starts as VP of Demand Generation in 20 days" && $0.points == 35 }, "\(reasons)")
        XCTAssertFalse(reasons.contains { $0.signal.contains("days ago") && $0.signal.hasPrefix("start") }, "\(reasons)")

        var later = Fixtures.profile()
        later.linkedin = Fixtures.linkedin(startedDaysAgo: -200)
        XCTAssertFalse(card(later).timingReasons.contains { $0.signal.hasPrefix("start") }, "\(card(later).timingReasons)")
    }

    /// A competitor the offer lists by its domain ("outreach.io") is the brand people write:
    /// "Outreach" in a post, @Outreach on X. It went unnoticed, since no post writes "outreach io".
    func testACompetitorListedByItsDomainIsFoundByItsName() {
        var offer = Fixtures.offer()
        offer.icp.competitors = ["outreach.io", "salesloft.com"]
        let posts = [Fixtures.post("Moving off Outreach next quarter. Any alternatives to Salesloft too?", daysAgo: 2)]
        let reasons = card(Fixtures.profile(posts: posts), offer: offer).intentReasons.map(\.signal)
        XCTAssertTrue(reasons.contains { $0.hasPrefix("post mentions competitor outreach") }, "\(reasons)")
        XCTAssertTrue(reasons.contains { $0.hasPrefix("post mentions competitor salesloft") }, "\(reasons)")
        // Still an everyday word: "cold outreach" names no competitor.
        let everyday = card(Fixtures.profile(posts: [Fixtures.post("Cold outreach is hard this year.", daysAgo: 2)]), offer: offer)
        XCTAssertFalse(everyday.intentReasons.contains { $0.signal.contains("competitor") }, "\(everyday.intentReasons)")
        let handle = Interaction(platform: .x, handle: "Outreach", name: "Outreach", isOrganization: true, followers: 9_000, count: 2,
                                 firstSeen: Fixtures.daysAgo(5), lastSeen: Fixtures.daysAgo(2))
        XCTAssertEqual(ActivityBuilder.classify(handle, competitors: offer.icp.competitors), .competitor)
    }

    /// The fit reasons of a LinkedIn "CSO" with `headline` against a sales ICP.
    private func salesFitReasons(ofCSOWithHeadline headline: String) -> [String] {
        var offer = Fixtures.offer()
        offer.icp.titles = ["Chief Sales Officer", "VP Sales"]
        var profile = Fixtures.profile()
        profile.linkedin = Fixtures.linkedin(title: "CSO")
        profile.linkedin?.headline = headline
        return card(profile, offer: offer).fitReasons.map(\.signal)
    }

    /// A "CSO" whose headline is about security is no Chief Sales Officer: the title matched a
    /// sales ICP by name. One whose headline is about sales still does.
    func testACSOMatchesASalesICPOnlyWhenTheirProfileSaysSales() {
        let security = salesFitReasons(ofCSOWithHeadline: "CSO at Acme SaaS | Security and compliance for SaaS")
        XCTAssertTrue(security.contains("title \"CSO\" matches no ICP role"), "\(security)")
        let sales = salesFitReasons(ofCSOWithHeadline: "CSO at Acme SaaS | Building sales teams")
        XCTAssertTrue(sales.contains("title \"CSO\" matches Chief Sales Officer"), "\(sales)")
    }

    /// An ICP that says "CSO" is read from its other titles, and alone is no specialty: every
    /// chief (CEO, CTO) matched it by name, for its " officer ".
    func testAnICPsCSOIsReadFromItsOtherTitlesAndMatchesNoOtherChief() {
        var offer = Fixtures.offer()
        offer.icp.titles = ["CSO"]
        var profile = Fixtures.profile()
        profile.linkedin = Fixtures.linkedin(title: "CEO")
        let ceo = card(profile, offer: offer).fitReasons.map(\.signal)
        XCTAssertFalse(ceo.contains { $0.contains("matches CSO") }, "\(ceo)")
        profile.linkedin = Fixtures.linkedin(title: "Chief Sales Officer")
        XCTAssertTrue(card(profile, offer: offer).fitReasons.contains { $0.signal == "title \"Chief Sales Officer\" matches CSO" },
                      "one of its readings: \(card(profile, offer: offer).fitReasons)")
        profile.linkedin = Fixtures.linkedin(title: "CSO")
        profile.linkedin?.headline = "CSO at Acme SaaS"
        XCTAssertTrue(card(profile, offer: offer).fitReasons.contains {
            $0.signal == "title \"CSO\" may be chief sales officer, chief security officer, chief strategy officer: nothing says which"
        }, "the same unread title may be the same role: \(card(profile, offer: offer).fitReasons)")
        profile.linkedin = Fixtures.linkedin(title: "Security Officer")
        XCTAssertFalse(card(profile, offer: offer).fitReasons.contains { $0.signal.contains("matches CSO") }, "no chief")
        profile.linkedin = Fixtures.linkedin(title: "CPO")
        profile.linkedin?.headline = "CPO at Acme SaaS"
        XCTAssertTrue(card(profile, offer: offer).fitReasons.contains { $0.signal == "title \"CPO\" matches no ICP role" },
                      "no reading of CPO is one of CSO: \(card(profile, offer: offer).fitReasons)")

        offer.icp.titles = ["CSO", "VP Sales"]
        profile.linkedin = Fixtures.linkedin(title: "Chief Sales Officer")
        XCTAssertTrue(card(profile, offer: offer).fitReasons.contains { $0.signal == "title \"Chief Sales Officer\" matches CSO" },
                      "\(card(profile, offer: offer).fitReasons)")
        profile.linkedin = Fixtures.linkedin(title: "Chief Technology Officer")
        XCTAssertFalse(card(profile, offer: offer).fitReasons.contains { $0.signal.contains("matches CSO") })
    }

    /// An ICP title keeps its other words beside a reading of its abbreviation, and only the
    /// readings its other titles leave count: "CSO / CTO" is still a CTO's function, "CSO EMEA"
    /// no plain Chief Security Officer's name, and beside "VP Sales" and "Head of Security" a CSO
    /// is no strategy officer.
    func testAnICPTitlesOtherWordsAndOtherTitlesKeepTheirWeight() {
        func reasons(_ titles: [String], lead title: String) -> [String] {
            var offer = Fixtures.offer()
            offer.icp.titles = titles
            var profile = Fixtures.profile()
            profile.linkedin = Fixtures.linkedin(title: title)
            return card(profile, offer: offer).fitReasons.map(\.signal)
        }
        XCTAssertTrue(reasons(["CSO / CTO"], lead: "CTO").contains("title \"CTO\" is in the same function as CSO / CTO"),
                      "\(reasons(["CSO / CTO"], lead: "CTO"))")
        XCTAssertFalse(reasons(["CSO EMEA"], lead: "Chief Security Officer").contains { $0.contains("matches CSO EMEA") },
                       "\(reasons(["CSO EMEA"], lead: "Chief Security Officer"))")
        let both = ["CSO", "VP Sales", "Head of Security"]
        XCTAssertTrue(reasons(both, lead: "Chief Security Officer").contains("title \"Chief Security Officer\" matches CSO"))
        XCTAssertFalse(reasons(both, lead: "Chief Strategy Officer").contains { $0.contains("matches CSO") },
                       "\(reasons(both, lead: "Chief Strategy Officer"))")
    }

    /// A CSO nothing tells apart is neither a match nor evidence against a sales ICP; an X bio's
    /// bare "CSO" is a title; and when the title is the X bio's newer role, LinkedIn's earlier
    /// role says nothing about it.
    func testACSONothingTellsApartIsNoEvidenceEitherWay() {
        let reasons = salesFitReasons(ofCSOWithHeadline: "CSO at Acme SaaS")
        XCTAssertTrue(reasons.contains("title \"CSO\" may be chief sales officer: nothing says which"), "\(reasons)")
        var cpo = Fixtures.profile()
        cpo.linkedin = Fixtures.linkedin(title: "CPO")
        cpo.linkedin?.headline = "CPO at Acme SaaS"
        var offer = Fixtures.offer()
        offer.icp.titles = ["Chief Sales Officer", "VP Sales"]
        XCTAssertTrue(card(cpo, offer: offer).fitReasons.contains { $0.signal == "title \"CPO\" matches no ICP role" },
                      "none of its readings is a sales role: \(card(cpo, offer: offer).fitReasons)")

        var xOnly = Fixtures.profile()
        xOnly.linkedin = nil
        xOnly.x = CrossPlatformFitTests.xProfile(bio: "CSO | Dad")
        XCTAssertEqual(FitEvidence(profile: xOnly).title?.value, "CSO")

        var moved = Fixtures.profile()
        moved.linkedin = Fixtures.linkedin(company: "OldCo", title: "VP Sales")
        moved.x = CrossPlatformFitTests.xProfile(bio: "CSO at NewCo | Security first")
        let evidence = FitEvidence(profile: moved)
        XCTAssertEqual(evidence.title?.value, "CSO")
        XCTAssertEqual(ScoringVocabulary.standard.role(ofTitle: "CSO", context: evidence.titleContext)?.functions, ["security"],
                       "\(evidence.titleContext)")
    }

    /// A title nothing tells apart tells nothing of the role, so it is no evidence: an X-only
    /// "CSO | Dad" in Austin is judged as the same lead whose bio names no role ("Dad"), not as
    /// one whose evidence is half complete (which made it a poor fit).
    func testATitleThatTellsNothingIsNoEvidence() {
        let cso = card(CrossPlatformFitTests.xOnly(bio: "CSO | Dad"))
        let dad = card(CrossPlatformFitTests.xOnly(bio: "Dad"))
        XCTAssertTrue(cso.fitReasons.contains { $0.signal.hasSuffix("nothing says which") },
                      cso.fitReasons.map(\.description).joined(separator: "; "))
        XCTAssertEqual(cso.buyerState, dad.buyerState, cso.stateReason)
        XCTAssertEqual(cso.evidence?.completeness, dad.evidence?.completeness)
        XCTAssertEqual(cso.evidence?.missing, dad.evidence?.missing)
    }

    /// Whom a title serves is not its seniority: an assistant to a CEO is no C-level.
    func testAnAssistantToAnExecutiveIsNotThatExecutive() {
        let vocabulary = ScoringVocabulary.standard
        for title in ["Executive Assistant to CEO", "Assistant to VP Sales", "Executive Assistant to the CEO & Founder",
                      "Advisor to the CEO"] {
            let seniority = vocabulary.role(ofTitle: title)?.seniority
            XCTAssertNotEqual(seniority, .cLevel, title)
            XCTAssertNotEqual(seniority, .founder, title)
            XCTAssertNotEqual(seniority, .vp, title)
        }
        XCTAssertEqual(vocabulary.role(ofTitle: "Head of Go-to-Market")?.seniority, vocabulary.role(ofTitle: "Head of Marketing")?.seniority,
                       "a title with 'to' in its own words keeps its seniority")
        XCTAssertEqual(vocabulary.role(ofTitle: "Advisor to founders | CRO at Acme")?.seniority, .cLevel,
                       "a headline of several roles keeps the others")
    }

    /// A company whose name ends with a competitor's word is not that competitor; the "of" and
    /// "at" an X bio writes before one still name it.
    func testACompanyEndingWithACompetitorsWordIsNotTheCompetitor() {
        var offer = Fixtures.offer()
        offer.icp.competitors = ["Outreach", "Clay"]
        for employer in ["Community Outreach", "Red Clay Inc"] {
            XCTAssertNotEqual(card(Fixtures.profile(company: employer), offer: offer).buyerState, .poorFit, employer)
        }
        let detector = SignalDetector(offer: offer)
        XCTAssertEqual(detector.competitor(employing: "Staff of Outreach"), "Outreach")
        XCTAssertEqual(detector.competitor(employing: "Clay Labs"), "Clay")
    }

    /// Places: Tbilisi is in the country Georgia and Perth, WA in Australia, not in the United
    /// States; Santa Fe, New Mexico is not in Mexico; an X location that names no place is no
    /// evidence against the ICP (it was, and made an X-only lead a poor fit).
    func testPlacesTheScorerCannotMistake() {
        XCTAssertFalse(isIn("Tbilisi, Georgia", "United States"))
        XCTAssertTrue(isIn("Atlanta, Georgia", "United States"))
        XCTAssertFalse(isIn("Perth, WA", "United States"))
        XCTAssertTrue(isIn("Seattle, WA", "United States"))
        XCTAssertFalse(isIn("Santa Fe, New Mexico", "Mexico"))
        XCTAssertTrue(isIn("Santa Fe, New Mexico", "United States"))
        XCTAssertTrue(isIn("Guadalajara, Mexico", "Mexico"))

        let nowhere = card(CrossPlatformFitTests.xOnly(bio: "Growth marketer", location: "Everywhere 🌍"))
        let unknown = card(CrossPlatformFitTests.xOnly(bio: "Growth marketer", location: nil))
        XCTAssertEqual(nowhere.buyerState, unknown.buyerState, nowhere.stateReason)
        XCTAssertFalse(nowhere.fitReasons.contains { $0.signal.contains("outside the ICP") },
                       nowhere.fitReasons.map(\.description).joined(separator: "; "))
        let abroad = card(CrossPlatformFitTests.xOnly(bio: "Growth marketer", location: "Berlin, Germany"))
        XCTAssertTrue(abroad.fitReasons.contains { $0.signal.contains("outside the ICP") }, "a place it knows still counts")
    }

    /// A place the scorer does not know is no evidence either way: an X-only lead in "Springfield
    /// Gardens" is scored as one without a location, not as one outside the ICP (which made it a
    /// poor fit where the same lead without a location is monitored). A place known to be
    /// elsewhere still counts against, and a US state's postal code after a comma places a city
    /// in the United States.
    func testAPlaceTheScorerDoesNotKnowIsNoEvidenceEitherWay() {
        for (place, country) in [("Nashville, TN", "United States"), ("Detroit, MI", "United States"),
                                 ("Vancouver, BC", "Canada"), ("Sydney, NSW", "Australia")] {
            XCTAssertTrue(isIn(place, country), place)
        }
        XCTAssertFalse(isIn("Nashville, TN", "Tunisia"))

        let unknown = card(CrossPlatformFitTests.xOnly(bio: "Growth marketer", location: nil))
        for place in ["Springfield Gardens", "Lake Wobegon", "Lower Wobbleton"] {
            let scored = card(CrossPlatformFitTests.xOnly(bio: "Growth marketer", location: place))
            XCTAssertEqual(scored.buyerState, unknown.buyerState, "\(place): \(scored.stateReason)")
            XCTAssertEqual(scored.evidence?.completeness, unknown.evidence?.completeness, place)
            XCTAssertFalse(scored.fitReasons.contains { $0.signal.contains("outside the ICP") },
                           scored.fitReasons.map(\.description).joined(separator: "; "))
        }
        for place in ["London", "Toronto, Canada", "Perth, WA"] {
            let scored = card(CrossPlatformFitTests.xOnly(bio: "Growth marketer", location: place))
            XCTAssertTrue(scored.fitReasons.contains { $0.signal.contains("outside the ICP") }, "\(place) is known to be elsewhere")
        }
    }

    /// The scorer's gazetteer (`Vocabulary/places.json`) knows major cities and the regions people
    /// write: Amsterdam, São Paulo, Pune, Manchester and "Remote — EU" are outside a US ICP again
    /// (after "a place the scorer does not know is no evidence", they were unknown and such leads
    /// monitored instead of poor fit), Seattle, Boston and Denver are in it, a US state after a
    /// comma wins over a city abroad of the same name ("Paris, TX"), accents and case do not
    /// matter, and a city is in an ICP that names its country ("Vancouver" in one with Canada)
    /// or its region ("Amsterdam" in "EMEA"). A region that holds an ICP country is no evidence
    /// either way ("Remote — EU" for an ICP of the United Kingdom and Germany).
    func testTheGazetteerPlacesMajorCitiesAndRegions() {
        let marketer = { (place: String?) in CrossPlatformFitTests.xOnly(bio: "Growth marketer", location: place) }
        let abroad = card(marketer("Berlin, Germany"))
        for place in ["Amsterdam", "São Paulo", "Sao Paulo", "SÃO PAULO", "Sa\u{0303}o Paulo", "Remote \u{2014} EU", "Pune", "Manchester",
                      "Paris", "Bengaluru", "Zurich", "Zürich", "EMEA", "Tel Aviv", "Mexico City"] {
            XCTAssertFalse(isIn(place, "United States"), place)
            let scored = card(marketer(place))
            XCTAssertTrue(scored.fitReasons.contains { $0.signal.contains("outside the ICP") },
                          "\(place): " + scored.fitReasons.map(\.description).joined(separator: "; "))
            XCTAssertEqual(scored.buyerState, abroad.buyerState, "\(place): \(scored.stateReason)")
            XCTAssertEqual(scored.evidence?.completeness, abroad.evidence?.completeness, place)
        }
        let home = card(marketer("Austin, TX"))
        for place in ["Seattle", "Boston", "Denver", "Paris, TX", "Paris, Texas", "Portland", "Salt Lake City", "Greater Boston Area",
                      "Manchester, NH", "Dublin, OH", "Nashville"] {
            XCTAssertTrue(isIn(place, "United States"), place)
            let scored = card(marketer(place))
            XCTAssertTrue(scored.fitReasons.contains { $0.signal == "located in United States" },
                          "\(place): " + scored.fitReasons.map(\.description).joined(separator: "; "))
            XCTAssertEqual(scored.buyerState, home.buyerState, "\(place): \(scored.stateReason)")
        }
        // Whole words only, and names the list leaves out as ambiguous stay unknown.
        for place in ["Springfield Gardens", "Eugene, Oregon", "Parisian Heights", "Cambridge", "Birmingham"] {
            XCTAssertFalse(card(marketer(place)).fitReasons.contains { $0.signal.contains("outside the ICP") }, place)
        }
        XCTAssertTrue(isIn("Eugene, Oregon", "United States"))

        // A city in its country and its regions, a province's name after a comma naming its country.
        let placed: [(place: String, wanted: String, isIn: Bool)] = [
            ("Vancouver", "Canada", true), ("Vancouver", "United States", false), ("London, Ontario", "Canada", true),
            ("London, Ontario", "United Kingdom", false), ("Manchester", "United Kingdom", true), ("Amsterdam", "EMEA", true),
            ("Remote \u{2014} EU", "Europe", true), ("Seattle", "Europe", false),
        ]
        for (place, wanted, expected) in placed {
            XCTAssertEqual(isIn(place, wanted), expected, "\(place) in \(wanted)")
        }
        var northAmerica = Fixtures.offer()
        northAmerica.icp.locations = ["United States", "Canada"]
        XCTAssertTrue(card(marketer("Vancouver"), offer: northAmerica).fitReasons.contains { $0.signal == "located in Canada" })

        var europe = Fixtures.offer()
        europe.icp.locations = ["United Kingdom", "Germany"]
        let eu = card(marketer("Remote \u{2014} EU"), offer: europe)
        XCTAssertFalse(eu.fitReasons.contains { $0.signal.contains("outside the ICP") || $0.signal.hasPrefix("located in") },
                       eu.fitReasons.map(\.description).joined(separator: "; "))
        XCTAssertTrue(card(marketer("São Paulo"), offer: europe).fitReasons.contains { $0.signal.contains("outside the ICP") })
    }

    /// An ICP location naming several countries or a continent holds every place in them: a US
    /// lead of a "North America" offer is located in it as in a "United States" one. Before, an
    /// ICP location that was neither one country nor one region of the gazetteer put every place
    /// the scorer knows without the gazetteer "outside the ICP" (no location points, and evidence
    /// against that took away the "not enough data" protection): "Austin, TX" was outside "North
    /// America" and "US & Canada", "London, UK" outside "UK & Ireland", and "Vienna, Austria"
    /// outside "Germany, Austria, Switzerland".
    func testAnICPOfSeveralCountriesOrAContinentHoldsTheirPlaces() {
        func placement(_ place: String, _ wanted: String) -> RuleBasedScorer.Placement {
            let phrase = SignalDetector.Phrase(place)
            return RuleBasedScorer.placement(of: RuleBasedScorer.areas(of: phrase), in: RuleBasedScorer.ICPLocation(wanted))
        }
        let placed: [(wanted: String, inside: [String], outside: [String])] = [
            ("North America", ["Austin, TX", "San Francisco, CA, United States", "Seattle", "Toronto", "Vancouver, BC", "Mexico City"],
             ["Berlin, Germany", "London", "São Paulo"]),
            ("US & Canada", ["Austin, TX", "Seattle", "Toronto, Canada", "Saskatoon, CA"], ["Berlin, Germany", "Mexico City"]),
            // The sales territory: Mexico is LATAM's.
            ("NAMER", ["Austin, TX", "Toronto, Canada"], ["Mexico City", "Berlin, Germany"]),
            ("UK & Ireland", ["London, UK", "Manchester", "Edinburgh, Scotland", "Dublin, Ireland"],
             ["Paris, France", "Austin, TX", "London, Ontario"]),
            ("Germany, Austria, Switzerland", ["Berlin, Germany", "Vienna, Austria", "Zürich", "Munich"], ["Austin, TX", "Paris, France"]),
            ("EMEA and North America", ["Austin, TX", "Amsterdam", "Dubai, UAE"], ["Tokyo"]),
            ("US only", ["Austin, TX", "Seattle"], ["Toronto, Canada"]),
        ]
        for (wanted, inside, outside) in placed {
            for place in inside { XCTAssertEqual(placement(place, wanted), .inside, "\(place) in \(wanted)") }
            for place in outside { XCTAssertEqual(placement(place, wanted), .outside, "\(place) in \(wanted)") }
        }
        XCTAssertEqual(placement("Remote \u{2014} EU", "UK & Ireland"), .unknown, "a region that may hold them")

        var northAmerica = Fixtures.offer()
        northAmerica.icp.locations = ["North America"]
        let lead = Fixtures.profile()
        let inNorthAmerica = card(lead, offer: northAmerica)
        XCTAssertEqual(inNorthAmerica.fit, card(lead).fit, inNorthAmerica.fitReasons.map(\.description).joined(separator: "; "))
        XCTAssertTrue(inNorthAmerica.fitReasons.contains { $0.signal == "located in North America" && $0.points == 10 })
        // Little evidence and none against: monitored for want of data, as in a US offer.
        let xOnly = CrossPlatformFitTests.xOnly(bio: "Coffee lover", location: "Austin, TX")
        let monitored = card(xOnly, offer: northAmerica)
        XCTAssertEqual(monitored.buyerState, .monitor, monitored.stateReason)
        XCTAssertEqual(monitored.buyerState, card(xOnly).buyerState)
    }

    /// A list of countries written with their two-letter codes ("UK, NL", "US, UK, NL", "Germany,
    /// NL") holds the places of each, as "UK & Ireland" does. Before, "NL" after a
    /// comma was read as the province or country where the place before it lies, so "UK, NL" was
    /// one place, the United Kingdom in the Netherlands (or Newfoundland): "London, UK" and
    /// "Amsterdam" were outside it, and "Berlin" outside "Germany, NL". The codes of US states
    /// ("CA", "DE", "IN") stay as they were read.
    func testAListOfCountryCodesHoldsEachCountry() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("UK, NL", ["London, UK", "Amsterdam", "Manchester", "Rotterdam, Netherlands"], [], ["Berlin", "St. John's, NL", "Austin, TX"]),
            ("US, UK, NL", ["London, UK", "Austin, TX", "Amsterdam"], [], ["Berlin", "Toronto"]),
            ("Germany, NL", ["Berlin", "Amsterdam, NL", "Munich, Germany"], [], ["London", "Paris, France"]),
            ("NL, Germany", ["Berlin", "Amsterdam"], [], ["London"]),
            ("UK, NL, BE, FR", ["London", "Brussels", "Paris, France", "Amsterdam"], [], ["Berlin", "Madrid"]),
            // A code after a city is still where the city lies, and a province's code after its
            // country is the province.
            ("Amsterdam, NL", ["Amsterdam"], [], ["Rotterdam", "St. John's, NL"]),
            ("Canada, NL", ["St. John's, NL"], [], ["Amsterdam", "Toronto"]),
        ]
        assertPlacements(placed)
        assertLocated(at: "Amsterdam", in: "UK, NL")
        assertLocated(at: "Berlin", in: "Germany, NL")
    }

    /// An ICP location that lists cities or states beside countries or regions ("US & London",
    /// "New York, UK", "EMEA and New York") holds each of its places, as a list of countries
    /// does: a lead in any of them is located in it, one known to be in none is outside, and a
    /// place that may be in one is no evidence either way. A comma between a place and the
    /// country or state it lies in ("Paris, France", "Austin, TX") still names one place.
    /// Before, such a list was read as one place named by its whole text: "Austin, TX" was
    /// outside "US & London" and "London" outside "New York, UK".
    func testAnICPLocationListingCitiesAndCountriesHoldsEachPlace() {
        func placement(_ place: String, _ wanted: String) -> RuleBasedScorer.Placement {
            let phrase = SignalDetector.Phrase(place)
            return RuleBasedScorer.placement(of: RuleBasedScorer.areas(of: phrase), in: RuleBasedScorer.ICPLocation(wanted))
        }
        let placed: [(wanted: String, inside: [String], outside: [String])] = [
            ("US & London", ["Austin, TX", "Seattle", "London", "London, UK"], ["Manchester, UK", "Berlin, Germany", "Toronto, Canada"]),
            ("New York, UK", ["Brooklyn, NY", "New York", "London", "Manchester"], ["Austin, TX", "Paris, France"]),
            ("EMEA and New York", ["Amsterdam", "New York, NY", "Dubai, UAE"], ["Austin, TX", "Tokyo"]),
            ("Texas / Oregon", ["Austin, TX", "Portland, Oregon"], ["Columbus, OH", "Berlin, Germany"]),
            ("Canada or San Francisco", ["Toronto", "San Francisco, CA"], ["Austin, TX", "London"]),
            // One place with the state or country it lies in, not a list.
            ("Austin, TX", ["Austin, TX"], ["Berlin, Germany"]),
        ]
        for (wanted, inside, outside) in placed {
            for place in inside { XCTAssertEqual(placement(place, wanted), .inside, "\(place) in \(wanted)") }
            for place in outside { XCTAssertEqual(placement(place, wanted), .outside, "\(place) in \(wanted)") }
        }
        XCTAssertEqual(placement("Remote \u{2014} EU", "US & London"), .unknown, "a region that may hold London")
        XCTAssertFalse(isIn("Columbus, OH", "Austin, TX"))

        var mixed = Fixtures.offer()
        mixed.icp.locations = ["US & London"]
        var unitedStates = Fixtures.offer()
        unitedStates.icp.locations = ["United States"]
        let lead = Fixtures.profile()
        let inMixed = card(lead, offer: mixed)
        XCTAssertEqual(inMixed.fit, card(lead, offer: unitedStates).fit, inMixed.fitReasons.map(\.description).joined(separator: "; "))
        XCTAssertTrue(inMixed.fitReasons.contains { $0.signal == "located in US & London" && $0.points == 10 })
    }

    /// An ICP location naming a city with the country or state it lies in ("London, UK",
    /// "Austin, TX", "Paris, France") holds that city: a lead there is located in it, however the
    /// lead writes the city's country or state; a lead in another country or state is outside,
    /// and so is one in another city the scorer knows there ("Manchester, UK",
    /// testACityICPHoldsTheCityAloneWithOrWithoutItsCountry); one naming only the country, or a
    /// place the scorer does not know, may be in the city's area or not (the scorer does not know
    /// where a city ends: Croydon is London) and is no evidence either way. Before, the whole text was read as one
    /// place no lead names: "London" and "London, England" were outside "London, UK", "Austin,
    /// Texas" outside "Austin, TX", "Paris, Île-de-France, France" outside "Paris, France".
    func testAnICPLocationOfACityWithItsCountryOrStateHoldsTheCity() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("London, UK", ["London", "London, England", "London, UK", "Greater London, England, United Kingdom", "Shoreditch, London"],
             ["United Kingdom", "Croydon, England"],
             ["London, Ontario", "Paris, France", "Austin, TX", "Toronto", "Manchester, UK"]),
            ("Austin, TX", ["Austin", "Austin, TX", "Austin, Texas", "Austin, Texas, United States"],
             ["Texas", "Round Rock, Texas"],
             ["Austin, MN", "Columbus, OH", "Berlin, Germany", "London", "Houston, TX"]),
            ("Paris, France", ["Paris", "Paris, France", "Paris, Île-de-France, France"],
             ["France"],
             ["Paris, TX", "Berlin, Germany", "London", "Lyon, France"]),
            ("London, Ontario, Canada", ["London, Ontario", "London, ON, Canada"], ["Canada"], ["London", "London, UK", "Seattle"]),
            ("Zürich, Switzerland", ["Zurich", "ZÜRICH"], ["Switzerland", "Zug"], ["Berlin, Germany", "Geneva"]),
            // A state with its country is the state, as "Texas" is.
            ("Texas, US", ["Austin, TX", "Houston, Texas"], ["United States"], ["Columbus, OH", "Berlin, Germany"]),
        ]
        assertPlacements(placed)

        let inLondon = card(at: "London, England", for: "London, UK")
        XCTAssertTrue(inLondon.fitReasons.contains { $0.signal == "located in London, UK" && $0.points == 10 },
                      inLondon.fitReasons.map(\.description).joined(separator: "; "))
        assertOutside(at: "Manchester, UK", of: "London, UK")
        assertOutside(at: "United Kingdom", of: "London, UK", false)
        assertOutside(at: "Paris, France", of: "London, UK")
    }

    /// A city with its state or country in a list of places ("Austin, TX & London", "Paris,
    /// France or Berlin") is that city, as it is alone: the list holds Austin, not all of Texas.
    /// A comma between two places of the list still parts them ("New York, UK"). Before, the
    /// list was split at every comma, so "Austin, TX & London" held Austin and Texas and London:
    /// "Houston, TX" and "Dallas" were inside it.
    func testACityWithItsStateInAListHoldsTheCityNotTheState() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Austin, TX & London", ["Austin", "Austin, Texas", "London", "London, England"], ["Texas", "England"],
             ["Columbus, OH", "Berlin, Germany", "Houston, TX", "Dallas"]),
            ("Paris, France or Berlin", ["Paris", "Berlin, Germany"], ["France"], ["Paris, TX", "Madrid", "Austin, TX", "Lyon, France"]),
            ("London, UK; Austin, TX", ["London", "Austin, Texas"], ["United Kingdom", "Round Rock, Texas"],
             ["Paris", "Columbus, OH", "Manchester", "Houston"]),
            ("New York, UK", ["Brooklyn, NY", "London"], [], ["Austin, TX", "Paris, France"]),
        ]
        assertPlacements(placed)
        XCTAssertEqual(RuleBasedScorer.places(listedIn: "Austin, TX & London")?.map(\.phrase.text), ["Austin, TX", "London"])
        XCTAssertNil(RuleBasedScorer.places(listedIn: "London, Ontario, Canada"), "one place")
    }

    /// A city named as a US state, with a US state after the comma ("New York, NY", "Washington,
    /// DC"), is that city, not the state: a lead elsewhere in the state ("Buffalo, NY", "Albany,
    /// New York") is no evidence either way, one in another state outside. A code after a comma
    /// that is a country's as well as a US state's ("CA", "DE", "IN", "IL", "AR") is the country
    /// when the scorer knows the city there ("Toronto, CA", "Munich, DE"), the state when it knows
    /// the city in the United States ("San Francisco, CA"), and else the state (a city the scorer
    /// does not know: "Carmel, IN" is in Indiana).
    /// Before, "New York, NY" was New York State (Buffalo inside, 10 points); every such code was
    /// the US state, so a lead in Toronto, Munich, Bangalore, Tel Aviv or Buenos Aires was outside
    /// its own city.
    func testAStateNamedCityOrACountryCodeAfterACommaIsReadAsWritten() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            // Newark is of New York's area, across the state line (testAMetroAreaAcrossAStateOrProvinceLineIsNoEvidenceEitherWay).
            ("New York, NY", ["New York", "New York, NY", "New York, New York", "New York, NY, United States", "New York City", "Brooklyn, NY"],
             ["Albany, New York", "Upstate New York", "New York State", "Newark, NJ"],
             ["Austin, TX", "Trenton, NJ", "London", "Buffalo, NY"]),
            ("Washington, DC", ["Washington, DC", "Washington, D.C.", "Washington DC"], [],
             ["Seattle, WA", "Spokane, Washington", "Austin, TX", "London"]),
            // Written with the country after the state, as LinkedIn writes places (the review of
            // the last commits: the state was read as the holder then).
            ("New York, NY, USA", ["New York", "New York, NY", "New York, New York, United States"],
             ["Albany, New York"], ["Austin, TX", "London", "Buffalo, NY"]),
            ("New York, New York, United States", ["New York", "New York, NY"], ["Albany, New York"], ["Austin, TX", "Buffalo, NY"]),
            // With its country, the city as "Washington, DC" is (never the state's points); before
            // testAnUnknownCityWithItsCountryHoldsTheCity "DC, USA" was no place the scorer held,
            // so elsewhere was no evidence either way.
            ("Washington, DC, USA", ["Washington, DC", "Washington DC"], [], ["Seattle, WA", "Austin, TX"]),
            ("Toronto, CA", ["Toronto", "Toronto, Ontario", "Toronto, ON, Canada"], ["Canada", "Mississauga"],
             ["San Diego, CA", "Los Angeles", "Austin, TX", "Vancouver, BC"]),
            ("Munich, DE", ["Munich, Germany", "Munich"], ["Germany"],
             ["Dover, Delaware", "Paris, France", "Austin, TX", "Berlin, Germany"]),
            ("Bangalore, IN", ["Bangalore, India", "Bangalore", "Bangalore, Karnataka"], ["India"],
             ["Indianapolis, IN", "Austin, TX", "London", "Mumbai, India"]),
            ("Tel Aviv, IL", ["Tel Aviv, Israel", "Tel Aviv"], ["Israel", "Herzliya"], ["Chicago, IL", "Springfield, Illinois", "Berlin", "Haifa"]),
            ("Buenos Aires, AR", ["Buenos Aires", "Buenos Aires, Argentina"], ["Argentina"], ["Little Rock, AR", "Madrid"]),
            ("San Francisco, CA", ["San Francisco", "San Francisco, California"], ["Oakland, CA", "California"], ["Toronto", "Austin, TX"]),
            // A city the scorer does not know, with a code of a country and of a US state: the
            // state (testAnUnknownCityWithACodeOfAStateAndACountryIsInTheState).
            ("Carmel, IN", ["Carmel, Indiana", "Carmel, IN"], ["Indianapolis, IN", "Indiana"], ["Mumbai, India", "India", "London", "Austin, TX"]),
        ]
        assertPlacements(placed)

        for (wanted, place, isInside) in [("New York, NY", "Brooklyn, NY", true), ("New York, NY", "New York, NY", true),
                                          ("Toronto, CA", "Toronto", true), ("Munich, DE", "Munich, Germany", true),
                                          ("Bangalore, IN", "Bangalore, India", true), ("Tel Aviv, IL", "Tel Aviv, Israel", true),
                                          ("Buenos Aires, AR", "Buenos Aires", true)] {
            let scored = card(at: place, for: wanted)
            let reasons = "\(place) for \(wanted): " + scored.fitReasons.map(\.description).joined(separator: "; ")
            XCTAssertEqual(scored.fitReasons.contains { $0.signal == "located in \(wanted)" && $0.points == 10 }, isInside, reasons)
            XCTAssertFalse(scored.fitReasons.contains { $0.signal.contains("outside the ICP") }, reasons)
        }
    }

    /// A bare city in an ICP location ("London" in "US & London", or alone) is the city the
    /// scorer knows by that name (London is the United Kingdom's): a lead whose place ends with
    /// another country, or a province or state of one, is outside it ("London, Ontario" is in
    /// Canada, "Paris, TX" in the United States), as it is for "London, UK". Before, the city's
    /// name anywhere in the place put it inside: "London, Ontario" was inside "US & London" with
    /// 10 points, and "Tbilisi, Georgia" inside the US state.
    func testABareCityInAnICPIsTheCityTheScorerKnows() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("US & London", ["London", "London, UK", "London, England", "Austin, TX"], [],
             ["London, Ontario", "London, ON", "London, Ontario, Canada", "Toronto, Canada"]),
            ("London", ["London", "London, UK", "Greater London, England, United Kingdom"], [],
             ["London, Ontario", "London, Ontario, Canada", "Berlin, Germany"]),
            ("Paris", ["Paris", "Paris, France"], [], ["Paris, TX", "Paris, Texas"]),
            ("Georgia", ["Atlanta, Georgia", "Atlanta, GA"], [], ["Tbilisi, Georgia", "Austin, TX"]),
        ]
        assertPlacements(placed)

        let scored = card(at: "London, Ontario", for: "US & London")
        let reasons = scored.fitReasons.map(\.description).joined(separator: "; ")
        XCTAssertFalse(scored.fitReasons.contains { $0.signal.hasPrefix("located in US & London") }, reasons)
        XCTAssertTrue(scored.fitReasons.contains { $0.signal.contains("outside the ICP") }, reasons)
    }

    /// A province or state of another country as an ICP location ("Ontario", "New South Wales",
    /// "Ontario, Canada", "Toronto, Ontario") holds the places in it, named by its name or its
    /// postal code after the city ("Toronto, ON", "Sydney, NSW", "Perth, WA" where the scorer
    /// knows Perth in Australia), or by a city the scorer knows there ("Toronto": its province
    /// is in places.json, testAKnownCityIsInItsStateOrProvince): a place in another province,
    /// state or country is outside, and one in its country with no province named ("Canada") no
    /// evidence either way. Before, the province was no place the
    /// scorer knew: "Toronto, ON" was outside "Ontario" (its code named Canada, nothing more),
    /// "Berlin" no evidence for it, and "Toronto, ON" no evidence for "Ontario, Canada".
    func testAProvinceOrStateOfAnotherCountryHoldsItsPlaces() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Ontario", ["Toronto, ON", "Toronto, Ontario", "Ottawa, ON, Canada", "London, ON", "Ontario", "Toronto", "Toronto, Canada"],
             ["Canada"],
             ["Vancouver, BC", "Montreal, QC", "Austin, TX", "Berlin", "Berlin, Germany", "Ontario, California"]),
            ("Ontario, Canada", ["Toronto, ON", "Toronto, Ontario, Canada", "Toronto"], ["Canada"], ["Calgary, AB", "Seattle"]),
            ("Toronto, Ontario", ["Toronto, ON", "Toronto"], ["Mississauga, ON", "Ontario"], ["Vancouver, BC", "Austin, TX", "Ottawa, ON"]),
            ("British Columbia", ["Vancouver, BC", "Burnaby, British Columbia", "Vancouver"], [], ["Toronto, ON", "Seattle, WA"]),
            ("Ontario & Quebec", ["Toronto, ON", "Montréal, QC", "Quebec City"], ["Canada"], ["Calgary, AB", "Austin, TX"]),
            ("New South Wales", ["Sydney, NSW", "Sydney, New South Wales, Australia", "Sydney"], ["Australia"],
             ["Melbourne, VIC", "Austin, TX"]),
            ("Western Australia", ["Perth, WA", "Perth, Western Australia"], ["Australia"], ["Seattle, WA", "Sydney, NSW"]),
            // "Victoria" alone is a city, a state and a name: read by its name only, as before.
            ("Victoria", ["Victoria, BC", "Victoria, British Columbia", "Melbourne, Victoria"], [], []),
            // After a place's comma it is the state, as before.
            ("Melbourne, Victoria", ["Melbourne, VIC", "Melbourne, Australia"], [], ["Sydney, NSW"]),
            ("Victoria, Australia", ["Melbourne, VIC"], [], ["Sydney, NSW"]),
        ]
        assertPlacements(placed)

        let scored = card(at: "Toronto, ON", for: "Ontario")
        XCTAssertTrue(scored.fitReasons.contains { $0.signal == "located in Ontario" && $0.points == 10 },
                      scored.fitReasons.map(\.description).joined(separator: "; "))
    }

    /// A city the scorer knows is in its state or province (places.json's statesOfCities): a
    /// lead in "Toronto" is in an ICP of "Ontario" and one in "Vancouver" outside it, "Austin" is
    /// in Texas and "Seattle" not; a city of two states ("Portland": Oregon's and Maine's) is no
    /// evidence either way for either, and outside any other. Before, the
    /// scorer knew a city's country only: "Toronto" was no evidence either way for "Ontario",
    /// "Vancouver" and "Seattle" no evidence against "Ontario" and "Texas".
    func testAKnownCityIsInItsStateOrProvince() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Ontario", ["Toronto", "Toronto, Canada", "Ottawa", "Mississauga"], ["Canada"], ["Vancouver", "Montreal", "Calgary, Canada"]),
            ("Quebec", ["Montréal", "Quebec City", "Gatineau"], [], ["Toronto", "Ottawa, Canada"]),
            ("British Columbia", ["Vancouver", "Burnaby"], [], ["Toronto", "Calgary"]),
            ("Saskatchewan", ["Saskatoon"], [], ["Winnipeg"]),
            ("New South Wales", ["Sydney"], [], ["Melbourne", "Perth", "Brisbane, Australia"]),
            ("Victoria, Australia", ["Melbourne"], [], ["Sydney"]),
            ("Texas", ["Austin", "Dallas", "Houston, United States"], [], ["Seattle", "Boston, USA"]),
            ("California", ["San Francisco", "Palo Alto", "San Diego, USA"], [], ["Austin", "Portland"]),
            ("Oregon", ["Portland, Oregon"], ["Portland"], ["Seattle", "Austin"]),
            ("Kansas", ["Wichita", "Overland Park"], [], ["Denver"]),
            ("New York", ["Brooklyn", "Buffalo"], [], ["Boston"]),
            ("Karnataka", ["Bangalore", "Bengaluru"], [], ["Mumbai"]),
        ]
        assertPlacements(placed)

        assertLocated(at: "Toronto", in: "Ontario")
        assertOutside(at: "Vancouver", of: "Ontario")
    }

    /// A US state or a province is named by a place as a place, not inside a street's name
    /// ("Ontario Street, Montreal", "Michigan Avenue, Chicago") nor a city's ("Kansas City", in
    /// Missouri and Kansas): the state or province the place names after its first part decides
    /// first ("Kansas City, MO", "Washington, DC", "Indiana, PA"), then its name elsewhere in the
    /// place ("Southern Ontario", "Austin Texas", "Upstate New York"), then the state of a city
    /// the scorer knows in it (testAKnownCityIsInItsStateOrProvince). Before, the name anywhere
    /// in the place put it inside: "Ontario Street, Montreal, QC" was in Ontario with 10 points,
    /// "Kansas City, MO" in Kansas, "Washington, DC" in Washington State.
    func testAStateOrProvinceIsNamedByAPlaceNotByAStreetOrACity() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Ontario", ["Toronto, Ontario", "Southern Ontario", "Ontario, Canada", "Toronto Ontario", "Ontario Street, Toronto"],
             ["Ontario Street, Springfield", "Canada"],
             ["Ontario Street, Montreal, QC", "Ontario Street, Montreal", "Rue Ontario, Montréal", "Ontario Ave W, Vancouver, BC"]),
            ("Kansas", ["Kansas City, KS", "Wichita"], ["Kansas City"], ["Kansas City, MO", "Kansas City, Missouri"]),
            ("Michigan", ["Detroit", "Ann Arbor, Michigan"], [], ["Michigan Avenue, Chicago", "Michigan Ave, Chicago, IL"]),
            ("Washington", ["Seattle", "Spokane, Washington"], [], ["Washington, DC", "Washington Street, Boston"]),
            ("Indiana", ["Indianapolis"], [], ["Indiana, PA"]),
            ("Virginia", ["Virginia Beach", "Arlington, VA"], [], ["Virginia Street, Reno, NV"]),
            ("Oklahoma", ["Oklahoma City"], [], ["Tulsa Street, Dallas"]),
            ("New York", ["Upstate New York", "NYC", "New York, NY", "New York State"], [], ["Albany Street, Boston"]),
            ("Texas", ["Austin Texas", "Texas, USA"], [], ["Texas Avenue, Atlanta"]),
        ]
        assertPlacements(placed)
        assertOutside(at: "Ontario Street, Montreal, QC", of: "Ontario")
        assertLocated(at: "Ontario Street, Toronto", in: "Ontario")
    }

    /// The codes of Canada's and Australia's provinces and territories that are a country's code
    /// too, or two territories' (SK Slovakia's, NL the Netherlands', PE Peru's, SA Saudi Arabia's
    /// and said for South Africa, NT the Northwest Territories' and the Northern Territory's), are
    /// read as the province only where the city before them, or the country after them, says so:
    /// "Regina, SK" is in Saskatchewan and "Bratislava, SK" in Slovakia, "Amsterdam, NL" in the
    /// Netherlands, "Adelaide, SA" in South Australia and "Riyadh, SA" in Saudi Arabia; a city the
    /// scorer does not know with such a code is no evidence either way ("Moose Jaw, SK"), and as an
    /// ICP's it is the country, the province the other reading ("Moose Jaw, Saskatchewan" may be
    /// the city meant). The codes no country shares (ACT, YT, NU, PEI, NWT) are their province's
    /// as ON and NSW are, and an ICP location's province code is its province ("Toronto, ON").
    /// Before, none of these codes was read: "Regina, SK" and "Adelaide, SA" were no evidence
    /// either way for Saskatchewan and South Australia, and "Toronto, Canada" was outside
    /// "Toronto, ON", whose "ON" was no place.
    func testAProvinceCodeSharedWithACountryIsReadByItsCityOrCountry() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Saskatchewan", ["Regina, SK", "Saskatoon, SK", "Regina, SK, Canada", "Moose Jaw, SK, Canada", "Regina"], ["Moose Jaw, SK"],
             ["Bratislava, SK", "Winnipeg, MB"]),
            ("Slovakia", ["Bratislava, SK"], [], ["Regina, SK"]),
            ("Netherlands", ["Amsterdam, NL", "Rotterdam, NL"], [], ["St. John's, NL"]),
            ("Newfoundland and Labrador", ["St. John's, NL", "St. John's, Newfoundland"], [], ["Amsterdam, NL"]),
            ("Prince Edward Island", ["Charlottetown, PE", "Charlottetown, PEI"], [], ["Lima, PE"]),
            ("Peru", ["Lima, PE"], [], ["Charlottetown, PE"]),
            ("South Australia", ["Adelaide, SA", "Adelaide"], [], ["Riyadh, SA", "Cape Town, SA"]),
            ("Saudi Arabia", ["Riyadh, SA"], [], ["Adelaide, SA"]),
            ("South Africa", ["Cape Town, SA"], [], ["Adelaide, SA"]),
            ("Northern Territory", ["Darwin, NT", "Darwin"], [], ["Yellowknife, NT"]),
            ("Northwest Territories", ["Yellowknife, NT", "Yellowknife, NWT"], [], ["Darwin, NT"]),
            ("Australian Capital Territory", ["Canberra, ACT", "Canberra"], [], ["Sydney, NSW"]),
            ("Yukon", ["Whitehorse, YT"], [], ["Yellowknife, NT"]),
            ("Australia", ["Darwin, NT", "Adelaide, SA", "Canberra, ACT"], [], ["Yellowknife, NT", "Riyadh, SA"]),
            ("Canada", ["Regina, SK", "St. John's, NL", "Charlottetown, PE", "Yellowknife, NT", "Whitehorse, YT", "Iqaluit, NU"], [],
             ["Bratislava, SK", "Amsterdam, NL", "Lima, PE"]),
            // As an ICP's: the city or the country after the code says which.
            ("Regina, SK", ["Regina", "Regina, Saskatchewan", "Regina, Canada"], [], ["Bratislava, Slovakia", "Winnipeg, MB"]),
            ("Amsterdam, NL", ["Amsterdam", "Amsterdam, Netherlands"], [], ["St. John's, NL", "Berlin"]),
            ("Adelaide, SA", ["Adelaide", "Adelaide, South Australia"], [], ["Riyadh", "Perth, WA"]),
            ("Riyadh, SA", ["Riyadh", "Riyadh, Saudi Arabia"], [], ["Adelaide, SA"]),
            ("Moose Jaw, SK, Canada", ["Moose Jaw, Saskatchewan", "Moose Jaw, SK"], [], ["Winnipeg, MB", "Berlin, Germany"]),
            ("Moose Jaw, SK", [], ["Moose Jaw, Saskatchewan"], ["Berlin, Germany", "Winnipeg, MB"]),
            ("Toronto, ON", ["Toronto", "Toronto, Canada", "Toronto, Ontario"], [], ["Vancouver, BC", "Toronto, Australia"]),
            ("Toronto, ON, Canada", ["Toronto", "Toronto, Canada"], [], ["Vancouver, BC"]),
        ]
        assertPlacements(placed)
        assertLocated(at: "Regina, SK", in: "Saskatchewan")
        assertOutside(at: "Riyadh, SA", of: "South Australia")
        assertLocated(at: "Toronto, Canada", in: "Toronto, ON")
    }

    /// A city as an ICP location is that city alone, written with its country or state or
    /// without ("London" is "London, UK", as the city the scorer knows by the name; "Toronto" is
    /// "Toronto, ON"): a lead in another city the scorer knows is outside it, in its country or
    /// not ("Manchester, UK" for "London"), unless the two are one metropolitan area (places.json's
    /// metroAreas: "Oakland" for "San Francisco", "Mississauga" for "Toronto", "Yonkers" for New
    /// York), and a lead naming only the country or state, or a place the scorer does not know
    /// ("United Kingdom", "Croydon, England"), is no evidence either way, as the scorer does not
    /// know where a city's area ends; the same for an ICP city the scorer does not know
    /// ("Springfield, IL": Chicago may be its area). A salesperson who asks for London asks for
    /// London's leads: one in Manchester is not one, so it is evidence against, not the "no
    /// evidence" it was for "London, UK". Before, the two readings disagreed: a bare "London" put
    /// "Manchester, UK", but also "United Kingdom" and "Croydon, England", outside, while "London,
    /// UK" gave all three no evidence either way; a street named after the city named it
    /// ("Oxford Street, London" was in "Oxford").
    func testACityICPHoldsTheCityAloneWithOrWithoutItsCountry() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("London", ["London", "London, UK", "London, England"], ["United Kingdom", "Croydon, England", "England"],
             ["Manchester, UK", "Manchester", "Edinburgh, Scotland", "London, Ontario"]),
            ("Toronto", ["Toronto, ON", "Toronto, Canada"], ["Canada", "Mississauga", "Ontario"], ["Ottawa", "Vancouver, BC", "Ottawa, Canada"]),
            ("Austin", ["Austin, TX", "Austin, Texas"], ["Texas", "Round Rock, Texas"], ["Houston, TX", "Dallas", "Austin, MN"]),
            ("San Francisco", ["San Francisco, CA"], ["Oakland, CA", "Palo Alto", "California", "Bay Area"], ["Los Angeles, CA", "Seattle"]),
            ("San Francisco, CA", ["San Francisco"], ["Mountain View, CA", "Bay Area"], ["San Diego, CA", "Sacramento"]),
            ("Paris", ["Paris, France"], ["France", "Versailles, France"], ["Lyon, France", "Paris, TX"]),
            ("Düsseldorf", ["Dusseldorf"], ["Köln", "Essen, Germany", "Germany"], ["Munich", "Berlin, Germany"]),
            ("Munich, Germany", ["München"], ["Germany", "Bavaria"], ["Berlin", "Cologne, Germany"]),
            ("Oxford", ["Oxford, UK"], ["England"], ["Oxford Street, London", "Oxford, MS"]),
            ("Toronto, ON", ["Toronto"], ["Mississauga"], ["Toronto Street, Ottawa", "Ottawa, ON"]),
            ("Springfield, IL", ["Springfield, Illinois"], ["Chicago, IL"], ["Austin, TX"]),
        ]
        assertPlacements(placed)
        assertOutside(at: "Manchester, UK", of: "London")
        assertOutside(at: "United Kingdom", of: "London", false)
        assertOutside(at: "Croydon, England", of: "London", false)

        // A city alone, with its state or province and with its country are read alike (with its
        // country since the review of b0d2a1f: "Gatineau" was outside "Ottawa" and "Ottawa, ON",
        // no evidence either way for "Ottawa, Canada").
        let places = ["London", "London, UK", "Manchester, UK", "Manchester", "United Kingdom", "Croydon, England", "London, Ontario",
                      "Paris, France", "Lyon, France", "France", "Paris, TX", "Toronto", "Toronto, Canada", "Ottawa, ON", "Mississauga, ON",
                      "Canada", "Vancouver", "Austin", "Austin, Texas", "Houston, TX", "Round Rock, Texas", "Texas", "Austin, MN",
                      "Berlin, Germany", "Munich", "Germany", "Oakland", "Los Angeles", "Ottawa", "Gatineau", "Gatineau, QC", "Montreal, QC",
                      "Noida", "New Delhi", "Mumbai", "Gurgaon, Haryana", "India", "San Jose, CA", "Seattle, WA", "SF / NYC"]
        for (bare, written) in [("London", ["London, UK", "London, United Kingdom"]), ("Paris", ["Paris, France"]),
                                ("Toronto", ["Toronto, ON", "Toronto, Canada"]), ("Austin", ["Austin, TX", "Austin, USA"]),
                                ("Munich", ["Munich, Germany"]), ("San Francisco", ["San Francisco, CA", "San Francisco, United States"]),
                                ("Ottawa", ["Ottawa, ON", "Ottawa, Canada"]), ("Gurgaon", ["Gurgaon, Haryana", "Gurgaon, India"])] {
            for place in places {
                let areas = RuleBasedScorer.areas(of: SignalDetector.Phrase(place))
                for written in written {
                    XCTAssertEqual(RuleBasedScorer.placement(of: areas, in: RuleBasedScorer.ICPLocation(bare)),
                                   RuleBasedScorer.placement(of: areas, in: RuleBasedScorer.ICPLocation(written)),
                                   "\(place) in \(bare) and in \(written)")
                }
            }
        }
    }

    /// A lead naming the ICP's city by its short name ("SF", "LA" as a place of its own) names
    /// the city, alone or beside another city ("SF / NYC", "LA / NYC"), and a lead naming a
    /// place of the city's metropolitan area beside another city ("Bay Area / Seattle") may be in
    /// it: neither is outside. A lead listing, beside another city, a place the scorer does not
    /// know or one naming no city ("Manchester & Croydon", "Manchester & England") may be in the
    /// ICP's city too, so it is no evidence either way. Before, only the gazetteer's cities and London and NYC counted as cities, so the
    /// other city made all of these places outside their ICP (fit 25, poor fit), and "SF" alone
    /// was no evidence either way for San Francisco.
    func testAShortNameOrAnUnknownPartBesideAnotherCityIsNotOutsideTheCity() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("San Francisco, CA", ["SF / NYC", "NYC & SF", "SF", "SF, CA"], ["Bay Area / Seattle", "Bay Area"], ["NYC", "Seattle / NYC"]),
            ("San Francisco", ["London / SF", "SF ✈️ NYC", "SF", "NYC and SF"], ["Bay Area & Austin", "Silicon Valley"],
             ["Austin & NYC", "LA", "Seattle | Austin"]),
            ("Los Angeles", ["LA / NYC", "LA", "L.A.", "Los Angeles"], ["Santa Monica / NYC"], ["Baton Rouge, LA", "SF", "Bay Area"]),
            ("Louisiana", ["Baton Rouge, LA"], [], ["LA / NYC"]),
            // The Bay Area is California's (no evidence either way for Texas before).
            ("Texas", [], ["United States"], ["Bay Area", "Silicon Valley"]),
            ("London", ["London / SF", "SF & London"], ["Manchester & Croydon", "Croydon / Manchester", "Manchester and Croydon, England", "Manchester & England"],
             ["Manchester & Leeds", "Manchester / Remote", "Manchester, UK"]),
        ]
        assertPlacements(placed)
        assertLocated(at: "SF / NYC", in: "San Francisco, CA")
        assertLocated(at: "LA / NYC", in: "Los Angeles")
        assertOutside(at: "Manchester & Croydon", of: "London", false)
        assertOutside(at: "Manchester & Leeds", of: "London")
    }

    /// A place of its own that is a city's abbreviation the scorer reads no place in otherwise
    /// (places.json's `cityAbbreviations`, which an X bio's "Acme.ATL" reads too) is that city,
    /// alone or listed beside another: "ATL" is Atlanta, "ATX" Austin, "CHI" Chicago and "LDN"
    /// London, as "LA" is Los Angeles; one inside a place's words ("Based in ATL") stays as
    /// written, and "DC", read as the District already, stays so ("LA / DC" is in California by
    /// Los Angeles). Before, only "LA" and "L.A." were written out (the place reading's own
    /// list), and these were places the scorer did not know: no evidence either way.
    func testACitysAbbreviationAsAPlaceOfItsOwnIsTheCity() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Atlanta", ["ATL", "ATL / NYC"], ["Based in ATL"], ["ATX", "CHI", "LDN"]),
            ("Georgia", ["ATL"], [], ["ATX", "CHI"]),
            ("Texas", ["ATX"], [], ["ATL", "LDN"]),
            ("Illinois", ["CHI"], [], ["ATX"]),
            ("United States", ["ATL", "ATX", "CHI"], [], ["LDN"]),
            ("United Kingdom", ["LDN"], [], ["ATL"]),
            ("London", ["LDN", "LDN / NYC"], [], ["CHI"]),
            ("California", ["LA / DC", "LA / ATL"], [], ["ATL / CHI"]),
        ]
        assertPlacements(placed)
        assertLocated(at: "ATL", in: "Atlanta")
        assertOutside(at: "CHI", of: "Texas")
    }

    /// A lead in a city of the ICP city's metropolitan area (places.json's metroAreas) is no
    /// evidence either way in another state or province too, as in the city's own: "Jersey City"
    /// and "Newark, NJ" for New York City, "Gatineau, QC" for Ottawa, "Overland Park" and "Kansas
    /// City, KS" for "Kansas City, MO", "Noida" for Gurgaon; a city of the name in another state
    /// that is of no one area with the ICP's ("Portland, ME" for "Portland, OR") is still
    /// outside, and so is the ICP's city named where the scorer does not know it ("Austin, MN"
    /// for "Austin, USA", as for "Austin, TX"). Before, the state or province of the ICP's city
    /// was read first and put every such lead outside (evidence against), while the same city
    /// written with its country ("Ottawa, Canada", "Gurgaon, India") gave no evidence either way.
    func testAMetroAreaAcrossAStateOrProvinceLineIsNoEvidenceEitherWay() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("New York City", ["NYC", "Brooklyn"], ["Jersey City", "Jersey City, NJ", "Newark", "Newark, NJ"],
             ["Newark, DE", "Trenton, NJ", "Philadelphia", "New Jersey"]),
            ("New York, NY", [], ["Jersey City", "Newark, NJ", "Yonkers"], ["Philadelphia, PA", "Boston"]),
            ("Ottawa", ["Ottawa, ON"], ["Gatineau", "Gatineau, QC", "Gatineau, Quebec, Canada"], ["Montreal, QC", "Quebec City", "Toronto"]),
            ("Ottawa, Canada", [], ["Gatineau", "Gatineau, QC"], ["Montreal", "Toronto"]),
            ("Kansas City, MO", ["Kansas City, Missouri"], ["Overland Park", "Kansas City, KS", "Overland Park, Kansas"],
             ["Wichita, KS", "St. Louis, MO"]),
            ("Gurgaon", ["Gurugram"], ["Noida", "New Delhi", "Noida, Uttar Pradesh"], ["Mumbai", "Bangalore"]),
            ("Gurgaon, India", [], ["Noida"], ["Mumbai"]),
            ("Portland, OR", ["Portland, Oregon"], [], ["Portland, ME", "Seattle, WA"]),
            ("Austin, USA", ["Austin", "Austin, TX"], ["Texas", "United States"], ["Austin, MN", "Houston"]),
            // A city is read where the place says it is: Paris, Texas is no city the scorer
            // knows, not Paris, France (outside before, as another city than Austin).
            ("Austin, TX", [], ["Paris, TX", "Round Rock, Texas"], ["Houston, TX", "Austin, MN"]),
        ]
        assertPlacements(placed)
        assertOutside(at: "Jersey City", of: "New York City", false)
        assertOutside(at: "Gatineau", of: "Ottawa", false)
        assertOutside(at: "Austin, MN", of: "Austin, USA")
    }

    /// Washington, D.C. is not in the state of Washington, however a lead writes it ("Washington
    /// DC-Baltimore Area", LinkedIn's own name of the area, "Washington DC", "Washington, D.C.",
    /// "Washington D.C. Metro Area"), and West Virginia is not Virginia ("Morgantown West
    /// Virginia"): a place naming another state, or DC, as a place is outside the state. Before,
    /// the state's name in the place put each inside the ICP with 10 points, as "Washington" is
    /// in "Washington DC" and "Virginia" in "West Virginia" (only "Washington, DC" was read).
    func testWashingtonDCAndWestVirginiaAreNotTheStatesTheirNamesHold() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Washington", ["Seattle", "Spokane, Washington", "Washington State", "Tacoma, WA"], [],
             ["Washington DC-Baltimore Area", "Washington DC", "Washington, D.C.", "Washington D.C. Metro Area", "Washington, DC",
              "District of Columbia"]),
            ("Virginia", ["Richmond, Virginia", "Arlington, VA", "Northern Virginia", "Virginia Beach"], [],
             ["Morgantown West Virginia", "Morgantown, West Virginia", "Charleston, WV", "Washington DC"]),
            ("West Virginia", ["Morgantown West Virginia", "Charleston, WV"], [], ["Richmond, Virginia"]),
            // The area reaches into Maryland: Baltimore is there (as before).
            ("Maryland", ["Washington DC-Baltimore Area", "Baltimore"], [], ["Washington DC"]),
            ("Washington, DC", ["Washington DC", "Washington D.C. Metro Area", "Washington DC-Baltimore Area", "Washington, D.C."], [],
             ["Seattle, WA", "Spokane, Washington"]),
            ("Washington, D.C.", ["Washington DC", "Washington, DC"], [], ["Seattle, WA"]),
        ]
        assertPlacements(placed)
        assertOutside(at: "Washington DC-Baltimore Area", of: "Washington")
        assertOutside(at: "Morgantown West Virginia", of: "Virginia")
    }

    /// A city the scorer does not know, written with its country ("Cambridge, UK", "Croydon,
    /// UK"), is that city in that country, as a city it knows is: a lead naming the city holds it
    /// however it writes the country ("Cambridge, England, United Kingdom"), one elsewhere in
    /// the country is no evidence either way, one in another country outside. Before, such an
    /// ICP location was not read as one place (nothing before its comma was known), so the
    /// whole text had to occur in a place: its own leads were outside (fit 25, poor fit).
    func testAnUnknownCityWithItsCountryHoldsTheCity() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Cambridge, UK", ["Cambridge, England, United Kingdom", "Cambridge, United Kingdom", "Cambridge", "Cambridge, UK"],
             ["United Kingdom", "London", "England"], ["Cambridge, MA", "Paris, France"]),
            ("Croydon, UK", ["Croydon, England, United Kingdom", "Croydon", "Croydon, Greater London"], ["England", "London"],
             ["Croydon, PA", "Berlin"]),
            ("Bern, Switzerland", ["Bern", "Berne, Switzerland"], ["Switzerland"], ["Zürich", "Berlin"]),
            // Words naming no place before the comma still leave the country ("Remote, UK").
            ("Remote, UK", ["London", "Manchester, UK"], [], ["Paris, France"]),
        ]
        assertPlacements(placed)
        assertLocated(at: "Cambridge, England, United Kingdom", in: "Cambridge, UK")
        assertLocated(at: "Croydon, England, United Kingdom", in: "Croydon, UK")
    }

    /// A city the scorer knows is not that city when the place says it is in another country or
    /// province: "Perth, Scotland" is not Australia's Perth (Scotland, England, Wales and
    /// Northern Ireland end a place in the United Kingdom), and "Sydney NS" is Sydney, Nova
    /// Scotia (a US state's or a province's code after a name without a comma, "Sydney NS",
    /// "Greenwich CT", is read as after one). Before, the city's state or country was taken
    /// whatever else the place said: "Perth, Scotland" was inside "Western Australia", "Perth"
    /// and "Australia" (10 points), "Sydney NS" inside "Sydney" and "New South Wales".
    func testACityInAnotherCountryOrProvinceThanTheScorersIsAnotherCity() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Western Australia", ["Perth, WA", "Perth", "Perth WA"], ["Australia"], ["Perth, Scotland", "Perth, Scotland, UK", "Seattle WA"]),
            ("Perth", ["Perth, WA", "Perth, Australia", "Perth WA"], ["Australia"], ["Perth, Scotland", "Perth, Ontario"]),
            ("Australia", ["Perth", "Sydney NSW"], [], ["Perth, Scotland", "Sydney NS"]),
            ("United Kingdom", ["Perth, Scotland", "Cardiff, Wales"], [], ["Perth, WA"]),
            ("Sydney", ["Sydney, NSW", "Sydney NSW", "Sydney"], ["Australia"], ["Sydney NS", "Sydney, NS", "Sydney, Nova Scotia"]),
            ("New South Wales", ["Sydney", "Sydney NSW"], [], ["Sydney NS"]),
            ("Nova Scotia", ["Sydney NS", "Sydney, Nova Scotia"], [], ["Sydney"]),
            ("Ontario", ["Toronto ON", "London ON"], [], ["Sydney NS"]),
            ("Connecticut", ["Greenwich CT", "Stamford CT"], [], ["Austin TX"]),
            // Not a code after words in lowercase, nor in a text all in capitals.
            ("Louisiana", ["Lafayette LA", "Baton Rouge LA"], ["Based in LA", "LAFAYETTE LA"], []),
        ]
        assertPlacements(placed)
        assertOutside(at: "Perth, Scotland", of: "Western Australia")
        assertOutside(at: "Perth, Scotland", of: "Perth")
        assertOutside(at: "Sydney NS", of: "Sydney")
    }

    /// "CT" ending a place, or before only its country, is Connecticut's code, not a street's
    /// "Court": "Stamford CT", "Hartford Ct, USA" are in Connecticut; a street is a part with a
    /// city after it ("Elm Ct, Boston") or with a house number ("12 Maple Ct, Stamford, CT").
    /// Before, withoutStreets left out every part ending with "ct", so these places named no
    /// state or city and were no evidence either way for Connecticut.
    func testAStatesCodeThatIsAStreetWordEndsAPlaceAsTheState() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Connecticut", ["Stamford CT", "Greenwich CT", "Hartford CT, USA", "Stamford ct", "Hartford Ct, USA", "New Haven Ct",
                             "Greenwich, Ct", "12 Maple Ct, Stamford, CT", "STAMFORD CT"],
             ["Greenwich ct"], ["Elm Ct, Boston", "Austin, TX"]),
            ("Ontario", ["Ontario Ct, Toronto"], [], ["Ontario Ct, Montreal"]),
            ("Texas", [], [], ["Texas Ct, Atlanta"]),
        ]
        assertPlacements(placed)
        assertLocated(at: "Hartford Ct, USA", in: "Connecticut")
    }

    /// A lead's place is read once per lead; for an ICP of countries and regions only, without
    /// its streets, state or province and cities (``RuleBasedScorer/PlaceAreas/hasStatesAndCities``),
    /// which those do not read: the placements are the same either way.
    func testAPlaceReadForCountriesOnlyIsPlacedAsWhenReadWhole() {
        let places = ["Austin, TX", "Austin TX", "LA / NYC", "LA", "Sydney NS", "Perth, Scotland", "London, Ontario", "Paris, TX",
                      "New South Wales", "New England", "Remote — EU", "Washington DC-Baltimore Area", "Stamford ct", "Toronto, CA",
                      "Regina, SK", "Bratislava, SK", "São Paulo", "Springfield Gardens", "Manchester & Croydon", "Dubai, UAE"]
        for wanted in ["United States", "UK & Ireland", "EMEA", "Germany, Austria, Switzerland", "Canada", "Australia", "UK, NL", "USA"] {
            let location = RuleBasedScorer.ICPLocation(wanted)
            XCTAssertFalse(location.readsStatesAndCities, wanted)
            for place in places {
                let phrase = SignalDetector.Phrase(place)
                XCTAssertEqual(RuleBasedScorer.placement(of: RuleBasedScorer.areas(of: phrase, readingStatesAndCities: false), in: location),
                               RuleBasedScorer.placement(of: RuleBasedScorer.areas(of: phrase), in: location), "\(place) in \(wanted)")
            }
        }
        for wanted in ["Texas", "Ontario", "London", "Austin, TX", "US & London", "New York, NY"] {
            XCTAssertTrue(RuleBasedScorer.ICPLocation(wanted).readsStatesAndCities, wanted)
        }
    }

    /// A city's other well-known names name it, for an ICP location with or without its country
    /// or state: "München" is in "Munich, DE" and "Munich", "Köln" in "Cologne, Germany", "Wien"
    /// in "Vienna", "Praha" in "Prague, Czechia", "Bengaluru" in "Bangalore, IN"; "NYC" is New
    /// York City, so it is in "New York, NY", in the state and outside Texas, and an ICP of "NYC"
    /// or "New York City" is the city as "New York, NY" is. Before, such a name was no evidence
    /// either way (München only in Germany for "Munich, DE"; NYC only in the United States), and
    /// "New York, NY" was outside an ICP of "New York City".
    func testAnotherNameOfACityNamesIt() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Munich, DE", ["München", "München, Germany"], ["Germany"], ["Paris, France", "Berlin, Germany"]),
            ("Munich", ["München", "München, Bavaria"], [], ["Paris, France"]),
            ("München", ["Munich", "Munich, Germany"], [], ["Paris, France"]),
            ("Cologne, Germany", ["Köln", "Koln", "Köln, Germany"], ["Germany"], ["Paris, France"]),
            ("Köln", ["Cologne"], [], ["Paris, France"]),
            ("Vienna", ["Wien", "Wien, Austria"], [], ["Berlin, Germany"]),
            ("Prague, Czechia", ["Praha", "Praha, Czech Republic"], ["Czechia"], ["Berlin, Germany", "Brno"]),
            ("Bangalore, IN", ["Bengaluru", "Bengaluru, Karnataka, India"], ["India"], ["Austin, TX", "Mumbai, India"]),
            ("New York, NY", ["NYC", "NYC, NY", "New York City", "Brooklyn"], [], ["Austin, TX", "Buffalo, NY"]),
            ("New York", ["NYC"], [], ["Austin, TX"]),
            ("Texas", ["Austin, TX"], [], ["NYC", "New York City"]),
            ("United States", ["NYC"], [], ["Berlin"]),
            ("NYC", ["New York, NY", "New York", "NYC", "New York City", "Brooklyn"], ["Albany, New York"], ["Austin, TX", "Berlin"]),
            ("New York City", ["New York, NY", "NYC", "Manhattan"], [], ["Austin, TX", "Buffalo, NY"]),
        ]
        assertPlacements(placed)

        for (place, wanted) in [("München", "Munich, DE"), ("NYC", "New York, NY"), ("New York, NY", "New York City")] {
            let scored = card(at: place, for: wanted)
            XCTAssertTrue(scored.fitReasons.contains { $0.signal == "located in \(wanted)" && $0.points == 10 },
                          "\(place) for \(wanted): " + scored.fitReasons.map(\.description).joined(separator: "; "))
        }
    }

    /// A region within one country as an ICP location (places.json's regions with `within`:
    /// England, New England, the Bay Area and Silicon Valley) holds the places within it: a lead
    /// in one of its cities or states, or naming the region, is located in it, and one in another
    /// city or state of the country, or in another country, is outside it; a lead naming only the
    /// country, or a state the region shares with other places ("California" for the Bay Area),
    /// is no evidence either way. Before, "London" was outside England (London names the United
    /// Kingdom, which England is not), and a lead in Boston, Oakland or Palo Alto was no evidence
    /// either way for New England or the Bay Area, as one in Los Angeles was.
    func testARegionWithinACountryHoldsItsPlaces() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("England", ["London", "London, UK", "Manchester", "Leeds, UK", "Croydon, England", "England", "London, England, United Kingdom"],
             ["United Kingdom", "UK"], ["Edinburgh, Scotland", "Glasgow", "Cardiff, Wales", "Paris, France", "Boston, New England", "London, Ontario"]),
            ("New England", ["Boston", "Boston, MA", "Providence, RI", "Hartford", "Portland, ME", "Burlington, Vermont", "Greater Boston / New England"],
             ["United States", "Portland"], ["Austin, TX", "Los Angeles", "New York", "London", "Portland, OR"]),
            ("Bay Area", ["San Francisco", "Oakland, CA", "San Jose", "Palo Alto", "Mountain View, California", "SF", "Bay Area", "Silicon Valley"],
             ["California", "United States", "Berkeley, CA"], ["Los Angeles", "Sacramento", "Austin, TX", "NYC", "London"]),
            ("Silicon Valley", ["San Jose, CA", "Palo Alto", "Cupertino", "San Francisco", "Bay Area"],
             ["California"], ["San Diego, CA", "Seattle", "Berlin"]),
        ]
        assertPlacements(placed)
        assertLocated(at: "London", in: "England")
        assertLocated(at: "Oakland, CA", in: "Bay Area")
        assertLocated(at: "Boston, MA", in: "New England")
        assertOutside(at: "Los Angeles", of: "Bay Area")
        assertOutside(at: "California", of: "Bay Area", false)
    }

    /// A nation of the United Kingdom other than an ICP's region is outside it: for England, a
    /// lead in "Scotland", "Wales" or "Northern Ireland" is evidence against the ICP, as one in
    /// "Glasgow" or "Cardiff, Wales" is; "New South Wales" names no nation of it. Before (since
    /// 4cb9d54), the nations named only the United Kingdom, England's country, so such a lead
    /// was no evidence either way.
    func testAnotherNationOfTheUnitedKingdomIsOutsideEngland() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("England", ["London / Scotland"], ["United Kingdom", "New South Wales"],
             ["Scotland", "Wales", "Northern Ireland", "Scotland, UK", "Wales, United Kingdom", "Edinburgh, Scotland"]),
        ]
        assertPlacements(placed)
        assertOutside(at: "Scotland", of: "England")
    }

    /// A place whose last part names a country the scorer knows only from places.json's
    /// regions (Latin America's "Costa Rica") is in that country, before any city it names is
    /// read: "San Jose, Costa Rica" is outside the Bay Area, Silicon Valley and San Francisco,
    /// and inside LATAM. Before, "Costa Rica" was no country the last part was read as, so the
    /// lead was in San Jose, California: inside the Bay Area (since 4cb9d54; no evidence
    /// either way before it).
    func testAPlaceEndingWithACountryOfARegionIsInThatCountry() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Bay Area", ["San Jose, CA"], [], ["San Jose, Costa Rica", "Panama City, Panama"]),
            ("Silicon Valley", [], [], ["San Jose, Costa Rica"]),
            ("SF Bay Area", [], [], ["San Jose, Costa Rica"]),
            ("San Francisco", [], [], ["San Jose, Costa Rica"]),
            ("United States", [], [], ["San Jose, Costa Rica"]),
            ("LATAM", ["San Jose, Costa Rica", "Costa Rica"], [], ["San Jose, CA"]),
            ("Costa Rica", ["San Jose, Costa Rica"], [], ["San Jose, CA", "Berlin"]),
        ]
        assertPlacements(placed)
        assertOutside(at: "San Jose, Costa Rica", of: "Bay Area")
    }

    /// A street named after a country or a city names neither, for an ICP of a country or a
    /// region as for one of a city: a lead on "Paris Avenue, New Orleans" is in the United
    /// States, outside France. "Washington" alone is the state, as LinkedIn writes a state's
    /// leads ("Washington, United States"), and no evidence either way for the District, as X
    /// users write the city so too; "DC" alone is the District, as "Washington, DC" is. Before,
    /// the street put the lead inside France, Germany or the United Kingdom with 10 points,
    /// "DC" was no evidence either way for the District and the state, and "Washington" alone
    /// was outside the District.
    func testAStreetNamedAfterAPlaceAndWashingtonAloneAreReadAsASalespersonWould() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("France", ["Rue de Paris, Lyon", "Paris, France"], [], ["Paris Avenue, New Orleans", "Paris Ave, New Orleans, LA"]),
            ("Europe", ["Rue de Paris, Lyon"], [], ["Paris Avenue, New Orleans"]),
            ("Germany", [], [], ["Germany Road, Austin", "Berlin Street, Chicago"]),
            ("United Kingdom", [], [], ["England Avenue, Boston", "London Road, Austin, TX"]),
            ("United States", ["Paris Avenue, New Orleans", "Berlin Street, Chicago"], [], []),
            ("Paris", [], [], ["Paris Avenue, New Orleans"]),
            ("Washington", ["Washington", "Washington, United States", "Seattle"], [], ["DC", "Washington, DC"]),
            ("Washington, DC", ["DC", "Washington DC", "Washington DC-Baltimore Area"], ["Washington"], ["Seattle", "Washington, United States"]),
            ("DC", ["DC", "Washington, DC", "Washington DC-Baltimore Area"], ["Washington"], ["Seattle, WA", "Austin, TX"]),
        ]
        assertPlacements(placed)
        assertOutside(at: "Paris Avenue, New Orleans", of: "France")
        assertLocated(at: "DC", in: "Washington, DC")
    }

    /// An ICP location written "Washington DC", "Washington D.C.", "DC" or "D.C." is the
    /// District, as "Washington, DC" is: a lead in "Washington D.C.", "Washington, D.C.", "DC"
    /// or "D.C." is in it, one in "Seattle" or "Washington, United States" (the state) outside,
    /// "Washington" alone no evidence either way. Before, "Washington DC" and "Washington D.C."
    /// read the District's leads as outside and "DC" as no evidence either way, with "Seattle"
    /// no evidence either way.
    func testTheDistrictWrittenAnyWayIsWashingtonDC() {
        let inside = ["Washington D.C.", "Washington, D.C.", "Washington DC", "Washington, DC", "DC", "D.C."]
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] =
            ["Washington, DC", "Washington DC", "Washington D.C.", "Washington, D.C.", "DC", "D.C."].map { wanted in
                (wanted, inside, ["Washington"], ["Seattle", "Washington, United States", "Austin, TX"])
            }
        assertPlacements(placed)
        assertLocated(at: "Washington, D.C.", in: "Washington DC")
        assertOutside(at: "Seattle", of: "Washington D.C.")
    }

    /// An ICP location naming a city's metropolitan area ("Greater Boston", "Boston Area",
    /// "Boston Metro", "Greater London", "DC Metro Area") is that city, as the city alone is
    /// read; "Bay Area" stays the region. Before, "Greater Boston" named no place the scorer
    /// knew, so "Boston, MA" and "Cambridge, MA" were outside it and "Boston" no evidence either way.
    func testAMetropolitanAreaOfACityIsTheCity() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Greater Boston", ["Boston", "Boston, MA", "Greater Boston / New England"], ["Cambridge, MA", "Massachusetts"],
             ["Austin, TX", "London"]),
            ("Boston Area", ["Boston, MA"], [], ["Austin, TX"]),
            ("Boston Metropolitan Area", ["Boston, MA"], [], ["Austin, TX"]),
            ("Greater London", ["London", "London, UK"], ["Croydon, England"], ["Manchester", "Paris, France"]),
            ("Denver Metro", ["Denver, CO"], ["Aurora, CO"], ["Austin, TX"]),
            ("DC Metro Area", ["Washington, D.C.", "DC"], ["Washington"], ["Seattle"]),
            ("Bay Area", ["Oakland, CA"], [], ["Los Angeles"]),
        ]
        assertPlacements(placed)
        assertLocated(at: "Boston, MA", in: "Greater Boston")
    }

    /// Scotland, Wales and Northern Ireland are regions within the United Kingdom as England
    /// is (places.json's `within`), each holding its main cities: for "Scotland", "Edinburgh"
    /// and "Glasgow" are inside, "London" and "Cardiff" outside; for "Wales", "Cardiff" inside and
    /// "New South Wales" no evidence either way. Before, an ICP of a nation other than England
    /// named only the United Kingdom, so its cities were no evidence either way.
    func testScotlandWalesAndNorthernIrelandHoldTheirCities() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Scotland", ["Edinburgh", "Glasgow", "Aberdeen, UK", "Dundee", "Perth, Scotland"], ["United Kingdom"],
             ["London", "Cardiff", "England", "Manchester, UK", "Paris, France"]),
            ("Wales", ["Cardiff", "Cardiff, UK"], ["United Kingdom", "New South Wales"], ["London", "Glasgow", "Scotland"]),
            ("Northern Ireland", ["Belfast"], ["UK"], ["Dublin", "London", "Edinburgh"]),
            ("England", ["London"], [], ["Edinburgh", "Belfast", "Cardiff"]),
        ]
        assertPlacements(placed)
        assertLocated(at: "Edinburgh", in: "Scotland")
    }

    /// New York City's boroughs are the city (places.json's `boroughs`): for "NYC", "New York
    /// City" or "New York, NY", a lead in Manhattan, Brooklyn, Queens, the Bronx or Staten
    /// Island is located in it, as "NYC" is; a city of its area across the state line ("Jersey
    /// City") stays no evidence either way. Before, a borough was no evidence either way, and
    /// "Queens", "The Bronx" and "Staten Island" named no place the scorer knew.
    func testNewYorkCitysBoroughsAreTheCity() {
        let boroughs = ["Manhattan", "Brooklyn", "Brooklyn, NY", "Queens", "Queens, NY", "The Bronx", "Bronx, NY", "Staten Island",
                        "Manhattan, New York, United States"]
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = ["NYC", "New York City", "New York, NY"].map {
            ($0, boroughs, ["Jersey City", "United States"], ["Buffalo, NY", "Austin, TX", "Queens University, Kingston, Ontario"])
        }
        assertPlacements(placed)
        assertLocated(at: "Brooklyn, NY", in: "NYC")
    }

    /// A city the scorer does not know, with a code that is a US state's and a country's too
    /// ("Wilmington, DE", "Carmel, IN"), is in the US state: "City, ST" is how US places are
    /// written, and the code is read as the country only where the scorer knows the city there
    /// ("Munich, DE"). A lead in the country is outside; an ICP meaning the country names it or
    /// a city the scorer knows in it ("Germany", "Kota, IN" beside "Bangalore, IN"), and the lead
    /// is placed by that. Before, the code was either, so "Berlin, Germany" and "Mumbai, India"
    /// were no evidence either way for "Wilmington, DE" and "Carmel, IN".
    func testAnUnknownCityWithACodeOfAStateAndACountryIsInTheState() {
        let placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])] = [
            ("Wilmington, DE", ["Wilmington, Delaware", "Wilmington, DE"], ["Dover, Delaware", "Delaware"],
             ["Berlin, Germany", "Munich", "Germany", "Austin, TX", "London"]),
            ("Carmel, IN", ["Carmel, Indiana", "Carmel, IN"], ["Indianapolis, IN", "Indiana"], ["Mumbai, India", "India", "Austin, TX"]),
            ("Springfield, IL", ["Springfield, Illinois"], ["Chicago, IL"], ["Tel Aviv, Israel", "Israel"]),
            // A city the scorer knows in the country is still there.
            ("Munich, DE", ["Munich", "München, Germany"], ["Germany"], ["Dover, Delaware"]),
            // One it does not know, named by a lead in the code's country, may be the city meant:
            // no evidence either way (outside since 9a896db, inside would take "Windsor, Ontario"
            // into "Windsor, CA").
            ("Mannheim, DE", ["Mannheim, Delaware"], ["Mannheim, Germany"], ["Berlin, Germany", "Austin, TX"]),
            ("Rosario, AR", [], ["Rosario, Argentina"], ["Buenos Aires, Argentina"]),
            ("Windsor, CA", ["Windsor, California"], ["Windsor, Ontario"], ["Toronto, ON"]),
        ]
        assertPlacements(placed)
        XCTAssertTrue(card(at: "Berlin, Germany", for: "Wilmington, DE").fitReasons.contains { $0.signal.contains("outside the ICP") })

        var offer = Fixtures.offer()
        offer.icp.locations = ["Germany", "Wilmington, DE"]
        let inGermany = card(CrossPlatformFitTests.xOnly(bio: "Growth marketer", location: "Berlin, Germany"), offer: offer)
        XCTAssertTrue(inGermany.fitReasons.contains { $0.signal == "located in Germany" && $0.points == 10 },
                      inGermany.fitReasons.map(\.description).joined(separator: "; "))
    }

    /// "The" capitalised before a kind of company ("at The Coolest Startup") describes the
    /// employer as "the" lowercase does, and an article before a company's funding stage with no
    /// noun after it ("at A Series B", "at a seed-stage") describes it too: neither names an
    /// employer, so LinkedIn's stands and there is no job change. Real names stay names: "The
    /// Trade Desk", "The New York Times", "A Cloud Guru", "A24", "A Place for Mom". Before, "The
    /// Coolest Startup" and "A Series B" were newer employers than LinkedIn's Acme SaaS.
    func testTheCapitalisedOrAStageAfterAnArticleIsNoEmployer() {
        for bio in ["Head of Sales at The Coolest Startup", "VP of Demand Generation at A Series B", "Head of Growth At A Seed-Stage",
                    "VP Sales at THE BEST COMPANY", "Head of Sales at The Series A Startup", "VP Marketing at An Early Stage"] {
            assertNamesNoEmployer(bio)
        }
        for (bio, company) in [("Head of Sales at The Trade Desk", "The Trade Desk"), ("Head of Sales at The New York Times", "The New York Times"),
                               ("Head of Sales at A Cloud Guru", "A Cloud Guru"), ("Head of Marketing at A24", "A24"),
                               ("VP Sales at A Place for Mom", "A Place for Mom"), ("head of sales at the trade desk", "the trade desk")] {
            XCTAssertEqual(XBioRole.parse(bio)?.company, company, bio)
        }
    }

    /// An employer ends at the sentence break after it ("CEO at Yes or No. 3x founder" works at
    /// Yes or No), while a name's own dots stay in it: a domain ("Booking.com"), an abbreviation
    /// ("St. Jude Children's Research Hospital") and a legal form before the break ("Acme Inc.",
    /// "Acme Co."); "No." before a number is still no break ("The No. 1 Agency"), nor a dot before
    /// two or three capitals ("Character.AI") unless they are where the person is: a city's
    /// abbreviation ("Acme.NYC based" works at Acme, in New York), or a country's or region's
    /// before a word in lowercase ("Acme.UK and EU"), after a name not in capitals ("GOV.UK",
    /// "NHS.UK", "Europa.EU" and "Acme.US" are names). Before, "No." before anything starting
    /// with a digit was read as a number sign, so the employer was "Yes or No. 3x founder", any
    /// dot ended a name ("Booking" and "St"), "Acme.NYC based" was the employer whole, and
    /// (0710d49 to the review of it) "GOV.UK", "NHS.UK", "Europa.EU" and "Acme.US" were cut to
    /// "GOV", "NHS", "Europa" and "Acme".
    func testAnEmployerEndsAtTheSentenceBreakNotAtItsOwnDots() {
        for (bio, title, company) in [("CEO at Yes or No. 3x founder", "CEO", "Yes or No"),
                                      ("CEO at Yes or No. 2nd time founder", "CEO", "Yes or No"),
                                      ("VP Sales at Booking.com", "VP Sales", "Booking.com"),
                                      ("VP Sales at Booking.com. Ex-Expedia", "VP Sales", "Booking.com"),
                                      ("Engineering Manager at Yahoo! Building search", "Engineering Manager", "Yahoo"),
                                      ("VP Marketing at St. Jude Children's Research Hospital", "VP Marketing", "St. Jude Children's Research Hospital"),
                                      ("CEO at Acme Inc. Dad of 3", "CEO", "Acme Inc"),
                                      ("Founder & CEO at Acme Co. 2x founder", "Founder & CEO", "Acme Co"),
                                      ("Head of Sales at Acme Co.", "Head of Sales", "Acme Co"),
                                      // A missing space after the dot: the next sentence is no part of the name.
                                      ("CEO at Acme.Previously Google", "CEO", "Acme"),
                                      ("CEO at Acme.I'm hiring", "CEO", "Acme"),
                                      ("Head of Research at Character.AI", "Head of Research", "Character.AI"),
                                      ("Head of Growth at Apollo.io", "Head of Growth", "Apollo.io"),
                                      // A place's abbreviation after the dot is where the person is, not the name's ending.
                                      ("CEO at Acme.NYC based", "CEO", "Acme"),
                                      ("CEO at Acme.SF. Ex-Google", "CEO", "Acme"),
                                      ("Founder at Acme.LA", "Founder", "Acme"),
                                      ("Head of Sales at Acme.UK and EU", "Head of Sales", "Acme"),
                                      ("CEO at Acme.US based", "CEO", "Acme"),
                                      // A name whose ending is a country's or region's code, or a
                                      // dotted name in capitals, stays whole.
                                      ("Designer at GOV.UK", "Designer", "GOV.UK"),
                                      ("Developer at NHS.UK", "Developer", "NHS.UK"),
                                      ("Engineer at Europa.EU", "Engineer", "Europa.EU"),
                                      ("CEO at Acme.US", "CEO", "Acme.US"),
                                      ("Designer at GOV.UK. Ex-BBC", "Designer", "GOV.UK"),
                                      ("Engineer at Europa.EU. Ex-Google", "Engineer", "Europa.EU"),
                                      ("Analyst at ACME.NYC", "Analyst", "ACME.NYC")] {
            assertRole(of: bio, title: title, company: company)
        }
        assertNamesNoEmployer("VP Marketing at The No. 1 Agency")
        assertNamesNoEmployer("VP Marketing at The No.1 Agency")
    }

    /// An employer written with a capital ends where the bio goes on in lowercase after it ("CEO
    /// at Acme based in NYC", "Founder @Acme building the future"), at a dash between spaces
    /// ("CEO at Acme - ex-Google"), at a word with no letter or digit ("Acme 🚀 hiring"), at
    /// "and" or "&" before another role ("Acme & CEO at Beta"), and at "in" or "from" before a
    /// place ("Acme in NYC", "Google in London", "Acme Based In NYC"), after a handle as after a
    /// capital ("@acme building the future", but "@the company" names none), while a name's own
    /// small words before a capital stay in it, several in a row too ("Bank of America",
    /// "Procter and Gamble", "Rent the Runway", "Bank of the West", "Banca d'Italia"). Before,
    /// the employer was the rest of the part ("Acme based in NYC"), which is the company a lead's
    /// signals and the account's heat were counted under. A bio in lowercase is left as it is:
    /// nothing there tells a name's words from the bio's ("head of sales at the trade desk").
    func testAnEmployerEndsWhereTheBioGoesOnInLowercase() {
        for (bio, company) in [("CEO at Acme based in NYC", "Acme"),
                               ("Founder @Acme building the future of work", "Acme"),
                               ("VP Sales at Acme Corp and proud dad", "Acme Corp"),
                               ("Head of Growth at Acme helping startups grow", "Acme"),
                               ("CEO at Acme - ex-Google", "Acme"),
                               ("CEO at Acme \u{2014} building in public", "Acme"),
                               ("CEO at Acme in NYC", "Acme"),
                               ("Founder at Acme from LA", "Acme"),
                               ("Head of Sales at Bank of America", "Bank of America"),
                               ("VP Marketing at Procter and Gamble", "Procter and Gamble"),
                               ("Designer at Rent the Runway", "Rent the Runway"),
                               ("Professor at Universidad de Chile", "Universidad de Chile"),
                               ("Director at Women in Tech", "Women in Tech"),
                               ("CEO at Yes or No", "Yes or No"),
                               ("VP Finance at Ernst & Young", "Ernst & Young"),
                               ("CTO at Acme & co-founder of Beta", "Acme"),
                               ("VP Sales at Acme and co-founder of Beta", "Acme"),
                               ("Founder @acme building the future", "acme"),
                               ("Head of Security @Orca Security", "Orca Security"),
                               ("VP Sales at Acme Inc", "Acme Inc"),
                               ("Head of Research at Character.AI", "Character.AI"),
                               ("CTO at 3M", "3M"),
                               ("head of sales at the trade desk", "the trade desk"),
                               ("Engineer at eBay", "eBay"),
                               ("Head of Security @NORTHWIND ANALYTICS", "NORTHWIND ANALYTICS"),
                               ("Director at Bank of the West", "Bank of the West"),
                               ("Professor at Universidad de los Andes", "Universidad de los Andes"),
                               ("Senior Economist at Banca d'Italia", "Banca d'Italia"),
                               ("Director at Ministère de l\u{2019}Intérieur", "Ministère de l\u{2019}Intérieur"),
                               ("Engineer @the trade desk", "the trade desk"),
                               ("CTO at Acme & CEO at Beta", "Acme"),
                               ("CEO at Acme and Co-founder of Beta", "Acme"),
                               ("VP Sales at Acme Marketing & Sales Co", "Acme Marketing & Sales Co"),
                               ("Director at Women in Data", "Women in Data"),
                               ("Engineer at Google in London", "Google"),
                               ("Engineer at Google from San Francisco", "Google"),
                               ("Engineer at Acme in Germany", "Acme"),
                               ("CEO At Acme Based In NYC", "Acme"),
                               ("Founder at Acme \u{1F680} hiring", "Acme")] {
            XCTAssertEqual(XBioRole.parse(bio)?.company, company, bio)
        }
        assertNamesNoEmployer("Founder @the company")
    }

    /// An employer written in lowercase ends before "in" or "from" and a place that ends the part
    /// or a clause ("acme in london", "acme in london, building tools"), and before "based in"
    /// whatever follows: in "head of sales at the trade desk based in nyc" the employer is "the
    /// trade desk". A city or country is read in any case here ("london", "germany", "nyc"). A
    /// place more words follow is part of a name ("made in america store", "jobs from india
    /// labs"), and so is one after a participle ("made in nyc", "born in china", "lost in
    /// berlin"); "women in tech" names no place. Before, a lowercase employer was the rest of its
    /// part, place and all.
    func testALowercaseEmployerEndsBeforeAPlace() {
        for (bio, company) in [("head of sales at the trade desk based in nyc", "the trade desk"),
                               ("head of sales at the trade desk based in NYC", "the trade desk"),
                               ("engineer at acme in london", "acme"),
                               ("engineer at acme from berlin", "acme"),
                               ("founder @acme in San Francisco", "acme"),
                               ("cto at acme labs in germany", "acme labs"),
                               ("director at women in tech", "women in tech"),
                               ("head of sales at the trade desk", "the trade desk"),
                               ("engineer at bank of america in charlotte", "bank of america"),
                               ("marketing at made in america store", "made in america store"),
                               ("cto at born in china", "born in china"),
                               ("engineer at lost in berlin", "lost in berlin"),
                               ("ceo at jobs from india labs", "jobs from india labs"),
                               ("founder at made in nyc", "made in nyc"),
                               ("CTO at Made in NYC", "Made in NYC"),
                               ("Marketing at Made in America Store", "Made in America Store"),
                               ("Engineer at Born in China Studio", "Born in China Studio"),
                               ("engineer at acme in london. ex-google", "acme"),
                               ("engineer at acme in london, building tools", "acme")] {
            XCTAssertEqual(XBioRole.parse(bio)?.company, company, bio)
        }
    }

    /// After "and", "&" or "+" in an employer, a seniority word starts another role only before
    /// "at", "@" or "of" ("Acme & Head of Growth at Beta", "Acme & Director of Beta") or as a
    /// founder or chief ("Acme & co-founder", "Acme and CEO"): "Acme Principal & Lead
    /// Consultants", "Smith & Partners" and "Acme & Senior Living" are names. Before, any word
    /// the vocabulary read a seniority in after "&" ended the name there ("Acme Principal").
    func testASeniorityWordAfterAnAmpersandStartsARoleOnlyAsOne() {
        for (bio, company) in [("Consultant at Acme Principal & Lead Consultants", "Acme Principal & Lead Consultants"),
                               ("Engineer at Smith & Partners", "Smith & Partners"),
                               ("Nurse at Acme & Senior Living", "Acme & Senior Living"),
                               ("Analyst at Acme + Lead Partners", "Acme + Lead Partners"),
                               ("VP Sales at Acme & Head of Growth at Beta", "Acme"),
                               ("VP Sales at Acme & Director of Beta", "Acme"),
                               ("CTO at Acme & co-founder", "Acme"),
                               ("CTO at Acme & VP Sales", "Acme"),
                               ("Founder at Acme & VP Engineering", "Acme"),
                               ("Engineer at Acme & Head of Growth", "Acme"),
                               ("Engineer at Acme and CEO of Beta", "Acme")] {
            XCTAssertEqual(XBioRole.parse(bio)?.company, company, bio)
        }
    }

    /// "Chief of Staff" is a title whose "of" names no employer: "Chief of Staff of Orca
    /// Security" is a Chief of Staff (a director in operations) at Orca Security. Before, the bio
    /// read a chief (C-level) at "Staff of Orca Security". So is "Chief of" before any word naming
    /// a function ("Chief of Sales", "Chief of Staffing"), but not before a name that starts with
    /// "Staff" ("Chief of Staffordshire County Council").
    func testChiefOfStaffIsATitleNotAChiefAtStaff() {
        for (bio, title, company) in [("Chief of Staff of Orca Security", "Chief of Staff", "Orca Security"),
                                      ("Chief of Staff of Initech (acquired)", "Chief of Staff", "Initech"),
                                      ("Chief of Staff at Outreach", "Chief of Staff", "Outreach"),
                                      ("Co-founder of Acme", "Co-founder", "Acme"),
                                      ("Chief Revenue Officer of Acme", "Chief Revenue Officer", "Acme"),
                                      ("Chief of Staffordshire County Council", "Chief", "Staffordshire County Council"),
                                      ("Chief of Staffing of Acme", "Chief of Staffing", "Acme"),
                                      ("Chief of Staffing", "Chief of Staffing", nil),
                                      ("Chief of Sales", "Chief of Sales", nil)] {
            assertRole(of: bio, title: title, company: company)
        }
        XCTAssertEqual(XBioRole.parse("Chief of Staff").map { ScoringVocabulary.standard.role(ofTitle: $0.title)?.seniority }, .director)
    }

    /// Asserts that the X bio `bio` reads as `title` at `company`.
    private func assertRole(of bio: String, title: String, company: String?, file: StaticString = #filePath, line: UInt = #line) {
        let parsed = XBioRole.parse(bio)
        XCTAssertEqual(parsed?.title, title, bio, file: file, line: line)
        XCTAssertEqual(parsed?.company, company, bio, file: file, line: line)
    }

    /// Asserts where each place of `placed` stands against its ICP location: inside, unknown
    /// (no evidence either way) or outside.
    private func assertPlacements(_ placed: [(wanted: String, inside: [String], unknown: [String], outside: [String])],
                                  file: StaticString = #filePath, line: UInt = #line) {
        for (wanted, inside, unknown, outside) in placed {
            for (places, expected) in [(inside, RuleBasedScorer.Placement.inside), (unknown, .unknown), (outside, .outside)] {
                for place in places {
                    let phrase = SignalDetector.Phrase(place)
                    let placement = RuleBasedScorer.placement(of: RuleBasedScorer.areas(of: phrase), in: RuleBasedScorer.ICPLocation(wanted))
                    XCTAssertEqual(placement, expected, "\(place) in \(wanted)", file: file, line: line)
                }
            }
        }
    }

    /// Asserts that the card of a lead at `place` for an ICP location of `wanted` gives the
    /// location's 10 points ("located in `wanted`").
    private func assertLocated(at place: String, in wanted: String, file: StaticString = #filePath, line: UInt = #line) {
        let reasons = card(at: place, for: wanted).fitReasons
        XCTAssertTrue(reasons.contains { $0.signal == "located in \(wanted)" && $0.points == 10 },
                      "\(place) for \(wanted): " + reasons.map(\.description).joined(separator: "; "), file: file, line: line)
    }

    /// Asserts that the card of a lead at `place` for an ICP location of `wanted` says the lead
    /// is outside the ICP (evidence against it), or, with `isOutside` false, does not.
    private func assertOutside(at place: String, of wanted: String, _ isOutside: Bool = true,
                               file: StaticString = #filePath, line: UInt = #line) {
        let reasons = card(at: place, for: wanted).fitReasons
        XCTAssertEqual(reasons.contains { $0.signal.contains("outside the ICP") }, isOutside,
                       "\(place) for \(wanted): " + reasons.map(\.description).joined(separator: "; "), file: file, line: line)
    }

    /// Asserts that the X bio `bio` names no employer: LinkedIn's Acme SaaS stands, with no job
    /// change, and heat stays at its company.
    private func assertNamesNoEmployer(_ bio: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNil(XBioRole.parse(bio)?.company, bio, file: file, line: line)
        var profile = Fixtures.profile()
        profile.x = CrossPlatformFitTests.xProfile(bio: bio)
        XCTAssertEqual(FitEvidence(profile: profile).company?.value, "Acme SaaS", bio, file: file, line: line)
        XCTAssertFalse(card(profile).timingReasons.contains { $0.signal.hasPrefix("job change") }, bio, file: file, line: line)
        XCTAssertEqual(AccountSignalAggregator.companyKey(for: profile), "name:acme saas", bio, file: file, line: line)
    }

    /// A Title Case name starting with "The" names the employer ("The Walt Disney Company", "The
    /// Browser Company", "The Org", "The Agency"): after a capitalised "The", only words that
    /// describe a company (best, coolest, leading, a funding stage, stealth) before a kind of
    /// company make a description ("The Coolest Startup", "the best agency in town", "The No. 1
    /// Agency"), as an all-lowercase or all-caps one ending with a kind of company still does.
    /// Before, a capitalised "The" before any kind of company was a description, so these
    /// employers were dropped: no job change, and heat at LinkedIn's company.
    func testATitleCaseNameStartingWithTheNamesTheEmployer() {
        for (bio, company) in [("VP Marketing at The Walt Disney Company", "The Walt Disney Company"),
                               ("Head of Sales at The Coca-Cola Company", "The Coca-Cola Company"),
                               ("Head of Growth at The Browser Company", "The Browser Company"),
                               ("VP Sales at The Boring Company", "The Boring Company"),
                               ("Head of Marketing at The Weather Company", "The Weather Company"),
                               ("Head of Sales at The Org", "The Org"), ("VP Marketing at The Agency", "The Agency"),
                               ("Head of Sales at The Trade Desk", "The Trade Desk"), ("Head of Sales at The New York Times", "The New York Times"),
                               ("Head of Sales at A Cloud Guru", "A Cloud Guru"), ("Head of Marketing at A24", "A24"),
                               ("VP Sales at A Place for Mom", "A Place for Mom")] {
            XCTAssertEqual(XBioRole.parse(bio)?.company, company, bio)
            var profile = Fixtures.profile()
            profile.x = CrossPlatformFitTests.xProfile(bio: bio)
            XCTAssertTrue(card(profile).timingReasons.contains { $0.signal.hasPrefix("job change") }, bio)
        }
        for bio in ["Head of Sales at The Coolest Startup", "VP Marketing at the best agency in town",
                    "VP Marketing at The Best Agency in Town", "Head of Growth at The Leading Company", "VP Sales at The Hottest Startup",
                    "Head of Sales at The Fastest-Growing Startup", "VP Marketing at The Biggest Agency", "VP Sales at The Greatest Company",
                    "Head of Growth at The World's Best Startup", "VP Marketing at The No. 1 Agency", "Head of Sales at The Series A Startup",
                    "VP Sales at The Stealth Startup", "VP Sales at THE BEST COMPANY", "Head of Sales at the coolest startup",
                    // A lowercase "the" before an acronym is not Title Case, and a describing word
                    // may come before other words ahead of the kind of company (the review of the
                    // day's diff: each of these named an employer after 7b652f3).
                    "Head of Sales at the fastest-growing AI startup", "VP Sales at the leading AI company",
                    "Head of Growth at the AI startup", "VP Marketing at the hottest B2B startup", "VP Sales at The Leading AI Company",
                    "Head of Sales at The World's Leading CRM Company", "VP Sales at The Coolest Fintech Startup",
                    "VP Marketing at The #1 B2B Agency", "Head of Growth at The AI Startup"] {
            assertNamesNoEmployer(bio)
        }
    }

    /// An ICP location naming no place ("Global", "Worldwide", "Remote", "Anywhere") constrains
    /// nothing: the offer scores as one without a location constraint, alone or beside a country.
    /// Before, it made every place the scorer knows "outside the ICP".
    func testAnICPLocationNamingNoPlaceConstrainsNothing() {
        var anywhere = Fixtures.offer()
        anywhere.icp.locations = []
        for locations in [["Global"], ["Worldwide"], ["Remote"], ["Anywhere"], ["Global", "Remote"]] {
            var offer = Fixtures.offer()
            offer.icp.locations = locations
            for place in ["Austin, TX", "Berlin, Germany"] {
                for lead in [Fixtures.profile(), CrossPlatformFitTests.xOnly(bio: "Head of Growth at Northwind", location: place)] {
                    var lead = lead
                    lead.linkedin?.location = place
                    let scored = card(lead, offer: offer)
                    XCTAssertEqual(scored, card(lead, offer: anywhere), "\(place) for \(locations): " + scored.fitReasons.map(\.description).joined(separator: "; "))
                }
            }
        }
    }

    /// Beside a place, an ICP location naming no place, or a blank one, is left out: "United
    /// States, Remote" is the United States, not anywhere. And a state's or country's code is a
    /// place in an ICP: "OR", "AT", "ON", "IN" (Oregon, Austria, Ontario, Indiana) are words an X
    /// user writes for no place, but a list of them was read as no constraint at all.
    func testAnICPLocationNamingNoPlaceBesideAPlaceIsLeftOut() {
        var unitedStates = Fixtures.offer()
        unitedStates.icp.locations = ["United States"]
        for locations in [["United States", "Remote"], ["United States", "Global"], ["United States", " "]] {
            var offer = Fixtures.offer()
            offer.icp.locations = locations
            for place in ["Austin, TX", "Berlin, Germany"] {
                var lead = Fixtures.profile()
                lead.linkedin?.location = place
                let scored = card(lead, offer: offer)
                XCTAssertEqual(scored, card(lead, offer: unitedStates), "\(place) for \(locations): " + scored.fitReasons.map(\.description).joined(separator: "; "))
            }
        }
        for code in ["OR", "AT", "ON", "IN", "CA", "Rest of World"] { XCTAssertFalse(RuleBasedScorer.icpNamesNoPlace(code), code) }
        for words in ["Global", "World wide", "Remote", "Anywhere", "International"] { XCTAssertTrue(RuleBasedScorer.icpNamesNoPlace(words), words) }
    }

    /// An offer whose ICP titles, industries or locations hold a blank entry is refused, naming
    /// the list: the entry matched no lead, so every lead counted as outside the ICP. Before,
    /// `validate()` accepted it.
    func testAnOfferWithABlankICPEntryIsRefused() {
        for (field, edit) in [("icp.titles", { (icp: inout IdealCustomerProfile) in icp.titles.append("") }),
                              ("icp.industries", { (icp: inout IdealCustomerProfile) in icp.industries = [" "] }),
                              ("icp.locations", { (icp: inout IdealCustomerProfile) in icp.locations = ["United States", "\t"] })] {
            var offer = Fixtures.offer()
            edit(&offer.icp)
            XCTAssertThrowsError(try offer.validateForPublishing(), field) {
                XCTAssertTrue("\($0)".contains("\(field) holds a blank entry"), "\($0)")
            }
            XCTAssertNoThrow(try offer.validate(), "\(field): one stored by an earlier version is still read")
        }
        XCTAssertNoThrow(try Fixtures.offer().validate())
    }

    /// An X bio naming, with "at", an employer LinkedIn lists as left is out of date, not a newer
    /// job: LinkedIn's current employer stands, so a competitor's new employee is zeroed, and a
    /// lead elsewhere is scored as LinkedIn alone says, with no "job change". Before, the bio's
    /// "Account Executive at Acme" was read as a move from Outreach to Acme: scored as a buyer at
    /// Acme with "job change: X bio says Account Executive at Acme, LinkedIn still ... at Outreach".
    func testAnXBioNamingAnEmployerLinkedInListsAsLeftIsOutOfDate() {
        func profile(company: String, title: String, bio: String) -> EnrichedProfile {
            var profile = Fixtures.profile(company: company)
            profile.linkedin?.jobTitle = title
            profile.linkedin?.headline = "\(title) at \(company)"
            profile.linkedin?.experiences = [
                Experience(company: company, title: title, startDate: Fixtures.daysAgo(30)),
                Experience(company: "Acme", title: title, startDate: Fixtures.daysAgo(700), endDate: Fixtures.daysAgo(31)),
            ]
            profile.x = CrossPlatformFitTests.xProfile(bio: bio)
            return profile
        }
        let competitors = card(profile(company: "Outreach", title: "Account Executive", bio: "Account Executive at Acme"))
        XCTAssertEqual(competitors.buyerState, .poorFit, competitors.stateReason)
        XCTAssertEqual(competitors.stateReason, "employed by competitor Outreach")
        XCTAssertEqual([competitors.fit, competitors.intent, competitors.timing, competitors.composite], [0, 0, 0, 0])
        XCTAssertFalse(competitors.timingReasons.contains { $0.signal.hasPrefix("job change") })

        let elsewhere = profile(company: "Initech", title: "VP of Demand Generation", bio: "VP of Demand Generation @ Acme")
        var linkedInOnly = elsewhere
        linkedInOnly.x = nil
        let scored = card(elsewhere)
        XCTAssertFalse(scored.timingReasons.contains { $0.signal.hasPrefix("job change") },
                       scored.timingReasons.map(\.description).joined(separator: "; "))
        XCTAssertEqual(scored.fit, card(linkedInOnly).fit, scored.fitReasons.map(\.description).joined(separator: "; "))
        XCTAssertEqual(scored.timing, card(linkedInOnly).timing)
        let evidence = FitEvidence(profile: elsewhere)
        XCTAssertEqual(evidence.company?.value, "Initech")
        XCTAssertNil(evidence.earlierLinkedInRole)
        XCTAssertFalse(evidence.replacesLinkedInEmployer)
    }

    /// What follows "at" in an X bio names no employer when it starts with a lowercase article,
    /// possessive or the like ("a Series B startup", "my own agency") or with "stealth": the bio
    /// says what kind of company, not which, so LinkedIn's employer stands (with its company
    /// record) and there is no job change. A capitalised name stays one ("The Trade Desk").
    /// Before, "a Series B startup" was a newer employer than LinkedIn's Acme SaaS: fit without
    /// the company record, a "job change" reason, and heat at "name:a series b startup".
    func testAKindOfCompanyAfterAtIsNoEmployer() {
        for bio in ["Head of Sales at a Series B startup", "VP of Demand Generation at my own agency",
                    "VP of Demand Generation @ stealth", "VP Demand Gen at Stealth Mode Startup", "Growth lead at an AI unicorn",
                    "Head of Sales at the coolest startup"] {
            XCTAssertNil(XBioRole.parse(bio)?.company, bio)
            let linkedInOnly = Fixtures.profile()
            var profile = linkedInOnly
            profile.x = CrossPlatformFitTests.xProfile(bio: bio)
            let evidence = FitEvidence(profile: profile)
            XCTAssertEqual(evidence.company?.value, "Acme SaaS", bio)
            XCTAssertEqual(evidence.company?.source, "company", bio)
            XCTAssertNotNil(evidence.industry, bio)
            let scored = card(profile)
            XCTAssertFalse(scored.timingReasons.contains { $0.signal.hasPrefix("job change") },
                           "\(bio): " + scored.timingReasons.map(\.description).joined(separator: "; "))
            XCTAssertEqual(scored.fit, card(linkedInOnly).fit, bio)
            XCTAssertEqual(AccountSignalAggregator.companyKey(for: profile), "name:acme saas", bio)
        }
        XCTAssertEqual(XBioRole.parse("Head of Sales at The Trade Desk")?.company, "The Trade Desk")
        XCTAssertEqual(XBioRole.parse("Head of Sales at hooli")?.company, "hooli")
        XCTAssertEqual(XBioRole.parse("head of sales at the trade desk")?.company, "the trade desk", "an all-lowercase bio names its employer")
    }

    /// A capitalised article or possessive followed by a kind of company ("at A Series B
    /// Startup", "At A Stealth Startup", "at My Own Agency") describes the employer as the
    /// lowercase form does, and names none: LinkedIn's employer stands and there is no job
    /// change. A name that starts with "A" and ends with no kind of company stays a name ("A
    /// Cloud Guru", "A24", "A Place for Mom"). Before, a capitalised description was a newer
    /// employer than LinkedIn's: a "job change" and heat at "name:a series b startup".
    func testACapitalisedKindOfCompanyAfterAtIsNoEmployer() {
        for bio in ["Head of Sales at A Series B Startup", "VP of Demand Generation At A Stealth Startup",
                    "VP of Demand Generation at My Own Agency", "Growth Lead at AN AI STARTUP", "Head of Sales @ A Stealth Company"] {
            XCTAssertNil(XBioRole.parse(bio)?.company, bio)
            var profile = Fixtures.profile()
            profile.x = CrossPlatformFitTests.xProfile(bio: bio)
            XCTAssertEqual(FitEvidence(profile: profile).company?.value, "Acme SaaS", bio)
            let scored = card(profile)
            XCTAssertFalse(scored.timingReasons.contains { $0.signal.hasPrefix("job change") },
                           "\(bio): " + scored.timingReasons.map(\.description).joined(separator: "; "))
            XCTAssertEqual(AccountSignalAggregator.companyKey(for: profile), "name:acme saas", bio)
        }
        for (bio, company) in [("Head of Sales at A Cloud Guru", "A Cloud Guru"), ("Head of Marketing at A24", "A24"),
                               ("VP Sales at A Place for Mom", "A Place for Mom"), ("Head of Sales at The Trade Desk", "The Trade Desk")] {
            XCTAssertEqual(XBioRole.parse(bio)?.company, company, bio)
            var profile = Fixtures.profile()
            profile.x = CrossPlatformFitTests.xProfile(bio: bio)
            XCTAssertTrue(card(profile).timingReasons.contains { $0.signal.hasPrefix("job change") }, bio)
        }
    }

    /// A title is several roles apart only where a separator stands between them ("|", ";", "/",
    /// "·", "•", "–", "—"); another character outside ASCII (a curly apostrophe, a no-break space,
    /// an ellipsis) leaves it one role, so whom an assistant serves is still cut off.
    /// Before, any character whose UTF-8 starts with 0xC2 or 0xE2 made a title several roles:
    /// "Executive Assistant to Acme’s CRO" read as C-level where "Acme's" read as the assistant.
    func testOnlyASeparatorMakesATitleSeveralRoles() {
        let vocabulary = ScoringVocabulary.standard
        let plain = vocabulary.role(ofTitle: "Executive Assistant to Acme's CRO")?.seniority
        XCTAssertNotEqual(plain, .cLevel)
        // Without "the", after which the serving is cut off whatever the title holds.
        for title in ["Executive Assistant to Acme\u{2019}s CRO", "Executive Assistant to\u{00A0}Acme's CEO",
                      "Executive Assistant to Acme's CRO\u{2026}", "Executive Assistant to Acme\u{00AE}'s CEO"] {
            XCTAssertEqual(vocabulary.role(ofTitle: title)?.seniority, plain, title)
        }
        for separator in ["|", ";", "/", "\u{00B7}", "\u{2022}", "\u{2013}", "\u{2014}"] {
            let title = "Advisor to founders \(separator) CRO at Acme"
            XCTAssertEqual(vocabulary.role(ofTitle: title)?.seniority, .cLevel, title)
        }
    }
}
