import Foundation
import Runtime
import Stages
import Streaming

ServiceCommandLine.handle(service: "finalize-stage", summary: "writes a finished lead's entry to the lead pool and enrolls it in autopilot when the account asks.")

// Reads the configuration, builds the stage and runs it until SIGTERM/SIGINT (graceful drain).
let environment: PipelineEnvironment
let service: StageService
do {
    let variables = ProcessInfo.processInfo.environment
    environment = try PipelineEnvironment(service: "finalize-stage", environment: variables)
    let configuration = try StageConfiguration(environment: variables)
    environment.logConfiguration(["stage": "\(configuration)"])
    service = try StageService.makeFinalizeStage(environment: environment, configuration: configuration)
} catch {
    ServiceRunner.exitCannotStart(service: "finalize-stage", error: error)
}
ServiceRunner.endProcess(status: await ServiceRunner.run(service, logger: environment.logger, settings: environment.process))
