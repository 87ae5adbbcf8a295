import Foundation

/// Why the server answers a request itself, without routing it.
enum HTTPRequestRejection: Error, Hashable, Sendable {
    /// The request line is longer than ``HTTPServer/Limits/maxRequestLineBytes``.
    case requestLineIsTooLong(limit: Int)
    /// Request line and headers exceed ``HTTPServer/Limits/maxHeadBytes``.
    case headIsTooLarge(limit: Int)
    /// More header lines than ``HTTPServer/Limits/maxHeaderCount``.
    case hasTooManyHeaders(limit: Int)
    /// The request line or a header line is not HTTP/1.x.
    case headIsMalformed(String)
    /// `Content-Length` is not one decimal number that fits an `Int`.
    case contentLengthIsNotANumber
    /// The body would take the request past ``HTTPServer/Limits/maxRequestBytes``.
    case requestIsTooLarge(limit: Int)
    /// `Transfer-Encoding` (chunked) bodies are not read.
    case bodyIsNotSizedByContentLength
    /// The peer closed its side before the whole request arrived.
    case requestIsIncomplete
    /// The request was not complete within ``HTTPServer/Limits/requestTimeout``.
    case requestTimedOut
    /// Every connection slot is taken and this request is not a probe.
    case serverIsBusy

    /// The answer sent for it; the connection is closed after it.
    var response: HTTPResponse {
        switch self {
        case .requestLineIsTooLong(let limit): .text("request line longer than \(limit) bytes\n", status: 414)
        case .headIsTooLarge(let limit): .text("request head larger than \(limit) bytes\n", status: 431)
        case .hasTooManyHeaders(let limit): .text("more than \(limit) header lines\n", status: 431)
        case .headIsMalformed(let reason): .text("malformed request head: \(reason)\n", status: 400)
        case .contentLengthIsNotANumber: .text("bad Content-Length\n", status: 400)
        case .requestIsTooLarge(let limit): .text("request larger than \(limit) bytes\n", status: 413)
        case .bodyIsNotSizedByContentLength: .text("chunked bodies are not supported; send Content-Length\n", status: 411)
        case .requestIsIncomplete: .text("incomplete request\n", status: 400)
        case .requestTimedOut: .text("request not complete in time\n", status: 408)
        case .serverIsBusy: .text("too many connections\n", status: 503)
        }
    }
}

/// Reads one HTTP/1.1 request from bytes as they arrive, within ``HTTPServer/Limits``; no I/O.
///
/// A request is rejected as soon as it passes a limit, before the rest of it is read, and every
/// number in the head is parsed with overflow checks, so no input can trap.
struct HTTPRequestReader {
    /// What the bytes so far amount to.
    enum Progress: Sendable {
        /// The request is not complete yet.
        case needsMoreBytes
        /// A whole request (bytes after its body are ignored).
        case complete(HTTPRequest)
        /// A request the server answers itself (``HTTPRequestRejection/response``).
        case rejected(HTTPRequestRejection)
    }

    private struct Head {
        var method: String
        var target: String
        var headers: [String: String]
        var contentLength: Int
        /// The offset of the body's first byte.
        var bodyStart = 0
    }

    private let limits: HTTPServer.Limits
    private var buffer: [UInt8] = []
    /// Where the search for the head's end resumes (bytes before it hold no CRLFCRLF).
    private var scanned = 0
    private var requestLineEnd: Int?
    private var head: Head?

    /// Whether any byte of the request has arrived.
    var hasBytes: Bool { !buffer.isEmpty }

    init(limits: HTTPServer.Limits) {
        self.limits = limits
    }

    /// Adds bytes read from the connection.
    mutating func append(_ bytes: some Collection<UInt8>) -> Progress {
        buffer.append(contentsOf: bytes)
        if let head { return body(after: head) }
        let end = findHeadEnd()
        if let requestLineEnd, requestLineEnd > limits.maxRequestLineBytes {
            return .rejected(.requestLineIsTooLong(limit: limits.maxRequestLineBytes))
        }
        guard let end else {
            if requestLineEnd == nil, buffer.count > limits.maxRequestLineBytes {
                return .rejected(.requestLineIsTooLong(limit: limits.maxRequestLineBytes))
            }
            return buffer.count > limits.maxHeadBytes ? .rejected(.headIsTooLarge(limit: limits.maxHeadBytes)) : .needsMoreBytes
        }
        guard end <= limits.maxHeadBytes else { return .rejected(.headIsTooLarge(limit: limits.maxHeadBytes)) }
        do {
            var parsed = try Self.parseHead(buffer[..<end], limits: limits)
            parsed.bodyStart = end + 4
            // Compared, never added: a Content-Length near Int.max must not overflow.
            guard parsed.contentLength <= limits.maxRequestBytes - (end + 4) else {
                return .rejected(.requestIsTooLarge(limit: limits.maxRequestBytes))
            }
            head = parsed
            return body(after: parsed)
        } catch {
            return .rejected(error)
        }
    }

    /// The request once its body is complete.
    private func body(after head: Head) -> Progress {
        let bodyStart = head.bodyStart
        guard buffer.count - bodyStart >= head.contentLength else { return .needsMoreBytes }
        let body = Data(buffer[bodyStart..<(bodyStart + head.contentLength)])
        let components = URLComponents(string: head.target)
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let path = components?.percentEncodedPath.removingPercentEncoding ?? head.target
        return .complete(
            HTTPRequest(method: head.method, path: path, query: query, target: head.target, headers: head.headers, body: body))
    }

    /// The offset of the CRLFCRLF ending the head, searching only bytes not searched before.
    private mutating func findHeadEnd() -> Int? {
        while scanned + 1 < buffer.count {
            if buffer[scanned] == 13, buffer[scanned + 1] == 10 {
                if requestLineEnd == nil { requestLineEnd = scanned }
                // Too few bytes to tell whether a blank line follows: look here again next time.
                guard scanned + 3 < buffer.count else { return nil }
                if buffer[scanned + 2] == 13, buffer[scanned + 3] == 10 { return scanned }
            }
            scanned += 1
            // Nothing past the head limit can be part of an acceptable head.
            if scanned > limits.maxHeadBytes { return nil }
        }
        return nil
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>, limits: HTTPServer.Limits) throws(HTTPRequestRejection) -> Head {
        guard !bytes.contains(0), let text = String(bytes: bytes, encoding: .utf8) else {
            throw .headIsMalformed("not UTF-8 text without NUL")
        }
        var lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, let method = requestLine.first, !method.isEmpty,
            method.utf8.allSatisfy({ (65...90).contains($0) }), requestLine[1].hasPrefix("/"),
            requestLine[2] == "HTTP/1.1" || requestLine[2] == "HTTP/1.0"
        else { throw .headIsMalformed("request line is not 'METHOD /target HTTP/1.x'") }
        guard lines.count <= limits.maxHeaderCount else { throw .hasTooManyHeaders(limit: limits.maxHeaderCount) }

        var headers: [String: String] = [:]
        for line in lines {
            // A line starting with whitespace would continue the previous one (obsolete folding).
            guard let colon = line.firstIndex(of: ":"), let first = line.first, first != " ", first != "\t",
                !line.contains("\r"), !line.contains("\n")
            else { throw .headIsMalformed("header line without a name and a colon") }
            let name = line[..<colon]
            guard !name.contains(" "), !name.contains("\t") else { throw .headIsMalformed("whitespace in a header name") }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let key = name.lowercased()
            headers[key] = headers[key].map { "\($0), \(value)" } ?? value
        }
        if headers["transfer-encoding"] != nil { throw .bodyIsNotSizedByContentLength }
        // A repeated Content-Length arrives joined ("5, 5") and is not a number: rejected.
        let contentLength = try headers["content-length"].map { text throws(HTTPRequestRejection) in
            guard let length = decimal(text) else { throw .contentLengthIsNotANumber }
            return length
        } ?? 0
        return Head(method: String(method), target: String(requestLine[1]), headers: headers, contentLength: contentLength)
    }

    /// `text` as a non-negative decimal number: ASCII digits only (no sign, space or exponent),
    /// nil when it does not fit an `Int`.
    static func decimal(_ text: some StringProtocol) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard (48...57).contains(byte) else { return nil }
            let (shifted, shiftOverflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, sumOverflow) = shifted.addingReportingOverflow(Int(byte - 48))
            guard !shiftOverflow, !sumOverflow else { return nil }
            value = sum
        }
        return value
    }
}
