// swift-tools-version:6.0
import PackageDescription

let pipelineLibraries: [Target.Dependency] = ["Kafka", "JSONCodec", "LeadModel", "LeadRules", "Runtime", "Streaming"]

let package = Package(
    name: "LeadEnrichment",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Kafka", targets: ["Kafka"]),
        .executable(name: "coordinator", targets: ["CoordinatorService"]),
        .executable(name: "profile-stage", targets: ["ProfileStageService"]),
        .executable(name: "activity-stage", targets: ["ActivityStageService"]),
        .executable(name: "scoring-stage", targets: ["ScoringStageService"]),
        .executable(name: "finalize-stage", targets: ["FinalizeStageService"]),
        .executable(name: "profile-finder", targets: ["ProfileFinderService"]),
        .executable(name: "web-enricher", targets: ["WebEnricherService"]),
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
        .target(name: "Kafka", dependencies: ["CRdKafka", "Runtime"], path: "Shared/Kafka"),
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
        // The scorer's vocabulary (titles, industries, places) is data: Shared/LeadRules/Vocabulary/*.json.
        .target(name: "LeadRules", dependencies: ["JSONCodec", "LeadModel", "Runtime"], path: "Shared/LeadRules", resources: [.copy("Vocabulary")]),
        // glibc's malloc.h (allocator statistics) for the heap trimmer; empty elsewhere.
        .systemLibrary(name: "CMalloc", path: "Shared/CMalloc"),
        // What every service process shares, without Kafka: logging, metrics, the HTTP endpoint, signals, settings.
        .target(name: "Runtime", dependencies: ["CMalloc"], path: "Shared/Runtime"),
        // What every pipeline process shares on Kafka: the concurrent stage runner, records, tables, the environment.
        .target(name: "Streaming", dependencies: ["Kafka", "JSONCodec", "LeadModel", "LeadRules", "Runtime"], path: "Shared/Streaming"),
        // The coordinator as a library; Services/<name>/main.swift only starts it (and the others).
        .target(name: "Coordinator", dependencies: pipelineLibraries, path: "Shared/Coordinator"),

        .target(name: "Stages", dependencies: pipelineLibraries, path: "Shared/Stages"),
        .target(name: "LeadControl", dependencies: pipelineLibraries, path: "Shared/LeadControl"),
        // The optional processes outside the main pipeline: profile finder, web enricher.
        .target(name: "Enrichment", dependencies: pipelineLibraries + ["COpenSSL"], path: "Shared/Enrichment"),

        .executableTarget(name: "CoordinatorService", dependencies: ["Coordinator", "Runtime", "Streaming"], path: "Services/coordinator", exclude: ["README.md"]),
        .executableTarget(name: "ProfileStageService", dependencies: ["Stages", "Runtime", "Streaming"], path: "Services/profile-stage", exclude: ["README.md"]),
        .executableTarget(name: "ActivityStageService", dependencies: ["Stages", "Runtime", "Streaming"], path: "Services/activity-stage", exclude: ["README.md"]),
        .executableTarget(name: "ScoringStageService", dependencies: ["Stages", "Runtime", "Streaming"], path: "Services/scoring-stage", exclude: ["README.md"]),
        .executableTarget(name: "FinalizeStageService", dependencies: ["Stages", "Runtime", "Streaming"], path: "Services/finalize-stage", exclude: ["README.md"]),
        .executableTarget(name: "ProfileFinderService", dependencies: ["Enrichment", "Stages", "Runtime", "Streaming"], path: "Services/profile-finder", exclude: ["README.md"]),
        .executableTarget(name: "WebEnricherService", dependencies: ["Enrichment", "Runtime", "Streaming"], path: "Services/web-enricher", exclude: ["README.md"]),
        .executableTarget(name: "Leadctl", dependencies: ["LeadControl"], path: "Services/leadctl", exclude: ["README.md"]),
        .executableTarget(name: "KafkaBench", dependencies: ["Kafka"], path: "Benchmarks/kafka-bench"),
        .executableTarget(name: "PipelineBench", dependencies: pipelineLibraries + ["Stages", "LeadControl"],
                          path: "Benchmarks/pipeline-bench"),
        .executableTarget(name: "VendorBench", dependencies: ["LeadModel", "LeadRules", "Runtime", "Stages"], path: "Benchmarks/vendor-bench"),

        .target(name: "KafkaTestSupport", dependencies: ["CRdKafka", "Kafka", "Runtime"], path: "Tests/KafkaTestSupport"),
        .target(name: "LeadModelTestSupport", dependencies: ["LeadModel"], path: "Tests/LeadModelTestSupport"),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "KafkaTestSupport"], path: "Tests/KafkaTests"),
        // MetricsTests renders the stage runner's metric families too.
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Streaming"], path: "Tests/RuntimeTests"),
        .testTarget(name: "StreamingTests", dependencies: ["Streaming", "Runtime", "Kafka", "KafkaTestSupport", "LeadModel"],
                    path: "Tests/StreamingTests"),
        .testTarget(name: "JSONCodecTests", dependencies: ["JSONCodec"], path: "Tests/JSONCodecTests"),
        .testTarget(name: "LeadRulesTests", dependencies: ["JSONCodec", "LeadModel", "LeadModelTestSupport", "LeadRules"], path: "Tests/LeadRulesTests",
                    exclude: ["ScoringEvaluation"]),
        .testTarget(name: "StagesTests", dependencies: pipelineLibraries + ["Stages", "Coordinator", "KafkaTestSupport"],
                    path: "Tests/StagesTests"),
        .testTarget(name: "EnrichmentTests", dependencies: pipelineLibraries + ["Enrichment", "KafkaTestSupport"],
                    path: "Tests/EnrichmentTests"),
        .testTarget(name: "LeadControlTests", dependencies: pipelineLibraries + ["LeadControl", "KafkaTestSupport"],
                    path: "Tests/LeadControlTests"),
        // The coordinator's decisions, outputs, counts and settings, without a broker.
        .testTarget(name: "CoordinatorTests", dependencies: pipelineLibraries + ["Coordinator", "LeadModelTestSupport"],
                    path: "Tests/CoordinatorTests"),
        // Real processes on the real broker: builds the executables first (Deploy/test.sh does).
        .testTarget(name: "PipelineSystemTests", dependencies: pipelineLibraries + ["Coordinator", "KafkaTestSupport", "LeadModelTestSupport", "LeadControl", "Stages"],
                    path: "Tests/PipelineSystemTests"),
    ]
)
