import Enrichment
import Foundation
import LeadModel
import LeadRules
import Runtime
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

    /// A search answered by `answers` in turn (the last one again once they run out), counting its calls.
    final class ScriptedSearch: ProfileSearchProvider, @unchecked Sendable {
        private let lock = NSLock()
        private var answers: [Result<[ProfileCandidate], ProviderError>]
        private(set) var calls = 0
        init(_ answers: [Result<[ProfileCandidate], ProviderError>]) { self.answers = answers }
        func search(_ query: ProfileQuery) async throws(ProviderError) -> [ProfileCandidate] {
            let answer: Result<[ProfileCandidate], ProviderError> = lock.withLock {
                calls += 1
                return answers.count > 1 ? answers.removeFirst() : answers[0]
            }
            return try answer.get()
        }
    }

    /// A search failing for a passing reason (a 429, a 5xx) is tried again, a few times, before
    /// the lead's profile finding is given up: it was dropped at the first failure, and nothing
    /// tried again unless the lead was finished again. A permanent failure is not retried.
    func testATransientSearchFailureIsTriedAgain() async {
        let accounts: [AccountID: AccountConfig] = ["on": AccountConfig(accountID: "on", profileFinder: ProfileFinderRule(), updatedAt: now)]
        let match = [ProfileCandidate(platform: .x, url: "https://x.com/janedoe", confidence: 0.85)]
        func handler(_ search: ScriptedSearch) -> ProfileFinderHandler {
            ProfileFinderHandler(provider: search, accounts: { accounts[$0] }, minimumConfidence: 0.8, service: "test",
                                 retryDelays: [.zero, .zero])
        }
        let recovering = ScriptedSearch([.failure(.rateLimited(retryAfter: 0)), .failure(.transient("HTTP 503")), .success(match)])
        guard case .found = await handler(recovering).handle(entry("a", account: "on"), now: now) else { return XCTFail() }
        XCTAssertEqual(recovering.calls, 3)

        let failing = ScriptedSearch([.failure(.transient("HTTP 503"))])
        guard case .searchFailed(let reason) = await handler(failing).handle(entry("a", account: "on"), now: now) else { return XCTFail() }
        XCTAssertEqual(failing.calls, 3)
        XCTAssertTrue(reason.contains("3 attempts"), reason)

        let refused = ScriptedSearch([.failure(.permanent("HTTP 400"))])
        guard case .searchFailed = await handler(refused).handle(entry("a", account: "on"), now: now) else { return XCTFail() }
        XCTAssertEqual(refused.calls, 1)
    }

    /// Once the process begins to stop, a search that failed for a passing reason is not waited
    /// for to be tried again: the outcome says the entry is not done (its runner hands it back
    /// uncommitted), and nothing is kept, so its next owner searches it. So is a search cancelled
    /// then; one the provider cancels while the process runs on is a failure, not tried again
    /// (handed back then, it would hold its partition's commit point).
    func testASearchWaitingToBeTriedAgainStopsWithTheProcess() async {
        let accounts: [AccountID: AccountConfig] = ["on": AccountConfig(accountID: "on", profileFinder: ProfileFinderRule(), updatedAt: now)]
        let shutdown = GracefulShutdown()
        shutdown.begin()
        func handler(_ search: ScriptedSearch) -> ProfileFinderHandler {
            ProfileFinderHandler(provider: search, accounts: { accounts[$0] }, minimumConfidence: 0.8, service: "test",
                                 retryDelays: [.seconds(30)])
        }
        let failing = ScriptedSearch([.failure(.transient("HTTP 503"))])
        let outcome = await handler(failing).handle(entry("a", account: "on"), now: now, stoppingOn: shutdown)
        XCTAssertEqual(outcome, .stopped)
        XCTAssertEqual(failing.calls, 1)

        let cancelled = ScriptedSearch([.failure(.cancelled)])
        let stopped = await handler(cancelled).handle(entry("b", account: "on"), now: now, stoppingOn: shutdown)
        XCTAssertEqual(stopped, .stopped)
        XCTAssertEqual(cancelled.calls, 1)

        let cancelledRunning = ScriptedSearch([.failure(.cancelled)])
        guard case .searchFailed = await handler(cancelledRunning).handle(entry("c", account: "on"), now: now, stoppingOn: GracefulShutdown()) else {
            return XCTFail("a provider's own cancel while the process runs is a failure")
        }
        XCTAssertEqual(cancelledRunning.calls, 1)
    }

    /// The finalize stage writes a run's entry again when its request comes back (redelivered
    /// after a SIGKILL, or taken by another instance after a rebalance), with the time of that
    /// write: the same run, so the same question, answered without another paid search. The
    /// run is the record's `run-id` header; an entry without one (an older writer's) is told
    /// by its finishedAt.
    func testTheSameRunsEntryWrittenAgainLaterIsNotSearchedAgain() async {
        let accounts: [AccountID: AccountConfig] = ["on": AccountConfig(accountID: "on", profileFinder: ProfileFinderRule(), updatedAt: now)]
        let search = ScriptedSearch([.success([ProfileCandidate(platform: .x, url: "https://x.com/janedoe", confidence: 0.85)])])
        let handler = ProfileFinderHandler(provider: search, accounts: { accounts[$0] }, minimumConfidence: 0.8, service: "test",
                                           retryDelays: [])
        guard case .found(let found) = await handler.handle(entry("a", account: "on"), runID: "run-1", now: now) else { return XCTFail() }
        var rewritten = entry("a", account: "on")
        rewritten.finishedAt = now.addingTimeInterval(40)  // the redelivered request's write
        let again = await handler.handle(rewritten, runID: "run-1", now: now.addingTimeInterval(40))
        XCTAssertEqual(again, .found(found), "the same command published again")
        XCTAssertEqual(search.calls, 1, "one paid search for the run")

        _ = await handler.handle(rewritten, runID: "run-2", now: now.addingTimeInterval(3600))
        XCTAssertEqual(search.calls, 2, "a re-enrich is another run, searched again")

        // Without the header: the finishedAt tells the runs apart.
        _ = await handler.handle(entry("b", account: "on"), now: now)
        _ = await handler.handle(entry("b", account: "on"), now: now.addingTimeInterval(60))
        XCTAssertEqual(search.calls, 3)
        var later = entry("b", account: "on")
        later.finishedAt = now.addingTimeInterval(3600)
        _ = await handler.handle(later, now: now.addingTimeInterval(3600))
        XCTAssertEqual(search.calls, 4)
    }

    /// A pool match (`<pool lead id>@<offer id>`, a scoring-only copy of a pool lead for
    /// another offer) is not searched: its person is the pool lead's, searched (or not) under the
    /// pool lead's own entry. Each match was another paid search, one per matching offer (8,907
    /// for one offer of the benchmark's pool), and a found profile re-enriched the copy too. A
    /// discovered lead whose id holds an "@" is searched as any other.
    func testAPoolMatchIsNotSearched() async {
        let accounts: [AccountID: AccountConfig] = ["on": AccountConfig(accountID: "on", profileFinder: ProfileFinderRule(), updatedAt: now)]
        let search = ScriptedSearch(Array(repeating: .success([ProfileCandidate(platform: .x, url: "https://x.com/janedoe", confidence: 0.9)]),
                                          count: 2))
        let handler = ProfileFinderHandler(provider: search, accounts: { accounts[$0] }, minimumConfidence: 0.8, service: "test",
                                           retryDelays: [])
        var match = entry(LeadPoolMatcher.matchedLeadID("pool-lead-1", offerID: "offer-2").rawValue, account: "on")
        match.offerID = "offer-2"
        let outcome = await handler.handle(match, runID: "run-1", now: now)
        XCTAssertEqual(outcome, .notApplicable)
        XCTAssertEqual(search.calls, 0)

        guard case .found = await handler.handle(entry("jane@acme.com", account: "on"), runID: "run-1", now: now) else { return XCTFail() }
        XCTAssertEqual(search.calls, 1, "an id with an @ of a lead of its own")
    }

    /// A pool entry written again with the same query (the coordinator merging a web enrichment
    /// into a ready lead's entry, or writing the current run's entry over a superseded run's) is
    /// answered as before without a search: each was another paid vendor call for the same
    /// answer. A changed query, or a changed threshold, searches; a failed search is not kept.
    func testAnEntryWrittenAgainWithTheSameQueryIsNotSearchedAgain() async {
        let accounts: [AccountID: AccountConfig] = [
            "on": AccountConfig(accountID: "on", profileFinder: ProfileFinderRule(), updatedAt: now),
            "strict": AccountConfig(accountID: "strict", profileFinder: ProfileFinderRule(minimumConfidence: 0.9), updatedAt: now),
        ]
        let weak = [ProfileCandidate(platform: .x, url: "https://x.com/janedoe", confidence: 0.85)]
        let search = ScriptedSearch([.success(weak)])
        let handler = ProfileFinderHandler(provider: search, accounts: { accounts[$0] }, minimumConfidence: 0.8, service: "test",
                                           retryDelays: [])
        guard case .found(let found) = await handler.handle(entry("a", account: "on"), now: now) else { return XCTFail() }
        // Written again for the same run (a web enrichment merged in): its finishedAt is the run's.
        let again = await handler.handle(entry("a", account: "on"), now: now.addingTimeInterval(60))
        XCTAssertEqual(again, .found(found), "the same command published again, for a redelivery")
        XCTAssertEqual(search.calls, 1)
        var nextRun = entry("a", account: "on")
        nextRun.finishedAt = now.addingTimeInterval(3600)  // a re-enrich: another run, searched again
        _ = await handler.handle(nextRun, now: now.addingTimeInterval(3600))
        XCTAssertEqual(search.calls, 2)

        let strict = await handler.handle(entry("a", account: "strict"), now: now)
        XCTAssertEqual(strict, .belowThreshold(best: 0.85))
        let strictAgain = await handler.handle(entry("a", account: "strict"), now: now)
        XCTAssertEqual(strictAgain, .belowThreshold(best: 0.85))
        XCTAssertEqual(search.calls, 3, "a threshold of its own is another question")

        var moved = entry("a", account: "strict")
        moved.company = "Acme"
        _ = await handler.handle(moved, now: now)
        XCTAssertEqual(search.calls, 4, "another company is another query")

        let flaky = ScriptedSearch([.failure(.permanent("HTTP 400")), .success(weak)])
        let retrying = ProfileFinderHandler(provider: flaky, accounts: { accounts[$0] }, minimumConfidence: 0.8, service: "test",
                                            retryDelays: [])
        guard case .searchFailed = await retrying.handle(entry("b", account: "on"), now: now) else { return XCTFail() }
        guard case .found = await retrying.handle(entry("b", account: "on"), now: now) else { return XCTFail() }
        XCTAssertEqual(flaky.calls, 2)
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

final class PoolMatchingSettingsTests: XCTestCase {
    /// The finder and the web enricher drain within their process's SHUTDOWN_TIMEOUT_SECONDS too.
    func testTheEnrichersDrainWithinTheirShutdownBound() throws {
        XCTAssertEqual(try ProfileFinderSettings(environment: [:]).runner.drainTimeout, .seconds(8))
        XCTAssertEqual(try ProfileFinderSettings(environment: ["SHUTDOWN_TIMEOUT_SECONDS": "30"]).runner.drainTimeout, .seconds(28))
        XCTAssertEqual(try WebEnricherSettings(environment: ["SHUTDOWN_TIMEOUT_SECONDS": "4"]).runner.drainTimeout, .seconds(3))
    }

    /// The finder and the web enricher read the stages' runner settings, with the stages' reader
    /// (``StageRunnerSettings/init(environment:maxInFlight:)``): a record timeout, a bound on
    /// timed-out handlers and an ordering set reach their runners, and a wrong value is an error
    /// naming its variable. Their in-flight bounds stay their own. Before, both ran with 600 s
    /// whatever `STAGE_RECORD_TIMEOUT_SECONDS` said.
    func testTheEnrichersReadTheStagesRunnerSettings() throws {
        let environment = ["STAGE_RECORD_TIMEOUT_SECONDS": "90", "STAGE_MAX_TIMED_OUT_HANDLERS": "3", "STAGE_ORDERING": "partition"]
        let finder = try ProfileFinderSettings(environment: environment).runner
        let enricher = try WebEnricherSettings(environment: environment).runner
        for (name, runner) in [("profile finder", finder), ("web enricher", enricher)] {
            XCTAssertEqual(runner.recordTimeout, .seconds(90), name)
            XCTAssertEqual(runner.maxTimedOutHandlers, 3, name)
            XCTAssertEqual(runner.ordering, .partition, name)
        }
        XCTAssertEqual(finder.maxInFlight, 50)
        XCTAssertEqual(enricher.maxInFlight, 32)
        XCTAssertThrowsError(try ProfileFinderSettings(environment: ["STAGE_RECORD_TIMEOUT_SECONDS": "0"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "STAGE_RECORD_TIMEOUT_SECONDS")
        }
        XCTAssertThrowsError(try WebEnricherSettings(environment: ["STAGE_MAX_TIMED_OUT_HANDLERS": "many"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "STAGE_MAX_TIMED_OUT_HANDLERS")
        }
    }

    func testSettingsReadPoolMatchingVariables() throws {
        let defaults = try ProfileFinderSettings(environment: [:])
        // At most the vendors' default rate (100 a minute) × the longest wait for a slot (30 s) / 60:
        // more searches at once would time out waiting for slots, and a failed search is not retried.
        XCTAssertEqual(defaults.runner.maxInFlight, 50)
        XCTAssertTrue(defaults.isPoolMatchingEnabled)
        XCTAssertEqual(defaults.poolMatchMinimumFit, LeadPoolMatcher().minimumFit)
        let set = try ProfileFinderSettings(environment: ["POOL_MATCHING_ENABLED": "false", "POOL_MATCH_MIN_FIT": "75"])
        XCTAssertFalse(set.isPoolMatchingEnabled)
        XCTAssertEqual(set.poolMatchMinimumFit, 75)
        XCTAssertThrowsError(try ProfileFinderSettings(environment: ["POOL_MATCHING_ENABLED": "maybe"]))
        XCTAssertThrowsError(try ProfileFinderSettings(environment: ["POOL_MATCH_MIN_FIT": "101"]))
    }
}
