// Clients behind proxies (SPEC §7): X-Forwarded-For read from the right with
// trusted and untrusted hops, forged left ends, IPv6 and ports; X-Forwarded-Proto; and the
// PROXY protocol v1 and v2 on a listener that requires it, over plain TCP and TLS, split
// across segments, malformed, stalled, and from peers that are not trusted. What counts is
// what the access log stores as the client (and `anonymizeClients` applied to it).
import CompanionCore
import Foundation
import Testing

@Suite(.serialized) struct ProxyTests {
    /// Every row's client, scheme and status, once the server has stopped, sorted: with two
    /// loops, rows of consecutive requests may reach the writer in either order (each loop
    /// hands its rows over at the end of its turn).
    static func rows(_ server: TLSServer) throws -> [String] {
        server.server.stop()
        let database = server.folder.appendingPathComponent("log/access.sqlite").path
        let result = try runTool(["sqlite3", database, "SELECT client, scheme, status FROM requests"])
        return result.stdout.split(separator: "\n").map(String.init).sorted()
    }

    static func get(_ port: Int, _ headers: String = "", host: String = "a.test") throws -> String {
        let client = try RawClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: \(host)\r\n\(headers)Connection: close\r\n\r\n")
        return String(decoding: client.receiveAll(), as: UTF8.self)
    }

    static let forwardedJSON = """
        {"listen": ["PLAIN"], "trustedProxies": ["127.0.0.1", "10.0.0.0/8", "fd00::/8"],
         "accessLog": {"sqlite": "log/access.sqlite", "flushMs": 50},
         "sites": [{"host": "a.test", "root": "a", "httpsRedirect": true,
                    "tls": {"certificate": "CERTS/a.pem", "key": "CERTS/a.key", "hsts": "max-age=60"}}]}
        """

    @Test func xForwardedForIsReadFromTheRight() throws {
        let files = try TLSFiles([("a", "a.test")])
        let server = try TLSServer(Self.forwardedJSON, files: files)
        let port = server.httpPort
        let https = "X-Forwarded-Proto: https\r\n"
        _ = try Self.get(port, https + "X-Forwarded-For: 203.0.113.9\r\n")
        // A forged left end, the client, then two of our own proxies.
        _ = try Self.get(port, https + "X-Forwarded-For: 6.6.6.6, 203.0.113.9 , 10.1.2.3,10.9.9.9\r\n")
        // Every hop trusted: the leftmost.
        _ = try Self.get(port, https + "X-Forwarded-For: 10.0.0.5, 10.0.0.6\r\n")
        // IPv6, bracketed with a port, and IPv4 with a port; canonical text in the log.
        _ = try Self.get(port, https + "X-Forwarded-For: 2001:DB8:0:0::1\r\n")
        _ = try Self.get(port, https + "X-Forwarded-For: 198.51.100.1, [fd00::7]:443\r\n")
        _ = try Self.get(port, https + "X-Forwarded-For: 192.0.2.44:5555\r\n")
        // Garbage where an address should be: the walk stops, the last address read stands.
        _ = try Self.get(port, https + "X-Forwarded-For: 192.0.2.1, bogus\r\n")
        _ = try Self.get(port, https + "X-Forwarded-For: 192.0.2.1, 10.0.0.1, not-an-ip, 10.0.0.2\r\n")
        // Two fields are one list, in order.
        _ = try Self.get(port, https + "X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-For: 10.0.0.8\r\n")
        #expect(try Self.rows(server) == [
            "203.0.113.9|https|200", "203.0.113.9|https|200", "10.0.0.5|https|200", "2001:db8::1|https|200",
            "198.51.100.1|https|200", "192.0.2.44|https|200", "127.0.0.1|https|200", "10.0.0.2|https|200",
            "198.51.100.7|https|200",
        ].sorted())
    }

    @Test func xForwardedProtoDecidesRedirectAndHSTS() throws {
        let files = try TLSFiles([("a", "a.test")])
        let server = try TLSServer(Self.forwardedJSON, files: files)
        let viaHTTPS = try Self.get(server.httpPort, "X-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n")
        #expect(viaHTTPS.hasPrefix("HTTP/1.1 200"))
        #expect(viaHTTPS.contains("Strict-Transport-Security: max-age=60\r\n"))
        let viaHTTP = try Self.get(server.httpPort, "X-Forwarded-Proto: http\r\n")
        #expect(viaHTTP.hasPrefix("HTTP/1.1 308"))
        #expect(!viaHTTP.contains("Strict-Transport-Security"))
    }

    @Test func headersFromAnUntrustedPeerAreIgnored() throws {
        let files = try TLSFiles([("a", "a.test")])
        let json = Self.forwardedJSON.replacingOccurrences(of: #""127.0.0.1", "#, with: "")
        let server = try TLSServer(json, files: files)
        let answer = try Self.get(server.httpPort, "X-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 308"))   // still plain http: redirected
        #expect(try Self.rows(server) == ["127.0.0.1|http|308"])
    }

    @Test func anonymizeClientsAppliesToTheForwardedClient() throws {
        let files = try TLSFiles([("a", "a.test")])
        let json = Self.forwardedJSON.replacingOccurrences(of: #""flushMs": 50"#, with: #""flushMs": 50, "anonymizeClients": true"#)
        let server = try TLSServer(json, files: files)
        _ = try Self.get(server.httpPort, "X-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n")
        #expect(try Self.rows(server) == ["203.0.113.0|https|200"])
    }

    // MARK: - PROXY protocol

    static let proxyJSON = """
        {"listen": [{"address": "127.0.0.1:0", "proxyProtocol": true}, {"address": "127.0.0.1:0", "tls": true, "proxyProtocol": true},
                    "127.0.0.1:0"],
         "trustedProxies": ["127.0.0.1"], "limits": {"headerTimeoutMs": 500},
         "accessLog": {"sqlite": "log/access.sqlite", "flushMs": 50},
         "sites": [{"host": "a.test", "root": "a", "tls": {"certificate": "CERTS/a.pem", "key": "CERTS/a.key"}}]}
        """

    static func v2(command: UInt8, family: UInt8, _ body: [UInt8]) -> [UInt8] {
        [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20 | command, family,
         UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
    }

    static let request = Array("GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n".utf8)

    /// Sends `chunks` (each its own segment) on a new connection; returns all the answer.
    static func exchange(_ port: Int, _ chunks: [[UInt8]]) throws -> String {
        let client = try RawClient(port: port)
        for chunk in chunks {
            _ = chunk.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            usleep(20_000)   // separate segments (what is checked is only the answer)
        }
        return String(decoding: client.receiveAll(), as: UTF8.self)
    }

    @Test func proxyHeadersNameTheClient() throws {
        let files = try TLSFiles([("a", "a.test")])
        let server = try TLSServer(Self.proxyJSON, files: files)
        let proxied = server.server.boundAddresses[0].port
        let v1 = Array("PROXY TCP4 192.0.2.10 198.51.100.2 56324 443\r\n".utf8)
        #expect(try Self.exchange(proxied, [v1 + Self.request]).hasPrefix("HTTP/1.1 200"))
        // The header split in three segments, the request after it.
        #expect(try Self.exchange(proxied, [Array(v1[0..<3]), Array(v1[3..<30]), Array(v1[30...]), Self.request])
            .hasPrefix("HTTP/1.1 200"))
        let v1six = Array("PROXY TCP6 2001:db8::10 2001:db8::2 1 443\r\n".utf8)
        #expect(try Self.exchange(proxied, [v1six + Self.request]).hasPrefix("HTTP/1.1 200"))
        let inet: [UInt8] = [192, 0, 2, 20, 198, 51, 100, 2, 0xDB, 0x04, 0x01, 0xBB]
        #expect(try Self.exchange(proxied, [Self.v2(command: 1, family: 0x11, inet) + Self.request]).hasPrefix("HTTP/1.1 200"))
        // With a TLV after the addresses (skipped).
        let tlv: [UInt8] = [0x04, 0x00, 0x03, 0x61, 0x62, 0x63]
        #expect(try Self.exchange(proxied, [Self.v2(command: 1, family: 0x11, inet + tlv) + Self.request]).hasPrefix("HTTP/1.1 200"))
        // LOCAL (the balancer's own health check) and UNKNOWN keep the peer's address.
        #expect(try Self.exchange(proxied, [Self.v2(command: 0, family: 0x00, []) + Self.request]).hasPrefix("HTTP/1.1 200"))
        #expect(try Self.exchange(proxied, [Array("PROXY UNKNOWN\r\n".utf8) + Self.request]).hasPrefix("HTTP/1.1 200"))
        #expect(try Self.rows(server) == [
            "192.0.2.10|http|200", "192.0.2.10|http|200", "2001:db8::10|http|200", "192.0.2.20|http|200",
            "192.0.2.20|http|200", "127.0.0.1|http|200", "127.0.0.1|http|200",
        ].sorted())
    }

    @Test func theHeaderComesBeforeTheTLSHandshake() throws {
        let files = try TLSFiles([("a", "a.test")])
        let server = try TLSServer(Self.proxyJSON, files: files)
        let port = server.server.boundAddresses[1].port
        let program = """
            import socket, ssl, sys
            raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
            raw.sendall(b"PROXY TCP4 192.0.2.30 198.51.100.2 40000 443\\r\\n")
            ctx = ssl.create_default_context(cafile=sys.argv[2])
            s = ctx.wrap_socket(raw, server_hostname="a.test")
            s.sendall(b"GET / HTTP/1.1\\r\\nHost: a.test\\r\\nConnection: close\\r\\n\\r\\n")
            print(read_to_close(s).split(b"\\r\\n")[0].decode())
            """
        let result = try runPython(program, ["\(port)", files.ca])
        #expect(result.stdout == "HTTP/1.1 200 OK\n", "\(result.stderr)")
        #expect(try Self.rows(server) == ["192.0.2.30|https|200"])
    }

    @Test func malformedHeadersCloseTheConnectionWithoutAnAnswer() throws {
        let files = try TLSFiles([("a", "a.test")])
        let server = try TLSServer(Self.proxyJSON, files: files)
        let proxied = server.server.boundAddresses[0].port
        let malformed: [[UInt8]] = [
            Self.request,                                                         // no header at all
            Array("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\n".utf8),          // LF without CR
            Array("PROXY TCP4 192.0.2.1  198.51.100.2 56324 443\r\n".utf8),       // two spaces
            Array("PROXY TCP4 2001:db8::1 198.51.100.2 56324 443\r\n".utf8),      // IPv6 in TCP4
            Array("PROXY TCP4 192.0.2.1 198.51.100.2 065535 443\r\n".utf8),       // leading zero
            Array("PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n".utf8),        // port too large
            Array("PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n".utf8),              // unknown protocol
            Array("PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n".utf8),                // a field missing
            Array(("PROXY UNKNOWN " + String(repeating: "x", count: 120) + "\r\n").utf8),   // over 107 bytes
            Self.v2(command: 2, family: 0x11, Array(repeating: 0, count: 12)),   // command 2
            [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x10, 0x11, 0, 12]
                + Array(repeating: 0, count: 12),                                // version 1 signature
            Self.v2(command: 1, family: 0x11, Array(repeating: 0, count: 8)),    // INET needs 12 bytes
            Self.v2(command: 1, family: 0x12, Array(repeating: 0, count: 12)),   // DGRAM
            Self.v2(command: 1, family: 0x41, Array(repeating: 0, count: 12)),   // family 4
            Self.v2(command: 1, family: 0x11, Array(repeating: 0, count: 4000)), // longer than accepted
        ]
        for header in malformed {
            #expect(try Self.exchange(proxied, [header + Self.request]) == "", "\(String(decoding: header.prefix(40), as: UTF8.self))")
        }
        // A header that never completes meets the header timeout (500 ms here): closed.
        #expect(try Self.exchange(proxied, [Array("PROXY TCP4 192.0.2.1".utf8)]) == "")
        // The server is unharmed and wrote no row for any of them.
        #expect(try Self.exchange(proxied, [Array("PROXY TCP4 192.0.2.9 198.51.100.2 1 2\r\n".utf8) + Self.request])
            .hasPrefix("HTTP/1.1 200"))
        #expect(try Self.rows(server) == ["192.0.2.9|http|200"])
    }

    @Test func proxyHeadersFromUntrustedPeersAreRefused() throws {
        let files = try TLSFiles([("a", "a.test")])
        let json = Self.proxyJSON.replacingOccurrences(of: #""trustedProxies": ["127.0.0.1"]"#, with: #""trustedProxies": ["10.0.0.0/8"]"#)
        let server = try TLSServer(json, files: files)
        let v1 = Array("PROXY TCP4 192.0.2.10 198.51.100.2 56324 443\r\n".utf8)
        #expect(try Self.exchange(server.server.boundAddresses[0].port, [v1 + Self.request]) == "")
        // On a listener without proxyProtocol, a PROXY line is a bad request line.
        #expect(try Self.exchange(server.server.boundAddresses[2].port, [v1 + Self.request]).hasPrefix("HTTP/1.1 400"))
    }

    @Test func proxyProtocolNeedsTrustedProxies() throws {
        let json = #"{"listen": [{"address": "127.0.0.1:0", "proxyProtocol": true}], "sites": [{"host": "a", "root": "."}]}"#
        #expect(throws: ConfigError.self) { try ConfigLoader().load(bytes: Array(json.utf8), configPath: "/tmp/x.json") }
        let badRange = #"{"trustedProxies": ["10.0.0.1/8"], "sites": [{"host": "a", "root": "."}]}"#
        #expect(throws: ConfigError.self) { try ConfigLoader().load(bytes: Array(badRange.utf8), configPath: "/tmp/x.json") }
        let names = #"{"trustedProxies": ["proxy.example"], "sites": [{"host": "a", "root": "."}]}"#
        #expect(throws: ConfigError.self) { try ConfigLoader().load(bytes: Array(names.utf8), configPath: "/tmp/x.json") }
    }
}
