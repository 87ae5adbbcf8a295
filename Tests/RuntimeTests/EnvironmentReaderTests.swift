import Runtime
import XCTest

/// The one environment reader: defaults when unset, the value when allowed, and an error naming
/// the variable and what is allowed otherwise; never a silent default. No broker.
final class EnvironmentReaderTests: XCTestCase {
    /// The variable named by the error `body` throws, or nil when it throws none or another.
    private func failingVariable<T>(_ body: () throws -> T) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? ConfigurationError)?.variable
        }
    }

    func testUnsetOrBlankGivesTheDefault() throws {
        let reader = EnvironmentReader(["BLANK": "  "])
        for name in ["UNSET", "BLANK"] {
            XCTAssertNil(reader.string(name))
            XCTAssertFalse(reader.isSet(name))
            XCTAssertEqual(try reader.integer(name, default: 7, range: 1...10), 7)
            XCTAssertNil(try reader.integer(name, range: 1...10))
            XCTAssertEqual(try reader.decimal(name, default: 0.5, range: 0...1), 0.5)
            XCTAssertEqual(try reader.boolean(name, default: true), true)
            XCTAssertEqual(try reader.choice(name, default: LogLevel.warning, named: \.name), .warning)
            XCTAssertEqual(try reader.seconds(name, default: .seconds(3), range: 0...10), .seconds(3))
        }
    }

    func testAllowedValuesAreRead() throws {
        let reader = EnvironmentReader(["N": " 42 ", "D": "0.25", "B": "TRUE", "B0": "0", "L": "Error", "S": "1.5", "T": " text "])
        XCTAssertEqual(reader.string("T"), "text")
        XCTAssertEqual(try reader.integer("N", default: 0, range: 0...100), 42)
        XCTAssertEqual(try reader.decimal("D", default: 0, range: 0...1), 0.25)
        XCTAssertEqual(try reader.boolean("B", default: false), true)
        XCTAssertEqual(try reader.boolean("B0", default: true), false)
        XCTAssertEqual(try reader.choice("L", default: LogLevel.info, named: \.name), .error)
        XCTAssertEqual(try reader.seconds("S", default: .zero, range: 0...10), .milliseconds(1500))
    }

    func testWrongValuesThrowNamingTheVariableAndWhatIsAllowed() {
        let reader = EnvironmentReader(["N": "4.5", "BIG": "101", "D": "NaN", "INF": "inf", "B": "yes", "L": "verbose", "S": "-3"])
        XCTAssertEqual(failingVariable { try reader.integer("N", default: 0, range: 0...100) }, "N")
        XCTAssertEqual(failingVariable { try reader.integer("BIG", default: 0, range: 0...100) }, "BIG")
        XCTAssertEqual(failingVariable { try reader.decimal("D", default: 0, range: 0...1) }, "D")
        XCTAssertEqual(failingVariable { try reader.decimal("INF", default: 0, range: 0...Double.infinity) }, "INF")
        XCTAssertEqual(failingVariable { try reader.boolean("B", default: false) }, "B")
        XCTAssertEqual(failingVariable { try reader.seconds("S", default: .zero, range: 0...10) }, "S")
        do {
            _ = try reader.choice("L", default: LogLevel.info, named: \.name)
            XCTFail("verbose is no level")
        } catch {
            XCTAssertEqual(error.description, "L: 'verbose' is not debug, info, warning or error")
        }
        XCTAssertThrowsError(try reader.integer("BIG", default: 0, range: 0...100)) { error in
            XCTAssertEqual("\(error)", "BIG: '101' is not a whole number in 0...100")
        }
    }

    // The three values that used to be replaced by defaults without a word.

    func testUnknownLogLevelFails() {
        XCTAssertEqual(failingVariable { try Logger(service: "x", environment: ["LOG_LEVEL": "verbose"]) }, "LOG_LEVEL")
        XCTAssertEqual(failingVariable { try ProcessSettings(environment: ["LOG_LEVEL": "verbose"]) }, "LOG_LEVEL")
    }

    func testNegativeShutdownTimeoutFails() {
        XCTAssertEqual(failingVariable { try ProcessSettings(environment: ["SHUTDOWN_TIMEOUT_SECONDS": "-3"]) }, "SHUTDOWN_TIMEOUT_SECONDS")
    }

    func testBadHeapTrimIntervalFails() {
        for bad in ["often", "-1", "1e9"] {
            XCTAssertEqual(failingVariable { try ProcessSettings(environment: ["HEAP_TRIM_INTERVAL_SECONDS": bad]) },
                           "HEAP_TRIM_INTERVAL_SECONDS", bad)
            XCTAssertEqual(failingVariable { try HeapTrimmer.start(environment: ["HEAP_TRIM_INTERVAL_SECONDS": bad]) },
                           "HEAP_TRIM_INTERVAL_SECONDS", bad)
        }
    }

    func testBadMetricsSettingsFail() {
        XCTAssertEqual(failingVariable { try ProcessSettings(environment: ["METRICS_PORT": "http"]) }, "METRICS_PORT")
        for bad in ["all", "010.0.0.1", "+1.2.3.4", "1.2.3", "256.0.0.1"] {
            XCTAssertEqual(failingVariable { try ProcessSettings(environment: ["METRICS_BIND_ADDRESS": bad]) }, "METRICS_BIND_ADDRESS", bad)
        }
    }

    func testProcessSettingsFromEnvironment() throws {
        XCTAssertEqual(try ProcessSettings(environment: [:]), ProcessSettings())
        let settings = try ProcessSettings(environment: [
            "LOG_LEVEL": "warning", "SHUTDOWN_TIMEOUT_SECONDS": "30", "HEAP_TRIM_INTERVAL_SECONDS": "0",
            "METRICS_PORT": "9090", "METRICS_BIND_ADDRESS": "0.0.0.0",
        ])
        XCTAssertEqual(settings, ProcessSettings(logLevel: .warning, shutdownTimeout: .seconds(30), heapTrimInterval: nil,
                                                 metrics: MetricsSettings(port: 9090, bindAddress: "0.0.0.0")))
        XCTAssertEqual(settings.logFields["metrics"], "0.0.0.0:9090")
        XCTAssertEqual(settings.logFields["heapTrimInterval"], "off")
    }
}
