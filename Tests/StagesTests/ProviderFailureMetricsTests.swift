import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import XCTest

/// A stage counts the provider calls its results record as failed, per provider, from zero (what
/// the dashboard's provider panel reads). No broker: the processor is fed records directly.
final class ProviderFailureMetricsTests: XCTestCase {
    let topics = Topics(namespace: "ns")
    let codec = MessageCodec()

    func testFailedCallsAreCountedPerProviderFromZero() async throws {
        let metrics = MetricsRegistry()
        let settings = Fixtures.simulation(linkedin: .init(meanLatency: .zero, failureRate: 1))
        let handler = ProfileStageHandler(
            linkedin: SimulatedLinkedInProvider(settings: settings, now: Fixtures.clock),
            x: SimulatedXProvider(settings: settings), service: "test", now: Fixtures.clock)
        let processor = StageRecordProcessor(handler: handler, codec: codec, topics: topics, service: "test",
                                             logger: Logger(service: "test", level: .error, sink: { _ in }), metrics: metrics)
        func failures(_ provider: String) -> Double? {
            metrics.value(MetricNames.stageProviderFailures, ["stage": "profile", "provider": provider])
        }
        XCTAssertEqual(failures("linkedin"), 0)
        XCTAssertEqual(failures("x"), 0)

        for index in 0..<3 {
            let lead = Fixtures.lead(id: "lead-\(index)", linkedin: "linkedin.com/in/person\(index)", x: "x.com/person\(index)")
            let request = try codec.record(Fixtures.request(.profile, lead: lead), topic: topics.phaseRequests(.profile), key: lead.leadID.rawValue)
            let outputs = await processor.process(ConsumerRecord(topic: request.topic, partition: 0, offset: Int64(index),
                                                                 key: request.key, value: request.value, headers: request.headers))
            XCTAssertEqual(outputs.records.map(\.topic), [topics.phaseResults], "a result, not a dead letter")
        }
        XCTAssertEqual(failures("linkedin"), 3, "every LinkedIn call failed")
        XCTAssertEqual(failures("x"), 0, "no X call failed")
    }
}
