import Foundation
import LeadModel
import LeadRules
import XCTest

final class MessageCodecTests: XCTestCase {
    let codec = MessageCodec()

    private func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func decodeError<T: Message>(_ type: T.Type, _ bytes: [UInt8], headers: [String: String] = [:]) -> DecodeError? {
        do {
            _ = try codec.decode(type, from: bytes, headers: headers)
            return nil
        } catch {
            return error
        }
    }

    private let validLead = """
        {"schema": "lead.discovered", "version": 1, "leadID": "lead-1", "accountID": "acct-1",
         "offerID": "offer-1", "sourceSearchID": "search-1", "source": "keyword-search",
         "name": "Jane Doe", "linkedinURL": "linkedin.com/in/janedoe",
         "discoveredAt": "2025-06-15T15:06:40Z"}
        """

    // MARK: Round trips

    func testLeadDiscoveredRoundTripAndWireShape() throws {
        let lead = Fixtures.lead(mode: .reEnrich, types: [.x, .activity])
        let bytes = try codec.encode(lead)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["schema"] as? String, "lead.discovered")
        XCTAssertEqual(object["version"] as? Int, 1)
        XCTAssertEqual(object["leadID"] as? String, "lead-1", "identifiers are plain strings")
        XCTAssertEqual(object["mode"] as? String, "re-enrich")
        XCTAssertEqual(object["discoveredAt"] as? String, "2025-06-15T15:06:40.000Z")
        let headers = Dictionary(uniqueKeysWithValues: MessageCodec.headers(for: LeadDiscovered.self).map { ($0.key, $0.value) })
        XCTAssertEqual(headers, ["schema": "lead.discovered", "schema-version": "1"])
        XCTAssertEqual(try codec.decode(LeadDiscovered.self, from: bytes, headers: headers), lead)
    }

    func testMinimalLeadDefaultsToFullMode() throws {
        let lead = try codec.decode(LeadDiscovered.self, from: json(validLead))
        XCTAssertEqual(lead.mode, .full)
        XCTAssertEqual(lead.resolvedMode, .full)
        XCTAssertEqual(lead.discoveredAt, Fixtures.now)
    }

    func testRoundTripOfEveryMessageType() throws {
        var profile = Fixtures.profile(posts: [Fixtures.post("hello", daysAgo: 1)])
        profile.linkedinOutcome = .failed(reason: "rate limited", isRetriable: true)
        profile.xOutcome = .skipped(reason: "no URL")
        profile.scores = RuleBasedScorer().score(profile: profile, offer: Fixtures.offer(), source: .manual, now: Fixtures.now)
        let request = PhaseRequest(
            leadID: "lead-1", runID: "run-1", phase: .profile, attempt: 2, mode: .reEnrich([.linkedin]), platforms: [.linkedin],
            lead: Fixtures.lead(), profile: profile, accountID: "acct-1", offerID: "offer-1", isPriority: true, requestedAt: Fixtures.now)
        try assertRoundTrip(request)
        try assertRoundTrip(
            PhaseResult(
                answering: request, outcome: .failed(reason: "x", isRetriable: false),
                payload: PhasePayload(profile: ProfilePhaseOutput(linkedin: Fixtures.linkedin(), linkedinOutcome: .succeeded)),
                charges: [BillableCharge(provider: "linkedin", units: 1)], finishedAt: Fixtures.now, service: "profile-stage-0"))
        var machine = LeadStateMachine()
        _ = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now))
        try assertRoundTrip(try XCTUnwrap(machine.state))
        try assertRoundTrip(LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: Fixtures.now))
        try assertRoundTrip(
            ProgressSnapshot(searchID: "search-1", accountID: "acct-1", state: .running, total: nil, completed: 1, enriching: 2, scoring: 3, billingPaused: 0, deferred: 0, updatedAt: Fixtures.now))
        try assertRoundTrip(
            AccountSignal(
                accountID: "acct-1", companyKey: "name:acme", companyName: "Acme", heatScore: 71, category: .hot, trend: .rising, leadCount: 2,
                signals: [CompanySignal(leadID: "lead-1", kind: "pain-point", detail: "x", date: Fixtures.now, weight: 4.5)], computedAt: Fixtures.now))
        try assertRoundTrip(
            AutopilotEnrollment(leadID: "lead-1", runID: "run-1", accountID: "acct-1", offerID: "offer-1", fit: 50, intent: 80, buyerState: .active, reasons: ["r"], enrolledAt: Fixtures.now))
        try assertRoundTrip(DeadLetter(original: [0, 255, 10], sourceTopic: "leads.discovered", partition: 3, offset: 42, reason: "bad", failedAt: Fixtures.now, service: "coordinator"))
        try assertRoundTrip(BillingUsage(accountID: "acct-1", leadID: "lead-1", runID: "run-1", phase: .profile,
                                         charges: [BillableCharge(provider: "linkedin", units: 1), BillableCharge(provider: "x", units: 1)],
                                         chargedAt: Fixtures.now))
        try assertRoundTrip(SearchTotalDeclared(searchID: "search-1", accountID: "acct-1", total: 10, declaredAt: Fixtures.now))
        try assertRoundTrip(
            AccountConfig(
                accountID: "acct-1", billingState: .paused, outreachWindow: OutreachWindow(timeZoneID: "America/New_York"),
                autopilot: AutopilotRule(), updatedAt: Fixtures.now))
        try assertRoundTrip(Fixtures.offer())
    }

    /// A vendor's company size band is kept as a band (``Company/employeeRange``), written and
    /// read back, and parsed from the vendor's forms only.
    func testACompanySizeBandRoundTripsAndVendorBandsParse() throws {
        var profile = Fixtures.profile()
        profile.company = Company(name: "Acme", employeeRange: EmployeeRange(minimum: 10_001, maximum: nil))
        try assertRoundTrip(LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: Fixtures.now))
        XCTAssertEqual(EmployeeRange(band: "51-200"), EmployeeRange(minimum: 51, maximum: 200))
        XCTAssertEqual(EmployeeRange(band: "10001+"), EmployeeRange(minimum: 10_001, maximum: nil))
        for bad in ["", "abc", "200-51", "-5", "51-", "1-2-3", "+", "5+5"] { XCTAssertNil(EmployeeRange(band: bad), bad) }
        XCTAssertEqual(EmployeeRange(minimum: 51, maximum: 200).description, "51-200")
        XCTAssertEqual(EmployeeRange(minimum: 10_001, maximum: nil).description, "10001+")
        XCTAssertEqual(EmployeeRange(exactly: 120).description, "120")
    }

    /// A band whose maximum is under its minimum, or whose minimum is negative, is refused where
    /// it is read, as the vendors' bands are: it would score as a band no company has.
    func testAnImpossibleSizeBandIsRefused() throws {
        var profile = Fixtures.profile()
        profile.company = Company(name: "Acme", employeeRange: EmployeeRange(minimum: 51, maximum: 200))
        let entry = LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: Fixtures.now)
        let valid = String(decoding: try codec.encode(entry), as: UTF8.self)
        XCTAssertTrue(valid.contains(#""employeeRange":{"maximum":200,"minimum":51}"#), valid)
        for bad in [#"{"maximum":50,"minimum":51}"#, #"{"minimum":-1}"#, #"{"maximum":-5,"minimum":-10}"#] {
            let text = valid.replacingOccurrences(of: #"{"maximum":200,"minimum":51}"#, with: bad)
            let error = decodeError(LeadPoolEntry.self, json(text))
            XCTAssertNotNil(error, bad)
            XCTAssertTrue("\(error.map { "\($0)" } ?? "")".contains("employeeRange"), "the error names the member: \(String(describing: error))")
        }
        XCTAssertNil(decodeError(LeadPoolEntry.self, json(valid)))
    }

    /// A declared search total is at most a billion leads: one near Int.max is refused with a
    /// reason naming it, so it cannot overflow the account's total.
    func testASearchTotalBeyondABillionIsRefused() throws {
        func declared(_ total: String) -> [UInt8] {
            json(#"{"schema":"search.total-declared","version":1,"searchID":"s-1","accountID":"acct-1","total":"# + total
                 + #","declaredAt":"2025-06-15T15:06:40Z"}"#)
        }
        XCTAssertEqual(try codec.decode(SearchTotalDeclared.self, from: declared("1000000000")).total, 1_000_000_000)
        for total in ["1000000001", "5000000000000000000"] {
            let error = decodeError(SearchTotalDeclared.self, declared(total))
            XCTAssertNotNil(error, total)
            XCTAssertTrue("\(error.map { "\($0)" } ?? "")".contains("total"), String(describing: error))
        }
    }

    func testDeadLetterKeepsOriginalBytes() {
        let letter = DeadLetter(original: [1, 2, 3, 250], sourceTopic: "t", partition: 0, offset: 1, reason: "r", failedAt: Fixtures.now, service: "s")
        XCTAssertEqual(letter.original, [1, 2, 3, 250])
        XCTAssertEqual(letter.originalBytes, 4)
    }

    func testDeadLetterOfAnOversizedRecordKeepsItsSizeAndHashOnly() throws {
        let original = Array(repeating: UInt8(ascii: "x"), count: 1_100_000)
        let letter = DeadLetter(original: original, originalKey: Array(repeating: 1, count: 4096), sourceTopic: "t", partition: 0, offset: 1,
                                reason: String(repeating: "why ", count: 2000), failedAt: Fixtures.now, service: "s", keepOriginal: false)
        XCTAssertNil(letter.original)
        XCTAssertNil(letter.originalKeyBase64, "a key above 1 KiB is hashed, not copied")
        XCTAssertEqual(letter.originalBytes, 1_100_000)
        XCTAssertEqual(letter.originalFNV1a64, DeadLetter.fnv1a64(original))
        XCTAssertLessThan(try codec.encode(letter).count, 4096)
        XCTAssertEqual(DeadLetter.fnv1a64(Array("a".utf8)), "af63dc4c8601ec8c", "FNV-1a 64 of 'a'")
    }

    func testVersionOneDeadLettersAreStillRead() throws {
        let v1 = #"{"schema":"dead.letter","version":1,"originalBase64":"AQID","sourceTopic":"t","partition":0,"offset":1,"reason":"r","failedAt":"2025-01-31T12:00:00.000Z","service":"s"}"#
        let letter = try codec.decode(DeadLetter.self, from: Array(v1.utf8), headers: ["schema": "dead.letter", "schema-version": "1"])
        XCTAssertEqual(letter.original, [1, 2, 3])
        XCTAssertNil(letter.originalBytes)
    }

    /// Version 1 billing usage (one record per provider) reads as a phase with one charge, its
    /// key as it was written; version 2 is one record per charged phase.
    func testVersionOneBillingUsageIsStillRead() throws {
        let v1 = #"{"schema":"billing.usage","version":1,"idempotencyKey":"acct-1:lead-1:run-1:profile:x","accountID":"acct-1","leadID":"lead-1","runID":"run-1","phase":"profile","provider":"x","units":1,"chargedAt":"2025-01-31T12:00:00.000Z"}"#
        let usage = try codec.decode(BillingUsage.self, from: Array(v1.utf8), headers: ["schema": "billing.usage", "schema-version": "1"])
        XCTAssertEqual(usage.charges, [BillableCharge(provider: "x", units: 1)])
        XCTAssertEqual(usage.idempotencyKey, "acct-1:lead-1:run-1:profile:x")
        let v2 = BillingUsage(accountID: "acct-1", leadID: "lead-1", runID: "run-1", phase: .profile,
                              charges: [BillableCharge(provider: "linkedin", units: 1)], chargedAt: Fixtures.now)
        let text = String(decoding: try codec.encode(v2), as: UTF8.self)
        XCTAssertTrue(text.contains(#""idempotencyKey":"acct-1:lead-1:run-1:profile""#), text)
        XCTAssertFalse(text.contains(#""provider":"linkedin","units":1,"chargedAt""#), "no version 1 fields: \(text)")
    }

    func testReEnrichRequestVersionTwoCarriesItsRequestID() throws {
        let request = ReEnrichRequested(leadID: "lead-1", types: [.activity], requestedAt: Fixtures.now, requestedBy: "ops",
                                        requestID: "req-7")
        try assertRoundTrip(request)
        let wire = String(decoding: try codec.encode(request), as: UTF8.self)
        XCTAssertTrue(wire.contains(#""requestID":"req-7""#), wire)
        XCTAssertTrue(wire.contains(#""version":2"#), wire)
        XCTAssertEqual(MessageCodec.headers(for: ReEnrichRequested.self).map(\.value), ["lead.reenrich.requested", "2"])

        let v2 = #"{"schema":"lead.reenrich.requested","version":2,"leadID":"l1","types":["x"],"requestedAt":"2025-01-31T12:00:00.000Z","requestedBy":"ops""#
        XCTAssertEqual(try codec.decode(ReEnrichRequested.self, from: json(v2 + #","requestID":"r1"}"#),
                                        headers: ["schema": "lead.reenrich.requested", "schema-version": "2"]).requestID, "r1")
        XCTAssertEqual(decodeError(ReEnrichRequested.self, json(v2 + "}")), .missingField("requestID"), "version 2 must carry a request id")
        XCTAssertNotNil(decodeError(ReEnrichRequested.self, json(v2 + #","requestID":""}"#)), "an empty request id")
        let long = String(repeating: "r", count: FieldLimit.identifier + 1)
        XCTAssertEqual(decodeError(ReEnrichRequested.self, json(v2 + #","requestID":"\#(long)"}"#)),
                       .tooLong(field: "requestID", length: FieldLimit.identifier + 1, limit: FieldLimit.identifier))
    }

    func testVersionOneReEnrichRequestsWithoutARequestIDAreStillRead() throws {
        let v1 = #"{"schema":"lead.reenrich.requested","version":1,"leadID":"l1","types":["x","activity"],"requestedAt":"2025-01-31T12:00:00.000Z","requestedBy":"ops"}"#
        let request = try codec.decode(ReEnrichRequested.self, from: json(v1), headers: ["schema": "lead.reenrich.requested", "schema-version": "1"])
        XCTAssertNil(request.requestID)
        XCTAssertEqual(request.leadID, "l1")
        XCTAssertEqual(request.mode, .reEnrich([.x, .activity]))
        XCTAssertEqual(ReEnrichRequested.supportedVersions, 1...2)
    }

    private func assertRoundTrip<T: Message & Equatable>(_ message: T, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = try codec.encode(message)
        XCTAssertEqual(try codec.decode(T.self, from: bytes), message, "\(T.self)", file: file, line: line)
        XCTAssertEqual(try codec.encode(message), bytes, "encoding is stable", file: file, line: line)
    }

    // MARK: Error reasons

    func testErrorReasons() {
        XCTAssertEqual(decodeError(LeadDiscovered.self, json("{not json")).map(isMalformed), true)
        XCTAssertEqual(decodeError(LeadDiscovered.self, json("[1, 2]")), .notAnObject)
        XCTAssertEqual(decodeError(LeadDiscovered.self, json(#"{"version": 1}"#)), .missingSchema)
        XCTAssertEqual(decodeError(LeadDiscovered.self, json(#"{"schema": 7}"#)), .wrongType(field: "schema", expected: "a string"))
        XCTAssertEqual(
            decodeError(LeadDiscovered.self, json(#"{"schema": "phase.result", "version": 1}"#)),
            .wrongSchema(expected: "lead.discovered", found: "phase.result"))
        XCTAssertEqual(
            decodeError(LeadDiscovered.self, json(#"{"schema": "lead.discovered", "version": 2}"#)),
            .unsupportedVersion(schema: "lead.discovered", version: 2, supported: 1...1))
        XCTAssertEqual(decodeError(LeadDiscovered.self, json(#"{"schema": "lead.discovered"}"#)), .missingField("version"))

        let withoutName = validLead.replacingOccurrences(of: #""name": "Jane Doe","#, with: "")
        XCTAssertEqual(decodeError(LeadDiscovered.self, json(withoutName)), .missingField("name"))
        let numericName = validLead.replacingOccurrences(of: #""Jane Doe""#, with: "42")
        XCTAssertEqual(decodeError(LeadDiscovered.self, json(numericName)), .wrongType(field: "name", expected: "a string"))
        let nullName = validLead.replacingOccurrences(of: #""Jane Doe""#, with: "null")
        XCTAssertEqual(decodeError(LeadDiscovered.self, json(nullName)), .missingField("name"))
        let badSource = validLead.replacingOccurrences(of: "keyword-search", with: "carrier-pigeon")
        guard case .invalidValue(let field, _)? = decodeError(LeadDiscovered.self, json(badSource)) else { return XCTFail() }
        XCTAssertEqual(field, "source")
        let badDate = validLead.replacingOccurrences(of: "2025-06-15T15:06:40Z", with: "yesterday")
        let dateError = decodeError(LeadDiscovered.self, json(badDate))
        XCTAssertTrue(dateError?.description.contains("discoveredAt") ?? false, "\(String(describing: dateError))")
        XCTAssertTrue(dateError?.description.contains("ISO-8601") ?? false, "\(String(describing: dateError))")

        let companyURL = validLead.replacingOccurrences(of: "linkedin.com/in/janedoe", with: "linkedin.com/company/acme")
        guard case .invalidContent(let reason)? = decodeError(LeadDiscovered.self, json(companyURL)) else { return XCTFail() }
        XCTAssertTrue(reason.contains("linkedinURL"), reason)

        XCTAssertEqual(
            decodeError(LeadDiscovered.self, json(validLead), headers: ["schema": "phase.result"]),
            .headerMismatch(header: "schema", headerValue: "phase.result", valueInRecord: "lead.discovered"))
        XCTAssertEqual(
            decodeError(LeadDiscovered.self, json(validLead), headers: ["schema-version": "2"]),
            .headerMismatch(header: "schema-version", headerValue: "2", valueInRecord: "1"))

        let small = MessageCodec(maxRecordBytes: 64)
        XCTAssertThrowsError(try small.decode(LeadDiscovered.self, from: json(validLead))) { error in
            XCTAssertEqual(error as? DecodeError, .oversized(bytes: json(validLead).count, limit: 64))
            XCTAssertTrue("\(error)".contains("exceeds the limit of 64 bytes"))
        }
    }

    func testNestedFieldPaths() throws {
        let request = PhaseRequest(
            leadID: "lead-1", runID: "run-1", phase: .profile, attempt: 1, mode: .full, platforms: [.linkedin],
            lead: Fixtures.lead(), profile: Fixtures.profile(), accountID: "acct-1", offerID: "offer-1", isPriority: false,
            requestedAt: Fixtures.now)
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try codec.encode(request))) as? [String: Any])
        var profile = try XCTUnwrap(object["profile"] as? [String: Any])
        var linkedin = try XCTUnwrap(profile["linkedin"] as? [String: Any])
        var experiences = try XCTUnwrap(linkedin["experiences"] as? [[String: Any]])
        experiences[0]["title"] = 5
        linkedin["experiences"] = experiences
        profile["linkedin"] = linkedin
        object["profile"] = profile
        let bytes = Array(try JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(decodeError(PhaseRequest.self, bytes), .wrongType(field: "profile.linkedin.experiences[0].title", expected: "a string"))
    }

    private func isMalformed(_ error: DecodeError) -> Bool {
        if case .malformedJSON = error { return true }
        return false
    }

    // MARK: Fuzz

    /// 20,000 random and mutated inputs: decoding never traps and always reports a DecodeError
    /// (or, rarely for mutations, a valid lead).
    func testDecoderSurvivesRandomAndMutatedBytes() throws {
        var random = SeededRandom(seed: 2025)
        let seeds: [[UInt8]] = [json(validLead), try codec.encode(Fixtures.lead()), json("{}"), json("[]")]
        let alphabet = Array(#"{}[]":,0123456789.-+eEtrufalsn \#\u{0}\\"#.utf8)
        var decoded = 0
        var failed = 0
        for iteration in 0..<20_000 {
            var bytes: [UInt8]
            switch iteration % 4 {
            case 0:
                bytes = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 1:
                bytes = (0..<Int(random.next() % 120)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            default:
                bytes = seeds[Int(random.next() % UInt64(seeds.count))]
                for _ in 0..<Int(1 + random.next() % 8) where !bytes.isEmpty {
                    let index = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 4 {
                    case 0: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                    case 1: bytes.remove(at: index)
                    case 2: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: index)
                    default: bytes = Array(bytes[..<index])
                    }
                }
            }
            do {
                _ = try codec.decode(LeadDiscovered.self, from: bytes)
                decoded += 1
            } catch {
                XCTAssertFalse(error.description.isEmpty)
                failed += 1
            }
        }
        XCTAssertEqual(decoded + failed, 20_000)
        XCTAssertGreaterThan(failed, 15_000)
    }

    func testDeeplyNestedInputIsAnErrorNotACrash() {
        let nested = json(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
        XCTAssertNotNil(decodeError(LeadDiscovered.self, nested))
        let nestedObject = json(#"{"schema": "lead.discovered", "version": 1, "name": "# + String(repeating: "[", count: 50_000))
        XCTAssertNotNil(decodeError(LeadDiscovered.self, nestedObject))
    }
}
