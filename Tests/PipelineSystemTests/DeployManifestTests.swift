import Foundation
import KafkaTestSupport
import LeadModel
import XCTest

/// Deploy/: the Dockerfile, the Kubernetes manifests and the compose file refer only to things
/// that exist in the code: executables, environment variables, topics, consumer groups, ports.
/// No Docker here: YAML is parsed with PyYAML (`python3 -c 'import yaml'`), the Dockerfile as text.
final class DeployManifestTests: XCTestCase {
    static let root = TestBroker.projectRoot
    static let deploy = root.appendingPathComponent("Deploy")
    /// The image every pipeline container runs.
    static let pipelineImage = "lead-pipeline:latest"
    /// Third-party images allowed in the compose file.
    static let brokerImages = ["apache/kafka", "bitnami/kafka"]

    /// The executables of Package.swift (`.executable(name: "…"`), without the benchmarks.
    static let executables: Set<String> = {
        let manifest = (try? String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)) ?? ""
        let names = matches(of: #"\.executable\(name: "([a-z-]+)""#, in: manifest)
        return Set(names.filter { !$0.hasSuffix("-bench") })
    }()

    /// Every string literal of the Swift sources in Shared/ and Services/.
    static let swiftLiterals: Set<String> = {
        var literals: Set<String> = []
        for folder in ["Shared", "Services"] {
            let enumerator = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                guard url.pathExtension == "swift", let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
                literals.formUnion(matches(of: #""([A-Za-z0-9_.:-]+)""#, in: text))
            }
        }
        return literals
    }()

    static func matches(of pattern: String, in text: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    /// Whether a Swift source reads the environment variable `name`: its literal exists, or it
    /// is a `KAFKA_PROPERTY_<NAME>` pass-through, or a `<KEY>_FILE` variant of a read key.
    static func isReadByTheCode(_ name: String) -> Bool {
        if swiftLiterals.contains(name) { return true }
        if name.hasPrefix("KAFKA_PROPERTY_") && swiftLiterals.contains("KAFKA_PROPERTY_") { return true }
        if name.hasSuffix("_FILE") && swiftLiterals.contains(String(name.dropLast(5))) { return true }
        return false
    }

    /// Every document of a YAML file, as JSON-compatible values (PyYAML, safe loader).
    static func loadYAML(_ url: URL) throws -> [Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]))", url.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problem = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError("\(url.lastPathComponent): \(String(decoding: problem, as: UTF8.self))")
        }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [Any])
    }

    static func kubernetesDocuments() throws -> [(file: String, document: [String: Any])] {
        let folder = deploy.appendingPathComponent("k8s")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        return try files.flatMap { file in
            try loadYAML(folder.appendingPathComponent(file)).map { (file, try XCTUnwrap($0 as? [String: Any], file)) }
        }
    }

    override func setUpWithError() throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import yaml"]
        check.standardError = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw XCTSkip("python3 with PyYAML is needed to parse the manifests") }
    }

    // MARK: Kubernetes

    func testKubernetesManifestsMatchTheCode() throws {
        let documents = try Self.kubernetesDocuments()
        let config = try XCTUnwrap(documents.first { $0.document["kind"] as? String == "ConfigMap" }?.document["data"] as? [String: String])
        let secret = try XCTUnwrap(documents.first { $0.document["kind"] as? String == "Secret" }?.document)
        let secretName = (secret["metadata"] as? [String: Any])?["name"] as? String
        let secretKeys = Set(((secret["stringData"] as? [String: Any]) ?? (secret["data"] as? [String: Any]) ?? [:]).keys)
        let metricsPort = try XCTUnwrap(config["METRICS_PORT"].flatMap(Int.init), "the ConfigMap sets METRICS_PORT")
        let partitions = try XCTUnwrap(config["PIPELINE_PARTITIONS"].flatMap(Int.init))
        for name in config.keys.sorted() + secretKeys.sorted() {
            XCTAssertTrue(Self.isReadByTheCode(name), "\(name) is set in Deploy/k8s but read nowhere in Shared/ or Services/")
        }

        var deployed: Set<String> = []
        var scaled: Set<String> = []
        var hasTopicsJob = false
        for (file, document) in documents {
            let kind = document["kind"] as? String
            let spec = document["spec"] as? [String: Any] ?? [:]
            switch kind {
            case "Deployment", "Job":
                let pod = try XCTUnwrap((spec["template"] as? [String: Any])?["spec"] as? [String: Any], file)
                for container in try XCTUnwrap(pod["containers"] as? [[String: Any]], file) {
                    XCTAssertEqual(container["image"] as? String, Self.pipelineImage, file)
                    let args = container["args"] as? [String] ?? []
                    let executable = try XCTUnwrap(args.first, "\(file): the first argument picks the executable")
                    XCTAssertTrue(Self.executables.contains(executable), "\(file): no executable \(executable)")
                    let refs = container["envFrom"] as? [[String: Any]] ?? []
                    XCTAssertTrue(refs.contains { ($0["configMapRef"] as? [String: Any])?["name"] as? String != nil }, "\(file): env from the ConfigMap")
                    for variable in container["env"] as? [[String: Any]] ?? [] {
                        let name = try XCTUnwrap(variable["name"] as? String)
                        XCTAssertTrue(Self.isReadByTheCode(name), "\(file): \(name) is read nowhere")
                        if let ref = (variable["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any] {
                            XCTAssertEqual(ref["name"] as? String, secretName, file)
                            XCTAssertTrue(secretKeys.contains(ref["key"] as? String ?? ""), "\(file): secret key \(ref["key"] ?? "")")
                        }
                    }
                    if kind == "Job" {
                        XCTAssertEqual(args, ["leadctl", "topics", "create"], file)
                        hasTopicsJob = true
                        continue
                    }
                    deployed.insert(executable)
                    XCTAssertNotNil(container["resources"] as? [String: Any], "\(file): resources")
                    let ports = container["ports"] as? [[String: Any]] ?? []
                    XCTAssertEqual(ports.first?["containerPort"] as? Int, metricsPort, "\(file): the metrics port")
                    let portName = ports.first?["name"] as? String
                    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
                        let get = try XCTUnwrap((container[probe] as? [String: Any])?["httpGet"] as? [String: Any], "\(file): \(probe)")
                        XCTAssertEqual(get["path"] as? String, path, "\(file): \(probe)")
                        let port = get["port"]
                        XCTAssertTrue(port as? Int == metricsPort || (port as? String) == portName, "\(file): \(probe) port")
                    }
                }
            case "ScaledObject":
                let target = try XCTUnwrap((spec["scaleTargetRef"] as? [String: Any])?["name"] as? String, file)
                scaled.insert(target)
                let phase = try XCTUnwrap(Phase(rawValue: String(target.dropLast("-stage".count))), "\(file): \(target) is no stage")
                XCTAssertLessThanOrEqual(spec["maxReplicaCount"] as? Int ?? .max, partitions, "\(file): more replicas than partitions")
                let triggers = try XCTUnwrap(spec["triggers"] as? [[String: Any]], file)
                var topics: Set<String> = []
                for trigger in triggers {
                    XCTAssertEqual(trigger["type"] as? String, "kafka", file)
                    let metadata = try XCTUnwrap(trigger["metadata"] as? [String: Any], file)
                    XCTAssertEqual(metadata["bootstrapServers"] as? String, config["KAFKA_BOOTSTRAP_SERVERS"], file)
                    // The group StageService uses by default (no namespace in production).
                    XCTAssertEqual(metadata["consumerGroup"] as? String, "stage.\(phase.rawValue)", file)
                    let topic = try XCTUnwrap(metadata["topic"] as? String, file)
                    XCTAssertTrue(Topics.allNames.contains(topic), "\(file): no topic \(topic)")
                    topics.insert(topic)
                    XCTAssertNotNil((metadata["lagThreshold"] as? String).flatMap(Int.init), "\(file): lagThreshold")
                }
                XCTAssertEqual(topics, [Topics.phaseRequests(phase), Topics.phaseRequests(phase, isPriority: true)], file)
            default:
                break
            }
        }
        XCTAssertEqual(deployed, Self.executables.subtracting(["leadctl"]), "one Deployment per service")
        XCTAssertEqual(scaled, Set(Phase.allCases.map { "\($0.rawValue)-stage" }), "one ScaledObject per stage")
        XCTAssertTrue(hasTopicsJob, "a Job runs leadctl topics create")
    }

    // MARK: compose

    func testComposeRunsEveryServiceAgainstAKRaftBroker() throws {
        let compose = try XCTUnwrap(try Self.loadYAML(Self.deploy.appendingPathComponent("compose.yaml")).first as? [String: Any])
        let services = try XCTUnwrap(compose["services"] as? [String: [String: Any]])
        let broker = try XCTUnwrap(services.values.first { service in
            Self.brokerImages.contains { (service["image"] as? String)?.hasPrefix($0 + ":") == true }
        }, "an Apache Kafka broker")
        let brokerEnvironment = broker["environment"] as? [String: Any] ?? [:]
        XCTAssertTrue(brokerEnvironment.contains { $0.key.hasSuffix("PROCESS_ROLES") && "\($0.value)".contains("controller") }, "KRaft mode")

        var commands: Set<String> = []
        for (name, service) in services where service["image"] as? String == Self.pipelineImage {
            let command = service["command"] as? [String] ?? (service["entrypoint"] as? [String]).map { Array($0.dropFirst()) } ?? []
            let executable = try XCTUnwrap(command.first, "\(name): no command")
            XCTAssertTrue(Self.executables.contains(executable), "\(name): no executable \(executable)")
            commands.insert(executable)
            let environment = try XCTUnwrap(service["environment"] as? [String: Any], name)
            for variable in environment.keys {
                XCTAssertTrue(Self.isReadByTheCode(variable), "\(name): \(variable) is read nowhere")
            }
            let metricsPort = (environment["METRICS_PORT"] as? String).flatMap(Int.init)
            for mapping in service["ports"] as? [String] ?? [] {
                XCTAssertEqual(mapping.split(separator: ":").last.flatMap { Int($0) }, metricsPort, "\(name): publishes the metrics port")
            }
            if let bootstrap = environment["KAFKA_BOOTSTRAP_SERVERS"] as? String, let host = bootstrap.split(separator: ":").first {
                XCTAssertNotNil(services[String(host)], "\(name): bootstraps from \(bootstrap), no such service")
            }
        }
        XCTAssertEqual(commands, Self.executables, "every executable runs in compose (leadctl for topics and tools)")
        let build = try XCTUnwrap(services.values.compactMap { $0["build"] as? [String: Any] }.first, "the image is built here")
        XCTAssertEqual(build["dockerfile"] as? String, "Deploy/Dockerfile")
    }

    // MARK: Dockerfile

    func testDockerfileBuildsEveryExecutableAndRunsAsNonRoot() throws {
        let text = try String(contentsOf: Self.deploy.appendingPathComponent("Dockerfile"), encoding: .utf8)
        // Join continuation lines, drop comments.
        let instructions = text.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let froms = instructions.filter { $0.hasPrefix("FROM ") }
        XCTAssertGreaterThanOrEqual(froms.count, 3, "multi-stage: librdkafka, build, runtime")
        let arguments = Dictionary(instructions.filter { $0.hasPrefix("ARG ") && $0.contains("=") }.map { line -> (String, String) in
            let pair = line.dropFirst(4).split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]))
        }) { first, _ in first }
        XCTAssertTrue(arguments["SWIFT_IMAGE"]?.hasPrefix("swift:6") ?? false, "built on a Swift 6 image")
        XCTAssertTrue(arguments["RUNTIME_IMAGE"]?.hasPrefix("debian:") == true && arguments["RUNTIME_IMAGE"]?.hasSuffix("-slim") == true)
        let version = try XCTUnwrap(arguments["LIBRDKAFKA_VERSION"]?.split(separator: ".").compactMap { Int($0) })
        XCTAssertTrue(version.lexicographicallyPrecedes([2, 2]) == false, "librdkafka >= 2.2")
        // The librdkafka tarball is checked against the SHA-256 written next to its version, before it is unpacked.
        let checksum = try XCTUnwrap(arguments["LIBRDKAFKA_SHA256"], "ARG LIBRDKAFKA_SHA256")
        XCTAssertTrue(checksum.count == 64 && checksum.allSatisfy(\.isHexDigit), "a SHA-256: \(checksum)")
        let download = try XCTUnwrap(instructions.first { $0.hasPrefix("RUN ") && $0.contains("LIBRDKAFKA_VERSION") && $0.contains("curl") })
        let check = try XCTUnwrap(download.range(of: "${LIBRDKAFKA_SHA256}"), "the download is checked")
        XCTAssertTrue(download.contains("sha256sum -c"), download)
        XCTAssertLessThan(check.lowerBound, try XCTUnwrap(download.range(of: "tar -x")).lowerBound, "checked before unpacking")

        let build = try XCTUnwrap(instructions.first { $0.contains("swift build") })
        XCTAssertTrue(build.contains("-c release") && build.contains("--static-swift-stdlib"), build)
        for executable in Self.executables {
            XCTAssertTrue(build.contains("--product \(executable)"), "\(executable) is not built")
        }
        let entrypoint = try XCTUnwrap(instructions.first { $0.contains("entrypoint.sh") && $0.hasPrefix("RUN ") })
        for executable in Self.executables {
            XCTAssertTrue(entrypoint.contains(executable), "the entrypoint cannot start \(executable)")
        }
        let user = try XCTUnwrap(instructions.last { $0.hasPrefix("USER ") })
        XCTAssertFalse(["USER root", "USER 0", "USER 0:0"].contains(user), "runs as non-root")
        let exposed = instructions.filter { $0.hasPrefix("EXPOSE ") }.compactMap { Int($0.dropFirst(7)) }
        let config = try Self.loadYAML(Self.deploy.appendingPathComponent("k8s/configmap.yaml")).first as? [String: Any]
        let metricsPort = ((config?["data"] as? [String: String])?["METRICS_PORT"]).flatMap(Int.init)
        XCTAssertEqual(exposed, metricsPort.map { [$0] }, "EXPOSE the METRICS_PORT of the ConfigMap")
        for copied in instructions.filter({ $0.hasPrefix("COPY ") && !$0.contains("--from") }) {
            let source = String(copied.split(separator: " ")[1])
            XCTAssertTrue(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(source).path), "COPY \(source): no such path")
        }
    }
}
