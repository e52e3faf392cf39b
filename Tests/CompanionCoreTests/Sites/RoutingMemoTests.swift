// RoutingMemo: one connection's requests naming different hosts are each routed to their
// site, the memo's byte comparison and its limit checked directly, and a reload's new
// sites used by a connection opened before it.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct RoutingMemoTests {
    /// A server whose two sites each serve who.txt with their own name, and a connection to it.
    static func start() throws -> (TempDirectory, TestServer, TestConnection) {
        let directory = TempDirectory()
        directory.write("a/who.txt", "a")
        directory.write("b/who.txt", "b")
        let server = try TestServer(directory: directory)
        return (directory, server, try TestConnection(port: server.port))
    }

    /// One keep-alive connection, its Host changing between requests in every way routing
    /// folds (case, port, trailing dot) and in ways it does not (another name, no Host).
    @Test func oneConnectionsRequestsAreEachRoutedByTheirHost() throws {
        let (_, server, connection) = try Self.start()
        let hosts = ["a.test", "b.test", "b.test", "A.TEST:8080", "B.test.", "nobody.test", "b.test", "", "b.test"]
        let expected = ["a", "b", "b", "a", "b", "a", "b", "a", "b"]
        try withExtendedLifetime(server) { () throws in
            for (host, site) in zip(hosts, expected) {
                let hostLine = host.isEmpty ? "" : "Host: \(host)\r\n"
                connection.send("GET /who.txt HTTP/1.\(host.isEmpty ? 0 : 1)\r\n\(hostLine)Connection: keep-alive\r\n\r\n")
                #expect(try connection.readResponse().text == site, "Host \(host)")
            }
        }
    }

    /// A connection opened before a reload is routed by the new config (the same Host bytes
    /// now name another site's index). The answers are also guarded by the template's own
    /// file and site checks; `theBytesTheStateAndTheLengthDecide` checks the memo itself.
    @Test func aReloadsSitesAreUsedOnAnOpenConnection() throws {
        let (_, server, connection) = try Self.start()
        let request = "GET /who.txt HTTP/1.1\r\nHost: b.test\r\n\r\n"
        connection.send(request)
        #expect(try connection.readResponse().text == "b")
        // The second site is renamed: b.test now goes to the default site, a.
        #expect(try server.reloadReplacing("\"host\": \"b.test\"", with: "\"host\": \"c.test\""))
        for _ in 0..<2 {
            connection.send(request)
            #expect(try connection.readResponse().text == "a")
        }
    }

    @Test func theBytesTheStateAndTheLengthDecide() throws {
        let directory = TempDirectory()
        let server = try TestServer(directory: directory)
        let state = server.server.state
        var memo = RoutingMemo()
        var routed = 0
        func index(_ host: String, _ state: ServerState, answer: Int) -> Int {
            var bytes = Array(host.utf8)
            return bytes.withUnsafeMutableBufferPointer { buffer in
                memo.siteIndex(for: UnsafeBufferPointer(buffer), state: state) { routed += 1; return answer }
            }
        }
        #expect(index("a.test", state, answer: 0) == 0 && routed == 1)
        #expect(index("a.test", state, answer: 9) == 0 && routed == 1)      // remembered
        #expect(index("a.tesu", state, answer: 1) == 1 && routed == 2)      // last byte differs
        #expect(index("a.tes", state, answer: 2) == 2 && routed == 3)       // a prefix
        let other = try ServerState(config: state.config, accessLog: nil, accessLogMirror: nil, gzipCache: state.gzipCache,
                                    compressionQueue: nil, plugins: PluginRegistry.builtIn, challenges: nil, metrics: nil, dashboard: nil)
        #expect(index("a.tes", other, answer: 3) == 3 && routed == 4)       // another state
        let long = String(repeating: "x", count: RoutingMemo.capacity + 1)
        #expect(index(long, other, answer: 5) == 5 && routed == 5)
        #expect(index(long, other, answer: 6) == 6 && routed == 6)          // too long to keep
        let full = String(repeating: "y", count: RoutingMemo.capacity)
        #expect(index(full, other, answer: 7) == 7 && routed == 7)
        #expect(index(full, other, answer: 8) == 7 && routed == 7)
    }
}
