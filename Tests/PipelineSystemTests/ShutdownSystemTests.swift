import Foundation
import KafkaTestSupport
import LeadModel
import XCTest

/// `SHUTDOWN_TIMEOUT_SECONDS` bounds how long a process takes from SIGTERM to its end, in the
/// worst case too: requests in flight and a broker that does not answer, so the drain cannot
/// commit and never finishes on its own. Each process ends by itself (status 0), giving up what
/// the broker did not take, rather than by its shutdown timer (status 1, as after a crash).
final class ShutdownSystemTests: XCTestCase {
    static let services = ["coordinator"] + PipelineHarness.stages + ["profile-finder", "web-enricher"]

    func testEveryProcessEndsWithinItsShutdownTimeoutWithTheBrokerStopped() async throws {
        // The default: the drain 8 s, leaving the group 0.5 s, 1.5 s for the rest on a busy host.
        let timeout = 10.0
        // What exiting itself may add to the bound: the process's own teardown and this test's
        // observation of its end (polled every 20 ms).
        let slack = 0.3
        try await withPipeline(environment: ["SHUTDOWN_TIMEOUT_SECONDS": String(timeout), "SIM_LATENCY_SCALE": "2"]) { harness in
            let ports = Dictionary(uniqueKeysWithValues: Self.services.map { ($0, TestBroker.freeLoopbackPort()) })
            let processes = try Self.services.map { try harness.start($0, environment: ["METRICS_PORT": String(ports[$0]!)]) }
            try await harness.publish(leads: harness.makeLeads(200))
            try await waitUntil("every process ready", timeoutSeconds: 60, pollMilliseconds: 200) {
                for port in ports.values {
                    guard (try? await httpGet("http://127.0.0.1:\(port)/readyz"))?.0 == 200 else { return false }
                }
                return true
            }
            try await waitUntil("requests in flight", timeoutSeconds: 60, pollMilliseconds: 200) {
                let (_, text) = try await httpGet("http://127.0.0.1:\(ports["profile-stage"]!)/metrics")
                return (try PrometheusSamples.parse(text)["pipeline_stage_in_flight{stage=\"profile\"}"] ?? 0) > 0
            }

            try TestBroker.suspend()
            var took: [String: Double] = [:]
            do {
                let clock = ContinuousClock()
                let start = clock.now
                for process in processes { kill(process.processIdentifier, SIGTERM) }
                try await waitUntil("every process ended", timeoutSeconds: timeout * 5, pollMilliseconds: 20) {
                    for (service, process) in zip(Self.services, processes) where !process.isRunning && took[service] == nil {
                        let elapsed = (clock.now - start).components
                        took[service] = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
                    }
                    return took.count == processes.count
                }
            } catch {
                try TestBroker.resume()
                throw error
            }
            try TestBroker.resume()
            print("shutdown with the broker stopped, timeout \(timeout) s: "
                  + Self.services.map { "\($0) \(String(format: "%.2f", took[$0] ?? -1)) s" }.joined(separator: ", "))
            for (service, process) in zip(Self.services, processes) {
                XCTAssertLessThanOrEqual(took[service] ?? .infinity, timeout + slack, "\(service) overshot its shutdown timeout")
                XCTAssertEqual(process.terminationStatus, 0, "\(service) was ended by its shutdown timer")
            }
        }
    }
}
