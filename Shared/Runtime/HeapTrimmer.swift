import Dispatch
import Foundation

/// Gives the memory glibc's allocator holds free back to the kernel, once a second.
///
/// glibc's malloc keeps freed memory in its arenas for reuse and returns it only from the top of
/// the heap. A service that encodes and decodes thousands of records per batch frees most of
/// what it allocated, but the holes stay resident: measured on the coordinator with about 1,500
/// leads running, 45 MB of the heap was in use and 80 MB free inside the arenas. `malloc_trim(0)`
/// releases the free pages of every arena. The number of arenas is also capped (at two, one per
/// core here) so freed memory is shared rather than stranded per thread.
///
/// The functions are looked up at run time: on a C library without them this does nothing.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `HEAP_TRIM_INTERVAL_SECONDS` | 1 | seconds between trims, 0...3600; 0 turns trimming (and the arena cap) off; another value stops the process at start-up |
public enum HeapTrimmer {
    /// The variable of the interval, in seconds.
    public static let intervalVariable = "HEAP_TRIM_INTERVAL_SECONDS"

    private typealias Trim = @convention(c) (Int) -> Int32
    private typealias SetOption = @convention(c) (Int32, Int32) -> Int32
    /// glibc's `M_ARENA_MAX`.
    private static let arenaMaxOption: Int32 = -8

    /// Caps the arenas and starts trimming every `interval`; returns the timer (keep it), or nil
    /// when `interval` is nil or trimming is unavailable. Call early, before the service starts
    /// its threads.
    public static func start(interval: Duration?) -> DispatchSourceTimer? {
        guard let interval, interval > .zero, let trim = function("malloc_trim", as: Trim.self) else { return nil }
        if let setOption = function("mallopt", as: SetOption.self) {
            _ = setOption(arenaMaxOption, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
        }
        let (seconds, attoseconds) = interval.components
        let period = DispatchTimeInterval.nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "heap-trim", qos: .utility))
        timer.schedule(deadline: .now() + period, repeating: period)
        timer.setEventHandler { _ = trim(0) }
        timer.resume()
        return timer
    }

    /// ``start(interval:)`` with the interval of ``intervalVariable``.
    /// - Throws: ``ConfigurationError`` when the variable is not a number of seconds in 0...3600.
    public static func start(environment: [String: String]) throws(ConfigurationError) -> DispatchSourceTimer? {
        start(interval: try interval(environment: environment))
    }

    /// The interval of ``intervalVariable`` (1 s when unset), or nil when it is 0 (off).
    /// - Throws: ``ConfigurationError`` when it is not a number of seconds in 0...3600.
    public static func interval(environment: [String: String]) throws(ConfigurationError) -> Duration? {
        let interval = try EnvironmentReader(environment).seconds(intervalVariable, default: .seconds(1), range: 0...3_600)
        return interval == .zero ? nil : interval
    }

    /// Trims once now; false when the C library has no `malloc_trim`.
    @discardableResult
    public static func trimNow() -> Bool {
        guard let trim = function("malloc_trim", as: Trim.self) else { return false }
        _ = trim(0)
        return true
    }

    private static func function<F>(_ name: String, as type: F.Type) -> F? {
        guard let symbol = dlsym(nil, name) else { return nil }  // nil: RTLD_DEFAULT
        return unsafeBitCast(symbol, to: type)
    }
}
