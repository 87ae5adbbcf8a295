import Foundation
import LeadModel
import LeadRules

/// A generic "profile JSON over HTTP" API (the shape of the Proxycurl API, shut down in 2025; any
/// service answering this shape can be used as the waterfall's `profile-api` vendor through
/// ``ProfileAPIVendor``).
///
/// Field mapping, reply → ``LinkedInProfile``: `public_identifier` → `publicIdentifier` (else the
/// handle asked for); `full_name` → `fullName`; `headline` (else `occupation`) → `headline`; the
/// current entry of `experiences[]` (no `ends_at`, latest `starts_at`) gives `jobTitle` (`title`)
/// and `company` (`company`); `experiences[]` `{company, title, starts_at, ends_at,
/// company_linkedin_profile_url}` → `experiences` (dates from `{day, month, year}`), newest first;
/// `city`, `state`, `country_full_name` (else `country`) → `location`, comma-joined;
/// `education[]` `{school, degree_name, field_of_study, ends_at.year}` → `education`; `skills`,
/// `languages`, `certifications[].name`, `connections`, `follower_count` as named. Company reply →
/// ``Company``: `name`, `industry`, `company_size_on_linkedin` → `employeeCount` (else the band
/// `company_size`, `[51, 200]` or `[10001, null]`, → `employeeRange`), `hq {city, state,
/// country}` → `headquarters`, the host of `website` →
/// `domain`, `linkedin_internal_id` → `linkedInID`.
///
/// - Profile: `GET {base}/api/v2/linkedin?linkedin_profile_url=https://www.linkedin.com/in/{handle}`.
///   The URL is a parameter rebuilt from the validated handle (``ProfileURL/linkedin(_:)``); it is
///   never fetched. An invalid handle is a permanent failure without a request.
/// - Company: when the current position names a `company_linkedin_profile_url` that is a
///   LinkedIn company page (`linkedin.com/company/<slug>`), `GET {base}/api/linkedin/company?url=…`
///   with the rebuilt canonical URL. A failing company lookup leaves the company with what the
///   profile says (name, LinkedIn id); it never fails the profile.
/// - 404 → ``ProviderError/notFound`` (costs nothing); 403 → ``ProviderError/outOfCredits``;
///   429 with `Retry-After` → the provider pauses (``ProviderHTTPClient``).
public struct HTTPLinkedInProvider: LinkedInProvider {
    /// The HTTP client (its host, key and rate limiter).
    public let client: ProviderHTTPClient

    /// A provider calling through `client`.
    public init(client: ProviderHTTPClient) { self.client = client }

    /// See ``LinkedInProvider/fetchProfile(handle:lead:attempt:)``; `lead` is not used.
    public func fetchProfile(handle: String, lead: LeadIdentity?, attempt: Int) async throws(ProviderError) -> LinkedInEnrichment {
        guard case .success(let url) = ProfileURL.linkedin("https://www.linkedin.com/in/\(handle)"), url.handle == handle else {
            throw .permanent("linkedin: \"\(handle)\" is not a valid LinkedIn handle")
        }
        let reply = try await client.send(
            path: ["api", "v2", "linkedin"], query: [URLQueryItem(name: "linkedin_profile_url", value: url.canonical)])
        let person: Person = try client.decode(Person.self, reply)
        guard person.full_name?.isEmpty == false || person.experiences?.isEmpty == false else {
            throw .permanent("linkedin: reply without profile data")  // the same paid reply on every retry
        }

        let experiences = (person.experiences ?? []).map { entry in
            Experience(
                company: entry.company ?? "", companyLinkedInID: entry.company_linkedin_profile_url.flatMap(Self.companySlug),
                title: entry.title ?? "", startDate: entry.starts_at?.date, endDate: entry.ends_at?.date)
        }
        .sorted { ($0.startDate ?? .distantPast) > ($1.startDate ?? .distantPast) }
        let current = experiences.first(where: \.isCurrent)
        // The entry the current job came from: no end (an end of nulls is none), the same company and title.
        let currentCompanyURL = (person.experiences ?? []).first { entry in
            entry.ends_at?.date == nil && (entry.company ?? "") == current?.company && (entry.title ?? "") == current?.title
        }?.company_linkedin_profile_url

        var companyDetails: Company?
        if let slug = currentCompanyURL.flatMap(Self.companySlug) {
            companyDetails = await fetchCompany(slug: slug)
        }
        let companyName = current.flatMap { $0.company.isEmpty ? nil : $0.company } ?? companyDetails?.name ?? ""
        let companyID = companyDetails?.linkedInID ?? current?.companyLinkedInID
        let location = [person.city, person.state, person.country_full_name ?? person.country]
            .compactMap { $0?.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: ", ")

        let profile = LinkedInProfile(
            publicIdentifier: person.public_identifier ?? url.handle, fullName: person.full_name ?? "",
            headline: person.headline ?? person.occupation ?? "",
            jobTitle: current.flatMap { $0.title.isEmpty ? nil : $0.title } ?? person.occupation ?? "",
            company: companyName, companyLinkedInID: companyID, location: location, experiences: experiences,
            education: (person.education ?? []).compactMap { entry in
                entry.school.map { Education(school: $0, degree: entry.degree_name, field: entry.field_of_study, endYear: entry.ends_at?.year) }
            },
            skills: person.skills ?? [], certifications: (person.certifications ?? []).compactMap(\.name),
            languages: person.languages ?? [], connections: person.connections ?? 0, followers: person.follower_count ?? 0)
        var company = companyDetails
        if company == nil, !companyName.isEmpty { company = Company(name: companyName, linkedInID: companyID) }
        return LinkedInEnrichment(profile: profile, company: company)
    }

    /// The company page's details, or nil when the lookup fails for any reason.
    private func fetchCompany(slug: String) async -> Company? {
        let canonical = "https://www.linkedin.com/company/\(slug)"
        guard let reply = try? await client.send(path: ["api", "linkedin", "company"], query: [URLQueryItem(name: "url", value: canonical)]),
            let details = try? JSONDecoder().decode(CompanyReply.self, from: reply.body), let name = details.name
        else { return nil }
        let employees = details.company_size_on_linkedin
        let band = details.company_size.flatMap { size -> EmployeeRange? in
            guard employees == nil, size.count == 2, let minimum = size[0] else { return nil }
            return EmployeeRange(vendorMinimum: minimum, maximum: size[1])
        }
        let headquarters = [details.hq?.city, details.hq?.state, details.hq?.country]
            .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
        let domain = details.website.flatMap { URLComponents(string: $0)?.host }.map { $0.hasPrefix("www.") ? String($0.dropFirst(4)) : $0 }
        return Company(
            name: name, linkedInID: details.linkedin_internal_id ?? slug, employeeCount: employees, employeeRange: band, revenueUSD: nil,
            industry: details.industry, domain: domain, headquarters: headquarters.isEmpty ? nil : headquarters)
    }

    /// The slug of a LinkedIn company page URL (`linkedin.com/company/<slug>`), or nil for
    /// anything else (another host, another path, odd characters).
    static func companySlug(_ text: String) -> String? {
        let withScheme = text.contains("://") ? text : "https://" + text
        guard let components = URLComponents(string: withScheme), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http", components.port == nil, components.user == nil,
            var host = components.host?.lowercased()
        else { return nil }
        if host.hasPrefix("www.") { host.removeFirst(4) }
        guard host == "linkedin.com" else { return nil }
        let segments = components.path.split(separator: "/").map(String.init)
        guard segments.count == 2, segments[0].lowercased() == "company" else { return nil }
        let slug = segments[1]
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard (1...100).contains(slug.count), slug != ".", slug != "..", slug.unicodeScalars.allSatisfy(allowed.contains) else { return nil }
        return slug
    }

    // MARK: - Reply shapes (Proxycurl)

    struct DateParts: Decodable, Equatable {
        var day: Int?
        var month: Int?
        var year: Int?

        var date: Date? {
            guard let year else { return nil }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            return calendar.date(from: DateComponents(year: year, month: month ?? 1, day: day ?? 1))
        }
    }

    struct Person: Decodable {
        struct Position: Decodable {
            var company: String?
            var title: String?
            var starts_at: DateParts?
            var ends_at: DateParts?
            var company_linkedin_profile_url: String?
        }
        struct School: Decodable {
            var school: String?
            var degree_name: String?
            var field_of_study: String?
            var ends_at: DateParts?
        }
        struct Certification: Decodable {
            var name: String?
        }
        var public_identifier: String?
        var full_name: String?
        var headline: String?
        var occupation: String?
        var summary: String?
        var city: String?
        var state: String?
        var country: String?
        var country_full_name: String?
        var follower_count: Int?
        var connections: Int?
        var experiences: [Position]?
        var education: [School]?
        var languages: [String]?
        var certifications: [Certification]?
        var skills: [String]?
    }

    struct CompanyReply: Decodable {
        struct Headquarters: Decodable {
            var city: String?
            var state: String?
            var country: String?
        }
        var name: String?
        var industry: String?
        var company_size: [Int?]?
        var company_size_on_linkedin: Int?
        var hq: Headquarters?
        var website: String?
        var linkedin_internal_id: String?
    }
}
