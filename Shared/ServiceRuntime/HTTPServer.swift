import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an ``HTTPServer`` could not start.
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    /// The socket call that failed (`socket`, `bind`, `listen`, ...).
    public let operation: String
    /// `errno` after the call.
    public let code: Int32

    /// `bind failed: Address already in use (errno 98)`.
    public var description: String { "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))" }
}

/// A minimal HTTP/1.1 server, for tests (stub providers) and for operational endpoints such as
/// `/metrics`, `/healthz` and `/readyz`.
///
/// - Binds `127.0.0.1` unless told another IPv4 address (`0.0.0.0` in a container), on the
///   given port or an ephemeral one (``port`` says which).
/// - One request per connection: every response carries `Connection: close` and the connection
///   is closed after it. No keep-alive, no chunked bodies, no TLS.
/// - Requests are bounded: header and body together at most ``maxRequestBytes`` (larger → 413);
///   a body needs `Content-Length` (chunked → 411); a client silent for ``readTimeoutSeconds``
///   is dropped.
/// - Accepting runs on a dispatch source; each connection is read and written on a global
///   dispatch queue (blocking socket calls never run on the Swift concurrency pool), and the
///   router runs as a Task, so it may `await` (e.g. sleep to simulate a slow upstream).
/// - ``stop()`` stops accepting new connections; connections already accepted are answered.
public final class HTTPServer: Sendable {
    /// Routes a request to its response.
    public typealias Router = @Sendable (HTTPRequest) async -> HTTPResponse

    /// Most bytes of one request (request line, headers and body): 64 KiB.
    public static let defaultMaxRequestBytes = 64 * 1024

    /// The port the server listens on (the ephemeral one when started with port 0).
    public let port: Int
    /// Larger requests are answered 413 unread.
    public let maxRequestBytes: Int
    /// A connection that sends nothing for this long is closed.
    public let readTimeoutSeconds: Int

    // Dispatch sources are thread-safe; the type just is not marked Sendable.
    nonisolated(unsafe) private let acceptSource: any DispatchSourceRead
    private let isStopped = Mutex(false)

    /// The base URL for clients: `http://127.0.0.1:<port>`.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Binds `host:port` (port 0: an ephemeral port) and starts accepting.
    /// - Throws: ``HTTPServerError`` when `host` is not an IPv4 address or the socket cannot be
    ///   created, bound or listened on.
    public init(
        host: String = "127.0.0.1", port: Int = 0, maxRequestBytes: Int = HTTPServer.defaultMaxRequestBytes,
        readTimeoutSeconds: Int = 10, router: @escaping Router
    ) throws {
        var hostAddress = in_addr()
        guard inet_pton(AF_INET, host, &hostAddress) == 1 else { throw HTTPServerError(operation: "inet_pton \(host)", code: EINVAL) }
        let fd = socket(AF_INET, Int32(Self.streamType), 0)
        guard fd >= 0 else { throw HTTPServerError(operation: "socket", code: errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = hostAddress
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw HTTPServerError(operation: "bind", code: code)
        }
        guard listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw HTTPServerError(operation: "listen", code: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        // Non-blocking, so the accept loop below drains the backlog and returns.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)

        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.maxRequestBytes = maxRequestBytes
        self.readTimeoutSeconds = readTimeoutSeconds

        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: DispatchQueue(label: "http-server.accept"))
        let limits = Connection.Limits(maxRequestBytes: maxRequestBytes, readTimeoutSeconds: readTimeoutSeconds)
        source.setEventHandler {
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }  // EAGAIN: backlog drained
                DispatchQueue.global().async { Connection(fd: client, limits: limits, router: router).serve() }
            }
        }
        // The listening socket is closed only once the source is cancelled: no event handler
        // can run on a closed (or reused) descriptor.
        source.setCancelHandler { close(fd) }
        source.resume()
        acceptSource = source
    }

    deinit { stop() }

    /// Stops accepting connections and closes the listening socket. Idempotent.
    public func stop() {
        let wasStopped = isStopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        if !wasStopped { acceptSource.cancel() }
    }

    #if canImport(Glibc)
    private static let streamType = SOCK_STREAM.rawValue
    #else
    private static let streamType = SOCK_STREAM
    #endif
}

/// One accepted connection: read one request, route it, write the response, close.
private struct Connection: Sendable {
    struct Limits: Sendable {
        let maxRequestBytes: Int
        let readTimeoutSeconds: Int
    }

    let fd: Int32
    let limits: Limits
    let router: HTTPServer.Router

    /// Runs on a dispatch thread; owns `fd` and closes it (after the response when routed).
    func serve() {
        // Accepted sockets may inherit O_NONBLOCK (BSD); reads here block with a timeout.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var timeout = timeval(tv_sec: .init(limits.readTimeoutSeconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #if canImport(Darwin)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
        #endif

        switch readRequest() {
        case .request(let request):
            let fd = self.fd
            let router = self.router
            Task {
                let response = await router(request)
                DispatchQueue.global().async {
                    Connection.write(response, to: fd)
                    close(fd)
                }
            }
        case .reject(let response):
            Connection.write(response, to: fd)
            close(fd)
        case .closed:
            close(fd)
        }
    }

    enum ReadOutcome {
        case request(HTTPRequest)
        case reject(HTTPResponse)
        case closed
    }

    private func readRequest() -> ReadOutcome {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 8192)
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        var expectedTotal: Int?
        var head: (method: String, target: String, headers: [String: String])?

        while true {
            if let expectedTotal, buffer.count >= expectedTotal { break }
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received <= 0 {
                // Peer closed or timed out before a whole request arrived.
                return headerEnd == nil && buffer.isEmpty ? .closed : .reject(.text("incomplete request\n", status: 400))
            }
            buffer.append(contentsOf: chunk[0..<received])
            if buffer.count > limits.maxRequestBytes {
                return .reject(.text("request larger than \(limits.maxRequestBytes) bytes\n", status: 413))
            }
            if headerEnd == nil, let end = Self.find(separator, in: buffer) {
                headerEnd = end
                guard let parsed = Self.parseHead(buffer[0..<end]) else {
                    return .reject(.text("malformed request head\n", status: 400))
                }
                head = parsed
                if parsed.headers["transfer-encoding"] != nil {
                    return .reject(.text("chunked bodies are not supported; send Content-Length\n", status: 411))
                }
                let length = parsed.headers["content-length"].map { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
                guard let length, length >= 0 else { return .reject(.text("bad Content-Length\n", status: 400)) }
                expectedTotal = end + 4 + length
                if expectedTotal! > limits.maxRequestBytes {
                    return .reject(.text("request larger than \(limits.maxRequestBytes) bytes\n", status: 413))
                }
            }
        }
        guard let head, let headerEnd, let expectedTotal else { return .closed }
        let body = Data(buffer[(headerEnd + 4)..<expectedTotal])
        let components = URLComponents(string: head.target)
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let path = components?.percentEncodedPath.removingPercentEncoding ?? head.target
        return .request(
            HTTPRequest(method: head.method, path: path, query: query, target: head.target, headers: head.headers, body: body))
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>) -> (method: String, target: String, headers: [String: String])? {
        guard let text = String(bytes: bytes, encoding: .utf8) else { return nil }
        var lines = text.components(separatedBy: "\r\n")
        guard !lines.isEmpty else { return nil }
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: true)
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1."), requestLine[1].hasPrefix("/") else { return nil }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        return (String(requestLine[0]), String(requestLine[1]), headers)
    }

    /// Writes the whole response; a peer that went away is ignored (never SIGPIPE).
    static func write(_ response: HTTPResponse, to fd: Int32) {
        let bytes = response.serialized()
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes { pointer -> Int in
                #if canImport(Glibc)
                return send(fd, pointer.baseAddress, pointer.count, Int32(MSG_NOSIGNAL))
                #else
                return send(fd, pointer.baseAddress, pointer.count, 0)
                #endif
            }
            if result <= 0 { return }
            sent += result
        }
    }
}
