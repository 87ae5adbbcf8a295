import Foundation
import LeadModel
import LeadRules
import XCTest

/// Pins everything the rule scorer produces, for a broad fixed set of profiles and offers, to the
/// digests in `ScoringEvaluation/scorer-golden.tsv`, so a change meant to be only faster (or only
/// tidier) cannot move a score, a reason or a piece of evidence unnoticed.
///
/// Each line of the file is a case and the FNV-1a digest of its rendering (``render(_:offers:)``):
/// the score card against every offer (scores, reasons, evidence, state), the fit evidence, the
/// signals and competitor matches, and what the vocabulary reads in the titles. A change that is
/// meant to change the scorer's output regenerates the file on purpose:
///
///     SCORER_GOLDEN_UPDATE=1 swift test --skip-build --disable-swift-testing --filter ScorerGoldenTests
///
/// and the diff of the file shows which cases moved. `SCORER_GOLDEN_DUMP=<file>` writes every
/// case's bio and rendering, so a dump before the change and one after show how they moved.
final class ScorerGoldenTests: XCTestCase {
    static let fileURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("ScoringEvaluation").appendingPathComponent("scorer-golden.tsv")

    func testScorerOutputIsUnchanged() async throws {
        let cases = try await Self.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 600)
        let rendered = cases.map { ($0.id, Self.render($0.profile, offers: $0.offers)) }
        let lines = rendered.map { "\($0.0)\t\(String(StableHash.fnv1a($0.1), radix: 16))" }
        // SCORER_GOLDEN_DUMP=<file>: every case's bio and rendering, to diff before and after a change.
        if let dump = ProcessInfo.processInfo.environment["SCORER_GOLDEN_DUMP"] {
            let text = zip(cases, rendered).map { "== \($0.id) x bio: \($0.profile.x?.bio.debugDescription ?? "none")\n\($1.1)" }
            try text.joined(separator: "\n").write(toFile: dump, atomically: true, encoding: .utf8)
        }
        if ProcessInfo.processInfo.environment["SCORER_GOLDEN_UPDATE"] == "1" {
            try (lines.joined(separator: "\n") + "\n").write(to: Self.fileURL, atomically: true, encoding: .utf8)
            print("wrote \(lines.count) digests to \(Self.fileURL.path)")
            return
        }
        let golden = try String(contentsOf: Self.fileURL, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(golden.count, lines.count, "cases in the golden file")
        var mismatches = 0
        for (index, line) in lines.enumerated() where index >= golden.count || golden[index] != line {
            mismatches += 1
            if mismatches <= 3 {
                XCTFail("case \(rendered[index].0) differs from the golden digest; it renders now as:\n\(rendered[index].1)")
            }
        }
        XCTAssertEqual(mismatches, 0, "cases whose output changed")
    }

    // MARK: - Rendering

    /// One scorer for every case, so that its offers are read once and reused as in a stage.
    static let scorer = RuleBasedScorer()

    /// Everything the scorer and its parts produce for `profile`, as text.
    static func render(_ profile: EnrichedProfile, offers: [OfferConfig]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        let vocabulary = ScoringVocabulary.standard
        var text = "evidence \(FitEvidence(profile: profile))\n"
        let bio = profile.x?.bio ?? ""
        text += "bio \(String(describing: XBioRole.parse(bio)))\n"
        for title in [profile.linkedin?.jobTitle, profile.linkedin?.headline].compactMap({ $0 }) {
            text += "title \(describe(vocabulary.role(ofTitle: title))) \(String(describing: vocabulary.specialty(ofTitle: title)))\n"
        }
        for offer in offers {
            let card = scorer.score(profile: profile, offer: offer, source: .keywordSearch, now: Fixtures.now)
            let cardJSON = (try? encoder.encode(card)).map { String(decoding: $0, as: UTF8.self) } ?? "unencodable"
            let detector = SignalDetector(offer: offer)
            let signals = detector.signals(in: profile.activity?.posts ?? []) + detector.signals(in: profile.activity?.orbit ?? [])
            let employers = [profile.company?.name, profile.linkedin?.company, bio]
            text += "offer \(offer.offerID.rawValue)\ncard \(cardJSON)\nsignals \(signals)\n"
            text += "competitors \(employers.map { $0.flatMap(detector.competitor(matching:)) })\n"
            for icpTitle in offer.icp.titles {
                let read = vocabulary.extended(with: offer.vocabulary)
                text += "icp \(describe(read.role(ofTitle: icpTitle))) \(String(describing: read.specialty(ofTitle: icpTitle)))\n"
            }
        }
        return text
    }

    /// A role with its functions in order (a set's order differs from process to process).
    static func describe(_ role: ScoringVocabulary.Role?) -> String {
        guard let role else { return "no role" }
        return "role \(role.functions.sorted()) \(role.seniority?.rawValue ?? "-") \"\(role.words)\""
    }

    // MARK: - Cases

    struct Case {
        var id: String
        var profile: EnrichedProfile
        var offers: [OfferConfig]
    }

    /// The offers every made-up case is scored against: the fixtures' offer, one with the
    /// vocabulary extended, one constraining nothing, and the labelled set's.
    static func offers() throws -> [OfferConfig] {
        let security = OfferConfig(
            offerID: "offer-sec", accountID: "acct-1", name: "Cloud posture", productKeywords: ["cloud security posture management"],
            icp: IdealCustomerProfile(
                titles: ["security", "it", "Head of Information Security", "CISO"], seniorities: [.director, .vp, .cLevel],
                industries: ["software", "Computer & Network Security"], minimumEmployees: 200, maximumEmployees: nil,
                locations: ["United Kingdom", "Germany"], painPoints: ["alert fatigue", "audit prep"],
                competitors: ["Wiz", "Orca Security", "Lacework", "Hooli"], customIntentKeywords: ["SOC 2"]),
            signalLikelihood: .high, updatedAt: Fixtures.now,
            vocabulary: VocabularyExtension(
                abbreviations: ["secops": "security operations", "dir": "director"],
                functions: ["security": ["security operations", "threat"], "founders office": ["chief of staff"]],
                seniorities: ["director": ["principal"]], industries: ["software": ["industrial automation"]]))
        let open = OfferConfig(
            offerID: "offer-open", accountID: "acct-1", name: "Anything", icp: IdealCustomerProfile(
                titles: [], seniorities: [], industries: [], minimumEmployees: nil, maximumEmployees: nil, locations: [],
                painPoints: [], competitors: [], customIntentKeywords: []),
            signalLikelihood: .low, updatedAt: Fixtures.now)
        return [Fixtures.offer(), security, open] + (try LabelledSet.load().offers.map { $0.config(now: Fixtures.now) })
    }

    static func cases() async throws -> [Case] {
        let offers = try offers()
        let labelled = try LabelledSet.load()
        let labelledOffers = Dictionary(uniqueKeysWithValues: labelled.offers.map { ($0.id, $0.config(now: Fixtures.now)) })
        var cases = try await simulatedCases(count: 300, offers: offers)
        cases += madeUpBioCases(count: 300, offers: offers)
        cases += labelled.cases.map { labelledCase in
            Case(id: "labelled-\(labelledCase.id)", profile: labelledCase.profile(now: Fixtures.now),
                 offers: [labelledOffers[labelledCase.offer]].compactMap { $0 } + [Fixtures.offer()])
        }
        let posts = [
            Fixtures.post("Can anyone recommend a tool for manual prospecting? We are hiring too.", daysAgo: 3, id: "p1"),
            Fixtures.post("Fed up with Outreach. Building our own sales engagement platform in house.", daysAgo: 40, id: "p2"),
            Fixtures.post("We raised our Series B! Now live: sequences for everyone.", daysAgo: 100, id: "p3"),
            Fixtures.post("Old news about Salesloft", daysAgo: 200, id: "p4"),
        ]
        cases.append(Case(id: "fixtures-profile", profile: Fixtures.profile(posts: posts), offers: offers))
        cases.append(Case(id: "fixtures-competitor", profile: Fixtures.profile(company: "Outreach.io"), offers: offers))
        return cases
    }

    /// Leads of the simulated world, their LinkedIn, X and activity as the simulated providers give
    /// them; some without LinkedIn, X or activity.
    static func simulatedCases(count: Int, offers: [OfferConfig]) async throws -> [Case] {
        let clock: @Sendable () -> Date = { Fixtures.now }
        let linkedinProvider = SimulatedLinkedInProvider(settings: .instant, now: clock)
        let xProvider = SimulatedXProvider(settings: .instant, now: clock)
        let activityProvider = SimulatedActivityProvider(settings: .instant, now: clock)
        var cases: [Case] = []
        for index in 0..<count {
            let lead = LeadIdentity(leadID: LeadID("sim-\(index)"), name: "Person Number\(index)")
            var profile = EnrichedProfile(leadID: lead.leadID, name: lead.name)
            let hasLinkedIn = index % 5 != 0
            if hasLinkedIn {
                let enrichment = try await linkedinProvider.fetchProfile(handle: "handle-\(index)", lead: lead, attempt: 1)
                profile.linkedin = enrichment.profile
                profile.company = enrichment.company
            }
            if index % 7 != 0 {
                profile.x = try await xProvider.fetchProfile(username: "user\(index)", lead: lead, attempt: 1)
            }
            if index % 11 != 0 {
                let offer = offers[index % offers.count]
                let query = ActivityQuery(
                    leadID: lead.leadID, linkedinHandle: hasLinkedIn ? "handle-\(index)" : nil, xUsername: "user\(index)",
                    since: Fixtures.daysAgo(180), offerVocabulary: OfferVocabulary(offer: offer))
                let raw = try await activityProvider.fetchActivity(query, attempt: 1)
                profile.activity = ActivityBuilder.build(raw: raw, competitors: offer.icp.competitors, now: Fixtures.now)
            }
            cases.append(Case(id: "sim-\(index)", profile: profile, offers: offers))
        }
        return cases
    }

    /// Made-up profiles whose X bios, titles, employers and locations are written the many ways
    /// people write them: markers in any case, separators, abbreviations, punctuation, blank
    /// fields, non-ASCII letters and white space.
    static func madeUpBioCases(count: Int, offers: [OfferConfig]) -> [Case] {
        let titles = [
            "Head of Growth", "VP Sales", "Dir. of Sales", "Director, Information Security", "Co-founder", "Founder & CEO",
            "SDR Manager", "Chief Revenue Officer", "VP Sales & Marketing", "Sr. Account Executive", "Growth Marketer",
            "Software Engineer", "Demand Gen Lead", "Head of RevOps", "CMO", "Directrice Générale", "Jefe de Ventas",
            "Product Designer", "Partner", "dad", "CISO", "vp vp sales", "Head Of Security Operations", "Principal Threat Hunter",
            "Chief of Staff", "BDR", "Ｈｅａｄ of Sales", "Vice President, Sales", "  ", "",
        ]
        let markers = [" at ", " AT ", " @ ", " @", ", ", " of ", " At ", " chez ", " | ", ". ", "\n", " / ", " • ", " · "]
        let companies = [
            "Northwind", "Acme SaaS", "Outreach", "Salesloft", "Apollo.io", "Café Müller", "Initech (acquired)", "hooli!",
            "", "@acme", "Wiz", "Orca Security", "Hooli Cloud", "Self-employed", "Cafe\u{301} Mu\u{308}ller", "NORTHWIND ANALYTICS",
        ]
        let shapes = [
            "{t}{m}{c}", "{t}{m}{c} | dad", "ex-Google. {t}{m}{c}.", "Views my own • {t}{m}{c}", "{t}{m}{c}; tweets about SaaS",
            "{t}\n{c}", "  {t}{m}{c}  ", "{t}{m}{c}/ 🇺🇸", "\u{00A0}{t}{m}{c}\u{2003}", "{t}{m}{c}. Formerly {t2} at {c2}",
            "{t}{m}{c}\u{0085}", "\t{t}{m}{c}...", "{c2} alum. {t}{m}{c}", "{t}", "Writing about {t2}. Coffee.",
        ]
        let locations = [
            "Austin, TX", "London", "Berlin, Germany", "São Paulo", "  ", "", "United States", "NYC", "Paris, Île-de-France, France",
            "Toronto, ON, Canada", "Bay Area", "u.s.", "England", "Remote \u{2014} EU",
        ]
        let industries = ["Computer Software", "Computer & Network Security", "Retail", "", "  ", "Software Development", "Biotechnology"]
        let skills = ["Demand Generation", "Outbound Sales", "Salesforce", "Lead Generation", "SOC 2", "Growth", "Security", "manual prospecting"]
        var random = SeededRandom(seedText: "scorer-golden|bios")
        func pick(_ options: [String]) -> String { options[Int(random.next() % UInt64(options.count))] }
        var cases: [Case] = []
        for index in 0..<count {
            var bio = pick(shapes)
            for (key, options) in [("{t2}", titles), ("{c2}", companies), ("{t}", titles), ("{m}", markers), ("{c}", companies)] {
                bio = bio.replacingOccurrences(of: key, with: pick(options))
            }
            var profile = EnrichedProfile(leadID: LeadID("bio-\(index)"), name: "Bio \(index)")
            profile.x = XProfile(
                userID: "x-\(index)", name: "Bio \(index)", username: "bio\(index)", bio: bio, followersCount: 10,
                followingCount: 10, isVerified: false, profileImageURL: nil, canDM: false, isProtected: false,
                location: index % 3 == 0 ? nil : pick(locations), url: nil)
            if index % 2 == 0 {
                let title = pick(titles)
                let company = pick(companies)
                profile.linkedin = LinkedInProfile(
                    publicIdentifier: "bio\(index)", fullName: "Bio \(index)", headline: index % 4 == 0 ? "\(pick(titles)) @ \(company)" : "",
                    jobTitle: title, company: company, companyLinkedInID: nil, location: pick(locations),
                    experiences: [Experience(company: company, title: title, startDate: Fixtures.daysAgo(Double(random.next() % 500)))],
                    education: [], skills: (0..<Int(random.next() % 4)).map { _ in pick(skills) }, certifications: [],
                    languages: [], connections: 100, followers: 100)
                if index % 6 != 0 {
                    profile.company = Company(
                        name: index % 5 == 0 ? pick(companies) : company, employeeCount: Int(random.next() % 3_000),
                        industry: pick(industries))
                }
            }
            cases.append(Case(id: "bio-\(index)", profile: profile, offers: offers))
        }
        return cases
    }
}
