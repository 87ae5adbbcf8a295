import Foundation
import Kafka
import Runtime

/// Asks the broker for its metadata every ``interval``; while no answer comes within
/// ``timeout``, the service's ``HealthStatus`` reports it not ready ("broker unreachable"), and
/// ready again once the broker answers. The process stays up either way: its consumers and
/// producers wait the outage out (see README, guarantees), so a restart would only add a group
/// rebalance. One small request per interval per process.
public struct BrokerWatch: Sendable {
    /// Between two questions.
    public var interval: Duration = .seconds(2)
    /// How long an answer may take before the broker counts as unreachable.
    public var timeout: Duration = .seconds(3)

    public init() {}

    /// Watches until cancelled, changing `health` and logging each change once.
    public func run(configuration: KafkaConfiguration, health: HealthStatus, logger: Logger) async {
        guard let admin = try? KafkaAdmin(configuration: configuration) else { return }
        let milliseconds = Int32(timeout.components.seconds * 1_000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        var unreachableSince: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                _ = try await admin.brokers(timeoutMilliseconds: milliseconds)
                if let since = unreachableSince {
                    let seconds = Double((ContinuousClock.now - since).components.seconds)
                    logger.info("broker answers again; ready", ["seconds": String(Int(seconds))])
                    health.setBrokerProblem(nil)
                    unreachableSince = nil
                }
            } catch {
                if unreachableSince == nil {
                    logger.warning("broker unreachable; not ready until it answers: \(error)")
                    health.setBrokerProblem("\(error)")
                    unreachableSince = .now
                }
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}

extension MetricsEndpoint {
    /// Starts the endpoint `settings` ask for, or nothing when they have no port; `/readyz`
    /// follows a ``BrokerWatch`` of `broker`'s connection, which logs to its logger.
    public static func start(_ settings: MetricsSettings, service: String, registry: MetricsRegistry, health: HealthStatus,
                             broker: (configuration: KafkaConfiguration, logger: Logger)?) throws -> MetricsEndpoint? {
        var watch: (@Sendable () async -> Void)?
        if let (configuration, logger) = broker {
            watch = { await BrokerWatch().run(configuration: configuration, health: health, logger: logger) }
        }
        return try start(settings, service: service, registry: registry, health: health, watch: watch)
    }
}
