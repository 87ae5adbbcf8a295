import Foundation
import LeadModel
import LeadRules

/// A "profile JSON over HTTP" API as one vendor of a waterfall (``HTTPLinkedInProvider`` documents
/// the request and the field mapping): one person per call, no bulk, no search, and no score, so
/// a match counts as certain (confidence 1), as the profile URL names the person.
public struct ProfileAPIVendor: PersonVendor {
    /// `profile-api`.
    public let name = "profile-api"
    /// 1: the API has no bulk endpoint.
    public let maxBatchSize = 1
    private let provider: HTTPLinkedInProvider

    /// The vendor calling through `client`.
    public init(client: ProviderHTTPClient) { provider = HTTPLinkedInProvider(client: client) }

    /// See ``PersonVendor/enrich(_:)``; one call per query.
    public func enrich(_ queries: [PersonQuery]) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>] {
        var answers: [Result<VendorMatch, ProviderError>] = []
        for query in queries {
            do {
                let enrichment = try await provider.fetchProfile(handle: query.linkedinHandle, lead: query.lead, attempt: 1)
                answers.append(.success(VendorMatch(vendor: name, confidence: 1, enrichment: enrichment)))
            } catch .notFound {
                answers.append(.failure(.notFound))
            }
        }
        return answers
    }

    /// No search: always empty.
    public func search(_ search: PersonSearch) async throws(ProviderError) -> [VendorMatch] { [] }
}
