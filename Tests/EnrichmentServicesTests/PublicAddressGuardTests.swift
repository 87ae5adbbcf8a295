import EnrichmentServices
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
