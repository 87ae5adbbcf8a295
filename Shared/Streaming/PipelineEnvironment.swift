import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime

/// What every pipeline process reads from its environment.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PIPELINE_NAMESPACE` | none | prefix of every topic name (`<ns>.leads.discovered`); tests use a unique one |
/// | `PIPELINE_PARTITIONS` | 12 | partitions of every lead-keyed topic (all equal: co-partitioning) |
/// | `SIM_LINKEDIN_LATENCY_MS`, `SIM_X_LATENCY_MS`, `SIM_ACTIVITY_LATENCY_MS` | 800, 400, 1200 | mean latency of each simulated provider, 0...600000 ms |
/// | `SIM_SCORING_LATENCY_MS` | 0 | simulated latency of a scoring model call, slept by the scoring stage before it scores |
/// | `SIM_LATENCY_JITTER` | 0.5 | 0...1: each latency varies uniformly within ± this share of its mean |
/// | `SIM_LATENCY_SCALE` | 1 | multiplies every simulated latency above (0 = instant) |
/// | `SIM_LINKEDIN_FAILURE_RATE`, `SIM_X_FAILURE_RATE`, `SIM_ACTIVITY_FAILURE_RATE` | 0.05 | 0...1: share of calls failing transiently |
/// | `SIM_LINKEDIN_NOT_FOUND_RATE`, `SIM_X_NOT_FOUND_RATE`, `SIM_ACTIVITY_NOT_FOUND_RATE` | 0.02, 0.02, 0 | 0...1: share of profiles (or activity) that do not exist (a permanent miss) |
/// | `PIPELINE_REPLICATION_FACTOR` | the broker's | 1 to 32: copies of every topic `leadctl topics create` makes (Apache Kafka's `default.replication.factor` is 1: one disk) |
/// | `PIPELINE_MIN_INSYNC_REPLICAS` | the broker's | 1 to the replication factor, and only with it: `min.insync.replicas` of every topic (set on existing ones too), the copies a write (acks=all) waits for |
/// | `MAX_RECORD_BYTES` | 1048576 | 64 KiB to 64 MiB: the largest record value any process reads or writes: larger input goes to dead letters unread, and the producers' `message.max.bytes` is this plus ``PipelineEnvironment/recordOverheadBytes`` |
/// plus the Kafka variables of ``KafkaConfiguration`` and those of ``Runtime/ProcessSettings``
/// (`LOG_LEVEL`, `SHUTDOWN_TIMEOUT_SECONDS`, `HEAP_TRIM_INTERVAL_SECONDS`, `METRICS_PORT`,
/// `METRICS_BIND_ADDRESS`). Every value is read with ``Runtime/EnvironmentReader``: a
/// bad one throws ``Runtime/ConfigurationError`` naming the variable, never a default.
public struct PipelineEnvironment: Sendable {
    public var service: String
    public var kafka: KafkaConfiguration
    public var topics: Topics
    public var partitions: Int
    /// `PIPELINE_REPLICATION_FACTOR`: the copies of each topic made; nil for the broker's default.
    public var replicationFactor: Int?
    /// `PIPELINE_MIN_INSYNC_REPLICAS`: each topic's `min.insync.replicas`; nil for the broker's default.
    public var minInSyncReplicas: Int?
    public var simulation: SimulationSettings
    /// `MAX_RECORD_BYTES`: the largest record value read or written. A dead letter stays within
    /// it (see ``MessageCodec/deadLetter(for:reason:service:topics:)``), and a record the
    /// coordinator would write above it goes to dead letters instead.
    public var maxRecordBytes: Int
    /// For the pipeline's own messages, bounded by ``maxRecordBytes``.
    public var codec: MessageCodec
    /// For records other systems write to the input topic, bounded by ``maxRecordBytes``.
    public var inputCodec: MessageCodec
    /// Log level, shutdown bound, heap trimming and metrics endpoint of the process; pass them
    /// to ``Runtime/ServiceRunner/run(_:logger:settings:)``.
    public var process: ProcessSettings
    public var logger: Logger

    public init(service: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.service = service
        process = try ProcessSettings(environment: environment)
        kafka = try KafkaConfiguration(environment: environment, defaultClientID: service)
        let reader = EnvironmentReader(environment)
        topics = Topics(namespace: reader.string("PIPELINE_NAMESPACE"))
        partitions = try reader.integer("PIPELINE_PARTITIONS", default: 12, range: 1...1024)
        replicationFactor = try reader.integer("PIPELINE_REPLICATION_FACTOR", range: 1...32)
        minInSyncReplicas = try reader.integer("PIPELINE_MIN_INSYNC_REPLICAS", range: 1...(replicationFactor ?? 32))
        if minInSyncReplicas != nil && replicationFactor == nil {
            // Against a broker's default of one copy, every write (acks=all) would be refused.
            throw ConfigurationError(variable: "PIPELINE_MIN_INSYNC_REPLICAS", problem: "set with PIPELINE_REPLICATION_FACTOR, not alone")
        }
        maxRecordBytes = try Self.integer(environment, "MAX_RECORD_BYTES", default: 1 << 20, range: (64 << 10)...(64 << 20))
        codec = MessageCodec(maxRecordBytes: maxRecordBytes)
        inputCodec = MessageCodec(maxRecordBytes: maxRecordBytes)
        if kafka.properties["message.max.bytes"] == nil {
            // librdkafka's own default (1,000,000) is below the documented 1 MiB.
            kafka.properties["message.max.bytes"] = String(maxRecordBytes + Self.recordOverheadBytes)
        }
        var simulation = SimulationSettings.realistic
        let latencies: [(String, WritableKeyPath<SimulationSettings, SimulationSettings.ProviderBehavior>)] = [
            ("SIM_LINKEDIN_LATENCY_MS", \.linkedin), ("SIM_X_LATENCY_MS", \.x), ("SIM_ACTIVITY_LATENCY_MS", \.activity),
            ("SIM_SCORING_LATENCY_MS", \.scoring),
        ]
        let jitter = try Self.decimal(environment, "SIM_LATENCY_JITTER", default: 0.5, range: 0...1)
        for (name, path) in latencies {
            let realistic = Int(simulation[keyPath: path].meanLatency / .milliseconds(1))
            let milliseconds = try Self.integer(environment, name, default: realistic, range: 0...600_000)
            simulation[keyPath: path].meanLatency = .milliseconds(milliseconds)
            // The realistic defaults are ± half their mean, so 0.5 leaves them as they are.
            simulation[keyPath: path].latencyJitter = simulation[keyPath: path].meanLatency * jitter
        }
        let scale = try Self.decimal(environment, "SIM_LATENCY_SCALE", default: 1, range: 0...100)
        for (_, path) in latencies {
            simulation[keyPath: path].meanLatency = simulation[keyPath: path].meanLatency * scale
            simulation[keyPath: path].latencyJitter = simulation[keyPath: path].latencyJitter * scale
        }
        let failureRates: [(String, WritableKeyPath<SimulationSettings, SimulationSettings.ProviderBehavior>)] = [
            ("SIM_LINKEDIN_FAILURE_RATE", \.linkedin), ("SIM_X_FAILURE_RATE", \.x), ("SIM_ACTIVITY_FAILURE_RATE", \.activity),
        ]
        for (name, path) in failureRates {
            simulation[keyPath: path].failureRate = try Self.decimal(
                environment, name, default: simulation[keyPath: path].failureRate, range: 0...1)
            let notFound = name.replacingOccurrences(of: "FAILURE_RATE", with: "NOT_FOUND_RATE")
            simulation[keyPath: path].notFoundRate = try Self.decimal(
                environment, notFound, default: simulation[keyPath: path].notFoundRate, range: 0...1)
        }
        self.simulation = simulation
        logger = Logger(service: service, level: process.logLevel)
    }

    /// Room above ``maxRecordBytes`` for a record's key, headers and framing in librdkafka's
    /// `message.max.bytes`, and in the `max.message.bytes` of every topic
    /// (``topicSpecifications``). A topic made otherwise must accept records of this size too; a
    /// record it refuses goes to dead letters.
    public static let recordOverheadBytes = 64 << 10

    /// A producer for a pipeline process: unless `message.timeout.ms` is configured, a record
    /// waits for the broker however long it is away (0, librdkafka's "no limit"), so an outage
    /// delays outputs and never fails or drops them; SIGTERM still ends within its timeout,
    /// since closing the producer purges what is left. A timed-out send would also make the
    /// idempotent producer bump its epoch, which a broker may answer by fencing it (the local
    /// broker does), and re-send records the broker may already hold.
    public func makeProducer() throws -> KafkaProducer {
        let waitsOutOutages = kafka.properties["message.timeout.ms"] == nil && kafka.properties["delivery.timeout.ms"] == nil
        return try KafkaProducer(configuration: kafka, properties: waitsOutOutages ? ["message.timeout.ms": "0"] : [:])
    }

    /// This environment with Kafka clients (the producer of ``makeProducer()`` and every group
    /// consumer) that report librdkafka's statistics into `metrics` (`pipeline_kafka_*`).
    public func reportingKafkaStatistics(to metrics: MetricsRegistry) -> PipelineEnvironment {
        var environment = self
        environment.kafka = kafka.reportingStatistics(to: metrics)
        return environment
    }

    /// Reads a whole number in `range`, or `value` when unset (``Runtime/EnvironmentReader/integer(_:default:range:)``).
    public static func integer(_ environment: [String: String], _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        try EnvironmentReader(environment).integer(name, default: value, range: range)
    }

    /// Reads `true`/`false`/`1`/`0` (any case), or `value` when unset or empty.
    public static func boolean(_ environment: [String: String], _ name: String, default value: Bool) throws -> Bool {
        try EnvironmentReader(environment).boolean(name, default: value)
    }

    /// Reads a number in `range`, or `value` when unset (``Runtime/EnvironmentReader/decimal(_:default:range:)``).
    public static func decimal(_ environment: [String: String], _ name: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
        try EnvironmentReader(environment).decimal(name, default: value, range: range)
    }

    /// The effective configuration as log fields: the Kafka connection with its librdkafka
    /// properties through ``Kafka/KafkaConfiguration/redactedProperties`` (no secret values),
    /// topics, limits and ``process``, plus `settings` (the service's own, already described).
    public func configurationFields(_ settings: [String: String] = [:]) -> [String: String] {
        var fields = process.logFields
        fields["version"] = BuildInfo.version
        fields["kafka.bootstrapServers"] = kafka.bootstrapServers
        fields["kafka.clientID"] = kafka.clientID
        fields["kafka.groupID"] = kafka.groupID ?? "default"
        fields["kafka.properties"] = kafka.redactedProperties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: ",")
        fields["namespace"] = topics.namespace ?? ""
        fields["partitions"] = String(partitions)
        fields["replicationFactor"] = replicationFactor.map(String.init) ?? "broker default"
        fields["minInSyncReplicas"] = minInSyncReplicas.map(String.init) ?? "broker default"
        fields["maxRecordBytes"] = String(maxRecordBytes)
        fields["simulation"] = "\(simulation)"
        return fields.merging(settings) { _, new in new }
    }

    /// Logs ``configurationFields(_:)`` in one line at info level: call it once at start-up,
    /// after every setting is read. `settings` values must not hold secrets (describe a
    /// settings type whose secrets describe themselves redacted, as `Secret` does).
    public func logConfiguration(_ settings: [String: String] = [:]) {
        logger.info("configuration", configurationFields(settings))
    }

    /// Every topic of the pipeline with its partition count and configs. Each accepts the
    /// records the producers may send (`max.message.bytes`, as their `message.max.bytes`): a
    /// topic left at the broker's default (about 1 MB) would refuse records between that and a
    /// raised ``maxRecordBytes``. Never less than for 1 MiB: a lowered bound would make the
    /// broker refuse an upstream producer's batches of the default size (librdkafka's 1,000,000
    /// bytes) whole, where the services dead-letter each record above it.
    public var topicSpecifications: [TopicSpecification] {
        var recordBound = ["max.message.bytes": String(max(maxRecordBytes, 1 << 20) + Self.recordOverheadBytes)]
        if let minInSyncReplicas { recordBound["min.insync.replicas"] = String(minInSyncReplicas) }
        let compacted = recordBound.merging(["cleanup.policy": "compact"]) { $1 }
        let leadKeyed = [topics.leadsDiscovered, topics.leadsDiscoveredPriority, topics.leadCommands, topics.leadsBacklog, topics.phaseResults,
                         topics.phaseResultsPriority, topics.leadState, topics.leadPool, topics.leadOverrides,
                         topics.autopilotEnrollments, topics.deadLetters]
            + Phase.allCases.flatMap { [topics.phaseRequests($0), topics.phaseRequests($0, isPriority: true)] }
        // The backlog keeps its records for good: a lead parked behind a billing pause waits there
        // however long the pause lasts (with the broker's default retention, 7 days on Apache
        // Kafka, a longer pause lost it, and its lead stayed pending). Not a setting: the
        // coordinator does not notice a parked record that retention removed (it would stay
        // parked, holding its partition's commit point).
        let kept = recordBound.merging(["retention.ms": "-1"]) { $1 }
        var specifications = leadKeyed.map { name in
            TopicSpecification(name: name, partitions: partitions,
                               configs: [topics.leadState, topics.leadPool, topics.leadOverrides].contains(name) ? compacted
                                   : name == topics.leadsBacklog ? kept : recordBound)
        }
        specifications += [
            TopicSpecification(name: topics.accounts, partitions: 1, configs: compacted),
            TopicSpecification(name: topics.offers, partitions: 1, configs: compacted),
            TopicSpecification(name: topics.billingEvents, partitions: 1, configs: compacted),
            TopicSpecification(name: topics.searchTotals, partitions: partitions, configs: compacted),
            TopicSpecification(name: topics.progress, partitions: partitions, configs: compacted),
            TopicSpecification(name: topics.progressParts, partitions: partitions, configs: compacted),
            TopicSpecification(name: topics.accountProgressParts, partitions: partitions, configs: compacted),
            TopicSpecification(name: topics.accountProgress, partitions: partitions, configs: compacted),
            TopicSpecification(name: topics.billingUsage, partitions: partitions, configs: recordBound),
            TopicSpecification(name: topics.accountSignals, partitions: partitions, configs: recordBound),
            // Equal counts: the aggregator owning a contributions partition restores the same
            // partition of the changelog.
            TopicSpecification(name: topics.accountSignalContributions, partitions: partitions, configs: recordBound),
            TopicSpecification(name: topics.accountHeat, partitions: partitions, configs: compacted),
            TopicSpecification(name: topics.webEnrichmentRequests, partitions: partitions, configs: recordBound),
            TopicSpecification(name: topics.webEnrichments, partitions: partitions, configs: compacted),
        ]
        return specifications.map { specification in
            var specification = specification
            specification.replicationFactor = replicationFactor ?? -1
            return specification
        }
    }

    /// Creates every topic (an existing one with the right partition count is fine), fails when
    /// one has another partition count (co-partitioning depends on it for the lead-keyed ones), and sets
    /// each configuration value an existing topic has otherwise: returns what it set.
    @discardableResult
    public func ensureTopics() async throws -> [TopicConfigChange] {
        let admin = try KafkaAdmin(configuration: kafka)
        let specifications = topicSpecifications
        let existed = try await admin.createTopics(specifications)
        return try await admin.ensureConfigs(specifications.filter { existed.contains($0.name) })
    }
}

extension Duration {
    static func * (lhs: Duration, rhs: Double) -> Duration {
        .nanoseconds(Int64((Double(lhs.components.seconds) * 1e9 + Double(lhs.components.attoseconds) / 1e9) * rhs))
    }
}
