import Foundation
import LeadModel
import LeadRules
import XCTest

final class ScorerTests: XCTestCase {
    let scorer = RuleBasedScorer()

    func testCompetitorEmployeeIsPoorFitWithZeroedScores() {
        let profile = Fixtures.profile(
            company: "Outreach", posts: [Fixtures.post("Any recommendations for manual prospecting?", daysAgo: 2)])
        let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .keywordSearch, now: Fixtures.now)
        XCTAssertEqual(card.buyerState, .poorFit)
        XCTAssertEqual([card.fit, card.intent, card.timing, card.composite], [0, 0, 0, 0])
        XCTAssertTrue(card.stateReason.contains("Outreach"), card.stateReason)
    }

    func testPainPointPostRaisesIntentWithReason() {
        let offer = Fixtures.offer()
        let quiet = scorer.score(profile: Fixtures.profile(), offer: offer, source: .csvImport, now: Fixtures.now)
        let painful = scorer.score(
            profile: Fixtures.profile(posts: [Fixtures.post("Manual prospecting is eating my week.", daysAgo: 5)]),
            offer: offer, source: .csvImport, now: Fixtures.now)
        XCTAssertGreaterThan(painful.intent, quiet.intent)
        XCTAssertTrue(painful.intentReasons.contains { $0.signal.contains("manual prospecting") && $0.points == 20 })
    }

    func testOldPostsCountLessAndBeyondHorizonNotAtAll() {
        let offer = Fixtures.offer()
        func intent(daysAgo: Double) -> Int {
            scorer.score(
                profile: Fixtures.profile(posts: [Fixtures.post("low reply rates again", daysAgo: daysAgo)]),
                offer: offer, source: .csvImport, now: Fixtures.now
            ).intent
        }
        XCTAssertEqual(intent(daysAgo: 3), 20)
        XCTAssertEqual(intent(daysAgo: 60), 12)
        XCTAssertEqual(intent(daysAgo: 150), 6)
        XCTAssertEqual(intent(daysAgo: 200), 0)
    }

    /// A pool profile (an external lead's) is scored as sent, without the activity stage's date
    /// check: a post or an engagement dated in the future is not evidence, as the activity stage
    /// drops it, instead of counting as "today" for ever. A day ahead is allowed for clocks.
    func testPostsAndEngagementsDatedInTheFutureDoNotCount() {
        let offer = Fixtures.offer()
        func card(postDaysAgo: Double, engagedDaysAgo: Double) -> ScoreCard {
            let orbit = [OrbitTarget(platform: .x, handle: "outreach", name: "Outreach", classification: .competitor,
                                     interactionCount: 6, firstSeen: Fixtures.daysAgo(engagedDaysAgo + 7),
                                     lastSeen: Fixtures.daysAgo(engagedDaysAgo))]
            return scorer.score(
                profile: Fixtures.profile(posts: [Fixtures.post("low reply rates again", daysAgo: postDaysAgo)], orbit: orbit),
                offer: offer, source: .csvImport, now: Fixtures.now)
        }
        let future = card(postDaysAgo: -3_000_000, engagedDaysAgo: -3_000_000)
        XCTAssertEqual(future.intent, 0, future.intentReasons.map(\.signal).joined(separator: "; "))
        XCTAssertTrue(future.timingReasons.isEmpty, future.timingReasons.map(\.signal).joined(separator: "; "))
        XCTAssertEqual(card(postDaysAgo: -0.5, engagedDaysAgo: -0.5).intentReasons.count, 2, "half a day ahead is a clock, not a lie")

        let orbit = [OrbitTarget(platform: .x, handle: "outreach", name: "Outreach", classification: .competitor, interactionCount: 6,
                                 firstSeen: Fixtures.daysAgo(-3_000_007), lastSeen: Fixtures.daysAgo(-3_000_000))]
        let contribution = AccountSignalAggregator.contribution(
            of: Fixtures.profile(posts: [Fixtures.post("low reply rates again", daysAgo: -3_000_000)], orbit: orbit),
            leadID: "lead-1", runID: "run-1", accountID: "acct-1", offer: offer, at: Fixtures.now)
        XCTAssertTrue(contribution.signals.isEmpty, "nor do they heat the lead's account")
    }

    func testIntentSourceStartsWithSomeIntent() {
        let offer = Fixtures.offer()
        let search = scorer.score(profile: Fixtures.profile(), offer: offer, source: .keywordSearch, now: Fixtures.now)
        let csv = scorer.score(profile: Fixtures.profile(), offer: offer, source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(search.intent, 15)
        XCTAssertEqual(csv.intent, 0)
    }

    func testCompositeWeightsByLikelihood() {
        XCTAssertEqual(RuleBasedScorer.composite(fit: 100, intent: 0, timing: 0, likelihood: .high), 30)
        XCTAssertEqual(RuleBasedScorer.composite(fit: 100, intent: 0, timing: 0, likelihood: .medium), 45)
        XCTAssertEqual(RuleBasedScorer.composite(fit: 100, intent: 0, timing: 0, likelihood: .low), 55)
        XCTAssertEqual(RuleBasedScorer.composite(fit: 0, intent: 100, timing: 0, likelihood: .high), 45)
        XCTAssertEqual(RuleBasedScorer.composite(fit: 0, intent: 0, timing: 100, likelihood: .high), 25)
        XCTAssertEqual(RuleBasedScorer.composite(fit: 0, intent: 0, timing: 100, likelihood: .low), 15)

        let profile = Fixtures.profile(posts: [Fixtures.post("Can anyone recommend a tool? Low reply rates, manual prospecting.", daysAgo: 1)])
        let high = scorer.score(profile: profile, offer: Fixtures.offer(likelihood: .high), source: .csvImport, now: Fixtures.now)
        let low = scorer.score(profile: profile, offer: Fixtures.offer(likelihood: .low), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(high.fit, low.fit)
        XCTAssertEqual(high.composite, RuleBasedScorer.composite(fit: high.fit, intent: high.intent, timing: high.timing, likelihood: .high))
        XCTAssertEqual(low.composite, RuleBasedScorer.composite(fit: low.fit, intent: low.intent, timing: low.timing, likelihood: .low))
    }

    func testStrongIntentAndFitIsActive() {
        let posts = [
            Fixtures.post("Can anyone recommend a tool for manual prospecting? Our low reply rates hurt.", daysAgo: 1, id: "a"),
            Fixtures.post("Looking for an alternative to Salesloft. Our sequences are a mess.", daysAgo: 3, id: "b"),
        ]
        let card = scorer.score(profile: Fixtures.profile(posts: posts), offer: Fixtures.offer(), source: .intentSearch, now: Fixtures.now)
        XCTAssertGreaterThanOrEqual(card.intent, 70)
        XCTAssertGreaterThanOrEqual(card.fit, 40)
        XCTAssertEqual(card.buyerState, .active)
        XCTAssertFalse(card.fitReasons.isEmpty)
        XCTAssertTrue(card.intentReasons.contains { $0.signal.contains("Salesloft") })
        XCTAssertEqual(card.scorer, "rules-v2")
    }

    func testInHouseBuilderIsPoorFit() {
        let posts = [Fixtures.post("We are building our own sales engagement platform in house.", daysAgo: 4)]
        let card = scorer.score(profile: Fixtures.profile(posts: posts), offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(card.buyerState, .poorFit)
        XCTAssertTrue(card.stateReason.contains("in-house"), card.stateReason)
    }

    /// An in-house team is not an in-house build: the most obvious buyer, an in-house SDR team
    /// asking for a tool for its pain, was poor fit. Building it yourself still is.
    func testAnInHouseTeamAskingForAToolIsNotAnInHouseBuild() {
        let offer = Fixtures.offer()
        func card(_ text: String) -> ScoreCard {
            scorer.score(profile: Fixtures.profile(posts: [Fixtures.post(text, daysAgo: 2)]), offer: offer, source: .csvImport, now: Fixtures.now)
        }
        let asking = card("Our in-house SDR team wastes hours on manual prospecting. Any recommendations?")
        XCTAssertEqual(asking.buyerState, .active, asking.stateReason)
        XCTAssertFalse(asking.intentReasons.isEmpty)
        for text in ["We built our manual prospecting tooling in house.", "Homegrown sales engagement platform, two years in.",
                     "Fed up with Outreach. Building our own sales engagement platform in house."] {
            XCTAssertEqual(card(text).buyerState, .poorFit, text)
        }
    }

    /// Building an in-house team is not building the offer in house: only a tool, a platform or
    /// what the offer sells, built in house, is one.
    func testBuildingAnInHouseTeamIsNotAnInHouseBuild() {
        let offer = Fixtures.offer()
        let detector = SignalDetector(offer: offer)
        func card(_ text: String) -> ScoreCard {
            scorer.score(profile: Fixtures.profile(posts: [Fixtures.post(text, daysAgo: 2)]), offer: offer, source: .csvImport, now: Fixtures.now)
        }
        for text in ["Building out our in-house SDR team; manual prospecting is the bottleneck.",
                     "We are building an in-house sales development team to fix low reply rates."] {
            XCTAssertFalse(detector.signals(in: [Fixtures.post(text, daysAgo: 2)]).contains { $0.kind == .inHouseBuild }, text)
            XCTAssertNotEqual(card(text).buyerState, .poorFit, "\(text): \(card(text).stateReason)")
        }
        for text in ["We built an in-house tool for manual prospecting.", "Our sales engagement platform is built in-house.",
                     "We are developing our own in-house platform to end manual prospecting."] {
            XCTAssertEqual(card(text).buyerState, .poorFit, text)
        }
    }

    /// A side role started lately (an advisor, a board seat) beside the main one is no new role:
    /// timing counts the start of the role LinkedIn names as the lead's title and employer.
    func testASideRoleStartedLatelyIsNoNewRole() {
        var profile = Fixtures.profile()
        profile.linkedin = Fixtures.linkedin(startedDaysAgo: 1_500)
        profile.linkedin?.experiences.append(Experience(company: "Pavilion", title: "Advisor", startDate: Fixtures.daysAgo(20)))
        let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertFalse(card.timingReasons.contains { $0.signal.hasPrefix("started as") },
                       card.timingReasons.map(\.description).joined(separator: "; "))
        // The main role started lately is one.
        profile.linkedin = Fixtures.linkedin(startedDaysAgo: 20)
        profile.linkedin?.experiences.append(Experience(company: "Pavilion", title: "Advisor", startDate: Fixtures.daysAgo(5)))
        let changed = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertTrue(changed.timingReasons.contains { $0.signal == "started as VP of Demand Generation 20 days ago" && $0.points == 35 },
                      changed.timingReasons.map(\.description).joined(separator: "; "))
    }

    /// Everyday words are not buying signals: being raised somewhere is not funding, recommending
    /// a tool to others is not asking for one, replacing a laptop is not leaving a vendor.
    func testEverydayWordsAreNotBuyingSignals() {
        let detector = SignalDetector(offer: Fixtures.offer())
        func kinds(_ text: String) -> [BuyingSignal.Kind] { detector.signals(in: [Fixtures.post(text, daysAgo: 1)]).map(\.kind) }
        XCTAssertEqual(kinds("Born and raised in Ohio, now in Austin."), [])
        XCTAssertEqual(kinds("I'd recommend a good night's sleep before any big demo."), [])
        XCTAssertEqual(kinds("Replacing my laptop battery today."), [])
        XCTAssertEqual(kinds("We just raised our Series A!"), [.funding])
        XCTAssertEqual(kinds("We raised $12M to grow the team."), [.funding])
        XCTAssertEqual(kinds("Can anyone recommend a dialer?"), [.recommendationRequest])
        XCTAssertEqual(kinds("Would you recommend a dialer for a team of ten?"), [.recommendationRequest])
        XCTAssertEqual(kinds("We are replacing our dialer this quarter."), [.switchingIntent])
        XCTAssertEqual(kinds("Looking to replace our CRM."), [.switchingIntent])
        // A complaint is a switch only about what the offer is about or a competitor.
        XCTAssertEqual(kinds("So frustrated with my airline today."), [])
        XCTAssertEqual(kinds("Fed up with the Knicks."), [])
        XCTAssertEqual(kinds("Fed up with Salesloft's pricing."), [.competitorMention, .switchingIntent])
        XCTAssertEqual(kinds("Frustrated with our low reply rates."), [.painPoint, .switchingIntent])
        // A series is funding only beside a word of money: not a TV series.
        XCTAssertEqual(kinds("Just finished the series a friend recommended."), [])
        XCTAssertEqual(kinds("Thrilled to announce our Series A, led by Northwind Ventures."), [.funding])
        XCTAssertEqual(kinds("Series B closed: $40M to grow the team."), [.funding])
        // Writing about the pain is no build: "we built a" playbook, checklist, team.
        XCTAssertEqual(kinds("Low reply rates were killing us, so we built a new outbound playbook in a weekend."), [.painPoint])
        XCTAssertEqual(kinds("Low reply rates? We built a simple checklist for our SDRs."), [.painPoint])
    }

    /// A phrase of asking, switching or an event after a "not", "no", "never" or "n't" in its
    /// clause says the opposite, and giving advice ("my top recommendations for") is not asking
    /// for it: such posts add no intent and no timing. Naming a competitor one is happy with is
    /// still a mention of it (a competitor's customer).
    func testNegatedPhrasesAndGivenAdviceAreNoBuyingSignals() {
        let offer = Fixtures.offer()
        let detector = SignalDetector(offer: offer)
        func kinds(_ text: String) -> [BuyingSignal.Kind] { detector.signals(in: [Fixtures.post(text, daysAgo: 1)]).map(\.kind) }
        func card(_ text: String) -> ScoreCard {
            scorer.score(profile: Fixtures.profile(posts: [Fixtures.post(text, daysAgo: 1)]), offer: offer, source: .csvImport, now: Fixtures.now)
        }
        let quiet = card("Great week with the team.")
        for text in ["My top recommendations for new SDR managers", "Not looking for a tool, happy with Outreach",
                     "We're not hiring a new SDR this year"] {
            XCTAssertEqual(kinds(text).filter { $0 != .competitorMention }, [], text)
            let scored = card(text)
            XCTAssertEqual(scored.intentReasons.filter { !$0.signal.hasPrefix("post mentions competitor") }, [], text)
            XCTAssertEqual(scored.timingReasons, quiet.timingReasons, text)
        }
        XCTAssertEqual(kinds("We never raised a round and we are not replacing our dialer."), [])
        XCTAssertEqual(kinds("We don't use Salesloft."), [.competitorMention])
        XCTAssertEqual(kinds("We're not building our own sales engagement platform."), [])
        // Asking still counts, and a negation in another clause or "not only" leaves it.
        XCTAssertEqual(kinds("Recommendations for a dialer?"), [.recommendationRequest])
        XCTAssertEqual(kinds("Looking at dialers. Recommendations?"), [.recommendationRequest])
        XCTAssertEqual(kinds("We don't have a dialer yet; can anyone recommend one?"), [.recommendationRequest])
        XCTAssertEqual(kinds("No joke, we're hiring a new SDR."), [.hiring])
        XCTAssertEqual(kinds("We're not only hiring a new SDR, we just launched."), [.hiring, .productLaunch])
    }

    /// A competitor named by an everyday word of a seller's posts ("Outreach": cold outreach,
    /// community outreach) is mentioned only where it is written as a name: capitalised, as a
    /// handle or with its domain. Other competitors count however they are written.
    func testACompetitorNamedByAnEverydayWordIsMentionedOnlyWhenWrittenAsAName() {
        let detector = SignalDetector(offer: Fixtures.offer())  // competitors Outreach and Salesloft
        func mentions(_ text: String) -> [String] {
            detector.signals(in: [Fixtures.post(text, daysAgo: 1)]).filter { $0.kind == .competitorMention }.map(\.detail)
        }
        XCTAssertEqual(mentions("Community outreach day at the food bank was a blast."), [])
        XCTAssertEqual(mentions("Cold outreach is not dead: our outbound outreach doubled replies."), [])
        XCTAssertEqual(mentions("Moving off Outreach next quarter."), ["Outreach"])
        XCTAssertEqual(mentions("OUTREACH support never answers"), ["Outreach"])
        XCTAssertEqual(mentions("we ditched outreach.io for something simpler"), ["Outreach"])
        XCTAssertEqual(mentions("@outreach your sequences are down again"), ["Outreach"])
        XCTAssertEqual(mentions("anyone tried salesloft for a team of ten?"), ["Salesloft"], "not an everyday word: any case")

        var profile = Fixtures.profile()
        let quiet = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        profile.x = CrossPlatformFitTests.xProfile(bio: "Sales lead. Passionate about community outreach.")
        let bio = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(bio.intent, quiet.intent, "a bio's community outreach is no competitor")
        profile.x?.bio = "outreach"
        XCTAssertEqual(scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now).intent, quiet.intent,
                       "a bio that is only the everyday word")
    }

    /// Products of other fields named by everyday words (an offer competing in hiring, data or
    /// collaboration) are read the same way: "pull the lever", "a snowflake", "some slack" name
    /// no competitor. They counted as competitor mentions (intent) however written.
    func testEverydayNamesOfOtherFieldsAreMentionedOnlyWhenWrittenAsNames() {
        var offer = Fixtures.offer()
        offer.icp.competitors = ["Lever", "Greenhouse", "Lattice", "Snowflake", "Looker", "Slack", "Zoom", "Ramp", "Census"]
        let detector = SignalDetector(offer: offer)
        func mentions(_ text: String) -> [String] {
            detector.signals(in: [Fixtures.post(text, daysAgo: 1)]).filter { $0.kind == .competitorMention }.map(\.detail)
        }
        XCTAssertEqual(mentions("Time to pull the lever: our greenhouse tomatoes need a lattice, a looker of a garden."), [])
        XCTAssertEqual(mentions("Cut us some slack, we zoom through the census data like a snowflake in ramp-up season."), [])
        XCTAssertEqual(mentions("We moved from Lever to Ashby and off Greenhouse too."), ["Lever", "Greenhouse"])
        XCTAssertEqual(mentions("our data lives in snowflake.com, dashboards in @looker"), ["Snowflake", "Looker"])
    }

    /// Text a reviewer found: a prepend mark (U+0600) joins the letter after it into one
    /// character, where a search by Foundation matched from inside the character and stepping
    /// back from it trapped. Any text must be read without a trap.
    func testAnEverydayNameNextToCombiningOrPrependMarksIsReadWithoutATrap() {
        let detector = SignalDetector(offer: Fixtures.offer())
        for text in ["\u{0600}outreach, and more cold outreach", "e\u{0301}Outreach and outreach", "Outreach\u{0301} x outreach",
                     "\u{0600}Outreach", "🇺🇸Outreach🇺🇸 outreach", "outreach\u{0600}", ""] {
            _ = detector.signals(in: [Fixtures.post(text, daysAgo: 1)])
            var profile = Fixtures.profile()
            profile.x = CrossPlatformFitTests.xProfile(bio: text)
            _ = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        }
        func mentions(_ text: String) -> Int {
            detector.signals(in: [Fixtures.post(text, daysAgo: 1)]).filter { $0.kind == .competitorMention }.count
        }
        XCTAssertEqual(mentions("\u{0600}outreach, and more cold outreach"), 0, "neither is written as a name")
        XCTAssertEqual(mentions("Tired of Outreach\u{0301}, and of cold outreach"), 0, "Outreach\u{0301} is another word")
    }

    /// A name of two words matches however the words are separated, as the phrase match does.
    func testAnEverydayNameOfTwoWordsIsAWrittenNameWhateverSeparatesItsWords() {
        var offer = Fixtures.offer()
        offer.icp.competitors = ["Common Room"]
        let detector = SignalDetector(offer: offer)
        func mentions(_ text: String) -> Int {
            detector.signals(in: [Fixtures.post(text, daysAgo: 1)]).filter { $0.kind == .competitorMention }.count
        }
        for text in ["Trying Common Room", "Trying Common-Room", "Trying Common\u{00A0}Room", "Trying Common  Room", "Trying @commonroom"] {
            XCTAssertEqual(mentions(text), text.hasSuffix("@commonroom") ? 0 : 1, text)
        }
        XCTAssertEqual(mentions("the common room of our office"), 0)
    }

    /// An ICP location written the short way ("USA", "US", "UK") takes the same places as the
    /// full name, and "America" in "Latin America" is not the United States.
    func testICPLocationsAcceptTheirShortNamesAndNotOtherAmericas() {
        func isLocatedIn(_ place: String, icp: String) -> Bool {
            var profile = Fixtures.profile()
            profile.linkedin?.location = place
            var offer = Fixtures.offer()
            offer.icp.locations = [icp]
            let card = scorer.score(profile: profile, offer: offer, source: .csvImport, now: Fixtures.now)
            return card.fitReasons.contains { $0.signal == "located in \(icp)" && $0.points == 10 }
        }
        for icp in ["United States", "USA", "US", "U.S.", "United States of America"] {
            XCTAssertTrue(isLocatedIn("Austin, Texas, United States", icp: icp), icp)
            XCTAssertTrue(isLocatedIn("Boston, MA, USA", icp: icp), icp)
            XCTAssertFalse(isLocatedIn("Bogotá, Latin America", icp: icp), icp)
            XCTAssertFalse(isLocatedIn("Lima, South America", icp: icp), icp)
        }
        for icp in ["United Kingdom", "UK", "Great Britain"] {
            XCTAssertTrue(isLocatedIn("London, England, United Kingdom", icp: icp), icp)
            XCTAssertTrue(isLocatedIn("Edinburgh, Scotland", icp: icp), icp)
            XCTAssertFalse(isLocatedIn("Dublin, Ireland", icp: icp), icp)
        }
        // A place ending in another country is in that country, whatever region or city it
        // shares a name with (LinkedIn writes "City, Region, Country").
        for icp in ["United Kingdom", "UK"] {
            XCTAssertFalse(isLocatedIn("Sydney, New South Wales, Australia", icp: icp), icp)
            XCTAssertFalse(isLocatedIn("London, Ontario, Canada", icp: icp), icp)
            XCTAssertFalse(isLocatedIn("Greater Boston / New England", icp: icp), icp)
            XCTAssertTrue(isLocatedIn("Cardiff, Wales, United Kingdom", icp: icp), icp)
        }
        XCTAssertFalse(isLocatedIn("Perth, Western Australia, Australia", icp: "United States"))
        XCTAssertTrue(isLocatedIn("Greater Boston / New England", icp: "United States"))
        XCTAssertTrue(isLocatedIn("Sydney, New South Wales, Australia", icp: "Australia"))
        XCTAssertFalse(isLocatedIn("Sydney, Nova Scotia, Canada", icp: "Australia"))
        // A country's own two-letter code after one of its well-known cities is that country, not
        // the US state of the same code; after any other city it is still the state.
        for (place, country) in [("Toronto, CA", "Canada"), ("Tel Aviv, IL", "Israel"), ("Bogotá, CO", "Colombia"),
                                 ("Vancouver, CA", "Canada")] {
            XCTAssertFalse(isLocatedIn(place, icp: "United States"), place)
            XCTAssertTrue(isLocatedIn(place, icp: country), place)
        }
        for place in ["San Diego, CA", "Vancouver, WA", "Chicago, IL", "Denver, CO"] {
            XCTAssertTrue(isLocatedIn(place, icp: "United States"), place)
            XCTAssertFalse(isLocatedIn(place, icp: "Canada"), place)
        }
    }

    /// An ICP title that is only a C-level role names that role: a lead with that very title
    /// gets the full role points, not those of "the same function".
    func testAnICPTitleThatIsOnlyACLevelRoleIsMatchedByThatRole() {
        func titlePoints(lead title: String, icp: String) -> Int? {
            var profile = Fixtures.profile()
            profile.linkedin = Fixtures.linkedin(title: title)
            var offer = Fixtures.offer()
            offer.icp.titles = [icp]
            let card = scorer.score(profile: profile, offer: offer, source: .csvImport, now: Fixtures.now)
            return card.fitReasons.first { $0.signal.hasPrefix("title ") }?.points
        }
        XCTAssertEqual(titlePoints(lead: "Chief Revenue Officer", icp: "Chief Revenue Officer"), 25)
        XCTAssertEqual(titlePoints(lead: "CRO", icp: "Chief Revenue Officer"), 25)
        XCTAssertEqual(titlePoints(lead: "Chief Executive Officer & Co-founder", icp: "CEO"), 25)
        XCTAssertEqual(titlePoints(lead: "VP of Sales", icp: "Chief Revenue Officer"), 18, "the same function, not the role")
    }

    func testIndustryMismatchLowersFit() {
        var matching = Fixtures.profile()
        var mismatching = Fixtures.profile()
        mismatching.company?.industry = "Real Estate"
        matching.company?.industry = "Computer Software"
        let offer = Fixtures.offer()
        let good = scorer.score(profile: matching, offer: offer, source: .csvImport, now: Fixtures.now)
        let bad = scorer.score(profile: mismatching, offer: offer, source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(good.fit - bad.fit, 35)
        XCTAssertTrue(bad.fitReasons.contains { $0.points == -10 })
    }

    func testAnyEmployeeCountAVendorSendsIsScoredWithoutOverflow() {
        for count in [Int.max, Int.max / 2 + 1, Int.min, -1, 0] {
            var profile = Fixtures.profile()
            profile.company?.employeeCount = count
            let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
            XCTAssertTrue(card.fitReasons.contains { $0.signal == "\(count) employees outside 50-1000" }, "\(count): \(card.fitReasons)")
        }
        var near = Fixtures.profile()
        near.company?.employeeCount = 1_900
        let card = scorer.score(profile: near, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertTrue(card.fitReasons.contains { $0.signal == "1900 employees near 50-1000" && $0.points == 8 }, "\(card.fitReasons)")
    }

    /// A vendor's size band is scored as a band and named as one: within the ICP's range, partly
    /// in it, near it or outside it; never as a head count at its top.
    func testAnEmployeeBandIsScoredAndNamedAsABand() {
        func reasons(_ band: EmployeeRange) -> [String] {
            var profile = Fixtures.profile()
            profile.company?.employeeCount = nil
            profile.company?.employeeRange = band
            return scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
                .fitReasons.filter { $0.signal.contains("employees") }.map { "\($0.signal): \($0.points)" }
        }
        // The fixture offer's ICP: 50 to 1,000 employees.
        XCTAssertEqual(reasons(EmployeeRange(minimum: 51, maximum: 200)), ["51-200 employees within 50-1000: 20"])
        XCTAssertEqual(reasons(EmployeeRange(minimum: 501, maximum: 1000)), ["501-1000 employees within 50-1000: 20"])
        XCTAssertEqual(reasons(EmployeeRange(minimum: 1001, maximum: 5000)), ["1001-5000 employees near 50-1000: 8"])
        XCTAssertEqual(reasons(EmployeeRange(minimum: 11, maximum: 50)), ["11-50 employees, partly within 50-1000: 8"])
        XCTAssertEqual(reasons(EmployeeRange(minimum: 10001, maximum: nil)), ["10001+ employees outside 50-1000: 0"])
        XCTAssertEqual(reasons(EmployeeRange(minimum: 1, maximum: 10)), ["1-10 employees outside 50-1000: 0"])
    }

    func testNewRoleRaisesTiming() {
        var profile = Fixtures.profile()
        profile.linkedin = Fixtures.linkedin(startedDaysAgo: 30)
        let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(card.timing, 35)
        XCTAssertTrue(card.timingReasons.first?.signal.contains("30 days ago") ?? false)
    }

    func testCompetitorEngagementInOrbitRaisesIntent() {
        let orbit = [OrbitTarget(platform: .x, handle: "outreach", name: "Outreach", classification: .competitor, interactionCount: 5, firstSeen: Fixtures.daysAgo(40), lastSeen: Fixtures.daysAgo(2))]
        let card = scorer.score(profile: Fixtures.profile(orbit: orbit), offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual(card.intent, 10)
    }

    func testAutopilotOnlyEnrollsActiveLeadsAboveMinimums() {
        let account = AccountConfig(accountID: "acct-1", autopilot: AutopilotRule(minimumFit: 40, minimumIntent: 50), updatedAt: Fixtures.now)
        var card = ScoreCard(fit: 60, intent: 75, timing: 10, composite: 50, buyerState: .active, fitReasons: [], intentReasons: [], timingReasons: [], stateReason: "", scorer: "t", scoredAt: Fixtures.now)
        XCTAssertTrue(AutopilotCheck.evaluate(account: account, card: card).isEligible)
        XCTAssertNotNil(AutopilotCheck.enrollment(account: account, card: card, leadID: "lead-1", runID: "run-1", offerID: "offer-1", at: Fixtures.now))
        card.buyerState = .monitor
        XCTAssertFalse(AutopilotCheck.evaluate(account: account, card: card).isEligible)
        card.buyerState = .active
        card.intent = 40
        XCTAssertFalse(AutopilotCheck.evaluate(account: account, card: card).isEligible)
        var paused = account
        paused.billingState = .paused
        card.intent = 90
        XCTAssertFalse(AutopilotCheck.evaluate(account: paused, card: card).isEligible)
        XCTAssertFalse(AutopilotCheck.evaluate(account: AccountConfig(accountID: "a", updatedAt: Fixtures.now), card: card).isEligible)
    }

    /// The verdict without reasons is evaluate's verdict, and enrollment follows it, for every
    /// combination of rule, billing, buyer state and scores around the minimums.
    func testAutopilotEligibilityWithoutReasonsAgreesWithEvaluate() {
        let rules: [AutopilotRule?] = [nil, AutopilotRule(isEnabled: false), AutopilotRule(minimumFit: 40, minimumIntent: 50),
                                       AutopilotRule(minimumFit: 0, minimumIntent: 0, requiredBuyerState: .monitor)]
        var eligible = 0
        for rule in rules {
            for billing in BillingState.allCases {
                var account = AccountConfig(accountID: "acct-1", autopilot: rule, updatedAt: Fixtures.now)
                account.billingState = billing
                for state in BuyerState.allCases {
                    for (fit, intent) in [(39, 50), (40, 49), (40, 50), (90, 90), (0, 0)] {
                        let card = ScoreCard(fit: fit, intent: intent, timing: 10, composite: 50, buyerState: state, fitReasons: [], intentReasons: [],
                                             timingReasons: [], stateReason: "", scorer: "t", scoredAt: Fixtures.now)
                        let decision = AutopilotCheck.evaluate(account: account, card: card)
                        XCTAssertEqual(AutopilotCheck.isEligible(account: account, card: card), decision.isEligible, "\(String(describing: rule)) \(billing) \(state) \(fit)/\(intent)")
                        let enrollment = AutopilotCheck.enrollment(account: account, card: card, leadID: "lead-1", runID: "run-1", offerID: "offer-1", at: Fixtures.now)
                        XCTAssertEqual(enrollment?.reasons, decision.isEligible ? decision.reasons : nil)
                        if decision.isEligible { eligible += 1 }
                    }
                }
            }
        }
        XCTAssertEqual(eligible, 2, "active at 40/50 and 90/90 under the default rule; none under the open rule for monitor (active only)")
    }
}

