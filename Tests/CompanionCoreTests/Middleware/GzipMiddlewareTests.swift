// Live tests of on-the-fly gzip (SPEC §3 Compression): Accept-Encoding
// negotiation, Vary on both variants, the gzip body decoding to the file, its own
// ETag with 304 and HEAD, Range → identity, minBytes and types, and the cache
// (compressed once, invalidated when the file changes). Sidecars are in
// GzipMiddlewareTests+Sidecars.swift.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct GzipMiddlewareTests {
    /// 4 KiB of compressible script.
    static let script = String(repeating: "function add(a, b) { return a + b; }\n", count: 110)

    static func makeServer(_ directory: TempDirectory, siteA: String = "", fileCacheMilliseconds: Int = 1000) throws -> TestServer {
        directory.write("a/app.js", script)
        directory.write("a/small.txt", "tiny")
        directory.write("a/image.png", [UInt8](repeating: 7, count: 4096))
        directory.write("a/data.json", String(repeating: "{\"k\": 1}\n", count: 100))
        directory.write("b/app.js", String(repeating: "let other = 2;\n", count: 100))
        return try TestServer(directory: directory, siteA: siteA, fileCacheMilliseconds: fileCacheMilliseconds)
    }

    static let negotiationCases: [(label: String, header: String?, gzip: Bool)] = [
        ("missing header", nil, false),
        ("gzip", "gzip", true),
        ("case-insensitive", "GZip", true),
        ("x-gzip alias", "x-gzip", true),
        ("gzip with q", "gzip;q=0.5", true),
        ("gzip refused with q=0", "gzip;q=0", false),
        ("gzip refused with q=0.000", "deflate, gzip; q=0.000", false),
        ("star", "*", true),
        ("star refused", "*;q=0", false),
        ("star but gzip refused", "gzip;q=0, *", false),
        ("identity only", "identity", false),
        ("empty", "", false),
        ("br only, no sidecar", "br", false),
        ("browser list", "gzip, deflate, br, zstd", true),
    ]

    @Test(arguments: negotiationCases)
    func negotiation(label: String, header: String?, gzip: Bool) throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let response = try get(server.port, "/app.js", headers: header.map { ["Accept-Encoding: \($0)"] } ?? [])
        #expect(response.status == 200, "\(label)")
        #expect(response.header("Vary") == "Accept-Encoding", "\(label)")
        if gzip {
            #expect(response.header("Content-Encoding") == "gzip", "\(label)")
            #expect(response.header("Accept-Ranges") == nil, "\(label)")
            #expect(try Inflater.gunzip(response.body) == Array(Self.script.utf8), "\(label)")
            #expect(response.body.count < Self.script.utf8.count, "\(label)")
        } else {
            #expect(response.header("Content-Encoding") == nil, "\(label)")
            #expect(response.header("Accept-Ranges") == "bytes", "\(label)")
            #expect(response.text == Self.script, "\(label)")
        }
    }

    @Test func variantsHaveTheirOwnETagAndConditionalsUseIt() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let identity = try get(server.port, "/app.js")
        let gzipped = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        let identityTag = try #require(identity.header("ETag"))
        let gzipTag = try #require(gzipped.header("ETag"))
        #expect(gzipTag != identityTag)
        #expect(gzipTag == ETag.variant(identityTag, suffix: "gzip"))
        #expect(Int(gzipped.header("Content-Length") ?? "") == gzipped.body.count)

        let notModified = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip", "If-None-Match: \(gzipTag)"])
        #expect(notModified.status == 304)
        #expect(notModified.header("ETag") == gzipTag)
        #expect(notModified.header("Vary") == "Accept-Encoding")
        // The identity tag does not validate the gzip variant, and the other way round.
        #expect(try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip", "If-None-Match: \(identityTag)"]).status == 200)
        #expect(try get(server.port, "/app.js", headers: ["If-None-Match: \(gzipTag)"]).status == 200)
        #expect(try get(server.port, "/app.js", headers: ["If-None-Match: \(identityTag)"]).status == 304)
    }

    @Test func headOnTheGzipVariantHasItsLengthAndNoBody() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let full = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        let connection = try TestConnection(port: server.port)
        connection.send("HEAD /app.js HTTP/1.1\r\nHost: a.test\r\nAccept-Encoding: gzip\r\n\r\n"
                        + "GET /small.txt HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        let head = try connection.readResponse(headRequest: true)
        #expect(head.status == 200)
        #expect(head.header("Content-Encoding") == "gzip")
        #expect(head.header("Content-Length") == String(full.body.count))
        #expect(head.header("ETag") == full.header("ETag"))
        // No body bytes followed the HEAD head: the next response parses cleanly.
        let next = try connection.readResponse()
        #expect(next.status == 200)
        #expect(next.text == "tiny")
    }

    @Test func rangeRequestsGetTheIdentityBody() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let response = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip", "Range: bytes=0-7"])
        #expect(response.status == 206)
        #expect(response.header("Content-Encoding") == nil)
        #expect(response.header("Vary") == "Accept-Encoding")
        #expect(response.text == "function")
    }

    @Test func smallAndIncompressibleBodiesStayIdentity() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let small = try get(server.port, "/small.txt", headers: ["Accept-Encoding: gzip"])
        #expect(small.header("Content-Encoding") == nil)
        #expect(small.header("Vary") == "Accept-Encoding")  // compressible type, below minBytes
        #expect(small.text == "tiny")
        let image = try get(server.port, "/image.png", headers: ["Accept-Encoding: gzip"])
        #expect(image.header("Content-Encoding") == nil)
        #expect(image.header("Vary") == nil)
        #expect(image.body.count == 4096)
        #expect(server.server.compressedCache.compressions == 0)
    }

    @Test func siteSettingsChooseTypesAndMinBytes() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory, siteA: #", "gzip": {"types": ["application/json"], "minBytes": 4}"#)
        let json = try get(server.port, "/data.json", headers: ["Accept-Encoding: gzip"])
        #expect(json.header("Content-Encoding") == "gzip")
        let script = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        #expect(script.header("Content-Encoding") == nil)
        #expect(script.header("Vary") == nil)  // not compressible under this site's list
        let tiny = try TestServer(directory: TempDirectory(), siteA: #", "gzip": {"minBytes": 4}"#)
        tiny.directory.write("a/small.txt", "tiny")
        #expect(try get(tiny.port, "/small.txt", headers: ["Accept-Encoding: gzip"]).header("Content-Encoding") == "gzip")
    }

    @Test func gzipOffMeansNoVaryAndNoEncoding() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory, siteA: #", "gzip": false"#)
        let response = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        #expect(response.header("Content-Encoding") == nil)
        #expect(response.header("Vary") == nil)
    }

    @Test func aCacheHitDoesNotRecompress() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let cache = server.server.compressedCache
        let first = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        #expect(cache.compressions == 1)
        let second = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        #expect(cache.compressions == 1)
        #expect(cache.hits >= 1)
        #expect(second.body == first.body)
        // Same path in another site: its own entry, its own bytes.
        let other = try get(server.port, "/app.js", host: "b.test", headers: ["Accept-Encoding: gzip"])
        #expect(try Inflater.gunzip(other.body) == Array(String(repeating: "let other = 2;\n", count: 100).utf8))
        #expect(cache.compressions == 2)
    }

    @Test func aChangedFileIsCompressedAgain() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory, fileCacheMilliseconds: 0)
        let first = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        let changed = Self.script + "console.log(add(1, 2));\n"
        directory.write("a/app.js", changed)
        let second = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        #expect(try Inflater.gunzip(second.body) == Array(changed.utf8))
        #expect(second.header("ETag") != first.header("ETag"))
        #expect(server.server.compressedCache.compressions == 2)
    }

    @Test func largeFilesAreCompressedOffTheLoop() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let large = String(repeating: "0123456789abcdef\n", count: 20_000)  // 340 KB
        directory.write("a/large.txt", large)
        let first = try get(server.port, "/large.txt", headers: ["Accept-Encoding: gzip"])
        #expect(first.header("Vary") == "Accept-Encoding")
        if first.header("Content-Encoding") == nil { #expect(first.text == large) }
        // Join the background job: a submit for a key in flight waits for that job's
        // result; one for a finished key finds it in the cache.
        try Self.waitForCompression(server, site: 0, path: "/large.txt")
        #expect(server.server.compressedCache.compressions == 1)
        let later = try get(server.port, "/large.txt", headers: ["Accept-Encoding: gzip"])
        #expect(later.header("Content-Encoding") == "gzip")
        #expect(try Inflater.gunzip(later.body) == Array(large.utf8))
        #expect(server.server.compressedCache.compressions == 1)
    }

    /// Blocks until the CompressionQueue has finished `path` (read on a pipe, no sleep).
    static func waitForCompression(_ server: TestServer, site: Int, path: String) throws {
        let state = server.server.state.sites[site]
        let file = try state.resolver.open(path).get()
        let key = GzipCache.Key(path: state.config.root + path, size: file.size, mtimeSeconds: file.mtimeSeconds,
                                mtimeNanoseconds: file.mtimeNanoseconds, level: state.config.gzip.level)
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let writeEnd = fds[1]
        let accepted = file.withDescriptor { fd in
            server.server.compressionQueue.submit(fd: fd, key: key) { _ in
                var byte: UInt8 = 1
                _ = write(writeEnd, &byte, 1)
            }
        }
        #expect(accepted)
        var byte: UInt8 = 0
        #expect(read(fds[0], &byte, 1) == 1)
    }

    @Test func filesBiggerThanTheCacheAreNeverCompressed() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory, siteA: #", "gzip": {"cacheBytes": 1000}"#)
        let response = try get(server.port, "/app.js", headers: ["Accept-Encoding: gzip"])
        #expect(response.header("Content-Encoding") == nil)
        #expect(response.header("Vary") == "Accept-Encoding")
        #expect(server.server.compressedCache.compressions == 0)
    }
}
