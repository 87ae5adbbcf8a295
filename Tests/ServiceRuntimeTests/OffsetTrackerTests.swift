import Foundation
import ServiceRuntime
import XCTest

final class OffsetTrackerTests: XCTestCase {
    func testCommitPointIsEndOfContiguousFinishedPrefix() {
        var tracker = OffsetTracker()
        XCTAssertNil(tracker.commitPoint)
        for offset in Int64(10)..<15 { tracker.register(offset) }
        XCTAssertEqual(tracker.commitPoint, 10)
        XCTAssertNil(tracker.finish(12), "a gap before 12 keeps the point at 10")
        XCTAssertNil(tracker.finish(13))
        XCTAssertEqual(tracker.commitPoint, 10)
        XCTAssertEqual(tracker.finish(10), 11)
        XCTAssertEqual(tracker.finish(11), 14, "11 closes the gap up to 13")
        XCTAssertEqual(tracker.unfinishedCount, 1)
        XCTAssertEqual(tracker.finish(14), 15)
        XCTAssertEqual(tracker.unfinishedCount, 0)
    }

    func testOffsetsWithGapsFromCompactionOrTransactions() {
        var tracker = OffsetTracker()
        for offset: Int64 in [3, 7, 8, 20] { tracker.register(offset) }
        XCTAssertNil(tracker.finish(7))
        XCTAssertEqual(tracker.finish(3), 8)
        XCTAssertEqual(tracker.finish(8), 20)
        XCTAssertEqual(tracker.finish(20), 21)
    }

    func testRandomOrderAlwaysMatchesBruteForce() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var tracker = OffsetTracker()
            let count = Int.random(in: 1...3000, using: &generator)
            for offset in 0..<Int64(count) { tracker.register(offset) }
            var finished = Set<Int64>()
            for offset in (0..<Int64(count)).shuffled(using: &generator) {
                _ = tracker.finish(offset)
                finished.insert(offset)
                var expected: Int64 = 0
                while finished.contains(expected) { expected += 1 }
                XCTAssertEqual(tracker.commitPoint, expected)
            }
        }
    }
}

final class LoggerTests: XCTestCase {
    func testWritesOneParsableJSONObjectPerLineWithFields() throws {
        let lines = LinesBox()
        let logger = Logger(service: "profile-stage", level: .info, sink: { lines.append($0) })
            .with([LogKey.leadID: "lead-1"])
        logger.debug("hidden below the level")
        logger.info("phase \"done\"\nnext", [LogKey.phase: "profile", LogKey.attempt: "2"])
        let written = lines.all
        XCTAssertEqual(written.count, 1)
        XCTAssertTrue(written[0].hasSuffix("\n"))
        XCTAssertEqual(written[0].filter { $0 == "\n" }.count, 1)
        let object = try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: String]
        XCTAssertEqual(object?["service"], "profile-stage")
        XCTAssertEqual(object?["level"], "info")
        XCTAssertEqual(object?["lead"], "lead-1")
        XCTAssertEqual(object?["phase"], "profile")
        XCTAssertEqual(object?["attempt"], "2")
        XCTAssertEqual(object?["message"], "phase \"done\"\nnext")
    }

    func testLevelFromEnvironment() throws {
        XCTAssertEqual(try Logger(service: "x", environment: ["LOG_LEVEL": "DEBUG"]).level, .debug)
        XCTAssertEqual(try Logger(service: "x", environment: [:]).level, .info)
    }
}

final class LinesBox: @unchecked Sendable {  // guarded by its lock
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

final class ServiceRunnerSettingsTests: XCTestCase {
    func testShutdownTimeoutFromEnvironment() throws {
        XCTAssertEqual(try ServiceRunner.shutdownTimeout(environment: [:]), .seconds(10))
        XCTAssertEqual(try ServiceRunner.shutdownTimeout(environment: ["SHUTDOWN_TIMEOUT_SECONDS": "2.5"]), .milliseconds(2500))
        for bad in ["soon", "-1", "0"] {
            XCTAssertThrowsError(try ServiceRunner.shutdownTimeout(environment: ["SHUTDOWN_TIMEOUT_SECONDS": bad]), bad) { error in
                XCTAssertEqual((error as? ConfigurationError)?.variable, "SHUTDOWN_TIMEOUT_SECONDS")
            }
        }
    }
}
