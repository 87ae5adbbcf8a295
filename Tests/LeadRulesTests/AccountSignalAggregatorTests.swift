import Foundation
import LeadModel
@testable import LeadRules
import XCTest

/// The running figures a company keeps as its leads come, change and leave, against the same
/// leads recorded afresh.
final class AccountSignalAggregatorTests: XCTestCase {
    private let kinds: [BuyingSignal.Kind] = [.recommendationRequest, .switchingIntent, .competitorMention, .painPoint, .hiring, .competitorEngagement]

    private func randomSignals(_ random: inout SeededRandom, now: Date) -> [BuyingSignal] {
        (0..<Int.random(in: 0...3, using: &random)).map { _ in
            // Now and then a day ahead of now: the figures are then computed from every signal.
            let daysAgo = Int.random(in: 0..<40, using: &random) == 0 ? -1 : Double.random(in: 0...200, using: &random)
            return BuyingSignal(kind: kinds.randomElement(using: &random)!, detail: "d\(Int.random(in: 0..<4, using: &random))",
                                date: now.addingTimeInterval(-daysAgo * 86_400), count: Int.random(in: 1...6, using: &random))
        }
    }

    private func assertSame(_ live: [AccountSignal], _ fresh: [AccountSignal], step: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(live.map(\.companyKey), fresh.map(\.companyKey), "step \(step)", file: file, line: line)
        for (lhs, rhs) in zip(live, fresh) {
            XCTAssertEqual(lhs.heatScore, rhs.heatScore, "step \(step), \(lhs.companyKey)", file: file, line: line)
            XCTAssertEqual(lhs.leadCount, rhs.leadCount, "step \(step), \(lhs.companyKey)", file: file, line: line)
            XCTAssertEqual(lhs.signals.map { "\($0.leadID)|\($0.kind)|\($0.detail)|\($0.date.timeIntervalSince1970)" },
                           rhs.signals.map { "\($0.leadID)|\($0.kind)|\($0.detail)|\($0.date.timeIntervalSince1970)" },
                           "step \(step), \(lhs.companyKey): the strongest listed", file: file, line: line)
            for (a, b) in zip(lhs.signals, rhs.signals) {
                XCTAssertEqual(a.weight, b.weight, accuracy: 1e-9 * max(1, b.weight), "step \(step)", file: file, line: line)
            }
        }
    }

    func testLeadsThatLeaveComeBackOrChangeGiveTheHeatOfTheLeadsLeftRecordedAfresh() {
        var random = SeededRandom(seed: 13)
        let now = Fixtures.now
        var live = AccountSignalAggregator(accountID: "acct-1")
        var current: [LeadID: (key: String, person: String?, signals: [BuyingSignal])] = [:]
        for step in 0..<4_000 {
            let lead = LeadID("l\(Int.random(in: 0..<120, using: &random))")
            if Int.random(in: 0..<3, using: &random) == 0 {
                live.remove(leadID: lead)
                current[lead] = nil
            } else {
                let key = "c\(Int.random(in: 0..<3, using: &random))"
                let signals = randomSignals(&random, now: now)
                // One person in three has a second lead (another offer's, say); most have one.
                let person = Int.random(in: 0..<3, using: &random) == 0 ? "p\(Int.random(in: 0..<20, using: &random))" : nil
                live.add(leadID: lead, person: person, companyKey: key, companyName: key, signals: signals)
                current[lead] = (key, person, signals)
            }
            guard step % 25 == 0 else { continue }
            var fresh = AccountSignalAggregator(accountID: "acct-1")
            for (lead, entry) in current.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                fresh.add(leadID: lead, person: entry.person, companyKey: entry.key, companyName: entry.key, signals: entry.signals)
            }
            assertSame(live.signals(now: now), fresh.signals(now: now), step: step)
            // A company with more signals than are listed: the strongest must come back after a listed lead leaves.
            XCTAssertTrue(live.signals(now: now).allSatisfy { $0.signals.count <= AccountSignalAggregator.maxListedSignals })
        }
        XCTAssertFalse(current.isEmpty, "leads left at the end")
    }

    func testAListedLeadLeavingAFullListBringsTheNextStrongestBack() throws {
        let now = Fixtures.now
        var aggregator = AccountSignalAggregator(accountID: "acct-1")
        let listed = AccountSignalAggregator.maxListedSignals
        for index in 0..<(listed + 5) {
            // l0 is the strongest (newest), l24 the weakest.
            let signal = BuyingSignal(kind: .painPoint, detail: "pain", date: now.addingTimeInterval(-Double(index) * 86_400))
            aggregator.add(leadID: LeadID("l\(index)"), companyKey: "c", companyName: "C", signals: [signal])
        }
        aggregator.remove(leadID: "l0")
        let signal = try XCTUnwrap(aggregator.signals(now: now).first)
        XCTAssertEqual(signal.leadCount, listed + 4)
        XCTAssertEqual(signal.signals.map(\.leadID.rawValue), (1...listed).map { "l\($0)" },
                       "the strongest left, the 21st strongest listed again")
    }

    /// One person's leads (the lead and its pool match in another offer of the account) count as
    /// one person: a signal both carry counts once, one only a lead carries (another offer's
    /// competitor) counts, and the company needs a second person for heat.
    func testAPersonsLeadsCountOnceWithEachOfTheirSignalsOnce() throws {
        let now = Fixtures.now
        let asking = BuyingSignal(kind: .recommendationRequest, detail: "asked", date: now.addingTimeInterval(-86_400))
        let mention = BuyingSignal(kind: .competitorMention, detail: "Outreach", date: now.addingTimeInterval(-2 * 86_400))
        let hiring = BuyingSignal(kind: .hiring, detail: "hiring", date: now.addingTimeInterval(-3 * 86_400))
        var aggregator = AccountSignalAggregator(accountID: "acct-1")
        aggregator.add(leadID: "jane", person: "linkedin:jane", companyKey: "c", companyName: "C", signals: [asking])
        aggregator.add(leadID: "jane@offer-2", person: "linkedin:jane", companyKey: "c", companyName: "C", signals: [asking, mention])
        XCTAssertEqual(aggregator.leadCount(companyKey: "c"), 1, "one person")
        XCTAssertEqual(aggregator.signals(now: now), [], "one person makes no heat")

        aggregator.add(leadID: "omar", person: "linkedin:omar", companyKey: "c", companyName: "C", signals: [hiring])
        let signal = try XCTUnwrap(aggregator.signals(now: now).first)
        XCTAssertEqual(signal.leadCount, 2)
        var expected = AccountSignalAggregator(accountID: "acct-1")
        expected.add(leadID: "jane", companyKey: "c", companyName: "C", signals: [asking, mention])
        expected.add(leadID: "omar", companyKey: "c", companyName: "C", signals: [hiring])
        let distinct = try XCTUnwrap(expected.signals(now: now).first)
        XCTAssertEqual(signal.heatScore, distinct.heatScore, "Jane's request counted once, her mention counted")
        XCTAssertEqual(signal.signals.map(\.kind), distinct.signals.map(\.kind))
        XCTAssertEqual(signal.signals.map { "\($0.leadID) \($0.kind)" }.sorted(),
                       ["jane recommendation-request", "jane@offer-2 competitor-mention", "omar hiring"],
                       "a signal is listed under the first of the person's leads (by id) that carries it")

        // Her first lead leaving leaves her other lead, with both her signals.
        aggregator.remove(leadID: "jane")
        XCTAssertEqual(aggregator.signals(now: now).first?.heatScore, distinct.heatScore)
        XCTAssertEqual(aggregator.signals(now: now).first?.signals.map(\.leadID.rawValue).sorted(), ["jane@offer-2", "jane@offer-2", "omar"])
        aggregator.remove(leadID: "jane@offer-2")
        XCTAssertEqual(aggregator.signals(now: now), [])
        XCTAssertEqual(aggregator.leadCount(companyKey: "c"), 1)
    }

    /// A relationship seen when each of a person's leads was enriched (engagement with a
    /// competitor, an orbit cluster) carries that enrichment's date and count: the person's two
    /// leads enriched weeks apart see it twice. It counts once, as last seen.
    func testARelationshipTwoOfAPersonsLeadsSawCountsOnceAsLastSeen() throws {
        let now = Fixtures.now
        let earlier = BuyingSignal(kind: .competitorEngagement, detail: "Outreach", date: now.addingTimeInterval(-20 * 86_400), count: 2)
        let later = BuyingSignal(kind: .competitorEngagement, detail: "Outreach", date: now.addingTimeInterval(-2 * 86_400), count: 4)
        let asking = BuyingSignal(kind: .recommendationRequest, detail: "asked", date: now.addingTimeInterval(-86_400), postID: "p1")
        let hiring = BuyingSignal(kind: .hiring, detail: "hiring", date: now.addingTimeInterval(-3 * 86_400), postID: "p2")
        var aggregator = AccountSignalAggregator(accountID: "acct-1")
        aggregator.add(leadID: "jane@offer-2", person: "linkedin:jane", companyKey: "c", companyName: "C", signals: [later, asking])
        aggregator.add(leadID: "jane", person: "linkedin:jane", companyKey: "c", companyName: "C", signals: [earlier, asking])
        aggregator.add(leadID: "omar", person: "linkedin:omar", companyKey: "c", companyName: "C", signals: [hiring])
        var expected = AccountSignalAggregator(accountID: "acct-1")
        expected.add(leadID: "jane", companyKey: "c", companyName: "C", signals: [later, asking])
        expected.add(leadID: "omar", companyKey: "c", companyName: "C", signals: [hiring])
        let signal = try XCTUnwrap(aggregator.signals(now: now).first)
        XCTAssertEqual(signal.heatScore, try XCTUnwrap(expected.signals(now: now).first).heatScore)
        XCTAssertEqual(signal.signals.map { "\($0.leadID) \($0.kind) \($0.date == later.date)" }.sorted(),
                       ["jane recommendation-request false", "jane@offer-2 competitor-engagement true", "omar hiring false"],
                       "the engagement as last seen, under the lead that saw it")
    }

    /// The scoring stage hands the signals the rules detected to the lead's contribution, so a
    /// lead's activity is read for signals once: over simulated leads of every kind (posts and
    /// orbit on both platforms, competitor mentions, clusters), the contribution is the one it
    /// would have detected itself. A lead with a post past the horizon, or a post or engagement
    /// dated ahead, is not read whole by the rules: it hands no signals, and the contribution
    /// detects its own.
    func testTheScorersActivitySignalsGiveTheContributionItWouldDetectItself() async throws {
        let now = Fixtures.now
        let offer = Fixtures.offer()
        let scorer = RuleBasedScorer()
        var handed = 0
        var withSignals = 0
        for index in 0..<400 {
            var profile = try await SimulatedProfiles.profile(index, offer: offer, now: now)
            // Now and then something the rules leave unread: a post past the horizon or dated
            // ahead, engagement with a competitor dated ahead (beside earlier engagement with it).
            switch index % 10 {
            case 6:
                profile.activity?.orbit.append(OrbitTarget(platform: .linkedin, handle: "outreach", name: "Outreach", classification: .competitor,
                                                           interactionCount: 2, firstSeen: Fixtures.daysAgo(20), lastSeen: Fixtures.daysAgo(10)))
                profile.activity?.orbit.append(OrbitTarget(platform: .x, handle: "outreach_io", name: "Outreach", classification: .competitor,
                                                           interactionCount: 1, firstSeen: Fixtures.daysAgo(-3), lastSeen: Fixtures.daysAgo(-3)))
            case 7: profile.activity?.posts.append(Fixtures.post("Can anyone recommend a tool for outbound?", daysAgo: 200, id: "old"))
            case 8: profile.activity?.posts.append(Fixtures.post("Can anyone recommend a tool for outbound?", daysAgo: -3, id: "ahead"))
            default: break
            }
            let evaluation = await scorer.evaluate(profile: profile, offer: offer, source: .csvImport, now: now)
            if (6...8).contains(index % 10) {
                XCTAssertNil(evaluation.activitySignals, "lead \(index): the rules did not read the whole activity")
            }
            func contribution(_ evaluation: Evaluation?) -> AccountSignalContribution {
                AccountSignalAggregator.contribution(of: profile, leadID: profile.leadID, runID: "run-1", accountID: "acct-1", offer: offer,
                                                     at: now, evidence: evaluation?.evidence, activitySignals: evaluation?.activitySignals)
            }
            let own = contribution(nil)
            XCTAssertEqual(contribution(evaluation), own, "lead \(index)")
            if evaluation.activitySignals != nil { handed += 1 }
            if !own.signals.isEmpty || own.clusterSignals != nil { withSignals += 1 }
        }
        XCTAssertEqual(handed, 280, "every lead read whole hands its signals over")
        XCTAssertGreaterThan(withSignals, 100, "the leads have signals to compare")
    }

    /// A company name made only of words that name no company is generic however they are
    /// combined: "Freelance Consultant", "Self-Employed Consultant", "Independent Contractor",
    /// "Stealth Mode" and "Confidential" give no company key. Before, only the exact names
    /// listed were generic, so each of these became a `name:` company and an account's
    /// freelancers heated one made-up company together. A name with one word that names a
    /// company still keys, generic words and all.
    func testACompanyNameOfGenericWordsOnlyIsGeneric() {
        for name in ["Freelance Consultant", "Self-Employed Consultant", "Independent Contractor", "Stealth Mode", "Confidential",
                     "Self-employed", "Freelance", "Stealth Startup", "N/A", "Consulting LLC", "Independent Consultant & Contractor"] {
            XCTAssertNil(AccountSignalAggregator.normalizedCompanyName(name), name)
            XCTAssertNil(AccountSignalAggregator.companyKey(for: Fixtures.profile(company: name)), name)
        }
        for (name, key) in [("Consultant Labs Inc", "name:consultant labs"), ("Acme Consulting", "name:acme consulting"),
                            ("Independent Software Ltd", "name:independent software"), ("Mode", "name:mode"),
                            ("Stealth Communications", "name:stealth communications")] {
            XCTAssertEqual(AccountSignalAggregator.companyKey(for: Fixtures.profile(company: name)), key, name)
        }
    }

    /// A lead's contribution carries its strongest signals only (``AccountSignalAggregator/maxSignalsPerLead``),
    /// weighed as the heat weighs them at the scoring time, in the order found: a company's state
    /// keeps every contribution's signals, so 50 leads of 150 signals each (a prolific poster's
    /// 100 posts) passed MAX_RECORD_BYTES, and the company's heat then lived in memory only,
    /// different after a restart. The 21st signal of one lead moves a heat already near its
    /// ceiling by little.
    func testALeadContributesItsStrongestSignalsOnly() {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        var random = SeededRandom(seed: 7)
        let many = (0..<150).map { index in
            BuyingSignal(kind: kinds.randomElement(using: &random)!, detail: "post \(index)",
                         date: now.addingTimeInterval(-Double(Int.random(in: 0..<120, using: &random)) * 86_400))
        }
        let kept = AccountSignalAggregator.strongest(many, at: now)
        XCTAssertEqual(kept.count, AccountSignalAggregator.maxSignalsPerLead)
        func weight(_ signal: BuyingSignal) -> Double {
            AccountSignalAggregator.baseWeight(signal) * pow(0.5, now.timeIntervalSince(signal.date) / 86_400 / 30)
        }
        let weakestKept = kept.map(weight).min()!
        let dropped = many.filter { !kept.contains($0) }
        XCTAssertTrue(dropped.allSatisfy { weight($0) <= weakestKept }, "the strongest are kept")
        XCTAssertEqual(kept, many.filter { kept.contains($0) }, "in the order found")
        let few = Array(many.prefix(5))
        XCTAssertEqual(AccountSignalAggregator.strongest(few, at: now), few, "a lead with few signals keeps them all")
    }
}
