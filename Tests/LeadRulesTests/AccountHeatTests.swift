import Foundation
import LeadModel
import LeadRules
import XCTest

/// The account heat aggregator's state, without a broker: replays, moves, restore and the window.
final class AccountHeatTests: XCTestCase {
    private let asking = [Fixtures.post("Can anyone recommend a tool for manual prospecting? Tired of Outreach.", daysAgo: 2)]

    private func contribution(_ lead: LeadID, run: RunID = "run-1", company: String = "Acme SaaS",
                              at date: Date = Fixtures.now) -> AccountSignalContribution {
        AccountSignalAggregator.contribution(
            of: Fixtures.profile(company: company, posts: asking), leadID: lead, runID: run, accountID: "acct-1",
            offer: Fixtures.offer(), at: date)
    }

    func testTwoLeadsMakeHeatAndTheSameHeatAsTheInMemoryAggregator() throws {
        var heat = AccountHeat(accountID: "acct-1")
        let first = heat.apply(contribution("l1"))
        XCTAssertEqual(first.signals, [], "one lead is not enough")
        XCTAssertEqual(first.states.keys.sorted(), ["name:acme saas"], "the first lead is still written to the changelog")
        let second = heat.apply(contribution("l2"))
        let signal = try XCTUnwrap(second.signals.first)
        XCTAssertEqual(signal.leadCount, 2)
        XCTAssertEqual(signal.trend, .stable)

        var memory = AccountSignalAggregator(accountID: "acct-1", offer: Fixtures.offer())
        memory.add(leadID: "l1", profile: Fixtures.profile(posts: asking))
        memory.add(leadID: "l2", profile: Fixtures.profile(posts: asking))
        XCTAssertEqual(memory.signals(now: Fixtures.now).first?.heatScore, signal.heatScore)
        XCTAssertEqual(second.states["name:acme saas"]??.heatScore, signal.heatScore)
    }

    func testAReplayedContributionCountsOnceAndPublishesNothing() {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1"))
        _ = heat.apply(contribution("l2"))
        let replay = heat.apply(contribution("l2"))
        XCTAssertTrue(replay.isEmpty, "same lead and run: already counted")
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), 2)

        // A late replay of an earlier run does not undo the later run's contribution.
        _ = heat.apply(contribution("l1", run: "run-2", company: "Globex", at: Fixtures.now.addingTimeInterval(60)))
        XCTAssertEqual(heat.leadCount(companyKey: "name:globex"), 1)
        let late = heat.apply(contribution("l1", run: "run-0", at: Fixtures.now.addingTimeInterval(-60)))
        XCTAssertTrue(late.isEmpty)
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), 1)
    }

    func testAReplayAfterARestoreFromTheChangelogCountsOnce() throws {
        var heat = AccountHeat(accountID: "acct-1")
        var changelog: [String: AccountHeatState] = [:]
        for lead: LeadID in ["l1", "l2", "l3"] {
            for (key, state) in heat.apply(contribution(lead)).states { changelog[key] = state }
        }
        let published = try XCTUnwrap(changelog["name:acme saas"]?.published)

        // Through the codec, as the changelog stores it.
        let codec = MessageCodec()
        let stored = try changelog.values.map { try codec.decode(AccountHeatState.self, from: codec.encode($0)) }
        var restored = AccountHeat(accountID: "acct-1", restoring: stored)
        XCTAssertEqual(restored.leadCount(companyKey: "name:acme saas"), 3)
        for lead: LeadID in ["l2", "l3"] {
            XCTAssertTrue(restored.apply(contribution(lead)).isEmpty, "\(lead) was counted before the crash")
        }
        let fourth = restored.apply(contribution("l4"))
        XCTAssertEqual(fourth.signals.first?.leadCount, 4)
        XCTAssertNotEqual(fourth.signals.first?.heatScore, nil)
        XCTAssertGreaterThanOrEqual(fourth.signals.first?.heatScore ?? 0, published.heatScore)
    }

    /// A person found for one offer and matched from the lead pool into another offer of the same
    /// account is one person at their company, not two: alone, they make no heat; with a
    /// colleague, the heat of two people. A restore from the changelog knows them as one.
    func testALeadAndItsPoolMatchInTheSameAccountCountAsOnePerson() throws {
        var jane = Fixtures.profile(posts: asking)
        jane.linkedinURL = "https://www.linkedin.com/in/Jane-Doe"
        var match = jane
        match.linkedinURL = "https://linkedin.com/in/jane-doe/"
        var omar = Fixtures.profile(posts: asking)
        omar.linkedinURL = "https://www.linkedin.com/in/omar"
        func contribution(_ profile: EnrichedProfile, _ lead: LeadID, seconds: TimeInterval) -> AccountSignalContribution {
            AccountSignalAggregator.contribution(of: profile, leadID: lead, runID: "run-1", accountID: "acct-1", offer: Fixtures.offer(),
                                                 at: Fixtures.now.addingTimeInterval(seconds))
        }
        let found = contribution(jane, "jane", seconds: 0)
        let matched = contribution(match, LeadPoolMatcher.matchedLeadID("jane", offerID: "offer-2"), seconds: 60)
        XCTAssertEqual(found.personKey, "linkedin:jane-doe")
        XCTAssertEqual(matched.personKey, found.personKey, "the same profile URL, written another way")

        var heat = AccountHeat(accountID: "acct-1")
        var changelog: [String: AccountHeatState] = [:]
        for made in [found, matched] {
            let change = heat.apply(made)
            XCTAssertEqual(change.signals, [], "one person makes no heat")
            for (key, state) in change.states { changelog[key] = state }
        }
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), 1)
        let colleague = heat.apply(contribution(omar, "omar", seconds: 120))
        let signal = try XCTUnwrap(colleague.signals.first)
        XCTAssertEqual(signal.leadCount, 2)
        for (key, state) in colleague.states { changelog[key] = state }

        var twoPeople = AccountHeat(accountID: "acct-1")
        _ = twoPeople.apply(found)
        let expected = try XCTUnwrap(twoPeople.apply(contribution(omar, "omar", seconds: 120)).signals.first)
        XCTAssertEqual(signal.heatScore, expected.heatScore, "the heat of two people")

        let codec = MessageCodec()
        let stored = try changelog.values.map { try codec.decode(AccountHeatState.self, from: codec.encode($0)) }
        XCTAssertEqual(stored.flatMap(\.leads).compactMap(\.personKey).sorted(), ["linkedin:jane-doe", "linkedin:jane-doe", "linkedin:omar"])
        let restored = AccountHeat(accountID: "acct-1", restoring: stored)
        XCTAssertEqual(restored.leadCount(companyKey: "name:acme saas"), 2)
        let decoded = try codec.decode(AccountSignalContributionBatch.self, from: codec.encode(
            AccountSignalContributionBatch(accountID: "acct-1", contributions: [matched])))
        XCTAssertEqual(decoded.contributions, [matched])
    }

    func testALeadThatMovesLeavesItsCompanyAndAnEmptiedCompanyIsATombstoneOnceForgotten() {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1"))
        _ = heat.apply(contribution("l2"))
        let moved = heat.apply(contribution("l2", run: "run-2", company: "Globex", at: Fixtures.now.addingTimeInterval(1)))
        XCTAssertEqual(Set(moved.states.keys), ["name:acme saas", "name:globex"])
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), 1)
        XCTAssertEqual(heat.leadCount(companyKey: "name:globex"), 1)

        // A lead found at two companies after a partial write counts at its later contribution.
        let states = heat.companies.values.map { state -> AccountHeatState in
            guard state.companyKey == "name:acme saas" else { return state }
            var stale = state
            stale.leads.append(HeatContribution(leadID: "l2", runID: "run-1", scoredAt: Fixtures.now, signals: []))
            return stale
        }
        let restored = AccountHeat(accountID: "acct-1", restoring: states)
        XCTAssertEqual(restored.leadCount(companyKey: "name:acme saas"), 1)
        XCTAssertEqual(restored.leadCount(companyKey: "name:globex"), 1)
    }

    func testTheWindowBoundsWhatIsKeptAndIgnoresContributionsOlderThanIt() {
        var heat = AccountHeat(accountID: "acct-1")
        let start = Fixtures.now
        _ = heat.apply(contribution("l1", at: start))
        _ = heat.apply(contribution("l2", at: start))
        XCTAssertEqual(heat.companies["name:acme saas"]?.counted.count, 2)

        // A contribution more than the window later drops the old leads and their counted entries.
        let later = start.addingTimeInterval(AccountHeat.window + 86_400)
        let change = heat.apply(contribution("l3", company: "Globex", at: later))
        XCTAssertEqual(change.states["name:acme saas"], .some(nil), "nothing left to remember: a tombstone")
        XCTAssertNil(heat.companies["name:acme saas"])
        XCTAssertEqual(heat.companies["name:globex"]?.counted.map(\.leadID), ["l3"])

        // A replay of a contribution that old cannot count again.
        XCTAssertTrue(heat.apply(contribution("l1", at: start)).isEmpty)
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), 0)
    }

    func testABigCompanyCountsItsNewestLeadsAndItsChangelogRecordStaysBounded() throws {
        var heat = AccountHeat(accountID: "acct-1")
        let bound = AccountHeat.maxLeadsPerCompany
        var last: AccountHeat.Change?
        for index in 0..<(bound + 100) {
            last = heat.apply(contribution(LeadID("l\(index)"), at: Fixtures.now.addingTimeInterval(Double(index))))
        }
        let state = try XCTUnwrap(heat.companies["name:acme saas"])
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), bound)
        let newest = Set((100..<(bound + 100)).map { LeadID("l\($0)") })
        XCTAssertTrue(Set(state.leads.map(\.leadID)) == newest, "the newest: \(state.leads.count) kept")
        XCTAssertLessThanOrEqual(state.counted.count, bound)
        XCTAssertEqual(last?.signals.first?.leadCount ?? state.published?.leadCount, bound)
        XCTAssertEqual(state.published?.category, .hot)
        let bytes = try MessageCodec().encode(state).count
        XCTAssertLessThan(bytes, 1_048_576 / 2, "a company's record within half the default MAX_RECORD_BYTES")

        // A replay of a contribution no longer counted is older than every lead counted: it
        // changes nothing; a new lead takes the oldest one's place.
        XCTAssertTrue(heat.apply(contribution("l3", at: Fixtures.now.addingTimeInterval(3))).isEmpty)
        _ = heat.apply(contribution("new", at: Fixtures.now.addingTimeInterval(Double(bound + 100))))
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), bound)
        XCTAssertEqual(heat.companies["name:acme saas"]?.leads.contains { $0.leadID == "l100" }, false)

        // Restored from the changelog, the same.
        let restored = AccountHeat(accountID: "acct-1", restoring: Array(heat.companies.values))
        XCTAssertEqual(restored.leadCount(companyKey: "name:acme saas"), bound)
    }

    func testTrendComparesWithAnEarlierDay() throws {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1"))
        _ = heat.apply(contribution("l2"))
        let nextDay = Fixtures.now.addingTimeInterval(86_400)
        let signal = try XCTUnwrap(heat.apply(contribution("l3", at: nextDay)).signals.first)
        XCTAssertEqual(signal.trend, .rising, "a third lead the next day adds heat")
        XCTAssertNotNil(heat.companies["name:acme saas"]?.earlierDayHeat)
        XCTAssertLessThan(heat.companies["name:acme saas"]?.earlierDayHeat ?? 100, signal.heatScore)
    }

    /// Heat cools as days pass without contributions: a refresh on a later UTC day publishes the
    /// heat at that day, with its trend against the day before; within a day, or with nothing
    /// changed, it publishes nothing. (Heat was computed only when a contribution came, so a
    /// company whose leads stopped coming stayed hot and rising for good.)
    func testHeatCoolsDayByDayWithoutContributions() throws {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1"))
        let first = try XCTUnwrap(heat.apply(contribution("l2")).signals.first)
        XCTAssertTrue(heat.refresh(at: Fixtures.now.addingTimeInterval(3_600)).isEmpty, "the same day: nothing")

        let month = heat.refresh(at: Fixtures.now.addingTimeInterval(30 * 86_400))
        let cooler = try XCTUnwrap(month.signals.first)
        XCTAssertLessThan(cooler.heatScore, first.heatScore)
        XCTAssertEqual(cooler.trend, .cooling)
        XCTAssertEqual(month.states["name:acme saas"]??.heatScore, cooler.heatScore, "its state is written too")

        let later = try XCTUnwrap(heat.refresh(at: Fixtures.now.addingTimeInterval(120 * 86_400)).signals.first)
        XCTAssertEqual(later.category, .cool)
        XCTAssertLessThan(later.heatScore, cooler.heatScore)
        // A day later its heat moved less than 5: stable against that day.
        let nextDay = heat.refresh(at: Fixtures.now.addingTimeInterval(121 * 86_400)).signals
        XCTAssertTrue(nextDay.allSatisfy { $0.heatScore <= later.heatScore && $0.trend == .stable }, "\(nextDay)")
    }

    /// Heat never goes back in time: after a backlog of several days (an aggregator down, then
    /// reading contributions scored days ago after its day's refresh), each contribution counts,
    /// but the heat is computed at the latest time the account's heat was (the refresh's day,
    /// or a later contribution's), also after a restore from the changelog. Before, each
    /// replayed contribution computed its company's heat at its own scoring day: the published
    /// heat was that of days ago (warmer), its day went back, and it stayed so until the next
    /// day's refresh.
    func testABacklogOfEarlierDaysNeverTakesTheHeatBackInTime() throws {
        let day = 86_400.0
        let today = Fixtures.now.addingTimeInterval(3 * day)
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1"))
        _ = heat.apply(contribution("l2"))
        let refreshed = heat.refresh(at: today)
        XCTAssertEqual(heat.companies["name:acme saas"]?.heatDay, AccountHeat.day(of: today))
        let restored = AccountHeat(accountID: "acct-1", restoring: refreshed.states.values.compactMap { $0 })

        // The same contributions, each heat computed at today.
        var reference = AccountHeat(accountID: "acct-1")
        for (lead, days) in [("l1", 0.0), ("l2", 0), ("l3", 1), ("l4", 2)] {
            _ = reference.apply(contribution(LeadID(lead), at: Fixtures.now.addingTimeInterval(days * day)))
        }
        _ = reference.refresh(at: today)
        let expected = try XCTUnwrap(reference.companies["name:acme saas"]?.heatScore)

        for var owner in [heat, restored] {
            var last: AccountSignal?
            for (lead, days) in [("l3", 1.0), ("l4", 2)] {
                let change = owner.apply(contribution(LeadID(lead), at: Fixtures.now.addingTimeInterval(days * day)))
                for signal in change.signals {
                    XCTAssertGreaterThanOrEqual(signal.computedAt, today, "\(lead): heat as of \(signal.computedAt)")
                    last = signal
                }
                let state = try XCTUnwrap(owner.companies["name:acme saas"])
                XCTAssertEqual(state.heatDay, AccountHeat.day(of: today), "\(lead): the heat's day went back")
                XCTAssertEqual(state.updatedAt, Fixtures.now.addingTimeInterval(days * day), "the contributions' time")
            }
            XCTAssertEqual(last?.leadCount, 4)
            XCTAssertEqual(last?.heatScore, expected, "the heat of the four leads today")
            XCTAssertTrue(owner.refresh(at: today.addingTimeInterval(60)).isEmpty, "today's heat, nothing to refresh today")
        }
    }

    /// Contributions arriving out of scoring order (two scoring instances, a replay): a full
    /// company still counts its newest leads, its lists stay oldest first, a replay of a lead it
    /// counts or dropped changes nothing, its heat is that of its leads recorded afresh, and a
    /// restore from a changelog written in arrival order (as before the lists were kept in order)
    /// goes on the same.
    func testAFullCompanyFedOutOfOrderCountsItsNewestLeadsAndTheHeatOfThem() throws {
        let bound = AccountHeat.maxLeadsPerCompany
        var random = SeededRandom(seed: 7)
        var heat = AccountHeat(accountID: "acct-1")
        var applied: [LeadID: AccountSignalContribution] = [:]
        for index in 0..<(3 * bound) {
            // Scored about a second apart, arriving up to a minute out of order.
            let at = Fixtures.now.addingTimeInterval(Double(index) + Double.random(in: -60...60, using: &random))
            let signals = (0..<Int.random(in: 0...2, using: &random)).map { _ in
                BuyingSignal(kind: .painPoint, detail: "pain \(Int.random(in: 0..<5, using: &random))",
                             date: at.addingTimeInterval(-Double.random(in: 0...90, using: &random) * 86_400))
            }
            let contribution = AccountSignalContribution(
                accountID: "acct-1", leadID: LeadID("l\(index)"), runID: "run-1", offerID: "offer-1", companyKey: "name:acme",
                companyName: "Acme", signals: signals, scoredAt: at)
            if !heat.apply(contribution).isEmpty { applied[contribution.leadID] = contribution }
        }
        let state = try XCTUnwrap(heat.companies["name:acme"])
        func order(_ a: (Date, LeadID), _ b: (Date, LeadID)) -> Bool { (a.0, a.1.rawValue) < (b.0, b.1.rawValue) }
        XCTAssertEqual(state.leads.count, bound)
        XCTAssertEqual(state.leads.map(\.leadID), state.leads.sorted { order(($0.scoredAt, $0.leadID), ($1.scoredAt, $1.leadID)) }.map(\.leadID),
                       "leads oldest first")
        XCTAssertEqual(state.counted.map(\.scoredAt), state.counted.map(\.scoredAt).sorted(), "counted entries oldest first")
        let kept = Set(state.leads.map(\.leadID))
        let dropped = applied.values.filter { !kept.contains($0.leadID) }
        let oldestKept = try XCTUnwrap(state.leads.first)
        XCTAssertFalse(dropped.isEmpty)
        for contribution in dropped {
            XCTAssertTrue(order((contribution.scoredAt, contribution.leadID), (oldestKept.scoredAt, oldestKept.leadID)),
                          "\(contribution.leadID) dropped though newer than a lead kept")
        }

        var fresh = AccountSignalAggregator(accountID: "acct-1")
        for entry in state.leads { fresh.add(leadID: entry.leadID, companyKey: "name:acme", companyName: "Acme", signals: entry.allSignals) }
        let now = state.leads.map(\.scoredAt).max()!
        XCTAssertEqual(state.heatScore, fresh.signals(now: now).first?.heatScore, "the heat of the leads counted")

        // A changelog record written in arrival order restores to the same lists.
        var shuffled = state
        shuffled.leads.shuffle(using: &random)
        shuffled.counted.shuffle(using: &random)
        var restored = AccountHeat(accountID: "acct-1", restoring: [shuffled])
        XCTAssertEqual(restored.companies["name:acme"]?.leads.map(\.leadID), state.leads.map(\.leadID))
        XCTAssertEqual(restored.companies["name:acme"]?.counted.map(\.scoredAt), state.counted.map(\.scoredAt))
        for contribution in [applied[oldestKept.leadID]!, dropped.randomElement(using: &random)!] {
            XCTAssertTrue(heat.apply(contribution).isEmpty, "a replay of \(contribution.leadID)")
            XCTAssertTrue(restored.apply(contribution).isEmpty, "a replay of \(contribution.leadID) after a restore")
        }
        let newest = AccountSignalContribution(
            accountID: "acct-1", leadID: "new", runID: "run-1", offerID: "offer-1", companyKey: "name:acme", companyName: "Acme",
            signals: [], scoredAt: now.addingTimeInterval(1))
        XCTAssertEqual(heat.apply(newest), restored.apply(newest))
        XCTAssertEqual(heat.companies["name:acme"]?.leads.first?.leadID, state.leads[1].leadID, "the oldest made room")
    }

    // MARK: - One company under two keys

    /// A contribution at `key` named `name`, at `seconds` after the fixtures' now.
    private func contribution(_ lead: LeadID, key: String, name: String, seconds: TimeInterval = 0) -> AccountSignalContribution {
        var made = contribution(lead, at: Fixtures.now.addingTimeInterval(seconds))
        made.companyKey = key
        made.companyName = name
        return made
    }

    func testAColleagueKnownOnlyByNameCountsAtTheCompanyLinkedInIdentifies() throws {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1", key: "li:1001", name: "Acme, Inc."))
        // An X-only lead, or one whose provider gave no company id: the same company by name.
        let second = heat.apply(contribution("l2", key: "name:acme", name: "ACME", seconds: 1))
        XCTAssertEqual(heat.leadCount(companyKey: "li:1001"), 2)
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme"), 0)
        XCTAssertEqual(second.signals.map(\.companyKey), ["li:1001"])
        XCTAssertEqual(second.signals.first?.leadCount, 2)
        XCTAssertEqual(second.states["name:acme"]??.leads.map(\.leadID), ["l2"], "recorded under its own key")
        XCTAssertEqual(second.states["li:1001"]??.heatScore, second.signals.first?.heatScore, "the heat is the li: company's")
    }

    func testLeadsCountedByNameJoinTheCompanyOnceALeadGivesItsLinkedInIdentifier() throws {
        var heat = AccountHeat(accountID: "acct-1")
        var changelog: [String: AccountHeatState?] = [:]
        for (index, lead) in ["l1", "l2"].enumerated() {
            changelog.merge(heat.apply(contribution(LeadID(lead), key: "name:acme", name: "Acme", seconds: Double(index))).states) { $1 }
        }
        let joined = heat.apply(contribution("l3", key: "li:1001", name: "Acme Inc", seconds: 2))
        changelog.merge(joined.states) { $1 }
        XCTAssertEqual(heat.leadCount(companyKey: "li:1001"), 3, "the two leads known by name count at the identified company")
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme"), 0)
        XCTAssertEqual(joined.signals.first { $0.companyKey == "li:1001" }?.leadCount, 3)
        XCTAssertEqual(joined.states["li:1001"]??.leads.map(\.leadID), ["l3"])
        XCTAssertEqual(heat.companies["name:acme"]?.leads.map(\.leadID), ["l1", "l2"],
                       "they stay in the name's record: nothing moves between records")

        // Replays count once, before and after a restore from what was written.
        XCTAssertTrue(heat.apply(contribution("l1", key: "name:acme", name: "Acme")).isEmpty)
        var restored = AccountHeat(accountID: "acct-1", restoring: changelog.values.compactMap { $0 })
        XCTAssertEqual(restored.leadCount(companyKey: "li:1001"), 3)
        XCTAssertEqual(restored.leadCount(companyKey: "name:acme"), 0)
        for lead: LeadID in ["l1", "l2"] {
            XCTAssertTrue(restored.apply(contribution(lead, key: "name:acme", name: "Acme")).isEmpty, "\(lead) was counted")
        }
        // A later run of a lead known by name counts at the identified company, before and after the restore.
        var rerun = contribution("l1", key: "name:acme", name: "Acme", seconds: 10)
        rerun.runID = "run-2"
        let live = heat.apply(rerun)
        XCTAssertFalse(live.isEmpty)
        XCTAssertEqual(live, restored.apply(rerun))
        XCTAssertEqual(restored.leadCount(companyKey: "li:1001"), 3)
        XCTAssertEqual(restored.companies["name:acme"]?.leads.map(\.leadID), ["l2", "l1"], "recorded under its own key")
    }

    func testLeadsKnownByNameCountAtTheOtherCompanyOfTheirNameOnceOneOfTwoIsForgotten() {
        let day: TimeInterval = 86_400
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l3", key: "li:1001", name: "Acme"))
        _ = heat.apply(contribution("l4", key: "li:2002", name: "Acme Ltd", seconds: AccountHeat.window - 2 * day))
        // Two Acmes: which one is meant is unknown, so they count apart.
        _ = heat.apply(contribution("l1", key: "name:acme", name: "Acme", seconds: AccountHeat.window - day))
        _ = heat.apply(contribution("l2", key: "name:acme", name: "Acme", seconds: AccountHeat.window - day + 1))
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme"), 2)
        XCTAssertEqual(heat.leadCount(companyKey: "li:2002"), 1)
        // A day past the window of li:1001's only lead, it is forgotten: one Acme is left.
        let swept = heat.apply(contribution("l9", key: "name:globex", name: "Globex", seconds: AccountHeat.window + day))
        XCTAssertEqual(swept.states["li:1001"], .some(nil), "a tombstone")
        XCTAssertEqual(heat.leadCount(companyKey: "li:2002"), 3, "l1 and l2 count at the one Acme left")
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme"), 0)
        XCTAssertEqual(swept.signals.first(where: { $0.companyKey == "li:2002" })?.leadCount, 3)
        XCTAssertEqual(heat.companies["name:acme"]?.leads.map(\.leadID), ["l1", "l2"], "recorded where they were")
    }

    func testANameTwoIdentifiedCompaniesShareStaysItsOwnCompany() {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1", key: "li:1001", name: "Acme"))
        _ = heat.apply(contribution("l2", key: "li:2002", name: "Acme Ltd", seconds: 1))
        _ = heat.apply(contribution("l3", key: "name:acme", name: "Acme", seconds: 2))
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme"), 1, "which Acme is unknown: counted apart")
        XCTAssertEqual(heat.leadCount(companyKey: "li:1001"), 1)
        XCTAssertEqual(heat.leadCount(companyKey: "li:2002"), 1)
    }

    // MARK: - A company that falls below two leads

    /// Two runs of one lead scored in the same instant at two companies: the one that counts does
    /// not depend on which arrived first, so a restore (which meets them in key order) counts it
    /// where the live instance does.
    func testOfTwoRunsScoredInOneInstantTheSameCountsWhicheverArrivesFirst() {
        var atA = contribution("l1", key: "li:1", name: "Acme")
        atA.runID = "run-a"
        var atB = contribution("l1", key: "li:2", name: "Bolt")
        atB.runID = "run-b"
        var inOrder = AccountHeat(accountID: "acct-1")
        var reversed = AccountHeat(accountID: "acct-1")
        var changelog: [String: AccountHeatState] = [:]
        for made in [atA, atB] { for (key, state) in inOrder.apply(made).states { changelog[key] = state } }
        for made in [atB, atA] { _ = reversed.apply(made) }
        let restored = AccountHeat(accountID: "acct-1", restoring: Array(changelog.values))
        for heat in [inOrder, reversed, restored] {
            XCTAssertEqual(heat.leadCount(companyKey: "li:1"), 0)
            XCTAssertEqual(heat.leadCount(companyKey: "li:2"), 1, "run-b, the later of the two by run id")
        }
    }

    func testACompanyBelowTwoLeadsPublishesOnceThatItsHeatIsGone() throws {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1"))
        let hot = try XCTUnwrap(heat.apply(contribution("l2")).signals.first)
        XCTAssertGreaterThan(hot.heatScore, 0)
        let moved = heat.apply(contribution("l2", run: "run-2", company: "Globex", at: Fixtures.now.addingTimeInterval(1)))
        // Else the last word on acme stays "2 leads, heat N" while l2 counts at Globex.
        let cooled = try XCTUnwrap(moved.signals.first { $0.companyKey == "name:acme saas" })
        XCTAssertEqual(cooled.heatScore, 0)
        XCTAssertEqual(cooled.category, .cool)
        XCTAssertEqual(cooled.leadCount, 1)
        XCTAssertEqual(cooled.signals, [])
        XCTAssertEqual(moved.states["name:acme saas"]??.published, cooled, "remembered, so it is said once")
        let left = heat.apply(contribution("l1", run: "run-2", company: "Globex", at: Fixtures.now.addingTimeInterval(2)))
        XCTAssertEqual(left.signals.map(\.companyKey), ["name:globex"], "acme said it already")
    }

    func testLeadsKnownByNameThatJoinAnIdentifiedCompanyLeaveTheirNameCool() throws {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1", key: "name:acme", name: "Acme"))
        XCTAssertEqual(heat.apply(contribution("l2", key: "name:acme", name: "Acme", seconds: 1)).signals.first?.leadCount, 2)
        let joined = heat.apply(contribution("l3", key: "li:1001", name: "Acme Inc", seconds: 2))
        XCTAssertEqual(joined.signals.map(\.companyKey).sorted(), ["li:1001", "name:acme"])
        XCTAssertEqual(joined.signals.first { $0.companyKey == "name:acme" }?.leadCount, 0, "its leads count at li:1001 now")
        XCTAssertEqual(joined.signals.first { $0.companyKey == "li:1001" }?.leadCount, 3)
    }

    func testAHotCompanyForgottenPastTheWindowSaysItsHeatIsGone() throws {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1"))
        _ = heat.apply(contribution("l2"))
        let later = heat.apply(contribution("l3", company: "Globex", at: Fixtures.now.addingTimeInterval(AccountHeat.window + 86_400)))
        XCTAssertEqual(later.states["name:acme saas"], .some(nil), "forgotten: a tombstone")
        let cooled = try XCTUnwrap(later.signals.first { $0.companyKey == "name:acme saas" })
        XCTAssertEqual([cooled.heatScore, cooled.leadCount], [0, 0])
        XCTAssertEqual(cooled.trend, .cooling)
    }

    // MARK: - A disqualified lead

    /// A lead a person disqualifies (a student, a competitor's employee) is not scored again, so
    /// no contribution of it takes it out: the override does. Its company falls below two people
    /// and says so once; the lead stays recorded, so clearing the override counts it again at once,
    /// with the signal it had before, without a re-score.
    func testADisqualifiedLeadLeavesTheHeatAndCountsAgainOnceCleared() throws {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1"))
        let hot = try XCTUnwrap(heat.apply(contribution("l2")).signals.first)
        XCTAssertEqual(hot.leadCount, 2)
        XCTAssertGreaterThan(hot.heatScore, 0)

        let disqualified = heat.setExcluded(["l2": true], at: Fixtures.now)
        let cooled = try XCTUnwrap(disqualified.signals.first)
        XCTAssertEqual(disqualified.signals.count, 1)
        XCTAssertEqual(cooled.companyKey, "name:acme saas")
        XCTAssertEqual([cooled.heatScore, cooled.leadCount], [0, 1])
        XCTAssertEqual(cooled.category, .cool)
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), 1)
        let state = try XCTUnwrap(disqualified.states["name:acme saas"] ?? nil)
        XCTAssertEqual(state.leads.map(\.leadID), ["l1", "l2"], "still recorded")
        XCTAssertEqual(state.published, cooled, "remembered, so it is said once")
        XCTAssertTrue(heat.setExcluded(["l2": true, "l9": true], at: Fixtures.now).isEmpty, "out already; a lead it does not hold")

        let cleared = heat.setExcluded(["l2": false], at: Fixtures.now)
        XCTAssertEqual(cleared.signals, [hot], "the signal of the two people again, exactly")
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), 2)
        XCTAssertTrue(heat.setExcluded(["l2": false], at: Fixtures.now).isEmpty)
    }

    /// A contribution of a lead disqualified already (scored before the override, applied after
    /// it) is recorded, and counted as applied, but adds no person and no signal to the heat.
    func testAContributionOfADisqualifiedLeadIsRecordedButNotCounted() throws {
        var heat = AccountHeat(accountID: "acct-1")
        _ = heat.apply(contribution("l1"))
        let arrived = heat.apply(contribution("l2"), isExcluded: true)
        XCTAssertEqual(arrived.signals, [], "one person counts: no heat")
        XCTAssertEqual(heat.leadCount(companyKey: "name:acme saas"), 1)
        let state = try XCTUnwrap(arrived.states["name:acme saas"] ?? nil)
        XCTAssertEqual(state.leads.map(\.leadID), ["l1", "l2"], "recorded")
        XCTAssertEqual(state.counted.map(\.leadID), ["l1", "l2"])
        XCTAssertTrue(heat.apply(contribution("l2"), isExcluded: true).isEmpty, "a replay changes nothing")

        var both = AccountHeat(accountID: "acct-1")
        _ = both.apply(contribution("l1"))
        let expected = try XCTUnwrap(both.apply(contribution("l2")).signals.first)
        XCTAssertEqual(heat.setExcluded(["l2": false], at: Fixtures.now).signals, [expected], "cleared: it counts at once")
    }

    /// An override cleared while no owner wrote its heat (the account handed over, or its owner
    /// SIGKILLed before the write): the restored owner counts the lead again, and says so, though
    /// no lead of the company is excluded any more. Before, the company's last signal said "cool,
    /// one person" until a new contribution reached it.
    func testARestoreSaysALeadCountedAgainWhoseHeatWasNotWritten() throws {
        var live = AccountHeat(accountID: "acct-1")
        var changelog: [String: AccountHeatState] = [:]
        func write(_ change: AccountHeat.Change) {
            for (key, state) in change.states { changelog[key] = state }
        }
        write(live.apply(contribution("l1")))
        let hot = try XCTUnwrap(live.apply(contribution("l2")).signals.first)
        write(live.setExcluded(["l2": true], at: Fixtures.now))
        XCTAssertEqual(changelog["name:acme saas"]?.published?.leadCount, 1)

        var restored = AccountHeat(accountID: "acct-1", restoring: Array(changelog.values), excluding: { _ in false })
        XCTAssertEqual(restored.leadCount(companyKey: "name:acme saas"), 2)
        let said = restored.refreshRestored(at: Fixtures.now)
        XCTAssertEqual(said.signals, [hot])
        XCTAssertTrue(restored.refreshRestored(at: Fixtures.now).isEmpty, "said once")
    }

    /// Exclusion is not written to the changelog: a restore told which leads the overrides
    /// disqualify counts as the live instance, and goes on as it does; one told none counts them.
    /// A restore of what was written before an exclusion's heat (its owner stopped first) says
    /// the company's fall when asked (`refreshRestored`); one of what was written after, nothing.
    func testARestoreWithADisqualifiedLeadCountsAsTheLiveInstance() throws {
        var live = AccountHeat(accountID: "acct-1")
        var changelog: [String: AccountHeatState] = [:]
        func write(_ change: AccountHeat.Change) {
            for (key, state) in change.states { changelog[key] = state }
        }
        for lead: LeadID in ["l1", "l2", "l3"] { write(live.apply(contribution(lead))) }
        let published = try XCTUnwrap(changelog["name:acme saas"]?.published)
        let unwritten = Array(changelog.values)
        let disqualified = live.setExcluded(["l2": true], at: Fixtures.now)
        XCTAssertEqual(disqualified.signals.first?.leadCount, 2)
        XCTAssertLessThan(disqualified.signals.first?.heatScore ?? 100, published.heatScore)
        write(disqualified)

        let stored = Array(changelog.values)
        var restored = AccountHeat(accountID: "acct-1", restoring: stored, excluding: { $0 == "l2" })
        XCTAssertEqual(restored.leadCount(companyKey: "name:acme saas"), 2)
        XCTAssertTrue(restored.refreshRestored(at: Fixtures.now).isEmpty, "the changelog says it already")
        var behind = AccountHeat(accountID: "acct-1", restoring: unwritten, excluding: { $0 == "l2" })
        let said = behind.refreshRestored(at: Fixtures.now)
        XCTAssertEqual(said.signals, disqualified.signals)
        XCTAssertEqual(said.states, disqualified.states)
        let fourth = contribution("l4", at: Fixtures.now.addingTimeInterval(60))
        var going = live
        XCTAssertEqual(restored.apply(fourth), going.apply(fourth))
        XCTAssertEqual(restored.setExcluded(["l2": false], at: Fixtures.now.addingTimeInterval(60)),
                       going.setExcluded(["l2": false], at: Fixtures.now.addingTimeInterval(60)))
        XCTAssertEqual(restored.leadCount(companyKey: "name:acme saas"), 4)

        let unaware = AccountHeat(accountID: "acct-1", restoring: stored)
        XCTAssertEqual(unaware.leadCount(companyKey: "name:acme saas"), 3, "the changelog keeps no exclusion")
    }

    /// The companies the random tests draw from: two `li:` companies of one name, its `name:`
    /// key, another name with its `li:` company, and no company.
    private static let randomCompanies: [(key: String?, name: String)] = [
        ("li:1001", "Acme"), ("li:2002", "Acme Ltd"), ("name:acme", "Acme"), ("name:globex", "Globex"), ("li:3003", "Globex Inc"),
        (nil, ""),
    ]

    /// Step `step`'s contribution of one of eight leads, at one of ``randomCompanies``, 0 to 30
    /// days after the last (and a second: a lead's runs are scored one after another), or, one
    /// time in four, in the same instant (two runs of a lead can be scored in one).
    private func randomContribution(step: Int, time: inout TimeInterval, _ random: inout SeededRandom) -> AccountSignalContribution {
        let isSameInstant = Int.random(in: 0..<4, using: &random) == 0
        time += isSameInstant ? 0 : Double(Int.random(in: 0...3, using: &random)) * 10 * 86_400 + 1
        let company = Self.randomCompanies.randomElement(using: &random)!
        let lead = Int.random(in: 0..<8, using: &random)
        var made = contribution(LeadID("l\(lead)"), at: Fixtures.now.addingTimeInterval(time))
        // Leads 0 and 5, 1 and 6, 2 and 7 are one person each (a lead and its pool match).
        made.personKey = "linkedin:p\(lead % 5)"
        // Run ids in the order of the steps: contributions arrive in the order they count, and a
        // restore, which meets them in the order of their companies' keys, must count the same.
        made.runID = RunID("run-" + String(repeating: "0", count: 3 - String(step).count) + String(step))
        made.companyKey = company.key
        made.companyName = company.key == nil ? nil : company.name
        return made
    }

    /// Random contributions of eight leads over companies that share names, with `name:` keys,
    /// a nil key and time jumps that sweep the window, and, in a second pass of each seed, a
    /// person disqualifying a lead or clearing that one step in four: after each, a restore from
    /// the changelog as written so far, told which leads are disqualified, counts every company's
    /// leads as the live instance does, applies the next override and contribution as it does,
    /// and replays of the latest contributions change nothing in either.
    func testARestoreAtAnyPointCountsAsTheLiveInstance() {
        for seed in 1...30 {
            for isOverriding in [false, true] {
                var random = SeededRandom(seed: UInt64(seed))
                // Drawn apart, so both passes apply the same contributions.
                var overrides = SeededRandom(seed: UInt64(seed) + 1_000)
                var disqualified: Set<LeadID> = []
                var live = AccountHeat(accountID: "acct-1")
                var changelog: [String: AccountHeatState] = [:]
                var applied: [AccountSignalContribution] = []
                var time: TimeInterval = 0
                func restore() -> AccountHeat {
                    AccountHeat(accountID: "acct-1", restoring: Array(changelog.values), excluding: disqualified.contains)
                }
                for step in 0..<60 {
                    let made = randomContribution(step: step, time: &time, &random)
                    applied.append(made)
                    let context = "seed \(seed), step \(step)\(isOverriding ? ", overriding" : "")"
                    if isOverriding, Int.random(in: 0..<4, using: &overrides) == 0 {
                        let lead = LeadID("l\(Int.random(in: 0..<8, using: &overrides))")
                        var successor = restore()
                        let isExcluded = !disqualified.contains(lead)
                        if isExcluded { disqualified.insert(lead) } else { disqualified.remove(lead) }
                        let at = Fixtures.now.addingTimeInterval(time)
                        let change = live.setExcluded([lead: isExcluded], at: at)
                        XCTAssertEqual(successor.setExcluded([lead: isExcluded], at: at), change, "\(context): an override after a restore")
                        for (key, state) in change.states { changelog[key] = state }
                    }
                    var successor = restore()
                    let change = live.apply(made, isExcluded: disqualified.contains(made.leadID))
                    XCTAssertEqual(successor.apply(made, isExcluded: disqualified.contains(made.leadID)), change,
                                   "\(context): the next contribution after a restore")
                    for (key, state) in change.states { changelog[key] = state }
                    var restored = restore()
                    for key in Self.randomCompanies.compactMap(\.key) {
                        XCTAssertEqual(restored.leadCount(companyKey: key), live.leadCount(companyKey: key), "\(context), \(key)")
                    }
                    for replay in applied.suffix(3) {
                        let isExcluded = disqualified.contains(replay.leadID)
                        XCTAssertTrue(restored.apply(replay, isExcluded: isExcluded).isEmpty, "\(context): a replay after a restore")
                        XCTAssertTrue(live.apply(replay, isExcluded: isExcluded).isEmpty, "\(context): a replay")
                    }
                }
            }
        }
    }

    /// The crash the aggregator is built for, at random: each company's changed state is held and
    /// written later (some now, some not), input is committed only up to the first contribution of
    /// a state still held, and a successor restores what was written and replays the rest. After
    /// the next contribution it counts every company's leads as the live instance does.
    func testACrashWithStatesStillHeldReplaysToTheLiveHeat() {
        for seed in 1...30 {
            var random = SeededRandom(seed: UInt64(seed))
            var live = AccountHeat(accountID: "acct-1")
            var written: [String: AccountHeatState] = [:]
            var held: [String: (state: AccountHeatState?, firstStep: Int)] = [:]
            var applied: [AccountSignalContribution] = []
            var time: TimeInterval = 0
            for step in 0..<60 {
                let made = randomContribution(step: step, time: &time, &random)
                applied.append(made)
                for (key, state) in live.apply(made).states { held[key] = (state, held[key]?.firstStep ?? step) }
                // Some held states are written now (as the write interval would), each whole.
                for key in held.keys.sorted() where Bool.random(using: &random) {
                    written[key] = held[key]!.state
                    held[key] = nil
                }
                // A crash here: the successor replays from the first contribution not written.
                let committed = held.values.map(\.firstStep).min() ?? step + 1
                var successor = AccountHeat(accountID: "acct-1", restoring: Array(written.values))
                for replay in applied[committed...] { _ = successor.apply(replay) }
                // A replay counted already changes nothing, not even the sweep of what the live
                // instance forgot past the window since the states were written: the next new
                // contribution sweeps it, before its heat is computed. Both get one. (Its signals
                // may differ: the successor publishes again what the live instance published and
                // had not written, as the aggregator's at-least-once publishing allows.)
                var probe = contribution("probe", at: Fixtures.now.addingTimeInterval(time + 0.5))
                probe.runID = RunID("probe-\(step)")
                probe.companyKey = "name:probe"
                var going = live
                _ = successor.apply(probe)
                _ = going.apply(probe)
                for key in Self.randomCompanies.compactMap(\.key) {
                    XCTAssertEqual(successor.leadCount(companyKey: key), going.leadCount(companyKey: key), "seed \(seed), step \(step), \(key)")
                }
            }
        }
    }
}
