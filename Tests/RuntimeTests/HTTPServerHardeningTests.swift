import Foundation
import Runtime
import Synchronization
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The metrics listener under hostile clients, over raw loopback sockets: it answers, refuses
/// or cuts them off, and `/healthz` keeps answering within a second.
final class HTTPServerHardeningTests: XCTestCase {
    private func startEndpoint(_ limits: HTTPServer.Limits = MetricsEndpoint.defaultLimits) throws -> MetricsEndpoint {
        let health = HealthStatus()
        health.markReady()
        return try MetricsEndpoint(port: 0, limits: limits, service: "svc", registry: MetricsRegistry(), health: health)
    }

    private func assertHealthzAnswers(_ port: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let (reply, seconds) = try LoopbackClient.get("/healthz", port: port)
        XCTAssertEqual(reply.status, 200, reply.text, file: file, line: line)
        XCTAssertLessThan(seconds, 1, file: file, line: line)
    }

    func testContentLengthThatOverflowsOrIsNotANumberIsRefusedAndTheProcessLives() throws {
        let endpoint = try startEndpoint()
        defer { endpoint.stop() }
        let cases: [(contentLength: String, status: Int)] = [
            ("9223372036854775807", 413),  // Int.max: a number, far past the 8 KiB limit
            ("9223372036854775808", 400),  // Int.max + 1 does not fit
            ("99999999999999999999999999", 400),
            ("-1", 400), ("+5", 400), ("1e3", 400), ("0x10", 400), ("5 5", 400), ("", 400),
        ]
        for (contentLength, status) in cases {
            let client = try LoopbackClient(port: endpoint.port)
            client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(contentLength)\r\n\r\n")
            let reply = client.readReply(within: 2)
            XCTAssertEqual(reply.status, status, "Content-Length: \(contentLength) → \(reply.text)")
            XCTAssertTrue(reply.isClosed, "Content-Length: \(contentLength): connection left open")
        }
        // Two Content-Length headers, even equal ones, are refused.
        let client = try LoopbackClient(port: endpoint.port)
        client.send("POST /healthz HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertEqual(client.readReply(within: 2).status, 400)
        try assertHealthzAnswers(endpoint.port)
    }

    func testOversizedRequestLinesAndHeadsAreRefusedBeforeTheirEnd() throws {
        let limits = MetricsEndpoint.defaultLimits
        let endpoint = try startEndpoint(limits)
        defer { endpoint.stop() }
        let longPath = "/" + String(repeating: "a", count: limits.maxRequestLineBytes)
        let bigHeaders = (0..<(limits.maxHeadBytes / 100 + 1)).map { "X-Pad-\($0): \(String(repeating: "p", count: 100))\r\n" }.joined()
        let manyHeaders = (0...limits.maxHeaderCount).map { "X-\($0): 1\r\n" }.joined()
        let cases: [(name: String, request: String, status: Int)] = [
            ("long request line", "GET \(longPath) HTTP/1.1\r\n\r\n", 414),
            ("request line without end", "GET /" + String(repeating: "a", count: 64 * 1024), 414),
            ("large head", "GET /healthz HTTP/1.1\r\n\(bigHeaders)\r\n", 431),
            ("head without end", "GET /healthz HTTP/1.1\r\nX-Pad: " + String(repeating: "p", count: 64 * 1024), 431),
            ("too many header lines", "GET /healthz HTTP/1.1\r\n\(manyHeaders)\r\n", 431),
            ("body past the limit", "POST /healthz HTTP/1.1\r\nContent-Length: \(limits.maxRequestBytes)\r\n\r\n", 413),
            ("folded header line", "GET /healthz HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n", 400),
            ("NUL in a header", "GET /healthz HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n", 400),
        ]
        for (name, request, status) in cases {
            let client = try LoopbackClient(port: endpoint.port)
            client.send(request)  // the server may stop reading once it has refused: a short send is fine
            let reply = client.readReply(within: 2)
            XCTAssertEqual(reply.status, status, "\(name): \(reply.text.prefix(200))")
            XCTAssertTrue(reply.isClosed, "\(name): connection left open")
        }
        try assertHealthzAnswers(endpoint.port)
    }

    func testASlowClientIsCutOffAtTheTotalDeadline() throws {
        var limits = MetricsEndpoint.defaultLimits
        limits.requestTimeout = .seconds(2)
        let endpoint = try startEndpoint(limits)
        defer { endpoint.stop() }
        let client = try LoopbackClient(port: endpoint.port)
        let started = Date()
        client.send("GET /healthz HTTP/1.1\r\n")
        // One byte every half second, so no single read waits long; at most 10 s in all.
        var cutAfter: Double?
        for _ in 0..<20 {
            if client.isReadable(within: 0.5) || !client.send("X") {
                cutAfter = Date().timeIntervalSince(started)
                break
            }
        }
        let reply = client.readReply(within: 1)
        let seconds = try XCTUnwrap(cutAfter, "still connected after 10 s")
        XCTAssertGreaterThanOrEqual(seconds, 1.9)
        XCTAssertLessThan(seconds, 3)
        XCTAssertEqual(reply.status, 408, reply.text)
        XCTAssertTrue(reply.isClosed)
        try assertHealthzAnswers(endpoint.port)
    }

    /// The server's thread carries its name in the kernel (top, perf): `http-` and its port.
    func testTheServersThreadIsNamedByItsPort() throws {
        let server = try HTTPServer { _ in .text("ok\n") }
        defer { server.stop() }
        // An answer means the thread has run, and it names itself before its loop.
        XCTAssertEqual(try LoopbackClient.get("/x", port: server.port).reply.status, 200)
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        XCTAssertTrue(names.contains("http-\(server.port)\n"), "\(names)")
    }

    func testConnectionsPastTheCapAreRefusedAtOnceAndTheirSlotsComeBack() throws {
        let server = try HTTPServer(limits: HTTPServer.Limits(maxConnections: 4)) { _ in .text("ok\n") }
        defer { server.stop() }
        var idle = try (0..<4).map { _ in try LoopbackClient(port: server.port) }
        let (refused, seconds) = try LoopbackClient.get("/x", port: server.port)
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertTrue(refused.isClosed)
        XCTAssertLessThan(seconds, 1)
        // The idle clients leave; once the server has seen them go (their FINs race the next
        // connect), a request is served again.
        idle.removeAll()
        let deadline = Date().addingTimeInterval(2)
        var served: LoopbackClient.Reply
        repeat {
            served = try LoopbackClient.get("/x", port: server.port).reply
        } while served.status == 503 && Date() < deadline
        XCTAssertEqual(served.status, 200, served.text)
    }

    func testHealthzAnswersWithinOneSecondWhileAThousandIdleAndSlowConnectionsAreOpen() throws {
        try Self.raiseOpenFileLimit(to: 4096)
        var limits = MetricsEndpoint.defaultLimits
        limits.requestTimeout = .seconds(60)  // the flood keeps every ordinary slot taken throughout
        let endpoint = try startEndpoint(limits)
        defer { endpoint.stop() }
        let port = endpoint.port
        let threadsBefore = Self.count("/proc/self/task")
        let descriptorsBefore = Self.count("/proc/self/fd")

        let flood = Mutex<(clients: [LoopbackClient], failure: String?, isDone: Bool)>(([], nil, false))
        let flooder = Thread {
            // 1,000 connections in ten paced bursts; every other one sends half a request line.
            for burst in 0..<10 {
                for index in 0..<100 {
                    do {
                        let client = try LoopbackClient(port: port)
                        if index.isMultiple(of: 2) { client.send("GET /metr") }
                        flood.withLock { $0.clients.append(client) }
                    } catch {
                        flood.withLock { $0.failure = "connection \(burst * 100 + index): \(error)" }
                    }
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            flood.withLock { $0.isDone = true }
        }
        flooder.start()

        var probesDuringFlood = 0
        var probesWithAllOpen = 0
        var slowest = 0.0
        var allOpenSince: Date?
        while allOpenSince.map({ Date().timeIntervalSince($0) < 1.5 }) ?? true {
            let (isDone, opened) = flood.withLock { ($0.isDone, $0.clients.count) }
            let (reply, seconds) = try LoopbackClient.get("/healthz", port: port)
            XCTAssertEqual(reply.status, 200, "with \(opened) connections open, after \(seconds) s, closed: \(reply.isClosed): \(reply.text)")
            slowest = max(slowest, seconds)
            if isDone {
                allOpenSince = allOpenSince ?? Date()
                probesWithAllOpen += 1
            } else {
                probesDuringFlood += 1
            }
        }
        let (opened, failure) = flood.withLock { ($0.clients.count, $0.failure) }
        print("1,000 connections: \(probesDuringFlood) probes while opening, \(probesWithAllOpen) with all open, slowest \(slowest) s")
        XCTAssertNil(failure)
        XCTAssertEqual(opened, 1000)
        XCTAssertLessThan(slowest, 1, "slowest /healthz")
        XCTAssertGreaterThan(probesDuringFlood, 0)
        XCTAssertGreaterThan(probesWithAllOpen, 0)

        // Every ordinary slot is held by the flood: other paths are refused at once.
        let (metrics, seconds) = try LoopbackClient.get("/metrics", port: port)
        XCTAssertEqual(metrics.status, 503, metrics.text)
        XCTAssertLessThan(seconds, 1)

        #if os(Linux)
        // One thread serves them all, and the server holds only its slots' descriptors.
        XCTAssertLessThanOrEqual(Self.count("/proc/self/task") - threadsBefore, 8, "threads added")
        let serverSide = Self.count("/proc/self/fd") - descriptorsBefore - opened
        XCTAssertLessThanOrEqual(serverSide, limits.maxConnections + limits.reservedConnections + 8, "server descriptors")
        #endif
        _ = (threadsBefore, descriptorsBefore)
    }

    /// Entries in a /proc directory (0 where there is none).
    private static func count(_ directory: String) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: directory).count) ?? 0
    }

    /// Raises the soft limit on open descriptors (the test holds a thousand client sockets).
    private static func raiseOpenFileLimit(to wanted: rlim_t) throws {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { throw XCTSkip("getrlimit failed") }
        guard limit.rlim_cur < wanted else { return }
        guard limit.rlim_max >= wanted else { throw XCTSkip("the hard descriptor limit \(limit.rlim_max) is below \(wanted)") }
        limit.rlim_cur = wanted
        guard setrlimit(resource, &limit) == 0 else { throw XCTSkip("setrlimit failed") }
    }
}
