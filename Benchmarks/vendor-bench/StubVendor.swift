import Foundation
import LeadModel
import LeadRules
import Stages

/// The smallest ``PersonVendor`` over ``ProviderHTTPClient`` for the ``VendorStub``: with a batch
/// size of 1 every query is one `GET /v1/person`, otherwise one `POST /v1/person/bulk` per batch.
struct StubVendor: PersonVendor {
    let name = "stub"
    let maxBatchSize: Int
    let client: ProviderHTTPClient

    private struct SingleReply: Decodable { var match: StubPerson }
    private struct BulkReply: Decodable { var results: [Entry] }
    private struct Entry: Decodable {
        var status: Int
        var match: StubPerson?
    }

    func enrich(_ queries: [PersonQuery]) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>] {
        if maxBatchSize == 1 {
            return await queries.asyncMap(single)
        }
        let body = try encode(BulkRequest(profiles: queries.map(\.linkedinHandle)))
        let reply = try await client.send("POST", path: ["v1", "person", "bulk"], body: body)
        return try decode(BulkReply.self, reply.body).results.map { entry in
            guard entry.status == 200, let person = entry.match else {
                return .failure(entry.status == 404 ? .notFound : .transient("\(name): entry status \(entry.status)"))
            }
            return .success(match(person))
        }
    }

    func search(_ search: PersonSearch) async throws(ProviderError) -> [VendorMatch] {
        throw .permanent("\(name): the stub has no search")
    }

    private func single(_ query: PersonQuery) async -> Result<VendorMatch, ProviderError> {
        do {
            let reply = try await client.send(path: ["v1", "person"], query: [URLQueryItem(name: "profile", value: query.linkedinHandle)])
            return .success(match(try decode(SingleReply.self, reply.body).match))
        } catch {
            return .failure(error)
        }
    }

    private func match(_ person: StubPerson) -> VendorMatch {
        let profile = LinkedInProfile(
            publicIdentifier: person.linkedin, fullName: person.fullName, headline: person.jobTitle, jobTitle: person.jobTitle,
            company: person.company, companyLinkedInID: nil, location: "", experiences: [], education: [], skills: [],
            certifications: [], languages: [], connections: 0, followers: 0)
        return VendorMatch(
            vendor: name, confidence: Double(person.likelihood) / 10,
            enrichment: LinkedInEnrichment(profile: profile, company: Company(name: person.company)))
    }

    private func encode(_ value: some Encodable) throws(ProviderError) -> Data {
        do { return try JSONEncoder().encode(value) } catch { throw .permanent("\(name): cannot encode the request") }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws(ProviderError) -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(type, from: data) } catch { throw .transient("\(name): unreadable reply") }
    }
}

extension Array where Element: Sendable {
    /// `transform` of every element, one after another.
    fileprivate func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var results: [T] = []
        for element in self { results.append(await transform(element)) }
        return results
    }
}
