// Live tests of precompressed sidecars (SPEC §3): NAME.br / NAME.zst / NAME.gz
// served byte for byte with preference br, zstd, gzip among what the client
// accepts, for any type; stale sidecars and sidecar symlinks leaving the root
// are not served.
import Glibc
import Testing
@testable import CompanionCore

extension GzipMiddlewareTests {
    /// Distinct fake sidecar bodies (served as is, never decoded by the server).
    static let brBytes: [UInt8] = Array("BROTLI-BYTES".utf8) + [0, 1, 2, 255]
    static let zstBytes: [UInt8] = Array("ZSTD-BYTES".utf8) + [9, 8, 7]
    static let gzBytes: [UInt8] = Array("GZIP-SIDECAR".utf8) + [0x1f, 0x8b]

    static func makeSidecarServer(_ directory: TempDirectory) throws -> TestServer {
        directory.write("a/app.js", script)
        directory.write("a/app.js.br", brBytes)
        directory.write("a/app.js.zst", zstBytes)
        directory.write("a/app.js.gz", gzBytes)
        directory.write("a/photo.png", [UInt8](repeating: 3, count: 600))
        directory.write("a/photo.png.gz", gzBytes)
        directory.write("a/dir/index.html", "<p>index</p>")
        directory.write("a/dir/index.html.br", brBytes)
        directory.write("outside.gz", Array("OUTSIDE SECRET".utf8))
        directory.write("a/leak.txt", String(repeating: "leak? ", count: 100))
        directory.symlink("a/leak.txt.gz", to: directory.path + "/outside.gz")
        directory.write("a/stale.txt", String(repeating: "fresh text ", count: 100))
        directory.write("a/stale.txt.gz", gzBytes)
        setModificationTime(directory.path + "/a/stale.txt.gz", secondsAgo: 3600)
        return try TestServer(directory: directory)
    }

    static func setModificationTime(_ path: String, secondsAgo: Int) {
        let then = timespec(tv_sec: time(nil) - secondsAgo, tv_nsec: 0)
        let times = [then, then]
        #expect(utimensat(AT_FDCWD, path, times, 0) == 0)
    }

    static let sidecarCases: [(accept: String, coding: String?, body: [UInt8])] = [
        ("br", "br", brBytes),
        ("gzip, deflate, br, zstd", "br", brBytes),
        ("zstd, gzip", "zstd", zstBytes),
        ("gzip", "gzip", gzBytes),
        ("br;q=0, gzip", "gzip", gzBytes),
        ("*", "br", brBytes),
        ("identity", nil, Array(script.utf8)),
    ]

    @Test(arguments: sidecarCases)
    func sidecarsAreServedByteForByte(accept: String, coding: String?, body: [UInt8]) throws {
        let directory = TempDirectory()
        let server = try Self.makeSidecarServer(directory)
        let response = try get(server.port, "/app.js", headers: ["Accept-Encoding: \(accept)"])
        #expect(response.status == 200)
        #expect(response.body == body, "\(accept)")
        #expect(response.header("Content-Encoding") == coding, "\(accept)")
        #expect(response.header("Content-Type") == "text/javascript; charset=utf-8")
        #expect(response.header("Vary") == "Accept-Encoding")
        if let coding {
            // The tag of the file sent (the sidecar), marked with its coding.
            let suffix = ["br": ".br", "zstd": ".zst", "gzip": ".gz"][coding]!
            let sidecarTag = try #require(try get(server.port, "/app.js" + suffix).header("ETag"))
            #expect(response.header("ETag") == ETag.variant(sidecarTag, suffix: coding))
            #expect(response.header("Accept-Ranges") == nil)
        }
        #expect(server.server.compressedCache.compressions == 0)  // sidecars are never recompressed
    }

    @Test func sidecarsServeAnyTypeAndIndexFiles() throws {
        let directory = TempDirectory()
        let server = try Self.makeSidecarServer(directory)
        let photo = try get(server.port, "/photo.png", headers: ["Accept-Encoding: gzip"])
        #expect(photo.header("Content-Encoding") == "gzip")
        #expect(photo.header("Content-Type") == "image/png")
        #expect(photo.body == Self.gzBytes)
        let index = try get(server.port, "/dir/", headers: ["Accept-Encoding: br"])
        #expect(index.header("Content-Encoding") == "br")
        #expect(index.body == Self.brBytes)
        // HEAD and 304 work on the sidecar variant too.
        let tag = try #require(index.header("ETag"))
        #expect(try get(server.port, "/dir/", headers: ["Accept-Encoding: br", "If-None-Match: \(tag)"]).status == 304)
    }

    /// Rebuilding only `app.js.gz` must change the variant's validators, or a
    /// cache revalidates to 304 and keeps the old build.
    @Test func rebuiltSidecarGetsANewETag() throws {
        let directory = TempDirectory()
        directory.write("a/app.js", Self.script)
        directory.write("a/app.js.gz", Self.gzBytes)
        Self.setModificationTime(directory.path + "/a/app.js", secondsAgo: 120)
        Self.setModificationTime(directory.path + "/a/app.js.gz", secondsAgo: 60)
        let server = try TestServer(directory: directory, fileCacheMilliseconds: 0)
        let before = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        let oldTag = try #require(before.header("ETag"))
        directory.write("a/app.js.gz", Self.gzBytes + [0x42])
        let after = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip", "If-None-Match: \(oldTag)"])
        #expect(after.status == 200)
        #expect(after.body == Self.gzBytes + [0x42])
        #expect(after.header("ETag") != oldTag)
        #expect(after.header("Last-Modified") != before.header("Last-Modified"))
    }

    @Test func staleSidecarsAreIgnored() throws {
        let directory = TempDirectory()
        let server = try Self.makeSidecarServer(directory)
        let response = try get(server.port, "/stale.txt", headers: ["Accept-Encoding: gzip"])
        #expect(response.header("Content-Encoding") == "gzip")
        #expect(response.body != Self.gzBytes)
        #expect(try Inflater.gunzip(response.body) == Array(String(repeating: "fresh text ", count: 100).utf8))
    }

    @Test func sidecarSymlinksLeavingTheRootAreNotServed() throws {
        let directory = TempDirectory()
        let server = try Self.makeSidecarServer(directory)
        let response = try get(server.port, "/leak.txt", headers: ["Accept-Encoding: gzip"])
        #expect(response.status == 200)
        #expect(!response.text.contains("OUTSIDE SECRET"))
        // Compressed on the fly from the real file instead.
        #expect(try Inflater.gunzip(response.body) == Array(String(repeating: "leak? ", count: 100).utf8))
        #expect(try get(server.port, "/leak.txt.gz").status == 404)
    }

    @Test func rangeRequestsIgnoreSidecars() throws {
        let directory = TempDirectory()
        let server = try Self.makeSidecarServer(directory)
        let response = try get(server.port, "/app.js", headers: ["Accept-Encoding: br", "Range: bytes=0-7"])
        #expect(response.status == 206)
        #expect(response.header("Content-Encoding") == nil)
        #expect(response.text == "function")
    }
}

/// The file cache remembers which sidecars a file does not have (FileCache.openSidecar), so a
/// request that accepts encodings does not try to open them every time; and it forgets the
/// moment one of their names changes, so a sidecar deployed, rebuilt or removed while the
/// file's answer is cached is what the next request gets. The cache lifetime is a minute:
/// only a watched change can explain a fresh answer.
@Suite struct SidecarFreshnessTests {
    static let lifetime = 60_000
    static let text = String(repeating: "a line of text to compress\n", count: 40)

    /// Sidecar names the loops opened so far.
    static func opens(_ server: TestServer) -> Int {
        server.server.metrics.total(LoopMetrics.Cell.sidecarOpens)
    }

    @Test func absentSidecarsAreOpenedOnceAndDeployedOnesServedNext() throws {
        let directory = TempDirectory()
        directory.write("a/photo.png", [UInt8](repeating: 7, count: 900))
        directory.write("a/docs/app.js", Self.text)
        let server = try TestServer(directory: directory, fileCacheMilliseconds: Self.lifetime)
        let browser = ["Accept-Encoding: gzip, deflate, br, zstd"]

        // A file with no sidecars: three names tried on the first request, none after.
        for _ in 0..<5 {
            let photo = try get(server.port, "/photo.png", headers: browser)
            #expect(photo.header("Content-Encoding") == nil)
            #expect(photo.body == [UInt8](repeating: 7, count: 900))
        }
        #expect(Self.opens(server) == 3)

        // A gzip sidecar deployed next to it is served by the next request.
        directory.write("a/photo.png.gz", GzipMiddlewareTests.gzBytes)
        let deployed = try get(server.port, "/photo.png", headers: browser)
        #expect(deployed.header("Content-Encoding") == "gzip")
        #expect(deployed.body == GzipMiddlewareTests.gzBytes)

        // Rebuilt by a rename over it (a deploy's atomic replace): the new bytes and tag.
        directory.write("a/.photo.png.gz.tmp", GzipMiddlewareTests.gzBytes + [1, 2, 3])
        #expect(rename(directory.path + "/a/.photo.png.gz.tmp", directory.path + "/a/photo.png.gz") == 0)
        let rebuilt = try get(server.port, "/photo.png", headers: browser)
        #expect(rebuilt.body == GzipMiddlewareTests.gzBytes + [1, 2, 3])
        #expect(rebuilt.header("ETag") != deployed.header("ETag"))

        // Removed: the file itself again.
        #expect(unlink(directory.path + "/a/photo.png.gz") == 0)
        let removed = try get(server.port, "/photo.png", headers: browser)
        #expect(removed.header("Content-Encoding") == nil)
        #expect(removed.body == [UInt8](repeating: 7, count: 900))

        // In a subdirectory, and for a compressible file: brotli appears in place of the
        // gzip variant made on the fly.
        let before = try get(server.port, "/docs/app.js", headers: ["Accept-Encoding: br;q=1, gzip;q=0.5"])
        #expect(before.header("Content-Encoding") != "br" || before.body != GzipMiddlewareTests.brBytes)
        directory.write("a/docs/app.js.br", GzipMiddlewareTests.brBytes)
        let after = try get(server.port, "/docs/app.js", headers: ["Accept-Encoding: br;q=1, gzip;q=0.5"])
        #expect(after.header("Content-Encoding") == "br")
        #expect(after.body == GzipMiddlewareTests.brBytes)
    }

    /// Without inotify an absence is remembered only as long as the file's answer (ttl).
    @Test func withoutWatchesAnAbsenceLastsAsLongAsTheAnswer() throws {
        let directory = TempDirectory()
        directory.write("a/photo.png", [UInt8](repeating: 7, count: 900))
        let server = try TestServer(directory: directory, fileCacheMilliseconds: 200, fileCacheWatches: false)
        #expect(try get(server.port, "/photo.png", headers: ["Accept-Encoding: gzip"]).header("Content-Encoding") == nil)
        directory.write("a/photo.png.gz", GzipMiddlewareTests.gzBytes)
        // Polls the server, not the clock: the answer changes once the entry has expired.
        var served: TestResponse?
        for _ in 0..<200 {
            let response = try get(server.port, "/photo.png", headers: ["Accept-Encoding: gzip"])
            if response.header("Content-Encoding") == "gzip" { served = response; break }
            var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&pause, nil)
        }
        #expect(served?.body == GzipMiddlewareTests.gzBytes)
    }
}
