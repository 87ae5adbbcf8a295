import CRdKafka
import Foundation

/// A topic to create.
public struct TopicSpecification: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    /// `-1` uses the broker's default.
    public var replicationFactor: Int
    /// Topic configs, for example `cleanup.policy=compact`.
    public var configs: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// A configuration value ``KafkaAdmin/ensureConfigs(_:)`` set on an existing topic.
public struct TopicConfigChange: Sendable, Hashable {
    public let topic: String
    public let key: String
    /// The value the topic had (its own or the broker's), if the broker described one.
    public let was: String?
    public let value: String
}

/// Low and high watermark of one partition: the first offset still stored and one past the last.
public struct Watermarks: Sendable, Hashable {
    public var low: Int64
    public var high: Int64

    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }
}

/// How far a consumer group is behind on one partition.
public struct PartitionLag: Sendable, Hashable {
    public var partition: TopicPartition
    /// The group's committed offset, `nil` when it has committed none.
    public var committed: Int64?
    public var watermarks: Watermarks
    /// `high - committed`; with nothing committed, `high - low` (everything stored is unread).
    public var lag: Int64 {
        max(0, watermarks.high - (committed ?? watermarks.low))
    }

    public init(partition: TopicPartition, committed: Int64?, watermarks: Watermarks) {
        self.partition = partition
        self.committed = committed
        self.watermarks = watermarks
    }
}

/// Topic administration and the offsets a lag monitor needs.
///
/// High watermarks come from a fetch, not only from ListOffsets: some Kafka-compatible brokers
/// (Tansu) under-report ListOffsets after batched produces, while the watermark in a fetch
/// response is right on every broker. ``watermarks(_:)`` takes the larger of the two, and the
/// listed one alone where the fetch is refused (a principal with Describe but not Read on the
/// topic; ListOffsets is exact on Apache Kafka, where ACLs are enforced).
public final class KafkaAdmin: Sendable {
    private let configuration: KafkaConfiguration
    private let rk: RDHandle
    private let timeoutMilliseconds: Int32

    public init(configuration: KafkaConfiguration, timeoutMilliseconds: Int32 = 10_000) throws {
        self.configuration = configuration
        self.timeoutMilliseconds = timeoutMilliseconds
        // Nothing polls this handle's reply queue, so statistics reports would pile up there.
        let conf = try configuration.makeConf(defaults: ["log.connection.close": "false"],
                                              overrides: ["statistics.interval.ms": "0"])
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        rk = try makeRDKafkaHandle(type: RD_KAFKA_PRODUCER, conf: conf, operation: "createAdmin")
    }

    deinit {
        rd_kafka_destroy(rk.pointer)
    }

    /// What waits on the handle's reply queue (tests).
    var queuedReplies: Int { Int(rd_kafka_outq_len(rk.pointer)) }

    /// Runs `body` off the caller's thread, serving the handle's reply queue before and after:
    /// librdkafka queues each broker error there for the error callback, and nothing else polls
    /// an admin handle, so an outage's errors piled up for as long as a long-lived handle (the
    /// broker watch's, a table's) lived.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        let rk = self.rk
        return await runBlocking("kafka-admin") {
            rd_kafka_poll(rk.pointer, 0)
            defer { rd_kafka_poll(rk.pointer, 0) }
            return body()
        }
    }

    /// Creates topics, and returns the names of those that existed already. A topic that
    /// already exists with the requested partition count is not an error; one with another
    /// count is (co-partitioning depends on it).
    @discardableResult
    public func createTopics(_ topics: [TopicSpecification]) async throws -> Set<String> {
        guard !topics.isEmpty else { return [] }
        let rk = self.rk
        let timeout = timeoutMilliseconds
        let outcomes = try await blocking { () -> Result<[(String, rd_kafka_resp_err_t, String)], KafkaError> in
            var newTopics: [OpaquePointer?] = []
            defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
            for topic in topics {
                var errstr = [CChar](repeating: 0, count: 512)
                guard let newTopic = rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions),
                                                           Int32(topic.replicationFactor), &errstr, errstr.count) else {
                    return .failure(KafkaError.configuration(key: topic.name, string(fromCBuffer: errstr)))
                }
                newTopics.append(newTopic)
                for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                    rd_kafka_NewTopic_set_config(newTopic, key, value)
                }
            }
            return withAdminResult(rk: rk, timeout: timeout, operation: "createTopics",
                                   start: { options, queue in
                                       rd_kafka_CreateTopics(rk.pointer, &newTopics, newTopics.count, options, queue)
                                   }) { event in
                var count = 0
                let results = rd_kafka_event_CreateTopics_result(event)
                guard let array = rd_kafka_CreateTopics_result_topics(results, &count) else { return [] }
                return (0..<count).map { i in
                    let result = array[i]
                    return (String(cString: rd_kafka_topic_result_name(result)),
                            rd_kafka_topic_result_error(result),
                            rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? "")
                }
            }
        }.get()
        var existing: [String: Int]?
        var existed: Set<String> = []
        for (name, err, message) in outcomes where err != RD_KAFKA_RESP_ERR_NO_ERROR {
            guard err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS else {
                throw KafkaError(err, message: "\(name): \(message)", operation: "createTopics")
            }
            existed.insert(name)
            if existing == nil { existing = try await listTopics() }
            let requested = topics.first { $0.name == name }?.partitions ?? 0
            if let count = existing?[name], count != requested {
                throw KafkaError.partitionCountMismatch(topic: name, existing: count, requested: requested)
            }
        }
        return existed
    }

    /// Deletes topics; a topic that does not exist is not an error.
    public func deleteTopics(_ names: [String]) async throws {
        guard !names.isEmpty else { return }
        let rk = self.rk
        let timeout = timeoutMilliseconds
        let outcomes = try await blocking { () -> Result<[(String, rd_kafka_resp_err_t)], KafkaError> in
            var deletes: [OpaquePointer?] = names.map { rd_kafka_DeleteTopic_new($0) }
            defer { deletes.forEach { rd_kafka_DeleteTopic_destroy($0) } }
            return withAdminResult(rk: rk, timeout: timeout, operation: "deleteTopics",
                                   start: { options, queue in
                                       rd_kafka_DeleteTopics(rk.pointer, &deletes, deletes.count, options, queue)
                                   }) { event in
                var count = 0
                let results = rd_kafka_event_DeleteTopics_result(event)
                guard let array = rd_kafka_DeleteTopics_result_topics(results, &count) else { return [] }
                return (0..<count).map { i in
                    (String(cString: rd_kafka_topic_result_name(array[i])), rd_kafka_topic_result_error(array[i]))
                }
            }
        }.get()
        for (name, err) in outcomes where err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART {
            throw KafkaError(err, message: "\(name): \(String(cString: rd_kafka_err2str(err)))", operation: "deleteTopics")
        }
    }

    /// Asks the cluster for its brokers (a metadata request without topics): the cheapest round
    /// trip that shows a broker answers. Returns how many brokers the answer lists.
    public func brokers(timeoutMilliseconds: Int32? = nil) async throws -> Int {
        let rk = self.rk
        let timeout = timeoutMilliseconds ?? self.timeoutMilliseconds
        return try await blocking { () -> Result<Int, KafkaError> in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(rk.pointer, 0, nil, &metadata, timeout)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                return .failure(KafkaError(err, operation: "brokers"))
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            return .success(Int(metadata.pointee.broker_cnt))
        }.get()
    }

    /// Every topic with its partition count.
    public func listTopics() async throws -> [String: Int] {
        try await describeTopics().mapValues(\.partitions)
    }

    /// Every topic with its partition count and its first partition's replica count (the
    /// topic's replication factor, unless a reassignment is under way).
    public func describeTopics() async throws -> [String: (partitions: Int, replicas: Int)] {
        let rk = self.rk
        let timeout = timeoutMilliseconds
        return try await blocking { () -> Result<[String: (partitions: Int, replicas: Int)], KafkaError> in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(rk.pointer, 1, nil, &metadata, timeout)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                return .failure(KafkaError(err, operation: "listTopics"))
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            var topics: [String: (partitions: Int, replicas: Int)] = [:]
            for i in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[i]
                guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                let replicas = topic.partition_cnt > 0 ? Int(topic.partitions[0].replica_cnt) : 0
                topics[String(cString: topic.topic)] = (Int(topic.partition_cnt), replicas)
            }
            return .success(topics)
        }.get()
    }

    /// Each topic's configuration as the broker describes it: the values set on the topic and
    /// the broker's for the rest.
    public func topicConfigs(_ names: [String]) async throws -> [String: [String: String]] {
        try await configsRequest(.describe, Dictionary(names.map { ($0, [:]) }) { $1 })
    }

    /// Sets each configuration value of `topics` that the topic has otherwise (a release that
    /// changes one reaches the topics an earlier release made), and returns what it set. For
    /// topics that exist: one just created may not be known yet to the broker asked.
    public func ensureConfigs(_ topics: [TopicSpecification]) async throws -> [TopicConfigChange] {
        let described = try await topicConfigs(topics.filter { !$0.configs.isEmpty }.map(\.name))
        var changes: [TopicConfigChange] = []
        for topic in topics {
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) where described[topic.name]?[key] != value {
                changes.append(TopicConfigChange(topic: topic.name, key: key, was: described[topic.name]?[key], value: value))
            }
        }
        try await setTopicConfigs(Dictionary(grouping: changes, by: \.topic).mapValues {
            Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) })
        })
        return changes
    }

    /// Sets configuration values on existing topics, topic by topic, leaving their other values
    /// as they are (IncrementalAlterConfigs).
    public func setTopicConfigs(_ values: [String: [String: String]]) async throws {
        try await configsRequest(.alter, values.filter { !$0.value.isEmpty })
    }

    private enum ConfigsRequest { case describe, alter }

    /// Sends one DescribeConfigs or IncrementalAlterConfigs (SET) request for the topics of
    /// `values` (their values to set), and returns each topic's values as the answer gives them;
    /// throws the first topic's error.
    @discardableResult
    private func configsRequest(_ request: ConfigsRequest, _ values: [String: [String: String]]) async throws -> [String: [String: String]] {
        guard !values.isEmpty else { return [:] }
        let rk = self.rk
        let timeout = timeoutMilliseconds
        let operation = request == .describe ? "describeConfigs" : "alterConfigs"
        let outcomes = try await blocking { () -> Result<[(String, rd_kafka_resp_err_t, String, [String: String])], KafkaError> in
            var resources: [OpaquePointer?] = []
            defer { resources.forEach { rd_kafka_ConfigResource_destroy($0) } }
            for (name, topicValues) in values.sorted(by: { $0.key < $1.key }) {
                let resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name)
                resources.append(resource)
                for (key, value) in topicValues.sorted(by: { $0.key < $1.key }) {
                    if let error = rd_kafka_ConfigResource_add_incremental_config(resource, key, RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, value) {
                        defer { rd_kafka_error_destroy(error) }
                        return .failure(KafkaError.configuration(key: "\(name) \(key)", String(cString: rd_kafka_error_string(error))))
                    }
                }
            }
            return withAdminResult(rk: rk, timeout: timeout, operation: operation,
                                   start: { options, queue in
                                       switch request {
                                       case .describe: rd_kafka_DescribeConfigs(rk.pointer, &resources, resources.count, options, queue)
                                       case .alter: rd_kafka_IncrementalAlterConfigs(rk.pointer, &resources, resources.count, options, queue)
                                       }
                                   }) { event in
                switch request {
                case .describe: configResources(rd_kafka_event_DescribeConfigs_result(event), rd_kafka_DescribeConfigs_result_resources)
                case .alter: configResources(rd_kafka_event_IncrementalAlterConfigs_result(event), rd_kafka_IncrementalAlterConfigs_result_resources)
                }
            }
        }.get()
        var configs: [String: [String: String]] = [:]
        for (name, err, message, topicValues) in outcomes {
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(err, message: "\(name): \(message)", operation: operation)
            }
            configs[name] = topicValues
        }
        return configs
    }

    /// The partitions of `topic`, or an `UNKNOWN_TOPIC_OR_PART` error.
    public func partitions(of topic: String) async throws -> [TopicPartition] {
        guard let count = try await listTopics()[topic] else {
            throw KafkaError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, message: "no topic '\(topic)'", operation: "partitions")
        }
        return (0..<Int32(count)).map { TopicPartition(topic: topic, partition: $0) }
    }

    /// ``watermarks(_:)``, asked again until the broker answers when `waiting` is given
    /// (``KafkaError/waitingForBroker(_:waiting:)``, `waiting` called with each failure): a
    /// service's read that starts during an outage waits for the broker. Without it, an
    /// unreachable broker is an error (an operator's command says so).
    public func watermarks(_ partitions: [TopicPartition], whileBrokerUnreachable waiting: ((KafkaError) -> Void)?)
        async throws -> [TopicPartition: Watermarks] {
        guard let waiting else { return try await watermarks(partitions) }
        return try await KafkaError.waitingForBroker({ try await self.watermarks(partitions) }, waiting: waiting)
    }

    /// Low and high watermarks, the high one confirmed by a fetch (see ``KafkaAdmin``).
    public func watermarks(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Watermarks] {
        guard !partitions.isEmpty else { return [:] }
        let listed = try await listedWatermarks(partitions)
        let timeout = timeoutMilliseconds
        let configuration = self.configuration
        return try await blocking {
            fetchHighWatermarks(configuration: configuration, from: listed, timeoutMilliseconds: timeout)
        }.get()
    }

    /// Low and high watermarks as the broker lists them (ListOffsets): one round trip, no
    /// client made, for a caller that asks often. Exact on Apache Kafka; the local broker can
    /// list a high watermark below the real one after batched produces (``watermarks(_:)``
    /// confirms it with a fetch).
    public func listedWatermarks(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Watermarks] {
        guard !partitions.isEmpty else { return [:] }
        let rk = self.rk
        let timeout = timeoutMilliseconds
        return try await blocking { () -> Result<[TopicPartition: Watermarks], KafkaError> in
            var listed: [TopicPartition: Watermarks] = [:]
            for tp in partitions {
                var low: Int64 = 0
                var high: Int64 = 0
                let err = rd_kafka_query_watermark_offsets(rk.pointer, tp.topic, tp.partition, &low, &high, timeout)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    return .failure(KafkaError(err, message: "\(tp): \(String(cString: rd_kafka_err2str(err)))", operation: "watermarks"))
                }
                listed[tp] = Watermarks(low: low, high: high)
            }
            return .success(listed)
        }.get()
    }

    /// Committed offsets of `group` (`nil` where it has none); fails naming a partition the broker
    /// answered with an error of its own. Does not join the group.
    public func committedOffsets(group: String, partitions: [TopicPartition]) async throws -> [TopicPartition: Int64?] {
        guard !partitions.isEmpty else { return [:] }
        let configuration = self.configuration
        let timeout = timeoutMilliseconds
        return try await blocking { () -> Result<[TopicPartition: Int64?], KafkaError> in
            let conf: OpaquePointer
            let handle: RDHandle
            do {
                conf = try configuration.makeConf(defaults: [:], overrides: ["group.id": group, "enable.auto.commit": "false"])
                handle = try makeRDKafkaHandle(type: RD_KAFKA_CONSUMER, conf: conf, operation: "committedOffsets")
            } catch {
                return .failure(error as! KafkaError)
            }
            defer { rd_kafka_destroy(handle.pointer) }
            return fetchCommitted(rk: handle, partitions, timeoutMilliseconds: timeout)
        }.get()
    }

    /// Per-partition lag of `group` on `topics`: high watermark minus committed offset.
    public func lag(group: String, topics: [String]) async throws -> [PartitionLag] {
        try await lag(groups: [group: topics])[group] ?? []
    }

    /// Per-partition lag of each group on its topics (group id to topics), read at about one
    /// moment: the topics listed once, every partition's watermarks read once, each group's
    /// committed offsets concurrently. Topics that do not exist are left out.
    public func lag(groups: [String: [String]]) async throws -> [String: [PartitionLag]] {
        let known = try await listTopics()
        let partitions = groups.mapValues { topics in
            topics.flatMap { topic in (0..<Int32(known[topic] ?? 0)).map { TopicPartition(topic: topic, partition: $0) } }
        }
        let marks = try await watermarks(Array(Set(partitions.values.joined())))
        return try await withThrowingTaskGroup(of: (String, [PartitionLag]).self) { tasks in
            for (group, partitions) in partitions {
                tasks.addTask {
                    let committed = try await self.committedOffsets(group: group, partitions: partitions)
                    return (group, partitions.compactMap { tp in
                        marks[tp].map { PartitionLag(partition: tp, committed: committed[tp] ?? nil, watermarks: $0) }
                    })
                }
            }
            var lags: [String: [PartitionLag]] = [:]
            for try await (group, measured) in tasks { lags[group] = measured }
            return lags
        }
    }
}

/// Runs one admin request on a private queue and maps its result event. Blocking.
private func withAdminResult<T>(
    rk: RDHandle, timeout: Int32, operation: String,
    start: (OpaquePointer?, OpaquePointer?) -> Void,
    read: (OpaquePointer) -> T
) -> Result<T, KafkaError> {
    let queue = rd_kafka_queue_new(rk.pointer)
    defer { rd_kafka_queue_destroy(queue) }
    let options = rd_kafka_AdminOptions_new(rk.pointer, RD_KAFKA_ADMIN_OP_ANY)
    defer { rd_kafka_AdminOptions_destroy(options) }
    var errstr = [CChar](repeating: 0, count: 256)
    rd_kafka_AdminOptions_set_request_timeout(options, timeout, &errstr, errstr.count)
    rd_kafka_AdminOptions_set_operation_timeout(options, timeout, &errstr, errstr.count)
    start(options, queue)
    guard let event = rd_kafka_queue_poll(queue, timeout + 1_000) else {
        return .failure(KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, operation: operation))
    }
    defer { rd_kafka_event_destroy(event) }
    let err = rd_kafka_event_error(event)
    if err != RD_KAFKA_RESP_ERR_NO_ERROR {
        let message = rd_kafka_event_error_string(event).map { String(cString: $0) }
        return .failure(KafkaError(err, message: message, operation: operation))
    }
    return .success(read(event))
}

/// The resources of a configs result: each one's name, error and values.
private func configResources<Result>(
    _ result: Result?,
    _ resources: (Result, UnsafeMutablePointer<Int>) -> UnsafeMutablePointer<OpaquePointer?>?
) -> [(String, rd_kafka_resp_err_t, String, [String: String])] {
    guard let result else { return [] }
    var count = 0
    guard let array = resources(result, &count) else { return [] }
    return (0..<count).map { i in
        let resource = array[i]
        var values: [String: String] = [:]
        var entryCount = 0
        if let entries = rd_kafka_ConfigResource_configs(resource, &entryCount) {
            for j in 0..<entryCount {
                guard let entry = entries[j], let name = rd_kafka_ConfigEntry_name(entry) else { continue }
                values[String(cString: name)] = rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) } ?? ""
            }
        }
        return (String(cString: rd_kafka_ConfigResource_name(resource)), rd_kafka_ConfigResource_error(resource),
                rd_kafka_ConfigResource_error_string(resource).map { String(cString: $0) } ?? "", values)
    }
}

/// What a watermark probe knows while its fetches answer: each partition's end as ListOffsets
/// listed it, raised by a fetch's answer, or kept as listed where the fetch is refused.
///
/// A refusal is a principal allowed Describe but not Read on the topic: operators on the shipped
/// ACLs (`Deploy/kafka/acls.txt`) on the phase, command and backlog topics. ListOffsets needs only
/// Describe and is exact on Apache Kafka, the broker where ACLs are enforced, so the listed end
/// stands. Any other fetch error passes (a leader moving): the partition waits for an answer.
struct HighWatermarkProbe {
    /// Each partition's watermarks: as listed, the high one raised by a fetch's answer.
    private(set) var ends: [TopicPartition: Watermarks]
    /// The partitions still waiting for a fetch's answer or refusal.
    private(set) var pending: Set<TopicPartition>
    /// The partitions whose fetch was refused, their listed end kept.
    private(set) var refused: Set<TopicPartition> = []

    init(listed: [TopicPartition: Watermarks]) {
        ends = listed
        pending = Set(listed.keys)
    }

    /// A fetch of `partition` answered with the high watermark `high`.
    mutating func answered(_ partition: TopicPartition, high: Int64) {
        guard pending.remove(partition) != nil, let listed = ends[partition]?.high else { return }
        ends[partition]?.high = max(listed, high)
    }

    /// A fetch of `partition` failed with `error`.
    mutating func failed(_ partition: TopicPartition, error: rd_kafka_resp_err_t) {
        guard error == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, pending.remove(partition) != nil else { return }
        refused.insert(partition)
    }
}

/// Assigns a throw-away consumer to each partition at its listed high watermark and waits for a
/// fetch response per partition, whose high watermark is authoritative; a partition whose fetch
/// is refused keeps its listed end (``HighWatermarkProbe``). Blocking.
private func fetchHighWatermarks(configuration: KafkaConfiguration, from listed: [TopicPartition: Watermarks],
                                 timeoutMilliseconds: Int32) -> Result<[TopicPartition: Watermarks], KafkaError> {
    let probeHandle: RDHandle
    do {
        let conf = try configuration.makeConf(
            defaults: [:],
            overrides: ["group.id": "reader-watermark-probe", "enable.auto.commit": "false",
                        "fetch.wait.max.ms": "10", "queued.max.messages.kbytes": "1024",
                        "log.connection.close": "false"])
        probeHandle = try makeRDKafkaHandle(type: RD_KAFKA_CONSUMER, conf: conf, operation: "watermarks")
    } catch {
        return .failure(error as! KafkaError)
    }
    defer { rd_kafka_destroy(probeHandle.pointer) }
    let list = makePartitionList(Array(listed.keys), offsets: listed.mapValues(\.high))
    defer { rd_kafka_topic_partition_list_destroy(list) }
    rd_kafka_poll_set_consumer(probeHandle.pointer)
    let err = rd_kafka_assign(probeHandle.pointer, list)
    if err != RD_KAFKA_RESP_ERR_NO_ERROR { return .failure(KafkaError(err, operation: "watermarks")) }
    defer { rd_kafka_assign(probeHandle.pointer, nil) }

    var probe = HighWatermarkProbe(listed: listed)
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMilliseconds) * 1_000_000
    while !probe.pending.isEmpty && DispatchTime.now().uptimeNanoseconds < deadline {
        if let message = rd_kafka_consumer_poll(probeHandle.pointer, 20) {
            let error = message.pointee.err
            if error != RD_KAFKA_RESP_ERR_NO_ERROR, let topic = message.pointee.rkt.map({ String(cString: rd_kafka_topic_name($0)) }) {
                probe.failed(TopicPartition(topic: topic, partition: message.pointee.partition), error: error)
            }
            rd_kafka_message_destroy(message)
        }
        for tp in probe.pending {
            var low: Int64 = 0
            var high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(probeHandle.pointer, tp.topic, tp.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  high >= 0 else { continue }
            probe.answered(tp, high: high)
        }
    }
    if !probe.pending.isEmpty {
        return .failure(KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT,
                                   message: "no fetch answered for \(probe.pending.sorted().map(\.description).joined(separator: ", "))",
                                   operation: "watermarks"))
    }
    return .success(probe.ends)
}
