@testable import Enrichment
import Foundation
import Runtime
import XCTest

/// The fetcher connects only to addresses the guard checked, once per host and fetch: DNS
/// rebinding and redirect hops to internal addresses never reach them. Pages come from a stub
/// server on 127.0.0.1, reached with the loopback switch on (which still refuses private ranges).
final class PinnedFetchTests: XCTestCase {
    func testPagesComeFromThePinnedAddressWithTheHostHeaderOfTheURL() async throws {
        let site = try StubSite { _, _ in StubSite.page }
        defer { site.server.stop() }
        let resolver = ScriptedResolver(["acme.example": [["127.0.0.1"]]])
        let page = try await fetch("http://acme.example:\(site.port)/about?x=1", resolver: resolver).get()
        XCTAssertEqual(page.html, "<title>Acme</title>")
        XCTAssertEqual(page.url.absoluteString, "http://acme.example:\(site.port)/about?x=1")
        XCTAssertEqual(site.received.map(\.target), ["/about?x=1"])
        XCTAssertEqual(site.received.first?.header("host"), "acme.example:\(site.port)")
        XCTAssertEqual(site.received.first?.header("accept-encoding"), "identity")
    }

    /// An address that refuses the connection (nothing listens on [::1] here) gives way to the
    /// next checked one; no other address is tried.
    func testTheNextCheckedAddressIsTriedWhenOneRefuses() async throws {
        let site = try StubSite { _, _ in StubSite.page }
        defer { site.server.stop() }
        let resolver = ScriptedResolver(["acme.example": [["::1", "127.0.0.1"]]])
        let page = try await fetch("http://acme.example:\(site.port)/", resolver: resolver).get()
        XCTAssertEqual(page.html, "<title>Acme</title>")
        XCTAssertEqual(site.received.count, 1)
    }

    /// An address that never answers (its SYNs dropped, as for a black-holed IP or an IPv6
    /// address without a route) gets its share of the fetch's time, not all of it: the next
    /// checked address is tried within the timeout and serves the page.
    func testAnAddressThatNeverAnswersLeavesTimeForTheNext() async throws {
        let site = try StubSite { _, _ in StubSite.page }
        defer { site.server.stop() }
        let silent = try SilentAddress(address: "127.0.0.2", port: site.port)
        defer { withExtendedLifetime(silent) {} }
        let resolver = ScriptedResolver(["acme.example": [["127.0.0.2", "127.0.0.1"]]])
        let started = ContinuousClock.now
        let page = try await fetch("http://acme.example:\(site.port)/", resolver: resolver, timeoutSeconds: 2).get()
        XCTAssertEqual(page.html, "<title>Acme</title>")
        XCTAssertEqual(site.received.count, 1)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
    }

    /// The rebinding attack: the first answer passes the check, the next points at loopback. Even
    /// with loopback allowed (where a second lookup would pass the check), the fetch connects only
    /// to the first, checked answer: the stub on 127.0.0.1 sees nothing and the name is asked once.
    func testAnAnswerChangingAfterTheCheckNeverReachesTheSecondAddress() async throws {
        let site = try StubSite { _, _ in StubSite.page }
        defer { site.server.stop() }
        let resolver = ScriptedResolver(["acme.example": [["192.0.2.1"], ["127.0.0.1"]]])
        let result = try await fetch("http://acme.example:\(site.port)/", resolver: resolver, timeoutSeconds: 1)
        guard case .failure(.network) = result else { return XCTFail("expected a network failure at 192.0.2.1, got \(result)") }
        XCTAssertEqual(site.received.count, 0, "the rebound loopback address was reached")
        XCTAssertEqual(resolver.questions(for: "acme.example"), 1)
    }

    /// The same without the loopback switch, over https: a public first answer, loopback after.
    func testARebindingAnswerOverHTTPSIsNeverAsked() async throws {
        let resolver = ScriptedResolver(["acme.example": [["192.0.2.1"], ["127.0.0.1"]]])
        let result = try await fetch("https://acme.example/", resolver: resolver, timeoutSeconds: 1, isLoopbackHTTPAllowed: false)
        guard case .failure(.network) = result else { return XCTFail("expected a network failure at 192.0.2.1, got \(result)") }
        XCTAssertEqual(resolver.questions(for: "acme.example"), 1)
        XCTAssertEqual(resolver.questions(for: "www.acme.example"), 1)
    }

    func testRedirectHopsToInternalAddressesAreRefused() async throws {
        let targets = [
            "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:10.0.0.1]/", "http://0x7f.1/",
            "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a00:1::1]/", "http://[fec0::1]/", "http://[::a00:1]/",
            "http://acme.example@10.0.0.1/", "file:///etc/passwd",
        ]
        let site = try StubSite { request, _ in
            HTTPResponse(status: 302, headers: [("Location", targets[Int(request.path.dropFirst()) ?? 0])])
        }
        defer { site.server.stop() }
        for (index, target) in targets.enumerated() {
            let resolver = ScriptedResolver(["acme.example": [["127.0.0.1"]]])
            let result = try await fetch("http://acme.example:\(site.port)/\(index)", resolver: resolver)
            guard case .failure(.redirectRefused(let reason)) = result else { XCTFail("\(target) was followed: \(result)"); continue }
            XCTAssertTrue(reason.hasPrefix("to "), reason)
        }
        XCTAssertEqual(site.received.count, targets.count, "only the first hop of each fetch was requested")
    }

    /// A redirect to the other allowed host, whose name resolves privately: refused before any
    /// connection, and its later answers are never asked for.
    func testARedirectToAHostResolvingPrivatelyIsRefusedBeforeAnyConnection() async throws {
        let site = try StubSite { _, port in HTTPResponse(status: 301, headers: [("Location", "http://www.acme.example:\(port)/")]) }
        defer { site.server.stop() }
        let resolver = ScriptedResolver(["acme.example": [["127.0.0.1"]], "www.acme.example": [["10.0.0.1"], ["127.0.0.1"]]])
        let result = try await fetch("http://acme.example:\(site.port)/", resolver: resolver)
        guard case .failure(let error) = result else { return XCTFail("fetched: \(result)") }
        XCTAssertEqual(error, .internalAddress("www.acme.example → 10.0.0.1"))
        XCTAssertEqual(site.received.count, 0)
        XCTAssertEqual(resolver.questions(for: "www.acme.example"), 1)
    }

    /// Redirects are followed hop by hop, each to its host's pinned address; each name is asked once.
    /// Fetches wait on their sockets each on a thread of its own: sixteen fetches of a site that
    /// answers after 2 s all get their page within their 4 s. On Dispatch's global queue (on
    /// Linux about one thread per core, and one more a second while all of them block) most of
    /// them timed out on a 2-core machine before a byte was sent.
    func testFetchesOfASlowSiteDoNotWaitForEachOther() async throws {
        let server = try HTTPServer { _ in
            try? await Task.sleep(for: .seconds(2))
            return StubSite.page
        }
        defer { server.stop() }
        let resolver = ScriptedResolver(["acme.example": [["127.0.0.1"]]])
        let allowList = try WebAllowList(domain: "acme.example", isLoopbackHTTPAllowed: true)
        let start = try allowList.startURL("http://acme.example:\(server.port)/")
        let fetcher = WebFetcher(timeoutSeconds: 4, addressGuard: PublicAddressGuard(resolve: resolver.resolve))
        let failures = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    do {
                        _ = try await fetcher.fetch(start, allowList: allowList)
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
            }
            var failures: [String] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        XCTAssertEqual(failures, [], "\(failures.count) of 16 fetches failed")
    }

    /// A name whose name servers never answer: the fetch ends within its timeout, as the
    /// README promises, instead of waiting on `getaddrinfo` (glibc's 5 s × 2 tries a server, and
    /// more with search domains), which held a slot of the enricher for as long.
    func testAResolverThatNeverAnswersEndsTheFetchWithinItsTime() async throws {
        let allowList = try WebAllowList(domain: "acme.example", isLoopbackHTTPAllowed: true)
        let silent = PublicAddressGuard(resolve: { _ in
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }  // never resumed
            return []
        })
        let fetcher = WebFetcher(timeoutSeconds: 1, addressGuard: silent)
        do {
            _ = try await fetcher.fetch(try allowList.startURL("http://acme.example/"), allowList: allowList)
            XCTFail("fetched without an address")
        } catch let WebFetchError.network(reason) {
            XCTAssertTrue(reason.contains("timed out") && reason.contains("acme.example"), reason)
        }
    }

    func testRedirectsAreFollowedToPinnedAddresses() async throws {
        let site = try StubSite { request, port in
            switch request.path {
            case "/": HTTPResponse(status: 302, headers: [("Location", "/next")])
            case "/next": HTTPResponse(status: 307, headers: [("Location", "http://www.acme.example:\(port)/home")])
            default: StubSite.page
            }
        }
        defer { site.server.stop() }
        let resolver = ScriptedResolver(["acme.example": [["127.0.0.1"], ["10.0.0.1"]], "www.acme.example": [["127.0.0.1"], ["10.0.0.2"]]])
        let page = try await fetch("http://acme.example:\(site.port)/", resolver: resolver).get()
        XCTAssertEqual(page.url.absoluteString, "http://www.acme.example:\(site.port)/home")
        XCTAssertEqual(site.received.map(\.path), ["/", "/next", "/home"])
        XCTAssertEqual(site.received.last?.header("host"), "www.acme.example:\(site.port)")
        XCTAssertEqual(resolver.questions(for: "acme.example"), 1)
        XCTAssertEqual(resolver.questions(for: "www.acme.example"), 1)
    }

    func testTooManyRedirectsStatusesTypesAndSizesKeepTheirRules() async throws {
        let site = try StubSite { request, _ in
            switch request.path {
            case "/loop": HTTPResponse(status: 302, headers: [("Location", "/loop")])
            case "/json": HTTPResponse.json("{}")
            case "/big": HTTPResponse(status: 200, headers: [("Content-Type", "text/html")], body: Data(count: 4096))
            default: HTTPResponse.text("gone", status: 404)
            }
        }
        defer { site.server.stop() }
        let resolver = ScriptedResolver(["acme.example": [["127.0.0.1"]]])
        let base = "http://acme.example:\(site.port)"
        let loop = try await fetch(base + "/loop", resolver: resolver)
        XCTAssertEqual(loop.failure, .redirectRefused("more than 5 redirects"))
        let json = try await fetch(base + "/json", resolver: resolver)
        XCTAssertEqual(json.failure, .notHTML("application/json"))
        let big = try await fetch(base + "/big", resolver: resolver, maxBytes: 1024)
        XCTAssertEqual(big.failure, .tooLarge(limit: 1024))
        let missing = try await fetch(base + "/missing", resolver: resolver)
        XCTAssertEqual(missing.failure, .status(404))
    }

    func testTheLoopbackSwitchStillRefusesPrivateAddresses() async throws {
        let resolver = ScriptedResolver(["acme.example": [["192.168.1.10"]]])
        let result = try await fetch("http://acme.example:8080/", resolver: resolver)
        XCTAssertEqual(result.failure, .internalAddress("acme.example → 192.168.1.10"))
    }
}
