import XCTest
final class LeadControlTestsPlaceholder: XCTestCase { func testNothingYet() {} }
