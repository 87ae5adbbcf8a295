@testable import Enrichment
import XCTest

final class HTTPResponseReaderTests: XCTestCase {
    /// A reader of `text`, handed over `size` bytes at a time.
    private func reader(_ text: String, size: Int = 3) -> HTTPResponseReader {
        var bytes = Array(text.utf8)[...]
        return HTTPResponseReader { () throws(WebFetchError) in
            defer { bytes = bytes.dropFirst(size) }
            return Array(bytes.prefix(size))
        }
    }

    func testInterimHeadsAreSkippedAndHeadersLowerCased() throws {
        var reader = reader("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello")
        let head = try reader.readHead()
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.value("content-type"), "text/html")
        XCTAssertEqual(try reader.readBody(of: head, limit: 100), Array("hello".utf8))
    }

    /// Retry-After in seconds or as an HTTP date, from the time the answer came; nothing else.
    func testRetryAfterIsReadInSecondsOrAsADate() {
        let now = Date(timeIntervalSince1970: 1_750_000_000)  // 2025-06-15T15:06:40Z
        func head(_ value: String) -> HTTPResponseHead {
            HTTPResponseHead(status: 429, headers: [HTTPHeaderField(name: "retry-after", value: value)])
        }
        XCTAssertEqual(head("3").retryAfter(now: now), .seconds(3))
        XCTAssertEqual(head("Sun, 15 Jun 2025 15:06:45 GMT").retryAfter(now: now), .seconds(5))
        XCTAssertEqual(head("Sun, 15 Jun 2025 15:00:00 GMT").retryAfter(now: now), .zero, "a date past")
        XCTAssertNil(head("-1").retryAfter(now: now))
        XCTAssertNil(head("soon").retryAfter(now: now))
        XCTAssertNil(HTTPResponseHead(status: 429, headers: []).retryAfter(now: now))
    }

    func testChunkedBodiesAreJoinedAndBounded() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n6\r\nefghij\r\n0\r\nX-Trailer: 1\r\n\r\n"
        var whole = reader(text)
        XCTAssertEqual(try whole.readBody(of: try whole.readHead(), limit: 10), Array("abcdefghij".utf8))
        var bounded = reader(text)
        XCTAssertThrowsError(try bounded.readBody(of: try bounded.readHead(), limit: 9)) {
            XCTAssertEqual($0 as? WebFetchError, .tooLarge(limit: 9))
        }
    }

    func testLengthAndCloseDelimitedBodiesAreBounded() throws {
        var declared = reader("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n")
        XCTAssertThrowsError(try declared.readBody(of: try declared.readHead(), limit: 1000)) {
            XCTAssertEqual($0 as? WebFetchError, .tooLarge(limit: 1000))
        }
        var untilClose = reader("HTTP/1.0 200 OK\r\n\r\n" + String(repeating: "x", count: 50), size: 7)
        let head = try untilClose.readHead()
        XCTAssertThrowsError(try untilClose.readBody(of: head, limit: 49))
        var fits = reader("HTTP/1.0 200 OK\r\n\r\n" + String(repeating: "x", count: 50), size: 7)
        XCTAssertEqual(try fits.readBody(of: try fits.readHead(), limit: 50).count, 50)
    }

    func testAHeadPastItsBoundFails() {
        var reader = reader("HTTP/1.1 200 OK\r\n" + String(repeating: "a\r\n", count: 30_000) + "\r\n", size: 4096)
        XCTAssertThrowsError(try reader.readHead()) {
            XCTAssertEqual($0 as? WebFetchError, .badResponse("response head larger than 64 KiB"))
        }
    }

    /// A server that keeps sending interim heads, or trailer lines, never ends the response: the
    /// reader gives up after a bound instead of reading for as long as the bytes come (they can
    /// come fast enough that the fetch's deadline, checked only when a read would wait, never is).
    func testEndlessInterimHeadsAndTrailersFail() {
        func endless(_ start: String, _ repeated: String, then end: String) -> HTTPResponseReader {
            var sent = 0
            return HTTPResponseReader { () throws(WebFetchError) in
                sent += 1
                return Array((sent == 1 ? start : sent < 50_000 ? repeated : end).utf8)
            }
        }
        var interim = endless("HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\n", then: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        XCTAssertThrowsError(try interim.readHead()) {
            XCTAssertEqual($0 as? WebFetchError, .badResponse("more than 16 interim (1xx) heads"))
        }
        var trailers = endless("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n", "X-More: yes\r\n", then: "\r\n")
        XCTAssertThrowsError(try trailers.readBody(of: try trailers.readHead(), limit: 100)) {
            XCTAssertEqual($0 as? WebFetchError, .badResponse("response trailer larger than 64 KiB"))
        }
    }

    func testTruncatedAndMalformedResponsesFail() {
        for text in ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-"] {
            var reader = reader(text)
            XCTAssertThrowsError(try reader.readBody(of: try reader.readHead(), limit: 100), text)
        }
    }
}
