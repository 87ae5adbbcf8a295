import Foundation
import JSONCodec
import XCTest

/// A value read as ``RawJSON`` keeps its bytes exactly as they stood, is written back as they
/// are, and goes through Foundation's coders as the same JSON.
final class RawJSONTests: XCTestCase {
    private struct Forwarded: Codable, Equatable {
        var id: String
        var payload: RawJSON
    }

    private struct Payload: Codable, Equatable {
        var name: String
        var count: Int
        var tags: [String]
        var ratio: Double?
    }

    private let record = Array(#"{"id":"lead-1","payload":{ "name" : "Zoë \"Z\"\n", "count": 12, "tags": ["a", "é"], "ratio": -2.5e-3 }}"#.utf8)

    func testTheIndexDecoderKeepsTheValuesBytesAsTheyStood() throws {
        let forwarded = try JSONIndexDecoder.decode(Forwarded.self, from: record)
        XCTAssertEqual(String(decoding: forwarded.payload.bytes, as: UTF8.self),
                       #"{ "name" : "Zoë \"Z\"\n", "count": 12, "tags": ["a", "é"], "ratio": -2.5e-3 }"#)
        XCTAssertEqual(try forwarded.payload.decoded(as: Payload.self),
                       Payload(name: "Zoë \"Z\"\n", count: 12, tags: ["a", "é"], ratio: -0.0025))
    }

    func testEveryKindOfValueIsKeptWhole() throws {
        for value in [#""a \"quoted\" string""#, "-12.5e3", "0", "true", "false", "[1, [2], {}]", "{}"] {
            let forwarded = try JSONIndexDecoder.decode(Forwarded.self, from: Array(#"{"id":"x","payload":\#(value)}"#.utf8))
            XCTAssertEqual(String(decoding: forwarded.payload.bytes, as: UTF8.self), value)
        }
    }

    func testTheStreamEncoderWritesTheBytesAsTheyAre() throws {
        let forwarded = try JSONIndexDecoder.decode(Forwarded.self, from: record)
        let written = try JSONStreamEncoder.encode(forwarded)
        XCTAssertEqual(String(decoding: written, as: UTF8.self),
                       #"{"id":"lead-1","payload":{ "name" : "Zoë \"Z\"\n", "count": 12, "tags": ["a", "é"], "ratio": -2.5e-3 }}"#)
        XCTAssertEqual(try JSONIndexDecoder.decode(Forwarded.self, from: written), forwarded)
    }

    func testFoundationsCodersCarryTheSameValue() throws {
        let payload = Payload(name: "n", count: 3, tags: ["t"], ratio: nil)
        let forwarded = Forwarded(id: "lead-2", payload: try RawJSON(encoding: payload))
        XCTAssertEqual(String(decoding: forwarded.payload.bytes, as: UTF8.self), #"{"count":3,"name":"n","tags":["t"]}"#)

        let byFoundation = try JSONStreamEncoder.foundationEncoder().encode(forwarded)
        XCTAssertEqual(Array(byFoundation), try JSONStreamEncoder.encode(forwarded), "both encoders write the same bytes")
        let readByFoundation = try JSONIndexDecoder.foundationDecoder().decode(Forwarded.self, from: byFoundation)
        XCTAssertEqual(try readByFoundation.payload.decoded(as: Payload.self), payload)
    }

    func testMalformedJSONIsStillAnError() {
        XCTAssertThrowsError(try JSONIndexDecoder.decode(Forwarded.self, from: Array(#"{"id":"x","payload":{"a":}}"#.utf8)))
    }
}
