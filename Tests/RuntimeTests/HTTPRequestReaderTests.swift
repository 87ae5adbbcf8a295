import Foundation
@testable import Runtime
import XCTest


/// The request reader as pure logic: bytes in, a request or a rejection out.
final class HTTPRequestReaderTests: XCTestCase {
    func testDecimalNumbersAreDigitsOnlyAndNeverOverflow() {
        XCTAssertEqual(HTTPRequestReader.decimal("0"), 0)
        XCTAssertEqual(HTTPRequestReader.decimal("0042"), 42)
        XCTAssertEqual(HTTPRequestReader.decimal("9223372036854775807"), Int.max)
        for text in ["9223372036854775808", "18446744073709551616", "99999999999999999999999", "", "-1", "+1", " 1", "1 ",
                     "1e3", "0x10", "1.0", "\u{0661}"] {
            XCTAssertNil(HTTPRequestReader.decimal(text), text)
        }
    }

    func testARequestFedOneByteAtATimeIsTheSameRequest() throws {
        let text = "POST /a%20b?q=x%20y HTTP/1.1\r\nHost: h\r\nX-Test: one\r\nx-test: two\r\nContent-Length: 5\r\n\r\nhelloEXTRA"
        var reader = HTTPRequestReader(limits: HTTPServer.Limits())
        var outcome: HTTPRequestReader.Progress = .needsMoreBytes
        for (index, byte) in text.utf8.enumerated() {
            outcome = reader.append([byte])
            guard case .needsMoreBytes = outcome else {
                XCTAssertEqual(index, text.utf8.count - "EXTRA".utf8.count - 1, "complete at the body's last byte")
                break
            }
        }
        guard case .complete(let request) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.path, "/a b")
        XCTAssertEqual(request.query, ["q": "x y"])
        XCTAssertEqual(request.header("X-TEST"), "one, two")
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self), "hello")
    }

    func testRejectionsSayWhy() {
        let limits = HTTPServer.Limits(maxRequestLineBytes: 64, maxHeadBytes: 256, maxHeaderCount: 3, maxRequestBytes: 512)
        let cases: [(String, HTTPRequestRejection)] = [
            ("GET /\(String(repeating: "a", count: 70)) HTTP/1.1\r\n\r\n", .requestLineIsTooLong(limit: 64)),
            ("GET /" + String(repeating: "a", count: 70), .requestLineIsTooLong(limit: 64)),
            ("GET / HTTP/1.1\r\nX: \(String(repeating: "p", count: 300))", .headIsTooLarge(limit: 256)),
            ("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", .hasTooManyHeaders(limit: 3)),
            ("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", .requestIsTooLarge(limit: 512)),
            ("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", .contentLengthIsNotANumber),
            ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", .contentLengthIsNotANumber),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", .bodyIsNotSizedByContentLength),
            ("GET / HTTP/2.0\r\n\r\n", .headIsMalformed("request line is not 'METHOD /target HTTP/1.x'")),
            ("GET / HTTP/1.1\r\nX: 1\r\n folded\r\n\r\n", .headIsMalformed("header line without a name and a colon")),
            ("GET / HTTP/1.1\r\nX : 1\r\n\r\n", .headIsMalformed("whitespace in a header name")),
        ]
        for (text, expected) in cases {
            var reader = HTTPRequestReader(limits: limits)
            guard case .rejected(let rejection) = reader.append(Array(text.utf8)) else {
                XCTFail("accepted or waiting: \(text.prefix(60))")
                continue
            }
            XCTAssertEqual(rejection, expected, String(text.prefix(60)))
        }
    }
}
