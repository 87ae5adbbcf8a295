import Foundation
import LeadModel
import LeadRules

// The hand-labelled scoring evaluation set (ScoringEvaluation/labelled-leads.json) and the pure
// pieces of its harness: decoding a case into a profile and an offer, agreement, the confusion
// matrix and the Markdown report.

/// The labelled set as stored: the offers the cases are judged against, then the cases.
struct LabelledSet: Decodable {
    /// What the file is and how it was labelled; not read by the harness.
    var about: String?
    var offers: [LabelledOffer]
    var cases: [LabelledCase]

    /// The file beside this source (read by path: it is not a resource of the test target).
    static let fileURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("ScoringEvaluation").appendingPathComponent("labelled-leads.json")

    /// Decodes the set at `url`.
    static func load(from url: URL = fileURL) throws -> LabelledSet {
        try JSONDecoder().decode(LabelledSet.self, from: Data(contentsOf: url))
    }
}

/// An offer of the set, in the shape of ``OfferConfig`` with the ICP flattened in.
struct LabelledOffer: Decodable {
    var id: String
    var name: String
    var productKeywords: [String]
    var titles: [String]
    var seniorities: [Seniority]
    var industries: [String]
    var minimumEmployees: Int?
    var maximumEmployees: Int?
    var locations: [String]
    var painPoints: [String]
    var competitors: [String]
    var customIntentKeywords: [String]
    var signalLikelihood: SignalLikelihood

    func config(now: Date) -> OfferConfig {
        OfferConfig(
            offerID: OfferID(id), accountID: "acct-eval", name: name, productKeywords: productKeywords,
            icp: IdealCustomerProfile(
                titles: titles, seniorities: seniorities, industries: industries, minimumEmployees: minimumEmployees,
                maximumEmployees: maximumEmployees, locations: locations, painPoints: painPoints,
                competitors: competitors, customIntentKeywords: customIntentKeywords),
            signalLikelihood: signalLikelihood, updatedAt: now)
    }
}

/// One hand-labelled lead: a compact profile, how it was found, and the state a sales user
/// should get, with the labeller's one-line reason.
struct LabelledCase: Decodable {
    struct LinkedIn: Decodable {
        /// Current job title; empty when the profile shows only a headline.
        var title: String?
        var headline: String?
        var company: String
        var location: String?
        /// When the current position started, in days before `now`; nil when not shown.
        var startedDaysAgo: Double?
        var skills: [String]?
    }

    struct X: Decodable {
        var bio: String
        var location: String?
        var url: String?
    }

    struct CompanyRecord: Decodable {
        /// Defaults to the LinkedIn company.
        var name: String?
        var industry: String?
        var employees: Int?
    }

    struct PostRecord: Decodable {
        var daysAgo: Double
        var text: String
        /// Defaults to X when the lead has no LinkedIn profile, else LinkedIn.
        var platform: Platform?
    }

    struct OrbitRecord: Decodable {
        var name: String
        var classification: OrbitClassification
        var interactions: Int
        var lastSeenDaysAgo: Double
    }

    var id: String
    var offer: String
    var source: LeadSource
    var linkedin: LinkedIn?
    var x: X?
    var company: CompanyRecord?
    var posts: [PostRecord]?
    var orbit: [OrbitRecord]?
    /// A state a person set (`manual` or `disqualified`); it stands whatever the scores.
    var override: BuyerState?
    var expected: BuyerState
    var reason: String

    /// The enriched profile the case describes, its dates counted back from `now`.
    func profile(now: Date) -> EnrichedProfile {
        func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }
        var profile = EnrichedProfile(leadID: LeadID(id), name: id)
        if let linkedin {
            let title = linkedin.title ?? ""
            profile.linkedinURL = "https://www.linkedin.com/in/\(id)"
            profile.linkedin = LinkedInProfile(
                publicIdentifier: id, fullName: id,
                headline: linkedin.headline ?? (title.isEmpty ? "" : "\(title) at \(linkedin.company)"),
                jobTitle: title, company: linkedin.company, companyLinkedInID: nil, location: linkedin.location ?? "",
                experiences: [Experience(company: linkedin.company, title: title, startDate: linkedin.startedDaysAgo.map(daysAgo))],
                education: [], skills: linkedin.skills ?? [], certifications: [], languages: [], connections: 300,
                followers: 300)
        }
        if let x {
            profile.xURL = "https://x.com/\(id)"
            profile.x = XProfile(
                userID: "x-\(id)", name: id, username: id, bio: x.bio, followersCount: 150, followingCount: 200,
                isVerified: false, profileImageURL: nil, canDM: false, isProtected: false, location: x.location, url: x.url)
        }
        if let company {
            profile.company = Company(
                name: company.name ?? linkedin?.company ?? "", employeeCount: company.employees, industry: company.industry)
        }
        let defaultPlatform: Platform = linkedin == nil ? .x : .linkedin
        let posts = (posts ?? []).enumerated().map { index, post in
            Post(
                id: "\(id)-p\(index)", platform: post.platform ?? defaultPlatform, date: daysAgo(post.daysAgo),
                text: post.text, likes: 2, replies: 1, reposts: 0, url: "https://example.com/\(id)/\(index)")
        }
        let orbit = (orbit ?? []).map { target in
            OrbitTarget(
                platform: .x, handle: target.name.lowercased(), name: target.name, classification: target.classification,
                interactionCount: target.interactions, firstSeen: daysAgo(target.lastSeenDaysAgo + 30),
                lastSeen: daysAgo(target.lastSeenDaysAgo))
        }
        if !posts.isEmpty || !orbit.isEmpty {
            profile.activity = Activity(posts: posts, plainText: "", orbit: orbit, signalDate: posts.map(\.date).max())
            profile.signalDate = profile.activity?.signalDate
        }
        return profile
    }
}

/// The state a lead ends in: a person's override stands whatever the scores (a stand-in until
/// the pipeline's own override function exists).
func buyerState(scored: BuyerState, override: BuyerState?) -> BuyerState {
    override ?? scored
}

/// One case's outcome against a scorer.
struct EvaluationOutcome {
    var id: String
    var expected: BuyerState
    var got: BuyerState
    /// The labeller's reason.
    var caseReason: String
    /// The card's state reason.
    var stateReason: String
    /// The card's fit reasons, rendered.
    var fitReasons: [String]
    /// The card's evidence (completeness and missing criteria), when the scorer gives one.
    var evidence: ScoreEvidence? = nil

    var agrees: Bool { expected == got }

    /// One line for a failure message.
    var line: String {
        let known = evidence.map { "; evidence \($0.completeness)%, missing \($0.missing.joined(separator: ", "))" } ?? ""
        return "\(id): expected \(expected.rawValue), got \(got.rawValue) (\(stateReason)); fit: \(fitReasons.joined(separator: "; "))\(known); label: \(caseReason)"
    }
}

/// Agreement of a scorer with the labels, overall and per expected state, and the confusion matrix.
struct AgreementSummary: Equatable {
    /// The states in the order rows and columns are shown.
    static let states: [BuyerState] = [.active, .monitor, .poorFit, .manual, .disqualified, .notScored]

    var total: Int
    var agreed: Int
    /// Per expected state: (agreed, cases).
    var perState: [BuyerState: Count]
    /// matrix[expected][got] = cases.
    var matrix: [BuyerState: [BuyerState: Int]]

    struct Count: Equatable {
        var agreed: Int
        var total: Int
    }

    /// Agreed share, 0-1 (1 for no cases).
    var overall: Double { total == 0 ? 1 : Double(agreed) / Double(total) }

    /// Summarises (expected, got) pairs.
    init(pairs: [(expected: BuyerState, got: BuyerState)]) {
        total = pairs.count
        agreed = pairs.filter { $0.expected == $0.got }.count
        perState = [:]
        matrix = [:]
        for pair in pairs {
            perState[pair.expected, default: Count(agreed: 0, total: 0)].total += 1
            if pair.expected == pair.got { perState[pair.expected]!.agreed += 1 }
            matrix[pair.expected, default: [:]][pair.got, default: 0] += 1
        }
    }

    /// `87.3%`.
    static func percent(_ agreed: Int, of total: Int) -> String {
        total == 0 ? "n/a" : String(format: "%.1f%%", 100 * Double(agreed) / Double(total))
    }
}

/// The Markdown report: date, scorer, agreement overall and per state, the confusion matrix
/// (rows expected, columns got) and every disagreement with a blank explanation column.
func scoringEvaluationReport(date: Date, scorer: String, summary: AgreementSummary, outcomes: [EvaluationOutcome]) -> String {
    func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
    let day = ISO8601DateFormatter().string(from: date)
    var lines = [
        "# Scoring evaluation: \(scorer)", "",
        "- Date: \(day)",
        "- Scorer: `\(scorer)`",
        "- Cases: \(summary.total)",
        "- Agreement: \(summary.agreed)/\(summary.total) (\(AgreementSummary.percent(summary.agreed, of: summary.total)))",
        "", "## Agreement per expected state", "",
        "| expected | agreed | cases | agreement |", "|---|---:|---:|---:|",
    ]
    for state in AgreementSummary.states {
        guard let count = summary.perState[state] else { continue }
        lines.append("| \(state.rawValue) | \(count.agreed) | \(count.total) | \(AgreementSummary.percent(count.agreed, of: count.total)) |")
    }
    let columns = AgreementSummary.states.filter { state in
        summary.matrix.values.contains { $0[state] != nil } || summary.perState[state] != nil
    }
    lines += [
        "", "## Confusion matrix (rows expected, columns got)", "",
        "| expected \\ got | " + columns.map(\.rawValue).joined(separator: " | ") + " |",
        "|---|" + columns.map { _ in "---:" }.joined(separator: "|") + "|",
    ]
    for expected in columns where summary.perState[expected] != nil {
        let row = columns.map { String(summary.matrix[expected]?[$0] ?? 0) }
        lines.append("| \(expected.rawValue) | " + row.joined(separator: " | ") + " |")
    }
    let disagreements = outcomes.filter { !$0.agrees }
    lines += ["", "## Disagreements (\(disagreements.count))", ""]
    if disagreements.isEmpty {
        lines.append("None.")
    } else {
        lines += [
            "| case | expected | got | label's reason | scorer's state reason | explanation |",
            "|---|---|---|---|---|---|",
        ]
        for outcome in disagreements {
            lines.append(
                "| \(cell(outcome.id)) | \(outcome.expected.rawValue) | \(outcome.got.rawValue) | \(cell(outcome.caseReason)) | \(cell(outcome.stateReason)) |  |")
        }
    }
    return lines.joined(separator: "\n") + "\n"
}
