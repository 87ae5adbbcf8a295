import Enrichment
import Foundation
import Runtime
import Stages
import Streaming

ServiceCommandLine.handle(service: "profile-finder", summary: "finds a finished lead's profile on the other platform by name and company.")

// Reads the configuration, builds the profile finder and runs it until SIGTERM/SIGINT (graceful drain).
let environment: PipelineEnvironment
let service: ProfileFinderService
do {
    let variables = ProcessInfo.processInfo.environment
    environment = try PipelineEnvironment(service: "profile-finder", environment: variables)
    let settings = try ProfileFinderSettings(environment: variables)
    let providers = try ProviderConfiguration(environment: variables)
    environment.logConfiguration(["settings": "\(settings)", "providers": "\(providers)"])
    // The vendors' credits and circuits are served beside the finder's own metrics.
    let metrics = MetricsRegistry()
    let search = try providers.makeProfileSearch(environment: environment, simulatedLatency: settings.searchLatency, metrics: metrics)
    service = try ProfileFinderService(environment: environment, settings: settings, provider: search, metrics: metrics)
} catch {
    ServiceRunner.exitCannotStart(service: "profile-finder", error: error)
}
ServiceRunner.endProcess(status: await ServiceRunner.run(service, logger: environment.logger, settings: environment.process))
