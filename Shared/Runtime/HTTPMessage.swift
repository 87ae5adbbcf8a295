import Foundation

/// One HTTP/1.1 request as the ``HTTPServer`` read it.
public struct HTTPRequest: Sendable {
    /// The method, upper-case as sent (`GET`, `POST`, ...).
    public var method: String
    /// The path, percent-decoded, without the query (`/2/users/by/username/jane`).
    public var path: String
    /// The query parameters, percent-decoded; a repeated name keeps its last value.
    public var query: [String: String]
    /// The request target exactly as sent (path and query, still encoded).
    public var target: String
    /// The headers, names lower-cased; repeated headers are joined with `", "`.
    public var headers: [String: String]
    /// The body (empty without `Content-Length`).
    public var body: Data

    /// Creates a request (the server does this; tests of a router may too).
    public init(
        method: String, path: String, query: [String: String] = [:], target: String? = nil, headers: [String: String] = [:],
        body: Data = Data()
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.target = target ?? path
        self.headers = headers
        self.body = body
    }

    /// The value of header `name` (any case).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// The answer to an ``HTTPRequest``.
///
/// The server adds `Content-Length` and `Connection: close`; any the router sets are replaced.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header names and values, written in this order.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: Data

    /// Creates a response.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: Int = 200, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")] + headers, body: Data(text.utf8))
    }

    /// An `application/json` response with `json` as the body, sent as given.
    public static func json(_ json: String, status: Int = 200, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Data(json.utf8))
    }

    /// The standard reason phrase of ``status``, or `Status` for codes without one here.
    public var reasonPhrase: String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}

extension HTTPResponse {
    /// The response as sent: status line, the router's headers, then `Content-Length` and
    /// `Connection: close` (replacing any the router set), a blank line and the body.
    func serialized() -> [UInt8] {
        let reserved: Set<String> = ["content-length", "connection"]
        var head = "HTTP/1.1 \(status) \(reasonPhrase)\r\n"
        for (name, value) in headers where !reserved.contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        bytes.append(contentsOf: body)
        return bytes
    }
}
