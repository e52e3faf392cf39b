// SPAFallbackPlugin: client-side routes answer the fallback with 200; missing
// assets (a "." in the last segment) stay 404; config problems.
import Testing
@testable import CompanionCore

@Suite struct SPAFallbackPluginTests {
    static let cases: [(path: String, status: Int, body: String?)] = [
        ("/users/42", 200, "<app>"),
        ("/settings/", 200, "<app>"),
        ("/deep/route/with/segments", 200, "<app>"),
        ("/app.js", 404, nil),
        ("/assets/logo.png", 404, nil),
        ("/v1.2/route", 200, "<app>"),       // only the last segment counts
        ("/real.txt", 200, "real"),
        ("/", 200, "<app>"),                  // the index file itself
        ("/.hidden", 404, nil),
    ]

    @Test(arguments: cases)
    func fallback(path: String, status: Int, body: String?) throws {
        let directory = TempDirectory()
        directory.write("a/index.html", "<app>")
        directory.write("a/real.txt", "real")
        let server = try PluginTest.server(directory, plugins: #"{"type": "spaFallback"}"#)
        let response = try get(server.port, path)
        #expect(response.status == status, "\(path)")
        if let body { #expect(response.text == body, "\(path)") }
    }

    @Test func customTargetHeadAndOtherMethods() throws {
        let directory = TempDirectory()
        directory.write("a/shell.html", String(repeating: "<app-shell></app-shell>\n", count: 40))
        let server = try PluginTest.server(directory, plugins: #"{"type": "spaFallback", "to": "/shell.html"}"#)
        let response = try get(server.port, "/route", headers: ["Accept-Encoding: gzip"])
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
        #expect(response.header("Content-Encoding") == "gzip")  // goes through the inner stages
        let head = try roundTrip(server.port, "HEAD /route HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n", headRequest: true)
        #expect(head.status == 200)
        let post = try roundTrip(server.port, "POST /route HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(post.status == 405)
    }

    @Test func aMissingFallbackKeepsThe404() throws {
        let directory = TempDirectory()
        let server = try PluginTest.server(directory, plugins: #"{"type": "spaFallback", "to": "/nope.html"}"#)
        #expect(try get(server.port, "/route").status == 404)
    }

    static let problemCases: [(label: String, plugin: String, problem: String)] = [
        ("prefix target", #"{"type": "spaFallback", "to": "/dist/*"}"#, "sites[0].plugins[1].to: expected the path of a file"),
        ("folder target", #"{"type": "spaFallback", "to": "/dist/"}"#, "sites[0].plugins[1].to: expected the path of a file"),
        ("relative target", #"{"type": "spaFallback", "to": "index.html"}"#, "sites[0].plugins[1].to: expected a path"),
        ("dot-dot target", #"{"type": "spaFallback", "to": "/../etc/passwd"}"#, "sites[0].plugins[1].to: expected a path"),
        ("not a string", #"{"type": "spaFallback", "to": 1}"#, "sites[0].plugins[1].to: expected a string"),
        ("unknown key", #"{"type": "spaFallback", "fallback": "/x.html"}"#, "sites[0].plugins[1].fallback: unknown key"),
    ]

    @Test(arguments: problemCases)
    func configProblems(label: String, plugin: String, problem: String) {
        #expect(PluginTest.hasProblem(plugin, problem), "\(label)")
    }
}
