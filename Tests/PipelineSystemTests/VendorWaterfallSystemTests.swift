import Foundation
import KafkaTestSupport
import LeadModel
import Runtime
import Streaming
import Synchronization
import XCTest

/// Two licensed vendors in a waterfall, the first running out of credits mid-run, as real
/// processes against stubs serving each vendor's documented reply shapes.
final class VendorWaterfallSystemTests: XCTestCase {
    /// People Data Labs: matches until `credits` are spent, then 402 (per entry in a bulk call),
    /// until refilled; remembers when it was called and when it refused.
    final class PDLStub: Sendable {
        private let state = Mutex((credits: 0, matched: [String](), calls: [Date](), refusals: [Date](), largestCall: 0))

        init(credits: Int) { state.withLock { $0.credits = credits } }

        func refill(_ credits: Int) { state.withLock { $0.credits = credits } }
        var matched: [String] { state.withLock { $0.matched } }
        var calls: [Date] { state.withLock { $0.calls } }
        var refusals: [Date] { state.withLock { $0.refusals } }
        /// The most people one call asked for.
        var largestCall: Int { state.withLock { $0.largestCall } }

        static let refusal = "{\"status\":402,\"error\":{\"type\":\"payment_required\",\"message\":\"You have hit your account maximum\"}}"

        func route(_ request: HTTPRequest) -> HTTPResponse {
            guard request.header("x-api-key") == "pdl-test-key" else { return .json("{\"status\":401}", status: 401) }
            let profiles: [String]
            switch (request.method, request.path) {
            case ("GET", "/v5/person/enrich"):
                profiles = [request.query["profile"] ?? ""]
            case ("POST", "/v5/person/bulk"):
                struct Bulk: Decodable {
                    struct Item: Decodable { struct Params: Decodable { var profile: [String] }; var params: Params }
                    var requests: [Item]
                }
                guard let bulk = try? JSONDecoder().decode(Bulk.self, from: request.body) else { return .json("{}", status: 400) }
                profiles = bulk.requests.map { $0.params.profile.first ?? "" }
            default:
                return .json("{\"status\":404}", status: 404)
            }
            let entries = state.withLock { state -> [String?] in
                state.calls.append(Date())
                state.largestCall = max(state.largestCall, profiles.count)
                return profiles.map { profile in
                    guard state.credits > 0 else {
                        state.refusals.append(Date())
                        return nil
                    }
                    state.credits -= 1
                    let handle = profile.split(separator: "/").last.map(String.init) ?? ""
                    state.matched.append(handle)
                    return "{\"status\":200,\"likelihood\":9,\"data\":\(Self.person(handle))}"
                }
            }
            if request.method == "GET" {
                return entries[0].map { .json($0) } ?? .json(Self.refusal, status: 402)
            }
            return .json("[\(entries.map { $0 ?? Self.refusal }.joined(separator: ","))]")
        }

        static func person(_ handle: String) -> String {
            """
            {"full_name":"Person \(handle)","linkedin_username":"\(handle)","linkedin_url":"linkedin.com/in/\(handle)",
            "job_title":"VP of Demand Generation","job_company_name":"Acme SaaS","job_company_size":"201-500",
            "job_company_industry":"computer software","job_company_website":"acmesaas.com","location_name":"Austin, Texas, United States",
            "experience":[],"education":[],"skills":[]}
            """
        }
    }

    /// Apollo: always matches, counting whom it matched.
    final class ApolloStub: Sendable {
        private let matchedHandles = Mutex([String]())
        var matched: [String] { matchedHandles.withLock { $0 } }

        func route(_ request: HTTPRequest) -> HTTPResponse {
            guard request.header("x-api-key") == "apollo-test-key" else { return .json("{}", status: 401) }
            struct Detail: Decodable { var linkedin_url: String? }
            struct Bulk: Decodable { var details: [Detail] }
            let urls: [String]
            switch (request.method, request.path) {
            case ("POST", "/api/v1/people/match"):
                urls = [(try? JSONDecoder().decode(Detail.self, from: request.body))?.linkedin_url ?? ""]
            case ("POST", "/api/v1/people/bulk_match"):
                urls = ((try? JSONDecoder().decode(Bulk.self, from: request.body))?.details ?? []).map { $0.linkedin_url ?? "" }
            default:
                return .json("{}", status: 404)
            }
            let handles = urls.map { $0.split(separator: "/").last.map(String.init) ?? "" }
            matchedHandles.withLock { $0 += handles }
            let people = handles.map(Self.person)
            return request.path.hasSuffix("bulk_match")
                ? .json("{\"status\":\"success\",\"matches\":[\(people.joined(separator: ","))]}")
                : .json("{\"person\":\(people[0])}")
        }

        static func person(_ handle: String) -> String {
            """
            {"id":"a-\(handle)","name":"Person \(handle)","linkedin_url":"http://www.linkedin.com/in/\(handle)",
            "title":"VP of Demand Generation","headline":"VP Demand Gen","city":"Austin","state":"Texas","country":"United States",
            "employment_history":[{"current":true,"start_date":"2024-05-01","end_date":null,"organization_name":"Acme SaaS",
            "title":"VP of Demand Generation"}],
            "organization":{"name":"Acme SaaS","primary_domain":"acmesaas.com","industry":"computer software","estimated_num_employees":250}}
            """
        }
    }

    func testTheFirstVendorRunsOutMidRunAndLeadsFinishFromTheSecondWithoutPausingTheAccount() async throws {
        let pdl = PDLStub(credits: 6)
        let apollo = ApolloStub()
        let pdlServer = try HTTPServer { pdl.route($0) }
        let apolloServer = try HTTPServer { apollo.route($0) }
        let xServer = try HTTPServer { HTTPProvidersSystemTests.route($0) }
        defer { [pdlServer, apolloServer, xServer].forEach { $0.stop() } }
        let circuitSeconds = 10.0

        try await withPipeline { harness in
            let metricsPort = TestBroker.freeLoopbackPort()
            let vendors = [
                "PROVIDERS": "http", "LINKEDIN_VENDORS": "pdl,apollo", "VENDOR_CIRCUIT_OPEN_SECONDS": String(Int(circuitSeconds)),
                "PDL_API_BASE_URL": pdlServer.baseURL.absoluteString, "PDL_API_KEY": "pdl-test-key",
                "PDL_RATE_PER_MINUTE": "60000", "PDL_RATE_BURST": "100",
                "APOLLO_API_BASE_URL": apolloServer.baseURL.absoluteString, "APOLLO_API_KEY": "apollo-test-key",
                "APOLLO_RATE_PER_MINUTE": "60000", "APOLLO_RATE_BURST": "100",
                "X_API_BASE_URL": xServer.baseURL.absoluteString, "X_BEARER_TOKEN": "x-test-token",
                "X_RATE_PER_MINUTE": "60000", "X_RATE_BURST": "100",
            ]
            for service in ["coordinator", "activity-stage", "scoring-stage", "finalize-stage"] {
                try harness.start(service, environment: vendors)
            }
            try harness.start("profile-stage", environment: vendors.merging(["METRICS_PORT": String(metricsPort)]) { _, new in new })
            func metric(_ series: String) async throws -> Double? {
                let text = try await httpGet("http://127.0.0.1:\(metricsPort)/metrics").1
                return text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
            }

            // Two waves of LinkedIn leads; PDL has credits for 6, so it runs out in the first wave,
            // and the second comes while its circuit is open.
            let leads = harness.makeLeads(30).filter { $0.linkedinURL != nil }
            try await harness.publish(leads: Array(leads.prefix(10)))
            _ = try await harness.waitForPool(10, timeoutSeconds: 120)
            XCTAssertEqual(pdl.matched.count, 6, "PDL's credits were all used")
            XCTAssertFalse(pdl.refusals.isEmpty, "and then it refused")
            XCTAssertGreaterThan(pdl.largestCall, 1, "leads in flight shared PDL's bulk endpoint")
            let callsBeforeSecondWave = pdl.calls.count
            try await harness.publish(leads: Array(leads.dropFirst(10)))
            let pool = try await harness.waitForPool(leads.count, timeoutSeconds: 120)
            XCTAssertEqual(pdl.calls.count, callsBeforeSecondWave, "skipped while its circuit is open")
            let skipped = try await metric("pipeline_vendor_lookups_total{vendor=\"pdl\",outcome=\"skipped\"}")
            let circuitOpen = try await metric("pipeline_vendor_circuit_open{vendor=\"pdl\"}")
            XCTAssertGreaterThan(skipped ?? 0, 0)
            XCTAssertEqual(circuitOpen, 1)

            let states = try await harness.latestStates()
            for lead in leads {
                XCTAssertEqual(states[lead.leadID]?.status, .ready, "\(lead.leadID): no lead waits on billing")
            }
            var fromVendor: [String: Int] = [:]
            for (_, entry) in pool {
                let identity = entry.profile.linkedin?.sources?.first { $0.group == .identity }
                XCTAssertNotNil(identity, "\(entry.profile.leadID): the profile says which vendor gave it")
                fromVendor[identity?.vendor ?? "none", default: 0] += 1
            }
            XCTAssertEqual(fromVendor["pdl"], 6, "PDL's matches are the profiles it gave")
            XCTAssertEqual(fromVendor["apollo"], leads.count - 6, "the rest came from Apollo")

            // Credits per vendor on the billing-usage records, once each, and in the metrics.
            let usage = try await harness.readAll(BillingUsage.self, topic: harness.environment.topics.billingUsage)
            XCTAssertEqual(usage.count, Set(usage.map(\.value.idempotencyKey)).count, "nothing charged twice")
            XCTAssertEqual(usage.filter { $0.value.charges.contains { $0.provider == "pdl" } }.count, 6)
            XCTAssertEqual(usage.filter { $0.value.charges.contains { $0.provider == "apollo" } }.count, leads.count - 6)
            let pdlCredits = try await metric("pipeline_vendor_credits_total{vendor=\"pdl\"}")
            let apolloCredits = try await metric("pipeline_vendor_credits_total{vendor=\"apollo\"}")
            XCTAssertEqual(pdlCredits, 6)
            XCTAssertEqual(apolloCredits, Double(leads.count - 6))

            // No customer account paused.
            let accounts = try await harness.readAll(AccountConfig.self, topic: harness.environment.topics.accounts)
            XCTAssertFalse(accounts.contains { $0.value.billingState == .paused }, "a vendor's credits never pause a customer")

            // Refilled, PDL is called again once its circuit's time has passed, and not before.
            pdl.refill(100)
            var sent = 0
            try await waitUntil("PDL called again", timeoutSeconds: 60, pollMilliseconds: 500) {
                if pdl.matched.count > 6 { return true }
                sent += 1
                try await harness.publish(leads: harness.makeLeads(1, search: "search-2", prefix: "later-\(sent)"))
                return false
            }
            let firstRefusal = try XCTUnwrap(pdl.refusals.first)
            let callAfter = try XCTUnwrap(pdl.calls.first { $0 > pdl.refusals.last! })
            XCTAssertGreaterThanOrEqual(callAfter.timeIntervalSince(firstRefusal), circuitSeconds - 0.5, "the circuit stayed open for its time")
        }
    }
}
