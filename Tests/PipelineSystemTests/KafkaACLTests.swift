import Foundation
import KafkaTestSupport
import LeadModel
import XCTest

/// Deploy/kafka/acls.txt, the trust model's Kafka ACLs (docs/trust.md), against the topics and
/// groups in the code: every topic has a writer and a reader, no rule names what does not
/// exist, lead discovery writes only the input topics, and only the pipeline writes the lead
/// state, the lead pool and billing usage. No broker.
final class KafkaACLTests: XCTestCase {
    struct Rule: Hashable {
        var principal: String
        var operation: String
        var resource: String
        var name: String
        var line: Int
    }

    static let deploy = TestBroker.projectRoot.appendingPathComponent("Deploy/kafka")
    /// The coordinator and the stages: the only writers of state, pool and billing usage.
    static let pipelinePrincipals: Set = ["pipeline-coordinator", "profile-stage", "activity-stage", "scoring-stage", "finalize-stage"]
    static let principals = pipelinePrincipals.union(["lead-discovery", "profile-finder", "web-enricher", "billing", "operators", "downstream",
                                                      "keda"])
    /// What upstream publishes: leads (standard and priority) and search totals.
    static let inputTopics: Set = [Topics.leadsDiscovered, Topics.leadsDiscoveredPriority, Topics.searchTotals]
    static let operations: Set = ["Read", "Write", "Describe", "Create", "DescribeConfigs", "AlterConfigs", "IdempotentWrite"]

    /// One rule per name of each line of acls.txt.
    static func rules() throws -> [Rule] {
        let text = try String(contentsOf: deploy.appendingPathComponent("acls.txt"), encoding: .utf8)
        var rules: [Rule] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.prefix { $0 != "#" }.split(whereSeparator: \.isWhitespace).map(String.init)
            guard !words.isEmpty else { continue }
            guard words.count >= 4 else { throw HarnessError("acls.txt:\(index + 1): fewer than four fields") }
            rules += words.dropFirst(3).map { Rule(principal: words[0], operation: words[1], resource: words[2], name: $0, line: index + 1) }
        }
        return rules
    }

    func testEveryRuleNamesAKnownPrincipalOperationAndResource() throws {
        let groups = Set(Topics().consumerGroups.map(\.id))
        for rule in try Self.rules() {
            let place = "acls.txt:\(rule.line) \(rule.name)"
            XCTAssertTrue(Self.principals.contains(rule.principal), "\(place): unknown principal \(rule.principal)")
            XCTAssertTrue(Self.operations.contains(rule.operation), "\(place): unexpected operation \(rule.operation)")
            switch rule.resource {
            case "topic": XCTAssertTrue(Topics.allNames.contains(rule.name), "\(place): no such topic in Topics.swift")
            case "group": XCTAssertTrue(groups.contains(rule.name), "\(place): no such group in Topics.swift")
            case "group-prefix": XCTAssertEqual(rule.operation, "Read", place)
            case "reader-groups": XCTAssertEqual(rule.name, "reader-", place)
            case "cluster":
                XCTAssertEqual(rule.name, "kafka-cluster", place)
                XCTAssertEqual(rule.operation, "IdempotentWrite", "\(place): no other cluster right is granted")
            default: XCTFail("\(place): unknown resource \(rule.resource)")
            }
        }
    }

    func testEveryTopicHasAWriterAndAReader() throws {
        let rules = try Self.rules().filter { $0.resource == "topic" }
        for topic in Topics.allNames {
            XCTAssertTrue(rules.contains { $0.name == topic && $0.operation == "Write" }, "nobody may write \(topic)")
            XCTAssertTrue(rules.contains { $0.name == topic && $0.operation == "Read" }, "nobody may read \(topic)")
        }
    }

    func testLeadDiscoveryWritesOnlyTheInputTopics() throws {
        let written = Set(try Self.rules().filter { $0.principal == "lead-discovery" && $0.operation == "Write" }.map(\.name))
        XCTAssertEqual(written, Self.inputTopics)
        let other = try Self.rules().filter { $0.principal == "lead-discovery" && !["Write", "Read", "IdempotentWrite"].contains($0.operation) }
        XCTAssertEqual(other, [], "lead discovery has no other rights")
    }

    func testOnlyThePipelineWritesStatePoolAndBillingUsage() throws {
        for topic in [Topics.leadState, Topics.leadPool, Topics.billingUsage] {
            let writers = Set(try Self.rules().filter { $0.resource == "topic" && $0.name == topic && $0.operation == "Write" }.map(\.principal))
            XCTAssertFalse(writers.isEmpty, topic)
            XCTAssertTrue(writers.isSubset(of: Self.pipelinePrincipals), "\(topic) is written by \(writers.subtracting(Self.pipelinePrincipals))")
        }
    }

    func testEveryConsumerGroupOfTheCodeIsReadByItsService() throws {
        let rules = try Self.rules().filter { $0.resource == "group" && $0.operation == "Read" }
        // Every group of the one list, joined by its service's principal (the coordinator's is prefixed).
        let expected = Topics().consumerGroups.map { ($0.id, $0.service == "coordinator" ? "pipeline-coordinator" : $0.service) }
        XCTAssertEqual(expected.count, 6 + Phase.allCases.count)
        for (group, principal) in expected {
            XCTAssertTrue(rules.contains { $0.name == group && $0.principal == principal }, "\(principal) may not join \(group)")
        }
        // A stage reads the request topics of its own phase and no other.
        let topicRules = try Self.rules().filter { $0.resource == "topic" && $0.operation == "Read" }
        for phase in Phase.allCases {
            let readers = Set(topicRules.filter { [Topics.phaseRequests(phase), Topics.phaseRequests(phase, isPriority: true)].contains($0.name) }.map(\.principal))
            XCTAssertEqual(readers, ["\(phase.rawValue)-stage"], "readers of \(phase) requests")
        }
    }

    /// KEDA's Kafka scaler reads each trigger's group lag: Describe on every group and topic the
    /// ScaledObjects of Deploy/k8s name, and nothing else (without them, with ACLs enforced, no
    /// stage ever scales out).
    func testKEDAMayDescribeWhatItsTriggersNameAndNothingElse() throws {
        var groups: Set<String> = []
        var topics: Set<String> = []
        let folder = TestBroker.projectRoot.appendingPathComponent("Deploy/k8s")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".yaml") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                if line.hasPrefix("consumerGroup:") { groups.insert(String(line.dropFirst("consumerGroup:".count)).trimmingCharacters(in: .whitespaces)) }
                if line.hasPrefix("topic:") { topics.insert(String(line.dropFirst("topic:".count)).trimmingCharacters(in: .whitespaces)) }
            }
        }
        XCTAssertFalse(groups.isEmpty || topics.isEmpty, "the ScaledObjects name groups and topics")
        let rules = try Self.rules().filter { $0.principal == "keda" }
        XCTAssertEqual(Set(rules.map(\.operation)), ["Describe"])
        XCTAssertEqual(Set(rules.filter { $0.resource == "group" }.map(\.name)), groups)
        XCTAssertEqual(Set(rules.filter { $0.resource == "topic" }.map(\.name)), topics)
    }

    func testOperatorsMayCreateEveryTopic() throws {
        // `leadctl topics create` (the topics Job) creates them all and sets their configuration
        // values; no service creates or configures any.
        for operation in ["Create", "DescribeConfigs", "AlterConfigs"] {
            let rules = try Self.rules().filter { $0.operation == operation }
            XCTAssertEqual(Set(rules.map(\.principal)), ["operators"], operation)
            XCTAssertEqual(Set(rules.map(\.name)), Set(Topics.allNames), operation)
        }
    }

    func testEveryWriterMayWriteIdempotently() throws {
        let rules = try Self.rules()
        let writers = Set(rules.filter { $0.operation == "Write" }.map(\.principal))
        let idempotent = Set(rules.filter { $0.operation == "IdempotentWrite" }.map(\.principal))
        XCTAssertEqual(writers.subtracting(idempotent), [], "producers are idempotent (enable.idempotence=true)")
    }

    /// The script prints one kafka-acls.sh command per line of rules, with the namespace on every
    /// topic and group name (not on the reader groups).
    func testApplyScriptPrintsNamespacedCommands() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", Self.deploy.appendingPathComponent("apply-acls.sh").path, "--namespace", "ns1",
                             "--bootstrap-server", "kafka:9093", "--principal", "billing=User:CN=billing"]
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        let commands = text.split(separator: "\n").map(String.init)
        let lines = Set(try Self.rules().map(\.line))
        XCTAssertEqual(commands.count, lines.count, "one command per rule line")
        for command in commands {
            XCTAssertTrue(command.hasPrefix("kafka-acls.sh --bootstrap-server kafka:9093 --add --allow-principal User:"), command)
            let words = command.split(separator: " ")
            for (flag, value) in zip(words, words.dropFirst()) where flag == "--topic" || flag == "--group" {
                XCTAssertTrue(value.hasPrefix("ns1.") || value == "reader-", "\(value) in \(command)")
            }
        }
        XCTAssertTrue(commands.contains { $0.contains("--allow-principal User:CN=billing --operation Write --topic ns1.billing.events") }, text)
        XCTAssertTrue(commands.contains {
            $0.contains("User:pipeline-coordinator --operation Write ") && $0.contains(" --topic ns1.lead.state ")
        }, text)
    }
}
