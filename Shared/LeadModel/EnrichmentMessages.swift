import Foundation

/// An account's cross-platform profile finding (``AccountConfig/profileFinder``).
public struct ProfileFinderRule: Codable, Hashable, Sendable {
    /// Whether the profile finder looks for the other platform's profile of this account's leads.
    public var isEnabled: Bool
    /// The confidence (0...1) a candidate needs for this account; nil uses the process's
    /// `PROFILE_FINDER_MIN_CONFIDENCE`.
    public var minimumConfidence: Double?

    /// Creates a rule.
    public init(isEnabled: Bool = true, minimumConfidence: Double? = nil) {
        self.isEnabled = isEnabled
        self.minimumConfidence = minimumConfidence
    }
}

/// The profile finder found a lead's profile on a platform the lead had no URL for.
///
/// Published on ``Topics/leadCommands``, keyed by lead id, next to ``ReEnrichRequested``;
/// readers dispatch on the ``MessageHeaders/schema`` header. (Versions before `lead.commands`
/// existed published it on ``Topics/leadsDiscovered``; the coordinator still reads it there
/// during a rolling upgrade.) The coordinator adds the URL to the lead and, when the lead is ready, starts a
/// re-enrich run of that platform; a lead that already has a URL for the platform is left as it
/// is, so a redelivered record changes nothing.
///
/// Wire example:
/// ```json
/// {"schema": "lead.profile-found", "version": 1, "leadID": "lead-1", "platform": "x",
///  "url": "https://x.com/janedoe", "confidence": 0.91, "foundBy": "profile-finder",
///  "foundAt": "2025-01-31T12:00:00.000Z"}
/// ```
public struct ProfileFound: Message, Hashable {
    /// `lead.profile-found`.
    public static let schemaName = "lead.profile-found"
    /// Version 1.
    public static let schemaVersion = 1

    /// The lead; also the record key.
    public var leadID: LeadID
    /// The platform the profile is on.
    public var platform: Platform
    /// The profile URL (a person profile of ``platform``).
    public var url: String
    /// How sure the finder is, 0...1.
    public var confidence: Double
    /// Which process or provider found it.
    public var foundBy: String
    /// When.
    public var foundAt: Date

    /// Creates the message.
    public init(leadID: LeadID, platform: Platform, url: String, confidence: Double, foundBy: String, foundAt: Date) {
        self.leadID = leadID
        self.platform = platform
        self.url = url
        self.confidence = confidence
        self.foundBy = foundBy
        self.foundAt = foundAt
    }

    /// The URL parsed as a profile of ``platform``, or nil when it is not one.
    public var profileURL: ProfileURL? {
        switch platform {
        case .linkedin: try? ProfileURL.linkedin(url).get()
        case .x: try? ProfileURL.x(url).get()
        }
    }

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// The id and `foundBy` at most ``FieldLimit/identifier`` scalars, the URL ``FieldLimit/url``.
    public func checkFieldLengths() throws(FieldTooLong) {
        try FieldLimit.check(leadID, "leadID")
        try FieldLimit.check(url, "url", limit: FieldLimit.url)
        try FieldLimit.check(foundBy, "foundBy", limit: FieldLimit.identifier)
    }

    /// The URL is a profile of the platform and the confidence lies in 0...1.
    public func validate() throws {
        if profileURL == nil {
            throw LeadModelRuleError("\"url\" \"\(url)\" is not a \(platform.rawValue) profile URL")
        }
        if !(0...1).contains(confidence) {
            throw LeadModelRuleError("\"confidence\" \(confidence) must lie in 0...1")
        }
    }
}

/// Asks the web enricher to read a company's website (topic ``Topics/webEnrichmentRequests``;
/// key: the lead id, else the search id).
///
/// Wire example:
/// ```json
/// {"schema": "web.enrichment-requested", "version": 1, "leadID": "lead-1",
///  "domain": "acme.example", "requestedAt": "2025-01-31T12:00:00.000Z", "requestedBy": "ops"}
/// ```
/// `url` may replace or refine `domain` (`https://acme.example/about`); its host must be the
/// domain (or `www.` the domain). Only that host is ever fetched, over HTTPS.
public struct WebEnrichmentRequested: Message, Hashable {
    /// `web.enrichment-requested`.
    public static let schemaName = "web.enrichment-requested"
    /// Version 1.
    public static let schemaVersion = 1

    /// The lead the company belongs to; one of `leadID` and `searchID` is required.
    public var leadID: LeadID?
    /// The search whose company this is, when the request is per search.
    public var searchID: SearchID?
    /// The company's domain, e.g. `acme.example`; derived from `url` when absent.
    public var domain: String?
    /// The page to read; defaults to `https://<domain>/`.
    public var url: String?
    /// When the request was made.
    public var requestedAt: Date
    /// Who asked.
    public var requestedBy: String?

    /// Creates a request.
    public init(leadID: LeadID? = nil, searchID: SearchID? = nil, domain: String? = nil, url: String? = nil,
                requestedAt: Date, requestedBy: String? = nil) {
        self.leadID = leadID
        self.searchID = searchID
        self.domain = domain
        self.url = url
        self.requestedAt = requestedAt
        self.requestedBy = requestedBy
    }

    /// The record key: the lead id, else the search id.
    public var key: String { leadID?.rawValue ?? searchID?.rawValue ?? "" }

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// Ids and `requestedBy` at most ``FieldLimit/identifier`` scalars, `domain` and `url`
    /// ``FieldLimit/url``.
    public func checkFieldLengths() throws(FieldTooLong) {
        try checkAddressLengths(leadID: leadID, searchID: searchID, domain: domain, url: url)
        try FieldLimit.check(requestedBy, "requestedBy", limit: FieldLimit.identifier)
    }

    /// A lead or search id, and a domain or URL.
    public func validate() throws {
        if (leadID?.rawValue ?? "").isEmpty && (searchID?.rawValue ?? "").isEmpty {
            throw LeadModelRuleError("set \"leadID\" or \"searchID\"")
        }
        if (domain ?? "").isEmpty && (url ?? "").isEmpty {
            throw LeadModelRuleError("set \"domain\" (acme.example) or \"url\" (https://acme.example/)")
        }
    }
}

/// What the web enricher read from a company's website (topic ``Topics/webEnrichments``,
/// compacted; key: ``key``, the request's key for a completed one, `<that key>#failed` for a
/// refused or failed one, which a later completed one clears with a tombstone).
///
/// A completed enrichment keyed by lead is merged by the coordinator into the lead's profile
/// (``EnrichedProfile/web``) and, for a ready lead, into its lead-pool entry; enrichments keyed by
/// search are for readers to join on the key.
public struct WebEnrichment: Message, Hashable {
    /// `web.enrichment`.
    public static let schemaName = "web.enrichment"
    /// Version 1.
    public static let schemaVersion = 1

    /// How the fetch went.
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// The page was read (some fields may still be empty).
        case completed
        /// The request named a host or scheme that may not be fetched.
        case refused
        /// The fetch failed (network, status code, size, redirect elsewhere, not HTML).
        case failed
    }

    /// The lead, from the request.
    public var leadID: LeadID?
    /// The search, from the request.
    public var searchID: SearchID?
    /// The allowed domain.
    public var domain: String
    /// The URL fetched last (after same-host redirects).
    public var url: String?
    /// Completed, refused or failed.
    public var status: Status
    /// Why it was refused or failed.
    public var reason: String?
    /// The company's name (JSON-LD Organization, `og:site_name`, `og:title`, `<title>`).
    public var name: String?
    /// Its description (JSON-LD, `og:description`, `twitter:description`, `description`).
    public var companyDescription: String?
    /// Its logo or share image, absolute URL.
    public var imageURL: String?
    /// Social profile links (LinkedIn, X, ...), absolute, deduplicated, sorted; at most
    /// ``maxSocialLinks``.
    public var socialLinks: [String]
    /// The X handle from `twitter:site`, without `@`.
    public var xHandle: String?
    /// When it was fetched.
    public var fetchedAt: Date

    /// Creates a record.
    public init(
        leadID: LeadID?, searchID: SearchID?, domain: String, url: String?, status: Status, reason: String? = nil,
        name: String? = nil, companyDescription: String? = nil, imageURL: String? = nil, socialLinks: [String] = [],
        xHandle: String? = nil, fetchedAt: Date
    ) {
        self.leadID = leadID
        self.searchID = searchID
        self.domain = domain
        self.url = url
        self.status = status
        self.reason = reason
        self.name = name
        self.companyDescription = companyDescription
        self.imageURL = imageURL
        self.socialLinks = socialLinks
        self.xHandle = xHandle
        self.fetchedAt = fetchedAt
    }

    /// What a refused or failed record's key adds to its request's key (``key``).
    public static let failureKeySuffix = "#failed"

    /// The record's key on ``Topics/webEnrichments``: the request's key
    /// (``WebEnrichmentRequested/key``: the lead id, else the search id) when completed,
    /// ``failureKey`` when refused or failed. The topic is compacted, keeping a key's last
    /// record, so a later failure under the same key would replace a completed enrichment: under
    /// its own key, the completed one stays what readers join on (its fetchedAt tells which of
    /// the two is newer). A completed one is written with a tombstone under ``failureKey``, so a
    /// failure before it is cleared.
    public var key: String {
        status == .completed ? requestKey : failureKey
    }

    /// The key of the request's refused or failed records: the request's key and
    /// ``failureKeySuffix``.
    public var failureKey: String { requestKey + Self.failureKeySuffix }

    /// The request's key (``WebEnrichmentRequested/key``).
    private var requestKey: String { leadID?.rawValue ?? searchID?.rawValue ?? "" }

    /// The most social links a record carries: a page can link thousands of profiles, and the
    /// lead's profile, every later request and its pool entry carry what the record does.
    public static let maxSocialLinks = 20

    /// Ids, URLs and links within ``FieldLimit``; texts within ``FieldLimit/text``.
    public func checkFieldLengths() throws(FieldTooLong) {
        try checkAddressLengths(leadID: leadID, searchID: searchID, domain: domain, url: url)
        try FieldLimit.check(imageURL, "imageURL", limit: FieldLimit.url)
        try FieldLimit.check(socialLinks, "socialLinks", limit: FieldLimit.url)
        try FieldLimit.check(xHandle, "xHandle", limit: FieldLimit.identifier)
        try FieldLimit.check(reason, "reason", limit: FieldLimit.text)
        try FieldLimit.check(name, "name", limit: FieldLimit.text)
        try FieldLimit.check(companyDescription, "companyDescription", limit: FieldLimit.text)
    }

    /// At most ``maxSocialLinks`` social links.
    public func validate() throws {
        if socialLinks.count > Self.maxSocialLinks {
            throw LeadModelRuleError("\(socialLinks.count) socialLinks: at most \(Self.maxSocialLinks)")
        }
    }
}

/// The key and the page of a web enrichment's request or record: ids at most
/// ``FieldLimit/identifier`` scalars, `domain` and `url` ``FieldLimit/url``.
private func checkAddressLengths(leadID: LeadID?, searchID: SearchID?, domain: String?, url: String?) throws(FieldTooLong) {
    try FieldLimit.check(leadID, "leadID")
    try FieldLimit.check(searchID, "searchID")
    try FieldLimit.check(domain, "domain", limit: FieldLimit.url)
    try FieldLimit.check(url, "url", limit: FieldLimit.url)
}
