import Foundation

/// What a finished child process said and how it ended.
public struct ProcessOutcome: Sendable {
    /// The exit status.
    public var status: Int32
    /// Standard output and standard error, interleaved as written.
    public var output: String
}

/// Runs `executable` with `arguments` (and `environment`, or this process's when nil) to its end,
/// with standard output and standard error read together.
public func runToEnd(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessOutcome {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return ProcessOutcome(status: process.terminationStatus, output: output)
}
