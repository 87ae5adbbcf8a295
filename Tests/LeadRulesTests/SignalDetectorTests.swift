import Foundation
import LeadModel
import LeadRules
import XCTest

/// What the signal detector reads in a post's words: negations, sentences and clauses, an
/// in-house build, a post and its copy.
final class SignalDetectorTests: XCTestCase {
    let scorer = RuleBasedScorer()
    let detector = SignalDetector(offer: Fixtures.offer())

    private func kinds(_ text: String) -> [BuyingSignal.Kind] { detector.signals(in: [Fixtures.post(text, daysAgo: 1)]).map(\.kind) }

    private func card(_ text: String) -> ScoreCard {
        scorer.score(profile: Fixtures.profile(posts: [Fixtures.post(text, daysAgo: 2)]), offer: Fixtures.offer(), source: .csvImport,
                     now: Fixtures.now)
    }

    /// Not building it in house is no in-house build.
    func testANegatedInHouseBuildIsNoBuild() {
        let text = "We chose not to build in-house tooling for manual prospecting."
        XCTAssertFalse(kinds(text).contains(.inHouseBuild), "\(kinds(text))")
        XCTAssertNotEqual(card(text).buyerState, .poorFit, card(text).stateReason)
        XCTAssertEqual(card("We chose to build in-house tooling for manual prospecting.").buyerState, .poorFit)
    }
}
