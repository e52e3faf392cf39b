// Listings are bounded and compressed: a huge directory renders at most
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
        #expect(try get(server.port, "/big/").text.contains("1,500 more entries not shown"))
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

/// Listings are rendered off the loop: with the background thread held, the
/// loop still answers other requests, a listing waits for its page, and a full queue is 503.
@Suite struct ListingOffLoopTests {
    /// Holds the server's background thread until `release`.
    final class Gate: @unchecked Sendable {   // Countdowns are thread-safe
        private var opened = Countdown(count: 1)

        /// Returns once the background thread is inside the blocking job.
        func block(_ queue: BackgroundQueue) {
            let started = Countdown(count: 1)
            opened = Countdown(count: 1)
            let opened = opened
            #expect(queue.submit {
                started.arrive()
                _ = opened.wait(milliseconds: 10_000)
            })
            #expect(started.wait(milliseconds: 10_000))
        }

        func release() { opened.arrive() }
    }

    @Test func otherRequestsAreAnsweredWhileAListingIsRendered() throws {
        let directory = TempDirectory()
        ListingLimitTests.makeBigDirectory(directory, count: 20)
        directory.write("a/small.txt", "small")
        let server = try TestServer(directory: directory)
        let gate = Gate()
        gate.block(server.server.backgroundQueue)
        // Many clients ask for the same listing at once: they wait for one rendering.
        var waiting: [TestConnection] = []
        for _ in 0..<10 {
            let connection = try TestConnection(port: server.port, timeoutSeconds: 5)
            connection.send("GET /big/ HTTP/1.1\r\nHost: a.test\r\n\r\n")
            waiting.append(connection)
        }
        #expect(try get(server.port, "/small.txt").text == "small")   // the loop is free
        #expect(server.server.backgroundQueue.queuedJobs == 1)        // one job for ten requests
        #expect(waiting.allSatisfy { !hasInput($0.fd) })                 // no listing yet
        gate.release()
        for connection in waiting {
            let response = try connection.readResponse()
            #expect(response.status == 200 && response.text.contains(">f00019.txt<"))
        }
        // Then it is in the loop's cache: answered at once, even with the thread held again.
        gate.block(server.server.backgroundQueue)
        #expect(try get(server.port, "/big/").text.contains(">f00019.txt<"))
        gate.release()
    }

    @Test func aPipelinedRequestBehindAParkedListingWaitsItsTurn() throws {
        let directory = TempDirectory()
        ListingLimitTests.makeBigDirectory(directory, count: 3)
        directory.write("a/small.txt", "small")
        let server = try TestServer(directory: directory)
        let gate = Gate()
        gate.block(server.server.backgroundQueue)
        let connection = try TestConnection(port: server.port, timeoutSeconds: 5)
        connection.send("GET /big/ HTTP/1.1\r\nHost: a.test\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        #expect(try get(server.port, "/small.txt").text == "small")
        #expect(!hasInput(connection.fd))
        gate.release()
        #expect(try connection.readResponse().text.contains("f00002.txt"))
        #expect(try connection.readResponse().text == "small")
        #expect(connection.isClosedByPeer())
    }

    @Test func aFullBackgroundQueueIsAnswered503() throws {
        let directory = TempDirectory()
        ListingLimitTests.makeBigDirectory(directory, count: 3)
        let server = try TestServer(directory: directory)
        let queue = server.server.backgroundQueue
        let gate = Gate()
        gate.block(queue)
        while queue.submit({}) {}   // fill it
        let response = try get(server.port, "/big/")
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "1")
        gate.release()
        var status = 0
        for _ in 0..<100 where status != 200 {
            status = try get(server.port, "/big/").status
            if status != 200 { usleep(20_000) }   // until the queue has drained
        }
        #expect(status == 200)
    }
}
