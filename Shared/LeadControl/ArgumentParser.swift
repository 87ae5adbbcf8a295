import LeadModel

/// A command line that cannot be run as written. The description names the problem and
/// ``usage`` holds the usage text of the command concerned, so the caller can print both and
/// exit with status 2.
public struct UsageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, e.g. `unknown option --cont`.
    public let problem: String
    /// The usage text of the command the problem concerns (or the general usage).
    public let usage: String

    /// Creates an error.
    public init(_ problem: String, usage: String) {
        self.problem = problem
        self.usage = usage
    }

    /// The problem alone.
    public var description: String { problem }
}

/// The options, flags and positional arguments of one command, split by ``parse(_:options:flags:usage:)``.
///
/// Accepted forms: `--name value`, `--name=value`, `--flag`, and `--` to end options. A single
/// `-` alone is a positional argument (conventionally standard input). Every option may be given
/// once.
public struct ParsedArguments: Hashable, Sendable {
    /// Option values by name (without the leading dashes).
    public var options: [String: String]
    /// Flags that were given (without the leading dashes).
    public var flags: Set<String>
    /// Positional arguments in order.
    public var positionals: [String]
    /// The usage text errors refer to.
    public var usage: String

    /// Splits `arguments` of a command.
    /// - Parameters:
    ///   - options: names of options that take a value.
    ///   - flags: names of options without a value.
    ///   - usage: the command's usage text, carried by every ``UsageError``.
    public static func parse(
        _ arguments: [String], options: Set<String>, flags: Set<String>, usage: String
    ) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments(options: [:], flags: [], positionals: [], usage: usage)
        var index = arguments.startIndex
        var isOptionsEnded = false
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            guard !isOptionsEnded, argument.hasPrefix("--") else {
                if !isOptionsEnded && argument.hasPrefix("-") && argument != "-" && Double(argument) == nil {
                    throw UsageError("unknown option \(argument); options are spelled --name", usage: usage)
                }
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                isOptionsEnded = true
                continue
            }
            let body = argument.dropFirst(2)
            let name: String
            var inlineValue: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                inlineValue = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            if flags.contains(name) {
                if inlineValue != nil { throw UsageError("--\(name) takes no value", usage: usage) }
                if parsed.flags.contains(name) { throw UsageError("--\(name) is given twice", usage: usage) }
                parsed.flags.insert(name)
            } else if options.contains(name) {
                if parsed.options[name] != nil { throw UsageError("--\(name) is given twice", usage: usage) }
                if let inlineValue {
                    parsed.options[name] = inlineValue
                } else {
                    guard index < arguments.endIndex, !arguments[index].hasPrefix("--") else {
                        throw UsageError("--\(name) needs a value", usage: usage)
                    }
                    parsed.options[name] = arguments[index]
                    index += 1
                }
            } else {
                let known = (options.union(flags)).sorted().map { "--\($0)" }
                let hint = known.isEmpty ? "this command takes no options" : "known options: \(known.joined(separator: ", "))"
                throw UsageError("unknown option --\(name); \(hint)", usage: usage)
            }
        }
        return parsed
    }

    /// Whether the flag was given.
    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The option's value, or nil.
    public func option(_ name: String) -> String? { options[name] }

    /// The option's value; a ``UsageError`` when it is absent or empty.
    public func required(_ name: String) throws(UsageError) -> String {
        guard let value = options[name], !value.isEmpty else {
            throw UsageError("--\(name) is required", usage: usage)
        }
        return value
    }

    /// The option as a whole number in `range`, or nil when absent.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = options[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("--\(name) \"\(text)\" is not a whole number in \(range.lowerBound)...\(range.upperBound)", usage: usage)
        }
        return value
    }

    /// The option as a number in `range`, or nil when absent.
    public func decimal(_ name: String, in range: ClosedRange<Double>) throws(UsageError) -> Double? {
        guard let text = options[name] else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw UsageError("--\(name) \"\(text)\" is not a number in \(range.lowerBound)...\(range.upperBound)", usage: usage)
        }
        return value
    }

    /// The option as a case of `T` (by raw value), or nil when absent.
    public func enumeration<T: RawRepresentable & CaseIterable>(_ name: String, as type: T.Type) throws(UsageError) -> T?
    where T.RawValue == String {
        guard let text = options[name] else { return nil }
        guard let value = T(rawValue: text) else { throw UsageError("--\(name) \(T.unknownName(text))", usage: usage) }
        return value
    }

    /// Exactly `count` positional arguments, named in errors by `names`.
    public func positionals(_ names: [String]) throws(UsageError) -> [String] {
        if positionals.count < names.count {
            throw UsageError("missing \(names[positionals.count])", usage: usage)
        }
        if positionals.count > names.count {
            throw UsageError("unexpected argument \"\(positionals[names.count])\"", usage: usage)
        }
        // Every positional names something (a lead, a file): none is blank.
        if let blank = positionals.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw UsageError("\(names[blank]) must not be empty", usage: usage)
        }
        return positionals
    }

    /// The option as an id (an account, an offer, a search), or nil when absent; a
    /// ``UsageError`` when blank, which the pipeline's decoder would refuse.
    public func identifier(_ name: String) throws(UsageError) -> String? {
        guard let value = options[name] else { return nil }
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else { throw UsageError("--\(name) needs an id", usage: usage) }
        return value
    }
}
