import Foundation

/// Reading partitions up to the end they have now: restoring a changelog, loading a table,
/// listing a topic. One loop for every such reader, so each stops the same way.
extension KafkaConsumer {
    /// A read to the end that took longer than allowed.
    public struct ReadToEndTimeout: Error, CustomStringConvertible {
        /// The partitions not read to their end.
        public let remaining: [TopicPartition]

        public var description: String {
            "reading \(remaining.map(\.description).joined(separator: ", ")) to its end timed out"
        }
    }

    /// Polls until every partition of `ends` has handed over its records below its end (one past
    /// the offset of its last record), giving each to `body` (with any later ones the same polls
    /// brought: nothing read is dropped). The consumer must be assigned those partitions
    /// (``init(configuration:startingAt:properties:)``); it can go on reading afterwards.
    ///
    /// A partition is read to its end when the record at the end's last offset arrived, or when
    /// the reader reports reaching the end (``reachedEnd(of:)``): the last offsets may be none a
    /// consumer receives (a transaction's marker, records compacted away). Silence is never taken
    /// for the end: a broker that stops answering for a while looks the same, and a read that
    /// ended early would lose state or show an operator a short list.
    ///
    /// - Parameter timeout: throws ``ReadToEndTimeout`` after this long; nil waits as long as it
    ///   takes.
    public func read(upTo ends: [TopicPartition: Int64], timeout: Duration? = nil,
                     _ body: (ConsumerRecord) throws -> Void) async throws {
        try await read(upTo: ends, timeout: timeout) { records in
            for record in records { try body(record) }
        }
    }

    /// ``read(upTo:timeout:_:)`` giving `body` each poll's records at once, so that it
    /// can await (publish what it made of them) before the next poll.
    /// - Parameters:
    ///   - stallLimit: throws ``ReadToEndTimeout`` once no record came for this long (a reader
    ///     whose ends are records it has seen elsewhere, so that they must arrive).
    ///   - maxRecords: the most records a poll hands over (large records: fewer held at once).
    ///   - stopsOnCancellation: throws `CancellationError` once the task is cancelled (a
    ///     service's start-up read, which a SIGTERM ends); otherwise the read goes on to the end
    ///     (a restore that must write what it read).
    public func read(upTo ends: [TopicPartition: Int64], stallLimit: Duration? = nil,
                     timeout: Duration? = nil, maxRecords: Int = 5000, stopsOnCancellation: Bool = false,
                     eachPoll body: ([ConsumerRecord]) async throws -> Void) async throws {
        var remaining = ends.filter { $0.value > 0 }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = timeout.map { start + $0 }
        var lastRecordAt: ContinuousClock.Instant?
        while !remaining.isEmpty {
            if stopsOnCancellation { try Task.checkCancellation() }
            if let deadline, clock.now >= deadline { throw ReadToEndTimeout(remaining: remaining.keys.sorted()) }
            let records = try await poll(maxRecords: maxRecords, timeoutMilliseconds: 200)
            if records.isEmpty {
                if let stallLimit, clock.now - (lastRecordAt ?? start) > stallLimit {
                    throw ReadToEndTimeout(remaining: remaining.keys.sorted())
                }
            } else {
                try await body(records)
                lastRecordAt = clock.now  // after the body: a slow one (a send it waits on) is no stall
            }
            remaining = unread(remaining, after: records)
        }
    }

    /// Those of `ends` (per partition, one past its last offset) this consumer has not read to,
    /// now that it handed over `records`: a partition is read to its end when the record at the
    /// end's last offset came, or when the consumer reached the end (``reachedEnd(of:)``), the
    /// last offsets being none a consumer receives. The one rule of every read to an end.
    public func unread(_ ends: [TopicPartition: Int64], after records: [ConsumerRecord]) -> [TopicPartition: Int64] {
        var unread = ends
        for record in records {
            if let end = unread[record.topicPartition], record.offset + 1 >= end { unread[record.topicPartition] = nil }
        }
        return unread.filter { partition, end in reachedEnd(of: partition).map { $0 < end } ?? true }
    }

    /// ``readToEnd(_:configuration:admin:timeout:whileBrokerUnreachable:_:)`` with an admin
    /// client of its own.
    public static func readToEnd(_ partitions: [TopicPartition], configuration: KafkaConfiguration,
                                 timeout: Duration? = nil,
                                 whileBrokerUnreachable waiting: ((KafkaError) -> Void)? = nil,
                                 _ body: (ConsumerRecord) throws -> Void) async throws {
        let admin = try KafkaAdmin(configuration: configuration)
        try await readToEnd(partitions, configuration: configuration, admin: admin, timeout: timeout,
                            whileBrokerUnreachable: waiting, body)
    }

    /// Reads `partitions` from their beginning up to the high watermarks they have when called,
    /// with a reader of its own, closed before returning. See ``read(upTo:timeout:_:)``.
    ///
    /// With `waiting`, the ends are asked for until the broker answers
    /// (``KafkaError/waitingForBroker(_:waiting:)``, `waiting` called with each failure): a
    /// service's restore that starts during an outage waits for the broker instead of failing.
    /// Without it, an unreachable broker is an error (an operator's command says so).
    ///
    /// - Parameter stallLimit: throws ``ReadToEndTimeout`` once no record came for this long
    ///   (``read(upTo:stallLimit:timeout:maxRecords:eachPoll:)``).
    public static func readToEnd(_ partitions: [TopicPartition], configuration: KafkaConfiguration, admin: KafkaAdmin,
                                 timeout: Duration? = nil, stallLimit: Duration? = nil,
                                 whileBrokerUnreachable waiting: ((KafkaError) -> Void)? = nil, stopsOnCancellation: Bool = false,
                                 _ body: (ConsumerRecord) throws -> Void) async throws {
        try await readToEnd(partitions, configuration: configuration, admin: admin, timeout: timeout, stallLimit: stallLimit,
                            whileBrokerUnreachable: waiting, stopsOnCancellation: stopsOnCancellation) { records in
            for record in records { try body(record) }
        }
    }

    /// ``readToEnd(_:configuration:admin:timeout:stallLimit:whileBrokerUnreachable:_:)`` giving
    /// `body` each poll's records (at most `maxRecords`) at once, so that it can await (send what
    /// it made of them) before the next poll instead of holding everything read.
    public static func readToEnd(_ partitions: [TopicPartition], configuration: KafkaConfiguration, admin: KafkaAdmin,
                                 timeout: Duration? = nil, stallLimit: Duration? = nil,
                                 whileBrokerUnreachable waiting: ((KafkaError) -> Void)? = nil, maxRecords: Int = 5000,
                                 stopsOnCancellation: Bool = false,
                                 eachPoll body: ([ConsumerRecord]) async throws -> Void) async throws {
        let watermarks = try await admin.watermarks(partitions, whileBrokerUnreachable: waiting)
        let ends = Dictionary(uniqueKeysWithValues: partitions.compactMap { partition -> (TopicPartition, Int64)? in
            guard let marks = watermarks[partition], marks.high > marks.low else { return nil }
            return (partition, marks.high)
        })
        guard !ends.isEmpty else { return }
        let reader = try KafkaConsumer(configuration: configuration,
                                       startingAt: ends.mapValues { _ in KafkaConsumer.beginning },
                                       properties: ["fetch.wait.max.ms": "50"])
        do {
            try await reader.read(upTo: ends, stallLimit: stallLimit, timeout: timeout, maxRecords: maxRecords,
                                  stopsOnCancellation: stopsOnCancellation, eachPoll: body)
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }

    /// The records at `offsets` of each partition, read with a reader of its own (closed before
    /// returning): a lead's state, or a document part, kept as its position. Each partition is
    /// read from its lowest offset wanted, skipping ahead (``seek(_:)``) to the next one when it
    /// is far; an offset that has no record (compacted away, a transaction's marker) is left out
    /// once a later record of its partition arrives or the reader reaches the end past it, and one
    /// at or past the end ``pastEndGrace`` after the reader reached it. Returns what was found
    /// when every offset was found or passed, or when `timeout` is over.
    ///
    /// With `waiting`, a timeout is not the end while the broker may have been away: the offsets
    /// still wanted are records its caller saw acknowledged, so they are there unless deleted.
    /// When the time is over, the broker is asked where those partitions start (waiting for it to
    /// answer, `waiting` called with each failure, as
    /// ``KafkaError/waitingForBroker(_:waiting:)``); offsets before the start are gone (retention)
    /// and left out, and the rest are read for another `timeout`. The read gives up on what is
    /// left only once the broker answered at once at the end of two periods in a row, so a restore
    /// during an outage of any length waits for the records instead of going on without them.
    public static func records(at offsets: [TopicPartition: Set<Int64>], configuration: KafkaConfiguration,
                               timeout: Duration = .seconds(30), whileBrokerUnreachable waiting: ((KafkaError) -> Void)? = nil)
        async throws -> [TopicPartition: [Int64: ConsumerRecord]] {
        try await recordsCountingReads(at: offsets, configuration: configuration, timeout: timeout, whileBrokerUnreachable: waiting).found
    }

    /// How far ahead the next offset wanted must be for ``records(at:configuration:timeout:whileBrokerUnreachable:)``
    /// to skip to it rather than read on: about what a fetch of small records brings (a skip
    /// costs a fetch).
    static let skipGap: Int64 = 500

    /// How long ``records(at:configuration:timeout:whileBrokerUnreachable:)`` waits, once at a
    /// partition's end, for offsets at or past it before leaving them out: long enough for a new
    /// leader's high watermark to reach what was acknowledged before it took over, short beside
    /// the read's periods (a position past the end held the coordinator's loop a minute).
    static let pastEndGrace: Duration = .seconds(5)

    /// ``records(at:configuration:timeout:whileBrokerUnreachable:)``, with how many records the
    /// reader handed over to find them.
    static func recordsCountingReads(at offsets: [TopicPartition: Set<Int64>], configuration: KafkaConfiguration,
                                     timeout: Duration, whileBrokerUnreachable waiting: ((KafkaError) -> Void)?)
        async throws -> (found: [TopicPartition: [Int64: ConsumerRecord]], handedOver: Int) {
        var remaining = offsets.filter { !$0.value.isEmpty }
        guard !remaining.isEmpty else { return ([:], 0) }
        var handedOver = 0
        var skippedTo: [TopicPartition: Int64] = [:]
        let reader = try KafkaConsumer(configuration: configuration, startingAt: remaining.mapValues { $0.min()! },
                                       properties: ["fetch.wait.max.ms": "50"])
        var found: [TopicPartition: [Int64: ConsumerRecord]] = [:]
        var deadline = ContinuousClock.now + timeout
        var pastEndSince: [TopicPartition: ContinuousClock.Instant] = [:]
        var admin: KafkaAdmin?
        var answeredChecks = 0
        do {
            while !remaining.isEmpty {
                if ContinuousClock.now >= deadline {
                    guard let waiting else { break }
                    let asking = try admin ?? KafkaAdmin(configuration: configuration)
                    admin = asking
                    var answered = true
                    let starts = try await KafkaError.waitingForBroker({ try await asking.listedWatermarks(Array(remaining.keys)) }) {
                        answered = false
                        waiting($0)
                    }
                    for (partition, wanted) in remaining {
                        let kept = wanted.filter { $0 >= starts[partition]?.low ?? 0 }
                        remaining[partition] = kept.isEmpty ? nil : kept
                    }
                    answeredChecks = answered ? answeredChecks + 1 : 0
                    if answeredChecks >= 2 { break }
                    deadline = ContinuousClock.now + timeout
                    continue
                }
                let records = try await reader.poll(maxRecords: Int(skipGap), timeoutMilliseconds: 200)
                handedOver += records.count
                var reached: [TopicPartition: Int64] = [:]
                for record in records {
                    guard var wanted = remaining[record.topicPartition] else { continue }
                    if wanted.remove(record.offset) != nil { found[record.topicPartition, default: [:]][record.offset] = record }
                    wanted = wanted.filter { $0 > record.offset }
                    remaining[record.topicPartition] = wanted.isEmpty ? nil : wanted
                    reached[record.topicPartition] = record.offset
                }
                // The end reached is past every offset wanted below it (a skip never passes one):
                // those without a record (a transaction's marker, compacted away) are not there.
                // Those at or past it are gone once they stay so for ``pastEndGrace`` (a position
                // nobody checked, records a broker lost): a new leader's high watermark may trail
                // the records acknowledged before it took over for a moment.
                let now = ContinuousClock.now
                for (partition, wanted) in remaining {
                    guard let end = reader.reachedEnd(of: partition) else { continue }
                    let beyond = wanted.filter { $0 >= end }
                    let since = pastEndSince[partition] ?? now
                    pastEndSince[partition] = since
                    remaining[partition] = beyond.isEmpty || now - since >= pastEndGrace ? nil : beyond
                }
                // Far from the next offset wanted: read from there, not every record before it.
                // Each partition skips only forward, to an offset it did not skip to yet: a record
                // from before a skip that still comes does not start the same skip again.
                var skips: [TopicPartition: Int64] = [:]
                for (partition, offset) in reached {
                    guard let next = remaining[partition]?.min(), next - offset > skipGap, next > skippedTo[partition] ?? -1 else { continue }
                    skips[partition] = next
                }
                if !skips.isEmpty {
                    try reader.seek(skips)
                    skippedTo.merge(skips) { _, new in new }
                }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return (found, handedOver)
    }
}
