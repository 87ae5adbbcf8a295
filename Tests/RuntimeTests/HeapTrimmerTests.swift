import Foundation
import Runtime
import XCTest

final class HeapTrimmerTests: XCTestCase {
    /// Freed memory between live allocations stays resident until trimmed.
    func testTrimReturnsFreedMemoryBetweenLiveAllocations() throws {
        // 160 MB in 2 KB blocks; every 64th (one per 128 KB) stays allocated, so the freed
        // memory cannot go back from the top of the heap.
        let blocks = (0..<80_000).map { _ -> UnsafeMutableRawPointer in
            let block = malloc(2048)!
            memset(block, 1, 2048)
            return block
        }
        var kept: [UnsafeMutableRawPointer] = []
        for (index, block) in blocks.enumerated() {
            if index % 64 == 0 { kept.append(block) } else { free(block) }
        }
        defer { kept.forEach { free($0) } }
        let before = try residentMegabytes()
        XCTAssertTrue(HeapTrimmer.trimNow(), "glibc has malloc_trim")
        let after = try residentMegabytes()
        XCTAssertGreaterThan(before - after, 100, "resident \(before) MB before the trim, \(after) MB after")
    }

    func testIntervalZeroTurnsTrimmingOff() throws {
        XCTAssertNil(try HeapTrimmer.start(environment: [HeapTrimmer.intervalVariable: "0"]))
        let timer = try HeapTrimmer.start(environment: [HeapTrimmer.intervalVariable: "5"])
        XCTAssertNotNil(timer)
        timer?.cancel()
    }

    private func residentMegabytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kilobytes = try XCTUnwrap(Int(line.split(separator: " ").dropFirst().first ?? ""))
        return kilobytes / 1024
    }
}
