// RoutingMemo: one connection's requests naming different hosts are each routed to their
// site, the memo's byte comparison and its limit checked directly, and a reload's new
// sites used by a connection opened before it.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct RoutingMemoTests {
    /// One keep-alive connection, its Host changing between requests in every way routing
    /// folds (case, port, trailing dot) and in ways it does not (another name, no Host).
    @Test func oneConnectionsRequestsAreEachRoutedByTheirHost() throws {
        let directory = TempDirectory()
        directory.write("a/who.txt", "a")
        directory.write("b/who.txt", "b")
        let server = try TestServer(directory: directory)
        let connection = try TestConnection(port: server.port)
        let hosts = ["a.test", "b.test", "b.test", "A.TEST:8080", "B.test.", "nobody.test", "b.test", "", "b.test"]
        let expected = ["a", "b", "b", "a", "b", "a", "b", "a", "b"]
        for (host, site) in zip(hosts, expected) {
            let hostLine = host.isEmpty ? "" : "Host: \(host)\r\n"
            connection.send("GET /who.txt HTTP/1.\(host.isEmpty ? 0 : 1)\r\n\(hostLine)Connection: keep-alive\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.text == site, "Host \(host)")
        }
    }

    /// A connection opened before a reload is routed by the new config (the same Host bytes
    /// now name another site's index). The answers are also guarded by the template's own
    /// file and site checks; `theBytesTheStateAndTheLengthDecide` checks the memo itself.
    @Test func aReloadsSitesAreUsedOnAnOpenConnection() throws {
        let directory = TempDirectory()
        directory.write("a/who.txt", "a")
        directory.write("b/who.txt", "b")
        let server = try TestServer(directory: directory)
        let connection = try TestConnection(port: server.port)
        let request = "GET /who.txt HTTP/1.1\r\nHost: b.test\r\n\r\n"
        connection.send(request)
        #expect(try connection.readResponse().text == "b")
        let text = directory.path + "/config.json"
        let fd = open(text, O_RDONLY)
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &bytes, bytes.count)
        close(fd)
        let original = String(decoding: bytes[0..<count], as: UTF8.self)
        // The second site is renamed: b.test now goes to the default site, a.
        let json = original.replacingAll("\"host\": \"b.test\"", with: "\"host\": \"c.test\"")
        #expect(json != original)
        directory.write("config.json", json)
        try server.server.reload(try PluginRegistry.builtIn.configLoader.load(path: server.configPath))
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
