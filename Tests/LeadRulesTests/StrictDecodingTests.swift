import Foundation
import JSONCodec
@testable import LeadModel
import LeadRules
import XCTest

/// Input the codec refuses, each with a reason that names what is wrong; the index decoder and
/// the JSONDecoder fallback never disagree about it.
final class StrictDecodingTests: XCTestCase {
    let codec = MessageCodec()

    private let lead = #"{"schema":"lead.discovered","version":1,"leadID":"lead-1","accountID":"acct-1","offerID":"offer-1","sourceSearchID":"search-1","source":"manual","name":"Jane Doe","linkedinURL":"linkedin.com/in/janedoe","discoveredAt":"2025-06-15T15:06:40.000Z"}"#

    /// The lead with `replacement` in place of `target`, which must occur in it.
    private func lead(replacing target: String, with replacement: String) -> [UInt8] {
        XCTAssertTrue(lead.contains(target), target)
        return Array(lead.replacingOccurrences(of: target, with: replacement).utf8)
    }

    private func decodeError<T: Message>(_ type: T.Type, _ bytes: [UInt8]) -> DecodeError? {
        do {
            _ = try codec.decode(type, from: bytes)
            return nil
        } catch {
            return error
        }
    }

    func testTheBaselineLeadDecodes() throws {
        XCTAssertNoThrow(try codec.decode(LeadDiscovered.self, from: Array(lead.utf8)))
    }

    /// A published lead with a field its schema does not have is refused, naming the field
    /// (`additionalProperties: false`): a misspelt `linkedInURL` was ignored, and the lead ran
    /// X-only or not at all, its LinkedIn profile lost without a word.
    func testAPublishedLeadWithAFieldItsSchemaLacksIsRefused() throws {
        let misspelt = lead(replacing: #""linkedinURL":"#, with: #""linkedInURL":"#)
        let error = try XCTUnwrap(decodeError(LeadDiscovered.self, misspelt))
        XCTAssertTrue(error.description.contains("\"linkedInURL\""), error.description)
        // The pipeline's own messages still ignore fields this version does not know.
        XCTAssertNil(LeadState.fieldNames)
    }

    /// What the coordinator reads of a lead the codec refused, to count it refused for its
    /// search: its ids, each non-empty within the identifier limit, else nothing; what else
    /// cannot be read is left empty, never fatal.
    func testTheReadableIdentityOfARefusedLeadNeedsEachId() throws {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let noURL = lead(replacing: #""linkedinURL":"linkedin.com/in/janedoe","#, with: "")
        XCTAssertNotNil(decodeError(LeadDiscovered.self, noURL), "refused: no profile URL")
        let read = try XCTUnwrap(LeadDiscovered.readableIdentity(in: noURL, at: at))
        XCTAssertEqual([read.leadID.rawValue, read.accountID.rawValue, read.offerID.rawValue, read.sourceSearchID.rawValue],
                       ["lead-1", "acct-1", "offer-1", "search-1"])
        XCTAssertEqual(read.name, "Jane Doe")
        XCTAssertNil(read.linkedinURL)

        let oddName = try XCTUnwrap(LeadDiscovered.readableIdentity(in: lead(replacing: #""name":"Jane Doe""#, with: #""name":7"#), at: at))
        XCTAssertEqual(oddName.name, "", "a name of another type is left empty")
        let noTime = try XCTUnwrap(LeadDiscovered.readableIdentity(in: lead(replacing: #""2025-06-15T15:06:40.000Z""#, with: "1"), at: at))
        XCTAssertEqual(noTime.discoveredAt, at)
        for broken in [
            lead(replacing: #""sourceSearchID":"search-1","#, with: ""),
            lead(replacing: #""accountID":"acct-1""#, with: #""accountID":"""#),
            lead(replacing: #""offerID":"offer-1""#, with: #""offerID":["offer-1"]"#),
            lead(replacing: #""leadID":"lead-1""#, with: "\"leadID\":\"\(String(repeating: "x", count: FieldLimit.identifier + 1))\""),
            Array("not json".utf8),
            lead(replacing: #""leadID":"lead-1""#, with: #""leadID":"lead\u0000-1""#),  // NUL: refused as the input rules refuse it
        ] {
            XCTAssertNil(LeadDiscovered.readableIdentity(in: broken, at: at), String(decoding: broken, as: UTF8.self))
        }
    }

    // MARK: Duplicate keys
    // MARK: Duplicate keys

    func testDuplicateKeysAreRejectedWithTheKeyAndWhere() {
        let twice = lead(replacing: #""leadID":"lead-1","#, with: #""leadID":"lead-1","leadID":"lead-2","#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, twice), .duplicateKey("leadID", object: "(record)"))
        XCTAssertEqual(decodeError(LeadDiscovered.self, twice)?.description, #"duplicate key "leadID"; give each key once"#)

        // A key the type does not read, a key spelt with an escape, and the envelope's own keys.
        let unknownTwice = lead(replacing: #""name""#, with: #""note":1,"note":2,"name""#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, unknownTwice), .duplicateKey("note", object: "(record)"))
        let escaped = lead(replacing: #""name":"Jane Doe","#, with: #""name":"Jane Doe","n\u0061me":"John","#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, escaped), .duplicateKey("name", object: "(record)"))
        let versionTwice = lead(replacing: #""version":1,"#, with: #""version":1,"version":2,"#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, versionTwice), .duplicateKey("version", object: "(record)"))

        // Nested, inside an array; and in an object too large to compare pairwise.
        let nested = lead(replacing: #""name":"Jane Doe","#, with: #""name":"Jane Doe","poolProfile":{"leadID":"lead-1","name":"Jane","skills":[{"a":1,"a":1}]},"#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, nested), .duplicateKey("a", object: "poolProfile.skills[0]"))
        XCTAssertEqual(decodeError(LeadDiscovered.self, nested)?.description, #"duplicate key "a" in "poolProfile.skills[0]"; give each key once"#)
        let manyKeys = (0..<40).map { #""k\#($0)":0"# }.joined(separator: ",") + #","k7":1"#
        let large = lead(replacing: #""name":"Jane Doe","#, with: #""name":"Jane Doe","extra":{\#(manyKeys)},"#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, large), .duplicateKey("k7", object: "extra"))

        // The pipeline's own records are held to the same rule.
        XCTAssertThrowsError(try JSONIndexDecoder.decode([String: Int].self, from: Array(#"{"a":1,"b":2,"a":3}"#.utf8))) { error in
            XCTAssertEqual((error as? JSONIndexDecoder.Rejected)?.error, .duplicateKey("a", object: "(record)"))
        }
        XCTAssertEqual(try JSONIndexDecoder.decode([String: Int].self, from: Array(#"{"a":1,"ab":2,"b":3,"":4}"#.utf8)).count, 4)
    }

    // MARK: NUL and control characters

    func testNULIsRejectedInEveryStringOfAnInput() {
        let inName = lead(replacing: "Jane Doe", with: #"Jane\u0000Doe"#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, inName), .controlCharacter(field: "name", scalar: 0, isEscaped: true))
        XCTAssertEqual(decodeError(LeadDiscovered.self, inName)?.description, #"field "name" contains NUL (\u0000), which no string may hold"#)
        let inID = lead(replacing: "lead-1", with: #"lead-1\u0000"#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, inID), .controlCharacter(field: "leadID", scalar: 0, isEscaped: true))
        let inKey = lead(replacing: #""name""#, with: #""x\u0000":1,"name""#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, inKey), .controlCharacter(field: "a key", scalar: 0, isEscaped: true))
        let nested = lead(replacing: #""name":"Jane Doe","#, with: #""name":"Jane Doe","poolProfile":{"leadID":"lead-1","name":"J\u0000"},"#)
        XCTAssertEqual(decodeError(LeadDiscovered.self, nested), .controlCharacter(field: "poolProfile.name", scalar: 0, isEscaped: true))
        let reEnrich = #"{"schema":"lead.reenrich.requested","version":1,"leadID":"l1","types":["x"],"requestedAt":"2025-01-31T12:00:00Z","requestedBy":"o\u0000ps"}"#
        XCTAssertEqual(decodeError(ReEnrichRequested.self, Array(reEnrich.utf8)), .controlCharacter(field: "requestedBy", scalar: 0, isEscaped: true))

        // Other escapes stay allowed; the pipeline's own records may carry NUL from a provider's text.
        XCTAssertNoThrow(try codec.decode(LeadDiscovered.self, from: lead(replacing: "Jane Doe", with: #"Jane\tDoe\u0001"#)))
        XCTAssertEqual(try JSONIndexDecoder.decode([String].self, from: Array(#"["a\u0000"]"#.utf8)), ["a\u{0}"])
    }

    func testUnescapedControlCharactersAreRejectedWithTheField() {
        for byte: UInt8 in [0x00, 0x01, 0x0A, 0x1F] {
            var bytes = lead(replacing: "Jane Doe", with: "Jane_Doe")
            bytes[bytes.firstIndex(of: UInt8(ascii: "_"))!] = byte
            XCTAssertEqual(decodeError(LeadDiscovered.self, bytes), .controlCharacter(field: "name", scalar: UInt32(byte), isEscaped: false))
        }
        var bytes = lead(replacing: "Jane Doe", with: "Jane_Doe")
        bytes[bytes.firstIndex(of: UInt8(ascii: "_"))!] = 0x0A
        XCTAssertEqual(decodeError(LeadDiscovered.self, bytes)?.description,
                       #"field "name" contains the unescaped control character U+000A; escape it or remove it"#)
    }

    // MARK: Integers

    func testVersionAndOtherIntegersMustBeJSONIntegers() {
        for written in ["1.0", "1e0", "1E0", "10e-1", "1.5"] {
            let bytes = lead(replacing: #""version":1"#, with: #""version":\#(written)"#)
            XCTAssertEqual(decodeError(LeadDiscovered.self, bytes),
                           .invalidValue(field: "version", reason: "\(written) is not a JSON integer; write it without a fraction or an exponent"),
                           written)
        }
        let total = #"{"schema":"search.total-declared","version":1,"searchID":"s","accountID":"a","total":4.0,"declaredAt":"2025-01-31T12:00:00Z"}"#
        XCTAssertEqual(decodeError(SearchTotalDeclared.self, Array(total.utf8))?.description,
                       #"invalid value for field "total": 4.0 is not a JSON integer; write it without a fraction or an exponent"#)
        // A number where a Double is read may have both.
        let found = #"{"schema":"lead.profile-found","version":1,"leadID":"l1","platform":"x","url":"https://x.com/jane","confidence":9e-1,"foundBy":"f","foundAt":"2025-01-31T12:00:00Z"}"#
        XCTAssertNoThrow(try codec.decode(ProfileFound.self, from: Array(found.utf8)))
    }

    // MARK: Length limits

    func testLengthLimitsNameTheFieldAndTheLimit() throws {
        /// `json` with `@LONG@` made one character too long for `field` (which has `fixed` other characters).
        func check<T: Message>(_ type: T.Type, _ json: String, _ field: String, _ limit: Int, fixed: Int = 0,
                               file: StaticString = #filePath, line: UInt = #line) {
            let long = String(repeating: "é", count: limit + 1 - fixed)
            let atLimit = String(repeating: "é", count: limit - fixed)
            let bytes = Array(json.replacingOccurrences(of: "@LONG@", with: long).utf8)
            XCTAssertEqual(decodeError(T.self, bytes), .tooLong(field: field, length: limit + 1, limit: limit), file: file, line: line)
            XCTAssertEqual(decodeError(T.self, bytes)?.description, #"field "\#(field)" is \#(limit + 1) characters long; the limit is \#(limit)"#,
                           file: file, line: line)
            let fits = decodeError(T.self, Array(json.replacingOccurrences(of: "@LONG@", with: atLimit).utf8))
            if case .tooLong? = fits { XCTFail("\(field) at its limit: \(fits!)", file: file, line: line) }
        }
        let date = #""2025-01-31T12:00:00Z""#
        for (id, value) in [("leadID", "lead-1"), ("accountID", "acct-1"), ("offerID", "offer-1"), ("sourceSearchID", "search-1")] {
            check(LeadDiscovered.self, lead.replacingOccurrences(of: #""\#(id)":"\#(value)""#, with: #""\#(id)":"@LONG@""#), id, FieldLimit.identifier)
        }
        check(LeadDiscovered.self, lead.replacingOccurrences(of: "Jane Doe", with: "@LONG@"), "name", FieldLimit.name)
        check(LeadDiscovered.self, lead.replacingOccurrences(of: "janedoe", with: "@LONG@"), "linkedinURL", FieldLimit.url, fixed: "linkedin.com/in/".count)
        check(LeadDiscovered.self, lead.replacingOccurrences(of: #""name":"#, with: #""xURL":"x.com/@LONG@","name":"#), "xURL", FieldLimit.url, fixed: "x.com/".count)
        check(LeadDiscovered.self, lead.replacingOccurrences(of: #""name":"#, with: #""poolProfile":{"leadID":"l","name":"n","skills":["@LONG@"]},"name":"#),
              "poolProfile.skills[0]", FieldLimit.text)
        check(LeadDiscovered.self, lead.replacingOccurrences(of: #""name":"#, with: #""@LONG@":1,"name":"#), "a key", FieldLimit.text)
        check(ReEnrichRequested.self, #"{"schema":"lead.reenrich.requested","version":1,"leadID":"l1","types":["x"],"requestedAt":\#(date),"requestedBy":"@LONG@"}"#,
              "requestedBy", FieldLimit.identifier)
        check(ProfileFound.self, #"{"schema":"lead.profile-found","version":1,"leadID":"l1","platform":"x","url":"https://x.com/@LONG@","confidence":1,"foundBy":"f","foundAt":\#(date)}"#,
              "url", FieldLimit.url, fixed: "https://x.com/".count)
        check(ProfileFound.self, #"{"schema":"lead.profile-found","version":1,"leadID":"l1","platform":"x","url":"https://x.com/j","confidence":1,"foundBy":"@LONG@","foundAt":\#(date)}"#,
              "foundBy", FieldLimit.identifier)
        check(SearchTotalDeclared.self, #"{"schema":"search.total-declared","version":1,"searchID":"@LONG@","accountID":"a","total":1,"declaredAt":\#(date)}"#,
              "searchID", FieldLimit.identifier)
        check(AccountConfig.self, #"{"schema":"account.config","version":1,"accountID":"a","billingState":"active","outreachWindow":{"timeZoneID":"@LONG@","weekdays":[1],"startHour":9,"endHour":17},"updatedAt":\#(date)}"#,
              "outreachWindow.timeZoneID", FieldLimit.identifier)
        let offer = #"{"schema":"offer.config","version":1,"offerID":"o","accountID":"a","name":"N","productKeywords":["k"],"signalLikelihood":"high","icp":{"titles":[],"seniorities":[],"industries":[],"locations":[],"painPoints":[],"competitors":["c","@LONG@"],"customIntentKeywords":[]},"updatedAt":\#(date)}"#
        check(OfferConfig.self, offer, "icp.competitors[1]", FieldLimit.name)
        check(OfferConfig.self, offer.replacingOccurrences(of: #""name":"N""#, with: #""name":"@LONG@""#).replacingOccurrences(of: ",\"@LONG@\"]", with: "]"),
              "name", FieldLimit.name)
        check(WebEnrichmentRequested.self, #"{"schema":"web.enrichment-requested","version":1,"leadID":"l1","domain":"@LONG@","requestedAt":\#(date)}"#,
              "domain", FieldLimit.url)

        // The pipeline's own records have no such limits.
        let longID = LeadDiscovered(leadID: LeadID(String(repeating: "x", count: 500)), accountID: "a", offerID: "o", sourceSearchID: "s",
                                    source: .manual, name: "n", xURL: "x.com/j", discoveredAt: Fixtures.now)
        XCTAssertEqual(decodeError(LeadDiscovered.self, try codec.encode(longID)), .tooLong(field: "leadID", length: 500, limit: 200))
        let request = PhaseRequest(leadID: longID.leadID, runID: "r", phase: .profile, attempt: 1, mode: .full, platforms: [], lead: longID,
                                   profile: Fixtures.profile(), accountID: "a", offerID: "o", isPriority: false, requestedAt: Fixtures.now)
        XCTAssertEqual(try codec.decode(PhaseRequest.self, from: try codec.encode(request)), request)
    }

    // MARK: The fast path and the fallback agree

    /// Every strict rule is the index decoder's, checked before anything else reads the record:
    /// JSONDecoder alone would take each of these.
    func testRecordsOnlyTheStrictRulesRejectAreNeverDecodedByTheFallback() throws {
        let cases: [[UInt8]] = [
            lead(replacing: #""leadID":"lead-1","#, with: #""leadID":"lead-1","leadID":"lead-2","#),
            lead(replacing: "Jane Doe", with: #"Jane\u0000Doe"#),
            lead(replacing: #""version":1"#, with: #""version":1.0"#),
            lead(replacing: #""version":1"#, with: #""version":1e0"#),
            lead(replacing: "Jane Doe", with: String(repeating: "n", count: 301)),
        ]
        for bytes in cases {
            let text = String(decoding: bytes, as: UTF8.self)
            XCTAssertNoThrow(try MessageCodec.foundationDecoder().decode(LeadDiscovered.self, from: Data(bytes)), "JSONDecoder takes \(text)")
            XCTAssertNotNil(decodeError(LeadDiscovered.self, bytes), text)
        }
    }

    /// What only JSONDecoder would parse is malformed all the same.
    func testTextTheIndexGrammarRefusesIsMalformedEvenIfJSONDecoderTakesIt() {
        for text in [#"{"a": 01}"#, #"{"a": 1,}"#, #"{"a": "\ud800"}"#, #"{"a": "\udc00"}"#, #"[1] x"#] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode([String: Int].self, from: Array(text.utf8)), text) { error in
                XCTAssertTrue(error is JSONIndexDecoder.Malformed, "\(text): \(error)")
            }
        }
        for text in [#"{"schema":"lead.discovered","version":1,"leadID":"a\ud800"}"#, #"{"schema":"lead.discovered","version":01}"#] {
            guard case .malformedJSON? = decodeError(LeadDiscovered.self, Array(text.utf8)) else {
                return XCTFail("\(text): \(String(describing: decodeError(LeadDiscovered.self, Array(text.utf8))))")
            }
        }
    }
}
