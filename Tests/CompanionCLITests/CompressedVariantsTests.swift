// brotli and zstd made once per file version: the real server compresses a
// stylesheet on its background queue, serves the variant the client ranks highest by
// q-value (ties: br, zstd, gzip), each with its own ETag, and the bodies decode to the
// file with the libraries' own command-line tools (Debian's brotli and zstd).
import Foundation
import Glibc
import Testing

@Suite(.serialized) struct CompressedVariantsTests {
    static let hasTools = ["/usr/bin/brotli", "/usr/bin/zstd"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    static func fetch(_ port: Int, _ path: String, _ headers: [String]) throws -> Reply {
        let client = try RawClient(port: port)
        client.send("GET \(path) HTTP/1.1\r\nHost: a.test\r\n" + headers.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n")
        let raw = client.receiveAll()
        let end = try #require(raw.indices.first { raw[$0...].starts(with: Array("\r\n\r\n".utf8)) })
        let head = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        var fields: [String: String] = [:]
        for line in head.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            fields[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return Reply(status: Int(head[0].split(separator: " ")[1]) ?? 0, headers: fields, body: Array(raw[(end + 4)...]))
    }

    /// Asks until the server answers in `coding` (its background queue made the variant).
    static func waitFor(_ coding: String, _ port: Int, _ path: String, _ accept: String) throws -> Reply {
        let deadline = Date().addingTimeInterval(20)
        while true {
            let reply = try fetch(port, path, ["Accept-Encoding: " + accept])
            if reply.headers["content-encoding"] == coding || Date() > deadline { return reply }
            usleep(20_000)   // polling against a deadline for background work
        }
    }

    /// The body decoded by `tool -d -c` (brotli, zstd, gzip).
    static func decode(_ body: [UInt8], with tool: String) throws -> String {
        let folder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("body")
        try Data(body).write(to: file)
        let result = try runTool([tool, "-d", "-c", file.path])
        #expect(result.status == 0, "\(tool): \(result.stderr)")
        return result.stdout
    }

    @Test(.enabled(if: hasTools, "needs brotli and zstd (apt-get install brotli zstd)"))
    func brotliAndZstdVariantsDecodeToTheFileAndFollowIt() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = dir.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        let css = (0..<400).map { ".rule-\($0) { margin: \($0 % 17)px; color: #\(String($0 * 2731 % 0xFFFFFF, radix: 16)); }\n" }.joined()
        try css.write(to: site.appendingPathComponent("site.css"), atomically: false, encoding: .utf8)
        let config = dir.appendingPathComponent("config.json")
        try #"{"listen": "127.0.0.1:0", "sites": [{"host": "a.test", "root": "site"}]}"#.write(to: config, atomically: true, encoding: .utf8)
        let server = try CompanionProcess(["serve", "--config", config.path])
        defer { server.signal(SIGKILL) }
        let port = try #require(server.waitForPort())

        // br only, not ready yet: identity now, brotli once made.
        let first = try Self.fetch(port, "/site.css", ["Accept-Encoding: br"])
        #expect(first.status == 200)
        let brotli = try Self.waitFor("br", port, "/site.css", "br")
        #expect(brotli.headers["content-encoding"] == "br")
        #expect(brotli.headers["vary"] == "Accept-Encoding")
        #expect(try Self.decode(brotli.body, with: "brotli") == css)
        let zstd = try Self.waitFor("zstd", port, "/site.css", "zstd")
        #expect(try Self.decode(zstd.body, with: "zstd") == css)
        let gzip = try Self.fetch(port, "/site.css", ["Accept-Encoding: gzip"])
        #expect(gzip.headers["content-encoding"] == "gzip")
        #expect(try Self.decode(gzip.body, with: "gzip") == css)
        // Smaller than gzip, each with its own ETag.
        #expect(brotli.body.count < gzip.body.count && zstd.body.count < gzip.body.count,
                "br \(brotli.body.count), zstd \(zstd.body.count), gzip \(gzip.body.count) of \(css.utf8.count)")
        let etags = [first, brotli, zstd, gzip].map { $0.headers["etag"] ?? "" }
        #expect(Set(etags).count == 4, "\(etags)")
        let revalidated = try Self.fetch(port, "/site.css", ["Accept-Encoding: br", "If-None-Match: " + etags[1]])
        #expect(revalidated.status == 304)

        // Ranking: q-values first, then br, zstd, gzip.
        let cases: [(String, String?)] = [
            ("gzip, deflate, br, zstd", "br"), ("br;q=0.5, zstd, gzip;q=0.8", "zstd"), ("gzip;q=1, br;q=0.9", "gzip"),
            ("zstd;q=0.2, gzip;q=0.1", "zstd"), ("*", "br"), ("*;q=0.5, br;q=0", "zstd"), ("identity", nil),
        ]
        for (accept, coding) in cases {
            #expect(try Self.fetch(port, "/site.css", ["Accept-Encoding: " + accept]).headers["content-encoding"] == coding, "\(accept)")
        }
        // A Range request gets the identity body.
        #expect(try Self.fetch(port, "/site.css", ["Accept-Encoding: br", "Range: bytes=0-9"]).status == 206)

        // A new version: never the old variants; its own brotli once made.
        let changed = css.replacingOccurrences(of: "margin", with: "padding")
        try changed.write(to: site.appendingPathComponent("site.css"), atomically: true, encoding: .utf8)
        let next = try Self.fetch(port, "/site.css", ["Accept-Encoding: br"])
        if next.headers["content-encoding"] == "br" {
            #expect(try Self.decode(next.body, with: "brotli") == changed)
        } else {
            #expect(String(decoding: next.body, as: UTF8.self) == changed)
        }
        let renewed = try Self.waitFor("br", port, "/site.css", "br")
        #expect(try Self.decode(renewed.body, with: "brotli") == changed)
        #expect(renewed.headers["etag"] != etags[1])
    }
}
