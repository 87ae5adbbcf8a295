import Foundation
import Synchronization

/// What a metric measures, as the Prometheus text format names it.
public enum MetricKind: String, Sendable, Hashable {
    /// Only goes up (until the process restarts).
    case counter
    /// Goes up and down.
    case gauge
    /// Observations counted into fixed buckets, with their sum and count.
    case histogram
}

/// The definition of one metric family: name, help, kind, label names and, for histograms, the
/// bucket upper bounds. Every family of the project is a static constant of ``MetricNames``, so
/// each name is spelled once.
public struct MetricDescriptor: Sendable, Hashable {
    /// The family name, `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total`.
    public let name: String
    /// One line saying what it measures (and in which unit).
    public let help: String
    /// Counter, gauge or histogram.
    public let kind: MetricKind
    /// The label names every series of the family carries, in this order.
    public let labelNames: [String]
    /// Histogram bucket upper bounds, ascending (`+Inf` is implied); empty for other kinds.
    public let buckets: [Double]

    /// Creates a descriptor; the name, the label names and the buckets are checked.
    public init(name: String, help: String, kind: MetricKind, labelNames: [String] = [], buckets: [Double] = []) {
        precondition(Self.isLegalName(name), "illegal metric name \(name)")
        precondition(labelNames.allSatisfy { Self.isLegalName($0) && !$0.hasPrefix("__") && $0 != "le" }
                     && Set(labelNames).count == labelNames.count,
                     "illegal or repeated label name in \(labelNames)")
        precondition(kind == .histogram ? !buckets.isEmpty && zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 } : buckets.isEmpty,
                     "histograms need ascending buckets; other kinds none")
        self.name = name
        self.help = help
        self.kind = kind
        self.labelNames = labelNames
        self.buckets = buckets
    }

    /// Whether `name` is a legal metric or label name (no colons in label names is not checked).
    static func isLegalName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }
}

/// Every metric family of the pipeline, defined once.
public enum MetricNames {
    /// Latency buckets (seconds) for work that calls slow providers: 5 ms to 2 minutes.
    public static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    // MARK: stages (StageRunner)

    /// Records taken up (their handler ran), per input topic; one read ahead and dropped
    /// unstarted at its partition's revocation is not counted (its next owner counts it).
    public static let stageRecordsConsumed = MetricDescriptor(
        name: "pipeline_stage_records_consumed_total",
        help: "Records of the stage's input topics it took up (its handler ran); not those dropped unstarted at a revocation.",
        kind: .counter, labelNames: ["stage", "topic"])
    /// Records produced and acknowledged, per topic: outputs, and the runner's own dead letters
    /// and failed answers.
    public static let stageRecordsProduced = MetricDescriptor(
        name: "pipeline_stage_records_produced_total",
        help: "Records the stage wrote and the broker acknowledged (outputs, dead letters, failed answers), per topic.",
        kind: .counter, labelNames: ["stage", "topic"])
    /// Input records whose outputs the broker refused for good, or failed for a reason not
    /// classified at every send (dead-lettered instead).
    public static let stageOutputFailures = MetricDescriptor(
        name: "pipeline_stage_output_failures_total",
        help: "Input records dead-lettered because the broker refused their outputs for good, or failed them for a reason not classified six sends in a row.",
        kind: .counter, labelNames: ["stage"])
    /// Input records given up: their outputs refused for good, and their dead letters (with and
    /// without the payload) refused for what they are too (a letter failing for a reason not
    /// classified stops the stage instead). Nothing of them is stored; the log line names each one.
    public static let stageRecordsGivenUp = MetricDescriptor(
        name: "pipeline_stage_records_given_up_total",
        help: "Input records passed without output or dead letter: the broker refused both for what they are (a letter failing unclassified stops the stage instead; the log names each).",
        kind: .counter, labelNames: ["stage"])
    /// Input records whose handler did not finish within `STAGE_RECORD_TIMEOUT_SECONDS`:
    /// dead-lettered with the reason, unanswered (handed back when their partition was
    /// revoked meanwhile); the handler is left running.
    public static let stageRecordsTimedOut = MetricDescriptor(
        name: "pipeline_stage_records_timed_out_total",
        help: "Input records whose handler did not finish within STAGE_RECORD_TIMEOUT_SECONDS: dead-lettered with the reason, their key and commit point freed (outputs waiting for the broker are not timed); the handler is left running.",
        kind: .counter, labelNames: ["stage"])
    /// Handlers timed out (``stageRecordsTimedOut``) that have not returned yet: their records
    /// are done, their tasks still run. Above `STAGE_MAX_TIMED_OUT_HANDLERS` the stage stops.
    public static let stageTimedOutHandlersRunning = MetricDescriptor(
        name: "pipeline_stage_timed_out_handlers_running",
        help: "Handlers timed out after STAGE_RECORD_TIMEOUT_SECONDS that are still running (their records dead-lettered); above STAGE_MAX_TIMED_OUT_HANDLERS the stage stops, so a restart ends them.",
        kind: .gauge, labelNames: ["stage"])
    /// Commits at a partition revocation that the broker refused or did not answer in time.
    public static let stageRevocationCommitFailures = MetricDescriptor(
        name: "pipeline_stage_revocation_commit_failures_total",
        help: "Commits at a partition revocation refused or unanswered in time: the next owner re-processes the records finished since the last commit.",
        kind: .counter, labelNames: ["stage"])
    /// Handler calls running now.
    public static let stageInFlight = MetricDescriptor(
        name: "pipeline_stage_in_flight", help: "Records being handled now.", kind: .gauge, labelNames: ["stage"])
    /// Records polled but not started (behind a busy key or the in-flight bound).
    public static let stageWaiting = MetricDescriptor(
        name: "pipeline_stage_waiting", help: "Records polled and waiting for a free slot or their key.",
        kind: .gauge, labelNames: ["stage"])
    /// From the start of a record's handling to its outputs' acknowledgement.
    public static let stageProcessingSeconds = MetricDescriptor(
        name: "pipeline_stage_processing_seconds", help: "Seconds from handling a record to its outputs being acknowledged.",
        kind: .histogram, labelNames: ["stage", "topic"], buckets: latencyBuckets)
    /// Provider calls a stage's results record as failed (after the stage's own retries), per
    /// provider as billing names them (`linkedin`, `x`, `activity`).
    public static let stageProviderFailures = MetricDescriptor(
        name: "pipeline_stage_provider_failures_total", help: "Provider calls recorded as failed in the stage's results.",
        kind: .counter, labelNames: ["stage", "provider"])
    /// Vendor lookups by outcome (match, no-match, low-confidence, error, skipped).
    public static let vendorLookups = MetricDescriptor(
        name: "pipeline_vendor_lookups_total", help: "Person lookups at a data vendor, by outcome (skipped: circuit open).",
        kind: .counter, labelNames: ["vendor", "outcome"])
    /// Vendor credits used: one per kept match.
    public static let vendorCredits = MetricDescriptor(
        name: "pipeline_vendor_credits_total", help: "Data vendor credits used (vendors charge per match).",
        kind: .counter, labelNames: ["vendor"])
    /// Whether a vendor's circuit is open.
    public static let vendorCircuitOpen = MetricDescriptor(
        name: "pipeline_vendor_circuit_open", help: "1 while a data vendor is skipped after its credits, quota or credentials failed.",
        kind: .gauge, labelNames: ["vendor"])
    /// The scoring stage's heat contribution records (one per account and window), by outcome:
    /// `written`, or `not-written` (their leads then sent one record each).
    public static let scoringContributionRecords = MetricDescriptor(
        name: "pipeline_scoring_contribution_records_total",
        help: "Heat contribution records of the scoring stage (one per account and window), by outcome (not-written: each lead sent its own).",
        kind: .counter, labelNames: ["outcome"])
    /// The heat contributions those records held.
    public static let scoringContributions = MetricDescriptor(
        name: "pipeline_scoring_contributions_total", help: "Heat contributions the scoring stage put in its batched records, by outcome.",
        kind: .counter, labelNames: ["outcome"])
    /// Partitions paused for backpressure.
    public static let stagePausedPartitions = MetricDescriptor(
        name: "pipeline_stage_paused_partitions", help: "Assigned partitions paused for backpressure.",
        kind: .gauge, labelNames: ["stage"])
    /// Partitions this instance owns.
    public static let stageAssignedPartitions = MetricDescriptor(
        name: "pipeline_stage_assigned_partitions", help: "Partitions assigned to this instance.",
        kind: .gauge, labelNames: ["stage"])
    /// High watermark (last fetch) minus the first unfinished offset, per assigned partition.
    public static let stagePartitionLag = MetricDescriptor(
        name: "pipeline_stage_partition_lag", help: "Records of an assigned partition not finished yet (high watermark minus commit point).",
        kind: .gauge, labelNames: ["stage", "topic", "partition"])
    /// The first unfinished offset (the offset the stage commits), per assigned partition: still
    /// while records wait, one of them is stuck.
    public static let stagePartitionCommitPoint = MetricDescriptor(
        name: "pipeline_stage_partition_commit_point", help: "The first offset of an assigned partition not finished yet (the offset committed next).",
        kind: .gauge, labelNames: ["stage", "topic", "partition"])

    // MARK: coordinator

    /// Leads held in memory, by status.
    public static let coordinatorLeads = MetricDescriptor(
        name: "pipeline_coordinator_leads", help: "Leads owned by this coordinator instance, by status.",
        kind: .gauge, labelNames: ["status"])
    /// Phase results applied, by phase.
    public static let coordinatorResultsHandled = MetricDescriptor(
        name: "pipeline_coordinator_results_handled_total", help: "Phase results applied to lead state.",
        kind: .counter, labelNames: ["phase"])
    /// Records polled, per input topic (its `leads.discovered` topics count discovered leads).
    public static let coordinatorRecordsConsumed = MetricDescriptor(
        name: "pipeline_coordinator_records_consumed_total", help: "Records polled from the coordinator's input topics.",
        kind: .counter, labelNames: ["topic"])
    /// Phase results read, by phase and outcome (`completed`, `failed`, `account-paused`).
    public static let coordinatorPhaseOutcomes = MetricDescriptor(
        name: "pipeline_coordinator_phase_outcomes_total", help: "Phase results read by phase and outcome, and attempts timed out (outcome timed-out).",
        kind: .counter, labelNames: ["phase", "outcome"])
    /// Per owned input partition but `leads.backlog`: the last fetched high watermark minus the position.
    public static let coordinatorPartitionLag = MetricDescriptor(
        name: "pipeline_coordinator_partition_lag", help: "Records of an owned input partition not read yet (high watermark minus position); not leads.backlog.",
        kind: .gauge, labelNames: ["topic", "partition"])
    /// Accounts whose billing is paused, in the accounts table (every instance reads it whole).
    public static let coordinatorAccountsBillingPaused = MetricDescriptor(
        name: "pipeline_coordinator_accounts_billing_paused", help: "Accounts whose billing is paused.", kind: .gauge)
    /// Attempt timeouts and retry backoffs waiting to fire.
    public static let coordinatorTimersPending = MetricDescriptor(
        name: "pipeline_coordinator_timers_pending", help: "Attempt timeouts and retry backoffs scheduled.", kind: .gauge)
    /// Backlog records parked at the waiting bound (their accounts' gates closed), held uncommitted.
    public static let coordinatorLeadsParked = MetricDescriptor(
        name: "pipeline_coordinator_leads_parked",
        help: "Backlog records of leads that would wait on a gate, skipped at the waiting bound and held uncommitted.", kind: .gauge)
    /// Attempt timeouts due but held: the lead's results partition is not read past the deadline yet.
    public static let coordinatorTimeoutsHeld = MetricDescriptor(
        name: "pipeline_coordinator_timeouts_held",
        help: "Attempt timeouts due but held until the coordinator has read the lead's results partition past the deadline.", kind: .gauge)

    /// Batches handled after a table (accounts, offers, overrides, billing events) was not
    /// caught up within its wait, by the table's topic.
    public static let coordinatorTableCatchUpTimeouts = MetricDescriptor(
        name: "pipeline_coordinator_table_catch_up_timeouts_total",
        help: "Batches handled with a table not caught up to its topic's end within the coordinator's wait (2 s), by topic.",
        kind: .counter, labelNames: ["topic"])

    // MARK: senders of their own records (SettlingSend: the coordinator, the account heat aggregator)

    /// Failed sends of a record, by the sending process's service, the record's topic and the
    /// failure's class (`ProduceFailure`: `transient`, `refused`, `topic-refused`, `fatal`,
    /// `unclassified`); a record sent again counts at each failed send. A series appears at its
    /// first failure.
    public static let produceFailures = MetricDescriptor(
        name: "pipeline_produce_failures_total",
        help: "Sends of a record that failed, by service, topic and class of the failure (transient, refused, topic-refused, fatal, unclassified); a record sent again counts at each failed send.",
        kind: .counter, labelNames: ["service", "topic", "class"])

    // MARK: tables (KafkaTable: accounts, offers, overrides, billing events, search totals)

    /// Records of a table's topic that did not decode and were skipped, by topic; also the heat
    /// changelog records the scoring stage's aggregator could not restore.
    public static let tableRecordsSkipped = MetricDescriptor(
        name: "pipeline_table_records_skipped_total",
        help: "Records of a table's topic that did not decode and were skipped (the key keeps its previous row), by topic.",
        kind: .counter, labelNames: ["topic"])

    // MARK: every service

    /// 1 when the service is ready (``HealthStatus``), else 0.
    public static let serviceReady = MetricDescriptor(
        name: "pipeline_service_ready", help: "1 when the service has joined its group and restored its state.",
        kind: .gauge, labelNames: ["service"])

    /// Dead letters sent, by the kind of their reason (``DeadLetterKind``).
    public static let deadLetters = MetricDescriptor(
        name: "pipeline_dead_letters_total", help: "Records sent to dead letters, by the kind of reason.",
        kind: .counter, labelNames: ["reason"])
    /// 1, with the service and its version as labels (`BuildInfo`).
    public static let buildInfo = MetricDescriptor(
        name: "pipeline_build_info", help: "Always 1; the labels say which service and version runs.",
        kind: .gauge, labelNames: ["service", "version"])

    // MARK: the process (the names every Prometheus client uses; read from /proc on each scrape)

    /// Resident set size.
    public static let processResidentMemoryBytes = MetricDescriptor(
        name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", kind: .gauge)
    /// Virtual memory size.
    public static let processVirtualMemoryBytes = MetricDescriptor(
        name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.", kind: .gauge)
    /// User and system CPU time.
    public static let processCPUSeconds = MetricDescriptor(
        name: "process_cpu_seconds_total", help: "User and system CPU time spent in seconds.", kind: .counter)
    /// Open file descriptors.
    public static let processOpenFDs = MetricDescriptor(
        name: "process_open_fds", help: "Number of open file descriptors.", kind: .gauge)
    /// The soft limit on open file descriptors.
    public static let processMaxFDs = MetricDescriptor(
        name: "process_max_fds", help: "Maximum number of open file descriptors.", kind: .gauge)
    /// Start time, Unix seconds.
    public static let processStartTimeSeconds = MetricDescriptor(
        name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", kind: .gauge)

    // MARK: librdkafka (each client's statistics report; `client` is the handle's name, `<client.id>#producer-1`)

    /// Messages in a producer's local queues (`msg_cnt`).
    public static let kafkaProducerQueueMessages = MetricDescriptor(
        name: "pipeline_kafka_producer_queue_messages", help: "Messages waiting in the producer's librdkafka queues.",
        kind: .gauge, labelNames: ["client"])
    /// Bytes of those messages (`msg_size`).
    public static let kafkaProducerQueueBytes = MetricDescriptor(
        name: "pipeline_kafka_producer_queue_bytes", help: "Bytes of the messages waiting in the producer's librdkafka queues.",
        kind: .gauge, labelNames: ["client"])
    /// Callbacks and events waiting for the client's poll (`replyq`).
    public static let kafkaReplyQueueOps = MetricDescriptor(
        name: "pipeline_kafka_reply_queue_ops", help: "librdkafka callbacks and events waiting for the client's poll.",
        kind: .gauge, labelNames: ["client"])
    /// 1 when the connection to the broker is up (`state` UP), else 0.
    public static let kafkaBrokerUp = MetricDescriptor(
        name: "pipeline_kafka_broker_up", help: "1 when the client's connection to the broker is up.",
        kind: .gauge, labelNames: ["client", "broker"])
    /// Average round-trip time of the last statistics window (`rtt.avg`).
    public static let kafkaBrokerRTTSeconds = MetricDescriptor(
        name: "pipeline_kafka_broker_rtt_seconds", help: "Average broker round-trip time over the last statistics interval, in seconds.",
        kind: .gauge, labelNames: ["client", "broker"])
    /// 99th percentile of the same window (`rtt.p99`).
    public static let kafkaBrokerRTTP99Seconds = MetricDescriptor(
        name: "pipeline_kafka_broker_rtt_p99_seconds", help: "99th percentile broker round-trip time over the last statistics interval, in seconds.",
        kind: .gauge, labelNames: ["client", "broker"])
    /// Requests waiting to be sent (`outbuf_cnt`).
    public static let kafkaBrokerOutbufRequests = MetricDescriptor(
        name: "pipeline_kafka_broker_outbuf_requests", help: "Requests waiting to be sent to the broker.",
        kind: .gauge, labelNames: ["client", "broker"])
    /// Requests sent and waiting for a response (`waitresp_cnt`).
    public static let kafkaBrokerWaitrespRequests = MetricDescriptor(
        name: "pipeline_kafka_broker_waitresp_requests", help: "Requests sent to the broker and waiting for its response.",
        kind: .gauge, labelNames: ["client", "broker"])
    /// Transmission errors (`txerrs`).
    public static let kafkaBrokerTransmitErrors = MetricDescriptor(
        name: "pipeline_kafka_broker_transmit_errors_total", help: "Errors sending to the broker.",
        kind: .counter, labelNames: ["client", "broker"])
    /// Receive errors (`rxerrs`).
    public static let kafkaBrokerReceiveErrors = MetricDescriptor(
        name: "pipeline_kafka_broker_receive_errors_total", help: "Errors receiving from the broker.",
        kind: .counter, labelNames: ["client", "broker"])
    /// Requests that timed out (`req_timeouts`).
    public static let kafkaBrokerRequestTimeouts = MetricDescriptor(
        name: "pipeline_kafka_broker_request_timeouts_total", help: "Requests to the broker that timed out.",
        kind: .counter, labelNames: ["client", "broker"])
    /// Connections lost (`disconnects`).
    public static let kafkaBrokerDisconnects = MetricDescriptor(
        name: "pipeline_kafka_broker_disconnects_total", help: "Connections to the broker lost.",
        kind: .counter, labelNames: ["client", "broker"])
    /// Rebalances of a group consumer (`cgrp.rebalance_cnt`).
    public static let kafkaGroupRebalances = MetricDescriptor(
        name: "pipeline_kafka_consumer_group_rebalances_total", help: "Rebalances (assign or revoke) the group consumer went through.",
        kind: .counter, labelNames: ["client"])
    /// Time since the last rebalance (`cgrp.rebalance_age`).
    public static let kafkaGroupRebalanceAgeSeconds = MetricDescriptor(
        name: "pipeline_kafka_consumer_group_rebalance_age_seconds", help: "Seconds since the group consumer's last rebalance.",
        kind: .gauge, labelNames: ["client"])
    /// 1, with the group handler's state and join state as labels (`cgrp.state`, `cgrp.join_state`).
    public static let kafkaGroupState = MetricDescriptor(
        name: "pipeline_kafka_consumer_group_state", help: "Always 1; the labels say the group consumer's state (up) and join state (steady).",
        kind: .gauge, labelNames: ["client", "state", "join_state"])
    /// Lag of each assigned partition as librdkafka last saw it (`consumer_lag`).
    public static let kafkaConsumerLag = MetricDescriptor(
        name: "pipeline_kafka_consumer_lag", help: "Records between the committed offset and the high watermark, per assigned partition.",
        kind: .gauge, labelNames: ["client", "topic", "partition"])
    /// Error events librdkafka reported to the client, by error name (`_TRANSPORT`, `_ALL_BROKERS_DOWN`).
    public static let kafkaClientErrors = MetricDescriptor(
        name: "pipeline_kafka_client_errors_total", help: "Error events librdkafka reported to the client, by error name.",
        kind: .counter, labelNames: ["client", "error"])
    /// Bytes the client sent to the brokers (`tx_bytes`): a producer's records as they go on the wire, compressed.
    public static let kafkaTransmittedBytes = MetricDescriptor(
        name: "pipeline_kafka_transmitted_bytes_total", help: "Bytes the client sent to the brokers, as on the wire (compressed records included).",
        kind: .counter, labelNames: ["client"])
    /// Bytes the client received from the brokers (`rx_bytes`): a consumer's fetched batches as stored.
    public static let kafkaReceivedBytes = MetricDescriptor(
        name: "pipeline_kafka_received_bytes_total", help: "Bytes the client received from the brokers, as on the wire (fetched batches as stored).",
        kind: .counter, labelNames: ["client"])

    /// Every family above, for documentation and tests.
    public static let all: [MetricDescriptor] = [
        stageRecordsConsumed, stageRecordsProduced, stageOutputFailures, stageRecordsGivenUp, stageRecordsTimedOut, stageTimedOutHandlersRunning, stageRevocationCommitFailures, stageInFlight, stageWaiting, stageProcessingSeconds,
        stageProviderFailures, scoringContributionRecords, scoringContributions, vendorLookups, vendorCredits, vendorCircuitOpen, stagePausedPartitions, stageAssignedPartitions, stagePartitionLag, stagePartitionCommitPoint, coordinatorLeads, coordinatorResultsHandled, coordinatorPartitionLag,
        coordinatorRecordsConsumed, coordinatorPhaseOutcomes, coordinatorAccountsBillingPaused,
        coordinatorTimersPending, coordinatorLeadsParked, coordinatorTimeoutsHeld, coordinatorTableCatchUpTimeouts,
        produceFailures, tableRecordsSkipped, serviceReady, deadLetters, buildInfo, processResidentMemoryBytes, processVirtualMemoryBytes,
        processCPUSeconds, processOpenFDs, processMaxFDs, processStartTimeSeconds,
        kafkaProducerQueueMessages, kafkaProducerQueueBytes, kafkaReplyQueueOps, kafkaBrokerUp, kafkaBrokerRTTSeconds,
        kafkaBrokerRTTP99Seconds, kafkaBrokerOutbufRequests, kafkaBrokerWaitrespRequests, kafkaBrokerTransmitErrors,
        kafkaBrokerReceiveErrors, kafkaBrokerRequestTimeouts, kafkaBrokerDisconnects, kafkaGroupRebalances,
        kafkaGroupRebalanceAgeSeconds, kafkaGroupState, kafkaConsumerLag, kafkaClientErrors, kafkaTransmittedBytes, kafkaReceivedBytes,
    ]
}

/// A process's metrics: counters, gauges and histograms with labels, rendered in the Prometheus
/// text exposition format (version 0.0.4) by ``render()``.
///
/// Thread-safe: every update takes one `Mutex`, so updating from many tasks is fine; updates are
/// a dictionary lookup and an addition. A series appears in the output from its first update and
/// stays until ``remove(_:labels:)``.
public final class MetricsRegistry: Sendable {
    private let families = Mutex<[String: Family]>([:])

    /// Creates an empty registry.
    public init() {}

    /// A counter series of `descriptor` with `labels` (one value per label name).
    public func counter(_ descriptor: MetricDescriptor, _ labels: [String: String] = [:]) -> Counter {
        precondition(descriptor.kind == .counter, "\(descriptor.name) is a \(descriptor.kind)")
        return Counter(registry: self, descriptor: descriptor, labels: Self.labelValues(descriptor, labels))
    }

    /// A gauge series of `descriptor` with `labels`.
    public func gauge(_ descriptor: MetricDescriptor, _ labels: [String: String] = [:]) -> Gauge {
        precondition(descriptor.kind == .gauge, "\(descriptor.name) is a \(descriptor.kind)")
        return Gauge(registry: self, descriptor: descriptor, labels: Self.labelValues(descriptor, labels))
    }

    /// A histogram series of `descriptor` with `labels`.
    public func histogram(_ descriptor: MetricDescriptor, _ labels: [String: String] = [:]) -> Histogram {
        precondition(descriptor.kind == .histogram, "\(descriptor.name) is a \(descriptor.kind)")
        return Histogram(registry: self, descriptor: descriptor, labels: Self.labelValues(descriptor, labels))
    }

    /// Drops one series (a partition that was revoked, a status no lead has any more).
    public func remove(_ descriptor: MetricDescriptor, labels: [String: String]) {
        let values = Self.labelValues(descriptor, labels)
        families.withLock { _ = $0[descriptor.name]?.series.removeValue(forKey: values) }
    }

    /// Sets the gauges `values` of `descriptor` and removes the family's other series that
    /// `isOwn` selects: the series one owner (a stage, a client) replaces as a whole, so that a
    /// partition given up or a state left disappears.
    public func replaceGauges(_ descriptor: MetricDescriptor, with values: [[String: String]: Double],
                              ownedBy isOwn: ([String: String]) -> Bool = { _ in true }) {
        for labels in labelSets(of: descriptor) where isOwn(labels) && values[labels] == nil {
            remove(descriptor, labels: labels)
        }
        for (labels, value) in values {
            gauge(descriptor, labels).set(value)
        }
    }

    /// Adds to the counter `descriptor` one per element of `topics`, in the series of that topic
    /// (label `topic`, beside `labels`).
    public func countPerTopic(_ topics: [String], _ descriptor: MetricDescriptor, labels: [String: String] = [:]) {
        var perTopic: [String: Int] = [:]
        for topic in topics { perTopic[topic, default: 0] += 1 }
        for (topic, count) in perTopic {
            counter(descriptor, labels.merging(["topic": topic]) { _, new in new }).increment(by: Double(count))
        }
    }

    /// The label values of every series of a family, for replacing a set of series.
    public func labelSets(of descriptor: MetricDescriptor) -> [[String: String]] {
        families.withLock { families in
            (families[descriptor.name]?.series.keys).map { keys in
                keys.map { Dictionary(uniqueKeysWithValues: zip(descriptor.labelNames, $0)) }
            } ?? []
        }
    }

    /// The current value of a counter or gauge series (nil when it has none), for tests.
    public func value(_ descriptor: MetricDescriptor, _ labels: [String: String] = [:]) -> Double? {
        let values = Self.labelValues(descriptor, labels)
        return families.withLock { $0[descriptor.name]?.series[values]?.value }
    }

    fileprivate func update(_ descriptor: MetricDescriptor, _ labels: [String], _ change: (inout Series) -> Void) {
        families.withLock { families in
            if families[descriptor.name] == nil {
                families[descriptor.name] = Family(descriptor: descriptor)
            } else {
                precondition(families[descriptor.name]?.descriptor == descriptor, "two definitions of \(descriptor.name)")
            }
            change(&families[descriptor.name, default: Family(descriptor: descriptor)].series[labels, default: Series(descriptor)])
        }
    }

    /// Label values in the descriptor's order; a missing or extra label is a programming error.
    private static func labelValues(_ descriptor: MetricDescriptor, _ labels: [String: String]) -> [String] {
        precondition(labels.count == descriptor.labelNames.count && descriptor.labelNames.allSatisfy { labels[$0] != nil },
                     "\(descriptor.name) takes labels \(descriptor.labelNames), got \(labels.keys.sorted())")
        return descriptor.labelNames.map { labels[$0]! }
    }

    /// Every family in the Prometheus text format: `# HELP` and `# TYPE` lines, then one line
    /// per series (histograms: cumulative `_bucket` lines with `le`, `_sum`, `_count`), families
    /// and series sorted so the output is stable.
    public func render() -> String {
        let snapshot = families.withLock { $0 }
        var lines: [String] = []
        for name in snapshot.keys.sorted() {
            guard let family = snapshot[name] else { continue }
            let descriptor = family.descriptor
            lines.append("# HELP \(name) \(PrometheusText.escapeHelp(descriptor.help))")
            lines.append("# TYPE \(name) \(descriptor.kind.rawValue)")
            let series = family.series.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            for (values, entry) in series {
                let pairs = Array(zip(descriptor.labelNames, values))
                guard descriptor.kind == .histogram else {
                    lines.append("\(name)\(PrometheusText.labels(pairs)) \(PrometheusText.number(entry.value))")
                    continue
                }
                var cumulative: UInt64 = 0
                for (bound, count) in zip(descriptor.buckets, entry.bucketCounts) {
                    cumulative += count
                    lines.append("\(name)_bucket\(PrometheusText.labels(pairs + [("le", PrometheusText.number(bound))])) \(cumulative)")
                }
                lines.append("\(name)_bucket\(PrometheusText.labels(pairs + [("le", "+Inf")])) \(entry.count)")
                lines.append("\(name)_sum\(PrometheusText.labels(pairs)) \(PrometheusText.number(entry.value))")
                lines.append("\(name)_count\(PrometheusText.labels(pairs)) \(entry.count)")
            }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// The content type of ``render()``'s output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private struct Family {
        let descriptor: MetricDescriptor
        var series: [[String]: Series] = [:]
    }
}

/// One series' numbers: the value (counter, gauge; the sum for a histogram) and, for
/// histograms, the per-bucket (not cumulative) counts and the total count.
struct Series: Sendable {
    var value: Double = 0
    var bucketCounts: [UInt64]
    var count: UInt64 = 0

    init(_ descriptor: MetricDescriptor) {
        bucketCounts = Array(repeating: 0, count: descriptor.buckets.count)
    }
}

/// A counter series; see ``MetricsRegistry/counter(_:_:)``.
public struct Counter: Sendable {
    let registry: MetricsRegistry
    let descriptor: MetricDescriptor
    let labels: [String]

    /// Adds `amount` (not negative).
    public func increment(by amount: Double = 1) {
        precondition(amount >= 0, "counters only go up")
        registry.update(descriptor, labels) { $0.value += amount }
    }

    /// Sets the count to `total` when that is more: a counter kept elsewhere (the kernel's CPU
    /// time) copied in.
    public func raise(to total: Double) {
        registry.update(descriptor, labels) { $0.value = max($0.value, total) }
    }
}

/// A gauge series; see ``MetricsRegistry/gauge(_:_:)``.
public struct Gauge: Sendable {
    let registry: MetricsRegistry
    let descriptor: MetricDescriptor
    let labels: [String]

    /// Sets the value.
    public func set(_ value: Double) {
        registry.update(descriptor, labels) { $0.value = value }
    }

    /// Adds `amount` (may be negative).
    public func add(_ amount: Double) {
        registry.update(descriptor, labels) { $0.value += amount }
    }
}

/// A histogram series; see ``MetricsRegistry/histogram(_:_:)``.
public struct Histogram: Sendable {
    let registry: MetricsRegistry
    let descriptor: MetricDescriptor
    let labels: [String]

    /// Counts one observation into the first bucket whose bound is at least `value`.
    public func observe(_ value: Double) {
        let index = descriptor.buckets.firstIndex { value <= $0 }
        registry.update(descriptor, labels) { series in
            if let index { series.bucketCounts[index] += 1 }
            series.value += value
            series.count += 1
        }
    }

    /// Observes a duration in seconds.
    public func observe(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        observe(Double(seconds) + Double(attoseconds) / 1e18)
    }
}

/// The escaping and number formatting of the Prometheus text format.
enum PrometheusText {
    /// `{name="value",...}`, or nothing without labels; values escape `\`, `"` and newlines.
    static func labels(_ pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return "" }
        return "{" + pairs.map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func escapeLabelValue(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ help: String) -> String {
        help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Whole numbers without a fraction, others in Swift's shortest form; `+Inf`, `-Inf`, `NaN`.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// Whether a service is alive and ready, for `/healthz` and `/readyz`.
///
/// Live from creation until ``markFailed(_:)``; ready between ``markReady()`` and
/// ``markNotReady(_:)``. Stages are ready once they have joined their group (their first
/// assignment, possibly empty) and read their tables; the coordinator once its first assigned
/// partitions are restored.
public final class HealthStatus: Sendable {
    private struct State {
        var isReady = false
        var notReadyReason = "starting"
        var failure: String?
        /// Set while the broker does not answer (``BrokerWatch``): not ready whatever else holds.
        var brokerProblem: String?
    }
    private let state = Mutex(State())

    /// Creates a status: live, not ready.
    public init() {}

    /// Marks the service ready.
    public func markReady() {
        state.withLock { $0.isReady = true }
    }

    /// Marks the service not ready (draining, lost its group), with the reason `/readyz` shows.
    public func markNotReady(_ reason: String) {
        state.withLock {
            $0.isReady = false
            $0.notReadyReason = reason
        }
    }

    /// Marks the service dead: `/healthz` fails from now on, so the orchestrator restarts it.
    public func markFailed(_ reason: String) {
        state.withLock {
            $0.failure = reason
            $0.isReady = false
            $0.notReadyReason = reason
        }
    }

    /// Whether the service should keep running; nil when live, else why not.
    public var failure: String? { state.withLock { $0.failure } }

    /// Marks the broker unreachable (`problem` says how) or, with nil, answering again: while it
    /// is unreachable the service is not ready, and it is ready again when it answers, if it was.
    public func setBrokerProblem(_ problem: String?) {
        state.withLock { $0.brokerProblem = problem }
    }

    /// Whether it is ready; nil when ready, else why not.
    public var notReadyReason: String? {
        state.withLock { state in
            guard state.isReady else { return state.notReadyReason }
            return state.brokerProblem.map { "broker unreachable: \($0)" }
        }
    }
}
