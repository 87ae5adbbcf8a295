@testable import Coordinator
import XCTest

final class MinHeapTests: XCTestCase {
    /// A heap built from elements at once, and one built by inserting them, give them back in
    /// order, with repeats, for every size up to 64.
    func testAHeapBuiltAtOnceGivesItsElementsBackInOrder() {
        var generator = SystemRandomNumberGenerator()
        for size in 0...64 {
            let elements = (0..<size).map { _ in Int.random(in: 0..<20, using: &generator) }
            var built = MinHeap(elements, by: <)
            var inserted = MinHeap<Int>(by: <)
            for element in elements { inserted.insert(element) }
            var fromBuilt: [Int] = [], fromInserted: [Int] = []
            while let least = built.removeFirst() { fromBuilt.append(least) }
            while let least = inserted.removeFirst() { fromInserted.append(least) }
            XCTAssertEqual(fromBuilt, elements.sorted(), "size \(size)")
            XCTAssertEqual(fromInserted, elements.sorted(), "size \(size)")
        }
    }
}
