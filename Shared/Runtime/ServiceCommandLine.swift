import Foundation

/// The version every executable of the project reports (`--version`, the start-up
/// configuration line, the `pipeline_build_info` metric). Raised with each release.
public enum BuildInfo {
    public static let version = "0.1.0"
}

/// The command line of a service. Services are configured by environment variables only; the
/// command line answers `--version` and `--help` and refuses anything else, so that a mistyped
/// flag never starts a service.
public enum ServiceCommandLine {
    /// What to do with `arguments` (without the executable's name).
    public enum Answer: Equatable, Sendable {
        /// No arguments: start the service.
        case run
        /// Print `text` on stdout and exit 0.
        case print(String)
        /// Print `text` on stderr and exit 2.
        case refuse(String)
    }

    /// The answer to `arguments` for `service`, described in one line by `summary`.
    public static func answer(_ arguments: [String], service: String, summary: String) -> Answer {
        let usage = "usage: \(service) [--help | --version]"
        switch arguments {
        case []:
            return .run
        case ["--version"]:
            return .print("\(service) \(BuildInfo.version)\n")
        case ["--help"], ["-h"]:
            return .print("""
                \(service) \(BuildInfo.version): \(summary)

                \(usage)

                Runs until SIGTERM or SIGINT (then drains in-flight work, commits and leaves its group).
                Settings come from environment variables only: Services/\(service)/README.md lists this
                service's, README.md the Kafka and PIPELINE_* ones. A bad value stops it at start-up
                with one line naming the variable.

                """)
        default:
            return .refuse("\(service): unexpected argument '\(arguments.joined(separator: " "))' (settings come from the environment)\n\(usage)\n")
        }
    }

    /// Answers `--version` and `--help` (exit 0) and refuses other arguments (exit 2); returns
    /// only when the process was started without arguments.
    public static func handle(service: String, summary: String, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        switch answer(arguments, service: service, summary: summary) {
        case .run:
            return
        case .print(let text):
            FileHandle.standardOutput.write(Data(text.utf8))
            exit(0)
        case .refuse(let text):
            FileHandle.standardError.write(Data(text.utf8))
            exit(2)
        }
    }
}
