// swift-tools-version:6.0
import PackageDescription

let pipelineLibraries: [Target.Dependency] = ["Kafka", "JSONCodec", "LeadModel", "Pipeline", "Runtime", "Streaming"]

let package = Package(
    name: "LeadEnrichment",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Kafka", targets: ["Kafka"]),
        .executable(name: "coordinator", targets: ["Coordinator"]),
        .executable(name: "profile-stage", targets: ["ProfileStage"]),
        .executable(name: "activity-stage", targets: ["ActivityStage"]),
        .executable(name: "scoring-stage", targets: ["ScoringStage"]),
        .executable(name: "finalize-stage", targets: ["FinalizeStage"]),
        .executable(name: "profile-finder", targets: ["ProfileFinder"]),
        .executable(name: "web-enricher", targets: ["WebEnricher"]),
        .executable(name: "leadctl", targets: ["Leadctl"]),
        .executable(name: "kafka-bench", targets: ["KafkaBench"]),
        .executable(name: "pipeline-bench", targets: ["PipelineBench"]),
        .executable(name: "vendor-bench", targets: ["VendorBench"]),
    ],
    targets: [
        // librdkafka (>= 2.2) through pkg-config; the Kafka target is the only one importing it.
        .systemLibrary(
            name: "CRdKafka",
            path: "Shared/CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(name: "Kafka", dependencies: ["CRdKafka"], path: "Shared/Kafka"),
        // OpenSSL for the web enricher's TLS to addresses it checked; only its TLSConnection imports it.
        .systemLibrary(
            name: "COpenSSL",
            path: "Shared/COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),

        // JSON for any Codable value: a streaming encoder and an index decoder that agree with Foundation's.
        .target(name: "JSONCodec", path: "Shared/JSONCodec"),
        // Domain model, message contracts and the pure pipeline logic (no Kafka).
        .target(name: "LeadModel", dependencies: ["JSONCodec"], path: "Shared/LeadModel"),
        // The scorer's vocabulary (titles, industries) is data: Shared/Pipeline/Vocabulary/*.json.
        .target(name: "Pipeline", dependencies: ["JSONCodec", "LeadModel"], path: "Shared/Pipeline", resources: [.copy("Vocabulary")]),
        // What every service process shares, without Kafka: logging, metrics, the HTTP endpoint, signals, settings.
        .target(name: "Runtime", path: "Shared/Runtime"),
        // What every pipeline process shares on Kafka: the concurrent stage runner, records, tables, the environment.
        .target(name: "Streaming", dependencies: ["Kafka", "JSONCodec", "LeadModel", "Pipeline", "Runtime"], path: "Shared/Streaming"),
        // The coordinator as a library; Services/<name>/main.swift only starts it (and the others).
        .target(name: "PipelineServices", dependencies: pipelineLibraries, path: "Shared/PipelineServices"),

        .target(name: "StageServices", dependencies: pipelineLibraries, path: "Shared/StageServices"),
        .target(name: "LeadControl", dependencies: pipelineLibraries, path: "Shared/LeadControl"),
        // The optional processes outside the main pipeline: profile finder, web enricher.
        .target(name: "EnrichmentServices", dependencies: pipelineLibraries + ["COpenSSL"], path: "Shared/EnrichmentServices"),

        .executableTarget(name: "Coordinator", dependencies: ["PipelineServices", "Runtime", "Streaming"], path: "Services/coordinator", exclude: ["README.md"]),
        .executableTarget(name: "ProfileStage", dependencies: ["StageServices", "Runtime", "Streaming"], path: "Services/profile-stage", exclude: ["README.md"]),
        .executableTarget(name: "ActivityStage", dependencies: ["StageServices", "Runtime", "Streaming"], path: "Services/activity-stage", exclude: ["README.md"]),
        .executableTarget(name: "ScoringStage", dependencies: ["StageServices", "Runtime", "Streaming"], path: "Services/scoring-stage", exclude: ["README.md"]),
        .executableTarget(name: "FinalizeStage", dependencies: ["StageServices", "Runtime", "Streaming"], path: "Services/finalize-stage", exclude: ["README.md"]),
        .executableTarget(name: "ProfileFinder", dependencies: ["EnrichmentServices", "StageServices", "Runtime", "Streaming"], path: "Services/profile-finder", exclude: ["README.md"]),
        .executableTarget(name: "WebEnricher", dependencies: ["EnrichmentServices", "Runtime", "Streaming"], path: "Services/web-enricher", exclude: ["README.md"]),
        .executableTarget(name: "Leadctl", dependencies: ["LeadControl"], path: "Services/leadctl", exclude: ["README.md"]),
        .executableTarget(name: "KafkaBench", dependencies: ["Kafka"], path: "Benchmarks/kafka-bench"),
        .executableTarget(name: "PipelineBench", dependencies: pipelineLibraries + ["StageServices", "LeadControl"],
                          path: "Benchmarks/pipeline-bench"),
        .executableTarget(name: "VendorBench", dependencies: ["LeadModel", "Pipeline", "Runtime", "StageServices"], path: "Benchmarks/vendor-bench"),

        .target(name: "KafkaTestSupport", dependencies: ["Kafka"], path: "Tests/KafkaTestSupport"),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "KafkaTestSupport"], path: "Tests/KafkaTests"),
        // MetricsTests renders the stage runner's metric families too.
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Streaming"], path: "Tests/RuntimeTests"),
        .testTarget(name: "StreamingTests", dependencies: ["Streaming", "Runtime", "Kafka", "KafkaTestSupport"],
                    path: "Tests/StreamingTests"),
        .testTarget(name: "JSONCodecTests", dependencies: ["JSONCodec"], path: "Tests/JSONCodecTests"),
        .testTarget(name: "PipelineTests", dependencies: ["JSONCodec", "LeadModel", "Pipeline"], path: "Tests/PipelineTests",
                    exclude: ["ScoringEvaluation"]),
        .testTarget(name: "StageServicesTests", dependencies: pipelineLibraries + ["StageServices", "PipelineServices", "KafkaTestSupport"],
                    path: "Tests/StageServicesTests"),
        .testTarget(name: "EnrichmentServicesTests", dependencies: pipelineLibraries + ["EnrichmentServices"],
                    path: "Tests/EnrichmentServicesTests"),
        .testTarget(name: "LeadControlTests", dependencies: pipelineLibraries + ["LeadControl", "KafkaTestSupport"],
                    path: "Tests/LeadControlTests"),
        // Real processes on the real broker: builds the executables first (Deploy/test.sh does).
        .testTarget(name: "PipelineSystemTests", dependencies: pipelineLibraries + ["PipelineServices", "KafkaTestSupport", "LeadControl"],
                    path: "Tests/PipelineSystemTests"),
    ]
)
