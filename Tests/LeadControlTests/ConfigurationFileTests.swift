import Foundation
import KafkaTestSupport
import LeadControl
import XCTest

/// `account put` and `offer put` read their file as the services would read the record.
final class ConfigurationFileTests: XCTestCase {
    /// A key given twice is refused, before any broker is asked: Foundation's parser kept the
    /// last, so a file whose first `billingState` read `active` paused the account.
    func testAConfigurationWithAKeyTwiceIsRefused() async throws {
        let sample = try String(contentsOf: TestBroker.projectRoot.appendingPathComponent("docs/samples/account.json"), encoding: .utf8)
        let twice = sample.replacingOccurrences(of: "{", with: #"{"billingState": "paused", "#, options: [], range: sample.range(of: "{"))
        XCTAssertNotEqual(twice, sample)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("account-\(UUID().uuidString).json")
        try twice.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let captured = CapturedConsole()
        let status = await LeadControl.main(arguments: ["account", "put", "--file", file.path],
                                            environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:\(TestBroker.freeLoopbackPort())"],
                                            console: captured.console)
        XCTAssertEqual(status, LeadControl.failure)
        XCTAssertTrue(captured.error.contains("duplicate key \"billingState\""), captured.error)
    }

    /// A required field spelt in other letters is named as the likely misspelling: "missing field
    /// billingState" alone, for a file that has "billingstate", sent the operator looking.
    func testARequiredFieldInOtherLettersIsNamed() async throws {
        let sample = try String(contentsOf: TestBroker.projectRoot.appendingPathComponent("docs/samples/account.json"), encoding: .utf8)
        let misspelt = sample.replacingOccurrences(of: "\"billingState\"", with: "\"billingstate\"")
        XCTAssertNotEqual(misspelt, sample)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("account-\(UUID().uuidString).json")
        try misspelt.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let captured = CapturedConsole()
        let status = await LeadControl.main(arguments: ["account", "put", "--file", file.path],
                                            environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:\(TestBroker.freeLoopbackPort())"],
                                            console: captured.console)
        XCTAssertEqual(status, LeadControl.failure)
        XCTAssertTrue(captured.error.contains("did you mean \"billingState\""), captured.error)
    }
}
