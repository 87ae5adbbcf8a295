// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "LeadEnrichment",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Kafka", targets: ["Kafka"]),
        .executable(name: "kafka-bench", targets: ["KafkaBench"]),
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

        // Domain model, message contracts and the pure pipeline logic (no Kafka).
        .target(name: "LeadModel", path: "Shared/LeadModel"),
        .target(name: "Pipeline", dependencies: ["LeadModel"], path: "Shared/Pipeline"),
        // What every service process shares: logging, signals, the concurrent stage runner.
        .target(name: "ServiceRuntime", dependencies: ["Kafka"], path: "Shared/ServiceRuntime"),

        .executableTarget(name: "KafkaBench", dependencies: ["Kafka"], path: "Benchmarks/kafka-bench"),

        .target(name: "KafkaTestSupport", dependencies: ["Kafka"], path: "Tests/KafkaTestSupport"),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "KafkaTestSupport"], path: "Tests/KafkaTests"),
        .testTarget(name: "ServiceRuntimeTests", dependencies: ["ServiceRuntime", "Kafka", "KafkaTestSupport"],
                    path: "Tests/ServiceRuntimeTests"),
        .testTarget(name: "PipelineTests", dependencies: ["LeadModel", "Pipeline"], path: "Tests/PipelineTests"),
    ]
)
