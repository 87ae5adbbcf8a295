import Foundation
import Kafka
@testable import LeadControl
import Streaming
import Synchronization
import XCTest

/// `leadctl lag --watch` through a sample that fails: the samples come from a closure, no broker.
final class LagWatchTests: XCTestCase {
    private struct SampleFailure: Error, CustomStringConvertible {
        var description: String { "listOffsets: _TRANSPORT (-195): broker gone" }
    }

    private func control(_ console: CapturedConsole) throws -> LeadControl {
        let environment = try PipelineEnvironment(service: "leadctl-test",
                                                  environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PIPELINE_NAMESPACE": "watch"])
        var control = LeadControl(environment: environment, console: console.console)
        control.terminalColumns = { nil }  // the frames' rows by their newlines, whatever runs the tests
        return control
    }

    /// One partition of the first group that commits offsets, `lag` records behind.
    private func sample(_ control: LeadControl, lag: Int64) -> [String: [PartitionLag]] {
        guard let group = control.environment.topics.consumerGroups.first(where: \.commitsOffsets), let topic = group.topics.first else { return [:] }
        let partition = TopicPartition(topic: topic, partition: 0)
        return [group.id: [PartitionLag(partition: partition, committed: 100, watermarks: Watermarks(low: 0, high: 100 + lag))]]
    }

    /// Runs a watch whose sample `failing` fails and which is cancelled during its third; returns
    /// its status.
    private func watchThroughAFailure(_ control: LeadControl, isJSON: Bool, failing: Int = 2) async throws -> Int32 {
        let calls = Mutex(0)
        return try await control.lag(LagOptions(windowSeconds: 10, intervalSeconds: 0.01, isWatching: true, isJSON: isJSON)) {
            let call = calls.withLock { calls in
                calls += 1
                return calls
            }
            if call == failing { throw SampleFailure() }
            if call == 3 { withUnsafeCurrentTask { $0?.cancel() } }  // the watch ends after this sample's report
            return sample(control, lag: Int64(call))
        }
    }

    func testAFailedSampleIsReportedAndTheWatchGoesOn() async throws {
        let console = CapturedConsole()
        let status = try await watchThroughAFailure(try control(console), isJSON: true)
        XCTAssertEqual(status, LeadControl.success, console.error)
        let reports = console.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(reports.map { $0["samples"] as? Int }, [1, 2], "a report after the first and the third sample; the failed one is not counted")
        XCTAssertTrue(console.error.contains("sample 2 failed: listOffsets: _TRANSPORT (-195): broker gone"), console.error)
        XCTAssertTrue(console.error.contains("watching on"), console.error)
    }

    func testOnATerminalTheFailureIsALineOfTheFrame() async throws {
        let console = CapturedConsole()
        var control = try control(console)
        control.isTerminal = true
        let status = try await watchThroughAFailure(control, isJSON: false)
        XCTAssertEqual(status, LeadControl.success, console.error)
        XCTAssertEqual(console.error, "", "stderr would shift the frames a redraw moves up over")
        let frames = console.outputs
        XCTAssertEqual(frames.count, 3, "a frame after each sample, the failed one's included: \(frames)")
        guard frames.count == 3 else { return }
        XCTAssertTrue(frames[0].contains("total lag 1"), frames[0])
        // The second frame moves up over the first and shows the failure under the first's report.
        XCTAssertTrue(frames[1].hasPrefix("\u{1B}[\(lineCount(frames[0]))F\u{1B}[J"), frames[1])
        XCTAssertTrue(frames[1].contains("total lag 1"), frames[1])
        XCTAssertTrue(frames[1].hasSuffix("sample 2 failed: listOffsets: _TRANSPORT (-195): broker gone; watching on"), frames[1])
        // The third moves up over the whole second, its failure line included, and shows none.
        let second = String(frames[1].dropFirst("\u{1B}[\(lineCount(frames[0]))F\u{1B}[J".count))
        XCTAssertTrue(frames[2].hasPrefix("\u{1B}[\(lineCount(second))F\u{1B}[J"), frames[2])
        XCTAssertTrue(frames[2].contains("total lag 3"), frames[2])
        XCTAssertFalse(frames[2].contains("failed"), frames[2])
    }

    func testOnATerminalAFirstSampleThatFailsIsTheWholeFrame() async throws {
        let console = CapturedConsole()
        var control = try control(console)
        control.isTerminal = true
        let status = try await watchThroughAFailure(control, isJSON: false, failing: 1)
        XCTAssertEqual(status, LeadControl.success, console.error)
        let frames = console.outputs
        XCTAssertEqual(frames.first, "sample 1 failed: listOffsets: _TRANSPORT (-195): broker gone; watching on", "no report of no sample")
        XCTAssertEqual(frames.count, 3, "\(frames)")
        XCTAssertTrue(frames.dropFirst().first?.hasPrefix("\u{1B}[1F\u{1B}[J") == true, "the next frame moves up over the one line: \(frames)")
    }

    /// A line wider than the terminal wraps onto more rows, and the next frame moves up over all
    /// of them (a frame moving up by its newlines alone would leave the top of a wide one behind).
    func testARedrawMovesUpOverTheRowsAWideLineWrapsOnto() throws {
        let console = CapturedConsole()
        var control = try control(console)
        control.isTerminal = true
        control.terminalColumns = { 20 }
        var frame = LeadControl.Frame()
        frame.draw(String(repeating: "x", count: 45) + "\n" + String(repeating: "y", count: 20) + "\n", on: control)
        frame.draw("next", on: control)
        // 45 columns take 3 rows, exactly 20 take one, and the empty line after them one.
        XCTAssertEqual(console.outputs.last, "\u{1B}[5F\u{1B}[Jnext")
        control.terminalColumns = { nil }  // width unknown: rows by newlines
        var unknown = LeadControl.Frame()
        unknown.draw(String(repeating: "x", count: 45), on: control)
        unknown.draw("next", on: control)
        XCTAssertEqual(console.outputs.last, "\u{1B}[1F\u{1B}[Jnext")
    }

    private func lineCount(_ text: String) -> Int {
        text.split(separator: "\n", omittingEmptySubsequences: false).count
    }
}
