// The TLS write path's segments: the records of one response leave with MSG_MORE except
// the last (TLSSession.sslWrite, the write BIO in Sources/CSSL/shim.h). A TLSSession on a
// real loopback TCP pair against an OpenSSL client; what the kernel holds back is read
// with SIOCOUTQNSD (bytes queued on the socket and not yet sent), so nothing here depends
// on timing: a held-back tail would otherwise only show as a ~200 ms delay per response.
import CSSL
@testable import CompanionCore
import Foundation
import Glibc
import Testing

@Suite struct TLSWriteTests {
    /// linux/sockios.h: bytes in the send queue not yet sent.
    static let SIOCOUTQNSD: UInt = 0x894B

    static func unsent(_ fd: Int32) -> Int32 {
        var count: Int32 = -1
        _ = ioctl(fd, SIOCOUTQNSD, &count)
        return count
    }

    /// A connected loopback pair: (client, server), the server's end non-blocking with
    /// TCP_NODELAY as the listener gives every accepted socket.
    static func socketPair() throws -> (Int32, Int32) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = loopbackAddress()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(listener, raw, length) == 0, listen(listener, 1) == 0,
                      getsockname(listener, raw, &length) == 0 else { throw TLSTestError("listen: errno \(errno)") }
            }
        }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
        }
        guard connected == 0 else { throw TLSTestError("connect: errno \(errno)") }
        let server = accept(listener, nil, nil)
        guard server >= 0 else { throw TLSTestError("accept: errno \(errno)") }
        _ = fcntl(server, F_SETFL, fcntl(server, F_GETFL) | O_NONBLOCK)
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
        var yes: Int32 = 1
        _ = setsockopt(server, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        return (client, server)
    }

    /// Waits (at most a second) until either socket is readable.
    static func waitReadable(_ fds: [Int32]) {
        var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = poll(&polls, nfds_t(polls.count), 1000)
    }

    @Test func aResponsesRecordsAreHeldForFullSegmentsAndTheLastIsNot() throws {
        let files = try TLSFiles([("a", "a.test")])
        let configPath = files.folder.appendingPathComponent("config.json").path
        try Data("""
            {"listen": [{"address": "127.0.0.1:0", "tls": true}],
             "sites": [{"host": "a.test", "root": "\(files.path)",
                        "tls": {"certificate": "\(files.certificate("a"))", "key": "\(files.key("a"))"}}]}
            """.utf8).write(to: URL(fileURLWithPath: configPath))
        let config = try PluginRegistry.builtIn.configLoader.load(path: configPath)
        let contexts = try TLSContextSet(config: config, previous: nil) { _ in }
        let (client, server) = try Self.socketPair()
        defer {
            close(client)
            close(server)
        }
        let scratch = TLSScratch()
        let session = try #require(TLSSession(descriptor: server, contexts: contexts, scratch: scratch))

        let clientContext = try #require(SSL_CTX_new(TLS_client_method()))
        defer { SSL_CTX_free(clientContext) }
        SSL_CTX_set_verify(clientContext, SSL_VERIFY_NONE, nil)
        let ssl = try #require(SSL_new(clientContext))
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, client)
        _ = companion_SSL_set_tlsext_host_name(ssl, "a.test")

        // The handshake: the client's SSL_connect and the server's reads, turn about.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var clientDone = false
        for _ in 0..<200 where !(clientDone && session.handshakeDone) {
            if !clientDone { clientDone = SSL_connect(ssl) == 1 }
            _ = session.read(into: buffer)
            if !(clientDone && session.handshakeDone) { Self.waitReadable([client, server]) }
        }
        #expect(clientDone && session.handshakeDone)
        #expect(Self.unsent(server) == 0, "handshake messages and tickets go out at once")

        // A head with more to follow is held back by the kernel...
        let head = [UInt8]("HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n".utf8)
        #expect(head.withUnsafeBytes { session.write($0, more: true) } == .wrote(head.count))
        #expect(Self.unsent(server) > 0, "a record with more to follow waits for a full segment")
        // ...and the body's last record pushes everything out.
        let body = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var offset = 0
        while offset < body.count {
            let result = body.withUnsafeBytes { session.write(UnsafeRawBufferPointer(rebasing: $0[offset...]), more: false) }
            guard case .wrote(let n) = result else {
                Issue.record("write: \(result)")
                return
            }
            offset += n
        }
        #expect(Self.unsent(server) == 0, "the last record of a response must not be held back")

        // The client gets every byte.
        var received: [UInt8] = []
        for _ in 0..<200 where received.count < head.count + body.count {
            let n = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
            if n > 0 {
                received += UnsafeRawBufferPointer(rebasing: buffer[0..<Int(n)])
            } else {
                Self.waitReadable([client])
            }
        }
        #expect(received == head + body)
    }
}
