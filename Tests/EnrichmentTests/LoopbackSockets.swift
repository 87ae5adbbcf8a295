import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP socket listening on a loopback `address` (`127.0.0.1`, `127.0.0.2`, ...) and `port`
/// (0: any), with `backlog`; its descriptor and the port it got.
func listeningLoopbackSocket(address: String, port: Int = 0, backlog: Int32) throws -> (descriptor: Int32, port: Int) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var socketAddress = sockaddr_in()
    socketAddress.sin_family = sa_family_t(AF_INET)
    socketAddress.sin_addr.s_addr = inet_addr(address)
    socketAddress.sin_port = UInt16(port).bigEndian
    var size = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &socketAddress) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, size) }
    }
    guard descriptor >= 0, bound == 0, listen(descriptor, backlog) == 0 else {
        if descriptor >= 0 { close(descriptor) }
        throw POSIXError(.EADDRINUSE)
    }
    _ = withUnsafeMutablePointer(to: &socketAddress) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &size) }
    }
    return (descriptor, Int(UInt16(bigEndian: socketAddress.sin_port)))
}

/// An address that never answers a connection, as a black-holed IP or an IPv6 address without a
/// route looks to a client: a listener on `address`:`port` whose accept queue (backlog 0) is
/// already full with a connection of its own and never accepted, so Linux drops every further
/// SYN and the client's connect waits until it gives up.
final class SilentAddress {
    private let listener: Int32
    private let filler: Int32

    init(address: String, port: Int) throws {
        listener = try listeningLoopbackSocket(address: address, port: port, backlog: 0).descriptor
        filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_addr.s_addr = inet_addr(address)
        target.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(listener)
            close(filler)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit {
        close(filler)
        close(listener)
    }
}

/// Listens on 127.0.0.1 and hands each connection it accepts, with its number (from 0), to
/// `serve`, one after another on a thread of its own, closing it after.
final class RawServer: @unchecked Sendable {  // its fields are set once, in init
    let port: Int
    private let descriptor: Int32
    private let thread: Thread

    init(serve: @escaping @Sendable (_ connection: Int32, _ number: Int) -> Void) throws {
        let (descriptor, port) = try listeningLoopbackSocket(address: "127.0.0.1", backlog: 8)
        self.descriptor = descriptor
        self.port = port
        thread = Thread {
            var number = 0
            while true {
                let connection = accept(descriptor, nil, nil)
                if connection < 0 { return }  // the listening socket was shut down
                serve(connection, number)
                close(connection)
                number += 1
            }
        }
        thread.start()
    }

    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }

    /// Ends every connection as soon as it is accepted: a FIN (its sending side shut), what it
    /// is sent read and dropped until the client closes. Closed with the client's bytes unread,
    /// the socket would send a reset instead.
    static func closing() throws -> RawServer {
        try RawServer { connection, _ in
            shutdown(connection, Int32(SHUT_WR))
            readUntilClosed(connection)
        }
    }

    /// Reads and drops what `connection` is sent until the client closes it.
    static func readUntilClosed(_ connection: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while recv(connection, &buffer, buffer.count, 0) > 0 {}
    }

    /// Makes the close of `connection` send a reset (RST), as a crashing server or a middlebox does.
    static func resetOnClose(_ connection: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Reads a request head from `connection` and answers it with `response` (whole, with its
    /// head), then closes its sending side.
    static func answer(_ connection: Int32, with response: String) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !received.ends(with: Array("\r\n\r\n".utf8)) {
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            received += buffer.prefix(count)
        }
        let bytes = Array(response.utf8)
        _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(connection, Int32(SHUT_WR))
        readUntilClosed(connection)
    }
}

extension Array where Element: Equatable {
    fileprivate func ends(with suffix: [Element]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
