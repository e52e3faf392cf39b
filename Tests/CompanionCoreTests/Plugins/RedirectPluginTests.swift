// RedirectPlugin: `*` capture, status choice, query kept unless `to` has its
// own, no open redirect through the capture; config problems.
import Testing
@testable import CompanionCore

@Suite struct RedirectPluginTests {
    static let plugins = """
    {"type": "redirect", "from": "/old/*", "to": "/new/*", "status": 308},
    {"type": "redirect", "from": "/docs", "to": "https://docs.example/start?ref=old"},
    {"type": "redirect", "from": "/go*", "to": "/*", "status": 302},
    {"type": "redirect", "from": "/blog/*", "to": "https://blog.example/*", "status": 307},
    {"type": "redirect", "from": "/manual*", "to": "https://docs.example*", "status": 302}
    """

    static let cases: [(request: String, status: Int, location: String?)] = [
        ("/old/a/b.html", 308, "/new/a/b.html"),
        ("/old/a/b.html?x=1&y=2", 308, "/new/a/b.html?x=1&y=2"),
        ("/old/", 308, "/new/"),
        ("/old/a%20b", 308, "/new/a%20b"),
        ("/old/%3Fq%23f", 308, "/new/%3Fq%23f"),      // a decoded ? or # cannot start a query
        ("/docs", 301, "https://docs.example/start?ref=old"),
        ("/docs?x=1", 301, "https://docs.example/start?ref=old"),  // `to` has its own query
        ("/docs/", 200, nil),                          // exact pattern: not a prefix
        ("/go/evil.example", 302, "/evil.example"),   // never "//evil.example"
        ("/blog/2024/post", 307, "https://blog.example/2024/post"),
        ("/index.html", 200, nil),
        // A capture right after the authority cannot change the host.
        ("/manual/guide", 302, "https://docs.example/guide"),
        ("/manual", 302, "https://docs.example"),
        ("/manual@evil.example", 302, "https://docs.example/@evil.example"),
        ("/manual.evil.example/x", 302, "https://docs.example/.evil.example/x"),
        ("/manual:8080/x", 302, "https://docs.example/:8080/x"),
        ("/manual%5C@evil.example", 302, "https://docs.example/%5C@evil.example"),
    ]

    @Test(arguments: cases)
    func redirects(path: String, status: Int, location: String?) throws {
        let directory = TempDirectory()
        directory.write("a/index.html", "home")
        directory.write("a/docs/index.html", "docs")
        let server = try PluginTest.server(directory, plugins: Self.plugins)
        let response = try get(server.port, path)
        #expect(response.status == status, "\(path)")
        #expect(response.header("Location") == location, "\(path)")
    }

    @Test func headAndOtherMethodsAreRedirectedToo() throws {
        let directory = TempDirectory()
        let server = try PluginTest.server(directory, plugins: Self.plugins)
        let head = try roundTrip(server.port, "HEAD /old/x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n", headRequest: true)
        #expect(head.status == 308)
        #expect(head.header("Location") == "/new/x")
        let post = try roundTrip(server.port, "POST /old/x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(post.status == 308)
    }

    static let problemCases: [(label: String, plugin: String, problem: String)] = [
        ("bad status", #"{"type": "redirect", "from": "/a", "to": "/b", "status": 303}"#,
         "sites[0].plugins[1].status: expected 301, 302, 307 or 308, got 303"),
        ("status as string", #"{"type": "redirect", "from": "/a", "to": "/b", "status": "301"}"#,
         "sites[0].plugins[1].status: expected 301, 302, 307 or 308, got \"301\""),
        ("missing from", #"{"type": "redirect", "to": "/b"}"#, "sites[0].plugins[1].from: missing required key"),
        ("missing to", #"{"type": "redirect", "from": "/a"}"#, "sites[0].plugins[1].to: missing required key"),
        ("relative from", #"{"type": "redirect", "from": "a/*", "to": "/b"}"#, "sites[0].plugins[1].from: expected a path"),
        ("javascript to", #"{"type": "redirect", "from": "/a", "to": "javascript:alert(1)"}"#, "sites[0].plugins[1].to: expected a path"),
        ("scheme-relative to", #"{"type": "redirect", "from": "/a", "to": "//evil.example/"}"#, "sites[0].plugins[1].to: expected a path"),
        ("space in to", #"{"type": "redirect", "from": "/a", "to": "/b c"}"#, "sites[0].plugins[1].to: expected a path"),
        ("star without capture", #"{"type": "redirect", "from": "/a", "to": "/b/*"}"#, "sites[0].plugins[1].to: \"*\" inserts"),
        ("unknown key", #"{"type": "redirect", "from": "/a", "to": "/b", "code": 301}"#, "sites[0].plugins[1].code: unknown key"),
    ]

    @Test(arguments: problemCases)
    func configProblems(label: String, plugin: String, problem: String) {
        #expect(PluginTest.hasProblem(plugin, problem), "\(label)")
    }
}
