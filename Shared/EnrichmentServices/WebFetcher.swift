import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
    /// The status was not 2xx.
    case status(Int)
    /// The body grew past the bound.
    case tooLarge(limit: Int)
    /// Not an HTML document.
    case notHTML(String)
    /// Network problem or timeout.
    case network(String)
    /// The domain resolves to a loopback, private or otherwise non-public address ("host → address").
    case internalAddress(String)

    /// Whether a later try may succeed.
    public var isRetriable: Bool {
        switch self {
        case .network: true
        case .status(let code): code >= 500 || code == 429 || code == 408
        case .redirectRefused, .tooLarge, .notHTML, .internalAddress: false
        }
    }

    /// What went wrong.
    public var description: String {
        switch self {
        case .redirectRefused(let reason): "redirect refused: \(reason)"
        case .status(let code): "HTTP status \(code)"
        case .tooLarge(let limit): "the page is larger than \(limit) bytes"
        case .notHTML(let type): "not an HTML page (Content-Type \(type))"
        case .network(let reason): "network: \(reason)"
        case .internalAddress(let address): "not fetched: the domain resolves to a non-public address (\(address))"
        }
    }
}

/// A fetched page.
public struct WebPage: Sendable {
    /// The URL after redirects.
    public var url: URL
    /// The body, decoded as UTF-8 (invalid bytes replaced).
    public var html: String
}

/// Fetches one page with URLSession: only URLs the allow-list accepts, on a domain that resolves to
/// public addresses only (``PublicAddressGuard``), redirects only within the allow-list (at most
/// 5), a bounded body (the transfer is cancelled past ``maxBytes``), a timeout, no cookies, no cache.
public struct WebFetcher: Sendable {
    /// Largest body read.
    public var maxBytes: Int
    /// Timeout of the whole fetch, seconds (at least 1).
    public var timeoutSeconds: Double
    /// The `User-Agent` sent.
    public var userAgent: String
    /// Refuses domains that resolve to non-public addresses.
    public var addressGuard: PublicAddressGuard

    /// Creates a fetcher.
    public init(maxBytes: Int = 1 << 20, timeoutSeconds: Double = 10, userAgent: String = "lead-pipeline-web-enricher/1",
                addressGuard: PublicAddressGuard = PublicAddressGuard()) {
        self.maxBytes = maxBytes
        self.timeoutSeconds = max(1, timeoutSeconds.rounded(.up))
        self.userAgent = userAgent
        self.addressGuard = addressGuard
    }

    /// Fetches `url`, which the caller checked against `allowList`.
    public func fetch(_ url: URL, allowList: WebAllowList) async throws(WebFetchError) -> WebPage {
        for host in [allowList.domain, "www." + allowList.domain] {
            _ = try await addressGuard.checkedAddresses(of: host, isLoopbackAllowed: allowList.isLoopbackHTTPAllowed)
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        let delegate = FetchDelegate(allowList: allowList, maxBytes: maxBytes)
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeoutSeconds)
        request.setValue(userAgent, forHTTPHeaderField: "User-Agent")
        request.setValue("text/html,application/xhtml+xml;q=0.9,*/*;q=0.1", forHTTPHeaderField: "Accept")
        let result: Result<(URL, Data), WebFetchError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                delegate.start(session.dataTask(with: request), continuation: continuation)
            }
        } onCancel: {
            delegate.cancel()
        }
        switch result {
        case .success(let (finalURL, data)):
            return WebPage(url: finalURL, html: String(decoding: data, as: UTF8.self))
        case .failure(let error):
            throw error
        }
    }
}

/// Collects one data task's body under the fetcher's rules and resumes its continuation once.
private final class FetchDelegate: NSObject, URLSessionDataDelegate, Sendable {
    private struct State {
        var task: URLSessionDataTask?
        var continuation: CheckedContinuation<Result<(URL, Data), WebFetchError>, Never>?
        var data = Data()
        var failure: WebFetchError?
        var finalURL: URL?
        var redirects = 0
    }

    private let allowList: WebAllowList
    private let maxBytes: Int
    private let state = Mutex(State())

    init(allowList: WebAllowList, maxBytes: Int) {
        self.allowList = allowList
        self.maxBytes = maxBytes
    }

    func start(_ task: URLSessionDataTask, continuation: CheckedContinuation<Result<(URL, Data), WebFetchError>, Never>) {
        state.withLock {
            $0.task = task
            $0.continuation = continuation
        }
        task.resume()
    }

    func cancel() {
        let task = state.withLock { state in
            if state.failure == nil { state.failure = .network("cancelled") }
            return state.task
        }
        task?.cancel()
    }

    private func fail(_ error: WebFetchError, _ task: URLSessionTask) {
        record(error)
        task.cancel()
    }

    /// Keeps the first failure; the task ends on its own.
    private func record(_ error: WebFetchError) {
        state.withLock { if $0.failure == nil { $0.failure = error } }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        let count = state.withLock { state in
            state.redirects += 1
            return state.redirects
        }
        // A refused redirect is declined, not cancelled: the task then ends with the 3xx response
        // and the recorded failure wins. Cancelling before answering makes FoundationNetworking
        // trap ("Received callback for HTTP redirection, but we're not waiting for it").
        guard let target = request.url else {
            record(.redirectRefused("no location"))
            return completionHandler(nil)
        }
        if let refusal = allowList.check(target) {
            record(.redirectRefused("to \(target.absoluteString): \(refusal)"))
            return completionHandler(nil)
        }
        if count > 5 {
            record(.redirectRefused("more than 5 redirects"))
            return completionHandler(nil)
        }
        completionHandler(request)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        // Refusals answer .cancel, which cancels the task; cancelling it first as well would
        // answer a callback FoundationNetworking no longer waits for.
        guard let http = response as? HTTPURLResponse else {
            record(.network("not an HTTP response"))
            return completionHandler(.cancel)
        }
        if let url = http.url, let refusal = allowList.check(url) {
            record(.redirectRefused("ended at \(url.absoluteString): \(refusal)"))
            return completionHandler(.cancel)
        }
        guard (200..<300).contains(http.statusCode) else {
            record(.status(http.statusCode))
            return completionHandler(.cancel)
        }
        let type = (http.value(forHTTPHeaderField: "Content-Type") ?? "").lowercased()
        if !type.isEmpty && !type.contains("html") {
            record(.notHTML(type))
            return completionHandler(.cancel)
        }
        if http.expectedContentLength > Int64(maxBytes) {
            record(.tooLarge(limit: maxBytes))
            return completionHandler(.cancel)
        }
        state.withLock { $0.finalURL = http.url }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let isTooLarge = state.withLock { state in
            state.data.append(data)
            return state.data.count > maxBytes
        }
        if isTooLarge { fail(.tooLarge(limit: maxBytes), dataTask) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (continuation, result) = state.withLock { state -> (CheckedContinuation<Result<(URL, Data), WebFetchError>, Never>?, Result<(URL, Data), WebFetchError>) in
            defer { state.continuation = nil }
            if let failure = state.failure { return (state.continuation, .failure(failure)) }
            if let error { return (state.continuation, .failure(.network(error.localizedDescription))) }
            if let response = task.response as? HTTPURLResponse, !(200..<300).contains(response.statusCode) {
                return (state.continuation, .failure(.status(response.statusCode)))
            }
            let url = state.finalURL ?? task.originalRequest?.url ?? URL(string: "about:blank")!
            return (state.continuation, .success((url, state.data)))
        }
        continuation?.resume(returning: result)
    }
}
