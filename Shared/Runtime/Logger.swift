import Foundation
import Synchronization

/// Log levels, in increasing severity.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case debug, info, warning, error

    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Keys of log fields, defined once so every service spells them the same way.
public enum LogKey {
    public static let service = "service"
    public static let leadID = "lead"
    public static let runID = "run"
    public static let phase = "phase"
    public static let attempt = "attempt"
    public static let topic = "topic"
    public static let partition = "partition"
    public static let offset = "offset"
    public static let error = "error"
    /// The part of a process that logged, where a process runs more than one (`account-heat`).
    public static let component = "component"

    /// Keys whose values are numbers: written as JSON numbers (when the value is one), never as
    /// strings, so a log query can compare them. A key is a number everywhere or nowhere.
    public static let numbers: Set<String> = [
        partition, offset, attempt, "inFlight", "seconds", "records", "ready", "port", "poolRepairs", "pool", "pending",
        "leads", "leadPartition", "companies", "bytes", "accounts", "partitions", "maxRecordBytes",
    ]
}

/// One JSON object per line on stderr: time (UTC, milliseconds), level, service, message and
/// fields; the fields of ``LogKey/numbers`` as JSON numbers, the rest as strings.
/// The level comes from `LOG_LEVEL` (debug, info, warning, error; default info); another value
/// stops the process at start-up (``ProcessSettings``).
public struct Logger: Sendable {
    public let service: String
    public let level: LogLevel
    private let fields: [String: String]
    private let sink: @Sendable (String) -> Void

    public init(service: String, level: LogLevel = .info, fields: [String: String] = [:],
                sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.service = service
        self.level = level
        self.fields = fields
        self.sink = sink
    }

    /// A logger whose level is read from `LOG_LEVEL`.
    /// - Throws: ``ConfigurationError`` when `LOG_LEVEL` names no level.
    public init(service: String, environment: [String: String]) throws(ConfigurationError) {
        self.init(service: service, level: try Self.level(environment: environment))
    }

    /// The level named by `LOG_LEVEL` (any case), `info` when unset.
    /// - Throws: ``ConfigurationError`` when it names no level.
    public static func level(environment: [String: String]) throws(ConfigurationError) -> LogLevel {
        try EnvironmentReader(environment).choice(ProcessSettings.Variable.logLevel, default: LogLevel.info, named: \.name)
    }

    private static let lock = Mutex(())

    /// Writes whole lines to stderr, one writer at a time.
    public static let standardError: @Sendable (String) -> Void = { line in
        lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// A logger that adds `fields` to every line.
    public func with(_ fields: [String: String]) -> Logger {
        Logger(service: service, level: level, fields: self.fields.merging(fields) { _, new in new }, sink: sink)
    }

    public func debug(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: String] = [:]) {
        log(.debug, message(), fields())
    }

    public func info(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: String] = [:]) {
        log(.info, message(), fields())
    }

    public func warning(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: String] = [:]) {
        log(.warning, message(), fields())
    }

    public func error(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: String] = [:]) {
        log(.error, message(), fields())
    }

    /// Writes a line at `level` when the logger's level lets it through; `message` and `fields`
    /// are made only then, so a hot path's debug line costs a comparison when debug is off.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: String] = [:]) {
        guard level >= self.level else { return }
        var object: [String: String] = self.fields.merging(fields()) { _, new in new }
        object["time"] = Self.timestamp(Date())
        object["level"] = level.name
        object[LogKey.service] = service
        object["message"] = message()
        sink(Self.jsonLine(object))
    }

    /// `2026-12-01T03:04:05.678Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func jsonLine(_ object: [String: String]) -> String {
        // Fixed keys first, the rest sorted: lines read the same way every time.
        let order = ["time", "level", LogKey.service, "message"]
        let keys = order.filter { object[$0] != nil } + object.keys.filter { !order.contains($0) }.sorted()
        let body = keys.map { key in
            let value = object[key]!
            return "\(quoted(key)):\(LogKey.numbers.contains(key) && isJSONNumber(value) ? value : quoted(value))"
        }.joined(separator: ",")
        return "{\(body)}\n"
    }

    /// Whether `text` is a JSON number as written (`-12`, `3.5`, `1e-3`; not `+1`, `01`, `nan`).
    public static func isJSONNumber(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.first == "-" { rest = rest.dropFirst() }
        let integer = rest.prefix { $0.isASCII && $0.isNumber }
        guard !integer.isEmpty, integer == "0" || integer.first != "0" else { return false }
        rest = rest.dropFirst(integer.count)
        if rest.first == "." {
            let fraction = rest.dropFirst().prefix { $0.isASCII && $0.isNumber }
            guard !fraction.isEmpty else { return false }
            rest = rest.dropFirst(1 + fraction.count)
        }
        if rest.first == "e" || rest.first == "E" {
            rest = rest.dropFirst()
            if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
            let exponent = rest.prefix { $0.isASCII && $0.isNumber }
            guard !exponent.isEmpty else { return false }
            rest = rest.dropFirst(exponent.count)
        }
        return rest.isEmpty
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
