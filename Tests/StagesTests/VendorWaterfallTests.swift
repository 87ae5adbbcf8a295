import Foundation
import LeadModel
import LeadRules
import Runtime
import Stages
import Synchronization
import XCTest

/// The vendor waterfall's decisions, with in-memory vendors: order, minimum confidence, fall
/// through, circuits, field groups, credits. No broker, no HTTP.
final class VendorWaterfallTests: XCTestCase {
    /// A vendor answering from a script, counting its calls, on a clock the test moves.
    final class ScriptedVendor: Sendable {
        let name: String
        private let answer: Mutex<@Sendable (PersonQuery) -> Result<VendorMatch, ProviderError>>
        private let calls = Mutex(0)

        init(_ name: String, _ answer: @escaping @Sendable (PersonQuery) -> Result<VendorMatch, ProviderError>) {
            self.name = name
            self.answer = Mutex(answer)
        }

        var callCount: Int { calls.withLock { $0 } }
        func answer(with new: @escaping @Sendable (PersonQuery) -> Result<VendorMatch, ProviderError>) { answer.withLock { $0 = new } }

        func step(openSeconds: Double = 60) -> VendorWaterfall.Step {
            VendorWaterfall.Step(vendor: name, circuit: VendorCircuit(vendor: name, openSeconds: openSeconds)) { query throws(ProviderError) in
                self.calls.withLock { $0 += 1 }
                return try self.answer.withLock { $0 }(query).get()
            }
        }

        /// A match of confidence `confidence`, with company details or only a company name.
        static func match(_ vendor: String, confidence: Double = 0.9, companyDetails: Bool = true) -> @Sendable (PersonQuery) -> Result<VendorMatch, ProviderError> {
            { query in
                let profile = LinkedInProfile(
                    publicIdentifier: query.linkedinHandle, fullName: "Jane Doe (\(vendor))", headline: "VP Growth", jobTitle: "VP Growth",
                    company: "Acme", companyLinkedInID: nil, location: "Berlin", experiences: [], education: [], skills: [],
                    certifications: [], languages: [], connections: 10, followers: 20)
                let company = companyDetails
                    ? Company(name: "Acme (\(vendor))", employeeCount: 250, industry: "Software", domain: "acme.example")
                    : Company(name: "Acme")
                return .success(VendorMatch(vendor: vendor, confidence: confidence, enrichment: LinkedInEnrichment(profile: profile, company: company)))
            }
        }
    }

    final class Clock: Sendable {
        private let time = Mutex(Date(timeIntervalSince1970: 1_750_000_000))
        var now: Date { time.withLock { $0 } }
        func advance(_ seconds: Double) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    let metrics = MetricsRegistry()
    let clock = Clock()
    let logLines = Recorder<String>()

    func waterfall(_ identity: [VendorWaterfall.Step], company: [VendorWaterfall.Step]? = nil, minimum: Double = 0.6) -> VendorWaterfall {
        let lines = logLines
        let clock = clock
        return VendorWaterfall(
            identity: identity, company: company, minimumConfidence: minimum, metrics: metrics,
            logger: Logger(service: "test", level: .info, sink: { lines.append($0) }), now: { clock.now })
    }

    func lookups(_ vendor: String, _ outcome: String) -> Double? {
        metrics.value(MetricNames.vendorLookups, ["vendor": vendor, "outcome": outcome])
    }

    func testTheFirstVendorThatMatchesGivesEverythingAndTheRestAreNotCalled() async throws {
        let pdl = ScriptedVendor("pdl", ScriptedVendor.match("pdl"))
        let apollo = ScriptedVendor("apollo", ScriptedVendor.match("apollo"))
        let result = try await waterfall([pdl.step(), apollo.step()]).fetchProfile(handle: "janedoe", attempt: 1)

        XCTAssertEqual(result.profile.fullName, "Jane Doe (pdl)")
        XCTAssertEqual(result.company?.name, "Acme (pdl)")
        XCTAssertEqual(result.profile.sources, [
            FieldSource(group: .identity, vendor: "pdl", confidence: 0.9), FieldSource(group: .company, vendor: "pdl", confidence: 0.9),
        ])
        XCTAssertEqual(VendorWaterfall.chargeableVendors(result), ["pdl"])
        XCTAssertEqual(apollo.callCount, 0)
        XCTAssertEqual(metrics.value(MetricNames.vendorCredits, ["vendor": "pdl"]), 1)
        XCTAssertEqual(metrics.value(MetricNames.vendorCredits, ["vendor": "apollo"]), 0, "served from zero")
        XCTAssertEqual(lookups("pdl", "match"), 1)
    }

    func testNoMatchAndLowConfidenceFallThroughToTheNextVendor() async throws {
        let pdl = ScriptedVendor("pdl") { _ in .failure(.notFound) }
        let weak = ScriptedVendor("profile-api", ScriptedVendor.match("profile-api", confidence: 0.3))
        let apollo = ScriptedVendor("apollo", ScriptedVendor.match("apollo", confidence: 1))
        let result = try await waterfall([pdl.step(), weak.step(), apollo.step()]).fetchProfile(handle: "janedoe", attempt: 1)

        XCTAssertEqual(result.profile.fullName, "Jane Doe (apollo)")
        XCTAssertEqual(lookups("pdl", "no-match"), 1)
        XCTAssertEqual(lookups("profile-api", "low-confidence"), 1)
        XCTAssertEqual(VendorWaterfall.chargeableVendors(result), ["apollo"], "a match below the minimum is not kept, so not charged")
    }

    func testAnExhaustedVendorOpensItsCircuitIsSkippedAndIsTriedAgainAfterItsTime() async throws {
        let pdl = ScriptedVendor("pdl") { _ in .failure(.outOfCredits) }
        let apollo = ScriptedVendor("apollo", ScriptedVendor.match("apollo"))
        let chain = waterfall([pdl.step(openSeconds: 300), apollo.step()])

        let first = try await chain.fetchProfile(handle: "janedoe", attempt: 1)
        XCTAssertEqual(first.profile.fullName, "Jane Doe (apollo)")
        XCTAssertEqual(metrics.value(MetricNames.vendorCircuitOpen, ["vendor": "pdl"]), 1)
        XCTAssertTrue(logLines.values.contains { $0.contains("vendor circuit opened") && $0.contains("pdl") && $0.contains("credits exhausted") })

        _ = try await chain.fetchProfile(handle: "johndoe", attempt: 1)
        XCTAssertEqual(pdl.callCount, 1, "skipped while open")
        XCTAssertEqual(lookups("pdl", "skipped"), 1)

        pdl.answer(with: ScriptedVendor.match("pdl"))
        clock.advance(301)
        let later = try await chain.fetchProfile(handle: "janedoe", attempt: 1)
        XCTAssertEqual(later.profile.fullName, "Jane Doe (pdl)", "called again once its time has passed")
        XCTAssertEqual(pdl.callCount, 2)
        XCTAssertEqual(metrics.value(MetricNames.vendorCircuitOpen, ["vendor": "pdl"]), 0)
    }

    func testRejectedCredentialsOpenTheCircuitToo() async throws {
        let pdl = ScriptedVendor("pdl") { _ in .failure(.unauthorized("HTTP 401")) }
        let apollo = ScriptedVendor("apollo", ScriptedVendor.match("apollo"))
        let chain = waterfall([pdl.step(), apollo.step()])
        _ = try await chain.fetchProfile(handle: "janedoe", attempt: 1)
        _ = try await chain.fetchProfile(handle: "janedoe", attempt: 1)
        XCTAssertEqual(pdl.callCount, 1)
    }

    func testWhenNoVendorMatchesTheErrorSaysWhetherToTryAgain() async {
        let none = ScriptedVendor("pdl") { _ in .failure(.notFound) }
        let alsoNone = ScriptedVendor("apollo") { _ in .failure(.notFound) }
        await assertThrows(waterfall([none.step(), alsoNone.step()]), .notFound, "every vendor said no match: a permanent miss")

        let down = ScriptedVendor("pdl") { _ in .failure(.transient("pdl: HTTP 503")) }
        await assertThrows(waterfall([down.step(), alsoNone.step()]), .transient("pdl: HTTP 503"), "one vendor could not answer: retry later")

        let exhausted = ScriptedVendor("apollo") { _ in .failure(.outOfCredits) }
        let chain = waterfall([exhausted.step()])
        await assertThrows(chain, .transient("apollo: provider credits exhausted"), "the only vendor ran out: retry later, not the customer's credits")
        await assertThrows(chain, .transient("no vendor available: apollo skipped (circuit open)"), "then it is skipped until its circuit closes")
    }

    /// A lookup cut short by the request's stop (its partition revoked, the process stopping:
    /// the rate limiter's wait throws `.cancelled`) ends the waterfall: the next vendor is not
    /// asked, and paid, for an answer the request will not write. Before, it was asked.
    func testALookupCutShortByTheStopAsksNoOtherVendor() async {
        let stopped = ScriptedVendor("pdl") { _ in .failure(.cancelled) }
        let next = ScriptedVendor("apollo", ScriptedVendor.match("apollo"))
        let company = ScriptedVendor("clearbit", ScriptedVendor.match("clearbit"))
        do {
            _ = try await waterfall([stopped.step(), next.step()]).fetchProfile(handle: "janedoe", attempt: 1)
            XCTFail("expected cancelled")
        } catch {
            XCTAssertEqual(error, .cancelled)
        }
        XCTAssertEqual(next.callCount, 0, "asked after the stop")
        // The same for the company group, after a person matched.
        let person = ScriptedVendor("apollo", ScriptedVendor.match("apollo", companyDetails: false))
        let companyStopped = ScriptedVendor("pdl") { _ in .failure(.cancelled) }
        do {
            _ = try await waterfall([person.step()], company: [companyStopped.step(), company.step()])
                .fetchProfile(handle: "janedoe", attempt: 1)
            XCTFail("expected cancelled")
        } catch {
            XCTAssertEqual(error, .cancelled)
        }
        XCTAssertEqual(company.callCount, 0, "asked after the stop")
    }

    private func assertThrows(
        _ chain: VendorWaterfall, _ expected: ProviderError, _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) async {
        do {
            _ = try await chain.fetchProfile(handle: "janedoe", attempt: 1)
            XCTFail("expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, message, file: file, line: line)
            XCTAssertEqual(error.isRetriable, expected != .notFound, file: file, line: line)
        }
    }

    func testTheCompanyGroupHasItsOwnOrder() async throws {
        let pdl = ScriptedVendor("pdl", ScriptedVendor.match("pdl", companyDetails: false))
        let apollo = ScriptedVendor("apollo", ScriptedVendor.match("apollo", confidence: 0.8))
        let pdlStep = pdl.step()
        let apolloStep = apollo.step()
        let result = try await waterfall([pdlStep, apolloStep], company: [pdlStep, apolloStep]).fetchProfile(handle: "janedoe", attempt: 1)

        XCTAssertEqual(result.profile.fullName, "Jane Doe (pdl)", "identity from the first vendor")
        XCTAssertEqual(result.company?.name, "Acme (apollo)", "pdl knew only the company's name, so apollo gave the company")
        XCTAssertEqual(result.profile.sources, [
            FieldSource(group: .identity, vendor: "pdl", confidence: 0.9), FieldSource(group: .company, vendor: "apollo", confidence: 0.8),
        ])
        XCTAssertEqual(VendorWaterfall.chargeableVendors(result), ["apollo", "pdl"])
        XCTAssertEqual(pdl.callCount, 1, "pdl is asked once for both groups")
    }

    func testAVendorsExhaustedCreditsNeverPauseTheCustomersAccount() async {
        let pdl = ScriptedVendor("pdl") { _ in .failure(.outOfCredits) }
        let apollo = ScriptedVendor("apollo", ScriptedVendor.match("apollo"))
        let handler = ProfileStageHandler(
            linkedin: waterfall([pdl.step(), apollo.step()]), x: SimulatedXProvider(settings: Fixtures.simulation()), now: Fixtures.clock)
        let output = await handler.handle(Fixtures.request(.profile, platforms: [.linkedin]))
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertEqual(output.result.charges, [BillableCharge(provider: "apollo", units: 1)], "charged to the vendor whose data was kept")
        XCTAssertEqual(output.result.payload.profile?.linkedin?.sources?.first?.vendor, "apollo")
    }

    // MARK: - Configuration

    func testVendorListsAreReadWithTheirDefaults() throws {
        let defaults = try ProviderConfiguration(environment: [:])
        XCTAssertEqual(defaults.vendors.identity, [.pdl])
        XCTAssertEqual(defaults.vendors.minimumConfidence, 0.6)
        XCTAssertEqual(defaults.vendors.batchWaitMilliseconds, 50)
        let legacy = try ProviderConfiguration(environment: ["LINKEDIN_API_BASE_URL": "https://profiles.example.com"])
        XCTAssertEqual(legacy.vendors.identity, [.profileAPI], "a deployment of the profile API keeps it")
        let chosen = try ProviderConfiguration(environment: ["LINKEDIN_VENDORS": "pdl, Apollo", "COMPANY_VENDORS": "apollo"])
        XCTAssertEqual(chosen.vendors.identity, [.pdl, .apollo])
        XCTAssertEqual(chosen.vendors.company, [.apollo])
    }

    func testABadVendorListIsAStartUpErrorNamingTheVariable() {
        for (value, problem) in [("pdl,clearbit", "'clearbit' is not a vendor"), ("pdl,pdl", "lists 'pdl' twice")] {
            XCTAssertThrowsError(try ProviderConfiguration(environment: ["LINKEDIN_VENDORS": value])) { error in
                let error = error as? ConfigurationError
                XCTAssertEqual(error?.variable, "LINKEDIN_VENDORS")
                XCTAssertTrue(error?.problem.contains(problem) == true, "\(String(describing: error))")
            }
        }
        XCTAssertThrowsError(try ProviderConfiguration(environment: ["VENDOR_MIN_CONFIDENCE": "1.5"]))
    }

    func testAListedVendorWithoutAKeyIsAStartUpErrorNamingItsKey() throws {
        let configuration = try ProviderConfiguration(environment: ["PROVIDERS": "http", "LINKEDIN_VENDORS": "pdl,apollo", "PDL_API_KEY": "k"])
        XCTAssertThrowsError(try configuration.makeVendor(.apollo, logger: Logger(service: "test", level: .error, sink: { _ in }))) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "APOLLO_API_KEY")
        }
        XCTAssertEqual(try configuration.makeVendor(.pdl, logger: Logger(service: "test", level: .error, sink: { _ in })).name, "pdl")
    }
}
