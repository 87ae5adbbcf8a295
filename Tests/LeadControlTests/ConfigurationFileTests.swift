import Foundation
import KafkaTestSupport
import LeadControl
import XCTest

/// `account put` and `offer put` read their file as the services would read the record.
final class ConfigurationFileTests: XCTestCase {
    /// `account put` of docs/samples/account.json changed by `edit` (which must change it), with
    /// no broker to reach: the status and what went to standard error.
    private func putSampleAccount(edited edit: (String) -> String) async throws -> (status: Int32, error: String) {
        let sample = try String(contentsOf: TestBroker.projectRoot.appendingPathComponent("docs/samples/account.json"), encoding: .utf8)
        let edited = edit(sample)
        XCTAssertNotEqual(edited, sample)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("account-\(UUID().uuidString).json")
        try edited.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let captured = CapturedConsole()
        let status = await LeadControl.main(arguments: ["account", "put", "--file", file.path],
                                            environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:\(TestBroker.freeLoopbackPort())"],
                                            console: captured.console)
        return (status, captured.error)
    }

    /// A key given twice is refused, before any broker is asked: Foundation's parser kept the
    /// last, so a file whose first `billingState` read `active` paused the account.
    func testAConfigurationWithAKeyTwiceIsRefused() async throws {
        let (status, error) = try await putSampleAccount {
            $0.replacingOccurrences(of: "{", with: #"{"billingState": "paused", "#, options: [], range: $0.range(of: "{"))
        }
        XCTAssertEqual(status, LeadControl.failure)
        XCTAssertTrue(error.contains("duplicate key \"billingState\""), error)
    }

    /// A required field spelt in other letters is named as the likely misspelling: "missing field
    /// billingState" alone, for a file that has "billingstate", sent the operator looking.
    func testARequiredFieldInOtherLettersIsNamed() async throws {
        let (status, error) = try await putSampleAccount { $0.replacingOccurrences(of: "\"billingState\"", with: "\"billingstate\"") }
        XCTAssertEqual(status, LeadControl.failure)
        XCTAssertTrue(error.contains("did you mean \"billingState\""), error)
    }
}
