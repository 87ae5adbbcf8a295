import Kafka
import Runtime
import Synchronization

/// The time a service has once cancelled (SIGTERM) to finish within the process's shutdown bound:
/// a grace to deliver what it holds, then ``StageRunnerSettings/leavingTime(after:)`` to leave
/// its group, both counted from the cancellation.
///
/// A producer of a pipeline process waits out an outage without end (`message.timeout.ms` 0), so
/// a last delivery during one would never return: after the grace, ``start(giveUp:)`` closes the
/// producer, which fails every send still waiting; the service sees ``isGivingUp(_:)`` and ends
/// cleanly with those outputs' inputs uncommitted, which the next owner handles again, as after a
/// crash. Leaving the group during an outage waits for the broker too: ``close(_:logger:)`` stops
/// waiting at the bound and lets the close go on behind.
public final class ShutdownDeadline: Sendable {
    /// How long after the cancellation the service may wait for the broker to take its outputs.
    public let grace: Duration
    private let cancelledAt = Mutex<ContinuousClock.Instant?>(nil)
    /// Set just before the grace's close: a send failed as closed before it is not given up.
    private let hasGivenUp = Atomic<Bool>(false)

    public init(grace: Duration) {
        self.grace = grace
    }

    /// From the cancellation to the leaving end: the grace, then the time to leave the group.
    private var span: Duration { grace + StageRunnerSettings.leavingTime(after: grace) }

    /// Notes the cancellation and runs `giveUp` (closing the producer) once the grace has passed.
    /// For a task cancellation handler; only the first call counts.
    public func start(giveUp: @escaping @Sendable () async -> Void) {
        let isFirst = cancelledAt.withLock { at in
            defer { at = at ?? ContinuousClock.now }
            return at == nil
        }
        guard isFirst else { return }
        Task { [self] in
            await sleepIgnoringCancellation(for: grace)
            hasGivenUp.store(true, ordering: .sequentiallyConsistent)
            await giveUp()
        }
    }

    /// How a service's run under ``run(closingAfterGrace:_:)`` ended.
    public enum Ending: Sendable, Equatable {
        /// It finished: everything it sent was taken.
        case byItself
        /// The grace's close failed the sends still waiting (``isGivingUp(_:)``): what they
        /// stood for is given up, its inputs uncommitted.
        case givenUp
        /// It was still running at the leaving end, stuck in a call that ignores cancellation
        /// (an admin request to a broker that does not answer waits out its own timeout), and
        /// was left behind so that the process ends within its bound.
        case leftBehind
    }

    /// Runs `body` (a service's loop and last writes); once cancelled, closes `producer` after
    /// the grace (``start(giveUp:)``), and stops waiting for `body` at the leaving end
    /// (``Ending/leftBehind``). Throws the errors `body` throws before that; one it throws
    /// later is not seen. A body left behind delivers nothing more (its producer is closed), and
    /// once the caller closes its consumer it stores and commits nothing more: an input whose
    /// outputs were not delivered stays uncommitted, and the next owner handles it again.
    public func run(closingAfterGrace producer: KafkaProducer, _ body: @escaping @Sendable () async throws -> Void)
        async throws -> Ending {
        let outcome = FirstAnswer<Result<Ending, any Error>>()
        let work = Task { [self] in
            do {
                try await body()
                outcome.answer(.success(.byItself))
            } catch let error as KafkaError where isGivingUp(error) {
                outcome.answer(.success(.givenUp))
            } catch {
                outcome.answer(.failure(error))
            }
        }
        return try await withTaskCancellationHandler {
            try await outcome.wait().get()
        } onCancel: { [span] in
            work.cancel()
            start { await producer.close(flushTimeoutMilliseconds: 0) }
            Task {
                await sleepIgnoringCancellation(for: span)
                outcome.answer(.success(.leftBehind))
            }
        }
    }

    /// `companion` (of the work ``run(closingAfterGrace:_:)`` runs, beside it), whose failure
    /// starts the shutdown as a cancellation does (``start(giveUp:)``, closing `producer` after
    /// the grace): the work the failure stops then ends within the bound, rather than wait out an
    /// outage for its last sends. Its cancellation starts nothing.
    public func startingOnFailure(of companion: @escaping @Sendable () async throws -> Void,
                                  closing producer: KafkaProducer) -> @Sendable () async throws -> Void {
        { [self] in
            do {
                try await companion()
            } catch let error where !(error is CancellationError) {
                start { await producer.close(flushTimeoutMilliseconds: 0) }
                throw error
            }
        }
    }

    /// Whether `error`, a send's failure, is the close after the grace: what is unsent is given
    /// up. Not a fatal error, nor a purge before the grace ended (librdkafka purges the queue
    /// after a fatal error): those stay failures.
    public func isGivingUp(_ error: KafkaError) -> Bool {
        error.isClientClosed && !error.isFatal && hasGivenUp.load(ordering: .sequentiallyConsistent)
    }

    /// When leaving the group must be done; nil until cancelled.
    public var leavingEnd: ContinuousClock.Instant? {
        cancelledAt.withLock { $0 }.map { $0 + span }
    }

    /// Closes `consumer`; once cancelled, waiting at most until ``leavingEnd`` (counted from now
    /// for a task that saw its cancellation before ``start(giveUp:)`` was called).
    public func close(_ consumer: KafkaConsumer, logger: Logger) async {
        guard let end = leavingEnd ?? (Task.isCancelled ? ContinuousClock.now + span : nil) else {
            return await consumer.close()
        }
        await consumer.close(by: end, logger: logger)
    }
}
