import Foundation
import LeadRules
import Runtime
import Stages
import Synchronization
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A vendor reply is input like any other: one larger than the client's bound fails that call
/// with a clear permanent error and is never held in memory whole, whether the vendor announces
/// its length or streams without end.
final class ProviderReplySizeTests: XCTestCase {
    private static let limit = 1 << 20

    private func client(_ baseURL: URL, timeout: Double = 5) -> ProviderHTTPClient {
        ProviderHTTPClient(
            name: "x", baseURL: baseURL, credential: Secret("test-secret-token"), timeoutSeconds: timeout,
            limiter: nil, forbidden: .credentialsRejected, maxReplyBytes: Self.limit,
            logger: Logger(service: "test", level: .error, sink: { _ in }))
    }

    func testAReplyAtTheBoundArrivesWhole() async throws {
        let body = Data(repeating: UInt8(ascii: " "), count: Self.limit)
        let stub = try StubAPI { _ in HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body) }
        let reply = try await client(stub.baseURL).send(path: ["users"])
        XCTAssertEqual(reply.body.count, Self.limit)
    }

    func testAnAnnouncedReplyOverTheBoundIsAPermanentError() async throws {
        let body = Data(repeating: UInt8(ascii: " "), count: Self.limit + 1)
        let stub = try StubAPI { _ in HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body) }
        do {
            _ = try await client(stub.baseURL).send(path: ["users"])
            XCTFail("a reply over the bound was accepted")
        } catch {
            guard case .permanent(let reason) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(reason, "x: reply larger than 1 MiB")
        }
    }

    func testAnEndlessReplyFailsAtTheBoundNotAtTheTimeout() async throws {
        let server = try EndlessReplyServer()
        defer { server.stop() }
        let started = Date()
        do {
            _ = try await client(URL(string: "http://127.0.0.1:\(server.port)")!, timeout: 30).send(path: ["users"])
            XCTFail("an endless reply ended")
        } catch {
            guard case .permanent(let reason) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(reason, "x: reply larger than 1 MiB")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "the call ended at the bound, long before its timeout")
        XCTAssertGreaterThan(server.bytesSent, Self.limit, "the server really sent more than the bound")
    }

    /// The timeout bounds the whole call, not the wait for each byte: a reply that trickles (a
    /// byte every 0.3 s, for ever) ends the call after its 1 s as "no answer within", a transient
    /// failure. FoundationNetworking on Linux restarts its timer at every byte and ignores the
    /// session's resource timeout, so such a call never ended and held its lead's request.
    func testATricklingReplyEndsAtTheTimeout() async throws {
        let server = try EndlessReplyServer(chunkBytes: 1, pauseMicroseconds: 300_000)
        defer { server.stop() }
        let started = Date()
        do {
            _ = try await client(URL(string: "http://127.0.0.1:\(server.port)")!, timeout: 1).send(path: ["users"])
            XCTFail("a trickling reply ended")
        } catch {
            guard case .transient(let reason) = error else { return XCTFail("got \(error)") }
            XCTAssertTrue(reason.contains("no answer within"), reason)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "the call ended at its timeout")
        XCTAssertGreaterThan(server.bytesSent, 0, "the server was answering")
    }

    /// The transfer runs under the caller's task: cancelling it (a stage shutting down) ends the
    /// call at once as ``ProviderError/cancelled``, whether the request has started or not.
    func testCancellingTheCallerEndsTheCall() async throws {
        let stub = try StubAPI { _ in
            try? await Task.sleep(for: .seconds(10))
            return .json("{}")
        }
        let client = client(stub.baseURL, timeout: 30)
        for delay in [0.0, 0.3] {
            let call = Task { try await client.send(path: ["users"]) }
            if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
            let started = Date()
            call.cancel()
            do {
                _ = try await call.value
                XCTFail("a cancelled call returned a reply")
            } catch {
                XCTAssertEqual(error as? ProviderError, .cancelled, "after \(delay) s")
            }
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "after \(delay) s the call ended long before the reply")
        }
    }
}

/// Answers every connection on 127.0.0.1 with a chunked `200` whose body never ends, until the
/// client goes away or ``stop()`` is called.
private final class EndlessReplyServer: Sendable {
    struct Failure: Error {
        let reason: String
    }

    let port: Int
    private let listener: Int32
    private let sent = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    private let chunkBytes: Int
    private let pauseMicroseconds: UInt32

    /// Each chunk `chunkBytes` long, written `pauseMicroseconds` after the one before.
    init(chunkBytes: Int = 0x10000, pauseMicroseconds: UInt32 = 0) throws {
        self.chunkBytes = chunkBytes
        self.pauseMicroseconds = pauseMicroseconds
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw Failure(reason: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw Failure(reason: "bind: errno \(errno)")
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    var bytesSent: Int { sent.load(ordering: .relaxed) }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve() {
        while !stopped.load(ordering: .relaxed) {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                let count = recv(connection, &buffer, buffer.count, 0)
                if count <= 0 { break }
                request += buffer[0..<count]
            }
            guard write(connection, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            else { continue }
            let chunk = String(chunkBytes, radix: 16) + "\r\n" + String(repeating: " ", count: chunkBytes) + "\r\n"
            while !stopped.load(ordering: .relaxed), write(connection, chunk) {
                sent.add(chunkBytes, ordering: .relaxed)
                if pauseMicroseconds > 0 { usleep(pauseMicroseconds) }  // a slow vendor's pace
            }
        }
    }

    private func write(_ connection: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return false }
            offset += count
        }
        return true
    }
}
