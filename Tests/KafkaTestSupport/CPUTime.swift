import Foundation

/// CPU time this process has used so far, on every thread: how a test tells a loop that waits
/// from one that spins.
public func processCPUTime() -> Duration {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
}
