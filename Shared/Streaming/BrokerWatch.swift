import Foundation
import Kafka
import Runtime
import Synchronization

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

    public init(interval: Duration = .seconds(2), timeout: Duration = .seconds(3)) {
        self.interval = interval
        self.timeout = timeout
    }

    /// Watches until cancelled, changing `health` and `reachability` and logging each change once.
    public func run(configuration: KafkaConfiguration, health: HealthStatus? = nil, reachability: BrokerReachability? = nil,
                    logger: Logger) async {
        let milliseconds = Int32(timeout.components.seconds * 1_000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        var admin: KafkaAdmin?
        var unreachableSince: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                if admin == nil { admin = try KafkaAdmin(configuration: configuration) }
                _ = try await admin?.brokers(timeoutMilliseconds: milliseconds)
                reachability?.record(isReachable: true)
                if let since = unreachableSince {
                    let seconds = Double((ContinuousClock.now - since).components.seconds)
                    logger.info("broker answers again; ready", ["seconds": String(Int(seconds))])
                    health?.setBrokerProblem(nil)
                    unreachableSince = nil
                }
            } catch {
                reachability?.record(isReachable: false)
                if unreachableSince == nil {
                    logger.warning("broker unreachable; not ready until it answers: \(error)")
                    health?.setBrokerProblem("\(error)")
                    unreachableSince = .now
                }
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}

/// What a ``BrokerWatch`` saw last: whether the broker answers, and since when.
public final class BrokerReachability: Sendable {
    private let state: Mutex<(isReachable: Bool, since: ContinuousClock.Instant)>

    /// Counts the broker as answering from now on, until a watch says otherwise.
    public init() {
        state = Mutex((true, .now))
    }

    /// Notes one answer, or one miss.
    public func record(isReachable: Bool) {
        state.withLock { if $0.isReachable != isReachable { $0 = (isReachable, .now) } }
    }

    /// Whether the broker has answered every question for at least `duration`.
    public func hasAnswered(for duration: Duration) -> Bool {
        state.withLock { $0.isReachable && ContinuousClock.now - $0.since >= duration }
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
