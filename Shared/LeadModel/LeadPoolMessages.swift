import Foundation

/// A finished profile in the lead pool (topic ``Topics/leadPool``, compacted; key: lead id).
public struct LeadPoolEntry: Message, Hashable {
    /// `lead.pool-entry`.
    public static let schemaName = "lead.pool-entry"
    /// Version 2: the profile's scores carry their evidence, reasons their source, the X profile
    /// its location and link, the activity its orbit clusters (all optional, so v1 reads as v2).
    public static let schemaVersion = 2
    /// Versions 1 and 2.
    public static var supportedVersions: ClosedRange<Int> { 1...2 }

    /// The lead.
    public var leadID: LeadID
    /// The account that found it.
    public var accountID: AccountID
    /// The offer it was found for.
    public var offerID: OfferID
    /// Role (job title), when known.
    public var role: String?
    /// Bio or headline, when known.
    public var bio: String?
    /// Industry, when known.
    public var industry: String?
    /// Company name, when known.
    public var company: String?
    /// Location, when known.
    public var location: String?
    /// Skills.
    public var skills: [String]
    /// The whole profile.
    public var profile: EnrichedProfile
    /// When the lead finished.
    public var finishedAt: Date
    /// What the entry leaves out of the profile so that it fits within MAX_RECORD_BYTES, in the
    /// order it was left out (`activity.posts: the 120 oldest of 300`, `activity`, `linkedin
    /// lists`); nil for a whole entry. Added within version 2.
    public var omitted: [String]?

    /// Creates an entry.
    public init(
        leadID: LeadID, accountID: AccountID, offerID: OfferID, role: String?, bio: String?, industry: String?,
        company: String?, location: String?, skills: [String], profile: EnrichedProfile, finishedAt: Date,
        omitted: [String]? = nil
    ) {
        self.leadID = leadID
        self.accountID = accountID
        self.offerID = offerID
        self.role = role
        self.bio = bio
        self.industry = industry
        self.company = company
        self.location = location
        self.skills = skills
        self.profile = profile
        self.finishedAt = finishedAt
        self.omitted = omitted
    }

    /// The entry for a finished profile, with the summary fields taken from it.
    public init(profile: EnrichedProfile, accountID: AccountID, offerID: OfferID, finishedAt: Date) {
        self.init(
            leadID: profile.leadID, accountID: accountID, offerID: offerID,
            role: profile.linkedin?.jobTitle, bio: profile.x?.bio ?? profile.linkedin?.headline,
            industry: profile.company?.industry, company: profile.company?.name ?? profile.linkedin?.company,
            location: profile.linkedin?.location, skills: profile.linkedin?.skills ?? [], profile: profile,
            finishedAt: finishedAt)
    }
}
