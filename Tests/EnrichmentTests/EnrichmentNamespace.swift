import Foundation
import KafkaTestSupport
import Streaming

/// A pipeline environment on the test broker under a namespace of its own, its topics created for
/// `body` and deleted afterwards.
func withEnrichmentNamespace(service: String, _ body: (PipelineEnvironment) async throws -> Void) async throws {
    let environment = try PipelineEnvironment(service: service, environment: [
        "KAFKA_BOOTSTRAP_SERVERS": TestBroker.bootstrapServers, "PIPELINE_NAMESPACE": uniqueTopicName("enrichment"),
        "PIPELINE_PARTITIONS": "2", "LOG_LEVEL": "warning",
    ])
    try await environment.ensureTopics()
    try await deletingTopics(environment.topics.all, configuration: environment.kafka) { try await body(environment) }
}
