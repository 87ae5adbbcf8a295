import Foundation
import Kafka
import LeadModel
import Streaming
import XCTest

/// A consumed record is decoded with its schema and version headers checked against its value,
/// as ``MessageCodec/decode(_:from:headers:)`` checks a dictionary of all its headers.
final class RecordDecodingTests: XCTestCase {
    private let codec = MessageCodec()

    private func record(_ headers: [(String, String)]) throws -> ConsumerRecord {
        let lead = LeadDiscovered(
            leadID: "lead-1", accountID: "acct-1", offerID: "offer-1", sourceSearchID: "search-1", source: .keywordSearch,
            name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe", discoveredAt: Date(timeIntervalSince1970: 1_750_000_000))
        return ConsumerRecord(topic: "leads.discovered", partition: 0, offset: 0, key: Array("lead-1".utf8),
                              value: try codec.encode(lead), headers: headers.map { KafkaHeader(key: $0.0, string: $0.1) })
    }

    private func error(_ headers: [(String, String)]) throws -> DecodeError? {
        let record = try record(headers)
        do {
            _ = try codec.decode(LeadDiscovered.self, record: record)
            return nil
        } catch {
            return error
        }
    }

    func testTheSchemaHeadersAreCheckedAndOthersIgnored() throws {
        let schema = MessageHeaders.schema
        let version = MessageHeaders.version
        for accepted in [[], [(schema, "lead.discovered"), (version, "1")], [("trace", "x"), (schema, "lead.discovered")],
                         [(version, "1"), ("other", "phase.result")], [(schema, "phase.result"), (schema, "lead.discovered")]] {
            XCTAssertNil(try error(accepted), "\(accepted)")
        }
        XCTAssertEqual(try error([(schema, "phase.result")]),
                       .headerMismatch(header: schema, headerValue: "phase.result", valueInRecord: "lead.discovered"))
        XCTAssertEqual(try error([(schema, "lead.discovered"), (version, "2")]),
                       .headerMismatch(header: version, headerValue: "2", valueInRecord: "1"))
        XCTAssertEqual(try error([(schema, "lead.discovered"), (schema, "phase.result")]),
                       .headerMismatch(header: schema, headerValue: "phase.result", valueInRecord: "lead.discovered"), "the last of a name counts")
    }
}
