import Foundation
import Kafka
import LeadModel
import Streaming

/// The operator's commands: progress, consumer lag, dead-letter replay and billing pause/resume.
extension LeadControl {
    // MARK: progress

    /// Prints the latest progress snapshot per search (only `searchID` when given) and the
    /// per-account sums. With `isWatching`, follows the progress topic and redraws a bar per
    /// search until every shown search is completed; the process's interrupt ends it earlier.
    public func progress(searchID: SearchID?, isWatching: Bool, isJSON: Bool) async throws -> Int32 {
        let topic = environment.topics.progress
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let partitions = try await partitions(of: topic, admin: admin)
        var latest: [SearchID: ProgressSnapshot] = [:]
        var problems = 0
        let apply = { (record: ConsumerRecord) in
            guard let key = record.keyString else { return }
            guard record.value != nil else {
                latest[SearchID(key)] = nil  // a tombstone: the search was forgotten
                return
            }
            do {
                let snapshot = try environment.codec.decode(ProgressSnapshot.self, record: record)
                latest[snapshot.searchID] = snapshot
            } catch {
                problems += 1
            }
        }
        let ends = try await admin.watermarks(partitions)
        try await readToEnd(partitions, admin: admin, apply)
        if problems > 0 { console.error("warning: skipped \(problems) undecodable progress record\(problems == 1 ? "" : "s")") }
        var report = ProgressReport(latest: Array(latest.values), searchID: searchID)
        guard isWatching else {
            console.output(isJSON ? try report.renderJSON() : report.renderTable())
            if let searchID, report.searches.isEmpty {
                console.error("no progress for search \(searchID) in \(topic)")
                return Self.failure
            }
            return Self.success
        }

        // Follow from where the read to the end stopped.
        let follower = try KafkaConsumer(
            configuration: environment.kafka,
            startingAt: Dictionary(uniqueKeysWithValues: partitions.map { ($0, ends[$0]?.high ?? KafkaConsumer.beginning) }),
            properties: ["fetch.wait.max.ms": "100"])
        var frame = Frame()
        var drawn: ProgressReport?
        do {
            while !Task.isCancelled {
                if report != drawn {
                    if isJSON {
                        console.output(try report.renderJSON())
                    } else {
                        frame.draw(report.renderBars(), on: self)
                    }
                    drawn = report
                }
                if report.isEverySearchCompleted { break }
                for record in try await follower.poll(maxRecords: 1000, timeoutMilliseconds: 500) {
                    apply(record)
                }
                report = ProgressReport(latest: Array(latest.values), searchID: searchID)
            }
        } catch {
            await follower.close()
            throw error
        }
        await follower.close()
        if !isJSON { console.output(report.renderTable()) }
        return Self.success
    }

    // MARK: lag

    /// Samples every consumer group of the namespace (``Topics/consumerGroups``) every
    /// `intervalSeconds` for `windowSeconds`, then prints each group's status (``LagStatus``),
    /// total lag and per-partition offsets at the last sample. With `isWatching`, prints after
    /// every sample, judging over the last window, until interrupted (or the task is
    /// cancelled); a sample that fails is reported and the watch goes on, where a single report
    /// throws. Returns 1 when `maxLag` is given and a group's total lag is above it.
    public func lag(_ options: LagOptions) async throws -> Int32 {
        let admin = try KafkaAdmin(configuration: environment.kafka)
        // A namespace without the pipeline's input topic is a mistyped one: every group would
        // read `unknown` with no lag, and a gate on --max-lag would pass. (A broker not answering
        // now is left to the samples: a watch goes on through it.)
        do {
            try await Self.requireTopics([environment.topics.leadsDiscovered], admin: admin)
        } catch let error as LeadControlError {
            throw error
        } catch {}
        let tracked = Dictionary(uniqueKeysWithValues: environment.topics.consumerGroups.filter(\.commitsOffsets).map { ($0.id, $0.topics) })
        return try await lag(options) { try await admin.lag(groups: tracked) }
    }

    /// ``lag(_:)`` with the samples read by `sample`: the lag of each group that commits offsets.
    func lag(_ options: LagOptions, sampling sample: () async throws -> [String: [PartitionLag]]) async throws -> Int32 {
        let groups = environment.topics.consumerGroups
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int64(options.windowSeconds * 1000))
        var window = LagWindow(length: options.windowSeconds)
        var frame = Frame()
        for round in 1... {
            let taken = clock.now
            if options.isWatching {
                // A watch goes on through a failed sample (a broker restarting, a leader moving):
                // it says so and samples again at the next interval. The window keeps the samples
                // that were read.
                var failure: String?
                do {
                    window.append(LagSample(time: (taken - start) / .seconds(1), groups: try await sample()))
                } catch {
                    if Task.isCancelled { return Self.success }  // cancelled (leadctl embedded): the watch ends
                    failure = "sample \(round) failed: \(error); watching on"
                }
                let report = window.report(of: groups)
                if isTerminal && !options.isJSON {
                    // A line of the frame: written apart, it would shift the frame the next one moves up over.
                    let shown = window.samples.isEmpty ? [] : [report.renderTable()]
                    frame.draw((shown + [failure].compactMap { $0 }).joined(separator: "\n"), on: self)
                } else if let failure {
                    console.error(failure)
                } else {
                    console.output(options.isJSON ? try report.renderJSON() : report.renderTable())
                }
            } else {
                window.append(LagSample(time: (taken - start) / .seconds(1), groups: try await sample()))
                if taken >= end { break }  // the samples span the whole window
            }
            // Samples keep to a grid from the start; the last one of a single report lands on its end.
            var next = start + .milliseconds(Int64(options.intervalSeconds * 1000 * Double(round)))
            if !options.isWatching { next = min(next, end) }
            do {
                try await clock.sleep(until: next)
            } catch {
                return Self.success  // cancelled: the watch ends
            }
        }
        let report = window.report(of: groups)
        console.output(options.isJSON ? try report.renderJSON() : report.renderTable())
        if let maxLag = options.maxLag {
            let backlog = environment.topics.leadsBacklog
            let over = report.groups(above: maxLag, notCounting: [backlog])
            for (group, lag) in over {
                console.error("group \(group.group): total lag \(lag)\(lag == group.totalLag ? "" : " (without \(backlog))") is above \(maxLag)")
            }
            if !over.isEmpty { return Self.failure }
        }
        return Self.success
    }

    /// A frame `--watch` redraws: on a terminal, each one replaces the one before.
    struct Frame {
        /// The previous frame's text.
        private var previous: String?

        /// Prints `text`, first moving up over the previous frame and clearing it on a terminal.
        mutating func draw(_ text: String, on control: LeadControl) {
            var prefix = ""
            if control.isTerminal, let previous {
                // The rows it takes at the terminal's width now: a line wider than that wraps.
                let rows = Self.rows(of: previous, columns: control.terminalColumns())
                prefix = "\u{1B}[\(rows)F\u{1B}[J"
            }
            control.console.output(prefix + text)
            previous = text
        }

        /// The rows `text` takes on a terminal `columns` wide (by its newlines when not known),
        /// a column a scalar: the frames' tables and bars are ASCII, but for the names in them.
        static func rows(of text: String, columns: Int?) -> Int {
            text.split(separator: "\n", omittingEmptySubsequences: false).reduce(0) { rows, line in
                guard let columns else { return rows + 1 }
                return rows + max(1, (line.unicodeScalars.count + columns - 1) / columns)
            }
        }
    }

    // MARK: dead-letter replay

    /// Re-publishes the selected dead letters to their source topics with their original keys
    /// (and the value of `replacementPath` instead of the original, when given). Every record is
    /// acknowledged before this returns. `--all` sends each poll's letters (at most 500) before
    /// it reads on, so it holds that many however many the topic has.
    public func replayDeadLetters(_ selection: DeadLetterSelection, replacementPath: String?) async throws -> Int32 {
        let topic = environment.topics.deadLetters
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let partitions = try await partitions(of: topic, admin: admin)
        let replacement = try replacementPath.map { Array(try readText($0).utf8) }
        let sender = try BatchSender(configuration: environment.kafka, batchSize: batchSize, console: console)
        var outcome = ReplayOutcome()
        do {
            switch selection {
            case .one(let partition, let offset):
                var found: [ConsumerRecord] = []
                try await readToEnd(partitions, admin: admin) { record in
                    guard record.value != nil, record.offset == offset, partition == nil || partition == record.partition else { return }
                    found.append(record)
                }
                let name = partition.map { "\($0)@\(offset)" } ?? String(offset)
                guard found.count == 1 else {
                    let places = found.map { "\($0.partition)@\($0.offset)" }.joined(separator: ", ")
                    console.error(found.isEmpty
                        ? "no dead letter at \(name) in \(topic); `leadctl dead-letters list` shows PARTITION@OFFSET"
                        : "offset \(offset) names several dead letters (\(places)); give PARTITION@OFFSET")
                    await sender.close()
                    return Self.failure
                }
                try await replay(found, replacement: replacement, replacementPath: replacementPath, sender: sender, &outcome)
            case .all:
                try await readToEnd(partitions, admin: admin, maxRecords: 500) { records in
                    try await replay(records, replacement: replacement, replacementPath: replacementPath, sender: sender, &outcome)
                }
            }
        } catch {
            await sender.close()
            throw error
        }
        await sender.close()
        console.error("replayed \(outcome.replayed) dead letter\(outcome.replayed == 1 ? "" : "s")")
        if case .one = selection, outcome.replayed == 0 { return Self.failure }
        guard outcome.skipped == 0 else {
            console.error("skipped \(outcome.skipped) dead letter\(outcome.skipped == 1 ? "" : "s") that cannot be replayed as stored (above)")
            return Self.failure
        }
        return Self.success
    }

    /// What a replay did so far.
    private struct ReplayOutcome {
        var replayed = 0
        /// Letters that could not be read, or replayed as stored.
        var skipped = 0
    }

    /// Replays the letters among `records` and prints each once it is acknowledged; says why of
    /// each it cannot read or replay as stored, and of each whose record the broker refuses (an
    /// invalid topic, a topic this principal may not write), the others replayed all the same.
    /// A failure of the broker itself (unreachable) ends the replay.
    private func replay(_ records: [ConsumerRecord], replacement: [UInt8]?, replacementPath: String?, sender: BatchSender,
                        _ outcome: inout ReplayOutcome) async throws {
        var sending: [(record: ProducerRecord, place: String, line: String)] = []
        let inputs = Set(environment.topics.leadInputs)
        for record in records where record.value != nil {
            let letter: DeadLetter
            do {
                letter = try environment.codec.decode(DeadLetter.self, record: record)
            } catch {
                console.error("warning: undecodable dead letter at \(record.partition)@\(record.offset): \(error)")
                outcome.skipped += 1
                continue
            }
            switch Self.replayRecord(of: letter, replacement: replacement, inputTopics: inputs) {
            case .success(let replayed):
                let line = "replayed \(record.partition)@\(record.offset) to \(letter.sourceTopic) "
                    + "(key \(replayed.key.map { String(decoding: $0, as: UTF8.self) } ?? "none"), \(replayed.value?.count ?? 0) bytes"
                    + (replacement == nil ? "" : ", from \(replacementPath ?? "")") + ")"
                sending.append((replayed, "\(record.partition)@\(record.offset)", TerminalText.escaped(line)))
            case .failure(let problem):
                console.error(TerminalText.escaped("dead letter \(record.partition)@\(record.offset): \(problem.reason)"))
                outcome.skipped += 1
            }
        }
        var failure: KafkaError?
        for (item, result) in zip(sending, try await sender.sendEach(sending.map(\.record))) {
            switch result {
            case .success:
                console.output(item.line)
                outcome.replayed += 1
            case .failure(let error) where error.isRecordRejected || error.isAuthorizationFailure:
                console.error(TerminalText.escaped("dead letter \(item.place): not replayed, the broker refused its record for "
                    + "\(item.record.topic): \(error)"))
                outcome.skipped += 1
            case .failure(let error):
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }

    /// Why a dead letter cannot be replayed as stored.
    public struct ReplayProblem: Error {
        public let reason: String
    }

    /// The record that replays `letter` to its source topic with its original key: `replacement`
    /// as the value when given, else the original, which must be there and not empty (a letter
    /// whose payload was withheld, or too large to keep, has none to send).
    ///
    /// Only a letter of a record read from its topic is replayed. One of a record a process could
    /// not write (its own output, refused by the broker: partition and offset -1) is not: written
    /// now to `lead.state`, `billing.usage` or a phase's requests, an old output would pass for a
    /// new one (a stale state the newest at the next restore); its original is kept to look into.
    /// Except to `inputTopics`: an input the coordinator published again in its lead's partition
    /// (``Topics/leadsDiscovered``, its priority twin, ``Topics/leadCommands``) is an input still.
    public static func replayRecord(of letter: DeadLetter, replacement: [UInt8]?,
                                    inputTopics: Set<String> = []) -> Result<ProducerRecord, ReplayProblem> {
        guard letter.partition >= 0 && letter.offset >= 0 || inputTopics.contains(letter.sourceTopic) else {
            return .failure(ReplayProblem(reason: "a \(letter.sourceTopic) record \(letter.service) could not write (never written, "
                + "so there is nothing to read again): replaying it would write an old output as a new one; look into its reason"))
        }
        let value: [UInt8]
        if let replacement {
            value = replacement
        } else if letter.originalBase64 == nil {
            return .failure(ReplayProblem(reason: "original value of \(letter.originalBytes ?? 0) bytes was too large to keep "
                + "(FNV-1a 64 \(letter.originalFNV1a64 ?? "?")); it is still at \(letter.sourceTopic)[\(letter.partition)]@\(letter.offset); "
                + "replay it with --file"))
        } else if let original = letter.original, !original.isEmpty {
            value = original
        } else {
            let why = letter.original == nil ? "is corrupt base64" : "is empty (its payload was withheld, or the record had none)"
            return .failure(ReplayProblem(reason: "original value \(why); replay it with --file"))
        }
        // A dead letter without a key had none; one whose key base64 is corrupt is refused.
        var key: [UInt8]?
        if let encoded = letter.originalKeyBase64 {
            guard let decoded = Data(base64Encoded: encoded) else {
                return .failure(ReplayProblem(reason: "original key is corrupt base64"))
            }
            key = Array(decoded)
        }
        return .success(ProducerRecord(topic: letter.sourceTopic, key: key, value: value, headers: schemaHeaders(of: value)))
    }

    /// The schema headers a record of `value` would have had: taken from the value's `schema`
    /// and `version` fields when it is such a JSON object, else none (readers accept both).
    static func schemaHeaders(of value: [UInt8]) -> [KafkaHeader] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
              let schema = object["schema"] as? String, let version = object["version"] as? Int else { return [] }
        return [KafkaHeader(key: MessageHeaders.schema, string: schema), KafkaHeader(key: MessageHeaders.version, string: String(version))]
    }

    // MARK: billing

    /// Publishes an ``AccountBillingEvent`` from `leadctl` to the billing events topic: the
    /// account's billing is `state` from then on (its configuration is left alone), and leads it
    /// held continue within about a second of a resume. `reason` nil: "paused by an operator" or
    /// "resumed by an operator". Returns 1, publishing nothing, when the account has no
    /// configuration (a mistyped id would pause no one).
    public func setBilling(accountID: AccountID, to state: BillingState, reason: String?) async throws -> Int32 {
        let accounts = environment.topics.accounts
        let account = try await latest(AccountConfig.self, key: accountID.rawValue, topic: accounts)
        for problem in account.problems { console.error("warning: skipped an undecodable account record at \(problem)") }
        guard account.value != nil else {
            console.error("no configuration for account \(accountID) in \(accounts); publish one with `leadctl account put`")
            return Self.failure
        }
        let verb = state == .paused ? "paused" : "resumed"
        let event = AccountBillingEvent(accountID: accountID, state: state, reason: reason ?? "\(verb) by an operator",
                                        source: Self.billingEventSource, occurredAt: now(), eventID: UUID().uuidString.lowercased())
        return try await publishConfiguration(event, topic: environment.topics.billingEvents, key: accountID.rawValue,
                                              what: "billing \(verb) for account \(accountID) (event \(event.eventID))")
    }

    /// The `source` of the billing events `leadctl billing` writes.
    public static let billingEventSource = "leadctl"
}
