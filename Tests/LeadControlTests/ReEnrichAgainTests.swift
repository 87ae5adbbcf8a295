@testable import LeadControl
import LeadModel
import XCTest

/// What `leadctl reenrich` prints when its send fails and whether the request was stored is not
/// known: the command that sends it again safely (its help tells the operator to reuse the id).
final class ReEnrichAgainTests: XCTestCase {
    /// The same request id, to the same broker and namespace (without them a retry run from
    /// another shell went to another namespace, a new request there), each word quoted as a
    /// shell needs it.
    func testTheRetryCommandNamesTheRequestAndWhereItWent() {
        XCTAssertEqual(
            LeadControl.reEnrichAgain("lead-1", types: [.x, .activity], requestedBy: "Jane O'Neil", requestID: "req-7",
                                      bootstrap: "kafka-0:9092,kafka-1:9092", namespace: "staging"),
            "leadctl reenrich lead-1 --types x,activity --requested-by 'Jane O'\\''Neil' --request-id req-7 "
                + "--bootstrap kafka-0:9092,kafka-1:9092 --namespace staging")
        XCTAssertEqual(
            LeadControl.reEnrichAgain("lead 2", types: [.linkedin], requestedBy: nil, requestID: "r", bootstrap: "b:1", namespace: nil),
            "leadctl reenrich 'lead 2' --types linkedin --request-id r --bootstrap b:1")
        XCTAssertEqual(LeadControl.shellWord(""), "''")
    }
}
