// ErrorPagesPlugin: custom bodies with the status kept, pre-loaded (a deleted
// page keeps being served until reload), read through the resolver (a page
// that escapes the root fails the start); config problems.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct ErrorPagesPluginTests {
    static let plugin = #"{"type": "errorPages", "pages": {"404": "/errors/404.html", "405": "/errors/405.txt"}}"#

    @Test func customBodiesKeepTheStatus() throws {
        let directory = TempDirectory()
        directory.write("a/errors/404.html", "<h1>Lost?</h1>")
        directory.write("a/errors/405.txt", "no such method")
        directory.write("a/here.txt", "here")
        let server = try PluginTest.server(directory, plugins: Self.plugin)

        let missing = try get(server.port, "/nowhere")
        #expect(missing.status == 404)
        #expect(missing.text == "<h1>Lost?</h1>")
        #expect(missing.header("Content-Type") == "text/html; charset=utf-8")
        #expect(missing.header("Content-Security-Policy") == nil)

        let post = try roundTrip(server.port, "POST /here.txt HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(post.status == 405)
        #expect(post.text == "no such method")
        #expect(post.header("Allow") == "GET, HEAD, OPTIONS")  // inner stage's header kept

        let head = try roundTrip(server.port, "HEAD /nowhere HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n", headRequest: true)
        #expect(head.status == 404)
        #expect(head.header("Content-Length") == "14")

        #expect(try get(server.port, "/here.txt").text == "here")
        // Other sites and statuses keep the built-in page.
        #expect(try get(server.port, "/nowhere", host: "b.test").text != "<h1>Lost?</h1>")
    }

    @Test func pagesArePreloaded() throws {
        let directory = TempDirectory()
        let page = directory.write("a/errors/404.html", "<h1>Lost?</h1>")
        directory.write("a/errors/405.txt", "no such method")
        let server = try PluginTest.server(directory, plugins: Self.plugin)
        unlink(page)
        #expect(try get(server.port, "/nowhere").text == "<h1>Lost?</h1>")
    }

    @Test func aMissingOrEscapingPageFailsTheStart() throws {
        let missing = TempDirectory()
        missing.write("a/errors/405.txt", "x")
        #expect(throws: ServerError.self) { try PluginTest.server(missing, plugins: Self.plugin) }

        let escaping = TempDirectory()
        escaping.write("secret.html", "TOP SECRET")
        escaping.write("a/errors/405.txt", "x")
        escaping.symlink("a/errors/404.html", to: escaping.path + "/secret.html")
        do {
            _ = try PluginTest.server(escaping, plugins: Self.plugin)
            Issue.record("a page outside the root was accepted")
        } catch let error as ServerError {
            #expect(error.description.hasPrefix("sites[0].plugins[0].pages.404: cannot read /errors/404.html"))
            #expect(!error.description.contains("SECRET"))
        }
    }

    static let problemCases: [(label: String, plugin: String, problem: String)] = [
        ("missing pages", #"{"type": "errorPages"}"#, "sites[0].plugins[1].pages: missing required key"),
        ("empty pages", #"{"type": "errorPages", "pages": {}}"#, "sites[0].plugins[1].pages: expected an object"),
        ("pages as list", #"{"type": "errorPages", "pages": ["/404.html"]}"#, "sites[0].plugins[1].pages: expected an object"),
        ("success status", #"{"type": "errorPages", "pages": {"200": "/ok.html"}}"#, "sites[0].plugins[1].pages.200: expected an error status"),
        ("not a status", #"{"type": "errorPages", "pages": {"four": "/x.html"}}"#, "sites[0].plugins[1].pages.four: expected an error status"),
        ("relative page", #"{"type": "errorPages", "pages": {"404": "404.html"}}"#, "sites[0].plugins[1].pages.404: expected the path of a file"),
        ("prefix page", #"{"type": "errorPages", "pages": {"404": "/errors/*"}}"#, "sites[0].plugins[1].pages.404: expected the path of a file"),
        ("traversal page", #"{"type": "errorPages", "pages": {"404": "/../x.html"}}"#, "sites[0].plugins[1].pages.404: expected the path of a file"),
        ("number page", #"{"type": "errorPages", "pages": {"404": 404}}"#, "sites[0].plugins[1].pages.404: expected the path of a file"),
        ("unknown key", #"{"type": "errorPages", "pages": {"404": "/a.html"}, "page": 1}"#, "sites[0].plugins[1].page: unknown key"),
    ]

    @Test(arguments: problemCases)
    func configProblems(label: String, plugin: String, problem: String) {
        #expect(PluginTest.hasProblem(plugin, problem), "\(label)")
    }
}
