// vendor-bench: one vendor's lookups as one call per lead against bulk calls through the
// VendorBatcher, at the same rate limit, in one run, against a loopback vendor stub.
//
//   swift build -c release --product vendor-bench
//   .build/release/vendor-bench [--rates 600,6000] [--leads 2000,2000] [--in-flight 256]
//       [--latency-ms 150] [--burst 10] [--batch 100] [--wait-ms 50] [--report FILE]
//
// --rates and --leads pair up: the n-th rate limit (calls a minute, the stub's and the client's
// limiter's alike) runs the n-th number of leads, first one call per lead, then batched.
import Foundation

struct Options {
    var rates: [Double] = [600, 6_000]
    var leads = [2_000, 2_000]
    var inFlight = 256
    var latencyMilliseconds = 150
    var burst = 10
    var batch = 100
    var waitMilliseconds = 50
    var report: String?

    init(_ arguments: [String]) throws {
        guard arguments.count.isMultiple(of: 2) else { throw BenchError("options come as pairs: --option value") }
        for index in stride(from: 0, to: arguments.count, by: 2) {
            let (flag, value) = (arguments[index], arguments[index + 1])
            switch flag {
            case "--rates": rates = try Self.numbers(flag, value).map(Double.init)
            case "--leads": leads = try Self.numbers(flag, value)
            case "--in-flight": inFlight = try Self.numbers(flag, value)[0]
            case "--latency-ms": latencyMilliseconds = try Self.numbers(flag, value)[0]
            case "--burst": burst = try Self.numbers(flag, value)[0]
            case "--batch": batch = try Self.numbers(flag, value)[0]
            case "--wait-ms": waitMilliseconds = try Self.numbers(flag, value)[0]
            case "--report": report = value
            default: throw BenchError("unknown option \(flag)")
            }
        }
        guard rates.count == leads.count else { throw BenchError("--rates and --leads need as many values each") }
    }

    var arguments: String {
        let rates = rates.map { String(Int($0)) }.joined(separator: ",")
        return "--rates \(rates) --leads \(leads.map(String.init).joined(separator: ",")) --in-flight \(inFlight) "
            + "--latency-ms \(latencyMilliseconds) --burst \(burst) --batch \(batch) --wait-ms \(waitMilliseconds)"
    }

    private static func numbers(_ flag: String, _ value: String) throws -> [Int] {
        let numbers = value.split(separator: ",").compactMap { Int($0) }
        guard !numbers.isEmpty, numbers.count == value.split(separator: ",").count, numbers.allSatisfy({ $0 > 0 }) else {
            throw BenchError("\(flag) takes positive whole numbers, comma-separated, not '\(value)'")
        }
        return numbers
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func row(_ figures: RunFigures) -> String {
    let cells = [
        "\(Int(figures.settings.ratePerMinute))/min", figures.settings.mode.description, "\(figures.settings.leads)",
        String(format: "%.1f", figures.leadsPerSecond), String(format: "%.3f", figures.callsPerLead), "\(figures.stub.rejected)",
        "\(figures.retries)", String(format: "%.2f s", figures.latency(0.5)), String(format: "%.2f s", figures.latency(0.99)),
        "\(figures.failed)",
    ]
    return "| " + cells.joined(separator: " | ") + " |"
}

let options: Options
do {
    options = try Options(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("vendor-bench: \(error)\n".utf8))
    exit(2)
}

var rows: [String] = []
for (rate, leads) in zip(options.rates, options.leads) {
    for mode in [Mode.single, .bulk(maxBatchSize: options.batch, maxWait: .milliseconds(options.waitMilliseconds))] {
        let settings = RunSettings(
            mode: mode, ratePerMinute: rate, burst: options.burst, leads: leads, inFlight: options.inFlight,
            latency: .milliseconds(options.latencyMilliseconds))
        let figures = try await run(settings)
        rows.append(row(figures))
        print(rows.last!)
    }
}

let table = """
    | rate limit | mode | leads | leads/s | calls/lead | 429s | retries | p50 | p99 | unanswered |
    |---|---|---|---|---|---|---|---|---|---|
    \(rows.joined(separator: "\n"))
    """
if let path = options.report {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let begin = "<!-- vendor-bench table -->", end = "<!-- end of vendor-bench table -->"
    guard let from = text.range(of: begin), let to = text.range(of: end), from.upperBound <= to.lowerBound else {
        FileHandle.standardError.write(Data("vendor-bench: \(path) has no '\(begin)' … '\(end)' block\n".utf8))
        exit(1)
    }
    let block = "\n`vendor-bench \(options.arguments)`\n\n\(table)\n"
    try (text.replacingCharacters(in: from.upperBound..<to.lowerBound, with: block)).write(toFile: path, atomically: true, encoding: .utf8)
    print("wrote \(path)")
} else {
    print(table)
}
