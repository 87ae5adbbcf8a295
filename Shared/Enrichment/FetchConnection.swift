import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of one request and its response: a TCP socket, or TLS over one.
protocol FetchTransport: AnyObject {
    /// Sends all of `bytes`.
    func write(_ bytes: [UInt8]) throws(WebFetchError)
    /// Up to `maximum` bytes as they arrive; empty once the peer has closed.
    func read(maximum: Int) throws(WebFetchError) -> [UInt8]
}

/// The end of one fetch (its timeout, redirects included) and whether it was cancelled. Every
/// wait on the fetch's sockets is bounded by it, in slices short enough to see a cancellation.
final class FetchDeadline: Sendable {
    private let end: ContinuousClock.Instant
    private let isCancelled = Atomic<Bool>(false)

    /// A deadline `seconds` from now.
    init(seconds: Double) {
        end = .now + .milliseconds(Int64(seconds * 1000))
    }

    /// The time the fetch has left (zero once over).
    var timeLeft: Duration { max(.zero, ContinuousClock.now.duration(to: end)) }

    /// When one of `count` tries still to make (a connect to each address left) must give way
    /// to the next: an equal share of the time left, all of it for the last.
    func share(among count: Int) -> ContinuousClock.Instant {
        .now + timeLeft / max(1, count)
    }

    /// Ends every wait at its next slice.
    func cancel() {
        isCancelled.store(true, ordering: .relaxed)
    }

    /// How long the next `poll(2)` may wait, in milliseconds (at most 200); throws once the fetch
    /// is over time or cancelled.
    func nextWaitMilliseconds() throws(WebFetchError) -> Int32 {
        if isCancelled.load(ordering: .relaxed) { throw .network("cancelled") }
        let left = ContinuousClock.now.duration(to: end)
        guard left > .zero else { throw .network("timed out") }
        return Self.milliseconds(left, atMost: 200)
    }

    /// `duration` in whole milliseconds, within 1...`bound`.
    static func milliseconds(_ duration: Duration, atMost bound: Int64) -> Int32 {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return Int32(max(1, min(bound, milliseconds)))
    }
}

/// A non-blocking TCP connection to one address the fetch checked; owns its descriptor and closes
/// it in `deinit`. Every wait is bounded by the fetch's ``FetchDeadline``.
final class SocketConnection: FetchTransport {
    /// The descriptor, for TLS to run over; closed by this object only.
    let descriptor: Int32
    private let deadline: FetchDeadline

    private init(descriptor: Int32, deadline: FetchDeadline) {
        self.descriptor = descriptor
        self.deadline = deadline
    }

    deinit {
        close(descriptor)
    }

    /// Connects to the first of `addresses` (IPv4 or IPv6 text, as the guard returned them) that
    /// accepts on `port`. Nothing is resolved here: no other address can be reached.
    ///
    /// Each address has an equal share of the time left to connect (the last all of it): one
    /// that never answers (a black-holed IP, an IPv6 address without a route) would otherwise
    /// use up the fetch's whole timeout, and the addresses after it would never be tried.
    static func connect(to addresses: [String], port: Int, deadline: FetchDeadline) throws(WebFetchError) -> SocketConnection {
        var failure = WebFetchError.network("the host has no address")
        for (index, address) in addresses.enumerated() {
            _ = try deadline.nextWaitMilliseconds()  // over time or cancelled: no more tries
            do {
                return try connect(to: address, port: port, deadline: deadline, giveUpAt: deadline.share(among: addresses.count - index))
            } catch {
                failure = error
            }
        }
        throw failure
    }

    private static func connect(to address: String, port: Int, deadline: FetchDeadline,
                                giveUpAt attemptEnd: ContinuousClock.Instant) throws(WebFetchError) -> SocketConnection {
        guard var socketAddress = SocketAddress(address, port: port) else { throw .network("not an address: \(address)") }
        let descriptor = socket(socketAddress.family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .network("socket: \(String(cString: strerror(errno)))") }
        // The connection owns the descriptor from here; an early throw closes it in deinit.
        let connection = SocketConnection(descriptor: descriptor, deadline: deadline)
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        if socketAddress.connectSocket(descriptor) != 0 {
            guard errno == EINPROGRESS else { throw .network("connect to \(address): \(String(cString: strerror(errno)))") }
            guard try connection.wait(for: Int16(POLLOUT), until: attemptEnd) else {
                throw .network("connect to \(address): no answer within its share of the time")
            }
            var status: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &status, &size)
            guard status == 0 else { throw .network("connect to \(address): \(String(cString: strerror(status)))") }
        }
        return connection
    }

    /// Throws once the fetch's time is over (or it was cancelled).
    func checkDeadline() throws(WebFetchError) {
        _ = try deadline.nextWaitMilliseconds()
    }

    /// Waits until the socket is ready for `events` (`POLLIN`, `POLLOUT`) or has failed: true;
    /// false once `end`, when given, has passed first.
    @discardableResult
    func wait(for events: Int16, until end: ContinuousClock.Instant? = nil) throws(WebFetchError) -> Bool {
        while true {
            var milliseconds = try deadline.nextWaitMilliseconds()
            if let end {
                let left = ContinuousClock.now.duration(to: end)
                guard left > .zero else { return false }
                milliseconds = min(milliseconds, FetchDeadline.milliseconds(left, atMost: 200))
            }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { throw .network("poll: \(String(cString: strerror(errno)))") }
        }
    }

    func write(_ bytes: [UInt8]) throws(WebFetchError) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                try wait(for: Int16(POLLOUT))
            } else {
                throw .network("send: \(String(cString: strerror(errno)))")
            }
        }
    }

    func read(maximum: Int) throws(WebFetchError) -> [UInt8] {
        try checkDeadline()  // a peer that never lets a read wait must not outlast the fetch either
        var bytes = [UInt8](repeating: 0, count: maximum)
        while true {
            let count = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return Array(bytes.prefix(count)) }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                throw .network("recv: \(String(cString: strerror(errno)))")
            }
            try wait(for: Int16(POLLIN))
        }
    }
}

/// A `sockaddr_in` or `sockaddr_in6` built from address text, never from a name.
private enum SocketAddress {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)

    init?(_ text: String, port: Int) {
        guard let port = UInt16(exactly: port) else { return nil }
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, text, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            self = .v4(v4)
            return
        }
        var v6 = sockaddr_in6()
        guard inet_pton(AF_INET6, text, &v6.sin6_addr) == 1 else { return nil }
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = port.bigEndian
        self = .v6(v6)
    }

    var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        }
    }

    /// `connect(2)` of `descriptor` to this address; its result (errno set on -1).
    mutating func connectSocket(_ descriptor: Int32) -> Int32 {
        switch self {
        case .v4(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }
}
