#if canImport(CMalloc)
import CMalloc
#endif
import Dispatch
import Foundation

/// Gives the memory glibc's allocator holds free back to the kernel: looking once a second, when
/// the free memory has grown since the last trim, and every half minute anyway.
///
/// glibc's malloc keeps freed memory in its arenas for reuse and returns it only from the top of
/// the heap. A service that encodes and decodes thousands of records per batch frees most of
/// what it allocated, but the holes stay resident: measured on the coordinator with about 1,500
/// leads running, 45 MB of the heap was in use and 80 MB free inside the arenas. `malloc_trim(0)`
/// releases the free pages of every arena. The number of arenas is also capped (at two, one per
/// core here) so freed memory is shared rather than stranded per thread.
///
/// A busy process reuses what it frees within the second, so trimming it every second gave
/// pages back only for the process to fault them in again: under load, page faults and
/// `madvise` were 12% of the profile stage's CPU samples, 12% of the activity stage's and 6% of
/// the scoring stage's (0.3, 4.9 and 1.4% without trimming). A trim leaves the free memory
/// counted as free (its pages are released, the chunks stay), so the count after a trim is a
/// baseline: ``TrimPolicy`` trims again when the free memory exceeds it by
/// ``TrimPolicy/growth`` (a burst freed more than the process reuses), or after
/// ``TrimPolicy/looksBetweenTrims`` looks without a trim (what a busy process reuses goes back
/// then too, and an idle one's within half a minute).
///
/// `malloc_trim` and `mallopt` are looked up at run time: on a C library without them this does
/// nothing. The free count (`mallinfo2`) comes from `malloc.h` (`Shared/CMalloc`); without it
/// every look trims, as before the policy.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `HEAP_TRIM_INTERVAL_SECONDS` | 1 | seconds between looks at the heap, 0...3600; 0 turns trimming (and the arena cap) off; another value stops the process at start-up |
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
        nonisolated(unsafe) var policy = TrimPolicy()  // the timer's serial queue only
        timer.setEventHandler {
            if policy.shouldTrim(freeBytes: freeBytes()) { _ = trim(0) }
        }
        timer.resume()
        return timer
    }

    /// ``start(interval:)`` with the interval of ``intervalVariable``.
    /// - Throws: ``ConfigurationError`` when the variable is not a number of seconds in 0...3600.
    public static func start(environment: [String: String]) throws(ConfigurationError) -> DispatchSourceTimer? {
        start(interval: try interval(environment: environment))
    }

    /// The interval of ``intervalVariable`` (1 s when unset), or nil when it is 0 (off).
    /// - Throws: ``ConfigurationError`` when it is not 0 or a number of seconds in 0.1...3600 (a
    ///   shorter one would look at the allocator, which locks every arena, without pause).
    public static func interval(environment: [String: String]) throws(ConfigurationError) -> Duration? {
        let interval = try EnvironmentReader(environment).seconds(intervalVariable, default: .seconds(1), range: 0...3_600)
        guard interval == .zero || interval >= .milliseconds(100) else {
            throw ConfigurationError(variable: intervalVariable, problem: "\(interval) is under 0.1 s; use 0 (off) or 0.1 to 3600")
        }
        return interval == .zero ? nil : interval
    }

    /// The bytes free inside the allocator's arenas, released or not (glibc's `mallinfo2`,
    /// which walks the free lists); nil without it.
    public static func freeBytes() -> Int? {
        #if canImport(CMalloc) && os(Linux)
        return Int(mallinfo2().fordblks)
        #else
        return nil
        #endif
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

/// When the ``HeapTrimmer`` trims, from the free bytes it sees at each look.
public struct TrimPolicy: Sendable {
    /// Growth of the free memory over the count after the last trim that is worth a trim.
    public static let growth = 16 << 20
    /// Looks after which a trim happens whatever the count.
    public static let looksBetweenTrims = 30

    /// The free bytes counted at the last trim; 0 before the first.
    private(set) var freeAtLastTrim = 0
    private var looksSinceTrim = 0

    public init() {}

    /// Whether to trim at a look that counts `freeBytes` free (nil: unknown, trim); the count
    /// becomes the baseline when it is yes.
    public mutating func shouldTrim(freeBytes: Int?) -> Bool {
        looksSinceTrim += 1
        guard let freeBytes else { return true }
        guard freeBytes >= freeAtLastTrim + Self.growth || looksSinceTrim >= Self.looksBetweenTrims else { return false }
        freeAtLastTrim = freeBytes
        looksSinceTrim = 0
        return true
    }
}
