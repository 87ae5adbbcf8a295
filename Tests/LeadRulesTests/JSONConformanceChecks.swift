import Foundation
import JSONCodec
import XCTest

/// Checks for the types that read and write their JSON themselves, against their `Codable`
/// conformances (which Foundation's coders use).
extension XCTestCase {
    /// Runs `body`, failing when a reader refuses anything in it: valid JSON refused is read a
    /// second time, by `init(from:)`, with the same result but twice the cost.
    func withoutRefusals(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) rethrows {
        let refusals = JSONObjectReader.RefusalCount()
        try JSONObjectReader.$refusals.withValue(refusals) { try body() }
        XCTAssertEqual(refusals.value, 0, "a reader refused valid JSON (read twice)", file: file, line: line)
    }

    /// `value` written by the stream encoder reads back equal, with the readers and with
    /// Foundation's decoder.
    func assertReadsBack<T: Codable & Equatable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = try JSONStreamEncoder.encode(value)
        XCTAssertEqual(try JSONIndexDecoder.decode(T.self, from: bytes), value, file: file, line: line)
        XCTAssertEqual(try JSONIndexDecoder.foundationDecoder().decode(T.self, from: Data(bytes)), value, file: file, line: line)
    }

    /// The stream encoder (which uses the writers) and Foundation's encoder (which uses
    /// `encode(to:)`) write the same bytes.
    func assertSameJSON<T: Encodable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) throws {
        let written = String(decoding: try JSONStreamEncoder.encode(value), as: UTF8.self)
        let encoded = String(decoding: try JSONStreamEncoder.foundationEncoder().encode(value), as: UTF8.self)
        XCTAssertEqual(written, encoded, file: file, line: line)
    }
}
