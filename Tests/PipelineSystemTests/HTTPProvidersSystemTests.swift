import Foundation
import JSONCodec
import KafkaTestSupport
import LeadModel
import Runtime
import Streaming
import XCTest

/// The pipeline as real processes with `PROVIDERS=http` and `SCORER=model`, all three APIs
/// served by a stub in this test process.
final class HTTPProvidersSystemTests: XCTestCase {
    static let marker = "served-over-http"

    /// X API v2, the Proxycurl-shaped LinkedIn API and an OpenAI-compatible chat endpoint.
    static func route(_ request: HTTPRequest) -> HTTPResponse {
        let segments = request.path.split(separator: "/").map(String.init)
        guard request.header("authorization")?.hasPrefix("Bearer ") == true else { return .json("{}", status: 401) }
        switch (request.method, segments.first) {
        case ("GET", "2") where segments.count == 5 && segments[1...3] == ["users", "by", "username"]:
            let username = segments[4]
            let id = String(abs(username.hashValue) % 1_000_000_000 + 1)
            return .json("""
                {"data":{"id":"\(id)","name":"\(username)","username":"\(username)","description":"\(marker) bio",
                "verified":false,"protected":false,"receives_your_dm":true,
                "public_metrics":{"followers_count":321,"following_count":12,"tweet_count":5,"listed_count":0}}}
                """)
        case ("GET", "2") where segments.count == 4 && segments[3] == "tweets":
            let created = ISO8601.format(Date().addingTimeInterval(-3 * 86_400))
            return .json("""
                {"data":[{"id":"99\(segments[2])","text":"\(marker): looking for an alternative to Outreach","created_at":"\(created)",
                "public_metrics":{"retweet_count":0,"reply_count":1,"like_count":2,"quote_count":0}}],
                "meta":{"result_count":1}}
                """)
        case ("GET", "api") where request.path == "/api/v2/linkedin":
            let handle = request.query["linkedin_profile_url"]?.split(separator: "/").last.map(String.init) ?? "unknown"
            return .json("""
                {"public_identifier":"\(handle)","full_name":"Person \(handle)","headline":"\(marker) headline",
                "city":"Austin","state":"Texas","country_full_name":"United States","connections":420,"follower_count":99,
                "experiences":[{"company":"Acme SaaS","title":"VP of Demand Generation","starts_at":{"year":2024,"month":5,"day":1},
                "company_linkedin_profile_url":"https://www.linkedin.com/company/acme-saas"}],
                "education":[],"languages":["English"],"certifications":[],"skills":["SaaS"]}
                """)
        case ("GET", "api") where request.path == "/api/linkedin/company":
            return .json("""
                {"name":"Acme SaaS","industry":"B2B software","company_size_on_linkedin":250,"linkedin_internal_id":"4242"}
                """)
        case ("POST", "v1") where request.path == "/v1/chat/completions":
            let content = #"{"fit": 77, "intent": 71, "timing": 33, "buyer_state": "active", "intent_reasons": ["served-over-http"], "state_reason": "stub model"}"#
            let escaped = String(decoding: try! JSONEncoder().encode(content), as: UTF8.self)
            return .json("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\(escaped)}}]}")
        default:
            return .json("{}", status: 404)
        }
    }

    func testEveryLeadReadyWithDataFromHTTPProviders() async throws {
        let server = try HTTPServer { Self.route($0) }
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        try await withPipeline { harness in
            try harness.startAll(environment: [
                "PROVIDERS": "http", "SCORER": "model",
                "X_API_BASE_URL": base, "X_BEARER_TOKEN": "x-test-token", "X_RATE_PER_MINUTE": "60000", "X_RATE_BURST": "100",
                "LINKEDIN_API_BASE_URL": base, "LINKEDIN_API_KEY": "li-test-key", "LINKEDIN_RATE_PER_MINUTE": "60000",
                "LINKEDIN_RATE_BURST": "100",
                "MODEL_BASE_URL": base, "MODEL_NAME": "stub-model", "MODEL_API_KEY": "model-test-key",
            ])
            let leads = harness.makeLeads(30)
            try await harness.publish(leads: leads)
            let pool = try await harness.waitForPool(30, timeoutSeconds: 120)
            let profiles = Dictionary(pool.map { ($0.key, $0.value.profile) }) { first, _ in first }
            let states = try await harness.latestStates()
            for lead in leads {
                XCTAssertEqual(states[lead.leadID]?.status, .ready, "\(lead.leadID)")
                let profile = try XCTUnwrap(profiles[lead.leadID.rawValue], "\(lead.leadID)")
                if lead.linkedinURL != nil {
                    XCTAssertEqual(profile.linkedin?.headline, "\(Self.marker) headline", "\(lead.leadID)")
                    XCTAssertEqual(profile.company?.employeeCount, 250, "\(lead.leadID)")
                }
                if lead.xURL != nil {
                    XCTAssertEqual(profile.x?.bio, "\(Self.marker) bio", "\(lead.leadID)")
                    XCTAssertEqual(profile.activity?.posts.first?.text.hasPrefix(Self.marker), true, "\(lead.leadID)")
                }
                XCTAssertEqual(profile.scores?.scorer, "model:stub-model", "\(lead.leadID)")
                XCTAssertEqual(profile.scores?.fit, 77, "\(lead.leadID)")
            }
        }
    }
}
