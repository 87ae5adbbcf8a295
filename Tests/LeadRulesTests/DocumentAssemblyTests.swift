import Foundation
import JSONCodec
import LeadModel
import LeadModelTestSupport
import LeadRules
import XCTest

/// A stage given the pieces of a lead's document (a version 2 request) puts together the same
/// profile the coordinator's state machine sends whole (version 1), in every way a profile grows:
/// phase outputs, a pool profile, skipped phases, an override, a web enrichment, a found profile
/// and a re-enrich run that starts from the last run's profile.
final class DocumentAssemblyTests: XCTestCase {
    typealias Machine = LeadStateMachine

    private var random = SeededRandom(seed: 11)
    private let codec = MessageCodec()

    /// What the test fed the machine for the current run: what the coordinator will keep to
    /// send the pieces.
    private struct Pieces {
        var base: EnrichedProfile?
        var outputs: [PhaseOutput] = []
        var web: WebEnrichment?
        var override: LeadOverride?
    }

    /// The version 2 form of a request, as the coordinator writes it: no profile, the document.
    private struct LeanRequest: Message {
        static let schemaName = "phase.request"
        static let schemaVersion = 2
        var leadID: LeadID
        var runID: RunID
        var phase: Phase
        var attempt: Int
        var mode: Mode
        var platforms: [Platform]
        var lead: LeadDiscovered
        var document: DocumentParts?
        var accountID: AccountID
        var offerID: OfferID
        var isPriority: Bool
        var requestedAt: Date
    }

    private static let payloads: [Phase: PhasePayload] = [
        .profile: PhasePayload(profile: ProfilePhaseOutput(
            linkedin: Fixtures.linkedin(), x: nil, company: nil, linkedinOutcome: .succeeded, xOutcome: .skipped(reason: "not found"))),
        .activity: PhasePayload(activity: Fixtures.profile(posts: [Fixtures.post("we are hiring SDRs", daysAgo: 2)]).activity,
                                activityOutcome: .succeeded),
        .scoring: PhasePayload(scores: ScoreCard(
            fit: 60, intent: 75, timing: 10, composite: 50, buyerState: .active, fitReasons: [], intentReasons: [],
            timingReasons: [], stateReason: "", scorer: "t", scoredAt: Fixtures.now)),
    ]

    /// Checks every request in `actions` for a phase that reads the profile, through the codec:
    /// the machine sends the pieces the test fed it, the record carries them and not the
    /// profile, and the stage puts together the profile the machine's state stands for.
    private func check(_ actions: [Machine.Action], machine: Machine, pieces: Pieces, file: StaticString = #filePath, line: UInt = #line) throws {
        for case .sendPhaseRequest(let request) in actions where request.phase.readsEnrichedProfile {
            let document = DocumentParts(base: pieces.base, outputs: pieces.outputs,
                                         skippedPhases: machine.state?.profile.skippedPhases ?? [], web: pieces.web,
                                         override: pieces.override)
            XCTAssertEqual(request.document, document, "\(request.phase)", file: file, line: line)
            let bytes = try codec.encode(request)
            let fields = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            XCTAssertNil(fields["profile"], "\(request.phase): the record carries the document, not the profile", file: file, line: line)
            let read = try codec.decode(PhaseRequest.self, from: bytes)
            let whole = try XCTUnwrap(machine.state).wholeProfile(override: pieces.override, at: Fixtures.now)
            XCTAssertEqual(DocumentAssembly.profile(of: read), DocumentAssembly.withActivityText(whole.carried(to: request.phase), asOf: read.requestedAt),
                           "\(request.phase)", file: file, line: line)
            // As the record carries them: the activity without its plain text.
            XCTAssertEqual(read.document, try RawJSON(encoding: document).decoded(as: DocumentParts.self), file: file, line: line)
        }
    }

    /// The answer to `request` with its phase's payload, as the coordinator hands it to the
    /// machine: with where the result is and its payload's JSON.
    private func answer(_ request: PhaseRequest, offset: Int64) throws -> Machine.Event {
        let payload = Self.payloads[request.phase] ?? .empty
        let result = PhaseResult(answering: request, outcome: .completed, payload: payload, finishedAt: Fixtures.now, service: "test")
        let output = OutputReference(phase: request.phase, topic: "phase.results", partition: 0, offset: offset)
        return .phaseResult(result.envelope, at: Fixtures.now, output: output)
    }

    /// Completes every request with its phase's payload, checking each, until the run is ready.
    private func finish(_ machine: inout Machine, _ first: [Machine.Action], pieces: inout Pieces,
                        override: LeadOverride? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        var actions = first
        try check(actions, machine: machine, pieces: pieces, file: file, line: line)
        var offset: Int64 = 0
        var runID = machine.state?.runID
        while let request = actions.compactMap({ if case .sendPhaseRequest(let request) = $0 { request } else { nil } }).first {
            if request.runID != runID {  // a run that starts when the last is ready starts from its profile
                runID = request.runID
                pieces = Pieces(base: machine.state?.runBase, web: pieces.web, override: pieces.override)
            }
            offset += 1
            actions = machine.handle(try answer(request, offset: offset), override: override, random: &random)
            pieces.outputs.append(try PhaseOutput(phase: request.phase, payload: Self.payloads[request.phase] ?? .empty))
            pieces.override = override
            try check(actions, machine: machine, pieces: pieces, file: file, line: line)
        }
        XCTAssertEqual(machine.state?.status, .ready, file: file, line: line)
    }

    func testAFullRunAssemblesAsTheMachineMerges() throws {
        var machine = Machine()
        var pieces = Pieces()
        let first = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        try finish(&machine, first, pieces: &pieces)
        XCTAssertNotNil(machine.state?.profile.scores)
    }

    /// The plain text repeats the posts: a result and the requests after it carry the posts
    /// only, and the stage renders the text again, the posts' ages as of the request.
    func testAnActivityTravelsWithoutItsPlainTextAndTheStageRendersIt() throws {
        let posts = [Fixtures.post("we are hiring SDRs", daysAgo: 2), Fixtures.post("pipeline reviews", daysAgo: 30, id: "p2")]
        let activity = try XCTUnwrap(Fixtures.profile(posts: posts).activity)
        XCTAssertTrue(activity.plainText.contains("2 days ago"), activity.plainText)
        let payload = PhasePayload(activity: activity, activityOutcome: .succeeded)
        let fields = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(RawJSON(encoding: payload).bytes)) as? [String: Any])
        let sent = try XCTUnwrap(fields["activity"] as? [String: Any])
        XCTAssertNil(sent["plainText"])
        XCTAssertEqual((sent["posts"] as? [Any])?.count, 2)

        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        var finalize: PhaseRequest?
        var offset: Int64 = 0
        while finalize == nil, let request = actions.compactMap({ if case .sendPhaseRequest(let request) = $0 { request } else { nil } }).first {
            offset += 1
            let answer = request.phase == .activity ? payload : Self.payloads[request.phase] ?? .empty
            let result = PhaseResult(answering: request, outcome: .completed, payload: answer, finishedAt: Fixtures.now, service: "test")
            actions = machine.handle(.phaseResult(result.envelope, at: Fixtures.now, output: OutputReference(
                phase: request.phase, topic: "phase.results", partition: 0, offset: offset)),
                random: &random)
            finalize = actions.compactMap { if case .sendPhaseRequest(let request) = $0, request.phase == .finalize { request } else { nil } }.first
        }
        var request = try codec.decode(PhaseRequest.self, from: codec.encode(try XCTUnwrap(finalize)))
        let activityOutput = try XCTUnwrap(request.document?.outputs.first { $0.phase == .activity })
        XCTAssertFalse(String(decoding: activityOutput.payload.bytes, as: UTF8.self).contains("plainText"), "not in the record")
        XCTAssertEqual(DocumentAssembly.profile(of: request).activity?.plainText, activity.plainText)
        // A week later (a lead that waited for its outreach window), the ages are a week older.
        request.requestedAt = Fixtures.now.addingTimeInterval(7 * 86_400)
        XCTAssertTrue(DocumentAssembly.profile(of: request).activity?.plainText.contains("9 days ago") == true)
    }

    /// The machine passes a result's payload on as the stage wrote it, without reading it: a
    /// payload this version cannot read reaches the next requests byte for byte, and the stage
    /// that puts the profile together lists that phase as skipped with the reason.
    func testAPayloadIsPassedOnUnreadAndAnUnreadableOneIsListedAsSkipped() throws {
        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        let unreadable = try JSONIndexDecoder.decode(RawJSON.self, from: Array(#"{"profile":{"linkedin":42},"future":[1,2]}"#.utf8))
        var offset: Int64 = 0
        var scoring: PhaseRequest?
        while scoring == nil, let request = actions.compactMap({ if case .sendPhaseRequest(let request) = $0 { request } else { nil } }).first {
            offset += 1
            var result = PhaseResult(answering: request, outcome: .completed, payload: Self.payloads[request.phase] ?? .empty,
                                     finishedAt: Fixtures.now, service: "test").envelope
            if request.phase == .profile { result.payload = unreadable }
            let output = OutputReference(phase: request.phase, topic: "phase.results", partition: 0, offset: offset)
            actions = machine.handle(.phaseResult(result, at: Fixtures.now, output: output), random: &random)
            scoring = actions.compactMap { if case .sendPhaseRequest(let request) = $0, request.phase == .scoring { request } else { nil } }.first
        }
        XCTAssertEqual(machine.state?.isProfileLoaded, false, "the machine did not put the profile together")
        let bytes = try codec.encode(try XCTUnwrap(scoring))
        XCTAssertNotNil(String(decoding: bytes, as: UTF8.self).range(of: #""payload":{"profile":{"linkedin":42},"future":[1,2]}"#),
                        "the payload as the stage wrote it")
        let profile = DocumentAssembly.profile(of: try codec.decode(PhaseRequest.self, from: bytes))
        XCTAssertNil(profile.linkedin)
        XCTAssertNotNil(profile.activity, "the outputs that can be read are there")
        let skip = try XCTUnwrap(profile.skippedPhases.first)
        XCTAssertEqual(skip.phase, .profile)
        XCTAssertTrue(skip.reason.hasPrefix("its output could not be read"), skip.reason)
    }

    /// A ready lead whose record refers to its pool entry keeps its run's outputs, unread, until
    /// it is retired: a re-enrich that comes before starts from the profile they make.
    func testAReadyLeadStillHeldStartsARunFromItsUnreadOutputs() throws {
        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        var offset: Int64 = 0
        while let request = actions.compactMap({ if case .sendPhaseRequest(let request) = $0 { request } else { nil } }).first {
            offset += 1
            var result = PhaseResult(answering: request, outcome: .completed, payload: Self.payloads[request.phase] ?? .empty,
                                     finishedAt: Fixtures.now, service: "test")
            if request.phase == .finalize { result.poolEntry = RecordPosition(topic: "lead.pool", partition: 0, offset: 7) }
            let output = OutputReference(phase: request.phase, topic: "phase.results", partition: 0, offset: offset)
            actions = machine.handle(.phaseResult(result.envelope, at: Fixtures.now, output: output), random: &random)
        }
        let ready = try XCTUnwrap(machine.state)
        XCTAssertEqual([ready.status, ready.isProfileLoaded] as [AnyHashable], [LeadStatus.ready, false])
        XCTAssertFalse(String(decoding: try codec.encode(ready), as: UTF8.self).contains("we are hiring SDRs"), "the record refers to the pool entry")
        let whole = ready.wholeProfile(at: Fixtures.now)
        XCTAssertNotNil(whole.linkedin)
        XCTAssertNotNil(whole.scores)
        _ = machine.handle(.reEnrich(.reEnrich([.x]), runID: "run-2", at: Fixtures.now), random: &random)
        XCTAssertEqual(machine.state?.runBase, whole, "the new run starts from the last run's profile")
    }

    func testAPoolProfileIsTheStartOfAScoringOnlyRun() throws {
        var machine = Machine()
        var pieces = Pieces()
        let first = machine.handle(.discovered(Fixtures.lead(mode: .scoringOnly), runID: "run-1", at: Fixtures.now), random: &random)
        try finish(&machine, first, pieces: &pieces)
        XCTAssertNotNil(machine.state?.profile.linkedin, "the pool profile's LinkedIn data is kept")
    }

    func testSkippedPhasesAndAnOverrideReachTheStage() throws {
        var machine = Machine()
        var pieces = Pieces()
        // No URL for the profile phase: it is skipped with a reason.
        let first = machine.handle(.discovered(Fixtures.lead(linkedin: nil, x: nil), runID: "run-1", at: Fixtures.now), random: &random)
        let override = LeadOverride(leadID: "lead-1", state: .manual, reason: "customer call", requestedBy: "ops", at: Fixtures.now)
        try finish(&machine, first, pieces: &pieces, override: override)
        XCTAssertFalse(machine.state?.profile.skippedPhases.isEmpty ?? true)
        XCTAssertEqual(machine.state?.profile.scores?.buyerState, .manual)
    }

    func testAWebEnrichmentAndAFoundProfileDuringTheRunAreInTheDocument() throws {
        var machine = Machine()
        var pieces = Pieces()
        var actions = machine.handle(.discovered(Fixtures.lead(x: nil), runID: "run-1", at: Fixtures.now), random: &random)
        let profileRequest = try XCTUnwrap(actions.compactMap { if case .sendPhaseRequest(let request) = $0 { request } else { nil } }.first)
        let web = WebEnrichment(leadID: "lead-1", searchID: nil, domain: "acme.example", url: "https://acme.example", status: .completed,
                                name: "Acme", companyDescription: "Pipelines", fetchedAt: Fixtures.now)
        XCTAssertFalse(machine.handle(.webEnrichment(web, at: Fixtures.now), random: &random).isEmpty)
        pieces.web = web
        let found = ProfileFound(leadID: "lead-1", platform: .x, url: "https://x.com/janedoe2", confidence: 0.9, foundBy: "t", foundAt: Fixtures.now)
        XCTAssertFalse(machine.handle(.profileFound(found, reEnrichRunID: "run-pf", at: Fixtures.now), random: &random).isEmpty)
        actions = machine.handle(try answer(profileRequest, offset: 99), random: &random)
        pieces.outputs.append(try PhaseOutput(phase: .profile, payload: Self.payloads[.profile]!))
        try finish(&machine, actions, pieces: &pieces)
        XCTAssertEqual(machine.state?.profile.xURL, "https://x.com/janedoe2")
        XCTAssertEqual(machine.state?.profile.web, web)
        // Found while the profile phase was asking LinkedIn alone: a re-enrich run fetched X.
        XCTAssertEqual(machine.state?.mode, .reEnrich([.x]))
    }

    func testAReEnrichRunStartsFromTheLastRunsProfile() throws {
        var machine = Machine()
        var pieces = Pieces()
        let first = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        try finish(&machine, first, pieces: &pieces)
        let lastRun = try XCTUnwrap(machine.state?.profile)
        var again = Pieces(base: lastRun)
        let actions = machine.handle(.reEnrich(.reEnrich([.x]), runID: "run-2", at: Fixtures.now), random: &random)
        try finish(&machine, actions, pieces: &again)
        XCTAssertEqual(machine.state?.profile.linkedin, lastRun.linkedin, "what the re-enrich did not refresh is kept")
    }

    func testAVersionTwoRequestForAPhaseThatReadsTheProfileNeedsItsDocument() throws {
        let lead = Fixtures.lead()
        let lean = LeanRequest(leadID: lead.leadID, runID: "run-1", phase: .scoring, attempt: 1, mode: .full, platforms: [], lead: lead,
                               document: nil, accountID: lead.accountID, offerID: lead.offerID, isPriority: false,
                               requestedAt: Fixtures.now)
        XCTAssertThrowsError(try codec.decode(PhaseRequest.self, from: codec.encode(lean))) { error in
            XCTAssertTrue("\(error)".contains("neither the lead's profile nor its document"), "\(error)")
        }
        var activity = lean
        activity.phase = .activity
        let read = try codec.decode(PhaseRequest.self, from: codec.encode(activity))
        XCTAssertEqual(read.profile, EnrichedProfile(discovered: lead).carried(to: .activity))
        XCTAssertEqual(DocumentAssembly.profile(of: read), read.profile)
    }

    func testARequestForAPhaseThatDoesNotReadTheProfileCarriesTheLeadsIdentity() throws {
        var machine = Machine()
        let actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        let request = try XCTUnwrap(actions.compactMap { if case .sendPhaseRequest(let request) = $0 { request } else { nil } }.first)
        let text = String(decoding: try codec.encode(request), as: UTF8.self)
        XCTAssertFalse(text.contains("\"document\""))
        XCTAssertTrue(text.contains("\"version\":2"), text)
        XCTAssertEqual(try codec.decode(PhaseRequest.self, from: codec.encode(request)), request)
    }

    /// After a wait the state no longer holds the run's outputs (a wait may outlast the results
    /// topic), so the scoring request carries the whole profile, which a stage reads as before.
    func testAfterABillingPauseTheRequestCarriesTheProfile() throws {
        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        var offset: Int64 = 0
        var scoring: PhaseRequest?
        while scoring == nil, let request = actions.compactMap({ if case .sendPhaseRequest(let request) = $0 { request } else { nil } }).first {
            offset += 1
            let paused = LeadStateMachine.Gates(isBillingPaused: request.phase == .profile)
            actions = machine.handle(try answer(request, offset: offset), gates: paused, random: &random)
            if machine.state?.status == .billingPaused {
                actions = machine.handle(.gatesChanged(at: Fixtures.now), gates: .open, random: &random)
            }
            scoring = actions.compactMap { if case .sendPhaseRequest(let request) = $0, request.phase == .scoring { request } else { nil } }.first
        }
        let request = try XCTUnwrap(scoring)
        XCTAssertNil(request.document)
        let read = try codec.decode(PhaseRequest.self, from: codec.encode(request))
        XCTAssertEqual(read.profile, request.profile)
        XCTAssertNotNil(read.profile.activity, "the profile has what the phases before the pause produced")
        let whole = try XCTUnwrap(machine.state).wholeProfile(at: Fixtures.now)
        XCTAssertEqual(DocumentAssembly.profile(of: read), DocumentAssembly.withActivityText(whole, asOf: read.requestedAt))
    }

    func testARestoreReadsAStateRecordAsItsSummaryWithoutTheProfile() throws {
        var machine = Machine()
        var pieces = Pieces()
        let lead = Fixtures.lead(mode: .scoringOnly)
        let first = machine.handle(.discovered(lead, runID: "run-1", at: Fixtures.now), random: &random)
        let running = try XCTUnwrap(machine.state)
        var summary = try codec.decode(LeadStateSummary.self, from: codec.encode(running))
        XCTAssertEqual(summary.lead, .init(leadID: lead.leadID, accountID: lead.accountID, sourceSearchID: lead.sourceSearchID))
        XCTAssertEqual([summary.status, summary.runID.rawValue, summary.currentPhase?.rawValue] as [AnyHashable?],
                       [running.status, "run-1", running.currentPhase?.rawValue])
        try finish(&machine, first, pieces: &pieces)
        summary = try codec.decode(LeadStateSummary.self, from: codec.encode(try XCTUnwrap(machine.state)))
        XCTAssertEqual(summary.status, .ready)
        XCTAssertNil(summary.currentPhase)
        let queued = LeadStateMachine.queued(lead, runID: "run-2", at: Fixtures.now)
        XCTAssertEqual(try codec.decode(LeadStateSummary.self, from: codec.encode(queued)).status, .pending)
    }

    /// A state whose profile is only what its run started from (queued, or waiting on a gate
    /// before the run's first output) writes no profile: the lead's discovery holds it, and the
    /// record read back puts the same profile together.
    func testAStateHoldingOnlyWhatItsRunStartedFromCarriesNoProfile() throws {
        func members(_ state: LeadState) throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(codec.encode(state))) as? [String: Any])
        }
        var deferred = LeadStateMachine.queued(Fixtures.lead(), runID: "run-1", at: Fixtures.now)
        deferred.status = .outsideOutreachWindow
        deferred.profile.skippedPhases = [PhaseSkip(phase: .profile, reason: "no provider", at: Fixtures.now)]
        var scoringOnly = LeadStateMachine.queued(Fixtures.lead(mode: .scoringOnly), runID: "run-1", at: Fixtures.now)
        scoringOnly.profile = EnrichedProfile(startingRunOf: scoringOnly.lead)  // as a run that waits on a gate has it
        XCTAssertNotNil(scoringOnly.profile.linkedin, "the pool profile's data")
        let starts = [LeadStateMachine.queued(Fixtures.lead(), runID: "run-1", at: Fixtures.now), scoringOnly, deferred]
        for state in starts {
            let written = try members(state)
            XCTAssertNil(written["profile"], "\(state.status)")
            XCTAssertNotNil(written["document"], "\(state.status)")
            let read = try codec.decode(LeadState.self, from: codec.encode(state))
            XCTAssertEqual(read.profile, state.profile, "\(state.status)")
            XCTAssertTrue(read.isProfileLoaded)
            XCTAssertEqual(try codec.encode(read), try codec.encode(state), "written again the same")
        }

        // A profile with more than the run's start (a pool profile's data on a full run) is written whole.
        var more = LeadStateMachine.queued(Fixtures.lead(), runID: "run-1", at: Fixtures.now)
        more.profile.linkedin = Fixtures.linkedin()
        XCTAssertNotNil(try members(more)["profile"])
        XCTAssertEqual(try codec.decode(LeadState.self, from: codec.encode(more)).profile.linkedin, Fixtures.linkedin())
    }

    /// A running lead's state record refers to its outputs instead of carrying the profile; read
    /// back and put together with those outputs, it is the state the machine had. Ready, it
    /// carries the profile again.
    func testARunningLeadsRecordRefersToItsOutputsAndPutsTheSameStateTogether() throws {
        var machine = Machine()
        var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
        var payloads: [OutputReference: PhasePayload] = [:]
        var offset: Int64 = 100
        func roundTrip() throws -> LeadState {
            let state = try XCTUnwrap(machine.state)
            let bytes = try codec.encode(state)
            var read = try codec.decode(LeadState.self, from: bytes)
            if !read.isProfileLoaded {
                let text = String(decoding: bytes, as: UTF8.self)
                XCTAssertFalse(text.contains("\"profile\":"), "a running lead's record has no profile")
                if read.runBase == nil {  // a re-enrich run's records carry the profile it started from
                    XCTAssertFalse(text.contains("we are hiring SDRs"), "nor the activity it refers to")
                }
                // As a coordinator's restore reads them back: unread, the profile not put together.
                read.runOutputs = try read.outputs.map { try PhaseOutput(phase: $0.phase, payload: payloads[$0]!) }
            }
            // The same profile whether or not it is put together yet.
            XCTAssertEqual(read.wholeProfile(at: Fixtures.now), state.wholeProfile(at: Fixtures.now))
            (read.profile, read.isProfileLoaded) = (state.profile, state.isProfileLoaded)
            XCTAssertEqual(read, state)
            return read
        }
        while let request = actions.compactMap({ if case .sendPhaseRequest(let request) = $0 { request } else { nil } }).first {
            _ = try roundTrip()
            let payload = Self.payloads[request.phase] ?? .empty
            let output = OutputReference(phase: request.phase, topic: "phase.results", partition: 0, offset: offset)
            offset += 1
            payloads[output] = payload
            let result = PhaseResult(answering: request, outcome: .completed, payload: payload, finishedAt: Fixtures.now, service: "test")
            actions = machine.handle(.phaseResult(result.envelope, at: Fixtures.now, output: output), random: &random)
        }
        let ready = try roundTrip()
        XCTAssertEqual(ready.status, .ready)
        XCTAssertTrue(String(decoding: try codec.encode(ready), as: UTF8.self).contains("we are hiring SDRs"), "the ready record carries the profile")

        // A re-enrich run starts from the last run's profile: its records carry that as the base.
        actions = machine.handle(.reEnrich(.reEnrich([.x]), runID: "run-2", at: Fixtures.now), random: &random)
        XCTAssertEqual(try roundTrip().runBase?.scores, ready.profile.scores)
    }

    /// A ready lead's record refers to the pool entry its finalize result named instead of
    /// carrying the profile; the profile read back from that entry is the machine's. Without a
    /// position (a version 1 finalize stage), or once a web enrichment changed the ready profile,
    /// the record carries the profile.
    func testAReadyLeadsRecordRefersToItsPoolEntryAndLoadsTheSameProfileFromIt() throws {
        let position = RecordPosition(topic: "lead.pool", partition: 2, offset: 7)
        func ready(namingPoolEntry: Bool) throws -> (Machine, LeadPoolEntry) {
            var machine = Machine()
            var actions = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now), random: &random)
            var entry: LeadPoolEntry?
            while let request = actions.compactMap({ if case .sendPhaseRequest(let request) = $0 { request } else { nil } }).first {
                var result = PhaseResult(answering: request, outcome: .completed, payload: Self.payloads[request.phase] ?? .empty,
                                         finishedAt: Fixtures.now, service: "test")
                if request.phase == .finalize {
                    entry = LeadPoolEntry(profile: request.profile, accountID: request.accountID, offerID: request.offerID, finishedAt: Fixtures.now)
                    result.poolEntry = namingPoolEntry ? position : nil
                }
                actions = machine.handle(.phaseResult(result.envelope, at: Fixtures.now), random: &random)
            }
            return (machine, try XCTUnwrap(entry))
        }

        var (machine, entry) = try ready(namingPoolEntry: true)
        let state = try XCTUnwrap(machine.state)
        XCTAssertEqual([state.status, state.poolEntry] as [AnyHashable?], [LeadStatus.ready, position])
        let bytes = try codec.encode(state)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertFalse(text.contains("\"profile\":"), "the ready record has no profile")
        XCTAssertFalse(text.contains("we are hiring SDRs"), "nor the activity")
        XCTAssertTrue(text.contains("\"pool\":"), text)
        var read = try codec.decode(LeadState.self, from: bytes)
        XCTAssertFalse(read.isProfileLoaded)
        XCTAssertEqual(read.poolEntry, position)
        read.loadProfile(from: entry)
        XCTAssertEqual(read.profile, state.profile, "the pool entry holds the ready profile")
        XCTAssertNil(read.poolEntry, "loaded, its next record carries the profile")

        // A web enrichment of the ready lead: the coordinator rewrites the entry, the record carries the profile.
        let web = WebEnrichment(leadID: "lead-1", searchID: nil, domain: "acme.example", url: "https://acme.example", status: .completed,
                                name: "Acme", companyDescription: "Pipelines", fetchedAt: Fixtures.now)
        XCTAssertFalse(machine.handle(.webEnrichment(web, at: Fixtures.now), random: &random).isEmpty)
        XCTAssertNil(machine.state?.poolEntry)
        XCTAssertTrue(String(decoding: try codec.encode(try XCTUnwrap(machine.state)), as: UTF8.self).contains("we are hiring SDRs"))

        // A finalize result that names no entry: the ready record carries the profile, as version 1 did.
        (machine, entry) = try ready(namingPoolEntry: false)
        let inline = try codec.encode(try XCTUnwrap(machine.state))
        XCTAssertTrue(String(decoding: inline, as: UTF8.self).contains("we are hiring SDRs"))
        XCTAssertEqual(try codec.decode(LeadState.self, from: inline), machine.state)
    }
}
