// HeadersPlugin: set/replace and remove response headers for matching paths, on
// every status; config problems name sites[i].plugins[j].key.
import Testing
@testable import CompanionCore

@Suite struct HeadersPluginTests {
    static let plugins = """
    {"type": "headers", "match": "/assets/*",
     "set": {"Cache-Control": "public, max-age=31536000, immutable", "X-Frame-Options": "DENY",
             "Content-Type": "text/x-custom"},
     "remove": ["Last-Modified"]},
    {"type": "headers", "set": {"X-Everywhere": "yes"}}
    """

    @Test func setsAndRemovesHeadersOnMatchingPaths() throws {
        let directory = TempDirectory()
        directory.write("a/assets/app.css", "body{}")
        directory.write("a/page.html", "<p>hi</p>")
        let server = try PluginTest.server(directory, plugins: Self.plugins)

        let asset = try get(server.port, "/assets/app.css")
        #expect(asset.status == 200)
        #expect(asset.header("Cache-Control") == "public, max-age=31536000, immutable")
        #expect(asset.header("X-Frame-Options") == "DENY")
        #expect(asset.header("Content-Type") == "text/x-custom")  // typed headers are replaced, not doubled
        #expect(asset.headers("Content-Type").count == 1)
        #expect(asset.header("Last-Modified") == nil)
        #expect(asset.header("X-Everywhere") == "yes")

        let page = try get(server.port, "/page.html")
        #expect(page.header("Cache-Control") == nil)
        #expect(page.header("Last-Modified") != nil)
        #expect(page.header("X-Everywhere") == "yes")

        // Every status: a missing asset and a 304 carry them too.
        #expect(try get(server.port, "/assets/missing.css").header("Cache-Control") != nil)
        let etag = try #require(asset.header("ETag"))
        let notModified = try get(server.port, "/assets/app.css", headers: ["If-None-Match: \(etag)"])
        #expect(notModified.status == 304)
        #expect(notModified.header("Cache-Control") == "public, max-age=31536000, immutable")
    }

    @Test func removingVaryAndExtraHeaders() throws {
        let directory = TempDirectory()
        directory.write("a/app.js", String(repeating: "x = 1;\n", count: 100))
        let server = try PluginTest.server(directory, plugins: #"{"type": "headers", "remove": ["Vary", "X-Content-Type-Options"]}"#)
        #expect(try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"]).header("Vary") == nil)
        #expect(try get(server.port, "/missing").header("X-Content-Type-Options") == nil)
    }

    static let problemCases: [(label: String, plugin: String, problem: String)] = [
        ("unknown key", #"{"type": "headers", "sett": {"A": "b"}}"#, "sites[0].plugins[1].sett: unknown key (did you mean \"set\"?)"),
        ("nothing to do", #"{"type": "headers", "match": "/a"}"#, "sites[0].plugins[1].set: missing"),
        ("bad pattern", #"{"type": "headers", "match": "assets/*", "set": {"A": "b"}}"#, "sites[0].plugins[1].match: expected a path"),
        ("star inside", #"{"type": "headers", "match": "/a/*/b", "set": {"A": "b"}}"#, "sites[0].plugins[1].match: expected a path"),
        ("bad name", #"{"type": "headers", "set": {"Bad Name": "b"}}"#, "sites[0].plugins[1].set[\"Bad Name\"]: expected a header name"),
        ("CRLF value", #"{"type": "headers", "set": {"X-A": "b\r\nSet-Cookie: x=1"}}"#, "sites[0].plugins[1].set.X-A: expected a header value"),
        ("NUL value", #"{"type": "headers", "set": {"X-A": "b\u0000"}}"#, "sites[0].plugins[1].set.X-A: expected a header value"),
        ("number value", #"{"type": "headers", "set": {"X-A": 5}}"#, "sites[0].plugins[1].set.X-A: expected a string"),
        ("set not object", #"{"type": "headers", "set": ["X-A"]}"#, "sites[0].plugins[1].set: expected an object"),
        ("framing header", #"{"type": "headers", "set": {"Content-Length": "5"}}"#, "sites[0].plugins[1].set: Content-Length is written by the server"),
        ("remove framing", #"{"type": "headers", "remove": ["Transfer-Encoding"]}"#, "sites[0].plugins[1].remove: Transfer-Encoding"),
        ("remove bad name", #"{"type": "headers", "remove": ["a b"]}"#, "sites[0].plugins[1].remove[0]: expected a header name"),
        ("remove not list", #"{"type": "headers", "remove": "Server"}"#, "sites[0].plugins[1].remove: expected a list"),
        ("unknown type", #"{"type": "header"}"#, "sites[0].plugins[1].type: unknown plugin type \"header\""),
    ]

    @Test(arguments: problemCases)
    func configProblems(label: String, plugin: String, problem: String) {
        #expect(PluginTest.hasProblem(plugin, problem), "\(label)")
    }

    @Test func allProblemsAreListed() {
        let problems = PluginTest.problems(#"{"type": "headers", "match": "x", "set": {"A B": "c"}, "extra": 1}"#)
        #expect(problems.count == 3, "\(problems)")
    }
}
