import Foundation
import JSONCodec

// What the phase requests and results carry around the profile reads and writes its JSON
// itself too (see `Profiles+JSON.swift`): the discovered lead inside every request and state,
// the document's parts, the payloads. A top-level message still goes through its `Codable`
// conformance (its envelope's members and its own share one object). A field added to one of
// these types must be added here too, which `ProfileJSONTests` checks.

extension LeadDiscovered: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            leadID: try object.rawValue("leadID"), accountID: try object.rawValue("accountID"), offerID: try object.rawValue("offerID"),
            sourceSearchID: try object.rawValue("sourceSearchID"), source: try object.rawValue("source"), name: try object.string("name"),
            linkedinURL: try object.optionalString("linkedinURL"), xURL: try object.optionalString("xURL"),
            mode: try object.optionalRawValue("mode") ?? .full,
            reEnrichTypes: try object.optionalDecoded("reEnrichTypes", as: [ReEnrichType].self),
            discoveredAt: try object.date("discoveredAt"), poolProfile: try object.optionalObject("poolProfile"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("accountID", accountID)
        object.member("discoveredAt", discoveredAt)
        object.member("leadID", leadID)
        object.member("linkedinURL", linkedinURL)
        object.member("mode", mode)
        object.member("name", name)
        object.member("offerID", offerID)
        try object.member("poolProfile", poolProfile)
        try object.member("reEnrichTypes", encoding: reEnrichTypes)
        object.member("source", source)
        object.member("sourceSearchID", sourceSearchID)
        object.member("xURL", xURL)
    }
}

extension PhaseOutput: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(phase: try object.rawValue("phase"), payload: try object.rawJSON("payload"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("payload", payload)
        object.member("phase", phase)
    }
}

extension DocumentParts: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            base: try object.optionalObject("base"), outputs: try object.objects("outputs"),
            skippedPhases: try object.objects("skippedPhases"), web: try object.optionalDecoded("web", as: WebEnrichment.self),
            override: try object.optionalDecoded("override", as: LeadOverride.self))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("base", base)
        try object.member("outputs", outputs)
        try object.member("override", encoding: override)
        try object.member("skippedPhases", skippedPhases)
        try object.member("web", encoding: web)
    }
}

extension ProfilePhaseOutput: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            linkedin: try object.optionalObject("linkedin"), x: try object.optionalObject("x"), company: try object.optionalObject("company"),
            linkedinOutcome: try object.optionalObject("linkedinOutcome"), xOutcome: try object.optionalObject("xOutcome"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("company", company)
        try object.member("linkedin", linkedin)
        try object.member("linkedinOutcome", linkedinOutcome)
        try object.member("x", x)
        try object.member("xOutcome", xOutcome)
    }
}

extension PhasePayload: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            profile: try object.optionalObject("profile"), activity: try object.optionalObject("activity"),
            activityOutcome: try object.optionalObject("activityOutcome"), scores: try object.optionalObject("scores"))
    }

    /// As `encode(to:)`: the activity without its plain text.
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("activity", activity.map(Activity.WithoutPlainText.init))
        try object.member("activityOutcome", activityOutcome)
        try object.member("profile", profile)
        try object.member("scores", scores)
    }
}

extension BillableCharge: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(provider: try object.string("provider"), units: try object.int("units"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("provider", provider)
        object.member("units", units)
    }
}
