import Foundation
import JSONCodec
@testable import LeadModel
import LeadRules
import XCTest

/// The codec's own encoder and decoder against Foundation's, value for value and byte for byte.
final class JSONCodecTests: XCTestCase {
    private func foundationEncoder() -> JSONEncoder { MessageCodec.foundationEncoder() }

    private func foundationDecoder() -> JSONDecoder { MessageCodec.foundationDecoder() }

    private func assertSameAsFoundation<T: Codable & Equatable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = Array(try foundationEncoder().encode(value))
        let bytes = try JSONStreamEncoder.encode(value)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), String(decoding: expected, as: UTF8.self), file: file, line: line)
        XCTAssertEqual(try JSONIndexDecoder.decode(T.self, from: bytes), value, file: file, line: line)
        XCTAssertEqual(try JSONIndexDecoder.decode(T.self, from: bytes), try foundationDecoder().decode(T.self, from: Data(bytes)),
                       file: file, line: line)
    }

    private var messages: [any Message] {
        var profile = Fixtures.profile(posts: [Fixtures.post("hello \"world\"\n\u{1}é 🎉", daysAgo: 1), Fixtures.post("second", daysAgo: 40, id: "p2")])
        profile.linkedinOutcome = .failed(reason: "rate limited", isRetriable: true)
        profile.xOutcome = .skipped(reason: "no URL")
        profile.scores = RuleBasedScorer().score(profile: profile, offer: Fixtures.offer(), source: .manual, now: Fixtures.now)
        let request = PhaseRequest(
            leadID: "lead-1", runID: "run-1", phase: .profile, attempt: 2, mode: .reEnrich([.linkedin, .x]), platforms: [.linkedin],
            lead: Fixtures.lead(), profile: profile, accountID: "acct-1", offerID: "offer-1", isPriority: true, requestedAt: Fixtures.now)
        var machine = LeadStateMachine()
        _ = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now))
        return [
            request,
            PhaseResult(
                answering: request, outcome: .failed(reason: "x", isRetriable: false),
                payload: PhasePayload(profile: ProfilePhaseOutput(linkedin: Fixtures.linkedin(), linkedinOutcome: .succeeded)),
                charges: [BillableCharge(provider: "linkedin", units: 1)], finishedAt: Fixtures.now, service: "profile-stage-0"),
            machine.state!,
            LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: Fixtures.now),
            AccountSignal(
                accountID: "acct-1", companyKey: "name:acme", companyName: "Acme", heatScore: 71, category: .hot, trend: .rising, leadCount: 2,
                signals: [CompanySignal(leadID: "lead-1", kind: "pain-point", detail: "x", date: Fixtures.now, weight: 4.518)], computedAt: Fixtures.now),
            DeadLetter(original: [0, 255, 10], sourceTopic: "leads.discovered", partition: 3, offset: 42, reason: "bad", failedAt: Fixtures.now, service: "coordinator"),
            AccountConfig(accountID: "acct-1", billingState: .paused, outreachWindow: OutreachWindow(timeZoneID: "America/New_York"),
                          autopilot: AutopilotRule(), updatedAt: Fixtures.now),
            Fixtures.offer(),
        ]
    }

    func testMessagesEncodeToTheBytesJSONEncoderWritesAndDecodeToTheSameValues() throws {
        for message in messages {
            func check<T: Message>(_ message: T) throws {
                guard let equatable = message as? any (Message & Equatable) else { return XCTFail("\(T.self) is not Equatable") }
                try assertSameAsFoundation(equatable)
            }
            try check(message)
        }
    }

    func testNumbersAndStringsAreWrittenAsJSONEncoderWritesThem() throws {
        try assertSameAsFoundation([1.0, 0.1, 1e-7, 1e21, 123456789012345678.0, -0.0, 1.5, 100.0, 3.14159, .greatestFiniteMagnitude])
        try assertSameAsFoundation([Int.min, -1, 0, 7, Int.max])
        try assertSameAsFoundation([Int8.min, 0, Int8.max])
        try assertSameAsFoundation([UInt64.max])
        try assertSameAsFoundation(["", "plain", "a/b", "\"quoted\"", "back\\slash", "\u{0}\u{8}\u{c}\n\r\t\u{1f}\u{7f}", "é 漢字 🎉 \u{2028}"])
        try assertSameAsFoundation(["b": 1, "a": 2, "B": 3, "a10": 4, "a9": 5, "é": 6, "_": 7])
        // Keys alike in their first eight bytes, prefixes of each other, empty, and an object
        // too large for the insertion sort.
        try assertSameAsFoundation(["activityOutcome": 1, "activity": 2, "activityOutcomes": 3, "activityA": 4, "activit": 5, "": 6,
                                    "activityOutcomd": 7, "éééé": 8, "éééè": 9])
        try assertSameAsFoundation(Dictionary(uniqueKeysWithValues: (0..<100).map { ("key-\(($0 * 37) % 100)", $0) }))
        try assertSameAsFoundation([true, false])
        try assertSameAsFoundation([[Date(timeIntervalSince1970: 0)], [], [Fixtures.now]])
        XCTAssertEqual(String(decoding: try JSONStreamEncoder.encode([Double.nan, .infinity, -.infinity]), as: UTF8.self),
                       #"["NaN","Infinity","-Infinity"]"#)
    }

    /// Nested containers and super encoders are written out of line and spliced in when the
    /// value closes; their order is the sorted order all the same.
    func testNestedContainersMatchJSONEncoder() throws {
        try assertSameAsFoundation(Nested(name: "n", values: [3, 1, 2], inner: ["z": "last", "a": "first"]))
    }

    /// Records that carry the same profile share one encoding of it, and the bytes do not change.
    func testAFragmentSlotWritesAnEqualValueFromItsBytes() throws {
        let codec = MessageCodec()
        let profile = Fixtures.profile(posts: [Fixtures.post("hello", daysAgo: 1)])
        var machine = LeadStateMachine()
        _ = machine.handle(.discovered(Fixtures.lead(), runID: "run-1", at: Fixtures.now))
        var state = try XCTUnwrap(machine.state)
        state.profile = profile
        state.status = .ready  // a ready lead's record carries its profile
        let request = PhaseRequest(
            leadID: "lead-1", runID: "run-1", phase: .scoring, attempt: 1, mode: .full, platforms: [], lead: Fixtures.lead(),
            profile: profile, accountID: "acct-1", offerID: "offer-1", isPriority: false, requestedAt: Fixtures.now)
        let entry = LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: Fixtures.now)
        let slot = JSONFragment<EnrichedProfile>()
        XCTAssertEqual(try codec.encode(request, fragment: slot), try codec.encode(request))
        XCTAssertEqual(try codec.encode(state, fragment: slot), try codec.encode(state))
        XCTAssertEqual(try codec.encode(entry, fragment: slot), try codec.encode(entry))

        // The slot's bytes are what is written for an equal profile; a different one is encoded.
        slot.keep(profile, bytes: Array(#"{"kept":true}"#.utf8)[...])
        XCTAssertTrue(String(decoding: try codec.encode(state, fragment: slot), as: UTF8.self).contains(#""profile":{"kept":true}"#))
        XCTAssertTrue(String(decoding: try codec.encode(request, fragment: slot), as: UTF8.self).contains(#""profile":{"kept":true}"#))
        XCTAssertTrue(String(decoding: try codec.encode(entry, fragment: slot), as: UTF8.self).contains(#""profile":{"kept":true}"#))
        var other = profile
        other.name = "Someone Else"
        state.profile = other
        XCTAssertEqual(try codec.encode(state, fragment: slot), try codec.encode(state))
        XCTAssertEqual(slot.bytes(for: other), Array(try JSONStreamEncoder.encode(other)), "the slot now holds the other profile")
    }

    func testDecodesEscapesAndWhitespaceAsJSONDecoderDoes() throws {
        let text = #" { "z" : [ "\u00e9\ud83c\udf89\n\/\"" , "\\" ] , "a" : ["x"] } "#
        let expected = try JSONDecoder().decode([String: [String]].self, from: Data(text.utf8))
        XCTAssertEqual(try JSONIndexDecoder.decode([String: [String]].self, from: Array(text.utf8)), expected)
        XCTAssertEqual(expected["z"]?.first, "é🎉\n/\"")
    }

    /// What is not JSON the index decoder calls malformed; what breaks its stricter rules it
    /// rejects with the reason (StrictDecodingTests has the codec's side); what it cannot decode
    /// exactly as JSONDecoder would, it leaves to JSONDecoder.
    func testSortsMalformedRejectedAndUnsupportedInput() throws {
        for text in [#"{"a": 01}"#, #"{"a": 1,}"#, #"{"a": 1} x"#, #"{"a": tru}"#, #"{"a": "\ud800"}"#, #"{"a": "\ud800\u0041"}"#] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode([String: Int].self, from: Array(text.utf8)), text) { error in
                XCTAssertTrue(error is JSONIndexDecoder.Malformed, "\(text): \(error)")
            }
        }
        XCTAssertThrowsError(try JSONIndexDecoder.decode([String].self, from: [0x5B, 0x22, 0xFF, 0x22, 0x5D]), "invalid UTF-8") { error in
            XCTAssertTrue(error is JSONIndexDecoder.Malformed, "\(error)")
        }
        for text in [#"{"a": 1, "a": 2}"#, #"{"a": 1.0}"#, #"{"a": 1e2}"#, "{\"a\": \"\u{1}\"}"] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode([String: Int].self, from: Array(text.utf8)), text) { error in
                XCTAssertTrue(error is JSONIndexDecoder.Rejected, "\(text): \(error)")
            }
        }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONIndexDecoder.decode([[Int]].self, from: Array(deep.utf8)), "too deep") { error in
            XCTAssertEqual((error as? JSONIndexDecoder.Rejected)?.error, .invalidContent("JSON nested deeper than 256 levels"))
        }
        for text in [#"{"a": 99999999999999999999}"#, #"{"a": "1"}"#, #"{"a": null}"#] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode([String: Int].self, from: Array(text.utf8)), text) { error in
                XCTAssertTrue(error is JSONIndexDecoder.Unsupported, "\(text): \(error)")
            }
        }
        // The codec no longer reads a record whose integer is written with a fraction.
        let lead = try MessageCodec().encode(Fixtures.lead())
        let withFraction = String(decoding: lead, as: UTF8.self).replacingOccurrences(of: #""version":1"#, with: #""version":1.0"#)
        XCTAssertThrowsError(try MessageCodec().decode(LeadDiscovered.self, from: Array(withFraction.utf8)))
    }

    /// Mutated records: whatever the index decoder accepts, JSONDecoder accepts with an equal value.
    func testNeverAcceptsWhatJSONDecoderRejectsOrReadsItDifferently() throws {
        var random = SeededRandom(seed: 77)
        let seeds = try messages.compactMap { $0 as? PhaseRequest }.map { try MessageCodec().encode($0) }
            + [try MessageCodec().encode(Fixtures.lead())]
        let alphabet = Array(#"{}[]":,0123456789.-+eEtrufalsn \#\u{0}\\é"#.utf8)
        var accepted = 0
        for _ in 0..<4_000 {
            var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0..<Int(1 + random.next() % 3) {
                let index = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[index] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: index)
                }
            }
            try compare(PhaseRequest.self, bytes, &accepted)
            try compare(LeadDiscovered.self, bytes, &accepted)
        }
        XCTAssertGreaterThan(accepted, 100, "some mutations keep the record valid")
    }

    private func compare<T: Decodable & Equatable>(_ type: T.Type, _ bytes: [UInt8], _ accepted: inout Int) throws {
        guard let fast = try? JSONIndexDecoder.decode(T.self, from: bytes) else { return }
        accepted += 1
        let reference = try? foundationDecoder().decode(T.self, from: Data(bytes))
        XCTAssertEqual(reference, fast, String(decoding: bytes, as: UTF8.self))
    }
}

/// A value encoded through nested containers and a super encoder.
private struct Nested: Codable, Equatable {
    var name: String
    var values: [Int]
    var inner: [String: String]

    enum CodingKeys: String, CodingKey { case name, values, inner, zulu }
    enum InnerKeys: String, CodingKey { case z, a }

    init(name: String, values: [Int], inner: [String: String]) {
        self.name = name
        self.values = values
        self.inner = inner
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        var list = try container.nestedUnkeyedContainer(forKey: .values)
        values = []
        while !list.isAtEnd { values.append(try list.decode(Int.self)) }
        let innerContainer = try container.nestedContainer(keyedBy: InnerKeys.self, forKey: .inner)
        inner = ["z": try innerContainer.decode(String.self, forKey: .z), "a": try innerContainer.decode(String.self, forKey: .a)]
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var list = container.nestedUnkeyedContainer(forKey: .values)
        var innerContainer = container.nestedContainer(keyedBy: InnerKeys.self, forKey: .inner)
        try container.encode(name, forKey: .name)
        for value in values { try list.encode(value) }
        try innerContainer.encode(inner["z"], forKey: .z)
        try innerContainer.encode(inner["a"], forKey: .a)
        var superList = container.superEncoder(forKey: .zulu).unkeyedContainer()
        var pair = superList.nestedUnkeyedContainer()
        try pair.encode("x")
        try superList.encode(1)
        try pair.encode("y")
    }
}
