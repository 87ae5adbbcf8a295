import Foundation

/// A setting that is missing or wrong, named by its variable.
///
/// Every process stops at start-up on one of these (see ``ServiceRunner/exitCannotStart(service:error:)``),
/// so a typo in a deployment is a failed rollout, never a silent default.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The environment variable (or, for checks across settings, what was checked).
    public let variable: String
    /// What is wrong with it and what is allowed.
    public let problem: String

    /// Creates the error.
    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    /// `VARIABLE: problem`.
    public var description: String { "\(variable): \(problem)" }
}

/// The one reader of environment variables every process uses: each accessor returns the
/// default when the variable is unset or blank, the parsed value when it is allowed, and
/// throws ``ConfigurationError`` naming the variable and what is allowed otherwise. Values are
/// trimmed of surrounding whitespace. Never falls back to a default for a value it cannot read.
///
/// ```swift
/// let reader = EnvironmentReader(ProcessInfo.processInfo.environment)
/// let partitions = try reader.integer("PIPELINE_PARTITIONS", default: 12, range: 1...1024)
/// ```
public struct EnvironmentReader: Sendable {
    /// The variables read, by name.
    public let variables: [String: String]

    /// A reader of `variables` (the process's environment by default).
    public init(_ variables: [String: String] = ProcessInfo.processInfo.environment) {
        self.variables = variables
    }

    /// The trimmed value, or nil when unset or blank.
    public func string(_ name: String) -> String? {
        guard let text = variables[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }

    /// Whether the variable is set to something other than blanks.
    public func isSet(_ name: String) -> Bool { string(name) != nil }

    /// A whole number in `range`, or `value` when unset.
    public func integer(_ name: String, default value: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        try integer(name, range: range) ?? value
    }

    /// A whole number in `range`, or nil when unset.
    public func integer(_ name: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = string(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(variable: name, problem: "'\(text)' is not a whole number in \(range)")
        }
        return number
    }

    /// A number in `range`, or `value` when unset.
    public func decimal(_ name: String, default value: Double, range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = string(name) else { return value }
        guard let number = Double(text), number.isFinite, range.contains(number) else {
            throw ConfigurationError(variable: name, problem: "'\(text)' is not a number in \(range)")
        }
        return number
    }

    /// `true`/`false`/`1`/`0` (any case), or `value` when unset.
    public func boolean(_ name: String, default value: Bool) throws(ConfigurationError) -> Bool {
        guard let text = string(name) else { return value }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw ConfigurationError(variable: name, problem: "'\(text)' is not true or false")
        }
    }

    /// The case whose `name(case)` is the value (any case), or `value` when unset; the error
    /// lists the names allowed.
    public func choice<Choice: CaseIterable>(
        _ name: String, default value: Choice, named caseName: (Choice) -> String
    ) throws(ConfigurationError) -> Choice {
        guard let text = string(name) else { return value }
        if let match = Choice.allCases.first(where: { caseName($0).lowercased() == text.lowercased() }) { return match }
        let allowed = Choice.allCases.map(caseName)
        let listing = allowed.count > 1 ? allowed.dropLast().joined(separator: ", ") + " or " + allowed.last! : allowed.joined()
        throw ConfigurationError(variable: name, problem: "'\(text)' is not \(listing)")
    }

    /// The case whose raw value is the value (any case), or `value` when unset.
    public func choice<Choice: CaseIterable & RawRepresentable>(
        _ name: String, default value: Choice
    ) throws(ConfigurationError) -> Choice where Choice.RawValue == String {
        try choice(name, default: value, named: \.rawValue)
    }

    /// A duration of a number of seconds in `range` (fractions allowed), or `value` when unset.
    public func seconds(_ name: String, default value: Duration, range: ClosedRange<Double>) throws(ConfigurationError) -> Duration {
        guard isSet(name) else { return value }
        let seconds = try decimal(name, default: 0, range: range)
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
