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
            reEnrichTypes: try object.optionalRawValues("reEnrichTypes"),
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
        // From the index already built; a payload that cannot be read is read (and its error
        // reported) when the profile is put together, as before.
        read = try? object.object("payload")
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
            override: try object.optionalDecoded("override", as: LeadOverride.self), omitted: try object.optionalStrings("omitted"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("base", base)
        object.member("omitted", omitted)
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
            activityOutcome: try object.optionalObject("activityOutcome"), scores: try object.optionalObject("scores"),
            omitted: try object.optionalStrings("omitted"))
    }

    /// As `encode(to:)`: the activity without its plain text.
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("activity", activity.map(Activity.WithoutPlainText.init))
        try object.member("activityOutcome", activityOutcome)
        object.member("omitted", omitted)
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

extension PhaseRequest: JSONWritable, JSONReadable {
    /// The current version (2), read as `init(from:)` reads it.
    public init(reading object: inout JSONObjectReader) throws {
        let phase: Phase = try object.rawValue("phase")
        let lead: LeadDiscovered = try object.object("lead")
        let document: DocumentParts? = try object.optionalObject("document")
        let profile: EnrichedProfile? = try object.optionalObject("profile")
        // As init(from:): without either, only a phase that does not read the profile starts from the lead.
        guard profile != nil || document != nil || !phase.readsEnrichedProfile else { throw JSONObjectReader.Unexpected() }
        self.init(
            leadID: try object.rawValue("leadID"), runID: try object.rawValue("runID"), phase: phase, attempt: try object.int("attempt"),
            mode: try object.object("mode"), platforms: try object.rawValues("platforms"), lead: lead,
            profile: profile ?? EnrichedProfile(discovered: lead).carried(to: .profile), accountID: try object.rawValue("accountID"),
            offerID: try object.rawValue("offerID"), isPriority: try object.bool("isPriority"),
            requestedAt: try object.date("requestedAt"), document: document)
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("accountID", accountID)
        object.member("attempt", attempt)
        try object.member("document", document)
        object.member("isPriority", isPriority)
        try object.member("lead", lead)
        object.member("leadID", leadID)
        try object.member("mode", mode)
        object.member("offerID", offerID)
        object.member("phase", phase)
        object.member("platforms", platforms)
        if document == nil && !isProfileTheLeads { try object.member("profile", profile) }
        object.member("requestedAt", requestedAt)
        object.member("runID", runID)
    }
}

extension PhaseResult: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            leadID: try object.rawValue("leadID"), runID: try object.rawValue("runID"), phase: try object.rawValue("phase"),
            attempt: try object.int("attempt"), outcome: try object.object("outcome"),
            payload: try object.object("payload"), charges: try object.objects("charges"), finishedAt: try object.date("finishedAt"),
            service: try object.string("service"))
        poolEntry = try object.optionalObject("poolEntry")
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("attempt", attempt)
        try object.member("charges", charges)
        object.member("finishedAt", finishedAt)
        object.member("leadID", leadID)
        try object.member("outcome", outcome)
        try object.member("payload", payload)
        object.member("phase", phase)
        try object.member("poolEntry", poolEntry)
        object.member("runID", runID)
        object.member("service", service)
    }
}

extension PhaseResultEnvelope: JSONReadable {
    /// What the coordinator reads of every result: the payload stays as it was written.
    public init(reading object: inout JSONObjectReader) throws {
        leadID = try object.rawValue("leadID")
        runID = try object.rawValue("runID")
        phase = try object.rawValue("phase")
        attempt = try object.int("attempt")
        outcome = try object.object("outcome")
        payload = try object.rawJSON("payload")
        charges = try object.objects("charges")
        finishedAt = try object.date("finishedAt")
        service = try object.string("service")
        poolEntry = try object.optionalObject("poolEntry")
    }
}

extension BillingUsage: JSONWritable, JSONReadable {
    /// The current version (2), with its charges; the idempotency key as written.
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            accountID: try object.rawValue("accountID"), leadID: try object.rawValue("leadID"), runID: try object.rawValue("runID"),
            phase: try object.rawValue("phase"), charges: try object.objects("charges"), chargedAt: try object.date("chargedAt"))
        idempotencyKey = try object.string("idempotencyKey")
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("accountID", accountID)
        object.member("chargedAt", chargedAt)
        try object.member("charges", charges)
        object.member("idempotencyKey", idempotencyKey)
        object.member("leadID", leadID)
        object.member("phase", phase)
        object.member("runID", runID)
    }
}

extension LeadPoolEntry: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            leadID: try object.rawValue("leadID"), accountID: try object.rawValue("accountID"), offerID: try object.rawValue("offerID"),
            role: try object.optionalString("role"), bio: try object.optionalString("bio"), industry: try object.optionalString("industry"),
            company: try object.optionalString("company"), location: try object.optionalString("location"),
            skills: try object.strings("skills"), profile: try object.object("profile"), finishedAt: try object.date("finishedAt"),
            omitted: try object.optionalStrings("omitted"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("accountID", accountID)
        object.member("bio", bio)
        object.member("company", company)
        object.member("finishedAt", finishedAt)
        object.member("industry", industry)
        object.member("leadID", leadID)
        object.member("location", location)
        object.member("offerID", offerID)
        object.member("omitted", omitted)
        try object.member("profile", profile)
        object.member("role", role)
        object.member("skills", skills)
    }
}

extension PhaseOutcome: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        switch try object.string("status") {
        case "completed": self = .completed
        case "failed":
            let (reason, isRetriable) = (try object.string("reason"), try object.bool("isRetriable"))
            self = try object.optionalBool("waitsForBilling") == true
                ? .waitsForBilling(reason: reason) : .failed(reason: reason, isRetriable: isRetriable)
        case "account-paused": self = .accountPaused(reason: try object.string("reason"))
        default: throw JSONObjectReader.Unexpected()  // init(from:) names the unknown status
        }
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        switch self {
        case .completed: object.outcome(status: "completed")
        case .failed(let reason, let isRetriable): object.outcome(status: "failed", reason: reason, isRetriable: isRetriable)
        case .accountPaused(let reason): object.outcome(status: "account-paused", reason: reason)
        case .waitsForBilling(let reason):
            object.outcome(status: "failed", reason: reason, isRetriable: true)
            object.member("waitsForBilling", true)
        }
    }
}

extension Mode: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        // Re-enrich without types is refused here and rejected, with its reason, by init(from:).
        guard let mode = Mode(name: try object.rawValue("name"), reEnrichTypes: try object.optionalRawValues("types")) else {
            throw JSONObjectReader.Unexpected()
        }
        self = mode
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("name", name)
        if case .reEnrich(let types) = self { object.member("types", types.sorted()) }
    }
}
