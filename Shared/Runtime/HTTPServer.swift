import Foundation

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
/// `/metrics`, `/healthz` and `/readyz`, that no client can knock over.
///
/// - Binds `127.0.0.1` unless told another IPv4 address (`0.0.0.0` in a container), on the
///   given port or an ephemeral one (``port`` says which).
/// - One request per connection: every response carries `Connection: close` and the connection
///   is closed after it. No keep-alive, no chunked bodies (411), no TLS.
/// - One thread serves every connection with `poll(2)` on non-blocking sockets, so no client
///   makes it start a thread and blocking socket calls never run on the Swift concurrency pool.
///   The router runs as a Task, so it may `await` (e.g. sleep to simulate a slow upstream).
/// - Bounded by ``Limits``: a request must be complete, head and body, within
///   ``Limits/requestTimeout`` of being accepted (408); request line, head, header count and
///   size are capped (414, 431, 413); `Content-Length` is parsed with overflow checks (400).
/// - At most ``Limits/maxConnections`` connections are served; one more is answered 503 and
///   closed at once, unless it is a probe.
/// - Probes go ahead of the cap: when every slot is taken, up to
///   ``Limits/reservedConnections`` further connections are read, and a `GET` of one of
///   `probePaths` among them is routed while anything else is answered 503. When the reserve is
///   full too, its oldest connection still waiting for its request is closed to make room, so
///   idle or slow connections, however many, cannot keep a probe out.
/// - ``stop()`` stops accepting new connections; connections already accepted are answered.
public final class HTTPServer: Sendable {
    /// Routes a request to its response.
    public typealias Router = @Sendable (HTTPRequest) async -> HTTPResponse

    /// What one client may take of the server.
    public struct Limits: Sendable, Hashable {
        /// Connections served at once; one more is answered 503 (or taken into the probe reserve).
        public var maxConnections: Int
        /// Connections beyond ``maxConnections`` read only to answer probes; 0 turns probes ahead
        /// of the cap off.
        public var reservedConnections: Int
        /// From accepting a connection to the last byte of its request; also the most time
        /// writing the response may take.
        public var requestTimeout: Duration
        /// Longest request line (`GET /path HTTP/1.1`) without its CRLF; longer → 414.
        public var maxRequestLineBytes: Int
        /// Longest head (request line and headers); longer → 431.
        public var maxHeadBytes: Int
        /// Most header lines; more → 431.
        public var maxHeaderCount: Int
        /// Most bytes of one request, head and body; larger → 413, before the body is read.
        public var maxRequestBytes: Int

        /// Limits for a stub or an operational endpoint; each can be set.
        public init(
            maxConnections: Int = 256, reservedConnections: Int = 16, requestTimeout: Duration = .seconds(10),
            maxRequestLineBytes: Int = 8 * 1024, maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100,
            maxRequestBytes: Int = 64 * 1024
        ) {
            self.maxConnections = maxConnections
            self.reservedConnections = reservedConnections
            self.requestTimeout = requestTimeout
            self.maxRequestLineBytes = maxRequestLineBytes
            self.maxHeadBytes = maxHeadBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxRequestBytes = maxRequestBytes
        }
    }

    /// The port the server listens on (the ephemeral one when started with port 0).
    public let port: Int
    /// The limits it serves within.
    public let limits: Limits
    private let inbox: HTTPLoopInbox

    /// The base URL for clients: `http://127.0.0.1:<port>`.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Binds `host:port` (port 0: an ephemeral port) and starts serving on a thread of its own.
    /// - Parameter probePaths: paths whose `GET` is answered even when every connection slot
    ///   is taken (see ``Limits/reservedConnections``).
    /// - Throws: ``HTTPServerError`` when `host` is not an IPv4 address or the socket cannot be
    ///   created, bound or listened on.
    public init(
        host: String = "127.0.0.1", port: Int = 0, limits: Limits = Limits(), probePaths: Set<String> = [],
        router: @escaping Router
    ) throws {
        precondition(limits.maxConnections > 0 && limits.reservedConnections >= 0 && limits.requestTimeout > .zero,
                     "HTTPServer.Limits: maxConnections > 0, reservedConnections >= 0, requestTimeout > 0")
        let fd = try Self.makeListeningSocket(host: host, port: port)
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let inbox: HTTPLoopInbox
        do {
            inbox = try HTTPLoopInbox()
        } catch {
            close(fd)
            throw error
        }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.limits = limits
        self.inbox = inbox
        // The loop owns the listening socket from here and closes it on stop().
        let name = "http-\(self.port)"  // at most 15 bytes, as Linux keeps them
        let thread = Thread {
            nameCurrentThread(name)
            var loop = HTTPConnectionLoop(listener: fd, limits: limits, probePaths: probePaths, router: router, inbox: inbox)
            loop.run()
        }
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting connections and returns once the listening socket is closed (at most one
    /// turn of the server's loop); connections already accepted are still answered. Idempotent.
    public func stop() {
        inbox.stop()
    }

    private static func makeListeningSocket(host: String, port: Int) throws -> Int32 {
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
        guard listen(fd, 512) == 0 else {
            let code = errno
            close(fd)
            throw HTTPServerError(operation: "listen", code: code)
        }
        // Non-blocking, so the loop's accepts drain the backlog and return.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    #if canImport(Glibc)
    private static let streamType = SOCK_STREAM.rawValue
    #else
    private static let streamType = SOCK_STREAM
    #endif
}
