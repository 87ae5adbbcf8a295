// coordinator: owns each lead's state and moves it through its phases. See README.md here.
import Foundation
import PipelineServices
import ServiceRuntime

do {
    let environment = try PipelineEnvironment(service: "coordinator")
    let settings = try CoordinatorSettings(environment: ProcessInfo.processInfo.environment)
    let coordinator = Coordinator(environment: environment, settings: settings)
    exit(await ServiceRunner.run(coordinator, logger: environment.logger))
} catch {
    FileHandle.standardError.write(Data("coordinator: cannot start: \(error)\n".utf8))
    exit(1)
}
