import Foundation

/// The status line and headers of an HTTP/1.x response.
struct HTTPResponseHead: Sendable, Equatable {
    /// The status code.
    var status: Int
    /// Header names (lower-cased) and values, in the order received.
    var headers: [HTTPHeaderField]

    /// The first value of header `name` (lower-case).
    func value(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// How long its `Retry-After` asks to wait, from `now`: seconds, or an HTTP date (zero once
    /// past); nil without one, or one that is neither.
    func retryAfter(now: Date) -> Duration? {
        guard let text = value("retry-after")?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Int64(text) { return seconds >= 0 ? .seconds(seconds) : nil }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = format.date(from: text) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
    }
}

/// One response header, its name lower-cased.
struct HTTPHeaderField: Sendable, Equatable {
    var name: String
    var value: String
}

/// Reads one HTTP/1.1 response from bytes pulled as they arrive, within bounds: the head is at
/// most 64 KiB, a body larger than its limit fails with ``WebFetchError/tooLarge(limit:)``
/// before it is read (`Content-Length`) or as soon as it grows past it (chunked, or delimited by
/// the end of the connection). A response that breaks HTTP/1.1 or those bounds fails with
/// ``WebFetchError/badResponse(_:)``; a connection that closes before the end of the response
/// with ``WebFetchError/network(_:)``. Pure apart from `pull`, so tests feed it bytes.
struct HTTPResponseReader {
    /// The next bytes from the connection; empty once it has closed.
    typealias Pull = () throws(WebFetchError) -> [UInt8]

    private static let maxHeadBytes = 64 * 1024
    /// Interim (1xx) heads skipped before a final one; a server sending more never answers.
    private static let maxInterimHeads = 16
    private let pull: Pull
    private var buffer: [UInt8] = []
    private var isClosed = false

    /// A reader of the bytes `pull` returns.
    init(pull: @escaping Pull) {
        self.pull = pull
    }

    /// The next final head, after any interim 1xx heads.
    mutating func readHead() throws(WebFetchError) -> HTTPResponseHead {
        for _ in 0...Self.maxInterimHeads {
            let head = try readOneHead()
            if !(100..<200).contains(head.status) { return head }
        }
        throw .badResponse("more than \(Self.maxInterimHeads) interim (1xx) heads")
    }

    /// The body of the response whose head is `head`, at most `limit` bytes.
    mutating func readBody(of head: HTTPResponseHead, limit: Int) throws(WebFetchError) -> [UInt8] {
        if let coding = head.value("transfer-encoding"), coding.lowercased().contains("chunked") {
            return try readChunkedBody(limit: limit)
        }
        if let text = head.value("content-length") {
            guard let length = Int(text.trimmingCharacters(in: .whitespaces)), length >= 0 else {
                throw .badResponse("invalid Content-Length \(text)")
            }
            if length > limit { throw .tooLarge(limit: limit) }
            return try readExactly(length)
        }
        while !isClosed {
            if buffer.count > limit { throw .tooLarge(limit: limit) }
            try fill()
        }
        if buffer.count > limit { throw .tooLarge(limit: limit) }
        defer { buffer.removeAll() }
        return buffer
    }

    private mutating func readOneHead() throws(WebFetchError) -> HTTPResponseHead {
        var lines: [String] = []
        var headBytes = 0
        while true {
            let line = try readLine(limit: Self.maxHeadBytes)
            if line.isEmpty { break }
            lines.append(line)
            headBytes += line.utf8.count + 2
            if headBytes > Self.maxHeadBytes { throw .badResponse("response head larger than 64 KiB") }
        }
        guard let statusLine = lines.first else { throw .badResponse("empty response head") }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw .badResponse("not an HTTP/1.x response: \(statusLine.prefix(80))")
        }
        let headers = lines.dropFirst().compactMap { line -> HTTPHeaderField? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return HTTPHeaderField(name: line[..<colon].trimmingCharacters(in: .whitespaces).lowercased(),
                                   value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return HTTPResponseHead(status: status, headers: headers)
    }

    private mutating func readChunkedBody(limit: Int) throws(WebFetchError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let sizeLine = try readLine(limit: 1024)
            let sizeText = sizeLine.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else { throw .badResponse("invalid chunk size \(sizeLine.prefix(40))") }
            if size == 0 { break }
            if size > limit - body.count { throw .tooLarge(limit: limit) }
            body += try readExactly(size)
            guard try readLine(limit: 2).isEmpty else { throw .badResponse("chunk not followed by CRLF") }
        }
        // Trailer fields, if any, up to the empty line; a connection closed instead ends them too.
        var trailerBytes = 0
        while case let line = try readLine(limit: Self.maxHeadBytes, endsAtClose: true), !line.isEmpty {
            trailerBytes += line.utf8.count + 2
            if trailerBytes > Self.maxHeadBytes { throw .badResponse("response trailer larger than 64 KiB") }
        }
        return body
    }

    /// The next line without its line break (CRLF or LF).
    private mutating func readLine(limit: Int, endsAtClose: Bool = false) throws(WebFetchError) -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = buffer[..<newline]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                buffer.removeSubrange(...newline)
                return String(decoding: line, as: UTF8.self)
            }
            if buffer.count > limit { throw .badResponse("response line longer than \(limit) bytes") }
            if isClosed {
                if endsAtClose { return "" }
                throw .network("connection closed before the response was complete")
            }
            try fill()
        }
    }

    private mutating func readExactly(_ count: Int) throws(WebFetchError) -> [UInt8] {
        while buffer.count < count {
            if isClosed { throw .network("connection closed before the response was complete") }
            try fill()
        }
        defer { buffer.removeSubrange(..<count) }
        return Array(buffer[..<count])
    }

    private mutating func fill() throws(WebFetchError) {
        let bytes = try pull()
        if bytes.isEmpty { isClosed = true } else { buffer += bytes }
    }
}
