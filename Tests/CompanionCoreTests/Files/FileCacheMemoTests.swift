// FileCache's memo (FileCache+Memo.swift): the plain fast path's table from a request's
// path bytes to the answer. Each test makes the memo's shortcuts matter: two sites, or two
// paths, sharing a slot; paths not in normal form; and the memo emptied when the
// dictionary lets answers go.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct FileCacheMemoTests {
    static func index(_ path: String, _ site: Site) -> Int {
        var path = path
        return path.withUTF8 { FileCache.memoIndex($0, ObjectIdentifier(site)) }
    }

    /// A path whose slot is the same for both sites is answered from each site's root. (The
    /// response template's own site check would also catch a slot answered for the wrong
    /// site; `theMemoIsEmptiedWithTheDictionary` checks the memo's comparison itself.)
    @Test func twoSitesSharingASlotAreEachAnsweredFromTheirRoot() throws {
        let directory = TempDirectory()
        let server = try TestServer(directory: directory)
        let sites = server.server.state.sites
        let path = try #require((0..<100_000).lazy.map { "/s\($0).txt" }.first { Self.index($0, sites[0]) == Self.index($0, sites[1]) })
        directory.write("a" + path, "site a")
        directory.write("b" + path, "site b")
        for _ in 0..<3 {
            #expect(try get(server.port, path, host: "a.test").text == "site a")
            #expect(try get(server.port, path, host: "b.test").text == "site b")
        }
    }

    /// Two paths of one site in one slot: each replaces the other, and each is compared byte
    /// for byte before it is used.
    @Test func twoPathsSharingASlotAreEachServedTheirOwn() throws {
        let directory = TempDirectory()
        let server = try TestServer(directory: directory)
        let site = server.server.state.sites[0]
        let first = "/one.txt"
        let second = try #require((0..<100_000).lazy.map { "/p\($0).txt" }.first { Self.index($0, site) == Self.index(first, site) })
        directory.write("a" + first, "first")
        directory.write("a" + second, "second")
        for _ in 0..<3 {
            #expect(try get(server.port, first).text == "first")
            #expect(try get(server.port, first).text == "first")
            #expect(try get(server.port, second).text == "second")
        }
    }

    /// Request paths that normalise to another are answered by the full way every time,
    /// before and after the normal form was remembered, and all see a change.
    @Test func pathsNotInNormalFormAreAnsweredAsTheFileTheyName() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "v1")
        directory.write("a/sub/index.html", "index")
        let server = try TestServer(directory: directory, fileCacheMilliseconds: 60_000)
        let forms = ["/page.txt", "/./page.txt", "/%70age.txt", "/sub/../page.txt", "/page.txt"]
        for path in forms { #expect(try get(server.port, path).text == "v1", "\(path)") }
        directory.write("a/page.txt", "v2, longer")
        for path in forms { #expect(try get(server.port, path).text == "v2, longer", "\(path)") }
        // A directory's path is remembered with its index file's answer.
        for path in ["/sub/", "/sub/", "/sub/./"] { #expect(try get(server.port, path).text == "index", "\(path)") }
        #expect(unlink(directory.path + "/a/sub/index.html") == 0)
        #expect(try get(server.port, "/sub/").text != "index")
    }

    /// The memo gives back what the dictionary lets go: a sweep, a change and a reload
    /// empty it (each remembered entry holds an open descriptor).
    @Test func theMemoIsEmptiedWithTheDictionary() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "text")
        let server = try TestServer(directory: directory)
        let site = server.server.state.sites[0]
        let cache = FileCache(ttlMilliseconds: 60_000, watches: false)
        func remembered(_ path: String) -> Bool {
            var bytes = Array(path.utf8)
            return bytes.withUnsafeMutableBufferPointer { cache.memoized(UnsafeBufferPointer($0), in: site) } != nil
        }
        func remember(_ path: String) {
            cache.memoize(path, entry: cache.lookup(path, in: site), in: site)
        }
        remember("/page.txt")
        #expect(remembered("/page.txt"))
        #expect(!remembered("/page.txt/"))
        #expect(!remembered("/Page.txt"))
        // Another site's path in the same slot is not this site's answer.
        let other = server.server.state.sites[1]
        let shared = try #require((0..<100_000).lazy.map { "/s\($0).txt" }.first { Self.index($0, site) == Self.index($0, other) })
        directory.write("a" + shared, "a")
        remember(shared)
        var sharedBytes = Array(shared.utf8)
        #expect(sharedBytes.withUnsafeMutableBufferPointer { cache.memoized(UnsafeBufferPointer($0), in: other) } == nil)
        #expect(remembered(shared))
        cache.sweep(now: monotonicMilliseconds())
        #expect(!remembered("/page.txt"))
        remember("/page.txt")
        cache.removeAll()
        #expect(!remembered("/page.txt"))
        // An expired answer is not used even before a sweep.
        let short = FileCache(ttlMilliseconds: 1, watches: false)
        short.memoize("/page.txt", entry: short.lookup("/page.txt", in: site), in: site)
        let deadline = monotonicMilliseconds() + 1000
        var bytes = Array("/page.txt".utf8)
        var expired = false
        while !expired && monotonicMilliseconds() < deadline {
            expired = bytes.withUnsafeMutableBufferPointer { short.memoized(UnsafeBufferPointer($0), in: site) } == nil
        }
        #expect(expired)
    }

    /// A hit carries what the plain path would ask of the path String it no longer makes:
    /// a slash at the end, and ACME's challenge prefix (which sends a request the full way
    /// while challenges are served). The path bytes are compared whole: a prefix or an
    /// extension of a remembered path is not a hit.
    @Test func aHitCarriesThePathsDirectoryAndChallengeMarks() throws {
        let directory = TempDirectory()
        directory.write("a/page.txt", "text")
        directory.write("a/sub/index.html", "index")
        let server = try TestServer(directory: directory)
        let site = server.server.state.sites[0]
        let cache = FileCache(ttlMilliseconds: 60_000, watches: false)
        func hit(_ path: String) -> FileCache.MemoSlot? {
            var bytes = Array(path.utf8)
            return bytes.withUnsafeMutableBufferPointer { cache.memoized(UnsafeBufferPointer($0), in: site) }
        }
        let challenge = ACMEChallenges.pathPrefix + "token"
        // Each path is looked up right after it is remembered: the slot mixes in the site's
        // address, so two of these paths can share a slot in a run, the later replacing the
        // earlier (what `twoPathsSharingASlotAreEachServedTheirOwn` checks).
        func remembered(_ path: String) throws -> FileCache.MemoSlot {
            cache.memoize(path, entry: cache.lookup(path, in: site), in: site)
            return try #require(hit(path), "\(path)")
        }
        let page = try remembered("/page.txt")
        #expect(!page.isDirectory && !page.isChallengePath)
        #expect(hit("/page.tx") == nil && hit("/page.txt.") == nil)
        let sub = try remembered("/sub/")
        #expect(sub.isDirectory && !sub.isChallengePath)
        #expect(hit("/sub") == nil)
        let root = try remembered("/")
        #expect(root.isDirectory && !root.isChallengePath)
        let token = try remembered(challenge)
        #expect(!token.isDirectory && token.isChallengePath)
    }
}
