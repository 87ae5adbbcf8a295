import LeadControl
import LeadModel
import Runtime
import XCTest

/// Argument parsing and usage errors: no broker.
final class CommandLineTests: XCTestCase {
    private func parse(_ line: String) throws -> LeadControlInvocation {
        try LeadControlCommandLine.parse(line.split(separator: " ").map(String.init))
    }

    private func usageError(_ line: String, file: StaticString = #filePath, lineNumber: UInt = #line) -> UsageError? {
        usageError(line.split(separator: " ").map(String.init), file: file, lineNumber: lineNumber)
    }

    /// The usage error of `arguments` as given (empty ones too, which a line split on spaces drops).
    private func usageError(_ arguments: [String], file: StaticString = #filePath, lineNumber: UInt = #line) -> UsageError? {
        do {
            let invocation = try LeadControlCommandLine.parse(arguments)
            XCTFail("expected a usage error, got \(invocation)", file: file, line: lineNumber)
            return nil
        } catch {
            return error  // the parser throws only usage errors
        }
    }

    func testPublishSyntheticWithAllOptions() throws {
        let invocation = try parse("publish --synthetic 20 --account a1 --offer=o1 --search s1 --mode scoring-only --seed 7 --namespace ns1 --bootstrap 127.0.0.1:19092")
        XCTAssertEqual(invocation.command, .publishSynthetic(
            SyntheticLeadOptions(count: 20, accountID: "a1", offerID: "o1", searchID: "s1", mode: .scoringOnly, seed: 7)))
        XCTAssertEqual(invocation.overrides, ConnectionOverrides(bootstrapServers: "127.0.0.1:19092", namespace: "ns1"))
        let environment = invocation.overrides.applied(to: ["KAFKA_BOOTSTRAP_SERVERS": "other:9092", "LOG_LEVEL": "debug"])
        XCTAssertEqual(environment["KAFKA_BOOTSTRAP_SERVERS"], "127.0.0.1:19092")
        XCTAssertEqual(environment["PIPELINE_NAMESPACE"], "ns1")
        XCTAssertEqual(environment["LOG_LEVEL"], "debug")
    }

    func testPublishSyntheticDefaults() throws {
        XCTAssertEqual(try parse("publish --synthetic 3").command,
                       .publishSynthetic(SyntheticLeadOptions(count: 3, accountID: "acct-demo", offerID: "offer-demo",
                                                              searchID: "search-synthetic-1", mode: .full, seed: 1)))
    }

    func testPublishFileFormatFromExtensionOrFlag() throws {
        XCTAssertEqual(try parse("publish --file leads.jsonl").command,
                       .publishFile(path: "leads.jsonl", format: .jsonl, isPublishingInvalid: false))
        XCTAssertEqual(try parse("publish --file LEADS.CSV --publish-invalid").command,
                       .publishFile(path: "LEADS.CSV", format: .csv, isPublishingInvalid: true))
        XCTAssertEqual(try parse("publish --file - --format csv").command,
                       .publishFile(path: "-", format: .csv, isPublishingInvalid: false))
        XCTAssertTrue(usageError("publish --file leads.txt")?.problem.contains("--format") ?? false)
        XCTAssertTrue(usageError("publish --file x.csv --format xml")?.problem.contains("jsonl, csv") ?? false)
    }

    func testPublishUsageErrors() {
        XCTAssertEqual(usageError("publish")?.problem, "publish needs --file PATH or --synthetic N")
        XCTAssertEqual(usageError("publish --file a.csv --synthetic 3")?.problem, "--file and --synthetic exclude each other")
        XCTAssertEqual(usageError("publish --synthetic 0")?.problem, "--synthetic \"0\" is not a whole number in 1...1000000")
        XCTAssertEqual(usageError("publish --synthetic 5 --mode re-enrich")?.problem.hasPrefix("--mode re-enrich is not for new leads"), true)
        XCTAssertEqual(usageError("publish --synthetic 5 --mode turbo")?.problem,
                       "--mode \"turbo\" is not one of: full, scoring-only, enrich-only, re-enrich, no-op")
        XCTAssertEqual(usageError("publish --synthetic 5 --seed -1")?.problem, "--seed \"-1\" is not a non-negative whole number")
        XCTAssertEqual(usageError("publish --file a.csv --seed 3")?.problem, "--seed applies to --synthetic only")
        XCTAssertEqual(usageError("publish --synthetic 3 --publish-invalid")?.problem, "--publish-invalid applies to --file only")
        XCTAssertEqual(usageError("publish --synthetic")?.problem, "--synthetic needs a value")
        XCTAssertEqual(usageError("publish --synthetic 3 --synthetic 4")?.problem, "--synthetic is given twice")
        XCTAssertEqual(usageError("publish --synthetic 3 extra")?.problem, "unexpected argument \"extra\"")
        let unknown = usageError("publish --synthetc 3")
        XCTAssertEqual(unknown?.problem.hasPrefix("unknown option --synthetc; known options:"), true)
        XCTAssertEqual(unknown?.usage, Usage.publish)
        XCTAssertEqual(usageError("publish -s 3")?.problem, "unknown option -s; options are spelled --name")
    }

    /// An empty id is refused here: the pipeline's decoder refuses it, so the record would be a
    /// dead letter (a lead) or dropped by every table reader (an override) after leadctl said
    /// "published".
    func testEmptyIdentifiersAreUsageErrors() {
        XCTAssertEqual(usageError(["publish", "--synthetic", "2", "--account="])?.problem, "--account needs an id")
        XCTAssertEqual(usageError(["publish", "--synthetic", "2", "--offer", " "])?.problem, "--offer needs an id")
        XCTAssertEqual(usageError(["publish", "--synthetic", "2", "--search", ""])?.problem, "--search needs an id")
        XCTAssertEqual(usageError(["lead", "override", "", "--state", "manual", "--reason", "x"])?.problem, "LEAD_ID must not be empty")
        XCTAssertEqual(usageError(["show", " "])?.problem, "LEAD_ID must not be empty")
        XCTAssertEqual(usageError(["reenrich", "", "--types", "linkedin"])?.problem, "LEAD_ID must not be empty")
    }

    func testResourceCommands() throws {
        XCTAssertEqual(try parse("topics create").command, .topicsCreate)
        XCTAssertEqual(try parse("topics delete --yes --namespace t1").command, .topicsDelete)
        XCTAssertEqual(usageError("topics delete")?.problem.hasSuffix("confirm with --yes"), true)
        XCTAssertEqual(try parse("account put --file acct.json").command, .accountPut(path: "acct.json"))
        XCTAssertEqual(try parse("account sample").command, .accountSample)
        XCTAssertEqual(try parse("offer put --file=offer.json").command, .offerPut(path: "offer.json"))
        XCTAssertEqual(try parse("offer sample").command, .offerSample)
        XCTAssertEqual(try parse("search total --search s1 --account a1 --total 40").command,
                       .searchTotal(searchID: "s1", accountID: "a1", total: 40, movesAccount: false))
        XCTAssertEqual(try parse("search total --search s1 --account a1 --total 40 --move-account").command,
                       .searchTotal(searchID: "s1", accountID: "a1", total: 40, movesAccount: true))
        XCTAssertEqual(usageError("account put")?.problem, "--file is required")
        XCTAssertEqual(usageError("account")?.problem, "\"account\" needs one of: put, sample")
        XCTAssertEqual(usageError("account delete")?.problem, "unknown command \"account delete\"; expected one of: put, sample")
        XCTAssertEqual(usageError("search total --search s1 --account a1")?.problem, "--total is required")
        XCTAssertEqual(usageError("search total --search s1 --account a1 --total=-4")?.problem.hasPrefix("--total \"-4\" is not a whole number"), true)
        XCTAssertEqual(usageError("frobnicate")?.problem, "unknown command \"frobnicate\"")
        XCTAssertEqual(usageError("")?.problem, "no command given")
    }

    func testReEnrichShowPoolAndDeadLetters() throws {
        XCTAssertEqual(try parse("reenrich lead-9 --types x,activity,linkedin,x").command,
                       .reEnrich(leadID: "lead-9", types: [.linkedin, .x, .activity], requestedBy: nil, requestID: nil))
        XCTAssertEqual(try parse("reenrich lead-9 --types activity --requested-by ops").command,
                       .reEnrich(leadID: "lead-9", types: [.activity], requestedBy: "ops", requestID: nil))
        XCTAssertEqual(try parse("reenrich lead-9 --types activity --request-id ticket-4711").command,
                       .reEnrich(leadID: "lead-9", types: [.activity], requestedBy: nil, requestID: "ticket-4711"))
        XCTAssertEqual(usageError("reenrich lead-9 --types x --request-id=")?.problem, "--request-id is empty")
        XCTAssertEqual(usageError("reenrich lead-9 --types x --request-id \(String(repeating: "r", count: 201))")?.problem,
                       "--request-id is 201 characters long; the limit is 200")
        XCTAssertTrue(Usage.reEnrich.contains("--request-id"), "the usage text documents --request-id")
        XCTAssertEqual(usageError("reenrich lead-9 --types email")?.problem, "--types: \"email\" is not one of: linkedin, x, activity")
        XCTAssertEqual(usageError("reenrich lead-9 --types ,")?.problem, "--types needs at least one of linkedin, x, activity")
        XCTAssertEqual(usageError("reenrich --types x")?.problem, "missing LEAD_ID")
        XCTAssertEqual(try parse("show lead-9 --json").command, .show(leadID: "lead-9", isJSON: true))
        XCTAssertEqual(try parse("show lead-9").command, .show(leadID: "lead-9", isJSON: false))
        XCTAssertEqual(usageError("show a b")?.problem, "unexpected argument \"b\"")
        XCTAssertEqual(usageError("show lead-9 --json=yes")?.problem, "--json takes no value")
        XCTAssertEqual(try parse("pool tail --from-beginning --count 5 --json").command,
                       .poolTail(isFromBeginning: true, count: 5, timeoutSeconds: nil, isJSON: true))
        XCTAssertEqual(try parse("pool tail --timeout 2.5").command,
                       .poolTail(isFromBeginning: false, count: nil, timeoutSeconds: 2.5, isJSON: false))
        XCTAssertEqual(usageError("pool tail --count 0")?.problem.hasPrefix("--count \"0\" is not a whole number"), true)
        XCTAssertEqual(try parse("dead-letters list --json").command, .deadLettersList(isJSON: true))
        XCTAssertEqual(try parse("heat").command, .heat(accountID: nil, includesCooled: false, isJSON: false))
        XCTAssertEqual(try parse("heat --account acct-1 --all --json").command, .heat(accountID: "acct-1", includesCooled: true, isJSON: true))
        XCTAssertEqual(usageError(["heat", "--account="])?.problem.contains("--account"), true)
        XCTAssertEqual(usageError("heat acct-1")?.problem, "unexpected argument \"acct-1\"")
    }

    func testLeadOverride() throws {
        XCTAssertEqual(try LeadControlCommandLine.parse(["lead", "override", "l1", "--state", "manual", "--reason", "sales owns it"]).command,
                       .leadOverride(leadID: "l1", state: .manual, reason: "sales owns it", requestedBy: nil))
        XCTAssertEqual(try parse("lead override l1 --state disqualified --reason left --requested-by ann").command,
                       .leadOverride(leadID: "l1", state: .disqualified, reason: "left", requestedBy: "ann"))
        XCTAssertEqual(try parse("lead override l1 --clear").command,
                       .leadOverride(leadID: "l1", state: nil, reason: "", requestedBy: nil))
        XCTAssertEqual(usageError("lead override l1 --state manual")?.problem, "missing --reason: say why the state is overridden")
        XCTAssertEqual(usageError("lead override l1 --reason r")?.problem, "missing --state manual|disqualified (or --clear)")
        XCTAssertEqual(usageError("lead override l1 --state active --reason r")?.problem,
                       "--state \"active\" is not one of: manual, disqualified")
        XCTAssertEqual(usageError("lead override l1 --clear --state manual")?.problem, "--clear ends the override; give no --state with it")
        XCTAssertEqual(usageError("lead override --clear")?.problem, "missing LEAD_ID")
        XCTAssertEqual(try parse("lead override --help").command, .help(command: "lead override"))
    }

    func testHelp() throws {
        XCTAssertEqual(try parse("help").command, .help(command: nil))
        XCTAssertEqual(try parse("help publish").command, .help(command: "publish"))
        XCTAssertEqual(try parse("help account put").command, .help(command: "account put"))
        XCTAssertEqual(try parse("show --help").command, .help(command: "show"))
        XCTAssertEqual(try parse("pool tail -h").command, .help(command: "pool tail"))
        XCTAssertEqual(usageError("help nothing")?.problem, "no command \"nothing\"")
        for command in ["publish", "topics create", "account put", "offer sample", "search total", "reenrich", "show", "lead override",
                        "pool tail", "dead-letters list"] {
            XCTAssertTrue(Usage.text(for: command)?.contains("Usage: leadctl \(command)") ?? false, command)
            XCTAssertTrue(Usage.general.contains(command.components(separatedBy: " ")[0]), command)
        }
    }

    /// Every option a command takes, as its parser says when given one it does not take, is in
    /// the command's usage and on its lines of the general usage, and a command that connects
    /// to the broker lists the connection options: the general usage lacked `lag --max-lag` and
    /// `--interval` and `pool tail --timeout`, and `heat --help` the connection options.
    func testEveryOptionACommandTakesIsInItsUsage() throws {
        let general = Usage.general.split(separator: "\n").map(String.init)
        for spec in Usage.commands {
            // Its lines in the general usage start with its words ("billing pause" on "billing pause|resume ...").
            let words = spec.names[0].split(separator: " ")
            let lines = general.filter { line in
                let typed = line.dropFirst(2).split(separator: " ")
                return line.hasPrefix("  ") && zip(words, typed).allSatisfy { word, typed in typed.split(separator: "|").contains(word) }
            }.joined(separator: "\n")
            for command in spec.names {
                let problem = try XCTUnwrap(usageError(command.split(separator: " ").map(String.init) + ["--no-such-option"])?.problem, command)
                let known = try XCTUnwrap(problem.components(separatedBy: "known options: ").last, problem)
                let options = known.components(separatedBy: ", ").filter { !["--bootstrap", "--namespace"].contains($0) }
                let usage = try XCTUnwrap(Usage.text(for: command), command)
                for option in options {
                    XCTAssertTrue(usage.contains(option), "\(command): its usage lacks \(option)")
                    XCTAssertTrue(lines.contains(option), "\(command): the general usage lacks \(option):\n\(lines)")
                }
                let connects = !command.hasSuffix("sample")
                XCTAssertEqual(usage.contains("--bootstrap HOST:PORT") && usage.contains("--namespace NS"), connects,
                               "\(command): the connection options \(connects ? "missing from" : "in") its usage")
            }
        }
    }

    /// A command's names and options are read from its forms: the words before its first
    /// argument or option (each of `a|b` a name), `--name VALUE` an option, `--name` a flag.
    func testACommandsNamesAndOptionsAreItsForms() throws {
        XCTAssertEqual(Usage.commands.flatMap(\.names), [
            "topics create", "topics delete", "publish", "account put", "account sample", "offer put", "offer sample", "search total",
            "reenrich", "re-enrich", "lead override", "show", "pool tail", "pool match", "dead-letters list", "dead-letters replay",
            "progress", "heat", "lag", "billing pause", "billing resume",
        ])
        func spec(_ name: String) throws -> CommandSpec { try XCTUnwrap(Usage.commands.first { $0.names.contains(name) }, name) }
        XCTAssertEqual(try spec("dead-letters replay").options, ["file"])
        XCTAssertEqual(try spec("dead-letters replay").flags, ["all"])
        XCTAssertEqual(try spec("lead override").options, ["state", "reason", "requested-by"])
        XCTAssertEqual(try spec("lead override").flags, ["clear"])
        XCTAssertEqual(try spec("publish").options, ["file", "format", "synthetic", "account", "offer", "search", "mode", "seed"])
        XCTAssertEqual(try spec("publish").flags, ["publish-invalid"])
        XCTAssertEqual(try spec("pool tail").flags, ["from-beginning", "json"])
    }

    /// `leadctl --version`, or `leadctl version` as other tools take it, prints the package's
    /// version, the one every service reports.
    func testVersionPrintsThePackagesVersion() async {
        for form in ["--version", "version"] {
            let captured = CapturedConsole()
            let status = await LeadControl.main(arguments: [form], environment: [:], console: captured.console)
            XCTAssertEqual(status, LeadControl.success, "\(form): \(captured.error)")
            XCTAssertEqual(captured.output, "leadctl \(BuildInfo.version)", form)
            XCTAssertEqual(usageError("\(form) --json")?.problem, "\(form) takes nothing else")
        }
        XCTAssertTrue(Usage.general.contains("--version"))
        XCTAssertTrue(Usage.general.contains("version, --version"))
    }

    /// A configuration or replacement file larger than a record can be is refused with its size,
    /// read no further than that: `--file /dev/zero` ends, with a clear error.
    func testAConfigurationFileLargerThanARecordIsRefusedUnread() async throws {
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("leadctl-big-\(UUID().uuidString).json")
        try Data(("{\"accountID\": \"" + String(repeating: "a", count: 200_000) + "\"}").utf8).write(to: big)
        defer { try? FileManager.default.removeItem(at: big) }
        for path in [big.path, "/dev/zero"] {
            let captured = CapturedConsole()
            let status = await LeadControl.main(arguments: ["account", "put", "--file", path],
                                                environment: ["MAX_RECORD_BYTES": "65536"], console: captured.console)
            XCTAssertEqual(status, LeadControl.failure, path)
            XCTAssertTrue(captured.error.contains("larger than 65536 bytes (MAX_RECORD_BYTES)"), "\(path): \(captured.error)")
        }
    }

    /// A configuration file with a field its message does not keep (a misspelt one, at any
    /// depth) is refused, the field named. It was dropped and the rest published: an ICP with
    /// `minimumEmployes` had no minimum size, an account with `maxRunningLead` the default.
    func testAConfigurationFileWithAnUnknownFieldIsRefusedNamingIt() async throws {
        let sample = CapturedConsole()
        _ = await LeadControl.main(arguments: ["offer", "sample"], environment: [:], console: sample.console)
        var offer = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(sample.output.utf8)) as? [String: Any])
        var icp = try XCTUnwrap(offer["icp"] as? [String: Any])
        icp["minimumEmployes"] = icp.removeValue(forKey: "minimumEmployees") ?? 50
        icp["seniority"] = NSNull()  // holds nothing: changes nothing
        offer["icp"] = icp
        offer["signalLikelyhood"] = "high"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("leadctl-offer-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: offer).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let captured = CapturedConsole()
        let status = await LeadControl.main(arguments: ["offer", "put", "--file", file.path], environment: [:], console: captured.console)
        XCTAssertEqual(status, LeadControl.failure)
        XCTAssertTrue(captured.error.contains("unknown fields \"icp.minimumEmployes\", \"signalLikelyhood\""), captured.error)

        XCTAssertEqual(LeadControl.droppedFields(["a": [["b": 1, "c": 2]], "d": [], "e": 3], kept: ["a": [["b": 1]], "e": 3]), ["a[0].c"])
        XCTAssertEqual(LeadControl.droppedFields(["a": 1], kept: ["a": 1]), [])
    }

    func testMainExitCodes() async {
        let captured = CapturedConsole()
        let status = await LeadControl.main(arguments: ["publish", "--bogus"], environment: [:], console: captured.console)
        XCTAssertEqual(status, LeadControl.usageError)
        XCTAssertTrue(captured.error.contains("leadctl: unknown option --bogus"))
        XCTAssertTrue(captured.error.contains("Usage: leadctl publish"))

        let help = CapturedConsole()
        let helpStatus = await LeadControl.main(arguments: ["help", "show"], environment: [:], console: help.console)
        XCTAssertEqual(helpStatus, LeadControl.success)
        XCTAssertEqual(help.output, Usage.show)

        let sample = CapturedConsole()
        let sampleStatus = await LeadControl.main(arguments: ["offer", "sample"], environment: [:], console: sample.console)
        XCTAssertEqual(sampleStatus, LeadControl.success)
        let offer = try? MessageCodec().decode(OfferConfig.self, from: Array(sample.output.utf8))
        XCTAssertEqual(offer?.icp.competitors.contains("Outreach"), true)

        let badConfig = CapturedConsole()
        let configStatus = await LeadControl.main(arguments: ["topics", "create"], environment: ["PIPELINE_PARTITIONS": "zero"],
                                                  console: badConfig.console)
        XCTAssertEqual(configStatus, LeadControl.failure)
        XCTAssertTrue(badConfig.error.contains("PIPELINE_PARTITIONS"), badConfig.error)
    }
}
