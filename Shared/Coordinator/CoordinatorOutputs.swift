import Dispatch
import Foundation
import JSONCodec
import Kafka
import LeadModel
import Runtime
import Streaming

extension Coordinator {
    /// The records one batch causes, in order. Most arrive as ``EncodeJob``s, encoded when the
    /// batch is handled (``encoded(codec:logger:)``), on every core; of a lead's changelog
    /// records only the last one written is kept.
    struct Outputs {
        private enum Segment {
            case record(ProducerRecord)
            case job(EncodeJob)
        }

        private var segments: [Segment] = []
        /// Leads with a changelog record in this batch.
        private(set) var changelogLeads: Set<LeadID> = []

        /// A record already encoded (a dead letter, a backlog copy); never a changelog record.
        mutating func append(_ record: ProducerRecord) { segments.append(.record(record)) }

        /// Messages to encode with the batch.
        mutating func append(_ job: EncodeJob) {
            guard !job.messages.isEmpty else { return }
            segments.append(.job(job))
            if job.messages.contains(where: \.isChangelog) { changelogLeads.insert(job.leadID) }
        }

        /// Encodes the jobs, several at once when there are many, and lays the records out in
        /// the order they were added. A lead's changelog record goes where its first one was
        /// added, with the content of its last.
        func encoded(codec: MessageCodec, logger: Logger) -> EncodedOutputs {
            let jobs = segments.compactMap { if case .job(let job) = $0 { job } else { nil } }
            var encodedJobs = Self.encode(jobs, codec: codec, logger: logger).makeIterator()
            var laidOut: [(record: ProducerRecord, changelogOf: LeadID?)] = []
            for segment in segments {
                switch segment {
                case .record(let record): laidOut.append((record, nil))
                case .job: laidOut += encodedJobs.next() ?? []
                }
            }
            var last: [LeadID: Int] = [:]
            for (index, item) in laidOut.enumerated() { if let lead = item.changelogOf { last[lead] = index } }
            var result = EncodedOutputs()
            for item in laidOut {
                guard let lead = item.changelogOf else {
                    result.records.append(item.record)
                    continue
                }
                guard result.changelogIndex[lead] == nil, let latest = last[lead] else { continue }
                result.changelogIndex[lead] = result.records.count
                result.records.append(laidOut[latest].record)
            }
            return result
        }

        /// Jobs below this many are encoded on the calling thread.
        static let parallelThreshold = 32

        /// The processors this process may use, read once: Foundation reads the cgroup's CPU quota
        /// from files on every call (16 µs here; 6% of an idle coordinator's CPU samples).
        static let processors = ProcessInfo.processInfo.activeProcessorCount

        private static func encode(_ jobs: [EncodeJob], codec: MessageCodec, logger: Logger)
            -> [[(record: ProducerRecord, changelogOf: LeadID?)]]
        {
            let workers = min(processors, jobs.count / parallelThreshold + 1)
            guard workers > 1 else { return jobs.map { $0.records(codec: codec, logger: logger) } }
            let results = EncodedJobs(count: jobs.count)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for index in stride(from: worker, to: jobs.count, by: workers) {
                    results.store(jobs[index].records(codec: codec, logger: logger), at: index)
                }
            }
            return results.collect()
        }
    }

    /// A batch's records, encoded.
    struct EncodedOutputs {
        var records: [ProducerRecord] = []
        /// Where each lead's changelog record is in ``records``.
        var changelogIndex: [LeadID: Int] = [:]
    }

    /// The messages one state change of one lead writes, encoded together: the records that carry
    /// the lead's profile (the scoring request and the state after it, the pool entry and the
    /// ready state) share one encoding of it.
    struct EncodeJob: Sendable {
        /// A message the coordinator writes. An enumeration rather than `any Message`: an
        /// existential puts a message larger than three words in a heap box of its own.
        enum Payload: Sendable {
            case request(PhaseRequest)
            case usage(BillingUsage)
            case state(LeadState)
            case poolEntry(LeadPoolEntry)
            case membership(SearchMembership)

            /// The message, whatever its type (for logs and tests).
            var message: any Message {
                switch self {
                case .request(let request): request
                case .usage(let usage): usage
                case .state(let state): state
                case .poolEntry(let entry): entry
                case .membership(let membership): membership
                }
            }
        }

        struct Item: Sendable {
            let payload: Payload
            let topic: String
            let key: String
            let isChangelog: Bool
            /// The record's partition, when not its key's.
            var partition: Int32? = nil
            /// The run the record names in its ``MessageHeaders/runID`` header, if any.
            var runID: RunID? = nil

            /// The message, whatever its type.
            var message: any Message { payload.message }
        }

        let leadID: LeadID
        private(set) var messages: [Item] = []

        /// A job for `leadID`, with room for `capacity` messages.
        init(leadID: LeadID, capacity: Int = 1) {
            self.leadID = leadID
            messages.reserveCapacity(capacity)
        }

        mutating func append(_ payload: Payload, topic: String, key: String, isChangelog: Bool = false, partition: Int32? = nil,
                             runID: RunID? = nil) {
            messages.append(Item(payload: payload, topic: topic, key: key, isChangelog: isChangelog, partition: partition, runID: runID))
        }

        /// The records, in order; a message that cannot be encoded (which does not happen with our
        /// own types) is logged and left out.
        func records(codec: MessageCodec, logger: Logger) -> [(record: ProducerRecord, changelogOf: LeadID?)] {
            let profile = JSONFragment<EnrichedProfile>()
            var records: [(record: ProducerRecord, changelogOf: LeadID?)] = []
            records.reserveCapacity(messages.count)
            for item in messages {
                do {
                    var record = switch item.payload {
                    case .request(let request): try requestRecord(request, item: item, codec: codec, fragment: profile, logger: logger)
                    case .usage(let usage): try codec.record(usage, topic: item.topic, key: item.key, fragment: profile)
                    case .state(let state): try stateRecord(state, item: item, codec: codec, fragment: profile, logger: logger)
                    case .poolEntry(let entry): try poolEntryRecord(entry, item: item, codec: codec, fragment: profile, logger: logger)
                    case .membership(let membership): try codec.record(membership, topic: item.topic, key: item.key)
                    }
                    if let partition = item.partition { record.partition = partition }
                    if let runID = item.runID { record.headers.append(KafkaHeader(key: MessageHeaders.runID, string: runID.rawValue)) }
                    records.append((record, item.isChangelog ? leadID : nil))
                } catch {
                    logger.error("cannot encode \(type(of: item.message)) for \(item.topic): \(error)", [LogKey.leadID: leadID.rawValue])
                }
            }
            return records
        }

        /// The records of the messages that carry a profile, made to fit when they are above
        /// MAX_RECORD_BYTES rather than dead-lettered (`RecordFitting` in the pipeline rules):
        /// - a phase request (``PhaseRequest/fitted(codec:framing:)``): one never answered is
        ///   tried again, finalize forever;
        /// - the lead's state (``LeadState/fitted(codec:framing:)``): a lead without its
        ///   changelog record is one a restore does not know;
        /// - a pool entry the coordinator rewrites (a web enrichment after finalize), as the
        ///   finalize stage makes its entries fit (``LeadPoolEntry/fitted(codec:framing:renderingAt:)``).
        private func requestRecord(_ request: PhaseRequest, item: Item, codec: MessageCodec, fragment: JSONFragment<EnrichedProfile>,
                                   logger: Logger) throws -> ProducerRecord {
            try fittedRecord(request, item: item, codec: codec, fragment: fragment, logger: logger,
                             fit: { $0.fitted(codec: codec, framing: $1) }, omitted: { $0.document?.omitted })
        }

        private func stateRecord(_ state: LeadState, item: Item, codec: MessageCodec, fragment: JSONFragment<EnrichedProfile>,
                                 logger: Logger) throws -> ProducerRecord {
            try fittedRecord(state, item: item, codec: codec, fragment: fragment, logger: logger,
                             fit: { $0.fitted(codec: codec, framing: $1) }, omitted: \.omitted)
        }

        private func poolEntryRecord(_ entry: LeadPoolEntry, item: Item, codec: MessageCodec, fragment: JSONFragment<EnrichedProfile>,
                                     logger: Logger) throws -> ProducerRecord {
            try fittedRecord(entry, item: item, codec: codec, fragment: fragment, logger: logger,
                             fit: { $0.fitted(codec: codec, framing: $1, renderingAt: $0.finishedAt) }, omitted: \.omitted)
        }

        /// The record of `message`, or of `fit(message, framing)` (logged as a warning, with what
        /// `omitted` says it left out) when it is above MAX_RECORD_BYTES; one that cannot be made
        /// to fit is returned as it is, and the coordinator's bound dead-letters it with the reason.
        private func fittedRecord<M: Message>(
            _ message: M, item: Item, codec: MessageCodec, fragment: JSONFragment<EnrichedProfile>, logger: Logger,
            fit: (M, _ framing: Int) -> M?, omitted: (M) -> [String]?
        ) throws -> ProducerRecord {
            let record = try codec.record(message, topic: item.topic, key: item.key, fragment: fragment)
            guard codec.oversizeReason(record) != nil else { return record }
            // The key and headers, which the fitted message's record has too.
            guard let fitted = fit(message, record.byteCount - (record.value?.count ?? 0)) else { return record }
            logger.warning("\(M.schemaName) above MAX_RECORD_BYTES (\(codec.maxRecordBytes)), written smaller; what the lead lacks in all: \(omitted(fitted)?.joined(separator: "; ") ?? "nothing")",
                           [LogKey.leadID: leadID.rawValue])
            return try codec.record(fitted, topic: item.topic, key: item.key)
        }
    }
}

/// Results written by concurrent workers, each to its own positions.
private final class EncodedJobs: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<[(record: ProducerRecord, changelogOf: LeadID?)]>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: [])
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    func store(_ records: [(record: ProducerRecord, changelogOf: LeadID?)], at index: Int) { slots[index] = records }

    func collect() -> [[(record: ProducerRecord, changelogOf: LeadID?)]] { Array(slots) }
}
