import Foundation
import KafkaTestSupport
import XCTest

/// The ports the tests give their services: free, and below the kernel's ephemeral range, which
/// other processes' outgoing connections take from at any moment. No broker.
final class FreePortTests: XCTestCase {
    func testAFreePortIsBelowTheEphemeralRangeAndCanBeBound() throws {
        let ephemeral = TestBroker.ephemeralPortRange()
        try XCTSkipIf(ephemeral.lowerBound < 11_000, "no room below the ephemeral range (\(ephemeral))")
        for _ in 0..<20 {
            let port = TestBroker.freeLoopbackPort()
            XCTAssertTrue((10_000..<ephemeral.lowerBound).contains(port), "port \(port), ephemeral \(ephemeral)")
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            XCTAssertEqual(bound, 0, "port \(port) could not be bound")
        }
    }
}
