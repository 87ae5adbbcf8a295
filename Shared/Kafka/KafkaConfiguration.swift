import CRdKafka
import Foundation
import Runtime

/// Connection settings shared by producers, consumers and admin clients.
///
/// Typed settings cover what every service sets; ``properties`` passes any other librdkafka
/// property through untouched (security.protocol, sasl.*, ssl.*, compression, …), so a production
/// cluster needs configuration, not code. Every key is checked against librdkafka when a client
/// is built, and an unknown key or bad value fails with the key's name.
public struct KafkaConfiguration: Sendable, Equatable {
    /// `bootstrap.servers`: comma-separated host:port list.
    public var bootstrapServers: String
    /// `client.id`: names this process in broker logs and quotas.
    public var clientID: String
    /// A consumer group id read from the environment (`KAFKA_GROUP_ID`); services choose their
    /// own when it is absent.
    public var groupID: String?
    /// librdkafka properties applied after this library's defaults, so they win.
    public var properties: [String: String]
    /// Given to every producer and group consumer built from this configuration: each then
    /// reports librdkafka's statistics here every `statistics.interval.ms` (default
    /// ``KafkaStatistics/defaultIntervalMilliseconds``; the properties may set another, 0 turns
    /// them off). Not part of equality.
    public var statisticsObserver: KafkaStatisticsObserver?

    public init(bootstrapServers: String, clientID: String, groupID: String? = nil,
                properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.groupID = groupID
        self.properties = properties
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.bootstrapServers == rhs.bootstrapServers && lhs.clientID == rhs.clientID && lhs.groupID == rhs.groupID
            && lhs.properties == rhs.properties
    }

    /// Environment variable names this type reads.
    public enum Variable {
        /// Bootstrap servers; default `127.0.0.1:9092`.
        public static let bootstrapServers = "KAFKA_BOOTSTRAP_SERVERS"
        /// Client id; defaults to the service's name.
        public static let clientID = "KAFKA_CLIENT_ID"
        /// Overrides the consumer group a service uses.
        public static let groupID = "KAFKA_GROUP_ID"
        /// A Java-style properties file (`key=value` lines, `#` comments) of librdkafka
        /// properties; the place for secrets mounted as files.
        public static let propertiesFile = "KAFKA_PROPERTIES_FILE"
        /// Prefix of single librdkafka properties: `KAFKA_PROPERTY_SECURITY_PROTOCOL=sasl_ssl`
        /// sets `security.protocol`. The rest of the name is lower-cased, `__` becomes `_` and
        /// `_` becomes `.` (`KAFKA_PROPERTY_LOG__LEVEL` sets `log_level`).
        public static let propertyPrefix = "KAFKA_PROPERTY_"
    }

    /// Reads the configuration from environment variables (see ``Variable``).
    ///
    /// Properties from the file are applied first, then `KAFKA_PROPERTY_*` variables.
    /// - Throws: ``KafkaError`` naming the variable or key that is wrong.
    public init(environment: [String: String], defaultClientID: String) throws {
        let servers = environment[Variable.bootstrapServers].map(Self.trimmed) ?? ""
        self.bootstrapServers = servers.isEmpty ? "127.0.0.1:9092" : servers
        let client = environment[Variable.clientID].map(Self.trimmed) ?? ""
        self.clientID = client.isEmpty ? defaultClientID : client
        let group = environment[Variable.groupID].map(Self.trimmed) ?? ""
        self.groupID = group.isEmpty ? nil : group
        var properties: [String: String] = [:]
        if let path = environment[Variable.propertiesFile], !path.isEmpty {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw KafkaError.configuration(
                    key: Variable.propertiesFile, "cannot read '\(path)': \(error.localizedDescription)")
            }
            properties = try Self.parseProperties(text, source: path)
        }
        for (name, value) in environment where name.hasPrefix(Variable.propertyPrefix) {
            let key = Self.propertyKey(fromVariableSuffix: String(name.dropFirst(Variable.propertyPrefix.count)))
            guard !key.isEmpty else {
                throw KafkaError.configuration(key: name, "names no property")
            }
            properties[key] = value
        }
        self.properties = properties
        try validate()
    }

    /// `SECURITY_PROTOCOL` → `security.protocol`; `LOG__LEVEL` → `log_level`.
    static func propertyKey(fromVariableSuffix suffix: String) -> String {
        suffix.lowercased().components(separatedBy: "__")
            .map { $0.replacingOccurrences(of: "_", with: ".") }
            .joined(separator: "_")
    }

    /// Parses `key=value` lines; blank lines and lines starting with `#` or `!` are skipped.
    static func parseProperties(_ text: String, source: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for (index, rawLine) in textLines(text).enumerated() {
            let line = trimmed(rawLine)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw KafkaError.configuration(
                    key: Variable.propertiesFile, "\(source):\(index + 1): expected key=value")
            }
            result[trimmed(String(line[..<eq]))] = trimmed(String(line[line.index(after: eq)...]))
        }
        return result
    }

    /// Checks every key and value against librdkafka without connecting.
    public func validate() throws {
        let conf = try makeConf(defaults: [:], overrides: [:])
        rd_kafka_conf_destroy(conf)
    }

    /// A description safe for logs: values of keys that may hold secrets are replaced.
    public var redactedProperties: [String: String] {
        properties.reduce(into: [:]) { result, entry in
            result[entry.key] = Self.mayHoldSecret(entry.key) ? "[redacted]" : entry.value
        }
    }

    /// Whether a librdkafka property's value may be a secret: every `sasl.*` key but the
    /// mechanism and the user name (`sasl.password`, `sasl.oauthbearer.config`,
    /// `sasl.oauthbearer.client.secret`, `sasl.kerberos.keytab`, ...), and any key naming a
    /// password, secret, key, token, credential or JAAS config (`ssl.key.password`,
    /// `ssl.key.pem`, `ssl.keystore.password`, ...). Errs towards hiding.
    static func mayHoldSecret(_ key: String) -> Bool {
        let key = key.lowercased()
        if key.hasPrefix("sasl.") && !["sasl.mechanism", "sasl.mechanisms", "sasl.username"].contains(key) { return true }
        return ["password", "secret", "key", "token", "credential", "jaas"].contains { key.contains($0) }
    }

    /// Builds a librdkafka configuration: `defaults`, then the typed settings, then
    /// ``properties``, then `overrides` (settings the calling client cannot work without).
    /// The caller owns the returned handle.
    func makeConf(defaults: [String: String], overrides: [String: String]) throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        do {
            var all = defaults
            all["bootstrap.servers"] = bootstrapServers
            all["client.id"] = clientID
            all.merge(properties) { _, new in new }
            all.merge(overrides) { _, new in new }
            for (key, value) in all.sorted(by: { $0.key < $1.key }) {
                try Self.set(conf, key, value)
            }
            // librdkafka's log lines become JSON lines like the services' own.
            rd_kafka_conf_set_log_cb(conf, logCallback)
            return conf
        } catch {
            rd_kafka_conf_destroy(conf)
            throw error
        }
    }

    static func set(_ conf: OpaquePointer, _ key: String, _ value: String) throws {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
        guard result == RD_KAFKA_CONF_OK else {
            throw KafkaError.configuration(key: key, string(fromCBuffer: errstr))
        }
    }

    private static func trimmed(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
