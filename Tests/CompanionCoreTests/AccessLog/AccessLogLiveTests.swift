// Live tests of the access log wired into the server: every response is a row
// with the right values, malformed requests are logged, rows show up within
// ~1.5 s while the server runs, and a graceful stop flushes everything.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct AccessLogLiveTests {
    struct Row: Equatable {
        var site: String?
        var host: String?
        var client: String?
        var method: String?
        var path: String?
        var query: String?
        var proto: String?
        var status: Int
        var bytes: Int
        var referrer: String?
        var userAgent: String?
        var encoding: String?
    }

    static func rows(_ path: String) throws -> [Row] {
        let db = try SQLiteDatabase(path: path, mode: .readOnly)
        let statement = try db.prepare(
            "SELECT site, host, client, method, path, query, protocol, status, bytes, referrer, user_agent, encoding, time, duration_us FROM requests ORDER BY id")
        var rows: [Row] = []
        while try statement.step() {
            rows.append(Row(site: statement.text(at: 0), host: statement.text(at: 1), client: statement.text(at: 2),
                            method: statement.text(at: 3), path: statement.text(at: 4), query: statement.text(at: 5),
                            proto: statement.text(at: 6), status: statement.int(at: 7), bytes: statement.int(at: 8),
                            referrer: statement.text(at: 9), userAgent: statement.text(at: 10), encoding: statement.text(at: 11)))
            let time = try #require(statement.text(at: 12))
            #expect(time.count == 24 && time.hasSuffix("Z") && time.contains("T"))
            #expect(statement.int(at: 13) >= 0)
        }
        return rows
    }

    static func count(_ path: String) -> Int {
        guard let db = try? SQLiteDatabase(path: path, mode: .readOnly),
              let statement = try? db.prepare("SELECT count(*) FROM requests"),
              (try? statement.step()) == true else { return 0 }
        return statement.int(at: 0)
    }

    @Test func everyResponseIsARowAfterAGracefulStop() throws {
        let directory = TempDirectory()
        directory.write("a/index.html", "0123456789")
        let server = try TestServer(directory: directory, topLevel: "\"accessLog\": {\"sqlite\": \"logs/access.sqlite\"},")
        let database = directory.path + "/logs/access.sqlite"

        var expected: [Row] = []
        for i in 0..<30 {
            let path = i % 3 == 0 ? "/index.html" : (i % 3 == 1 ? "/missing-\(i)" : "/index.html?x=\(i)")
            let response = try roundTrip(server.port,
                "GET \(path) HTTP/1.1\r\nHost: a.test\r\nReferer: http://r.test/\r\nUser-Agent: tester/\(i)\r\nConnection: close\r\n\r\n")
            let query: String? = path.contains("?") ? "x=\(i)" : nil
            let rawPath = path.split(separator: "?").first.map(String.init)
            expected.append(Row(site: "a.test", host: "a.test", client: "127.0.0.1", method: "GET", path: rawPath,
                                query: query, proto: "HTTP/1.1", status: response.status, bytes: response.body.count,
                                referrer: "http://r.test/", userAgent: "tester/\(i)", encoding: nil))
        }
        // A HEAD (no body bytes), a malformed request and a 1.0 request.
        _ = try roundTrip(server.port, "HEAD /index.html HTTP/1.0\r\n\r\n", headRequest: true)
        expected.append(Row(site: "a.test", host: nil, client: "127.0.0.1", method: "HEAD", path: "/index.html", query: nil,
                            proto: "HTTP/1.0", status: 200, bytes: 0, referrer: nil, userAgent: nil, encoding: nil))
        let bad = try roundTrip(server.port, "GET / HTTP/1.1\r\nHost: a.test\r\nBad Header: x\r\n\r\n")
        #expect(bad.status == 400)
        expected.append(Row(site: nil, host: nil, client: "127.0.0.1", method: nil, path: nil, query: nil,
                            proto: nil, status: 400, bytes: bad.body.count, referrer: nil, userAgent: nil, encoding: nil))

        server.server.stop()
        let rows = try Self.rows(database)
        #expect(rows.count == expected.count)
        for (row, want) in zip(rows, expected) { #expect(row == want) }
    }

    @Test func bytesThatAreNotUTF8AreStoredAsHexEscapes() throws {
        let directory = TempDirectory()
        directory.write("a/index.html", "x")
        let server = try TestServer(directory: directory, topLevel: "\"accessLog\": {\"sqlite\": \"log.sqlite\"},")
        let connection = try TestConnection(port: server.port)
        var request = Array("GET /index.html?q=%C3%A9 HTTP/1.1\r\nHost: a.test\r\nUser-Agent: caf".utf8)
        request += [0xC3, 0xA9, 0x20, 0xFF, 0x2F, 0x31]   // "é", a lone 0xFF, "/1"
        request += Array("\r\nConnection: close\r\n\r\n".utf8)
        connection.send(request)
        #expect(try connection.readResponse().status == 200)
        server.server.stop()
        let rows = try Self.rows(directory.path + "/log.sqlite")
        #expect(rows.count == 1)
        #expect(rows.first?.userAgent == "caf\u{E9} \\xFF/1")
        #expect(rows.first?.query == "q=%C3%A9")
        #expect(rows.first?.path == "/index.html")
    }

    /// An absolute-form target's authority routes the request (RFC 9112
    /// §3.2.2), so the row's host is that authority, not the Host header.
    @Test func absoluteFormRowsNameTheAuthorityThatRouted() throws {
        let directory = TempDirectory()
        let server = try TestServer(directory: directory, topLevel: "\"accessLog\": {\"sqlite\": \"log.sqlite\"},")
        directory.write("b/page.txt", "b")
        let response = try roundTrip(server.port,
            "GET http://b.test:8080/page.txt HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        #expect(response.text == "b")
        server.server.stop()
        let rows = try Self.rows(directory.path + "/log.sqlite")
        #expect(rows.count == 1)
        #expect(rows.first?.site == "b.test")
        #expect(rows.first?.host == "b.test:8080")
        #expect(rows.first?.path == "/page.txt")
    }

    @Test func rowsAreVisibleWhileRunning() throws {
        let directory = TempDirectory()
        directory.write("a/index.html", "hello")
        let server = try TestServer(directory: directory,
                                    topLevel: "\"accessLog\": {\"sqlite\": \"log.sqlite\", \"flushMs\": 1000},")
        for _ in 0..<5 { _ = try get(server.port, "/index.html") }
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        let start = Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
        var elapsed = 0.0
        while Self.count(directory.path + "/log.sqlite") < 5 && elapsed < 3 {
            usleep(50_000)   // polling the database with a deadline, not a fixed sleep
            clock_gettime(CLOCK_MONOTONIC, &clock)
            elapsed = Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9 - start
        }
        #expect(Self.count(directory.path + "/log.sqlite") == 5)
        #expect(elapsed < 1.6)
    }

    /// Pipelined responses are attributed their bytes in order: the first, written whole, is
    /// logged with its size; the second, cut short by a reset, with what was sent of it.
    @Test func pipelinedResponsesCutShortAreLoggedInOrder() throws {
        let directory = TempDirectory()
        directory.write("a/small.txt", "small")
        directory.write("a/big.bin", [UInt8](repeating: 7, count: 8 << 20))
        let server = try TestServer(directory: directory, topLevel: "\"accessLog\": {\"sqlite\": \"log.sqlite\"},")
        let quitter = try TestConnection(port: server.port)
        quitter.send("GET /small.txt HTTP/1.1\r\nHost: a.test\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(try quitter.readResponse().text == "small")
        let rows = try Self.cutShortBigFile(quitter, server: server, directory: directory)
        #expect(rows.filter { $0.path == "/small.txt" }.map(\.bytes) == [5])
    }

    @Test func timeoutsAndCutShortResponsesAreLogged() throws {
        let directory = TempDirectory()
        directory.write("a/big.bin", [UInt8](repeating: 7, count: 8 << 20))
        let server = try TestServer(directory: directory,
                                    topLevel: "\"accessLog\": {\"sqlite\": \"log.sqlite\"}, \"limits\": {\"headerTimeoutMs\": 300},")
        let slow = try TestConnection(port: server.port)
        slow.send("GET / HTTP/1.1\r\nHost: a")
        #expect(try slow.readResponse().status == 408)

        // A client that reads a little of a large file and goes away.
        let quitter = try TestConnection(port: server.port)
        quitter.send("GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n")
        let rows = try Self.cutShortBigFile(quitter, server: server, directory: directory)
        #expect(rows.contains { $0.status == 408 && $0.method == nil })
    }

    /// `quitter` has asked for the 8 MiB /big.bin: it reads 1,000 bytes and resets the connection;
    /// the server is stopped and its rows returned, the cut-short 200 checked (some bytes, not all).
    private static func cutShortBigFile(_ quitter: TestConnection, server: TestServer,
                                        directory: TempDirectory) throws -> [Row] {
        var buffer = [UInt8](repeating: 0, count: 1000)
        _ = buffer.withUnsafeMutableBytes { recv(quitter.fd, $0.baseAddress, 1000, 0) }
        quitter.abort()   // RST: the server's next write fails
        _ = try get(server.port, "/big.bin", headers: ["Range: bytes=0-0"])   // keeps the loop busy until it notices
        server.server.stop()
        let rows = try Self.rows(directory.path + "/log.sqlite")
        let cut = try #require(rows.first { $0.path == "/big.bin" && $0.status == 200 })
        #expect(cut.bytes > 0)
        #expect(cut.bytes < 8 << 20)
        return rows
    }
}
