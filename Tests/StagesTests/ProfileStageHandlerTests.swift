import Foundation
import LeadModel
import LeadRules
import Stages
import XCTest

/// The profile phase with simulated providers: no broker.
final class ProfileStageHandlerTests: XCTestCase {
    func handler(_ settings: SimulationSettings) -> ProfileStageHandler {
        ProfileStageHandler(
            linkedin: SimulatedLinkedInProvider(settings: settings, now: Fixtures.clock),
            x: SimulatedXProvider(settings: settings), service: "test", now: Fixtures.clock)
    }

    func testBothPlatformsSucceedAndAreChargedOnce() async {
        let output = await handler(Fixtures.simulation()).handle(Fixtures.request(.profile))
        let result = output.result
        XCTAssertEqual(result.outcome, .completed)
        XCTAssertEqual(result.payload.profile?.linkedinOutcome, .succeeded)
        XCTAssertEqual(result.payload.profile?.xOutcome, .succeeded)
        XCTAssertEqual(result.payload.profile?.linkedin?.publicIdentifier, "janedoe")
        XCTAssertEqual(result.payload.profile?.x?.username, "janedoe")
        XCTAssertNotNil(result.payload.profile?.company)
        let name = Fixtures.request(.profile).lead.name
        XCTAssertEqual(result.payload.profile?.linkedin?.fullName, name, "the simulated profiles carry the lead's name")
        XCTAssertEqual(result.payload.profile?.x?.name, name)
        XCTAssertEqual(result.charges, [BillableCharge(provider: "linkedin", units: 1), BillableCharge(provider: "x", units: 1)])
        XCTAssertEqual(result.attemptKey, Fixtures.request(.profile).attemptKey)
    }

    func testOnlyXURLFetchesOnlyX() async {
        let lead = Fixtures.lead(linkedin: nil)
        let output = await handler(Fixtures.simulation()).handle(Fixtures.request(.profile, lead: lead, platforms: [.linkedin, .x]))
        let profile = output.result.payload.profile
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertNil(profile?.linkedin)
        XCTAssertNotNil(profile?.x)
        XCTAssertEqual(profile?.linkedinOutcome, .skipped(reason: "no LinkedIn profile URL"))
        XCTAssertEqual(profile?.xOutcome, .succeeded)
        XCTAssertEqual(output.result.charges, [BillableCharge(provider: "x", units: 1)])
    }

    func testPlatformNotRequestedIsLeftAlone() async {
        // A manual re-enrich of X only: LinkedIn keeps whatever an earlier run recorded.
        let output = await handler(Fixtures.simulation()).handle(Fixtures.request(.profile, platforms: [.x]))
        XCTAssertNil(output.result.payload.profile?.linkedinOutcome)
        XCTAssertNil(output.result.payload.profile?.linkedin)
        XCTAssertEqual(output.result.payload.profile?.xOutcome, .succeeded)
        XCTAssertEqual(output.result.charges.map(\.provider), ["x"])
    }

    func testLinkedInFailingForEveryLeadStillReturnsXAndCompletes() async {
        let settings = Fixtures.simulation(linkedin: .init(meanLatency: .zero, failureRate: 1))
        for index in 0..<10 {
            let lead = Fixtures.lead(id: "lead-\(index)", linkedin: "linkedin.com/in/person\(index)", x: "x.com/person\(index)")
            let output = await handler(settings).handle(Fixtures.request(.profile, lead: lead))
            let profile = output.result.payload.profile
            XCTAssertEqual(output.result.outcome, .completed)
            XCTAssertNotNil(profile?.x)
            XCTAssertNil(profile?.linkedin)
            guard case .failed(_, let isRetriable)? = profile?.linkedinOutcome else {
                return XCTFail("LinkedIn should have failed: \(String(describing: profile?.linkedinOutcome))")
            }
            XCTAssertTrue(isRetriable)
            XCTAssertEqual(output.result.charges, [BillableCharge(provider: "x", units: 1)], "no charge for the failed call")
        }
    }

    func testBothFailingRetriablyFailsThePhaseRetriably() async {
        let failing = SimulationSettings.ProviderBehavior(meanLatency: .zero, failureRate: 1)
        let output = await handler(Fixtures.simulation(linkedin: failing, x: failing)).handle(Fixtures.request(.profile))
        guard case .failed(let reason, let isRetriable) = output.result.outcome else {
            return XCTFail("expected a failed phase, got \(output.result.outcome)")
        }
        XCTAssertTrue(isRetriable)
        XCTAssertTrue(reason.contains("LinkedIn") && reason.contains("X"), reason)
        XCTAssertEqual(output.result.charges, [])
    }

    func testPermanentFailuresCompleteWithoutCharges() async {
        let missing = SimulationSettings.ProviderBehavior(meanLatency: .zero, notFoundRate: 1)
        let output = await handler(Fixtures.simulation(linkedin: missing, x: missing)).handle(Fixtures.request(.profile))
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertEqual(output.result.payload.profile?.linkedinOutcome, .failed(reason: "profile not found", isRetriable: false))
        XCTAssertEqual(output.result.payload.profile?.xOutcome, .failed(reason: "profile not found", isRetriable: false))
        XCTAssertEqual(output.result.charges, [])
    }

    func testOneRetriableAndOnePermanentFailureRetries() async {
        let settings = Fixtures.simulation(
            linkedin: .init(meanLatency: .zero, notFoundRate: 1), x: .init(meanLatency: .zero, failureRate: 1))
        let output = await handler(settings).handle(Fixtures.request(.profile))
        guard case .failed(let reason, true) = output.result.outcome else {
            return XCTFail("expected a retriable failure, got \(output.result.outcome)")
        }
        XCTAssertTrue(reason.hasPrefix("X:"), reason)
    }

    /// A vendor's exhausted credits are the platform's contract, not the customer's plan: a
    /// retriable failure of that platform, never a paused account.
    func testOutOfCreditsIsARetriablePlatformFailureAndPausesNoAccount() async {
        let settings = Fixtures.simulation(linkedin: .init(meanLatency: .zero, outOfCreditsRate: 1))
        let output = await handler(settings).handle(Fixtures.request(.profile))
        XCTAssertEqual(output.result.payload.profile?.linkedinOutcome, .failed(reason: "provider credits exhausted", isRetriable: true))
        XCTAssertEqual(output.result.outcome, .completed, "X succeeded: the phase completes, as with any other LinkedIn failure")
        XCTAssertEqual(output.result.charges, [BillableCharge(provider: "x", units: 1)], "only the successful call is charged")

        let bothOut = Fixtures.simulation(linkedin: .init(meanLatency: .zero, outOfCreditsRate: 1),
                                          x: .init(meanLatency: .zero, outOfCreditsRate: 1))
        let failed = await handler(bothOut).handle(Fixtures.request(.profile))
        XCTAssertEqual(failed.result.outcome,
                       .failed(reason: "LinkedIn: provider credits exhausted; X: provider credits exhausted", isRetriable: true),
                       "nothing succeeded: the coordinator retries the phase with backoff")
        XCTAssertEqual(failed.result.charges, [])
    }

    func testPlatformsAreFetchedConcurrently() async {
        let slow = SimulationSettings.ProviderBehavior(meanLatency: .milliseconds(400))
        let started = ContinuousClock.now
        let output = await handler(Fixtures.simulation(linkedin: slow, x: slow)).handle(Fixtures.request(.profile))
        let elapsed = ContinuousClock.now - started
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertLessThan(elapsed, .milliseconds(750), "two 400 ms calls one after another would take 800 ms")
    }

    func testOutcomeRules() {
        XCTAssertEqual(ProfileStageHandler.phaseOutcome(linkedin: nil, x: nil), .completed)
        XCTAssertEqual(ProfileStageHandler.phaseOutcome(linkedin: .skipped(reason: "no URL"), x: .succeeded), .completed)
        XCTAssertEqual(
            ProfileStageHandler.phaseOutcome(linkedin: .failed(reason: "timeout", isRetriable: true), x: .succeeded), .completed)
        XCTAssertEqual(
            ProfileStageHandler.phaseOutcome(linkedin: .failed(reason: "timeout", isRetriable: true), x: .skipped(reason: "no URL")),
            .failed(reason: "LinkedIn: timeout", isRetriable: true))
    }
}

/// A LinkedIn provider whose answer is `enrichment`, whatever it is asked.
private struct StubLinkedInProvider: LinkedInProvider {
    let enrichment: LinkedInEnrichment

    func fetchProfile(handle: String, lead: LeadIdentity?, attempt: Int) async throws(ProviderError) -> LinkedInEnrichment {
        enrichment
    }
}

extension ProfileStageHandlerTests {
    /// A provider's answer has no bound: above the handler's output budget (a quarter of
    /// MAX_RECORD_BYTES in the service) the output loses its LinkedIn lists, then the end of its
    /// longest texts, and says so, instead of a result above the bound being dead-lettered on
    /// every attempt, each one charged, and the lead going on without a profile.
    func testAnAnswerAboveTheOutputBudgetLosesItsListsThenItsLongTextsAndSaysSo() async throws {
        let experiences = [Experience(company: "Acme", title: "VP Sales", startDate: Fixtures.daysAgo(400))]
            + (0..<2_000).map { Experience(company: "Company \($0)", title: "Account Executive", startDate: Fixtures.daysAgo(5_000),
                                           endDate: Fixtures.daysAgo(4_000)) }
        let profile = LinkedInProfile(
            publicIdentifier: "janedoe", fullName: "Jane Doe", headline: String(repeating: "Revenue leader. ", count: 5_000),
            jobTitle: "VP Sales", company: "Acme", companyLinkedInID: nil, location: "Berlin", experiences: experiences,
            education: [Education(school: "TU Berlin")], skills: (0..<500).map { "Skill \($0)" }, certifications: [], languages: ["German"],
            connections: 500, followers: 900)
        let budget = 16_000
        let handler = ProfileStageHandler(
            linkedin: StubLinkedInProvider(enrichment: LinkedInEnrichment(profile: profile, company: Company(name: "Acme"))),
            x: SimulatedXProvider(settings: Fixtures.simulation()), outputBudget: budget, service: "test", now: Fixtures.clock)
        let result = await handler.handle(Fixtures.request(.profile)).result
        let output = try XCTUnwrap(result.payload.profile)
        XCTAssertLessThanOrEqual(try MessageCodec().encode(result).count, budget + 2_048, "about the budget")
        XCTAssertEqual(output.linkedin?.experiences.map(\.company), ["Acme"], "the current role stays")
        XCTAssertEqual(output.linkedin?.skills, [])
        XCTAssertEqual(output.linkedin?.headline.unicodeScalars.count, budget / 16)
        XCTAssertEqual(output.linkedin?.fullName, "Jane Doe")
        XCTAssertEqual(result.payload.omitted, [LinkedInProfile.listsOmitted, "linkedin texts past \(budget / 16) characters"])
        XCTAssertEqual(result.charges, [BillableCharge(provider: "linkedin", units: 1), BillableCharge(provider: "x", units: 1)],
                       "charged once, for what the providers answered")

        // Within the budget, the answer is as it came.
        var small = profile
        small.headline = "Revenue leader."
        small.experiences = Array(experiences.prefix(3))
        small.skills = ["Sales"]
        let whole = await ProfileStageHandler(
            linkedin: StubLinkedInProvider(enrichment: LinkedInEnrichment(profile: small, company: nil)),
            x: SimulatedXProvider(settings: Fixtures.simulation()), outputBudget: budget, service: "test", now: Fixtures.clock)
            .handle(Fixtures.request(.profile)).result
        XCTAssertEqual(whole.payload.profile?.linkedin, small)
        XCTAssertNil(whole.payload.omitted)
    }
}
