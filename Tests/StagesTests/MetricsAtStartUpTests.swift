import Foundation
import LeadModel
import Coordinator
import Runtime
import Stages
import Streaming
import XCTest

/// The series a dashboard or an alert rates over exist from start-up, at zero, before the first
/// record: dead letters of every kind, each input's consumed records, the coordinator's results
/// per phase. No broker: nothing here connects.
final class MetricsAtStartUpTests: XCTestCase {
    func testEverySeriesARateNeedsIsServedAtZeroBeforeTheFirstRecord() throws {
        let environment = try PipelineEnvironment(service: "test", environment: ["KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"])
        let coordinatorMetrics = MetricsRegistry()
        _ = Coordinator(environment: environment, settings: CoordinatorSettings(), metrics: coordinatorMetrics)
        for phase in Phase.allCases {
            XCTAssertEqual(coordinatorMetrics.value(MetricNames.coordinatorResultsHandled, ["phase": phase.rawValue]), 0, phase.rawValue)
        }
        XCTAssertEqual(coordinatorMetrics.value(MetricNames.coordinatorTimersPending), 0)
        for table in ["accounts", "offers", "lead.overrides", "billing.events"] {
            XCTAssertEqual(coordinatorMetrics.value(MetricNames.coordinatorTableCatchUpTimeouts, ["topic": table]), 0, table)
        }

        let stage = try StageService.makeProfileStage(environment: environment, configuration: StageConfiguration())
        for registry in [coordinatorMetrics, stage.metrics] {
            for kind in DeadLetterKind.allCases {
                XCTAssertEqual(registry.value(MetricNames.deadLetters, ["reason": kind.rawValue]), 0, kind.rawValue)
            }
        }
        for topic in stage.inputTopics {
            XCTAssertEqual(stage.metrics.value(MetricNames.stageRecordsConsumed, ["stage": "profile", "topic": topic]), 0, topic)
        }
    }
}
