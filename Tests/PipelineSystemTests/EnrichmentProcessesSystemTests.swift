import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import LeadModelTestSupport
import LeadRules
import Runtime
import Streaming
import XCTest

/// The optional processes as real executables on the test broker: profile-finder with the
/// pipeline, web-enricher against a local stub site, and `leadctl pool match`.
final class EnrichmentProcessesSystemTests: XCTestCase {
    func testProfileFinderAddsTheOtherPlatformAndTheLeadIsReEnriched() async throws {
        try await withPipeline { harness in
            try await harness.publish(account: AccountConfig(
                accountID: harness.accountID, profileFinder: ProfileFinderRule(minimumConfidence: 0), updatedAt: Date()))
            try harness.startAll()
            try harness.start("profile-finder", environment: ["SIM_PROFILE_SEARCH_LATENCY_MS": "0"])
            let leads = harness.makeLeads(6).filter { $0.xURL == nil }  // LinkedIn only
            XCTAssertEqual(leads.count, 2)
            try await harness.publish(leads: leads)
            var states: [LeadID: LeadState] = [:]
            try await waitUntil("found X profiles re-enriched", timeoutSeconds: 120, pollMilliseconds: 500) {
                states = try await harness.latestStates()
                return leads.allSatisfy { lead in
                    guard let state = states[lead.leadID] else { return false }
                    return state.status == .ready && state.lead.xURL != nil && state.mode == .reEnrich([.x])
                }
            }
            for lead in leads {
                let state = try XCTUnwrap(states[lead.leadID])
                XCTAssertTrue(state.profile.xURL?.hasPrefix("https://x.com/") == true)
                XCTAssertNotNil(state.profile.xOutcome, "the X profile was fetched in the re-enrich run")
            }
            let pool = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool)
            for lead in leads {
                XCTAssertTrue(pool.contains { $0.key == lead.leadID.rawValue && $0.value.profile.xURL != nil }, "\(lead.leadID)")
            }
        }
    }

    func testWebEnricherReadsOnlyTheCompanysOwnSite() async throws {
        let html = """
            <html><head><meta property="og:site_name" content="Acme &amp; Co">
            <meta name="description" content="Anvils, delivered."></head>
            <body><a href="https://www.linkedin.com/company/acme/">in</a></body></html>
            """
        let site = try HTTPServer { request in
            switch request.path {
            case "/": HTTPResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Data(html.utf8))
            case "/away": HTTPResponse(status: 302, headers: [("Location", "https://evil.example/")])
            default: HTTPResponse.text("not found", status: 404)
            }
        }
        defer { site.stop() }
        try await withPipeline { harness in
            try harness.start("web-enricher", environment: ["WEB_ENRICHER_ALLOW_LOOPBACK_HTTP": "true", "WEB_ENRICHER_TIMEOUT_SECONDS": "5"])
            let base = "http://127.0.0.1:\(site.port)"
            let topic = harness.environment.topics.webEnrichmentRequests
            let requests = [
                WebEnrichmentRequested(leadID: "lead-ok", domain: "127.0.0.1", url: base + "/", requestedAt: Date()),
                WebEnrichmentRequested(leadID: "lead-redirect", domain: "127.0.0.1", url: base + "/away", requestedAt: Date()),
                WebEnrichmentRequested(leadID: "lead-other-host", domain: "acme.example", url: base + "/", requestedAt: Date()),
            ]
            for request in requests { try await harness.publish(request, topic: topic, key: request.key) }
            var records: [String: WebEnrichment] = [:]
            try await waitUntil("3 web enrichments", timeoutSeconds: 90, pollMilliseconds: 500) {
                for (key, value) in try await harness.readAll(WebEnrichment.self, topic: harness.environment.topics.webEnrichments) {
                    records[key] = value
                }
                return records.count >= 3
            }
            let ok = try XCTUnwrap(records["lead-ok"])
            XCTAssertEqual(ok.status, .completed, ok.reason ?? "")
            XCTAssertEqual(ok.name, "Acme & Co")
            XCTAssertEqual(ok.companyDescription, "Anvils, delivered.")
            XCTAssertEqual(ok.socialLinks, ["https://linkedin.com/company/acme"])
            // A refused or failed one under its own key, so that it never replaces a completed one.
            XCTAssertEqual(records["lead-redirect#failed"]?.status, .failed)
            XCTAssertTrue(records["lead-redirect#failed"]?.reason?.contains("redirect") == true, records["lead-redirect#failed"]?.reason ?? "")
            XCTAssertEqual(records["lead-other-host#failed"]?.status, .refused)
        }
    }

    func testPoolMatchPublishesScoringOnlyLeadsOnce() async throws {
        try await withPipeline { harness in
            try harness.startAll()
            let leads = harness.makeLeads(3)
            try await harness.publish(leads: leads)
            _ = try await harness.waitForPool(3, timeoutSeconds: 120)
            let offer = OfferConfig.sample(offerID: "offer-second", accountID: harness.accountID)
            try await harness.publish(offer: offer)
            for _ in 0..<2 {
                let (status, _) = try await harness.leadctl(["pool", "match", "--offer", "offer-second", "--min-fit", "0"])
                XCTAssertEqual(status, 0)
            }
            let expected = Set(leads.map { "\($0.leadID.rawValue)@offer-second" })
            var states: [LeadID: LeadState] = [:]
            try await waitUntil("pool matches ready", timeoutSeconds: 120, pollMilliseconds: 500) {
                states = try await harness.latestStates()
                return expected.allSatisfy { states[LeadID($0)]?.status == .ready }
            }
            for id in expected {
                let state = try XCTUnwrap(states[LeadID(id)])
                XCTAssertEqual(state.lead.source, .leadPool)
                XCTAssertEqual(state.mode, .scoringOnly)
                XCTAssertEqual(state.history.filter { $0.kind == .runStarted }.count, 1, "published twice, run once: \(id)")
            }
            var inputs = try await harness.readAll(LeadDiscovered.self, topic: harness.environment.topics.leadsDiscovered)
            let published = inputs.filter { expected.contains($0.key) }.count
            XCTAssertGreaterThanOrEqual(published, expected.count, "each match published")

            // With the matches in the pool, matching again publishes nothing.
            _ = try await harness.waitForPool(2 * leads.count, timeoutSeconds: 60)
            let (status, _) = try await harness.leadctl(["pool", "match", "--offer", "offer-second", "--min-fit", "0"])
            XCTAssertEqual(status, 0)
            inputs = try await harness.readAll(LeadDiscovered.self, topic: harness.environment.topics.leadsDiscovered)
            XCTAssertEqual(inputs.filter { expected.contains($0.key) }.count, published, "nothing published again")
        }
    }

    /// A person is matched into an offer once: the pool holds lead-0 twice (a second lead id,
    /// its LinkedIn handle in capitals) and lead-3 already in the new offer (under another id, its
    /// X handle in capitals). Before, each pool lead id was matched on its own: lead-0 came into
    /// the offer twice and lead-3 a second time.
    func testPoolMatchPublishesEachPersonOnceAndNoneTheOfferHasAlready() async throws {
        try await withPipeline { harness in
            try harness.startAll()
            let second = OfferConfig.sample(offerID: "offer-second", accountID: harness.accountID)
            try await harness.publish(offer: second)
            let leads = harness.makeLeads(4)
            func handle(_ url: String) -> String { String(url.split(separator: "/").last ?? "") }
            var again = leads[0]
            again.leadID = "lead-0-again"
            again.linkedinURL = "https://www.linkedin.com/in/" + handle(try XCTUnwrap(leads[0].linkedinURL)).uppercased()
            again.xURL = nil
            var inSecond = leads[3]
            inSecond.leadID = "lead-3-second"
            inSecond.offerID = second.offerID
            inSecond.linkedinURL = nil
            inSecond.xURL = "https://x.com/" + handle(try XCTUnwrap(leads[3].xURL)).uppercased()
            try await harness.publish(leads: leads + [again, inSecond])
            let pool = try await harness.waitForPool(6, timeoutSeconds: 120)
            let finished = Dictionary(pool.map { ($0.key, $0.value.finishedAt) }) { _, last in last }

            let (status, _) = try await harness.leadctl(["pool", "match", "--offer", "offer-second", "--min-fit", "0"])
            XCTAssertEqual(status, 0)
            let inputs = try await harness.readAll(LeadDiscovered.self, topic: harness.environment.topics.leadsDiscovered)
            let published = Set(inputs.map(\.key).filter { $0.hasSuffix("@offer-second") })
            // Of lead-0's two pool leads, the one finished last; the smaller id when they finished
            // together (as they often do, finalized in one batch).
            let fresher = try XCTUnwrap(finished["lead-0-again"]) > XCTUnwrap(finished["lead-0"]) ? "lead-0-again" : "lead-0"
            XCTAssertEqual(published, ["\(fresher)@offer-second", "lead-1@offer-second", "lead-2@offer-second"])
        }
    }

    /// profile-finder's second loop: a new offer is matched against the pool by itself, its
    /// matches run scoring-only, and publishing the offer again (or a restart) duplicates nothing.
    func testProfileFinderMatchesTheLeadPoolWhenANewOfferIsPublished() async throws {
        try await withPipeline { harness in
            try harness.startAll()
            let leads = harness.makeLeads(8)
            try await harness.publish(leads: leads)
            let poolRecords = try await harness.waitForPool(leads.count, timeoutSeconds: 120)
            var pool: [String: LeadPoolEntry] = [:]
            for (key, entry) in poolRecords { pool[key] = entry }

            // Offer B: another account's offer with an ICP of its own. The minimum fit is chosen from
            // the pool's actual fits (the simulated profiles differ per run) so some match and some do not.
            var offerB = OfferConfig.sample(offerID: "offer-b", accountID: "acct-b")
            offerB.icp = IdealCustomerProfile(
                titles: ["VP of Demand Generation", "Head of Growth", "Chief Revenue Officer", "VP Sales"],
                seniorities: [.vp, .director, .cLevel], industries: ["SaaS", "B2B software", "Marketing Technology"],
                minimumEmployees: 20, maximumEmployees: 5000, locations: ["United States"],
                painPoints: ["pipeline"], competitors: [], customIntentKeywords: [])
            let fits = LeadPoolMatcher(minimumFit: 0).matches(offer: offerB, pool: Array(pool.values), at: Date())
            let distinct = Set(fits.map(\.fit)).sorted()
            guard distinct.count >= 2 else {
                return XCTFail("the pool's fits for offer B do not differ (\(distinct)); cannot split fitting from not fitting")
            }
            let minimumFit = distinct[distinct.count / 2]
            let expected = Set(fits.filter { $0.fit >= minimumFit }.map(\.lead.leadID))
            let notFitting = Set(leads.map { LeadPoolMatcher.matchedLeadID($0.leadID, offerID: offerB.offerID) }).subtracting(expected)
            XCTAssertFalse(expected.isEmpty)
            XCTAssertFalse(notFitting.isEmpty)

            let finderEnvironment = ["SIM_PROFILE_SEARCH_LATENCY_MS": "0", "POOL_MATCH_MIN_FIT": String(minimumFit)]
            // Without the harness's offer for it: the pool is matched to every offer published.
            try await harness.publish(account: AccountConfig(accountID: "acct-b", updatedAt: Date()), withOffer: false)
            var finder = try harness.start("profile-finder", environment: finderEnvironment)
            try await harness.publish(offer: offerB)
            var states: [LeadID: LeadState] = [:]
            try await waitUntil("offer B's matches ready", timeoutSeconds: 120, pollMilliseconds: 500) {
                states = try await harness.latestStates()
                return expected.allSatisfy { states[$0]?.status == .ready }
            }
            for id in expected {
                let state = try XCTUnwrap(states[id])
                XCTAssertEqual(state.lead.source, .leadPool)
                XCTAssertEqual(state.mode, .scoringOnly)
                XCTAssertEqual(state.lead.accountID, "acct-b")
                let phases = Set(state.history.compactMap(\.phase))
                XCTAssertEqual(phases, [.scoring, .finalize], "only scoring and finalize ran for \(id): \(state.history)")
            }
            _ = try await harness.waitForPool(leads.count + expected.count, timeoutSeconds: 60)

            // Offer B published again (same ICP), then the process restarted: nothing is duplicated.
            offerB.updatedAt = Date()
            try await harness.publish(offer: offerB)
            try await Task.sleep(for: .seconds(3))
            try await harness.stop(finder)
            finder = try harness.start("profile-finder", environment: finderEnvironment)
            try await Task.sleep(for: .seconds(6))

            states = try await harness.latestStates()
            for id in notFitting { XCTAssertNil(states[id], "\(id) does not fit offer B") }
            for id in expected {
                XCTAssertEqual(states[id]?.history.filter { $0.kind == .runStarted }.count, 1, "one run: \(id)")
            }
            let inputs = try await harness.readAll(LeadDiscovered.self, topic: harness.environment.topics.leadsDiscovered)
            let published = inputs.filter { $0.key.hasSuffix("@offer-b") }.map(\.key)
            XCTAssertEqual(published.sorted(), expected.map(\.rawValue).sorted(), "each match published once")
            let poolAfter = try await harness.readAll(LeadPoolEntry.self, topic: harness.environment.topics.leadPool)
            XCTAssertEqual(Set(poolAfter.map(\.key).filter { $0.contains("@") }), Set(expected.map(\.rawValue)))
            XCTAssertEqual(poolAfter.filter { $0.key.contains("@") }.count, expected.count, "one pool entry per match")
        }
    }

    /// A person whose lead for an offer is still running (a search found them for it; the
    /// account's billing is paused, so the lead waits) is not matched into that offer from the
    /// pool when the finder starts and scans it; everyone else is. Before, the finder saw only
    /// the pool and matched them again under `<pool lead id>@<offer id>`.
    func testPoolMatchingLeavesOutAPersonWhoseLeadForTheOfferIsStillRunning() async throws {
        try await withPipeline { harness in
            try harness.startAll()
            let topics = harness.environment.topics
            let leads = harness.makeLeads(6)
            try await harness.publish(leads: leads)
            let pool = try await harness.waitForPool(leads.count, timeoutSeconds: 120).map(\.value)
            let offerB = OfferConfig.sample(offerID: "offer-b", accountID: "acct-b")
            let fitting = Set(LeadPoolMatcher(minimumFit: 0).matches(offer: offerB, pool: pool, at: Date()).map(\.lead.leadID))
            let person = leads[0]
            XCTAssertTrue(fitting.contains(LeadPoolMatcher.matchedLeadID(person.leadID, offerID: offerB.offerID)))

            try await harness.publish(account: AccountConfig(accountID: "acct-b", updatedAt: Date()), withOffer: false)
            try await harness.publish(offer: offerB)
            try await harness.publishBilling(.paused, account: "acct-b")
            let found = LeadDiscovered(leadID: "search-b-lead-1", accountID: "acct-b", offerID: offerB.offerID,
                                       sourceSearchID: "search-b", source: .keywordSearch, name: person.name,
                                       linkedinURL: person.linkedinURL, xURL: person.xURL, discoveredAt: Date())
            try await harness.publish(found, topic: topics.leadsDiscovered, key: found.leadID.rawValue)
            try await waitUntil("the search's lead waits on the billing pause", timeoutSeconds: 60, pollMilliseconds: 300) {
                try await harness.latestStates(loadingPoolEntries: false)[found.leadID]?.status == .billingPaused
            }

            try harness.start("profile-finder", environment: ["SIM_PROFILE_SEARCH_LATENCY_MS": "0", "POOL_MATCH_MIN_FIT": "0"])
            try await waitUntil("offer B matched against the pool", timeoutSeconds: 120, pollMilliseconds: 300) {
                try harness.logLines().filter { $0.key.hasPrefix("profile-finder") }.values.joined()
                    .contains { $0.contains("offer matched against the pool") && $0.contains("offer-b") }
            }
            let published = try await harness.readAll(LeadDiscovered.self, topic: topics.leadsDiscovered)
                .filter { $0.key.hasSuffix("@offer-b") }.map { LeadID($0.key) }
            XCTAssertEqual(Set(published), fitting.subtracting([LeadPoolMatcher.matchedLeadID(person.leadID, offerID: offerB.offerID)]))
        }
    }
}
