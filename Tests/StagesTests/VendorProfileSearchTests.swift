import Foundation
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import Synchronization
import XCTest

/// Profile finding through vendors: in-memory vendors for order, fall through, circuits and the
/// queries that need no call; People Data Labs' identify through a stub server for the contract.
final class VendorProfileSearchTests: XCTestCase {
    /// A vendor whose search answers from a fixed reply and records what it was asked.
    final class SearchingVendor: PersonVendor {
        let name: String
        let maxBatchSize = 1
        private let reply: Result<[VendorMatch], ProviderError>
        private let asked = Mutex<[PersonSearch]>([])

        init(_ name: String, _ reply: Result<[VendorMatch], ProviderError>) {
            self.name = name
            self.reply = reply
        }

        var searches: [PersonSearch] { asked.withLock { $0 } }

        func enrich(_ queries: [PersonQuery]) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>] {
            throw .permanent("\(name): the profile search never enriches")
        }

        func search(_ search: PersonSearch) async throws(ProviderError) -> [VendorMatch] {
            asked.withLock { $0.append(search) }
            return try reply.get()
        }

        /// A match of the LinkedIn profile `handle`.
        static func match(_ vendor: String, _ handle: String, _ confidence: Double) -> VendorMatch {
            let profile = LinkedInProfile(
                publicIdentifier: handle, fullName: "Jane Doe", headline: "VP Growth", jobTitle: "VP Growth", company: "Acme",
                companyLinkedInID: nil, location: "Berlin", experiences: [], education: [], skills: [], certifications: [],
                languages: [], connections: 0, followers: 0)
            return VendorMatch(vendor: vendor, confidence: confidence, enrichment: LinkedInEnrichment(profile: profile, company: nil))
        }
    }

    final class Clock: Sendable {
        private let time = Mutex(Date(timeIntervalSince1970: 1_750_000_000))
        var now: Date { time.withLock { $0 } }
        func advance(_ seconds: Double) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    let clock = Clock()
    let logLines = Recorder<String>()
    let metrics = MetricsRegistry()
    let query = ProfileQuery(name: "Jane Doe", company: "Acme", platform: .linkedin, knownURL: "https://x.com/janedoe",
                             location: "Berlin, Germany")

    func profileSearch(_ vendors: [SearchingVendor], openSeconds: Double = 60) -> VendorProfileSearch {
        let (clock, lines) = (clock, logLines)
        return VendorProfileSearch(
            steps: vendors.map { VendorProfileSearch.Step(vendor: $0, circuit: VendorCircuit(vendor: $0.name, openSeconds: openSeconds)) },
            logger: Logger(service: "test", level: .info, sink: { lines.append($0) }), metrics: metrics, now: { clock.now })
    }

    func testTheFirstVendorWithCandidatesAnswersBestFirstAndTheRestAreNotAsked() async throws {
        let pdl = SearchingVendor("pdl", .success([]))
        let apollo = SearchingVendor("apollo", .success([
            SearchingVendor.match("apollo", "jane-doe-42", 0.55), SearchingVendor.match("apollo", "janedoe", 0.91),
            SearchingVendor.match("apollo", "janedoe", 0.7), SearchingVendor.match("apollo", "not/a handle", 0.99),
        ]))
        let spare = SearchingVendor("spare", .success([SearchingVendor.match("spare", "someone-else", 0.99)]))

        let candidates = try await profileSearch([pdl, apollo, spare]).search(query)

        XCTAssertEqual(candidates, [
            ProfileCandidate(platform: .linkedin, url: "https://www.linkedin.com/in/janedoe", confidence: 0.91),
            ProfileCandidate(platform: .linkedin, url: "https://www.linkedin.com/in/jane-doe-42", confidence: 0.55),
        ], "best first, one per profile, invalid handles left out")
        let asked = PersonSearch(name: "Jane Doe", company: "Acme", location: "Berlin, Germany")
        XCTAssertEqual(pdl.searches, [asked], "no candidates: the next vendor")
        XCTAssertEqual(apollo.searches, [asked])
        XCTAssertEqual(spare.searches, [], "an answer ends the search")
    }

    func testATransientErrorFallsThroughAndIsThrownOnlyWithoutALaterAnswer() async throws {
        let failing = SearchingVendor("pdl", .failure(.transient("pdl: HTTP 503")))
        let answering = SearchingVendor("apollo", .success([SearchingVendor.match("apollo", "janedoe", 0.9)]))
        let found = try await profileSearch([failing, answering]).search(query)
        XCTAssertEqual(found.map(\.url), ["https://www.linkedin.com/in/janedoe"])

        let empty = SearchingVendor("apollo", .success([]))
        do {
            let candidates = try await profileSearch([failing, empty]).search(query)
            XCTFail("expected the transient error, got \(candidates)")
        } catch {
            XCTAssertEqual(error, .transient("pdl: HTTP 503"))
            XCTAssertTrue(error.isRetriable)
        }

        let refusing = SearchingVendor("pdl", .failure(.permanent("pdl: HTTP 400")))
        let none = try await profileSearch([refusing, empty]).search(query)
        XCTAssertEqual(none, [], "a refused request is no answer, not a failure to retry")
    }

    func testOutOfCreditsOpensTheVendorsCircuitUntilItsTimePasses() async throws {
        let broke = SearchingVendor("pdl", .failure(.outOfCredits))
        let apollo = SearchingVendor("apollo", .success([SearchingVendor.match("apollo", "janedoe", 0.9)]))
        let search = profileSearch([broke, apollo], openSeconds: 60)

        for _ in 0..<3 {
            let candidates = try await search.search(query)
            XCTAssertEqual(candidates.map(\.url), ["https://www.linkedin.com/in/janedoe"])
        }
        XCTAssertEqual(broke.searches.count, 1, "skipped while its circuit is open")
        XCTAssertEqual(apollo.searches.count, 3)
        XCTAssertEqual(logLines.values.filter { $0.contains("vendor circuit opened") && $0.contains("pdl") }.count, 1)
        XCTAssertEqual(metrics.value(MetricNames.vendorCircuitOpen, ["vendor": "pdl"]), 1)
        XCTAssertEqual(metrics.value(MetricNames.vendorCredits, ["vendor": "apollo"]), 3, "the credits of the matches searches returned")
        XCTAssertEqual(metrics.value(MetricNames.vendorCredits, ["vendor": "pdl"]), 0)

        clock.advance(61)
        _ = try await search.search(query)
        XCTAssertEqual(broke.searches.count, 2, "asked again once the circuit closed")
        XCTAssertEqual(metrics.value(MetricNames.vendorCircuitOpen, ["vendor": "pdl"]), 1, "still out of credits: open again")
    }

    func testEveryCircuitOpenIsAFailureNotAnEmptyAnswer() async throws {
        let rejected = SearchingVendor("pdl", .failure(.unauthorized("pdl: HTTP 401")))
        let search = profileSearch([rejected])
        do {
            _ = try await search.search(query)
            XCTFail("expected unauthorized")
        } catch {
            XCTAssertEqual(error, .unauthorized("pdl: HTTP 401"))
        }
        do {
            _ = try await search.search(query)
            XCTFail("expected no vendor available")
        } catch {
            guard case .transient(let reason) = error else { return XCTFail("got \(error)") }
            XCTAssertTrue(reason.contains("no vendor available"), reason)
        }
        XCTAssertEqual(rejected.searches.count, 1)
    }

    func testALowConfidenceVendorCandidateIsNotAcceptedByTheFinder() async throws {
        let pdl = SearchingVendor("pdl", .success([SearchingVendor.match("pdl", "jane-doe-7", 0.62)]))
        let apollo = SearchingVendor("apollo", .success([SearchingVendor.match("apollo", "janedoe", 0.95)]))
        let candidates = try await profileSearch([pdl, apollo]).search(query)

        XCTAssertEqual(candidates.map(\.confidence), [0.62], "the vendor's own score, not raised")
        XCTAssertEqual(apollo.searches, [], "the threshold is the finder's: candidates end the search")
        XCTAssertNil(ProfileFinding.accepted(candidates, platform: .linkedin, minimumConfidence: 0.8))
        XCTAssertEqual(ProfileFinding.accepted(candidates, platform: .linkedin, minimumConfidence: 0.6)?.url,
                       "https://www.linkedin.com/in/jane-doe-7")
    }

    func testQueriesVendorsCannotAnswerMakeNoCall() async throws {
        let pdl = SearchingVendor("pdl", .success([SearchingVendor.match("pdl", "janedoe", 0.9)]))
        let search = profileSearch([pdl])
        let noCompany = ProfileQuery(name: "Jane Doe", company: nil, platform: .linkedin, knownURL: "https://x.com/janedoe")
        let blankCompany = ProfileQuery(name: "Jane Doe", company: "  ", platform: .linkedin, knownURL: "https://x.com/janedoe")
        let onX = ProfileQuery(name: "Jane Doe", company: "Acme", platform: .x, knownURL: "https://www.linkedin.com/in/janedoe")
        for query in [noCompany, blankCompany, onX] {
            let candidates = try await search.search(query)
            XCTAssertEqual(candidates, [])
        }
        XCTAssertEqual(pdl.searches, [])
    }

    func testTheFindersQueryCarriesTheXProfilesLocation() {
        let x = XProfile(userID: "1", name: "Jane Doe", username: "janedoe", bio: "", followersCount: 0, followingCount: 0,
                         isVerified: false, profileImageURL: nil, canDM: false, isProtected: false, location: " Berlin, Germany ")
        var profile = EnrichedProfile(leadID: LeadID("lead-1"), name: "Jane Doe", xURL: "https://x.com/janedoe", x: x,
                                      company: Company(name: "Acme"))
        let query = ProfileFinding.query(for: LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: clock.now))
        XCTAssertEqual(query?.location, "Berlin, Germany")
        XCTAssertEqual(query?.company, "Acme")

        profile.x?.location = ""
        XCTAssertNil(ProfileFinding.query(for: LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: clock.now))?
            .location)
    }

    /// A search over People Data Labs alone, against a stub answering identify calls with
    /// `reply` (and `status`).
    func searchThroughPeopleDataLabs(replying reply: String, status: Int = 200) throws -> (VendorProfileSearch, VendorCircuit, StubAPI) {
        let stub = try StubAPI { request in
            request.path == "/v5/person/identify" ? .json(reply, status: status) : .json(PDLSamples.notFound, status: 404)
        }
        let pdl = PeopleDataLabsVendor(client: stub.client(
            name: "pdl", authentication: .header("X-Api-Key"), rejection: .report, outOfCreditsStatuses: [402]))
        let (circuit, clock) = (VendorCircuit(vendor: "pdl", openSeconds: 60), clock)
        let search = VendorProfileSearch(
            steps: [VendorProfileSearch.Step(vendor: pdl, circuit: circuit)],
            logger: Logger(service: "test", level: .error, sink: { _ in }), now: { clock.now })
        return (search, circuit, stub)
    }

    /// The contract through People Data Labs' identify: its reply becomes LinkedIn candidates.
    func testPeopleDataLabsIdentifyReplyBecomesLinkedInCandidatesBestFirst() async throws {
        let (search, _, stub) = try searchThroughPeopleDataLabs(replying: PDLSamples.identify([
            (PDLSamples.person(handle: "jane-doe-2", title: "Marketing Manager"), 41), (PDLSamples.person(handle: "janedoe"), 92),
            (PDLSamples.personWithoutLinkedIn, 99),
        ]))

        let candidates = try await search.search(query)

        XCTAssertEqual(candidates, [
            ProfileCandidate(platform: .linkedin, url: "https://www.linkedin.com/in/janedoe", confidence: 0.92),
            ProfileCandidate(platform: .linkedin, url: "https://www.linkedin.com/in/jane-doe-2", confidence: 0.41),
        ], "best first; a record without a LinkedIn profile is no candidate")
        XCTAssertEqual(stub.count, 1)
        let request = try XCTUnwrap(stub.requests.first)
        XCTAssertEqual(request.query["name"], "Jane Doe")
        XCTAssertEqual(request.query["company"], "Acme")
        XCTAssertEqual(request.query["location"], "Berlin, Germany")
        XCTAssertEqual(ProfileFinding.accepted(candidates, platform: .linkedin, minimumConfidence: 0.8)?.url,
                       "https://www.linkedin.com/in/janedoe")
    }

    func testPeopleDataLabsOutOfCreditsOpensItsCircuit() async throws {
        let (search, circuit, stub) = try searchThroughPeopleDataLabs(replying: PDLSamples.paymentRequired, status: 402)
        do {
            _ = try await search.search(query)
            XCTFail("expected out of credits")
        } catch {
            XCTAssertEqual(error, .outOfCredits)
        }
        XCTAssertNotNil(circuit.reopensAt(now: clock.now))
        _ = try? await search.search(query)
        XCTAssertEqual(stub.count, 1, "not called while the circuit is open")
    }
}

/// Which search the profile finder gets from the provider configuration.
final class ProfileSearchConfigurationTests: XCTestCase {
    func testSimulatedUnlessHTTPThenTheVendorsThatCanSearchInOrder() throws {
        let environment = try PipelineEnvironment(service: "profile-finder", environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"])
        let simulated = try ProviderConfiguration(environment: [:])
        XCTAssertTrue(try simulated.makeProfileSearch(environment: environment, simulatedLatency: .zero) is SimulatedProfileSearchProvider)

        let http = try ProviderConfiguration(environment: [
            "PROVIDERS": "http", "LINKEDIN_VENDORS": "apollo,profile-api,pdl", "PDL_API_KEY": "k1", "APOLLO_API_KEY": "k2",
            "LINKEDIN_API_BASE_URL": "https://profiles.example", "LINKEDIN_API_KEY": "k3",
        ])
        let search = try XCTUnwrap(try http.makeProfileSearch(environment: environment, simulatedLatency: .zero) as? VendorProfileSearch)
        XCTAssertEqual(search.steps.map(\.vendor.name), ["apollo", "pdl"], "profile-api cannot search")

        let noKey = try ProviderConfiguration(environment: ["PROVIDERS": "http", "LINKEDIN_VENDORS": "pdl"])
        XCTAssertThrowsError(try noKey.makeProfileSearch(environment: environment, simulatedLatency: .zero)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "PDL_API_KEY")
        }
    }
}

/// A single-vendor LinkedIn setup whose key is rejected.
final class RejectedKeyTests: XCTestCase {
    /// The profile API rejecting the key (401) stops its client, and every lead's LinkedIn lookup
    /// fails retriably from then on; before, the waterfall took the stopped client's permanent
    /// failure for "no match", and every later lead finished with LinkedIn "profile not found".
    func testARejectedKeyFailsEveryLookupRetriablyNotAsNotFound() async throws {
        let stub = try StubAPI { _ in .json("{\"error\":\"invalid key\"}", status: 401) }
        let configuration = try ProviderConfiguration(environment: [
            "PROVIDERS": "http", "LINKEDIN_API_BASE_URL": stub.baseURL.absoluteString, "LINKEDIN_API_KEY": "k", "X_BEARER_TOKEN": "t",
        ])
        let environment = try PipelineEnvironment(service: "profile-stage", environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "LOG_LEVEL": "error"])
        let provider = try configuration.makeLinkedInProvider(environment: environment)
        for handle in ["janedoe", "johndoe"] {
            do {
                _ = try await provider.fetchProfile(handle: handle, attempt: 1)
                XCTFail("\(handle): a profile from a rejected key")
            } catch {
                XCTAssertNotEqual(error, .notFound, handle)
                XCTAssertTrue(error.isRetriable, "\(handle): \(error)")
            }
        }
        XCTAssertEqual(stub.count, 1, "the rejected key is not sent again")
    }
}
