import Foundation
import JSONCodec
import XCTest

/// The codec and Foundation read each other's JSON: what ``JSONStreamEncoder`` writes,
/// `JSONDecoder` reads back as the same value, and what `JSONEncoder` writes,
/// ``JSONIndexDecoder`` reads back as the same value. No lead types: plain Codable values.
final class FoundationAgreementTests: XCTestCase {
    private struct Address: Codable, Equatable {
        var street: String
        var postcode: String?
    }

    private struct Person: Codable, Equatable {
        var name: String
        var age: Int
        var height: Double
        var isActive: Bool
        var nickname: String?
        var tags: [String]
        var address: Address
        var previous: [Address]
        var scores: [String: Int]
        var born: Date
        var lastSeen: Date?
        // Optionals of each type the containers read and write by methods of their own.
        var rating: Double?
        var isVerified: Bool?
    }

    private enum Kind: String, Codable, Equatable { case person, company }

    private struct Envelope: Codable, Equatable {
        var kind: Kind
        var people: [Person]
        var matrix: [[Double]]
        var empty: [Int]
        var nothing: Int?
    }

    /// Dates on whole milliseconds that a `Double` holds exactly, so they compare equal after
    /// the trip through the codec's ISO 8601 strings.
    private static let born = Date(timeIntervalSince1970: 439_689_600.125)
    private static let seen = Date(timeIntervalSince1970: 1_767_225_600.5)

    private let values = [
        Envelope(kind: .person, people: [], matrix: [], empty: [], nothing: nil),
        Envelope(
            kind: .company,
            people: [
                Person(
                    name: "Zoë \"Z\" O'Brien\n\ttab \\ slash / \u{1} bell \u{7} 漢字 🎉 \u{2028}", age: -42, height: 1.75,
                    isActive: true, nickname: nil, tags: ["", "a", "é"],
                    address: Address(street: "1 Main St", postcode: nil),
                    previous: [Address(street: "2 Side St", postcode: "12345"), Address(street: "", postcode: "")],
                    scores: ["b": 2, "a": 1, "é": 3, "": 0], born: born, lastSeen: seen,
                    rating: 4.5, isVerified: false),
                Person(
                    name: "Plain", age: Int.max, height: -0.000_001, isActive: false, nickname: "p", tags: [],
                    address: Address(street: "x", postcode: "y"), previous: [], scores: [:], born: seen, lastSeen: nil,
                    rating: nil, isVerified: nil),
            ],
            matrix: [[0, 1.5, -2.25e-8], [1e300], []], empty: [], nothing: 7),
    ]

    func testFoundationDecodesWhatTheStreamEncoderWrites() throws {
        for value in values {
            let bytes = try JSONStreamEncoder.encode(value)
            XCTAssertEqual(try JSONIndexDecoder.foundationDecoder().decode(Envelope.self, from: Data(bytes)), value)
        }
    }

    func testTheIndexDecoderReadsWhatFoundationWrites() throws {
        for value in values {
            let data = try JSONStreamEncoder.foundationEncoder().encode(value)
            XCTAssertEqual(try JSONIndexDecoder.decode(Envelope.self, from: Array(data)), value)
        }
    }

    /// The member names a decode reads from its own parse are the object's, in document order,
    /// a member the type does not know included; a document that is no object has none.
    func testADecodeNamesTheObjectsMembersFromItsOwnParse() throws {
        let text = #"{"street": "a", "note": {"street": 1}, "postcode": null}"#
        let named = try JSONIndexDecoder.decodeNamingMembers(Address.self, from: Array(text.utf8))
        XCTAssertEqual(named.value, Address(street: "a", postcode: nil))
        XCTAssertEqual(named.memberNames, ["street", "note", "postcode"])
        XCTAssertEqual(named.memberNames, JSONIndexDecoder.memberNames(of: Array(text.utf8)))
        XCTAssertNil(try JSONIndexDecoder.decodeNamingMembers([Int].self, from: Array("[1]".utf8)).memberNames)
    }

    /// Foundation's plain `JSONEncoder` (unsorted keys, escaped slashes) is read too, but for
    /// dates, which it writes as numbers.
    func testTheIndexDecoderReadsFoundationsDefaultOutput() throws {
        let address = Address(street: "a/b \"c\" é", postcode: nil)
        let data = try JSONEncoder().encode([address, Address(street: "", postcode: "1")])
        XCTAssertEqual(try JSONIndexDecoder.decode([Address].self, from: Array(data)), [address, Address(street: "", postcode: "1")])
    }

    func testBothEncodersWriteTheSameBytes() throws {
        for value in values {
            let ours = try JSONStreamEncoder.encode(value)
            let foundations = Array(try JSONStreamEncoder.foundationEncoder().encode(value))
            XCTAssertEqual(String(decoding: ours, as: UTF8.self), String(decoding: foundations, as: UTF8.self))
        }
    }

    func testDatesAreISO8601StringsWithMilliseconds() throws {
        let text = String(decoding: try JSONStreamEncoder.encode([Self.born]), as: UTF8.self)
        XCTAssertEqual(text, #"["1983-12-08T00:00:00.125Z"]"#)
        XCTAssertEqual(try JSONIndexDecoder.decode([Date].self, from: Array(text.utf8)), [Self.born])
    }

    func testMalformedInputIsAnError() {
        let documents = [
            "", " ", "{", #"{"street": "x""#, #"{"street" "x"}"#, #"{"street": 'x'}"#, #"{street: "x"}"#,
            #"{"street": "x"} {}"#, #"{"street": "\q"}"#, #"{"street": "\u12"}"#,
            #"[1, 2"#, "[01]", "[1.]", "[-]", "[nul]",
        ]
        for text in documents {
            XCTAssertThrowsError(try JSONIndexDecoder.decode(Address.self, from: Array(text.utf8)), text) { error in
                XCTAssertTrue(error is JSONIndexDecoder.Malformed, "\(text): \(error)")
            }
            XCTAssertThrowsError(try JSONIndexDecoder.foundationDecoder().decode(Address.self, from: Data(text.utf8)), text)
        }
    }

    /// JSON of the wrong shape for the type is an error, not a made-up value.
    func testJSONOfTheWrongShapeIsAnError() {
        for text in [#"{"postcode": "1"}"#, #"{"street": 1}"#, #"["x"]"#, #"{"street": null}"#] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode(Address.self, from: Array(text.utf8)), text)
        }
        // An array of strings is read in one go: any other element is as wrong.
        for text in [#"["a", 1]"#, #"["a", null]"#, #"[["a"]]"#, #"{"a": "b"}"#, #""a""#] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode([String].self, from: Array(text.utf8)), text)
        }
        XCTAssertEqual(try JSONIndexDecoder.decode([String].self, from: Array(#"[ "a" , "\u00e9" ]"#.utf8)), ["a", "é"])
    }

    /// Strings are scanned eight bytes at a time while nothing needs a look: an escape, a
    /// multi-byte character or a control character at any place of any length is still seen.
    func testEveryPlaceInAStringIsLookedAt() throws {
        for length in 1...20 {
            for place in 0..<length {
                for special in [#"\""#, #"\\"#, #"\n"#, #"\u00e9"#, "é", "😀"] {
                    var text = String(repeating: "a", count: length)
                    text.replaceSubrange(text.index(text.startIndex, offsetBy: place)...text.index(text.startIndex, offsetBy: place), with: special)
                    let json = Array("[\"\(text)\"]".utf8)
                    XCTAssertEqual(try JSONIndexDecoder.decode([String].self, from: json),
                                   try JSONDecoder().decode([String].self, from: Data(json)), "\(text)")
                }
                var bytes = Array("[\"\(String(repeating: "a", count: length))\"]".utf8)
                bytes[2 + place] = 0x01  // a raw control character
                XCTAssertThrowsError(try JSONIndexDecoder.decode([String].self, from: bytes)) { error in
                    XCTAssertTrue(error is JSONIndexDecoder.Rejected, "\(length) \(place): \(error)")
                }
                bytes[2 + place] = UInt8(ascii: "\"")  // the string ends there: what follows is not JSON
                XCTAssertThrowsError(try JSONIndexDecoder.decode([String].self, from: bytes))
            }
        }
    }

    func testADuplicateKeyIsRejectedWithItsPath() {
        let text = #"[{"street": "a"}, {"street": "a", "street": "b"}]"#
        XCTAssertThrowsError(try JSONIndexDecoder.decode([Address].self, from: Array(text.utf8))) { error in
            XCTAssertEqual((error as? JSONIndexDecoder.Rejected)?.error, .duplicateKey("street", object: "[1]"))
        }
    }
}

/// Objects read as dictionaries (an offer's vocabulary, raw JSON), however many members they have.
final class WideObjectTests: XCTestCase {
    /// Every member of a wide object is found by its name, escaped names too: a dictionary of
    /// 60,000 members (an offer's vocabulary comes from outside) reads as Foundation reads it.
    /// Finding each by scanning the members from the first took seconds of CPU at that size,
    /// 1.8 × 10⁹ name comparisons; it is read in one pass now.
    func testAWideObjectReadsAsADictionaryWithEveryMember() throws {
        for count in [3, 32, 33, 60_000] {
            var members = Dictionary(uniqueKeysWithValues: (0..<count).map { ("k\($0)", "v\($0)") })
            members["caf\u{e9} \"quoted\""] = "escaped"
            let bytes = Array(try JSONEncoder().encode(members))
            XCTAssertEqual(try JSONIndexDecoder.decode([String: String].self, from: bytes), members, "\(count) members")
        }
    }

    /// Two names that are the same string written with other code points ("é" as one, or as
    /// "e" and a combining accent) are one name twice, whatever the object's size: a dictionary
    /// would keep only one of their values.
    func testNamesThatAreTheSameStringAreDuplicatesAtAnySize() {
        for filler in [0, 40] {
            let others = (0..<filler).map { #""k\#($0)":"v""# }
            let text = "{" + (others + [#""caf\#u{e9}":"a""#, #""cafe\#u{301}":"b""#]).joined(separator: ",") + "}"
            XCTAssertThrowsError(try JSONIndexDecoder.decode([String: String].self, from: Array(text.utf8)), "\(filler) others") { error in
                XCTAssertTrue(error is JSONIndexDecoder.Rejected, "\(filler) others: \(error)")
            }
        }
    }
}
