import Dispatch
import Foundation

/// A long-running process: `run()` returns when the work is done or the task is cancelled, after
/// finishing or handing back in-flight work and committing.
public protocol Service: Sendable {
    func run() async throws
}

/// Runs a service until it returns, turning SIGTERM and SIGINT into cancellation of its task:
/// the graceful path (stop taking work, drain, commit, leave the group). A second signal, or the
/// drain taking longer than the shutdown timeout, exits at once with status 1.
public enum ServiceRunner {
    /// The variable bounding a graceful shutdown, in seconds (default 10).
    public static let shutdownTimeoutVariable = "SHUTDOWN_TIMEOUT_SECONDS"

    /// The shutdown bound from `SHUTDOWN_TIMEOUT_SECONDS`, or 10 s when unset.
    /// - Throws: ``ConfigurationError`` when it is not a number of seconds in 0.1...3600.
    public static func shutdownTimeout(environment: [String: String]) throws(ConfigurationError) -> Duration {
        try EnvironmentReader(environment).seconds(shutdownTimeoutVariable, default: .seconds(10), range: 0.1...3_600)
    }

    /// Runs `service` with the shutdown bound and heap trimming of `settings` (read them with
    /// ``ProcessSettings/init(environment:)`` before building the service); the ``HeapTrimmer``
    /// runs for the life of the run.
    public static func run(_ service: some Service, logger: Logger, settings: ProcessSettings) async -> Int32 {
        let shutdownTimeout = settings.shutdownTimeout
        let trimmer = HeapTrimmer.start(interval: settings.heapTrimInterval)
        defer { trimmer?.cancel() }
        let task = Task { try await service.run() }
        let signalQueue = DispatchQueue(label: "signals")
        var sources: [DispatchSourceSignal] = []
        let signalled = SignalCount()
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: signalQueue)
            source.setEventHandler {
                // `_exit`: nothing is buffered (log lines are written whole), and the process
                // must end now, not after exit handlers.
                if signalled.increment() > 1 {
                    logger.warning("second signal: exiting without draining")
                    _exit(1)
                }
                logger.info("signal \(signalNumber): draining in-flight work")
                task.cancel()
                let (seconds, attoseconds) = shutdownTimeout.components
                let milliseconds = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
                signalQueue.asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
                    logger.error("drain took longer than \(shutdownTimeout): exiting")
                    _exit(1)
                }
            }
            source.resume()
            sources.append(source)
        }
        do {
            try await task.value
            logger.info("stopped")
            return 0
        } catch is CancellationError {
            logger.info("stopped")
            return 0
        } catch {
            logger.error("failed: \(error)")
            return 1
        }
    }
}

extension ServiceRunner {
    /// Ends the process with `status` (what ``run(_:logger:settings:)`` returned) at once,
    /// without exit handlers: a shutdown during an outage leaves closes behind (a group's leave,
    /// a client being freed) that exit handlers must not race. Log lines are written whole, so
    /// nothing is lost.
    public static func endProcess(status: Int32) -> Never {
        _exit(status)
    }

    /// Ends a process that cannot start: one error line naming the problem (and the variable,
    /// for a ``ConfigurationError``) on stderr, then exit status 1.
    public static func exitCannotStart(service: String, error: any Error) -> Never {
        var fields = [LogKey.error: "\(error)"]
        if let error = error as? ConfigurationError { fields["variable"] = error.variable }
        Logger(service: service).error("cannot start: \(error)", fields)
        exit(1)
    }
}

/// Counts signals; touched only on the signal queue.
private final class SignalCount: @unchecked Sendable {  // mutated only on the serial signal queue
    private var count = 0
    func increment() -> Int {
        count += 1
        return count
    }
}
