import Foundation
import Runtime
import Stages
import Streaming

ServiceCommandLine.handle(service: "profile-stage", summary: "enriches a lead's LinkedIn and X profiles.")

// Reads the configuration, builds the stage and runs it until SIGTERM/SIGINT (graceful drain).
let environment: PipelineEnvironment
let service: StageService
do {
    let variables = ProcessInfo.processInfo.environment
    environment = try PipelineEnvironment(service: "profile-stage", environment: variables)
    let configuration = try StageConfiguration(environment: variables)
    let providers = try ProviderConfiguration(environment: variables)
    environment.logConfiguration(["stage": "\(configuration)", "providers": "\(providers)"])
    service = try StageService.makeProfileStage(environment: environment, configuration: configuration, providers: providers)
} catch {
    ServiceRunner.exitCannotStart(service: "profile-stage", error: error)
}
ServiceRunner.endProcess(status: await ServiceRunner.run(service, logger: environment.logger, settings: environment.process))
