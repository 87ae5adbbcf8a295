import Foundation
import Kafka
import Runtime
import Synchronization

/// The lines a service logs (info and above), each with when it came, for a test to time what
/// the service did (a revocation's wait, say) against what it caused.
public final class LogLines: Sendable {
    private let lines = Mutex<[(at: ContinuousClock.Instant, line: String)]>([])

    public init() {}

    /// A logger of `service` that keeps its lines here and writes them to standard error.
    public func logger(service: String) -> Logger {
        Logger(service: service, level: .info) { [self] line in
            lines.withLock { $0.append((.now, line)) }
            Logger.standardError(line)
        }
    }

    /// When the first line containing `text` came; nil if none has.
    public func first(containing text: String) -> ContinuousClock.Instant? {
        lines.withLock { $0.first { $0.line.contains(text) }?.at }
    }
}

/// A new member of `groupID` on `topics`, polled until it is first given its assignment (the
/// group's rebalance done, every member's revocation completed), and when that was. The caller
/// closes it.
public func joiningMember(of groupID: String, topics: [String], configuration: KafkaConfiguration,
                          properties: [String: String] = TestBroker.fastGroupProperties) async throws
    -> (member: KafkaConsumer, joinedAt: ContinuousClock.Instant) {
    let joinedAt = Mutex<ContinuousClock.Instant?>(nil)
    let member = try KafkaConsumer(configuration: configuration, groupID: groupID, topics: topics, properties: properties) { event in
        if case .assigned = event { joinedAt.withLock { $0 = $0 ?? .now } }
    }
    try await waitUntil("the member joined", timeoutSeconds: 60) {
        _ = try await member.poll(maxRecords: 10, timeoutMilliseconds: 100)
        return joinedAt.withLock { $0 } != nil
    }
    return (member, joinedAt.withLock { $0 } ?? .now)
}
