import Foundation
import JSONCodec
import Kafka
import LeadModel
import LeadRules
import Streaming

/// Where `leadctl` writes: standard output for results, standard error for problems and
/// progress. Tests pass closures that capture the text.
public struct Console: Sendable {
    /// Writes one line (without its newline) of results.
    public var output: @Sendable (String) -> Void
    /// Writes one line (without its newline) of diagnostics.
    public var error: @Sendable (String) -> Void

    /// Creates a console from two line sinks.
    public init(output: @escaping @Sendable (String) -> Void, error: @escaping @Sendable (String) -> Void) {
        self.output = output
        self.error = error
    }

    /// The process's standard output and standard error.
    public static let standard = Console(
        output: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) },
        error: { line in FileHandle.standardError.write(Data((line + "\n").utf8)) })
}

/// A command that ran but did not succeed; the description is printed on standard error.
public enum LeadControlError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A file could not be read.
    case unreadableFile(path: String, reason: String)
    /// A file's content is not what the command expects.
    case invalidFile(path: String, reason: String)
    /// A message broke a rule of its schema.
    case invalidMessage(String)
    /// The topic does not exist (run `leadctl topics create`).
    case missingTopic(String)
    /// Reading a topic to its end took too long.
    case timedOut(String)

    /// What went wrong and what to do.
    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason): "cannot read \(path): \(reason)"
        case .invalidFile(let path, let reason): "\(path): \(reason)"
        case .invalidMessage(let reason): "invalid message: \(reason)"
        case .missingTopic(let topic): "topic \(topic) does not exist; run `leadctl topics create` (with the same --namespace)"
        case .timedOut(let what): "timed out \(what)"
        }
    }
}

/// The commands of `leadctl` as functions over a ``PipelineEnvironment``.
///
/// Each `run` writes its results to ``Console/output`` and returns the process exit status
/// (0 success, 1 failure). Records are sent with the project's ``KafkaProducer`` (acks=all,
/// idempotent); a command returns only after every record it sent is acknowledged.
public struct LeadControl: Sendable {
    /// Exit status of a successful command.
    public static let success: Int32 = 0
    /// Exit status of a failed command.
    public static let failure: Int32 = 1
    /// Exit status of a command line that cannot be run.
    public static let usageError: Int32 = 2

    /// Kafka settings, topic names and the codec.
    public let environment: PipelineEnvironment
    /// Where output goes.
    public let console: Console
    /// The clock, for `discoveredAt`, `updatedAt`, `requestedAt` and the like.
    public let now: @Sendable () -> Date
    /// Records per producer batch when publishing leads.
    public var batchSize: Int = 500
    /// The longest a read to a topic's end may wait without a record (a broker away that long
    /// fails the command); a read that keeps receiving records takes as long as the topic needs.
    public var readTimeout: Duration = .seconds(60)
    /// The login recorded as `requestedBy` when `--requested-by` is absent.
    public var defaultRequester: String
    /// Whether standard output is a terminal: `progress --watch` then redraws in place.
    public var isTerminal: Bool = isatty(STDOUT_FILENO) == 1
    /// The terminal's width in columns when a redraw asks (it can change during a watch); nil
    /// when not known. A line wider than it takes more than one row.
    public var terminalColumns: @Sendable () -> Int? = LeadControl.standardOutputColumns

    /// The width in columns of the terminal standard output writes to (`TIOCGWINSZ`); nil when it writes to none.
    public static func standardOutputColumns() -> Int? {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), $0) }
        return status == 0 && size.ws_col > 0 ? Int(size.ws_col) : nil
    }

    /// Creates the command set.
    public init(
        environment: PipelineEnvironment, console: Console = .standard, now: @escaping @Sendable () -> Date = { Date() },
        defaultRequester: String? = nil
    ) {
        self.environment = environment
        self.console = console
        self.now = now
        let user = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 }
        self.defaultRequester = defaultRequester ?? user.map { "\($0) via leadctl" } ?? "leadctl"
    }

    /// Parses `arguments` (without the program name), builds the environment from
    /// `environment` plus the `--bootstrap`/`--namespace` overrides, runs the command and
    /// returns the exit status: 0 ok, 1 failure, 2 usage error.
    public static func main(
        arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        console: Console = .standard
    ) async -> Int32 {
        let invocation: LeadControlInvocation
        do {
            invocation = try LeadControlCommandLine.parse(arguments)
        } catch {
            console.error("leadctl: \(error.problem)")
            console.error("")
            console.error(error.usage)
            return usageError
        }
        if let text = invocation.command.printedText {
            console.output(text)
            return success
        }
        let pipeline: PipelineEnvironment
        do {
            pipeline = try PipelineEnvironment(service: "leadctl", environment: invocation.overrides.applied(to: environment))
        } catch {
            console.error("leadctl: configuration: \(error)")
            return failure
        }
        do {
            return try await LeadControl(environment: pipeline, console: console).run(invocation.command)
        } catch let error as KafkaError where error.isBrokerUnreachable || error.name == "_MSG_TIMED_OUT" {
            // Said with the address asked: a wrong --bootstrap and a broker that is down read alike.
            console.error("leadctl: \(error) (no broker answered at \(pipeline.kafka.bootstrapServers))")
            return failure
        } catch {
            console.error("leadctl: \(error)")
            return failure
        }
    }

    /// Runs one command.
    /// - Returns: the exit status.
    /// - Throws: what stopped the command (Kafka errors, unreadable files, ...); callers print it
    ///   and exit with 1.
    public func run(_ command: LeadControlCommand) async throws -> Int32 {
        switch command {
        case .help, .version:
            console.output(command.printedText ?? "")
            return Self.success
        case .topicsCreate:
            return try await createTopics()
        case .topicsDelete:
            return try await deleteTopics()
        case .publishFile(let path, let format, let isPublishingInvalid):
            return try await publishFile(path: path, format: format, isPublishingInvalid: isPublishingInvalid)
        case .publishSynthetic(let options):
            return try await publishSynthetic(options)
        case .accountPut(let path):
            let account = try readConfiguration(AccountConfig.self, path: path, dateField: "updatedAt")
            return try await publishConfiguration(account, topic: environment.topics.accounts, key: account.accountID.rawValue,
                                                  what: "account \(account.accountID)")
        case .offerPut(let path):
            let offer = try readConfiguration(OfferConfig.self, path: path, dateField: "updatedAt")
            return try await putOffer(offer)
        case .accountSample:
            console.output(try prettyJSON(environment.codec.encode(SampleConfigurations.account(updatedAt: now()))))
            return Self.success
        case .offerSample:
            console.output(try prettyJSON(environment.codec.encode(SampleConfigurations.offer(updatedAt: now()))))
            return Self.success
        case .searchTotal(let searchID, let accountID, let total, let movesAccount):
            return try await declareTotal(SearchTotalDeclared(searchID: searchID, accountID: accountID, total: total, declaredAt: now()),
                                          movesAccount: movesAccount)
        case .reEnrich(let leadID, let types, let requestedBy, let requestID):
            // A new request unless the caller names one (to send a request again safely).
            let requestID = requestID ?? RequestID(UUID().uuidString.lowercased())
            let message = ReEnrichRequested(leadID: leadID, types: types, requestedAt: now(), requestedBy: requestedBy ?? defaultRequester,
                                            requestID: requestID)
            // An internal command; the coordinator reads its topic ahead of the rest.
            let status = try await publishConfiguration(
                message, topic: environment.topics.leadCommands, key: leadID.rawValue,
                what: "re-enrich of \(leadID) (\(types.map(\.rawValue).joined(separator: ","))), request id \(requestID)") {
                // Whether it was stored is not known: the same id, to the same place, makes a retry safe.
                console.error("the re-enrich of \(leadID) may or may not have been stored; to send it again safely: "
                    + Self.reEnrichAgain(leadID, types: types, requestedBy: requestedBy, requestID: requestID,
                                         bootstrap: environment.kafka.bootstrapServers, namespace: environment.topics.namespace))
            }
            // Not checked before sending: that reads the lead's whole partition of lead.state
            // (minutes on a large one), and refuses a lead queued moments ago.
            console.error(Self.reEnrichOfAnUnknownLead(leadID))
            return status
        case .leadOverride(let leadID, let state, let reason, let requestedBy):
            let requester = requestedBy ?? defaultRequester
            let message = state.map { LeadOverride(leadID: leadID, state: $0, reason: reason, requestedBy: requester, at: now()) }
                ?? LeadOverride.clearing(leadID, reason: reason, requestedBy: requester, at: now())
            return try await publishConfiguration(
                message, topic: environment.topics.leadOverrides, key: leadID.rawValue,
                what: state.map { "override of \(leadID) to \($0.rawValue)" } ?? "end of the override of \(leadID)")
        case .show(let leadID, let isJSON):
            return try await show(leadID: leadID, isJSON: isJSON)
        case .poolTail(let isFromBeginning, let count, let timeoutSeconds, let isJSON):
            return try await tailPool(isFromBeginning: isFromBeginning, count: count, timeoutSeconds: timeoutSeconds, isJSON: isJSON)
        case .poolMatch(let offerID, let minimumFit, let isDryRun):
            return try await matchPool(offerID: offerID, minimumFit: minimumFit, isDryRun: isDryRun)
        case .deadLettersList(let isJSON):
            return try await listDeadLetters(isJSON: isJSON)
        case .deadLettersReplay(let selection, let replacementPath):
            return try await replayDeadLetters(selection, replacementPath: replacementPath)
        case .progress(let searchID, let isWatching, let isJSON):
            return try await progress(searchID: searchID, isWatching: isWatching, isJSON: isJSON)
        case .heat(let accountID, let includesCooled, let isJSON):
            return try await heat(accountID: accountID, includesCooled: includesCooled, isJSON: isJSON)
        case .lag(let options):
            return try await lag(options)
        case .billing(let accountID, let state, let reason):
            return try await setBilling(accountID: accountID, to: state, reason: reason)
        }
    }

    // MARK: topics

    /// Creates every topic and prints each with its partition count as the broker reports it,
    /// then each configuration value it set on a topic that existed with another. A topic that
    /// exists with another replication factor than `PIPELINE_REPLICATION_FACTOR` is named on
    /// stderr: changing it takes a partition reassignment, which this command does not do.
    public func createTopics() async throws -> Int32 {
        let changes = try await environment.ensureTopics()
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let existing = try await admin.describeTopics()
        for specification in environment.topicSpecifications.sorted(by: { $0.name < $1.name }) {
            let partitions = existing[specification.name]?.partitions ?? specification.partitions
            let compacted = specification.configs["cleanup.policy"] == "compact" ? "  compacted" : ""
            console.output("\(pad(specification.name, 48)) \(partitions) partition\(partitions == 1 ? "" : "s")\(compacted)")
            if let wanted = environment.replicationFactor, let replicas = existing[specification.name]?.replicas, replicas != wanted {
                console.error("\(specification.name) has \(replicas) replica\(replicas == 1 ? "" : "s"), not PIPELINE_REPLICATION_FACTOR's \(wanted): "
                    + "reassign its partitions (kafka-reassign-partitions.sh) to change it")
            }
        }
        for change in changes {
            console.output("\(change.topic): \(change.key) set to \(change.value) (was \(change.was ?? "not set"))")
        }
        return Self.success
    }

    /// Deletes every topic of the namespace; refuses when there is no namespace.
    public func deleteTopics() async throws -> Int32 {
        guard let namespace = environment.topics.namespace, !namespace.isEmpty else {
            console.error("topics delete needs a namespace (--namespace or PIPELINE_NAMESPACE); it never deletes unprefixed topics")
            return Self.failure
        }
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let existing = try await admin.listTopics()
        let names = Set(environment.topics.all + environment.topicSpecifications.map(\.name))
            .filter { existing[$0] != nil }.sorted()
        if !names.isEmpty { try await admin.deleteTopics(names) }
        for name in names { console.output("deleted \(name)") }
        console.error("deleted \(names.count) topic\(names.count == 1 ? "" : "s") of namespace \(namespace)")
        return Self.success
    }

    // MARK: publish

    /// Publishes the leads of a file as it is read (``LeadFileReader``: memory stays bounded
    /// whatever the file's size); invalid lines are reported and skipped (or, with
    /// `isPublishingInvalid`, sent as they are but for what a valid line is given: ``LeadLine/withDefaults``). Returns 1 when any line was invalid and skipped, or the file
    /// held no lead. A file that turns out unusable part-way (a CSV row that never ends or is not
    /// UTF-8, a read error) stops the publish, saying how much was sent before it.
    public func publishFile(path: String, format: LeadFileFormat, isPublishingInvalid: Bool) async throws -> Int32 {
        var reader = try LeadFileReader(path: path, format: format, now: now())
        let topic = environment.topics.leadsDiscovered
        let sender = try BatchSender(configuration: environment.kafka, batchSize: batchSize, console: console)
        var validCount = 0, intentCount = 0, invalidCount = 0, notWholeCount = 0
        do {
            while true {
                let block: [LeadLine]?
                do {
                    block = try reader.next()
                } catch {
                    // The file turned out unusable (or unreadable) part-way: what was read before goes out.
                    let failure = (error as? LeadFileError).map { LeadControlError.invalidFile(path: path, reason: $0.description) } ?? error
                    do {
                        try await sender.flush()
                    } catch {
                        console.error("\(failure)")  // the send's error is what is thrown: say the file's here
                        throw error
                    }
                    if sender.acknowledged > 0 {
                        console.error("\(path): published the \(sender.acknowledged) records read before the problem below")
                    }
                    throw failure
                }
                guard let block else { break }
                for line in block {
                    switch line.result {
                    case .success(let lead):
                        if lead.isScoringOnlyWithoutProfile {
                            let why = format == .csv ? "without a pool profile (CSV cannot carry one)" : "without a poolProfile"
                            console.error("\(path):\(line.lineNumber): warning: scoring-only \(why): it runs in full, "
                                + "or is refused if its account allows no enrichment")
                        }
                        try await sender.add(try discoveryRecord(lead))
                        validCount += 1
                        if lead.source.isIntent { intentCount += 1 }
                    case .failure(let error) where isPublishingInvalid && !line.isWhole:
                        notWholeCount += 1
                        console.error("\(path):\(line.lineNumber): \(error.reason) (not published: the line was not kept whole)")
                    case .failure(let error):
                        invalidCount += 1
                        console.error("\(path):\(line.lineNumber): \(error.reason)\(isPublishingInvalid ? " (published as is)" : "")")
                        if isPublishingInvalid {
                            try await sender.add(ProducerRecord(
                                topic: topic, key: line.key.map { Array($0.utf8) }, value: Array((line.withDefaults ?? line.raw).utf8),
                                headers: MessageCodec.headers(for: LeadDiscovered.self).map { KafkaHeader(key: $0.key, string: $0.value) }))
                        }
                    }
                }
            }
            try await sender.flush()
        } catch {
            await sender.close()
            throw error
        }
        await sender.close()
        if validCount + invalidCount + notWholeCount == 0 {
            console.error("\(path): no leads found")
            return Self.failure
        }
        var summary = "published \(validCount) lead\(validCount == 1 ? "" : "s") to \(destination(intent: intentCount))"
        if invalidCount > 0 {
            summary += isPublishingInvalid
                ? " and \(invalidCount) invalid line\(invalidCount == 1 ? "" : "s") as is"
                : "; skipped \(invalidCount) invalid line\(invalidCount == 1 ? "" : "s")"
        }
        if notWholeCount > 0 {
            summary += "; skipped \(notWholeCount) line\(notWholeCount == 1 ? "" : "s") not kept whole"
        }
        console.output(summary)
        return (invalidCount > 0 && !isPublishingInvalid) || notWholeCount > 0 ? Self.failure : Self.success
    }

    /// A lead's input record: on the priority twin for intent sources, so they overtake a backlog.
    func discoveryRecord(_ lead: LeadDiscovered) throws -> ProducerRecord {
        try environment.codec.record(lead, topic: environment.topics.leadsDiscovered(for: lead.source), key: lead.leadID.rawValue)
    }

    /// Where `leads` were published, for a summary line.
    private func destination(of leads: [LeadDiscovered]) -> String {
        destination(intent: leads.filter(\.source.isIntent).count)
    }

    /// Where leads were published, `intent` of them from intent sources, for a summary line.
    private func destination(intent: Int) -> String {
        let topics = environment.topics
        guard intent > 0 else { return topics.leadsDiscovered }
        return "\(topics.leadsDiscovered) (\(intent) from intent sources to \(topics.leadsDiscoveredPriority))"
    }

    /// Publishes deterministic synthetic leads.
    public func publishSynthetic(_ options: SyntheticLeadOptions) async throws -> Int32 {
        let leads = SyntheticLeads.make(options, now: now())
        var records: [ProducerRecord] = []
        for lead in leads {
            do {
                try lead.validate()
            } catch {
                // The generator only makes valid leads; a failure here is a bug worth stopping for.
                throw LeadControlError.invalidMessage("synthetic lead \(lead.leadID): \(error)")
            }
            records.append(try discoveryRecord(lead))
        }
        try await send(records)
        let both = leads.filter { $0.linkedinURL != nil && $0.xURL != nil }.count
        let linkedinOnly = leads.filter { $0.linkedinURL != nil && $0.xURL == nil }.count
        let xOnly = leads.filter { $0.linkedinURL == nil && $0.xURL != nil }.count
        console.output(
            "published \(leads.count) synthetic lead\(leads.count == 1 ? "" : "s") to \(destination(of: leads)) "
                + "(seed \(options.seed), search \(options.searchID), mode \(options.mode.rawValue)): "
                + "\(both) LinkedIn+X, \(linkedinOnly) LinkedIn only, \(xOnly) X only")
        return Self.success
    }

    /// Sends records in batches of ``batchSize`` and waits for every acknowledgement. When a
    /// batch fails, says how many records (the first, in order) were acknowledged before it.
    func send(_ records: [ProducerRecord]) async throws {
        guard !records.isEmpty else { return }
        let sender = try BatchSender(configuration: environment.kafka, batchSize: batchSize, console: console)
        do {
            for record in records { try await sender.add(record) }
            try await sender.flush()
        } catch {
            await sender.close()
            throw error
        }
        await sender.close()
    }

    /// The command that sends a re-enrich again, as it was sent: the same request id, broker and
    /// namespace, each word as a shell reads it back.
    static func reEnrichAgain(_ leadID: LeadID, types: [ReEnrichType], requestedBy: String?, requestID: RequestID,
                              bootstrap: String, namespace: String?) -> String {
        var words = ["leadctl", "reenrich", leadID.rawValue, "--types", types.map(\.rawValue).joined(separator: ",")]
        if let requestedBy { words += ["--requested-by", requestedBy] }
        words += ["--request-id", requestID.rawValue, "--bootstrap", bootstrap]
        if let namespace { words += ["--namespace", namespace] }
        return words.map(shellWord).joined(separator: " ")
    }

    /// `word` as a shell reads it back: as it is when it holds only safe characters, else in
    /// single quotes.
    static func shellWord(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._,:/@=+-")
        guard word.isEmpty || !word.allSatisfy(safe.contains) else { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Publishes `offer` when its account has a configuration (a mistyped account id would move
    /// the offer to no one, and every lead of its account naming it would be refused), saying so
    /// when it moves the offer from another account.
    func putOffer(_ offer: OfferConfig) async throws -> Int32 {
        let topics = environment.topics
        let account = try await latest(AccountConfig.self, key: offer.accountID.rawValue, topic: topics.accounts)
        for problem in account.problems { console.error("warning: skipped an undecodable account record at \(problem)") }
        guard account.value != nil else {
            console.error("no configuration for account \(offer.accountID) in \(topics.accounts); publish one with `leadctl account put` "
                + "first (the offer's leads would be refused meanwhile)")
            return Self.failure
        }
        let before = try await latest(OfferConfig.self, key: offer.offerID.rawValue, topic: topics.offers).value
        if let before, before.accountID != offer.accountID {
            console.error("warning: offer \(offer.offerID) moves from account \(before.accountID) to \(offer.accountID): leads of "
                + "\(before.accountID) naming it are refused from now on")
        }
        return try await publishConfiguration(offer, topic: topics.offers, key: offer.offerID.rawValue, what: "offer \(offer.offerID)")
    }

    /// Publishes a search's total unless the search is counted under another account: the
    /// progress tracker takes a declared total's account as the search's, so such a total moves
    /// the search's progress to that account, which `movesAccount` must say is meant.
    func declareTotal(_ declared: SearchTotalDeclared, movesAccount: Bool = false) async throws -> Int32 {
        let topics = environment.topics
        let (searchID, accountID) = (declared.searchID, declared.accountID)
        let progress = try await latest(ProgressSnapshot.self, key: searchID.rawValue, topic: topics.progress)
        for problem in progress.problems { console.error("warning: skipped an undecodable progress record at \(problem)") }
        if let counted = progress.value?.accountID, counted != accountID {
            guard movesAccount else {
                console.error("search \(searchID) is counted under account \(counted) (\(topics.progress)); a total for \(accountID) "
                    + "would move the search's progress to \(accountID). Nothing sent: give --account \(counted), or --move-account "
                    + "to move the search")
                return Self.failure
            }
            console.error("warning: this total moves search \(searchID) from account \(counted) to \(accountID)")
        } else if progress.value == nil {
            console.error("no progress for search \(searchID) in \(topics.progress) yet (no lead of it counted): its account is not checked")
        }
        return try await publishConfiguration(declared, topic: topics.searchTotals, key: searchID.rawValue,
                                              what: "total \(declared.total) of search \(searchID)")
    }

    /// What becomes of a re-enrich of a lead the coordinator does not know (a mistyped id): said
    /// after every re-enrich sent, since whether it knows the lead is not checked first.
    static func reEnrichOfAnUnknownLead(_ leadID: LeadID) -> String {
        "note: a lead the pipeline does not know (a mistyped id) is not re-enriched: the coordinator dead-letters its "
            + "re-enrich; `leadctl show \(leadID)` shows the lead's state"
    }

    /// When the coordinator writes a lead's first state, for messages about a lead without one.
    static let firstStateWritten = "the coordinator writes it once the lead has waited or run "
        + "COORDINATOR_STATE_WRITE_INTERVAL_SECONDS, 5 s by default, or when its run ends if sooner"

    /// Publishes one message and prints where it was stored. `whenSendFails` runs when the send
    /// itself fails (whether the broker stored the message is then not known), not when the
    /// message or its topic is refused before it.
    func publishConfiguration<T: Message>(_ message: T, topic: String, key: String, what: String,
                                          whenSendFails: () -> Void = {}) async throws -> Int32 {
        do {
            try message.validateForPublishing()
        } catch {
            throw LeadControlError.invalidMessage(String(describing: error))
        }
        try await Self.requireTopics([topic], admin: KafkaAdmin(configuration: environment.kafka))
        let record = try environment.codec.record(message, topic: topic, key: key)
        let producer = try KafkaProducer(configuration: environment.kafka)
        let report: DeliveryReport
        do {
            report = try await producer.send(record)
        } catch {
            whenSendFails()
            await producer.close()
            throw error
        }
        await producer.close()
        console.output("published \(what) to \(report.topic) (partition \(report.partition), offset \(report.offset))")
        return Self.success
    }

    /// Reads a configuration file: the message's JSON, where `schema`, `version` and `dateField`
    /// may be left out; its numbers held to their ranges (``ConfigurationRanges``), then
    /// validated by the codec.
    func readConfiguration<T: Message>(_ type: T.Type, path: String, dateField: String) throws -> T {
        let text = try readText(path)
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), var fields = object as? [String: Any] else {
            throw LeadControlError.invalidFile(path: path, reason: "not a JSON object; start from `leadctl \(T.self == AccountConfig.self ? "account" : "offer") sample`")
        }
        if let problem = StrictJSON.problem(in: Array(text.utf8)) { throw LeadControlError.invalidFile(path: path, reason: problem) }
        if let problem = ConfigurationRanges.problem(in: Array(text.utf8), of: T.self) {
            throw LeadControlError.invalidFile(path: path, reason: problem)
        }
        LeftOutMembers(of: T.self, dateField: dateField, now: now()).fill(&fields)
        let bytes = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        let message: T
        do {
            message = try environment.codec.decode(T.self, from: Array(bytes))
        } catch {
            // A required field missing beside one of the same name in other letters is a misspelling.
            if case .missingField(let name) = error, let written = fields.keys.first(where: { $0 != name && $0.lowercased() == name.lowercased() }) {
                throw LeadControlError.invalidFile(path: path, reason: "\(error.description) (the file has \"\(written)\": did you mean \"\(name)\"?)")
            }
            throw LeadControlError.invalidFile(path: path, reason: error.description)
        }
        // The services read a configuration leniently (a newer writer's fields pass an older
        // reader), so a misspelt field would be dropped unseen: "minimumEmployes" is an ICP of
        // any size. Here, where it is written, a field the message does not keep is refused.
        let kept = try JSONSerialization.jsonObject(with: Data(environment.codec.encode(message)))
        let unknown = Self.droppedFields(fields, kept: kept)
        guard unknown.isEmpty else {
            throw LeadControlError.invalidFile(path: path, reason: "unknown field\(unknown.count == 1 ? "" : "s") "
                + unknown.map { "\"\($0)\"" }.joined(separator: ", ")
                + " (\(T.schemaName) version \(T.schemaVersion) has no such field; see `leadctl \(T.self == AccountConfig.self ? "account" : "offer") sample`)")
        }
        return message
    }

    /// The paths (`icp.minimumEmployes`, `rules[2].name`) of the members of `input` that are
    /// not in `kept`, its decoded message encoded again, unless they hold nothing (null, an empty
    /// list or object) and so change nothing.
    public static func droppedFields(_ input: Any, kept: Any, path: String = "") -> [String] {
        switch (input, kept) {
        case (let input as [String: Any], let kept as [String: Any]):
            return input.keys.sorted().flatMap { key -> [String] in
                let inner = path.isEmpty ? key : "\(path).\(key)"
                guard let value = kept[key] else { return holdsNothing(input[key]!) ? [] : [inner] }
                return droppedFields(input[key]!, kept: value, path: inner)
            }
        case (let input as [Any], let kept as [Any]) where input.count == kept.count:
            return zip(input, kept).enumerated().flatMap { droppedFields($1.0, kept: $1.1, path: "\(path)[\($0)]") }
        default:
            return []
        }
    }

    private static func holdsNothing(_ value: Any) -> Bool {
        value is NSNull || (value as? [Any])?.isEmpty == true || (value as? [String: Any])?.isEmpty == true
    }

    /// A file's text; `-` is standard input. Read no further than a record can be
    /// (`MAX_RECORD_BYTES`): a larger file is refused with its size, whatever it is (`/dev/zero`).
    func readText(_ path: String) throws -> String {
        let limit = environment.maxRecordBytes
        var data = Data()
        do {
            let handle = path == "-" ? FileHandle.standardInput : try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { if path != "-" { try? handle.close() } }
            while data.count <= limit, let chunk = try handle.read(upToCount: min(1 << 16, limit + 1 - data.count)), !chunk.isEmpty {
                data.append(chunk)
            }
        } catch {
            throw LeadControlError.unreadableFile(path: path, reason: (error as NSError).localizedDescription)
        }
        guard data.count <= limit else {
            throw LeadControlError.unreadableFile(path: path, reason: "larger than \(limit) bytes (MAX_RECORD_BYTES); a record cannot be")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LeadControlError.unreadableFile(path: path, reason: "not UTF-8 text")
        }
        return text
    }

    // MARK: show

    /// Prints the latest ``LeadState`` of a lead (see ``latestState(of:)``). Returns 1 when the
    /// lead has no state.
    public func show(leadID: LeadID, isJSON: Bool) async throws -> Int32 {
        let lookup = try await latestState(of: leadID)
        for problem in lookup.problems { console.error("warning: skipped an undecodable state record at \(problem)") }
        guard let state = lookup.state else {
            console.error("no state for lead \(leadID) in \(lookup.partition.topic) (partition \(lookup.partition.partition)); "
                + Self.firstStateWritten)
            return Self.failure
        }
        if isJSON {
            console.output(try prettyJSON(environment.codec.encode(state)))
        } else {
            console.output(LeadStateReport.render(state))
            if let line = LeadStateReport.omittedLine(lookup.omitted) { console.output(line) }
            let override = try await latest(LeadOverride.self, of: leadID, topic: environment.topics.leadOverrides)
            for problem in override.problems { console.error("warning: skipped an undecodable override record at \(problem)") }
            if let line = LeadStateReport.overrideLine(override.value) { console.output(line) }
        }
        return Self.success
    }

    /// The latest ``LeadState`` of a lead, read from its partition of the lead state topic up to
    /// the high watermark (nil when it has none, or a tombstone came last), with the profile of
    /// the pool entry a ready lead's state refers to; the partition read, the undecodable
    /// records skipped, and what that entry left out when it was made to fit MAX_RECORD_BYTES.
    public func latestState(of leadID: LeadID) async throws
        -> (state: LeadState?, partition: TopicPartition, problems: [String], omitted: [String]?) {
        let found = try await latest(LeadState.self, of: leadID, topic: environment.topics.leadState)
        var states = found.value.map { [leadID: $0] } ?? [:]
        var omitted: [String]?
        if let position = found.value?.poolEntry {
            let unloaded = try await PoolEntryReader.loadProfiles(&states, codec: environment.codec, configuration: environment.kafka)
            omitted = unloaded.omitted[leadID]
            let place = "\(position.topic)[\(position.partition)]@\(position.offset)"
            if let reason = unloaded.unreadable[leadID] {
                console.error("warning: the pool entry the state refers to (\(place)) cannot be read (\(reason)); the profile shown is the lead's identity")
            } else if !unloaded.missing.isEmpty {
                console.error("warning: the pool entry the state refers to (\(place)) is gone; the profile shown is the lead's identity")
            }
        }
        return (states[leadID], found.partition, found.problems, omitted)
    }

    /// The latest record of `leadID` in its partition of the lead-keyed `topic`, read up to the
    /// high watermark (nil when it has none, or a tombstone came last), the partition read, and
    /// the undecodable records skipped.
    func latest<T: Message>(
        _ type: T.Type, of leadID: LeadID, topic: String
    ) async throws -> (value: T?, partition: TopicPartition, problems: [String]) {
        try await latest(type, key: leadID.rawValue, topic: topic)
    }

    /// The latest record under `key` in its partition (murmur2 of the key) of `topic`, as
    /// ``latest(_:of:topic:)`` reads it: for any keyed topic (accounts by account id, say).
    func latest<T: Message>(
        _ type: T.Type, key: String, topic: String
    ) async throws -> (value: T?, partition: TopicPartition, problems: [String]) {
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let partitions = try await partitions(of: topic, admin: admin)
        let partition = TopicPartition(topic: topic, partition: KafkaPartitioner.partition(forKey: key, partitionCount: partitions.count))
        var latest: T?
        var problems: [String] = []
        try await readToEnd([partition], admin: admin) { record in
            guard record.keyString == key else { return }
            guard record.value != nil else {
                latest = nil  // a tombstone: the key was forgotten
                return
            }
            do {
                latest = try environment.codec.decode(T.self, record: record)
            } catch {
                problems.append("offset \(record.offset): \(error)")
            }
        }
        return (latest, partition, problems)
    }

    // MARK: pool

    /// Follows the lead pool, printing each entry; stops after `count` entries or
    /// `timeoutSeconds`, else runs until the process is interrupted.
    public func tailPool(isFromBeginning: Bool, count: Int?, timeoutSeconds: Double?, isJSON: Bool) async throws -> Int32 {
        let topic = environment.topics.leadPool
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let partitions = try await partitions(of: topic, admin: admin)
        let start = isFromBeginning ? KafkaConsumer.beginning : KafkaConsumer.end
        let reader = try KafkaConsumer(
            configuration: environment.kafka,
            startingAt: Dictionary(uniqueKeysWithValues: partitions.map { ($0, start) }),
            properties: ["fetch.wait.max.ms": "100"])
        let deadline = timeoutSeconds.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }
        var printed = 0
        do {
            polling: while !Task.isCancelled {
                if let deadline, ContinuousClock.now >= deadline { break }
                for record in try await reader.poll(maxRecords: 500, timeoutMilliseconds: 200) where record.value != nil {
                    do {
                        let entry = try environment.codec.decode(LeadPoolEntry.self, record: record)
                        console.output(isJSON ? String(decoding: try environment.codec.encode(entry), as: UTF8.self)
                                              : LeadPoolLine.render(entry))
                        printed += 1
                    } catch {
                        console.error("warning: skipped \(record.topic)[\(record.partition)]@\(record.offset): \(error)")
                    }
                    if let count, printed >= count { break polling }
                }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        if let count, printed < count {
            console.error("stopped after \(printed) of \(count) entries")
            return Self.failure
        }
        return Self.success
    }

    /// Every row of a compacted `topic` read to its end: the latest value per key (a tombstone
    /// removes it), and how many undecodable records were skipped.
    func readTable<T: Message>(_ type: T.Type, topic: String, admin: KafkaAdmin) async throws -> (rows: [String: T], skipped: Int) {
        var rows: [String: T] = [:]
        var skipped = 0
        try await readToEnd(try await partitions(of: topic, admin: admin), admin: admin) { record in
            guard let key = record.keyString else { return }
            guard record.value != nil else {
                rows[key] = nil
                return
            }
            if let value = try? environment.codec.decode(T.self, record: record) { rows[key] = value } else { skipped += 1 }
        }
        return (rows, skipped)
    }

    /// Publishes the pool profiles that fit `offerID` as scoring-only leads (``LeadPoolMatcher``),
    /// leaving out disqualified leads (their card, or an override in `lead.overrides`).
    public func matchPool(offerID: OfferID, minimumFit: Int, isDryRun: Bool) async throws -> Int32 {
        let admin = try KafkaAdmin(configuration: environment.kafka)
        var offer: OfferConfig?
        try await readToEnd(try await partitions(of: environment.topics.offers, admin: admin), admin: admin) { record in
            guard record.keyString == offerID.rawValue else { return }
            offer = record.value == nil ? nil : try? environment.codec.decode(OfferConfig.self, record: record)
        }
        guard let offer else {
            console.error("no offer \(offerID) in \(environment.topics.offers); publish it first (leadctl offer put)")
            return Self.failure
        }
        // The pool is indexed by position (no profile held), then scanned: each lead's latest entry
        // is decoded and scored, one chosen per person, and the chosen published a poll at a time.
        // As in profile-finder, a match in the pool is not published again and its person is in
        // the offer already.
        var index = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: minimumFit))
        try await readToEnd(try await partitions(of: environment.topics.leadPool, admin: admin), admin: admin) { record in
            guard let key = record.keyString else { return }
            index.applyPoolRecord(key: key, at: .init(partition: record.partition, offset: record.offset), isTombstone: record.value == nil)
        }
        let (overrides, skippedOverrides) = try await readTable(LeadOverride.self, topic: environment.topics.leadOverrides, admin: admin)
        if skippedOverrides > 0 { console.error("warning: skipped \(skippedOverrides) undecodable overrides") }
        for (key, override) in overrides { index.applyOverrideRecord(key: key, override: override) }
        let producer = isDryRun ? nil : try KafkaProducer(configuration: environment.kafka)
        var rows: [(leadID: String, fit: Int, name: String)] = []
        do {
            let skipped = try await PoolScan.matches(for: [offer], index: index, topic: environment.topics.leadPool,
                                                     codec: environment.codec, configuration: environment.kafka) { matches in
                rows += matches.map { ($0.lead.leadID.rawValue, $0.fit, $0.lead.name) }
                _ = try await producer?.send(matches.map { try discoveryRecord($0.lead) })
            }
            if skipped > 0 { console.error("warning: skipped \(skipped) undecodable pool entries") }
        } catch {
            await producer?.close()
            throw error
        }
        await producer?.close()
        for row in rows.sorted(by: { $0.leadID < $1.leadID }) {
            console.output("\(pad(row.leadID, 40)) fit \(row.fit)  \(row.name)")
        }
        console.error("\(rows.count) of \(index.latest.count) pool profiles matched to \(offerID), one per person not in it "
                      + "and not matched into it already\(isDryRun ? " (dry run: nothing published)" : "")")
        return Self.success
    }

    // MARK: dead letters

    /// Prints every dead letter stored: the text lines oldest first, the JSON lines as read
    /// (each partition of the dead letters topic in order).
    public func listDeadLetters(isJSON: Bool) async throws -> Int32 {
        let topic = environment.topics.deadLetters
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let partitions = try await partitions(of: topic, admin: admin)
        // A text line is kept, to sort, as the line it prints: 80 characters of the original. A
        // JSON line carries the whole letter, original included (up to about 1 MiB), so it is
        // printed as it is read, never held: thousands of large letters would not fit in memory.
        var lines: [(failedAt: Date, sourceTopic: String, offset: Int64, line: String)] = []
        var problems: [String] = []
        try await readToEnd(partitions, admin: admin) { record in
            guard record.value != nil else { return }
            do {
                let letter = try environment.codec.decode(DeadLetter.self, record: record)
                if isJSON {
                    // The letter as stored, led by its own place (what `dead-letters replay` takes).
                    let json = String(decoding: try environment.codec.encode(letter), as: UTF8.self)
                    console.output("{\"deadLetterAt\":\"\(record.partition)@\(record.offset)\"," + json.dropFirst())
                } else {
                    let line = DeadLetterLine.render(letter, partition: record.partition, offset: record.offset)
                    lines.append((letter.failedAt, letter.sourceTopic, letter.offset, line))
                }
            } catch {
                problems.append("\(record.topic)[\(record.partition)]@\(record.offset): \(error)")
            }
        }
        lines.sort { ($0.failedAt, $0.sourceTopic, $0.offset) < ($1.failedAt, $1.sourceTopic, $1.offset) }
        for entry in lines { console.output(entry.line) }
        for problem in problems { console.error("warning: undecodable dead letter at \(problem)") }
        if !isJSON { console.error("\(lines.count) dead letter\(lines.count == 1 ? "" : "s") in \(topic)") }
        return Self.success
    }

    /// `heat`: the signal each company last published, hottest first (see ``Usage/heat``), from
    /// the heat table: compacted, so it holds every company however long ago its heat last
    /// changed, which `account.signals` (kept for its retention only) does not.
    public func heat(accountID: AccountID?, includesCooled: Bool, isJSON: Bool) async throws -> Int32 {
        let topic = environment.topics.accountHeat
        let admin = try KafkaAdmin(configuration: environment.kafka)
        var latest: [String: AccountSignal] = [:]
        var undecodable = 0
        try await readToEnd(try await partitions(of: topic, admin: admin), admin: admin) { record in
            guard let key = record.keyString else { return }
            guard record.value != nil else {
                latest[key] = nil  // a company forgotten
                return
            }
            guard let state = try? environment.codec.decode(AccountHeatState.self, record: record) else {
                undecodable += 1
                return
            }
            guard accountID.map({ $0 == state.accountID }) ?? true else { return }
            latest[key] = state.published  // nil: it never counted two leads
        }
        let cooled = latest.values.filter { $0.leadCount < 2 }
        let shown = latest.values.filter { includesCooled || $0.leadCount >= 2 }
            .sorted { ($1.heatScore, $0.accountID.rawValue, $0.companyKey) < ($0.heatScore, $1.accountID.rawValue, $1.companyKey) }
        for signal in shown {
            if isJSON {
                console.output(String(decoding: try environment.codec.encode(signal), as: UTF8.self))
            } else {
                console.output(HeatLine.render(signal))
            }
        }
        if undecodable > 0 { console.error("warning: \(undecodable) undecodable record\(undecodable == 1 ? "" : "s") in \(topic)") }
        if !isJSON {
            let left = includesCooled ? "" : ", \(cooled.count) cooled left out (--all shows them)"
            console.error("\(shown.count) compan\(shown.count == 1 ? "y" : "ies") in \(topic)\(left)")
        }
        return Self.success
    }

    // MARK: reading

    func partitions(of topic: String, admin: KafkaAdmin) async throws -> [TopicPartition] {
        try await Self.requireTopics([topic], admin: admin)
        return try await admin.partitions(of: topic)
    }

    /// Refuses `topics` when one does not exist (``LeadControlError/missingTopic(_:)``), as a
    /// mistyped namespace has none: a reader would find nothing, and a writer's producer would
    /// have the broker create the topic with the broker's partition count, which `leadctl topics
    /// create` then refuses.
    static func requireTopics(_ topics: Set<String>, admin: KafkaAdmin) async throws {
        let listed = try await admin.listTopics()
        if let missing = topics.sorted().first(where: { listed[$0] == nil }) { throw LeadControlError.missingTopic(missing) }
    }

    /// Reads `partitions` from the beginning up to the high watermarks they had when called,
    /// waiting for their ends (a broker that stops answering for a while does not make the list
    /// short), up to ``readTimeout`` without a record.
    public func readToEnd(
        _ partitions: [TopicPartition], admin: KafkaAdmin, _ body: (ConsumerRecord) throws -> Void
    ) async throws {
        try await readToEnd(partitions, admin: admin, maxRecords: 5000) { records in
            for record in records { try body(record) }
        }
    }

    /// ``readToEnd(_:admin:_:)`` giving `body` each poll's records (at most `maxRecords`), which
    /// it may await on before the next poll.
    func readToEnd(
        _ partitions: [TopicPartition], admin: KafkaAdmin, maxRecords: Int, eachPoll body: ([ConsumerRecord]) async throws -> Void
    ) async throws {
        do {
            try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka, admin: admin,
                                              stallLimit: readTimeout, maxRecords: maxRecords, eachPoll: body)
        } catch let timeout as KafkaConsumer.ReadToEndTimeout {
            throw LeadControlError.timedOut("reading \(timeout.remaining.map(\.description).joined(separator: ", ")) to its end")
        }
    }
}

/// Pretty-printed JSON with sorted keys.
func prettyJSON(_ bytes: [UInt8]) throws -> String {
    let object = try JSONSerialization.jsonObject(with: Data(bytes))
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

/// `text` padded with spaces to `width` characters.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Sends records with one producer in batches of `batchSize`, each waited for as it fills. When a
/// batch fails, says how many records (the first, in order) were acknowledged before it, so the
/// operator knows where to resume.
final class BatchSender {
    private let configuration: KafkaConfiguration
    /// Made at the first send: reading a file with nothing to send needs no broker.
    private var producer: KafkaProducer?
    /// The topics found to exist (``requireTopics(of:)``).
    private var existing: Set<String> = []
    private let batchSize: Int
    private let console: Console
    private var pending: [ProducerRecord] = []
    /// Records acknowledged.
    private(set) var acknowledged = 0

    init(configuration: KafkaConfiguration, batchSize: Int, console: Console) throws {
        self.configuration = configuration
        self.batchSize = max(1, batchSize)
        self.console = console
    }

    /// Adds a record; sends the batch once it is full.
    func add(_ record: ProducerRecord) async throws {
        pending.append(record)
        if pending.count >= batchSize { try await flush() }
    }

    /// Refuses records for a topic that does not exist (``LeadControl/requireTopics(_:admin:)``)
    /// before anything is sent; each topic is asked for once.
    private func requireTopics(of records: [ProducerRecord]) async throws {
        let topics = Set(records.map(\.topic)).subtracting(existing)
        guard !topics.isEmpty else { return }
        try await LeadControl.requireTopics(topics, admin: KafkaAdmin(configuration: configuration))
        existing.formUnion(topics)
    }

    /// Sends what is waiting and waits for its acknowledgement.
    func flush() async throws {
        guard !pending.isEmpty else { return }
        try await requireTopics(of: pending)
        do {
            if producer == nil { producer = try KafkaProducer(configuration: configuration) }
            _ = try await producer!.send(pending)
        } catch {
            console.error("\(acknowledged) records were acknowledged (the first \(acknowledged), in order) before a batch of "
                + "\(pending.count) failed; it and any later ones may or may not have been stored")
            throw error
        }
        acknowledged += pending.count
        pending = []
    }

    /// Sends `records` at once (after what is waiting) and returns each one's outcome, in order:
    /// one refused does not stop the others.
    func sendEach(_ records: [ProducerRecord]) async throws -> [Result<DeliveryReport, KafkaError>] {
        try await flush()
        guard !records.isEmpty else { return [] }
        // Not checked here: each record's topic is its own (a replay's letters name theirs), and
        // one the broker refuses is that record's failure, not the others'.
        if producer == nil { producer = try KafkaProducer(configuration: configuration) }
        let results = await producer!.sendReportingEach(records)
        acknowledged += results.filter { if case .success = $0 { true } else { false } }.count
        return results
    }

    func close() async { await producer?.close() }
}
