// HTTPSClient: the ACME client's blocking HTTPS/1.1 requests to the CA, on the ACME
// thread only (never an event loop). One connection per request (`Connection: close`),
// certificate and host name verified against the system's roots or `acme.trustedRoots`,
// 15-second socket timeouts, bodies up to 1 MiB, Content-Length, chunked or read to EOF.
import CLinux
import CSSL
import Glibc

struct HTTPSResponse {
    var status: Int
    /// Lowercased names.
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

final class HTTPSClient {
    private let context: OpaquePointer
    static let maxBodyBytes = 1 << 20
    static let timeoutSeconds = 15

    init(trustedRoots: String?) throws(ACMEError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw ACMEError("TLS: \(OpenSSLErrors.drain())") }
        self.context = context
        _ = companion_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let trustedRoots {
            guard SSL_CTX_load_verify_locations(context, trustedRoots, nil) == 1 else {
                throw ACMEError("acme.trustedRoots: cannot load \(trustedRoots): \(OpenSSLErrors.drain())")
            }
        } else {
            _ = SSL_CTX_set_default_verify_paths(context)
        }
    }

    deinit { SSL_CTX_free(context) }

    func request(_ method: String, _ url: HTTPSURL, headers: [(String, String)] = [], body: [UInt8] = []) throws(ACMEError) -> HTTPSResponse {
        let fd = try connect(url)
        defer { Glibc.close(fd) }
        ERR_clear_error()
        guard let ssl = SSL_new(context) else { throw ACMEError("TLS: \(OpenSSLErrors.drain())") }
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, fd)
        _ = companion_SSL_set_tlsext_host_name(ssl, url.host)
        _ = SSL_set1_host(ssl, url.host)
        guard SSL_connect(ssl) == 1 else {
            let verify = SSL_get_verify_result(ssl)
            let reason = verify != X509_V_OK ? String(cString: X509_verify_cert_error_string(verify)) : OpenSSLErrors.drain()
            throw ACMEError("TLS handshake with \(url.host):\(url.port) failed: \(reason)")
        }
        var head = "\(method) \(url.target) HTTP/1.1\r\nHost: \(url.host)\(url.port == 443 ? "" : ":\(url.port)")\r\n"
        head += "User-Agent: companion-acme\r\nAccept: application/json\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try writeAll(ssl, Array(head.utf8) + body)
        let raw = try readAll(ssl)
        return try Self.parse(raw, url: url, isHead: method == "HEAD")
    }

    private func connect(_ url: HTTPSURL) throws(ACMEError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(url.host, String(url.port), &hints, &list)
        guard status == 0, let list else { throw ACMEError("cannot resolve \(url.host): \(String(cString: gai_strerror(status)))") }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            entry = current.pointee.ai_next
            let fd = socket(current.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { continue }
            var timeout = timeval(tv_sec: Self.timeoutSeconds, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            Glibc.close(fd)
        }
        throw ACMEError("cannot connect to \(url.host):\(url.port): \(String(cString: strerror(lastError)))")
    }

    private func writeAll(_ ssl: OpaquePointer, _ bytes: [UInt8]) throws(ACMEError) {
        var sent = 0
        while sent < bytes.count {
            ERR_clear_error()
            let n = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + sent, Int32($0.count - sent)) }
            guard n > 0 else { throw ACMEError("sending the request failed: \(OpenSSLErrors.drain())") }
            sent += Int(n)
        }
    }

    private func readAll(_ ssl: OpaquePointer) throws(ACMEError) -> [UInt8] {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while data.count <= Self.maxBodyBytes + 65536 {
            ERR_clear_error()
            let n = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 {
                data.append(contentsOf: chunk[0..<Int(n)])
                continue
            }
            let error = SSL_get_error(ssl, n)
            if error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && !data.isEmpty) { break }
            throw ACMEError("reading the response failed: \(error == SSL_ERROR_SYSCALL ? "connection closed" : OpenSSLErrors.drain())")
        }
        return data
    }

    /// Status line, headers and body (Content-Length, chunked, or to the end).
    static func parse(_ raw: [UInt8], url: HTTPSURL, isHead: Bool) throws(ACMEError) -> HTTPSResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, raw.count - 3)).first(where: { Array(raw[$0..<$0 + 4]) == separator }) else {
            throw ACMEError("\(url): incomplete response")
        }
        let lines = String(decoding: raw[0..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw ACMEError("\(url): not an HTTP response")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            headers.append((line[..<colon].lowercased(), String(value.reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())))
        }
        var body = Array(raw[(end + 4)...])
        if isHead { body = [] }
        if headers.contains(where: { $0.name == "transfer-encoding" && $0.value.lowercased().contains("chunked") }) {
            body = try dechunk(body, url: url)
        } else if let length = headers.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }),
                  length >= 0, length <= body.count {   // a negative length crashed the slice (fuzz: acme)
            body = Array(body[0..<length])
        }
        return HTTPSResponse(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ data: [UInt8], url: HTTPSURL) throws(ACMEError) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = (i..<max(i, data.count - 1)).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else {
                throw ACMEError("\(url): truncated chunked body")
            }
            let sizeText = String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0 else { throw ACMEError("\(url): bad chunk size") }
            i = lineEnd + 2
            if size == 0 { return out }
            guard i + size <= data.count else { throw ACMEError("\(url): truncated chunk") }
            out.append(contentsOf: data[i..<i + size])
            i += size + 2
        }
    }
}

private extension Substring {
    var trimmingSpaces: String { String(self.filter { $0 != " " && $0 != "\t" }) }
}
