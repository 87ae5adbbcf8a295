import Foundation
import LeadModel
import LeadRules
import Runtime
import Stages
import XCTest

/// Apollo reply bodies in the documented shapes (people/match, bulk_match, mixed_people/api_search).
enum ApolloSamples {
    static func person(
        id: String = "p1", name: String = "Jane Doe", handle: String = "janedoe", city: String = "San Francisco",
        state: String = "California", company: String = "Acme SaaS", domain: String = "acmesaas.com"
    ) -> String {
        let parts = name.split(separator: " ")
        return """
            {"id":"\(id)","first_name":"\(parts.first ?? "")","last_name":"\(parts.dropFirst().joined(separator: " "))","name":"\(name)",
            "linkedin_url":"http://www.linkedin.com/in/\(handle)","title":"VP of Demand Generation",
            "headline":"VP Demand Gen at \(company)","email_status":"verified","photo_url":null,
            "city":"\(city)","state":"\(state)","country":"United States","organization_id":"o1",
            "employment_history":[
              {"_id":"e2","current":false,"start_date":"2020-01-01","end_date":"2025-02-01","organization_name":"Northwind",
               "title":"Director of Marketing","organization_id":"o2"},
              {"_id":"e1","current":true,"start_date":"2025-03-01","end_date":null,"organization_name":"\(company)",
               "title":"VP of Demand Generation","organization_id":"o1"}],
            "organization":{"id":"o1","name":"\(company)","website_url":"http://www.\(domain)",
              "linkedin_url":"http://www.linkedin.com/company/acme-saas","primary_domain":"\(domain)",
              "industry":"computer software","estimated_num_employees":250,"annual_revenue":42000000.0,
              "city":"San Francisco","state":"California","country":"United States"}}
            """
    }

    static func match(_ person: String?) -> String { "{\"person\":\(person ?? "null")}" }

    static func bulk(_ matches: [String?]) -> String {
        let list = matches.map { $0 ?? "null" }.joined(separator: ",")
        return """
            {"status":"success","error_code":null,"error_message":null,"total_requested_enrichments":\(matches.count),
            "unique_enriched_records":\(matches.compactMap { $0 }.count),"missing_records":\(matches.filter { $0 == nil }.count),
            "credits_consumed":\(matches.compactMap { $0 }.count),"matches":[\(list)]}
            """
    }

    /// A People API Search result: first name, obfuscated last name, employer; no LinkedIn URL.
    static func candidate(id: String, first: String, obfuscatedLast: String, company: String, domain: String) -> String {
        """
        {"id":"\(id)","first_name":"\(first)","last_name_obfuscated":"\(obfuscatedLast)","title":"VP",
        "has_email":true,"has_city":true,"organization":{"name":"\(company)","primary_domain":"\(domain)"}}
        """
    }
}

extension StubAPI {
    /// An Apollo client of this stub, built as production builds it, logging into `logs`.
    func apolloClient(
        timeout: Double = 2, limiter: RateLimiter? = RateLimiter(ratePerMinute: 60_000, burst: 100), logs: Recorder<String>? = nil
    ) -> ProviderHTTPClient {
        ApolloVendor.makeClient(
            baseURL: baseURL, credential: Secret("test-secret-token"), timeoutSeconds: timeout, limiter: limiter,
            logger: Logger(service: "test", level: .debug, sink: { logs?.append($0) }))
    }
}

/// ``ApolloVendor`` against a loopback stub speaking Apollo's documented API.
final class ApolloVendorTests: XCTestCase {
    private let jane = PersonQuery(linkedinHandle: "janedoe")

    private func body(_ request: HTTPRequest) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: request.body) as? [String: Any])
    }

    /// The ``ProviderError`` `call` throws (checked against `expected` when given); nil, and a
    /// failure, when it throws none.
    private func expectError(_ expected: ProviderError? = nil, _ call: () async throws -> Void,
                             file: StaticString = #filePath, line: UInt = #line) async -> ProviderError? {
        do {
            try await call()
            XCTFail("expected \(expected.map(String.init(describing:)) ?? "an error")", file: file, line: line)
            return nil
        } catch {
            let error = error as? ProviderError
            if let expected { XCTAssertEqual(error, expected, file: file, line: line) }
            return error
        }
    }

    // MARK: - One person

    func testMatchMapsPersonAndCompanyAndSendsTheKeyInItsHeader() async throws {
        let logs = Recorder<String>()
        let stub = try StubAPI { request in
            guard request.method == "POST", request.path == "/api/v1/people/match" else { return .json("{}", status: 500) }
            return .json(ApolloSamples.match(ApolloSamples.person()))
        }
        let vendor = ApolloVendor(client: stub.apolloClient(logs: logs))
        XCTAssertEqual(vendor.name, "apollo")
        XCTAssertEqual(vendor.maxBatchSize, 10)

        let results = try await vendor.enrich([jane])
        XCTAssertEqual(results.count, 1)
        let match = try results[0].get()
        XCTAssertEqual(match.vendor, "apollo")
        XCTAssertEqual(match.confidence, 1, "a LinkedIn URL match is the person asked for")
        XCTAssertEqual(match.credits, 1)

        let profile = match.enrichment.profile
        XCTAssertEqual(profile.publicIdentifier, "janedoe")
        XCTAssertEqual(profile.fullName, "Jane Doe")
        XCTAssertEqual(profile.headline, "VP Demand Gen at Acme SaaS")
        XCTAssertEqual(profile.jobTitle, "VP of Demand Generation")
        XCTAssertEqual(profile.company, "Acme SaaS")
        XCTAssertEqual(profile.companyLinkedInID, "acme-saas")
        XCTAssertEqual(profile.location, "San Francisco, California, United States")
        XCTAssertEqual(profile.experiences.map(\.company), ["Acme SaaS", "Northwind"], "most recent first")
        XCTAssertTrue(profile.experiences[0].isCurrent)
        XCTAssertEqual(profile.experiences[1].endDate, ApolloVendorTestsDate.utc(2025, 2, 1))
        XCTAssertEqual(profile.experiences[0].startDate, ApolloVendorTestsDate.utc(2025, 3, 1))
        XCTAssertEqual(profile.currentExperience?.title, "VP of Demand Generation")

        let company = try XCTUnwrap(match.enrichment.company)
        XCTAssertEqual(company.name, "Acme SaaS")
        XCTAssertEqual(company.domain, "acmesaas.com")
        XCTAssertEqual(company.industry, "computer software")
        XCTAssertEqual(company.employeeCount, 250)
        XCTAssertEqual(company.revenueUSD, 42_000_000)
        XCTAssertEqual(company.linkedInID, "acme-saas")
        XCTAssertEqual(company.headquarters, "San Francisco, California, United States")

        let request = try XCTUnwrap(stub.requests.first)
        XCTAssertEqual(request.header("x-api-key"), "test-secret-token")
        XCTAssertNil(request.header("authorization"), "Apollo reads the key from X-Api-Key only")
        XCTAssertEqual(try body(request)["linkedin_url"] as? String, "https://www.linkedin.com/in/janedoe")
        XCTAssertFalse(logs.values.contains { $0.contains("test-secret-token") })
    }

    func testNoMatchIsNotFoundAndCostsNothing() async throws {
        for reply in [ApolloSamples.match(nil), "{}"] {
            let stub = try StubAPI { _ in .json(reply) }
            let results = try await ApolloVendor(client: stub.apolloClient()).enrich([jane])
            XCTAssertEqual(results.count, 1)
            XCTAssertEqual(results[0].failure, .notFound, reply)
            XCTAssertEqual(stub.count, 1)
        }
    }

    func testMalformedReplyFailsTheCallAsTransient() async throws {
        let stub = try StubAPI { _ in .json("{\"person\":") }
        let vendor = ApolloVendor(client: stub.apolloClient())
        let error = await expectError { _ = try await vendor.enrich([self.jane]) }
        guard case .transient(let reason) = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertTrue(reason.contains("unreadable reply"), reason)
    }

    func testInvalidHandlesAreNeverSentAndTooManyFailTheCall() async throws {
        let stub = try StubAPI { _ in .json(ApolloSamples.match(ApolloSamples.person())) }
        let vendor = ApolloVendor(client: stub.apolloClient())
        let results = try await vendor.enrich([PersonQuery(linkedinHandle: "../admin"), PersonQuery(linkedinHandle: "a b")])
        for result in results {
            guard case .permanent = result.failure else { return XCTFail("got \(result)") }
        }
        let many = (0..<11).map { PersonQuery(linkedinHandle: "person-\($0)") }
        let error = await expectError { _ = try await vendor.enrich(many) }
        guard case .permanent = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(stub.count, 0)
    }

    // MARK: - Whole-call errors

    func test429PausesAllCallsUntilTheReset() async throws {
        let stub = try StubAPI { _ in
            HTTPResponse.json("{\"error\":\"Too many requests\"}", status: 429, headers: [
                ("Retry-After", "90"), ("x-rate-limit-minute", "50"), ("x-minute-requests-left", "0"), ("x-minute-usage", "50"),
            ])
        }
        let limiter = RateLimiter(ratePerMinute: 60_000, burst: 100, maxWaitSeconds: 5)
        let vendor = ApolloVendor(client: stub.apolloClient(limiter: limiter))
        let error = await expectError { _ = try await vendor.enrich([self.jane]) }
        guard case .rateLimited(let retryAfter?) = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(retryAfter, 90, accuracy: 1)
        XCTAssertEqual(limiter.pausedSeconds, 90, accuracy: 3)
        let second = await expectError { _ = try await vendor.search(PersonSearch(name: "Jane Doe", company: "Acme")) }
        guard case .rateLimited = second else { return XCTFail("got \(String(describing: second))") }
        XCTAssertEqual(stub.count, 1, "the paused vendor sends nothing more")
    }

    func test429WithAnAbsurdResetIsAPauseOfAtMostTheLimitersBound() async throws {
        for value in ["1e19", "1e400", "inf", "-inf", "nan", "-30"] {
            let stub = try StubAPI { _ in HTTPResponse.json("{}", status: 429, headers: [("Retry-After", value)]) }
            let limiter = RateLimiter(ratePerMinute: 60_000, burst: 100, maxWaitSeconds: 5)
            let error = await expectError { _ = try await ApolloVendor(client: stub.apolloClient(limiter: limiter)).enrich([self.jane]) }
            guard case .rateLimited(let retryAfter?) = error else { return XCTFail("\(value): got \(String(describing: error))") }
            XCTAssertTrue((0...RateLimiter.maxPauseSeconds).contains(retryAfter), "\(value): \(retryAfter)")
            XCTAssertTrue(error?.description.hasPrefix("rate limited") == true, "\(value)")
        }
        for headers in [["x-rate-limit-reset": "1e30"], ["x-ratelimit-reset": "inf"], ["retry-after": "1e19"]] {
            let seconds = try XCTUnwrap(ProviderHTTPClient.resetSeconds(headers), "\(headers)")
            XCTAssertTrue((0...RateLimiter.maxPauseSeconds).contains(seconds), "\(headers): \(seconds)")
        }
        XCTAssertEqual(ProviderError.rateLimited(retryAfter: .infinity).description, "rate limited; retry after 3600s")
    }

    /// A 429 whose reset is now or past (`Retry-After: 0`, a negative number, a past date) pauses
    /// the vendor for the default 5 s, as a 429 without one does: a pause of nothing sent every
    /// waiting call again at once, into the same limit.
    func test429WithAResetAtOrBeforeNowPausesForTheDefault() async throws {
        for value in ["0", "-1", "-30", "Thu, 01 Jan 2015 00:00:00 GMT"] {
            let stub = try StubAPI { _ in HTTPResponse.json("{}", status: 429, headers: [("Retry-After", value)]) }
            let limiter = RateLimiter(ratePerMinute: 60_000, burst: 100, maxWaitSeconds: 60)
            let error = await expectError { _ = try await ApolloVendor(client: stub.apolloClient(limiter: limiter)).enrich([self.jane]) }
            guard case .rateLimited = error else { return XCTFail("\(value): got \(String(describing: error))") }
            XCTAssertEqual(limiter.pausedSeconds, ProviderHTTPClient.defaultRateLimitPause, accuracy: 1, value)
        }
    }

    /// A match without a name is the same paid record on every retry: a permanent failure of
    /// that lead at Apollo (the waterfall goes on to the next vendor), not a transient one that
    /// the coordinator would retry, buying it again each time.
    func testAMatchWithoutANameIsNotRetried() async throws {
        let stub = try StubAPI { _ in .json(ApolloSamples.match(#"{"id":"p9","title":"VP"}"#)) }
        let result = try await ApolloVendor(client: stub.apolloClient()).enrich([jane])[0]
        guard case .failure(let error) = result else { return XCTFail("a match: \(result)") }
        XCTAssertEqual(error, ProviderError.permanent("apollo: match without a name"))
        XCTAssertFalse(error.isRetriable)
    }

    func testRevenueBeyondAnyIntegerIsUnknown() async throws {
        let person = ApolloSamples.person().replacingOccurrences(of: "\"annual_revenue\":42000000.0", with: "\"annual_revenue\":1e19")
        let stub = try StubAPI { _ in .json(ApolloSamples.match(person)) }
        let match = try await ApolloVendor(client: stub.apolloClient()).enrich([jane])[0].get()
        XCTAssertEqual(match.enrichment.company?.name, "Acme SaaS")
        XCTAssertNil(match.enrichment.company?.revenueUSD)
    }

    func testInsufficientCreditsIsOutOfCredits() async throws {
        let stub = try StubAPI { _ in .json("{\"error\":\"Insufficient credits. Please upgrade your plan.\"}", status: 422) }
        let vendor = ApolloVendor(client: stub.apolloClient())
        _ = await expectError(.outOfCredits) { _ = try await vendor.enrich([self.jane]) }
        _ = await expectError(.outOfCredits) {
            _ = try await vendor.enrich([self.jane, PersonQuery(linkedinHandle: "johnsmith")])
        }
        XCTAssertTrue(ProviderError.outOfCredits.isRetriable, "a vendor out of credits is retriable and pauses no account")
    }

    func testRejectedKeyIsUnauthorizedPerCallAndNeverLogged() async throws {
        for status in [401, 403] {
            let logs = Recorder<String>()
            let stub = try StubAPI { _ in .json("{\"error\":\"Invalid access credentials.\"}", status: status) }
            let vendor = ApolloVendor(client: stub.apolloClient(logs: logs))
            for _ in 0..<2 {
                let error = await expectError { _ = try await vendor.enrich([self.jane]) }
                guard case .unauthorized(let reason) = error else { return XCTFail("\(status): got \(String(describing: error))") }
                XCTAssertTrue(reason.contains("HTTP \(status)"), reason)
            }
            XCTAssertEqual(stub.count, 2, "after \(status) the next call still goes out")
            XCTAssertNil(vendor.client.stoppedReason)
            XCTAssertFalse(logs.values.isEmpty, "the rejection is logged")
            XCTAssertFalse(logs.values.contains { $0.contains("test-secret-token") }, "the key is never logged")
        }
    }

    func testSlowAnswerTimesOutAsTransient() async throws {
        let stub = try StubAPI { _ in
            try? await Task.sleep(for: .seconds(3))
            return .json(ApolloSamples.match(ApolloSamples.person()))
        }
        let started = Date()
        let error = await expectError { _ = try await ApolloVendor(client: stub.apolloClient(timeout: 1)).enrich([self.jane]) }
        guard case .transient(let reason) = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertTrue(reason.contains("no answer within"), reason)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5)
    }

    // MARK: - Bulk

    func testBulkMatchKeepsOrderAndFailsOnlyTheBadEntry() async throws {
        let stub = try StubAPI { request in
            guard request.method == "POST", request.path == "/api/v1/people/bulk_match" else { return .json("{}", status: 500) }
            return .json(ApolloSamples.bulk([
                ApolloSamples.person(id: "p1", name: "Jane Doe", handle: "janedoe"),
                nil,
                "{\"id\":\"p3\",\"name\":7,\"employment_history\":\"none\"}",
                ApolloSamples.person(id: "p4", name: "Ann Lee", handle: "annlee"),
            ]))
        }
        let queries = ["janedoe", "nobody-here", "garbled", "annlee"].map { PersonQuery(linkedinHandle: $0) }
        let results = try await ApolloVendor(client: stub.apolloClient()).enrich(queries)

        XCTAssertEqual(results.count, 4)
        XCTAssertEqual(try results[0].get().enrichment.profile.fullName, "Jane Doe")
        XCTAssertEqual(results[1].failure, .notFound)
        guard case .transient = results[2].failure else { return XCTFail("got \(results[2])") }
        XCTAssertEqual(try results[3].get().enrichment.profile.fullName, "Ann Lee")
        XCTAssertEqual(try results[3].get().enrichment.profile.publicIdentifier, "annlee")
        XCTAssertEqual(results.compactMap { try? $0.get().credits }.reduce(0, +), 2)

        XCTAssertEqual(stub.count, 1, "one call for the batch")
        let details = try XCTUnwrap(try body(XCTUnwrap(stub.requests.first))["details"] as? [[String: String]])
        XCTAssertEqual(details.map { $0["linkedin_url"] }, queries.map(\.linkedinURL))
    }

    func testBulkWithAnotherNumberOfMatchesFailsTheCall() async throws {
        let stub = try StubAPI { _ in .json(ApolloSamples.bulk([ApolloSamples.person()])) }
        let vendor = ApolloVendor(client: stub.apolloClient())
        let error = await expectError { _ = try await vendor.enrich([self.jane, PersonQuery(linkedinHandle: "johnsmith")]) }
        guard case .transient(let reason) = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertTrue(reason.contains("1 matches for 2"), reason)
    }

    // MARK: - Search

    func testSearchEnrichesTheLikelyCandidatesAndRanksThemBestFirst() async throws {
        let stub = try StubAPI { request in
            switch request.path {
            case "/api/v1/mixed_people/api_search":
                let people = [
                    ApolloSamples.candidate(id: "p3", first: "Jane", obfuscatedLast: "D***r", company: "Acme SaaS Inc", domain: "acme-saas.io"),
                    ApolloSamples.candidate(id: "p2", first: "Jane", obfuscatedLast: "D***e", company: "Globex", domain: "globex.com"),
                    ApolloSamples.candidate(id: "p1", first: "Jane", obfuscatedLast: "D***e", company: "Acme SaaS", domain: "acmesaas.com"),
                    ApolloSamples.candidate(id: "p4", first: "John", obfuscatedLast: "S***h", company: "Initech", domain: "initech.com"),
                    "\"not a person\"",
                ]
                return .json("{\"pagination\":{\"page\":1,\"per_page\":10,\"total_entries\":5},\"people\":[\(people.joined(separator: ","))]}")
            case "/api/v1/people/bulk_match":
                return .json(ApolloSamples.bulk([
                    ApolloSamples.person(id: "p1", name: "Jane Doe", handle: "janedoe"),
                    ApolloSamples.person(id: "p3", name: "Jane Doer", handle: "janedoer", city: "Austin", state: "Texas",
                                         company: "Acme SaaS Inc", domain: "acme-saas.io"),
                ]))
            default:
                return .json("{}", status: 500)
            }
        }
        let search = PersonSearch(name: "Jane Doe", company: "Acme SaaS", companyDomain: "https://www.acmesaas.com/",
                                  location: "San Francisco, California")
        let matches = try await ApolloVendor(client: stub.apolloClient()).search(search)

        XCTAssertEqual(matches.map(\.enrichment.profile.publicIdentifier), ["janedoe", "janedoer"])
        XCTAssertEqual(matches[0].confidence, 1, accuracy: 0.001, "name, company and place agree")
        XCTAssertEqual(matches[1].confidence, 0.63, accuracy: 0.011, "half the name, the company, not the place")
        XCTAssertEqual(matches.map(\.credits), [1, 1])
        XCTAssertEqual(Set(matches.map(\.vendor)), ["apollo"])

        XCTAssertEqual(stub.requests.map(\.path), ["/api/v1/mixed_people/api_search", "/api/v1/people/bulk_match"])
        let query = try body(stub.requests[0])
        XCTAssertEqual(query["q_keywords"] as? String, "Jane Doe")
        XCTAssertEqual(query["q_organization_domains_list"] as? [String], ["acmesaas.com"])
        XCTAssertNil(query["organization_names"], "the domain is sharper than the name")
        XCTAssertEqual(query["person_locations"] as? [String], ["San Francisco, California"])
        let details = try XCTUnwrap(try body(stub.requests[1])["details"] as? [[String: String]])
        XCTAssertEqual(details, [["id": "p1"], ["id": "p3"]], "only candidates above the floor, best first")
    }

    func testSearchWithoutLikelyCandidatesCostsNothing() async throws {
        let stub = try StubAPI { _ in
            .json("{\"people\":[\(ApolloSamples.candidate(id: "p4", first: "John", obfuscatedLast: "S***h", company: "Initech", domain: "initech.com"))]}")
        }
        let matches = try await ApolloVendor(client: stub.apolloClient()).search(PersonSearch(name: "Jane Doe", company: "Acme SaaS"))
        XCTAssertEqual(matches, [])
        XCTAssertEqual(stub.count, 1, "nothing enriched")
        XCTAssertEqual(try body(XCTUnwrap(stub.requests.first))["organization_names"] as? [String], ["Acme SaaS"])
    }

    func testSearchWithOneLikelyCandidateMatchesItById() async throws {
        let stub = try StubAPI { request in
            switch request.path {
            case "/api/v1/mixed_people/api_search":
                let candidate = ApolloSamples.candidate(id: "p1", first: "Jane", obfuscatedLast: "D***e", company: "Acme SaaS", domain: "acmesaas.com")
                return .json("{\"people\":[\(candidate)]}")
            case "/api/v1/people/match": return .json(ApolloSamples.match(ApolloSamples.person()))
            default: return .json("{}", status: 500)
            }
        }
        let matches = try await ApolloVendor(client: stub.apolloClient()).search(PersonSearch(name: "Jane Doe", company: "Acme SaaS"))
        XCTAssertEqual(matches.map(\.enrichment.profile.publicIdentifier), ["janedoe"])
        XCTAssertEqual(matches.first?.confidence, 1)
        XCTAssertEqual(stub.requests.map(\.path), ["/api/v1/mixed_people/api_search", "/api/v1/people/match"])
        XCTAssertEqual(try body(stub.requests[1]) as? [String: String], ["id": "p1"])
    }

    func testSearchConfidenceWeighsNameCompanyAndPlace() {
        let search = PersonSearch(name: "Jane Doe", company: "Acme SaaS, Inc.", location: "Berlin, Germany")
        func person(_ json: String) throws -> ApolloVendor.Person { try JSONDecoder().decode(ApolloVendor.Person.self, from: Data(json.utf8)) }
        let exact = try? person(#"{"name":"Jane Doe","city":"Berlin","country":"Germany","organization":{"name":"Acme SaaS"}}"#)
        let elsewhere = try? person(#"{"name":"Jane Doe","city":"Paris","country":"France","organization":{"name":"Acme SaaS"}}"#)
        let stranger = try? person(#"{"name":"John Smith","organization":{"name":"Initech"}}"#)
        XCTAssertEqual(exact.map { ApolloVendor.searchConfidence(of: $0, for: search) }, 1)
        XCTAssertEqual(elsewhere.map { ApolloVendor.searchConfidence(of: $0, for: search) }, 0.9)
        XCTAssertEqual(stranger.map { ApolloVendor.searchConfidence(of: $0, for: search) }, 0)
    }
}

private extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// Midnight UTC of a day, as Apollo's dates are read.
enum ApolloVendorTestsDate {
    static func utc(_ year: Int, _ month: Int, _ day: Int) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: year, month: month, day: day))
    }
}
