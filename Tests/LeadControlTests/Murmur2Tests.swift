import Kafka
import LeadControl
import XCTest

/// murmur2 against the Java client's published outputs (`UtilsTest.testMurmur2`).
final class Murmur2Tests: XCTestCase {
    func testKnownValues() {
        let cases: [(String, Int32)] = [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("", 275_646_681),
            // One, two and three trailing bytes after the 4-byte blocks.
            ("a", -1_563_381_124),
            ("ab", 316_155_434),
            ("abc", 479_470_107),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(KafkaPartitioner.murmur2(Array(text.utf8)), expected, text)
        }
    }

    func testPartitionIsPositiveModuloCount() {
        // murmur2("21") is negative: the sign bit is masked, not abs()'d.
        let expected = Int32((Int(-973_932_308 as Int32) & 0x7fff_ffff) % 12)
        XCTAssertEqual(KafkaPartitioner.partition(forKey: "21", partitionCount: 12), expected)
        for key in ["lead-1", "lead-2", "", "ünïcödé"] {
            let partition = KafkaPartitioner.partition(forKey: key, partitionCount: 7)
            XCTAssertTrue((0..<7).contains(partition), key)
        }
        XCTAssertEqual(KafkaPartitioner.partition(forKey: "anything", partitionCount: 1), 0)
    }
}
