import Foundation
import JSONCodec
import XCTest

/// Nested values are read by their readers without a decoder each; one a reader refuses makes
/// the enclosing value be read again by `init(from:)`, so what is read never depends on which
/// way it was read.
final class JSONReadableTests: XCTestCase {
    /// Written as `{"value":n}`; an older writer wrote `{"old":n}`, which only `init(from:)`
    /// reads.
    private struct Inner: Codable, JSONReadable, Equatable {
        var value: Int

        init(value: Int) { self.value = value }

        init(reading object: inout JSONObjectReader) throws {
            value = try object.int("value")
        }

        private enum CodingKeys: String, CodingKey { case value, old }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            value = try container.decodeIfPresent(Int.self, forKey: .value) ?? container.decode(Int.self, forKey: .old)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(value, forKey: .value)
        }
    }

    private struct Outer: Codable, JSONReadable, Equatable {
        var name: String
        var first: Inner
        var more: [Inner]
        var last: Inner?

        init(name: String, first: Inner, more: [Inner], last: Inner?) {
            self.name = name
            self.first = first
            self.more = more
            self.last = last
        }

        init(reading object: inout JSONObjectReader) throws {
            name = try object.string("name")
            first = try object.object("first")
            more = try object.objects("more")
            last = try object.optionalObject("last")
        }
    }

    private func read(_ json: String) throws -> (Outer, refusals: Int) {
        let refusals = JSONObjectReader.RefusalCount()
        let value = try JSONObjectReader.$refusals.withValue(refusals) {
            try JSONIndexDecoder.decode(Outer.self, from: Array(json.utf8))
        }
        XCTAssertEqual(value, try JSONDecoder().decode(Outer.self, from: Data(json.utf8)), "as Foundation reads it")
        return (value, refusals.value)
    }

    func testNestedValuesAreReadByTheirReaders() throws {
        let (value, refusals) = try read(#"{"name":"n","first":{"value":1},"more":[{"value":2},{"value":3}],"last":{"value":4}}"#)
        XCTAssertEqual(value, Outer(name: "n", first: Inner(value: 1), more: [Inner(value: 2), Inner(value: 3)], last: Inner(value: 4)))
        XCTAssertEqual(refusals, 0)
    }

    func testANestedValueItsReaderRefusesIsReadAsInitFromReadsIt() throws {
        for (json, expected) in [
            (#"{"name":"n","first":{"old":1},"more":[],"last":null}"#, Outer(name: "n", first: Inner(value: 1), more: [], last: nil)),
            (#"{"name":"n","first":{"value":1},"more":[{"value":2},{"old":3}]}"#,
             Outer(name: "n", first: Inner(value: 1), more: [Inner(value: 2), Inner(value: 3)], last: nil)),
            (#"{"name":"n","first":{"value":1},"more":[],"last":{"old":4}}"#, Outer(name: "n", first: Inner(value: 1), more: [], last: Inner(value: 4))),
        ] {
            let (value, refusals) = try read(json)
            XCTAssertEqual(value, expected, json)
            XCTAssertGreaterThan(refusals, 0, "read twice: \(json)")
        }
    }

    func testWhatNeitherWayReadsIsRejected() {
        for json in [
            #"{"name":"n","first":{"other":1},"more":[]}"#,
            #"{"name":"n","first":{"value":1},"more":[null]}"#,
            #"{"name":"n","first":{"value":1},"more":[{"value":1.5}]}"#,
            #"{"name":"n","first":[],"more":[]}"#,
        ] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode(Outer.self, from: Array(json.utf8)), json)
            XCTAssertThrowsError(try JSONDecoder().decode(Outer.self, from: Data(json.utf8)), json)
        }
    }
}
