import Foundation
import LeadModel
import LeadRules
import XCTest

final class SimulatedProviderTests: XCTestCase {
    let clock: @Sendable () -> Date = { Fixtures.now }

    func testStableHashIsFNV1a() {
        XCTAssertEqual(StableHash.fnv1a(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(StableHash.fnv1a("a"), 0xaf63_dc4c_8601_ec8c)
    }

    func testSameLeadGivesSameOutputTwice() async throws {
        let settings = SimulationSettings.instant
        let linkedin = SimulatedLinkedInProvider(settings: settings, now: clock)
        let x = SimulatedXProvider(settings: settings)
        let activity = SimulatedActivityProvider(settings: settings, now: clock)
        for handle in ["janedoe", "john-smith", "a_b_c"] {
            let firstProfile = try await linkedin.fetchProfile(handle: handle, attempt: 1)
            let secondProfile = try await SimulatedLinkedInProvider(settings: settings, now: clock).fetchProfile(handle: handle, attempt: 2)
            XCTAssertEqual(firstProfile, secondProfile)
            let firstX = try await x.fetchProfile(username: handle, attempt: 1)
            let secondX = try await x.fetchProfile(username: handle, attempt: 1)
            XCTAssertEqual(firstX, secondX)
            let query = ActivityQuery(leadID: LeadID(handle), linkedinHandle: handle, xUsername: nil, since: Fixtures.daysAgo(180))
            let firstActivity = try await activity.fetchActivity(query, attempt: 1)
            let secondActivity = try await activity.fetchActivity(query, attempt: 1)
            XCTAssertEqual(firstActivity, secondActivity)
        }
    }

    func testDataIsVariedAndPlausible() async throws {
        let linkedin = SimulatedLinkedInProvider(settings: .instant, now: clock)
        var titles: Set<String> = []
        var companies: Set<String> = []
        for index in 0..<40 {
            let result = try await linkedin.fetchProfile(handle: "lead-\(index)", attempt: 1)
            titles.insert(result.profile.jobTitle)
            companies.insert(result.profile.company)
            XCTAssertFalse(result.profile.experiences.isEmpty)
            XCTAssertNotNil(result.profile.currentExperience)
            XCTAssertLessThanOrEqual(result.profile.currentExperience?.startDate ?? .distantFuture, Fixtures.now)
        }
        XCTAssertGreaterThan(titles.count, 8)
        XCTAssertGreaterThan(companies.count, 6)
    }

    func testFailuresAreDeterministicPerLeadAndAttempt() async {
        var settings = SimulationSettings.instant
        settings.x.failureRate = 0.5
        let provider = SimulatedXProvider(settings: settings)
        var outcomes: [String] = []
        var repeated: [String] = []
        for index in 0..<30 {
            outcomes.append(await describe { () async throws(ProviderError) -> XProfile in try await provider.fetchProfile(username: "u\(index)", attempt: 1) })
            repeated.append(await describe { () async throws(ProviderError) -> XProfile in try await provider.fetchProfile(username: "u\(index)", attempt: 1) })
        }
        XCTAssertEqual(outcomes, repeated)
        let failures = outcomes.filter { $0 != "ok" }.count
        XCTAssertTrue((5...25).contains(failures), "about half fail: \(failures)")
        XCTAssertTrue(outcomes.allSatisfy { $0 == "ok" || $0.hasPrefix("retriable") })
    }

    func testNotFoundIsPermanentPerHandle() async {
        var settings = SimulationSettings.instant
        settings.linkedin.notFoundRate = 1
        let provider = SimulatedLinkedInProvider(settings: settings, now: clock)
        do {
            _ = try await provider.fetchProfile(handle: "ghost", attempt: 3)
            XCTFail("expected notFound")
        } catch {
            XCTAssertEqual(error, .notFound)
            XCTAssertFalse(error.isRetriable)
        }
    }

    func testLatencyIsApplied() async throws {
        let settings = SimulationSettings(
            linkedin: .instant, x: .init(meanLatency: .milliseconds(50), latencyJitter: .milliseconds(10)), activity: .instant)
        let clock = ContinuousClock()
        let start = clock.now
        _ = try await SimulatedXProvider(settings: settings).fetchProfile(username: "slow", attempt: 1)
        XCTAssertGreaterThanOrEqual(clock.now - start, .milliseconds(39))
    }

    func testProviderErrorRetriability() {
        XCTAssertTrue(ProviderError.rateLimited(retryAfter: 3).isRetriable)
        XCTAssertTrue(ProviderError.transient("timeout").isRetriable)
        XCTAssertTrue(ProviderError.outOfCredits.isRetriable, "a vendor out of credits is retried; it pauses no account")
        XCTAssertFalse(ProviderError.permanent("bad").isRetriable)
        XCTAssertEqual(ProviderError.rateLimited(retryAfter: 2.5).description, "rate limited; retry after 3s")
    }

    func testActivityBuilderDropsOldPostsClassifiesOrbitAndRenders() {
        let raw = RawActivity(
            posts: [
                Fixtures.post("old news", daysAgo: 200, id: "old"),
                Fixtures.post("newest", daysAgo: 1, id: "new"),
                Fixtures.post("middle", daysAgo: 40, id: "mid"),
            ],
            interactions: [
                Interaction(platform: .x, handle: "outreach", name: "Outreach", isOrganization: true, followers: 10_000, count: 4, firstSeen: Fixtures.daysAgo(50), lastSeen: Fixtures.daysAgo(3)),
                Interaction(platform: .x, handle: "gong_io", name: "Gong", isOrganization: true, followers: 90_000, count: 2, firstSeen: Fixtures.daysAgo(50), lastSeen: Fixtures.daysAgo(3)),
                Interaction(platform: .x, handle: "jasonlk", name: "Jason Lemkin", isOrganization: false, followers: 200_000, count: 1, firstSeen: Fixtures.daysAgo(50), lastSeen: Fixtures.daysAgo(3)),
                Interaction(platform: .x, handle: "sam", name: "Sam", isOrganization: false, followers: 300, count: 3, firstSeen: Fixtures.daysAgo(50), lastSeen: Fixtures.daysAgo(3)),
            ])
        let activity = ActivityBuilder.build(raw: raw, competitors: ["Outreach"], now: Fixtures.now)
        XCTAssertEqual(activity.posts.map(\.id), ["new", "mid"])
        XCTAssertEqual(activity.signalDate, Fixtures.daysAgo(1))
        XCTAssertEqual(
            Dictionary(uniqueKeysWithValues: activity.orbit.map { ($0.handle, $0.classification) }),
            ["outreach": .competitor, "gong_io": .adjacentVendor, "jasonlk": .thoughtLeader, "sam": .peer])
        XCTAssertTrue(activity.plainText.hasPrefix("[2025-06-14, 1 day ago, LinkedIn, 3 likes, 1 replies, 0 reposts]\nnewest"), activity.plainText)
        XCTAssertFalse(activity.plainText.contains("old news"))
        var withoutText = activity
        withoutText.plainText = ""
        XCTAssertEqual(ActivityBuilder.build(raw: raw, competitors: ["Outreach"], now: Fixtures.now, withText: false), withoutText)
    }

    /// A competitor is recognised by its name as whole words in the interaction's name, or by its
    /// name without spaces as the handle, compared as strings are (composed or not).
    func testAnInteractionIsACompetitorByNameOrHandle() {
        func interaction(_ handle: String, _ name: String) -> Interaction {
            Interaction(platform: .x, handle: handle, name: name, isOrganization: true, followers: 10, count: 1,
                        firstSeen: Fixtures.daysAgo(9), lastSeen: Fixtures.daysAgo(1))
        }
        let competitors = ["Sales Loft", "Caf\u{E9} Co", "Gong"]
        for (handle, name, expected) in [
            ("slhq", "The Sales Loft team", OrbitClassification.competitor), ("SalesLoft", "SL", .competitor),
            ("sales_loft", "SL", .adjacentVendor), ("cafe\u{301}co", "Bistro", .competitor), ("cafeco", "Bistro", .adjacentVendor),
            ("gongio", "Gongs and bells", .adjacentVendor), ("loft", "Sales", .adjacentVendor),
        ] {
            XCTAssertEqual(ActivityBuilder.classify(interaction(handle, name), competitors: competitors), expected, "\(handle) / \(name)")
        }
    }

    /// The whole text: a block per post in the order given, blank lines between, ages in whole
    /// days as of `now` (a post dated after `now` is "today"), the date's UTC day.
    func testActivityTextIsRenderedPostByPost() {
        var posts = [Fixtures.post("future", daysAgo: -0.5, id: "f"), Fixtures.post("today \u{1F4A1}", daysAgo: 0.9, id: "t"),
                     Fixtures.post("yesterday", daysAgo: 1.5, id: "y"), Fixtures.post("", daysAgo: 1_234, id: "e")]
        posts[1].platform = .x
        posts[2].likes = 1_234_567
        posts[2].replies = -1
        XCTAssertEqual(ActivityBuilder.renderPlainText(posts, now: Fixtures.now), """
            [2025-06-16, today, LinkedIn, 3 likes, 1 replies, 0 reposts]
            future

            [2025-06-14, today, X, 3 likes, 1 replies, 0 reposts]
            today \u{1F4A1}

            [2025-06-14, 1 day ago, LinkedIn, 1234567 likes, -1 replies, 0 reposts]
            yesterday

            [2022-01-28, 1234 days ago, LinkedIn, 3 likes, 1 replies, 0 reposts]

            """)
        XCTAssertEqual(ActivityBuilder.renderPlainText([], now: Fixtures.now), "")
    }

    func testSimulatedActivityPassesThroughBuilder() async throws {
        let provider = SimulatedActivityProvider(settings: .instant, now: clock)
        var postCount = 0
        var sawSignal = false
        let detector = SignalDetector(offer: Fixtures.offer())
        for index in 0..<30 {
            let raw = try await provider.fetchActivity(
                ActivityQuery(leadID: "l", linkedinHandle: nil, xUsername: "user\(index)", since: Fixtures.daysAgo(180)), attempt: 1)
            let activity = ActivityBuilder.build(raw: raw, competitors: ["Outreach"], now: Fixtures.now)
            postCount += activity.posts.count
            XCTAssertTrue(activity.posts.allSatisfy { $0.platform == .x && $0.date >= Fixtures.daysAgo(180) })
            sawSignal = sawSignal || !detector.signals(in: activity.posts).isEmpty
        }
        XCTAssertGreaterThan(postCount, 30)
        XCTAssertTrue(sawSignal)
    }

    private func describe(_ call: () async throws(ProviderError) -> XProfile) async -> String {
        do {
            _ = try await call()
            return "ok"
        } catch {
            return (error.isRetriable ? "retriable: " : "permanent: ") + error.description
        }
    }
}
