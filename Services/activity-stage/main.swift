import Foundation
import Runtime
import Stages
import Streaming

ServiceCommandLine.handle(service: "activity-stage", summary: "collects a lead's recent posts and who they interact with.")

// Reads the configuration, builds the stage and runs it until SIGTERM/SIGINT (graceful drain).
let environment: PipelineEnvironment
let service: StageService
do {
    let variables = ProcessInfo.processInfo.environment
    environment = try PipelineEnvironment(service: "activity-stage", environment: variables)
    let configuration = try StageConfiguration(environment: variables)
    let providers = try ProviderConfiguration(environment: variables)
    environment.logConfiguration(["stage": "\(configuration)", "providers": "\(providers)"])
    service = try StageService.makeActivityStage(environment: environment, configuration: configuration, providers: providers)
} catch {
    ServiceRunner.exitCannotStart(service: "activity-stage", error: error)
}
ServiceRunner.endProcess(status: await ServiceRunner.run(service, logger: environment.logger, settings: environment.process))
