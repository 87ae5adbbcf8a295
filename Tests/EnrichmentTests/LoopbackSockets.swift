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
