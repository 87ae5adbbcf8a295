import Foundation
import Runtime

/// Keeps the web enricher off internal networks: a company's domain is whatever a record says,
/// and a domain that resolves to a loopback, private, link-local (cloud metadata at
/// 169.254.169.254) or otherwise non-public address must not be fetched.
///
/// ``checkedAddresses(of:isLoopbackAllowed:)`` resolves a host once and checks every address it
/// gets; ``WebFetcher`` connects only to addresses it returned (see there for how that pins each
/// connection against DNS rebinding).
public struct PublicAddressGuard: Sendable {
    /// The addresses a host name resolves to, as text (`93.184.215.14`, `2606:2800::1`); empty
    /// when it has none (getaddrinfo's `EAI_NONAME`, `EAI_NODATA`, and any failure other than a
    /// temporary one). Throws ``WebFetchError/temporarilyUnresolved(_:)`` when the resolver
    /// cannot answer for now (`EAI_AGAIN`: the name servers unreachable or answering `SERVFAIL`).
    public typealias Resolver = @Sendable (String) async throws(WebFetchError) -> [String]

    private let resolve: Resolver

    /// A guard using `resolve` (the system resolver by default).
    public init(resolve: @escaping Resolver = PublicAddressGuard.systemResolve) {
        self.resolve = resolve
    }

    /// The addresses `host` resolves to, asking the resolver once; throws
    /// ``WebFetchError/internalAddress(_:)`` ("host → address") when any of them is not public,
    /// and what the resolver throws (``Resolver``).
    /// With `isLoopbackAllowed` (`WEB_ENRICHER_ALLOW_LOOPBACK_HTTP`, for tests serving pages from
    /// this machine) loopback addresses pass as well; private, link-local and the rest do not.
    public func checkedAddresses(of host: String, isLoopbackAllowed: Bool = false) async throws(WebFetchError) -> [String] {
        let addresses = try await resolve(host)
        for address in addresses where !Self.isPublic(address) && !(isLoopbackAllowed && Self.isLoopback(address)) {
            throw .internalAddress("\(host) → \(address)")
        }
        return addresses
    }

    /// The first non-public address `hosts` resolve to, as "host → address"; nil when all are public.
    public func firstInternalAddress(of hosts: [String]) async -> String? {
        for host in hosts {
            do {
                _ = try await checkedAddresses(of: host)
            } catch {
                if case .internalAddress(let inside) = error { return inside }
            }
        }
        return nil
    }

    /// Whether `address` (IPv4 or IPv6 text) is a public unicast address. Unparsable text is not.
    ///
    /// Refused besides the IPv4 blocks below: `::` and `::1`, IPv4-compatible `::a.b.c.d` (all of
    /// `::/96`), IPv4-mapped `::ffff:a.b.c.d` whose IPv4 address is refused, IPv4-translated
    /// `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, discard-only `100::/64`,
    /// Teredo `2001::/32`, 6to4 `2002::/16`, unique local `fc00::/7`, site-local `fec0::/10`,
    /// link-local `fe80::/10` and multicast `ff00::/8`. The prefixes that embed an IPv4 address
    /// (NAT64, Teredo, 6to4, compatible, translated) are refused whole: a gateway may relay them
    /// to any IPv4 address, internal ones included.
    public static func isPublic(_ address: String) -> Bool {
        guard let bytes = addressBytes(address) else { return false }
        if bytes.count == 16, let mapped = mappedIPv4(bytes) { return !blockedIPv4.contains { $0.contains(mapped) } }
        let blocked = bytes.count == 4 ? blockedIPv4 : blockedIPv6
        return !blocked.contains { $0.contains(bytes) }
    }

    /// Whether `address` is a loopback address: `127.0.0.0/8`, `::1` or `::ffff:127.x.y.z`.
    public static func isLoopback(_ address: String) -> Bool {
        guard let bytes = addressBytes(address) else { return false }
        let loopbackIPv4 = AddressPrefix("127.0.0.0", 8)
        if bytes.count == 4 { return loopbackIPv4.contains(bytes) }
        if let mapped = mappedIPv4(bytes) { return loopbackIPv4.contains(mapped) }
        return bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6; nil when `text` is neither.
    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
    private static func mappedIPv4(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return nil }
        return Array(bytes[12...])
    }

    private static let blockedIPv4: [AddressPrefix] = [
        AddressPrefix("0.0.0.0", 8),  // "this" network
        AddressPrefix("10.0.0.0", 8),
        AddressPrefix("100.64.0.0", 10),  // carrier-grade NAT
        AddressPrefix("127.0.0.0", 8),  // loopback
        AddressPrefix("169.254.0.0", 16),  // link-local, cloud metadata
        AddressPrefix("172.16.0.0", 12),
        AddressPrefix("192.0.0.0", 24),  // protocol assignments
        AddressPrefix("192.168.0.0", 16),
        AddressPrefix("198.18.0.0", 15),  // benchmarking
        AddressPrefix("224.0.0.0", 4),  // multicast
        AddressPrefix("240.0.0.0", 4),  // reserved and broadcast
    ]

    private static let blockedIPv6: [AddressPrefix] = [
        AddressPrefix("::", 96),  // ::, ::1 and IPv4-compatible ::a.b.c.d
        AddressPrefix("::ffff:0:0:0", 96),  // IPv4-translated
        AddressPrefix("64:ff9b::", 96),  // NAT64
        AddressPrefix("64:ff9b:1::", 48),  // local-use NAT64
        AddressPrefix("100::", 64),  // discard-only
        AddressPrefix("2001::", 32),  // Teredo
        AddressPrefix("2002::", 16),  // 6to4
        AddressPrefix("fc00::", 7),  // unique local
        AddressPrefix("fec0::", 10),  // site-local
        AddressPrefix("fe80::", 10),  // link-local
        AddressPrefix("ff00::", 8),  // multicast
    ]

    /// Resolves with `getaddrinfo` on a thread of its own (it blocks, for as long as the name
    /// servers take).
    public static let systemResolve: Resolver = { host throws(WebFetchError) in
        try await onOwnThread(named: "web-resolve") { lookUp(host) }.get()
    }

    /// What getaddrinfo's failure `code` means for `host`: `EAI_AGAIN`, the resolver not
    /// answering for now, is ``WebFetchError/temporarilyUnresolved(_:)``; any other (`EAI_NONAME`,
    /// `EAI_NODATA`, `EAI_FAIL`, ...) is nil, a name without addresses.
    static func lookUpFailure(_ code: Int32, host: String) -> WebFetchError? {
        code == EAI_AGAIN ? .temporarilyUnresolved(host) : nil
    }

    private static func lookUp(_ host: String) -> Result<[String], WebFetchError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &list)
        guard code == 0 else { return lookUpFailure(code, host: host).map { .failure($0) } ?? .success([]) }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry = list
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            entry = current.pointee.ai_next
        }
        return .success(addresses)
    }
}

/// An address block: the addresses whose first `length` bits equal the network's.
struct AddressPrefix: Sendable {
    private let network: [UInt8]
    private let length: Int

    /// The block `network/length`; `network` is IPv4 or IPv6 text written in this file.
    init(_ network: String, _ length: Int) {
        guard let bytes = PublicAddressGuard.addressBytes(network) else { preconditionFailure("not an address: \(network)") }
        self.network = bytes
        self.length = length
    }

    /// Whether `address` (bytes in network order, of the same family) lies in the block.
    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        let whole = length / 8
        guard address[..<whole] == network[..<whole] else { return false }
        let rest = length % 8
        guard rest > 0 else { return true }
        let mask = UInt8(0xff) << (8 - rest)
        return address[whole] & mask == network[whole] & mask
    }
}
