import Dispatch
import Foundation

/// Keeps the web enricher off internal networks: a company's domain is whatever a record says,
/// and a domain that resolves to a loopback, private, link-local (cloud metadata at
/// 169.254.169.254) or otherwise non-public address must not be fetched.
///
/// The domain and `www.` the domain (the only hosts a fetch or its redirects may reach) are
/// resolved before the fetch; any non-public address refuses it. URLSession resolves again when
/// it connects, so a name that changes its answer between the two lookups (DNS rebinding) is not
/// caught; that needs a connection-level check this client does not offer.
public struct PublicAddressGuard: Sendable {
    /// The addresses a host name resolves to, as text (`93.184.215.14`, `2606:2800::1`); empty
    /// when it does not resolve.
    public typealias Resolver = @Sendable (String) async -> [String]

    private let resolve: Resolver

    /// A guard using `resolve` (the system resolver by default).
    public init(resolve: @escaping Resolver = PublicAddressGuard.systemResolve) {
        self.resolve = resolve
    }

    /// The first non-public address `hosts` resolve to, as "host → address"; nil when all are public.
    public func firstInternalAddress(of hosts: [String]) async -> String? {
        for host in hosts {
            for address in await resolve(host) where !Self.isPublic(address) {
                return "\(host) → \(address)"
            }
        }
        return nil
    }

    /// Whether `address` (IPv4 or IPv6 text) is a public unicast address. Unparsable text is not.
    public static func isPublic(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return isPublic(v4: UInt32(bigEndian: v4.s_addr))
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {  // ::ffff:a.b.c.d
            return isPublic(v4: bytes[12...].reduce(0) { $0 << 8 | UInt32($1) })
        }
        if bytes.allSatisfy({ $0 == 0 }) || bytes == [UInt8](repeating: 0, count: 15) + [1] { return false }  // :: and ::1
        if bytes[0] & 0xfe == 0xfc { return false }  // fc00::/7 unique local
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return false }  // fe80::/10 link-local
        if bytes[0] == 0xff { return false }  // multicast
        return true
    }

    private static func isPublic(v4 address: UInt32) -> Bool {
        let blocked: [(network: UInt32, prefix: UInt32)] = [
            (0x0000_0000, 8),  // "this" network
            (0x0A00_0000, 8),  // 10/8
            (0x6440_0000, 10),  // 100.64/10 carrier-grade NAT
            (0x7F00_0000, 8),  // loopback
            (0xA9FE_0000, 16),  // 169.254/16 link-local, cloud metadata
            (0xAC10_0000, 12),  // 172.16/12
            (0xC000_0000, 24),  // 192.0.0/24 protocol assignments
            (0xC0A8_0000, 16),  // 192.168/16
            (0xC612_0000, 15),  // 198.18/15 benchmarking
            (0xE000_0000, 4),  // multicast
            (0xF000_0000, 4),  // reserved and broadcast
        ]
        return !blocked.contains { block in
            let mask: UInt32 = block.prefix == 0 ? 0 : ~UInt32(0) << (32 - block.prefix)
            return address & mask == block.network
        }
    }

    /// Resolves with `getaddrinfo` on a background queue (it blocks).
    public static let systemResolve: Resolver = { host in
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: lookUp(host))
            }
        }
    }

    private static func lookUp(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
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
        return addresses
    }
}
