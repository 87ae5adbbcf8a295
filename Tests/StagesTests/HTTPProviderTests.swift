import Foundation
import JSONCodec
import LeadModel
import LeadRules
import Runtime
import Stages
import Synchronization
import XCTest

/// Response bodies in the documented shapes.
enum ProviderSamples {
    static func xUser(username: String, id: String = "1234567890", bio: String = "Growth at Acme. Writing about outbound automation.") -> String {
        """
        {"data":{"id":"\(id)","name":"Jane Doe","username":"\(username)","description":"\(bio)",
        "profile_image_url":"https://pbs.twimg.com/profile_images/1/a.jpg","verified":true,"protected":false,
        "receives_your_dm":true,"location":"San Francisco","url":"https://t.co/x",
        "entities":{"url":{"urls":[{"start":0,"end":23,"url":"https://t.co/x","expanded_url":"https://acme.com","display_url":"acme.com"}]}},
        "public_metrics":{"followers_count":4200,"following_count":310,"tweet_count":900,"listed_count":12}}}
        """
    }

    static func xTweets(username: String, text: String = "We are looking for an alternative to Outreach for manual prospecting",
                        next: String? = nil, date: Date = Date().addingTimeInterval(-2 * 86_400)) -> String {
        let created = ISO8601.format(date)
        let meta = next.map { "\"next_token\":\"\($0)\"," } ?? ""
        return """
            {"data":[{"id":"1801","text":"\(text) @gong_io","created_at":"\(created)",
            "public_metrics":{"retweet_count":2,"reply_count":3,"like_count":14,"quote_count":1},
            "entities":{"mentions":[{"start":0,"end":8,"username":"gong_io","id":"77"}]}}],
            "includes":{"users":[{"id":"77","name":"Gong","username":"gong_io","verified_type":"business",
            "public_metrics":{"followers_count":90000,"following_count":1,"tweet_count":1,"listed_count":1}}]},
            "meta":{\(meta)"result_count":1,"newest_id":"1801","oldest_id":"1801"}}
            """
    }

    static func linkedInPerson(handle: String, headline: String = "VP of Demand Generation at Acme SaaS",
                               companyURL: String = "https://www.linkedin.com/company/acme-saas") -> String {
        """
        {"public_identifier":"\(handle)","full_name":"Jane Doe","headline":"\(headline)",
        "occupation":"VP of Demand Generation at Acme SaaS","summary":"Pipeline builder.","city":"San Francisco",
        "state":"California","country":"US","country_full_name":"United States","follower_count":1200,"connections":500,
        "experiences":[
          {"company":"Acme SaaS","title":"VP of Demand Generation","starts_at":{"day":1,"month":3,"year":2025},"ends_at":null,
           "company_linkedin_profile_url":"\(companyURL)"},
          {"company":"Northwind","title":"Director of Marketing","starts_at":{"day":1,"month":1,"year":2020},
           "ends_at":{"day":28,"month":2,"year":2025},"company_linkedin_profile_url":"https://www.linkedin.com/company/northwind"}],
        "education":[{"school":"Stanford University","degree_name":"BSc","field_of_study":"Economics","ends_at":{"year":2012}}],
        "languages":["English","Spanish"],"certifications":[{"name":"HubSpot Inbound","authority":"HubSpot"}],
        "skills":["Demand Generation","Salesforce"]}
        """
    }

    static let linkedInCompany = """
        {"name":"Acme SaaS","industry":"Computer Software","company_size":[201,500],"company_size_on_linkedin":250,
        "hq":{"city":"San Francisco","state":"CA","country":"US"},"website":"https://www.acmesaas.com","linkedin_internal_id":"98765"}
        """
}

final class HTTPProviderTests: XCTestCase {
    // MARK: - X

    func testXProfileFromFullData() async throws {
        let stub = try StubAPI { request in
            guard request.path == "/2/users/by/username/janedoe" else { return .json("{}", status: 500) }
            return .json(ProviderSamples.xUser(username: "janedoe"))
        }
        let profile = try await HTTPXProvider(client: stub.client()).fetchProfile(username: "janedoe", attempt: 1)
        XCTAssertEqual(profile.userID, "1234567890")
        XCTAssertEqual(profile.followersCount, 4200)
        XCTAssertEqual(profile.followingCount, 310)
        XCTAssertTrue(profile.isVerified)
        XCTAssertTrue(profile.canDM)
        XCTAssertEqual(profile.bio, "Growth at Acme. Writing about outbound automation.")
        XCTAssertEqual(profile.location, "San Francisco")
        XCTAssertEqual(profile.url, "https://acme.com", "the expanded link, not the t.co one")
        let request = try XCTUnwrap(stub.requests.first)
        XCTAssertEqual(request.query["user.fields"], HTTPXProvider.userFields)
        XCTAssertEqual(request.header("authorization"), "Bearer test-secret-token")
    }

    func testXStatusCodesMapToProviderErrors() async throws {
        let cases: [(HTTPResponse, ProviderError)] = [
            (.json("{\"title\":\"Not Found\"}", status: 404), .notFound),
            (.json("{\"errors\":[{\"title\":\"Not Found Error\",\"type\":\"https://api.twitter.com/2/problems/resource-not-found\"}]}"), .notFound),
            (.json("{}", status: 503), .transient("x: HTTP 503")),
            (.json("{\"data\":", status: 200), .transient("x: unreadable reply (8 bytes)")),
        ]
        for (response, expected) in cases {
            let stub = try StubAPI { _ in response }
            do {
                _ = try await HTTPXProvider(client: stub.client()).fetchProfile(username: "janedoe", attempt: 1)
                XCTFail("expected \(expected)")
            } catch {
                XCTAssertEqual(error, expected)
                XCTAssertEqual(error.isRetriable, expected.isRetriable)
            }
        }
    }

    func testX429WithResetHeaderPausesTheWholeProvider() async throws {
        let reset = Int(Date().timeIntervalSince1970) + 120
        let stub = try StubAPI { _ in
            HTTPResponse.json("{\"title\":\"Too Many Requests\",\"errors\":[{\"code\":88}]}", status: 429,
                              headers: [("x-rate-limit-limit", "300"), ("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", "\(reset)")])
        }
        let limiter = RateLimiter(ratePerMinute: 60_000, burst: 100, maxWaitSeconds: 5)
        let provider = HTTPXProvider(client: stub.client(limiter: limiter))
        do {
            _ = try await provider.fetchProfile(username: "janedoe", attempt: 1)
            XCTFail("expected rate limited")
        } catch {
            guard case .rateLimited(let retryAfter?) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(retryAfter, 120, accuracy: 3)
        }
        XCTAssertEqual(limiter.pausedSeconds, 120, accuracy: 3)
        // Every other caller of the provider now waits (here: longer than allowed, so fails fast)
        // without sending anything.
        do {
            _ = try await provider.fetchProfile(username: "other", attempt: 1)
            XCTFail("expected rate limited")
        } catch {
            guard case .rateLimited = error else { return XCTFail("got \(error)") }
        }
        XCTAssertEqual(stub.count, 1, "the second call must not reach the provider")
    }

    func testShort429WaitsThenEveryoneContinues() async throws {
        let calls = StubCounter()
        let stub = try StubAPI { request in
            if calls.next() == 1 { return HTTPResponse.json("{}", status: 429, headers: [("Retry-After", "1")]) }
            return .json(ProviderSamples.xUser(username: String(request.path.split(separator: "/").last ?? "")))
        }
        let provider = HTTPXProvider(client: stub.client(limiter: RateLimiter(ratePerMinute: 60_000, burst: 100, maxWaitSeconds: 10)))
        do {
            _ = try await provider.fetchProfile(username: "first", attempt: 1)
            XCTFail("expected rate limited")
        } catch {
            XCTAssertEqual(error, .rateLimited(retryAfter: 1))
        }
        let started = Date()
        let profile = try await provider.fetchProfile(username: "second", attempt: 1)
        XCTAssertEqual(profile.username, "second")
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.8, "the next caller waited for the reset")
    }

    func testSlowReplyTimesOutAsTransient() async throws {
        let stub = try StubAPI { _ in
            try? await Task.sleep(for: .seconds(3))
            return .json(ProviderSamples.xUser(username: "janedoe"))
        }
        let started = Date()
        do {
            _ = try await HTTPXProvider(client: stub.client(timeout: 1)).fetchProfile(username: "janedoe", attempt: 1)
            XCTFail("expected a timeout")
        } catch {
            guard case .transient(let reason) = error else { return XCTFail("got \(error)") }
            XCTAssertTrue(reason.contains("no answer within"), reason)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5)
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.9, "the timeout is the configured one")
    }

    /// A 401 (403 at X) stops the provider: nothing more is sent during its stop. Every call
    /// fails retriably meanwhile, as the credentials are the platform's to fix, not the lead's:
    /// the coordinator retries the phase, so the leads of a key rotated under a running stage are
    /// enriched once it works again, rather than finished without their profiles.
    func testX401StopsTheProvider() async throws {
        for status in [401, 403] {
            let stub = try StubAPI { _ in .json("{\"title\":\"Unauthorized\"}", status: status) }
            let provider = HTTPXProvider(client: stub.client())
            for username in ["janedoe", "other"] {
                do {
                    _ = try await provider.fetchProfile(username: username, attempt: 1)
                    XCTFail("expected a failure")
                } catch {
                    guard case .unauthorized(let reason) = error else { return XCTFail("got \(error)") }
                    XCTAssertTrue(reason.contains("HTTP \(status)") && reason.contains("stopped"), reason)
                    XCTAssertTrue(error.isRetriable)
                }
            }
            XCTAssertEqual(stub.count, 1, "after \(status) the provider sends nothing more")
            XCTAssertNotNil(provider.client.stoppedReason)
        }
    }

    /// A stopped client tries again once ``ProviderHTTPClient/stopSeconds`` have passed: a 401
    /// that a gateway answered once stopped the provider until the process restarted, and a
    /// healthy stage (no restart comes) failed every lead's lookup for ever.
    func testAStoppedProviderTriesAgainAfterItsStop() async throws {
        let rejecting = Mutex(true)
        let stub = try StubAPI { _ in
            rejecting.withLock { $0 } ? .json("{\"title\":\"Unauthorized\"}", status: 401) : .json(ProviderSamples.xUser(username: "janedoe"))
        }
        let clock = Mutex(Date(timeIntervalSince1970: 1_000_000))
        let client = ProviderHTTPClient(
            name: "x", baseURL: stub.baseURL, credential: Secret("test-secret-token"), timeoutSeconds: 2, limiter: nil,
            forbidden: .credentialsRejected, stopSeconds: 300, now: { clock.withLock { $0 } },
            logger: Logger(service: "test", level: .error, sink: { _ in }))
        let provider = HTTPXProvider(client: client)
        for _ in 0..<2 {
            do {
                _ = try await provider.fetchProfile(username: "janedoe", attempt: 1)
                XCTFail("expected a failure")
            } catch {
                guard case .unauthorized(let reason) = error else { return XCTFail("got \(error)") }
                XCTAssertTrue(reason.contains("stopped for 300 s"), reason)
            }
        }
        XCTAssertEqual(stub.count, 1, "nothing is sent while stopped")
        // The stop runs out: one call goes out; rejected again, it stops the client again.
        clock.withLock { $0 += 301 }
        for _ in 0..<2 {
            do {
                _ = try await provider.fetchProfile(username: "janedoe", attempt: 1)
                XCTFail("expected a failure")
            } catch {
                guard case .unauthorized = error else { return XCTFail("got \(error)") }
            }
        }
        XCTAssertEqual(stub.count, 2, "one call per stop")
        rejecting.withLock { $0 = false }
        clock.withLock { $0 += 299 }
        XCTAssertNotNil(client.stoppedReason)
        clock.withLock { $0 += 2 }
        XCTAssertNil(client.stoppedReason)
        let profile = try await provider.fetchProfile(username: "janedoe", attempt: 1)
        XCTAssertEqual(profile.username, "janedoe")
        XCTAssertEqual(stub.count, 3)
        _ = try await provider.fetchProfile(username: "janedoe", attempt: 1)
        XCTAssertEqual(stub.count, 4, "the key works: calls go out again")
    }

    /// A user id that is no number of 64 bits is refused without a call, and quoted in part: X's
    /// reply gave it, and the whole of a 4 MB one made the activity result too large to write.
    func testAnImpossibleUserIDIsRefusedAndQuotedInPart() async throws {
        let stub = try StubAPI { _ in .json("{}") }
        let provider = HTTPXProvider(client: stub.client())
        // One digit and 100,000 combining accents is one Character: cut by scalars, not Characters.
        for id in [String(repeating: "a", count: 100_000), String(repeating: "1", count: 21), "", "12a", "١٢٣",
                   "1" + String(repeating: "\u{0301}", count: 100_000)] {
            do {
                _ = try await provider.fetchRecentPosts(userID: id, username: "janedoe", since: Date())
                XCTFail("\(id.prefix(30)) was accepted")
            } catch {
                guard case .permanent(let reason) = error else { return XCTFail("got \(error)") }
                XCTAssertLessThan(reason.unicodeScalars.count, 120, String(reason.unicodeScalars.prefix(200)))
            }
        }
        XCTAssertEqual(stub.count, 0)
    }

    func testInvalidUsernamesAreNeverSent() async throws {
        let stub = try StubAPI { _ in .json(ProviderSamples.xUser(username: "x")) }
        let provider = HTTPXProvider(client: stub.client())
        for bad in ["../admin", "evil.com/x", "jane doe", "", "a_name_that_is_far_too_long", "home"] {
            do {
                _ = try await provider.fetchProfile(username: bad, attempt: 1)
                XCTFail("\(bad) was accepted")
            } catch {
                guard case .permanent = error else { return XCTFail("\(bad): \(error)") }
            }
        }
        XCTAssertEqual(stub.count, 0)
    }

    func testActivityFromXPostsFollowsPagesAndBuildsTheOrbit() async throws {
        let stub = try StubAPI { request in
            if request.path.hasPrefix("/2/users/by/username/") { return .json(ProviderSamples.xUser(username: "janedoe")) }
            if request.path == "/2/users/1234567890/tweets" {
                return request.query["pagination_token"] == nil
                    ? .json(ProviderSamples.xTweets(username: "janedoe", next: "page2"))
                    : .json("{\"meta\":{\"result_count\":0}}")
            }
            return .json("{}", status: 404)
        }
        let since = Date().addingTimeInterval(-180 * 86_400)
        let raw = try await HTTPActivityProvider(x: HTTPXProvider(client: stub.client())).fetchActivity(
            ActivityQuery(leadID: "lead-1", linkedinHandle: "janedoe", xUsername: "janedoe", since: since), attempt: 1)
        XCTAssertEqual(raw.posts.count, 1)
        XCTAssertEqual(raw.posts.first?.url, "https://x.com/janedoe/status/1801")
        XCTAssertEqual(raw.posts.first?.likes, 14)
        XCTAssertEqual(raw.posts.first?.reposts, 3)
        XCTAssertEqual(raw.interactions.map(\.handle), ["gong_io"])
        XCTAssertEqual(raw.interactions.first?.isOrganization, true)
        XCTAssertEqual(raw.interactions.first?.followers, 90_000)
        let pages = stub.requests.filter { $0.path.hasSuffix("/tweets") }
        XCTAssertEqual(pages.count, 2)
        XCTAssertEqual(pages[0].query["exclude"], "retweets,replies")
        XCTAssertEqual(pages[0].query["max_results"], "100")
        XCTAssertEqual(pages[0].query["start_time"], HTTPXProviderDate.format(since))
        XCTAssertEqual(pages[1].query["pagination_token"], "page2")
    }

    func testPostMetricsAtTheLimitOfAnIntegerAreKeptWithoutOverflow() async throws {
        let top = Int.max
        let stub = try StubAPI { request in
            if request.path.hasPrefix("/2/users/by/username/") { return .json(ProviderSamples.xUser(username: "janedoe")) }
            let page = ProviderSamples.xTweets(username: "janedoe").replacingOccurrences(
                of: "\"retweet_count\":2", with: "\"retweet_count\":\(top)")
            return .json(page)
        }
        let raw = try await HTTPActivityProvider(x: HTTPXProvider(client: stub.client())).fetchActivity(
            ActivityQuery(leadID: "lead-1", linkedinHandle: nil, xUsername: "janedoe", since: Date().addingTimeInterval(-30 * 86_400)),
            attempt: 1)
        XCTAssertEqual(raw.posts.first?.reposts, top, "reposts and quotes add up to at most the largest integer")
    }

    func testActivityWithoutPostsIsEmptyAndLinkedInOnlyIsPermanent() async throws {
        let stub = try StubAPI { request in
            request.path.hasSuffix("/tweets") ? .json("{\"meta\":{\"result_count\":0}}") : .json(ProviderSamples.xUser(username: "janedoe"))
        }
        let provider = HTTPActivityProvider(x: HTTPXProvider(client: stub.client()))
        let raw = try await provider.fetchActivity(
            ActivityQuery(leadID: "lead-1", linkedinHandle: nil, xUsername: "janedoe", since: Date().addingTimeInterval(-86_400)), attempt: 1)
        XCTAssertEqual(raw, RawActivity(posts: [], interactions: []))
        let before = stub.count
        do {
            _ = try await provider.fetchActivity(
                ActivityQuery(leadID: "lead-2", linkedinHandle: "janedoe", xUsername: nil, since: Date()), attempt: 1)
            XCTFail("expected a permanent failure")
        } catch {
            guard case .permanent = error else { return XCTFail("got \(error)") }
        }
        XCTAssertEqual(stub.count, before)
    }

    // MARK: - LinkedIn

    func testLinkedInProfileAndCompanyFromFullData() async throws {
        let stub = try StubAPI { request in
            switch request.path {
            case "/api/v2/linkedin": .json(ProviderSamples.linkedInPerson(handle: "janedoe"))
            case "/api/linkedin/company": .json(ProviderSamples.linkedInCompany)
            default: .json("{}", status: 404)
            }
        }
        let result = try await HTTPLinkedInProvider(client: stub.client(name: "linkedin", forbidden: .outOfCredits))
            .fetchProfile(handle: "janedoe", attempt: 1)
        let profile = result.profile
        XCTAssertEqual(profile.fullName, "Jane Doe")
        XCTAssertEqual(profile.jobTitle, "VP of Demand Generation")
        XCTAssertEqual(profile.company, "Acme SaaS")
        XCTAssertEqual(profile.companyLinkedInID, "98765")
        XCTAssertEqual(profile.location, "San Francisco, California, United States")
        XCTAssertEqual(profile.experiences.count, 2)
        XCTAssertEqual(profile.experiences.first?.company, "Acme SaaS", "most recent first")
        XCTAssertNotNil(profile.experiences.last?.endDate)
        XCTAssertEqual(profile.education, [Education(school: "Stanford University", degree: "BSc", field: "Economics", endYear: 2012)])
        XCTAssertEqual(profile.skills, ["Demand Generation", "Salesforce"])
        XCTAssertEqual(profile.certifications, ["HubSpot Inbound"])
        XCTAssertEqual(profile.languages, ["English", "Spanish"])
        XCTAssertEqual(profile.connections, 500)
        XCTAssertEqual(profile.followers, 1200)
        XCTAssertEqual(result.company?.employeeCount, 250)
        XCTAssertEqual(result.company?.industry, "Computer Software")
        XCTAssertEqual(result.company?.domain, "acmesaas.com")
        XCTAssertEqual(result.company?.headquarters, "San Francisco, CA, US")
        XCTAssertEqual(stub.requests.map(\.path), ["/api/v2/linkedin", "/api/linkedin/company"])
        XCTAssertEqual(stub.requests[0].query["linkedin_profile_url"], "https://www.linkedin.com/in/janedoe")
        XCTAssertEqual(stub.requests[1].query["url"], "https://www.linkedin.com/company/acme-saas")
    }

    /// A company page that gives only its size band (`company_size`, no count on LinkedIn) is a
    /// band, not a head count at its top; an open band has no maximum.
    func testALinkedInCompanySizeBandWithoutACountIsABand() async throws {
        for (size, expected) in [("[51,200]", EmployeeRange(minimum: 51, maximum: 200)), ("[10001,null]", EmployeeRange(minimum: 10_001, maximum: nil))] {
            let stub = try StubAPI { request in
                switch request.path {
                case "/api/v2/linkedin": .json(ProviderSamples.linkedInPerson(handle: "janedoe"))
                case "/api/linkedin/company": .json(#"{"name":"Acme SaaS","company_size":\#(size),"linkedin_internal_id":"98765"}"#)
                default: .json("{}", status: 404)
                }
            }
            let result = try await HTTPLinkedInProvider(client: stub.client(name: "linkedin", forbidden: .outOfCredits))
                .fetchProfile(handle: "janedoe", attempt: 1)
            XCTAssertNil(result.company?.employeeCount, size)
            XCTAssertEqual(result.company?.employeeRange, expected, size)
        }
    }

    /// A current job whose title is null takes the occupation as the job title, and an end date
    /// written as an object of nulls is no end: the job is current. (The title became "", and the
    /// null end made the job a past one, so the company went unasked.)
    func testANullTitleFallsBackToTheOccupationAndAnEndOfNullsIsNoEnd() async throws {
        let person = ProviderSamples.linkedInPerson(handle: "janedoe")
            .replacingOccurrences(of: #""title":"VP of Demand Generation","starts_at":{"day":1,"month":3,"year":2025},"ends_at":null"#,
                                  with: #""title":null,"starts_at":{"day":1,"month":3,"year":2025},"ends_at":{"day":null,"month":null,"year":null}"#)
        XCTAssertTrue(person.contains(#""title":null"#))
        let stub = try StubAPI { request in
            switch request.path {
            case "/api/v2/linkedin": .json(person)
            case "/api/linkedin/company": .json(ProviderSamples.linkedInCompany)
            default: .json("{}", status: 404)
            }
        }
        let result = try await HTTPLinkedInProvider(client: stub.client(name: "linkedin", forbidden: .outOfCredits))
            .fetchProfile(handle: "janedoe", attempt: 1)
        XCTAssertEqual(result.profile.jobTitle, "VP of Demand Generation at Acme SaaS", "the occupation")
        XCTAssertEqual(result.profile.company, "Acme SaaS")
        XCTAssertEqual(result.company?.employeeCount, 250, "the current company was asked for")
    }

    func testLinkedInCompanyURLOnAnotherHostIsNeverFetched() async throws {
        let stub = try StubAPI { request in
            .json(ProviderSamples.linkedInPerson(handle: "janedoe", companyURL: "https://evil.example.com/company/acme-saas"))
        }
        let result = try await HTTPLinkedInProvider(client: stub.client(name: "linkedin", forbidden: .outOfCredits))
            .fetchProfile(handle: "janedoe", attempt: 1)
        XCTAssertEqual(stub.count, 1, "only the profile was fetched")
        XCTAssertEqual(result.company, Company(name: "Acme SaaS", linkedInID: nil))
    }

    func testLinkedInStatusCodes() async throws {
        let cases: [(HTTPResponse, ProviderError)] = [
            (.json("{\"description\":\"Not enough credits\"}", status: 403), .outOfCredits),
            (.json("{}", status: 404), .notFound),
            (HTTPResponse.json("{}", status: 429, headers: [("Retry-After", "7")]), .rateLimited(retryAfter: 7)),
            (.json("{}", status: 500), .transient("linkedin: HTTP 500")),
            (.json("not json"), .transient("linkedin: unreadable reply (8 bytes)")),
            (.json("{}"), .permanent("linkedin: reply without profile data")),  // the same paid reply on every retry
        ]
        for (response, expected) in cases {
            let stub = try StubAPI { _ in response }
            do {
                _ = try await HTTPLinkedInProvider(client: stub.client(name: "linkedin", forbidden: .outOfCredits))
                    .fetchProfile(handle: "janedoe", attempt: 1)
                XCTFail("expected \(expected)")
            } catch {
                XCTAssertEqual(error, expected)
            }
        }
    }

    func testLeadWithAURLOnAnotherHostFetchesNothing() async throws {
        let stub = try StubAPI { request in
            request.path.hasPrefix("/2/") ? .json(ProviderSamples.xUser(username: "janedoe")) : .json(ProviderSamples.linkedInPerson(handle: "janedoe"))
        }
        let handler = ProfileStageHandler(
            linkedin: HTTPLinkedInProvider(client: stub.client(name: "linkedin", forbidden: .outOfCredits)),
            x: HTTPXProvider(client: stub.client()), now: Fixtures.clock)
        let lead = Fixtures.lead(linkedin: "https://evil.example.com/in/janedoe", x: "https://x.com.evil.example/janedoe")
        let output = await handler.handle(Fixtures.request(.profile, lead: lead))
        XCTAssertEqual(stub.count, 0, "nothing is fetched for URLs on other hosts")
        let payload = try XCTUnwrap(output.result.payload.profile)
        XCTAssertNil(payload.linkedin)
        XCTAssertNil(payload.x)
        XCTAssertEqual(payload.linkedinOutcome, .skipped(reason: "no LinkedIn profile URL"))
        XCTAssertEqual(payload.xOutcome, .skipped(reason: "no X profile URL"))
        XCTAssertTrue(output.result.charges.isEmpty)
    }

    func testRedirectsAreNotFollowed() async throws {
        let stub = try StubAPI { request in
            request.path == "/elsewhere"
                ? .json(ProviderSamples.xUser(username: "janedoe"))
                : HTTPResponse(status: 302, headers: [("Location", "/elsewhere")])
        }
        do {
            _ = try await HTTPXProvider(client: stub.client()).fetchProfile(username: "janedoe", attempt: 1)
            XCTFail("a redirect was followed")
        } catch {
            guard case .permanent(let reason) = error else { return XCTFail("got \(error)") }
            XCTAssertTrue(reason.contains("redirect"), reason)
        }
        XCTAssertEqual(stub.requests.map(\.path), ["/2/users/by/username/janedoe"])
    }
}

/// Counts calls across concurrent requests.
final class StubCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// X's `start_time` format, as the provider writes it.
enum HTTPXProviderDate {
    static func format(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601)
    }
}
