import Foundation
import JSONCodec

// The account heat records read and write their JSON themselves, as the profile does (see
// `Profiles+JSON.swift`): the scoring stage writes a contribution per scored lead and its heat
// aggregator reads them, writes the changelog state of each company they change and publishes
// its signal. Through `Codable` each signal of each lead cost an encoder and a container. A field
// added to one of these types must be added here too, which `AccountHeatJSONTests` checks.

extension BuyingSignal: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            kind: try object.rawValue("kind"), detail: try object.string("detail"), date: try object.date("date"),
            postID: try object.optionalString("postID"), count: try object.int("count"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("count", count)
        object.member("date", date)
        object.member("detail", detail)
        object.member("kind", kind)
        object.member("postID", postID)
    }
}

extension AccountSignalContribution: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            accountID: try object.rawValue("accountID"), leadID: try object.rawValue("leadID"), runID: try object.rawValue("runID"),
            offerID: try object.rawValue("offerID"), companyKey: try object.optionalString("companyKey"),
            companyName: try object.optionalString("companyName"), personKey: try object.optionalString("personKey"),
            signals: try object.objects("signals"),
            clusterSignals: try object.optionalObjects("clusterSignals"), scoredAt: try object.date("scoredAt"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("accountID", accountID)
        try object.member("clusterSignals", clusterSignals)
        object.member("companyKey", companyKey)
        object.member("companyName", companyName)
        object.member("leadID", leadID)
        object.member("offerID", offerID)
        object.member("personKey", personKey)
        object.member("runID", runID)
        object.member("scoredAt", scoredAt)
        try object.member("signals", signals)
    }
}

extension AccountSignalContributionBatch: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(accountID: try object.rawValue("accountID"), contributions: try object.objects("contributions"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("accountID", accountID)
        try object.member("contributions", contributions)
    }
}

extension HeatContribution: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            leadID: try object.rawValue("leadID"), runID: try object.rawValue("runID"), scoredAt: try object.date("scoredAt"),
            personKey: try object.optionalString("personKey"), signals: try object.objects("signals"),
            clusterSignals: try object.optionalObjects("clusterSignals"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("clusterSignals", clusterSignals)
        object.member("leadID", leadID)
        object.member("personKey", personKey)
        object.member("runID", runID)
        object.member("scoredAt", scoredAt)
        try object.member("signals", signals)
    }
}

extension CountedContribution: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(leadID: try object.rawValue("leadID"), runID: try object.rawValue("runID"), scoredAt: try object.date("scoredAt"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("leadID", leadID)
        object.member("runID", runID)
        object.member("scoredAt", scoredAt)
    }
}

extension AccountHeatState: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            accountID: try object.rawValue("accountID"), companyKey: try object.string("companyKey"),
            companyName: try object.string("companyName"), leads: try object.objects("leads"), counted: try object.objects("counted"),
            heatScore: try object.optionalInt("heatScore"), heatDay: try object.optionalInt("heatDay"),
            earlierDayHeat: try object.optionalInt("earlierDayHeat"), published: try object.optionalObject("published"),
            updatedAt: try object.date("updatedAt"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("accountID", accountID)
        object.member("companyKey", companyKey)
        object.member("companyName", companyName)
        try object.member("counted", counted)
        object.member("earlierDayHeat", earlierDayHeat)
        object.member("heatDay", heatDay)
        object.member("heatScore", heatScore)
        try object.member("leads", leads)
        try object.member("published", published)
        object.member("updatedAt", updatedAt)
    }
}

extension CompanySignal: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            leadID: try object.rawValue("leadID"), kind: try object.string("kind"), detail: try object.string("detail"),
            date: try object.date("date"), weight: try object.double("weight"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("date", date)
        object.member("detail", detail)
        object.member("kind", kind)
        object.member("leadID", leadID)
        object.member("weight", weight)
    }
}

extension AccountSignal: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        self.init(
            accountID: try object.rawValue("accountID"), companyKey: try object.string("companyKey"),
            companyName: try object.string("companyName"), heatScore: try object.int("heatScore"),
            category: try object.rawValue("category"), trend: try object.rawValue("trend"), leadCount: try object.int("leadCount"),
            signals: try object.objects("signals"), computedAt: try object.date("computedAt"))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("accountID", accountID)
        object.member("category", category)
        object.member("companyKey", companyKey)
        object.member("companyName", companyName)
        object.member("computedAt", computedAt)
        object.member("heatScore", heatScore)
        object.member("leadCount", leadCount)
        try object.member("signals", signals)
        object.member("trend", trend)
    }
}
