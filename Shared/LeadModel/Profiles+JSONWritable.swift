import Foundation
import JSONCodec

// The profile's parts write their JSON themselves (`JSONWritable`): they are most of what the
// stages' results, the scoring and finalize requests and the lead pool carry. Each writes what
// its `Encodable` conformance writes, keys in byte order (upper case before lower); a field
// added to a type must be added here too, which `JSONWritableTests` checks.

extension XProfile: JSONWritable {
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

extension Experience: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("company", company)
        object.member("companyLinkedInID", companyLinkedInID)
        object.member("endDate", endDate)
        object.member("startDate", startDate)
        object.member("title", title)
    }
}

extension Education: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("degree", degree)
        object.member("endYear", endYear)
        object.member("field", field)
        object.member("school", school)
    }
}

extension FieldSource: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("confidence", confidence)
        object.member("group", group)
        object.member("vendor", vendor)
    }
}

extension LinkedInProfile: JSONWritable {
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

extension Company: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("domain", domain)
        object.member("employeeCount", employeeCount)
        object.member("headquarters", headquarters)
        object.member("industry", industry)
        object.member("linkedInID", linkedInID)
        object.member("name", name)
        object.member("revenueUSD", revenueUSD)
    }
}

extension Post: JSONWritable {
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

extension OrbitTarget: JSONWritable {
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

extension OrbitCluster: JSONWritable {
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

extension Activity: JSONWritable {
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

extension ScoreReason: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("points", points)
        object.member("signal", signal)
        object.member("source", source)
    }
}

extension ScoreEvidence: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("completeness", completeness)
        object.member("missing", missing)
        object.member("sources", sources)
    }
}

extension ScoreCard: JSONWritable {
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

extension PlatformOutcome: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        switch self {
        case .succeeded:
            object.member("status", "succeeded")
        case .failed(let reason, let isRetriable):
            object.member("isRetriable", isRetriable)
            object.member("reason", reason)
            object.member("status", "failed")
        case .skipped(let reason):
            object.member("reason", reason)
            object.member("status", "skipped")
        }
    }
}

extension PhaseSkip: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("at", at)
        object.member("phase", phase)
        object.member("reason", reason)
    }
}

extension EnrichedProfile: JSONWritable {
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
