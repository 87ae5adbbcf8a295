import Foundation
import LeadModel
import LeadRules
import XCTest

/// Runs the scorer over the hand-labelled set (ScoringEvaluation/labelled-leads.json) and
/// compares its buyer states with the labels. Set `SCORING_REPORT` to a path to get a Markdown
/// report of the run there.
final class ScoringEvaluationTests: XCTestCase {
    /// Agreement the scorer must reach, overall.
    static let requiredAgreement = 0.90

    /// The keys a case may have, and those of its nested records (see ``LabelledCase``).
    static let caseKeys: Set<String> = [
        "id", "offer", "source", "linkedin", "x", "company", "posts", "orbit", "override", "expected", "reason",
    ]
    static let nestedKeys: [String: Set<String>] = [
        "linkedin": ["title", "headline", "company", "location", "startedDaysAgo", "skills"],
        "x": ["bio", "location", "url"],
        "company": ["name", "industry", "employees"],
        "posts": ["daysAgo", "text", "platform"],
        "orbit": ["name", "classification", "interactions", "lastSeenDaysAgo"],
    ]

    func testLabelledSetIsWellFormed() throws {
        let set = try LabelledSet.load()
        let offerIDs = Set(set.offers.map(\.id))
        XCTAssertGreaterThanOrEqual(set.cases.count, 110)
        XCTAssertEqual(Set(set.cases.map(\.id)).count, set.cases.count, "case ids are unique")
        for labelled in set.cases {
            XCTAssertTrue(offerIDs.contains(labelled.offer), "\(labelled.id): unknown offer \(labelled.offer)")
            XCTAssertFalse(labelled.reason.isEmpty, "\(labelled.id): no reason")
            XCTAssertNotEqual(labelled.expected, .notScored, "\(labelled.id)")
            if let override = labelled.override {
                XCTAssertEqual(labelled.expected, override, "\(labelled.id): an override is the expected state")
            }
        }
        // Decoding ignores unknown keys, so a misspelt field would silently drop evidence.
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: LabelledSet.fileURL)) as? [String: Any]
        for case let record as [String: Any] in raw?["cases"] as? [Any] ?? [] {
            let id = record["id"] as? String ?? "?"
            XCTAssertEqual(Set(record.keys).subtracting(Self.caseKeys), [], "\(id): unknown keys")
            for (field, allowed) in Self.nestedKeys {
                let values = (record[field] as? [Any]) ?? (record[field].map { [$0] } ?? [])
                for case let value as [String: Any] in values {
                    XCTAssertEqual(Set(value.keys).subtracting(allowed), [], "\(id).\(field): unknown keys")
                }
            }
        }
        let counts = Dictionary(grouping: set.cases, by: \.expected).mapValues(\.count)
        for state in [BuyerState.active, .monitor, .poorFit] {
            XCTAssertGreaterThanOrEqual(counts[state] ?? 0, 10, "cases expecting \(state.rawValue)")
        }
    }

    func testRuleBasedScorerAgreesWithTheLabels() throws {
        let set = try LabelledSet.load()
        let now = Fixtures.now
        let scorer = RuleBasedScorer()
        let offers = Dictionary(uniqueKeysWithValues: set.offers.map { ($0.id, $0.config(now: now)) })
        let outcomes = try set.cases.map { labelled in
            let offer = try XCTUnwrap(offers[labelled.offer], labelled.id)
            let card = scorer.score(profile: labelled.profile(now: now), offer: offer, source: labelled.source, now: now)
            return EvaluationOutcome(
                id: labelled.id, expected: labelled.expected,
                got: buyerState(scored: card.buyerState, override: labelled.override), caseReason: labelled.reason,
                stateReason: card.stateReason, fitReasons: card.fitReasons.map(\.description), evidence: card.evidence)
        }
        let summary = AgreementSummary(pairs: outcomes.map { ($0.expected, $0.got) })

        if let path = ProcessInfo.processInfo.environment["SCORING_REPORT"], !path.isEmpty {
            let report = scoringEvaluationReport(date: Date(), scorer: scorer.name, summary: summary, outcomes: outcomes)
            try report.write(toFile: path, atomically: true, encoding: .utf8)
        }

        let perState = AgreementSummary.states.compactMap { state in
            summary.perState[state].map { "\(state.rawValue) \($0.agreed)/\($0.total)" }
        }
        let disagreements = outcomes.filter { !$0.agrees }.map(\.line)
        XCTAssertGreaterThanOrEqual(
            summary.overall, Self.requiredAgreement,
            """
            \(scorer.name) agrees on \(summary.agreed)/\(summary.total) \
            (\(AgreementSummary.percent(summary.agreed, of: summary.total))); per state: \(perState.joined(separator: ", "))
            \(disagreements.joined(separator: "\n"))
            """)
    }

    // MARK: - The pure pieces

    func testOverrideStateStandsWhateverTheScores() {
        XCTAssertEqual(buyerState(scored: .active, override: .disqualified), .disqualified)
        XCTAssertEqual(buyerState(scored: .poorFit, override: .manual), .manual)
        XCTAssertEqual(buyerState(scored: .monitor, override: nil), .monitor)
    }

    func testAgreementAndConfusionMatrix() {
        let summary = AgreementSummary(pairs: [
            (.active, .active), (.active, .monitor), (.monitor, .monitor), (.poorFit, .monitor), (.poorFit, .poorFit),
        ])
        XCTAssertEqual(summary.total, 5)
        XCTAssertEqual(summary.agreed, 3)
        XCTAssertEqual(summary.overall, 0.6, accuracy: 1e-9)
        XCTAssertEqual(summary.perState[.active], AgreementSummary.Count(agreed: 1, total: 2))
        XCTAssertEqual(summary.perState[.poorFit], AgreementSummary.Count(agreed: 1, total: 2))
        XCTAssertEqual(summary.matrix[.poorFit]?[.monitor], 1)
        XCTAssertEqual(summary.matrix[.active]?[.monitor], 1)
        XCTAssertNil(summary.matrix[.monitor]?[.active])
        XCTAssertEqual(AgreementSummary(pairs: []).overall, 1)
        XCTAssertEqual(AgreementSummary.percent(2, of: 3), "66.7%")
    }

    func testMarkdownReportShowsAgreementMatrixAndDisagreements() {
        let outcomes = [
            EvaluationOutcome(id: "a-1", expected: .active, got: .active, caseReason: "fits", stateReason: "intent", fitReasons: []),
            EvaluationOutcome(
                id: "m-1", expected: .monitor, got: .poorFit, caseReason: "not enough data", stateReason: "fit 0 < 30",
                fitReasons: []),
            EvaluationOutcome(
                id: "p|1", expected: .poorFit, got: .monitor, caseReason: "x | y", stateReason: "composite", fitReasons: []),
        ]
        let summary = AgreementSummary(pairs: outcomes.map { ($0.expected, $0.got) })
        let report = scoringEvaluationReport(
            date: Fixtures.now, scorer: "rules-test", summary: summary, outcomes: outcomes)
        XCTAssertTrue(report.contains("# Scoring evaluation: rules-test"), report)
        XCTAssertTrue(report.contains("2025-06-15T15:06:40Z"), report)
        XCTAssertTrue(report.contains("- Agreement: 1/3 (33.3%)"), report)
        XCTAssertTrue(report.contains("| active | 1 | 1 | 100.0% |"), report)
        XCTAssertTrue(report.contains("| expected \\ got | active | monitor | poor-fit |"), report)
        XCTAssertTrue(report.contains("| monitor | 0 | 0 | 1 |"), report)
        XCTAssertTrue(report.contains("| m-1 | monitor | poor-fit | not enough data | fit 0 < 30 |  |"), report)
        XCTAssertTrue(report.contains("| p\\|1 | poor-fit | monitor | x \\| y | composite |  |"), report)
        XCTAssertFalse(report.contains("| a-1 |"), report)
        XCTAssertTrue(report.contains("explanation"), report)
    }

    func testDisagreementLineNamesStatesReasonsAndMissingEvidence() {
        var outcome = EvaluationOutcome(
            id: "m-1", expected: .monitor, got: .poorFit, caseReason: "not enough data", stateReason: "fit 0 < 30",
            fitReasons: ["+10 located in United States"])
        XCTAssertEqual(
            outcome.line,
            "m-1: expected monitor, got poor-fit (fit 0 < 30); fit: +10 located in United States; label: not enough data")
        outcome.evidence = ScoreEvidence(completeness: 25, missing: ["title", "industry", "company size"], sources: ["x"])
        XCTAssertTrue(outcome.line.contains("; evidence 25%, missing title, industry, company size; label:"), outcome.line)
    }

    func testCaseBecomesProfileWithDatesFromDaysAgo() throws {
        let json = """
            {"id": "c-1", "offer": "o", "source": "csv-import",
             "linkedin": {"title": "VP Growth", "company": "Northwind", "location": "Austin, United States", "startedDaysAgo": 10},
             "x": {"bio": "growth @ northwind", "location": "Austin"},
             "company": {"industry": "SaaS", "employees": 120},
             "posts": [{"daysAgo": 3, "text": "hello"}],
             "expected": "monitor", "reason": "r"}
            """
        let labelled = try JSONDecoder().decode(LabelledCase.self, from: Data(json.utf8))
        let profile = labelled.profile(now: Fixtures.now)
        XCTAssertEqual(profile.linkedin?.jobTitle, "VP Growth")
        XCTAssertEqual(profile.linkedin?.headline, "VP Growth at Northwind")
        XCTAssertEqual(profile.linkedin?.currentExperience?.startDate, Fixtures.daysAgo(10))
        XCTAssertEqual(profile.x?.location, "Austin")
        XCTAssertEqual(profile.company, Company(name: "Northwind", employeeCount: 120, industry: "SaaS"))
        XCTAssertEqual(profile.activity?.posts.first?.date, Fixtures.daysAgo(3))
        XCTAssertEqual(profile.activity?.posts.first?.platform, .linkedin)
        XCTAssertNil(labelled.override)
    }
}
