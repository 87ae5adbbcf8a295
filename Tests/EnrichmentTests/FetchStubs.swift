@testable import Enrichment
import Foundation
import Runtime
import Synchronization

/// Scripted DNS: each host's answers in order, the last repeated, after the temporary failures
/// (getaddrinfo's `EAI_AGAIN`) of its first questions; counts the questions.
final class ScriptedResolver: Sendable {
    private let answers: [String: [[String]]]
    private let temporaryFailures: [String: Int]
    private let asked = Mutex<[String: Int]>([:])

    init(_ answers: [String: [[String]]], temporarilyFailing temporaryFailures: [String: Int] = [:]) {
        self.answers = answers
        self.temporaryFailures = temporaryFailures
    }

    func questions(for host: String) -> Int { asked.withLock { $0[host] ?? 0 } }

    var resolve: PublicAddressGuard.Resolver {
        { host throws(WebFetchError) in
            var index = self.asked.withLock { asked in
                defer { asked[host, default: 0] += 1 }
                return asked[host] ?? 0
            }
            let failures = self.temporaryFailures[host] ?? 0
            guard index >= failures else { throw .temporarilyUnresolved(host) }
            index -= failures
            guard let script = self.answers[host], !script.isEmpty else { return [] }
            return script[min(index, script.count - 1)]
        }
    }
}

/// A stub site on 127.0.0.1 that records the requests it answered; `route` is given each
/// request and the port it was sent to.
final class StubSite: Sendable {
    private final class RequestLog: Sendable {
        let requests = Mutex<[HTTPRequest]>([])
    }

    /// A page whose title is "Acme".
    static let page = HTTPResponse(status: 200, headers: [("Content-Type", "text/html")], body: Data("<title>Acme</title>".utf8))

    let server: HTTPServer
    private let log = RequestLog()

    init(_ route: @escaping @Sendable (HTTPRequest, Int) -> HTTPResponse) throws {
        let log = self.log
        server = try HTTPServer { request in
            let port = Int(request.header("host")?.split(separator: ":").last ?? "") ?? 0
            log.requests.withLock { $0.append(request) }
            return route(request, port)
        }
    }

    var port: Int { server.port }
    var received: [HTTPRequest] { log.requests.withLock { $0 } }
}

/// Fetches `url` of `domain` with `resolver`'s answers: the page, or why not.
func fetch(_ url: String, domain: String = "acme.example", resolver: ScriptedResolver, timeoutSeconds: Double = 2,
           maxBytes: Int = 1 << 20, isLoopbackHTTPAllowed: Bool = true,
           retry: WebFetchRetry = WebFetchRetry()) async throws -> Result<WebPage, WebFetchError> {
    let allowList = try WebAllowList(domain: domain, isLoopbackHTTPAllowed: isLoopbackHTTPAllowed)
    let fetcher = WebFetcher(maxBytes: maxBytes, timeoutSeconds: timeoutSeconds,
                             addressGuard: PublicAddressGuard(resolve: resolver.resolve), retry: retry)
    let start = try allowList.startURL(url)
    do {
        return .success(try await fetcher.fetch(start, allowList: allowList))
    } catch {
        return .failure(error)
    }
}

extension Result {
    /// The error, nil on success.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
