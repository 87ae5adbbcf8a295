import Foundation
import LeadModel
import LeadRules
import Runtime
import Streaming

/// Apollo.io as a ``PersonVendor``: people by LinkedIn profile, alone or ten at a time, and
/// people search for profile finding.
///
/// - One person: `POST {base}/api/v1/people/match` with `{"linkedin_url": …}`; the reply's
///   `person` (null or absent → ``ProviderError/notFound``, no credit).
/// - Several: `POST {base}/api/v1/people/bulk_match` with `{"details": [{"linkedin_url": …}, …]}`
///   (at most 10); the reply's `matches` line up with `details`, null for no match. An entry that
///   cannot be read fails alone (`.transient`); a `matches` of another length fails the call.
/// - Search: `POST {base}/api/v1/mixed_people/api_search` (free, no emails or phones, last names
///   may come back obfuscated) by name (`q_keywords`), employer (`q_organization_domains_list`
///   when the domain is known, else `organization_names`) and `person_locations`. The candidates
///   that agree well enough (``searchFloor``), at most ``searchEnrichLimit`` of them, are then
///   enriched by Apollo id through the match endpoints: that yields the LinkedIn URL and the
///   employment history, and costs a credit per person matched. Each enriched person is scored
///   again on the full data and returned with that score, even below the floor (the credit is
///   spent; the caller's threshold decides).
/// - Confidence: Apollo gives no score. A match by LinkedIn URL is the person asked for (1.0);
///   a search result scores how well name, company and place agree (``searchConfidence(of:for:)``).
/// - Credits: one per person matched (Apollo charges per enriched record), none for no match or
///   for the search itself.
/// - The key goes in `X-Api-Key`; errors follow ``makeClient(baseURL:credential:timeoutSeconds:limiter:logger:)``.
///
/// The LinkedIn URL sent is rebuilt from the validated handle; an invalid handle fails its entry
/// permanently without being sent.
public struct ApolloVendor: PersonVendor {
    /// `apollo`.
    public let name = "apollo"
    /// Apollo's bulk maximum: 10.
    public let maxBatchSize = 10
    /// The HTTP client (its host, key and rate limiter).
    public let client: ProviderHTTPClient

    /// The header Apollo reads the API key from.
    public static let keyHeader = "X-Api-Key"
    /// Status codes meaning the account's credits are spent. Apollo answers an empty credit pool
    /// with 422 (`{"error": "Insufficient credits. …"}`); the requests here have a fixed, valid
    /// shape, so a 422 is not a validation error of the caller's.
    public static let outOfCreditsStatuses: Set<Int> = [422]
    /// The least ``searchConfidence(of:for:)`` a search candidate needs to be enriched.
    public static let searchFloor = 0.5
    /// The most search candidates enriched (and charged for) per search.
    public static let searchEnrichLimit = 3

    /// A vendor calling through `client` (build it with ``makeClient(baseURL:credential:timeoutSeconds:limiter:logger:)``).
    public init(client: ProviderHTTPClient) { self.client = client }

    /// The client Apollo needs: the key in `X-Api-Key`; 401 and 403 (a key without access to the
    /// endpoint) → ``ProviderError/unauthorized(_:)`` for this call only, so a waterfall opens
    /// Apollo's circuit and tries again later; 422 → ``ProviderError/outOfCredits``; 429 pauses
    /// the limiter (Apollo's windows are fixed per minute, hour and day).
    public static func makeClient(
        baseURL: URL, credential: Secret, timeoutSeconds: Double, limiter: RateLimiter?, logger: Logger
    ) -> ProviderHTTPClient {
        ProviderHTTPClient(
            name: "apollo", baseURL: baseURL, credential: credential, timeoutSeconds: timeoutSeconds, limiter: limiter,
            forbidden: .credentialsRejected, authentication: .header(keyHeader), rejection: .report,
            outOfCreditsStatuses: outOfCreditsStatuses, logger: logger)
    }

    /// See ``PersonVendor/enrich(_:)``. More than ``maxBatchSize`` queries is a permanent failure.
    public func enrich(_ queries: [PersonQuery]) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>] {
        guard queries.count <= maxBatchSize else {
            throw .permanent("apollo: \(queries.count) people in one call; at most \(maxBatchSize)")
        }
        var results = [Result<VendorMatch, ProviderError>](repeating: .failure(.notFound), count: queries.count)
        var sent: [(index: Int, handle: String)] = []
        for (index, query) in queries.enumerated() {
            guard case .success(let url) = ProfileURL.linkedin(query.linkedinURL), url.handle == query.linkedinHandle else {
                results[index] = .failure(.permanent("apollo: \"\(query.linkedinHandle)\" is not a valid LinkedIn handle"))
                continue
            }
            sent.append((index, url.handle))
        }
        guard !sent.isEmpty else { return results }
        let people = try await match(sent.map { Detail(linkedinURL: queries[$0.index].linkedinURL) })
        for (entry, person) in zip(sent, people) {
            results[entry.index] = person.flatMap { person in
                Self.enrichment(of: person, handle: entry.handle).map { VendorMatch(vendor: name, confidence: 1, enrichment: $0, credits: 1) }
            }
        }
        return results
    }

    /// See ``PersonVendor/search(_:)``.
    public func search(_ search: PersonSearch) async throws(ProviderError) -> [VendorMatch] {
        let request = SearchRequest(search)
        let reply = try await client.send("POST", path: ["api", "v1", "mixed_people", "api_search"], body: try Self.encode(request))
        let candidates = try client.decode(SearchReply.self, reply).people.compactMap(\.person)
        let chosen = candidates
            .map { (person: $0, score: Self.searchConfidence(of: $0, for: search)) }
            .filter { $0.score >= Self.searchFloor }
            .sorted { $0.score > $1.score }
            .prefix(Self.searchEnrichLimit)
            .compactMap { candidate in Detail(candidate.person) }
        guard !chosen.isEmpty else { return [] }

        let enriched = try await match(Array(chosen))
        return enriched.compactMap { result -> VendorMatch? in
            guard case .success(let person) = result, let handle = person.linkedinHandle,
                case .success(let enrichment) = Self.enrichment(of: person, handle: handle)
            else { return nil }
            return VendorMatch(vendor: name, confidence: Self.searchConfidence(of: person, for: search), enrichment: enrichment, credits: 1)
        }
        .sorted { $0.confidence > $1.confidence }
    }

    // MARK: - Matching

    /// One person per detail, in order: people/match for one, bulk_match for more.
    private func match(_ details: [Detail]) async throws(ProviderError) -> [Result<Person, ProviderError>] {
        if details.count == 1 {
            let reply = try await client.send("POST", path: ["api", "v1", "people", "match"], body: try Self.encode(details[0]))
            guard let person = try client.decode(MatchReply.self, reply).person else { return [.failure(.notFound)] }
            return [.success(person)]
        }
        let reply = try await client.send(
            "POST", path: ["api", "v1", "people", "bulk_match"], body: try Self.encode(BulkRequest(details: details)))
        let matches = try client.decode(BulkReply.self, reply).matches
        guard matches.count == details.count else {
            throw .transient("apollo: \(matches.count) matches for \(details.count) people asked")
        }
        return matches.map(\.result)
    }

    /// The enrichment of a matched person, or `.permanent` when the match carries no name: the
    /// same paid record would come back on every retry.
    static func enrichment(of person: Person, handle: String) -> Result<LinkedInEnrichment, ProviderError> {
        guard let fullName = person.fullName else { return .failure(.permanent("apollo: match without a name")) }
        let experiences = (person.employment_history ?? []).map { job in
            Experience(
                company: job.organization_name ?? "", title: job.title ?? "", startDate: job.start_date.flatMap(Self.date),
                endDate: job.current == true ? nil : job.end_date.flatMap(Self.date))
        }
        .sorted { ($0.startDate ?? .distantPast) > ($1.startDate ?? .distantPast) }
        let organization = person.organization
        let current = experiences.first(where: \.isCurrent)
        let companyName = organization?.name ?? current?.company ?? ""
        let companyID = organization?.linkedin_url.flatMap(HTTPLinkedInProvider.companySlug)
        let profile = LinkedInProfile(
            publicIdentifier: handle, fullName: fullName, headline: person.headline ?? "",
            jobTitle: person.title ?? current?.title ?? "", company: companyName, companyLinkedInID: companyID,
            location: Self.place(person.city, person.state, person.country) ?? "", experiences: experiences, education: [],
            skills: [], certifications: [], languages: [], connections: 0, followers: 0)
        let company = companyName.isEmpty ? nil : Company(
            name: companyName, linkedInID: companyID, employeeCount: organization?.estimated_num_employees,
            revenueUSD: organization?.annual_revenue.flatMap { Int(exactly: $0.rounded()) }, industry: organization?.industry,
            domain: organization?.domain, headquarters: Self.place(organization?.city, organization?.state, organization?.country))
        return .success(LinkedInEnrichment(profile: profile, company: company))
    }

    // MARK: - Search confidence

    /// How well a candidate agrees with the search, 0...1 (Apollo gives no score): the name
    /// weighs 0.55, the company 0.35 and the place 0.10, the place only when the search names one
    /// (the others are then scaled to 1).
    /// - Name: the share of the searched name's words found in the candidate's; a last name Apollo
    ///   obfuscated (`S***h`) counts half when its first and last letters agree.
    /// - Company: 1 when the candidate's domain is the searched one or the names agree once
    ///   lower-cased and stripped of legal suffixes; else the share of the searched name's words
    ///   in the candidate's company name.
    /// - Place: 1 when the candidate's city, state or country appears in the searched place.
    public static func searchConfidence(of person: Person, for search: PersonSearch) -> Double {
        let name = nameAgreement(person, search.name)
        let company = companyAgreement(person.organization, search)
        guard let location = search.location.map(words), !location.isEmpty else {
            return rounded((0.55 * name + 0.35 * company) / 0.9)
        }
        let places = [person.city, person.state, person.country].compactMap { $0 }.map(words)
        let place = places.contains { !$0.isEmpty && Set($0).isSubset(of: Set(location)) } ? 1.0 : 0
        return rounded(0.55 * name + 0.35 * company + 0.10 * place)
    }

    private static func nameAgreement(_ person: Person, _ wanted: String) -> Double {
        let wantedWords = words(wanted)
        guard !wantedWords.isEmpty else { return 0 }
        let known = Set(words(person.fullName ?? ""))
        let obfuscated = person.last_name_obfuscated.map { $0.lowercased() }
        let points = wantedWords.map { word -> Double in
            if known.contains(word) { return 1 }
            if let obfuscated, obfuscated.count >= 2, obfuscated.first == word.first, obfuscated.last == word.last { return 0.5 }
            return 0
        }
        return points.reduce(0, +) / Double(wantedWords.count)
    }

    private static func companyAgreement(_ organization: Organization?, _ search: PersonSearch) -> Double {
        guard let organization else { return 0 }
        if let wanted = search.companyDomain.map(bareHost), let domain = organization.domain, wanted == domain { return 1 }
        let wanted = companyWords(search.company)
        let actual = companyWords(organization.name ?? "")
        guard !wanted.isEmpty, !actual.isEmpty else { return 0 }
        if wanted == actual { return 1 }
        return Double(wanted.filter(Set(actual).contains).count) / Double(wanted.count)
    }

    private static let legalSuffixes: Set<String> = ["inc", "llc", "ltd", "gmbh", "corp", "corporation", "co", "sa", "ag", "plc", "bv"]

    private static func companyWords(_ text: String) -> [String] { words(text).filter { !legalSuffixes.contains($0) } }

    /// Lower-cased words of letters and digits.
    private static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
    }

    private static func rounded(_ value: Double) -> Double { (min(1, max(0, value)) * 100).rounded() / 100 }

    // MARK: - Helpers

    /// A host without scheme, path or `www.`, lower-cased (`https://www.Acme.com/x` → `acme.com`).
    static func bareHost(_ text: String) -> String {
        let withScheme = text.contains("://") ? text : "https://" + text
        var host = (URLComponents(string: withScheme)?.host ?? text).lowercased()
        if host.hasPrefix("www.") { host.removeFirst(4) }
        return host
    }

    private static func place(_ parts: String?...) -> String? {
        let text = parts.compactMap { $0?.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: ", ")
        return text.isEmpty ? nil : text
    }

    /// `2021-03-01` (or `2021-03`, `2021`) at midnight UTC.
    static func date(_ text: String) -> Date? {
        let parts = text.prefix(10).split(separator: "-").map { Int($0) }
        guard let year = parts.first ?? nil, (1900...2200).contains(year), parts.allSatisfy({ $0 != nil }) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let month = parts.count > 1 ? parts[1]! : 1
        let day = parts.count > 2 ? parts[2]! : 1
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        return calendar.date(from: DateComponents(year: year, month: month, day: day))
    }

    private static func encode<T: Encodable>(_ value: T) throws(ProviderError) -> Data {
        do {
            return try JSONEncoder().encode(value)
        } catch {
            throw .permanent("apollo: cannot encode the request")
        }
    }

    // MARK: - Request and reply shapes (Apollo)

    /// Whom one match asks for: a LinkedIn URL, or an Apollo person id from a search.
    struct Detail: Encodable {
        var linkedin_url: String?
        var id: String?

        init(linkedinURL: String) { linkedin_url = linkedinURL }

        /// By id when the candidate has one, else by its LinkedIn URL; nil with neither.
        init?(_ candidate: Person) {
            if let id = candidate.id, !id.isEmpty {
                self.id = id
            } else if let handle = candidate.linkedinHandle {
                linkedin_url = PersonQuery(linkedinHandle: handle).linkedinURL
            } else {
                return nil
            }
        }
    }

    struct BulkRequest: Encodable {
        var details: [Detail]
    }

    struct SearchRequest: Encodable {
        var q_keywords: String
        var q_organization_domains_list: [String]?
        var organization_names: [String]?
        var person_locations: [String]?
        var page = 1
        var per_page = 10

        init(_ search: PersonSearch) {
            q_keywords = search.name
            if let domain = search.companyDomain.map(ApolloVendor.bareHost), !domain.isEmpty {
                q_organization_domains_list = [domain]
            } else {
                organization_names = [search.company]
            }
            person_locations = search.location.map { [$0] }
        }
    }

    struct MatchReply: Decodable {
        var person: Person?
    }

    struct BulkReply: Decodable {
        var matches: [Entry]
    }

    struct SearchReply: Decodable {
        var people: [Entry]
    }

    /// One element of a list reply: a person, null, or something that cannot be read as a person.
    struct Entry: Decodable {
        var result: Result<Person, ProviderError>

        var person: Person? { try? result.get() }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                result = .failure(.notFound)
            } else if let person = try? container.decode(Person.self) {
                result = .success(person)
            } else {
                result = .failure(.transient("apollo: unreadable match"))
            }
        }
    }

    /// A person as Apollo returns one (only the fields used here).
    public struct Person: Decodable, Sendable {
        struct Job: Decodable, Sendable {
            var organization_name: String?
            var title: String?
            var start_date: String?
            var end_date: String?
            var current: Bool?
        }

        var id: String?
        var name: String?
        var first_name: String?
        var last_name: String?
        var last_name_obfuscated: String?
        var title: String?
        var headline: String?
        var linkedin_url: String?
        var city: String?
        var state: String?
        var country: String?
        var employment_history: [Job]?
        var organization: Organization?

        /// `name`, else first and last name; nil when Apollo gave neither.
        var fullName: String? {
            if let name = name?.trimmingCharacters(in: .whitespaces), !name.isEmpty { return name }
            let parts = [first_name, last_name].compactMap { $0?.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return parts.isEmpty ? nil : parts.joined(separator: " ")
        }

        /// The handle of `linkedin_url` when it is a valid LinkedIn person profile.
        var linkedinHandle: String? {
            guard let text = linkedin_url, case .success(let url) = ProfileURL.linkedin(text) else { return nil }
            return url.handle
        }
    }

    /// The person's current employer as Apollo returns it.
    struct Organization: Decodable, Sendable {
        var name: String?
        var industry: String?
        var estimated_num_employees: Int?
        var annual_revenue: Double?
        var primary_domain: String?
        var website_url: String?
        var linkedin_url: String?
        var city: String?
        var state: String?
        var country: String?

        /// `primary_domain`, else the host of `website_url`, without `www.`.
        var domain: String? {
            let text = primary_domain ?? website_url
            return text.map(ApolloVendor.bareHost).flatMap { $0.isEmpty ? nil : $0 }
        }
    }
}
