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

    /// The shutdown bound from `SHUTDOWN_TIMEOUT_SECONDS`, or 10 s when unset or not a positive number.
    public static func shutdownTimeout(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration {
        guard let text = environment[shutdownTimeoutVariable], let seconds = Double(text), seconds > 0 else { return .seconds(10) }
        return .milliseconds(Int(seconds * 1000))
    }

    /// Also starts the ``HeapTrimmer`` for the life of the run.
    public static func run(_ service: some Service, logger: Logger, shutdownTimeout: Duration = ServiceRunner.shutdownTimeout()) async -> Int32 {
        let trimmer = HeapTrimmer.start()
        defer { trimmer?.cancel() }
        let task = Task { try await service.run() }
        let signalQueue = DispatchQueue(label: "signals")
        var sources: [DispatchSourceSignal] = []
        let signalled = SignalCount()
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: signalQueue)
            source.setEventHandler {
                if signalled.increment() > 1 {
                    logger.warning("second signal: exiting without draining")
                    exit(1)
                }
                logger.info("signal \(signalNumber): draining in-flight work")
                task.cancel()
                let (seconds, attoseconds) = shutdownTimeout.components
                let milliseconds = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
                signalQueue.asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
                    logger.error("drain took longer than \(shutdownTimeout): exiting")
                    exit(1)
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

/// Counts signals; touched only on the signal queue.
private final class SignalCount: @unchecked Sendable {  // mutated only on the serial signal queue
    private var count = 0
    func increment() -> Int {
        count += 1
        return count
    }
}
