// Plugins used to see "/private/" while the index stage, after them, served
// "/private/index.html", so `match: "/private/index.html"` was bypassed by GET /private/.
// The index path is chosen before the plugins now; a pattern matches the path served or
// the path asked for.
import Testing
@testable import CompanionCore

@Suite struct PluginIndexMatchTests {
    @Test func basicAuthOnAnIndexFileCoversItsDirectory() throws {
        let directory = TempDirectory()
        directory.write("a/private/index.html", "secret index")
        let server = try PluginTest.server(directory, plugins: """
            {"type": "basicAuth", "match": "/private/index.html", "users": {"ann": "\(BasicAuthPluginTests.bobHash)"}}
            """)
        #expect(try get(server.port, "/private/index.html").status == 401)
        let viaDirectory = try get(server.port, "/private/")
        #expect(viaDirectory.status == 401)
        #expect(!viaDirectory.text.contains("secret index"))
        let allowed = try get(server.port, "/private/", headers: [BasicAuthPluginTests.basic("ann:hunter2")])
        #expect(allowed.status == 200 && allowed.text == "secret index")
    }

    @Test func aRuleForTheDirectoryStillAppliesToItsIndex() throws {
        let directory = TempDirectory()
        directory.write("a/docs/index.html", "docs")
        let server = try PluginTest.server(directory, plugins: """
            {"type": "headers", "match": "/docs/", "set": {"X-Dir": "yes"}},
            {"type": "headers", "match": "/docs/index.html", "set": {"X-File": "yes"}},
            {"type": "cors", "match": "/docs/index.html", "origins": "*"}
            """)
        let response = try get(server.port, "/docs/", headers: ["Origin: http://o.test"])
        #expect(response.text == "docs")
        #expect(response.header("X-Dir") == "yes")
        #expect(response.header("X-File") == "yes")
        #expect(response.header("Access-Control-Allow-Origin") == "*")
    }

    @Test func aDirectoryWithoutAnIndexIsStillListed() throws {
        let directory = TempDirectory()
        directory.write("a/files/one.txt", "1")
        let server = try PluginTest.server(directory, plugins: """
            {"type": "headers", "match": "/files/index.html", "set": {"X-File": "yes"}}
            """)
        let listing = try get(server.port, "/files/")
        #expect(listing.status == 200 && listing.text.contains("one.txt"))
        #expect(listing.header("X-File") == nil)
    }
}
