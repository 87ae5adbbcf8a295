import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A raw TCP client on 127.0.0.1, for sending what no well-behaved HTTP client would: partial,
/// slow, oversized or malformed requests. Owns its socket and closes it in `deinit`.
final class LoopbackClient: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// What the server sent before closing (or before the wait ran out).
    struct Reply {
        var bytes: [UInt8]
        /// The server closed its side (EOF or reset).
        var isClosed: Bool
        /// The status code of the status line, if one arrived.
        var status: Int? {
            let text = String(decoding: bytes.prefix(32), as: UTF8.self)
            guard text.hasPrefix("HTTP/1.1 ") else { return nil }
            return Int(text.dropFirst(9).prefix(3))
        }
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    let fd: Int32

    /// Connects (blocking) to `127.0.0.1:port`.
    init(port: Int) throws {
        #if canImport(Glibc)
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "connect: errno \(code)")
        }
    }

    deinit { close(fd) }

    /// Sends all of `text`; false when the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Sends all of `bytes`; false when the server has closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes { pointer -> Int in
                #if canImport(Glibc)
                Glibc.send(fd, pointer.baseAddress, pointer.count, Int32(MSG_NOSIGNAL))
                #else
                Darwin.send(fd, pointer.baseAddress, pointer.count, 0)
                #endif
            }
            if result <= 0 { return false }
            sent += result
        }
        return true
    }

    /// Whether the server has sent something (or closed) within `seconds`.
    func isReadable(within seconds: Double) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, Int32(seconds * 1000)) > 0
    }

    /// Reads until the server closes the connection or `seconds` pass.
    func readReply(within seconds: Double) -> Reply {
        let deadline = Date().addingTimeInterval(seconds)
        var reply = Reply(bytes: [], isClosed: false)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, isReadable(within: left) else { return reply }
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received <= 0 {
                reply.isClosed = true
                return reply
            }
            reply.bytes.append(contentsOf: chunk[0..<received])
        }
    }

    /// One `GET path` on a new connection: the reply and how long it took.
    static func get(_ path: String, port: Int, within seconds: Double = 1) throws -> (reply: Reply, seconds: Double) {
        let started = Date()
        let client = try LoopbackClient(port: port)
        client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let reply = client.readReply(within: seconds)
        return (reply, Date().timeIntervalSince(started))
    }
}
