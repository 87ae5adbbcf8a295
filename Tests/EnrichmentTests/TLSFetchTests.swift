import Enrichment
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// HTTPS to a pinned address: `openssl s_server` on 127.0.0.1 with a certificate for
/// `acme.example`. The name is resolved by the test's resolver to 127.0.0.1, so the TLS checks
/// (SNI, certificate chain, host name) run on the URL's host while the socket goes to the address.
final class TLSFetchTests: XCTestCase {
    private static let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
    private var directory: URL!
    private var server: Process?
    private var port = 0

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.openssl.path) else { throw XCTSkip("no openssl command") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-fetch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try runOpenSSL([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-keyout", path("key.pem"), "-out", path("cert.pem"), "-subj", "/CN=acme.example",
            "-addext", "subjectAltName=DNS:acme.example,DNS:www.acme.example",
        ])
        let process = Process()
        process.executableURL = Self.openssl
        process.arguments = ["s_server", "-accept", "127.0.0.1:0", "-cert", path("cert.pem"), "-key", path("key.pem"), "-www"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        server = process
        port = try Self.acceptedPort(output.fileHandleForReading)
    }

    override func tearDown() {
        server?.terminate()
        server?.waitUntilExit()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func runOpenSSL(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = Self.openssl
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "openssl \(arguments.first ?? "")")
    }

    /// The port from s_server's `ACCEPT 127.0.0.1:<port>` line.
    private static func acceptedPort(_ output: FileHandle) throws -> Int {
        var text = ""
        while !text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().contains(where: { $0.hasPrefix("ACCEPT") }) {
            let data = output.availableData
            guard !data.isEmpty else { break }
            text += String(decoding: data, as: UTF8.self)
        }
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("ACCEPT") }, "s_server said: \(text)")
        return try XCTUnwrap(Int(line.split(separator: ":").last ?? ""))
    }

    private func fetch(domain: String, trustedCertificatesFile: String?) async throws -> Result<WebPage, WebFetchError> {
        let allowList = try WebAllowList(domain: domain, isLoopbackHTTPAllowed: true)
        let fetcher = WebFetcher(timeoutSeconds: 5, addressGuard: PublicAddressGuard(resolve: { _ in ["127.0.0.1"] }),
                                 trustedCertificatesFile: trustedCertificatesFile)
        let start = try allowList.startURL("https://\(domain):\(port)/")
        do {
            return .success(try await fetcher.fetch(start, allowList: allowList))
        } catch {
            return .failure(error)
        }
    }

    func testHTTPSIsFetchedFromThePinnedAddressWithTheHostsCertificate() async throws {
        let page = try await fetch(domain: "acme.example", trustedCertificatesFile: path("cert.pem")).get()
        XCTAssertTrue(page.html.contains("s_server"), page.html.prefix(200).description)
        XCTAssertEqual(page.url.absoluteString, "https://acme.example:\(port)/")
    }

    func testACertificateForAnotherNameIsRefused() async throws {
        let result = try await fetch(domain: "other.example", trustedCertificatesFile: path("cert.pem"))
        guard case .failure(.tls(let reason)) = result else { return XCTFail("expected a TLS failure, got \(result)") }
        XCTAssertTrue(reason.contains("certificate of other.example not accepted"), reason)
    }

    /// A server that takes the connection and closes it before the handshake (a parked domain, a
    /// load balancer without backends, an unknown SNI dropped). OpenSSL took the close for the end
    /// of a session, the handshake counted as done, and the request's write went round for ever
    /// at full CPU without waiting, past every deadline: the partition stopped behind it.
    func testAServerThatClosesDuringTheHandshakeFailsTheFetch() async throws {
        let closing = try RawServer.closing()
        defer { closing.stop() }
        let allowList = try WebAllowList(domain: "acme.example", isLoopbackHTTPAllowed: true)
        let fetcher = WebFetcher(timeoutSeconds: 3, addressGuard: PublicAddressGuard(resolve: { _ in ["127.0.0.1"] }),
                                 trustedCertificatesFile: path("cert.pem"))
        do {
            let page = try await fetcher.fetch(try allowList.startURL("https://acme.example:\(closing.port)/"), allowList: allowList)
            XCTFail("fetched \(page.url) from a server that closed")
        } catch let WebFetchError.network(reason) {
            XCTAssertTrue(reason.contains("closed"), reason)
        } catch {
            XCTFail("\(error)")
        }
    }

    func testACertificateOutsideTheTrustedRootsIsRefused() async throws {
        let result = try await fetch(domain: "acme.example", trustedCertificatesFile: nil)
        guard case .failure(.tls(let reason)) = result else { return XCTFail("expected a TLS failure, got \(result)") }
        XCTAssertTrue(reason.contains("certificate of acme.example not accepted"), reason)
    }
}
