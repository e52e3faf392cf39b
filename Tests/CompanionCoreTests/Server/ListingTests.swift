// Live tests of directory listings: HTML escaping, JSON, sorting, hidden entries.
import Testing
@testable import CompanionCore

@Suite struct ListingTests {
    static func makeServer(_ directory: TempDirectory) throws -> TestServer {
        directory.write("a/files/b.txt", "bb")
        directory.write("a/files/A.txt", "a")
        directory.write("a/files/<img src=x onerror=alert(1)>.html", "x")
        directory.write("a/files/quote\"and'amp&.txt", "q")
        directory.write("a/files/what?#.txt", "w")
        directory.write("a/files/my:file.txt", "c")
        directory.write("a/files/.hidden", "h")
        directory.mkdir("a/files/zdir")
        directory.symlink("a/files/outside", to: "/etc")
        directory.write("a/withindex/index.html", "index page")
        return try TestServer(directory: directory)
    }

    @Test func htmlListingEscapesNamesAndHidesEntries() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let response = try get(server.port, "/files/")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
        #expect(response.header("X-Content-Type-Options") == "nosniff")
        #expect(response.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        let html = response.text
        #expect(!html.contains("<img src=x"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;.html"))
        #expect(html.contains("%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.html") || html.contains("%3Cimg%20src=x%20onerror=alert(1)%3E.html"))
        #expect(html.contains("what%3F%23.txt"))
        #expect(html.contains("./my:file.txt") || html.contains("my%3Afile.txt"))
        #expect(!html.contains(".hidden"))
        #expect(!html.contains("outside"))
        #expect(html.contains("../"))
        // Directories first, then files case-insensitively.
        let zdir = try #require(html.firstRange(of: "zdir/"))
        let aFile = try #require(html.firstRange(of: "A.txt"))
        let bFile = try #require(html.firstRange(of: "b.txt"))
        #expect(zdir.lowerBound < aFile.lowerBound)
        #expect(aFile.lowerBound < bFile.lowerBound)
    }

    @Test func jsonListing() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let viaQuery = try get(server.port, "/files/?format=json")
        let viaAccept = try get(server.port, "/files/", headers: ["Accept: application/json"])
        #expect(viaQuery.header("Content-Type") == "application/json; charset=utf-8")
        #expect(viaQuery.text == viaAccept.text)
        let json = viaQuery.text
        #expect(json.hasPrefix("[{\"name\":\"zdir\",\"type\":\"dir\""))
        #expect(json.contains("{\"name\":\"A.txt\",\"type\":\"file\",\"size\":1,\"mtime\":\""))
        #expect(json.contains("\"name\":\"quote\\\"and'amp&.txt\""))
        #expect(!json.contains(".hidden"))
    }

    @Test func sortParameters() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let bySizeDesc = try get(server.port, "/files/?format=json&sort=size&order=desc").text
        let b = try #require(bySizeDesc.firstRange(of: "\"b.txt\""))
        let a = try #require(bySizeDesc.firstRange(of: "\"A.txt\""))
        #expect(b.lowerBound < a.lowerBound)
    }

    @Test func indexWinsOverListingAndRootHasNoParentLink() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        #expect(try get(server.port, "/withindex/").text == "index page")
        let root = try get(server.port, "/")
        #expect(root.status == 200)
        #expect(!root.text.contains("href=\"../\""))
        // Listing is off for b.test.
        directory.mkdir("b/sub")
        #expect(try get(server.port, "/sub/", host: "b.test").status == 403)
    }
}
