import EnrichmentServices
import Foundation
import PipelineServices
import ServiceRuntime

// Reads the configuration, builds the profile finder and runs it until SIGTERM/SIGINT (graceful drain).
let service: ProfileFinderService
let logger: Logger
do {
    let variables = ProcessInfo.processInfo.environment
    let environment = try PipelineEnvironment(service: "profile-finder", environment: variables)
    service = try ProfileFinderService(environment: environment, settings: try ProfileFinderSettings(environment: variables))
    logger = environment.logger
} catch {
    FileHandle.standardError.write(Data("profile-finder: cannot start: \(error)\n".utf8))
    exit(1)
}
exit(await ServiceRunner.run(service, logger: logger))
