import Foundation
import PipelineServices
import ServiceRuntime
import StageServices

// Reads the configuration, builds the stage and runs it until SIGTERM/SIGINT (graceful drain).
let service: StageService
let logger: Logger
do {
    let variables = ProcessInfo.processInfo.environment
    let environment = try PipelineEnvironment(service: "activity-stage", environment: variables)
    service = try StageService.makeActivityStage(
        environment: environment, configuration: try StageConfiguration(environment: variables),
        providers: try ProviderConfiguration(environment: variables))
    logger = environment.logger
} catch {
    FileHandle.standardError.write(Data("activity-stage: cannot start: \(error)\n".utf8))
    exit(1)
}
exit(await ServiceRunner.run(service, logger: logger))
