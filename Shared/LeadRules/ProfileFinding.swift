import Foundation
import LeadModel

/// A candidate profile a ``ProfileSearchProvider`` returns.
public struct ProfileCandidate: Hashable, Sendable {
    /// The platform searched.
    public var platform: Platform
    /// The candidate's profile URL.
    public var url: String
    /// The provider's confidence that this is the lead, 0...1.
    public var confidence: Double

    /// Creates a candidate.
    public init(platform: Platform, url: String, confidence: Double) {
        self.platform = platform
        self.url = url
        self.confidence = confidence
    }
}

/// What the profile finder searches with: what the lead has (the company may be unknown).
public struct ProfileQuery: Hashable, Sendable {
    /// The person's name.
    public var name: String
    /// The current company, when known.
    public var company: String?
    /// The platform to search.
    public var platform: Platform
    /// The URL the lead has on the other platform (its handle is a hint).
    public var knownURL: String
    /// Where the person says they are, when known: the free-text location of the lead's X profile
    /// when searching LinkedIn.
    public var location: String?

    /// Creates a query.
    public init(name: String, company: String?, platform: Platform, knownURL: String, location: String? = nil) {
        self.name = name
        self.company = company
        self.platform = platform
        self.knownURL = knownURL
        self.location = location
    }
}

/// Searches a platform for a person's profile.
public protocol ProfileSearchProvider: Sendable {
    /// Candidates, best first; empty when none. Throws ``ProviderError`` on a failed call.
    func search(_ query: ProfileQuery) async throws(ProviderError) -> [ProfileCandidate]
}

/// Deterministic search results from a stable hash of the query: the same lead always gets the
/// same candidates. About a third of queries find nothing above 0.8; candidates follow the known
/// handle (`janedoe` on LinkedIn → `x.com/janedoe`), a variant with a suffix scores lower.
public struct SimulatedProfileSearchProvider: ProfileSearchProvider {
    /// Simulated latency per call.
    public var latency: Duration

    /// Creates the provider.
    public init(latency: Duration = .zero) {
        self.latency = latency
    }

    public func search(_ query: ProfileQuery) async throws(ProviderError) -> [ProfileCandidate] {
        if latency > .zero {
            do { try await Task.sleep(for: latency) } catch { throw .cancelled }
        }
        return Self.candidates(for: query)
    }

    /// The candidates for `query`, without latency.
    public static func candidates(for query: ProfileQuery) -> [ProfileCandidate] {
        let seed = "\(query.platform.rawValue)|\(query.name.lowercased())|\((query.company ?? "").lowercased())|\(query.knownURL.lowercased())"
        let hash = StableHash.fnv1a(seed)
        let handle = Self.handle(from: query.knownURL, name: query.name)
        // 0.55...0.99 in steps of 0.01, from the hash: some below any sensible threshold.
        let best = 0.55 + Double(hash % 45) / 100
        let second = max(0.1, best - 0.25 - Double((hash >> 8) % 10) / 100)
        let variant = handle.prefix(12) + String((hash >> 16) % 100)
        return [
            ProfileCandidate(platform: query.platform, url: url(platform: query.platform, handle: handle), confidence: best),
            ProfileCandidate(platform: query.platform, url: url(platform: query.platform, handle: String(variant)), confidence: second),
        ]
    }

    private static func url(platform: Platform, handle: String) -> String {
        switch platform {
        case .linkedin: "https://www.linkedin.com/in/\(handle)"
        case .x: "https://x.com/\(handle)"
        }
    }

    /// A handle legal on both platforms (X: letters, digits, `_`, at most 15).
    private static func handle(from url: String, name: String) -> String {
        let known = (try? ProfileURL.linkedin(url).get())?.handle ?? (try? ProfileURL.x(url).get())?.handle
        let base = (known ?? name).lowercased()
        let cleaned = String(base.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }.map(Character.init))
        return String((cleaned.isEmpty ? "user" : cleaned).prefix(15))
    }
}

/// The profile finder's decisions, without I/O.
public enum ProfileFinding {
    /// The platform to search for a pool entry: the one it has no URL for, when it has exactly one.
    public static func missingPlatform(of profile: EnrichedProfile) -> Platform? {
        switch (profile.linkedinURL?.isEmpty == false, profile.xURL?.isEmpty == false) {
        case (true, false): .x
        case (false, true): .linkedin
        default: nil
        }
    }

    /// The query for `entry`, or nil when it has not exactly one platform URL.
    public static func query(for entry: LeadPoolEntry) -> ProfileQuery? {
        guard let platform = missingPlatform(of: entry.profile) else { return nil }
        let known = (platform == .x ? entry.profile.linkedinURL : entry.profile.xURL) ?? ""
        let company = entry.company ?? entry.profile.company?.name ?? entry.profile.linkedin?.company
        let location = platform == .linkedin ? entry.profile.x?.location?.trimmingCharacters(in: .whitespacesAndNewlines) : nil
        return ProfileQuery(name: entry.profile.name, company: company?.isEmpty == true ? nil : company,
                            platform: platform, knownURL: known, location: location?.isEmpty == true ? nil : location)
    }

    /// The best candidate at or above `minimumConfidence` that is a valid profile URL of the
    /// searched platform, or nil.
    public static func accepted(_ candidates: [ProfileCandidate], platform: Platform, minimumConfidence: Double) -> ProfileCandidate? {
        candidates
            .filter { $0.platform == platform && $0.confidence >= minimumConfidence && $0.confidence <= 1 }
            .filter { candidate in
                switch platform {
                case .linkedin: (try? ProfileURL.linkedin(candidate.url).get()) != nil
                case .x: (try? ProfileURL.x(candidate.url).get()) != nil
                }
            }
            .max { $0.confidence < $1.confidence }
    }

    /// `state` with the found URL added to its lead and profile, or nil when the lead already has
    /// a URL for that platform (nothing to do: redelivery, or discovery knew it already) or the
    /// URL is not a profile of the platform.
    public static func adding(_ found: ProfileFound, to state: LeadState, at: Date) -> LeadState? {
        guard let url = found.profileURL?.canonical else { return nil }
        var updated = state
        switch found.platform {
        case .linkedin:
            guard state.lead.linkedinProfile == nil else { return nil }
            updated.lead.linkedinURL = url
            updated.profile.linkedinURL = url
        case .x:
            guard state.lead.xProfile == nil else { return nil }
            updated.lead.xURL = url
            updated.profile.xURL = url
        }
        updated.updatedAt = at
        return updated
    }

    /// The re-enrich type that refreshes `platform`'s profile.
    public static func reEnrichType(for platform: Platform) -> ReEnrichType {
        switch platform {
        case .linkedin: .linkedin
        case .x: .x
        }
    }
}
