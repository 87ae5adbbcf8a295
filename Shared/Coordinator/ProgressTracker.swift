import Foundation
import Kafka
import LeadModel
import Runtime
import Streaming

/// Adds up each search's ``SearchProgressPart``s (one per partition of the lead-keyed topics,
/// written by the coordinator instance that owns it) and its declared total into one
/// ``ProgressSnapshot``, published to `progress` whenever it changes.
///
/// Both inputs are compacted tables, each key's latest record the truth. Every part of a search
/// is in the partition of the search id (murmur2), and the member of the group that owns that
/// partition publishes the search. The tracker commits no offsets and reads its partitions from
/// the beginning on assignment: what it reads is as large as the number of searches times
/// partitions, however many leads ran, and stays right on a cluster with retention. Totals are
/// read whole by every member (a ``KafkaTable``), since lead discovery may write them with
/// another partitioner than the pipeline's (librdkafka's default hashes with CRC32): a total
/// in another partition than its search's parts would otherwise be another member's, and the
/// two would publish the search half each, never completed. A search is completed when its
/// total is declared and that many of its leads are ready, refused (a refused lead never runs) or
/// already known from another search (it runs once, for that search).
///
/// Progress per account is the same pattern once more: each published search snapshot is also
/// written, keyed `<account>/<search>`, to the compacted `progress.account-parts` in the partition
/// of the account id; a second group (`coordinator.account-progress`) adds each account's latest
/// snapshots up (``AccountProgressSnapshot/adding(_:accountID:at:)``) and publishes them to
/// `progress.accounts`, keyed by account. A search moved to another account (a total declared
/// with another account) leaves each account it was published under: the tracker also reads its
/// own snapshots in `progress` (in the search's partition, beside its parts), so it knows the
/// account a search was last published under after a restart or a rebalance too.
///
/// A search with a declared total, no lead in flight and no change for the retention period
/// (``ProgressRetention``, `PROGRESS_RETENTION_DAYS`) is forgotten: the member that owns it writes
/// tombstones for its account parts, then for its `progress` snapshot (in that order:
/// ``SearchProgressPublisher``), and drops it; its account then
/// no longer counts it, and the coordinator instances drop its parts once it has left `progress`.
/// The decision is taken again whenever the search is read (a restart, a rebalance), before
/// anything of it is published, so a search forgotten is never shown again from its old parts,
/// and tombstones lost on the way are written again. A search not in `progress` (never published,
/// or forgotten already) is dropped without tombstones: `search.totals` is upstream's and keeps
/// every total, so each assignment reads the old ones again.
final class ProgressTracker: Service {
    private let environment: PipelineEnvironment
    private let producer: KafkaProducer
    private let consumerProperties: [String: String]
    private let now: @Sendable () -> Date
    /// When a finished search is forgotten.
    private let retention: ProgressRetention
    /// Records a poll hands over (tests make it small, so that a catch-up takes several polls).
    private let pollBatch: Int

    /// The coordinator's: once cancelled, the tracker leaves its groups within its bound, and a
    /// send the grace's close fails ends it cleanly (what it did not publish is published again
    /// by the next owner, which reads the parts again).
    private let shutdown: ShutdownDeadline

    /// Where the search totals table counts what it skips.
    private let metrics: MetricsRegistry?

    init(environment: PipelineEnvironment, producer: KafkaProducer, consumerProperties: [String: String],
         now: @escaping @Sendable () -> Date, pollBatch: Int = 5000, shutdown: ShutdownDeadline = ShutdownDeadline(grace: .seconds(8)),
         retention: ProgressRetention, metrics: MetricsRegistry? = nil) {
        self.retention = retention
        self.shutdown = shutdown
        self.metrics = metrics
        self.environment = environment
        self.producer = producer
        self.consumerProperties = consumerProperties
        self.now = now
        self.pollBatch = pollBatch
    }

    func run() async throws {
        let (partsPartitions, accountPartitions) = await partitionCounts()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.trackSearches(partsPartitions: partsPartitions, accountPartitions: accountPartitions) }
            if accountPartitions != nil {
                group.addTask { try await self.trackAccounts() }
            }
            // Either loop ending ends both: they end together on cancellation.
            try await group.next()
            group.cancelAll()
        }
    }

    /// From one listing of the topics (waiting for the broker to answer): the partition count of
    /// `progress.parts` (`PIPELINE_PARTITIONS` while it is missing: its parts are written there
    /// once it is made), and that of `progress.account-parts`, or nil (account progress off, with
    /// a warning) when it is missing, as in a deployment created before it.
    private func partitionCounts() async -> (parts: Int, accountParts: Int?) {
        let topics = environment.topics
        let logger = environment.logger
        let listed = try? await KafkaError.waitingForBroker({
            try await KafkaAdmin(configuration: self.environment.kafka).listTopics()
        }) { error in
            logger.warning("waiting for the broker to list topics: \(error)")
        }
        func count(_ topic: String) -> Int? { listed?[topic].flatMap { $0 > 0 ? $0 : nil } }
        let accountParts = count(topics.accountProgressParts)
        if accountParts == nil {
            logger.warning("account progress is off: topic \(topics.accountProgressParts) is missing; run `leadctl topics create`")
        }
        return (count(topics.progressParts) ?? environment.partitions, accountParts)
    }

    /// Reads a group's compacted inputs from the beginning on every assignment, without commits,
    /// until cancelled: `body` gets each batch, the partitions of the first of `topics` owned
    /// now (the others are read beside it: a member subscribed to fewer topics during an upgrade
    /// leaves this one more partitions of them than it owns), and whether to
    /// publish, and returns the records to send; `unsent` gets the positions (in what `body`
    /// returned) of the records not stored for a reason that passes (the broker away, a timeout),
    /// and `refused` those of the records left out, refused for what they are.
    ///
    /// Failures follow the produce policy every sender does (``ProduceFailure``). A record not
    /// stored is not sent again: `unsent` marks what it stood for as changed, and the next poll
    /// publishes it as it then stands, if this member still owns it. A record sent again after a
    /// member's outage could land after the newer one of the member that took its partition
    /// over, and stand as the word on a search that then never changes. A record failed for a
    /// reason not classified is published so too, after a wait from the first delay, at most
    /// ``ProduceFailure/unclassifiedAttempts`` times in a row (counted by topic and key,
    /// ``RepublishingRetries``: a passing failure, the record stored, or a poll that does not send
    /// the key starts the count again), then taken as refused. A record refused for good is logged and left out (`refused`); a record
    /// refused for its topic, or a fatal producer error, ends the loop, and the process
    /// (``StageRunnerError/topicRefuses(topic:_:)``, the producer's error).
    ///
    /// Not publishing while newly assigned partitions are read up to the end they had when
    /// assigned: their early records are a search's or an account's earlier states, and
    /// publishing them would set `progress` back (a completed search shown running) until the
    /// read caught up. A partition is read once the record before its end came, or the consumer
    /// reached its end (``KafkaConsumer/reachedEnd(of:)``: its last offsets were compacted away,
    /// or a batch was missed); never because no record came for a while, which a broker that
    /// stops answering for a few seconds looks like. A partition whose end moved back (its topic
    /// truncated or made anew) is read once the broker's end is where the consumer reached.
    /// Newly assigned partitions come from the rebalance's events, so one revoked and assigned
    /// again within a poll is caught up again too.
    private func follow(
        group: String, topics: [String], _ body: ([ConsumerRecord], Set<Int32>, _ publishing: Bool) -> [ProducerRecord],
        unsent: ([Int]) -> Void, refused: ([Int]) -> Void = { _ in }
    ) async throws {
        var properties = consumerProperties
        properties["partition.assignment.strategy"] = "range"
        properties["auto.offset.reset"] = "earliest"
        properties["enable.auto.commit"] = "false"
        properties["enable.partition.eof"] = "true"
        let newlyAssigned = Mailbox<[TopicPartition]>()
        let consumer = try KafkaConsumer(configuration: environment.kafka, groupID: group, topics: topics, properties: properties,
                                         defaults: ["queued.max.messages.kbytes": "8192"]) { event in
            if case .assigned(let partitions) = event { newlyAssigned.append(partitions) }
        }
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let logger = environment.logger
        var catchingUp: [TopicPartition: Int64] = [:]  // the end each newly assigned partition had
        var retries = RepublishingRetries()
        var endsCheckedAt = ContinuousClock.now
        while !Task.isCancelled {
            let batch: [ConsumerRecord]
            do {
                batch = try await consumer.poll(maxRecords: pollBatch, timeoutMilliseconds: 100)
            } catch let error as KafkaError where !error.isFatal {
                continue
            }
            let assignment = Set(consumer.assignment)
            let added = Set(newlyAssigned.drain().joined()).intersection(assignment)
            catchingUp = catchingUp.filter { assignment.contains($0.key) }
            if !added.isEmpty {
                // The end check's clock runs on: it looks only at partitions whose consumer reached
                // an end since their assignment (a reached end is forgotten at each), so rebalances
                // more often than every 10 s do not put it off.
                // Without their ends (cancelled while the broker is away) the partitions are not held back.
                let ends = (try? await KafkaError.waitingForBroker({ try await admin.watermarks(Array(added)) }) { error in
                    logger.warning("progress: waiting for the broker to read partitions' ends: \(error)")
                }) ?? [:]
                for partition in added { if let end = ends[partition]?.high, end > 0 { catchingUp[partition] = end } }
            }
            catchingUp = consumer.unread(catchingUp, after: batch)
            if !catchingUp.isEmpty, ContinuousClock.now - endsCheckedAt > .seconds(10) {
                endsCheckedAt = .now
                let reached = catchingUp.keys.compactMap { partition in consumer.reachedEnd(of: partition).map { (partition, $0) } }
                if !reached.isEmpty, let current = try? await admin.watermarks(reached.map(\.0)) {
                    for (partition, at) in reached {
                        guard let high = current[partition]?.high, high <= at else { continue }
                        logger.warning("progress: \(partition)'s end moved back from \(catchingUp[partition] ?? 0) to \(high) (its topic truncated or made anew); read to there")
                        catchingUp[partition] = nil
                    }
                }
            }
            let owned = Set(assignment.filter { $0.topic == topics[0] }.map(\.partition))
            let records = body(batch, owned, catchingUp.isEmpty)
            if !records.isEmpty {
                let round = retries.classify(await producer.sendReportingEach(records), of: records)
                if let error = round.fatal {
                    await shutdown.close(consumer, logger: logger)
                    if shutdown.isGivingUp(error) { return }
                    throw error
                }
                if let refusal = round.topicRefusal {
                    // Every record sent there would be refused so, and leaving them out would
                    // break the order of a search's tombstones: stop, as a stage does. The error
                    // names the topic; the process's exit line says it, once.
                    await shutdown.close(consumer, logger: logger)
                    throw StageRunnerError.topicRefuses(topic: records[refusal.index].topic, refusal.error)
                }
                for (index, error) in round.refused {
                    // Refused for good (too large, invalid), or failed unclassified
                    // ``ProduceFailure/unclassifiedAttempts`` rounds in a row: sent again it would
                    // be refused again, every poll. What must follow it waits (``SearchProgressPublisher/leftOut(_:)``).
                    logger.error("progress: a record refused for good; left out", [
                        LogKey.error: ProduceFailure.summary(of: error), LogKey.topic: records[index].topic,
                    ])
                }
                for (index, error, sends) in round.unclassified where sends == 1 || sends == ProduceFailure.unclassifiedAttempts - 1 {
                    logger.warning("progress: a record failed for a reason not classified; published again, then left out", [
                        LogKey.error: ProduceFailure.summary(of: error), LogKey.topic: records[index].topic, "attempt": String(sends),
                    ])
                }
                if let transient = round.transient {
                    logger.warning("progress: records not stored; published again as they stand after the next poll", [
                        LogKey.error: ProduceFailure.summary(of: transient.error), LogKey.topic: records[transient.index].topic,
                    ])
                }
                if !round.refused.isEmpty { refused(round.refused.map(\.index)) }
                if !round.retry.isEmpty { unsent(round.retry) }
                if let wait = RepublishingRetries.wait(after: round) {
                    try? await Task.sleep(for: wait)  // a stop ends it at once, and the loop
                }
            }
        }
        await shutdown.close(consumer, logger: logger)
    }

    private func trackSearches(partsPartitions: Int, accountPartitions: Int?) async throws {
        let topics = environment.topics
        let totals = KafkaTable<SearchTotalDeclared>(configuration: environment.kafka, topic: topics.searchTotals,
                                                     codec: environment.codec, logger: environment.logger, recordsChanges: true,
                                                     metrics: metrics)
        try await totals.start()
        do {
            // A table no longer followed stops the tracker, and so the process, within the bound.
            try await withCompanion(shutdown.startingOnFailure(of: { try await totals.watch() }, closing: producer)) {
                try await self.trackSearches(totals: totals, partitionCount: partsPartitions, accountPartitions: accountPartitions)
            }
        } catch {
            await totals.stop()
            throw error
        }
        await totals.stop()
    }

    private func trackSearches(totals: KafkaTable<SearchTotalDeclared>, partitionCount: Int, accountPartitions: Int?) async throws {
        var publisher = SearchProgressPublisher(topics: environment.topics, codec: environment.codec, partitionCount: partitionCount,
                                                accountPartitions: accountPartitions, retention: retention)
        try await follow(group: environment.topics.progressGroup, topics: environment.topics.progressInputs, { batch, owned, publishing in
            publisher.read(batch, owned: owned, changedTotals: totals.takeChangedKeys(), allTotals: { totals.all })
            guard publishing else { return [] }
            return publisher.publish(totals: { totals[$0] }, at: now())
        }, unsent: { positions in
            publisher.unsent(positions)
        }, refused: { positions in
            publisher.leftOut(positions)
        })
    }

    /// Adds up the search snapshots of the accounts whose partitions of `progress.account-parts`
    /// this member owns, and publishes an account's progress whenever it changes.
    private func trackAccounts() async throws {
        let topics = environment.topics
        /// Per partition, per account, per search: the latest snapshot.
        var parts: [Int32: [AccountID: [SearchID: ProgressSnapshot]]] = [:]
        var published: [AccountID: AccountProgressSnapshot] = [:]
        var changed: [AccountID: Int32] = [:]  // kept over the polls of a catch-up
        var sent: [(AccountID, Int32)] = []  // the account of each record last returned, and its partition
        try await follow(group: topics.accountProgressGroup, topics: [topics.accountProgressParts], { batch, owned, publishing in
            if parts.keys.contains(where: { !owned.contains($0) }) {
                parts = parts.filter { owned.contains($0.key) }
                // An account whose partition comes back is published again as it then stands.
                let kept = Set(parts.values.flatMap(\.keys))
                published = published.filter { kept.contains($0.key) }
            }
            for record in batch {
                if record.value == nil, let key = record.keyString {
                    // A search that left the account (``SearchProgressPublisher/Search/accountsToLeave(_:)``).
                    for accountID in (parts[record.partition] ?? [:]).keys where key.hasPrefix("\(accountID.rawValue)/") {
                        let searchID = SearchID(String(key.dropFirst(accountID.rawValue.count + 1)))
                        guard parts[record.partition]?[accountID]?.removeValue(forKey: searchID) != nil else { continue }
                        changed[accountID] = record.partition
                    }
                    continue
                }
                guard let snapshot = try? environment.codec.decode(ProgressSnapshot.self, record: record) else { continue }
                parts[record.partition, default: [:]][snapshot.accountID, default: [:]][snapshot.searchID] = snapshot
                changed[snapshot.accountID] = record.partition
            }
            guard publishing else { return [] }
            defer { changed = [:] }
            var records: [ProducerRecord] = []
            sent = []
            for (accountID, partition) in changed {
                guard let searches = parts[partition]?[accountID]?.values else { continue }
                guard let progress = AccountProgressSnapshot.adding(searches, accountID: accountID, at: now()) else {
                    // Its last search left it: it has no progress (its empty entry stays, so that
                    // an unsent tombstone is sent again).
                    published[accountID] = nil
                    records.append(ProducerRecord(topic: topics.accountProgress, key: accountID.rawValue, value: nil))
                    sent.append((accountID, partition))
                    continue
                }
                var comparable = progress
                comparable.updatedAt = published[accountID]?.updatedAt ?? progress.updatedAt
                guard comparable != published[accountID] else { continue }
                published[accountID] = progress
                if let record = try? environment.codec.record(progress, topic: topics.accountProgress, key: accountID.rawValue) {
                    records.append(record)
                    sent.append((accountID, partition))
                }
            }
            return records
        }, unsent: { positions in
            for position in positions {
                let (accountID, partition) = sent[position]
                guard parts[partition]?[accountID] != nil else { continue }
                published[accountID] = nil
                changed[accountID] = partition
            }
        })
    }
}
