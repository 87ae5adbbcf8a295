@testable import Enrichment
import LeadModel
import LeadRules
import Foundation
import XCTest

/// The profile finder's kept answers: per lead and question, bounded to two halves.
final class AnsweredSearchesTests: XCTestCase {
    func question(_ name: String, confidence: Double = 0.8, run: RunID = "run-1") -> AnsweredSearches.Question {
        .init(query: ProfileQuery(name: name, company: nil, platform: .x, knownURL: "https://www.linkedin.com/in/\(name)"),
              minimumConfidence: confidence, run: .id(run))
    }

    /// A superseded run's entry written late comes between two entries of the current run (the
    /// coordinator writes the current one over it): each run keeps its answer, so neither is
    /// searched twice. With one answer per lead, the late one's replaced the current run's, and
    /// the current run was searched again.
    func testALeadKeepsTheAnswersOfItsLastTwoRuns() {
        let answers = AnsweredSearches(halfCapacity: 10)
        answers.keep(.belowThreshold(best: 0.5), for: "a", to: question("a", run: "run-2"))
        answers.keep(.belowThreshold(best: 0.4), for: "a", to: question("a", run: "run-1"))  // the superseded run's, late
        XCTAssertEqual(answers.answer(for: "a", to: question("a", run: "run-2")), .belowThreshold(best: 0.5))
        XCTAssertEqual(answers.answer(for: "a", to: question("a", run: "run-1")), .belowThreshold(best: 0.4))
        answers.keep(.belowThreshold(best: 0.3), for: "a", to: question("a", run: "run-3"))
        XCTAssertNil(answers.answer(for: "a", to: question("a", run: "run-2")), "two runs a lead at most")
        XCTAssertNotNil(answers.answer(for: "a", to: question("a", run: "run-1")), "the latest two kept")
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
