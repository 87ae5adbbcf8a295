#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names the calling thread in the kernel (top, perf; Linux keeps 15 bytes) by writing its
/// `comm`. Foundation's `Thread.name` does not do it reliably: it names the kernel's thread only
/// when the thread already knows its own handle, which `start()` sets after the thread may run.
/// Call it first thing in the thread's body.
public func nameCurrentThread(_ name: String) {
    let comm = open("/proc/thread-self/comm", O_WRONLY)
    if comm >= 0 { _ = write(comm, name, name.utf8.count); close(comm) }
}
