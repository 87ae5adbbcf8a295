import Foundation
import LeadModel
import LeadRules
import XCTest

/// Orbit clusters: how they form, how they count in intent, and in account heat.
final class OrbitClusterTests: XCTestCase {
    private let scorer = RuleBasedScorer()

    /// A target engaged with from `first` to `last` days ago.
    private func target(
        _ handle: String, _ name: String, _ classification: OrbitClassification = .peer, count: Int = 3,
        first: Double, last: Double, platform: Platform = .x
    ) -> OrbitTarget {
        OrbitTarget(
            platform: platform, handle: handle, name: name, classification: classification, interactionCount: count,
            firstSeen: Fixtures.daysAgo(first), lastSeen: Fixtures.daysAgo(last))
    }

    private var newCompetitorPair: [OrbitTarget] {
        [target("outreach", "Outreach", .competitor, count: 6, first: 14, last: 1),
         target("apollo", "Apollo", .adjacentVendor, count: 3, first: 10, last: 2)]
    }

    /// ``newCompetitorPair`` never engaged together: the same targets, no cluster.
    private var competitorPairApart: [OrbitTarget] {
        var apart = newCompetitorPair
        apart[1].firstSeen = Fixtures.daysAgo(25)
        apart[1].lastSeen = Fixtures.daysAgo(20)
        return apart
    }

    private var newPeerPair: [OrbitTarget] {
        [target("ann", "Ann Lee", count: 4, first: 20, last: 3), target("bo", "Bo Chen", count: 2, first: 12, last: 5)]
    }

    /// The clusters an activity record carries were formed when it was fetched; scored later (a
    /// pool profile matched for a new offer weeks on), each is judged new again at the scoring
    /// time: one first seen before the window is no longer new (it still counts, weighed by the
    /// recency of its last interaction). Before, a cluster first seen 80 days before still scored
    /// as "new in the last 30 days".
    func testStoredClustersAreJudgedAgainAtTheScoringTime() throws {
        var activity = Activity(posts: [], plainText: "", orbit: newPeerPair, signalDate: nil)
        activity.clusters = OrbitClusters.form(newPeerPair, now: Fixtures.now)
        let stored = try XCTUnwrap(activity.clusters?.first)
        XCTAssertTrue(stored.isNew)
        XCTAssertEqual(OrbitClusters.clusters(of: activity, now: Fixtures.now), activity.clusters)
        // 15 days on, first seen 35 days before: still recent (last seen 18 days before), no longer new.
        let later = OrbitClusters.clusters(of: activity, now: Fixtures.now.addingTimeInterval(15 * 86_400))
        XCTAssertEqual(later.map(\.handles), [stored.handles])
        XCTAssertEqual(later.map(\.isNew), [false])
        // 60 days on: kept, not new, and its card says so.
        let muchLater = Fixtures.now.addingTimeInterval(60 * 86_400)
        XCTAssertEqual(OrbitClusters.clusters(of: activity, now: muchLater).map(\.isNew), [false])
        var profile = Fixtures.profile()
        profile.activity = activity
        let reasons = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: muchLater).intentReasons
        XCTAssertFalse(reasons.contains { $0.signal.contains("new in the last") }, "\(reasons)")
    }

    private func intentCard(_ orbit: [OrbitTarget]) -> ScoreCard {
        scorer.score(profile: Fixtures.profile(orbit: orbit), offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
    }

    // MARK: - Forming

    func testTwoTargetsOverlappingInTheWindowFormOneCluster() throws {
        let clusters = OrbitClusters.form(newCompetitorPair, now: Fixtures.now)
        XCTAssertEqual(clusters.count, 1)
        let cluster = try XCTUnwrap(clusters.first)
        XCTAssertEqual(cluster.handles, ["apollo", "outreach"])
        XCTAssertEqual(cluster.names, ["Apollo", "Outreach"])
        XCTAssertEqual(cluster.interactionCount, 9)
        XCTAssertEqual(cluster.firstSeen, Fixtures.daysAgo(14))
        XCTAssertEqual(cluster.lastSeen, Fixtures.daysAgo(1))
        XCTAssertTrue(cluster.hasCompetitor)
        XCTAssertTrue(cluster.isNew)
    }

    /// Interaction counts come from outside (a pool profile of an external lead): counts that
    /// add up past `Int.max` are held at the bound, never trap the scoring stage.
    func testCountsAtTheLimitOfAnIntegerAddUpWithoutOverflow() throws {
        let pair = newCompetitorPair.map { target -> OrbitTarget in
            var target = target
            target.interactionCount = .max
            return target
        }
        let cluster = try XCTUnwrap(OrbitClusters.form(pair, now: Fixtures.now).first)
        XCTAssertEqual(cluster.interactionCount, .max)
        XCTAssertGreaterThan(intentCard(pair).intent, 0, "the lead is scored")
    }

    func testAnOldPairASingleTargetAndDisjointSpansFormNoCluster() {
        let old = [target("a", "A", first: 90, last: 40), target("b", "B", first: 80, last: 35)]
        XCTAssertEqual(OrbitClusters.form(old, now: Fixtures.now), [], "last seen before the window")
        XCTAssertEqual(OrbitClusters.form([target("a", "A", first: 10, last: 1)], now: Fixtures.now), [])
        let apart = [target("a", "A", first: 25, last: 20), target("b", "B", first: 10, last: 1)]
        XCTAssertEqual(OrbitClusters.form(apart, now: Fixtures.now), [], "never engaged together")
        let samePerson = [target("a", "A", first: 10, last: 1), target("a", "A", first: 8, last: 2, platform: .linkedin)]
        XCTAssertEqual(OrbitClusters.form(samePerson, now: Fixtures.now), [], "one account on two platforms")
    }

    func testAClusterWithATargetFirstSeenBeforeTheWindowIsNotNew() throws {
        let orbit = [target("ann", "Ann Lee", first: 60, last: 2), target("bo", "Bo Chen", first: 10, last: 4)]
        let cluster = try XCTUnwrap(OrbitClusters.form(orbit, now: Fixtures.now).first)
        XCTAssertFalse(cluster.isNew)
        XCTAssertFalse(cluster.hasCompetitor)
        XCTAssertNil(SignalDetector.kind(of: cluster), "an established peer cluster is no signal")
    }

    func testVelocityIsInteractionsPerWeekOverTheSpanAtLeastOneWeek() throws {
        // 9 interactions over 13 days: 9 / (13 / 7) a week.
        let cluster = try XCTUnwrap(OrbitClusters.form(newCompetitorPair, now: Fixtures.now).first)
        XCTAssertEqual(cluster.velocityPerWeek, 9 * 7 / 13, accuracy: 1e-9)
        // 8 interactions within two days count as 8 a week, not 28.
        let burst = [target("a", "A", count: 5, first: 3, last: 2), target("b", "B", count: 3, first: 2, last: 1)]
        XCTAssertEqual(try XCTUnwrap(OrbitClusters.form(burst, now: Fixtures.now).first).velocityPerWeek, 8, accuracy: 1e-9)
    }

    func testClustersAreOrderedCompetitorThenNewThenVelocityWhateverTheInputOrder() {
        // Three groups whose spans do not overlap one another; the established one is the fastest.
        let established = [target("cy", "Cy", count: 400, first: 200, last: 29), target("dee", "Dee", count: 400, first: 100, last: 28)]
        let newPeers = [target("ann", "Ann Lee", count: 4, first: 26, last: 20), target("bo", "Bo Chen", count: 2, first: 24, last: 21)]
        let orbit = established + newPeers + newCompetitorPair
        let clusters = OrbitClusters.form(orbit, now: Fixtures.now)
        XCTAssertEqual(clusters.map(\.handles), [["apollo", "outreach"], ["ann", "bo"], ["cy", "dee"]])
        XCTAssertGreaterThan(clusters[2].velocityPerWeek, clusters[1].velocityPerWeek)
        XCTAssertEqual(OrbitClusters.form(orbit.reversed(), now: Fixtures.now), clusters)
    }

    func testTheActivityBuilderRecordsTheClusters() {
        let interactions = [
            Interaction(platform: .x, handle: "outreach", name: "Outreach", isOrganization: true, followers: 40_000, count: 6,
                        firstSeen: Fixtures.daysAgo(14), lastSeen: Fixtures.daysAgo(1)),
            Interaction(platform: .x, handle: "apollo", name: "Apollo", isOrganization: true, followers: 9_000, count: 3,
                        firstSeen: Fixtures.daysAgo(10), lastSeen: Fixtures.daysAgo(2)),
        ]
        let activity = ActivityBuilder.build(
            raw: RawActivity(posts: [], interactions: interactions), competitors: ["Outreach"], now: Fixtures.now)
        XCTAssertEqual(activity.clusters, OrbitClusters.form(activity.orbit, now: Fixtures.now))
        XCTAssertEqual(activity.clusters?.first?.hasCompetitor, true)
    }

    // MARK: - Intent

    func testACompetitorClusterAddsMoreIntentThanANewClusterAndNamesTargetsAndVelocity() throws {
        let apart = intentCard(competitorPairApart)
        let competitorCluster = intentCard(newCompetitorPair)
        let peerCluster = intentCard(newPeerPair)
        XCTAssertEqual(intentCard([]).intent, 0)
        XCTAssertEqual(peerCluster.intent, 10, "\(peerCluster.intentReasons)")
        XCTAssertEqual(competitorCluster.intent - apart.intent, 20, "\(competitorCluster.intentReasons)")
        let reason = try XCTUnwrap(competitorCluster.intentReasons.first { $0.signal.contains("together") })
        XCTAssertEqual(
            reason.signal, "engages with Apollo and Outreach together, a competitor among them, 4.8 interactions a week, "
                + "new in the last 30 days (1 day ago)")
        XCTAssertEqual(reason.source, "activity")
    }

    func testAddingAClusterNeverLowersIntentAndClustersHaveACap() {
        let rich = [Fixtures.post("Can anyone recommend a tool? Manual prospecting and low reply rates, fed up with Outreach sequences", daysAgo: 2)]
        let offer = Fixtures.offer()
        for source in [LeadSource.csvImport, .keywordSearch] {
            let without = scorer.score(profile: Fixtures.profile(posts: rich, orbit: competitorPairApart), offer: offer, source: source, now: Fixtures.now)
            let with = scorer.score(profile: Fixtures.profile(posts: rich, orbit: newCompetitorPair), offer: offer, source: source, now: Fixtures.now)
            XCTAssertGreaterThanOrEqual(with.intent, without.intent)
        }
        let many = newCompetitorPair + newPeerPair.map { var copy = $0; copy.firstSeen = Fixtures.daysAgo(29); copy.lastSeen = Fixtures.daysAgo(16); return copy }
        let clusterPoints = intentCard(many).intentReasons.filter { $0.signal.contains("together") }.map(\.points)
        XCTAssertLessThanOrEqual(clusterPoints.reduce(0, +), 30)
    }

    func testAnOldClusterOnTheRecordCountsLessThanAFreshOne() {
        var profile = Fixtures.profile(orbit: newPeerPair)
        let fresh = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        // The record's clusters are used as they are; one last seen 60 days ago weighs 0.6.
        var old = OrbitClusters.form(newPeerPair, now: Fixtures.now)
        old[0].lastSeen = Fixtures.daysAgo(60)
        profile.activity?.clusters = old
        let aged = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertEqual([fresh.intent, aged.intent], [10, 6])
    }

    /// An orbit's names enter a lead's signals (an engagement's account, a cluster's accounts)
    /// and its card capped, cut between characters, as a card quotes any of the profile's words
    /// (``RuleBasedScorer/quotedLength``): a cluster lists the names that fit and counts the rest
    /// ("and 37 others"). Before, a cluster of 40 accounts with names 400 characters long was one
    /// detail of 16,000 characters, kept per lead in its company's heat state (500 leads) and
    /// written again in its card and score, while a lead's signals were capped at 20.
    func testLongOrbitNamesAreCappedWhereTheyEnterSignalsAndCards() throws {
        // Seven scalars, one character: cut between scalars it would leave half a family.
        let family = "\u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"
        let long = "Acme " + String(repeating: family, count: 400)
        var orbit = (0..<40).map { index in
            target("peer\(index)", "\(index) \(long)", count: 2, first: 20, last: 3)
        }
        orbit.append(target("outreach", "Outreach " + long, .competitor, count: 6, first: 14, last: 1))
        orbit.append(target("apollo", "Apollo " + long, .adjacentVendor, count: 3, first: 10, last: 2))
        let profile = Fixtures.profile(orbit: orbit)
        let contribution = AccountSignalAggregator.contribution(
            of: profile, leadID: "l1", runID: "run-1", accountID: "acct-1", offer: Fixtures.offer(), at: Fixtures.now)
        let card = scorer.score(profile: profile, offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        let limit = RuleBasedScorer.quotedLength + 1
        let cluster = try XCTUnwrap(contribution.clusterSignals?.first)
        XCTAssertTrue(cluster.detail.hasSuffix(" others"), cluster.detail)
        XCTAssertEqual(Set(contribution.signals.map(\.kind)), [.competitorEngagement, .adjacentEngagement])
        for signal in contribution.allSignals {
            XCTAssertLessThanOrEqual(signal.detail.unicodeScalars.count, limit, "\(signal.kind)")
            for character in signal.detail where !character.isASCII && character != "\u{2026}" {
                XCTAssertEqual(character, Character(family), "cut between the scalars of a character")
            }
        }
        let reasons = card.intentReasons.filter { $0.signal.hasPrefix("engages with") }
        XCTAssertEqual(reasons.count, 3, "\(card.intentReasons)")
        for reason in reasons {
            XCTAssertLessThanOrEqual(reason.signal.unicodeScalars.count, limit + 100, reason.signal)
        }
    }

    /// Orbit clusters enter a lead's records bounded as its other signals are: a cluster's
    /// names are shortened to 60 scalars where it forms (the activity record keeps them), and a
    /// lead's contribution carries its 10 strongest cluster signals (competitor clusters first),
    /// as it carries its 20 strongest other signals. Before, an orbit of 43 clusters gave 43
    /// cluster signals, each kept per lead in its company's heat state, and a cluster kept each
    /// of its targets' names whole (2,000 scalars and more) in the activity record.
    func testClusterNamesAndClusterSignalsAreBoundedWhereTheyForm() throws {
        let long = "Acme " + String(repeating: "x", count: 2_000)
        var orbit: [OrbitTarget] = []
        // 40 new peer clusters, then 3 competitor clusters, each two targets engaged together
        // over a few hours, apart from the others.
        for index in 0..<43 {
            let first = 29 - Double(index) * 0.6
            let kind: OrbitClassification = index >= 40 ? .competitor : .peer
            orbit.append(target("a\(index)", "A\(index) \(long)", kind, count: 2, first: first, last: first - 0.1))
            orbit.append(target("b\(index)", "B\(index) \(long)", count: 2, first: first, last: first - 0.1))
        }
        let formed = OrbitClusters.form(orbit, now: Fixtures.now)
        XCTAssertEqual(formed.count, 43)
        for name in formed.flatMap({ $0.names ?? [] }) {
            XCTAssertLessThanOrEqual(name.unicodeScalars.count, RuleBasedScorer.quotedLength / 2 + 1, String(name.prefix(20)))
        }
        var profile = Fixtures.profile(orbit: orbit)
        profile.activity?.clusters = formed
        let contribution = AccountSignalAggregator.contribution(
            of: profile, leadID: "l1", runID: "run-1", accountID: "acct-1", offer: Fixtures.offer(), at: Fixtures.now)
        let clusterSignals = contribution.clusterSignals ?? []
        XCTAssertEqual(clusterSignals.count, 10)
        XCTAssertEqual(clusterSignals.filter { $0.kind == .competitorCluster }.count, 3, "the strongest kept")
    }

    // MARK: - Account heat

    func testALeadWithACompetitorClusterRaisesItsAccountsHeat() throws {
        let asking = [Fixtures.post("Can anyone recommend a tool for manual prospecting?", daysAgo: 2)]
        func contribution(_ lead: LeadID, orbit: [OrbitTarget]) -> AccountSignalContribution {
            AccountSignalAggregator.contribution(
                of: Fixtures.profile(posts: asking, orbit: orbit), leadID: lead, runID: "run-1", accountID: "acct-1",
                offer: Fixtures.offer(), at: Fixtures.now)
        }
        func heat(secondLeadOrbit orbit: [OrbitTarget]) throws -> Int {
            var heat = AccountHeat(accountID: "acct-1")
            _ = heat.apply(contribution("l1", orbit: []))
            return try XCTUnwrap(heat.apply(contribution("l2", orbit: orbit)).signals.first).heatScore
        }
        let clustered = contribution("l2", orbit: newCompetitorPair)
        XCTAssertEqual(clustered.signals.map(\.kind), [.painPoint, .recommendationRequest, .competitorEngagement, .adjacentEngagement])
        XCTAssertEqual(clustered.clusterSignals?.map(\.kind), [.competitorCluster], "apart, for readers that do not know the kind")
        XCTAssertEqual(clustered.clusterSignals?.first?.detail, "Apollo and Outreach")
        XCTAssertNil(contribution("l2", orbit: competitorPairApart).clusterSignals)

        // The changelog keeps them, and a restored aggregator counts them.
        var live = AccountHeat(accountID: "acct-1")
        _ = live.apply(contribution("l1", orbit: []))
        _ = live.apply(clustered)
        let state = try XCTUnwrap(live.companies["name:acme saas"])
        XCTAssertEqual(state.leads.first { $0.leadID == "l2" }?.clusterSignals, clustered.clusterSignals)
        var restored = AccountHeat(accountID: "acct-1", restoring: [state])
        let later = Fixtures.now.addingTimeInterval(60)
        var third = contribution("l3", orbit: [])
        third.scoredAt = later
        var liveThird = live
        XCTAssertEqual(restored.apply(third).signals.first?.heatScore, liveThird.apply(third).signals.first?.heatScore)
        XCTAssertGreaterThan(try heat(secondLeadOrbit: newCompetitorPair), try heat(secondLeadOrbit: competitorPairApart) + 5)
    }
}
