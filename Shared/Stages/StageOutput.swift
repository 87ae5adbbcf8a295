import Foundation
import Kafka
import LeadModel
import Runtime
import Streaming

/// What a stage produces for one request: the ``PhaseResult`` for the coordinator plus the
/// stage's extra outputs. Pure data, so handlers can be tested without a broker.
public struct StageOutput: Sendable, Hashable {
    /// The answer to the request; always present.
    public var result: PhaseResult
    /// The scored lead's contribution to its account's heat (scoring only).
    public var contribution: AccountSignalContribution?
    /// The autopilot enrollment, when the run's accepted card qualified (finalize only).
    public var enrollment: AutopilotEnrollment?
    /// The lead's entry in the lead pool for the request's run (finalize only).
    public var poolEntry: LeadPoolEntry?

    /// Creates an output.
    public init(result: PhaseResult, contribution: AccountSignalContribution? = nil, enrollment: AutopilotEnrollment? = nil,
                poolEntry: LeadPoolEntry? = nil) {
        self.result = result
        self.contribution = contribution
        self.enrollment = enrollment
        self.poolEntry = poolEntry
    }

    /// The records to produce, extras first and the result last: the input counts as done only
    /// when all of them are acknowledged, so the coordinator never acts on a result whose side
    /// outputs might be lost.
    ///
    /// Keys: the heat contribution by account id (the repartition: one aggregator owns an
    /// account), the enrollment, the pool entry and the result by lead id; the pool entry names
    /// its run in the ``MessageHeaders/runID`` header. The result of a priority request goes to
    /// the priority twin of the results topic.
    public func records(topics: Topics, codec: MessageCodec, isPriority: Bool = false) throws -> [ProducerRecord] {
        try sideRecords(topics: topics, codec: codec) + [resultRecord(topics: topics, codec: codec, isPriority: isPriority)]
    }

    /// The records before the result: the heat contribution, the enrollment and the pool entry.
    public func sideRecords(topics: Topics, codec: MessageCodec) throws -> [ProducerRecord] {
        var records: [ProducerRecord] = []
        if let contribution {
            records.append(try codec.record(
                contribution, topic: topics.accountSignalContributions, key: contribution.accountID.rawValue))
        }
        if let enrollment {
            records.append(try codec.record(enrollment, topic: topics.autopilotEnrollments, key: enrollment.leadID.rawValue))
        }
        if let poolEntry {
            var record = try codec.record(poolEntry, topic: topics.leadPool, key: poolEntry.leadID.rawValue)
            record.headers.append(KafkaHeader(key: MessageHeaders.runID, string: result.runID.rawValue))
            records.append(record)
        }
        return records
    }

    /// The result's record, naming where the pool entry went when that is known.
    public func resultRecord(topics: Topics, codec: MessageCodec, isPriority: Bool = false,
                             poolEntry: RecordPosition? = nil) throws -> ProducerRecord {
        var result = result
        result.poolEntry = poolEntry ?? result.poolEntry
        return try codec.record(result, topic: topics.phaseResults(isPriority: isPriority), key: result.leadID.rawValue)
    }
}

/// The per-request logic of one stage, free of Kafka: decoding, dead letters and producing are
/// the ``StageService``'s job.
///
/// `handle(_:)` must not throw and should not take longer than the coordinator's phase timeout:
/// provider failures become a failed ``PhaseResult`` (retriable or not) or a completed result
/// that records the failure, as each stage documents. The ``StageService`` calls
/// ``handle(_:stoppingOn:)``, with the request's shutdown.
public protocol PhaseHandler: Sendable {
    /// The phase this handler answers; requests for another phase are dead-lettered.
    var phase: Phase { get }

    /// The output for `request`.
    func handle(_ request: PhaseRequest) async -> StageOutput

    /// The output for `request`, or nil when `stop` began while the handler waited (for a
    /// provider's rate limiter, a simulated latency): the request is handed back unanswered
    /// (``Streaming/RecordOutputs/handedBack``), its offset not committed, so the partition's
    /// next owner answers it, alone. `stop` is the request's record's
    /// (``Streaming/StagedRecordHandler``): it begins when the process stops or the request's
    /// partition is being revoked. A call to a provider under way is not cut short: it may
    /// finish within the drain, and its answer is written. Nil only once `stop` has begun.
    func handle(_ request: PhaseRequest, stoppingOn stop: GracefulShutdown) async -> StageOutput?

    /// The output ``handle(_:)`` gave for `request` was not written (it could not be encoded, it
    /// is above MAX_RECORD_BYTES, or the broker refused it) and the request was dead-lettered
    /// instead. A handler that remembers what it wrote forgets it here, so that a retried attempt
    /// writes it again rather than answering as if it had been written.
    func outputNotWritten(for request: PhaseRequest)

    /// The side records of the output ``handle(_:)`` gave for `request` (a pool entry, an
    /// enrollment) are acknowledged; only its result is still to be sent. A handler that
    /// answers a retried attempt of what it wrote without writing it again remembers it from
    /// here, not from ``handle(_:)``: an output handed back before it was written (its
    /// partition revoked meanwhile) is written again when the request comes back.
    func outputWritten(for request: PhaseRequest)
}

extension PhaseHandler {
    /// Nothing: a handler that remembers nothing of its outputs has nothing to forget.
    public func outputNotWritten(for request: PhaseRequest) {}

    /// Nothing: a handler that remembers nothing of its outputs has nothing to remember.
    public func outputWritten(for request: PhaseRequest) {}

    /// ``handle(_:)``: a handler that does not wait has nothing to stop.
    public func handle(_ request: PhaseRequest, stoppingOn stop: GracefulShutdown) async -> StageOutput? {
        await handle(request)
    }

    /// ``handle(_:stoppingOn:)`` with a shutdown that nothing begins, so there is an output:
    /// ``handle(_:)`` of a handler whose waits end on its stop.
    func handleUnstopped(_ request: PhaseRequest) async -> StageOutput {
        guard let output = await handle(request, stoppingOn: GracefulShutdown()) else {
            preconditionFailure("\(phase.rawValue) handler stopped without its shutdown begun")
        }
        return output
    }
}
