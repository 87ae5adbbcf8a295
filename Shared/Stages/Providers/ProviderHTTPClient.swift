import Foundation
import JSONCodec
import LeadModel
import LeadRules
import Runtime
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The HTTP layer every real provider shares: one configured host, a bearer credential, a
/// timeout, the provider's ``RateLimiter`` and the mapping of status codes to ``ProviderError``.
///
/// - Only ``baseURL``'s scheme, host and port are ever called: paths are built from segments that
///   are percent-encoded one by one, the result is checked against the base, and redirects are
///   refused (a 3xx is a permanent error), so nothing from lead or provider data can send a
///   request elsewhere.
/// - Every request first takes a slot from the limiter. A 429 pauses the limiter until
///   `Retry-After` / `x-rate-limit-reset` / `x-ratelimit-reset` (5 s when none is given), so all
///   callers of the provider wait; `x-rate-limit-remaining: 0` on any reply does the same ahead of
///   the 429.
/// - Status mapping: 2xx → the reply; 404 → ``ProviderError/notFound``; 429 →
///   ``ProviderError/rateLimited(retryAfter:)``; 5xx, 408, timeouts and network errors →
///   ``ProviderError/transient(_:)``; 401 (and 403 where ``ForbiddenMeaning/credentialsRejected``)
///   → with ``Rejection/stop`` the client stops for ``stopSeconds``: this and every call meanwhile
///   fail with ``ProviderError/unauthorized(_:)`` (retriable) without a request; then one call
///   goes out alone, and any answer but a rejection ends the stop, while a rejection stops it
///   again (a revoked key costs one call per stop, and a rejection the vendor's gateway answered
///   once does not last until a restart); with
///   ``Rejection/report`` the call fails with
///   ``ProviderError/unauthorized(_:)`` and the client goes on; 403
///   where ``ForbiddenMeaning/outOfCredits``, and the ``outOfCreditsStatuses`` →
///   ``ProviderError/outOfCredits``; other codes → permanent.
/// - A reply body over ``maxReplyBytes`` (announced by its length, or counted as it streams)
///   ends the call with ``ProviderError/permanent(_:)`` at once; it is never held whole.
/// - The credential is sent as `Authorization: Bearer …` or in a vendor's own header
///   (``Authentication``), and never logged.
public final class ProviderHTTPClient: Sendable {
    /// What a 403 means at this provider.
    public enum ForbiddenMeaning: Sendable {
        /// The key is not allowed: stop the provider (X).
        case credentialsRejected
        /// The account's credits are exhausted (Proxycurl-shaped APIs).
        case outOfCredits
    }

    /// How the credential is sent.
    public enum Authentication: Sendable, Equatable {
        /// `Authorization: Bearer <key>` (X, model servers).
        case bearer
        /// The key alone in this header (`X-Api-Key` at People Data Labs and Apollo).
        case header(String)
    }

    /// What a rejected credential (401, or a 403 meaning ``ForbiddenMeaning/credentialsRejected``) does.
    public enum Rejection: Sendable, Equatable {
        /// Stop the client for ``ProviderHTTPClient/stopSeconds``, then try again (a single-vendor setup).
        case stop
        /// Fail the call with ``ProviderError/unauthorized(_:)`` and keep going: a vendor waterfall
        /// opens that vendor's circuit and tries it again later.
        case report
    }

    /// A successful (2xx) reply.
    public struct Reply: Sendable {
        /// The status code.
        public var status: Int
        /// Headers, names lower-cased.
        public var headers: [String: String]
        /// The body.
        public var body: Data
    }

    /// The provider's name in logs and errors (`x`, `linkedin`, `model`).
    public let name: String
    /// The only scheme, host and port called, plus a path prefix.
    public let baseURL: URL
    /// Timeout of one call, whole seconds (at least 1).
    public let timeoutSeconds: Double
    /// The limiter every call of this client takes a slot from; nil for none.
    public let limiter: RateLimiter?
    private let credential: Secret
    private let forbidden: ForbiddenMeaning
    private let authentication: Authentication
    private let rejection: Rejection
    private let outOfCreditsStatuses: Set<Int>
    private let session: URLSession
    private let transfers: BoundedTransfers
    private let logger: Logger
    /// Why the client stopped, and until when.
    private let stop = Mutex<(reason: String, until: Date)?>(nil)
    /// The clock of the stop.
    private let now: @Sendable () -> Date

    /// How long a rejected credential stops the client (``Rejection/stop``).
    public let stopSeconds: Double

    /// The largest reply body read, in bytes; a larger one fails the call.
    public let maxReplyBytes: Int

    /// The default ``maxReplyBytes``: 4 MiB, ten times the largest reply a vendor documents
    /// (a page of 100 posts with their expansions).
    public static let defaultMaxReplyBytes = 4 << 20

    /// Seconds a 429 without a reset header pauses the provider.
    public static let defaultRateLimitPause: Double = 5

    /// Creates the client and its `URLSession` (ephemeral: no cookies, no cache, no redirects).
    /// `timeoutSeconds` is rounded up to whole seconds, at least 1: FoundationNetworking on Linux
    /// truncates fractions, and a timeout below one second would expire at once.
    /// `outOfCreditsStatuses` are further codes meaning ``ProviderError/outOfCredits`` at this
    /// vendor (402 at People Data Labs). `now` is the clock of a stop (tests set it).
    public init(
        name: String, baseURL: URL, credential: Secret, timeoutSeconds: Double, limiter: RateLimiter?,
        forbidden: ForbiddenMeaning, authentication: Authentication = .bearer, rejection: Rejection = .stop,
        stopSeconds: Double = 300, now: @escaping @Sendable () -> Date = Date.init,
        outOfCreditsStatuses: Set<Int> = [], maxReplyBytes: Int = ProviderHTTPClient.defaultMaxReplyBytes, logger: Logger
    ) {
        self.stopSeconds = stopSeconds
        self.now = now
        self.maxReplyBytes = max(1, maxReplyBytes)
        self.authentication = authentication
        self.rejection = rejection
        self.outOfCreditsStatuses = outOfCreditsStatuses
        self.name = name
        self.baseURL = baseURL
        let timeoutSeconds = max(1, timeoutSeconds.rounded(.up))
        self.timeoutSeconds = timeoutSeconds
        self.limiter = limiter
        self.credential = credential
        self.forbidden = forbidden
        self.logger = logger.with(["provider": name])
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.httpMaximumConnectionsPerHost = 32
        transfers = BoundedTransfers(maxBytes: self.maxReplyBytes)
        session = URLSession(configuration: configuration, delegate: transfers, delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Whether a call may go out now: nil, or why not. The first call once a stop has run out
    /// goes out alone, as a probe: the stop is held for the others (another ``stopSeconds``) until
    /// its answer ends the stop, or a rejection stops the client again.
    private func admission() -> String? {
        let now = now()
        return stop.withLock { stop -> String? in
            guard let current = stop else { return nil }
            if now < current.until { return current.reason }
            stop = (current.reason, now.addingTimeInterval(stopSeconds))
            return nil
        }
    }

    /// Why the client stopped (credentials rejected), or nil while it works.
    public var stoppedReason: String? {
        let now = now()
        return stop.withLock { stop in stop.flatMap { now < $0.until ? $0.reason : nil } }
    }

    /// Sends one request to `baseURL` + `/` + the encoded `path` segments.
    /// - Parameters:
    ///   - path: segments, each percent-encoded on its own (a `/` inside one stays data).
    ///   - body: JSON to send (`Content-Type: application/json`).
    /// - Throws: ``ProviderError`` per the type's documentation.
    public func send(
        _ method: String = "GET", path: [String], query: [URLQueryItem] = [], body: Data? = nil
    ) async throws(ProviderError) -> Reply {
        if let reason = stoppedReason { throw .unauthorized(reason) }
        let url = try makeURL(path: path, query: query)
        if let limiter { try await limiter.acquire() }
        if let reason = admission() { throw .unauthorized(reason) }

        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeoutSeconds)
        request.httpMethod = method
        switch authentication {
        case .bearer: credential.withValue { request.setValue("Bearer \($0)", forHTTPHeaderField: "Authorization") }
        case .header(let header): credential.withValue { request.setValue($0, forHTTPHeaderField: header) }
        }
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }

        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await transfers.data(for: request, in: session, timeout: timeoutSeconds)
        } catch {
            if Task.isCancelled { throw .cancelled }
            if error is BoundedTransfers.TooLarge {
                throw .permanent("\(name): reply larger than \(Self.size(maxReplyBytes))")
            }
            if let urlError = error as? URLError {
                switch urlError.code {
                case .timedOut: throw .transient("\(name): no answer within \(Self.seconds(timeoutSeconds))")
                case .cancelled: throw .cancelled
                default: throw .transient("\(name): network error \(urlError.code.rawValue)")
                }
            }
            throw .transient("\(name): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw .transient("\(name): not an HTTP response") }
        if http.statusCode != 401 && !(http.statusCode == 403 && forbidden == .credentialsRejected) {
            stop.withLock { $0 = nil }  // the key was not rejected: a probe after a stop ends it
        }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return try classify(Reply(status: http.statusCode, headers: headers, body: data))
    }

    /// `reply`'s body as `type`, or ``ProviderError/transient(_:)`` naming the provider and the
    /// body's size (never its content) when it does not decode.
    public func decode<T: Decodable>(_ type: T.Type, _ reply: Reply) throws(ProviderError) -> T {
        do {
            return try JSONDecoder().decode(type, from: reply.body)
        } catch {
            throw .transient("\(name): unreadable reply (\(reply.body.count) bytes)")
        }
    }

    /// Builds the URL and checks it stays on the base's scheme, host and port.
    func makeURL(path: [String], query: [URLQueryItem]) throws(ProviderError) -> URL {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/;?#%")
        var encoded: [String] = []
        for segment in path {
            guard !segment.isEmpty, segment != ".", segment != "..",
                let piece = segment.addingPercentEncoding(withAllowedCharacters: allowed)
            else { throw .permanent("\(name): refusing path segment \"\(segment)\"") }
            encoded.append(piece)
        }
        guard var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false) else {
            throw .permanent("\(name): bad base URL")
        }
        var prefix = components.percentEncodedPath
        while prefix.hasSuffix("/") { prefix.removeLast() }
        components.percentEncodedPath = prefix + "/" + encoded.joined(separator: "/")
        components.queryItems = query.isEmpty ? nil : query
        guard let url = components.url, url.scheme == baseURL.scheme, url.host == baseURL.host, url.port == baseURL.port else {
            throw .permanent("\(name): refusing a URL outside \(baseURL.host ?? "the configured host")")
        }
        return url
    }

    private func classify(_ reply: Reply) throws(ProviderError) -> Reply {
        if reply.headers["x-rate-limit-remaining"] == "0", let wait = Self.resetSeconds(reply.headers), wait > 0 {
            limiter?.pause(seconds: wait)
        }
        switch reply.status {
        case 200..<300:
            return reply
        case 404:
            throw .notFound
        case let status where outOfCreditsStatuses.contains(status):
            throw .outOfCredits
        case 429:
            // A reset now or past is no reset: a pause of nothing sends every waiting call again
            // at once, into the same limit.
            let wait = Self.resetSeconds(reply.headers).flatMap { $0 > 0 ? $0 : nil } ?? Self.defaultRateLimitPause
            limiter?.pause(seconds: wait)
            logger.log(.warning, "provider rate limited; pausing all calls", ["pause_seconds": Self.seconds(wait)])
            throw .rateLimited(retryAfter: wait)
        case 401:
            throw reject("\(name) rejected the credentials (HTTP 401)")
        case 403 where forbidden == .outOfCredits:
            throw .outOfCredits
        case 403:
            throw reject("\(name) refused access with these credentials (HTTP 403)")
        case 408, 500..<600:
            throw .transient("\(name): HTTP \(reply.status)")
        case 300..<400:
            throw .permanent("\(name): refusing to follow a redirect (HTTP \(reply.status))")
        default:
            throw .permanent("\(name): HTTP \(reply.status)")
        }
    }

    private func reject(_ reason: String) -> ProviderError {
        guard rejection == .stop else {
            logger.log(.error, "provider rejected the credentials", [LogKey.error: reason])
            return .unauthorized(reason)
        }
        return stopped(reason)
    }

    private func stopped(_ reason: String) -> ProviderError {
        let text = "\(reason); provider stopped for \(Int(stopSeconds.rounded(.up))) s, then tried again"
        let now = now()
        let isFirst = stop.withLock { current in
            // One stop at a time: the calls in flight when it began answer alike, and a probe's
            // rejection keeps the stop its admission held.
            if let current, now < current.until { return false }
            current = (text, now.addingTimeInterval(stopSeconds))
            return true
        }
        if isFirst { logger.log(.error, "provider stopped", [LogKey.error: text]) }
        // Retriable: the key is the platform's to fix, not the lead's; its phase is retried, so
        // a lead is not finished without its profile while the key is being replaced.
        return .unauthorized(text)
    }

    /// Seconds until the provider's rate limit resets, from `Retry-After` (seconds or an HTTP
    /// date), `x-rate-limit-reset` (X: epoch seconds) or `x-ratelimit-reset` (an ISO 8601 time at
    /// People Data Labs; epoch seconds when large, else seconds); nil when none parses. At most
    /// ``RateLimiter/maxPauseSeconds``, however far off the header says (`1e19`, `inf`).
    public static func resetSeconds(_ headers: [String: String], now: Date = Date()) -> Double? {
        parsedResetSeconds(headers, now: now).flatMap { $0.isNaN ? nil : min(max(0, $0), RateLimiter.maxPauseSeconds) }
    }

    private static func parsedResetSeconds(_ headers: [String: String], now: Date) -> Double? {
        if let text = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) {
            if let seconds = Double(text) { return max(0, seconds) }
            let format = DateFormatter()
            format.locale = Locale(identifier: "en_US_POSIX")
            format.timeZone = TimeZone(identifier: "GMT")
            format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = format.date(from: text) { return max(0, date.timeIntervalSince(now)) }
        }
        for name in ["x-rate-limit-reset", "x-ratelimit-reset"] {
            guard let text = headers[name]?.trimmingCharacters(in: .whitespaces) else { continue }
            if let date = ISO8601.parse(text) { return max(0, date.timeIntervalSince(now)) }
            guard let value = Double(text) else { continue }
            return value > 1_000_000_000 ? max(0, value - now.timeIntervalSince1970) : max(0, value)
        }
        return nil
    }

    /// `bytes` in the largest whole binary unit (`4 MiB`), or in bytes.
    static func size(_ bytes: Int) -> String {
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }

    private static func seconds(_ value: Double) -> String {
        String(format: "%.1fs", value)
    }
}

/// The session's delegate: runs each request as a data task whose body is collected here and
/// cancelled as soon as it passes `maxBytes` (announced or counted), so a vendor's reply is never
/// held whole beyond the bound; and refuses every redirect, so a reply can never move a request to
/// another host.
private final class BoundedTransfers: NSObject, URLSessionDataDelegate, Sendable {
    /// The reply passed the bound; its task was cancelled.
    struct TooLarge: Error {}

    private struct Transfer {
        var body = Data()
        let continuation: CheckedContinuation<(Data, URLResponse), Error>
    }

    private let maxBytes: Int
    private let running = Mutex<[Int: Transfer]>([:])

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// The body and response of `request`, or the task's error, or ``TooLarge``, or after
    /// `timeout` seconds `URLError(.timedOut)`: the whole call's bound. (FoundationNetworking on
    /// Linux restarts its own timer at every byte received and ignores the session's resource
    /// timeout, so a reply that trickles would never end.)
    func data(for request: URLRequest, in session: URLSession, timeout: TimeInterval) async throws -> (Data, URLResponse) {
        let task = session.dataTask(with: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                running.withLock { $0[task.taskIdentifier] = Transfer(continuation: continuation) }
                // Cancelled before this point: the handler below found nothing to cancel.
                guard !Task.isCancelled else {
                    end(task.taskIdentifier, throwing: CancellationError())
                    return task.cancel()
                }
                task.resume()
                // The task weakly: the session lets go of it when it completes, so a finished
                // transfer (its request and response) is not held until the timer fires.
                let id = task.taskIdentifier
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self, weak task] in
                    if end(id, throwing: URLError(.timedOut)) { task?.cancel() }
                }
            }
        } onCancel: {
            // Only a registered task: its completion (or the check above) ends the call, once.
            if running.withLock({ $0[task.taskIdentifier] != nil }) { task.cancel() }
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        guard response.expectedContentLength > Int64(maxBytes) else { return completionHandler(.allow) }
        refuse(dataTask)
        completionHandler(.cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let isTooLarge = running.withLock { running -> Bool in
            guard running[dataTask.taskIdentifier] != nil else { return false }
            guard running[dataTask.taskIdentifier]!.body.count + data.count <= maxBytes else { return true }
            running[dataTask.taskIdentifier]!.body.append(data)
            return false
        }
        if isTooLarge {
            refuse(dataTask)
            DispatchQueue.global().async { dataTask.cancel() }
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let transfer = running.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let error {
            transfer.continuation.resume(throwing: error)
        } else if let response = task.response {
            transfer.continuation.resume(returning: (transfer.body, response))
        } else {
            transfer.continuation.resume(throwing: URLError(.badServerResponse))
        }
    }

    /// Ends `task`'s call with ``TooLarge`` now, without waiting for the task to wind down.
    private func refuse(_ task: URLSessionTask) {
        end(task.taskIdentifier, throwing: TooLarge())
    }

    /// Ends the call of the task `id` with `error` now, unless it has ended; returns whether it ended it.
    @discardableResult
    private func end(_ id: Int, throwing error: any Error) -> Bool {
        guard let transfer = running.withLock({ $0.removeValue(forKey: id) }) else { return false }
        transfer.continuation.resume(throwing: error)
        return true
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
