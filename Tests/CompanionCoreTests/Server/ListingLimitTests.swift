// Listings are bounded and compressed (issue 9 #14): a huge directory renders at most
// `maxEntries` entries and says how many more there are; pages are gzipped like files.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct ListingLimitTests {
    /// `count` files `f00000.txt`... in a/big/, file i holding i % 97 bytes.
    static func makeBigDirectory(_ directory: TempDirectory, count: Int) {
        directory.mkdir("a/big")
        for index in 0..<count {
            let name = "a/big/f" + String(repeating: "0", count: 5 - String(index).count) + String(index) + ".txt"
            let fd = open(directory.path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            precondition(fd >= 0)
            let bytes = [UInt8](repeating: UInt8(ascii: "x"), count: index % 97)
            bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
    }

    @Test func aCappedListingShowsTheFirstEntriesAndSaysHowManyMore() throws {
        let directory = TempDirectory()
        Self.makeBigDirectory(directory, count: 30)
        directory.mkdir("a/big/zsub")
        let server = try TestServer(directory: directory, configJSON: """
            {"listen": "LISTEN", "sites": [{"host": "a.test", "root": "a", "listing": {"maxEntries": 10}}]}
            """)

        let html = try get(server.port, "/big/")
        #expect(html.status == 200)
        #expect(html.header("X-Listing-Omitted") == "21")
        #expect(html.text.contains("21 more entries not shown"))
        // The directory first, then the first nine files by name.
        #expect(html.text.contains("zsub/"))
        #expect(html.text.contains(">f00008.txt<"))
        #expect(!html.text.contains(">f00009.txt<"))
        #expect(html.text.ranges(of: "<tr><td><a href=").count == 1 + 10)   // ../ and 10 entries

        // The cap applies after sorting: the ten largest files (sizes 29 down to 20).
        let bySize = try get(server.port, "/big/?format=json&sort=size&order=desc")
        #expect(bySize.header("X-Listing-Omitted") == "21")
        let names = bySize.text.split(separator: "\"name\":\"").dropFirst().map { String($0.prefix(10)) }
        #expect(names == ["zsub\",\"typ"] + (21...29).reversed().map { "f000\($0).txt" })
    }

    @Test func anUncappedListingHasNoOmittedHeader() throws {
        let directory = TempDirectory()
        Self.makeBigDirectory(directory, count: 5)
        let server = try TestServer(directory: directory)
        let response = try get(server.port, "/big/")
        #expect(response.header("X-Listing-Omitted") == nil)
        #expect(!response.text.contains("not shown"))
    }

    @Test func theDefaultCapBoundsAHugeDirectory() throws {
        let directory = TempDirectory()
        let count = SiteConfig.defaultListingMaxEntries + 1500
        Self.makeBigDirectory(directory, count: count)
        let server = try TestServer(directory: directory)
        let response = try get(server.port, "/big/?format=json")
        #expect(response.header("X-Listing-Omitted") == "1500")
        #expect(response.text.ranges(of: "\"name\":").count == SiteConfig.defaultListingMaxEntries)
        #expect(response.body.count < SiteConfig.defaultListingMaxEntries * 120)
    }

    @Test func listingsAreGzippedLikeFiles() throws {
        let directory = TempDirectory()
        Self.makeBigDirectory(directory, count: 40)
        let server = try TestServer(directory: directory)
        let plain = try get(server.port, "/big/")
        let gzipped = try get(server.port, "/big/", headers: ["Accept-Encoding: gzip"])
        #expect(plain.header("Content-Encoding") == nil)
        #expect(gzipped.header("Content-Encoding") == "gzip")
        #expect(gzipped.header("Vary") == "Accept, Accept-Encoding")
        #expect(plain.header("Vary") == "Accept, Accept-Encoding")
        #expect(gzipped.body.count < plain.body.count / 2)
        #expect(try Inflater.gunzip(gzipped.body) == plain.body)
        // JSON too, and the cached identity variant is not handed to a gzip client or back.
        let json = try get(server.port, "/big/?format=json", headers: ["Accept-Encoding: gzip"])
        #expect(json.header("Content-Encoding") == "gzip")
        #expect(try get(server.port, "/big/").header("Content-Encoding") == nil)
    }

    @Test func noGzipSiteSaysVaryAcceptOnly() throws {
        let directory = TempDirectory()
        Self.makeBigDirectory(directory, count: 40)
        let server = try TestServer(directory: directory, siteA: ", \"gzip\": false")
        let response = try get(server.port, "/big/", headers: ["Accept-Encoding: gzip"])
        #expect(response.header("Content-Encoding") == nil)
        #expect(response.header("Vary") == "Accept")
    }

    @Test func maxEntriesIsValidated() throws {
        let directory = TempDirectory()
        directory.mkdir("a")
        directory.mkdir("b")
        let path = directory.write("config.json", """
            {"sites": [{"host": "a.test", "root": "a", "listing": {"maxEntries": 0}},
                       {"host": "b.test", "root": "b", "listing": {"max": 3}}]}
            """)
        let error = #expect(throws: ConfigError.self) { try PluginRegistry.builtIn.configLoader.load(path: path) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("sites[0].listing.maxEntries"))
        #expect(text.contains("sites[1].listing.max"))
    }
}

@Suite struct ListingSelectionTests {
    /// The bounded selection keeps exactly what a full sort would put first, in every order.
    @Test func keepingAtMostEqualsSortThenPrefix() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<200 {
            let count = Int.random(in: 0...60, using: &generator)
            let entries = (0..<count).map { index in
                DirectoryEntry(name: Array("n\(Int.random(in: 0...20, using: &generator))-\(index)".utf8),
                               isDirectory: Int.random(in: 0...4, using: &generator) == 0,
                               size: Int.random(in: 0...5, using: &generator),
                               mtimeSeconds: Int.random(in: 0...5, using: &generator))
            }
            let key: ListingSort = [.name, .size, .mtime][round % 3]
            let order: ListingOrder = round % 2 == 0 ? .asc : .desc
            let limit = Int.random(in: 1...40, using: &generator)
            var full = entries
            ListingRenderer.sort(&full, by: key, order: order)
            var kept = entries
            let omitted = ListingRenderer.sort(&kept, by: key, order: order, keepingAtMost: limit)
            #expect(omitted == max(0, count - limit))
            #expect(kept.map(\.name) == full.prefix(limit).map(\.name))
        }
    }
}
