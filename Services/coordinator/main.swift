// coordinator: owns each lead's state and moves it through its phases. See README.md here.
import Foundation
import PipelineServices
import ServiceRuntime

do {
    let environment = try PipelineEnvironment(service: "coordinator")
    let settings = try CoordinatorSettings(environment: ProcessInfo.processInfo.environment)
    let metrics = MetricsRegistry()
    let health = HealthStatus()
    let endpoint = try MetricsEndpoint.start(try MetricsSettings(environment: ProcessInfo.processInfo.environment),
                                             service: "coordinator", registry: metrics, health: health)
    let coordinator = Coordinator(environment: environment, settings: settings, metrics: metrics, health: health)
    let status = await ServiceRunner.run(coordinator, logger: environment.logger)
    endpoint?.stop()
    exit(status)
} catch {
    FileHandle.standardError.write(Data("coordinator: cannot start: \(error)\n".utf8))
    exit(1)
}
