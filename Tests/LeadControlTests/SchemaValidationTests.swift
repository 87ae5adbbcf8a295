import Foundation
import KafkaTestSupport
import LeadControl
import LeadModel
import XCTest

/// Every message others write or read, encoded by the codec, validates against its JSON Schema
/// in docs/schemas (Draft 2020-12, checked by Python's `jsonschema`); broken messages do not.
final class SchemaValidationTests: XCTestCase {
    let codec = MessageCodec()
    let now = Samples.now
    static let schemaDirectory = Samples.projectRoot.appendingPathComponent("docs/schemas")

    struct Case: Encodable {
        let name: String
        let schemaFile: String
        let instance: String
        let isValid: Bool
    }

    private func schemaFile<T: Message>(_ type: T.Type) -> String { "\(T.schemaName).v\(T.schemaVersion).schema.json" }

    private func valid<T: Message>(_ name: String, _ message: T) throws -> Case {
        Case(name: name, schemaFile: schemaFile(T.self), instance: String(decoding: try codec.encode(message), as: UTF8.self), isValid: true)
    }

    private func invalid<T: Message>(_ name: String, _ type: T.Type, _ json: String) -> Case {
        Case(name: name, schemaFile: schemaFile(T.self), instance: json, isValid: false)
    }

    private func sample(_ file: String) throws -> String {
        try String(contentsOf: Samples.projectRoot.appendingPathComponent("docs/samples/\(file)"), encoding: .utf8)
    }

    func testEncodedMessagesValidateAgainstTheirSchemas() throws {
        var cases: [Case] = []
        // Inputs others write.
        cases.append(try valid("lead full", Samples.lead()))
        cases.append(try valid("lead re-enrich", Samples.lead(mode: .reEnrich, types: [.x, .activity])))
        var xOnly = Samples.lead(mode: .noOp)
        xOnly.linkedinURL = nil
        cases.append(try valid("lead x only", xOnly))
        for lead in SyntheticLeads.make(SyntheticLeadOptions(count: 10, seed: 5), now: now) {
            cases.append(try valid("synthetic \(lead.leadID)", lead))
        }
        for (index, line) in try sample("leads.jsonl").split(separator: "\n").enumerated() {
            cases.append(Case(name: "docs/samples/leads.jsonl:\(index + 1)", schemaFile: schemaFile(LeadDiscovered.self),
                              instance: String(line), isValid: true))
        }
        cases.append(try valid("reenrich", ReEnrichRequested(leadID: "lead-1", types: [.linkedin, .activity], requestedAt: now, requestedBy: "ops",
                                                             requestID: "9f0c3a52-6c1e-4d5b-9a43-2f7e1d2c8b10")))
        cases.append(Case(name: "reenrich version 1", schemaFile: "lead.reenrich.requested.v1.schema.json",
                          instance: #"{"schema":"lead.reenrich.requested","version":1,"leadID":"l1","types":["x"],"requestedAt":"2025-01-31T12:00:00.000Z","requestedBy":"ops"}"#,
                          isValid: true))
        cases.append(try valid("override manual", LeadOverride(leadID: "l1", state: .manual, reason: "sales owns it", requestedBy: "ops", at: now)))
        cases.append(try valid("override disqualified", LeadOverride(leadID: "l1", state: .disqualified, reason: "left", requestedBy: "ops", at: now)))
        cases.append(try valid("override cleared", LeadOverride.clearing("l1", requestedBy: "ops", at: now)))
        cases.append(Case(name: "docs/samples/lead-override.json", schemaFile: schemaFile(LeadOverride.self),
                          instance: try sample("lead-override.json"), isValid: true))
        cases.append(invalid("override with a state and cleared", LeadOverride.self,
                             #"{"schema":"lead.override","version":1,"leadID":"l1","state":"manual","cleared":true,"reason":"r","requestedBy":"ops","at":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(invalid("override neither set nor cleared", LeadOverride.self,
                             #"{"schema":"lead.override","version":1,"leadID":"l1","reason":"r","requestedBy":"ops","at":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(invalid("override to active", LeadOverride.self,
                             #"{"schema":"lead.override","version":1,"leadID":"l1","state":"active","reason":"r","requestedBy":"ops","at":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(invalid("override without a reason", LeadOverride.self,
                             #"{"schema":"lead.override","version":1,"leadID":"l1","state":"manual","reason":" ","requestedBy":"ops","at":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(try valid("billing event paused", AccountBillingEvent(accountID: "a1", state: .paused, reason: "invoice unpaid",
                                                                          source: "billing-system", occurredAt: now, eventID: "e1")))
        cases.append(try valid("billing event resumed", AccountBillingEvent(accountID: "a1", state: .active, reason: "", source: "leadctl",
                                                                           occurredAt: now, eventID: "e2")))
        cases.append(try valid("account progress", AccountProgressSnapshot(
            accountID: "a1", state: .running, searches: .init(running: 1, completed: 2, paused: 0), total: nil, pending: 4,
            completed: 30, enriching: 2, scoring: 1, finalizing: 3, billingPaused: 0, deferred: 0, updatedAt: now)))
        let accountVersion1 = #"{"schema":"account.progress","version":1,"accountID":"a1","state":"running","searches":{"running":1,"completed":0,"paused":0},"pending":0,"completed":1,"enriching":2,"scoring":0,"billingPaused":0,"deferred":0,"updatedAt":"2025-01-31T12:00:00.000Z"}"#
        cases.append(Case(name: "account progress version 1", schemaFile: "account.progress.v1.schema.json", instance: accountVersion1, isValid: true))
        XCTAssertEqual(try codec.decode(AccountProgressSnapshot.self, from: Array(accountVersion1.utf8)).finalizing, 0,
                       "a version 1 account snapshot is read")
        cases.append(invalid("account progress without searches", AccountProgressSnapshot.self,
                             #"{"schema":"account.progress","version":1,"accountID":"a1","state":"running","pending":0,"completed":0,"enriching":0,"scoring":0,"billingPaused":0,"deferred":0,"updatedAt":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(Case(name: "docs/samples/account-billing-event.json", schemaFile: schemaFile(AccountBillingEvent.self),
                          instance: try sample("account-billing-event.json"), isValid: true))
        XCTAssertNoThrow(try codec.decode(AccountBillingEvent.self, from: Array(try sample("account-billing-event.json").utf8)))
        let billing = #""schema":"account.billing-event","version":1,"accountID":"a1","source":"billing-system","occurredAt":"2025-01-31T12:00:00.000Z","eventID":"e1""#
        cases.append(invalid("billing event paused without a reason", AccountBillingEvent.self, #"{\#(billing),"state":"paused","reason":" "}"#))
        cases.append(invalid("billing event unknown state", AccountBillingEvent.self, #"{\#(billing),"state":"suspended","reason":"r"}"#))
        cases.append(invalid("billing event misspelt field", AccountBillingEvent.self, #"{\#(billing),"state":"active","reason":"","accountId":"a1"}"#))
        cases.append(invalid("billing event without event id", AccountBillingEvent.self,
                             #"{"schema":"account.billing-event","version":1,"accountID":"a1","state":"active","reason":"","source":"s","occurredAt":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(invalid("billing event source too long", AccountBillingEvent.self,
                             #"{"schema":"account.billing-event","version":1,"accountID":"a1","state":"active","reason":"","source":"\#(String(repeating: "s", count: FieldLimit.identifier + 1))","occurredAt":"2025-01-31T12:00:00.000Z","eventID":"e1"}"#))
        cases.append(try valid("search total", SearchTotalDeclared(searchID: "s1", accountID: "a1", total: 40, declaredAt: now)))
        cases.append(try valid("account sample", SampleConfigurations.account(updatedAt: now)))
        cases.append(try valid("account minimal", AccountConfig(accountID: "a1", billingState: .paused, updatedAt: now)))
        cases.append(try valid("account with the profile finder",
                               AccountConfig(accountID: "a1", profileFinder: ProfileFinderRule(minimumConfidence: 0.8), updatedAt: now)))
        cases.append(try valid("account with the profile finder, default confidence",
                               AccountConfig(accountID: "a1", profileFinder: ProfileFinderRule(isEnabled: false), updatedAt: now)))
        cases.append(Case(name: "docs/samples/account.json", schemaFile: schemaFile(AccountConfig.self), instance: try sample("account.json"), isValid: true))
        cases.append(try valid("offer sample", SampleConfigurations.offer(updatedAt: now)))
        cases.append(try valid("offer minimal", OfferConfig(offerID: "o1", accountID: "a1", name: "Minimal", icp: IdealCustomerProfile(), updatedAt: now)))
        cases.append(Case(name: "docs/samples/offer.json", schemaFile: schemaFile(OfferConfig.self), instance: try sample("offer.json"), isValid: true))
        cases.append(try valid("profile found x", ProfileFound(leadID: "lead-1", platform: .x, url: "https://x.com/janedoe", confidence: 0.91,
                                                               foundBy: "profile-finder", foundAt: now)))
        cases.append(try valid("profile found linkedin", ProfileFound(leadID: "lead-2", platform: .linkedin, url: "https://www.linkedin.com/in/ken-ito",
                                                                      confidence: 1, foundBy: "upstream", foundAt: now)))
        cases.append(try valid("web request by lead", WebEnrichmentRequested(leadID: "lead-1", domain: "acme.example", requestedAt: now, requestedBy: "ops")))
        cases.append(try valid("web request by search", WebEnrichmentRequested(searchID: "s1", url: "https://acme.example/about", requestedAt: now)))
        cases.append(try valid("web request full", WebEnrichmentRequested(leadID: "lead-1", searchID: "s1", domain: "acme.example",
                                                                          url: "https://www.acme.example/", requestedAt: now, requestedBy: "ops")))

        // Outputs others read.
        let profile = Samples.profile()
        cases.append(try valid("pool entry full", LeadPoolEntry(profile: profile, accountID: "a1", offerID: "o1", finishedAt: now)))
        cases.append(try valid("pool entry bare", LeadPoolEntry(profile: EnrichedProfile(leadID: "l2", name: "Ken Ito"),
                                                                accountID: "a1", offerID: "o1", finishedAt: now)))
        cases.append(try valid("progress", ProgressSnapshot(searchID: "s1", accountID: "a1", state: .running, total: nil, pending: 5,
                                                            completed: 3, enriching: 2, scoring: 1, finalizing: 1, billingPaused: 0,
                                                            deferred: 4, updatedAt: now)))
        let progressVersion2 = #"{"schema":"progress.snapshot","version":2,"searchID":"s1","accountID":"a1","state":"running","pending":1,"completed":3,"enriching":2,"scoring":1,"billingPaused":0,"deferred":0,"updatedAt":"2025-01-31T12:00:00.000Z"}"#
        cases.append(Case(name: "progress version 2", schemaFile: "progress.snapshot.v2.schema.json", instance: progressVersion2, isValid: true))
        XCTAssertEqual(try codec.decode(ProgressSnapshot.self, from: Array(progressVersion2.utf8)).finalizing, 0, "a version 2 snapshot is read")
        let progressVersion1 = #"{"schema":"progress.snapshot","version":1,"searchID":"s1","accountID":"a1","state":"running","completed":3,"enriching":2,"scoring":1,"billingPaused":0,"deferred":0,"updatedAt":"2025-01-31T12:00:00.000Z"}"#
        cases.append(Case(name: "progress version 1", schemaFile: "progress.snapshot.v1.schema.json", instance: progressVersion1, isValid: true))
        XCTAssertEqual(try codec.decode(ProgressSnapshot.self, from: Array(progressVersion1.utf8)).pending, 0, "a version 1 snapshot is read")
        cases.append(try valid("progress completed", ProgressSnapshot(searchID: "s1", accountID: "a1", state: .completed, total: 10,
                                                                      completed: 10, enriching: 0, scoring: 0, billingPaused: 0,
                                                                      deferred: 0, updatedAt: now)))
        cases.append(try valid("account signal", AccountSignal(
            accountID: "a1", companyKey: "li:1234", companyName: "Acme SaaS", heatScore: 71, category: .hot, trend: .rising,
            leadCount: 3, signals: [CompanySignal(leadID: "l1", kind: "recommendation-request", detail: "asked for a tool", date: now, weight: 0.8)],
            computedAt: now)))
        let asking = BuyingSignal(kind: .recommendationRequest, detail: "asked for a tool", date: now, postID: "p1")
        let contribution = AccountSignalContribution(
            accountID: "a1", leadID: "l1", runID: "r1", offerID: "o1", companyKey: "li:1234", companyName: "Acme SaaS",
            signals: [asking, BuyingSignal(kind: .competitorEngagement, detail: "@outreach", date: now, count: 3)], scoredAt: now)
        cases.append(try valid("billing usage", BillingUsage(
            accountID: "a1", leadID: "l1", runID: "r1", phase: .profile,
            charges: [BillableCharge(provider: "pdl", units: 1), BillableCharge(provider: "x", units: 1)], chargedAt: now)))
        cases.append(try valid("billing usage of a lead id with colons", BillingUsage(
            accountID: "a1", leadID: "urn:li:person:1", runID: "r1", phase: .activity,
            charges: [BillableCharge(provider: "activity", units: 1)], chargedAt: now)))
        cases.append(invalid("billing usage without charges", BillingUsage.self,
                             #"{"schema":"billing.usage","version":2,"idempotencyKey":"a1:l1:r1:profile","accountID":"a1","leadID":"l1","runID":"r1","phase":"profile","charges":[],"chargedAt":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(invalid("billing usage keyed by provider", BillingUsage.self,
                             #"{"schema":"billing.usage","version":2,"idempotencyKey":"a1:l1:r1:profile:x","accountID":"a1","leadID":"l1","runID":"r1","phase":"profile","charges":[{"provider":"x","units":1}],"chargedAt":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(try valid("heat contribution", contribution))
        cases.append(try valid("heat contribution without company", AccountSignalContribution(
            accountID: "a1", leadID: "l2", runID: "r1", offerID: "o1", companyKey: nil, companyName: nil, signals: [], scoredAt: now)))
        cases.append(try valid("heat contributions batched", AccountSignalContributionBatch(accountID: "a1", contributions: [
            contribution, AccountSignalContribution(accountID: "a1", leadID: "l2", runID: "r1", offerID: "o1", companyKey: nil,
                                                    companyName: nil, signals: [], scoredAt: now)])))
        cases.append(invalid("heat contributions batched, none", AccountSignalContributionBatch.self,
                             #"{"schema":"account.signal.contribution","version":2,"accountID":"a1","contributions":[]}"#))
        cases.append(invalid("heat contribution with an unknown signal kind", AccountSignalContribution.self,
                             #"{"schema":"account.signal.contribution","version":1,"accountID":"a1","leadID":"l1","runID":"r1","offerID":"o1","signals":[{"kind":"rumour","detail":"x","date":"2025-01-31T12:00:00.000Z","count":1}],"scoredAt":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(try valid("heat state", AccountHeatState(
            accountID: "a1", companyKey: "li:1234", companyName: "Acme SaaS",
            leads: [HeatContribution(leadID: "l1", runID: "r1", scoredAt: now, signals: [asking])],
            counted: [CountedContribution(leadID: "l1", runID: "r1", scoredAt: now)], heatScore: 40, heatDay: 20_000,
            earlierDayHeat: 30, published: nil, updatedAt: now)))
        cases.append(try valid("heat state new", AccountHeatState(accountID: "a1", companyKey: "name:acme", companyName: "Acme", updatedAt: now)))
        cases.append(try valid("autopilot", AutopilotEnrollment(leadID: "l1", runID: "r1", accountID: "a1", offerID: "o1", fit: 87, intent: 72,
                                                                buyerState: .active, reasons: ["fit 87 >= 60"], enrolledAt: now)))
        cases.append(Case(name: "autopilot version 1", schemaFile: "autopilot.enrollment.v1.schema.json",
                          instance: #"{"schema":"autopilot.enrollment","version":1,"leadID":"l1","runID":"r1","accountID":"a1","offerID":"o1","fit":80,"intent":70,"buyerState":"active","reasons":[],"enrolledAt":"2025-01-31T12:00:00.000Z"}"#,
                          isValid: true))
        cases.append(invalid("autopilot version 2 without its enrollment id", AutopilotEnrollment.self,
                             #"{"schema":"autopilot.enrollment","version":2,"leadID":"l1","runID":"r1","accountID":"a1","offerID":"o1","fit":80,"intent":70,"buyerState":"active","reasons":[],"enrolledAt":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(try valid("dead letter", DeadLetter(original: Array("{not json".utf8), originalKey: Array("l1".utf8),
                                                         sourceTopic: "leads.discovered", partition: 3, offset: 42,
                                                         reason: "malformed JSON", failedAt: now, service: "coordinator")))
        cases.append(try valid("dead letter without key", DeadLetter(original: [], sourceTopic: "t", partition: 0, offset: 0,
                                                                     reason: "r", failedAt: now, service: "s")))
        cases.append(Case(name: "dead letter version 1", schemaFile: "dead.letter.v1.schema.json",
                          instance: #"{"schema":"dead.letter","version":1,"originalBase64":"AQID","sourceTopic":"t","partition":0,"offset":1,"reason":"r","failedAt":"2025-01-31T12:00:00.000Z","service":"s"}"#,
                          isValid: true))
        cases.append(try valid("dead letter of a record too large to keep", DeadLetter(
            original: Array(repeating: 120, count: 2_000_000), originalKey: Array(repeating: 107, count: 5000),
            sourceTopic: "lead.state", partition: -1, offset: -1, reason: String(repeating: "r", count: 5000),
            failedAt: now, service: "coordinator", keepOriginal: false)))
        // One character of 3,001 Unicode scalars quoted in a reason: cut to the schema's count.
        cases.append(try valid("dead letter quoting combining accents", DeadLetter(
            original: [], sourceTopic: "t", partition: 0, offset: 0,
            reason: "wrong schema \"e" + String(repeating: "\u{301}", count: 3000) + "\"", failedAt: now, service: "s")))
        cases.append(try valid("web enrichment completed", WebEnrichment(
            leadID: "lead-1", searchID: nil, domain: "acme.example", url: "https://acme.example/", status: .completed, name: "Acme",
            companyDescription: "Tools for SaaS teams", imageURL: "https://acme.example/logo.png",
            socialLinks: ["https://www.linkedin.com/company/acme", "https://x.com/acme"], xHandle: "acme", fetchedAt: now)))
        cases.append(try valid("web enrichment refused", WebEnrichment(leadID: nil, searchID: "s1", domain: "https://evil.example/", url: nil,
                                                                       status: .refused, reason: "host not allowed", fetchedAt: now)))
        cases.append(try valid("web enrichment failed", WebEnrichment(leadID: "lead-1", searchID: "s1", domain: "acme.example",
                                                                      url: "https://acme.example/", status: .failed, reason: "HTTP 503", fetchedAt: now)))

        // What the schemas must reject.
        let lead = #""leadID":"l1","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Jane","discoveredAt":"2025-01-31T12:00:00.000Z""#
        cases.append(Case(name: "lead valid baseline", schemaFile: schemaFile(LeadDiscovered.self),
                          instance: #"{"schema":"lead.discovered","version":1,\#(lead),"xURL":"x.com/jane"}"#, isValid: true))
        cases.append(invalid("lead without URL", LeadDiscovered.self, #"{"schema":"lead.discovered","version":1,\#(lead)}"#))
        cases.append(invalid("lead with empty URL only", LeadDiscovered.self, #"{"schema":"lead.discovered","version":1,\#(lead),"xURL":""}"#))
        cases.append(invalid("lead with misspelt field", LeadDiscovered.self, #"{"schema":"lead.discovered","version":1,\#(lead),"linkedinUrl":"linkedin.com/in/jane"}"#))
        cases.append(invalid("lead with unknown mode", LeadDiscovered.self, #"{"schema":"lead.discovered","version":1,\#(lead),"xURL":"x.com/jane","mode":"turbo"}"#))
        cases.append(invalid("lead re-enrich without types", LeadDiscovered.self, #"{"schema":"lead.discovered","version":1,\#(lead),"xURL":"x.com/jane","mode":"re-enrich"}"#))
        cases.append(invalid("lead version 2", LeadDiscovered.self, #"{"schema":"lead.discovered","version":2,\#(lead),"xURL":"x.com/jane"}"#))
        cases.append(invalid("lead bad date", LeadDiscovered.self, #"{"schema":"lead.discovered","version":1,"leadID":"l1","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Jane","xURL":"x.com/j","discoveredAt":"31/01/2025"}"#))
        cases.append(invalid("lead empty id", LeadDiscovered.self, #"{"schema":"lead.discovered","version":1,"leadID":"","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Jane","xURL":"x.com/j","discoveredAt":"2025-01-31T12:00:00Z"}"#))
        // Length limits (FieldLimit), in characters: at the limit valid, one more invalid.
        func leadWith(id: String = "l1", name: String = "Jane", xURL: String = "x.com/j") -> String {
            #"{"schema":"lead.discovered","version":1,"leadID":"\#(id)","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"\#(name)","xURL":"\#(xURL)","discoveredAt":"2025-01-31T12:00:00.000Z"}"#
        }
        let atLimits = leadWith(id: String(repeating: "é", count: FieldLimit.identifier), name: String(repeating: "n", count: FieldLimit.name))
        cases.append(Case(name: "lead at its length limits", schemaFile: schemaFile(LeadDiscovered.self), instance: atLimits, isValid: true))
        XCTAssertNoThrow(try codec.decode(LeadDiscovered.self, from: Array(atLimits.utf8)))
        cases.append(invalid("lead id too long", LeadDiscovered.self, leadWith(id: String(repeating: "é", count: FieldLimit.identifier + 1))))
        cases.append(invalid("lead name too long", LeadDiscovered.self, leadWith(name: String(repeating: "n", count: FieldLimit.name + 1))))
        cases.append(invalid("lead URL too long", LeadDiscovered.self, leadWith(xURL: "x.com/" + String(repeating: "j", count: FieldLimit.url - 5))))
        let reEnrich = #""schema":"lead.reenrich.requested","version":2,"leadID":"l1","requestedAt":"2025-01-31T12:00:00Z","requestedBy":"ops""#
        cases.append(Case(name: "reenrich valid baseline", schemaFile: schemaFile(ReEnrichRequested.self),
                          instance: #"{\#(reEnrich),"types":["x"],"requestID":"r1"}"#, isValid: true))
        XCTAssertNoThrow(try codec.decode(ReEnrichRequested.self, from: Array(#"{\#(reEnrich),"types":["x"],"requestID":"r1"}"#.utf8)))
        cases.append(invalid("reenrich requestedBy too long", ReEnrichRequested.self, #"{"schema":"lead.reenrich.requested","version":2,"leadID":"l1","types":["x"],"requestedAt":"2025-01-31T12:00:00Z","requestID":"r1","requestedBy":"\#(String(repeating: "o", count: FieldLimit.identifier + 1))"}"#))
        cases.append(invalid("reenrich without types", ReEnrichRequested.self, #"{\#(reEnrich),"types":[],"requestID":"r1"}"#))
        cases.append(invalid("reenrich duplicate types", ReEnrichRequested.self, #"{\#(reEnrich),"types":["x","x"],"requestID":"r1"}"#))
        cases.append(invalid("reenrich version 2 without request id", ReEnrichRequested.self, #"{\#(reEnrich),"types":["x"]}"#))
        cases.append(invalid("reenrich empty request id", ReEnrichRequested.self, #"{\#(reEnrich),"types":["x"],"requestID":""}"#))
        cases.append(invalid("reenrich request id too long", ReEnrichRequested.self,
                             #"{\#(reEnrich),"types":["x"],"requestID":"\#(String(repeating: "r", count: FieldLimit.identifier + 1))"}"#))
        cases.append(invalid("negative total", SearchTotalDeclared.self, #"{"schema":"search.total-declared","version":1,"searchID":"s","accountID":"a","total":-1,"declaredAt":"2025-01-31T12:00:00Z"}"#))
        cases.append(invalid("account hour 25", AccountConfig.self, #"{"schema":"account.config","version":1,"accountID":"a","billingState":"active","outreachWindow":{"timeZoneID":"UTC","weekdays":[1],"startHour":25,"endHour":26},"updatedAt":"2025-01-31T12:00:00Z"}"#))
        let found = #""schema":"lead.profile-found","version":1,"leadID":"l1","foundBy":"profile-finder","foundAt":"2025-01-31T12:00:00.000Z""#
        let foundBaseline = #"{\#(found),"platform":"x","url":"https://x.com/jane","confidence":0.9}"#
        cases.append(Case(name: "profile found valid baseline", schemaFile: schemaFile(ProfileFound.self), instance: foundBaseline, isValid: true))
        XCTAssertNoThrow(try codec.decode(ProfileFound.self, from: Array(foundBaseline.utf8)))
        cases.append(invalid("profile found unknown platform", ProfileFound.self, #"{\#(found),"platform":"facebook","url":"https://facebook.com/jane","confidence":0.9}"#))
        cases.append(invalid("profile found confidence 1.5", ProfileFound.self, #"{\#(found),"platform":"x","url":"https://x.com/jane","confidence":1.5}"#))
        cases.append(invalid("profile found confidence as text", ProfileFound.self, #"{\#(found),"platform":"x","url":"https://x.com/jane","confidence":"0.9"}"#))
        cases.append(invalid("profile found without url", ProfileFound.self, #"{\#(found),"platform":"x","confidence":0.9}"#))
        cases.append(invalid("profile found misspelt field", ProfileFound.self, #"{\#(found),"platform":"x","URL":"https://x.com/jane","confidence":0.9}"#))
        let webRequest = #""schema":"web.enrichment-requested","version":1,"requestedAt":"2025-01-31T12:00:00.000Z""#
        let webRequestBaseline = #"{\#(webRequest),"searchID":"s1","domain":"acme.example","url":null,"requestedBy":null}"#
        cases.append(Case(name: "web request valid baseline", schemaFile: schemaFile(WebEnrichmentRequested.self), instance: webRequestBaseline, isValid: true))
        XCTAssertNoThrow(try codec.decode(WebEnrichmentRequested.self, from: Array(webRequestBaseline.utf8)))
        cases.append(invalid("web request without lead or search", WebEnrichmentRequested.self, #"{\#(webRequest),"domain":"acme.example"}"#))
        cases.append(invalid("web request with null ids", WebEnrichmentRequested.self, #"{\#(webRequest),"leadID":null,"searchID":null,"domain":"acme.example"}"#))
        cases.append(invalid("web request empty lead id", WebEnrichmentRequested.self, #"{\#(webRequest),"leadID":"","domain":"acme.example"}"#))
        cases.append(invalid("web request without domain or url", WebEnrichmentRequested.self, #"{\#(webRequest),"leadID":"l1"}"#))
        cases.append(invalid("web request empty domain only", WebEnrichmentRequested.self, #"{\#(webRequest),"leadID":"l1","domain":"","url":null}"#))
        cases.append(invalid("web request misspelt field", WebEnrichmentRequested.self, #"{\#(webRequest),"leadID":"l1","website":"https://acme.example/"}"#))
        cases.append(invalid("web request without date", WebEnrichmentRequested.self, #"{"schema":"web.enrichment-requested","version":1,"leadID":"l1","domain":"acme.example"}"#))
        let web = #""schema":"web.enrichment","version":1,"leadID":"l1","domain":"acme.example","socialLinks":[],"fetchedAt":"2025-01-31T12:00:00.000Z""#
        cases.append(Case(name: "web enrichment with unknown field", schemaFile: schemaFile(WebEnrichment.self),
                          instance: #"{\#(web),"status":"completed","pageLanguage":"en"}"#, isValid: true))
        cases.append(invalid("web enrichment unknown status", WebEnrichment.self, #"{\#(web),"status":"pending"}"#))
        cases.append(invalid("web enrichment without status", WebEnrichment.self, #"{\#(web)}"#))
        cases.append(invalid("web enrichment without lead or search", WebEnrichment.self, #"{"schema":"web.enrichment","version":1,"domain":"acme.example","status":"failed","socialLinks":[],"fetchedAt":"2025-01-31T12:00:00.000Z"}"#))
        cases.append(invalid("pool entry score 101", LeadPoolEntry.self, #"{"schema":"lead.pool-entry","version":2,"leadID":"l","accountID":"a","offerID":"o","skills":[],"finishedAt":"2025-01-31T12:00:00Z","profile":{"leadID":"l","name":"n","skippedPhases":[],"scores":{"fit":101,"intent":0,"timing":0,"composite":0,"buyerState":"active","fitReasons":[],"intentReasons":[],"timingReasons":[],"stateReason":"","scorer":"x","scoredAt":"2025-01-31T12:00:00Z"}}}"#))

        cases.append(Case(name: "pool entry v1", schemaFile: "lead.pool-entry.v1.schema.json",
                          instance: #"{"schema":"lead.pool-entry","version":1,"leadID":"l","accountID":"a","offerID":"o","skills":[],"finishedAt":"2025-01-31T12:00:00Z","profile":{"leadID":"l","name":"n","skippedPhases":[]}}"#,
                          isValid: true))

        // Every schema file is covered.
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.schemaDirectory.path).filter { $0.hasSuffix(".schema.json") }
        XCTAssertEqual(Set(cases.map(\.schemaFile)), Set(files), "every schema in docs/schemas has a sample and vice versa")

        try runValidator(cases)
    }

    /// Also the codec accepts every instance the lead schema accepts (no schema-valid lead is a dead letter
    /// for a shape reason).
    func testSchemaValidLeadsDecode() throws {
        for (index, line) in try sample("leads.jsonl").split(separator: "\n").enumerated() {
            XCTAssertNoThrow(try codec.decode(LeadDiscovered.self, from: Array(line.utf8)), "leads.jsonl:\(index + 1)")
        }
        for text in ["2025-01-31T12:00:00Z", "2025-01-31T12:00:00.5Z", "2025-01-31T12:00:00.123456Z", "2025-01-31T12:00:00+02:00"] {
            let json = #"{"schema":"lead.reenrich.requested","version":1,"leadID":"l1","types":["x"],"requestedAt":"\#(text)","requestedBy":"ops"}"#
            XCTAssertNoThrow(try codec.decode(ReEnrichRequested.self, from: Array(json.utf8)), text)
        }
    }

    private func runValidator(_ cases: [Case]) throws {
        // The first python3 on PATH (a pyenv shim, say), as a shell would find it.
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let python = path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let python else { throw XCTSkip("python3 is not installed; cannot validate JSON Schemas") }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import jsonschema"]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            throw XCTSkip("Python's jsonschema module is missing (pip install jsonschema); cannot validate JSON Schemas")
        }

        let casesFile = FileManager.default.temporaryDirectory.appendingPathComponent("leadctl-schema-cases-\(UUID().uuidString).json")
        try JSONEncoder().encode(cases).write(to: casesFile)
        defer { try? FileManager.default.removeItem(at: casesFile) }
        let script = """
            import json, os, sys
            from jsonschema import Draft202012Validator, FormatChecker
            directory, cases_path = sys.argv[1], sys.argv[2]
            validators = {}
            failures = []
            for case in json.load(open(cases_path)):
                name = case["schemaFile"]
                if name not in validators:
                    schema = json.load(open(os.path.join(directory, name)))
                    Draft202012Validator.check_schema(schema)
                    validators[name] = Draft202012Validator(schema, format_checker=FormatChecker())
                errors = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                          for e in validators[name].iter_errors(json.loads(case["instance"]))]
                if case["isValid"] and errors:
                    failures.append(f"{case['name']} ({name}) should validate: " + "; ".join(errors))
                if not case["isValid"] and not errors:
                    failures.append(f"{case['name']} ({name}) should NOT validate")
            print("\\n".join(failures))
            sys.exit(1 if failures else 0)
            """
        let outcome = try runToEnd(URL(fileURLWithPath: python), ["-c", script, Self.schemaDirectory.path, casesFile.path])
        XCTAssertEqual(outcome.status, 0, outcome.output)
    }
}
