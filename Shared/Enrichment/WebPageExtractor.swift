import Foundation
import LeadModel

/// What a company's web page says about the company.
public struct WebPageFacts: Hashable, Sendable {
    /// The company's name.
    public var name: String?
    /// A description.
    public var description: String?
    /// A logo or share image, absolute.
    public var imageURL: String?
    /// Social profile links, absolute, deduplicated, sorted.
    public var socialLinks: [String]
    /// The X handle from `twitter:site`, without `@`.
    public var xHandle: String?

    /// Creates facts.
    public init(name: String? = nil, description: String? = nil, imageURL: String? = nil, socialLinks: [String] = [],
                xHandle: String? = nil) {
        self.name = name
        self.description = description
        self.imageURL = imageURL
        self.socialLinks = socialLinks
        self.xHandle = xHandle
    }
}

/// Reads company facts from HTML: `<meta>` tags (`og:*`, `twitter:*`, `description`), JSON-LD
/// (`Organization` and its subtypes, also inside `@graph` or arrays), `<title>` and links to
/// social profiles.
///
/// Not an HTML parser: a tolerant scanner that never traps. It skips comments, reads attributes
/// quoted with `"` or `'` or unquoted in any case, decodes character references, ignores markup
/// inside `<script>`/`<style>` other than JSON-LD, and survives truncated documents. Precedence:
/// name from JSON-LD, then `og:site_name`, `og:title`, `twitter:title`, `<title>`; description
/// from JSON-LD, then `og:description`, `twitter:description`, `description`. Texts are
/// whitespace-collapsed and cut at ``maxTextLength`` Unicode scalars. A URL longer than
/// ``FieldLimit/url`` is not kept, and at most ``WebEnrichment/maxSocialLinks`` social links are
/// (the first in order): the record must fit beside the lead's profile in every later record.
public struct WebPageExtractor: Sendable {
    /// Longest name or description kept.
    public var maxTextLength: Int

    /// Creates an extractor.
    public init(maxTextLength: Int = 1000) {
        self.maxTextLength = maxTextLength
    }

    /// Hosts whose profile links count as social links.
    static let socialHosts = ["linkedin.com", "x.com", "twitter.com", "facebook.com", "instagram.com", "youtube.com", "github.com"]

    /// The facts of `html`, a page fetched from `pageURL` (for resolving relative links).
    public func extract(html: String, pageURL: URL?) -> WebPageFacts {
        var scanner = HTMLScanner(html)
        var meta: [String: String] = [:]
        var title: String?
        var organizations: [[String: Any]] = []
        var links: [String] = []
        while let tag = scanner.nextTag() {
            switch tag.name {
            case "meta":
                let key = (tag.attributes["property"] ?? tag.attributes["name"] ?? tag.attributes["itemprop"])?.lowercased()
                if let key, let content = tag.attributes["content"], meta[key] == nil { meta[key] = content }
            case "title":
                if title == nil { title = scanner.rawText(until: "title").map(HTMLScanner.decodeEntities) }
            case "script":
                let body = scanner.rawText(until: "script") ?? ""
                if tag.attributes["type"]?.lowercased().hasPrefix("application/ld+json") == true {
                    organizations += Self.organizations(inJSONLD: body)
                }
            case "style", "noscript", "template":
                _ = scanner.rawText(until: tag.name)
            case "a", "link":
                if let href = tag.attributes["href"] { links.append(href) }
            default:
                break
            }
        }
        let organization = organizations.first
        let name = [Self.string(organization?["name"]), meta["og:site_name"], meta["og:title"], meta["twitter:title"], title]
            .lazy.compactMap { self.clean($0) }.first
        let description = [Self.string(organization?["description"]), meta["og:description"], meta["twitter:description"],
                           meta["description"]]
            .lazy.compactMap { self.clean($0) }.first
        let logo = Self.string(organization?["logo"]) ?? Self.string((organization?["logo"] as? [String: Any])?["url"])
        let image = [logo, meta["og:image"], meta["twitter:image"]].lazy.compactMap { $0 }
            .compactMap { Self.absolute($0, base: pageURL) }.first
        var social = Set<String>()
        for organization in organizations {
            let sameAs = organization["sameAs"]
            let values = (sameAs as? [Any])?.compactMap(Self.string) ?? Self.string(sameAs).map { [$0] } ?? []
            for value in values { if let link = Self.socialLink(value, base: pageURL) { social.insert(link) } }
        }
        for link in links { if let social1 = Self.socialLink(link, base: pageURL) { social.insert(social1) } }
        let handle = meta["twitter:site"].map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0.hasPrefix("@") ? String($0.dropFirst()) : $0 }
            .flatMap { $0.isEmpty || $0.count > 15 || !$0.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) ? nil : $0 }
        return WebPageFacts(name: name, description: description, imageURL: image,
                            socialLinks: Array(social.sorted().prefix(WebEnrichment.maxSocialLinks)), xHandle: handle)
    }

    /// Whitespace collapsed, entities decoded, cut; nil when empty.
    func clean(_ text: String?) -> String? {
        guard let text else { return nil }
        let decoded = HTMLScanner.decodeEntities(text)
        let collapsed = decoded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        guard !collapsed.isEmpty else { return nil }
        // By scalars, as every reader bounds a text: one Character can hold thousands.
        return collapsed.prefix(scalars: maxTextLength)
    }

    /// Organization objects in a JSON-LD block (an object, an array, or `@graph`).
    static func organizations(inJSONLD text: String) -> [[String: Any]] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // Some sites wrap JSON-LD in HTML comments or CDATA.
        let unwrapped = trimmed.replacingOccurrences(of: "<!--", with: "").replacingOccurrences(of: "-->", with: "")
            .replacingOccurrences(of: "<![CDATA[", with: "").replacingOccurrences(of: "]]>", with: "")
        guard let data = unwrapped.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return [] }
        var found: [[String: Any]] = []
        func visit(_ value: Any, depth: Int) {
            guard depth < 8 else { return }
            if let array = value as? [Any] {
                for item in array { visit(item, depth: depth + 1) }
            } else if let object = value as? [String: Any] {
                if isOrganization(object["@type"]) { found.append(object) }
                if let graph = object["@graph"] { visit(graph, depth: depth + 1) }
                for key in ["publisher", "provider", "brand", "author"] {
                    if let nested = object[key] { visit(nested, depth: depth + 1) }
                }
            }
        }
        visit(object, depth: 0)
        return found
    }

    private static let organizationTypes: Set<String> = ["organization", "corporation", "localbusiness", "ngo", "onlinebusiness"]

    private static func isOrganization(_ type: Any?) -> Bool {
        if let type = type as? String {
            return organizationTypes.contains(type.lowercased().replacingOccurrences(of: "https://schema.org/", with: "")
                .replacingOccurrences(of: "http://schema.org/", with: ""))
        }
        if let types = type as? [Any] { return types.contains { isOrganization($0) } }
        return false
    }

    private static func string(_ value: Any?) -> String? {
        guard let text = value as? String, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return text
    }

    /// `text` resolved against `base`, http(s) only.
    static func absolute(_ text: String, base: URL?) -> String? {
        let decoded = HTMLScanner.decodeEntities(text).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !decoded.isEmpty, let url = URL(string: decoded, relativeTo: base)?.absoluteURL,
              let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host != nil,
              !url.absoluteString.hasMoreScalars(than: FieldLimit.url) else { return nil }
        return url.absoluteString
    }

    /// A profile link on a social host, normalised to https without query or fragment; nil for
    /// other hosts, the host's home page and share/intent links.
    static func socialLink(_ text: String, base: URL?) -> String? {
        guard let absolute = absolute(text, base: base), let components = URLComponents(string: absolute),
              let rawHost = components.host?.lowercased() else { return nil }
        let host = rawHost.hasPrefix("www.") ? String(rawHost.dropFirst(4)) : rawHost
        guard let social = socialHosts.first(where: { host == $0 || host.hasSuffix("." + $0) }) else { return nil }
        let segments = components.path.split(separator: "/").map(String.init)
        guard let first = segments.first?.lowercased() else { return nil }
        if ["intent", "share", "sharer", "sharer.php", "shareArticle".lowercased(), "home", "search", "hashtag", "login"]
            .contains(first) { return nil }
        let path = segments.joined(separator: "/")
        return "https://\(social == host ? host : social)/\(path)"
    }
}

/// A forgiving scanner over HTML tags.
struct HTMLScanner {
    struct Tag {
        /// Lower-cased tag name.
        var name: String
        /// Attributes, names lower-cased, values decoded.
        var attributes: [String: String]
    }

    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ html: String) {
        scalars = Array(html.unicodeScalars)
    }

    /// The next opening tag; closing tags, comments, doctypes and processing instructions are skipped.
    mutating func nextTag() -> Tag? {
        while index < scalars.count {
            guard scalars[index] == "<" else {
                index += 1
                continue
            }
            if starts(with: "<!--") {
                index = find("-->", from: index + 4).map { $0 + 3 } ?? scalars.count
                continue
            }
            let next = index + 1 < scalars.count ? scalars[index + 1] : " "
            if next == "!" || next == "?" || next == "/" {
                index = find(">", from: index + 1).map { $0 + 1 } ?? scalars.count
                continue
            }
            guard next.properties.isAlphabetic else {
                index += 1
                continue
            }
            index += 1
            return readTag()
        }
        return nil
    }

    /// The text up to `</name` (case-insensitive), after which the scanner continues; nil when
    /// the document ends first (the rest is consumed).
    mutating func rawText(until name: String) -> String? {
        let closing = Array("</\(name)".unicodeScalars)
        var position = index
        while position + closing.count <= scalars.count {
            if matches(closing, at: position) {
                let text = String(String.UnicodeScalarView(scalars[index..<position]))
                index = find(">", from: position).map { $0 + 1 } ?? scalars.count
                return text
            }
            position += 1
        }
        index = scalars.count
        return nil
    }

    private mutating func readTag() -> Tag {
        let name = readName()
        var attributes: [String: String] = [:]
        while index < scalars.count {
            skipWhitespace()
            guard index < scalars.count else { break }
            let scalar = scalars[index]
            if scalar == ">" {
                index += 1
                break
            }
            if scalar == "/" {
                index += 1
                continue
            }
            let attribute = readName()
            if attribute.isEmpty {
                index += 1  // a stray character such as `"` or `<`
                continue
            }
            skipWhitespace()
            var value = ""
            if index < scalars.count, scalars[index] == "=" {
                index += 1
                skipWhitespace()
                value = readValue()
            }
            if attributes[attribute] == nil { attributes[attribute] = Self.decodeEntities(value) }
        }
        return Tag(name: name, attributes: attributes)
    }

    private mutating func readName() -> String {
        var name = String.UnicodeScalarView()
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar.properties.isWhitespace || scalar == ">" || scalar == "/" || scalar == "=" || scalar == "\"" || scalar == "'" || scalar == "<" {
                break
            }
            name.append(scalar)
            index += 1
        }
        return String(name).lowercased()
    }

    private mutating func readValue() -> String {
        guard index < scalars.count else { return "" }
        let quote = scalars[index]
        if quote == "\"" || quote == "'" {
            let start = index + 1
            let end = find(String(quote), from: start) ?? scalars.count
            index = min(end + 1, scalars.count)
            return String(String.UnicodeScalarView(scalars[start..<end]))
        }
        var value = String.UnicodeScalarView()
        while index < scalars.count, !scalars[index].properties.isWhitespace, scalars[index] != ">" {
            value.append(scalars[index])
            index += 1
        }
        return String(value)
    }

    private mutating func skipWhitespace() {
        while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
    }

    private func starts(with text: String) -> Bool { matches(Array(text.unicodeScalars), at: index) }

    private func matches(_ pattern: [Unicode.Scalar], at position: Int) -> Bool {
        guard position + pattern.count <= scalars.count else { return false }
        for (offset, scalar) in pattern.enumerated() {
            let candidate = scalars[position + offset]
            if candidate != scalar && Self.lower(candidate) != Self.lower(scalar) { return false }
        }
        return true
    }

    private func find(_ text: String, from start: Int) -> Int? {
        let pattern = Array(text.unicodeScalars)
        var position = start
        while position + pattern.count <= scalars.count {
            if matches(pattern, at: position) { return position }
            position += 1
        }
        return nil
    }

    private static func lower(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
    }

    private static let namedEntities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "ndash": "–", "mdash": "—",
        "hellip": "…", "copy": "©", "reg": "®", "trade": "™", "rsquo": "’", "lsquo": "‘", "rdquo": "”", "ldquo": "“",
    ]

    /// `text` with `&name;`, `&#nn;` and `&#xhh;` references decoded; unknown ones stay as written.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semicolon = after.prefix(10).firstIndex(of: ";") else {
                result += "&"
                rest = after
                continue
            }
            let reference = String(after[..<semicolon])
            var decoded: String?
            if reference.hasPrefix("#x") || reference.hasPrefix("#X") {
                decoded = UInt32(reference.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
            } else if reference.hasPrefix("#") {
                decoded = UInt32(reference.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
            } else {
                decoded = namedEntities[reference]
            }
            if let decoded {
                result += decoded
                rest = after[after.index(after: semicolon)...]
            } else {
                result += "&"
                rest = after
            }
        }
        result += rest
        return result
    }
}
