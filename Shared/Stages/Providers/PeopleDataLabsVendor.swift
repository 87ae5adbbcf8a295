import Foundation
import LeadModel
import LeadRules

/// People Data Labs (PDL) as a ``PersonVendor``, over HTTP.
///
/// - One person: `GET {base}/v5/person/enrich?profile=https://www.linkedin.com/in/{handle}`
///   with `min_likelihood` and `titlecase=true`. The reply is `{status, likelihood, data}`;
///   confidence is `likelihood / 10`. A 404 is no match (``ProviderError/notFound``, no credits).
/// - More than one: `POST {base}/v5/person/bulk` with
///   `{"requests":[{"params":{"profile":[url],"min_likelihood":n,"titlecase":true}}, …]}`
///   (at most ``maxBatchSize``). The reply is an array of `{status, likelihood, data}` in request
///   order. Each entry stands alone: status 404 is that entry's ``ProviderError/notFound``, an
///   entry that cannot be read is that entry's ``ProviderError/transient(_:)``. A reply array
///   whose length differs from the request's fails the whole call as transient (entries could
///   not be matched to people).
/// - Search: Person Identify, `GET {base}/v5/person/identify?name=…&company=…[&location=…]`
///   (the company's domain when known, else its name). The reply's `matches` (each
///   `{data, match_score}`, score 1-99) become matches best first with confidence
///   `match_score / 100`. PDL charges one credit per identify call, whatever it returns: the best
///   match carries that credit, the others none. A 404 is an empty result.
/// - A record without a LinkedIn profile (`linkedin_username` / `linkedin_url`), a full name, or
///   a current job (title or company) cannot be used by the pipeline and counts as no match
///   (``ProviderError/notFound`` for an enrichment, left out of a search).
/// - A handle that is not a valid LinkedIn handle is that entry's permanent failure and is never
///   sent. Rate limiting, 402 (out of credits), 401 and the key (`X-Api-Key`, never logged) are
///   the client's (``ProviderHTTPClient``, built with `authentication: .header("X-Api-Key")`,
///   `rejection: .report`, `outOfCreditsStatuses: [402]`).
public struct PeopleDataLabsVendor: PersonVendor {
    /// `pdl`.
    public let name = "pdl"
    /// PDL's bulk maximum.
    public let maxBatchSize = 100
    /// The HTTP client (PDL's host, the key, the rate limiter).
    public let client: ProviderHTTPClient
    /// The lowest likelihood (1-10) PDL may answer an enrichment with; lower is a 404.
    public let minLikelihood: Int

    /// A vendor calling through `client`, asking for matches of at least `minLikelihood`
    /// (clamped to 1...10).
    public init(client: ProviderHTTPClient, minLikelihood: Int = 6) {
        self.client = client
        self.minLikelihood = min(10, max(1, minLikelihood))
    }

    /// See ``PersonVendor/enrich(_:)``. More than ``maxBatchSize`` queries is a permanent failure
    /// without a request.
    public func enrich(_ queries: [PersonQuery]) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>] {
        guard queries.count <= maxBatchSize else {
            throw .permanent("pdl: \(queries.count) people in one call; at most \(maxBatchSize)")
        }
        var results: [Result<VendorMatch, ProviderError>?] = []
        var profiles: [(index: Int, url: String)] = []
        for (index, query) in queries.enumerated() {
            if let url = Self.profileURL(query.linkedinHandle) {
                results.append(nil)
                profiles.append((index, url))
            } else {
                results.append(.failure(.permanent("pdl: \"\(query.linkedinHandle)\" is not a valid LinkedIn handle")))
            }
        }
        let answers = queries.count == 1 && profiles.count == 1
            ? [try await enrichOne(profiles[0].url)] : try await enrichBulk(profiles.map(\.url))
        for (profile, answer) in zip(profiles, answers) { results[profile.index] = answer }
        return results.map { $0 ?? .failure(.transient("pdl: no answer for this entry")) }
    }

    /// See ``PersonVendor/search(_:)``.
    public func search(_ search: PersonSearch) async throws(ProviderError) -> [VendorMatch] {
        let personName = search.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let company = (search.companyDomain ?? search.company).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !personName.isEmpty, !company.isEmpty else {
            throw .permanent("pdl: a search needs a name and a company")
        }
        var query = [URLQueryItem(name: "name", value: personName), URLQueryItem(name: "company", value: company)]
        if let location = search.location?.trimmingCharacters(in: .whitespacesAndNewlines), !location.isEmpty {
            query.append(URLQueryItem(name: "location", value: location))
        }
        query.append(URLQueryItem(name: "titlecase", value: "true"))
        let reply: ProviderHTTPClient.Reply
        do throws(ProviderError) {
            reply = try await client.send(path: ["v5", "person", "identify"], query: query)
        } catch .notFound {
            return []
        }
        let identified = try Self.decode(IdentifyReply.self, reply.body, what: "identify reply")
        let ranked = (identified.matches ?? []).enumerated().compactMap { position, candidate -> (Int, Double, LinkedInEnrichment)? in
            guard let match = candidate.value, let data = match.data, let enrichment = Self.enrichment(data) else { return nil }
            return (position, min(1, max(0, (match.match_score ?? 0) / 100)), enrichment)
        }
        .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return ranked.enumerated().map { rank, entry in
            VendorMatch(vendor: name, confidence: entry.1, enrichment: entry.2, credits: rank == 0 ? 1 : 0)
        }
    }

    // MARK: - Calls

    private func enrichOne(_ profile: String) async throws(ProviderError) -> Result<VendorMatch, ProviderError> {
        let reply: ProviderHTTPClient.Reply
        do throws(ProviderError) {
            reply = try await client.send(
                path: ["v5", "person", "enrich"],
                query: [
                    URLQueryItem(name: "profile", value: profile),
                    URLQueryItem(name: "min_likelihood", value: String(minLikelihood)),
                    URLQueryItem(name: "titlecase", value: "true"),
                ])
        } catch .notFound {
            return .failure(.notFound)
        }
        return match(try Self.decode(Entry.self, reply.body, what: "reply"))
    }

    private func enrichBulk(_ profiles: [String]) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>] {
        guard !profiles.isEmpty else { return [] }
        let request = BulkRequest(
            requests: profiles.map { .init(params: .init(profile: [$0], min_likelihood: minLikelihood, titlecase: true)) })
        let body: Data
        do {
            body = try JSONEncoder().encode(request)
        } catch {
            throw .permanent("pdl: cannot encode the bulk request")
        }
        let reply = try await client.send("POST", path: ["v5", "person", "bulk"], body: body)
        let entries = try Self.decode([Lenient<Entry>].self, reply.body, what: "bulk reply")
        guard entries.count == profiles.count else {
            throw .transient("pdl: bulk reply has \(entries.count) entries for \(profiles.count) requests")
        }
        return entries.map { entry in
            guard let entry = entry.value else { return .failure(.transient("pdl: unreadable bulk entry")) }
            return match(entry)
        }
    }

    /// One `{status, likelihood, data}` as a match or that entry's failure.
    private func match(_ entry: Entry) -> Result<VendorMatch, ProviderError> {
        if let status = entry.status, status != 200 { return .failure(Self.entryFailure(status: status)) }
        guard let data = entry.data else { return .failure(.transient("pdl: entry without data")) }
        guard let enrichment = Self.enrichment(data) else { return .failure(.notFound) }
        let confidence = entry.likelihood.map { min(1, max(0, $0 / 10)) } ?? 1
        return .success(VendorMatch(vendor: name, confidence: confidence, enrichment: enrichment, credits: 1))
    }

    /// A bulk entry's own status as that entry's failure.
    static func entryFailure(status: Int) -> ProviderError {
        switch status {
        case 404: .notFound
        case 402: .outOfCredits
        case 429: .rateLimited(retryAfter: nil)
        case 408, 500..<600: .transient("pdl: entry HTTP \(status)")
        default: .permanent("pdl: entry HTTP \(status)")
        }
    }

    // MARK: - Mapping

    /// A PDL person record as the pipeline's enrichment, or nil when it is not usable (no LinkedIn
    /// handle, no name, or no current job).
    static func enrichment(_ person: Person) -> LinkedInEnrichment? {
        let handle = [person.linkedin_username.map { "linkedin.com/in/\($0)" }, person.linkedin_url]
            .compactMap { $0 }
            .lazy.compactMap { try? ProfileURL.linkedin($0).get().handle }.first
        let fullName = person.full_name?.trimmingCharacters(in: .whitespaces) ?? ""
        let experiences = (person.experience ?? []).compactMap { position -> Experience? in
            let company = position.company?.name ?? ""
            let title = position.title?.name ?? ""
            guard !company.isEmpty || !title.isEmpty else { return nil }
            return Experience(
                company: company, companyLinkedInID: companyID(position.company?.linkedin_id, position.company?.linkedin_url),
                title: title, startDate: date(position.start_date), endDate: date(position.end_date))
        }
        .sorted { ($0.startDate ?? .distantPast) > ($1.startDate ?? .distantPast) }
        let primary = (person.experience ?? []).first { $0.is_primary == true }
        let jobTitle = nonEmpty(person.job_title) ?? nonEmpty(primary?.title?.name) ?? ""
        let companyName = nonEmpty(person.job_company_name) ?? nonEmpty(primary?.company?.name) ?? ""
        guard let handle, !fullName.isEmpty, !jobTitle.isEmpty || !companyName.isEmpty else { return nil }

        let companyLinkedInID = companyID(person.job_company_linkedin_id, person.job_company_linkedin_url)
            ?? companyID(primary?.company?.linkedin_id, primary?.company?.linkedin_url)
        let profile = LinkedInProfile(
            publicIdentifier: handle, fullName: fullName, headline: nonEmpty(person.headline) ?? jobTitle, jobTitle: jobTitle,
            company: companyName, companyLinkedInID: companyLinkedInID, location: person.location_name?.value ?? "",
            experiences: experiences,
            education: (person.education ?? []).compactMap { entry in
                nonEmpty(entry.school?.name).map {
                    Education(school: $0, degree: entry.degrees?.first, field: entry.majors?.first, endYear: year(entry.end_date))
                }
            },
            skills: person.skills ?? [], certifications: (person.certifications ?? []).compactMap(\.name),
            languages: (person.languages ?? []).compactMap(\.name), connections: person.linkedin_connections ?? 0, followers: 0)
        let company = companyName.isEmpty ? nil : Company(
            name: companyName, linkedInID: companyLinkedInID,
            employeeCount: person.job_company_employee_count,
            employeeRange: person.job_company_employee_count == nil ? person.job_company_size.flatMap(EmployeeRange.init(band:)) : nil,
            industry: nonEmpty(person.job_company_industry), domain: domain(person.job_company_website),
            headquarters: nonEmpty(person.job_company_location_name?.value))
        return LinkedInEnrichment(profile: profile, company: company)
    }

    /// The canonical profile URL of a valid handle, or nil.
    private static func profileURL(_ handle: String) -> String? {
        guard case .success(let url) = ProfileURL.linkedin("https://www.linkedin.com/in/\(handle)"), url.handle == handle else {
            return nil
        }
        return url.canonical
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return text
    }

    /// PDL's numeric company id, else the slug of its LinkedIn company URL.
    private static func companyID(_ id: String?, _ url: String?) -> String? {
        nonEmpty(id) ?? url.flatMap(HTTPLinkedInProvider.companySlug)
    }

    /// `2015`, `2015-03` or `2015-03-01` (UTC), or nil.
    static func date(_ text: String?) -> Date? {
        guard let parts = text?.split(separator: "-").map({ Int($0) }), let year = parts.first ?? nil, parts.count <= 3 else {
            return nil
        }
        let month = parts.count > 1 ? parts[1] : 1
        let day = parts.count > 2 ? parts[2] : 1
        guard let month, let day, (1...12).contains(month), (1...31).contains(day) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: year, month: month, day: day))
    }

    private static func year(_ text: String?) -> Int? {
        text?.split(separator: "-").first.flatMap { Int($0) }
    }

    /// `peopledatalabs.com` from `peopledatalabs.com`, `https://www.peopledatalabs.com/about`, ….
    static func domain(_ website: String?) -> String? {
        guard let website = nonEmpty(website) else { return nil }
        let withScheme = website.contains("://") ? website : "https://" + website
        guard var host = URLComponents(string: withScheme)?.host?.lowercased(), !host.isEmpty else { return nil }
        if host.hasPrefix("www.") { host.removeFirst(4) }
        return host
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ body: Data, what: String) throws(ProviderError) -> T {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw .transient("pdl: unreadable \(what) (\(body.count) bytes)")
        }
    }

    // MARK: - Request and reply shapes (PDL v5)

    struct BulkRequest: Encodable {
        struct Item: Encodable {
            struct Params: Encodable {
                var profile: [String]
                var min_likelihood: Int
                var titlecase: Bool
            }
            var params: Params
        }
        var requests: [Item]
    }

    /// A value that decodes to nil instead of failing its container (one bad bulk entry or
    /// identify match, a field PDL sends as `true`/`false` on plans without access to it).
    struct Lenient<Value: Decodable>: Decodable {
        var value: Value?
        init(from decoder: any Decoder) throws { value = try? Value(from: decoder) }
    }

    /// A list element PDL sends as a string or as an object with a `name`.
    struct Named: Decodable {
        var name: String?
        private enum Keys: String, CodingKey { case name }
        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                name = text
            } else {
                name = try? decoder.container(keyedBy: Keys.self).decodeIfPresent(String.self, forKey: .name)
            }
        }
    }

    struct Entry: Decodable {
        var status: Int?
        var likelihood: Double?
        var data: Person?
    }

    struct IdentifyReply: Decodable {
        struct Match: Decodable {
            var data: Person?
            var match_score: Double?
        }
        var matches: [Lenient<Match>]?
    }

    struct Person: Decodable {
        struct Organization: Decodable {
            var name: String?
            var linkedin_id: String?
            var linkedin_url: String?
        }
        struct Title: Decodable {
            var name: String?
        }
        struct Position: Decodable {
            var company: Organization?
            var title: Title?
            var start_date: String?
            var end_date: String?
            var is_primary: Bool?
        }
        struct School: Decodable {
            var school: Organization?
            var degrees: [String]?
            var majors: [String]?
            var end_date: String?
        }
        var full_name: String?
        var headline: String?
        var linkedin_url: String?
        var linkedin_username: String?
        var linkedin_connections: Int?
        var location_name: Lenient<String>?
        var job_title: String?
        var job_company_name: String?
        var job_company_linkedin_id: String?
        var job_company_linkedin_url: String?
        var job_company_industry: String?
        var job_company_size: String?
        var job_company_employee_count: Int?
        var job_company_website: String?
        var job_company_location_name: Lenient<String>?
        var experience: [Position]?
        var education: [School]?
        var skills: [String]?
        var certifications: [Named]?
        var languages: [Named]?
    }
}
