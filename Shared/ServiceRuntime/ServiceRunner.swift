import Dispatch
import Foundation

/// A long-running process: `run()` returns when the work is done or the task is cancelled, after
/// finishing or handing back in-flight work and committing.
public protocol Service: Sendable {
    func run() async throws
}

/// Runs a service until it returns, turning SIGTERM and SIGINT into cancellation of its task:
/// the graceful path (stop taking work, drain, commit, leave the group). A second signal, or the
/// drain taking longer than `shutdownTimeout`, exits at once with status 1.
public enum ServiceRunner {
    public static func run(_ service: some Service, logger: Logger, shutdownTimeout: Duration = .seconds(10)) async -> Int32 {
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
                signalQueue.asyncAfter(deadline: .now() + .milliseconds(Int(shutdownTimeout.components.seconds * 1000))) {
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
