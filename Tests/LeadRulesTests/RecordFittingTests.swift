import Foundation
import LeadModel
import LeadModelTestSupport
import LeadRules
import XCTest

/// Records the coordinator writes that would be above MAX_RECORD_BYTES are made smaller, and say
/// what they left out, instead of being dead-lettered (`RecordFitting.swift`).
final class RecordFittingTests: XCTestCase {
    typealias Machine = LeadStateMachine

    private let codec = MessageCodec(maxRecordBytes: 40_000)

    /// A lead matched from the pool whose profile holds `count` posts, an hour apart, newest first.
    private func prolificLead(posts count: Int) -> LeadDiscovered {
        var profile = EnrichedProfile(leadID: "lead-1", name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe")
        let posts = (0..<count).map {
            Post(id: "p\($0)", platform: .linkedin, date: Fixtures.now.addingTimeInterval(-Double($0) * 3_600),
                 text: String(repeating: "Rebuilding our outbound motion this quarter. ", count: 4), likes: 1, replies: 0, reposts: 0,
                 url: "https://www.linkedin.com/feed/update/\($0)")
        }
        profile.activity = Activity(posts: posts, plainText: "", orbit: [], signalDate: posts.first?.date)
        return LeadDiscovered(leadID: "lead-1", accountID: "acct-1", offerID: "offer-1", sourceSearchID: "search-1", source: .leadPool,
                              name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe", mode: .scoringOnly,
                              discoveredAt: Fixtures.now, poolProfile: profile)
    }

    /// A changelog record above the bound is a lead a restore would not know. The state of a
    /// lead matched from the pool carries its pool profile: written without its oldest posts, it
    /// says so, and the lead restored from it asks for scoring saying so too, so its pool entry will.
    func testAStateAboveTheBoundKeepsTheNewestPoolPostsAndItsRequestsSaySo() throws {
        let lead = prolificLead(posts: 200)
        var machine = Machine()
        let actions = machine.handle(.discovered(lead, runID: "run-1", at: Fixtures.now))
        let state = try XCTUnwrap(machine.state)
        XCTAssertEqual(state.status, .processing)
        XCTAssertGreaterThan(try codec.encode(state).count, codec.maxRecordBytes)

        let fitted = try XCTUnwrap(state.fitted(codec: codec, framing: 100))
        let bytes = try codec.encode(fitted)
        XCTAssertLessThanOrEqual(bytes.count + 100, codec.maxRecordBytes)
        XCTAssertEqual(fitted.omitted?.count, 1)
        let restored = try codec.decode(LeadState.self, from: bytes)
        let kept = try XCTUnwrap(restored.lead.poolProfile?.activity?.posts)
        XCTAssertGreaterThan(kept.count, 0)
        XCTAssertEqual(kept.map(\.id), (0..<kept.count).map { "p\($0)" }, "the newest posts")
        XCTAssertEqual(restored.omitted, ["activity.posts: the \(200 - kept.count) oldest of 200"])
        XCTAssertEqual(restored.profile, EnrichedProfile(startingRunOf: restored.lead), "the record is still only the run's start")
        XCTAssertEqual(machine.state, state, "the state in memory keeps its profile whole")

        // The scoring attempt times out after the restore; the retry says what the record left out.
        var restoredMachine = Machine(restoring: restored)
        var timers = actions.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }
        var retry: PhaseRequest?
        for _ in 0..<3 where retry == nil {
            let timer = try XCTUnwrap(timers.first)
            let next = restoredMachine.handle(.timerFired(timer, at: timer.fireAt))
            retry = next.lazy.compactMap { if case .sendPhaseRequest(let request) = $0 { request } else { nil } }.first
            timers = next.compactMap { if case .scheduleTimer(let timer) = $0 { timer } else { nil } }
        }
        let request = try XCTUnwrap(retry)
        XCTAssertEqual(request.phase, .scoring)
        XCTAssertEqual(request.document?.omitted, restored.omitted)
        XCTAssertEqual(DocumentAssembly.profile(of: request, withActivityText: false).activity?.posts.map(\.id), kept.map(\.id))
    }

    /// Posts left out by a state, then a request, then a pool entry are said once, of all there were.
    func testPostsLeftOutAtEachStepAreSaidOnceOfAllThereWere() throws {
        let lead = prolificLead(posts: 300)
        let profile = try XCTUnwrap(lead.poolProfile)
        func fits(below bytes: Int) -> (FittedProfile) -> Bool {
            { fitting in (try? JSONEncoder().encode(fitting.profile).count).map { $0 < bytes } ?? false }
        }
        let first = try XCTUnwrap(profile.fitted(renderingAt: Fixtures.now, omitted: ["linkedin.sources"], fits(below: 50_000)))
        let firstKept = try XCTUnwrap(first.profile.activity?.posts.count)
        XCTAssertEqual(first.omitted, ["linkedin.sources", "activity.posts: the \(300 - firstKept) oldest of 300"])
        let second = try XCTUnwrap(first.profile.fitted(renderingAt: Fixtures.now, omitted: first.omitted, fits(below: 20_000)))
        let secondKept = try XCTUnwrap(second.profile.activity?.posts.count)
        XCTAssertLessThan(secondKept, firstKept)
        XCTAssertEqual(second.omitted, ["linkedin.sources", "activity.posts: the \(300 - secondKept) oldest of 300"])
    }
}

extension RecordFittingTests {
    private func profile(posts count: Int, withText: Bool) -> EnrichedProfile {
        var profile = try! XCTUnwrap(prolificLead(posts: count).poolProfile)
        if withText { profile = DocumentAssembly.withActivityText(profile, asOf: Fixtures.now) }
        profile.linkedin = LinkedInProfile(
            publicIdentifier: "janedoe", fullName: "Jane Doe", headline: "VP Sales", jobTitle: "VP Sales", company: "Acme",
            companyLinkedInID: nil, location: "Berlin", experiences: [Experience(company: "Acme", title: "VP Sales", startDate: nil)],
            education: [], skills: [], certifications: [], languages: [], connections: 1, followers: 1)
        return profile
    }

    /// A state whose record carries its profile (waiting on a gate, say) names only what its
    /// profile lost: its pool profile, which a restore does not read, is made smaller unnamed,
    /// and a rendered text goes first, unnamed, since the stages render it again.
    func testAStateNamesOnlyWhatTheProfileItsRecordCarriesLost() throws {
        let lead = prolificLead(posts: 60)
        var state = LeadStateMachine.queued(lead, runID: "run-1", at: Fixtures.now)
        state.status = .billingPaused
        state.profile = profile(posts: 60, withText: true)
        XCTAssertTrue(state.recordCarriesProfile)
        // Without the text the state fits: nothing is named.
        let withoutText = try codec.encode(state).count - (state.profile.activity?.plainText.utf8.count ?? 0)
        let roomy = MessageCodec(maxRecordBytes: withoutText + 2_000)
        XCTAssertGreaterThan(try roomy.encode(state).count, roomy.maxRecordBytes)
        let fitted = try XCTUnwrap(state.fitted(codec: roomy, framing: 0))
        XCTAssertNil(fitted.omitted)
        XCTAssertEqual(fitted.profile.activity?.posts.count, 60)
        XCTAssertEqual(fitted.profile.activity?.plainText, "")

        // Tighter: the pool profile loses its posts first, unnamed; then the stored profile
        // loses its oldest posts, named.
        var bare = fitted
        bare.lead.poolProfile?.activity = nil
        let tight = MessageCodec(maxRecordBytes: try codec.encode(bare).count - 5_000)
        let fittedTight = try XCTUnwrap(state.fitted(codec: tight, framing: 0))
        XCTAssertLessThanOrEqual(try tight.encode(fittedTight).count, tight.maxRecordBytes)
        XCTAssertNil(fittedTight.lead.poolProfile?.activity)
        let kept = try XCTUnwrap(fittedTight.profile.activity?.posts.count)
        XCTAssertLessThan(kept, 60)
        XCTAssertEqual(fittedTight.omitted, ["activity.posts: the \(60 - kept) oldest of 60"], "the pool profile's are not named")
        XCTAssertEqual(try tight.decode(LeadState.self, from: try tight.encode(fittedTight)).profile, fittedTight.profile)
    }

    /// Posts left out by the activity stage, which also left out orbit targets, and then by the
    /// coordinator are said once; a new activity forgets what an earlier one lacked.
    func testOmittedPartsMergeAcrossTheOrbitAndAreForgottenWhenARunFetchesThemAgain() throws {
        let stage = ["activity.posts: the 10 oldest of 50", "activity.orbit: 3 of 9 targets, people before vendors"]
        XCTAssertEqual(FittedProfile.omitting(oldestPosts: 30, of: 40, after: stage),
                       ["activity.posts: the 40 oldest of 50", "activity.orbit: 3 of 9 targets, people before vendors"])

        let earlier = ["activity.posts: the 5 oldest of 20", LinkedInProfile.listsOmitted]
        let activity = try PhaseOutput(phase: .activity, payload: PhasePayload(
            activity: Activity(posts: [], plainText: "", orbit: [], signalDate: nil), activityOutcome: .succeeded,
            omitted: ["activity.posts: the 15 oldest of 30"]))
        XCTAssertEqual(DocumentAssembly.omitted(outputs: [activity], after: earlier),
                       [LinkedInProfile.listsOmitted, "activity.posts: the 15 oldest of 30"], "the earlier activity's posts forgotten")
        XCTAssertEqual(DocumentAssembly.omitted(outputs: [activity], after: nil), ["activity.posts: the 15 oldest of 30"],
                       "an output that left something out is read when nothing was left out before")
        let scoring = try PhaseOutput(phase: .scoring, payload: PhasePayload())
        XCTAssertEqual(DocumentAssembly.omitted(outputs: [scoring], after: earlier), earlier)
        XCTAssertNil(DocumentAssembly.omitted(outputs: [scoring], after: nil))
    }

    /// A profile output whose every text is long is cut shorter until it is within its budget.
    func testAProfileOutputWithManyLongTextsIsCutUntilItFits() throws {
        let long = String(repeating: "ü", count: 9_000)
        let linkedin = LinkedInProfile(
            publicIdentifier: long, fullName: long, headline: long, jobTitle: long, company: long, companyLinkedInID: long, location: long,
            experiences: [Experience(company: long, companyLinkedInID: long, title: long, startDate: nil)], education: [],
            skills: [], certifications: [], languages: [], connections: 1, followers: 1)
        let x = XProfile(userID: long, name: long, username: long, bio: long, followersCount: 1, followingCount: 1, isVerified: false,
                         profileImageURL: long, canDM: false, isProtected: false, location: long, url: long)
        let output = ProfilePhaseOutput(linkedin: linkedin, x: x, company: Company(name: long, industry: long, domain: long),
                                        linkedinOutcome: .succeeded, xOutcome: .succeeded)
        func size(_ output: ProfilePhaseOutput) -> Int { (try? JSONEncoder().encode(output).count) ?? .max }
        let bounded = output.bounded(toAbout: 16_000, size: size)
        XCTAssertLessThanOrEqual(size(bounded.output), 16_000)
        let limit = try XCTUnwrap(bounded.output.linkedin?.headline.unicodeScalars.count)
        XCTAssertLessThan(limit, 16_000 / 16, "halved below the first limit")
        XCTAssertEqual(bounded.omitted, ["linkedin texts past \(limit) characters", "x texts past \(limit) characters",
                                         "company texts past \(limit) characters"])
        // An identifier or a link is no text to cut: one that would be cut goes whole, where it may.
        XCTAssertNil(bounded.output.x?.profileImageURL)
        XCTAssertNil(bounded.output.x?.url)
        XCTAssertNil(bounded.output.linkedin?.companyLinkedInID)
        XCTAssertNil(bounded.output.linkedin?.experiences.first?.companyLinkedInID)
        XCTAssertNil(bounded.output.company?.domain)
        XCTAssertEqual(bounded.output.x?.bio.unicodeScalars.count, limit)
    }

    /// A text far longer than any other (a bio of 9,000 characters) is cut at 5,000 before a
    /// post goes: the posts are worth more than its end.
    func testALongTextIsCutBeforeThePostsGo() throws {
        var lead = prolificLead(posts: 20)
        lead.poolProfile?.x = XProfile(userID: "1", name: "Jane", username: "janedoe", bio: String(repeating: "b", count: 9_000),
                                       followersCount: 1, followingCount: 1, isVerified: false, profileImageURL: nil, canDM: false,
                                       isProtected: false)
        let profile = try XCTUnwrap(lead.poolProfile)
        let whole = try JSONEncoder().encode(profile).count
        let fitted = try XCTUnwrap(profile.fitted(renderingAt: Fixtures.now) { (try? JSONEncoder().encode($0.profile).count).map { $0 < whole - 1_000 } ?? false })
        XCTAssertEqual(fitted.profile.activity?.posts.count, 20)
        XCTAssertEqual(fitted.profile.x?.bio.count, FieldLimit.text / 2)
        XCTAssertEqual(fitted.omitted, ["x texts past \(FieldLimit.text / 2) characters"])
    }
}

extension RecordFittingTests {
    /// A running lead whose record carries its profile (its outputs lack references, after a
    /// billing pause, say) says what those outputs left out: a restore reads none of them back.
    func testARecordThatCarriesTheProfileSaysWhatItsOutputsLeftOut() throws {
        var state = LeadStateMachine.queued(prolificLead(posts: 3), runID: "run-1", at: Fixtures.now)
        state.status = .processing
        state.plan = [.scoring, .finalize]
        state.phaseIndex = 1
        state.runOutputs = [try PhaseOutput(phase: .scoring, payload: PhasePayload(omitted: ["company texts past 64 characters"]))]
        state.isProfileLoaded = false
        XCTAssertFalse(state.carriesReferences)
        var machine = Machine(restoring: state)
        let web = WebEnrichment(leadID: "lead-1", searchID: nil, domain: "acme.example", url: nil, status: .completed, name: "Acme",
                                fetchedAt: Fixtures.now)
        _ = machine.handle(.webEnrichment(web, at: Fixtures.now))
        let loaded = try XCTUnwrap(machine.state)
        XCTAssertTrue(loaded.isProfileLoaded)
        XCTAssertTrue(loaded.recordCarriesProfile)
        XCTAssertEqual(loaded.omitted, ["company texts past 64 characters"])
        XCTAssertEqual(DocumentAssembly.omitted(outputs: loaded.runOutputs, after: loaded.omitted), loaded.omitted,
                       "folding the outputs in again says nothing twice")
    }

    /// A ready lead whose record carries its profile, equal to the run's start (a pool lead whose
    /// scoring was skipped, then web-enriched): the pool profile shrinks unnamed, and the profile
    /// the record carries is not rebuilt from it.
    func testARecordCarryingAProfileEqualToItsStartKeepsThatProfile() throws {
        var state = LeadStateMachine.queued(prolificLead(posts: 200), runID: "run-1", at: Fixtures.now)
        state.status = .ready
        state.readyAt = Fixtures.now
        state.profile = EnrichedProfile(startingRunOf: state.lead)
        XCTAssertTrue(state.recordCarriesProfile)
        let big = MessageCodec(maxRecordBytes: try codec.encode(state).count - 20_000)
        let fitted = try XCTUnwrap(state.fitted(codec: big, framing: 0))
        XCTAssertLessThan(try XCTUnwrap(fitted.lead.poolProfile?.activity?.posts.count), 200)
        XCTAssertEqual(fitted.profile.activity?.posts.count, 200, "the pool profile went first, and the profile stays whole")
        XCTAssertNil(fitted.omitted)
    }
}

extension RecordFittingTests {
    /// A lead matched from the pool whose profile's texts are long, of characters JSON writes six
    /// bytes each, and hold no posts, activity or lists to leave out: as input it is within the
    /// bound, and its state, its requests and its pool entry, a few hundred bytes more, are not.
    /// They are written with the texts cut, saying so, instead of being dead-lettered (a finalize
    /// request dead-lettered is tried again forever, and the lead never becomes ready).
    func testRecordsWhoseProfileTextsAloneOutgrowTheBoundAreWrittenWithThemCut() throws {
        var lead = prolificLead(posts: 0)
        lead.poolProfile?.activity = nil
        let controls = String(repeating: "\u{1}", count: FieldLimit.text)
        lead.poolProfile?.x = XProfile(userID: "1", name: "Jane", username: "janedoe", bio: controls, followersCount: 1, followingCount: 1,
                                       isVerified: false, profileImageURL: nil, canDM: false, isProtected: false)
        lead.poolProfile?.company = Company(name: "Acme", industry: String(repeating: "\u{2}", count: 600), domain: "acme.example")
        let bound = MessageCodec(maxRecordBytes: try codec.encode(lead).count + 100)
        var machine = Machine()
        let actions = machine.handle(.discovered(lead, runID: "run-1", at: Fixtures.now))
        let request = try XCTUnwrap(actions.lazy.compactMap { if case .sendPhaseRequest(let request) = $0 { request } else { nil } }.first)
        XCTAssertEqual(request.phase, .scoring)
        let state = try XCTUnwrap(machine.state)
        XCTAssertGreaterThan(try bound.encode(state).count, bound.maxRecordBytes)

        let fittedState = try XCTUnwrap(state.fitted(codec: bound, framing: 100), "the state")
        XCTAssertLessThanOrEqual(try bound.encode(fittedState).count + 100, bound.maxRecordBytes)
        let kept = try XCTUnwrap(fittedState.lead.poolProfile?.x?.bio.unicodeScalars.count)
        XCTAssertLessThan(kept, FieldLimit.text)
        XCTAssertEqual(fittedState.omitted, ["x texts past \(kept) characters"])
        XCTAssertEqual(fittedState.lead.poolProfile?.company?.industry?.unicodeScalars.count, min(600, kept))

        let fittedRequest = try XCTUnwrap(request.fitted(codec: bound, framing: 100), "the scoring request")
        XCTAssertLessThanOrEqual(try bound.encode(fittedRequest).count + 100, bound.maxRecordBytes)
        let base = DocumentAssembly.profile(of: fittedRequest, withActivityText: false)
        XCTAssertEqual(base.x?.bio.unicodeScalars.count, kept)
        XCTAssertEqual(base.x?.name, "Jane", "short texts stay whole")
        XCTAssertEqual(fittedRequest.document?.omitted, fittedState.omitted)

        // The finalize stage's entry, from the whole profile (its summary repeats the bio).
        var entry = LeadPoolEntry(profile: try XCTUnwrap(lead.poolProfile), accountID: lead.accountID, offerID: lead.offerID,
                                  finishedAt: Fixtures.now)
        entry.omitted = fittedRequest.document?.omitted
        XCTAssertEqual(entry.bio, controls)
        let fittedEntry = try XCTUnwrap(entry.fitted(codec: bound, framing: 100, renderingAt: Fixtures.now), "the pool entry")
        XCTAssertLessThanOrEqual(try bound.encode(fittedEntry).count + 100, bound.maxRecordBytes)
        let entryKept = try XCTUnwrap(fittedEntry.profile.x?.bio.unicodeScalars.count)
        XCTAssertLessThanOrEqual(entryKept, kept)
        XCTAssertEqual(fittedEntry.bio?.unicodeScalars.count, entryKept, "the summary is cut as the profile is")
        XCTAssertEqual(fittedEntry.industry?.unicodeScalars.count, min(600, entryKept))
        XCTAssertEqual(fittedEntry.omitted, ["x texts past \(entryKept) characters"], "said once, at the shortest cut")
    }
}
