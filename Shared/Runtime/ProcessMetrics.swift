import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The process's own figures, read from the kernel when `/metrics` is scraped: memory, CPU
/// time, file descriptors, start time, and the build. On a system without `/proc` the figures
/// it cannot read are left out.
public enum ProcessMetrics {
    /// Sets every process gauge of `registry` and `pipeline_build_info` for `service`.
    public static func update(_ registry: MetricsRegistry, service: String) {
        registry.gauge(MetricNames.buildInfo, ["service": service, "version": BuildInfo.version]).set(1)
        var usage = rusage()
        if getrusage(RUSAGE_SELF.rawValue, &usage) == 0 {
            let seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime)
            registry.counter(MetricNames.processCPUSeconds).raise(to: seconds)
        }
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let pages = statm.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if pages.count >= 2 {
                registry.gauge(MetricNames.processVirtualMemoryBytes).set(pages[0] * pageSize)
                registry.gauge(MetricNames.processResidentMemoryBytes).set(pages[1] * pageSize)
            }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            registry.gauge(MetricNames.processOpenFDs).set(Double(descriptors.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            registry.gauge(MetricNames.processMaxFDs).set(Double(limit.rlim_cur))
        }
        if let start = startTime {
            registry.gauge(MetricNames.processStartTimeSeconds).set(start)
        }
    }

    /// Unix seconds the process started: its start in clock ticks after boot (`/proc/self/stat`,
    /// field 22) plus the boot time (`btime` of `/proc/stat`). Read once.
    static let startTime: Double? = {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: count after its end.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so field 22 is fields[19].
        guard fields.count > 19, let ticks = Double(fields[19]),
              let line = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Double(line.dropFirst("btime ".count)) else { return nil }
        return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }()

    private static func seconds(_ time: timeval) -> Double {
        Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000
    }
}
