import Foundation
import JSONCodec

/// What lead discovery publishes for each lead found: the public input contract of the pipeline.
///
/// Wire example (topic ``Topics/leadsDiscovered``, key = lead id):
/// ```json
/// {"schema": "lead.discovered", "version": 1, "leadID": "lead-1", "accountID": "acct-1",
///  "offerID": "offer-1", "sourceSearchID": "search-1", "source": "keyword-search",
///  "name": "Jane Doe", "linkedinURL": "linkedin.com/in/janedoe", "mode": "full",
///  "discoveredAt": "2025-01-31T12:00:00.000Z"}
/// ```
/// `mode` defaults to `full`; `reEnrichTypes` is required when `mode` is `re-enrich`.
public struct LeadDiscovered: Message, Hashable {
    /// `lead.discovered`.
    public static let schemaName = "lead.discovered"
    /// Version 1.
    public static let schemaVersion = 1
    /// Its schema allows no other field. Made once: the codec asks for it at every decode.
    public static let fieldNames: Set<String>? = [
        "leadID", "accountID", "offerID", "sourceSearchID", "source", "name", "linkedinURL", "xURL", "mode", "reEnrichTypes",
        "discoveredAt", "poolProfile",
    ]

    /// The lead; also the record key.
    public var leadID: LeadID
    /// The account the lead belongs to.
    public var accountID: AccountID
    /// The offer the lead is scored against.
    public var offerID: OfferID
    /// The search that found the lead; progress is counted per search.
    public var sourceSearchID: SearchID
    /// How the lead was found.
    public var source: LeadSource
    /// The person's name as discovery saw it.
    public var name: String
    /// LinkedIn profile URL, if known.
    public var linkedinURL: String?
    /// X profile URL, if known.
    public var xURL: String?
    /// Which phases to run; defaults to `full`.
    public var mode: ModeName
    /// For `re-enrich`: what to refresh.
    public var reEnrichTypes: [ReEnrichType]?
    /// When discovery found the lead.
    public var discoveredAt: Date
    /// For a lead matched from the lead pool (source `lead-pool`, mode `scoring-only`): the
    /// finished profile it was matched on, so scoring starts from what enrichment already found.
    /// On the heap (``Indirect``): the states and requests that carry the lead stay small.
    @Indirect public var poolProfile: EnrichedProfile?

    /// Creates the message.
    public init(
        leadID: LeadID, accountID: AccountID, offerID: OfferID, sourceSearchID: SearchID,
        source: LeadSource, name: String, linkedinURL: String? = nil, xURL: String? = nil,
        mode: ModeName = .full, reEnrichTypes: [ReEnrichType]? = nil, discoveredAt: Date,
        poolProfile: EnrichedProfile? = nil
    ) {
        self._poolProfile = Indirect(wrappedValue: poolProfile)
        self.leadID = leadID
        self.accountID = accountID
        self.offerID = offerID
        self.sourceSearchID = sourceSearchID
        self.source = source
        self.name = name
        self.linkedinURL = linkedinURL
        self.xURL = xURL
        self.mode = mode
        self.reEnrichTypes = reEnrichTypes
        self.discoveredAt = discoveredAt
    }

    private enum CodingKeys: String, CodingKey {
        case leadID, accountID, offerID, sourceSearchID, source, name, linkedinURL, xURL, mode,
            reEnrichTypes, discoveredAt, poolProfile
    }

    /// Decodes the message; a missing `mode` means `full`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        leadID = try container.decode(LeadID.self, forKey: .leadID)
        accountID = try container.decode(AccountID.self, forKey: .accountID)
        offerID = try container.decode(OfferID.self, forKey: .offerID)
        sourceSearchID = try container.decode(SearchID.self, forKey: .sourceSearchID)
        source = try container.decode(LeadSource.self, forKey: .source)
        name = try container.decode(String.self, forKey: .name)
        linkedinURL = try container.decodeIfPresent(String.self, forKey: .linkedinURL)
        xURL = try container.decodeIfPresent(String.self, forKey: .xURL)
        mode = try container.decodeIfPresent(ModeName.self, forKey: .mode) ?? .full
        reEnrichTypes = try container.decodeIfPresent([ReEnrichType].self, forKey: .reEnrichTypes)
        discoveredAt = try container.decode(Date.self, forKey: .discoveredAt)
        _poolProfile = Indirect(wrappedValue: try container.decodeIfPresent(EnrichedProfile.self, forKey: .poolProfile))
    }

    /// Encodes the message; absent optionals are left out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(leadID, forKey: .leadID)
        try container.encode(accountID, forKey: .accountID)
        try container.encode(offerID, forKey: .offerID)
        try container.encode(sourceSearchID, forKey: .sourceSearchID)
        try container.encode(source, forKey: .source)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(linkedinURL, forKey: .linkedinURL)
        try container.encodeIfPresent(xURL, forKey: .xURL)
        try container.encode(mode, forKey: .mode)
        try container.encodeIfPresent(reEnrichTypes, forKey: .reEnrichTypes)
        try container.encode(discoveredAt, forKey: .discoveredAt)
        try container.encodeIfPresent(poolProfile, forKey: .poolProfile)
    }

    /// The LinkedIn URL parsed, or nil when absent or invalid (see ``validate()``).
    public var linkedinProfile: ProfileURL? {
        linkedinURL.flatMap { try? ProfileURL.linkedin($0).get() }
    }

    /// The X URL parsed, or nil when absent or invalid (see ``validate()``).
    public var xProfile: ProfileURL? {
        xURL.flatMap { try? ProfileURL.x($0).get() }
    }

    /// The platforms this lead has a valid URL for.
    public var availablePlatforms: Set<Platform> {
        var platforms: Set<Platform> = []
        if linkedinProfile != nil { platforms.insert(.linkedin) }
        if xProfile != nil { platforms.insert(.x) }
        return platforms
    }

    /// The mode with its re-enrich types; `full` if the combination is invalid (see ``validate()``).
    /// A `scoring-only` lead without `poolProfile` has nothing to score, so it runs `full`.
    public var resolvedMode: Mode {
        if isScoringOnlyWithoutProfile { return .full }
        return Mode(name: mode, reEnrichTypes: reEnrichTypes) ?? .full
    }

    /// Whether the lead asks for scoring only but carries no profile to score.
    public var isScoringOnlyWithoutProfile: Bool { mode == .scoringOnly && poolProfile == nil }

    /// Why `account` does not let this lead run, or nil: an account with `allowsEnrichment`
    /// false runs only leads that need no enrichment (scoring-only with their profile).
    public func refusal(by account: AccountConfig) -> String? {
        guard account.allowsEnrichment == false,
              resolvedMode.phases.contains(where: { $0 == .profile || $0 == .activity })
        else { return nil }
        let what = isScoringOnlyWithoutProfile
            ? "scoring-only lead without poolProfile: there is no profile to score, and it would need enrichment"
            : "mode \(mode.rawValue) needs enrichment"
        return "\(what); account '\(account.accountID)' does not allow enrichment (allowsEnrichment false)"
    }

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// Ids at most ``FieldLimit/identifier`` scalars, the name ``FieldLimit/name``, URLs ``FieldLimit/url``.
    public func checkFieldLengths() throws(FieldTooLong) {
        try FieldLimit.check(leadID, "leadID")
        try FieldLimit.check(accountID, "accountID")
        try FieldLimit.check(offerID, "offerID")
        try FieldLimit.check(sourceSearchID, "sourceSearchID")
        try FieldLimit.check(name, "name", limit: FieldLimit.name)
        try FieldLimit.check(linkedinURL, "linkedinURL", limit: FieldLimit.url)
        try FieldLimit.check(xURL, "xURL", limit: FieldLimit.url)
    }

    /// Checks the rules JSON cannot express: a name, at least one profile URL, each URL a
    /// profile of its platform, and types for re-enrich.
    public func validate() throws(LeadValidationError) {
        if name.isBlank { throw .emptyName }
        let linkedin = linkedinURL.flatMap { $0.isEmpty ? nil : $0 }
        let x = xURL.flatMap { $0.isEmpty ? nil : $0 }
        if linkedin == nil && x == nil { throw .missingProfileURL }
        if let linkedin, case .failure(let problem) = ProfileURL.linkedin(linkedin) {
            throw .invalidLinkedInURL(linkedin, problem)
        }
        if let x, case .failure(let problem) = ProfileURL.x(x) {
            throw .invalidXURL(x, problem)
        }
        if mode == .reEnrich && (reEnrichTypes ?? []).isEmpty { throw .reEnrichWithoutTypes }
    }
}

extension LeadDiscovered {
    /// What can be read of a published lead the codec refused (it breaks the input rules), for
    /// the refused state that counts it for its search: its ids, each a non-empty string within
    /// ``FieldLimit/identifier``; its name (cut at ``FieldLimit/name``), source and discovery
    /// time when readable, else empty, `keyword-search` and `at`; no URL, mode or pool profile.
    /// Nil when an id cannot be read.
    public static func readableIdentity(in bytes: [UInt8], at: Date) -> LeadDiscovered? {
        // NUL is refused as the input rules refuse it: lead ids never hold it (``SearchMembership/key``).
        guard let identity = try? JSONIndexDecoder.decode(ReadableIdentity.self, from: bytes, rejectsNUL: true) else { return nil }
        return identity.lead(at: at)
    }

    private struct ReadableIdentity: Decodable {
        let leadID, accountID, offerID, sourceSearchID: String?
        let name: String?
        let source: LeadSource?
        let discoveredAt: Date?

        private enum CodingKeys: String, CodingKey {
            case leadID, accountID, offerID, sourceSearchID, name, source, discoveredAt
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func id(_ key: CodingKeys) -> String? {
                guard let value = try? container.decode(String.self, forKey: key), !value.isEmpty,
                      value.unicodeScalars.count <= FieldLimit.identifier else { return nil }
                return value
            }
            leadID = id(.leadID)
            accountID = id(.accountID)
            offerID = id(.offerID)
            sourceSearchID = id(.sourceSearchID)
            name = (try? container.decode(String.self, forKey: .name)).map { $0.prefix(scalars: FieldLimit.name) }
            source = try? container.decode(LeadSource.self, forKey: .source)
            discoveredAt = try? container.decode(Date.self, forKey: .discoveredAt)
        }

        func lead(at: Date) -> LeadDiscovered? {
            guard let leadID, let accountID, let offerID, let sourceSearchID else { return nil }
            return LeadDiscovered(leadID: LeadID(leadID), accountID: AccountID(accountID), offerID: OfferID(offerID),
                                  sourceSearchID: SearchID(sourceSearchID), source: source ?? .keywordSearch, name: name ?? "",
                                  linkedinURL: nil, xURL: nil, discoveredAt: discoveredAt ?? at)
        }
    }
}

/// Why a ``LeadDiscovered`` is not acceptable; each description says what to change.
public enum LeadValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The name is empty.
    case emptyName
    /// Neither `linkedinURL` nor `xURL` is set.
    case missingProfileURL
    /// `linkedinURL` is not a LinkedIn person profile.
    case invalidLinkedInURL(String, ProfileURL.Problem)
    /// `xURL` is not an X profile.
    case invalidXURL(String, ProfileURL.Problem)
    /// `mode` is `re-enrich` but `reEnrichTypes` is empty.
    case reEnrichWithoutTypes

    /// What is wrong and how to fix it.
    public var description: String {
        switch self {
        case .emptyName:
            "\"name\" is empty; give the person's name"
        case .missingProfileURL:
            "no profile URL; set \"linkedinURL\" (linkedin.com/in/<handle>) and/or \"xURL\" (x.com/<handle>)"
        case .invalidLinkedInURL(let url, let problem):
            "\"linkedinURL\" \"\(url)\" is not a LinkedIn profile URL: \(problem); expected https://www.linkedin.com/in/<handle>"
        case .invalidXURL(let url, let problem):
            "\"xURL\" \"\(url)\" is not an X profile URL: \(problem); expected https://x.com/<handle> or https://twitter.com/<handle>"
        case .reEnrichWithoutTypes:
            "mode \"re-enrich\" needs \"reEnrichTypes\" with at least one of linkedin, x, activity"
        }
    }
}

/// Discovery declares how many leads a search produced, so progress can say when it completed.
/// Key: the search id.
public struct SearchTotalDeclared: Message, Hashable {
    /// `search.total-declared`.
    public static let schemaName = "search.total-declared"
    /// Version 1.
    public static let schemaVersion = 1

    /// The search.
    public var searchID: SearchID
    /// The account that ran it.
    public var accountID: AccountID
    /// How many leads the search published in total.
    public var total: Int
    /// When the total was declared.
    public var declaredAt: Date

    /// Creates the message.
    public init(searchID: SearchID, accountID: AccountID, total: Int, declaredAt: Date) {
        self.searchID = searchID
        self.accountID = accountID
        self.total = total
        self.declaredAt = declaredAt
    }

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// Ids at most ``FieldLimit/identifier`` scalars.
    public func checkFieldLengths() throws(FieldTooLong) {
        try FieldLimit.check(searchID, "searchID")
        try FieldLimit.check(accountID, "accountID")
    }

    /// The most leads a search may declare: far beyond any search, and small enough that an
    /// account's searches add up without overflowing.
    public static let maxTotal = 1_000_000_000

    /// The total must be 0 to ``maxTotal``.
    public func validate() throws {
        try CountBound.check(total, "total", in: 0...Self.maxTotal)
    }
}

/// A rule violation with a readable message, for ``Message/validate()`` of configuration types.
public struct LeadModelRuleError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    /// Creates the error.
    public init(_ description: String) { self.description = description }
}

/// Whether an account may be charged.
public enum BillingState: String, Codable, Sendable, CaseIterable {
    /// Paid phases run.
    case active
    /// Leads wait before paid phases until the account resumes.
    case paused
}

/// The hours in which an account's outreach may happen, in the account's time zone.
public struct OutreachWindow: Codable, Hashable, Sendable {
    /// An IANA time zone identifier, e.g. `America/New_York`.
    public var timeZoneID: String
    /// ISO weekdays on which the window is open: 1 = Monday ... 7 = Sunday.
    public var weekdays: [Int]
    /// First hour of the window (0-23), inclusive.
    public var startHour: Int
    /// Hour the window closes (1-24), exclusive.
    public var endHour: Int

    /// Creates a window.
    public init(timeZoneID: String, weekdays: [Int] = [1, 2, 3, 4, 5], startHour: Int = 9, endHour: Int = 17) {
        self.timeZoneID = timeZoneID
        self.weekdays = weekdays
        self.startHour = startHour
        self.endHour = endHour
    }

    /// Whether `date` falls inside the window. An unknown time zone counts as UTC.
    public func contains(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZoneID) ?? TimeZone(secondsFromGMT: 0) ?? .current
        let parts = calendar.dateComponents([.weekday, .hour], from: date)
        guard let weekday = parts.weekday, let hour = parts.hour else { return false }
        // Calendar weekdays run 1 = Sunday ... 7 = Saturday; convert to ISO.
        let isoWeekday = weekday == 1 ? 7 : weekday - 1
        return weekdays.contains(isoWeekday) && hour >= startHour && hour < endHour
    }

    /// The first moment at or after `date` inside the window: `date` itself when it is inside,
    /// else the start of the next open hour; nil when the window never opens (no weekdays or an
    /// empty hour range).
    public func nextOpening(after date: Date) -> Date? {
        if contains(date) { return date }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZoneID) ?? TimeZone(secondsFromGMT: 0) ?? .current
        guard let hourStart = calendar.dateInterval(of: .hour, for: date)?.start else { return nil }
        // Every opening lies within the next 8 days of hours.
        for hours in 1...(8 * 24) {
            let candidate = hourStart.addingTimeInterval(Double(hours) * 3600)
            if contains(candidate) { return candidate }
        }
        return nil
    }
}

/// When a scored lead is enrolled in an outreach sequence automatically.
public struct AutopilotRule: Codable, Hashable, Sendable {
    /// Whether autopilot is on for the account.
    public var isEnabled: Bool
    /// Minimum fit score (0-100).
    public var minimumFit: Int
    /// Minimum intent score (0-100).
    public var minimumIntent: Int
    /// The buyer state required. Autopilot enrolls only `active` leads: a rule naming another
    /// state enrolls no one (``AutopilotCheck`` says so in its reasons).
    public var requiredBuyerState: BuyerState

    /// Creates a rule.
    public init(isEnabled: Bool = true, minimumFit: Int = 40, minimumIntent: Int = 50, requiredBuyerState: BuyerState = .active) {
        self.isEnabled = isEnabled
        self.minimumFit = minimumFit
        self.minimumIntent = minimumIntent
        self.requiredBuyerState = requiredBuyerState
    }
}

/// An account's configuration (topic ``Topics/accounts``, compacted, key = account id).
public struct AccountConfig: Message, Hashable {
    /// `account.config`.
    public static let schemaName = "account.config"
    /// Version 1.
    public static let schemaVersion = 1

    /// The account.
    public var accountID: AccountID
    /// Whether paid phases may run.
    public var billingState: BillingState
    /// When outreach may happen; nil means always.
    public var outreachWindow: OutreachWindow?
    /// The autopilot rule; nil means autopilot is off.
    public var autopilot: AutopilotRule?
    /// Cross-platform profile finding; nil (and absent in records written before it existed)
    /// means off.
    public var profileFinder: ProfileFinderRule?
    /// When this configuration was written.
    public var updatedAt: Date
    /// Whether leads may be enriched (paid provider calls); nil means yes. False: only leads
    /// that bring their profile (`poolProfile`) run, scoring only; others go to dead letters.
    public var allowsEnrichment: Bool?

    /// Creates the configuration.
    public init(
        accountID: AccountID, billingState: BillingState = .active, outreachWindow: OutreachWindow? = nil,
        autopilot: AutopilotRule? = nil, profileFinder: ProfileFinderRule? = nil, updatedAt: Date
    ) {
        self.accountID = accountID
        self.billingState = billingState
        self.outreachWindow = outreachWindow
        self.autopilot = autopilot
        self.profileFinder = profileFinder
        self.updatedAt = updatedAt
    }

    /// Whether the profile finder runs for this account's leads.
    public var isProfileFinderEnabled: Bool { profileFinder?.isEnabled == true }

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// The id and the time zone at most ``FieldLimit/identifier`` scalars.
    public func checkFieldLengths() throws(FieldTooLong) {
        try FieldLimit.check(accountID, "accountID")
        try FieldLimit.check(outreachWindow?.timeZoneID, "outreachWindow.timeZoneID", limit: FieldLimit.identifier)
    }

    /// The outreach window must name a known time zone and valid hours and weekdays; a profile
    /// finder confidence must lie in 0...1.
    public func validate() throws {
        if let confidence = profileFinder?.minimumConfidence, !(0...1).contains(confidence) {
            throw LeadModelRuleError("profileFinder.minimumConfidence \(confidence) must lie in 0...1")
        }
        guard let window = outreachWindow else { return }
        if TimeZone(identifier: window.timeZoneID) == nil {
            throw LeadModelRuleError("outreachWindow.timeZoneID \"\(window.timeZoneID)\" is not an IANA time zone")
        }
        if !(0...23).contains(window.startHour) || !(1...24).contains(window.endHour) || window.startHour >= window.endHour {
            throw LeadModelRuleError("outreachWindow hours \(window.startHour)-\(window.endHour) must satisfy 0 <= start < end <= 24")
        }
        if window.weekdays.isEmpty || !window.weekdays.allSatisfy((1...7).contains) {
            throw LeadModelRuleError("outreachWindow.weekdays must be ISO weekdays 1 (Monday) to 7 (Sunday)")
        }
    }
}

/// The ideal customer profile of an offer: who fits, and what signals intent.
public struct IdealCustomerProfile: Codable, Hashable, Sendable {
    /// Job title keywords, e.g. "demand generation", "sales".
    public var titles: [String]
    /// Seniorities that buy.
    public var seniorities: [Seniority]
    /// Industries, e.g. "software".
    public var industries: [String]
    /// Smallest company (employees), inclusive; nil = no lower bound.
    public var minimumEmployees: Int?
    /// Largest company (employees), inclusive; nil = no upper bound.
    public var maximumEmployees: Int?
    /// Locations (city, region or country names).
    public var locations: [String]
    /// Problems the offer solves, as phrases people write ("manual prospecting").
    public var painPoints: [String]
    /// Competitor names.
    public var competitors: [String]
    /// Extra phrases that signal intent for this offer.
    public var customIntentKeywords: [String]

    /// Creates a profile; every criterion defaults to "no constraint".
    public init(
        titles: [String] = [], seniorities: [Seniority] = [], industries: [String] = [],
        minimumEmployees: Int? = nil, maximumEmployees: Int? = nil, locations: [String] = [],
        painPoints: [String] = [], competitors: [String] = [], customIntentKeywords: [String] = []
    ) {
        self.titles = titles
        self.seniorities = seniorities
        self.industries = industries
        self.minimumEmployees = minimumEmployees
        self.maximumEmployees = maximumEmployees
        self.locations = locations
        self.painPoints = painPoints
        self.competitors = competitors
        self.customIntentKeywords = customIntentKeywords
    }
}

/// What an account adds to the rule scorer's vocabulary (`Shared/LeadRules/Vocabulary/*.json`
/// holds the defaults; each table here adds to the one of the same name there).
public struct VocabularyExtension: Codable, Hashable, Sendable {
    /// Abbreviation → what it stands for ("bdr" → "business development representative").
    public var abbreviations: [String: String]?
    /// Function → phrases naming it in a title ("sales" → ["account executive"]).
    public var functions: [String: [String]]?
    /// Seniority (a ``Seniority`` raw value) → words naming it ("vp" → ["vice president"]).
    public var seniorities: [String: [String]]?
    /// Industry → the narrower industries it includes ("software" → ["security software"]).
    public var industries: [String: [String]]?

    /// Creates an extension.
    public init(
        abbreviations: [String: String]? = nil, functions: [String: [String]]? = nil,
        seniorities: [String: [String]]? = nil, industries: [String: [String]]? = nil
    ) {
        self.abbreviations = abbreviations
        self.functions = functions
        self.seniorities = seniorities
        self.industries = industries
    }
}

/// An offer (topic ``Topics/offers``, compacted, key = offer id).
public struct OfferConfig: Message, Hashable {
    /// `offer.config`.
    public static let schemaName = "offer.config"
    /// Version 1.
    public static let schemaVersion = 1

    /// The offer.
    public var offerID: OfferID
    /// The account selling it.
    public var accountID: AccountID
    /// A display name.
    public var name: String
    /// What the offer is, as phrases ("outbound automation"); used to spot leads building the
    /// same thing in-house.
    public var productKeywords: [String]
    /// Who buys.
    public var icp: IdealCustomerProfile
    /// Chooses the composite score weights.
    public var signalLikelihood: SignalLikelihood
    /// When this configuration was written.
    public var updatedAt: Date
    /// The account's additions to the scorer's title and industry vocabulary; nil for none.
    public var vocabulary: VocabularyExtension?

    /// Creates the offer.
    public init(
        offerID: OfferID, accountID: AccountID, name: String, productKeywords: [String] = [],
        icp: IdealCustomerProfile, signalLikelihood: SignalLikelihood = .medium, updatedAt: Date,
        vocabulary: VocabularyExtension? = nil
    ) {
        self.vocabulary = vocabulary
        self.offerID = offerID
        self.accountID = accountID
        self.name = name
        self.productKeywords = productKeywords
        self.icp = icp
        self.signalLikelihood = signalLikelihood
        self.updatedAt = updatedAt
    }

    /// The most entries each list of an offer holds as the services read it: its product
    /// keywords, each list of its ICP, each table of its vocabulary and each phrase list in one
    /// (``validate()``). Far above what publishing allows (``maxPublishedListEntries``), so that
    /// no offer stored under an earlier bound becomes unreadable (a service that never held it
    /// would not know the offer); it bounds what one record of the offers topic, which other
    /// systems write, asks of the scorer.
    public static let maxListEntries = 5_000

    /// The most entries each list of an offer holds when it is published
    /// (``validateForPublishing()``, `leadctl offer put`). A real offer names a few dozen; an
    /// ICP may name every industry of LinkedIn's list (over 400), or every country and region,
    /// and the scorer reads each list once per offer and once per lead, so its cost grows only
    /// with the list's length.
    public static let maxPublishedListEntries = 500

    /// The most entries an offer's vocabulary holds in all, as the services read it: its
    /// abbreviations, and the keys of its other tables with their phrases (``validate()``). A
    /// real vocabulary adds a few dozen; the bound keeps what reading the offer builds from
    /// them (the phrases every title is read with, the industry hierarchy) small, which bounding
    /// each list alone did not (200 industries of 200 narrower ones each).
    public static let maxVocabularyEntries = 2_000

    /// The most entries an offer's vocabulary holds in all when it is published
    /// (``validateForPublishing()``); see ``maxVocabularyEntries``.
    public static let maxPublishedVocabularyEntries = 1_000

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// Ids at most ``FieldLimit/identifier`` scalars; the name and each keyword or phrase
    /// ``FieldLimit/name``.
    public func checkFieldLengths() throws(FieldTooLong) {
        try FieldLimit.check(offerID, "offerID")
        try FieldLimit.check(accountID, "accountID")
        try FieldLimit.check(name, "name", limit: FieldLimit.name)
        try FieldLimit.check(productKeywords, "productKeywords", limit: FieldLimit.name)
        for (field, phrases) in [("titles", icp.titles), ("industries", icp.industries), ("locations", icp.locations),
                                 ("painPoints", icp.painPoints), ("competitors", icp.competitors),
                                 ("customIntentKeywords", icp.customIntentKeywords)] {
            try FieldLimit.check(phrases, "icp." + field, limit: FieldLimit.name)
        }
        if let vocabulary {
            for (field, table) in [("functions", vocabulary.functions), ("seniorities", vocabulary.seniorities),
                                   ("industries", vocabulary.industries)] {
                for (name, phrases) in table ?? [:] {
                    try FieldLimit.check(name, "vocabulary.\(field) key", limit: FieldLimit.name)
                    try FieldLimit.check(phrases, "vocabulary.\(field).\(name)", limit: FieldLimit.name)
                }
            }
            for (short, long) in vocabulary.abbreviations ?? [:] {
                try FieldLimit.check(short, "vocabulary.abbreviations key", limit: FieldLimit.name)
                try FieldLimit.check(long, "vocabulary.abbreviations.\(short)", limit: FieldLimit.name)
            }
        }
    }

    /// The company size range must not be inverted, the vocabulary's seniorities must be
    /// ``Seniority`` names, no list may hold more than ``maxListEntries`` and the vocabulary no
    /// more than ``maxVocabularyEntries`` in all.
    public func validate() throws {
        if let low = icp.minimumEmployees, let high = icp.maximumEmployees, low > high {
            throw LeadModelRuleError("icp.minimumEmployees \(low) is above icp.maximumEmployees \(high)")
        }
        try checkListLengths(most: Self.maxListEntries, inVocabulary: Self.maxVocabularyEntries)
        for name in (vocabulary?.seniorities ?? [:]).keys.sorted() where Seniority(rawValue: name) == nil {
            throw LeadModelRuleError("vocabulary.seniorities: unknown seniority '\(name)' (one of "
                + Seniority.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
    }

    /// ``validate()``, each list holds at most ``maxPublishedListEntries`` and the vocabulary
    /// ``maxPublishedVocabularyEntries`` in all, and the ICP's titles, industries and locations
    /// hold no blank entry: a blank title or industry constrains its criterion and matches no
    /// lead. An offer stored with longer lists or a blank entry by an earlier version is still
    /// read (its blank location left out by the scorer).
    public func validateForPublishing() throws {
        try validate()
        try checkListLengths(most: Self.maxPublishedListEntries, inVocabulary: Self.maxPublishedVocabularyEntries)
        for (field, entries) in [("titles", icp.titles), ("industries", icp.industries), ("locations", icp.locations)]
            where entries.contains(where: \.isBlank) {
            throw LeadModelRuleError("icp.\(field) holds a blank entry, which no lead matches (leave the list empty for no constraint)")
        }
    }

    /// Refuses a list of more than `most` entries, or a vocabulary of more than
    /// `mostInVocabulary` in all, naming the list or the total.
    private func checkListLengths(most: Int, inVocabulary mostInVocabulary: Int) throws {
        var lists = [("productKeywords", productKeywords.count), ("icp.titles", icp.titles.count),
                     ("icp.seniorities", icp.seniorities.count), ("icp.industries", icp.industries.count),
                     ("icp.locations", icp.locations.count), ("icp.painPoints", icp.painPoints.count),
                     ("icp.competitors", icp.competitors.count), ("icp.customIntentKeywords", icp.customIntentKeywords.count),
                     ("vocabulary.abbreviations", vocabulary?.abbreviations?.count ?? 0)]
        var inVocabulary = vocabulary?.abbreviations?.count ?? 0
        for (field, table) in [("functions", vocabulary?.functions), ("seniorities", vocabulary?.seniorities),
                               ("industries", vocabulary?.industries)] {
            lists.append(("vocabulary.\(field)", table?.count ?? 0))
            lists += (table ?? [:]).sorted { $0.key < $1.key }.map { ("vocabulary.\(field).\($0.key)", $0.value.count) }
            for phrases in (table ?? [:]).values { inVocabulary += 1 + phrases.count }
        }
        let when = most < Self.maxListEntries ? " when published" : ""
        for (field, count) in lists where count > most {
            throw LeadModelRuleError("\(field) holds \(count) entries; an offer's list holds at most \(most)\(when)")
        }
        if inVocabulary > mostInVocabulary {
            throw LeadModelRuleError("vocabulary holds \(inVocabulary) entries in all (its abbreviations, and each table's keys "
                + "with their phrases); an offer's vocabulary holds at most \(mostInVocabulary)\(when)")
        }
    }
}

extension String {
    /// Empty or only white space and newlines: `trimmingCharacters(in: .whitespacesAndNewlines)`
    /// would leave nothing. Scalar by scalar, without Foundation's detour through NSString.
    public var isBlank: Bool { unicodeScalars.allSatisfy(Self.whitespacesAndNewlines.contains) }

    private static let whitespacesAndNewlines = CharacterSet.whitespacesAndNewlines
}
