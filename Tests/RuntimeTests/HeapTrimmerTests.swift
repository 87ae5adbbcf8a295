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

    /// A busy process reuses what it frees: after a trim the free memory counted stays (its
    /// pages are released, its chunks stay free), and only growth beyond it, or half a minute,
    /// brings the next trim.
    func testTrimsWhenTheFreeMemoryGrowsOrAfterThirtyLooks() {
        let megabyte = 1 << 20
        var policy = TrimPolicy()
        XCTAssertFalse(policy.shouldTrim(freeBytes: 2 * megabyte), "little free")
        XCTAssertTrue(policy.shouldTrim(freeBytes: 38 * megabyte), "a burst freed 38 MB")
        // Under load the count moves around what was trimmed: no trim.
        for free in [29, 43, 38, 30, 42, 53] { XCTAssertFalse(policy.shouldTrim(freeBytes: free * megabyte), "\(free) MB free") }
        XCTAssertTrue(policy.shouldTrim(freeBytes: 80 * megabyte), "42 MB more free than at the last trim")
        for look in 1..<TrimPolicy.looksBetweenTrims { XCTAssertFalse(policy.shouldTrim(freeBytes: 80 * megabyte), "look \(look)") }
        XCTAssertTrue(policy.shouldTrim(freeBytes: 80 * megabyte), "thirty looks without a trim")
        XCTAssertTrue(policy.shouldTrim(freeBytes: nil), "without the statistics, every look trims")
    }

    /// The allocator's statistics see memory freed between live allocations, and still count it
    /// free once trimmed.
    func testFreeBytesCountFreedMemoryBetweenLiveAllocations() throws {
        let blocks = (0..<80_000).map { _ -> UnsafeMutableRawPointer in
            let block = malloc(2048)!
            memset(block, 1, 2048)
            return block
        }
        let allocated = try XCTUnwrap(HeapTrimmer.freeBytes(), "glibc has mallinfo2")
        var kept: [UnsafeMutableRawPointer] = []
        for (index, block) in blocks.enumerated() {
            if index % 64 == 0 { kept.append(block) } else { free(block) }
        }
        defer { kept.forEach { free($0) } }
        let freed = try XCTUnwrap(HeapTrimmer.freeBytes())
        XCTAssertGreaterThan(freed - allocated, 150 << 20, "free after \(freed), before \(allocated)")
        var policy = TrimPolicy()
        XCTAssertTrue(policy.shouldTrim(freeBytes: freed))
        // Trimmed, the chunks still count as free: the count does not fall, so it is a baseline.
        XCTAssertTrue(HeapTrimmer.trimNow())
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(HeapTrimmer.freeBytes()), freed - (1 << 20))
    }

    func testIntervalZeroTurnsTrimmingOff() throws {
        XCTAssertNil(try HeapTrimmer.start(environment: [HeapTrimmer.intervalVariable: "0"]))
        let timer = try HeapTrimmer.start(environment: [HeapTrimmer.intervalVariable: "5"])
        XCTAssertNotNil(timer)
        timer?.cancel()
    }

    /// An interval under a tenth of a second (but not 0, off) is refused at start-up, naming the
    /// variable: a nanosecond's timer would look at the allocator, which locks every arena, without
    /// pause.
    func testAnIntervalUnderATenthOfASecondIsRefused() throws {
        for value in ["0.000000001", "0.05"] {
            XCTAssertThrowsError(try HeapTrimmer.interval(environment: [HeapTrimmer.intervalVariable: value]), value) { error in
                XCTAssertEqual((error as? ConfigurationError)?.variable, HeapTrimmer.intervalVariable)
            }
        }
        XCTAssertEqual(try HeapTrimmer.interval(environment: [HeapTrimmer.intervalVariable: "0.1"]), .milliseconds(100))
        XCTAssertNil(try HeapTrimmer.interval(environment: [HeapTrimmer.intervalVariable: "0"]))
    }

    private func residentMegabytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kilobytes = try XCTUnwrap(Int(line.split(separator: " ").dropFirst().first ?? ""))
        return kilobytes / 1024
    }
}
