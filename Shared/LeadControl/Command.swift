import Foundation
import LeadModel

/// The file formats `leadctl publish --file` reads.
public enum LeadFileFormat: String, Sendable, Hashable, CaseIterable {
    /// One JSON object per line (the ``LeadDiscovered`` wire form; `schema`, `version` and
    /// `discoveredAt` may be left out).
    case jsonl
    /// Comma-separated values with a header row (see ``LeadFileParser``).
    case csv

    /// The format a file name implies: `.jsonl`/`.ndjson`/`.json` → JSON Lines, `.csv` → CSV.
    public init?(path: String) {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".ndjson") || lowered.hasSuffix(".json") {
            self = .jsonl
        } else if lowered.hasSuffix(".csv") {
            self = .csv
        } else {
            return nil
        }
    }
}

/// How `publish --synthetic` makes leads.
public struct SyntheticLeadOptions: Sendable, Hashable {
    /// How many leads.
    public var count: Int
    /// The account they belong to.
    public var accountID: AccountID
    /// The offer they are scored against.
    public var offerID: OfferID
    /// The search that "found" them.
    public var searchID: SearchID
    /// Their mode (not re-enrich).
    public var mode: ModeName
    /// The seed: the same seed gives the same leads.
    public var seed: UInt64

    /// Creates options; the defaults are those of `leadctl publish --synthetic N`.
    public init(
        count: Int, accountID: AccountID = "acct-demo", offerID: OfferID = "offer-demo",
        searchID: SearchID? = nil, mode: ModeName = .full, seed: UInt64 = 1
    ) {
        self.count = count
        self.accountID = accountID
        self.offerID = offerID
        self.searchID = searchID ?? SearchID("search-synthetic-\(seed)")
        self.mode = mode
        self.seed = seed
    }
}

/// One `leadctl` command with its arguments, as parsed by ``LeadControlCommandLine/parse(_:)``.
public enum LeadControlCommand: Sendable, Hashable {
    /// `help [COMMAND]`: the general usage or a command's usage.
    case help(command: String?)
    /// `--version`: the package's version.
    case version
    /// `topics create`: create every topic of the namespace.
    case topicsCreate
    /// `topics delete --yes`: delete every topic of the namespace (a namespace is required).
    case topicsDelete
    /// `publish --file PATH [--format jsonl|csv] [--publish-invalid]`.
    case publishFile(path: String, format: LeadFileFormat, isPublishingInvalid: Bool)
    /// `publish --synthetic N [...]`.
    case publishSynthetic(SyntheticLeadOptions)
    /// `account put --file PATH`.
    case accountPut(path: String)
    /// `account sample`.
    case accountSample
    /// `offer put --file PATH`.
    case offerPut(path: String)
    /// `offer sample`.
    case offerSample
    /// `search total --search S --account A --total N [--move-account]`.
    case searchTotal(searchID: SearchID, accountID: AccountID, total: Int, movesAccount: Bool)
    /// `reenrich LEAD_ID --types linkedin,x,activity [--requested-by WHO] [--request-id ID]`;
    /// without a request id, ``LeadControl`` makes a new UUID.
    case reEnrich(leadID: LeadID, types: [ReEnrichType], requestedBy: String?, requestID: RequestID?)
    /// `lead override LEAD_ID --state manual|disqualified --reason TEXT [--requested-by WHO]`, or
    /// `--clear` instead of the state (`state` nil).
    case leadOverride(leadID: LeadID, state: LeadOverride.State?, reason: String, requestedBy: String?)
    /// `show LEAD_ID [--json]`.
    case show(leadID: LeadID, isJSON: Bool)
    /// `pool tail [--from-beginning] [--count N] [--timeout SECONDS] [--json]`.
    case poolTail(isFromBeginning: Bool, count: Int?, timeoutSeconds: Double?, isJSON: Bool)
    /// `pool match --offer O [--min-fit N] [--dry-run]`.
    case poolMatch(offerID: OfferID, minimumFit: Int, isDryRun: Bool)
    /// `dead-letters list [--json]`.
    case deadLettersList(isJSON: Bool)
    /// `dead-letters replay PARTITION@OFFSET|OFFSET|--all [--file PATH]`.
    case deadLettersReplay(DeadLetterSelection, replacementPath: String?)
    /// `progress [--search S] [--watch] [--json]`.
    case progress(searchID: SearchID?, isWatching: Bool, isJSON: Bool)
    /// `heat [--account A] [--all] [--json]`: each company's latest account signal.
    case heat(accountID: AccountID?, includesCooled: Bool, isJSON: Bool)
    /// `lag [--window SECONDS] [--interval SECONDS] [--watch] [--json] [--max-lag N]`.
    case lag(LagOptions)
    /// `billing pause|resume --account A [--reason TEXT]`: the reason is nil when not given.
    case billing(accountID: AccountID, state: BillingState, reason: String?)
}

extension LeadControlCommand {
    /// What `help` and `--version` print, without a broker or a configuration; nil for the
    /// other commands.
    var printedText: String? {
        switch self {
        case .help(let name): name.flatMap(Usage.text(for:)) ?? Usage.general
        case .version: Usage.version
        default: nil
        }
    }
}

/// How `leadctl lag` samples and what it prints.
public struct LagOptions: Hashable, Sendable {
    /// The window statuses are judged over, in seconds: `leadctl lag` samples for this long
    /// before it prints; `--watch` judges over the last window. 0: one sample, no trend.
    public var windowSeconds: Double
    /// Seconds between samples (a sample that takes longer delays the next).
    public var intervalSeconds: Double
    /// Keep sampling and print the report after every sample until interrupted.
    public var isWatching: Bool
    /// JSON instead of the table (with `isWatching`, one document per line).
    public var isJSON: Bool
    /// Exit status 1 when a group's total lag is above it (not with `isWatching`).
    public var maxLag: Int64?

    /// The defaults: 10 s window, a sample every 2 s (6 samples), one report as a table.
    public init(windowSeconds: Double = 10, intervalSeconds: Double = 2, isWatching: Bool = false, isJSON: Bool = false,
                maxLag: Int64? = nil) {
        self.windowSeconds = windowSeconds
        self.intervalSeconds = intervalSeconds
        self.isWatching = isWatching
        self.isJSON = isJSON
        self.maxLag = maxLag
    }
}

/// Which dead letters `dead-letters replay` re-publishes, by their place in the dead letters topic.
public enum DeadLetterSelection: Sendable, Hashable {
    /// Every dead letter stored.
    case all
    /// The dead letter at `offset`, in `partition` when given (`dead-letters list` prints
    /// `PARTITION@OFFSET` first on each line); without a partition the offset must be unique.
    case one(partition: Int32?, offset: Int64)

    /// Parses `PARTITION@OFFSET` or `OFFSET`.
    public init?(position text: String) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let offset = Int64(parts[0]), offset >= 0 else { return nil }
            self = .one(partition: nil, offset: offset)
        case 2:
            guard let partition = Int32(parts[0]), partition >= 0, let offset = Int64(parts[1]), offset >= 0 else { return nil }
            self = .one(partition: partition, offset: offset)
        default:
            return nil
        }
    }
}

/// Settings given on the command line that win over the environment.
public struct ConnectionOverrides: Sendable, Hashable {
    /// `--bootstrap HOST:PORT[,...]`: overrides `KAFKA_BOOTSTRAP_SERVERS`.
    public var bootstrapServers: String?
    /// `--namespace NS`: overrides `PIPELINE_NAMESPACE`.
    public var namespace: String?

    /// Creates overrides; nil leaves the environment's value.
    public init(bootstrapServers: String? = nil, namespace: String? = nil) {
        self.bootstrapServers = bootstrapServers
        self.namespace = namespace
    }

    /// `environment` with the overrides applied.
    public func applied(to environment: [String: String]) -> [String: String] {
        var result = environment
        if let bootstrapServers { result["KAFKA_BOOTSTRAP_SERVERS"] = bootstrapServers }
        if let namespace { result["PIPELINE_NAMESPACE"] = namespace }
        return result
    }
}

/// A parsed command line: the command and the connection overrides.
public struct LeadControlInvocation: Sendable, Hashable {
    /// What to do.
    public var command: LeadControlCommand
    /// `--bootstrap` / `--namespace`.
    public var overrides: ConnectionOverrides

    /// Creates an invocation.
    public init(command: LeadControlCommand, overrides: ConnectionOverrides = ConnectionOverrides()) {
        self.command = command
        self.overrides = overrides
    }
}

/// Turns `leadctl`'s arguments (without the program name) into a ``LeadControlInvocation``.
public enum LeadControlCommandLine {
    /// Options every command accepts.
    static let connectionOptions: Set<String> = ["bootstrap", "namespace"]

    /// Parses the arguments.
    /// - Throws: ``UsageError`` with the usage text of the command concerned.
    public static func parse(_ arguments: [String]) throws(UsageError) -> LeadControlInvocation {
        guard let first = arguments.first else {
            throw UsageError("no command given", usage: Usage.general)
        }
        if first == "--version" || first == "version" {
            guard arguments.count == 1 else { throw UsageError("\(first) takes nothing else", usage: Usage.general) }
            return LeadControlInvocation(command: .version)
        }
        if first == "help" || first == "--help" || first == "-h" {
            let topic = arguments.dropFirst().filter { !$0.hasPrefix("-") }.joined(separator: " ")
            if !topic.isEmpty && Usage.text(for: topic) == nil {
                throw UsageError("no command \"\(topic)\"", usage: Usage.general)
            }
            return LeadControlInvocation(command: .help(command: topic.isEmpty ? nil : topic))
        }
        // A trailing --help on any command prints that command's usage.
        let wantsHelp = arguments.contains("--help") || arguments.contains("-h")

        switch first {
        case "topics":
            let (sub, rest) = try subcommand(arguments, of: "topics", among: ["create", "delete"])
            if wantsHelp { return help("topics \(sub)") }
            if sub == "create" {
                let parsed = try parse(rest, as: "topics create")
                _ = try parsed.positionals([])
                return invocation(.topicsCreate, parsed)
            }
            let parsed = try parse(rest, as: "topics delete")
            _ = try parsed.positionals([])
            guard parsed.flag("yes") else {
                throw UsageError("topics delete removes every record of the namespace; confirm with --yes", usage: Usage.topicsDelete)
            }
            return invocation(.topicsDelete, parsed)

        case "publish":
            if wantsHelp { return help("publish") }
            let parsed = try parse(Array(arguments.dropFirst()), as: "publish")
            _ = try parsed.positionals([])
            return invocation(try publishCommand(parsed), parsed)

        case "account", "offer":
            let (sub, rest) = try subcommand(arguments, of: first, among: ["put", "sample"])
            if wantsHelp { return help("\(first) \(sub)") }
            let parsed = try parse(rest, as: "\(first) \(sub)")
            _ = try parsed.positionals([])
            switch (first, sub) {
            case ("account", "put"): return invocation(.accountPut(path: try parsed.required("file")), parsed)
            case ("account", _): return invocation(.accountSample, parsed)
            case (_, "put"): return invocation(.offerPut(path: try parsed.required("file")), parsed)
            default: return invocation(.offerSample, parsed)
            }

        case "search":
            let (sub, rest) = try subcommand(arguments, of: "search", among: ["total"])
            if wantsHelp { return help("search \(sub)") }
            let parsed = try parse(rest, as: "search total")
            _ = try parsed.positionals([])
            let search = try parsed.required("search")
            let account = try parsed.required("account")
            _ = try parsed.required("total")
            let total = try parsed.integer("total", in: 0...Int(Int32.max)) ?? 0
            return invocation(.searchTotal(searchID: SearchID(search), accountID: AccountID(account), total: total,
                                           movesAccount: parsed.flag("move-account")), parsed)

        case "reenrich", "re-enrich":
            if wantsHelp { return help("reenrich") }
            let parsed = try parse(Array(arguments.dropFirst()), as: "reenrich")
            let leadID = try parsed.positionals(["LEAD_ID"])[0]
            let types = try reEnrichTypes(try parsed.required("types"), usage: Usage.reEnrich)
            let requestID = try parsed.option("request-id").map { text throws(UsageError) in
                guard !text.isEmpty else { throw UsageError("--request-id is empty", usage: Usage.reEnrich) }
                let length = text.unicodeScalars.count
                guard length <= FieldLimit.identifier else {
                    throw UsageError("--request-id is \(length) characters long; the limit is \(FieldLimit.identifier)", usage: Usage.reEnrich)
                }
                return RequestID(text)
            }
            return invocation(.reEnrich(leadID: LeadID(leadID), types: types, requestedBy: parsed.option("requested-by"),
                                        requestID: requestID), parsed)

        case "lead":
            let (_, rest) = try subcommand(arguments, of: "lead", among: ["override"])
            if wantsHelp { return help("lead override") }
            return try leadOverride(rest)

        case "show":
            if wantsHelp { return help("show") }
            let parsed = try parse(Array(arguments.dropFirst()), as: "show")
            let leadID = try parsed.positionals(["LEAD_ID"])[0]
            return invocation(.show(leadID: LeadID(leadID), isJSON: parsed.flag("json")), parsed)

        case "pool":
            let (sub, rest) = try subcommand(arguments, of: "pool", among: ["tail", "match"])
            if wantsHelp { return help("pool \(sub)") }
            if sub == "match" {
                let parsed = try parse(rest, as: "pool match")
                _ = try parsed.positionals([])
                return invocation(
                    .poolMatch(offerID: OfferID(try parsed.required("offer")),
                               minimumFit: try parsed.integer("min-fit", in: 0...100) ?? 60, isDryRun: parsed.flag("dry-run")),
                    parsed)
            }
            let parsed = try parse(rest, as: "pool tail")
            _ = try parsed.positionals([])
            return invocation(
                .poolTail(
                    isFromBeginning: parsed.flag("from-beginning"), count: try parsed.integer("count", in: 1...Int(Int32.max)),
                    timeoutSeconds: try parsed.decimal("timeout", in: 0.001...86_400 * 365), isJSON: parsed.flag("json")),
                parsed)

        case "dead-letters":
            let (sub, rest) = try subcommand(arguments, of: "dead-letters", among: ["list", "replay"])
            if wantsHelp { return help("dead-letters \(sub)") }
            if sub == "list" {
                let parsed = try parse(rest, as: "dead-letters list")
                _ = try parsed.positionals([])
                return invocation(.deadLettersList(isJSON: parsed.flag("json")), parsed)
            }
            let usage = Usage.deadLettersReplay
            let parsed = try parse(rest, as: "dead-letters replay")
            let selection: DeadLetterSelection
            if parsed.flag("all") {
                _ = try parsed.positionals([])
                if parsed.option("file") != nil {
                    throw UsageError("--file replaces one dead letter; name it by PARTITION@OFFSET instead of --all", usage: usage)
                }
                selection = .all
            } else {
                guard !parsed.positionals.isEmpty else {
                    throw UsageError("missing PARTITION@OFFSET (or --all)", usage: usage)
                }
                let position = try parsed.positionals(["PARTITION@OFFSET"])[0]
                guard let one = DeadLetterSelection(position: position) else {
                    throw UsageError("\"\(position)\" is not PARTITION@OFFSET or OFFSET (whole numbers, as `dead-letters list` prints)", usage: usage)
                }
                selection = one
            }
            return invocation(.deadLettersReplay(selection, replacementPath: parsed.option("file")), parsed)

        case "progress":
            if wantsHelp { return help("progress") }
            let parsed = try parse(Array(arguments.dropFirst()), as: "progress")
            _ = try parsed.positionals([])
            let search = try parsed.identifier("search")
            return invocation(
                .progress(searchID: search.map(SearchID.init), isWatching: parsed.flag("watch"), isJSON: parsed.flag("json")), parsed)

        case "heat":
            if wantsHelp { return help("heat") }
            let parsed = try parse(Array(arguments.dropFirst()), as: "heat")
            _ = try parsed.positionals([])
            let account = try parsed.identifier("account")
            return invocation(
                .heat(accountID: account.map(AccountID.init), includesCooled: parsed.flag("all"), isJSON: parsed.flag("json")), parsed)

        case "lag":
            if wantsHelp { return help("lag") }
            let parsed = try parse(Array(arguments.dropFirst()), as: "lag")
            _ = try parsed.positionals([])
            let defaults = LagOptions()
            let options = LagOptions(
                windowSeconds: try parsed.decimal("window", in: 0...3600) ?? defaults.windowSeconds,
                intervalSeconds: try parsed.decimal("interval", in: 0.1...600) ?? defaults.intervalSeconds,
                isWatching: parsed.flag("watch"), isJSON: parsed.flag("json"),
                maxLag: try parsed.integer("max-lag", in: 0...Int.max).map(Int64.init))
            if options.isWatching && options.maxLag != nil {
                throw UsageError("--max-lag sets the exit status of one report; --watch never exits by itself", usage: Usage.lag)
            }
            return invocation(.lag(options), parsed)

        case "billing":
            let (sub, rest) = try subcommand(arguments, of: "billing", among: ["pause", "resume"])
            if wantsHelp { return help("billing \(sub)") }
            let parsed = try parse(rest, as: "billing \(sub)")
            _ = try parsed.positionals([])
            let account = try parsed.required("account")
            let reason = parsed.option("reason")
            if let reason, reason.unicodeScalars.count > FieldLimit.text {
                throw UsageError("--reason is longer than \(FieldLimit.text) characters", usage: Usage.billing)
            }
            if let reason, reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw UsageError("--reason is empty; say why, or leave it out", usage: Usage.billing)
            }
            return invocation(.billing(accountID: AccountID(account), state: sub == "pause" ? .paused : .active, reason: reason), parsed)

        default:
            throw UsageError("unknown command \"\(first)\"", usage: Usage.general)
        }
    }

    /// `lead override`'s arguments after the verb.
    private static func leadOverride(_ arguments: [String]) throws(UsageError) -> LeadControlInvocation {
        let usage = Usage.leadOverride
        let parsed = try parse(arguments, as: "lead override")
        let leadID = try parsed.positionals(["LEAD_ID"])[0]
        let reason = parsed.option("reason") ?? ""
        guard reason.unicodeScalars.count <= FieldLimit.text else {
            throw UsageError("--reason is longer than \(FieldLimit.text) characters", usage: usage)
        }
        if parsed.flag("clear") {
            guard parsed.option("state") == nil else { throw UsageError("--clear ends the override; give no --state with it", usage: usage) }
            return invocation(.leadOverride(leadID: LeadID(leadID), state: nil, reason: reason,
                                            requestedBy: parsed.option("requested-by")), parsed)
        }
        guard let state = try parsed.enumeration("state", as: LeadOverride.State.self) else {
            throw UsageError("missing --state manual|disqualified (or --clear)", usage: usage)
        }
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw UsageError("missing --reason: say why the state is overridden", usage: usage)
        }
        return invocation(.leadOverride(leadID: LeadID(leadID), state: state, reason: reason,
                                        requestedBy: parsed.option("requested-by")), parsed)
    }

    /// Splits `resource verb rest...`, checking the verb.
    private static func subcommand(
        _ arguments: [String], of resource: String, among verbs: [String]
    ) throws(UsageError) -> (String, [String]) {
        let usage = Usage.text(for: resource) ?? Usage.general
        guard arguments.count >= 2, !arguments[1].hasPrefix("-") else {
            throw UsageError("\"\(resource)\" needs one of: \(verbs.joined(separator: ", "))", usage: usage)
        }
        guard verbs.contains(arguments[1]) else {
            throw UsageError(
                "unknown command \"\(resource) \(arguments[1])\"; expected one of: \(verbs.joined(separator: ", "))",
                usage: usage)
        }
        return (arguments[1], Array(arguments.dropFirst(2)))
    }

    /// The arguments of the command `name` (one of ``Usage/commands``), with the options and
    /// flags its forms list, and the connection options.
    private static func parse(_ arguments: [String], as name: String) throws(UsageError) -> ParsedArguments {
        guard let spec = Usage.commands.first(where: { $0.names.contains(name) }) else {
            preconditionFailure("no command \(name) in Usage.commands")
        }
        return try ParsedArguments.parse(arguments, options: spec.options.union(connectionOptions), flags: spec.flags, usage: spec.usage)
    }

    private static func invocation(_ command: LeadControlCommand, _ parsed: ParsedArguments) -> LeadControlInvocation {
        LeadControlInvocation(
            command: command,
            overrides: ConnectionOverrides(bootstrapServers: parsed.option("bootstrap"), namespace: parsed.option("namespace")))
    }

    private static func help(_ command: String) -> LeadControlInvocation {
        LeadControlInvocation(command: .help(command: command))
    }

    private static func publishCommand(_ parsed: ParsedArguments) throws(UsageError) -> LeadControlCommand {
        let usage = Usage.publish
        switch (parsed.option("file"), parsed.option("synthetic")) {
        case (nil, nil):
            throw UsageError("publish needs --file PATH or --synthetic N", usage: usage)
        case (.some, .some):
            throw UsageError("--file and --synthetic exclude each other", usage: usage)
        case (.some(let path), nil):
            for name in ["account", "offer", "search", "mode", "seed"] where parsed.option(name) != nil {
                throw UsageError("--\(name) applies to --synthetic only", usage: usage)
            }
            let format: LeadFileFormat
            if let explicit = try parsed.enumeration("format", as: LeadFileFormat.self) {
                format = explicit
            } else if let implied = LeadFileFormat(path: path) {
                format = implied
            } else {
                throw UsageError("cannot tell the format of \"\(path)\" from its extension; add --format jsonl or --format csv", usage: usage)
            }
            return .publishFile(path: path, format: format, isPublishingInvalid: parsed.flag("publish-invalid"))
        case (nil, .some):
            for name in ["format", "publish-invalid"] where parsed.option(name) != nil || parsed.flag(name) {
                throw UsageError("--\(name) applies to --file only", usage: usage)
            }
            guard let count = try parsed.integer("synthetic", in: 1...1_000_000) else {
                throw UsageError("--synthetic needs a count", usage: usage)
            }
            let mode = try parsed.enumeration("mode", as: ModeName.self) ?? .full
            if mode == .reEnrich {
                throw UsageError("--mode re-enrich is not for new leads; use `leadctl reenrich LEAD_ID --types ...`", usage: usage)
            }
            var seed: UInt64 = 1
            if let text = parsed.option("seed") {
                guard let value = UInt64(text) else {
                    throw UsageError("--seed \"\(text)\" is not a non-negative whole number", usage: usage)
                }
                seed = value
            }
            return .publishSynthetic(
                SyntheticLeadOptions(
                    count: count, accountID: AccountID(try parsed.identifier("account") ?? "acct-demo"),
                    offerID: OfferID(try parsed.identifier("offer") ?? "offer-demo"),
                    searchID: try parsed.identifier("search").map(SearchID.init), mode: mode, seed: seed))
        }
    }

    /// Parses `linkedin,x,activity` (commas, spaces allowed), each type once.
    static func reEnrichTypes(_ text: String, usage: String) throws(UsageError) -> [ReEnrichType] {
        var types: [ReEnrichType] = []
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            if name.isEmpty { continue }
            guard let type = ReEnrichType(rawValue: name) else {
                throw UsageError("--types: \(ReEnrichType.unknownName(name))", usage: usage)
            }
            if !types.contains(type) { types.append(type) }
        }
        if types.isEmpty { throw UsageError("--types needs at least one of linkedin, x, activity", usage: usage) }
        return types.sorted()
    }
}
