import Foundation
import JSONCodec

// The profile's parts read and write their JSON themselves (`JSONReadable`, `JSONWritable`): they
// are most of what the stages' results, the scoring and finalize requests and the lead pool
// carry. Each reads what its `init(from:)` reads and writes what its `encode(to:)` writes, keys
// in byte order when writing (upper case before lower); a field added to a type must be added
// here too, which `ProfileJSONTests` checks.

extension XProfile: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            userID: try object.string("userID"), name: try object.string("name"), username: try object.string("username"),
            bio: try object.string("bio"), followersCount: try object.int("followersCount"),
            followingCount: try object.int("followingCount"), isVerified: try object.bool("isVerified"),
            profileImageURL: try object.optionalString("profileImageURL"), canDM: try object.bool("canDM"),
            isProtected: try object.bool("isProtected"), location: try object.optionalString("location"),
            url: try object.optionalString("url"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("bio", bio)
        object.member("canDM", canDM)
        object.member("followersCount", followersCount)
        object.member("followingCount", followingCount)
        object.member("isProtected", isProtected)
        object.member("isVerified", isVerified)
        object.member("location", location)
        object.member("name", name)
        object.member("profileImageURL", profileImageURL)
        object.member("url", url)
        object.member("userID", userID)
        object.member("username", username)
    }
}

extension Experience: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            company: try object.string("company"), companyLinkedInID: try object.optionalString("companyLinkedInID"),
            title: try object.string("title"), startDate: try object.optionalDate("startDate"), endDate: try object.optionalDate("endDate"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("company", company)
        object.member("companyLinkedInID", companyLinkedInID)
        object.member("endDate", endDate)
        object.member("startDate", startDate)
        object.member("title", title)
    }
}

extension Education: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            school: try object.string("school"), degree: try object.optionalString("degree"), field: try object.optionalString("field"),
            endYear: try object.optionalInt("endYear"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("degree", degree)
        object.member("endYear", endYear)
        object.member("field", field)
        object.member("school", school)
    }
}

extension FieldSource: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(group: try object.rawValue("group"), vendor: try object.string("vendor"), confidence: try object.double("confidence"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("confidence", confidence)
        object.member("group", group)
        object.member("vendor", vendor)
    }
}

extension LinkedInProfile: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            publicIdentifier: try object.string("publicIdentifier"), fullName: try object.string("fullName"),
            headline: try object.string("headline"), jobTitle: try object.string("jobTitle"), company: try object.string("company"),
            companyLinkedInID: try object.optionalString("companyLinkedInID"), location: try object.string("location"),
            experiences: try object.objects("experiences"), education: try object.objects("education"),
            skills: try object.strings("skills"), certifications: try object.strings("certifications"),
            languages: try object.strings("languages"), connections: try object.int("connections"),
            followers: try object.int("followers"))
        sources = try object.optionalObjects("sources")
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("certifications", certifications)
        object.member("company", company)
        object.member("companyLinkedInID", companyLinkedInID)
        object.member("connections", connections)
        try object.member("education", education)
        try object.member("experiences", experiences)
        object.member("followers", followers)
        object.member("fullName", fullName)
        object.member("headline", headline)
        object.member("jobTitle", jobTitle)
        object.member("languages", languages)
        object.member("location", location)
        object.member("publicIdentifier", publicIdentifier)
        object.member("skills", skills)
        try object.member("sources", sources)
    }
}

extension Company: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            name: try object.string("name"), linkedInID: try object.optionalString("linkedInID"),
            employeeCount: try object.optionalInt("employeeCount"), employeeRange: try object.optionalObject("employeeRange"),
            revenueUSD: try object.optionalInt("revenueUSD"),
            industry: try object.optionalString("industry"), domain: try object.optionalString("domain"),
            headquarters: try object.optionalString("headquarters"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("domain", domain)
        object.member("employeeCount", employeeCount)
        try object.member("employeeRange", employeeRange)
        object.member("headquarters", headquarters)
        object.member("industry", industry)
        object.member("linkedInID", linkedInID)
        object.member("name", name)
        object.member("revenueUSD", revenueUSD)
    }
}

extension EmployeeRange: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        // A band no company has is refused here and named by init(from:).
        guard let range = EmployeeRange(vendorMinimum: try object.int("minimum"), maximum: try object.optionalInt("maximum")) else {
            throw JSONObjectReader.Unexpected()
        }
        self = range
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("maximum", maximum)
        object.member("minimum", minimum)
    }
}

extension Post: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            id: try object.string("id"), platform: try object.rawValue("platform"), date: try object.date("date"),
            text: try object.string("text"), likes: try object.int("likes"), replies: try object.int("replies"),
            reposts: try object.int("reposts"), url: try object.string("url"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("date", date)
        object.member("id", id)
        object.member("likes", likes)
        object.member("platform", platform)
        object.member("replies", replies)
        object.member("reposts", reposts)
        object.member("text", text)
        object.member("url", url)
    }
}

extension OrbitTarget: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            platform: try object.rawValue("platform"), handle: try object.string("handle"), name: try object.string("name"),
            classification: try object.rawValue("classification"), interactionCount: try object.int("interactionCount"),
            firstSeen: try object.date("firstSeen"), lastSeen: try object.date("lastSeen"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("classification", classification)
        object.member("firstSeen", firstSeen)
        object.member("handle", handle)
        object.member("interactionCount", interactionCount)
        object.member("lastSeen", lastSeen)
        object.member("name", name)
        object.member("platform", platform)
    }
}

extension OrbitCluster: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            handles: try object.strings("handles"), hasCompetitor: try object.bool("hasCompetitor"),
            interactionCount: try object.int("interactionCount"), firstSeen: try object.date("firstSeen"),
            lastSeen: try object.date("lastSeen"), velocityPerWeek: try object.double("velocityPerWeek"),
            isNew: try object.bool("isNew"), names: try object.optionalStrings("names"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("firstSeen", firstSeen)
        object.member("handles", handles)
        object.member("hasCompetitor", hasCompetitor)
        object.member("interactionCount", interactionCount)
        object.member("isNew", isNew)
        object.member("lastSeen", lastSeen)
        object.member("names", names)
        object.member("velocityPerWeek", velocityPerWeek)
    }
}

extension Activity: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        // As `init(from:)`: a result's activity carries no plain text.
        self.init(
            posts: try object.objects("posts"), plainText: try object.optionalString("plainText") ?? "",
            orbit: try object.objects("orbit"), signalDate: try object.optionalDate("signalDate"),
            clusters: try object.optionalObjects("clusters"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("clusters", clusters)
        try object.member("orbit", orbit)
        object.member("plainText", plainText)
        try object.member("posts", posts)
        object.member("signalDate", signalDate)
    }
}

extension Activity.WithoutPlainText: JSONWritable {
    func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("clusters", activity.clusters)
        try object.member("orbit", activity.orbit)
        try object.member("posts", activity.posts)
        object.member("signalDate", activity.signalDate)
    }
}

extension ScoreReason: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(signal: try object.string("signal"), points: try object.int("points"), source: try object.optionalString("source"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("points", points)
        object.member("signal", signal)
        object.member("source", source)
    }
}

extension ScoreEvidence: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            completeness: try object.int("completeness"), missing: try object.strings("missing"), sources: try object.strings("sources"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("completeness", completeness)
        object.member("missing", missing)
        object.member("sources", sources)
    }
}

extension ScoreCard: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            fit: try object.int("fit"), intent: try object.int("intent"), timing: try object.int("timing"),
            composite: try object.int("composite"), buyerState: try object.rawValue("buyerState"),
            fitReasons: try object.objects("fitReasons"), intentReasons: try object.objects("intentReasons"),
            timingReasons: try object.objects("timingReasons"), stateReason: try object.string("stateReason"),
            scorer: try object.string("scorer"), scoredAt: try object.date("scoredAt"), evidence: try object.optionalObject("evidence"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("buyerState", buyerState)
        object.member("composite", composite)
        try object.member("evidence", evidence)
        object.member("fit", fit)
        try object.member("fitReasons", fitReasons)
        object.member("intent", intent)
        try object.member("intentReasons", intentReasons)
        object.member("scoredAt", scoredAt)
        object.member("scorer", scorer)
        object.member("stateReason", stateReason)
        object.member("timing", timing)
        try object.member("timingReasons", timingReasons)
    }
}

extension PlatformOutcome: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        switch try object.string("status") {
        case "succeeded": self = .succeeded
        case "failed": self = .failed(reason: try object.string("reason"), isRetriable: try object.bool("isRetriable"))
        case "skipped": self = .skipped(reason: try object.string("reason"))
        default: throw JSONObjectReader.Unexpected()
        }
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        switch self {
        case .succeeded: object.outcome(status: "succeeded")
        case .failed(let reason, let isRetriable): object.outcome(status: "failed", reason: reason, isRetriable: isRetriable)
        case .skipped(let reason): object.outcome(status: "skipped", reason: reason)
        }
    }
}

extension JSONObjectWriter {
    /// The members of an outcome in its `status` form (``PlatformOutcome``, ``PhaseOutcome``):
    /// whether a retry may help and the reason, when the case has them, and the status.
    mutating func outcome(status: String, reason: String? = nil, isRetriable: Bool? = nil) {
        member("isRetriable", isRetriable)
        member("reason", reason)
        member("status", status)
    }
}

extension PhaseSkip: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(phase: try object.rawValue("phase"), reason: try object.string("reason"), at: try object.date("at"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("at", at)
        object.member("phase", phase)
        object.member("reason", reason)
    }
}

extension EnrichedProfile: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            leadID: try object.rawValue("leadID"), name: try object.string("name"), linkedinURL: try object.optionalString("linkedinURL"),
            xURL: try object.optionalString("xURL"), linkedin: try object.optionalObject("linkedin"), x: try object.optionalObject("x"),
            company: try object.optionalObject("company"), linkedinOutcome: try object.optionalObject("linkedinOutcome"),
            xOutcome: try object.optionalObject("xOutcome"), activity: try object.optionalObject("activity"),
            activityOutcome: try object.optionalObject("activityOutcome"), signalDate: try object.optionalDate("signalDate"),
            scores: try object.optionalObject("scores"), skippedPhases: try object.objects("skippedPhases"))
        web = try object.optionalDecoded("web", as: WebEnrichment.self)
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("activity", activity)
        try object.member("activityOutcome", activityOutcome)
        try object.member("company", company)
        object.member("leadID", leadID)
        try object.member("linkedin", linkedin)
        try object.member("linkedinOutcome", linkedinOutcome)
        object.member("linkedinURL", linkedinURL)
        object.member("name", name)
        try object.member("scores", scores)
        object.member("signalDate", signalDate)
        try object.member("skippedPhases", skippedPhases)
        try object.member("web", encoding: web)
        try object.member("x", x)
        try object.member("xOutcome", xOutcome)
        object.member("xURL", xURL)
    }
}
