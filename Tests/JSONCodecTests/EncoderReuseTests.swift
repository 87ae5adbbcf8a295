import Dispatch
import Foundation
import JSONCodec
import Synchronization
import XCTest

/// ``JSONStreamEncoder`` keeps the buffers of finished encodes for the next ones: what one encode
/// returned never changes with later encodes, an encode that failed leaves nothing behind, and
/// encodes on many threads at once write what they write one at a time.
final class EncoderReuseTests: XCTestCase {
    private struct Item: Codable, Equatable {
        var name: String
        var tags: [String]
        var nested: [String: Int]
    }

    /// Fails after writing part of its object.
    private struct Failing: Encodable {
        struct Refused: Error {}

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encode("written before the failure", forKey: AnyKey("z"))
            throw Refused()
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private func item(_ index: Int) -> Item { Self.item(index) }

    private static func item(_ index: Int) -> Item {
        Item(name: "item-\(index)-" + String(repeating: "x", count: index % 300), tags: (0..<(index % 7)).map { "t\($0)" },
             nested: ["b": index, "a": -index])
    }

    private func foundationJSON<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONStreamEncoder.foundationEncoder().encode(value), as: UTF8.self)
    }

    func testWhatAnEncodeReturnedStaysAsItWas() throws {
        let first = try JSONStreamEncoder.encode(item(1))
        let kept = first
        for index in 2..<50 { _ = try JSONStreamEncoder.encode(item(index)) }
        XCTAssertEqual(first, kept)
        XCTAssertEqual(String(decoding: first, as: UTF8.self), try foundationJSON(item(1)))
        XCTAssertLessThan(first.capacity, 1024, "sized for its text, not the encoder's buffer")
    }

    func testAFailedEncodeLeavesNothingForTheNext() throws {
        for _ in 0..<20 {
            XCTAssertThrowsError(try JSONStreamEncoder.encode(Failing()))
            XCTAssertEqual(String(decoding: try JSONStreamEncoder.encode(item(3)), as: UTF8.self), try foundationJSON(item(3)))
        }
    }

    func testEncodesOnManyThreadsAtOnceWriteWhatTheyWriteAlone() throws {
        let expected = try (0..<400).map { try foundationJSON(item($0)) }
        let written = Mutex([String?](repeating: nil, count: expected.count))
        DispatchQueue.concurrentPerform(iterations: expected.count) { index in
            let json = (try? JSONStreamEncoder.encode(Self.item(index))).map { String(decoding: $0, as: UTF8.self) }
            written.withLock { $0[index] = json }
        }
        XCTAssertEqual(written.withLock { $0 }, expected)
    }

    func testLargeAndWideRecordsAreWrittenWholeAndTheNextSmallOneAsUsual() throws {
        let large = Item(name: String(repeating: "y", count: 200_000), tags: [], nested: [:])
        XCTAssertEqual(String(decoding: try JSONStreamEncoder.encode(large), as: UTF8.self), try foundationJSON(large))
        XCTAssertEqual(String(decoding: try JSONStreamEncoder.encode(item(5)), as: UTF8.self), try foundationJSON(item(5)))
        let wide = Item(name: "wide", tags: [], nested: Dictionary(uniqueKeysWithValues: (0..<5_000).map { ("k\($0)", $0) }))
        XCTAssertEqual(String(decoding: try JSONStreamEncoder.encode(wide), as: UTF8.self), try foundationJSON(wide))
        XCTAssertEqual(String(decoding: try JSONStreamEncoder.encode(item(6)), as: UTF8.self), try foundationJSON(item(6)))
    }
}
