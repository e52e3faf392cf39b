// Live tests of the loops' FileCache without its watches (the fallback when inotify is
// unavailable): a changed file is served as it was for at most the cache lifetime, then
// as it is; 404s are cached the same way; a reload forgets everything at once. With
// watches, see FreshnessTests.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct FileCacheTests {
    static func waitUntil(_ deadlineMs: Int64, _ condition: () throws -> Bool) rethrows -> Bool {
        while monotonicMilliseconds() < deadlineMs {
            if try condition() { return true }
            usleep(20_000)   // polling against a deadline, not a fixed sleep
        }
        return try condition()
    }

    @Test func changesAreVisibleWithinTheLifetime() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "old")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: 300, fileCacheWatches: false)
        #expect(try get(server.port, "/page.txt").text == "old")
        let changedAt = monotonicMilliseconds()
        directory.write("a/page.txt", "new!")
        directory.write("a/late.txt", "born")
        let seen = try Self.waitUntil(changedAt + 2000) { try get(server.port, "/page.txt").text == "new!" }
        #expect(seen)
        #expect(monotonicMilliseconds() - changedAt < 1500)
        // The body and its Content-Length always agree, whichever version is served.
        let response = try get(server.port, "/page.txt")
        #expect(Int(response.header("Content-Length") ?? "") == response.body.count)
        #expect(try Self.waitUntil(changedAt + 2000) { try get(server.port, "/late.txt").status == 200 })
    }

    /// Two names that are the same text to Swift's String (é precomposed, and e with a
    /// combining accent) are two files to Linux: each is served its own, in either order, and
    /// the cache keeps them apart.
    @Test func canonicallyEquivalentNamesAreDifferentFiles() throws {
        let directory = TempDirectory()
        directory.write("a/caf\u{E9}.txt", "precomposed")
        directory.write("a/cafe\u{301}.txt", "decomposed")
        let server = try TestServer(directory: directory)
        for _ in 0..<2 {
            #expect(try get(server.port, "/caf%C3%A9.txt").text == "precomposed")
            #expect(try get(server.port, "/cafe%CC%81.txt").text == "decomposed")
        }
        // Compressed variants are keyed by path, size and time: the same size and time (a tar
        // extracts both so) must still give each name its own.
        let one = String(repeating: "precomposed text, ", count: 100)
        let two = String(repeating: "decomposed words, ", count: 100)
        #expect(one.utf8.count == two.utf8.count)
        directory.write("a/r\u{E9}sum\u{E9}.txt", one)
        directory.write("a/re\u{301}sume\u{301}.txt", two)
        directory.setModified("a/r\u{E9}sum\u{E9}.txt", 1_700_000_000)
        directory.setModified("a/re\u{301}sume\u{301}.txt", 1_700_000_000)
        for _ in 0..<2 {
            for (path, text) in [("/r%C3%A9sum%C3%A9.txt", one), ("/re%CC%81sume%CC%81.txt", two)] {
                let response = try get(server.port, path, headers: ["Accept-Encoding: gzip"])
                #expect(response.header("Content-Encoding") == "gzip")
                #expect(try Inflater.gunzip(response.body) == Array(text.utf8), "\(path)")
            }
        }
    }

    @Test func withoutACacheEveryRequestSeesTheDisk() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "one")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: 0)
        #expect(try get(server.port, "/page.txt").text == "one")
        directory.write("a/page.txt", "two")
        #expect(try get(server.port, "/page.txt").text == "two")
    }

    @Test func reloadForgetsCachedAnswers() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "v1")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: 60_000, fileCacheWatches: false)
        #expect(try get(server.port, "/missing.txt").status == 404)
        #expect(try get(server.port, "/page.txt").text == "v1")
        directory.write("a/page.txt", "v2")
        directory.write("a/missing.txt", "here")
        #expect(try get(server.port, "/page.txt").text == "v1")   // cached for a minute
        let config = try PluginRegistry.builtIn.configLoader.load(path: server.configPath)
        try server.server.reload(config)
        // The reload reaches each loop through its mailbox; poll until it has.
        #expect(try Self.waitUntil(monotonicMilliseconds() + 2000) { try get(server.port, "/page.txt").text == "v2" })
        #expect(try get(server.port, "/missing.txt").text == "here")
    }

    /// `reload` returns only once every loop serves the new config, so a request sent right
    /// after it (after "config reloaded" on stderr) never gets the old answer. It used to
    /// return after posting: a loop woken with the new connection and the reload in one
    /// epoll batch answered the request first (seen as a flaky SIGHUP test under ASan).
    @Test func aRequestAfterReloadReturnsAlwaysSeesTheNewConfig() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "v0")
        let server = try TestServer(directory: directory, workers: 2, fileCacheMilliseconds: 60_000, fileCacheWatches: false)
        let config = try PluginRegistry.builtIn.configLoader.load(path: server.configPath)
        var stale: [String] = []
        for round in 1...1500 {
            directory.write("a/page.txt", "v\(round)")
            try server.server.reload(config)
            let text = try get(server.port, "/page.txt").text
            if text != "v\(round)" { stale.append("round \(round): \(text)") }
        }
        #expect(stale.isEmpty, "\(stale.count) stale answers: \(stale.prefix(5))")
    }
}
