import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Streaming

/// The coordinator's rebalances and restore: partitions assigned are restored from the
/// `lead.state` changelog before the loop handles their records; partitions revoked are given up
/// once their held states are written.
extension Coordinator {
    /// Applies the rebalance events reported since the last call. Partitions being revoked are
    /// given up here (the consumer defers revocations), once the previous batch is confirmed and
    /// the states held for their leads are written, and the offsets of what was handled stored:
    /// their next owner restores those states and reads on from there, and cannot start before.
    func applyRebalances(_ state: inout State, consumer: KafkaConsumer, producer: KafkaProducer) async throws {
        // Completing a revocation reports it revoked: drained until nothing is left.
        var events = rebalances.drain()
        while !events.isEmpty {
            try await apply(events, &state, consumer: consumer, producer: producer)
            events = rebalances.drain()
        }
    }

    private func apply(_ events: [RebalanceEvent], _ state: inout State, consumer: KafkaConsumer, producer: KafkaProducer) async throws {
        for event in events {
            switch event {
            case .assigned(let partitions):
                let numbers = Set(partitions.map(\.partition)).subtracting(state.ownedPartitions)
                state.forgetPaused(partitions)  // assigned partitions start unpaused
                if !numbers.isEmpty {
                    try await restore(numbers.sorted(), &state)
                    state.ownedPartitions.formUnion(numbers)
                    for number in numbers { state.ownedSince[number] = ContinuousClock.now }
                }
                health.markReady()  // joined, and what was assigned is restored
            case .revoked(let partitions):
                let numbers = Set(partitions.map(\.partition))
                state.ownedPartitions.subtract(numbers)
                state.core.leads.removeAll { numbers.contains($0.partition) }
                state.core.finished.removeAll(inPartitions: numbers)
                state.heldBacklog.removeAll { numbers.contains($0.partition) }
                state.parked.removeAll(inPartitions: numbers)
                state.countParked()
                state.forgetPaused(partitions)
                state.core.forgetQueuedLeads(ofPartitions: numbers)
                state.core.refusedLeads.removeAll(inPartitions: numbers)
                state.core.memberships.removeAll(inPartitions: numbers)
                state.core.progress.remove(partitions: numbers)
                state.core.awaitingConfiguration = state.core.awaitingConfiguration.filter { !numbers.contains($0.value.partition) }
                state.handledUpTo = state.handledUpTo.filter { !numbers.contains($0.key.partition) }
                // Their next owner replays what came after the last written states.
                state.core.unwrittenStates = state.core.unwrittenStates.filter { state.core.leads.contains($0.key) }
                for number in numbers {
                    state.ownedSince[number] = nil
                    state.chargesKnownSent.revoked(number)
                }
                logger.info("revoked", ["partitions": numbers.sorted().map(String.init).joined(separator: ",")])
            case .revoking(let partitions):
                let numbers = Set(partitions.map(\.partition))
                try await writeHeldStates(ofPartitions: numbers, &state, producer: producer, consumer: consumer)
                // Every record written for them is acknowledged now.
                for number in numbers { state.chargesKnownSent.handOver(number) }
                if case .failed(let error) = await consumer.completeRevocation() {
                    logger.warning("commit at revocation failed: the partitions' next owner re-processes their records handled since the last commit",
                                   ["partitions": numbers.sorted().map(String.init).joined(separator: ","), LogKey.error: "\(error)"])
                }
            }
        }
    }

    /// Reads the changelog partitions to their end and rebuilds machines and timers. The lead
    /// pool is not read: the finalize stage writes a run's entry before the result that makes
    /// the lead ready, so a ready state has its entry. (Versions before that wrote both in one
    /// batch and mended a ready state without its entry here; upgrade from them through one
    /// that does.)
    private func restore(_ partitions: [Int32], _ state: inout State) async throws {
        let started = Date()
        let topics = environment.topics
        // Leads not ready, as their last state's record: decoded once the partitions are read,
        // so a lead's earlier states, replaced as the read goes on, are never decoded or held.
        var running: [LeadID: ConsumerRecord] = [:]
        var finished = FinishedLeads()
        var pending = QueuedLeads()  // queued in the backlog
        // Each lead's last state, and when its count last changed (ProgressCounts.changedAt(restoring:writtenAt:)).
        var counted: [LeadID: (lead: ProgressCounts.Lead, bucket: ProgressCounts.Bucket?, at: Date)] = [:]
        // (a refused lead's is counted as the core counts a refusal: it stops counting once discovered again)
        var memberships: [String: (SearchMembership, Int32, Date)] = [:]
        var ends: [Int32: Int64] = Dictionary(uniqueKeysWithValues: partitions.map { ($0, 0) })
        let restoredAt = now()
        try await readToEnd(partitions.map { TopicPartition(topic: topics.leadState, partition: $0) }) { record in
            ends[record.partition] = max(ends[record.partition] ?? 0, record.offset + 1)
            let writtenAt = record.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? restoredAt
            guard let key = record.keyString else { return }
            if SearchMembership.isKey(key) {
                do {
                    memberships[key] = record.value == nil
                        ? nil : (try environment.codec.decode(SearchMembership.self, record: record), record.partition, writtenAt)
                } catch {
                    logger.error("undecodable search membership skipped: \(error)", [LogKey.offset: String(record.offset)])
                }
                return
            }
            pending[LeadID(key)] = nil
            guard record.value != nil else {
                running[LeadID(key)] = nil
                finished[LeadID(key)] = nil
                counted[LeadID(key)] = nil
                return
            }
            do {
                // A ready or queued lead is kept as an offset: its summary is enough, and its
                // profile is not decoded. A running lead is read whole, at the end.
                let summary = try environment.codec.decode(LeadStateSummary.self, record: record)
                let leadID = summary.leadID
                counted[leadID] = (ProgressCounts.Lead(summary.lead, partition: record.partition), ProgressCounts.Bucket(summary),
                                   ProgressCounts.changedAt(restoring: summary, writtenAt: writtenAt))
                if summary.status == .pending || summary.status == .refused {
                    running[leadID] = nil
                    finished[leadID] = nil
                    if summary.status == .pending {
                        pending[leadID] = .init(partition: record.partition, origin: .init(summary.lead.sourceSearchID))
                    }
                } else if summary.status == .ready {
                    running[leadID] = nil
                    finished[leadID] = ChangelogPointer(partition: record.partition, origin: .init(summary.lead.sourceSearchID),
                                                        offset: record.offset)
                } else {
                    running[leadID] = record
                    finished[leadID] = nil
                }
            } catch {
                logger.error("undecodable changelog record skipped: \(error)", [LogKey.offset: String(record.offset)])
            }
        }
        let runningAt = running.mapValues { (partition: $0.partition, offset: $0.offset) }
        var restored: [LeadID: (LeadState, Int32)] = [:]
        for (leadID, record) in running {
            do {
                restored[leadID] = (try environment.codec.decode(LeadState.self, record: record), record.partition)
            } catch {
                logger.error("undecodable changelog record skipped: \(error)", [LogKey.leadID: leadID.rawValue, LogKey.offset: String(record.offset)])
            }
        }
        running = [:]
        try await loadOutputs(&restored, partitionCount: state.partitionCount)
        state.core.finished.merge(finished)
        let runningIn = Dictionary(grouping: runningAt.keys) { runningAt[$0]?.partition ?? -1 }
        for (partition, end) in ends { state.chargesKnownSent.restored(partition, end: end, running: runningIn[partition] ?? []) }
        state.core.pendingLeads.merge(pending)
        // Every part of these partitions is written with the next batch, counted afresh.
        // Each part carries its latest lead's time, so that a finished search's part looks as
        // old as it is (and one its tracker forgot is dropped before it is written: ``ProgressRetention``).
        for (leadID, (lead, bucket, at)) in counted {
            if bucket == .refused {
                state.core.countRefused(leadID, lead)
            } else {
                state.core.progress.move(lead, from: nil, to: bucket)
            }
            state.core.progress.noteRestored(lead, changedAt: at)
        }
        for (leadState, partition) in restored.values {
            let offset = runningAt[leadState.leadID]?.offset ?? 0
            state.core.restore(leadState, partition: partition,
                               chargesSent: state.chargesKnownSent.contains(leadState.leadID, partition: partition, offset: offset))
        }
        for (membership, partition, at) in memberships.values {
            state.core.restoreMembership(membership, partition: partition)
            state.core.progress.noteRestored(.init(membership, partition: partition), changedAt: at)
        }
        state.nextProgressSweep = .distantPast
        logger.info("restored", ["partitions": partitions.map(String.init).joined(separator: ","),
                                 "leads": String(restored.count + finished.count + pending.count), "ready": String(finished.count),
                                 "pending": String(pending.count),
                                 "seconds": String(format: "%.2f", Date().timeIntervalSince(started))])
    }

    /// Reads back the outputs of each restored running lead whose state refers to them
    /// (``LeadState/outputs``), all in one read, their payloads unread: the requests pass them on,
    /// and the state machine puts the profile together only if it needs it whole. The read waits
    /// out a broker outage (``KafkaConsumer/records(at:configuration:timeout:whileBrokerUnreachable:)``);
    /// a result no longer there (kept past the results topic's retention), or named where no
    /// result is (``isResultPosition(_:topics:partitionCount:)``), is logged and left out.
    private func loadOutputs(_ restored: inout [LeadID: (LeadState, Int32)], partitionCount: Int) async throws {
        var wanted: [TopicPartition: Set<Int64>] = [:]
        for (leadState, _) in restored.values where !leadState.isProfileLoaded {
            for output in leadState.outputs where Self.isResultPosition(output, topics: environment.topics, partitionCount: partitionCount) {
                wanted[TopicPartition(topic: output.topic, partition: output.partition), default: []].insert(output.offset)
            }
        }
        let records = try await KafkaConsumer.records(at: wanted, configuration: environment.kafka,
                                                      whileBrokerUnreachable: waitingForBroker)
        for (leadID, (leadState, _)) in restored where !leadState.isProfileLoaded {
            var outputs: [PhaseOutput] = []
            for output in leadState.outputs {
                guard let record = records[TopicPartition(topic: output.topic, partition: output.partition)]?[output.offset],
                      let result = try? environment.codec.decode(PhaseResultEnvelope.self, record: record), result.leadID == leadID
                else {
                    logger.error("a running lead's \(output.phase.rawValue) result is not where its state says; its run goes on without it",
                                 [LogKey.leadID: leadID.rawValue, LogKey.topic: output.topic, LogKey.offset: String(output.offset)])
                    continue
                }
                outputs.append(PhaseOutput(phase: output.phase, payload: result.payload))
            }
            restored[leadID]?.0.runOutputs = outputs
        }
    }

    /// Whether `output` names a place a result can be: the results topic or its priority twin,
    /// a partition they have (`partitionCount`, the lead-keyed topics' count), an offset (not a
    /// negative one, which librdkafka reads as the partition's beginning or end). A state of any
    /// shape may name another, and reading a topic or partition the broker does not have fails
    /// the restore's one read of results (no outage to wait out), at every start.
    static func isResultPosition(_ output: OutputReference, topics: Topics, partitionCount: Int) -> Bool {
        [topics.phaseResults, topics.phaseResultsPriority].contains(output.topic)
            && output.partition >= 0 && Int(output.partition) < partitionCount && output.offset >= 0
    }

    /// Logs a failure to reach the broker while a restore, or a read of records it refers to, waits for it.
    func waitingForBroker(_ error: KafkaError) {
        logger.warning("waiting for the broker to restore: \(error)")
    }

    /// Reads `partitions` from their start to the end they have now, handing each record to `body`.
    private func readToEnd(_ partitions: [TopicPartition], _ body: (ConsumerRecord) -> Void) async throws {
        try await KafkaConsumer.readToEnd(partitions, configuration: environment.kafka, whileBrokerUnreachable: waitingForBroker, body)
    }

    /// Checks that the lead-keyed topics the coordinator reads exist with one partition count,
    /// and returns it.
    func checkCoPartitioning() async throws -> Int {
        let topics = environment.topics
        let admin = try KafkaAdmin(configuration: environment.kafka)
        let known = try await KafkaError.waitingForBroker(admin.listTopics) { [logger] error in
            logger.warning("waiting for the broker to list topics: \(error)")
        }
        // Progress parts go to the partition of their search id, where the tracker reads them:
        // they need the lead-keyed count too, and so do the snapshots the tracker reads back
        // beside them (its group owns the same partition of both). (Search totals are read
        // whole, in any partition.)
        let names = topics.coordinatorInputs + [topics.leadState, topics.leadPool, topics.progressParts, topics.progress]
        let counts = names.map { known[$0] }
        let missing = (names + [topics.searchTotals]).filter { known[$0] == nil }
        guard missing.isEmpty else {
            throw ConfigurationError(variable: "topics", problem: "missing \(missing.joined(separator: ", ")); run `leadctl topics create`")
        }
        guard Set(counts.compactMap { $0 }).count == 1 else {
            let listing = zip(names, counts).map { "\($0.0)=\($0.1!)" }.joined(separator: ", ")
            throw ConfigurationError(variable: "topics", problem: "lead-keyed topics must have equal partition counts: \(listing)")
        }
        return counts[0]!
    }
}
