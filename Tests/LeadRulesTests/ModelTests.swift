import Foundation
import JSONCodec
import LeadModel
@testable import LeadRules
import XCTest

final class ModelTests: XCTestCase {
    func testTopicNamesAndNamespaces() {
        XCTAssertEqual(Topics.phaseRequests(.profile), "phase.profile.requests")
        XCTAssertEqual(Topics.phaseRequests(.finalize, isPriority: true), "phase.finalize.requests.priority")
        XCTAssertEqual(Topics.allNames.count, 33)
        XCTAssertEqual(Set(Topics.allNames).count, Topics.allNames.count)
        XCTAssertTrue(Topics.allNames.allSatisfy(Topics.isLegalName))
        let test = Topics(namespace: "t42")
        XCTAssertEqual(test.leadsDiscovered, "t42.leads.discovered")
        XCTAssertEqual(test.phaseRequests(.scoring, isPriority: true), "t42.phase.scoring.requests.priority")
        XCTAssertTrue(test.all.allSatisfy { $0.hasPrefix("t42.") })
        XCTAssertEqual(Topics().all, Topics.allNames)
        XCTAssertEqual(Topics.all(namespace: ""), Topics.allNames)
    }

    /// Every name a `Topics` hands out (made once per namespace) is its plain name with the
    /// namespace's prefix; two views of one namespace are equal and hash alike.
    func testEveryTopicOfANamespaceIsItsNameWithThePrefix() {
        let named: [(KeyPath<Topics, String>, String)] = [
            (\.leadsDiscovered, Topics.leadsDiscovered), (\.leadsDiscoveredPriority, Topics.leadsDiscoveredPriority),
            (\.leadsBacklog, Topics.leadsBacklog), (\.leadCommands, Topics.leadCommands), (\.searchTotals, Topics.searchTotals),
            (\.phaseResults, Topics.phaseResults), (\.phaseResultsPriority, Topics.phaseResultsPriority),
            (\.leadState, Topics.leadState), (\.leadPool, Topics.leadPool), (\.accounts, Topics.accounts), (\.offers, Topics.offers),
            (\.billingUsage, Topics.billingUsage), (\.billingEvents, Topics.billingEvents), (\.progress, Topics.progress),
            (\.progressParts, Topics.progressParts), (\.accountProgressParts, Topics.accountProgressParts),
            (\.accountProgress, Topics.accountProgress), (\.accountSignals, Topics.accountSignals),
            (\.accountSignalContributions, Topics.accountSignalContributions), (\.accountHeat, Topics.accountHeat),
            (\.leadOverrides, Topics.leadOverrides), (\.autopilotEnrollments, Topics.autopilotEnrollments),
            (\.deadLetters, Topics.deadLetters), (\.webEnrichmentRequests, Topics.webEnrichmentRequests),
            (\.webEnrichments, Topics.webEnrichments),
        ]
        for namespace in ["t42", "", nil] as [String?] {
            let topics = Topics(namespace: namespace)
            let prefix = namespace.map { $0.isEmpty ? "" : $0 + "." } ?? ""
            for (path, name) in named {
                XCTAssertEqual(topics[keyPath: path], prefix + name)
            }
            for phase in Phase.allCases {
                for isPriority in [false, true] {
                    XCTAssertEqual(topics.phaseRequests(phase, isPriority: isPriority),
                                   prefix + "phase.\(phase.rawValue).requests" + (isPriority ? ".priority" : ""))
                }
            }
        }
        XCTAssertEqual(Set(named.map(\.1)).count, named.count)
        XCTAssertEqual(Topics(namespace: "t42"), Topics(namespace: "t42"))
        XCTAssertNotEqual(Topics(namespace: "t42"), Topics(namespace: "t43"))
        XCTAssertEqual(Set([Topics(namespace: "t42"), Topics(namespace: "t42"), Topics()]).count, 2)
    }

    func testSeniorityInference() {
        XCTAssertEqual(Seniority.infer(fromTitle: "VP of Demand Generation"), .vp)
        XCTAssertEqual(Seniority.infer(fromTitle: "Founder & CEO"), .founder)
        XCTAssertEqual(Seniority.infer(fromTitle: "Chief Revenue Officer"), .cLevel)
        XCTAssertEqual(Seniority.infer(fromTitle: "Head of Growth"), .director)
        XCTAssertEqual(Seniority.infer(fromTitle: "SDR Manager"), .manager)
        XCTAssertEqual(Seniority.infer(fromTitle: "Senior Software Engineer"), .senior)
        XCTAssertEqual(Seniority.infer(fromTitle: "Account Executive"), .entry)
        XCTAssertNil(Seniority.infer(fromTitle: ""))
    }

    func testMergerMovesSignalDateOnlyForward() {
        var profile = EnrichedProfile(leadID: "lead-1", name: "Jane")
        let newer = Activity(posts: [], plainText: "", orbit: [], signalDate: Fixtures.daysAgo(1))
        let older = Activity(posts: [], plainText: "", orbit: [], signalDate: Fixtures.daysAgo(30))
        profile = ProfileMerger.merge(PhasePayload(activity: newer), of: .activity, into: profile)
        XCTAssertEqual(profile.signalDate, Fixtures.daysAgo(1))
        profile = ProfileMerger.merge(PhasePayload(activity: older), of: .activity, into: profile)
        XCTAssertEqual(profile.signalDate, Fixtures.daysAgo(1))
        XCTAssertEqual(profile.activity, older, "the activity itself is replaced")
    }

    func testMergerKeepsOldDataWhenPlatformFails() {
        var profile = EnrichedProfile(leadID: "lead-1", name: "Jane", linkedin: Fixtures.linkedin())
        profile = ProfileMerger.merge(
            PhasePayload(profile: ProfilePhaseOutput(linkedinOutcome: .failed(reason: "503", isRetriable: true))), of: .profile, into: profile)
        XCTAssertNotNil(profile.linkedin)
        XCTAssertEqual(profile.linkedinOutcome, .failed(reason: "503", isRetriable: true))
        profile = ProfileMerger.merge(.empty, of: .finalize, into: profile)
        XCTAssertNotNil(profile.linkedin)
    }

    /// A run whose LinkedIn profile names another employer, or none, and brings no company record
    /// leaves no company: the record kept from an earlier run is a former employer's, which fit and
    /// account heat would go on reading (a person who left a competitor stayed zeroed as its
    /// employee). A run that could not fetch the company of the same employer keeps the record.
    func testACompanyRecordOfAFormerEmployerIsNotKept() {
        let before = Fixtures.profile(company: "Acme SaaS")
        func rerun(employer: String, id: String? = nil) -> EnrichedProfile {
            var linkedin = Fixtures.linkedin(company: employer)
            linkedin.companyLinkedInID = id
            return ProfileMerger.merge(PhasePayload(profile: ProfilePhaseOutput(linkedin: linkedin, linkedinOutcome: .succeeded)),
                                       of: .profile, into: before)
        }
        XCTAssertNil(rerun(employer: "").company, "no current employer")
        XCTAssertNil(rerun(employer: "Outreach").company, "another employer")
        XCTAssertEqual(rerun(employer: "Acme SaaS, Inc.").company, before.company, "the same employer, its record not fetched again")
        var withID = before
        withID.company?.linkedInID = "1234"
        let sameID = ProfileMerger.merge(
            PhasePayload(profile: ProfilePhaseOutput(linkedin: { var l = Fixtures.linkedin(company: "Acme"); l.companyLinkedInID = "1234"; return l }(),
                                                     linkedinOutcome: .succeeded)), of: .profile, into: withID)
        XCTAssertEqual(sameID.company, withID.company, "the same LinkedIn company id, whatever the name says")
        XCTAssertEqual(ProfileMerger.merge(PhasePayload(profile: ProfilePhaseOutput(linkedinOutcome: .failed(reason: "503", isRetriable: true))),
                                           of: .profile, into: before).company, before.company, "no profile fetched: kept")
    }

    func testOutreachWindow() {
        let window = OutreachWindow(timeZoneID: "America/New_York", weekdays: [1, 2, 3, 4, 5], startHour: 9, endHour: 17)
        XCTAssertTrue(window.contains(Fixtures.date("2025-06-16T14:00:00Z")))  // Monday 10:00 EDT
        XCTAssertFalse(window.contains(Fixtures.date("2025-06-16T12:00:00Z")))  // Monday 08:00 EDT
        XCTAssertFalse(window.contains(Fixtures.date("2025-06-15T15:00:00Z")))  // Sunday
    }

    func testAccountSignalsNeedTwoLeadsAndIgnoreGenericCompanies() {
        let offer = Fixtures.offer()
        var aggregator = AccountSignalAggregator(accountID: "acct-1", offer: offer)
        let asking = [Fixtures.post("Can anyone recommend a tool for manual prospecting? Tired of Outreach.", daysAgo: 2)]
        aggregator.add(leadID: "l1", profile: Fixtures.profile(company: "Acme SaaS Inc.", posts: asking))
        XCTAssertTrue(aggregator.signals(now: Fixtures.now).isEmpty, "one lead is not enough")
        aggregator.add(leadID: "l2", profile: Fixtures.profile(company: "acme saas", posts: asking))
        aggregator.add(leadID: "l3", profile: Fixtures.profile(company: "Self-employed", posts: asking))
        aggregator.add(leadID: "l4", profile: Fixtures.profile(company: "Freelance", posts: asking))
        let signals = aggregator.signals(previousHeat: ["name:acme saas": 10], now: Fixtures.now)
        XCTAssertEqual(signals.map(\.companyKey), ["name:acme saas"])
        let acme = signals[0]
        XCTAssertEqual(acme.leadCount, 2)
        XCTAssertEqual(acme.trend, .rising)
        XCTAssertGreaterThan(acme.heatScore, 40)
        XCTAssertFalse(acme.signals.isEmpty)

        // Re-adding a lead replaces it; moving it elsewhere drops the company below two leads.
        var profile = Fixtures.profile(company: "Globex", posts: asking)
        profile.company?.linkedInID = "1234"
        aggregator.add(leadID: "l2", profile: profile)
        XCTAssertTrue(aggregator.signals(now: Fixtures.now).isEmpty)
        XCTAssertEqual(aggregator.leadCount(companyKey: "li:1234"), 1)
    }

    func testPhraseMatchingIsWholeWordAndCaseInsensitiveInAnyScript() {
        XCTAssertEqual(SignalDetector.normalize("Outbound-Automation!  2x"), " outbound automation 2x ")
        XCTAssertEqual(SignalDetector.normalize("Café—Outbound"), " café outbound ")
        XCTAssertEqual(SignalDetector.normalize("..."), " ")
        XCTAssertTrue(SignalDetector.contains("Tired of OUTBOUND-automation.", phrase: "outbound automation"))
        XCTAssertFalse(SignalDetector.contains("We do prospecting", phrase: "pro"))
        XCTAssertFalse(SignalDetector.contains("reprospecting", phrase: "prospecting"))
        XCTAssertTrue(SignalDetector.contains("Suche ein Werkzeug für Café-Akquise", phrase: "café akquise"))
        XCTAssertFalse(SignalDetector.contains("anything", phrase: "-"), "a phrase without letters never matches")
    }

    func testABigCompanyListsItsStrongestSignalsOnlyAndIsComputedAlone() {
        var aggregator = AccountSignalAggregator(accountID: "acct-1", offer: Fixtures.offer())
        let asking = [Fixtures.post("Can anyone recommend a tool for manual prospecting? Tired of Outreach.", daysAgo: 2)]
        let old = [Fixtures.post("Can anyone recommend a tool for manual prospecting?", daysAgo: 200)]
        for i in 0..<60 {
            aggregator.add(leadID: LeadID("l\(i)"), profile: Fixtures.profile(company: "Acme", posts: i < 40 ? old : asking))
        }
        aggregator.add(leadID: "g1", profile: Fixtures.profile(company: "Globex", posts: asking))
        aggregator.add(leadID: "g2", profile: Fixtures.profile(company: "Globex", posts: asking))

        let acme = aggregator.signals(of: ["name:acme"], now: Fixtures.now)
        XCTAssertEqual(acme.map(\.companyKey), ["name:acme"], "only the company asked for")
        let listed = acme[0].signals
        XCTAssertEqual(listed.count, AccountSignalAggregator.maxListedSignals)
        XCTAssertEqual(listed.map(\.weight), listed.map(\.weight).sorted(by: >), "strongest first")
        XCTAssertTrue(listed.allSatisfy { Int($0.leadID.rawValue.dropFirst())! >= 40 }, "the recent signals outrank the old ones")
        XCTAssertEqual(acme[0].leadCount, 60)
        XCTAssertEqual(aggregator.signals(now: Fixtures.now).map(\.companyKey).sorted(), ["name:acme", "name:globex"])
    }

    /// Leads recorded one by one (some again, some moving company, a few with posts dated after
    /// now) give the figures of computing every company from all its signals each time.
    func testRunningCompanyFiguresEqualComputingFromEverySignal() {
        let offer = Fixtures.offer()
        let detector = SignalDetector(offer: offer)
        var aggregator = AccountSignalAggregator(accountID: "acct-1", offer: offer)
        var recorded: [LeadID: (company: String, signals: [SignalDetector.Signal])] = [:]
        var random = SeededRandom(seed: 11)
        let texts = ["Can anyone recommend a tool for manual prospecting?", "Tired of Outreach and low reply rates.",
                     "Our sequences need work", "We are hiring SDRs", "Switching from Salesloft soon", "Nothing to see"]
        let companies = ["Acme", "Globex", "Initech"]
        for step in 0..<300 {
            let leadID = LeadID("l\(random.next() % 120)")
            let company = companies[Int(random.next() % 3)]
            let posts = (0..<Int(random.next() % 3)).map { index in
                let days = random.next() % 25 == 0 ? -3.0 : Double(random.next() % 400)  // now and then a post from the future
                return Fixtures.post(texts[Int(random.next() % UInt64(texts.count))], daysAgo: days, id: "p\(index)")
            }
            let profile = Fixtures.profile(company: company, posts: posts)
            aggregator.add(leadID: leadID, profile: profile)
            recorded[leadID] = (AccountSignalAggregator.companyKey(for: profile)!, detector.signals(in: posts))
            guard step % 10 == 9 else { continue }
            let now = Fixtures.now.addingTimeInterval(Double(step) * 3_600)
            for signal in aggregator.signals(now: now) {
                let leads = recorded.filter { $0.value.company == signal.companyKey }
                var weighted: [(weight: Double, leadID: String, kind: String, detail: String)] = []
                for (lead, entry) in leads {
                    for found in entry.signals {
                        let days = max(0, now.timeIntervalSince(found.date) / 86_400)
                        weighted.append((AccountSignalAggregator.baseWeight(found) * pow(0.5, days / 30), lead.rawValue, found.kind.rawValue, found.detail))
                    }
                }
                weighted.sort { ($0.weight, $1.leadID, $1.kind, $1.detail) > ($1.weight, $0.leadID, $0.kind, $0.detail) }
                let raw = weighted.reduce(0) { $0 + $1.weight } * (1 + 0.25 * Double(leads.count - 1))
                XCTAssertEqual(signal.leadCount, leads.count)
                XCTAssertEqual(signal.heatScore, Int((100 * (1 - exp(-raw / 30))).rounded()), "step \(step), \(signal.companyKey)")
                XCTAssertEqual(signal.signals.map { "\($0.leadID) \($0.kind) \($0.detail)" },
                               weighted.prefix(AccountSignalAggregator.maxListedSignals).map { "\($0.leadID) \($0.kind) \($0.detail)" })
                for (listed, expected) in zip(signal.signals, weighted) {
                    XCTAssertEqual(listed.weight, expected.weight, accuracy: 1e-9 * max(1, expected.weight))
                }
            }
        }
    }

    func testHeatCategoriesAndTrend() {
        XCTAssertEqual(AccountSignalAggregator.category(heat: 70), .hot)
        XCTAssertEqual(AccountSignalAggregator.category(heat: 40), .warm)
        XCTAssertEqual(AccountSignalAggregator.category(heat: 39), .cool)
        XCTAssertEqual(AccountSignalAggregator.trend(heat: 50, previous: 60), .cooling)
        XCTAssertEqual(AccountSignalAggregator.trend(heat: 50, previous: 48), .stable)
        XCTAssertEqual(AccountSignalAggregator.trend(heat: 50, previous: nil), .stable)
    }

    func testModeCoding() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // without it, key order varies from run to run
        let encoded = try encoder.encode(Mode.reEnrich([.x, .linkedin]))
        XCTAssertEqual(String(decoding: encoded, as: UTF8.self), #"{"name":"re-enrich","types":["linkedin","x"]}"#)
        XCTAssertThrowsError(try JSONDecoder().decode(Mode.self, from: Data(#"{"name":"re-enrich"}"#.utf8)))
        XCTAssertEqual(try JSONDecoder().decode(Mode.self, from: Data(#"{"name":"scoring-only"}"#.utf8)), .scoringOnly)
    }
}

extension Fixtures {
    static func date(_ text: String) -> Date {
        ISO8601.parse(text) ?? .distantPast
    }
}
