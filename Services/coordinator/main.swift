// coordinator: owns each lead's state and moves it through its phases. See README.md here.
import Foundation
import Coordinator
import Runtime
import Streaming

ServiceCommandLine.handle(service: "coordinator", summary: "tracks each lead's phase order, retries and billing-pause gates, and per-search progress.")

do {
    let environment = try PipelineEnvironment(service: "coordinator")
    let settings = try CoordinatorSettings(environment: ProcessInfo.processInfo.environment)
    environment.logConfiguration(["settings": "\(settings)"])
    let metrics = MetricsRegistry()
    let health = HealthStatus()
    let endpoint = try MetricsEndpoint.start(environment.process.metrics, service: "coordinator", registry: metrics, health: health,
                                            broker: (environment.kafka, environment.logger))
    let coordinator = Coordinator(environment: environment, settings: settings, metrics: metrics, health: health)
    let status = await ServiceRunner.run(coordinator, logger: environment.logger, settings: environment.process)
    endpoint?.stop()
    ServiceRunner.endProcess(status: status)
} catch {
    ServiceRunner.exitCannotStart(service: "coordinator", error: error)
}
