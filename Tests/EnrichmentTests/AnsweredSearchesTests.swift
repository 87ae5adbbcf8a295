@testable import Enrichment
import LeadModel
import LeadRules
import Foundation
import XCTest

/// The profile finder's kept answers: per lead and question, bounded to two halves.
final class AnsweredSearchesTests: XCTestCase {
    func question(_ name: String, confidence: Double = 0.8) -> AnsweredSearches.Question {
        .init(query: ProfileQuery(name: name, company: nil, platform: .x, knownURL: "https://www.linkedin.com/in/\(name)"),
              minimumConfidence: confidence, run: .id("run-1"))
    }

    func testAnAnswerIsKeptForItsQuestionUntilTwoHalvesCameAfterIt() {
        let answers = AnsweredSearches(halfCapacity: 2)
        answers.keep(.belowThreshold(best: 0.5), for: "a", to: question("a"))
        XCTAssertEqual(answers.answer(for: "a", to: question("a")), .belowThreshold(best: 0.5))
        XCTAssertNil(answers.answer(for: "a", to: question("a", confidence: 0.7)), "another threshold")
        XCTAssertNil(answers.answer(for: "a", to: question("b")), "another query")
        XCTAssertNil(answers.answer(for: "b", to: question("a")), "another lead")
        answers.keep(.belowThreshold(best: nil), for: "b", to: question("b"))
        answers.keep(.belowThreshold(best: nil), for: "c", to: question("c"))
        XCTAssertNotNil(answers.answer(for: "a", to: question("a")), "in the older half")
        answers.keep(.belowThreshold(best: nil), for: "d", to: question("d"))
        XCTAssertNil(answers.answer(for: "a", to: question("a")), "forgotten")
        XCTAssertNotNil(answers.answer(for: "c", to: question("c")))
    }
}
