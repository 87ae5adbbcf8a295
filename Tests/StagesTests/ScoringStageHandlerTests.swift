import Foundation
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import Synchronization
import XCTest

/// Scoring, account signals and autopilot: no broker.
final class ScoringStageHandlerTests: XCTestCase {
    func handler(
        scorer: any Scorer = RuleBasedScorer(), offers: [OfferID: OfferConfig] = ["offer-1": Fixtures.offer()]
    ) -> ScoringStageHandler {
        ScoringStageHandler(scorer: scorer, offers: { offers[$0] }, service: "test", now: Fixtures.clock)
    }

    /// An offer the stage's table does not hold (after the lookup caught the table up) fails the
    /// attempt retriably: the coordinator admitted the lead because its own table held the offer,
    /// so the stage's table is behind, and a later attempt finds it. (Not retriable, the lead
    /// finished unscored.)
    func testAnUnknownOfferIsARetriableFailure() async {
        let request = Fixtures.request(.scoring, lead: Fixtures.lead(offer: "offer-x"), profile: Fixtures.profile())
        let output = await handler().handle(request)
        XCTAssertEqual(output.result.outcome, .failed(reason: "unknown offer offer-x: not in this stage's offers table yet", isRetriable: true))
        XCTAssertNil(output.result.payload.scores)
        XCTAssertNil(output.contribution)
        XCTAssertNil(output.enrollment)
    }

    /// An offer published but refused when read (the stage's offers table skipped its record and
    /// holds no row, ``KafkaTable/refusal(of:)``) fails the attempt with the refusal and how to
    /// mend it, not as an offer the table has not caught up with yet. Before: "unknown offer
    /// offer-x: not in this stage's offers table yet".
    func testAnOfferRefusedWhenReadFailsWithTheRefusal() async {
        let refusal = "invalid content: icp.industries holds 6000 entries; an offer's list holds at most 5000"
        let handler = ScoringStageHandler(offers: { _ in nil }, offerRefusal: { $0 == "offer-x" ? refusal : nil }, service: "test",
                                          now: Fixtures.clock)
        let request = Fixtures.request(.scoring, lead: Fixtures.lead(offer: "offer-x"), profile: Fixtures.profile())
        let output = await handler.handle(request)
        guard case .failed(let reason, let isRetriable) = output.result.outcome else { return XCTFail("\(output.result.outcome)") }
        XCTAssertFalse(reason.contains("unknown offer"), reason)
        XCTAssertEqual(reason, "offer 'offer-x': its configuration was published but refused when read (\(refusal)); "
                       + "publish it again within the bounds (leadctl offer put checks them)")
        XCTAssertTrue(isRetriable, "published again within the bounds, a later attempt scores")
        XCTAssertNil(output.result.payload.scores)
    }

    func testScoresAgainstTheOffer() async {
        let profile = Fixtures.profile(posts: [Fixtures.post("Can anyone recommend a fix for manual prospecting?", daysAgo: 2)])
        let output = await handler().handle(Fixtures.request(.scoring, profile: profile))
        XCTAssertEqual(output.result.outcome, .completed)
        let card = try? XCTUnwrap(output.result.payload.scores)
        XCTAssertEqual(card?.scorer, "rules-v2")
        XCTAssertGreaterThan(card?.fit ?? 0, 40)
        XCTAssertGreaterThan(card?.intent ?? 0, 0)
        XCTAssertEqual(output.result.charges, [])
    }

    func testCompetitorEmployeeIsPoorFit() async {
        let output = await handler().handle(Fixtures.request(.scoring, profile: Fixtures.profile(company: "Outreach")))
        let card = output.result.payload.scores
        XCTAssertEqual(card?.buyerState, .poorFit)
        XCTAssertEqual([card?.fit, card?.intent, card?.timing], [0, 0, 0])
    }

    /// A competitor's employee is no buyer: their posts must not heat the competitor's company
    /// (an account signal "Outreach is hot" to a seller of Outreach's rival), whichever scorer
    /// scores. The contribution still goes out, without a company, so a lead who joined the
    /// competitor leaves the company it counted at before.
    func testACompetitorEmployeeAddsNoHeatToAnyCompany() async throws {
        let asking = [Fixtures.post("Can anyone recommend an alternative to Salesloft? Manual prospecting is killing us.", daysAgo: 1)]
        let request = Fixtures.request(.scoring, profile: Fixtures.profile(company: "Outreach", posts: asking))
        // The model is never asked about a competitor's employee: its address need not answer.
        let model = ProviderHTTPClient(
            name: "model", baseURL: URL(string: "http://127.0.0.1:9")!, credential: Secret("unused"), timeoutSeconds: 1, limiter: nil,
            forbidden: .credentialsRejected, logger: Logger(service: "test", level: .error, sink: { _ in }))
        let logger = Logger(service: "test", level: .error, sink: { _ in })
        for scorer: any Scorer in [RuleBasedScorer(), ModelScorer(client: model, model: "m", logger: logger)] {
            let output = await handler(scorer: scorer).handle(request)
            XCTAssertEqual(output.result.payload.scores?.buyerState, .poorFit, scorer.name)
            let contribution = try XCTUnwrap(output.contribution, scorer.name)
            XCTAssertNil(contribution.companyKey, "\(scorer.name): no company to heat")
            XCTAssertNil(contribution.companyName, scorer.name)
        }
        let buyer = await handler().handle(Fixtures.request(.scoring, profile: Fixtures.profile(company: "Acme SaaS", posts: asking)))
        XCTAssertEqual(buyer.contribution?.companyKey, "name:acme saas", "a buyer's company is heated")
    }

    func testScoringNeverEnrollsItself() async {
        let output = await handler(scorer: FixedScorer.active()).handle(Fixtures.request(.scoring, profile: Fixtures.profile()))
        XCTAssertEqual(output.result.payload.scores?.buyerState, .active)
        XCTAssertNil(output.enrollment, "the coordinator may still reject this result: finalize enrolls")
    }

    func testEveryScoredLeadContributesToItsAccountsHeat() async {
        let asking = [Fixtures.post("Can anyone recommend an alternative to Outreach?", daysAgo: 1)]
        let request = Fixtures.request(.scoring, profile: Fixtures.profile(leadID: "lead-1", posts: asking))
        let output = await handler().handle(request)
        let contribution = output.contribution
        XCTAssertEqual(contribution?.accountID, "acct-1")
        XCTAssertEqual(contribution?.leadID, "lead-1")
        XCTAssertEqual(contribution?.runID, request.runID)
        XCTAssertEqual(contribution?.companyKey, "name:acme saas")
        XCTAssertEqual(contribution?.scoredAt, Fixtures.now)
        XCTAssertTrue(contribution?.signals.contains { $0.kind == .recommendationRequest } ?? false)

        let again = await handler().handle(request)
        XCTAssertEqual(again.contribution, contribution, "a redelivered request contributes the same (the aggregator counts it once)")
    }

    /// The stage hands the rules' evidence and signals to the contribution rather than detecting
    /// them again: what it sends is what detecting them again gives, for a lead who moved (the
    /// employer read from the X bio), asked for a tool, engaged with a competitor and posted too
    /// long ago to count for the card.
    func testTheContributionSentIsTheOneDetectedAgain() async throws {
        let posts = [Fixtures.post("Can anyone recommend an alternative to Salesloft?", daysAgo: 1),
                     Fixtures.post("We're hiring SDRs, manual prospecting is killing us", daysAgo: 30, id: "p2")]
        var profile = Fixtures.profile(leadID: "lead-1", company: "Globex", posts: posts)
        profile.x = XProfile(userID: "1", name: "Sam Lee", username: "samlee", bio: "Head of Demand Gen at Brightwave Labs (new!)",
                             followersCount: 900, followingCount: 300, isVerified: false, profileImageURL: nil, canDM: true,
                             isProtected: false)
        profile.activity?.orbit = [OrbitTarget(platform: .linkedin, handle: "outreach", name: "Outreach", classification: .competitor,
                                               interactionCount: 3, firstSeen: Fixtures.daysAgo(40), lastSeen: Fixtures.daysAgo(5))]
        for old in [false, true] {
            var lead = profile
            if old { lead.activity?.posts.append(Fixtures.post("Looking for a tool to replace our sequences", daysAgo: 200, id: "p3")) }
            let request = Fixtures.request(.scoring, profile: lead)
            let output = await handler().handle(request)
            let sent = try XCTUnwrap(output.contribution)
            var scored = DocumentAssembly.profile(of: request, withActivityText: false)
            scored.scores = output.result.payload.scores
            let detected = AccountSignalAggregator.contribution(of: scored, leadID: "lead-1", runID: request.runID, accountID: "acct-1",
                                                                offer: Fixtures.offer(), at: Fixtures.now)
            XCTAssertEqual(sent, detected, old ? "with a post past the horizon" : "read whole")
            XCTAssertEqual(sent.companyKey, "name:brightwave labs")
            XCTAssertTrue(sent.signals.contains { $0.kind == .competitorEngagement }, "\(sent.signals)")
            XCTAssertEqual(sent.signals.contains { $0.postID == "p3" }, old, "heat counts a post past the card's horizon")
        }
    }

    /// A lead whose X bio names a newer employer than LinkedIn's (a job change LinkedIn does not
    /// show yet, as the scorer reads it) heats the new company, not the one they left.
    func testALeadWhoMovedHeatsTheNewEmployer() async {
        let asking = [Fixtures.post("Can anyone recommend an alternative to Salesloft?", daysAgo: 1)]
        var profile = Fixtures.profile(leadID: "lead-1", company: "Globex", posts: asking)
        profile.x = XProfile(userID: "1", name: "Sam Lee", username: "samlee", bio: "Head of Demand Gen at Brightwave Labs (new!)",
                             followersCount: 900, followingCount: 300, isVerified: false, profileImageURL: nil, canDM: true,
                             isProtected: false)
        let moved = await handler().handle(Fixtures.request(.scoring, profile: profile))
        XCTAssertEqual(moved.contribution?.companyKey, "name:brightwave labs")
        XCTAssertEqual(moved.contribution?.companyName, "Brightwave Labs")

        // Without a LinkedIn title the scorer reads the bio's employer too, but LinkedIn's, here a
        // competitor's, still makes the lead its employee: card and heat agree (found by a review:
        // heat once kept LinkedIn's while the card scored the lead at Brightwave), zeroed and
        // heating no company.
        var untitled = Fixtures.profile(leadID: "lead-2", company: "Outreach", posts: asking)
        untitled.linkedin?.headline = ""
        untitled.linkedin?.jobTitle = ""
        untitled.x = profile.x
        let untitledOutput = await handler().handle(Fixtures.request(.scoring, profile: untitled))
        XCTAssertEqual(untitledOutput.result.payload.scores?.buyerState, .poorFit)
        XCTAssertEqual(untitledOutput.result.payload.scores?.stateReason, "employed by competitor Outreach")
        XCTAssertNotNil(untitledOutput.contribution)
        XCTAssertNil(untitledOutput.contribution?.companyKey)

        // A bio naming the same employer as LinkedIn changes nothing.
        profile.x?.bio = "Head of Demand Gen at Globex"
        let stayed = await handler().handle(Fixtures.request(.scoring, profile: profile))
        XCTAssertEqual(stayed.contribution?.companyKey, "name:globex")
    }

    func testRecordsGoToTheirTopicsKeyed() throws {
        let result = PhaseResult(
            answering: Fixtures.request(.scoring), outcome: .completed, payload: .empty, finishedAt: Fixtures.now, service: "test")
        let enrollment = AutopilotEnrollment(
            leadID: "lead-1", runID: "run-1", accountID: "acct-1", offerID: "offer-1", fit: 80, intent: 80, buyerState: .active,
            reasons: [], enrolledAt: Fixtures.now)
        let contribution = AccountSignalContribution(
            accountID: "acct-1", leadID: "lead-1", runID: "run-1", offerID: "offer-1", companyKey: "name:acme", companyName: "Acme",
            signals: [], scoredAt: Fixtures.now)
        let topics = Topics(namespace: "ns")
        let records = try StageOutput(result: result, contribution: contribution, enrollment: enrollment)
            .records(topics: topics, codec: MessageCodec())
        XCTAssertEqual(records.map(\.topic), [topics.accountSignalContributions, topics.autopilotEnrollments, topics.phaseResults])
        XCTAssertEqual(records.map { String(decoding: $0.key ?? [], as: UTF8.self) }, ["acct-1", "lead-1", "lead-1"])
        let decoded = try MessageCodec().decode(PhaseResult.self, from: records[2].value ?? [])
        XCTAssertEqual(decoded, result)
    }
}

/// Finalize and configuration: no broker.
final class FinalizeAndConfigurationTests: XCTestCase {
    func testFinalizeWritesThePoolEntryBeforeItsResult() async throws {
        var profile = Fixtures.profile()
        profile.skippedPhases = [PhaseSkip(phase: .activity, reason: "gave up", at: Fixtures.now)]
        let request = Fixtures.request(.finalize, profile: profile.carried(to: .finalize))
        let output = await FinalizeStageHandler(service: "test", now: Fixtures.clock).handle(request)
        XCTAssertEqual(output.result.outcome, .completed)
        XCTAssertEqual(output.result.finishedAt, Fixtures.now)
        let entry = try XCTUnwrap(output.poolEntry)
        XCTAssertEqual(entry, LeadPoolEntry(profile: profile, accountID: request.accountID, offerID: request.offerID, finishedAt: Fixtures.now))

        let records = try output.records(topics: Topics(namespace: nil), codec: MessageCodec())
        XCTAssertEqual(records.map(\.topic), [Topics.leadPool, Topics.phaseResults], "the entry is acknowledged before the result")
        XCTAssertEqual(records[0].key.map { String(decoding: $0, as: UTF8.self) }, request.leadID.rawValue)
        let run = records[0].headers.first { $0.key == MessageHeaders.runID }?.value
        XCTAssertEqual(run.map { String(decoding: $0, as: UTF8.self) }, request.runID.rawValue)
        XCTAssertEqual(try MessageCodec().decode(LeadPoolEntry.self, from: records[0].value ?? []), entry)
    }

    /// `request` as a version 2 request carries it: the document as pieces (the profile phase's
    /// and activity phase's outputs of `profile`, then `card`), no profile.
    func lean(_ request: PhaseRequest, from profile: EnrichedProfile, card: ScoreCard? = nil) throws -> PhaseRequest {
        var lean = request
        lean.profile = EnrichedProfile(discovered: request.lead).carried(to: .profile)
        var outputs = [
            try PhaseOutput(phase: .profile, payload: PhasePayload(profile: ProfilePhaseOutput(
                linkedin: profile.linkedin, x: profile.x, company: profile.company, linkedinOutcome: .succeeded, xOutcome: .succeeded))),
            try PhaseOutput(phase: .activity, payload: PhasePayload(activity: profile.activity, activityOutcome: .succeeded)),
        ]
        if let card { outputs.append(try PhaseOutput(phase: .scoring, payload: PhasePayload(scores: card))) }
        lean.document = DocumentParts(outputs: outputs, skippedPhases: profile.skippedPhases)
        return lean
    }

    func testTheStagesReadAVersionTwoRequestAsTheWholeProfile() async throws {
        let asking = [Fixtures.post("Can anyone recommend a fix for manual prospecting?", daysAgo: 2)]
        var profile = Fixtures.profile(posts: asking)
        profile.linkedinOutcome = .succeeded
        profile.xOutcome = .succeeded
        profile.activityOutcome = .succeeded
        profile.xURL = Fixtures.lead().xProfile?.canonical  // as the coordinator's profile has them
        profile.signalDate = profile.activity?.signalDate
        let scoring = ScoringStageHandler(scorer: RuleBasedScorer(), offers: { _ in Fixtures.offer() }, service: "test", now: Fixtures.clock)
        let whole = await scoring.handle(Fixtures.request(.scoring, profile: profile))
        let pieces = await scoring.handle(try lean(Fixtures.request(.scoring), from: profile))
        XCTAssertEqual(pieces.result.payload.scores, whole.result.payload.scores)
        XCTAssertGreaterThan(pieces.result.payload.scores?.intent ?? 0, 0, "the activity's posts were read")
        XCTAssertEqual(pieces.contribution, whole.contribution)

        let account = Fixtures.account()
        let card = FixedScorer.active().card
        profile.scores = card
        let finalize = FinalizeStageHandler(accounts: { _ in account }, service: "test", now: Fixtures.clock)
        let output = await finalize.handle(try lean(Fixtures.request(.finalize), from: profile, card: card))
        XCTAssertEqual(output.poolEntry?.profile, profile)
        XCTAssertEqual(output.enrollment?.buyerState, .active, "autopilot reads the card from the pieces")
    }

    /// What the coordinator left out of a request to fit it in a record (the document's
    /// `omitted`) is what the pool entry says it lacks: sales see the oldest posts are missing.
    func testThePoolEntrySaysWhatTheRequestLeftOut() async throws {
        var request = try lean(Fixtures.request(.finalize), from: Fixtures.profile(), card: FixedScorer.active().card)
        request.document?.outputs.removeAll { $0.phase == .activity }  // not fetched again this run
        request.document?.omitted = ["activity.posts: the 40 oldest of 90"]
        let output = await FinalizeStageHandler(service: "test", now: Fixtures.clock).handle(request)
        XCTAssertEqual(output.poolEntry?.omitted, ["activity.posts: the 40 oldest of 90"])
    }

    /// What the stages left out of their outputs the pool entry says too, after what the lead's
    /// earlier records left out, less what this run fetched again (here a LinkedIn profile);
    /// posts left out of the same activity twice are said once.
    func testThePoolEntrySaysWhatTheStagesLeftOut() async throws {
        var request = try lean(Fixtures.request(.finalize), from: Fixtures.profile(), card: FixedScorer.active().card)
        var document = try XCTUnwrap(request.document)
        var activity = try document.outputs[1].decodedPayload()
        activity.omitted = ["activity.posts: the 10 oldest of 50", "activity.orbit: 3 of 9 targets, people before vendors"]
        document.outputs[1] = try PhaseOutput(phase: .activity, payload: activity)
        document.omitted = [LinkedInProfile.listsOmitted]
        request.document = document
        let output = await FinalizeStageHandler(service: "test", now: Fixtures.clock).handle(request)
        XCTAssertEqual(output.poolEntry?.omitted, ["activity.posts: the 10 oldest of 50", "activity.orbit: 3 of 9 targets, people before vendors"])
        document.outputs.removeFirst()  // no profile phase this run: its lists are still missing
        request.document = document
        let kept = await FinalizeStageHandler(service: "test", now: Fixtures.clock).handle(request)
        XCTAssertEqual(kept.poolEntry?.omitted, [LinkedInProfile.listsOmitted, "activity.posts: the 10 oldest of 50",
                                                 "activity.orbit: 3 of 9 targets, people before vendors"])

        // The coordinator left out 30 of the 40 posts kept: 40 of the 50 there were.
        XCTAssertEqual(FittedProfile.omitting(oldestPosts: 30, of: 40, after: ["activity.posts: the 10 oldest of 50"]),
                       ["activity.posts: the 40 oldest of 50"])
        XCTAssertEqual(FittedProfile.omitting(oldestPosts: 30, of: 200, after: ["activity.posts: the 10 oldest of 50"]),
                       ["activity.posts: the 10 oldest of 50", "activity.posts: the 30 oldest of 200"], "another activity: said apart")
    }

    /// A request handed back before its entry and enrollment were acknowledged (its partition
    /// revoked, the outputs abandoned), read again by the same instance, writes them: before,
    /// the run was remembered when its output was made, so the request came back answered
    /// completed with no entry and no enrollment, and the lead was ready without its pool entry.
    func testARequestWhoseOutputsWereNeverWrittenWritesThemWhenItComesBack() async throws {
        let account = Fixtures.account()
        let handler = FinalizeStageHandler(accounts: { _ in account }, service: "test", now: Fixtures.clock)
        let request = finalizeRequest(card: FixedScorer.active().card)
        let abandoned = await handler.handle(request)
        XCTAssertNotNil(abandoned.poolEntry)
        let again = await handler.handle(request)
        XCTAssertNotNil(again.poolEntry, "the entry was never written")
        XCTAssertEqual(again.enrollment?.enrollmentID, "lead-1:run-1")
    }

    func testARetriedAttemptOfAFinalizedRunWritesNoSecondEntry() async throws {
        let handler = FinalizeStageHandler(service: "test", now: Fixtures.clock)
        var request = Fixtures.request(.finalize, profile: Fixtures.profile())
        let first = await handler.handle(request)
        XCTAssertNotNil(first.poolEntry)
        handler.outputWritten(for: request)  // the entry acknowledged
        request.attempt = 2
        let retried = await handler.handle(request)
        XCTAssertEqual(retried.result.outcome, .completed, "the lead still becomes ready")
        XCTAssertNil(retried.poolEntry, "the run's entry is written once")
        request.runID = "run-2"
        let next = await handler.handle(request)
        XCTAssertNotNil(next.poolEntry, "a new run gets its own entry")
    }

    /// A finalize request as the coordinator sends it after accepting `card` for the run.
    func finalizeRequest(card: ScoreCard?, mode: Mode = .full, attempt: Int = 1) -> PhaseRequest {
        var profile = Fixtures.profile()
        profile.scores = card
        var request = Fixtures.request(.finalize, attempt: attempt, profile: profile)
        request.mode = mode
        return request
    }

    func testFinalizeEnrollsAnEligibleLeadOnceKeyedByLeadAndRun() async throws {
        let account = Fixtures.account()
        let handler = FinalizeStageHandler(accounts: { $0 == account.accountID ? account : nil }, service: "test", now: Fixtures.clock)
        let first = await handler.handle(finalizeRequest(card: FixedScorer.active().card))
        let enrollment = try XCTUnwrap(first.enrollment)
        XCTAssertEqual(enrollment.enrollmentID, "lead-1:run-1")
        XCTAssertEqual([enrollment.fit, enrollment.intent], [80, 75])
        XCTAssertEqual(enrollment.buyerState, .active)
        let records = try first.records(topics: Topics(namespace: nil), codec: MessageCodec())
        XCTAssertEqual(records.map(\.topic), [Topics.autopilotEnrollments, Topics.leadPool, Topics.phaseResults])
        XCTAssertEqual(try MessageCodec().decode(AutopilotEnrollment.self, from: records[0].value ?? []), enrollment)

        handler.outputWritten(for: finalizeRequest(card: FixedScorer.active().card))  // the entry and enrollment acknowledged
        let retried = await handler.handle(finalizeRequest(card: FixedScorer.active().card, attempt: 2))
        XCTAssertNil(retried.enrollment, "a retried attempt in the same process writes nothing again")
        // A restarted stage (SIGKILL before the commit) redoes the request: the same id.
        let restarted = FinalizeStageHandler(accounts: { _ in account }, service: "test", now: { Fixtures.now.addingTimeInterval(60) })
        let redoneOutput = await restarted.handle(finalizeRequest(card: FixedScorer.active().card, attempt: 2))
        let redone = try XCTUnwrap(redoneOutput.enrollment)
        XCTAssertEqual(redone.enrollmentID, enrollment.enrollmentID)
    }

    /// A request sent just before the coordinator saw a billing pause that this stage sees: a
    /// lead autopilot would enroll but for the pause is not finalized unenrolled for good; the
    /// answer says it waits for billing, so the coordinator holds its retry until the account
    /// resumes, and the retry enrolls it. A lead autopilot would not enroll anyway is finalized
    /// as usual.
    func testFinalizeOfALeadEnrolledButForABillingPauseWaitsForBilling() async throws {
        let billing = Mutex(BillingState.paused)
        let handler = FinalizeStageHandler(
            accounts: { _ in var account = Fixtures.account(); account.billingState = billing.withLock { $0 }; return account },
            service: "test", now: Fixtures.clock)
        let paused = await handler.handle(finalizeRequest(card: FixedScorer.active().card))
        guard case .waitsForBilling(let reason) = paused.result.outcome else {
            return XCTFail("\(paused.result.outcome)")
        }
        XCTAssertTrue(reason.contains("billing paused"), reason)
        XCTAssertNil(paused.poolEntry, "the lead is not finished without its enrollment")
        XCTAssertNil(paused.enrollment)

        var lowIntent = finalizeRequest(card: FixedScorer.active(intent: 20).card)
        lowIntent.leadID = "lead-2"
        let notEnrolled = await handler.handle(lowIntent)
        XCTAssertEqual(notEnrolled.result.outcome, .completed, "below the rule's minimum: nothing to wait for")
        XCTAssertNotNil(notEnrolled.poolEntry)

        billing.withLock { $0 = .active }
        let resumed = await handler.handle(finalizeRequest(card: FixedScorer.active().card, attempt: 2))
        XCTAssertEqual(resumed.result.outcome, .completed)
        XCTAssertNotNil(resumed.poolEntry)
        XCTAssertEqual(try XCTUnwrap(resumed.enrollment).enrollmentID, "lead-1:run-1")
    }

    func testFinalizeEnrollsNothingWithoutAnAcceptedCardOfThisRun() async {
        let account = Fixtures.account()
        let handler = { FinalizeStageHandler(accounts: { _ in account }, service: "test", now: Fixtures.clock) }
        let active = FixedScorer.active().card
        let noCard = await handler().handle(finalizeRequest(card: nil))
        XCTAssertNil(noCard.enrollment, "no scoring result accepted")
        let enrichOnly = await handler().handle(finalizeRequest(card: active, mode: .enrichOnly))
        XCTAssertNil(enrichOnly.enrollment, "the card is an earlier run's")
        var skipped = finalizeRequest(card: active)
        skipped.profile.skippedPhases = [PhaseSkip(phase: .scoring, reason: "gave up", at: Fixtures.now)]
        let skippedOutput = await handler().handle(skipped)
        XCTAssertNil(skippedOutput.enrollment, "scoring was skipped in this run")
        let unknown = await FinalizeStageHandler(service: "test", now: Fixtures.clock).handle(finalizeRequest(card: active))
        XCTAssertNil(unknown.enrollment, "unknown account")
        let off = await FinalizeStageHandler(accounts: { _ in Fixtures.account(autopilot: nil) }, service: "test", now: Fixtures.clock)
            .handle(finalizeRequest(card: active))
        XCTAssertNil(off.enrollment)
        let low = await handler().handle(finalizeRequest(card: FixedScorer.active(intent: 20).card))
        XCTAssertNil(low.enrollment)
    }

    func testFinalizeNeverEnrollsAnOverriddenLead() async {
        let anyState = AutopilotRule(isEnabled: true, minimumFit: 0, minimumIntent: 0, requiredBuyerState: .manual)
        let account = AccountConfig(accountID: "acct-1", autopilot: anyState, updatedAt: Fixtures.now)
        for state in [BuyerState.manual, .disqualified] {
            var card = FixedScorer.active().card
            card.buyerState = state
            let output = await FinalizeStageHandler(accounts: { _ in account }, service: "test", now: Fixtures.clock)
                .handle(finalizeRequest(card: card))
            XCTAssertNil(output.enrollment, "\(state) even when the rule asks for it")
            XCTAssertNotNil(output.poolEntry)
        }
        // Set while the finalize request, with its active card, was on its way.
        let late = LeadOverride(leadID: "lead-1", state: .manual, reason: "just now", requestedBy: "ops", at: Fixtures.now)
        let active = Fixtures.account()
        let raced = await FinalizeStageHandler(accounts: { _ in active }, overrides: { $0 == "lead-1" ? late : nil }, service: "test",
                                               now: Fixtures.clock).handle(finalizeRequest(card: FixedScorer.active().card))
        XCTAssertNil(raced.enrollment)
        let clearedOverride = LeadOverride.clearing("lead-1", requestedBy: "ops", at: Fixtures.now)
        let after = await FinalizeStageHandler(accounts: { _ in active }, overrides: { _ in clearedOverride }, service: "test",
                                               now: Fixtures.clock).handle(finalizeRequest(card: FixedScorer.active().card))
        XCTAssertNotNil(after.enrollment, "a cleared override holds nothing back")
    }

    func testEnrollmentVersion1IsReadWithItsIDDerived() throws {
        let v1 = #"{"schema":"autopilot.enrollment","version":1,"leadID":"l1","runID":"r1","accountID":"a1","offerID":"o1","fit":80,"intent":70,"buyerState":"active","reasons":[],"enrolledAt":"2025-01-31T12:00:00.000Z"}"#
        let decoded = try MessageCodec().decode(AutopilotEnrollment.self, from: Array(v1.utf8))
        XCTAssertEqual(decoded.enrollmentID, "l1:r1")
    }

    /// A stage drains within its process's SHUTDOWN_TIMEOUT_SECONDS, leaving time to commit and
    /// leave its group: a longer bound lets slow requests finish, a shorter one is not overrun.
    func testAStageDrainsWithinItsShutdownBound() throws {
        XCTAssertEqual(try StageConfiguration(environment: [:]).runner.drainTimeout, .seconds(8))
        XCTAssertEqual(try StageConfiguration(environment: ["SHUTDOWN_TIMEOUT_SECONDS": "60"]).runner.drainTimeout, .seconds(58))
        XCTAssertEqual(try StageConfiguration(environment: ["SHUTDOWN_TIMEOUT_SECONDS": "2"]).runner.drainTimeout, .milliseconds(1500))
    }

    func testStageConfigurationFromEnvironment() throws {
        XCTAssertEqual(try StageConfiguration(environment: [:]).runner.maxInFlight, 256)
        XCTAssertEqual(try StageConfiguration(environment: ["STAGE_MAX_IN_FLIGHT": "32"]).runner.maxInFlight, 32)
        XCTAssertEqual(try StageConfiguration(environment: ["STAGE_MAX_IN_FLIGHT": "32"]).runner.maxUncommitted, 128,
                       "the pause behind an unfinished record follows the in-flight bound")
        XCTAssertThrowsError(try StageConfiguration(environment: ["STAGE_MAX_IN_FLIGHT": "lots"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "STAGE_MAX_IN_FLIGHT")
        }
        XCTAssertThrowsError(try StageConfiguration(environment: ["STAGE_MAX_IN_FLIGHT": "0"]))
        XCTAssertEqual(try StageConfiguration(environment: [:]).contributionWindow, .milliseconds(20))
        XCTAssertEqual(try StageConfiguration(environment: [:]).heatWriteInterval, .seconds(5))
        XCTAssertEqual(try StageConfiguration(environment: ["ACCOUNT_HEAT_WRITE_INTERVAL_SECONDS": "0.5"]).heatWriteInterval, .milliseconds(500))
        XCTAssertThrowsError(try StageConfiguration(environment: ["ACCOUNT_HEAT_WRITE_INTERVAL_SECONDS": "61"])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "ACCOUNT_HEAT_WRITE_INTERVAL_SECONDS")
        }
        XCTAssertEqual(try StageConfiguration(environment: ["SCORING_CONTRIBUTION_WINDOW_MS": "0"]).contributionWindow, .zero)
        for bad in ["-1", "1001", "soon"] {
            XCTAssertThrowsError(try StageConfiguration(environment: ["SCORING_CONTRIBUTION_WINDOW_MS": bad]), bad) { error in
                XCTAssertEqual((error as? ConfigurationError)?.variable, "SCORING_CONTRIBUTION_WINDOW_MS")
            }
        }
    }

    func testDefaultGroupIDs() {
        XCTAssertEqual(StageService.defaultGroupID(for: .profile, namespace: nil), "stage.profile")
        XCTAssertEqual(StageService.defaultGroupID(for: .scoring, namespace: "t1"), "t1.stage.scoring")
    }
}
