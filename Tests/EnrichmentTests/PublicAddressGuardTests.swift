@testable import Enrichment
import Foundation
import XCTest

final class PublicAddressGuardTests: XCTestCase {
    func testNonPublicAddressesAreRecognised() {
        let nonPublic = [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
            "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fd00::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1",
            "::ffff:10.0.0.1", "not an address",
        ]
        for address in nonPublic {
            XCTAssertFalse(PublicAddressGuard.isPublic(address), address)
        }
        for address in ["93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:8.8.8.8"] {
            XCTAssertTrue(PublicAddressGuard.isPublic(address), address)
        }
    }

    func testAddressesEmbeddingOrRelayingToIPv4AreNotPublic() {
        let cases = [
            ("64:ff9b::7f00:1", "NAT64 of 127.0.0.1"), ("64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254"),
            ("64:ff9b::808:808", "NAT64 of a public address: the whole prefix is refused"),
            ("64:ff9b:1::a00:1", "local-use NAT64"), ("2002:7f00:1::1", "6to4 of 127.0.0.1"),
            ("2002:808:808::1", "6to4 of a public address: the whole prefix is refused"), ("fec0::1", "site-local"),
            ("feff::1", "site-local, top of the block"), ("::7f00:1", "IPv4-compatible 127.0.0.1"),
            ("::10.0.0.1", "IPv4-compatible 10.0.0.1"), ("::8.8.8.8", "IPv4-compatible, public inside"),
            ("::ffff:0:a00:1", "IPv4-translated"), ("2001::1", "Teredo"), ("100::1", "discard-only"),
            ("::ffff:169.254.169.254", "IPv4-mapped metadata"),
        ]
        for (address, form) in cases {
            XCTAssertFalse(PublicAddressGuard.isPublic(address), "\(address): \(form)")
        }
        for address in ["2003::1", "64:ff9a::1", "64:ff9b:2::1", "2001:4860:4860::8888", "fe00::1", "::1:0:0:1"] {
            XCTAssertTrue(PublicAddressGuard.isPublic(address), address)
        }
    }

    func testLoopbackIsRecognisedApartFromPrivateRanges() {
        for address in ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"] {
            XCTAssertTrue(PublicAddressGuard.isLoopback(address), address)
        }
        for address in ["10.0.0.1", "169.254.169.254", "::", "::2", "fd00::1", "fe80::1", "64:ff9b::7f00:1", "0.0.0.0", "localhost"] {
            XCTAssertFalse(PublicAddressGuard.isLoopback(address), address)
        }
    }

    func testTheLoopbackSwitchAllowsLoopbackAddressesOnly() async throws {
        let answers = ["loop.example": ["127.0.0.1", "::1"], "lan.example": ["10.0.0.7"], "meta.example": ["169.254.169.254"],
                       "ula.example": ["fd12::1"], "nat.example": ["64:ff9b::7f00:1"]]
        let addressGuard = PublicAddressGuard(resolve: { answers[$0] ?? [] })
        let loopback = try await addressGuard.checkedAddresses(of: "loop.example", isLoopbackAllowed: true)
        XCTAssertEqual(loopback, ["127.0.0.1", "::1"])
        for host in ["lan.example", "meta.example", "ula.example", "nat.example"] {
            do {
                _ = try await addressGuard.checkedAddresses(of: host, isLoopbackAllowed: true)
                XCTFail("\(host) was allowed")
            } catch {
                XCTAssertEqual(error, .internalAddress("\(host) → \(answers[host]![0])"))
            }
        }
        do {
            _ = try await addressGuard.checkedAddresses(of: "loop.example")
            XCTFail("loopback allowed without the switch")
        } catch {
            XCTAssertEqual(error, .internalAddress("loop.example → 127.0.0.1"))
        }
    }

    func testTheLoopbackSwitchIsAnnouncedAsARelaxedGuard() throws {
        let relaxed = try WebEnricherSettings(environment: ["WEB_ENRICHER_ALLOW_LOOPBACK_HTTP": "true"])
        XCTAssertTrue(relaxed.isLoopbackHTTPAllowed)
        XCTAssertTrue(relaxed.relaxedGuardWarning?.hasPrefix("SSRF guard relaxed: WEB_ENRICHER_ALLOW_LOOPBACK_HTTP is set") == true)
        XCTAssertNil(try WebEnricherSettings(environment: [:]).relaxedGuardWarning)
    }

    /// Of getaddrinfo's failures only `EAI_AGAIN`, the resolver not answering for now, is
    /// temporary (the fetch tries again); the others say the name has no address.
    func testOnlyATemporaryLookUpFailureIsTriedAgain() {
        let temporary = PublicAddressGuard.lookUpFailure(EAI_AGAIN, host: "acme.example")
        XCTAssertEqual(temporary, .temporarilyUnresolved("acme.example"))
        XCTAssertEqual(temporary?.isRetriable, true)
        let noData: Int32 = -5  // glibc's EAI_NODATA, a GNU extension Swift does not import
        for code in [EAI_NONAME, noData, EAI_FAIL, EAI_SERVICE] {
            XCTAssertNil(PublicAddressGuard.lookUpFailure(code, host: "acme.example"), "getaddrinfo \(code)")
        }
    }

    func testSystemResolverFindsLoopback() async {
        let found = await PublicAddressGuard().firstInternalAddress(of: ["localhost"])
        XCTAssertTrue(found?.hasPrefix("localhost → ") == true, found ?? "localhost resolved to nothing internal")
    }

    func testFetchOfADomainResolvingInsideIsRefusedBeforeAnyConnection() async throws {
        let resolver: PublicAddressGuard.Resolver = { host in host == "www.acme.example" ? ["169.254.169.254"] : ["93.184.215.14"] }
        let fetcher = WebFetcher(timeoutSeconds: 1, addressGuard: PublicAddressGuard(resolve: resolver))
        let allowList = try WebAllowList(domain: "acme.example")
        let url = try allowList.startURL(nil)
        do {
            _ = try await fetcher.fetch(url, allowList: allowList)
            XCTFail("expected a refusal")
        } catch {
            XCTAssertEqual(error, .internalAddress("www.acme.example → 169.254.169.254"))
            XCTAssertFalse(error.isRetriable)
        }
        let allPublic = await PublicAddressGuard(resolve: { _ in ["93.184.215.14"] }).firstInternalAddress(of: ["acme.example"])
        XCTAssertNil(allPublic)
    }
}
