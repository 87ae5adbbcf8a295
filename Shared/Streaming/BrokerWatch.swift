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
            let askedAt = Date()
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
                reachability?.record(isReachable: false, askedAt: askedAt)
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

/// What a ``BrokerWatch`` saw last: whether the broker answers, and since when; and the
/// outages it saw end, until someone takes them (``takeOutages()``).
public final class BrokerReachability: Sendable {
    /// A time the broker did not answer: from the first question it left unanswered until it
    /// answered again.
    public struct Outage: Equatable, Sendable {
        /// When the first unanswered question was asked.
        public var start: Date
        /// Until the first answer after it.
        public var duration: TimeInterval
    }

    private struct State {
        /// When the broker last began answering, or stopped.
        var since = ContinuousClock.now
        /// When the first question of the current outage was asked; nil while the broker answers.
        var awaySince: Date?
        var outages: [Outage] = []

        var isReachable: Bool { awaySince == nil }
    }

    private let state = Mutex(State())

    /// Counts the broker as answering from now on, until a watch says otherwise.
    public init() {}

    /// Notes one answer, or one miss of a question asked at `askedAt` (for a miss, when the
    /// outage began at the latest).
    public func record(isReachable: Bool, askedAt: Date = Date()) {
        state.withLock { state in
            guard state.isReachable != isReachable else { return }
            state.since = .now
            if !isReachable {
                state.awaySince = askedAt
            } else if let start = state.awaySince {
                state.outages.append(Outage(start: start, duration: max(0, Date().timeIntervalSince(start))))
                state.awaySince = nil
            }
        }
    }

    /// Whether the broker has answered every question for at least `duration`.
    public func hasAnswered(for duration: Duration) -> Bool {
        state.withLock { $0.isReachable && ContinuousClock.now - $0.since >= duration }
    }

    /// The outages that ended since the last call, oldest first.
    public func takeOutages() -> [Outage] {
        state.withLock { state in
            defer { state.outages = [] }
            return state.outages
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
