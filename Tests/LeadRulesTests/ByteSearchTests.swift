@testable import LeadRules
import XCTest

/// The byte search under phrase matching, against a plain scan of every position.
final class ByteSearchTests: XCTestCase {
    /// The first position at or after `start` where `needle` occurs, by comparing at each one.
    private func plainSearch(_ needle: [UInt8], _ haystack: [UInt8], from start: Int) -> Int? {
        if needle.isEmpty { return start }
        guard start >= 0, needle.count <= haystack.count - start else { return nil }
        return (start...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    func testFindsWhatAScanOfEveryPositionFinds() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(" ab".utf8)
        for _ in 0..<5_000 {
            let haystack = (0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let needle = (0..<Int.random(in: 0...5, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let start = Int.random(in: 0...max(0, haystack.count), using: &generator)
            XCTAssertEqual(firstByteIndex(of: needle, in: haystack, from: start), plainSearch(needle, haystack, from: start),
                           "\(String(decoding: needle, as: UTF8.self)) in \(String(decoding: haystack, as: UTF8.self)) from \(start)")
        }
    }

    func testEdges() {
        let text = Array(" looking for a tool ".utf8)
        XCTAssertEqual(firstByteIndex(of: Array(" tool ".utf8), in: text, from: 0), 14, "at the very end")
        XCTAssertEqual(firstByteIndex(of: text, in: text, from: 0), 0, "the whole haystack")
        XCTAssertNil(firstByteIndex(of: text + [0x20], in: text, from: 0), "longer than the haystack")
        XCTAssertNil(firstByteIndex(of: Array(" looking ".utf8), in: text, from: 1), "only before the start")
        XCTAssertEqual(firstByteIndex(of: [], in: text, from: 3), 3)
        XCTAssertNil(firstByteIndex(of: Array(" a".utf8), in: [], from: 0))
    }
}
