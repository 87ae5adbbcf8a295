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
/// | `HEAP_TRIM_INTERVAL_SECONDS` | 1 | seconds between trims; 0 turns trimming (and the arena cap) off |
public enum HeapTrimmer {
    public static let intervalVariable = "HEAP_TRIM_INTERVAL_SECONDS"

    private typealias Trim = @convention(c) (Int) -> Int32
    private typealias SetOption = @convention(c) (Int32, Int32) -> Int32
    /// glibc's `M_ARENA_MAX`.
    private static let arenaMaxOption: Int32 = -8

    /// Caps the arenas and starts trimming; returns the timer (keep it), or nil when off or
    /// unavailable. Call early, before the service starts its threads.
    public static func start(environment: [String: String] = ProcessInfo.processInfo.environment) -> DispatchSourceTimer? {
        let seconds = environment[intervalVariable].flatMap(Double.init) ?? 1
        guard seconds > 0, let trim = function("malloc_trim", as: Trim.self) else { return nil }
        if let setOption = function("mallopt", as: SetOption.self) {
            _ = setOption(arenaMaxOption, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
        }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "heap-trim", qos: .utility))
        timer.schedule(deadline: .now() + seconds, repeating: seconds)
        timer.setEventHandler { _ = trim(0) }
        timer.resume()
        return timer
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
