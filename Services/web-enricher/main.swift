import Enrichment
import Foundation
import Runtime
import Streaming

ServiceCommandLine.handle(service: "web-enricher", summary: "reads a company's website on request and writes what it says.")

// Reads the configuration, builds the web enricher and runs it until SIGTERM/SIGINT (graceful drain).
let environment: PipelineEnvironment
let service: WebEnricherService
do {
    let variables = ProcessInfo.processInfo.environment
    environment = try PipelineEnvironment(service: "web-enricher", environment: variables)
    let settings = try WebEnricherSettings(environment: variables)
    environment.logConfiguration(["settings": "\(settings)"])
    service = try WebEnricherService(environment: environment, settings: settings)
} catch {
    ServiceRunner.exitCannotStart(service: "web-enricher", error: error)
}
ServiceRunner.endProcess(status: await ServiceRunner.run(service, logger: environment.logger, settings: environment.process))
