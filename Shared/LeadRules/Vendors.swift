import Foundation
import LeadModel

/// One person to look up at a vendor by LinkedIn profile.
public struct PersonQuery: Hashable, Sendable {
    /// The validated LinkedIn handle (``ProfileURL/handle``).
    public var linkedinHandle: String
    /// Whom the pipeline looks up, when known (simulations use it; vendors ignore it).
    public var lead: LeadIdentity?

    /// Creates a query.
    public init(linkedinHandle: String, lead: LeadIdentity? = nil) {
        self.linkedinHandle = linkedinHandle
        self.lead = lead
    }

    /// `https://www.linkedin.com/in/<handle>`: the form vendors index profiles by.
    public var linkedinURL: String { "https://www.linkedin.com/in/\(linkedinHandle)" }
}

/// Whom to find when a lead has no profile URL: a name at a company, optionally a place.
public struct PersonSearch: Hashable, Sendable {
    /// The person's full name.
    public var name: String
    /// The company's name.
    public var company: String
    /// The company's web domain, when known (sharper than the name).
    public var companyDomain: String?
    /// Where the person is, when known.
    public var location: String?

    /// Creates a search.
    public init(name: String, company: String, companyDomain: String? = nil, location: String? = nil) {
        self.name = name
        self.company = company
        self.companyDomain = companyDomain
        self.location = location
    }
}

/// What a vendor matched for one person.
public struct VendorMatch: Hashable, Sendable {
    /// The vendor's name as configured (`pdl`, `apollo`).
    public var vendor: String
    /// How sure the vendor is that this is the person asked for, 0...1 (People Data Labs'
    /// likelihood 1-10 divided by 10; 1 for an exact profile-URL match where the vendor gives no
    /// score).
    public var confidence: Double
    /// The person and the current company.
    public var enrichment: LinkedInEnrichment
    /// Credits the vendor charges for this match (vendors charge per match only).
    public var credits: Int

    /// Creates a match.
    public init(vendor: String, confidence: Double, enrichment: LinkedInEnrichment, credits: Int = 1) {
        self.vendor = vendor
        self.confidence = confidence
        self.enrichment = enrichment
        self.credits = credits
    }
}

/// A licensed person-data vendor (People Data Labs, Apollo): person by LinkedIn profile, alone or
/// in bulk, and person search for profile finding.
///
/// Errors come at two levels. A thrown ``ProviderError`` is the whole call's: rate limited,
/// credits exhausted, credentials rejected, network, an unreadable reply. An entry's `failure` is
/// that person's alone: ``ProviderError/notFound`` for no match, `.transient` for an entry the
/// vendor answered in a shape that cannot be read. One bad entry never fails its batch-mates.
public protocol PersonVendor: Sendable {
    /// The vendor's name in configuration, metrics, charges and provenance (`pdl`, `apollo`).
    var name: String { get }
    /// The most people one ``enrich(_:)`` call takes (the vendor's bulk maximum; 1 without a bulk
    /// endpoint).
    var maxBatchSize: Int { get }
    /// One answer per query, in the order asked.
    func enrich(_ queries: [PersonQuery]) async throws(ProviderError) -> [Result<VendorMatch, ProviderError>]
    /// People matching `search`, best first; empty when none.
    func search(_ search: PersonSearch) async throws(ProviderError) -> [VendorMatch]
}
