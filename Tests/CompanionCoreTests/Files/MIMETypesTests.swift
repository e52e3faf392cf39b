// MIMETypes: the extension table, charset rule, case-insensitivity and compressibility.
import Testing
@testable import CompanionCore

@Suite struct MIMETypesTests {
    static let types: [(String, String)] = [
        ("/index.html", "text/html; charset=utf-8"),
        ("/a/b.htm", "text/html; charset=utf-8"),
        ("/INDEX.HTML", "text/html; charset=utf-8"),
        ("/style.Css", "text/css; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/mod.mjs", "text/javascript; charset=utf-8"),
        ("/data.json", "application/json; charset=utf-8"),
        ("/app.js.map", "application/json; charset=utf-8"),
        ("/feed.xml", "application/xml; charset=utf-8"),
        ("/logo.svg", "image/svg+xml; charset=utf-8"),
        ("/notes.txt", "text/plain; charset=utf-8"),
        ("/README.md", "text/markdown; charset=utf-8"),
        ("/t.csv", "text/csv; charset=utf-8"),
        ("/app.webmanifest", "application/manifest+json; charset=utf-8"),
        ("/feed.rss", "application/rss+xml; charset=utf-8"),
        ("/m.wasm", "application/wasm"),
        ("/p.png", "image/png"),
        ("/p.jpg", "image/jpeg"),
        ("/p.JPEG", "image/jpeg"),
        ("/p.gif", "image/gif"),
        ("/p.webp", "image/webp"),
        ("/p.avif", "image/avif"),
        ("/favicon.ico", "image/x-icon"),
        ("/f.woff", "font/woff"),
        ("/f.woff2", "font/woff2"),
        ("/f.ttf", "font/ttf"),
        ("/f.otf", "font/otf"),
        ("/d.pdf", "application/pdf"),
        ("/d.zip", "application/zip"),
        ("/d.tar.gz", "application/gzip"),
        ("/d.tar", "application/x-tar"),
        ("/v.mp4", "video/mp4"),
        ("/v.webm", "video/webm"),
        ("/s.mp3", "audio/mpeg"),
        ("/s.ogg", "audio/ogg"),
        ("/s.wav", "audio/wav"),
        // Unknown or absent extensions.
        ("/Makefile", "application/octet-stream"),
        ("/file.unknownext", "application/octet-stream"),
        ("/v1.2/README", "application/octet-stream"),
        ("/trailing.", "application/octet-stream"),
        ("/", "application/octet-stream"),
        ("/dir.html/", "application/octet-stream"),
        ("/x.h\u{E9}ml", "application/octet-stream"),
    ]

    @Test(arguments: types)
    func contentType(path: String, expected: String) {
        #expect(MIMETypes.contentType(forPath: path) == expected, "\(path)")
    }

    static let compressible: [(String, Bool)] = [
        ("text/html; charset=utf-8", true),
        ("text/plain", true),
        ("TEXT/CSS", true),
        ("text/javascript; charset=utf-8", true),
        ("application/javascript", true),
        ("application/json", true),
        ("application/json ; charset=utf-8", true),
        ("application/manifest+json; charset=utf-8", true),
        ("application/xml", true),
        ("application/rss+xml", true),
        ("image/svg+xml; charset=utf-8", true),
        ("application/wasm", true),
        ("image/png", false),
        ("image/jpeg", false),
        ("application/gzip", false),
        ("application/zip", false),
        ("font/woff2", false),
        ("video/mp4", false),
        ("application/octet-stream", false),
        ("", false),
    ]

    @Test(arguments: compressible)
    func compressibility(type: String, expected: Bool) {
        #expect(MIMETypes.isCompressible(type) == expected, "\(type)")
    }

    @Test func everyTableTypeIsConsistent() {
        // Whatever gets a charset is compressible, and binary formats never get one.
        for path in Self.types.map(\.0) {
            let type = MIMETypes.contentType(forPath: path)
            if type.hasSuffix("; charset=utf-8") { #expect(MIMETypes.isCompressible(type), "\(type)") }
        }
    }
}
