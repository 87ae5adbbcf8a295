import Foundation
import KafkaTestSupport
import LeadControl
import LeadModel
import XCTest

/// `account put` and `offer put` read their file as the services would read the record.
final class ConfigurationFileTests: XCTestCase {
    /// `<kind> put` (`account`, `offer`) of docs/samples/<kind>.json changed by `edit` (which must
    /// change it), with no broker to reach: the status and what went to standard error.
    private func putSample(_ kind: String, edited edit: (String) -> String) async throws -> (status: Int32, error: String) {
        let sample = try String(contentsOf: TestBroker.projectRoot.appendingPathComponent("docs/samples/\(kind).json"), encoding: .utf8)
        let edited = edit(sample)
        XCTAssertNotEqual(edited, sample)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(kind)-\(UUID().uuidString).json")
        try edited.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let captured = CapturedConsole()
        let status = await LeadControl.main(arguments: [kind, "put", "--file", file.path],
                                            environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:\(TestBroker.freeLoopbackPort())"],
                                            console: captured.console)
        return (status, captured.error)
    }

    /// What `<kind> put` of the sample with `old` replaced by `new` said on standard error,
    /// having refused it (exit status 1).
    private func refusal(ofSample kind: String, replacing old: String, with new: String,
                         file: StaticString = #filePath, line: UInt = #line) async throws -> String {
        let (status, error) = try await putSample(kind) { $0.replacingOccurrences(of: old, with: new) }
        XCTAssertEqual(status, LeadControl.failure, error, file: file, line: line)
        return error
    }

    /// A key given twice is refused, before any broker is asked: Foundation's parser kept the
    /// last, so a file whose first `billingState` read `active` paused the account.
    func testAConfigurationWithAKeyTwiceIsRefused() async throws {
        let (status, error) = try await putSample("account") {
            $0.replacingOccurrences(of: "{", with: #"{"billingState": "paused", "#, options: [], range: $0.range(of: "{"))
        }
        XCTAssertEqual(status, LeadControl.failure)
        XCTAssertTrue(error.contains("duplicate key \"billingState\""), error)
    }

    /// A value that is not one of its field's names is refused naming the field, the value and
    /// the names allowed, at any depth: the error said "Cannot initialize BillingState from invalid
    /// String value Paused", in Swift's words, and not which values there are.
    func testAValueNotAmongItsFieldsNamesIsRefusedWithTheNamesAllowed() async throws {
        let billingError = try await refusal(ofSample: "account", replacing: "\"billingState\" : \"active\"",
                                             with: "\"billingState\" : \"Paused\"")
        XCTAssertTrue(billingError.contains("field \"billingState\": \"Paused\" is not one of: active, paused"), billingError)
        let seniorityError = try await refusal(ofSample: "offer", replacing: "\"director\"", with: "\"boss\"")
        XCTAssertTrue(seniorityError.contains("field \"icp.seniorities[1]\": \"boss\" is not one of: "
            + Seniority.allCases.map(\.rawValue).joined(separator: ", ")), seniorityError)
        XCTAssertFalse(seniorityError.contains("Cannot initialize"), seniorityError)
    }

    /// A number outside the range the pipeline reads it in is refused, naming the field, the
    /// value and the range: a minimum fit of 150 was published, and autopilot then enrolled no
    /// lead (scores run 0 to 100); a minimum head count of -5 counted as a size constraint.
    func testAConfigurationNumberOutOfItsRangeIsRefusedNamed() async throws {
        let fitError = try await refusal(ofSample: "account", replacing: "\"minimumFit\" : 60", with: "\"minimumFit\" : 150")
        XCTAssertTrue(fitError.contains("\"autopilot.minimumFit\" is 150; it must be 0 to 100"), fitError)
        let sizeError = try await refusal(ofSample: "offer", replacing: "\"minimumEmployees\" : 20", with: "\"minimumEmployees\" : -5")
        XCTAssertTrue(sizeError.contains("\"icp.minimumEmployees\" is -5; it must be 0 or more"), sizeError)
    }

    /// The ranges `account put` and `offer put` hold numbers to are those docs/schemas gives, each
    /// of them: a value just outside is refused, naming the field (with its index in an array),
    /// the value and the range, and the bounds themselves pass.
    func testTheRangesConfigurationNumbersAreHeldToAreTheSchemas() throws {
        var account = SampleConfigurations.account(updatedAt: Samples.now)
        account.profileFinder = ProfileFinderRule(isEnabled: true, minimumConfidence: 0.8)  // every ranged field present
        try checkRanges(of: account)
        try checkRanges(of: SampleConfigurations.offer(updatedAt: Samples.now))
    }

    private func checkRanges<T: Message>(of sample: T) throws {
        let schema = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: TestBroker.projectRoot
            .appendingPathComponent("docs/schemas/\(T.schemaName).v\(T.schemaVersion).schema.json"))) as? [String: Any])
        let ranges = ConfigurationRanges.ranges(of: T.self)
        XCTAssertEqual(Set(ranges.map { "\($0.path) \($0.minimum)...\($0.maximum.map { "\($0)" } ?? "")" }),
                       Set(Self.schemaRanges(schema, in: schema).map { "\($0.path) \($0.minimum)...\($0.maximum.map { "\($0)" } ?? "")" }),
                       T.schemaName)
        let fields = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(MessageCodec().encode(sample))) as? [String: Any])
        for range in ranges {
            let place = range.path.replacingOccurrences(of: "[]", with: "[0]")
            func problem(_ value: Double) throws -> String? {
                let number: Any = value == value.rounded() ? Int(value) : value
                let edited = try XCTUnwrap(Self.setting(number, at: range.path.split(separator: ".")[...], in: fields), "\(range.path) in the sample")
                return ConfigurationRanges.problem(in: Array(try JSONSerialization.data(withJSONObject: edited)), of: T.self)
            }
            let below = try XCTUnwrap(try problem(range.minimum - 1), place)
            XCTAssertTrue(below.hasPrefix("\"\(place)\" is \(Int(range.minimum - 1)); it must be \(Int(range.minimum))"), below)
            XCTAssertNil(try problem(range.minimum), place)
            if let maximum = range.maximum {
                let above = try XCTUnwrap(try problem(maximum + 1), place)
                XCTAssertTrue(above.hasPrefix("\"\(place)\" is \(Int(maximum + 1)); it must be \(Int(range.minimum)) to \(Int(maximum)): "), above)
                XCTAssertNil(try problem(maximum), place)
            }
        }
    }

    /// Each number with a `minimum` or `maximum` in `node` of `schema`, by path (`a.b`, `a.list[]`).
    private static func schemaRanges(_ node: [String: Any], in schema: [String: Any], path: String = "")
        -> [(path: String, minimum: Double, maximum: Double?)] {
        var found: [(path: String, minimum: Double, maximum: Double?)] = []
        if let minimum = node["minimum"] as? Double { found.append((path, minimum, node["maximum"] as? Double)) }
        if let reference = node["$ref"] as? String, let name = reference.split(separator: "/").last,
           let definition = (schema["$defs"] as? [String: Any])?[String(name)] as? [String: Any] {
            found += schemaRanges(definition, in: schema, path: path)
        }
        for branch in (node["anyOf"] as? [[String: Any]] ?? []) + (node["oneOf"] as? [[String: Any]] ?? []) {
            found += schemaRanges(branch, in: schema, path: path)
        }
        if let items = node["items"] as? [String: Any] { found += schemaRanges(items, in: schema, path: path + "[]") }
        for (name, property) in node["properties"] as? [String: Any] ?? [:] {
            guard let property = property as? [String: Any] else { continue }
            found += schemaRanges(property, in: schema, path: path.isEmpty ? name : "\(path).\(name)")
        }
        return found
    }

    /// `object` with `value` at `path` (`[]`: the first element of an array); nil when the path is not in it.
    private static func setting(_ value: Any, at path: ArraySlice<Substring>, in object: [String: Any]) -> [String: Any]? {
        guard let first = path.first else { return nil }
        var object = object
        let name = String(first.hasSuffix("[]") ? first.dropLast(2) : first)
        if first.hasSuffix("[]") {
            guard var elements = object[name] as? [Any], !elements.isEmpty, path.count == 1 else { return nil }
            elements[0] = value
            object[name] = elements
        } else if path.count == 1 {
            guard object[name] != nil else { return nil }
            object[name] = value
        } else {
            guard let inner = object[name] as? [String: Any], let set = setting(value, at: path.dropFirst(), in: inner) else { return nil }
            object[name] = set
        }
        return object
    }

    /// A required field spelt in other letters is named as the likely misspelling: "missing field
    /// billingState" alone, for a file that has "billingstate", sent the operator looking.
    func testARequiredFieldInOtherLettersIsNamed() async throws {
        let error = try await refusal(ofSample: "account", replacing: "\"billingState\"", with: "\"billingstate\"")
        XCTAssertTrue(error.contains("did you mean \"billingState\""), error)
    }
}
