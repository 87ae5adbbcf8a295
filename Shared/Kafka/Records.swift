/// One partition of one topic.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// A record header. Keys may repeat within a record.
public struct KafkaHeader: Hashable, Sendable {
    public var key: String
    public var value: [UInt8]

    public init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value
    }

    public init(key: String, string: String) {
        self.init(key: key, value: Array(string.utf8))
    }
}

/// A record to send.
public struct ProducerRecord: Sendable {
    public var topic: String
    /// An explicit partition; `nil` lets the partitioner choose from the key.
    public var partition: Int32?
    public var key: [UInt8]?
    /// `nil` is a tombstone on a compacted topic.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]

    public init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
                headers: [KafkaHeader] = []) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// A record keyed by a string, the form every lead-keyed topic uses.
    public init(topic: String, key: String, value: [UInt8]?, headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: Array(key.utf8), value: value, headers: headers)
    }

    /// The bytes of the value, the key and the headers: what the producer's `message.max.bytes`
    /// weighs (MAX_RECORD_BYTES weighs the value alone).
    public var byteCount: Int {
        (value?.count ?? 0) + (key?.count ?? 0) + headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
    }
}

/// Where the broker stored an acknowledged record.
public struct DeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// A record read by a consumer.
public struct ConsumerRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch, or `nil` when the broker gave none.
    public var timestampMilliseconds: Int64?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
                headers: [KafkaHeader] = [], timestampMilliseconds: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The key as UTF-8 text, when it is valid UTF-8.
    public var keyString: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }

    /// The first header with `key`, if any.
    public func header(_ key: String) -> [UInt8]? {
        headers.first { $0.key == key }?.value
    }
}
