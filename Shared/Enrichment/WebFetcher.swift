import Foundation
import Runtime

/// Which URLs the web enricher may fetch for one request: HTTPS on the company's own domain
/// (or `www.` the domain), nothing else.
public struct WebAllowList: Hashable, Sendable {
    /// The company's domain, lower-cased, without `www.`.
    public let domain: String
    /// Tests only: also allow `http://`, any port and the loopback hosts `127.0.0.1` and
    /// `localhost`, and let domains resolve to loopback addresses; private, link-local and other
    /// non-public addresses are refused all the same (see ``PublicAddressGuard``).
    public let isLoopbackHTTPAllowed: Bool

    /// Why a request cannot be fetched.
    public enum Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        /// The domain is not a host name.
        case invalidDomain(String)
        /// The URL cannot be parsed or has no host.
        case invalidURL(String)
        /// Not HTTPS.
        case scheme(String)
        /// Another host than the domain.
        case host(String, domain: String)
        /// Credentials in the URL.
        case credentials

        /// What is wrong.
        public var description: String {
            switch self {
            case .invalidDomain(let domain): "\"\(domain)\" is not a domain name"
            case .invalidURL(let url): "\"\(url)\" is not an absolute URL"
            case .scheme(let scheme): "scheme \(scheme) is not allowed; only https"
            case .host(let host, let domain): "host \(host) is not the company's domain \(domain)"
            case .credentials: "URLs with user or password are not fetched"
            }
        }
    }

    /// The allow-list of `domain` (`acme.example`, `www.acme.example`, `https://acme.example/x` are
    /// all read as `acme.example`).
    public init(domain text: String, isLoopbackHTTPAllowed: Bool = false) throws(Refusal) {
        var candidate = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if candidate.contains("://"), let host = URLComponents(string: candidate)?.host { candidate = host }
        if candidate.hasSuffix(".") { candidate.removeLast() }
        if candidate.hasPrefix("www.") { candidate.removeFirst(4) }
        let labels = candidate.split(separator: ".", omittingEmptySubsequences: false)
        let isHostName = !candidate.isEmpty && candidate.count <= 253 && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        let isLoopback = candidate == "localhost" || candidate == "127.0.0.1"
        let isIPLiteral = labels.count == 4 && labels.allSatisfy { UInt8($0) != nil }
        guard isHostName, isLoopback ? isLoopbackHTTPAllowed : (labels.count >= 2 && !isIPLiteral) else {
            throw .invalidDomain(text)
        }
        domain = candidate
        self.isLoopbackHTTPAllowed = isLoopbackHTTPAllowed
    }

    /// Whether `url` may be fetched; the reason when not.
    public func check(_ url: URL) -> Refusal? {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: true), let host = components.host?.lowercased(),
              let scheme = components.scheme?.lowercased() else { return .invalidURL(url.absoluteString) }
        if components.user != nil || components.password != nil { return .credentials }
        let schemeAllowed = scheme == "https" || (isLoopbackHTTPAllowed && scheme == "http")
        guard schemeAllowed else { return .scheme(scheme) }
        guard host == domain || host == "www." + domain else { return .host(host, domain: domain) }
        if components.port != nil && !isLoopbackHTTPAllowed && components.port != 443 { return .host("\(host):\(components.port!)", domain: domain) }
        return nil
    }

    /// The page to fetch: `text` when given and allowed, else `https://<domain>/`.
    public func startURL(_ text: String?) throws(Refusal) -> URL {
        guard let text, !text.isEmpty else {
            guard let url = URL(string: "https://\(domain)/") else { throw .invalidDomain(domain) }
            return url
        }
        guard let url = URL(string: text.trimmingCharacters(in: .whitespacesAndNewlines)), url.scheme != nil else {
            throw .invalidURL(text)
        }
        if let refusal = check(url) { throw refusal }
        return url
    }
}

/// Why a fetch failed.
public enum WebFetchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A redirect left the allow-list, or there were too many.
    case redirectRefused(String)
    /// The status was not 2xx; for a 429 or a 503, the wait its `Retry-After` asked for, if any.
    case status(Int, retryAfter: Duration? = nil)
    /// The body grew past the bound.
    case tooLarge(limit: Int)
    /// Not an HTML document.
    case notHTML(String)
    /// The connection failed, broke or ran out of time: refused, reset, no route, closed before
    /// the response was complete, the fetch's timeout over, or the fetch cancelled.
    case network(String)
    /// The response broke HTTP/1.1 or a bound on its head: not HTTP/1.x, a head or trailer over
    /// 64 KiB, an invalid length or chunk, too many interim heads.
    case badResponse(String)
    /// TLS failed other than by the connection: the site's certificate not accepted (not
    /// trusted, for another name), a handshake or protocol error, the trusted roots not loaded.
    case tls(String)
    /// The host's name resolves to no address.
    case unresolved(String)
    /// The resolver cannot answer for the host's name for now (getaddrinfo's `EAI_AGAIN`).
    case temporarilyUnresolved(String)
    /// The domain resolves to a loopback, private or otherwise non-public address ("host → address").
    case internalAddress(String)
    /// The process began to stop (``Runtime/GracefulShutdown``), or the fetch was cancelled,
    /// while it waited to be tried again: not done, for the request's next owner to fetch.
    case stopped

    /// Whether a later try may succeed: a connection that failed (``network(_:)``), a resolver
    /// that cannot answer for now (``temporarilyUnresolved(_:)``), a 5xx or a 429. Not any other
    /// 4xx, a page not HTML or too large, a bad response, TLS refusing the site, a redirect
    /// elsewhere, a name without addresses or a non-public address.
    public var isRetriable: Bool {
        switch self {
        case .network, .temporarilyUnresolved: true
        case .status(let code, _): code >= 500 || code == 429
        case .redirectRefused, .tooLarge, .notHTML, .badResponse, .tls, .unresolved, .internalAddress, .stopped: false
        }
    }

    /// What went wrong.
    public var description: String {
        switch self {
        case .redirectRefused(let reason): "redirect refused: \(reason)"
        case .status(let code, nil): "HTTP status \(code)"
        case .status(let code, let retryAfter?): "HTTP status \(code) (retry after \(retryAfter))"
        case .tooLarge(let limit): "the page is larger than \(limit) bytes"
        case .notHTML(let type): "not an HTML page (Content-Type \(type))"
        case .network(let reason): "network: \(reason)"
        case .badResponse(let reason): "bad response: \(reason)"
        case .tls(let reason): "TLS: \(reason)"
        case .unresolved(let host): "\(host) has no address"
        case .temporarilyUnresolved(let host): "\(host): temporary failure in name resolution"
        case .internalAddress(let address): "not fetched: the domain resolves to a non-public address (\(address))"
        case .stopped: "stopped before it was fetched again"
        }
    }
}

/// When a fetch that failed for a reason that may pass (``WebFetchError/isRetriable``) is tried
/// again: after each of ``delays`` (one more try per delay), or after the `Retry-After` of a 429
/// or 503 when longer and at most ``maxRetryAfter``, and only while the fetch's one timeout
/// leaves ``minimumTryTime`` after the wait. Past either, the failure stands
/// (``RetryPolicy/LongerRetryAfter/giveUp``).
public struct WebFetchRetry: Hashable, Sendable {
    /// The delays and the `Retry-After` bound.
    private var policy: RetryPolicy
    /// The time the fetch must have left after a wait for another try to be made.
    public var minimumTryTime: Duration

    /// The waits before each further try.
    public var delays: [Duration] {
        get { policy.delays }
        set { policy.delays = newValue }
    }

    /// The longest `Retry-After` waited for; a site asking for more is not tried again.
    public var maxRetryAfter: Duration {
        get { policy.maxRetryAfter }
        set { policy.maxRetryAfter = newValue }
    }

    /// A policy; the defaults make at most three tries, 0.5 s and 2 s apart.
    public init(delays: [Duration] = [.milliseconds(500), .seconds(2)], maxRetryAfter: Duration = .seconds(5),
                minimumTryTime: Duration = .seconds(1)) {
        self.policy = RetryPolicy(delays: delays, maxRetryAfter: maxRetryAfter, longerRetryAfter: .giveUp)
        self.minimumTryTime = minimumTryTime
    }

    /// The wait before another try after `error` ended try number `attempt` (from 1), with
    /// `timeLeft` of the fetch's time; nil when there is to be none.
    public func wait(after error: WebFetchError, attempt: Int, timeLeft: Duration) -> Duration? {
        guard error.isRetriable else { return nil }
        let retryAfter: Duration? = if case .status(_, let retryAfter?) = error { retryAfter } else { nil }
        guard let wait = policy.wait(afterTry: attempt, retryAfter: retryAfter) else { return nil }
        return timeLeft - wait >= minimumTryTime ? wait : nil
    }
}

/// A fetched page.
public struct WebPage: Sendable {
    /// The URL after redirects.
    public var url: URL
    /// The body, decoded as UTF-8 (invalid bytes replaced).
    public var html: String
}

/// Fetches one page over HTTP/1.1: only URLs the allow-list accepts, only from addresses the
/// ``PublicAddressGuard`` checked, redirects only within the allow-list (at most 5), a bounded
/// body (reading stops past ``maxBytes``), one timeout for the whole fetch, tries again included
/// (``retry``: a failure that may pass, a 5xx, a 429, a connection refused, reset or closed
/// early, a resolver that cannot answer for now, is fetched again after a short wait), no
/// cookies, no cache.
/// Each address of a host has an equal share of the time left to connect (the last all of it),
/// so one that never answers leaves time for the next.
///
/// Pinning, against DNS rebinding: each host of a fetch (the domain and `www.` the domain, the
/// only ones the allow-list lets a fetch or its redirects reach) is resolved once, by the guard,
/// and every address it returned is checked; a single non-public one refuses the fetch before
/// any connection (a host the resolver could not answer for is asked again at the next try,
/// still before any connection). Every connection of the fetch, the first request and each redirect hop, goes
/// to one of those checked addresses over a socket this type opens itself: nothing resolves the
/// name again, so an answer that changes after the check is never used. For `https` the TLS
/// handshake (OpenSSL) sends the host as SNI and requires a certificate for the host chaining to
/// a trusted root, so a pinned address serves only what the real site's certificate covers.
/// Redirects are followed here, not by a library: each `Location` is checked against the
/// allow-list and the next hop connects to its host's pinned addresses.
///
/// Limits, honestly: pinning holds for one fetch (within its timeout); a later fetch of the same
/// domain resolves again and is checked again. The guard trusts the resolver's answers; an
/// address that is public but routes inside (a gateway translating for NAT64 outside the
/// refused prefixes, a misconfigured network) is for egress rules to stop. Responses are read
/// as sent (`Accept-Encoding: identity`); a server compressing anyway yields unreadable text.
public struct WebFetcher: Sendable {
    /// Largest body read.
    public var maxBytes: Int
    /// Timeout of the whole fetch, redirects included, seconds (at least 1).
    public var timeoutSeconds: Double
    /// The `User-Agent` sent.
    public var userAgent: String
    /// Resolves each host once and refuses non-public addresses.
    public var addressGuard: PublicAddressGuard
    /// A PEM file of the roots HTTPS certificates must chain to; nil: the system's roots.
    public var trustedCertificatesFile: String?
    /// When a failure that may pass is fetched again, within the one timeout.
    public var retry: WebFetchRetry

    private static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]
    private static let maxRedirects = 5

    /// Creates a fetcher.
    public init(maxBytes: Int = 1 << 20, timeoutSeconds: Double = 10, userAgent: String = "lead-pipeline-web-enricher/1",
                addressGuard: PublicAddressGuard = PublicAddressGuard(), trustedCertificatesFile: String? = nil,
                retry: WebFetchRetry = WebFetchRetry()) {
        self.retry = retry
        self.maxBytes = maxBytes
        self.timeoutSeconds = max(1, timeoutSeconds.rounded(.up))
        self.userAgent = userAgent
        self.addressGuard = addressGuard
        self.trustedCertificatesFile = trustedCertificatesFile
    }

    /// Fetches `url`, which the caller checked against `allowList`, trying again as ``retry``
    /// says within the one timeout; every try connects to the addresses checked before the first
    /// connection (a host the resolver could not answer for is resolved again at the next try).
    /// A wait before another try ends when `shutdown` begins or the task is cancelled, and the
    /// fetch fails with ``WebFetchError/stopped``: nothing is fetched again on the way out.
    public func fetch(_ url: URL, allowList: WebAllowList,
                      stoppingOn shutdown: GracefulShutdown = GracefulShutdown()) async throws(WebFetchError) -> WebPage {
        let deadline = FetchDeadline(seconds: timeoutSeconds)
        var pinned: [String: [String]] = [:]
        var attempt = 0
        while true {
            do {
                // Both hosts checked before any connection; one the resolver could not answer
                // for (``WebFetchError/temporarilyUnresolved(_:)``) is asked again at the next try.
                // The other host's failure fails no fetch: it is needed only if a redirect leads
                // there, which asks again.
                let ownHost = try FetchHop(url).host
                for host in [allowList.domain, "www." + allowList.domain] where pinned[host] == nil {
                    do {
                        pinned[host] = try await checkedAddresses(of: host, allowList, deadline: deadline)
                    } catch .temporarilyUnresolved where host != ownHost {
                        continue
                    }
                }
                return try await fetchOnce(url, allowList: allowList, pinned: &pinned, deadline: deadline)
            } catch {
                attempt += 1
                guard let wait = retry.wait(after: error, attempt: attempt, timeLeft: deadline.timeLeft) else { throw error }
                guard await shutdown.sleep(for: wait) else { throw .stopped }
            }
        }
    }

    /// One try of ``fetch(_:allowList:stoppingOn:)``: the request and its redirects, each hop to
    /// its host's addresses in `pinned` (resolved and checked here for a host not there yet).
    private func fetchOnce(_ url: URL, allowList: WebAllowList, pinned: inout [String: [String]],
                           deadline: FetchDeadline) async throws(WebFetchError) -> WebPage {
        var current = url
        var redirects = 0
        while true {
            let hop = try FetchHop(current)
            if pinned[hop.host] == nil {
                pinned[hop.host] = try await checkedAddresses(of: hop.host, allowList, deadline: deadline)
            }
            guard let addresses = pinned[hop.host], !addresses.isEmpty else { throw .unresolved(hop.host) }
            switch try await perform(hop, addresses: addresses, deadline: deadline) {
            case .page(let body):
                return WebPage(url: current, html: String(decoding: body, as: UTF8.self))
            case .redirect(let location):
                guard let target = URL(string: location, relativeTo: current)?.absoluteURL else {
                    throw .redirectRefused("to \(location): not a URL")
                }
                redirects += 1
                if let refusal = allowList.check(target) { throw .redirectRefused("to \(target.absoluteString): \(refusal)") }
                if redirects > Self.maxRedirects { throw .redirectRefused("more than \(Self.maxRedirects) redirects") }
                current = target
            }
        }
    }

    /// `host`'s addresses, checked (``PublicAddressGuard/checkedAddresses(of:isLoopbackAllowed:)``)
    /// within the fetch's time: a resolver that does not answer by then (name servers that never
    /// answer: glibc waits 5 s twice a server) fails the fetch, its lookup left to end by itself.
    private func checkedAddresses(of host: String, _ allowList: WebAllowList, deadline: FetchDeadline) async throws(WebFetchError) -> [String] {
        let (addressGuard, isLoopbackAllowed) = (self.addressGuard, allowList.isLoopbackHTTPAllowed)
        let checked = await result(within: deadline.timeLeft) { () -> Result<[String], WebFetchError> in
            do throws(WebFetchError) {
                return .success(try await addressGuard.checkedAddresses(of: host, isLoopbackAllowed: isLoopbackAllowed))
            } catch {
                return .failure(error)
            }
        }
        guard let checked else { throw .network("timed out resolving \(host)") }
        return try checked.get()
    }

    /// What one hop's response says.
    private enum HopOutcome: Sendable {
        case page([UInt8])
        case redirect(String)
    }

    /// One request on a connection of its own, on a thread of its own: the socket calls block.
    private func perform(_ hop: FetchHop, addresses: [String], deadline: FetchDeadline) async throws(WebFetchError) -> HopOutcome {
        let result: Result<HopOutcome, WebFetchError> = await withTaskCancellationHandler {
            await onOwnThread(named: "web-fetch") {
                Result { () throws(WebFetchError) in try exchange(hop, addresses: addresses, deadline: deadline) }
            }
        } onCancel: {
            deadline.cancel()
        }
        return try result.get()
    }

    private func exchange(_ hop: FetchHop, addresses: [String], deadline: FetchDeadline) throws(WebFetchError) -> HopOutcome {
        let socket = try SocketConnection.connect(to: addresses, port: hop.port, deadline: deadline)
        let transport: any FetchTransport = if hop.isTLS {
            try TLSConnection(over: socket, host: hop.host, trustedCertificatesFile: trustedCertificatesFile)
        } else {
            socket
        }
        try transport.write(Array(hop.requestHead(userAgent: userAgent).utf8))
        var reader = HTTPResponseReader { () throws(WebFetchError) in try transport.read(maximum: 16 * 1024) }
        let head = try reader.readHead()
        if Self.redirectStatuses.contains(head.status), let location = head.value("location") { return .redirect(location) }
        guard (200..<300).contains(head.status) else {
            throw .status(head.status, retryAfter: [429, 503].contains(head.status) ? head.retryAfter(now: Date()) : nil)
        }
        let type = (head.value("content-type") ?? "").lowercased()
        if !type.isEmpty && !type.contains("html") { throw .notHTML(type) }
        return .page(try reader.readBody(of: head, limit: maxBytes))
    }
}

/// Where one request of a fetch goes and what it asks for.
struct FetchHop: Sendable {
    /// The host, lower-cased: the key of its pinned addresses and the TLS server name.
    var host: String
    var port: Int
    var isTLS: Bool
    /// Path and query as in the URL (`/` when empty).
    var target: String
    /// The `Host` header: the host, with the port when it is not the scheme's default.
    var hostHeader: String

    init(_ url: URL) throws(WebFetchError) {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: true), let host = components.host?.lowercased(),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw .redirectRefused("\(url.absoluteString) is not an http(s) URL")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        self.host = host
        self.port = components.port ?? defaultPort
        self.isTLS = scheme == "https"
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        self.target = components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
        self.hostHeader = port == defaultPort ? host : "\(host):\(port)"
    }

    /// The request head: a GET that asks for HTML, uncompressed, on a connection closed after it.
    func requestHead(userAgent: String) -> String {
        [
            "GET \(target) HTTP/1.1", "Host: \(hostHeader)", "User-Agent: \(userAgent)",
            "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.1", "Accept-Encoding: identity", "Connection: close", "", "",
        ].joined(separator: "\r\n")
    }
}
