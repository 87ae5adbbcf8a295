import Foundation
import JSONCodec
import LeadModel
import LeadRules
import XCTest

/// Dates round-trip to the millisecond through every encoder and decoder of the codec.
final class ISO8601Tests: XCTestCase {
    /// A message holding only dates.
    private struct Stamps: Message, Equatable {
        static let schemaName = "test.stamps"
        static let schemaVersion = 1
        var at: Date
        var list: [Date]
    }

    private let codec = MessageCodec()

    private func encodedDate(_ bytes: [UInt8]) throws -> String {
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        return try XCTUnwrap(object["at"] as? String)
    }

    func testDatesSurviveTenRoundsThroughEveryEncoderAndDecoder() throws {
        var texts = [
            "2025-06-15T15:06:40.430Z", "2025-06-15T15:06:40.999Z", "2025-06-15T15:06:40.001Z", "2025-06-15T15:06:40.000Z",
            "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "2000-02-29T12:34:56.789Z", "2100-03-01T00:00:00.001Z",
            "1582-10-10T10:10:10.100Z", "0001-01-01T00:00:00.000Z", "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
            "4001-01-01T00:00:00.000Z", "2038-01-19T03:14:07.999Z",
        ]
        var random = SeededRandom(seed: 430)
        let earliest: Int64 = -62_167_219_200_000  // 0000-01-01
        let span: Int64 = 315_569_520_000_000  // to 10000-01-01
        for _ in 0..<2_000 {
            let milliseconds = earliest + Int64(random.next() % UInt64(span))
            texts.append(ISO8601.format(Date(timeIntervalSince1970: Double(milliseconds) / 1000)))
        }
        for text in texts {
            let date = try XCTUnwrap(ISO8601.parse(text), text)
            XCTAssertEqual(ISO8601.format(date), text)
            var stamps = Stamps(at: date, list: [date])
            for round in 0..<10 {
                // Ours, then Foundation's, each way.
                let bytes = try codec.encode(stamps)
                XCTAssertEqual(try encodedDate(bytes), text, "round \(round)")
                stamps = try codec.decode(Stamps.self, from: bytes)
                let foundationBytes = Array(try MessageCodec.foundationEncoder().encode(stamps))
                XCTAssertEqual(try encodedDate(foundationBytes), text, "round \(round)")
                stamps = try MessageCodec.foundationDecoder().decode(Stamps.self, from: Data(foundationBytes))
            }
            XCTAssertEqual(try encodedDate(try codec.encode(stamps)), text)
            XCTAssertEqual(stamps.list.map(ISO8601.format), [text])
        }
    }

    func testFormatRoundsToTheNearestMillisecond() {
        XCTAssertEqual(ISO8601.format(Date(timeIntervalSince1970: 1_750_000_000.430)), "2025-06-15T15:06:40.430Z")
        XCTAssertEqual(ISO8601.format(Date(timeIntervalSince1970: 1_750_000_000.4296)), "2025-06-15T15:06:40.430Z")
        XCTAssertEqual(ISO8601.format(Date(timeIntervalSince1970: 1_750_000_000.4294)), "2025-06-15T15:06:40.429Z")
        XCTAssertEqual(ISO8601.format(Date(timeIntervalSince1970: 1_750_000_000.9996)), "2025-06-15T15:06:41.000Z")
        XCTAssertEqual(ISO8601.format(Date(timeIntervalSince1970: -0.0004)), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(ISO8601.format(Date(timeIntervalSince1970: -0.0006)), "1969-12-31T23:59:59.999Z")
        // Outside four-digit years, and not a number at all: clamped, never a trap.
        XCTAssertEqual(ISO8601.format(Date(timeIntervalSinceReferenceDate: 1e15)), "9999-12-31T23:59:59.999Z")
        XCTAssertEqual(ISO8601.format(Date(timeIntervalSinceReferenceDate: -.infinity)), "0000-01-01T00:00:00.000Z")
        XCTAssertEqual(ISO8601.format(Date(timeIntervalSinceReferenceDate: .nan)), "2001-01-01T00:00:00.000Z")
        XCTAssertEqual(ISO8601.format(.distantFuture), "4001-01-01T00:00:00.000Z")
    }

    func testParseAcceptsOffsetsAndAnyFractionAndRejectsImpossibleDates() throws {
        let accepted = [
            "2025-06-15T15:06:40Z": "2025-06-15T15:06:40.000Z",
            "2025-06-15T15:06:40.5Z": "2025-06-15T15:06:40.500Z",
            "2025-06-15T15:06:40.123456789Z": "2025-06-15T15:06:40.123Z",
            "2025-06-15T15:06:40.4305Z": "2025-06-15T15:06:40.431Z",
            "2025-12-31T23:59:59.9996Z": "2026-01-01T00:00:00.000Z",
            "2025-06-15T17:06:40.430+02:00": "2025-06-15T15:06:40.430Z",
            "2025-06-15T10:36:40.430-0430": "2025-06-15T15:06:40.430Z",
            "2025-06-15t15:06:40.430z": "2025-06-15T15:06:40.430Z",
            "2024-02-29T00:00:00Z": "2024-02-29T00:00:00.000Z",
        ]
        for (text, canonical) in accepted {
            XCTAssertEqual(ISO8601.parse(text).map(ISO8601.format), canonical, text)
        }
        for text in ["", "yesterday", "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-04-31T00:00:00Z",
                     "2025-06-15T24:00:00Z", "2025-06-15T15:60:00Z", "2025-06-15T15:06:60Z", "2025-06-15T15:06:40.Z",
                     "2025-06-15 15:06:40Z", "2025-06-15T15:06:40", "2025-06-15T15:06:40+2:00", "2025-06-15T15:06:40+24:00",
                     "25-06-15T15:06:40Z", "2025-06-15T15:06:40Zx", "2025-06-15T15:06:40.43 Z", "+2025-06-15T15:06:40Z"] {
            XCTAssertNil(ISO8601.parse(text), text)
        }
    }

    /// The encoders write a date's bytes after what is already there, and the index decoder reads
    /// one where it lies in the record, or through its string when the JSON escapes a character.
    func testADateIsWrittenAfterTheBytesBeforeItAndReadEscapedOrNot() throws {
        let date = try XCTUnwrap(ISO8601.parse("2025-06-15T15:06:40.430Z"))
        var bytes = Array(#"{"at":""#.utf8)
        ISO8601.write(date, to: &bytes)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), #"{"at":"2025-06-15T15:06:40.430Z"#)

        for at in [#""2025-06-15T15:06:40.430Z""#, #""\u0032025-06-15T15:06:40.430Z""#, #""2025-06-15T15:06:40.430\u005a""#] {
            XCTAssertEqual(try JSONIndexDecoder.decode([Date].self, from: Array("[\(at)]".utf8)), [date], at)
        }
        for at in [#""2025-06-15T15:06:40.430""#, #""2025-06-15T15:06:40.430Z ""#, #""2025-06-15T15:06:40.430\u005a ""#, "1750000000"] {
            XCTAssertThrowsError(try JSONIndexDecoder.decode([Date].self, from: Array("[\(at)]".utf8)), at)
        }
    }

    /// The day is the one `format` writes, rounding and clamping included.
    func testTheDayOfADateIsTheDayFormatWrites() {
        for seconds in [0, -0.0004, -0.0006, 1_750_000_000, 86_399.9996, 951_782_400, -62_000_000_000, -1e15, 1e15] {
            let date = Date(timeIntervalSince1970: seconds)
            let day = ISO8601.day(of: date)
            let written = String(format: "%04d-%02d-%02d", day.year, day.month, day.day)
            XCTAssertEqual(written, String(ISO8601.format(date).prefix(10)), "\(seconds)")
        }
    }
}
