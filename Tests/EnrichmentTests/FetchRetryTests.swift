@testable import Enrichment
import Foundation
import LeadModel
import Runtime
import Synchronization
import XCTest

/// A fetch that fails for a reason that may pass (a 5xx, a 429, a dropped connection) is tried
/// again, a few times, within the fetch's one timeout; other failures are not.
final class FetchRetryTests: XCTestCase {
    private let resolver = ScriptedResolver(["acme.example": [["127.0.0.1"]]])

    /// One hiccup of a site (a 503, a 502 after it) no longer fails the lead's enrichment: the
    /// page is fetched again after a short wait, and read.
    func testAServerErrorIsTriedAgain() async throws {
        let answers = Answers([HTTPResponse.text("busy", status: 503), HTTPResponse.text("bad gateway", status: 502)])
        let site = try StubSite { _, _ in answers.next() }
        defer { site.server.stop() }
        let quick = WebFetchRetry(delays: [.milliseconds(50), .milliseconds(50)])
        let page = try await fetch("http://acme.example:\(site.port)/", resolver: resolver, timeoutSeconds: 5, retry: quick).get()
        XCTAssertEqual(page.html, "<title>Acme</title>")
        XCTAssertEqual(site.received.count, 3)
    }

    /// A connection reset by the site is a hiccup too: fetched again on a new connection.
    func testAResetConnectionIsTriedAgain() async throws {
        let site = try RawServer { connection, number in
            if number == 0 { return RawServer.resetOnClose(connection) }
            RawServer.answer(connection, with: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\n<title>Acme</title>")
        }
        defer { site.stop() }
        let quick = WebFetchRetry(delays: [.milliseconds(50)])
        let page = try await fetch("http://acme.example:\(site.port)/", resolver: resolver, timeoutSeconds: 5, retry: quick).get()
        XCTAssertEqual(page.html, "<title>Acme</title>")
    }

    /// A 429's Retry-After is waited for when it fits the cap and the fetch's time; a longer one
    /// is not waited for, and the failure stands at once.
    func testARateLimitsRetryAfterIsWaitedWithinItsCap() async throws {
        let briefly = Answers([HTTPResponse(status: 429, headers: [("Retry-After", "1")])])
        let site = try StubSite { _, _ in briefly.next() }
        defer { site.server.stop() }
        let started = ContinuousClock.now
        let page = try await fetch("http://acme.example:\(site.port)/", resolver: resolver, timeoutSeconds: 5).get()
        XCTAssertEqual(page.html, "<title>Acme</title>")
        XCTAssertEqual(site.received.count, 2)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(1), "Retry-After not waited for")

        let long = try StubSite { _, _ in HTTPResponse(status: 429, headers: [("Retry-After", "120")]) }
        defer { long.server.stop() }
        let refused = try await fetch("http://acme.example:\(long.port)/", resolver: resolver, timeoutSeconds: 5)
        XCTAssertNotNil(refused.failure)
        XCTAssertEqual(long.received.count, 1)
    }

    /// A resolver that cannot answer for now (getaddrinfo's `EAI_AGAIN`: its name servers
    /// unreachable, or answering `SERVFAIL`) is a hiccup too: the name is resolved again after a
    /// short wait, and the page read. It read as a name without an address, a failure for good.
    /// A name without one (`EAI_NONAME`, `EAI_NODATA`) is an answer: asked once.
    func testATemporaryResolverFailureIsTriedAgain() async throws {
        let site = try StubSite { _, _ in StubSite.page }
        defer { site.server.stop() }
        let quick = WebFetchRetry(delays: [.milliseconds(50), .milliseconds(50)])
        let busy = ScriptedResolver(["acme.example": [["127.0.0.1"]]], temporarilyFailing: ["acme.example": 2])
        let page = try await fetch("http://acme.example:\(site.port)/", resolver: busy, timeoutSeconds: 5, retry: quick).get()
        XCTAssertEqual(page.html, "<title>Acme</title>")
        XCTAssertEqual(busy.questions(for: "acme.example"), 3)
        XCTAssertEqual(site.received.count, 1)

        let down = ScriptedResolver([:], temporarilyFailing: ["acme.example": 10])
        let failed = try await fetch("http://acme.example:\(site.port)/", resolver: down, timeoutSeconds: 5, retry: quick)
        XCTAssertEqual(failed.failure, .temporarilyUnresolved("acme.example"))
        XCTAssertEqual(down.questions(for: "acme.example"), 3, "three tries at most")

        let nowhere = ScriptedResolver([:])
        let unresolved = try await fetch("http://acme.example:\(site.port)/", resolver: nowhere, timeoutSeconds: 5, retry: quick)
        XCTAssertEqual(unresolved.failure, .unresolved("acme.example"))
        XCTAssertEqual(nowhere.questions(for: "acme.example"), 1)
        XCTAssertEqual(site.received.count, 1)
    }

    /// The other host of the domain (`www.` for the bare domain) that the resolver cannot answer
    /// for does not fail the fetch: it is only needed if a redirect leads there. Before, both
    /// hosts had to resolve before any try, so a `www` name whose servers fail (SERVFAIL, read
    /// as a temporary failure) failed sites that were fetched before the retries came in.
    func testTheOtherHostTheResolverCannotAnswerForDoesNotFailTheFetch() async throws {
        let site = try StubSite { _, _ in StubSite.page }
        defer { site.server.stop() }
        let quick = WebFetchRetry(delays: [.milliseconds(50), .milliseconds(50)])
        let lame = ScriptedResolver(["acme.example": [["127.0.0.1"]]], temporarilyFailing: ["www.acme.example": 10])
        let page = try await fetch("http://acme.example:\(site.port)/", resolver: lame, timeoutSeconds: 5, retry: quick).get()
        XCTAssertEqual(page.html, "<title>Acme</title>")
        XCTAssertEqual(site.received.count, 1)
    }

    /// The waits: each try's delay, a 429's or 503's Retry-After when longer and within the cap,
    /// never past the fetch's time less a try's; none for what is not retriable or past the tries.
    func testTheWaitBeforeAnotherTry() {
        let retry = WebFetchRetry(delays: [.milliseconds(500), .seconds(2)], maxRetryAfter: .seconds(5), minimumTryTime: .seconds(1))
        XCTAssertEqual(retry.wait(after: .network("recv: Connection reset by peer"), attempt: 1, timeLeft: .seconds(10)), .milliseconds(500))
        XCTAssertEqual(retry.wait(after: .status(502), attempt: 2, timeLeft: .seconds(10)), .seconds(2))
        XCTAssertEqual(retry.wait(after: .temporarilyUnresolved("acme.example"), attempt: 1, timeLeft: .seconds(10)), .milliseconds(500))
        XCTAssertNil(retry.wait(after: .status(502), attempt: 3, timeLeft: .seconds(10)), "three tries at most")
        XCTAssertEqual(retry.wait(after: .status(503, retryAfter: .seconds(3)), attempt: 1, timeLeft: .seconds(10)), .seconds(3))
        XCTAssertEqual(retry.wait(after: .status(429, retryAfter: .zero), attempt: 2, timeLeft: .seconds(10)), .seconds(2))
        XCTAssertNil(retry.wait(after: .status(429, retryAfter: .seconds(6)), attempt: 1, timeLeft: .seconds(10)), "past the cap")
        XCTAssertNil(retry.wait(after: .status(503, retryAfter: .seconds(3)), attempt: 1, timeLeft: .seconds(3.5)), "past the fetch's time")
        XCTAssertNil(retry.wait(after: .network("timed out"), attempt: 1, timeLeft: .zero))
        for permanent: WebFetchError in [.status(404), .status(408), .notHTML("application/json"), .tooLarge(limit: 1),
                                         .badResponse("empty response head"), .tls("certificate of acme.example not accepted"),
                                         .unresolved("acme.example"), .internalAddress("acme.example → 10.0.0.1"),
                                         .redirectRefused("to https://evil.example/"), .stopped] {
            XCTAssertNil(retry.wait(after: permanent, attempt: 1, timeLeft: .seconds(10)), "\(permanent)")
        }
    }

    /// A stop (the process's graceful shutdown, the record's partition revoked, or the task
    /// cancelled) ends the wait before another try at once: the request is not done (the handler
    /// answers nil, and its runner hands it back uncommitted) and the site is not asked again on
    /// the way out. Before, a revocation did not end it: the handler ignored the record's own
    /// signal, and the old owner fetched again beside the partition's new one.
    func testAStopEndsTheWaitBeforeAnotherTry() async throws {
        let (arrivals, arrived) = AsyncStream.makeStream(of: Void.self)
        let site = try StubSite { _, _ in
            arrived.yield()
            return HTTPResponse.text("busy", status: 503)
        }
        defer { site.server.stop() }
        let fetcher = WebFetcher(timeoutSeconds: 60, addressGuard: PublicAddressGuard(resolve: resolver.resolve),
                                 retry: WebFetchRetry(delays: [.seconds(30)]))
        let request = WebEnrichmentRequested(leadID: "lead-1", domain: "acme.example", url: "http://acme.example:\(site.port)/",
                                             requestedAt: Date())
        var arrival = arrivals.makeAsyncIterator()
        for stop in ["shutdown", "revocation", "cancellation"] {
            let shutdown = GracefulShutdown()
            let recordShutdown = shutdown.makeChild()  // as the runner gives each record
            let handler = WebEnricherHandler(fetcher: fetcher, isLoopbackHTTPAllowed: true, shutdown: shutdown)
            let handling = Task { await handler.handle(request, now: Date(), stoppingOn: recordShutdown) }
            _ = await arrival.next()
            let stopping = ContinuousClock.now
            switch stop {
            case "shutdown": shutdown.begin()
            case "revocation": recordShutdown.begin()
            default: handling.cancel()
            }
            let enrichment = await handling.value
            XCTAssertNil(enrichment, stop)
            XCTAssertLessThan(ContinuousClock.now - stopping, .seconds(5), stop)
        }
        XCTAssertEqual(site.received.count, 3, "one request a stop")
    }

    /// A 4xx other than 429, a page that is not HTML and a refused address are answers, not
    /// hiccups: fetched once.
    func testPermanentFailuresAreNotTriedAgain() async throws {
        let site = try StubSite { request, _ in
            request.path == "/json" ? HTTPResponse.json("{}") : HTTPResponse.text("gone", status: request.path == "/gone" ? 404 : 400)
        }
        defer { site.server.stop() }
        for path in ["/gone", "/bad", "/json"] {
            let result = try await fetch("http://acme.example:\(site.port)\(path)", resolver: resolver, timeoutSeconds: 5)
            XCTAssertNotNil(result.failure, path)
        }
        XCTAssertEqual(site.received.map(\.path), ["/gone", "/bad", "/json"])
        let inside = ScriptedResolver(["acme.example": [["10.0.0.1"]]])
        let refused = try await fetch("http://acme.example:\(site.port)/", resolver: inside, timeoutSeconds: 5)
        XCTAssertEqual(refused.failure, .internalAddress("acme.example → 10.0.0.1"))
        XCTAssertEqual(inside.questions(for: "acme.example"), 1)
    }
}

/// Answers in turn, then the page.
private final class Answers: Sendable {
    private let queue: Mutex<[HTTPResponse]>

    init(_ answers: [HTTPResponse]) {
        queue = Mutex(answers)
    }

    func next() -> HTTPResponse {
        queue.withLock { $0.isEmpty ? StubSite.page : $0.removeFirst() }
    }
}
