import EnrichmentServices
import Foundation
import PipelineServices
import ServiceRuntime

// Reads the configuration, builds the web enricher and runs it until SIGTERM/SIGINT (graceful drain).
let service: WebEnricherService
let logger: Logger
do {
    let variables = ProcessInfo.processInfo.environment
    let environment = try PipelineEnvironment(service: "web-enricher", environment: variables)
    service = try WebEnricherService(environment: environment, settings: try WebEnricherSettings(environment: variables))
    logger = environment.logger
} catch {
    FileHandle.standardError.write(Data("web-enricher: cannot start: \(error)\n".utf8))
    exit(1)
}
exit(await ServiceRunner.run(service, logger: logger))
