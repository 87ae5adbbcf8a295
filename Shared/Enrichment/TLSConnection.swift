import COpenSSL
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TLS 1.2 or later with OpenSSL over a ``SocketConnection`` that is already connected to a checked
/// address. The server's certificate must chain to a trusted root and name `host`: SNI and the
/// name check use the URL's host, never the address, so pinning the address weakens neither.
///
/// The only file importing OpenSSL. It owns its `SSL_CTX` and `SSL` and frees them in `deinit`;
/// the socket, which it keeps alive, closes the descriptor after them.
final class TLSConnection: FetchTransport {
    private let socket: SocketConnection
    private let context: OpaquePointer
    private let session: OpaquePointer

    /// Shakes hands with `host` over `socket`. `trustedCertificatesFile` is a PEM file of the roots
    /// to trust; nil trusts OpenSSL's default locations (the system's roots).
    init(over socket: SocketConnection, host: String, trustedCertificatesFile: String?) throws(WebFetchError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw .tls(Self.lastError()) }
        // Configured before SSL_new, which copies the verification mode from the context.
        SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        SSL_CTX_set_options(context, copenssl_op_ignore_unexpected_eof | copenssl_op_no_compression)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        let rootsLoaded = if let trustedCertificatesFile {
            SSL_CTX_load_verify_locations(context, trustedCertificatesFile, nil)
        } else {
            SSL_CTX_set_default_verify_paths(context)
        }
        guard rootsLoaded == 1, let session = SSL_new(context) else {
            SSL_CTX_free(context)
            throw .tls("cannot load the trusted roots: \(Self.lastError())")
        }
        self.socket = socket
        self.context = context
        self.session = session
        // Both handles are owned from here; a throw below frees them in deinit.
        let named = host.withCString { name in
            SSL_ctrl(session, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: name)) == 1
                && SSL_set1_host(session, name) == 1
        }
        guard named, SSL_set_fd(session, socket.descriptor) == 1 else { throw .tls(Self.lastError()) }
        do throws(WebFetchError) {
            // 0: the peer closed before the handshake was done (OpenSSL, told to take an
            // unexpected close for the end, says so as it does for a finished session).
            guard try perform({ SSL_connect(session) }) > 0 else {
                throw .network("TLS: \(host) closed the connection during the handshake")
            }
        } catch {
            let verification = SSL_get_verify_result(session)
            if verification != X509_V_OK {
                throw .tls("certificate of \(host) not accepted: \(String(cString: X509_verify_cert_error_string(verification)))")
            }
            throw error
        }
    }

    deinit {
        SSL_free(session)
        SSL_CTX_free(context)
    }

    func write(_ bytes: [UInt8]) throws(WebFetchError) {
        var sent = 0
        while sent < bytes.count {
            let chunk = Array(bytes[sent...].prefix(Int(Int32.max)))
            let count = try perform { chunk.withUnsafeBytes { SSL_write(session, $0.baseAddress, Int32($0.count)) } }
            guard count > 0 else { throw .network("TLS: connection closed while sending the request") }
            sent += Int(count)
        }
    }

    func read(maximum: Int) throws(WebFetchError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: maximum)
        let count = try perform { bytes.withUnsafeMutableBytes { SSL_read(session, $0.baseAddress, Int32($0.count)) } }
        return Array(bytes.prefix(Int(count)))
    }

    /// Runs `operation` (an `SSL_…` call on this session) until it completes, waiting on the socket
    /// when OpenSSL wants to read or write; its positive result, or 0 once the peer has closed.
    /// Every pass checks the fetch's deadline, so no path that does not wait outlasts it.
    private func perform(_ operation: () -> Int32) throws(WebFetchError) -> Int32 {
        while true {
            try socket.checkDeadline()
            ERR_clear_error()
            errno = 0
            let result = operation()
            if result > 0 { return result }
            switch SSL_get_error(session, result) {
            case SSL_ERROR_WANT_READ: try socket.wait(for: Int16(POLLIN))
            case SSL_ERROR_WANT_WRITE: try socket.wait(for: Int16(POLLOUT))
            case SSL_ERROR_ZERO_RETURN: return 0
            case SSL_ERROR_SYSCALL where ERR_peek_error() == 0 && errno == 0: return 0
            // The connection failed under TLS (a reset): a network failure, which may pass.
            case SSL_ERROR_SYSCALL where ERR_peek_error() == 0: throw .network("TLS: \(String(cString: strerror(errno)))")
            default: throw .tls(Self.lastError())
            }
        }
    }

    /// OpenSSL's oldest queued error, as text.
    private static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return errno == 0 ? "connection closed" : String(cString: strerror(errno)) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
