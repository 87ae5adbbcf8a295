import Foundation
import JSONCodec
import Kafka
import LeadModel
import LeadRules
import Runtime
import Streaming

/// Owns account heat: the consumer of the repartition topic ``Topics/accountSignalContributions``
/// (the Kafka Streams repartition pattern), with ``Topics/accountHeat`` as its changelog.
///
/// - Ownership: a member of the group ``Topics/accountHeatGroup``; contributions are keyed by
///   account id, so each account's contributions reach one member, in order (a record holds the
///   contributions of one account that a scoring stage finished close together, version 2, or
///   one, version 1; they are applied in turn). The member keeps the
///   ``AccountHeat`` of the accounts of its partitions and nothing else.
/// - Restore: on assignment, before any contribution of the new partitions is applied, the same
///   partitions of the changelog are read to their end (the last record per company wins, a
///   tombstone forgets it). Both topics must have the same partition count; ``run()`` checks.
/// - Per poll: the contributions are applied, then the changed account signals (one per company
///   the poll changed, as it stands after the poll) and dead letters are sent and acknowledged.
///   A changed company state is held (``UnwrittenHeat``) and written to the changelog, to the
///   partition its contributions came from, once held for ``writeInterval``, its changes in
///   between one record; input offsets are stored (and committed in the background, on revoke and
///   on close) only as far as the written states reach. A crash, or a partition handed over,
///   replays the contributions since onto the state last written; one already written finds them
///   counted (``AccountHeatState/counted``) and changes nothing. So every contribution counts
///   once, and each company's heat after every poll that changed it is published at least once.
///   On shutdown every held state is written before the last offsets are stored, for at most
///   ``shutdownGrace``: a broker away longer (outputs wait for it without end) has the producer
///   closed, what is unwritten dropped and its contributions' offsets left unstored, so the next
///   owner applies them again, and ``run()`` ends within the process's shutdown bound.
/// - Overrides: a lead whose override in force is `disqualified` (``Topics/leadOverrides``) counts in
///   no heat, though its contribution stays recorded (``AccountHeat``). The overrides are a table
///   read whole (every member reads every override: they are keyed by lead, not account), read
///   to its end before the first contribution is applied (the scoring stage reads it with its
///   other tables before it is ready) and caught up again before each restore, which leaves out
///   the leads it disqualifies. A contribution of a lead disqualified is recorded but not
///   counted. Each poll, before its contributions, the overrides set or cleared since the last
///   poll are applied to every owned account that holds their leads: the companies whose heat
///   changed publish their signals (heat 0 and cool for one that fell below two people) and have
///   their states written, at once, as a day's refresh does: no contribution's offset waits on
///   them. A cleared override (a tombstone, `cleared`, `manual`) counts the lead again at once.
///   After a restore, the companies holding leads the overrides exclude, or counting other people
///   than their last signal says, publish what that signal did not say (an owner stopped before
///   writing the heat of an override set or cleared, or none owned the account when it came).
/// - Bad input: a contribution that does not decode, or is keyed by anything but its account id
///   (it would reach an owner of another account), becomes a dead letter. A company state above
///   `MAX_RECORD_BYTES` cannot be written: the poll's last contribution to that company is
///   dead-lettered and the state stays in this member's memory only (it is restored as last
///   written). Each changed company state is encoded once per poll, not once per contribution.
///
/// Where it runs: inside every scoring-stage process, as a second consumer beside the stage's own
/// (``StageService/makeScoringStage(environment:configuration:providers:scorer:)``). Operators run
/// and scale one Deployment, not two; the group spreads the contribution partitions over the
/// scoring instances, and an instance that stops hands its accounts to the others, which restore
/// them from the changelog. The work is small (a few signals per scored lead), so it does not need
/// scaling apart from scoring. A process of its own would only pay off if heat had to keep running
/// with scoring scaled to zero.
public final class AccountHeatAggregator: Service {
    private let environment: PipelineEnvironment
    private let consumerProperties: [String: String]
    private let logger: Logger
    private let overrides: KafkaTable<LeadOverride>
    private let rebalances = Mailbox<RebalanceEvent>()
    /// The consumer group: ``Topics/accountHeatGroup``.
    public let groupID: String

    /// How long a company's changed state is held before it is written to the changelog
    /// (``UnwrittenHeat``); zero writes it after every poll that changed it.
    public let writeInterval: Duration
    /// The clock: the day heat is refreshed to, and the bound on contributions scored ahead.
    private let now: @Sendable () -> Date
    /// How long, once cancelled, ``run()`` may wait for the broker to take what is held (the
    /// scoring stage passes its drain timeout, so both end within the process's shutdown bound).
    public let shutdownGrace: Duration

    /// - Parameters:
    ///   - overrides: the ``Topics/leadOverrides`` table, made with `recordsChanges` (each poll
    ///     takes the leads whose override changed) and read before ``run()``, as the scoring
    ///     stage reads its tables; the aggregator does not start or stop it.
    ///   - consumerProperties: librdkafka properties for the group consumer (the stage's).
    ///   - writeInterval: see ``writeInterval``.
    ///   - shutdownGrace: see ``shutdownGrace``.
    ///   - now: the clock (tests set the day).
    ///   - metrics: where its dead letters are counted (`pipeline_dead_letters_total`, every kind at
    ///     zero from here), and the changelog records a restore could not read
    ///     (`pipeline_table_records_skipped_total{topic}`, from zero): the scoring stage's
    ///     registry, beside the stage's own letters.
    public init(environment: PipelineEnvironment, overrides: KafkaTable<LeadOverride>, consumerProperties: [String: String] = [:],
                writeInterval: Duration = .seconds(5), shutdownGrace: Duration = .seconds(8),
                now: @escaping @Sendable () -> Date = Date.init, metrics: MetricsRegistry? = nil) {
        self.overrides = overrides
        self.metrics = metrics
        if let metrics { DeadLetterKind.registerAtZero(in: metrics) }
        unreadableStates = metrics?.counter(MetricNames.tableRecordsSkipped, ["topic": environment.topics.accountHeat])
        unreadableStates?.increment(by: 0)
        self.writeInterval = writeInterval
        self.shutdownGrace = shutdownGrace
        self.now = now
        self.environment = environment
        self.consumerProperties = consumerProperties
        self.logger = environment.logger.with([LogKey.component: "account-heat"])
        self.groupID = environment.topics.accountHeatGroup
    }

    /// The heat of the accounts of the partitions this member owns.
    struct Owned {
        var partitions: Set<Int32> = []
        var accounts: [AccountID: (partition: Int32, heat: AccountHeat)] = [:]
        /// The accounts restored since the last poll, whose companies say what their last signal
        /// may not (``AccountHeat/refreshRestored(at:)``) before their first contribution is applied.
        var restored: Set<AccountID> = []
    }

    /// Where its dead letters are counted once the broker has them.
    private let metrics: MetricsRegistry?
    /// Changelog records a restore skipped, unreadable: their companies' heat is what came
    /// before them, and the next change of those companies writes over them.
    private let unreadableStates: Counter?

    /// What one poll's contributions produce.
    struct Outputs {
        /// The last signal of each company the poll changed, by account and company, with the
        /// contribution that made it: a company's heat changed by many contributions of one poll
        /// is published once, as it stands after the poll.
        var signals: [String: (signal: AccountSignal, by: ConsumerRecord)] = [:]
        /// Each company the poll changed, by changelog key: a company changed by many
        /// contributions of one poll is encoded and written once, as it stands then.
        var changed: [String: Change] = [:]
        var deadLetters: [ProducerRecord] = []
    }

    /// A company a poll changed. Its state is read from the account's heat when it is written
    /// (``changelogRecords(_:owned:deadLetters:)``), not kept here: a copy kept would make the
    /// heat copy the company's leads on its next change.
    struct Change {
        /// The account.
        var accountID: AccountID
        /// The company's key in the account's heat; not there: forgotten (a tombstone).
        var companyKey: String
        /// The partition of its contributions.
        var partition: Int32
        /// The last contribution of the poll that changed it.
        var by: ConsumerRecord
        /// The offset of the poll's first contribution that changed it.
        var firstOffset: Int64
    }

    /// Consumes until cancelled (see the type's documentation); leaves the group on return.
    public func run() async throws {
        let topics = environment.topics
        try await waitForCoPartitionedTopics()
        let producer = try environment.makeProducer()
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(configuration: environment.kafka, groupID: groupID,
                                         topics: [topics.accountSignalContributions],
                                         properties: consumerProperties) { [rebalances] event in rebalances.append(event) }
        } catch {
            await producer.close()
            throw error
        }
        logger.info("aggregating account heat", ["group": groupID, "topics": topics.accountSignalContributions])
        let shutdown = ShutdownDeadline(grace: shutdownGrace)
        do {
            // Sends wait out an outage without end: after the grace, closing the producer fails
            // those still waiting, which ends the run.
            switch try await shutdown.run(closingAfterGrace: producer, { try await self.consume(consumer, producer) }) {
            case .byItself:
                break
            case .givenUp:
                logger.warning("""
                    stopped before the broker took the held heat (\(shutdownGrace)): not written; its contributions are \
                    not committed, so the next owner applies them again
                    """)
            case .leftBehind:
                logger.warning("""
                    stopped waiting at the shutdown bound for work stuck in a call to the broker: the heat it had not \
                    written has its contributions uncommitted, so the next owner applies them again
                    """)
            }
        } catch {
            await shutdown.close(consumer, logger: logger)
            await producer.close(flushTimeoutMilliseconds: 0)
            throw error
        }
        await shutdown.close(consumer, logger: logger)
        await producer.close(flushTimeoutMilliseconds: 0)
    }

    /// The poll loop of ``run()`` until cancelled, then the last writes.
    private func consume(_ consumer: KafkaConsumer, _ producer: KafkaProducer) async throws {
        var owned = Owned()
        var unwritten = UnwrittenHeat()
        // The UTC day whose heat the owned accounts were refreshed to (nil: once more, after a restore).
        var refreshedDay: Int?
        // The next offset after the contributions applied, per partition owned.
        var consumed: [TopicPartition: Int64] = [:]
        // Nothing is owned yet, and each restore reads the overrides as they stand: only the
        // overrides that change from here on are applied to owned heat.
        _ = overrides.takeChangedKeys()
        while !Task.isCancelled {
            let batch: [ConsumerRecord]
            do {
                batch = try await consumer.poll(maxRecords: 1000, timeoutMilliseconds: 100)
            } catch let error as KafkaError where !error.isFatal {
                logger.warning("poll failed: \(error)")
                continue
            }
            let ownedBefore = owned.partitions
            let revoked = try await applyRebalances(&owned)
            if !owned.partitions.isSubset(of: ownedBefore) { refreshedDay = nil }
            if !revoked.isEmpty {
                // Their next owner replays what was not written.
                unwritten.drop(partitions: revoked)
                consumed = consumed.filter { !revoked.contains($0.key.partition) }
            }
            // Before the poll's contributions, which read the overrides as they stand now.
            let overridden = overriddenHeat(&owned, at: now())
            try await deliver(overridden.signals, producer, unclassified: .takenAsTheRecords)
            try await deliver(overridden.changelog, producer, unclassified: .waitedOut)
            let records = batch.filter { owned.partitions.contains($0.partition) }
            var outputs = Outputs()
            for record in records {
                apply(record, &owned, &outputs)
                consumed[record.topicPartition] = record.offset + 1
            }
            let now = now()
            for (key, change) in outputs.changed {
                unwritten.hold(key, change, at: now)
            }
            let due = unwritten.takeDue(heldSince: writeInterval > .zero ? now.addingTimeInterval(-writeInterval.timeInterval) : nil)
            if !records.isEmpty || !due.isEmpty {
                let changelog = changelogRecords(due, owned: owned, deadLetters: &outputs.deadLetters)
                let signals = signalRecords(&outputs)
                try await deliver(signals + outputs.deadLetters, producer, unclassified: .takenAsTheRecords)
                try await deliver(changelog, producer, unclassified: .waitedOut)
                try consumer.storeOffsets(unwritten.committable(consumed))
            }
            // After the poll's own signals, so a company's last signal is the refreshed one.
            if refreshedDay != AccountHeat.day(of: now) {
                let (signals, changelog, isDone) = refreshed(&owned, at: now)
                if isDone { refreshedDay = AccountHeat.day(of: now) }
                try await deliver(signals, producer, unclassified: .takenAsTheRecords)
                try await deliver(changelog, producer, unclassified: .waitedOut)
            }
        }
        // Shutting down: write what is held, so the next owner has nothing to replay.
        var deadLetters: [ProducerRecord] = []
        let changelog = changelogRecords(unwritten.takeDue(heldSince: nil), owned: owned, deadLetters: &deadLetters)
        try await deliver(deadLetters, producer, unclassified: .takenAsTheRecords)
        try await deliver(changelog, producer, unclassified: .waitedOut)
        try consumer.storeOffsets(consumed)
    }

    /// Applies one contribution record, a batch (version 2) or a single contribution (version 1),
    /// adding what it produces to `outputs`.
    func apply(_ record: ConsumerRecord, _ owned: inout Owned, _ outputs: inout Outputs) {
        let codec = environment.codec
        let batch: AccountSignalContributionBatch
        do {
            if record.header(MessageHeaders.version) == Array("\(AccountSignalContributionBatch.schemaVersion)".utf8) {
                batch = try codec.decode(AccountSignalContributionBatch.self, record: record)
            } else {
                let single = try codec.decode(AccountSignalContribution.self, record: record)
                batch = AccountSignalContributionBatch(accountID: single.accountID, contributions: [single])
            }
        } catch {
            outputs.deadLetters.append(deadLetter(for: record, reason: error.description))
            return
        }
        guard record.keyString == batch.accountID.rawValue else {
            outputs.deadLetters.append(deadLetter(
                for: record, reason: "contribution keyed '\(record.keyString ?? "")', not by its account id \(batch.accountID)"))
            return
        }
        for contribution in batch.contributions {
            apply(contribution, from: record, &owned, &outputs)
        }
    }

    /// How far after this process's clock a contribution may be scored: more is a host's clock
    /// (or a hand-written record) gone wrong, not skew. Applied, it would move the heat's latest
    /// time on, forget every lead as older than the window, and refuse every later contribution
    /// as too old, for good (the changelog keeps the time).
    static let maxClockLead: TimeInterval = 86_400

    private func apply(_ contribution: AccountSignalContribution, from record: ConsumerRecord, _ owned: inout Owned,
                       _ outputs: inout Outputs) {
        let now = now()
        guard contribution.scoredAt <= now.addingTimeInterval(Self.maxClockLead) else {
            outputs.deadLetters.append(deadLetter(for: record, reason: """
                lead \(contribution.leadID) scored at \(ISO8601.format(contribution.scoredAt)), more than a day after this \
                aggregator's clock (\(ISO8601.format(now))): a scoring host's clock is wrong; not applied
                """))
            return
        }
        var entry = owned.accounts.removeValue(forKey: contribution.accountID)
            ?? (record.partition, AccountHeat(accountID: contribution.accountID))
        let change = entry.heat.apply(contribution, isExcluded: isExcluded(contribution.leadID))
        owned.accounts[contribution.accountID] = entry
        for companyKey in change.states.keys {
            let key = AccountHeatState.changelogKey(accountID: contribution.accountID, companyKey: companyKey)
            outputs.changed[key] = Change(accountID: contribution.accountID, companyKey: companyKey, partition: record.partition,
                                          by: record, firstOffset: outputs.changed[key]?.firstOffset ?? record.offset)
        }
        for signal in change.signals {
            outputs.signals["\(signal.accountID)/\(signal.companyKey)"] = (signal, record)
        }
    }

    /// Companies refreshed per poll (``refreshed(_:at:)``): a company's state is up to 250 KB,
    /// so a day's refresh of every company at once would hold them all encoded, and stop polling.
    static let refreshBatch = 200

    /// What a day's passing changed in the owned accounts (``AccountHeat/refresh(at:limit:)``),
    /// up to ``refreshBatch`` companies: the signals of companies that cooled, their states, and
    /// whether the day's refresh is done. Written at once, not held (``records(of:accountID:partition:what:)``).
    private func refreshed(_ owned: inout Owned, at now: Date)
        -> (signals: [ProducerRecord], changelog: [ProducerRecord], isDone: Bool) {
        var signals: [ProducerRecord] = []
        var changelog: [ProducerRecord] = []
        var budget = Self.refreshBatch
        for accountID in owned.accounts.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard budget > 0 else { return (signals, changelog, false) }
            guard var entry = owned.accounts.removeValue(forKey: accountID) else { continue }
            let change = entry.heat.refresh(at: now, limit: budget)
            owned.accounts[accountID] = entry
            budget -= change.states.count
            let records = records(of: change, accountID: accountID, partition: entry.partition, what: "heat refresh")
            signals += records.signals
            changelog += records.changelog
        }
        return (signals, changelog, budget > 0)
    }

    /// Whether a lead counts in no heat: its override in force disqualifies it
    /// (``LeadOverridePolicy/isExcludedFromHeat(_:)``), as the overrides table has it now.
    private func isExcluded(_ leadID: LeadID) -> Bool {
        LeadOverridePolicy.isExcludedFromHeat(overrides[leadID.rawValue])
    }

    /// What the overrides that changed since the last poll changed in the owned accounts
    /// (``AccountHeat/setExcluded(_:at:)``): a lead disqualified leaves its company's heat, one
    /// cleared counts again. Every owned account is asked: overrides are keyed by lead, and a
    /// lead's account is not known from its id. Then, for the accounts restored since, what their
    /// last written signals did not say of who counts (``AccountHeat/refreshRestored(at:)``: an
    /// override set or cleared whose heat the previous owner did not write). The signals of the companies
    /// whose heat changed, and their states, written at once, not held
    /// (``records(of:accountID:partition:what:)``).
    private func overriddenHeat(_ owned: inout Owned, at now: Date) -> (signals: [ProducerRecord], changelog: [ProducerRecord]) {
        let keys = overrides.takeChangedKeys()
        let restored = owned.restored
        owned.restored = []
        guard !keys.isEmpty || !restored.isEmpty else { return ([], []) }
        let exclusions = Dictionary(uniqueKeysWithValues: keys.map { (LeadID($0), isExcluded(LeadID($0))) })
        var signals: [ProducerRecord] = []
        var changelog: [ProducerRecord] = []
        for accountID in owned.accounts.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard var entry = owned.accounts.removeValue(forKey: accountID) else { continue }
            var changes = [entry.heat.setExcluded(exclusions, at: now)]
            if restored.contains(accountID) { changes.append(entry.heat.refreshRestored(at: now)) }
            owned.accounts[accountID] = entry
            for change in changes {
                let records = records(of: change, accountID: accountID, partition: entry.partition, what: "heat of an override")
                signals += records.signals
                changelog += records.changelog
            }
        }
        return (signals, changelog)
    }

    /// The records of a change no contribution made (a refresh, an override), its states to the
    /// account's partition. Written at once, not held: no contribution's offset waits on them. A
    /// state or signal that cannot be written is logged, with `what`, and stays in memory only (no
    /// input record to dead-letter).
    private func records(of change: AccountHeat.Change, accountID: AccountID, partition: Int32, what: String)
        -> (signals: [ProducerRecord], changelog: [ProducerRecord]) {
        var signals: [ProducerRecord] = []
        var changelog: [ProducerRecord] = []
        do {
            for signal in change.signals {
                signals.append(try environment.codec.record(signal, topic: environment.topics.accountSignals, key: accountID.rawValue))
            }
            for (companyKey, state) in change.states.sorted(by: { $0.key < $1.key }) {
                let key = AccountHeatState.changelogKey(accountID: accountID, companyKey: companyKey)
                let record = try changelogRecord(key: key, state: state, partition: partition)
                if let reason = environment.codec.oversizeReason(record) {
                    logger.error("\(what) not written: \(reason)", ["key": key])
                    continue
                }
                changelog.append(record)
            }
        } catch {
            logger.error("\(what) not written: \(error)", ["accountID": accountID.rawValue])
        }
        return (signals, changelog)
    }

    /// The account signals of the companies the poll changed, in key order, each the last one.
    func signalRecords(_ outputs: inout Outputs) -> [ProducerRecord] {
        var records: [ProducerRecord] = []
        for (_, change) in outputs.signals.sorted(by: { $0.key < $1.key }) {
            do {
                records.append(try environment.codec.record(change.signal, topic: environment.topics.accountSignals,
                                                            key: change.signal.accountID.rawValue))
            } catch {
                outputs.deadLetters.append(deadLetter(for: change.by, reason: "cannot encode the account signal it changed: \(error)"))
            }
        }
        return records
    }

    /// The changelog records of the companies the poll changed, in key order, each encoded once
    /// (as written when nothing is held).
    func changelogRecords(_ outputs: inout Outputs, owned: Owned) -> [ProducerRecord] {
        let changes = outputs.changed.sorted { $0.key < $1.key }.map { (key: $0.key, change: $0.value) }
        return changelogRecords(changes, owned: owned, deadLetters: &outputs.deadLetters)
    }

    /// The changelog records of `changes`, each encoded once, with the company's state as
    /// `owned` holds it now. A state that cannot be written (above `MAX_RECORD_BYTES`, or
    /// unencodable) dead-letters the last contribution that changed it and stays in memory only.
    func changelogRecords(_ changes: [(key: String, change: Change)], owned: Owned,
                          deadLetters: inout [ProducerRecord]) -> [ProducerRecord] {
        var records: [ProducerRecord] = []
        for (key, change) in changes {
            do {
                let state = owned.accounts[change.accountID]?.heat.companies[change.companyKey]
                let record = try changelogRecord(key: key, state: state, partition: change.partition)
                if let reason = environment.codec.oversizeReason(record) {
                    deadLetters.append(deadLetter(for: change.by, reason: reason))
                    continue
                }
                records.append(record)
            } catch {
                deadLetters.append(deadLetter(for: change.by, reason: "cannot encode the heat it changed: \(error)"))
            }
        }
        return records
    }

    /// A company's changelog record under `key` (a tombstone for nil), to the partition of its
    /// contributions.
    private func changelogRecord(key: String, state: AccountHeatState?, partition: Int32) throws -> ProducerRecord {
        guard let state else {
            return ProducerRecord(topic: environment.topics.accountHeat, partition: partition, key: Array(key.utf8), value: nil)
        }
        var record = try environment.codec.record(state, topic: environment.topics.accountHeat, key: key)
        record.partition = partition
        return record
    }

    private func deadLetter(for record: ConsumerRecord, reason: String) -> ProducerRecord {
        logger.warning("dead-lettering: \(reason)", [
            LogKey.topic: record.topic, LogKey.partition: String(record.partition), LogKey.offset: String(record.offset),
        ])
        return environment.codec.deadLetter(for: record, reason: reason, service: environment.service, topics: environment.topics)
    }

    /// Sends `records` and waits for the broker's acknowledgement under the produce policy every
    /// sender follows (``ProduceFailure``, ``SettlingSend``): what failed for a reason that may
    /// pass is sent again until it is stored (or, once cancelled, until ``shutdownGrace`` closes
    /// the producer, and the offsets are not stored). What failed for a reason not classified
    /// (UNKNOWN_SERVER_ERROR) is as `unclassified` says: the changelog's records are sent again
    /// so too (``SettlingSend/Unclassified/waitedOut``), as a company's state dead-lettered
    /// would be lost while its contributions are committed; signals are dead-lettered after
    /// their sends (``SettlingSend/Unclassified/takenAsTheRecords``), as dead letters are. A
    /// record refused for what it is (larger than the broker takes, invalid), or a signal failed
    /// for a reason not classified 6 sends in a row, goes to dead letters with the reason
    /// instead; a dead letter refused too is sent again without its copy of the original, and
    /// one refused even so is logged and dropped: one company's heat must not stop the scoring
    /// stage, which would fail the same way after every restart. A record refused for its topic (misnamed, a partition the changelog lacks,
    /// a format it does not take) stops the aggregator, and with it the process, the
    /// contributions uncommitted (``StageRunnerError/topicRefuses(topic:_:)``): every record
    /// would be refused so. So does a dead letter failed for a reason not classified
    /// (``StageRunnerError/deadLettersFail(topic:_:)``), and an unusable producer.
    private func deliver(_ records: [ProducerRecord], _ producer: KafkaProducer, unclassified: SettlingSend.Unclassified) async throws {
        let send: SettlingSend.Send = { await producer.sendReportingEach($0) }
        var sending = SettlingSend(send: send, logger: logger, unclassified: unclassified, metrics: metrics)
        var pending = records
        while !pending.isEmpty {
            var letters: [ProducerRecord] = []
            for (record, settled) in zip(pending, try await sending.settle(pending)) {
                guard case .refused(let error) = settled else {
                    if let metrics { DeadLetterKind.count([record], in: metrics) }  // only letters carry the kind's header
                    continue
                }
                let reason = "output to \(record.topic) refused: \(ProduceFailure.summary(of: error))"
                guard record.topic == environment.topics.deadLetters else {
                    logger.error("heat output refused; dead-lettering it", [LogKey.topic: record.topic, LogKey.error: reason])
                    letters.append(environment.codec.deadLetter(
                        refused: record, reason: reason, service: environment.service, topics: environment.topics))
                    continue
                }
                guard ProduceFailure(error) != .unclassified else {
                    // The broker may be failing every write so: giving the letter up would
                    // commit its contribution with nothing stored.
                    logger.error("dead letter failed for a reason not classified: stopping, the contributions uncommitted",
                                 [LogKey.error: reason])
                    throw StageRunnerError.deadLettersFail(topic: record.topic, error)
                }
                // As a stage's runner does: the letter again without the original it copies.
                if let withheld = environment.codec.withholdingOriginal(ofLetter: record) {
                    logger.error("dead letter refused; sending it without the original", [LogKey.error: reason])
                    letters.append(withheld)
                } else {
                    logger.error("dead letter refused; dropped", [LogKey.error: reason])
                }
            }
            pending = letters
            // A letter failed for a reason not classified 6 sends in a row stops the aggregator (above).
            sending = SettlingSend(send: send, logger: logger, unclassified: .takenAsTheRecords, metrics: metrics)
        }
    }

    /// Restores the accounts of newly assigned partitions; forgets those of revoked ones, and
    /// returns their numbers.
    private func applyRebalances(_ owned: inout Owned) async throws -> Set<Int32> {
        var revoked: Set<Int32> = []
        for event in rebalances.drain() {
            switch event {
            case .assigned(let partitions):
                let numbers = Set(partitions.map(\.partition)).subtracting(owned.partitions)
                guard !numbers.isEmpty else { continue }
                try await restore(numbers.sorted(), &owned)
                owned.partitions.formUnion(numbers)
            case .revoked(let partitions):
                let numbers = Set(partitions.map(\.partition))
                owned.partitions.subtract(numbers)
                owned.accounts = owned.accounts.filter { !numbers.contains($0.value.partition) }
                revoked.formUnion(numbers)
                logger.info("revoked", ["partitions": numbers.sorted().map(String.init).joined(separator: ",")])
            case .revoking:
                break  // a change not written yet has its contributions' offsets held back: the next owner replays them
            }
        }
        return revoked
    }

    /// Reads the changelog partitions to their end and rebuilds their accounts, the leads the
    /// overrides disqualify excluded from heat (the overrides caught up with first, so the heat
    /// restored is the heat the live member had).
    private func restore(_ partitions: [Int32], _ owned: inout Owned) async throws {
        let started = Date()
        // Not caught up in time (the broker away): the overrides still to come are applied
        // after the restore, as every change of an override is.
        _ = try? await overrides.catchUp(timeout: .seconds(2))
        var latest: [String: (partition: Int32, state: AccountHeatState)] = [:]
        let changelog = partitions.map { TopicPartition(topic: environment.topics.accountHeat, partition: $0) }
        try await KafkaConsumer.readToEnd(changelog, configuration: environment.kafka, whileBrokerUnreachable: { [logger] error in
            logger.warning("waiting for the broker to restore account heat: \(error)")
        }) { record in
            guard let key = record.keyString else { return }
            guard record.value != nil else {
                latest[key] = nil
                return
            }
            do {
                latest[key] = (record.partition, try environment.codec.decode(AccountHeatState.self, record: record))
            } catch {
                // A newer version's (after a rollback), or one above a lowered MAX_RECORD_BYTES.
                logger.error("undecodable heat changelog record skipped; the company's heat goes on from its record before this one, if any: \(error)",
                             [LogKey.partition: String(record.partition), LogKey.offset: String(record.offset)])
                unreadableStates?.increment()
            }
        }
        var byAccount: [AccountID: (partition: Int32, states: [AccountHeatState])] = [:]
        for (partition, state) in latest.values {
            byAccount[state.accountID, default: (partition, [])].states.append(state)
        }
        for (accountID, restored) in byAccount {
            owned.accounts[accountID] = (restored.partition, AccountHeat(accountID: accountID, restoring: restored.states,
                                                                          excluding: isExcluded))
            owned.restored.insert(accountID)
        }
        logger.info("restored account heat", [
            "partitions": partitions.map(String.init).joined(separator: ","), "accounts": String(byAccount.count),
            "companies": String(latest.count), "seconds": String(format: "%.2f", Date().timeIntervalSince(started)),
        ])
    }

    /// Waits until both topics exist (logging once), and fails when their partition counts differ:
    /// restoring a partition's accounts reads the same partition of the changelog.
    private func waitForCoPartitionedTopics() async throws {
        let topics = environment.topics
        let admin = try KafkaAdmin(configuration: environment.kafka)
        var warned = false
        while true {
            let known = try await KafkaError.waitingForBroker(admin.listTopics) { [logger] error in
                logger.warning("waiting for the broker to list topics: \(error)")
            }
            if let inputs = known[topics.accountSignalContributions], let changelog = known[topics.accountHeat] {
                guard inputs == changelog else {
                    throw AccountHeatError.partitionCountsDiffer(
                        contributions: topics.accountSignalContributions, contributionPartitions: inputs,
                        changelog: topics.accountHeat, changelogPartitions: changelog)
                }
                return
            }
            if !warned {
                logger.warning("waiting for \(topics.accountSignalContributions) and \(topics.accountHeat) (leadctl topics create)")
                warned = true
            }
            try await Task.sleep(for: .seconds(2))
        }
    }
}

/// Why the account heat aggregator cannot run.
public enum AccountHeatError: Error, CustomStringConvertible {
    /// The repartition topic and the changelog have different partition counts.
    case partitionCountsDiffer(contributions: String, contributionPartitions: Int, changelog: String, changelogPartitions: Int)

    public var description: String {
        switch self {
        case let .partitionCountsDiffer(contributions, inputs, changelog, stored):
            "\(contributions) has \(inputs) partitions but \(changelog) has \(stored): they must be equal"
        }
    }
}
