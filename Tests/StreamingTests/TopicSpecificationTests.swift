import Kafka
import Streaming
import XCTest

/// The topics `leadctl topics create` (and the benchmarks and tests) ask the broker for.
final class TopicSpecificationTests: XCTestCase {
    /// Each topic accepts the largest record the producers may send: with `MAX_RECORD_BYTES`
    /// raised above the broker's default (about 1 MB), a topic at that default refused the records
    /// between the two, and the stages dead-lettered them. A lowered bound leaves the topics at
    /// 1 MiB's, so that an upstream producer's default batches are not refused whole.
    func testEveryTopicAcceptsTheRecordsTheProducersMaySend() throws {
        for (maxRecordBytes, topicBound) in [(1 << 20, (1 << 20) + (64 << 10)), (4 << 20, (4 << 20) + (64 << 10)),
                                             (128 << 10, (1 << 20) + (64 << 10))] {
            let environment = try PipelineEnvironment(service: "test", environment: ["MAX_RECORD_BYTES": String(maxRecordBytes)])
            let producerBound = try XCTUnwrap(environment.kafka.properties["message.max.bytes"])
            XCTAssertEqual(producerBound, String(maxRecordBytes + PipelineEnvironment.recordOverheadBytes))
            XCTAssertFalse(environment.topicSpecifications.isEmpty)
            for specification in environment.topicSpecifications {
                XCTAssertEqual(specification.configs["max.message.bytes"], String(topicBound), specification.name)
            }
            let compacted = environment.topicSpecifications.filter { $0.configs["cleanup.policy"] == "compact" }.map(\.name)
            XCTAssertTrue(compacted.contains(environment.topics.leadPool), "the bound does not replace compaction")
        }
    }

    /// `leads.backlog` keeps its records for good: the coordinator parks a lead's backlog record
    /// behind a billing pause and fetches it again when the account resumes, so the broker's
    /// default retention (7 days on Apache Kafka) lost the leads of a longer pause, which stayed
    /// pending for good. No other topic is kept for good.
    func testTheBacklogKeepsItsRecordsHoweverLongABillingPauseLasts() throws {
        let environment = try PipelineEnvironment(service: "test", environment: [:])
        let kept = environment.topicSpecifications.filter { $0.configs["retention.ms"] == "-1" }.map(\.name)
        XCTAssertEqual(kept, [environment.topics.leadsBacklog])
    }

    /// `PIPELINE_REPLICATION_FACTOR` and `PIPELINE_MIN_INSYNC_REPLICAS` give every topic its
    /// copies and the acknowledgements a write needs: left to Apache Kafka's defaults (one copy),
    /// the changelog, the pool and billing lived on one disk. Unset, the broker's defaults apply
    /// (the local broker has one node); a value out of range, or more in-sync replicas than
    /// copies, is an error naming the variable.
    func testEveryTopicGetsTheConfiguredCopiesAndInSyncReplicas() throws {
        let replicated = try PipelineEnvironment(service: "test", environment: ["PIPELINE_REPLICATION_FACTOR": "3",
                                                                               "PIPELINE_MIN_INSYNC_REPLICAS": "2"])
        for specification in replicated.topicSpecifications {
            XCTAssertEqual(specification.replicationFactor, 3, specification.name)
            XCTAssertEqual(specification.configs["min.insync.replicas"], "2", specification.name)
        }
        let defaults = try PipelineEnvironment(service: "test", environment: [:])
        for specification in defaults.topicSpecifications {
            XCTAssertEqual(specification.replicationFactor, -1, specification.name)
            XCTAssertNil(specification.configs["min.insync.replicas"], specification.name)
        }
        for (environment, variable) in [(["PIPELINE_REPLICATION_FACTOR": "0"], "PIPELINE_REPLICATION_FACTOR"),
                                        (["PIPELINE_REPLICATION_FACTOR": "2", "PIPELINE_MIN_INSYNC_REPLICAS": "3"],
                                         "PIPELINE_MIN_INSYNC_REPLICAS"),
                                        (["PIPELINE_MIN_INSYNC_REPLICAS": "2"], "PIPELINE_MIN_INSYNC_REPLICAS")] {
            XCTAssertThrowsError(try PipelineEnvironment(service: "test", environment: environment)) { error in
                XCTAssertTrue("\(error)".contains(variable), "\(error)")
            }
        }
    }
}
