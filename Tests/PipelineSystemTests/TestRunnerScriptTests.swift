import Foundation
import KafkaTestSupport
import XCTest

/// `Deploy/run_tests.py`, which CI's test command runs, with a stand-in for the test bundle: a
/// class that fails, one whose process dies without XCTest's summary and one that does not end
/// in time (killed) all count as failed, a test with several failed assertions counts once,
/// every class runs once with its lane's broker, each failure is printed again at the end, and
/// the exit status says so. A runner that
/// counted a crash as nothing would turn CI green on a broken build.
final class TestRunnerScriptTests: XCTestCase {
    func testFailuresCrashesAndHangsAreCountedAndEveryClassRunsOnceAgainstItsLanesBroker() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Lists four classes; runs one as XCTest would print it, and notes the broker it was given.
        let bundle = folder.appendingPathComponent("Fake.xctest")
        try """
        #!/usr/bin/env bash
        if [ "$1" = --list-tests ]; then
          printf 'Listing 8 tests in Fake.xctest:\\n\\nM.Passes/testA\\nM.Passes/testB\\nM.Fails/testC\\nM.Crashes/testD\\nM.Crashes/testE\\nM.Hangs/testF\\nM.FailsTwice/testG\\nM.FailsTwice/testH\\n'
          exit 0
        fi
        echo "$1 $KAFKA_TEST_BOOTSTRAP_SERVERS" >> "\(folder.path)/ran"
        case "$1" in
          M.Passes) echo "	 Executed 2 tests, with 0 failures (0 unexpected) in 0.1 (0.1) seconds" ;;
          M.Fails) printf '/src/F.swift:3: error: -[M.Fails testC] : XCTAssertEqual failed: ("1") is not equal to ("0") - lost 1\\n  why, second line\\n{"message":"a: error: b"}\\nafter the log line\\n'
            printf "Test Case 'Fails.testC' failed (0.1 seconds)\\nafter the case\\n"
            echo "	 Executed 1 test, with 1 failure (0 unexpected) in 0.1 (0.1) seconds"; exit 1 ;;
          M.FailsTwice) printf "Test Case 'FailsTwice.testG' failed (0.1 seconds)\\nTest Case 'FailsTwice.testH' passed (0.1 seconds)\\n"
            echo "	 Executed 2 tests, with 2 failures (0 unexpected) in 0.1 (0.1) seconds"; exit 1 ;;
          M.Crashes) echo "Test Case 'Crashes.testD' started"; kill -SEGV $$ ;;
          M.Hangs) sleep 600 ;;
        esac
        """.write(to: bundle, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(bundle.path, 0o755), 0)

        let script = TestBroker.projectRoot.appendingPathComponent("Deploy/run_tests.py").path
        var environment = ProcessInfo.processInfo.environment
        environment["TEST_CLASS_TIMEOUT_SECONDS"] = "3"
        let runner = ScriptRunner(folder: folder, environment: environment)
        let result = try await runner.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, bundle.path, "2", folder.appendingPathComponent("log").path],
            name: "runner")

        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.hasSuffix("tests: 3 passed, 5 failed\n"), result.output)
        XCTAssertTrue(result.output.contains("failed classes: M.Crashes, M.Fails, M.FailsTwice, M.Hangs"), result.output)
        XCTAssertTrue(result.output.contains("killed after 3.0 s"), result.output)
        // Each failure again after the last class's output, for a reader of the tail only.
        let recap = try XCTUnwrap(result.output.range(of: "== why M.Crashes failed").map { result.output[$0.lowerBound...] }, result.output)
        XCTAssertFalse(recap.contains("== lane"), "after every class's output: \(result.output)")
        XCTAssertTrue(recap.contains("== why M.Crashes failed (exit -11):\n  Test Case 'Crashes.testD' started\n"),
                      "a crash without a failure line: where it stopped: \(result.output)")
        XCTAssertTrue(recap.contains("== why M.Fails failed (exit 1):\n  /src/F.swift:3: error: -[M.Fails testC]"), result.output)
        XCTAssertTrue(recap.contains("  why, second line\n  after the log line\n== why"),
                      "the message's lines, without the log line (which starts no failure) and what follows the case: \(result.output)")
        XCTAssertTrue(recap.contains("== why M.Hangs failed (exit -9):\n  killed after 3.0 s"), result.output)
        let ran = try String(contentsOf: folder.appendingPathComponent("ran"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ") }
        XCTAssertEqual(ran.map { String($0[0]) }.sorted(), ["M.Crashes", "M.Fails", "M.FailsTwice", "M.Hangs", "M.Passes"])
        for line in ran {
            XCTAssertTrue(line.count == 2 && line[1].hasPrefix("127.0.0.1:"), "each class is given its lane's broker: \(line)")
        }
    }
}
