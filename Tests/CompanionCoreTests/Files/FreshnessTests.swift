// Files fresh the moment they change: the loops keep answers until inotify
// reports a change, so the next request after a write, a rename over, a delete, a new
// file, a renamed directory or a swapped symlink sees the disk as it is, with a cache
// lifetime of a minute that would otherwise hide every change.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct FreshnessTests {
    /// A minute: long enough that only a watched change can explain a fresh answer.
    static let lifetime = 60_000

    @Test func aWrittenFileIsFreshOnTheNextRequestOnEveryLoop() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "v0")
        let server = try TestServer(directory: directory, workers: 2, fileCacheMilliseconds: Self.lifetime)
        var stale: [String] = []
        for round in 1...400 {
            // Lengths vary, so a stale size or preloaded body would show.
            let text = String(repeating: "v\(round)", count: round % 7 + 1)
            directory.write("a/page.txt", text)
            let response = try get(server.port, "/page.txt")
            if response.text != text { stale.append("round \(round): \(response.text)") }
            #expect(Int(response.header("Content-Length") ?? "") == response.body.count)
        }
        #expect(stale.isEmpty, "\(stale.count) stale answers: \(stale.prefix(5))")
    }

    @Test func renamedOverDeletedAndCreatedFiles() throws {
        let directory = TempDirectory()
        directory.write("a/docs/page.html", "first")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: Self.lifetime)
        #expect(try get(server.port, "/docs/page.html").text == "first")
        #expect(try get(server.port, "/docs/new.html").status == 404)
        // A deploy's atomic replace: write elsewhere, rename over.
        directory.write("a/docs/.page.html.tmp", "second")
        #expect(rename(directory.path + "/a/docs/.page.html.tmp", directory.path + "/a/docs/page.html") == 0)
        #expect(try get(server.port, "/docs/page.html").text == "second")
        directory.write("a/docs/new.html", "born")
        #expect(try get(server.port, "/docs/new.html").text == "born")
        #expect(unlink(directory.path + "/a/docs/page.html") == 0)
        #expect(try get(server.port, "/docs/page.html").status == 404)
        // A 404 under a directory that does not exist yet: its creation is seen in the parent.
        #expect(try get(server.port, "/later/deep/file.txt").status == 404)
        directory.write("a/later/deep/file.txt", "deep")
        #expect(try get(server.port, "/later/deep/file.txt").text == "deep")
    }

    @Test func renamedDirectoriesAndSwappedSymlinks() throws {
        let directory = TempDirectory()
        directory.write("a/dir/x.txt", "in dir")
        directory.write("a/releases/v1/app.txt", "release 1")
        directory.write("a/releases/v2/app.txt", "release 2")
        directory.symlink("a/current", to: "releases/v1")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: Self.lifetime)
        #expect(try get(server.port, "/dir/x.txt").text == "in dir")
        #expect(rename(directory.path + "/a/dir", directory.path + "/a/moved") == 0)
        #expect(try get(server.port, "/dir/x.txt").status == 404)
        #expect(try get(server.port, "/moved/x.txt").text == "in dir")
        // A new directory under the old name: its files, not the moved one's watch.
        directory.write("a/dir/x.txt", "new dir")
        #expect(try get(server.port, "/dir/x.txt").text == "new dir")
        directory.write("a/dir/y.txt", "y")
        #expect(try get(server.port, "/dir/y.txt").text == "y")

        #expect(try get(server.port, "/current/app.txt").text == "release 1")
        // `ln -sfn` done atomically: a new symlink renamed over the old one.
        directory.symlink("a/current.new", to: "releases/v2")
        #expect(rename(directory.path + "/a/current.new", directory.path + "/a/current") == 0)
        #expect(try get(server.port, "/current/app.txt").text == "release 2")
        // And a change inside the new target is seen through the symlink.
        directory.write("a/releases/v2/app.txt", "release 2.1")
        #expect(try get(server.port, "/current/app.txt").text == "release 2.1")
    }

    @Test func listingsShowADirectoryAsItIsNow() throws {
        let directory = TempDirectory()
        directory.write("a/files/one.txt", "1")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: Self.lifetime)
        #expect(try get(server.port, "/files/?format=json").text.contains("one.txt"))
        for round in 1...30 {
            directory.write("a/files/f\(round).txt", String(repeating: "x", count: round))
            let json = try get(server.port, "/files/?format=json").text
            #expect(json.contains("\"f\(round).txt\",\"type\":\"file\",\"size\":\(round)"), "round \(round)")
        }
        #expect(unlink(directory.path + "/a/files/one.txt") == 0)
        #expect(try !get(server.port, "/files/?format=json").text.contains("one.txt"))
        #expect(try !get(server.port, "/files/").text.contains("one.txt"))
        // A size change of an entry shows too.
        directory.write("a/files/f1.txt", "grown")
        #expect(try get(server.port, "/files/?format=json").text.contains("\"f1.txt\",\"type\":\"file\",\"size\":5"))
    }

    @Test func compressedVariantsFollowTheirFile() throws {
        let directory = TempDirectory()
        let one = String(repeating: "body { color: red; } ", count: 40)
        let two = String(repeating: "body { color: blue; } ", count: 50)
        directory.write("a/site.css", one)
        let server = try TestServer(directory: directory, siteA: ", \"gzip\": true", fileCacheMilliseconds: Self.lifetime)
        let first = try get(server.port, "/site.css", headers: ["Accept-Encoding: gzip"])
        #expect(first.header("Content-Encoding") == "gzip")
        #expect(try Inflater.gunzip(first.body) == Array(one.utf8))
        directory.write("a/site.css", two)
        let second = try get(server.port, "/site.css", headers: ["Accept-Encoding: gzip"])
        #expect(try Inflater.gunzip(second.body) == Array(two.utf8))
        #expect(second.header("ETag") != first.header("ETag"))
        #expect(unlink(directory.path + "/a/site.css") == 0)
        #expect(try get(server.port, "/site.css", headers: ["Accept-Encoding: gzip"]).status == 404)
    }

    /// The loop's inotify descriptor is in its epoll set: a turn whose wait did not report it
    /// reads nothing (one system call fewer per request with one connection), and a change
    /// still reaches the next request because the wait reports it.
    @Test func onlyTurnsWithChangesReadTheWatcher() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "v0")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: Self.lifetime)
        let connection = try TestConnection(port: server.port)
        func fetch() throws -> String {
            connection.send("GET /page.txt HTTP/1.1\r\nHost: a.test\r\n\r\n")
            return try connection.readResponse().text
        }
        #expect(try fetch() == "v0")   // the directory is watched from here on
        let reads = { server.server.metrics.total(LoopMetrics.Cell.turnFileChangeReads) }
        let quiet = reads()
        for _ in 1...50 { #expect(try fetch() == "v0") }
        // Each request was a turn of its own; none had anything to read.
        #expect(reads() == quiet)
        for round in 1...20 {
            directory.write("a/page.txt", "v\(round)")
            #expect(try fetch() == "v\(round)")
        }
        #expect(reads() > quiet)
    }

    /// Past its watch limit a loop's cache starts over with a new inotify instance (when the
    /// cache fills up): the loop registers that one in its epoll set too, so quiet turns still
    /// read nothing and changes under the new watches still reach the next request.
    @Test func aNewWatcherInstanceIsWaitedOnToo() throws {
        let directory = TempDirectory()
        directory.write("a/x/page.txt", "x0")
        directory.write("a/y/page.txt", "y0")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: Self.lifetime, fileWatchLimit: 2)
        let connection = try TestConnection(port: server.port)
        func fetch(_ path: String) throws -> TestResponse {
            connection.send("GET \(path) HTTP/1.1\r\nHost: a.test\r\n\r\n")
            return try connection.readResponse()
        }
        #expect(try fetch("/x/page.txt").text == "x0")   // watches a/ and a/x/: the limit
        // More distinct answers than the cache holds (at most 512): it empties itself and,
        // its watches at their limit, takes a new instance.
        for i in 0..<600 { #expect(try fetch("/missing-\(i).txt").status == 404) }
        // a/y/ can only be watched by the new instance; with the old one full it would keep its
        // answer for the lifetime (a minute) instead.
        #expect(try fetch("/y/page.txt").text == "y0")
        let reads = { server.server.metrics.total(LoopMetrics.Cell.turnFileChangeReads) }
        let quiet = reads()
        for _ in 1...20 { #expect(try fetch("/y/page.txt").text == "y0") }
        #expect(reads() == quiet)
        directory.write("a/y/page.txt", "y1")
        #expect(try fetch("/y/page.txt").text == "y1")
        // And the new instance wakes the loop by itself: a deleted file's descriptor is closed
        // with no request coming (the lifetime is a minute, so no sweep does it).
        let file = directory.write("a/y/big.bin", [UInt8](repeating: 7, count: 100_000))
        #expect(try fetch("/y/big.bin").body.count == 100_000)
        #expect(unlink(file) == 0)
        #expect(Self.waitUntilClosed(file))
    }

    /// Waits (up to 5 s) until no descriptor of this process is open on the deleted `file`.
    static func waitUntilClosed(_ file: String) -> Bool {
        let deadline = monotonicMilliseconds() + 5000
        while openDescriptors(to: file + " (deleted)") > 0 && monotonicMilliseconds() < deadline { usleep(20_000) }
        return openDescriptors(to: file + " (deleted)") == 0
    }

    /// A deleted file's descriptor is closed without waiting for a request for it: the
    /// watcher's descriptor wakes the loop (the lifetime is a minute, so no sweep does it).
    @Test func aDeletedFileIsNotHeldOpen() throws {
        let directory = TempDirectory()
        let file = directory.write("a/big.bin", [UInt8](repeating: 7, count: 100_000))
        let server = try TestServer(directory: directory, fileCacheMilliseconds: Self.lifetime)
        #expect(try get(server.port, "/big.bin").body.count == 100_000)
        #expect(Self.openDescriptors(to: file) == 1)
        #expect(unlink(file) == 0)
        #expect(Self.waitUntilClosed(file))
    }

    /// Without watching (inotify refused), answers keep the old lifetime: the fallback.
    @Test func withoutWatchesTheLifetimeApplies() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "old")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: Self.lifetime, fileCacheWatches: false)
        #expect(try get(server.port, "/page.txt").text == "old")
        directory.write("a/page.txt", "new")
        #expect(try get(server.port, "/page.txt").text == "old")
    }

    static func openDescriptors(to path: String) -> Int {
        guard let folder = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(folder) }
        var count = 0
        var buffer = [CChar](repeating: 0, count: 4096)
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let length = readlink("/proc/self/fd/" + name, &buffer, buffer.count - 1)
            guard length > 0 else { continue }
            let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target == path { count += 1 }
        }
        return count
    }
}
