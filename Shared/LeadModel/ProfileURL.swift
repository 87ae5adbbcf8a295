import Foundation

/// A validated LinkedIn or X profile URL, reduced to its platform and handle.
///
/// Accepted forms: an optional `http://` or `https://`, an optional `www.`, a trailing slash, and
/// a query or fragment (ignored). LinkedIn: `linkedin.com/in/<handle>`. X: `x.com/<handle>` or
/// `twitter.com/<handle>`.
public struct ProfileURL: Hashable, Sendable, CustomStringConvertible {
    /// The platform the URL points at.
    public let platform: Platform
    /// The profile handle as written in the URL (LinkedIn public identifier or X username).
    public let handle: String

    /// The canonical URL: `https://www.linkedin.com/in/<handle>` or `https://x.com/<handle>`.
    public var canonical: String {
        switch platform {
        case .linkedin: "https://www.linkedin.com/in/\(handle)"
        case .x: "https://x.com/\(handle)"
        }
    }

    /// The canonical URL.
    public var description: String { canonical }

    /// Why a URL is not an acceptable profile URL.
    public enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        /// The text does not parse as a URL.
        case notAURL
        /// The scheme is not http or https.
        case unsupportedScheme(String)
        /// The host is not the platform's.
        case wrongHost(String)
        /// The path is not a profile path (e.g. a company page or a post).
        case notAProfilePath(String)
        /// The handle is empty or has characters a handle cannot have.
        case invalidHandle(String)

        /// What is wrong, in words a person can act on.
        public var description: String {
            switch self {
            case .notAURL: "it is not a URL"
            case .unsupportedScheme(let scheme): "the scheme \"\(scheme)\" is not http or https"
            case .wrongHost(let host): "the host \"\(host)\" is not the platform's"
            case .notAProfilePath(let path): "the path \"\(path)\" is not a person's profile"
            case .invalidHandle(let handle): "the handle \"\(handle)\" is empty or not a valid handle"
            }
        }
    }

    /// Parses a LinkedIn person-profile URL (`linkedin.com/in/<handle>`).
    public static func linkedin(_ text: String) -> Result<ProfileURL, Problem> {
        parse(text).flatMap { host, segments in
            guard host == "linkedin.com" else { return .failure(.wrongHost(host)) }
            guard segments.count == 2, segments[0].lowercased() == "in" else {
                return .failure(.notAProfilePath("/" + segments.joined(separator: "/")))
            }
            let handle = segments[1]
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_%."))
            guard (3...100).contains(handle.count),
                handle.unicodeScalars.allSatisfy(allowed.contains)
            else { return .failure(.invalidHandle(handle)) }
            return .success(ProfileURL(platform: .linkedin, handle: handle))
        }
    }

    /// Parses an X profile URL (`x.com/<handle>` or `twitter.com/<handle>`).
    public static func x(_ text: String) -> Result<ProfileURL, Problem> {
        parse(text).flatMap { host, segments in
            guard host == "x.com" || host == "twitter.com" else { return .failure(.wrongHost(host)) }
            guard segments.count == 1 else {
                return .failure(.notAProfilePath("/" + segments.joined(separator: "/")))
            }
            let handle = segments[0]
            if reservedXPaths.contains(handle.lowercased()) {
                return .failure(.notAProfilePath("/" + handle))
            }
            let isValid = (1...15).contains(handle.count)
                && handle.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || CharacterSet.alphanumerics.contains($0)) }
            guard isValid else { return .failure(.invalidHandle(handle)) }
            return .success(ProfileURL(platform: .x, handle: handle))
        }
    }

    /// Top-level X paths that are site pages, not people.
    private static let reservedXPaths: Set<String> = [
        "home", "explore", "search", "i", "intent", "share", "settings", "messages", "notifications",
        "login", "signup", "tos", "privacy", "compose", "hashtag",
    ]

    /// Splits a URL into its host (lowercased, without `www.`) and non-empty path segments.
    private static func parse(_ text: String) -> Result<(host: String, segments: [String]), Problem> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return .failure(.notAURL) }
        let withScheme = trimmed.contains("://") ? trimmed : "https://" + trimmed
        guard let components = URLComponents(string: withScheme), let rawHost = components.host,
            !rawHost.isEmpty
        else { return .failure(.notAURL) }
        let scheme = components.scheme?.lowercased() ?? ""
        guard scheme == "https" || scheme == "http" else { return .failure(.unsupportedScheme(scheme)) }
        guard components.port == nil, components.user == nil, components.password == nil else {
            return .failure(.notAURL)
        }
        var host = rawHost.lowercased()
        if host.hasPrefix("www.") { host.removeFirst(4) }
        let segments = components.path.split(separator: "/").map(String.init)
        return .success((host, segments))
    }
}
