import Foundation
import Runtime
import Stages
import Streaming

ServiceCommandLine.handle(service: "scoring-stage", summary: "scores a lead's buyer fit, intent and timing, and keeps each account's heat.")

// Reads the configuration, builds the stage and runs it until SIGTERM/SIGINT (graceful drain).
let environment: PipelineEnvironment
let service: StageService
do {
    let variables = ProcessInfo.processInfo.environment
    environment = try PipelineEnvironment(service: "scoring-stage", environment: variables)
    let configuration = try StageConfiguration(environment: variables)
    let providers = try ProviderConfiguration(environment: variables)
    environment.logConfiguration(["stage": "\(configuration)", "providers": "\(providers)"])
    service = try StageService.makeScoringStage(environment: environment, configuration: configuration, providers: providers)
} catch {
    ServiceRunner.exitCannotStart(service: "scoring-stage", error: error)
}
ServiceRunner.endProcess(status: await ServiceRunner.run(service, logger: environment.logger, settings: environment.process))
