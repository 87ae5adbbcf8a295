import Foundation
import Runtime
import Streaming
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

    /// A partition whose offsets go back (the broker lost its log, or truncated it after an
    /// unclean leader election, and the consumer was reset) is tracked in the order its records
    /// were polled, not stopped: the commit point is the first unfinished record as polled.
    func testOffsetsThatGoBackAreTrackedInPollOrder() {
        var tracker = OffsetTracker()
        for offset in Int64(10)..<13 { tracker.register(offset) }
        for offset in Int64(0)..<3 { tracker.register(offset) }
        XCTAssertNil(tracker.finish(0))
        XCTAssertNil(tracker.finish(1))
        XCTAssertEqual(tracker.finish(10), 11)
        XCTAssertEqual(tracker.finish(11), 12)
        XCTAssertEqual(tracker.finish(12), 2, "0 and 1, polled after 12, are finished")
        XCTAssertEqual(tracker.finish(2), 3)
        XCTAssertEqual(tracker.unfinishedCount, 0)

        var again = OffsetTracker()
        for offset: Int64 in [4, 5, 6, 5, 6] { again.register(offset) }  // 5 and 6 read again after a reset
        for offset: Int64 in [5, 5, 6, 6] { XCTAssertNil(again.finish(offset)) }
        XCTAssertEqual(again.finish(4), 7, "each 5 and 6 counted as finished once")
        XCTAssertEqual(again.unfinishedCount, 0)
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
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any])
        XCTAssertEqual(object["service"] as? String, "profile-stage")
        XCTAssertEqual(object["level"] as? String, "info")
        XCTAssertEqual(object["lead"] as? String, "lead-1")
        XCTAssertEqual(object["phase"] as? String, "profile")
        XCTAssertEqual(object["attempt"] as? Int, 2, "a number key is a JSON number")
        XCTAssertEqual(object["message"] as? String, "phase \"done\"\nnext")
        // Time in UTC to the millisecond.
        let time = try XCTUnwrap(object["time"] as? String)
        XCTAssertNotNil(time.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/), time)
    }

    func testNumberKeysAreNumbersOnlyWhenTheValueIsOneAndOtherKeysStayStrings() throws {
        let lines = LinesBox()
        let logger = Logger(service: "coordinator", sink: { lines.append($0) })
        logger.info("restored", [LogKey.offset: "1234", LogKey.partition: "n/a", LogKey.leadID: "42", "seconds": "0.25"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines.all[0].utf8)) as? [String: Any])
        XCTAssertEqual(object["offset"] as? Int, 1234)
        XCTAssertEqual(object["seconds"] as? Double, 0.25)
        XCTAssertEqual(object["partition"] as? String, "n/a", "not a number: kept as text")
        XCTAssertEqual(object["lead"] as? String, "42", "an id is text even when it looks like a number")
        for number in ["0", "-12", "3.5", "1e-3", "2E+10"] { XCTAssertTrue(Logger.isJSONNumber(number), number) }
        for text in ["", "+1", "01", "1.", ".5", "nan", "1e", "12a", "-"] { XCTAssertFalse(Logger.isJSONNumber(text), text) }
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
