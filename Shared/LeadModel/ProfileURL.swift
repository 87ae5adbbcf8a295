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
            guard isHost(host, of: "linkedin.com", mobile: ["m"], countries: true) else { return .failure(.wrongHost(host)) }
            // LinkedIn's language path: /in/<handle>/fr is the profile shown in French.
            let isLanguagePath = segments.count == 3 && segments[2].count == 2 && segments[2].allSatisfy { $0.isASCII && $0.isLetter }
            guard segments.count == 2 || isLanguagePath, segments[0].lowercased() == "in" else {
                return .failure(.notAProfilePath("/" + segments.joined(separator: "/")))
            }
            let handle = segments[1]
            guard (3...100).contains(handle.count),
                handle.unicodeScalars.allSatisfy(linkedinHandleCharacters.contains)
            else { return .failure(.invalidHandle(handle)) }
            return .success(ProfileURL(platform: .linkedin, handle: handle))
        }
    }

    /// Parses an X profile URL (`x.com/<handle>` or `twitter.com/<handle>`).
    public static func x(_ text: String) -> Result<ProfileURL, Problem> {
        parse(text).flatMap { host, segments in
            guard isHost(host, of: "x.com", mobile: ["mobile"], countries: false)
                || isHost(host, of: "twitter.com", mobile: ["mobile", "m"], countries: false)
            else { return .failure(.wrongHost(host)) }
            guard segments.count == 1 else {
                return .failure(.notAProfilePath("/" + segments.joined(separator: "/")))
            }
            let handle = segments[0]
            if reservedXPaths.contains(handle.lowercased()) {
                return .failure(.notAProfilePath("/" + handle))
            }
            let isValid = (1...15).contains(handle.count)
                && handle.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }
            guard isValid else { return .failure(.invalidHandle(handle)) }
            return .success(ProfileURL(platform: .x, handle: handle))
        }
    }

    /// Whether `host` (lowercased, without `www.`) is `domain`, one of its `mobile` subdomains,
    /// or with `countries` a two-letter country subdomain (uk.linkedin.com).
    private static func isHost(_ host: String, of domain: String, mobile: Set<String>, countries: Bool) -> Bool {
        guard host != domain else { return true }
        guard host.hasSuffix("." + domain) else { return false }
        let subdomain = host.dropLast(domain.count + 1)
        return mobile.contains(String(subdomain)) || (countries && subdomain.count == 2 && subdomain.allSatisfy { $0.isASCII && $0.isLetter })
    }

    /// What a LinkedIn handle may hold.
    private static let linkedinHandleCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_%."))

    /// Top-level X paths that are site pages, not people.
    private static let reservedXPaths: Set<String> = [
        "home", "explore", "search", "i", "intent", "share", "settings", "messages", "notifications",
        "login", "signup", "tos", "privacy", "compose", "hashtag",
    ]

    /// Splits a URL into its host (lowercased, without `www.`) and non-empty path segments.
    static func parse(_ text: String) -> Result<(host: String, segments: [String]), Problem> {
        if let plain = plainParts(text) { return .success(plain) }
        return generalParts(text)
    }

    /// ``parse(_:)`` for the plain form nearly every lead's URL has, read byte by byte: `http://`
    /// or `https://`, a host of lowercase letters, digits, dots and hyphens, and a path of letters,
    /// digits, `-._~` and slashes. Nil for anything else (whitespace, capitals in the host or
    /// scheme, a port, user, query, fragment or percent escape), which ``generalParts(_:)`` reads
    /// with `URLComponents` (about ten times slower): the same answer either way.
    static func plainParts(_ text: String) -> (host: String, segments: [String])? {
        var rest = text.utf8[...]
        if rest.starts(with: "https://".utf8) {
            rest = rest.dropFirst(8)
        } else if rest.starts(with: "http://".utf8) {
            rest = rest.dropFirst(7)
        } else {
            return nil
        }
        let slash = UInt8(ascii: "/")
        let hostEnd = rest.firstIndex(of: slash) ?? rest.endIndex
        var hostBytes = rest[..<hostEnd]
        guard !hostBytes.isEmpty,
              hostBytes.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2D })
        else { return nil }
        let path = rest[hostEnd...]
        guard path.allSatisfy({ byte in
            (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte)
                || byte == slash || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
        }) else { return nil }
        // Without `www.` before the string is made: most hosts then fit in a small string.
        if hostBytes.starts(with: "www.".utf8) { hostBytes = hostBytes.dropFirst(4) }
        var segments: [String] = []
        segments.reserveCapacity(4)
        var segmentStart = path.startIndex
        for index in path.indices where path[index] == slash {
            if index > segmentStart { segments.append(String(decoding: path[segmentStart..<index], as: UTF8.self)) }
            segmentStart = path.index(after: index)
        }
        if segmentStart < path.endIndex { segments.append(String(decoding: path[segmentStart...], as: UTF8.self)) }
        return (String(decoding: hostBytes, as: UTF8.self), segments)
    }

    /// ``parse(_:)`` for any text, with `URLComponents`.
    static func generalParts(_ text: String) -> Result<(host: String, segments: [String]), Problem> {
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
