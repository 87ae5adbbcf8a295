import Foundation
import Kafka
import LeadModel
import Runtime
import Streaming
import XCTest

/// The kind every dead letter is counted under, from the sentences this project's errors write.
final class DeadLetterKindTests: XCTestCase {
    func testEachErrorOfTheCodecAndTheCoordinatorHasItsKind() {
        let cases: [(String, DeadLetterKind)] = [
            (DecodeError.oversized(bytes: 2_000_000, limit: 1_000_000).description, .tooLarge),
            ("output to phase.results refused: MSG_SIZE_TOO_LARGE (10): Broker: Message size too large", .tooLarge),
            (DecodeError.malformedJSON("unexpected end of input at byte 12").description, .malformed),
            (DecodeError.notAnObject.description, .malformed),
            (DecodeError.duplicateKey("name", object: "(record)").description, .malformed),
            (DecodeError.missingSchema.description, .schema),
            (DecodeError.wrongSchema(expected: "lead.discovered", found: "offer.config").description, .schema),
            (DecodeError.unsupportedVersion(schema: "lead.discovered", version: 9, supported: 1...1).description, .schema),
            (DecodeError.missingField("leadID").description, .invalid),
            (DecodeError.wrongType(field: "name", expected: "a string").description, .invalid),
            (DecodeError.invalidValue(field: "mode", reason: "unknown mode 'fast'").description, .invalid),
            (DecodeError.tooLong(field: "name", length: 5_000, limit: 200).description, .invalid),
            ("unknown account 'acct-never': publish its account.config first (waited 30 s)", .unknownConfiguration),
            ("offer 'offer-wide': its configuration was published but refused when read (invalid content: icp.industries holds "
                + "6000 entries; an offer's list holds at most 5000); publish it again within the bounds (leadctl offer put checks "
                + "them) (waited 30 s)", .unknownConfiguration),
            (StageRunner.timedOutReason(after: .seconds(600)), .timedOut),
            ("request for phase scoring on the activity stage's topic", .other),
        ]
        for (reason, kind) in cases {
            XCTAssertEqual(DeadLetterKind(reason: reason), kind, reason)
        }
    }

    func testEveryDeadLetterNamesItsKindInAHeader() throws {
        let codec = MessageCodec()
        let input = ConsumerRecord(topic: "leads.discovered", partition: 0, offset: 7, key: Array("lead-1".utf8),
                                   value: Array("{".utf8), headers: [])
        let letter = codec.deadLetter(for: input, reason: DecodeError.malformedJSON("truncated").description, service: "coordinator",
                                      topics: Topics(namespace: nil))
        XCTAssertEqual(letter.headers.first { $0.key == DeadLetterKind.header }.map { String(decoding: $0.value, as: UTF8.self) },
                       "malformed")
        let registry = MetricsRegistry()
        DeadLetterKind.registerAtZero(in: registry)
        DeadLetterKind.count([letter, ProducerRecord(topic: "lead.state", key: "lead-1", value: [])], in: registry)
        XCTAssertEqual(registry.value(MetricNames.deadLetters, ["reason": "malformed"]), 1)
        XCTAssertEqual(registry.value(MetricNames.deadLetters, ["reason": "schema"]), 0)
    }
}
