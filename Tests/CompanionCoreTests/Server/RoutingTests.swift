// Live tests: virtual hosts, methods and basic status codes over real sockets.
import Testing
@testable import CompanionCore

@Suite struct RoutingTests {
    static func makeServer(_ directory: TempDirectory) throws -> TestServer {
        directory.write("a/index.html", "site A")
        directory.write("b/index.html", "site B")
        directory.write("w/index.html", "wildcard")
        directory.write("a/docs/page.html", "<p>page</p>")
        directory.mkdir("a/empty")
        let json = """
        {"listen": "LISTEN",
         "sites": [{"host": "a.test", "root": "a", "default": true},
                   {"host": ["b.test", "alias.test"], "root": "b"},
                   {"host": "*.wild.test", "root": "w"}]}
        """
        return try TestServer(directory: directory, configJSON: json)
    }

    @Test func hostHeaderPicksTheSite() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        #expect(try get(server.port, "/", host: "a.test").text == "site A")
        #expect(try get(server.port, "/", host: "b.test").text == "site B")
        #expect(try get(server.port, "/", host: "ALIAS.test:8080").text == "site B")
        #expect(try get(server.port, "/", host: "b.test.").text == "site B")
        #expect(try get(server.port, "/", host: "x.wild.test").text == "wildcard")
        #expect(try get(server.port, "/", host: "a.b.wild.test").text == "wildcard")
        #expect(try get(server.port, "/", host: "wild.test").text == "site A")
        #expect(try get(server.port, "/", host: "unknown.test").text == "site A")
    }

    @Test func absoluteFormAuthorityWinsOverHost() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let response = try roundTrip(server.port, "GET http://b.test/ HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.text == "site B")
    }

    @Test func missingOrDuplicateHostIs400() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        #expect(try roundTrip(server.port, "GET / HTTP/1.1\r\n\r\n").status == 400)
        #expect(try roundTrip(server.port, "GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n").status == 400)
        // HTTP/1.0 without Host goes to the default site.
        #expect(try roundTrip(server.port, "GET / HTTP/1.0\r\n\r\n").text == "site A")
    }

    @Test func methods() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let options = try roundTrip(server.port, "OPTIONS /index.html HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(options.status == 204)
        #expect(options.header("Allow") == "GET, HEAD, OPTIONS")
        let star = try roundTrip(server.port, "OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(star.status == 204)
        #expect(star.header("Allow") == "GET, HEAD, OPTIONS")
        let post = try roundTrip(server.port, "POST /index.html HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nabc")
        #expect(post.status == 405)
        #expect(post.header("Allow") == "GET, HEAD, OPTIONS")
        let delete = try roundTrip(server.port, "DELETE / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(delete.status == 405)
        let head = try roundTrip(server.port, "HEAD /index.html HTTP/1.1\r\nHost: a.test\r\n\r\n", headRequest: true)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "6")
        #expect(head.body.isEmpty)
    }

    @Test func fileHeaders() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let response = try get(server.port, "/docs/page.html")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
        #expect(response.header("Content-Length") == "11")
        #expect(response.header("Accept-Ranges") == "bytes")
        #expect(response.header("Server") == "companion")
        #expect(response.header("Date")?.hasSuffix("GMT") == true)
        #expect(response.header("Last-Modified")?.hasSuffix("GMT") == true)
        let etag = try #require(response.header("ETag"))
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
    }

    @Test func directories() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let redirect = try get(server.port, "/docs?x=1")
        #expect(redirect.status == 301)
        #expect(redirect.header("Location") == "/docs/?x=1")
        #expect(try get(server.port, "/docs/").status == 403)        // no index, listing off
        #expect(try get(server.port, "/empty/").status == 403)
        #expect(try get(server.port, "/missing").status == 404)
        #expect(try get(server.port, "/docs/page.html/").status == 404)
    }

    @Test func errorPagesDoNotRevealPaths() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        for path in ["/missing", "/docs/", "/%2e%2e/etc/passwd", "/.hidden"] {
            let response = try get(server.port, path)
            #expect(response.status >= 400)
            #expect(!response.text.contains(directory.path))
            #expect(!response.text.contains("/tmp"))
            #expect(response.header("X-Content-Type-Options") == "nosniff")
            #expect(response.header("Content-Security-Policy") != nil)
        }
    }

    @Test func keepAliveAndPipelining() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let connection = try TestConnection(port: server.port)
        connection.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\nGET / HTTP/1.1\r\nHost: b.test\r\n\r\nHEAD / HTTP/1.1\r\nHost: a.test\r\n\r\nGET /missing HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(try connection.readResponse().text == "site A")
        #expect(try connection.readResponse().text == "site B")
        let head = try connection.readResponse(headRequest: true)
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(try connection.readResponse().status == 404)
        // Still open: one more request on the same connection.
        connection.send("GET / HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n")
        let last = try connection.readResponse()
        #expect(last.text == "site B")
        #expect(last.header("Connection") == "close")
        #expect(connection.isClosedByPeer())
    }

    @Test func http10ClosesUnlessKeepAlive() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let plain = try TestConnection(port: server.port)
        plain.send("GET / HTTP/1.0\r\nHost: a.test\r\n\r\n")
        #expect(try plain.readResponse().status == 200)
        #expect(plain.isClosedByPeer())

        let kept = try TestConnection(port: server.port)
        kept.send("GET / HTTP/1.0\r\nHost: a.test\r\nConnection: keep-alive\r\n\r\n")
        let first = try kept.readResponse()
        #expect(first.header("Connection")?.lowercased() == "keep-alive")
        kept.send("GET / HTTP/1.0\r\nHost: b.test\r\n\r\n")
        #expect(try kept.readResponse().text == "site B")
    }

    @Test func requestBodiesAreDiscardedWithinTheLimit() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let connection = try TestConnection(port: server.port)
        connection.send("GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: b.test\r\n\r\n")
        #expect(try connection.readResponse().text == "site A")
        #expect(try connection.readResponse().text == "site B")
    }
}
