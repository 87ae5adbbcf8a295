import Foundation
@testable import LeadModel
import Pipeline
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

    // MARK: The fast path and the fallback agree

    /// Every strict rule is the index decoder's, checked before anything else reads the record:
    /// JSONDecoder alone would take each of these.
    func testRecordsOnlyTheStrictRulesRejectAreNeverDecodedByTheFallback() throws {
        let cases: [[UInt8]] = [
            lead(replacing: #""leadID":"lead-1","#, with: #""leadID":"lead-1","leadID":"lead-2","#),
            lead(replacing: "Jane Doe", with: #"Jane\u0000Doe"#),
            lead(replacing: #""version":1"#, with: #""version":1.0"#),
            lead(replacing: #""version":1"#, with: #""version":1e0"#),
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
