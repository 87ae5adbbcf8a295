import Foundation
import JSONCodec
@testable import LeadModel
import XCTest

/// The profile's parts read and write their JSON themselves (`Profiles+JSON.swift`); these tests
/// hold the hand-written readers and writers to what each type's `Codable` conformance reads and
/// writes, which Foundation's coders use. The full profile sets every field of every part, and a
/// test checks that it does: a field added to a type fails here until the fixture sets it, and
/// then until its reader and writer handle it.
final class ProfileJSONTests: XCTestCase {
    private static let day = Date(timeIntervalSince1970: 1_767_225_600.25)

    static func fullProfile() -> EnrichedProfile {
        let day = Self.day
        var linkedin = LinkedInProfile(
            publicIdentifier: "ada-l", fullName: "Ada \"AL\" Lovelace", headline: "Engines\nand notes", jobTitle: "VP Engineering",
            company: "Analytical Ltd", companyLinkedInID: "li-42", location: "London, UK",
            experiences: [
                Experience(company: "Analytical Ltd", companyLinkedInID: "li-42", title: "VP Engineering",
                           startDate: day.addingTimeInterval(-86_400 * 400), endDate: day.addingTimeInterval(-86_400)),
            ],
            education: [Education(school: "Home", degree: "BSc", field: "Mathematics", endYear: 1833)],
            skills: ["Analysis", "Écriture"], certifications: ["CKA"], languages: ["English", "French"], connections: 500,
            followers: 1_200)
        linkedin.sources = [FieldSource(group: .identity, vendor: "pdl", confidence: 0.875)]
        let x = XProfile(
            userID: "x-1", name: "Ada", username: "ada", bio: "Engines / notes", followersCount: 10, followingCount: 20,
            isVerified: true, profileImageURL: "https://img.example/ada.png", canDM: false, isProtected: false,
            location: "London", url: "https://ada.example")
        let company = Company(
            name: "Analytical Ltd", linkedInID: "li-42", employeeCount: 250, employeeRange: EmployeeRange(minimum: 201, maximum: 500),
            revenueUSD: 12_000_000, industry: "Computer Software",
            domain: "analytical.example", headquarters: "London")
        let activity = Activity(
            posts: [Post(id: "p1", platform: .x, date: day, text: "Looking for a tool \u{1F4A1}", likes: 3, replies: 1, reposts: 0,
                         url: "https://x.example/p1")],
            plainText: "Looking for a tool", orbit: [
                OrbitTarget(platform: .linkedin, handle: "rival", name: "Rival Inc", classification: .adjacentVendor, interactionCount: 4,
                            firstSeen: day.addingTimeInterval(-3_600), lastSeen: day),
            ],
            signalDate: day,
            clusters: [OrbitCluster(handles: ["rival", "peer"], hasCompetitor: true, interactionCount: 6, firstSeen: day, lastSeen: day,
                                    velocityPerWeek: 1.5, isNew: true, names: ["Rival Inc", "Peer"])])
        let scores = ScoreCard(
            fit: 80, intent: -5, timing: 30, composite: 61, buyerState: .poorFit,
            fitReasons: [ScoreReason(signal: "title matches", points: 20, source: "linkedin")],
            intentReasons: [ScoreReason(signal: "no posts", points: -5, source: "x")],
            timingReasons: [ScoreReason(signal: "recent post", points: 30, source: "activity")],
            stateReason: "hot", scorer: "rules-v3", scoredAt: day,
            evidence: ScoreEvidence(completeness: 90, missing: ["revenue"], sources: ["linkedin", "x"]))
        var profile = EnrichedProfile(
            leadID: "lead-1", name: "Ada Lovelace", linkedinURL: "https://www.linkedin.com/in/ada-l", xURL: "https://x.com/ada",
            linkedin: linkedin, x: x, company: company, linkedinOutcome: .failed(reason: "rate limited", isRetriable: true),
            xOutcome: .skipped(reason: "no handle"), activity: activity, activityOutcome: .succeeded, signalDate: day, scores: scores,
            skippedPhases: [PhaseSkip(phase: .activity, reason: "provider down", at: day)])
        profile.web = WebEnrichment(
            leadID: "lead-1", searchID: nil, domain: "analytical.example", url: "https://analytical.example", status: .completed,
            name: "Analytical", fetchedAt: day)
        return profile
    }

    /// Every optional of every writable part is set and every array has an element.
    func testTheFullProfileSetsEveryField() {
        var unset: [String] = []
        Self.collectUnsetFields(of: Self.fullProfile(), path: "profile", into: &unset)
        XCTAssertEqual(unset, [], "set these in fullProfile(), then check their writers")
    }

    /// The full profile, a sparse one, and one per outcome case.
    private static func profiles() -> [EnrichedProfile] {
        var sparse = EnrichedProfile(leadID: "lead-2", name: "Plain")
        sparse.activity = .empty
        var profiles = [fullProfile(), sparse]
        for outcome in [PlatformOutcome.succeeded, .failed(reason: "x", isRetriable: false), .skipped(reason: "y")] {
            var variant = sparse
            variant.linkedinOutcome = outcome
            profiles.append(variant)
        }
        return profiles
    }

    func testTheWritersWriteWhatEncodableWrites() throws {
        for profile in Self.profiles() {
            try assertSameJSON(profile)
        }
        try assertSameJSON(Activity.WithoutPlainText(activity: Self.fullProfile().activity!))
        try assertSameJSON([Self.fullProfile().scores!])  // writable values inside an array
    }

    /// The index decoder (which uses the readers) reads back what was written, as Foundation's
    /// decoder (which uses `init(from:)`) does, from the codec's JSON and from Foundation's.
    func testTheReadersReadWhatDecodableReads() throws {
        let unsorted = JSONStreamEncoder.foundationEncoder()
        unsorted.outputFormatting = [.withoutEscapingSlashes]  // members in declaration order
        try withoutRefusals {
            for profile in Self.profiles() {
                for bytes in [try JSONStreamEncoder.encode(profile), Array(try unsorted.encode(profile))] {
                    let read = try JSONIndexDecoder.decode(EnrichedProfile.self, from: bytes)
                    XCTAssertEqual(read, try JSONIndexDecoder.foundationDecoder().decode(EnrichedProfile.self, from: Data(bytes)))
                    if bytes == (try JSONStreamEncoder.encode(profile)) { XCTAssertEqual(read, profile) }
                }
            }
        }
        // A result's activity has no plain text: read as empty, as init(from:) reads it.
        let withoutText = try JSONStreamEncoder.encode(Activity.WithoutPlainText(activity: Self.fullProfile().activity!))
        XCTAssertEqual(try JSONIndexDecoder.decode(Activity.self, from: withoutText).plainText, "")
    }

    /// What a reader refuses, `init(from:)` reads: the decoder's rules and the types' checks hold.
    func testWhatTheReadersRefuseIsReadAsBefore() throws {
        let json = String(decoding: try JSONStreamEncoder.encode(Self.fullProfile()), as: UTF8.self)
        func decode(_ text: String) throws -> EnrichedProfile { try JSONIndexDecoder.decode(EnrichedProfile.self, from: Array(text.utf8)) }
        // An integer with a fraction is rejected with its place.
        XCTAssertThrowsError(try decode(json.replacingOccurrences(of: #""likes":3"#, with: #""likes":3.0"#))) { error in
            guard case .invalidValue(let field, _)? = (error as? JSONIndexDecoder.Rejected)?.error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(field, "activity.posts[0].likes")
        }
        // An empty identifier, an unknown case, a missing member, a null where a value is needed.
        for (old, new) in [(#""leadID":"lead-1""#, #""leadID":"""#), (#""status":"skipped""#, #""status":"gone""#),
                           (#","school":"Home""#, ""), (#""bio":"Engines / notes""#, #""bio":null"#)] {
            XCTAssertTrue(json.contains(old), old)
            XCTAssertThrowsError(try decode(json.replacingOccurrences(of: old, with: new)), new)
        }
        // Members no reader knows are ignored, as init(from:) ignores them.
        XCTAssertEqual(try decode(json.replacingOccurrences(of: #""likes":3"#, with: #""likes":3,"liked":true"#)), Self.fullProfile())
    }

    /// A discovered lead with every field set (a pool profile, re-enrich types).
    static func fullLead() -> LeadDiscovered {
        LeadDiscovered(
            leadID: "lead-1", accountID: "acct-1", offerID: "offer-1", sourceSearchID: "search-1", source: .leadPool, name: "Ada",
            linkedinURL: "https://www.linkedin.com/in/ada-l", xURL: "https://x.com/ada", mode: .reEnrich, reEnrichTypes: [.x, .activity],
            discoveredAt: day, poolProfile: fullProfile())
    }

    /// Document parts with every field set.
    static func fullDocument() throws -> DocumentParts {
        let profile = fullProfile()
        return DocumentParts(
            base: profile,
            outputs: [try PhaseOutput(phase: .profile, payload: fullPayload()), try PhaseOutput(phase: .scoring, payload: PhasePayload(scores: profile.scores))],
            skippedPhases: profile.skippedPhases, web: profile.web,
            override: LeadOverride(leadID: "lead-1", state: .manual, reason: "called them", requestedBy: "sam", at: day),
            omitted: ["activity.posts: the 2 oldest of 5"])
    }

    /// A payload with every field set (no phase writes all of them; the type allows it). Its
    /// activity has no plain text: a payload does not carry it.
    static func fullPayload() -> PhasePayload {
        var profile = fullProfile()
        profile.activity?.plainText = ""
        return PhasePayload(
            profile: ProfilePhaseOutput(linkedin: profile.linkedin, x: profile.x, company: profile.company,
                                        linkedinOutcome: profile.linkedinOutcome, xOutcome: profile.xOutcome),
            activity: profile.activity, activityOutcome: profile.activityOutcome, scores: profile.scores,
            omitted: ["activity.orbit: 3 of 9 targets, people before vendors"])
    }

    func testThePhaseMessagesPartsSetEveryField() throws {
        var unset: [String] = []
        Self.collectUnsetFields(of: Self.fullLead(), path: "lead", into: &unset)
        Self.collectUnsetFields(of: try Self.fullDocument(), path: "document", into: &unset)
        Self.collectUnsetFields(of: Self.fullPayload(), path: "payload", into: &unset)
        XCTAssertEqual(unset, [], "set these in the fixtures, then check their readers and writers")
    }

    /// The parts of the phase messages write what `encode(to:)` writes and read back as
    /// `init(from:)` reads them.
    func testThePhaseMessagesPartsReadAndWriteAsCodable() throws {
        try withoutRefusals { try checkThePhaseMessagesParts() }
    }

    private func checkThePhaseMessagesParts() throws {
        let charges = [BillableCharge(provider: "pdl", units: 2)]
        var sparseLead = Self.fullLead()
        sparseLead.poolProfile = nil
        sparseLead.reEnrichTypes = nil
        sparseLead.linkedinURL = nil
        try assertSameJSON(Self.fullLead())
        try assertSameJSON(sparseLead)
        try assertSameJSON(try Self.fullDocument())
        try assertSameJSON(DocumentParts())
        try assertSameJSON(Self.fullPayload())
        try assertSameJSON(PhasePayload.empty)
        try assertSameJSON(charges)
        try assertReadsBack(Self.fullLead())
        try assertReadsBack(sparseLead)
        try assertReadsBack(try Self.fullDocument())
        try assertReadsBack(Self.fullPayload())
        try assertReadsBack(charges)
        // A lead without a mode is a full run, as init(from:) reads it.
        let json = String(decoding: try JSONStreamEncoder.encode(sparseLead), as: UTF8.self)
        XCTAssertEqual(try JSONIndexDecoder.decode(LeadDiscovered.self, from: Array(json.replacingOccurrences(of: #""mode":"re-enrich","#, with: "").utf8)).mode, .full)
    }

    /// Every mode writes what `encode(to:)` writes and reads back; a re-enrich without types or
    /// with an unknown one is rejected, as `init(from:)` rejects it.
    func testModesReadAndWriteAsCodable() throws {
        try withoutRefusals {
            for mode in [Mode.full, .scoringOnly, .enrichOnly, .noOp, .reEnrich([.x]), .reEnrich([.x, .activity, .linkedin])] {
                try assertSameJSON(mode)
                try assertReadsBack(mode)
            }
        }
        for json in [#"{"name":"re-enrich"}"#, #"{"name":"re-enrich","types":[]}"#, #"{"name":"re-enrich","types":["x","bogus"]}"#,
                     #"{"name":"full","types":["bogus"]}"#, #"{"name":"sometimes"}"#, #"{"types":["x"]}"#] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode(Mode.self, from: Array(json.utf8)), json)
            XCTAssertThrowsError(try JSONIndexDecoder.foundationDecoder().decode(Mode.self, from: Data(json.utf8)), json)
        }
        XCTAssertEqual(try JSONIndexDecoder.decode(Mode.self, from: Array(#"{"name":"full","types":["x"]}"#.utf8)), .full)
        // A lead's re-enrich types: an unknown one is rejected either way; null reads as none.
        let lead = String(decoding: try JSONStreamEncoder.encode(Self.fullLead()), as: UTF8.self)
        let types = #""reEnrichTypes":"# + String(decoding: try JSONStreamEncoder.encode(Self.fullLead().reEnrichTypes), as: UTF8.self)
        XCTAssertTrue(lead.contains(types), lead)
        let unknown = Array(lead.replacingOccurrences(of: types, with: #""reEnrichTypes":["x","bogus"]"#).utf8)
        XCTAssertThrowsError(try JSONIndexDecoder.decode(LeadDiscovered.self, from: unknown))
        XCTAssertThrowsError(try JSONIndexDecoder.foundationDecoder().decode(LeadDiscovered.self, from: Data(unknown)))
        let none = Array(lead.replacingOccurrences(of: types, with: #""reEnrichTypes":null"#).utf8)
        XCTAssertNil(try JSONIndexDecoder.decode(LeadDiscovered.self, from: none).reEnrichTypes)
    }

    func testPhaseOutcomesAndRecordPositionsReadAndWriteAsCodable() throws {
        try withoutRefusals {
            for outcome in [PhaseOutcome.completed, .failed(reason: "provider \"down\"", isRetriable: true),
                            .failed(reason: "", isRetriable: false), .accountPaused(reason: "credits"),
                            .waitsForBilling(reason: "account billing paused")] {
                try assertSameJSON(outcome)
                try assertReadsBack(outcome)
            }
            // On the wire, a retriable failure that says it waits for billing.
            let waits = String(decoding: try JSONStreamEncoder.encode(PhaseOutcome.waitsForBilling(reason: "paused")), as: UTF8.self)
            XCTAssertEqual(waits, #"{"isRetriable":true,"reason":"paused","status":"failed","waitsForBilling":true}"#)
            for position in [RecordPosition(topic: "lead.pool", partition: 0, offset: 0),
                             RecordPosition(topic: "t", partition: .max, offset: .max)] {
                try assertSameJSON(position)
                try assertReadsBack(position)
            }
        }
        for json in [#"{"topic":"t","partition":2147483648,"offset":1}"#, #"{"topic":"t","partition":1.5,"offset":1}"#,
                     #"{"topic":"t","offset":1}"#] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode(RecordPosition.self, from: Array(json.utf8)), json)
            XCTAssertThrowsError(try JSONIndexDecoder.foundationDecoder().decode(RecordPosition.self, from: Data(json.utf8)), json)
        }
        for json in [#"{"status":"done"}"#, #"{"status":"failed","reason":"x"}"#, #"{"status":"failed","reason":null,"isRetriable":true}"#,
                     #"{"status":"account-paused"}"#, #"{"reason":"x"}"#, #"{"status":"failed","reason":"x","isRetriable":1}"#] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode(PhaseOutcome.self, from: Array(json.utf8)), json)
            XCTAssertThrowsError(try JSONIndexDecoder.foundationDecoder().decode(PhaseOutcome.self, from: Data(json.utf8)), json)
        }
        XCTAssertEqual(try JSONIndexDecoder.decode(PhaseOutcome.self, from: Array(#"{"status":"completed","reason":"ignored"}"#.utf8)),
                       .completed)
    }

    /// Requests and results: the messages write and read their members among their envelope's.
    func testRequestsAndResultsReadAndWriteAsCodable() throws {
        let lead = Self.fullLead()
        let document = try Self.fullDocument()
        var requests = [
            PhaseRequest(leadID: lead.leadID, runID: "run-1", phase: .scoring, attempt: 2, mode: .reEnrich([.x, .activity]),
                         platforms: [.linkedin, .x], lead: lead, profile: EnrichedProfile(discovered: lead).carried(to: .profile),
                         accountID: lead.accountID, offerID: lead.offerID, isPriority: true, requestedAt: Self.day, document: document),
        ]
        var profileRequest = requests[0]  // a profile request carries no document
        profileRequest.phase = .profile
        profileRequest.document = nil
        requests.append(profileRequest)
        var result = PhaseResult(leadID: lead.leadID, runID: "run-1", phase: .profile, attempt: 1,
                                 outcome: .failed(reason: "rate limited", isRetriable: true), payload: Self.fullPayload(),
                                 charges: [BillableCharge(provider: "pdl", units: 1)], finishedAt: Self.day, service: "profile-stage")
        result.poolEntry = RecordPosition(topic: "lead.pool", partition: 3, offset: 42)
        let codec = MessageCodec()
        try withoutRefusals {
            for request in requests {
                try assertSameJSON(request)
                let bytes = try codec.encode(request)
                // The envelope's members sort after the request's.
                XCTAssertEqual(bytes, try JSONStreamEncoder.encode(request).dropLast() + Array(#","schema":"phase.request","version":2}"#.utf8))
                XCTAssertEqual(try codec.decode(PhaseRequest.self, from: bytes), request)
                XCTAssertEqual(try JSONIndexDecoder.foundationDecoder().decode(PhaseRequest.self, from: Data(bytes)), request)
            }
            try assertSameJSON(result)
            let bytes = try codec.encode(result)
            XCTAssertEqual(try codec.decode(PhaseResult.self, from: bytes), result)
            XCTAssertEqual(try JSONIndexDecoder.foundationDecoder().decode(PhaseResult.self, from: Data(bytes)), result)
            XCTAssertEqual(try codec.decode(PhaseResultEnvelope.self, from: bytes), try PhaseResultEnvelope(result))
            let usage = BillingUsage(accountID: lead.accountID, leadID: lead.leadID, runID: "run-1", phase: .profile,
                                     charges: [BillableCharge(provider: "pdl", units: 1), BillableCharge(provider: "x-api", units: 2)], chargedAt: Self.day)
            var entry = LeadPoolEntry(profile: Self.fullProfile(), accountID: lead.accountID, offerID: lead.offerID, finishedAt: Self.day)
            entry.omitted = ["activity.posts: the 2 oldest of 5"]
            var unset: [String] = []
            Self.collectUnsetFields(of: entry, path: "entry", into: &unset)
            XCTAssertEqual(unset, [])
            try assertSameJSON(usage)
            try assertSameJSON(entry)
            XCTAssertEqual(try codec.decode(BillingUsage.self, from: try codec.encode(usage)), usage)
            XCTAssertEqual(try codec.decode(LeadPoolEntry.self, from: try codec.encode(entry)), entry)
            XCTAssertEqual(try JSONIndexDecoder.foundationDecoder().decode(LeadPoolEntry.self, from: Data(try codec.encode(entry))), entry)
        }
        // A scoring request with neither document nor profile is still refused, with the reason.
        let noDocument = String(decoding: try codec.encode(requests[0]), as: UTF8.self)
            .replacingOccurrences(of: String(decoding: try JSONStreamEncoder.encode(document), as: UTF8.self), with: "null")
        XCTAssertThrowsError(try codec.decode(PhaseRequest.self, from: Array(noDocument.utf8)))
    }

    /// A profile or activity request whose profile is the lead's id, name and URLs leaves it out,
    /// as the readers make it of the lead; one whose profile says more keeps it.
    func testARequestLeavesOutAProfileThatIsTheLeads() throws {
        let lead = Self.fullLead()
        let codec = MessageCodec()
        func request(_ phase: Phase, _ profile: EnrichedProfile) -> PhaseRequest {
            PhaseRequest(leadID: lead.leadID, runID: "run-1", phase: phase, attempt: 1, mode: .full, platforms: [.linkedin], lead: lead,
                         profile: profile, accountID: lead.accountID, offerID: lead.offerID, isPriority: false, requestedAt: Self.day)
        }
        func members(_ request: PhaseRequest) throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(codec.encode(request))) as? [String: Any])
        }
        var other = EnrichedProfile(discovered: lead).carried(to: .profile)
        other.linkedinURL = "https://www.linkedin.com/in/someone-else"
        try withoutRefusals {
            for phase in [Phase.profile, .activity] {
                let plain = request(phase, EnrichedProfile(discovered: lead).carried(to: phase))
                XCTAssertNil(try members(plain)["profile"], "\(phase)")
                XCTAssertEqual(try codec.decode(PhaseRequest.self, from: codec.encode(plain)), plain)
                XCTAssertEqual(try JSONIndexDecoder.foundationDecoder().decode(PhaseRequest.self, from: Data(codec.encode(plain))), plain)
                try assertSameJSON(plain)

                let found = request(phase, other)
                XCTAssertNotNil(try members(found)["profile"], "\(phase)")
                XCTAssertEqual(try codec.decode(PhaseRequest.self, from: codec.encode(found)), found)
                try assertSameJSON(found)
            }
        }
    }

    /// A stage reads each output's payload with the request, from the request's index: the same
    /// payload a second parse gives. One that is not a payload is left to that second parse,
    /// which reports it as before; the request itself still reads.
    func testARequestsOutputsAreReadWithTheRequest() throws {
        let document = try Self.fullDocument()
        let lead = Self.fullLead()
        var request = PhaseRequest(
            leadID: lead.leadID, runID: "run-1", phase: .finalize, attempt: 1, mode: .full, platforms: [], lead: lead,
            profile: EnrichedProfile(discovered: lead), accountID: lead.accountID, offerID: lead.offerID, isPriority: false,
            requestedAt: Self.day, document: document)
        let codec = MessageCodec()
        let read = try codec.decode(PhaseRequest.self, from: try codec.encode(request))
        for (output, original) in zip(try XCTUnwrap(read.document?.outputs), document.outputs) {
            XCTAssertNotNil(output.read, "read with the request")
            XCTAssertEqual(try output.decodedPayload(), try original.payload.decoded(as: PhasePayload.self))
            XCTAssertEqual(output, original)
        }
        request.document?.outputs[0].payload = try RawJSON(encoding: ["activity": 7])
        let withBadOutput = try codec.decode(PhaseRequest.self, from: try codec.encode(request))
        let bad = try XCTUnwrap(withBadOutput.document?.outputs.first)
        XCTAssertNil(bad.read)
        XCTAssertThrowsError(try bad.decodedPayload())
        var changed = try XCTUnwrap(read.document?.outputs.first)
        changed.payload = try RawJSON(encoding: PhasePayload.empty)
        XCTAssertEqual(try changed.decodedPayload(), .empty, "a new payload is read anew")
    }

    /// A state with every field set: a re-enrich run, processing, with references to its outputs.
    static func fullState() throws -> LeadState {
        let day = Self.day
        var state = LeadState(
            lead: fullLead(), runID: "run-2", mode: .reEnrich([.x, .activity]), status: .processing,
            plan: [.profile, .activity, .scoring, .finalize], phaseIndex: 2,
            inFlight: InFlightAttempt(phase: .scoring, attempt: 3, isBackingOff: true, deadline: day, timedOutAttempts: 1),
            profile: fullProfile(),
            history: [
                HistoryEntry(at: day, kind: .discovered, runID: "run-1", phase: nil, attempt: nil, detail: "source lead-pool"),
                HistoryEntry(at: day, kind: .runStarted, runID: "run-2", phase: nil, attempt: nil, detail: nil),
                HistoryEntry(at: day, kind: .phaseStarted, runID: "run-2", phase: .profile, attempt: nil, detail: nil),
                HistoryEntry(at: day, kind: .phaseCompleted, runID: "run-2", phase: .profile, attempt: 1, detail: nil),
                HistoryEntry(at: day, kind: .phaseFailed, runID: "run-2", phase: .activity, attempt: nil, detail: "no \"answer\""),
                HistoryEntry(at: day, kind: .phaseSkipped, runID: "run-1", phase: nil, attempt: 2, detail: nil),
            ],
            createdAt: day, updatedAt: day.addingTimeInterval(1), readyAt: day)
        state.nextAttempt = 4
        state.runBase = fullProfile()
        state.outputs = [OutputReference(phase: .profile, topic: "phase.results", partition: 3, offset: 42),
                         OutputReference(phase: .activity, topic: "phase.results.priority", partition: 0, offset: 7)]
        state.runOutputs = try fullDocument().outputs
        state.poolEntry = RecordPosition(topic: "lead.pool", partition: 1, offset: 9)
        state.isProfileLoaded = false
        state.foundDuringRun = [.linkedin]
        state.omitted = ["activity.posts: the 2 oldest of 5"]
        return state
    }

    /// The lead state writes what `encode(to:)` writes, with references (running or ready) or
    /// with its profile, and the message codec's record reads as Foundation reads it.
    func testTheLeadStateWritesWhatEncodableWrites() throws {
        var unset: [String] = []
        Self.collectUnsetFields(of: try Self.fullState(), path: "state", into: &unset)
        XCTAssertEqual(unset, [], "set these in fullState(), then check its writer")

        let running = try Self.fullState()
        var ready = running
        ready.status = .ready
        var waiting = running  // carries its profile
        waiting.status = .billingPaused
        waiting.isProfileLoaded = true
        waiting.inFlight = InFlightAttempt(phase: .activity, attempt: 1, isBackingOff: false, deadline: Self.day)
        waiting.nextAttempt = nil
        waiting.readyAt = nil
        waiting.foundDuringRun = nil
        waiting.history = [HistoryEntry(at: Self.day, kind: .billingPaused, runID: "run-2", phase: .activity, attempt: nil, detail: nil)]
        XCTAssertNotNil(running.storedDocument)
        XCTAssertNotNil(ready.storedDocument?.pool)
        XCTAssertNil(waiting.storedDocument)
        let codec = MessageCodec()
        for state in [running, ready, waiting] {
            try assertSameJSON(state)
            let bytes = try codec.encode(state)
            let read = try codec.decode(LeadState.self, from: bytes)
            XCTAssertEqual(read, try JSONIndexDecoder.foundationDecoder().decode(LeadState.self, from: Data(bytes)))
            XCTAssertEqual(read.history, state.history)
        }
        waiting.runOutputs = []  // not written
        waiting.outputs = []
        waiting.poolEntry = nil
        waiting.runBase = nil
        XCTAssertEqual(try codec.decode(LeadState.self, from: try codec.encode(waiting)), waiting)
    }

    /// The paths of the nil optionals and empty arrays in `value`, looking inside the values
    /// that write themselves (the others are written through `encode(to:)` either way).
    static func collectUnsetFields(of value: Any, path: String, into unset: inout [String]) {
        for child in Mirror(reflecting: value).children {
            if value is PhaseOutput && child.label == "read" { continue }  // the payload read with its message: not written
            let name = path + "." + (child.label ?? "?")
            let mirror = Mirror(reflecting: child.value)
            var inner = child.value
            if mirror.displayStyle == .optional {
                guard let wrapped = mirror.children.first?.value else {
                    unset.append(name)
                    continue
                }
                inner = wrapped
            }
            if let array = inner as? [Any] {
                if array.isEmpty { unset.append(name) }
                for element in array where element is any JSONWritable { collectUnsetFields(of: element, path: name + "[]", into: &unset) }
            } else if inner is any JSONWritable {
                collectUnsetFields(of: inner, path: name, into: &unset)
            }
        }
    }
}
