import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Runtime
import Stages
import Streaming
import XCTest

/// Deploy/: the Dockerfile, the Kubernetes manifests and the compose file refer only to things
/// that exist in the code: executables, environment variables, topics, consumer groups, ports.
/// No Docker here: YAML is parsed with PyYAML (`python3 -c 'import yaml'`), the Dockerfile as text.
/// The custom resources (KEDA's ScaledObject and TriggerAuthentication, the Prometheus Operator's
/// ServiceMonitor) have no schema offline; their required fields are checked here.
final class DeployManifestTests: XCTestCase {
    static let root = TestBroker.projectRoot
    static let deploy = root.appendingPathComponent("Deploy")
    /// The image every pipeline container runs: the release tag of Deploy/k8s/kustomization.yaml.
    static let pipelineImage: String = {
        let kustomization = try? loadYAML(deploy.appendingPathComponent("k8s/kustomization.yaml")).first as? [String: Any]
        let images = kustomization?["images"] as? [[String: Any]] ?? []
        let tag = images.first { $0["name"] as? String == "lead-pipeline" }?["newTag"] as? String ?? "no newTag"
        return "lead-pipeline:\(tag)"
    }()
    /// The Secret of the provider keys (environment variables) and the one of the Kafka client.
    static let providerKeysSecret = "lead-pipeline-provider-keys"
    static let kafkaSecret = "lead-pipeline-kafka"
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

    /// The documents of one kind, with the file each comes from.
    static func documents(_ kind: String, in documents: [(file: String, document: [String: Any])]) -> [(file: String, document: [String: Any])] {
        documents.filter { $0.document["kind"] as? String == kind }
    }

    static func name(of document: [String: Any]) -> String? {
        (document["metadata"] as? [String: Any])?["name"] as? String
    }

    /// Whether every label a selector asks for is among `labels` (an empty selector matches nothing here).
    static func selects(_ selector: [String: Any]?, _ labels: [String: Any]) -> Bool {
        guard let selector, !selector.isEmpty else { return false }
        return selector.allSatisfy { labels[$0.key] as? String == $0.value as? String }
    }

    /// A memory quantity (`96Mi`, `1Gi`, `512M`) in bytes.
    static func bytes(_ quantity: String) -> Int? {
        let units: [(String, Int)] = [("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("k", 1000), ("M", 1_000_000), ("G", 1_000_000_000)]
        for (suffix, factor) in units where quantity.hasSuffix(suffix) {
            return Int(quantity.dropLast(suffix.count)).map { $0 * factor }
        }
        return Int(quantity)
    }

    /// What keeps KEDA's trigger authentication (keys `sasl` and `tls`) from connecting the way a
    /// service's librdkafka properties do (the identities differ: KEDA has its own); empty when they agree.
    static func disagreements(keda: [String: String], properties: [String: String]) -> [String] {
        let protocolName = (properties["security.protocol"] ?? "plaintext").lowercased()
        let sasl = keda["sasl"] ?? "none"
        let mechanisms = ["plaintext": "PLAIN", "scram_sha256": "SCRAM-SHA-256", "scram_sha512": "SCRAM-SHA-512"]
        var problems: [String] = []
        if (sasl != "none") != protocolName.hasPrefix("sasl_") {
            problems.append("sasl \(sasl) but security.protocol \(protocolName)")
        }
        if ((keda["tls"] ?? "disable") == "enable") != protocolName.hasSuffix("ssl") {
            problems.append("tls \(keda["tls"] ?? "disable") but security.protocol \(protocolName)")
        }
        if sasl != "none" {
            let mechanism = properties["sasl.mechanisms"] ?? properties["sasl.mechanism"] ?? "GSSAPI"
            if let expected = mechanisms[sasl], mechanism.uppercased() != expected {
                problems.append("sasl \(sasl) but sasl.mechanisms \(mechanism)")
            }
        }
        return problems
    }

    func testKubernetesManifestsMatchTheCode() throws {
        let documents = try Self.kubernetesDocuments()
        let config = try XCTUnwrap(documents.first { $0.document["kind"] as? String == "ConfigMap" }?.document["data"] as? [String: String])
        var secrets: [String: [String: String]] = [:]
        for (file, secret) in Self.documents("Secret", in: documents) {
            let name = try XCTUnwrap(Self.name(of: secret), file)
            secrets[name] = (secret["stringData"] as? [String: String]) ?? [:]
        }
        let providerKeys = Set(try XCTUnwrap(secrets[Self.providerKeysSecret], "the Secret of provider keys").keys)
        let metricsPort = try XCTUnwrap(config["METRICS_PORT"].flatMap(Int.init), "the ConfigMap sets METRICS_PORT")
        let partitions = try XCTUnwrap(config["PIPELINE_PARTITIONS"].flatMap(Int.init))
        for name in config.keys.sorted() + providerKeys.sorted() {
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
                    let args = container["args"] as? [String] ?? []
                    let executable = try XCTUnwrap(args.first, "\(file): the first argument picks the executable")
                    XCTAssertTrue(Self.executables.contains(executable), "\(file): no executable \(executable)")
                    let refs = container["envFrom"] as? [[String: Any]] ?? []
                    XCTAssertTrue(refs.contains { ($0["configMapRef"] as? [String: Any])?["name"] as? String != nil }, "\(file): env from the ConfigMap")
                    for variable in container["env"] as? [[String: Any]] ?? [] {
                        let name = try XCTUnwrap(variable["name"] as? String)
                        XCTAssertTrue(Self.isReadByTheCode(name), "\(file): \(name) is read nowhere")
                        if let ref = (variable["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any] {
                            XCTAssertEqual(ref["name"] as? String, Self.providerKeysSecret, file)
                            XCTAssertTrue(providerKeys.contains(ref["key"] as? String ?? ""), "\(file): secret key \(ref["key"] ?? "")")
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
                // The groups the stage's processes consume in (no namespace in production): its
                // phase's, and for the scoring stage the account heat aggregators'.
                let ownGroups = Topics().consumerGroups.filter { $0.service == target && $0.commitsOffsets }
                XCTAssertTrue(ownGroups.contains { $0.id == "stage.\(phase.rawValue)" }, file)
                var watched: Set<String> = []
                for trigger in triggers {
                    XCTAssertEqual(trigger["type"] as? String, "kafka", file)
                    let metadata = try XCTUnwrap(trigger["metadata"] as? [String: Any], file)
                    let group = try XCTUnwrap(metadata["consumerGroup"] as? String, file)
                    let topic = try XCTUnwrap(metadata["topic"] as? String, file)
                    XCTAssertTrue(ownGroups.contains { $0.id == group && $0.topics.contains(topic) }, "\(file): \(group) on \(topic) is not \(target)'s")
                    watched.insert("\(group) \(topic)")
                    XCTAssertNotNil((metadata["lagThreshold"] as? String).flatMap(Int.init), "\(file): lagThreshold")
                }
                let inputs = Set(ownGroups.flatMap { group in group.topics.map { "\(group.id) \($0)" } })
                XCTAssertEqual(watched, inputs, "\(file): every input of every group of \(target) scales it")
            default:
                break
            }
        }
        XCTAssertEqual(deployed, Self.executables.subtracting(["leadctl"]), "one Deployment per service")
        XCTAssertEqual(scaled, Set(Phase.allCases.map { "\($0.rawValue)-stage" }), "one ScaledObject per stage")
        XCTAssertTrue(hasTopicsJob, "a Job runs leadctl topics create")
    }

    /// Each service that calls providers starts with the environment the shipped manifests give
    /// its pod (the ConfigMap, its own variables and the provider keys' Secret, placeholders and
    /// all): it builds its providers as its `main.swift` does, and none stops on a key it does
    /// not use. (The Secret's placeholders once stopped the profile, activity and scoring stages
    /// and the profile finder with `PROVIDERS=simulated`.)
    func testEveryServiceBuildsItsProvidersFromTheShippedConfigMapAndSecret() throws {
        let documents = try Self.kubernetesDocuments()
        let config = try XCTUnwrap(documents.first { $0.document["kind"] as? String == "ConfigMap" }?.document["data"] as? [String: String])
        let keys = try XCTUnwrap(Self.documents("Secret", in: documents).first { Self.name(of: $0.document) == Self.providerKeysSecret }?
            .document["stringData"] as? [String: String])
        let starts: [String: (ProviderConfiguration, PipelineEnvironment) throws -> Void] = [
            "profile-stage": { _ = try $0.makeLinkedInProvider(environment: $1); _ = try $0.makeXProvider(environment: $1) },
            "activity-stage": { _ = try $0.makeActivityProvider(environment: $1) },
            "scoring-stage": { _ = try $0.makeModelScorer(environment: $1) },
            "profile-finder": { _ = try $0.makeProfileSearch(environment: $1, simulatedLatency: .zero) },
        ]
        let environment = try PipelineEnvironment(service: "test", environment: ["LOG_LEVEL": "error"])
        var started: Set<String> = []
        for (file, document) in Self.documents("Deployment", in: documents) {
            let pod = (((document["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]) ?? [:]
            for container in pod["containers"] as? [[String: Any]] ?? [] {
                guard let executable = (container["args"] as? [String])?.first, let start = starts[executable] else { continue }
                var variables = config
                for variable in container["env"] as? [[String: Any]] ?? [] {
                    let name = try XCTUnwrap(variable["name"] as? String, file)
                    if let value = variable["value"] as? String { variables[name] = value }
                    if let ref = (variable["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any] {
                        variables[name] = try XCTUnwrap(keys[ref["key"] as? String ?? ""], "\(file): \(name)")
                    }
                }
                XCTAssertNoThrow(try start(try ProviderConfiguration(environment: variables), environment), "\(file): \(executable)")
                started.insert(executable)
            }
        }
        XCTAssertEqual(started, Set(starts.keys), "a Deployment for each service that calls providers")
    }

    /// Every container runs the release of kustomization.yaml, never `latest`, and asks for the
    /// memory it was measured to need (requests ≤ limits, both set).
    func testKubernetesManifestsValidateAgainstTheKubernetesSchemas() throws {
        // kubernetes-validate (installed by Deploy/setup.sh into .tools/python) knows the core
        // kinds; for the custom resources it warns that it has no schema, and the tests above
        // check their required fields.
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.deploy.appendingPathComponent("k8s").path)
            .filter { $0.hasSuffix(".yaml") && $0 != "kustomization.yaml" }.sorted()
            .map { Self.deploy.appendingPathComponent("k8s/\($0)").path }
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = Self.root.appendingPathComponent(".tools/python").path
        let outcome = try runToEnd(URL(fileURLWithPath: "/usr/bin/python3"), ["-m", "kubernetes_validate", "--strict"] + files,
                                   environment: environment)
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let passed = outcome.output.split(separator: "\n").filter { $0.hasPrefix("INFO") && $0.contains(" passed ") }
        XCTAssertGreaterThanOrEqual(passed.count, 7 * 3, "a Deployment, a Service and a budget per process: \(outcome.output)")
        XCTAssertFalse(outcome.output.contains("ERROR"), outcome.output)
    }

    func testKubernetesImagesArePinnedAndResourcesSet() throws {
        XCTAssertFalse(Self.pipelineImage.hasSuffix(":latest") || Self.pipelineImage.hasSuffix(":no newTag"),
                       "kustomization.yaml pins a release: \(Self.pipelineImage)")
        XCTAssertEqual(Self.pipelineImage, "lead-pipeline:\(BuildInfo.version)", "the image tag is the version the binaries report")
        for (file, document) in try Self.kubernetesDocuments() where ["Deployment", "Job"].contains(document["kind"] as? String) {
            let pod = (((document["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]) ?? [:]
            for container in pod["containers"] as? [[String: Any]] ?? [] {
                XCTAssertEqual(container["image"] as? String, Self.pipelineImage, file)
                let resources = try XCTUnwrap(container["resources"] as? [String: Any], "\(file): resources")
                let requests = try XCTUnwrap(resources["requests"] as? [String: Any], "\(file): requests")
                let limits = try XCTUnwrap(resources["limits"] as? [String: Any], "\(file): limits")
                XCTAssertNotNil(requests["cpu"], "\(file): cpu request")
                XCTAssertNotNil(limits["cpu"], "\(file): cpu limit")
                let request = try XCTUnwrap((requests["memory"] as? String).flatMap(Self.bytes), "\(file): memory request")
                let limit = try XCTUnwrap((limits["memory"] as? String).flatMap(Self.bytes), "\(file): memory limit")
                XCTAssertLessThanOrEqual(request, limit, file)
            }
        }
        // A Job's pod template cannot change: the topics Job of a release is a Job of its own,
        // named with the tag, so applying the next release within the Job's TTL makes a new one
        // instead of failing with "field is immutable".
        let jobs = Self.documents("Job", in: try Self.kubernetesDocuments()).compactMap { Self.name(of: $0.document) }
        let release = BuildInfo.version.replacingOccurrences(of: ".", with: "-")
        XCTAssertEqual(jobs, ["lead-pipeline-topics-\(release)"])
    }

    /// Every pod passes the `restricted` Pod Security Standard's checks that the manifests
    /// decide (non-root, the runtime's seccomp profile, no privilege escalation, no
    /// capabilities), and a Deployment KEDA scales sets no replica count, which every
    /// `kubectl apply -k` would otherwise reset.
    func testPodsAreRestrictedAndKEDAOwnsTheStagesReplicaCounts() throws {
        let documents = try Self.kubernetesDocuments()
        let scaled = Set(Self.documents("ScaledObject", in: documents).compactMap { _, object in
            ((object["spec"] as? [String: Any])?["scaleTargetRef"] as? [String: Any])?["name"] as? String
        })
        for (file, document) in documents where ["Deployment", "Job"].contains(document["kind"] as? String) {
            let spec = document["spec"] as? [String: Any] ?? [:]
            if let name = Self.name(of: document), scaled.contains(name) {
                XCTAssertNil(spec["replicas"], "\(file): KEDA scales \(name); a replica count here resets it at every apply")
            }
            let pod = ((spec["template"] as? [String: Any])?["spec"] as? [String: Any]) ?? [:]
            let podSecurity = pod["securityContext"] as? [String: Any] ?? [:]
            XCTAssertEqual(podSecurity["runAsNonRoot"] as? Bool, true, file)
            XCTAssertEqual((podSecurity["seccompProfile"] as? [String: Any])?["type"] as? String, "RuntimeDefault", file)
            for container in pod["containers"] as? [[String: Any]] ?? [] {
                let security = container["securityContext"] as? [String: Any] ?? [:]
                XCTAssertEqual(security["allowPrivilegeEscalation"] as? Bool, false, "\(file): allowPrivilegeEscalation")
                XCTAssertEqual((security["capabilities"] as? [String: Any])?["drop"] as? [String], ["ALL"], "\(file): capabilities")
            }
        }
    }

    /// Each Deployment has a PodDisruptionBudget and a Service of its metrics port, and the
    /// ServiceMonitor selects every such Service and scrapes /metrics on it.
    func testEveryDeploymentHasADisruptionBudgetAServiceAndIsScraped() throws {
        let documents = try Self.kubernetesDocuments()
        let budgets = Self.documents("PodDisruptionBudget", in: documents)
        let services = Self.documents("Service", in: documents)
        let monitors = Self.documents("ServiceMonitor", in: documents)
        XCTAssertEqual(monitors.count, 1, "one ServiceMonitor")
        let monitor = try XCTUnwrap(monitors.first?.document["spec"] as? [String: Any], "ServiceMonitor spec")
        let monitorSelector = (monitor["selector"] as? [String: Any])?["matchLabels"] as? [String: Any]
        let endpoints = try XCTUnwrap(monitor["endpoints"] as? [[String: Any]], "ServiceMonitor endpoints")
        let scrapedPorts = Set(endpoints.filter { ($0["path"] as? String ?? "/metrics") == "/metrics" }.compactMap { $0["port"] as? String })

        let deployments = Self.documents("Deployment", in: documents)
        XCTAssertFalse(deployments.isEmpty)
        for (file, deployment) in deployments {
            let spec = try XCTUnwrap(deployment["spec"] as? [String: Any], file)
            let template = try XCTUnwrap(spec["template"] as? [String: Any], file)
            let podLabels = try XCTUnwrap((template["metadata"] as? [String: Any])?["labels"] as? [String: Any], file)
            let container = try XCTUnwrap(((template["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first, file)
            let metricsPort = try XCTUnwrap((container["ports"] as? [[String: Any]])?.first, "\(file): a metrics port")

            let budget = budgets.filter { Self.selects((($0.document["spec"] as? [String: Any])?["selector"] as? [String: Any])?["matchLabels"] as? [String: Any], podLabels) }
            XCTAssertEqual(budget.count, 1, "\(file): one PodDisruptionBudget selects its pods")
            if let budgetSpec = budget.first?.document["spec"] as? [String: Any] {
                XCTAssertTrue((budgetSpec["minAvailable"] == nil) != (budgetSpec["maxUnavailable"] == nil),
                              "\(file): the budget sets minAvailable or maxUnavailable")
            }

            let service = services.filter { Self.selects(($0.document["spec"] as? [String: Any])?["selector"] as? [String: Any], podLabels) }
            XCTAssertEqual(service.count, 1, "\(file): one Service selects its pods")
            guard let serviceDocument = service.first?.document else { continue }
            let ports = (serviceDocument["spec"] as? [String: Any])?["ports"] as? [[String: Any]] ?? []
            let exposed = ports.first { port in
                let target = port["targetPort"]
                return target as? String == metricsPort["name"] as? String || target as? Int == metricsPort["containerPort"] as? Int
            }
            XCTAssertNotNil(exposed, "\(file): the Service exposes the metrics port")
            XCTAssertTrue(scrapedPorts.contains(exposed?["name"] as? String ?? ""), "\(file): the ServiceMonitor scrapes the Service's metrics port")
            let serviceLabels = (serviceDocument["metadata"] as? [String: Any])?["labels"] as? [String: Any] ?? [:]
            XCTAssertTrue(Self.selects(monitorSelector, serviceLabels), "\(file): the ServiceMonitor selects its Service")
        }
    }

    /// The broker address is KAFKA_BOOTSTRAP_SERVERS of the ConfigMap and nowhere else; the Kafka
    /// credentials are the Secret lead-pipeline-kafka: a librdkafka properties file per pod (its own
    /// identity), mounted read-only, and KEDA's keys in the TriggerAuthentication every trigger uses.
    func testBrokerAddressAndKafkaAuthComeFromOnePlace() throws {
        let documents = try Self.kubernetesDocuments()
        let config = try XCTUnwrap(documents.first { $0.document["kind"] as? String == "ConfigMap" }?.document["data"] as? [String: String])
        let bootstrap = try XCTUnwrap(config[KafkaConfiguration.Variable.bootstrapServers], "the ConfigMap sets the broker address")
        let propertiesFile = try XCTUnwrap(config[KafkaConfiguration.Variable.propertiesFile], "the ConfigMap names the properties file")
        let propertiesFolder = URL(fileURLWithPath: propertiesFile).deletingLastPathComponent().path

        let secret = try XCTUnwrap(Self.documents("Secret", in: documents).first { Self.name(of: $0.document) == Self.kafkaSecret }?.document,
                                   "the Secret \(Self.kafkaSecret)")
        let secretData = try XCTUnwrap(secret["stringData"] as? [String: String], "\(Self.kafkaSecret): stringData")
        let fileName = URL(fileURLWithPath: propertiesFile).lastPathComponent

        // The TriggerAuthentication: its required fields, and keys that exist in the Secret.
        let authentications = Self.documents("TriggerAuthentication", in: documents)
        XCTAssertEqual(authentications.count, 1, "one TriggerAuthentication")
        let authentication = try XCTUnwrap(authentications.first?.document)
        let authenticationName = try XCTUnwrap(Self.name(of: authentication), "TriggerAuthentication metadata.name")
        let targets = try XCTUnwrap((authentication["spec"] as? [String: Any])?["secretTargetRef"] as? [[String: String]], "secretTargetRef")
        let kafkaParameters: Set<String> = ["sasl", "tls", "username", "password", "ca", "cert", "key", "keyPassword"]
        for target in targets {
            let parameter = try XCTUnwrap(target["parameter"], "secretTargetRef parameter")
            XCTAssertTrue(kafkaParameters.contains(parameter), "\(parameter) is no parameter of KEDA's kafka scaler")
            XCTAssertEqual(target["name"], Self.kafkaSecret, parameter)
            XCTAssertNotNil(secretData[target["key"] ?? ""], "\(parameter): \(Self.kafkaSecret) has no key \(target["key"] ?? "")")
        }
        XCTAssertTrue(Set(targets.compactMap { $0["parameter"] }).isSuperset(of: ["sasl", "tls", "username", "password"]))

        var triggers = 0
        for (file, scaledObject) in Self.documents("ScaledObject", in: documents) {
            for trigger in ((scaledObject["spec"] as? [String: Any])?["triggers"] as? [[String: Any]]) ?? [] {
                triggers += 1
                XCTAssertEqual((trigger["authenticationRef"] as? [String: Any])?["name"] as? String, authenticationName, "\(file): authenticationRef")
                let metadata = trigger["metadata"] as? [String: Any] ?? [:]
                XCTAssertNil(metadata["bootstrapServers"], "\(file): a literal broker address")
                XCTAssertEqual(metadata["bootstrapServersFromEnv"] as? String, KafkaConfiguration.Variable.bootstrapServers, file)
            }
        }
        XCTAssertGreaterThan(triggers, 0)

        // No other manifest names the broker.
        for (file, document) in documents where document["kind"] as? String != "ConfigMap" {
            let text = String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
            XCTAssertFalse(text.contains(bootstrap), "\(file) names the broker \(bootstrap)")
        }

        // Every pod that talks to Kafka mounts, read-only where KAFKA_PROPERTIES_FILE points, its own
        // properties file of the Secret: one that librdkafka accepts and that agrees with KEDA's keys.
        var identities: [String: String] = [:]
        for (file, document) in documents where ["Deployment", "Job"].contains(document["kind"] as? String) {
            let pod = (((document["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]) ?? [:]
            let volumes = pod["volumes"] as? [[String: Any]] ?? []
            for container in pod["containers"] as? [[String: Any]] ?? [] {
                let mounts = container["volumeMounts"] as? [[String: Any]] ?? []
                let mount = try XCTUnwrap(mounts.first { $0["mountPath"] as? String == propertiesFolder },
                                          "\(file): nothing mounted at \(propertiesFolder)")
                XCTAssertEqual(mount["readOnly"] as? Bool, true, "\(file): the Kafka Secret is mounted read-only")
                let volume = try XCTUnwrap(volumes.first { $0["name"] as? String == mount["name"] as? String }?["secret"] as? [String: Any],
                                           "\(file): the mounted volume is a Secret")
                XCTAssertEqual(volume["secretName"] as? String, Self.kafkaSecret, "\(file): the mounted Secret")
                let items = try XCTUnwrap(volume["items"] as? [[String: String]], "\(file): only its own keys are mounted")
                let key = try XCTUnwrap(items.first { $0["path"] == fileName }?["key"], "\(file): no key mounted as \(fileName)")
                let properties = try XCTUnwrap(secretData[key], "\(file): \(Self.kafkaSecret) has no key \(key)")
                XCTAssertNil(identities.updateValue(file, forKey: key), "\(file) shares \(key) with \(identities[key] ?? "")")
                for item in items {
                    XCTAssertNotNil(secretData[item["key"] ?? ""], "\(file): \(Self.kafkaSecret) has no key \(item["key"] ?? "")")
                }

                // The file as the service reads it: parsed, and every key and value checked by librdkafka.
                let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-\(UUID().uuidString).properties")
                try properties.write(to: scratch, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: scratch) }
                let parsed: [String: String]
                do {
                    parsed = try KafkaConfiguration(environment: [KafkaConfiguration.Variable.propertiesFile: scratch.path],
                                                    defaultClientID: "deploy-test").properties
                } catch {
                    XCTFail("\(file): \(key): \(error)")
                    continue
                }
                XCTAssertEqual(Self.disagreements(keda: secretData, properties: parsed), [], "\(file): KEDA's keys and \(key) agree")
            }
        }
        XCTAssertGreaterThan(identities.count, 1)
    }

    func testKafkaAuthDisagreementsAreFound() {
        let sasl = ["security.protocol": "sasl_ssl", "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "pipeline", "sasl.password": "p"]
        XCTAssertEqual(Self.disagreements(keda: ["sasl": "scram_sha512", "tls": "enable", "username": "pipeline", "password": "p"],
                                          properties: sasl), [])
        XCTAssertEqual(Self.disagreements(keda: ["sasl": "scram_sha256", "tls": "enable"], properties: sasl).count, 1, "mechanism")
        XCTAssertEqual(Self.disagreements(keda: ["sasl": "none", "tls": "disable"], properties: sasl).count, 2, "no SASL, no TLS")
        XCTAssertEqual(Self.disagreements(keda: ["sasl": "none", "tls": "disable"], properties: [:]), [], "plaintext both")
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
        XCTAssertNotNil((broker["healthcheck"] as? [String: Any])?["test"], "the broker has a health check")
        // The broker's data on a named volume, where its log.dirs points.
        let volumes = compose["volumes"] as? [String: Any] ?? [:]
        let dataDirectory = try XCTUnwrap(brokerEnvironment["KAFKA_LOG_DIRS"] as? String, "the broker's data directory is set")
        let dataVolume = (broker["volumes"] as? [String] ?? []).first { $0.hasSuffix(":" + dataDirectory) }
        let volumeName = try XCTUnwrap(dataVolume?.split(separator: ":").first.map(String.init), "a volume at \(dataDirectory)")
        XCTAssertTrue(volumes.keys.contains(volumeName), "\(volumeName) is a named volume")
        let brokerName = try XCTUnwrap(services.first { $0.value["image"] as? String == broker["image"] as? String }?.key)

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
            let dependencies = service["depends_on"] as? [String: [String: Any]] ?? [:]
            XCTAssertEqual(dependencies[brokerName]?["condition"] as? String, "service_healthy", "\(name): waits for a healthy broker")
            // The long-running services (not one-shot commands or the tools profile) report /readyz.
            guard service["restart"] != nil, service["profiles"] == nil else { continue }
            let check = try XCTUnwrap((service["healthcheck"] as? [String: Any])?["test"] as? [String], "\(name): a health check")
            let probe = check.joined(separator: " ")
            XCTAssertTrue(probe.contains("/readyz") && probe.contains("/\(metricsPort ?? 0)"), "\(name): asks /readyz on the metrics port")
            XCTAssertFalse(probe.contains("curl") || probe.contains("wget"), "\(name): the runtime image has neither curl nor wget")
            XCTAssertEqual(dependencies["topics"]?["condition"] as? String, "service_completed_successfully", "\(name): after the topics exist")
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
        // Not on an older toolchain than the one the tests are built with.
        let image = arguments["SWIFT_IMAGE"]?.dropFirst("swift:".count).split(separator: "-").first ?? ""
        let imageVersion = image.split(separator: ".").compactMap { Int($0) }
        #if compiler(>=6.3)
        XCTAssertFalse(imageVersion.lexicographicallyPrecedes([6, 3]), "SWIFT_IMAGE \(image) is older than the tested toolchain")
        #endif
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
        // Compose's health checks rely on this: the runtime stage installs neither curl nor wget, bash is in the base.
        let runtime = try XCTUnwrap(instructions.split { $0.hasPrefix("FROM ") }.last)
        XCTAssertFalse(runtime.contains { $0.contains(" curl ") || $0.contains(" wget ") }, "the runtime stage installs curl or wget")

        // `swift build` builds only the last of several `--product` options, so each product is
        // built by a command of its own.
        let build = try XCTUnwrap(instructions.first { $0.contains("swift build") })
        let builds = build.components(separatedBy: "swift build").dropFirst()
        var built: Set<String> = []
        for command in builds {
            XCTAssertTrue(command.contains("-c release") && command.contains("--static-swift-stdlib"), command)
            let products = Self.matches(of: #"--product ([a-z-]+)"#, in: command)
            XCTAssertLessThanOrEqual(products.count, 1, "swift build builds only the last of \(products)")
            built.formUnion(products)
        }
        for executable in Self.executables {
            XCTAssertTrue(built.contains(executable), "\(executable) is not built")
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
