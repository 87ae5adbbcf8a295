import Foundation
import LeadModel
import LeadRules
import Stages
import Streaming
import XCTest

/// People Data Labs replies in the documented v5 shapes (enrich, bulk, identify, errors).
enum PDLSamples {
    static func person(
        handle: String = "janedoe", name: String = "Jane Doe", title: String = "VP of Demand Generation",
        locationName: String = "\"San Francisco, California, United States\""
    ) -> String {
        """
        {"id":"pdl-\(handle)","full_name":"\(name)","first_name":"Jane","last_name":"Doe",
        "linkedin_url":"linkedin.com/in/\(handle)","linkedin_username":"\(handle)","linkedin_id":"12345",
        "linkedin_connections":500,"headline":null,"location_name":\(locationName),
        "job_title":"\(title)","job_company_name":"Acme SaaS","job_company_website":"acmesaas.com",
        "job_company_size":"201-500","job_company_industry":"computer software",
        "job_company_linkedin_url":"linkedin.com/company/acme-saas","job_company_linkedin_id":"98765",
        "job_company_location_name":"San Francisco, California, United States",
        "experience":[
          {"company":{"name":"Northwind","linkedin_url":"linkedin.com/company/northwind","linkedin_id":null,"size":"51-200"},
           "title":{"name":"Director of Marketing","levels":["director"]},"start_date":"2020-01","end_date":"2025-02","is_primary":false},
          {"company":{"name":"Acme SaaS","linkedin_url":"linkedin.com/company/acme-saas","linkedin_id":"98765","size":"201-500"},
           "title":{"name":"\(title)","levels":["vp"]},"start_date":"2025-03","end_date":null,"is_primary":true}],
        "education":[{"school":{"name":"Stanford University","type":"post-secondary institution"},"degrees":["bachelors"],
          "majors":["economics"],"start_date":"2008","end_date":"2012"}],
        "skills":["demand generation","salesforce"],"certifications":[{"name":"HubSpot Inbound","organization":"HubSpot"}],
        "languages":[{"name":"english","proficiency":5}]}
        """
    }

    /// A record PDL matched that has no LinkedIn profile: not usable.
    static let personWithoutLinkedIn = """
        {"id":"pdl-x","full_name":"Jane Doe","linkedin_url":null,"linkedin_username":null,"job_title":"VP","job_company_name":"Acme"}
        """

    static func enrich(_ person: String = person(), likelihood: Int = 9) -> String {
        "{\"status\":200,\"likelihood\":\(likelihood),\"data\":\(person)}"
    }

    static let notFound = "{\"status\":404,\"error\":{\"type\":\"not_found\",\"message\":\"No records were found matching your request\"}}"
    static let rateLimited = "{\"status\":429,\"error\":{\"type\":\"rate_limit_error\",\"message\":\"An error occurred due to requests hitting the API too quick\"}}"
    static let paymentRequired = "{\"status\":402,\"error\":{\"type\":\"payment_required\",\"message\":\"You have hit your account maximum for person enrichment (all matches used)\"}}"
    static let unauthorized = "{\"status\":401,\"error\":{\"type\":\"authentication_error\",\"message\":\"Invalid API Key\"}}"

    static func identify(_ matches: [(person: String, score: Int)]) -> String {
        let items = matches.map { "{\"data\":\($0.person),\"match_score\":\($0.score),\"matched_on\":[\"company\",\"name\"]}" }
        return "{\"status\":200,\"matches\":[\(items.joined(separator: ","))]}"
    }
}

final class PeopleDataLabsVendorTests: XCTestCase {
    private let key = "test-secret-token"

    private func vendor(_ stub: StubAPI, timeout: Double = 2, limiter: RateLimiter? = RateLimiter(ratePerMinute: 60_000, burst: 100),
                        log: @escaping @Sendable (String) -> Void = { _ in }) -> PeopleDataLabsVendor {
        PeopleDataLabsVendor(client: stub.client(
            name: "pdl", authentication: .header("X-Api-Key"), rejection: .report, outOfCreditsStatuses: [402],
            timeout: timeout, limiter: limiter, log: log))
    }

    private func expectThrows(_ expected: ProviderError, _ call: () async throws(ProviderError) -> Void,
                              file: StaticString = #filePath, line: UInt = #line) async {
        do {
            try await call()
            XCTFail("expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    // MARK: - One person

    func testMatchMapsTheRecordAndSendsTheKeyInItsHeader() async throws {
        let lines = Recorder<String>()
        let stub = try StubAPI { request in
            request.path == "/v5/person/enrich" ? .json(PDLSamples.enrich()) : .json(PDLSamples.notFound, status: 404)
        }
        let results = try await vendor(stub, log: { lines.append($0) }).enrich([PersonQuery(linkedinHandle: "janedoe")])
        XCTAssertEqual(results.count, 1)
        let match = try results[0].get()
        XCTAssertEqual(match.vendor, "pdl")
        XCTAssertEqual(match.confidence, 0.9, accuracy: 0.0001)
        XCTAssertEqual(match.credits, 1)

        let profile = match.enrichment.profile
        XCTAssertEqual(profile.publicIdentifier, "janedoe")
        XCTAssertEqual(profile.fullName, "Jane Doe")
        XCTAssertEqual(profile.jobTitle, "VP of Demand Generation")
        XCTAssertEqual(profile.headline, "VP of Demand Generation", "no headline: the job title stands in")
        XCTAssertEqual(profile.company, "Acme SaaS")
        XCTAssertEqual(profile.companyLinkedInID, "98765")
        XCTAssertEqual(profile.location, "San Francisco, California, United States")
        XCTAssertEqual(profile.experiences.map(\.company), ["Acme SaaS", "Northwind"], "most recent first")
        XCTAssertEqual(profile.currentExperience?.title, "VP of Demand Generation")
        XCTAssertEqual(profile.experiences[1].companyLinkedInID, "northwind", "the slug when PDL has no id")
        XCTAssertNotNil(profile.experiences[1].endDate)
        XCTAssertEqual(profile.education, [Education(school: "Stanford University", degree: "bachelors", field: "economics", endYear: 2012)])
        XCTAssertEqual(profile.skills, ["demand generation", "salesforce"])
        XCTAssertEqual(profile.certifications, ["HubSpot Inbound"])
        XCTAssertEqual(profile.languages, ["english"])
        XCTAssertEqual(profile.connections, 500)
        XCTAssertEqual(
            match.enrichment.company,
            Company(name: "Acme SaaS", linkedInID: "98765", employeeRange: EmployeeRange(minimum: 201, maximum: 500),
                    industry: "computer software", domain: "acmesaas.com", headquarters: "San Francisco, California, United States"),
            "PDL's size band (201-500) is a band, not a head count of 500")

        let request = try XCTUnwrap(stub.requests.first)
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.header("x-api-key"), key)
        XCTAssertNil(request.header("authorization"))
        XCTAssertEqual(request.query["profile"], "https://www.linkedin.com/in/janedoe")
        XCTAssertEqual(request.query["min_likelihood"], "6")
        XCTAssertNil(request.query["api_key"], "the key travels in the header, never in the URL")
        XCTAssertFalse(lines.values.contains { $0.contains(key) })
    }

    func testNoMatchIsNotFoundAndCostsNothing() async throws {
        let stub = try StubAPI { _ in .json(PDLSamples.notFound, status: 404) }
        let results = try await vendor(stub).enrich([PersonQuery(linkedinHandle: "nobody-here")])
        XCTAssertEqual(results.count, 1)
        XCTAssertEqual(results[0].failureValue, .notFound)
        XCTAssertEqual(results.compactMap { try? $0.get().credits }.reduce(0, +), 0)
        XCTAssertEqual(stub.count, 1)
    }

    func testARecordWithoutALinkedInProfileIsNoMatch() async throws {
        let stub = try StubAPI { _ in .json(PDLSamples.enrich(PDLSamples.personWithoutLinkedIn, likelihood: 10)) }
        let results = try await vendor(stub).enrich([PersonQuery(linkedinHandle: "janedoe")])
        XCTAssertEqual(results[0].failureValue, .notFound)
    }

    func testRateLimitedWithResetHeadersReportsTheWait() async throws {
        let reset = Int(Date().timeIntervalSince1970) + 40
        for headers in [[("Retry-After", "30")], [("x-ratelimit-reset", "\(reset)")]] {
            let stub = try StubAPI { _ in .json(PDLSamples.rateLimited, status: 429, headers: headers) }
            let limiter = RateLimiter(ratePerMinute: 60_000, burst: 100, maxWaitSeconds: 5)
            do {
                _ = try await vendor(stub, limiter: limiter).enrich([PersonQuery(linkedinHandle: "janedoe")])
                XCTFail("expected rate limited")
            } catch {
                guard case .rateLimited(let wait?) = error else { return XCTFail("got \(error)") }
                XCTAssertEqual(wait, headers[0].0 == "Retry-After" ? 30 : 40, accuracy: 3)
            }
            XCTAssertGreaterThan(limiter.pausedSeconds, 25, "every later PDL call waits")
        }
    }

    func testOutOfCredits() async throws {
        let stub = try StubAPI { _ in .json(PDLSamples.paymentRequired, status: 402) }
        let pdl = vendor(stub)
        await expectThrows(.outOfCredits) { () async throws(ProviderError) in
            _ = try await pdl.enrich([PersonQuery(linkedinHandle: "janedoe")])
        }
        await expectThrows(.outOfCredits) { () async throws(ProviderError) in
            _ = try await pdl.enrich([PersonQuery(linkedinHandle: "janedoe"), PersonQuery(linkedinHandle: "johndoe")])
        }
    }

    func testRejectedKeyIsUnauthorizedAndTheNextCallStillGoesOut() async throws {
        let lines = Recorder<String>()
        let stub = try StubAPI { _ in .json(PDLSamples.unauthorized, status: 401) }
        let pdl = vendor(stub, log: { lines.append($0) })
        for handle in ["janedoe", "johndoe"] {
            do {
                _ = try await pdl.enrich([PersonQuery(linkedinHandle: handle)])
                XCTFail("expected unauthorized")
            } catch {
                guard case .unauthorized(let reason) = error else { return XCTFail("got \(error)") }
                XCTAssertTrue(reason.contains("401"), reason)
                XCTAssertTrue(error.isRetriable)
            }
        }
        XCTAssertEqual(stub.count, 2, "a reported rejection does not stop the client")
        XCTAssertNil(pdl.client.stoppedReason)
        XCTAssertFalse(lines.values.isEmpty, "the rejection is logged")
        XCTAssertFalse(lines.values.contains { $0.contains(key) }, "never the key")
    }

    func testMalformedBodyIsTransient() async throws {
        let stub = try StubAPI { _ in .json("{\"status\":200,\"likelihood\":9,\"data\":") }
        await expectThrows(.transient("pdl: unreadable reply (36 bytes)")) { () async throws(ProviderError) in
            _ = try await self.vendor(stub).enrich([PersonQuery(linkedinHandle: "janedoe")])
        }
    }

    func testSlowAnswerTimesOutAsTransient() async throws {
        let stub = try StubAPI { _ in
            try? await Task.sleep(for: .seconds(3))
            return .json(PDLSamples.enrich())
        }
        do {
            _ = try await vendor(stub, timeout: 1).enrich([PersonQuery(linkedinHandle: "janedoe")])
            XCTFail("expected a timeout")
        } catch {
            guard case .transient(let reason) = error else { return XCTFail("got \(error)") }
            XCTAssertTrue(reason.contains("no answer within"), reason)
        }
    }

    func testInvalidHandlesAndOversizedBatchesAreNeverSent() async throws {
        let stub = try StubAPI { _ in .json(PDLSamples.enrich()) }
        let results = try await vendor(stub).enrich([PersonQuery(linkedinHandle: "../admin")])
        guard case .permanent = results[0].failureValue else { return XCTFail("got \(results)") }
        await expectThrows(.permanent("pdl: 101 people in one call; at most 100")) { () async throws(ProviderError) in
            _ = try await self.vendor(stub).enrich((0..<101).map { PersonQuery(linkedinHandle: "person-\($0)") })
        }
        XCTAssertEqual(stub.count, 0)
    }

    // MARK: - Bulk

    func testBulkAnswerWithOneBadEntryKeepsTheOthers() async throws {
        let reply = """
            [\(PDLSamples.enrich(likelihood: 8)),
             {"status":200,"likelihood":7,"data":"not a person"},
             \(PDLSamples.notFound),
             \(PDLSamples.enrich(PDLSamples.person(handle: "johndoe", name: "John Doe", locationName: "true"), likelihood: 10))]
            """
        let stub = try StubAPI { request in
            request.method == "POST" && request.path == "/v5/person/bulk" ? .json(reply) : .json(PDLSamples.notFound, status: 404)
        }
        let queries = ["janedoe", "bad-entry", "not-there", "bad handle", "johndoe"].map { PersonQuery(linkedinHandle: $0) }
        let results = try await vendor(stub).enrich(queries)
        XCTAssertEqual(results.count, 5)
        XCTAssertEqual(try results[0].get().enrichment.profile.publicIdentifier, "janedoe")
        XCTAssertEqual(try results[0].get().confidence, 0.8, accuracy: 0.0001)
        guard case .transient = results[1].failureValue else { return XCTFail("got \(results[1])") }
        XCTAssertEqual(results[2].failureValue, .notFound)
        guard case .permanent = results[3].failureValue else { return XCTFail("got \(results[3])") }
        let john = try results[4].get()
        XCTAssertEqual(john.enrichment.profile.fullName, "John Doe")
        XCTAssertEqual(john.enrichment.profile.location, "", "a location PDL withholds (true/false) is left empty")
        XCTAssertEqual(john.credits, 1)

        XCTAssertEqual(stub.count, 1)
        let request = try XCTUnwrap(stub.requests.first)
        XCTAssertEqual(request.header("x-api-key"), key)
        struct Body: Decodable {
            struct Item: Decodable {
                struct Params: Decodable { var profile: [String]; var min_likelihood: Int }
                var params: Params
            }
            var requests: [Item]
        }
        let body = try JSONDecoder().decode(Body.self, from: request.body)
        XCTAssertEqual(body.requests.map(\.params.profile), ["janedoe", "bad-entry", "not-there", "johndoe"].map { ["https://www.linkedin.com/in/\($0)"] },
                       "the invalid handle is not sent")
        XCTAssertEqual(body.requests.map(\.params.min_likelihood), [6, 6, 6, 6])
    }

    func testBulkReplyOfTheWrongLengthFailsTheCall() async throws {
        let stub = try StubAPI { _ in .json("[\(PDLSamples.enrich())]") }
        await expectThrows(.transient("pdl: bulk reply has 1 entries for 2 requests")) { () async throws(ProviderError) in
            _ = try await self.vendor(stub).enrich([PersonQuery(linkedinHandle: "janedoe"), PersonQuery(linkedinHandle: "johndoe")])
        }
    }

    // MARK: - Search

    func testSearchIsBestFirstWithTheCallsCreditOnTheBest() async throws {
        let reply = PDLSamples.identify([
            (PDLSamples.person(handle: "jane-doe-2", title: "Marketing Manager"), 41),
            (PDLSamples.personWithoutLinkedIn, 99),
            (PDLSamples.person(handle: "janedoe"), 92),
        ])
        let stub = try StubAPI { request in
            request.path == "/v5/person/identify" ? .json(reply) : .json(PDLSamples.notFound, status: 404)
        }
        let matches = try await vendor(stub).search(
            PersonSearch(name: "Jane Doe", company: "Acme SaaS", companyDomain: "acmesaas.com", location: "San Francisco"))
        XCTAssertEqual(matches.map(\.enrichment.profile.publicIdentifier), ["janedoe", "jane-doe-2"], "best first; unusable left out")
        XCTAssertEqual(matches.map(\.confidence), [0.92, 0.41])
        XCTAssertEqual(matches.map(\.credits), [1, 0], "one credit per identify call")
        let request = try XCTUnwrap(stub.requests.first)
        XCTAssertEqual(request.query["name"], "Jane Doe")
        XCTAssertEqual(request.query["company"], "acmesaas.com")
        XCTAssertEqual(request.query["location"], "San Francisco")
        XCTAssertEqual(request.header("x-api-key"), key)
    }

    func testSearchWithoutMatchesIsEmpty() async throws {
        let stub = try StubAPI { _ in .json(PDLSamples.notFound, status: 404) }
        let matches = try await vendor(stub).search(PersonSearch(name: "Nobody Known", company: "Nowhere Inc"))
        XCTAssertEqual(matches, [])
        XCTAssertEqual(stub.requests.first?.query["company"], "Nowhere Inc")
        XCTAssertNil(stub.requests.first?.query["location"])
    }
}

extension Result {
    /// The failure, or nil on success.
    fileprivate var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
