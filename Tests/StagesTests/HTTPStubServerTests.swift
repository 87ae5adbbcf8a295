import Foundation
import LeadRules
import Runtime
import Stages
import Synchronization
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An ``HTTPServer`` on loopback answering with `route` and remembering every request.
final class StubAPI: Sendable {
    let server: HTTPServer
    private let received: Recorder<HTTPRequest>

    init(_ route: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) throws {
        let received = Recorder<HTTPRequest>()
        self.received = received
        server = try HTTPServer { request in
            received.append(request)
            return await route(request)
        }
    }

    var requests: [HTTPRequest] { received.values }
    var count: Int { received.values.count }
    var baseURL: URL { server.baseURL }

    deinit { server.stop() }

    /// A client of this stub with a generous rate limit.
    func client(
        name: String = "x", forbidden: ProviderHTTPClient.ForbiddenMeaning = .credentialsRejected, timeout: Double = 2,
        limiter: RateLimiter? = RateLimiter(ratePerMinute: 60_000, burst: 100)
    ) -> ProviderHTTPClient {
        ProviderHTTPClient(
            name: name, baseURL: baseURL, credential: Secret("test-secret-token"), timeoutSeconds: timeout, limiter: limiter,
            forbidden: forbidden, logger: Logger(service: "test", level: .error, sink: { _ in }))
    }

    /// A vendor-style client of this stub: the key in its own header, a rejection reported per
    /// call, extra out-of-credits codes, and every log line handed to `log`.
    func client(
        name: String, authentication: ProviderHTTPClient.Authentication, rejection: ProviderHTTPClient.Rejection,
        outOfCreditsStatuses: Set<Int>, timeout: Double = 2,
        limiter: RateLimiter? = RateLimiter(ratePerMinute: 60_000, burst: 100), log: @escaping @Sendable (String) -> Void = { _ in }
    ) -> ProviderHTTPClient {
        ProviderHTTPClient(
            name: name, baseURL: baseURL, credential: Secret("test-secret-token"), timeoutSeconds: timeout, limiter: limiter,
            forbidden: .credentialsRejected, authentication: authentication, rejection: rejection,
            outOfCreditsStatuses: outOfCreditsStatuses, logger: Logger(service: "test", level: .debug, sink: log))
    }
}

/// Values appended from any thread.
final class Recorder<Value: Sendable>: Sendable {
    private let storage = Mutex<[Value]>([])
    func append(_ value: Value) { storage.withLock { $0.append(value) } }
    var values: [Value] { storage.withLock { $0 } }
}

/// The loopback HTTP server, through URLSession and curl.
final class HTTPStubServerTests: XCTestCase {
    func testServesMethodPathQueryHeadersAndBodyOverURLSession() async throws {
        let server = try HTTPServer { request in
            let text = "\(request.method) \(request.path) q=\(request.query["q"] ?? "-") h=\(request.header("X-Test") ?? "-") body=\(String(decoding: request.body, as: UTF8.self))"
            return .text(text, status: 201, headers: [("X-Reply", "yes")])
        }
        defer { server.stop() }
        XCTAssertGreaterThan(server.port, 0)

        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/a%20b/c?q=hello%20world&z=1")!)
        request.httpMethod = "POST"
        request.httpBody = Data("payload".utf8)
        request.setValue("abc", forHTTPHeaderField: "X-Test")
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        XCTAssertEqual(http.statusCode, 201)
        XCTAssertEqual(http.value(forHTTPHeaderField: "X-Reply"), "yes")
        XCTAssertEqual(http.value(forHTTPHeaderField: "Connection")?.lowercased(), "close")
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "POST /a b/c q=hello world h=abc body=payload")
    }

    func testManyConcurrentRequestsAndASlowRouter() async throws {
        let server = try HTTPServer { request in
            if request.path == "/slow" { try? await Task.sleep(for: .milliseconds(300)) }
            return .json("{\"path\":\"\(request.path)\"}")
        }
        defer { server.stop() }
        let started = Date()
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                let (_, response) = try await URLSession.shared.data(from: server.baseURL.appendingPathComponent("slow"))
                return (response as? HTTPURLResponse)?.statusCode ?? 0
            }
            for i in 0..<40 {
                group.addTask {
                    let (_, response) = try await URLSession.shared.data(from: server.baseURL.appendingPathComponent("n\(i)"))
                    return (response as? HTTPURLResponse)?.statusCode ?? 0
                }
            }
            for try await status in group { XCTAssertEqual(status, 200) }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testRejectsOversizedRequestsWith413() async throws {
        let server = try HTTPServer(limits: HTTPServer.Limits(maxRequestBytes: 1024)) { _ in .text("never") }
        defer { server.stop() }
        var request = URLRequest(url: server.baseURL.appendingPathComponent("upload"))
        request.httpMethod = "POST"
        request.httpBody = Data(repeating: 65, count: 4096)
        let (_, response) = try await URLSession.shared.data(for: request)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 413)
    }

    func testCurlTalksToIt() throws {
        let curl = ["/usr/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let curl else { throw XCTSkip("curl is not installed") }
        let server = try HTTPServer { request in
            .json("{\"method\":\"\(request.method)\",\"id\":\"\(request.query["id"] ?? "")\",\"len\":\(request.body.count)}")
        }
        defer { server.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: curl)
        process.arguments = ["-sS", "-i", "-X", "PUT", "--data-binary", "12345", "http://127.0.0.1:\(server.port)/things?id=7"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertTrue(output.hasPrefix("HTTP/1.1 200 OK"), output)
        XCTAssertTrue(output.contains("Content-Length: 33"), output)
        XCTAssertTrue(output.contains("{\"method\":\"PUT\",\"id\":\"7\",\"len\":5}"), output)
    }

    func testStopClosesTheListeningSocket() async throws {
        let server = try HTTPServer { _ in .text("ok") }
        let url = server.baseURL.appendingPathComponent("x")
        let (_, first) = try await URLSession.shared.data(from: url)
        XCTAssertEqual((first as? HTTPURLResponse)?.statusCode, 200)
        server.stop()
        server.stop()  // idempotent
        try await Task.sleep(for: .milliseconds(100))
        do {
            _ = try await URLSession.shared.data(from: url)
            XCTFail("connected after stop()")
        } catch {}
    }
}
