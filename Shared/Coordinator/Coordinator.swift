import Foundation
import JSONCodec
import Kafka
import LeadModel
import LeadRules
import Runtime
import Streaming

/// Owns each lead's state and moves it through its phases.
///
/// - Input: `leads.discovered` (new leads; re-enrich commands), `leads.backlog`, `phase.results`,
///   the priority twins `leads.discovered.priority` and `phase.results.priority`, and
///   `web.enrichments`, consumed in one group with the range assignor, so an instance owns
///   partition *p* of each, and of the `lead.state` changelog it restores from when *p* is
///   assigned (co-partitioning; the partition counts are checked at start-up). An instance
///   joins the group only once its tables are read: a member that joined before it polls would
///   hold up every rebalance of the group until it did.
/// - Priority: records of the priority twins are fetched into a queue of their own, come first
///   in each poll, and their commands are sent before the rest of the poll is handled. So an
///   intent lead published on `leads.discovered.priority`, and each of its results, wait behind
///   at most one poll, not behind a standard backlog.
/// - Admission: `leads.discovered` is read as fast as it arrives. A new intent lead starts at
///   once (while fewer than ``CoordinatorSettings/maxRunningWithIntent`` run and fewer than
///   ``CoordinatorSettings/maxParkedLeads`` backlog records are parked; at either bound
///   `leads.discovered` and its priority twin are paused and their leads wait there, unread,
///   still ahead of the backlog; past ``CoordinatorSettings/maxWaitingLeads`` an intent lead
///   that would wait on its account's gates is queued instead, see ``CoordinatorCore/discoveryFlow()``),
///   and so does a new standard lead while there is room and nothing is queued; otherwise
///   a new standard lead (and a command for a lead not known yet) is copied to
///   `leads.backlog`, same partition, with its run id in a header. Backlog records start leads
///   only while fewer than ``CoordinatorSettings/maxRunningLeads`` are pending or processing
///   and fewer than ``CoordinatorSettings/maxWaitingLeads`` wait on billing or the outreach
///   window; at either bound the rest of the poll is held back uncommitted and the backlog's
///   partitions are paused. So a backlog of any size waits on the broker rather than in memory,
///   in order, and intent leads overtake it.
/// - Re-enrich requests are idempotent: one with a request id (version 2) runs under a run id
///   derived from lead id and request id, and a run id already in the lead's history starts
///   nothing, so the same request delivered twice is one run and one charge. A version 1
///   request has no id; its run id derives from its record, as a new lead's does.
/// - A ready lead is held only as the changelog offset of its last state; a re-enrich, a found
///   profile or a web enrichment of it loads the state back from there. One loaded for a backlog
///   record held back at the bound stays loaded until the record is handled
///   (``CoordinatorCore/keptForHeldRecords``); one whose pool entry cannot be read is read
///   once, and the record dead-lettered with the reason when handled
///   (``CoordinatorCore/unreadablePoolEntries``); one whose state record cannot be read is
///   read once too, and the record handled as one of a lead not loaded: a re-enrich or a found
///   profile is dead-lettered with the reason, a web enrichment changes nothing
///   (``CoordinatorCore/unreadableStates``).
/// - Per poll batch: every record is applied to its lead's ``LeadStateMachine`` in order; the
///   commands, changelog records, billing usage and progress parts it causes are sent together.
///   A processing lead's state record is held and written at most once per
///   ``CoordinatorSettings/stateWriteInterval``, a queued lead's pending state only once it has
///   waited that long (any other status at once); input offsets are
///   stored only with the batch that writes the states covering them, once the broker
///   acknowledged it. A crash replays the inputs since that write: they redo the same changes
///   and send the same requests (same run, phase and attempt), and records whose change was
///   written change nothing (results are matched on lead, run, phase and attempt; a known lead
///   discovered again starts nothing).
/// - Timers (attempt timeouts, retry backoffs) live in memory and are rebuilt from the restored
///   state, so a restart resumes interrupted runs.
/// - Billing: an account's paid phases (and, with its autopilot on, a retry of finalize that
///   may enroll the lead) wait while its latest `billing.events` record
///   (``AccountBillingEvent``) says `paused`; an account without one keeps its configuration's
///   `billingState`. The topic is read whole, like `accounts`, `offers` and `lead.overrides`, and
///   each batch first catches up with it, so a pause acknowledged before a lead was published
///   holds that lead; held leads continue within about a second of an `active` event. The
///   coordinator never pauses an account itself: an `account-paused` result (from a stage of an
///   older version, whose provider was out of credits) is a retriable failure of the attempt.
/// - Bad input (undecodable, invalid, unknown schema) goes to dead letters with the reason.
public final class Coordinator: Service {
    let environment: PipelineEnvironment
    private let settings: CoordinatorSettings
    let now: @Sendable () -> Date
    let logger: Logger
    let rebalances = Mailbox<RebalanceEvent>()
    /// Whether the broker has been answering, and since when (a ``BrokerWatch`` of its own).
    private let broker = BrokerReachability()
    private let metrics: MetricsRegistry
    let health: HealthStatus
    /// Reads the tables whole before the coordinator joins its group (``KafkaTableSet/start()``).
    private let readTables: @Sendable (KafkaTableSet) async throws -> Void

    /// - Parameters:
    ///   - metrics: where the coordinator's gauges and counters go (served by `/metrics`).
    ///   - health: marked ready once the group is joined and the assigned state restored.
    public convenience init(environment: PipelineEnvironment, settings: CoordinatorSettings,
                            now: @escaping @Sendable () -> Date = { Date() },
                            metrics: MetricsRegistry = MetricsRegistry(), health: HealthStatus = HealthStatus()) {
        self.init(environment: environment, settings: settings, now: now, metrics: metrics, health: health,
                  readTables: { try await $0.start() })
    }

    /// As the public initializer, with how the tables are read: a test holds the read there.
    init(environment: PipelineEnvironment, settings: CoordinatorSettings, now: @escaping @Sendable () -> Date,
         metrics: MetricsRegistry, health: HealthStatus, readTables: @escaping @Sendable (KafkaTableSet) async throws -> Void) {
        let environment = environment.reportingKafkaStatistics(to: metrics)
        self.environment = environment
        self.settings = settings
        self.now = now
        self.logger = environment.logger
        self.metrics = metrics
        self.health = health
        self.readTables = readTables
        health.markNotReady("restoring")
        registerCounters()
    }

    /// Creates the counters at zero, so that a rate or an increase over a window sees their first
    /// event (a series that appears at 1 shows no increase).
    private func registerCounters() {
        for topic in environment.topics.coordinatorInputs {
            metrics.counter(MetricNames.coordinatorRecordsConsumed, ["topic": topic]).increment(by: 0)
        }
        let topics = environment.topics
        for table in [topics.accounts, topics.offers, topics.leadOverrides, topics.billingEvents] {
            metrics.counter(MetricNames.coordinatorTableCatchUpTimeouts, ["topic": table]).increment(by: 0)
        }
        for phase in Phase.allCases {
            metrics.counter(MetricNames.coordinatorResultsHandled, ["phase": phase.rawValue]).increment(by: 0)
            for outcome in PhaseOutcome.metricLabels + [Self.timedOutLabel] {
                metrics.counter(MetricNames.coordinatorPhaseOutcomes, ["phase": phase.rawValue, "outcome": outcome]).increment(by: 0)
            }
        }
        DeadLetterKind.registerAtZero(in: metrics)
        metrics.gauge(MetricNames.coordinatorTimersPending).set(0)
        metrics.gauge(MetricNames.coordinatorTimeoutsHeld).set(0)
        metrics.gauge(MetricNames.coordinatorLeadsParked).set(0)
    }

    public func run() async throws {
        let topics = environment.topics
        let partitionCount = try await checkCoPartitioning()
        let producer = try environment.makeProducer()
        let group = environment.kafka.groupID ?? topics.coordinatorGroup
        var properties = settings.consumerProperties
        properties["partition.assignment.strategy"] = "range"
        let priorityTopics: Set = [topics.leadsDiscoveredPriority, topics.leadCommands, topics.phaseResultsPriority]
        // Subscribed once the tables are read: a member that joins before it polls holds up
        // every rebalance of the group (it cannot hand its partitions back) until it does.
        let consumer = try KafkaConsumer(configuration: environment.kafka, groupID: group,
                                         priorityTopics: priorityTopics.intersection(topics.coordinatorInputs),
                                         properties: properties, defaults: KafkaConsumer.boundedReadAhead,
                                         defersRevocation: true) { [rebalances] event in
            rebalances.append(event)  // applied by the loop (applyRebalances)
        }
        let accounts = KafkaTable<AccountConfig>(configuration: environment.kafka, topic: topics.accounts,
                                                 codec: environment.codec, logger: logger, metrics: metrics)
        let offers = KafkaTable<OfferConfig>(configuration: environment.kafka, topic: topics.offers,
                                             codec: environment.codec, logger: logger, metrics: metrics)
        let overrides = KafkaTable<LeadOverride>(configuration: environment.kafka, topic: topics.leadOverrides,
                                                 codec: environment.codec, logger: logger, metrics: metrics)
        let billingEvents = KafkaTable<AccountBillingEvent>(configuration: environment.kafka, topic: topics.billingEvents,
                                                            codec: environment.codec, logger: logger, metrics: metrics)
        let progress = KafkaTable<ProgressSnapshot>(configuration: environment.kafka, topic: topics.progress,
                                                    codec: environment.codec, logger: logger, metrics: metrics)
        let tableSet = KafkaTableSet(configuration: environment.kafka, accounts, offers, overrides, billingEvents, progress)
        let shutdown = ShutdownDeadline(grace: settings.shutdownGrace)
        do {
            try await readTables(tableSet)
            // Stopped already (while the tables were read): not joining spares the group a member
            // that leaves unannounced, which it would wait for until the session timeout.
            try Task.checkCancellation()
            try consumer.subscribe(to: topics.coordinatorInputs)
        } catch {
            await shutdown.close(consumer, logger: logger)
            await tableSet.stop()
            await producer.close(flushTimeoutMilliseconds: 0)
            throw error
        }
        let tables = Tables(accounts: accounts, offers: offers, overrides: overrides, billingEvents: billingEvents, progress: progress)
        let tracker = ProgressTracker(environment: environment, producer: producer,
                                      consumerProperties: settings.consumerProperties, now: now, shutdown: shutdown,
                                      retention: settings.progressRetention, metrics: metrics)
        let watch = BrokerWatch(interval: .seconds(1), timeout: .seconds(2))
        do {
            // Sends wait out an outage without end: after the grace, closing the producer fails
            // those still waiting, which ends the loop.
            let ending = try await shutdown.run(closingAfterGrace: producer) {
                // Children: the tracker's failure, or the tables' (no longer followed), stops the
                // loop, and so the process, within the shutdown bound as a SIGTERM does; the
                // broker watch runs until the loop ends. The loop's own failure (a topic refusing
                // its records) starts the bound too, so a tracker waiting on a send ends within it.
                try await withCompanion(shutdown.startingOnFailure(of: { try await tracker.run() }, closing: producer)) {
                    try await withCompanion(shutdown.startingOnFailure(of: { try await tableSet.watch() }, closing: producer)) {
                        try await withCompanion({ [kafka = self.environment.kafka, broker = self.broker, logger = self.logger] in
                            await watch.run(configuration: kafka, reachability: broker, logger: logger)
                        }, running: shutdown.startingOnFailure(of: {
                            try await self.coordinate(consumer: consumer, producer: producer, tables: tables,
                                                      priorityTopics: priorityTopics, partitionCount: partitionCount, group: group)
                        }, closing: producer))
                    }
                }
            }
            switch ending {
            case .byItself:
                break
            case .givenUp:
                logger.warning("""
                    stopped before the broker took the last outputs (\(settings.shutdownGrace)): their inputs are not committed, \
                    so the next owner handles them again
                    """)
            case .leftBehind:
                logger.warning("""
                    stopped waiting at the shutdown bound for work stuck in a call to the broker: what it had not delivered \
                    is not committed, so the next owner handles it again
                    """)
            }
        } catch {
            await shutdown.close(consumer, logger: logger)
            await tableSet.stop()
            await producer.close(flushTimeoutMilliseconds: 0)
            throw error
        }
        await shutdown.close(consumer, logger: logger)
        await tableSet.stop()
        await producer.close(flushTimeoutMilliseconds: 0)
    }

    /// The loop: polls, handles, sends and confirms until cancelled, then confirms the last batch.
    private func coordinate(consumer: KafkaConsumer, producer: KafkaProducer, tables: Tables, priorityTopics: Set<String>,
                            partitionCount: Int, group: String) async throws {
        let topics = environment.topics
        var state = State(partitionCount: partitionCount,
                          core: CoordinatorCore(settings: settings, topics: topics, logger: logger, now: now))
        var lastGateCheck = ContinuousClock.now
        var lastGaugeUpdate = ContinuousClock.now
        var tablesBehind = TablesBehind()
        logger.info("started", ["group": group])
        while !Task.isCancelled {
            let timeout = state.core.pollWaitMilliseconds(cap: 100)
            let batch: [ConsumerRecord]
            do {
                batch = try await consumer.poll(maxRecords: settings.pollBatch, timeoutMilliseconds: timeout)
            } catch let error as KafkaError where !error.isFatal {
                logger.warning("poll failed: \(error)")
                continue
            }
            // An array, not a lazy sequence: across modules a generic sequence is walked
            // unspecialized, and its iterator allocates for each record.
            metrics.countPerTopic(batch.map(\.topic), MetricNames.coordinatorRecordsConsumed)
            noteResultsRead(batch, &state)
            try await applyRebalances(&state, consumer: consumer, producer: producer)
            // Backlog records held back at the bound go first: they are older than the batch's.
            let records = state.heldBacklog + batch.filter { state.ownedPartitions.contains($0.partition) }
            if !records.isEmpty {
                // What was written to the tables before these records were is in force for them:
                // a billing pause acknowledged before a lead was published holds that lead, and a
                // lead's account or offer published just before it is known, and an override
                // acknowledged before a result is in force for that result.
                await catchUp(tables, &tablesBehind)
            }
            state.heldBacklog = []
            var loaded = try await loadFinishedLeads(needed: records, &state)
            var nextOffsets: [TopicPartition: Int64] = [:]
            // Records of the priority topics are applied and their commands sent first, so a hop
            // through a busy coordinator costs them a few records rather than a full batch.
            let fastLane = Set(records.indices.filter { priorityTopics.contains(records[$0].topic) })
            if !fastLane.isEmpty {
                if let previous = state.unconfirmed {
                    // A re-send of the previous batch must not land after these records.
                    state.unconfirmed = nil
                    try await confirm(previous, producer: producer, consumer: consumer, &state)
                }
                var outputs = Outputs()
                for record in fastLane.sorted().map({ records[$0] }) {
                    handle(record, &state, &outputs, tables)
                    noteHeldInput(record, &state)
                    nextOffsets[record.topicPartition] = record.offset + 1
                }
                let encoded = bounded(outputs.encoded(codec: environment.codec, logger: logger))
                let reports = try await acknowledged(producer.enqueue(encoded.records), encoded.records, producer: producer)
                retireReadyLeads(encoded, reports: reports, loaded: [], &state)
                // Leads just retired (made ready here, or by the batch confirmed above) are held
                // as positions again: the rest of the poll may address them (a web enrichment
                // polled with the result that made its lead ready).
                let rest = records.indices.filter { !fastLane.contains($0) }.map { records[$0] }
                loaded.formUnion(try await loadFinishedLeads(needed: rest, &state))
            }
            var outputs = Outputs()
            var admission = state.core.admission
            for (index, record) in records.enumerated() where !fastLane.contains(index) {
                // At the bound, a backlog partition's records wait (uncommitted) behind the first
                // held one. A loop starts a limited number, so a burst of new leads does not make
                // one huge batch of requests and state records.
                if record.topic == topics.leadsBacklog && !state.core.admits(partition: record.partition, &admission) {
                    state.heldBacklog.append(record)
                    continue
                }
                handle(record, &state, &outputs, tables)
                if record.topic == topics.leadsBacklog && state.parked.records[.init(partition: record.topicPartition, offset: record.offset)] != nil {
                    state.core.refund(&admission)  // parked: it started nothing
                }
                noteHeldInput(record, &state)
                nextOffsets[record.topicPartition] = max(nextOffsets[record.topicPartition] ?? 0, record.offset + 1)
            }
            // A held record's lead stays loaded (or known unreadable) until the record is handled;
            // one handled now is retired with this batch if it is still ready.
            loaded.formUnion(state.core.keepLoaded(forHeld: Set(state.heldBacklog.compactMap { $0.keyString.map { LeadID($0) } })))
            let awaiting = state.core.awaitingConfiguration
            let resolved = state.core.resolveAwaitingLeads(tables)
            state.notePark(resolved)
            append(resolved, to: &outputs)
            // A lead started now, its configuration known at last, holds its state as one started
            // by its record does: its input stays uncommitted until the state is written.
            for (leadID, waiting) in awaiting where state.core.awaitingConfiguration[leadID] == nil {
                noteHeldInput(waiting.source, &state)
            }
            noteBrokerOutages(&state)
            // Positions and watermarks are read only in a loop with a timer due: most loops have none.
            let readPast = state.core.timers.nextFireAt.map { $0 <= now() } == true ? resultsReadPast(consumer, state) : { _, _ in true }
            append(state.core.fireDueTimers(tables, resultsReadPast: readPast), to: &outputs)
            if !state.core.firedTimeouts.isEmpty { logTimeouts(consumer, state) }
            for (phase, count) in state.core.timedOutPhases {
                metrics.counter(MetricNames.coordinatorPhaseOutcomes, ["phase": phase.rawValue, "outcome": Self.timedOutLabel])
                    .increment(by: Double(count))
            }
            if ContinuousClock.now - lastGateCheck > .seconds(1) {
                lastGateCheck = ContinuousClock.now
                append(state.core.checkGates(tables), to: &outputs)
                await releaseParkedLeads(&state, tables)
            }
            append(state.core.writeHeldStates(heldSince: now().addingTimeInterval(-settings.stateWriteInterval.timeInterval)), to: &outputs)
            nextOffsets = committable(after: nextOffsets, &state)
            await forgetProgressParts(&state, &outputs, tables)
            appendProgressParts(&state, &outputs)
            countResults(&state)
            let encoded = bounded(outputs.encoded(codec: environment.codec, logger: logger))
            if let previous = state.unconfirmed {
                state.unconfirmed = nil
                try await confirm(previous, producer: producer, consumer: consumer, rewritten: outputs.changelogLeads, &state)
            }
            let delivery = await producer.enqueue(encoded.records)
            state.unconfirmed = UnconfirmedBatch(delivery: delivery, outputs: encoded, loaded: loaded, nextOffsets: nextOffsets)
            adjustInputPausing(&state, consumer)
            if ContinuousClock.now - lastGaugeUpdate >= .seconds(1) {
                lastGaugeUpdate = ContinuousClock.now
                updateGauges(state, tables)
                updateLags(consumer)
            }
        }
        health.markNotReady("draining")
        logger.info("stopping: committing and leaving the group")
        try await writeHeldStates(ofPartitions: nil, &state, producer: producer, consumer: consumer)
    }

    /// Before leads are given up (`partitions`, or every one for nil): confirms the batch handed
    /// to the producer before, while their partitions are still owned (acknowledged, sent again
    /// if need be, which it would be after the write below otherwise, and its offsets stored);
    /// then writes the states held for those leads and, once acknowledged, stores the offsets of
    /// every input handled, which those states no longer hold back. Their next owner restores
    /// the states from the changelog and reads on after what this instance handled, so it
    /// applies (and charges) nothing a second time.
    func writeHeldStates(ofPartitions partitions: Set<Int32>?, _ state: inout State,
                                 producer: KafkaProducer, consumer: KafkaConsumer) async throws {
        if let previous = state.unconfirmed {
            state.unconfirmed = nil
            try await confirm(previous, producer: producer, consumer: consumer, &state)
        }
        var outputs = Outputs()
        let held = if let partitions { state.core.writeHeldStates(ofPartitions: partitions) } else { state.core.writeHeldStates() }
        append(held, to: &outputs)
        let encoded = bounded(outputs.encoded(codec: environment.codec, logger: logger))
        try await confirm(UnconfirmedBatch(delivery: producer.enqueue(encoded.records), outputs: encoded, loaded: [],
                                           nextOffsets: committable(after: [:], &state)),
                          producer: producer, consumer: consumer, &state)
    }

    /// How long the broker must have answered before attempt timeouts fire again after an
    /// outage: librdkafka's longest reconnect backoff (`reconnect.backoff.max.ms`, 10 s), by which
    /// every stage's producer has reconnected and delivered what it answered meanwhile.
    static let brokerSettleTime = Duration.seconds(10)

    /// The outcome label of attempts that timed out (``CoordinatorCore/timedOutPhases``), beside
    /// the results' (``PhaseOutcome/metricLabels``); its series start at zero with theirs, so a
    /// first burst of timeouts counts in an `increase()`.
    static let timedOutLabel = "timed-out"

    /// Backlog records one loop may start.
    static let admissionsPerLoop = 200

    // MARK: - State

    /// What the run loop owns.
    struct State {
        /// Partitions of every lead-keyed topic (checked equal at start-up).
        let partitionCount: Int
        /// The leads and every decision about them.
        var core: CoordinatorCore<ConsumerRecord>
        /// Owned `leads.backlog` partitions paused because of ``CoordinatorSettings/maxRunningLeads``.
        var pausedBacklog: Set<TopicPartition> = []
        /// Owned `leads.discovered` and `leads.discovered.priority` partitions paused because of
        /// ``CoordinatorSettings/maxRunningWithIntent``.
        var pausedDiscovery: Set<TopicPartition> = []
        /// Owned `lead.commands` partitions paused at the running bound (``CoordinatorCore/commandsFlow()``).
        var pausedCommands: Set<TopicPartition> = []

        /// Forgets that `partitions` are paused: assigned ones start unpaused, revoked ones are
        /// no longer this instance's to resume.
        mutating func forgetPaused(_ partitions: [TopicPartition]) {
            pausedBacklog.subtract(partitions)
            pausedDiscovery.subtract(partitions)
            pausedCommands.subtract(partitions)
        }
        /// Backlog records polled while at the bound (at most one poll batch), in order, and
        /// parked ones fetched again for their account's open gates ahead of them.
        var heldBacklog: [ConsumerRecord] = []
        /// Backlog records parked at the waiting bound.
        var parked = ParkedRecords()
        /// When parked records may next be fetched again after a fetch that missed some.
        var nextReleaseAttempt = ContinuousClock.now
        /// When the parts of forgotten searches are next looked for (by the coordinator's clock):
        /// at once after a restore, whose parts are written with the next batch.
        var nextProgressSweep = Date.distantPast

        /// Tells the core how many records count against the parked bound, and how many leads are parked.
        mutating func countParked() {
            core.parkedLeads = parked.countedAgainstBound
            core.leadsParkedOnGates = parked.leadsOnGates
        }

        /// Holds the records of `effects`' park decisions.
        mutating func notePark(_ effects: [CoordinatorCore<ConsumerRecord>.Effect]) {
            for case .park(let record, let account, let paid) in effects {
                guard let key = record.keyString else { continue }
                parked.park(.init(partition: record.topicPartition, offset: record.offset),
                            .init(leadID: LeadID(key), account: account, paid: paid))
            }
            countParked()
        }
        /// One past the last record handled, per input partition.
        var handledUpTo: [TopicPartition: Int64] = [:]
        /// Results handled since the counters were last increased, by phase and outcome (added to
        /// them once a loop, not once a result).
        var resultsHandled: [ResultCount: Int] = [:]
        /// The lowest input record of each lead whose state is held (``CoordinatorCore/unwrittenStates``),
        /// per partition: no offset past it is stored until the state is written.
        var heldInputs = HeldInputs()
        var ownedPartitions: Set<Int32> = []
        /// The latest timestamp of a record read from each results partition (standard and
        /// priority): how far the answers are read (``CoordinatorCore/fireDueTimers(_:resultsReadPast:)``).
        var resultsReadThrough: [TopicPartition: Date] = [:]
        /// When each owned partition was assigned (and restored).
        var ownedSince: [Int32: ContinuousClock.Instant] = [:]
        /// The previous batch's records, handed to the producer while the next batch is handled.
        var unconfirmed: UnconfirmedBatch?
        /// The leads every charge of whose last state is known acknowledged, and those an
        /// earlier owner may have stopped before its charges were.
        var chargesKnownSent = ChargesKnownSent()
    }

    /// Waits, up to 2 s a table, until each table holds what its topic held now; counts each
    /// table that did not, and says so in the log at most once a minute (a broker outage would
    /// otherwise log it with every batch).
    private func catchUp(_ tables: Tables, _ behind: inout TablesBehind) async {
        var late: [String] = []
        var failure: (any Error)?
        for table in tables.all {
            // After a failure to ask the broker (it is away) the others are not asked too: each
            // would wait out the admin client's timeout.
            if let failure {
                late.append("\(table.topic) (\(failure))")
            } else {
                do {
                    if try await table.catchUp(timeout: .seconds(2)) { continue }
                    late.append(table.topic)
                } catch {
                    failure = error
                    late.append("\(table.topic) (\(error))")
                }
            }
            metrics.counter(MetricNames.coordinatorTableCatchUpTimeouts, ["topic": table.topic]).increment()
        }
        guard !late.isEmpty else { return }
        behind.batches += 1
        if let warned = behind.warnedAt, ContinuousClock.now - warned < .seconds(60) { return }
        logger.warning("tables not caught up within 2 s: records handled with the rows they hold (an account paused just before may not hold its leads)",
                       ["tables": late.joined(separator: ", "), "batches": String(behind.batches)])
        behind = TablesBehind(batches: 0, warnedAt: .now)
    }

    /// Batches handled with a table not caught up since the last warning, and when it was.
    private struct TablesBehind {
        var batches = 0
        var warnedAt: ContinuousClock.Instant?
    }

    /// The compacted tables the coordinator reads whole.
    struct Tables: CoordinatorTables {
        let accounts: KafkaTable<AccountConfig>
        let offers: KafkaTable<OfferConfig>
        /// People's overrides of buyer states, by lead id: a few per account, so every instance
        /// holds them all, like the accounts.
        let overrides: KafkaTable<LeadOverride>
        /// The billing system's latest event per account (``AccountBillingEvent``), by account id.
        let billingEvents: KafkaTable<AccountBillingEvent>
        /// The searches' snapshots (`progress`), by search id: a search no longer there was
        /// forgotten by its tracker, and its parts here are dropped (``ProgressRetention``). Not
        /// caught up with each batch; only before a look for forgotten parts.
        let progress: KafkaTable<ProgressSnapshot>

        /// The tables caught up with each batch, in that order.
        var all: [any FollowedTable] { [accounts, offers, overrides, billingEvents] }

        func account(_ id: AccountID) -> AccountConfig? { accounts[id.rawValue] }
        func offer(_ id: OfferID) -> OfferConfig? { offers[id.rawValue] }
        func accountRefusal(_ id: AccountID) -> String? { accounts.refusal(of: id.rawValue) }
        func offerRefusal(_ id: OfferID) -> String? { offers.refusal(of: id.rawValue) }
        func override(of leadID: LeadID) -> LeadOverride? { overrides[leadID.rawValue] }
        func billingEvent(of accountID: AccountID) -> AccountBillingEvent? { billingEvents[accountID.rawValue] }

        /// How many accounts are paused now, by the rule of ``CoordinatorTables/billingState(of:)``.
        var pausedAccountCount: Int {
            let (events, configurations) = (billingEvents.all, accounts.all)
            return Set(events.keys).union(configurations.keys).count {
                BillingState.inForce(event: events[$0], configuration: configurations[$0]) == .paused
            }
        }
    }

    // MARK: - Handling records

    /// Decodes `record` into an input of the core, and appends what the core decides.
    private func handle(_ record: ConsumerRecord, _ state: inout State, _ outputs: inout Outputs, _ tables: Tables) {
        let topics = environment.topics
        let codec = environment.codec
        if !state.core.unreadablePoolEntries.isEmpty, let key = record.keyString, let reason = state.core.unreadablePoolEntries[LeadID(key)],
           CoordinatorCore<ConsumerRecord>.changesAReadyLead(
               topic: record.topic, schema: record.header(MessageHeaders.schema).map { String(decoding: $0, as: UTF8.self) }, topics: topics) {
            outputs.append(codec.deadLetter(
                for: record, reason: "lead \(key)'s pool entry cannot be read (\(reason)); not applied, so the entry is not replaced "
                    + "by an empty profile: replay once it can be (every coordinator on a version that reads it, the read answered in time)",
                service: environment.service, topics: topics))
            if record.topic == topics.leadsBacklog {  // handled: no longer parked, if it was
                state.parked.remove(.init(partition: record.topicPartition, offset: record.offset))
                state.countParked()
            }
            return
        }
        do {
            if topics.leadInputs.contains(record.topic) { try Self.checkHeaders(of: record) }
            if record.topic == topics.webEnrichments {
                // A tombstone: a completed enrichment clearing a failure under `<key>#failed`.
                guard record.value != nil else { return }
                let enrichment = try codec.decode(WebEnrichment.self, record: record)
                append(state.core.webEnrichment(enrichment, tables), to: &outputs)
                return
            }
            if record.topic == topics.phaseResults || record.topic == topics.phaseResultsPriority {
                let result = try codec.decode(PhaseResultEnvelope.self, record: record)
                state.resultsHandled[ResultCount(phase: result.phase, outcome: result.outcome.metricLabel), default: 0] += 1
                let output = OutputReference(phase: result.phase, topic: record.topic, partition: record.partition, offset: record.offset)
                append(state.core.phaseResult(result, output: output, tables), to: &outputs)
                return
            }
            let schema = record.header(MessageHeaders.schema).map { String(decoding: $0, as: UTF8.self) }
            let fromBacklog = record.topic == topics.leadsBacklog
            let runID = runID(of: record)
            if fromBacklog {
                // Handled again (started, refused or parked anew), or a command of a parked lead,
                // which parks behind it: handled before the lead is known, it would be refused.
                state.parked.remove(.init(partition: record.topicPartition, offset: record.offset))
                if schema != LeadDiscovered.schemaName, let key = record.keyString, let hold = state.parked.hold(of: LeadID(key)) {
                    state.parked.park(.init(partition: record.topicPartition, offset: record.offset), hold, behindItsLead: true)
                    state.countParked()
                    return
                }
                state.countParked()
            }
            if schema == ReEnrichRequested.schemaName {
                let request = try environment.inputCodec.decode(ReEnrichRequested.self, record: record)
                if let rerouted = misrouted(record, leadID: request.leadID, state) {
                    outputs.append(rerouted)
                    return
                }
                if let problem = keyProblem(record, leadID: request.leadID) {
                    outputs.append(codec.deadLetter(for: record, reason: problem, service: environment.service, topics: topics))
                    return
                }
                let runID = request.requestID.map { Self.reEnrichRunID(leadID: request.leadID, requestID: $0) } ?? runID
                append(state.core.reEnrich(request, runID: runID, fromBacklog: fromBacklog, source: record, tables), to: &outputs)
                return
            }
            if schema == ProfileFound.schemaName {
                let found = try environment.inputCodec.decode(ProfileFound.self, record: record)
                if let rerouted = misrouted(record, leadID: found.leadID, state) {
                    outputs.append(rerouted)
                    return
                }
                // The re-enrich run's id derives from the record's place, so a replay asks for the same run.
                let hash = StableHash.fnv1a("profile-found/\(record.topic)/\(record.partition)/\(record.offset)/\(found.leadID)")
                let decisions = state.core.profileFound(found, queueRunID: runID, reEnrichRunID: RunID("run-pf-" + String(hash, radix: 16)),
                                                        fromBacklog: fromBacklog, misaddressed: keyProblem(record, leadID: found.leadID),
                                                        source: record, tables)
                append(decisions, to: &outputs)
                return
            }
            let lead = try environment.inputCodec.decode(LeadDiscovered.self, record: record)
            if let rerouted = misrouted(record, leadID: lead.leadID, state) {
                outputs.append(rerouted)
                return
            }
            if let problem = keyProblem(record, leadID: lead.leadID) {
                outputs.append(codec.deadLetter(for: record, reason: problem, service: environment.service, topics: topics))
                return
            }
            let decisions = state.core.discovered(lead, runID: runID, partition: record.partition, fromBacklog: fromBacklog,
                                                  source: record, tables)
            state.notePark(decisions)
            append(decisions, to: &outputs)
        } catch {
            logger.warning("dead letter: \(error)", [LogKey.topic: record.topic, LogKey.offset: String(record.offset)])
            if let lead = readableLead(record, state) {
                append(state.core.unreadable(lead, runID: runID(of: record), partition: record.partition, source: record,
                                             reason: "\(error)"), to: &outputs)
            } else {
                outputs.append(codec.deadLetter(for: record, reason: "\(error)", service: environment.service, topics: topics))
            }
        }
    }

    /// What can be read of a published lead the codec refused, when its ids are readable and it
    /// is where its lead's state goes (keyed by its id or not at all, in its lead's partition):
    /// it is refused then as the core refuses a lead, and counts for its search.
    private func readableLead(_ record: ConsumerRecord, _ state: State) -> LeadDiscovered? {
        let topics = environment.topics
        guard record.topic == topics.leadsDiscovered || record.topic == topics.leadsDiscoveredPriority,
              record.header(MessageHeaders.schema).map({ String(decoding: $0, as: UTF8.self) }) ?? LeadDiscovered.schemaName
                == LeadDiscovered.schemaName,
              let value = record.value, let lead = LeadDiscovered.readableIdentity(in: value, at: now()),
              keyProblem(record, leadID: lead.leadID) == nil,
              KafkaPartitioner.partition(forKey: lead.leadID.rawValue, partitionCount: state.partitionCount) == record.partition
        else { return nil }
        return lead
    }

    /// An input record's headers above ``MessageHeaders/maxInputBytes``.
    struct HeadersTooLarge: Error, CustomStringConvertible {
        let bytes: Int
        var description: String { "its headers of \(bytes) bytes are above the \(MessageHeaders.maxInputBytes) an input record may carry" }
    }

    /// Refuses an input record whose headers would leave its copies (the backlog's, with a run
    /// id header more; one published again in its lead's partition) no room.
    static func checkHeaders(of record: ConsumerRecord) throws(HeadersTooLarge) {
        let bytes = record.headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
        if bytes > MessageHeaders.maxInputBytes { throw HeadersTooLarge(bytes: bytes) }
    }

    /// Why a record keyed by something else than its lead id is refused; nil for one without a key.
    private func keyProblem(_ record: ConsumerRecord, leadID: LeadID) -> String? {
        guard let key = record.keyString, key != leadID.rawValue else { return nil }
        return "record key '\(key)' differs from leadID '\(leadID)'"
    }

    /// Turns the core's effects into records, in order.
    private func append(_ effects: [CoordinatorCore<ConsumerRecord>.Effect], to outputs: inout Outputs) {
        let topics = environment.topics
        for effect in effects {
            switch effect {
            case .messages(let job):
                outputs.append(job)
            case .deadLetter(let record, let reason):
                outputs.append(environment.codec.deadLetter(for: record, reason: reason, service: environment.service, topics: topics))
            case .queueInBacklog(let record, let runID):
                enqueue(record, runID: runID, &outputs)
            case .removeMembership(let key, let partition):
                outputs.append(ProducerRecord(topic: topics.leadState, partition: partition, key: Array(key.utf8), value: nil))
            case .park:
                break  // held by the loop (``handle(_:_:_:_:)``); nothing to write
            }
        }
    }

    /// The copy to publish instead of handling `record`, when it arrived on an input topic without
    /// a key or in another partition than its lead id's (murmur2, the Java client's partitioner):
    /// the same record, keyed by the lead id, in the lead's partition, where this or another
    /// coordinator finds the lead's state. Nil when the record is where it belongs, or keyed by
    /// something else than its lead id (the caller dead-letters that).
    private func misrouted(_ record: ConsumerRecord, leadID: LeadID, _ state: State) -> ProducerRecord? {
        let topics = environment.topics
        guard topics.leadInputs.contains(record.topic) else { return nil }
        if let key = record.keyString, key != leadID.rawValue { return nil }
        let partition = KafkaPartitioner.partition(forKey: leadID.rawValue, partitionCount: state.partitionCount)
        guard record.key == nil || record.partition != partition else { return nil }
        logger.warning("input record in the wrong partition or without a key: published again in its lead's partition",
                       [LogKey.leadID: leadID.rawValue, LogKey.topic: record.topic, "partition": String(record.partition),
                        "leadPartition": String(partition)])
        return ProducerRecord(topic: record.topic, partition: partition, key: Array(leadID.rawValue.utf8), value: record.value,
                              headers: record.headers)
    }

    /// The run id of an input record: the one carried by a backlog copy, else derived from the record.
    private func runID(of record: ConsumerRecord) -> RunID {
        if record.topic == environment.topics.leadsBacklog, let header = record.header(MessageHeaders.runID) {
            return RunID(String(decoding: header, as: UTF8.self))
        }
        return RunID(deterministicRunID(record))
    }

    /// Queues an input record in `leads.backlog`, in the partition it was read from, with its run id.
    private func enqueue(_ record: ConsumerRecord, runID: RunID, _ outputs: inout Outputs) {
        let headers = record.headers.filter { $0.key != MessageHeaders.runID } + [KafkaHeader(key: MessageHeaders.runID, string: runID.rawValue)]
        outputs.append(ProducerRecord(topic: environment.topics.leadsBacklog, partition: record.partition,
                                      key: record.key, value: record.value, headers: headers))
    }

    /// The run id of a re-enrich request with a request id: from the lead and the request, not
    /// from the record, so the same request delivered twice (two records) is the same run, which
    /// the state machine starts once.
    static func reEnrichRunID(leadID: LeadID, requestID: RequestID) -> RunID {
        let hash = StableHash.fnv1a("reenrich/\(leadID)/\(requestID)")
        return RunID("run-re-" + String(hash, radix: 16))
    }

    /// The first run's id derives from the input record, so a replay after a crash asks the
    /// stages for the same run and their answers still match.
    private func deterministicRunID(_ record: ConsumerRecord) -> String {
        let hash = StableHash.fnv1a("\(record.topic)/\(record.partition)/\(record.offset)/\(record.keyString ?? "")")
        return "run-" + String(hash, radix: 16)
    }

    /// The offsets to store after a batch that handled up to `handled`: per input partition, one
    /// past its last handled record, but never past a record still waiting for its configuration
    /// nor past the lowest input of a lead whose state is still held (``HeldInputs``), nor past a
    /// parked record. Every partition handled is named, so one
    /// held back before moves on once what held it is written.
    private func committable(after handled: [TopicPartition: Int64], _ state: inout State) -> [TopicPartition: Int64] {
        for (partition, next) in handled { state.handledUpTo[partition] = max(state.handledUpTo[partition] ?? 0, next) }
        var floors: [TopicPartition: Int64] = [:]
        for waiting in state.core.awaitingConfiguration.values {
            floors[waiting.source.topicPartition] = min(floors[waiting.source.topicPartition] ?? .max, waiting.source.offset)
        }
        for (partition, offset) in state.parked.floors() {
            floors[partition] = min(floors[partition] ?? .max, offset)
        }
        let unwritten = state.core.unwrittenStates
        for (partition, offset) in state.heldInputs.floors(heldSince: { unwritten[$0]?.since }) {
            floors[partition] = min(floors[partition] ?? .max, offset)
        }
        var offsets: [TopicPartition: Int64] = [:]
        for (partition, next) in state.handledUpTo {
            offsets[partition] = min(next, floors[partition] ?? .max)
        }
        return offsets
    }

    /// Fetches again parked backlog records whose accounts' gates are open now, at most a poll
    /// batch at a time (the next once this one is handled), lowest offsets first; they are
    /// handled first in the next loop, as records held back at the bound are. A record not
    /// fetched (the read timed out, or the topic's retention took it) stays parked, its offset
    /// held, and is tried again after 10 s; the loop waits at most 5 s a try.
    private func releaseParkedLeads(_ state: inout State, _ tables: Tables) async {
        // One batch handed back at a time: the next waits until this one is handled, so at the
        // running bound the held records stay one batch, not every parked one.
        guard state.parked.count > 0, state.parked.releasing.isEmpty, ContinuousClock.now >= state.nextReleaseAttempt else { return }
        let now = now()
        // Each account's gates read once a pass, however many of its records are parked.
        var gatesOf: [AccountID: LeadStateMachine.Gates] = [:]
        let positions = state.parked.releasable(limit: settings.pollBatch) { hold in
            let gates = gatesOf[hold.account] ?? CoordinatorCore<ConsumerRecord>.gates(for: hold.account, tables, at: now)
            gatesOf[hold.account] = gates
            return !gates.holdRun(hasPaidPhase: hold.paid)
        }
        guard !positions.isEmpty else { return }
        var wanted: [TopicPartition: Set<Int64>] = [:]
        for position in positions { wanted[position.partition, default: []].insert(position.offset) }
        do {
            let fetched = try await KafkaConsumer.records(at: wanted, configuration: environment.kafka, timeout: .seconds(5),
                                                          whileBrokerUnreachable: waitingForBroker)
            let found = positions.filter { fetched[$0.partition]?[$0.offset] != nil }
            if found.count < positions.count {
                logger.warning("\(positions.count - found.count) parked backlog records not fetched again; they stay parked, tried again in 10 s")
                state.nextReleaseAttempt = ContinuousClock.now + .seconds(10)
            }
            state.parked.markReleasing(found)
            state.countParked()
            state.heldBacklog = found.compactMap { fetched[$0.partition]?[$0.offset] } + state.heldBacklog
            logger.info("gates open: \(found.count) parked backlog records handed back")
        } catch {
            logger.warning("parked backlog records not fetched again (tried again in 10 s): \(error)")
            state.nextReleaseAttempt = ContinuousClock.now + .seconds(10)
        }
    }

    /// Keeps where the inputs of a lead whose state is held are (``State/heldInputs``).
    private func noteHeldInput(_ record: ConsumerRecord, _ state: inout State) {
        guard let key = record.keyString, let held = state.core.unwrittenStates[LeadID(key)] else { return }
        state.heldInputs.note(LeadID(key), heldSince: held.since, record.topicPartition, record.offset)
    }

    /// A phase and the outcome of its results, the labels of the results counters.
    struct ResultCount: Hashable {
        let phase: Phase
        let outcome: String
    }

    /// Adds the results handled since the last call to the results counters.
    private func countResults(_ state: inout State) {
        guard !state.resultsHandled.isEmpty else { return }
        var perPhase: [Phase: Int] = [:]
        for (key, count) in state.resultsHandled {
            perPhase[key.phase, default: 0] += count
            metrics.counter(MetricNames.coordinatorPhaseOutcomes, ["phase": key.phase.rawValue, "outcome": key.outcome]).increment(by: Double(count))
        }
        for (phase, count) in perPhase {
            metrics.counter(MetricNames.coordinatorResultsHandled, ["phase": phase.rawValue]).increment(by: Double(count))
        }
        state.resultsHandled.removeAll(keepingCapacity: true)
    }

    /// Drops the parts of searches their trackers forgot (gone from `progress`) that have not
    /// changed for the retention period, and adds their tombstones to the batch: every
    /// ``ProgressRetention/sweepInterval`` of the coordinator's clock, and right after a restore,
    /// before the restored parts are written (so a restart never writes a forgotten search's
    /// part again; a crash before the tombstones were acknowledged has the restore write them
    /// again). `progress` is caught up first, within 2 s; what it holds then is used.
    private func forgetProgressParts(_ state: inout State, _ outputs: inout Outputs, _ tables: Tables) async {
        let at = now()
        guard settings.progressRetention.period != nil, at >= state.nextProgressSweep else { return }
        state.nextProgressSweep = at.addingTimeInterval(settings.progressRetention.sweepInterval)
        _ = try? await tables.progress.catchUp(timeout: .seconds(2))
        let forgotten = state.core.progress.takeForgotten(retention: settings.progressRetention, at: at) { tables.progress[$0.rawValue] != nil }
        for part in forgotten {
            outputs.append(ProducerRecord(
                topic: environment.topics.progressParts,
                partition: KafkaPartitioner.partition(forKey: part.searchID.rawValue, partitionCount: state.partitionCount),
                key: Array(part.key.utf8), value: nil))
        }
        if !forgotten.isEmpty { logger.info("progress of forgotten searches dropped", ["parts": String(forgotten.count)]) }
    }

    /// The progress parts the batch changed, each keyed by search and partition, in the partition
    /// of its search id (where the tracker finds the search's other parts and its total).
    private func appendProgressParts(_ state: inout State, _ outputs: inout Outputs) {
        let topic = environment.topics.progressParts
        for part in state.core.progress.takeChanged(at: now()) {
            do {
                var record = try environment.codec.record(part, topic: topic, key: part.key)
                record.partition = KafkaPartitioner.partition(forKey: part.searchID.rawValue, partitionCount: state.partitionCount)
                outputs.append(record)
            } catch {
                logger.error("cannot encode a progress part: \(error)", ["searchID": part.searchID.rawValue])
            }
        }
    }

    /// The results topics: standard and priority.
    private var resultsTopics: [String] {
        [environment.topics.phaseResults(isPriority: false), environment.topics.phaseResults(isPriority: true)]
    }

    /// Notes, per results partition, the latest record timestamp read (``resultsReadPast(_:_:)``).
    private func noteResultsRead(_ batch: [ConsumerRecord], _ state: inout State) {
        let results = resultsTopics
        for record in batch where results.contains(record.topic) {
            guard let milliseconds = record.timestampMilliseconds else { continue }
            let at = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            if at > state.resultsReadThrough[record.topicPartition] ?? .distantPast { state.resultsReadThrough[record.topicPartition] = at }
        }
    }

    /// Whether both results partitions (standard and priority) of a lead-keyed partition are read
    /// past a deadline: a record stamped at or after it was read, or nothing is left to read (the
    /// position is at the high watermark of the last fetch). A partition with no record read since
    /// it was assigned (just restored: its answers may be waiting) counts as unread for the longest
    /// phase timeout after the assignment, then as read, so a timeout is never held for good for
    /// want of a record. Record timestamps are the stages' clocks: skew between hosts shifts the
    /// hold by as much.
    ///
    /// Nothing counts as read past while the broker does not answer, nor for
    /// ``brokerSettleTime`` after it answers again: a stage that answered during an outage
    /// delivers its result only once its producer has reconnected, after the position looks
    /// caught up. The time the broker was away is not held against an attempt.
    private func resultsReadPast(_ consumer: KafkaConsumer, _ state: State) -> (Int32, Date) -> Bool {
        guard broker.hasAnswered(for: Self.brokerSettleTime) else { return { _, _ in false } }
        let results = resultsTopics
        let partitions = results.flatMap { topic in state.ownedPartitions.map { TopicPartition(topic: topic, partition: $0) } }
        let positions = consumer.positions(partitions)
        let grace = Duration.seconds(settings.machine.phaseTimeouts.values.max() ?? 60)
        var behind: [TopicPartition: Date] = [:]  // partitions with records left to read: read through
        for partition in partitions {
            let isUnread: Bool
            if let next = positions[partition] ?? nil {
                isUnread = consumer.fetchedWatermarks(partition).map { next < $0.high } ?? false
            } else {
                isUnread = state.ownedSince[partition.partition].map { ContinuousClock.now - $0 < grace } ?? false
            }
            if isUnread { behind[partition] = state.resultsReadThrough[partition] ?? .distantPast }
        }
        return { partition, deadline in
            results.allSatisfy { topic in
                (behind[TopicPartition(topic: topic, partition: partition)]).map { $0 >= deadline } ?? true
            }
        }
    }

    /// Gives the attempts in flight back the time the broker was away, for each outage the
    /// watch saw end (``CoordinatorCore/brokerWasAway(from:for:)``). The loop may not turn during
    /// an outage (it waits for the broker's acknowledgement of its last batch), so the watch
    /// keeps the outages until the loop takes them.
    private func noteBrokerOutages(_ state: inout State) {
        for outage in broker.takeOutages() {
            let moved = state.core.brokerWasAway(from: outage.start, for: outage.duration)
            logger.warning("the broker answers again: the attempts in flight get back the time it was away",
                           ["seconds": String(Int(outage.duration.rounded())), "timeouts-moved": String(moved)])
        }
    }

    /// Logs the attempts that just timed out, by partition, with what the instance knew of
    /// those partitions' answers when it let them time out (``resultsReadPast(_:_:)``): the
    /// results partitions' positions against the last fetched ends, the latest answer read,
    /// and how long the partition has been owned. For telling a stage that did not answer from
    /// an answer not read.
    private func logTimeouts(_ consumer: KafkaConsumer, _ state: State) {
        let results = resultsTopics
        for (partition, count) in state.core.firedTimeouts.sorted(by: { $0.key < $1.key }) {
            var fields = [LogKey.partition: String(partition), "timeouts": String(count),
                          "owned-seconds": state.ownedSince[partition].map { String((ContinuousClock.now - $0).components.seconds) } ?? "-"]
            let topicPartitions = results.map { TopicPartition(topic: $0, partition: partition) }
            let positions = consumer.positions(topicPartitions)
            for (name, topicPartition) in zip(["results", "priority-results"], topicPartitions) {
                let position = (positions[topicPartition] ?? nil).map(String.init) ?? "none"
                let end = consumer.fetchedWatermarks(topicPartition).map { String($0.high) } ?? "none"
                let read = state.resultsReadThrough[topicPartition].map { ISO8601.format($0) } ?? "none"
                fields[name] = "position \(position) of \(end), read through \(read)"
            }
            logger.warning("attempts timed out", fields)
        }
    }

    /// Sets the lag of each assigned partition: the last fetched high watermark minus the
    /// consumer's position (the batch in hand is not counted); partitions no longer assigned lose
    /// their series. Not for `leads.backlog`: it is paused at the running bound, so not fetched,
    /// and its cached high watermark goes stale (`leadctl lag` asks the broker).
    private func updateLags(_ consumer: KafkaConsumer) {
        let assignment = consumer.assignment.filter { $0.topic != environment.topics.leadsBacklog }
        let positions = consumer.positions(assignment.sorted())
        var lags: [[String: String]: Double] = [:]
        for tp in assignment {
            guard let high = consumer.fetchedWatermarks(tp)?.high, let next = positions[tp] ?? nil else { continue }
            lags[["topic": tp.topic, "partition": String(tp.partition)]] = Double(max(0, high - next))
        }
        metrics.replaceGauges(MetricNames.coordinatorPartitionLag, with: lags)
    }

    private func updateGauges(_ state: State, _ tables: Tables) {
        var counts: [LeadStatus: Int] = [:]
        state.core.leads.forEach { entry in
            if let status = entry.machine.state?.status { counts[status, default: 0] += 1 }
        }
        counts[.ready, default: 0] += state.core.finished.count
        counts[.refused, default: 0] += state.core.refusedLeads.count  // no machine: its table counts them
        for status in LeadStatus.allCases {
            metrics.gauge(MetricNames.coordinatorLeads, ["status": status.rawValue]).set(Double(counts[status] ?? 0))
        }
        metrics.gauge(MetricNames.coordinatorTimersPending).set(Double(state.core.timers.count))
        metrics.gauge(MetricNames.coordinatorTimeoutsHeld).set(Double(state.core.heldTimeouts))
        metrics.gauge(MetricNames.coordinatorLeadsParked).set(Double(state.parked.count))
        metrics.gauge(MetricNames.coordinatorAccountsBillingPaused).set(Double(tables.pausedAccountCount))
    }

    // MARK: - Admission and ready leads

    /// Pauses the owned backlog partitions at ``CoordinatorSettings/maxRunningLeads`` running
    /// leads or ``CoordinatorSettings/maxParkedLeads`` parked ones (or while records are held
    /// back), and resumes them when both are at three quarters of their bound; the same for the
    /// owned `leads.discovered` partitions and their priority twins at
    /// ``CoordinatorSettings/maxRunningWithIntent`` running leads (an intent lead starts past the
    /// running bound on either topic) or the parked bound.
    private func adjustInputPausing(_ state: inout State, _ consumer: KafkaConsumer) {
        let topics = environment.topics
        let assignment = consumer.assignment
        adjust(Set(assignment.filter { $0.topic == topics.leadsBacklog }),
               to: state.core.backlogFlow(holdingRecords: !state.heldBacklog.isEmpty), paused: &state.pausedBacklog, consumer)
        adjust(Set(assignment.filter { $0.topic == topics.leadsDiscovered || $0.topic == topics.leadsDiscoveredPriority }),
               to: state.core.discoveryFlow(), paused: &state.pausedDiscovery, consumer)
        // A re-enrich or found profile starts a run of a ready lead, held whole like a new one,
        // so a burst of them waits on the broker too, at the running bound only.
        adjust(Set(assignment.filter { $0.topic == topics.leadCommands }),
               to: state.core.commandsFlow(), paused: &state.pausedCommands, consumer)
    }

    private func adjust(_ partitions: Set<TopicPartition>, to flow: CoordinatorCore<ConsumerRecord>.FetchFlow,
                        paused: inout Set<TopicPartition>, _ consumer: KafkaConsumer) {
        do {
            switch flow {
            case .pause:
                let toPause = partitions.subtracting(paused)
                guard !toPause.isEmpty else { return }
                try consumer.pause(toPause.sorted())
                paused.formUnion(toPause)
            case .resume:
                let toResume = partitions.intersection(paused)
                guard !toResume.isEmpty else { return }
                try consumer.resume(toResume.sorted())
                paused.subtract(toResume)
            case .keep:
                break
            }
        } catch {
            logger.warning("pause or resume failed: \(error)", [LogKey.topic: partitions.first?.topic ?? ""])
        }
    }

    /// Loads back the state of the ready leads that records of `batch` address (a re-enrich, a
    /// found profile, a web enrichment); a repeated discovery needs none
    /// (``CoordinatorCore/changesAReadyLead(topic:schema:topics:)``). A late or repeated result
    /// (``CoordinatorCore/resultConcernsAReadyLead(_:)``) loads its lead only when the lead's
    /// state says it sends a record again (``LeadStateMachine/sendsAgain(_:state:entry:chargesSent:)``)
    /// and its profile is found: an entry
    /// written from the placeholder would replace the lead's profile. A finalize answer of the
    /// lead's own run that wrote its entry again further on loads the lead without its profile:
    /// its state names that entry from then on (``LeadStateMachine/followsEntry(_:state:)``).
    /// Returns the leads loaded.
    private func loadFinishedLeads(needed batch: [ConsumerRecord], _ state: inout State) async throws -> Set<LeadID> {
        let topics = environment.topics
        var wanted: [TopicPartition: [Int64: LeadID]] = [:]
        // The leads wanted only for late results, with those results.
        var forResults: [LeadID: [PhaseResultEnvelope]] = [:]
        var forOthers: Set<LeadID> = []
        for record in batch {
            guard let key = record.keyString, let pointer = state.core.finished[LeadID(key)] else { continue }
            let schema = record.header(MessageHeaders.schema).map { String(decoding: $0, as: UTF8.self) }
            guard state.core.needsLoading(LeadID(key), isResult: schema == PhaseResult.schemaName) else { continue }
            if schema == PhaseResult.schemaName {
                // Rare: a finished lead's results are late or repeated ones. One that cannot be read is dead-lettered when handled.
                guard let result = try? environment.codec.decode(PhaseResultEnvelope.self, record: record),
                      CoordinatorCore<ConsumerRecord>.resultConcernsAReadyLead(result) else { continue }
                forResults[LeadID(key), default: []].append(result)
            } else if CoordinatorCore<ConsumerRecord>.changesAReadyLead(topic: record.topic, schema: schema, topics: topics) {
                forOthers.insert(LeadID(key))
            } else {
                continue
            }
            wanted[TopicPartition(topic: topics.leadState, partition: pointer.partition), default: [:]][pointer.offset] = LeadID(key)
        }
        guard !wanted.isEmpty else { return [] }
        let records = try await KafkaConsumer.records(at: wanted.mapValues { Set($0.keys) }, configuration: environment.kafka,
                                                      whileBrokerUnreachable: waitingForBroker)
        var states: [LeadID: LeadState] = [:]
        for (partition, leads) in wanted {
            for (offset, leadID) in leads {
                // Not read again while a backlog record of the lead is held (``CoordinatorCore/unreadableStates``).
                guard let record = records[partition]?[offset] else {
                    logger.error("state of a ready lead not found in the changelog", [LogKey.leadID: leadID.rawValue])
                    state.core.stateUnreadable(leadID, reason: "not found at offset \(offset) of \(partition)")
                    continue
                }
                do {
                    states[leadID] = try environment.codec.decode(LeadState.self, record: record)
                } catch {
                    logger.error("undecodable changelog record of a ready lead: \(error)", [LogKey.leadID: leadID.rawValue])
                    state.core.stateUnreadable(leadID, reason: "\(error)")
                }
            }
        }
        // Written here, every charge of the lead got out: only an earlier owner's may be lost.
        func chargesSent(_ leadID: LeadID) -> Bool {
            guard let pointer = state.core.finished[leadID] else { return true }
            return state.chargesKnownSent.contains(leadID, partition: pointer.partition, offset: pointer.offset)
        }
        // Leads loaded only to name the run's own entry written again further on: their states
        // as read, the profile not read (the entry they name may be compacted away already).
        var followingEntry: [LeadID: LeadState] = [:]
        for (leadID, results) in forResults where !forOthers.contains(leadID) {
            guard let restored = states[leadID] else { continue }
            let sent = chargesSent(leadID)
            if !results.contains(where: { LeadStateMachine.sendsAgain($0, state: restored, entry: restored.poolEntry, chargesSent: sent) }) {
                if results.contains(where: { LeadStateMachine.followsEntry($0, state: restored) }) { followingEntry[leadID] = restored }
                states[leadID] = nil
            }
        }
        let entries = states.compactMapValues(\.poolEntry).merging(followingEntry.compactMapValues(\.poolEntry)) { kept, _ in kept }
        // The pool is co-partitioned with the inputs (checked at start): no request to know where an entry can be.
        var unloaded = try await PoolEntryReader.loadProfiles(&states, codec: environment.codec, configuration: environment.kafka,
                                                              partitionCounts: [topics.leadPool: state.partitionCount],
                                                              whileBrokerUnreachable: waitingForBroker)
        // Wanted only for late results: not loaded without the profile (left as positions, the
        // results change nothing, as before), nor dead-lettered.
        for leadID in unloaded.all where forResults[leadID] != nil && !forOthers.contains(leadID) {
            logger.warning("a ready lead's pool entry is not found or not readable where its state says: a late result of it is not acted on",
                           [LogKey.leadID: leadID.rawValue])
            states[leadID] = nil
            unloaded.missing.removeAll { $0 == leadID }
            unloaded.unreadable[leadID] = nil
        }
        for leadID in unloaded.missing {
            logger.error("a ready lead's pool entry is not where its state says; it goes on with its identity, skipped phases and web enrichment",
                         [LogKey.leadID: leadID.rawValue])
        }
        // A run started from the placeholder would replace the entry with an empty profile: the
        // lead stays as it is, and the batch's records for it are dead-lettered (``handle``).
        for (leadID, reason) in unloaded.unreadable {
            logger.error("a ready lead's pool entry cannot be read; its records are dead-lettered: \(reason)",
                         [LogKey.leadID: leadID.rawValue])
            states[leadID] = nil
            state.core.poolEntryUnreadable(leadID, reason: reason)
        }
        var loaded: Set<LeadID> = []
        states.merge(followingEntry) { kept, _ in kept }  // no lead is in both
        for (leadID, leadState) in states {
            guard let pointer = state.core.finished[leadID] else { continue }
            let sent = chargesSent(leadID)
            if !sent { state.chargesKnownSent.inherit(leadID, partition: pointer.partition) }
            state.core.leads[leadID] = LeadEntry(machine: LeadStateMachine(configuration: settings.machine, restoring: leadState,
                                                                           entry: entries[leadID], chargesSent: sent),
                                                 partition: pointer.partition, changelogOffset: pointer.offset)
            state.core.finished[leadID] = nil
            loaded.insert(leadID)
        }
        return loaded
    }

    /// Keeps the changelog offsets the broker acknowledged, and reduces the leads that are
    /// ready after the batch to those offsets.
    /// - Parameter rewritten: leads with a newer state record not yet acknowledged (the next
    ///   batch's); they stay until that one is.
    private func retireReadyLeads(_ outputs: EncodedOutputs, reports: [DeliveryReport?], loaded: Set<LeadID>,
                                  rewritten: Set<LeadID> = [], _ state: inout State) {
        var changelogOffsets: [Int32: [Int64]] = [:]
        for case let report? in reports where report.topic == environment.topics.leadState {
            changelogOffsets[report.partition, default: []].append(report.offset)
        }
        for (partition, offsets) in changelogOffsets { state.chargesKnownSent.acknowledged(partition, offsets: offsets.sorted()) }
        for (leadID, index) in outputs.changelogIndex where index < reports.count {
            if let report = reports[index] { state.core.leads.modify(leadID) { $0.changelogOffset = report.offset } }
        }
        state.core.retireReadyLeads(loaded.union(outputs.changelogIndex.keys), rewritten: rewritten)
    }

    // MARK: - Confirming what was sent

    /// A handled batch whose records the producer has, not yet acknowledged: its input offsets
    /// are stored only once they are.
    struct UnconfirmedBatch {
        let delivery: Delivery
        let outputs: EncodedOutputs
        let loaded: Set<LeadID>
        let nextOffsets: [TopicPartition: Int64]
    }

    /// Waits for a batch's acknowledgements (sending it again after a retriable failure), then
    /// retires its ready leads and stores its input offsets. The next batch is enqueued only
    /// after this, so a batch sent again still precedes it in every partition.
    private func confirm(_ batch: UnconfirmedBatch, producer: KafkaProducer, consumer: KafkaConsumer,
                         rewritten: Set<LeadID> = [], _ state: inout State) async throws {
        let reports = try await acknowledged(batch.delivery, batch.outputs.records, producer: producer)
        retireReadyLeads(batch.outputs, reports: reports, loaded: batch.loaded, rewritten: rewritten, &state)
        do {
            // A partition given up meanwhile is replayed by its next owner.
            try consumer.storeOffsets(batch.nextOffsets.filter { state.ownedPartitions.contains($0.key.partition) })
        } catch {
            logger.warning("offsets not stored: \(error)")
        }
    }

    /// Waits until every one of `records` (handed to the producer as `delivery`) is acknowledged
    /// or taken out, and returns their reports in order, under the produce policy every sender
    /// follows (``ProduceFailure``, ``SettlingSend``).
    ///
    /// - A record that failed for a reason that may pass (the broker away, a timeout), or for a
    ///   reason not classified (UNKNOWN_SERVER_ERROR: ``SettlingSend/Unclassified/waitedOut``),
    ///   is sent again, alone with the others that failed, in their order, until it is
    ///   acknowledged: what was acknowledged is not sent twice. Dead-lettering it instead would
    ///   lose a lead's state or a charge for good (a `billing.usage` letter is not replayed), on
    ///   a broker's passing fault.
    /// - A record refused for what it is (``KafkaError/isRecordRejected``: too large, invalid) is
    ///   replaced by a dead letter saying so; its report is nil. One record never stops the rest.
    ///   A dead letter refused too is logged and dropped.
    /// - A record refused for its topic (``ProduceFailure/topicRefused``: TOPIC_EXCEPTION, a
    ///   partition the topic lacks, a format it does not take) throws
    ///   ``StageRunnerError/topicRefuses(topic:_:)``: every record sent there would be refused,
    ///   and a lead's state dead-lettered is a lead the coordinator no longer knows.
    /// - A fatal producer error, a closed producer or a refused principal throws the producer's
    ///   error.
    ///
    /// Whatever throws ends the process (cleanly, through ``run()``'s shutdown), and the batch,
    /// whose input offsets are not stored, is handled again after the restart.
    private func acknowledged(_ delivery: Delivery, _ records: [ProducerRecord], producer: KafkaProducer) async throws -> [DeliveryReport?] {
        DeadLetterKind.count(records, in: metrics)
        let sending = SettlingSend(send: { await producer.sendReportingEach($0) }, logger: logger, unclassified: .waitedOut,
                                   metrics: metrics)
        var reports = [DeliveryReport?](repeating: nil, count: records.count)
        var letters: [ProducerRecord] = []
        for (index, settled) in try await sending.settle(records, first: delivery.results()).enumerated() {
            switch settled {
            case .stored(let report):
                reports[index] = report
            case .refused(let error):
                let record = records[index]
                logger.error("record refused, dead-lettered instead: \(ProduceFailure.summary(of: error))", Self.logFields(of: record))
                let reason = "the coordinator could not write this \(record.topic) record: \(ProduceFailure.summary(of: error))"
                letters.append(environment.codec.deadLetter(refused: record, reason: reason, service: environment.service,
                                                            topics: environment.topics))
            }
        }
        guard !letters.isEmpty else { return reports }
        DeadLetterKind.count(letters, in: metrics)
        for (letter, settled) in zip(letters, try await sending.settle(letters)) {
            guard case .refused(let error) = settled else { continue }
            logger.error("dead letter refused, dropped: \(ProduceFailure.summary(of: error))", Self.logFields(of: letter))
        }
        return reports
    }

    /// What a log line may say of a record: where it was going and its size, never its bytes.
    private static func logFields(of record: ProducerRecord) -> [String: String] {
        [LogKey.topic: record.topic, "bytes": String(record.byteCount),
         "keyFNV1a64": record.key.map(DeadLetter.fnv1a64) ?? "none"]
    }

    /// `outputs` with every record above ``PipelineEnvironment/maxRecordBytes`` replaced by a
    /// dead letter saying so, before the producer or the broker refuses it. Field limits keep
    /// records far below it; this is the net under them.
    private func bounded(_ outputs: EncodedOutputs) -> EncodedOutputs {
        var outputs = outputs
        for index in outputs.records.indices {
            let record = outputs.records[index]
            guard let reason = environment.codec.oversizeReason(record) else { continue }
            logger.error("record above MAX_RECORD_BYTES, dead-lettered instead", Self.logFields(of: record))
            outputs.records[index] = environment.codec.deadLetter(refused: record, reason: reason,
                                                                  service: environment.service, topics: environment.topics)
            outputs.changelogIndex = outputs.changelogIndex.filter { $0.value != index }
        }
        return outputs
    }
}

private extension PhaseOutcome {
    /// The `outcome` label of ``MetricNames/coordinatorPhaseOutcomes``: the outcome's status.
    var metricLabel: String {
        switch self {
        case .completed: "completed"
        case .failed: "failed"
        case .accountPaused: "account-paused"
        case .waitsForBilling: "waits-for-billing"
        }
    }

    /// Every value of ``metricLabel``.
    static let metricLabels = ["completed", "failed", "account-paused", "waits-for-billing"]
}
