import Foundation
import Kafka
import LeadModel

/// Reads back the pool entries that ready leads' states refer to (``LeadState/poolEntry``), so
/// those states hold their profiles again: for the coordinator, before a ready lead starts a new
/// run or takes a web enrichment, and for readers that show a state (`leadctl show`).
public enum PoolEntryReader {
    /// The leads ``loadProfiles(_:codec:configuration:whileBrokerUnreachable:)`` left with the
    /// placeholder profile (identity, skipped phases, web enrichment).
    public struct Unloaded: Sendable {
        /// Leads whose entry was found nowhere.
        public var missing: [LeadID] = []
        /// Leads whose entry is there but this version cannot read it (a newer schema version),
        /// or was not found within the time allowed for reading on (it may be further on), with
        /// the reason: a run started from their placeholder would replace the entry with an
        /// empty profile.
        public var unreadable: [LeadID: String] = [:]

        /// Every lead left with the placeholder.
        public var all: [LeadID] { missing + unreadable.keys }

        /// Leads whose profile was loaded from an entry made to fit MAX_RECORD_BYTES, with what
        /// it left out (``LeadPoolEntry/omitted``): their profiles lack those parts.
        public var omitted: [LeadID: [String]] = [:]
    }

    /// Gives each state of `states` that refers to its pool entry that entry's profile
    /// (``LeadState/loadProfile(from:)``), all in one read. An entry not at its position was
    /// compacted away by a later entry of the lead (a finalize request redelivered after a crash
    /// writes its run's entry again), so the lead's partition is read on from there for it. The
    /// first entry found is taken, whatever its run: one of a superseded run written late (which
    /// the coordinator writes over when it reads that run's result) still holds a whole profile,
    /// where none would leave the lead its placeholder.
    /// Returns the leads whose entry was not found at all, and those whose entry this version
    /// cannot read, or that reading on did not reach within `readingOnLimit`, or whose position is
    /// on no partition the broker has (their states keep the placeholder profile), and those
    /// whose entry was made to fit, with what it left out.
    /// Reading on stops once every entry looked for is found. With `waiting`, the reads wait
    /// for a broker that does not answer (``KafkaConsumer/records(at:configuration:timeout:whileBrokerUnreachable:)``).
    /// - Parameter partitionCounts: the partition count of each topic an entry may be on (the
    ///   coordinator knows its pool's); nil asks the broker for them, a request per call.
    public static func loadProfiles(_ states: inout [LeadID: LeadState], codec: MessageCodec, configuration: KafkaConfiguration,
                                    partitionCounts knownCounts: [String: Int]? = nil,
                                    whileBrokerUnreachable waiting: ((KafkaError) -> Void)? = nil,
                                    readingOnFor readingOnLimit: Duration = .seconds(30)) async throws -> Unloaded {
        var referring = states.compactMapValues { $0.isProfileLoaded ? nil : $0.poolEntry }
        guard !referring.isEmpty else { return Unloaded() }
        var unreadable: [LeadID: String] = [:]
        // A state of any shape may name a topic or partition the broker does not have: reading
        // there fails (no outage to wait out), and the coordinator with it, at every replay of
        // the record that needed the entry.
        let partitionCounts: [String: Int]
        if let knownCounts {
            partitionCounts = knownCounts
        } else {
            let admin = try KafkaAdmin(configuration: configuration)
            partitionCounts = if let waiting {
                try await KafkaError.waitingForBroker(admin.listTopics, waiting: waiting)
            } else {
                try await admin.listTopics()
            }
        }
        for (leadID, position) in referring {
            guard let reason = unreadableReason(of: position, partitionCounts: partitionCounts) else { continue }
            unreadable[leadID] = reason
            referring[leadID] = nil
        }
        var wanted: [TopicPartition: Set<Int64>] = [:]
        for position in referring.values { wanted[partition(of: position), default: []].insert(position.offset) }
        let records = try await KafkaConsumer.records(at: wanted, configuration: configuration, whileBrokerUnreachable: waiting)
        var missing: [LeadID: RecordPosition] = [:]
        var omitted: [LeadID: [String]] = [:]
        func load(_ entry: LeadPoolEntry, into leadID: LeadID) {
            states[leadID]?.loadProfile(from: entry)
            if let left = entry.omitted, !left.isEmpty { omitted[leadID] = left }
        }
        for (leadID, position) in referring {
            switch entry(of: leadID, in: records[partition(of: position)]?[position.offset], codec: codec) {
            case .entry(let entry): load(entry, into: leadID)
            case .unreadable(let reason): unreadable[leadID] = reason
            case .none: missing[leadID] = position
            }
        }
        let later = try await laterEntries(of: missing, codec: codec, configuration: configuration, waiting: waiting, limit: readingOnLimit)
        for (leadID, entry) in later.found {
            load(entry, into: leadID)
        }
        if later.timedOut {
            // Not known missing: the entry may be further on than was read. Taken for missing,
            // the lead would go on from its placeholder profile and write it over its entry.
            for (leadID, position) in missing where states[leadID]?.isProfileLoaded == false {
                unreadable[leadID] = "its pool entry is not at \(position.topic)[\(position.partition)]@\(position.offset) and was not found "
                    + "further on within \(readingOnLimit) of reading"
                missing[leadID] = nil
            }
        }
        return Unloaded(missing: missing.keys.filter { states[$0]?.isProfileLoaded == false }, unreadable: unreadable,
                        omitted: omitted)
    }

    /// The first entry of each lead from its position on (the one at it, when the first read
    /// missed it), reading each partition from the lowest position to the end it has now, until
    /// every lead's is found; `timedOut` when that took longer than `limit` (a long partition)
    /// and the rest were not looked for to the end. With `waiting`, a period at whose end the
    /// broker did not answer at once does not count: the read goes on until the broker answered
    /// at once at the end of two periods in a row, so an outage does not end it.
    private static func laterEntries(of missing: [LeadID: RecordPosition], codec: MessageCodec, configuration: KafkaConfiguration,
                                     waiting: ((KafkaError) -> Void)?, limit: Duration) async throws
        -> (found: [LeadID: LeadPoolEntry], timedOut: Bool) {
        guard !missing.isEmpty else { return ([:], false) }
        var starts: [TopicPartition: Int64] = [:]
        for position in missing.values {
            starts[partition(of: position)] = min(starts[partition(of: position)] ?? .max, position.offset)
        }
        let admin = try KafkaAdmin(configuration: configuration)
        let ends = try await admin.watermarks(Array(starts.keys), whileBrokerUnreachable: waiting).mapValues(\.high)
        let reader = try KafkaConsumer(configuration: configuration, startingAt: starts, properties: ["fetch.wait.max.ms": "50"])
        var found: [LeadID: LeadPoolEntry] = [:]
        var timedOut = false
        // Periods in a row at whose end the broker answered at once (``KafkaConsumer/records(at:configuration:timeout:whileBrokerUnreachable:)``'s rule).
        var answeredChecks = 0
        do {
            while true {
                do {
                    try await reader.read(upTo: ends.filter { $0.value > (starts[$0.key] ?? 0) }, timeout: limit) { record in
                        guard let key = record.keyString, let position = missing[LeadID(key)], found[LeadID(key)] == nil,
                              record.topicPartition == partition(of: position), record.offset >= position.offset,
                              case .entry(let entry) = entry(of: LeadID(key), in: record, codec: codec)
                        else { return }
                        found[LeadID(key)] = entry
                        if found.count == missing.count { throw EveryEntryFound() }
                    }
                    break
                } catch is EveryEntryFound {
                    break
                } catch is KafkaConsumer.ReadToEndTimeout {
                    // With `waiting`, a period spent without the broker is not the end: read on
                    // (from where the reader is) until it answered at once after two in a row.
                    guard let waiting else {
                        timedOut = true
                        break
                    }
                    var answered = true
                    _ = try await KafkaError.waitingForBroker({ try await admin.watermarks(Array(starts.keys)) }) {
                        answered = false
                        waiting($0)
                    }
                    answeredChecks = answered ? answeredChecks + 1 : 0
                    if answeredChecks >= 2 {
                        timedOut = true
                        break
                    }
                }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return (found, timedOut)
    }

    /// Ends a read on once it found what it looked for.
    private struct EveryEntryFound: Error {}

    /// What a record at a lead's position holds for it.
    private enum Found {
        case entry(LeadPoolEntry)
        /// The lead's record, which this version cannot read.
        case unreadable(String)
        case none
    }

    private static func entry(of leadID: LeadID, in record: ConsumerRecord?, codec: MessageCodec) -> Found {
        guard let record, record.value != nil, record.keyString == leadID.rawValue else { return .none }
        do {
            let entry = try codec.decode(LeadPoolEntry.self, record: record)
            return entry.leadID == leadID ? .entry(entry) : .none
        } catch {
            return .unreadable("\(error)")
        }
    }

    /// Why `position` cannot be read, when it is on no partition of `partitionCounts` (topic →
    /// partition count, as the broker lists them) or at a negative offset (a logical one to
    /// librdkafka: the partition's beginning or end); nil when it can.
    static func unreadableReason(of position: RecordPosition, partitionCounts: [String: Int]) -> String? {
        let place = "\(position.topic)[\(position.partition)]@\(position.offset)"
        guard position.partition >= 0, Int(position.partition) < partitionCounts[position.topic] ?? 0 else {
            return "its pool entry's position \(place) is on no partition the broker has"
        }
        return position.offset < 0 ? "its pool entry's position \(place) is at no offset" : nil
    }

    private static func partition(of position: RecordPosition) -> TopicPartition {
        TopicPartition(topic: position.topic, partition: position.partition)
    }
}
