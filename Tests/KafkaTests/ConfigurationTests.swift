import Foundation
import Kafka
import XCTest

/// Configuration is pure logic: no broker needed.
final class ConfigurationTests: XCTestCase {
    func testDefaultsFromEmptyEnvironment() throws {
        let configuration = try KafkaConfiguration(environment: [:], defaultClientID: "profile-stage")
        XCTAssertEqual(configuration.bootstrapServers, "127.0.0.1:9092")
        XCTAssertEqual(configuration.clientID, "profile-stage")
        XCTAssertNil(configuration.groupID)
        XCTAssertEqual(configuration.properties, [:])
    }

    func testTypedSettingsAndPropertyPrefix() throws {
        let configuration = try KafkaConfiguration(environment: [
            "KAFKA_BOOTSTRAP_SERVERS": "kafka-0:9092,kafka-1:9092",
            "KAFKA_CLIENT_ID": "stage-7",
            "KAFKA_GROUP_ID": "custom-group",
            "KAFKA_PROPERTY_SOCKET_KEEPALIVE_ENABLE": "true",
            "KAFKA_PROPERTY_COMPRESSION_CODEC": "lz4",
            "KAFKA_PROPERTY_LOG__LEVEL": "3",
            "UNRELATED": "x",
        ], defaultClientID: "ignored")
        XCTAssertEqual(configuration.bootstrapServers, "kafka-0:9092,kafka-1:9092")
        XCTAssertEqual(configuration.clientID, "stage-7")
        XCTAssertEqual(configuration.groupID, "custom-group")
        XCTAssertEqual(configuration.properties, ["socket.keepalive.enable": "true", "compression.codec": "lz4", "log_level": "3"])
    }

    func testUnknownKeyFailsWithItsName() {
        XCTAssertThrowsError(try KafkaConfiguration(
            environment: ["KAFKA_PROPERTY_NO_SUCH_SETTING": "1"], defaultClientID: "x")) { error in
            XCTAssertTrue("\(error)".contains("no.such.setting"), "\(error)")
        }
    }

    func testBadValueFailsWithItsName() {
        XCTAssertThrowsError(try KafkaConfiguration(
            environment: ["KAFKA_PROPERTY_LINGER_MS": "soon"], defaultClientID: "x")) { error in
            XCTAssertTrue("\(error)".contains("linger.ms"), "\(error)")
        }
    }

    func testPropertiesFileAppliesAndEnvironmentWins() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-\(UUID()).properties")
        try """
        # SASL settings as they would be mounted from a secret
        security.protocol = sasl_plaintext
        sasl.mechanisms=PLAIN
        sasl.username=svc
        sasl.password=s3cret=with=equals

        linger.ms=5
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let configuration = try KafkaConfiguration(environment: [
            "KAFKA_PROPERTIES_FILE": file.path,
            "KAFKA_PROPERTY_LINGER_MS": "20",
        ], defaultClientID: "x")
        XCTAssertEqual(configuration.properties["security.protocol"], "sasl_plaintext")
        XCTAssertEqual(configuration.properties["sasl.password"], "s3cret=with=equals")
        XCTAssertEqual(configuration.properties["linger.ms"], "20")
        XCTAssertEqual(configuration.redactedProperties["sasl.password"], "[redacted]")
        XCTAssertEqual(configuration.redactedProperties["sasl.username"], "svc")
    }

    /// A properties file saved with Windows line endings (a secret written from Windows) is read
    /// line by line, not as one line whose first value runs to the end of the file.
    func testPropertiesFileWithWindowsLineEndings() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-\(UUID()).properties")
        try "# mounted secret\r\nsecurity.protocol=sasl_plaintext\r\nsasl.username=svc\r\n\r\nlinger.ms=5\r\n"
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let configuration = try KafkaConfiguration(environment: ["KAFKA_PROPERTIES_FILE": file.path], defaultClientID: "x")
        XCTAssertEqual(configuration.properties["security.protocol"], "sasl_plaintext")
        XCTAssertEqual(configuration.properties["sasl.username"], "svc")
        XCTAssertEqual(configuration.properties["linger.ms"], "5")
    }

    func testEveryKeyThatCanHoldASecretIsRedacted() {
        let secrets = ["sasl.password", "sasl.oauthbearer.config", "sasl.oauthbearer.client.secret",
                       "sasl.oauthbearer.extensions", "sasl.kerberos.keytab", "sasl.jaas.config", "ssl.key.password",
                       "ssl.key.pem", "ssl.keystore.password", "ssl_key", "ssl.truststore.password"]
        let plain = ["sasl.mechanism", "sasl.mechanisms", "sasl.username", "security.protocol", "linger.ms", "ssl.ca.location"]
        var configuration = KafkaConfiguration(bootstrapServers: "b:9092", clientID: "c")
        for key in secrets + plain { configuration.properties[key] = "value-of-\(key)" }
        let redacted = configuration.redactedProperties
        for key in secrets { XCTAssertEqual(redacted[key], "[redacted]", key) }
        for key in plain { XCTAssertEqual(redacted[key], "value-of-\(key)", key) }
    }

    func testMalformedPropertiesFileNamesTheLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-\(UUID()).properties")
        try "linger.ms=5\nthis line has no equals sign\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try KafkaConfiguration(environment: ["KAFKA_PROPERTIES_FILE": file.path], defaultClientID: "x")) { error in
            XCTAssertTrue("\(error)".contains(":2:"), "\(error)")
        }
    }

    func testMissingPropertiesFileNamesTheVariable() {
        XCTAssertThrowsError(try KafkaConfiguration(
            environment: ["KAFKA_PROPERTIES_FILE": "/nonexistent/kafka.properties"], defaultClientID: "x")) { error in
            XCTAssertTrue("\(error)".contains("KAFKA_PROPERTIES_FILE"), "\(error)")
        }
    }
}
