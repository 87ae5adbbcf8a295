import Foundation
import LeadControl
import LeadModel
import XCTest

/// A lead file read in blocks as it comes: the same lines as the whole text parsed at once,
/// wherever the reads end, and a line too long to hold skipped instead of filling memory.
final class LeadFileReaderTests: XCTestCase {
    let now = Samples.now

    /// Every line `LeadFileReader` gives for `text` read `chunk` bytes at a time.
    private func streamed(_ text: String, format: LeadFileFormat, chunk: Int, maxLineBytes: Int = 1 << 20) throws -> [LeadLine] {
        let bytes = Array(text.utf8)
        var offset = 0
        var reader = LeadFileReader(format: format, now: now, chunkBytes: chunk, maxLineBytes: maxLineBytes) {
            defer { offset = min(bytes.count, offset + chunk) }
            return Array(bytes[offset..<min(bytes.count, offset + chunk)])
        }
        var lines: [LeadLine] = []
        while let block = try reader.next() { lines += block }
        return lines
    }

    private func outcome(_ body: () throws -> [LeadLine]) -> String {
        do {
            return try body().map { "\($0.lineNumber)|\($0.key ?? "-")|\($0.raw)|\($0.lead?.leadID.rawValue ?? $0.error?.reason ?? "")" }
                .joined(separator: "\n")
        } catch {
            return "error: \(error)"
        }
    }

    func testEveryChunkSizeGivesTheLinesOfTheWholeText() throws {
        let samples = Samples.projectRoot.appendingPathComponent("docs/samples")
        let jsonl = try String(contentsOf: samples.appendingPathComponent("leads.jsonl"), encoding: .utf8)
        let csv = try String(contentsOf: samples.appendingPathComponent("leads.csv"), encoding: .utf8)
        let header = "lead_id,account_id,offer_id,search_id,name,linkedin_url"
        let cases: [(String, LeadFileFormat)] = [
            (jsonl, .jsonl),
            (jsonl.replacingOccurrences(of: "\n", with: "\r\n"), .jsonl),
            ("\n\n" + jsonl + "\n{\"leadID\": \"broken\n[1]\n   \n", .jsonl),
            ("{\"leadID\":\"é\",\"name\":\"Zoë\"}", .jsonl),
            (csv, .csv),
            (csv.replacingOccurrences(of: "\n", with: "\r\n"), .csv),
            ("\u{FEFF}\(header)\nq1,a,o,s,\"Doe,\nJane\",linkedin.com/in/jd\n\nq2,a,o,s,\"Ito \"\"K\"\"\",linkedin.com/in/ki\nq3,a,o,s,O\"Neil,linkedin.com/in/on", .csv),
            ("\n\n\(header)\nq1,a,o,s,\"one\ntwo\nthree\",linkedin.com/in/x\nq2,a,o,s", .csv),
            ("", .csv),
            ("\(header)\nq1,a,o,s,\"open\nq2,a,o,s,B,linkedin.com/in/b\n", .csv),
            ("lead_id,account_id,nope\nq1,a,o\n", .csv),
        ]
        for (text, format) in cases {
            let whole = outcome { try LeadFileParser.parse(text, format: format, now: now) }
            for chunk in [1, 2, 3, 5, 8, 13, 64, 1 << 20] {
                XCTAssertEqual(outcome { try streamed(text, format: format, chunk: chunk) }, whole,
                               "\(format) read \(chunk) bytes at a time: \(text.prefix(40).debugDescription)")
            }
        }
    }

    func testALineLongerThanTheBoundIsSkippedWithItsNumberAndTheRestRead() throws {
        let good = #"{"leadID":"l1","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"A","xURL":"x.com/abc"}"#
        let long = #"{"leadID":"long","name":""# + String(repeating: "x", count: 5_000) + "\"}"
        let text = [good, long, good.replacingOccurrences(of: "l1", with: "l3")].joined(separator: "\n")
        for chunk in [7, 100, 4_096] {
            let lines = try streamed(text, format: .jsonl, chunk: chunk, maxLineBytes: 1_000)
            XCTAssertEqual(lines.map(\.lineNumber), [1, 2, 3], "chunk \(chunk)")
            XCTAssertEqual(lines.map { $0.lead?.leadID.rawValue }, ["l1", nil, "l3"])
            XCTAssertEqual(lines[1].error?.reason, "longer than 1000 bytes; not read")
            XCTAssertLessThanOrEqual(lines[1].raw.utf8.count, 200, "the raw text kept is a prefix, not the whole line")
        }
        // A CSV row cannot be skipped: where it ends is not known (an unclosed quote?).
        let csv = "lead_id,account_id,offer_id,search_id,name\nq1,a,o,s,\"" + String(repeating: "y\n", count: 2_000)
        XCTAssertEqual(outcome { try streamed(csv, format: .csv, chunk: 64, maxLineBytes: 1_000) },
                       "error: line 2: a row longer than 1000 bytes (a quoted field not closed?)")
    }

    func testAJSONLineThatIsNotUTF8IsAnInvalidLine() throws {
        var bytes = Array(#"{"leadID":"l1","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"A","xURL":"x.com/abc"}"#.utf8)
        bytes += [10, 0xFF, 0xFE, 10] + bytes
        var offset = 0
        var reader = LeadFileReader(format: .jsonl, now: now, chunkBytes: 16, maxLineBytes: 1 << 20) {
            defer { offset = min(bytes.count, offset + 16) }
            return Array(bytes[offset..<min(bytes.count, offset + 16)])
        }
        var lines: [LeadLine] = []
        while let block = try reader.next() { lines += block }
        XCTAssertEqual(lines.map(\.lineNumber), [1, 2, 3])
        XCTAssertEqual(lines[1].error?.reason, "not UTF-8 text")
        XCTAssertNotNil(lines[2].lead)
    }

    /// Lines whose raw text is not the line (too long: a prefix; not UTF-8: repaired) cannot be
    /// published as they are; a CSV block that is not UTF-8 names the line with the bad bytes.
    func testLinesNotKeptWholeAreMarkedAndABadCSVLineIsNamed() throws {
        let long = #"{"leadID":"long","name":""# + String(repeating: "x", count: 5_000) + "\"}"
        let lines = try streamed(long + "\n" + #"{"leadID":"ok"}"#, format: .jsonl, chunk: 64, maxLineBytes: 1_000)
        XCTAssertEqual(lines.map(\.isWhole), [false, true])

        var bytes = Array("lead_id,account_id,offer_id,search_id,name\nq1,a,o,s,A\nq2,a,o,s,B\nq3,a,o,s,".utf8) + [0xFF] + Array("\n".utf8)
        var offset = 0
        var reader = LeadFileReader(format: .csv, now: now, chunkBytes: 1 << 20, maxLineBytes: 1 << 20) {
            defer { offset = bytes.count }
            return Array(bytes[offset...])
        }
        XCTAssertEqual(try reader.next()?.map(\.key), ["q1", "q2"], "the rows before it first")
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertEqual("\(error)", "line 4: not UTF-8 text")
        }
        bytes = []
    }

    /// The rows read before a CSV line that is not UTF-8 (or a row too long) are given before the
    /// error, so what was read before the problem goes out (found by a review: the whole block was
    /// dropped with the error).
    func testTheRowsBeforeABadCSVLineAreGivenBeforeTheError() {
        var bytes = Array("lead_id,account_id,offer_id,search_id,name,x_url\n".utf8)
        for index in 1...3 { bytes += Array("a\(index),a,o,s,Jane Doe,https://x.com/jane\(index)\n".utf8) }
        bytes += Array("a4,a,o,s,Ken".utf8) + [0xFF] + Array(",https://x.com/ken\n".utf8)
        for chunk in [7, 1 << 20] {
            var offset = 0
            var reader = LeadFileReader(format: .csv, now: now, chunkBytes: chunk, maxLineBytes: 1 << 20) {
                defer { offset = min(bytes.count, offset + chunk) }
                return Array(bytes[offset..<min(bytes.count, offset + chunk)])
            }
            var leads: [String] = []
            var failure: String?
            do {
                while let block = try reader.next() { leads += block.compactMap { $0.lead?.leadID.rawValue } }
            } catch {
                failure = "\(error)"
            }
            XCTAssertEqual(leads, ["a1", "a2", "a3"], "chunk \(chunk)")
            XCTAssertEqual(failure, "line 5: not UTF-8 text", "chunk \(chunk)")
        }
    }

    /// A CRLF line of exactly the bound is read whichever way the reads fall.
    func testACRLFLineAtTheBoundIsReadWhereverAReadEnds() throws {
        let line = #"{"leadID":"l1","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"A","xURL":"x.com/abc"}"#
        let text = line + "\r\n" + line + "\r\n"
        for chunk in [line.utf8.count + 1, line.utf8.count + 2, 4_096] {
            let lines = try streamed(text, format: .jsonl, chunk: chunk, maxLineBytes: line.utf8.count)
            XCTAssertEqual(lines.map { $0.lead != nil }, [true, true], "chunk \(chunk)")
        }
    }

    /// With --publish-invalid, a line that cannot be published as it is (not UTF-8) is skipped:
    /// not counted as published, and the exit status says so (found by a review).
    func testALineNotKeptWholeIsSkippedEvenWithPublishInvalid() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-whole-\(UUID().uuidString).jsonl")
        try Data(Array("{\"leadID\":\"a\",\"name\":\"".utf8) + [0xFF, 0xFE] + Array("\"}\n".utf8)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let captured = CapturedConsole()
        // Nothing is sent, so no broker is needed (the producer is made at the first send).
        let status = await LeadControl.main(arguments: ["publish", "--file", file.path, "--publish-invalid"],
                                            environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"], console: captured.console)
        XCTAssertEqual(status, LeadControl.failure)
        XCTAssertFalse(captured.output.contains("as is"), captured.output)
        XCTAssertTrue(captured.output.contains("skipped 1 line not kept whole"), captured.output)
    }
}
