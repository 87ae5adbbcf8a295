import Runtime
import Synchronization
import XCTest

/// A line's message and fields are made only when the logger's level lets the line through, so a
/// per-record debug line costs a hot path nothing when debug is off. No broker.
final class LoggerTests: XCTestCase {
    func testALineBelowTheLevelMakesNeitherMessageNorFields() {
        let made = Mutex<[String]>([])
        let lines = Mutex<[String]>([])
        let logger = Logger(service: "test", level: .info, sink: { line in lines.withLock { $0.append(line) } })
        func message() -> String {
            made.withLock { $0.append("message") }
            return "phase completed"
        }
        func fields() -> [String: String] {
            made.withLock { $0.append("fields") }
            return ["lead": "lead-1"]
        }

        logger.debug(message(), fields())
        logger.log(.debug, message(), fields())
        XCTAssertEqual(made.withLock { $0 }, [])
        XCTAssertEqual(lines.withLock { $0 }, [])

        logger.info(message(), fields())
        XCTAssertEqual(made.withLock { $0 }.sorted(), ["fields", "message"])
        let line = lines.withLock { $0 }.first ?? ""
        XCTAssertTrue(line.contains("\"lead\":\"lead-1\""), line)
        XCTAssertTrue(line.contains("\"message\":\"phase completed\""), line)
    }
}
