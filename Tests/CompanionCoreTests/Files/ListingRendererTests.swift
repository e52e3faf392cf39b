// ListingRenderer: sort orders, exact HTML rows and JSON for ordinary and hostile names.
import Testing
@testable import CompanionCore

@Suite struct ListingRendererTests {
    static let t0 = 1_795_749_900  // 2026-11-27T03:25:00Z

    static func entry(_ name: String, dir: Bool = false, size: Int = 0, mtime: Int = t0) -> DirectoryEntry {
        DirectoryEntry(name: Array(name.utf8), isDirectory: dir, size: size, mtimeSeconds: mtime)
    }

    static func names(_ entries: [DirectoryEntry]) -> [String] {
        entries.map { String(decoding: $0.name, as: UTF8.self) }
    }

    static let sample: [DirectoryEntry] = [
        entry("b.txt", size: 30, mtime: t0 + 2),
        entry("Zeta", dir: true, mtime: t0 + 5),
        entry("a.txt", size: 10, mtime: t0 + 3),
        entry("B.txt", size: 20, mtime: t0 + 1),
        entry("alpha", dir: true, mtime: t0 + 9),
        entry("C.TXT", size: 20, mtime: t0 + 3),
    ]

    static let sortCases: [(ListingSort, ListingOrder, [String])] = [
        (.name, .asc, ["alpha", "Zeta", "a.txt", "B.txt", "b.txt", "C.TXT"]),
        (.name, .desc, ["Zeta", "alpha", "C.TXT", "b.txt", "B.txt", "a.txt"]),
        (.size, .asc, ["alpha", "Zeta", "a.txt", "B.txt", "C.TXT", "b.txt"]),
        (.size, .desc, ["alpha", "Zeta", "b.txt", "B.txt", "C.TXT", "a.txt"]),
        (.mtime, .asc, ["Zeta", "alpha", "B.txt", "b.txt", "a.txt", "C.TXT"]),
        (.mtime, .desc, ["alpha", "Zeta", "a.txt", "C.TXT", "b.txt", "B.txt"]),
    ]

    @Test(arguments: sortCases)
    func sorts(key: ListingSort, order: ListingOrder, expected: [String]) {
        var entries = Self.sample
        ListingRenderer.sort(&entries, by: key, order: order)
        #expect(Self.names(entries) == expected)
    }

    @Test func queryValuesMapToSortKeys() {
        #expect(ListingSort(rawValue: "mtime") == .mtime)
        #expect(ListingOrder(rawValue: "desc") == .desc)
        #expect(ListingSort(rawValue: "Name") == nil)
    }

    @Test func nameComparisonFoldsASCIIThenUsesBytes() {
        #expect(ListingRenderer.compareNames(Array("abc".utf8), Array("ABD".utf8)) < 0)
        #expect(ListingRenderer.compareNames(Array("B".utf8), Array("b".utf8)) < 0)  // tie → bytes
        #expect(ListingRenderer.compareNames(Array("ab".utf8), Array("abc".utf8)) < 0)
        #expect(ListingRenderer.compareNames(Array("x".utf8), Array("x".utf8)) == 0)
    }

    /// The rows between <tbody> and </tbody>.
    static func rows(_ page: [UInt8]) -> String {
        let text = String(decoding: page, as: UTF8.self)
        guard let start = text.firstRange(of: "<tbody>\n"), let end = text.firstRange(of: "</tbody>") else { return "" }
        return String(text[start.upperBound..<end.lowerBound])
    }

    @Test func htmlPageShape() {
        let entries = [Self.entry("docs", dir: true), Self.entry("a b.txt", size: 1536, mtime: Self.t0)]
        let page = ListingRenderer.html(entries: entries, displayPath: "/sub dir/", isRoot: false)
        let text = String(decoding: page, as: UTF8.self)
        #expect(text.hasPrefix("<!DOCTYPE html>\n"))
        #expect(text.contains("<title>Index of /sub dir/</title>"))
        #expect(text.contains("<h1>Index of /sub dir/</h1>"))
        #expect(!text.contains("<script"))
        #expect(Self.rows(page) == """
            <tr><td><a href="../">../</a></td><td></td><td></td></tr>
            <tr><td><a href="docs/">docs/</a></td><td>-</td><td>2026-11-27 03:25</td></tr>
            <tr><td><a href="a%20b.txt">a b.txt</a></td><td title="1536 bytes">1.5 KiB</td><td>2026-11-27 03:25</td></tr>

            """)
        let root = String(decoding: ListingRenderer.html(entries: [], displayPath: "/", isRoot: true), as: UTF8.self)
        #expect(!root.contains("../"))
        #expect(root.contains("<h1>Index of /</h1>"))
    }

    /// (name bytes, HTML row for a file, JSON name literal)
    static let hostile: [([UInt8], String, String)] = [
        (Array("<img src=x onerror=alert(1)>".utf8),
         #"<a href="%3Cimg%20src=x%20onerror=alert(1)%3E">&lt;img src=x onerror=alert(1)&gt;</a>"#,
         #""<img src=x onerror=alert(1)>""#),
        (Array("a\"b'c&d".utf8), #"<a href="a%22b%27c%26d">a&quot;b&#39;c&amp;d</a>"#, #""a\"b'c&d""#),
        (Array("what?#frag".utf8), #"<a href="what%3F%23frag">what?#frag</a>"#, #""what?#frag""#),
        (Array("my:file".utf8), #"<a href="./my:file">my:file</a>"#, #""my:file""#),
        (Array("javascript:alert(1)".utf8), #"<a href="./javascript:alert(1)">javascript:alert(1)</a>"#,
         #""javascript:alert(1)""#),
        (Array("line\nbreak\r\t".utf8), "<a href=\"line%0Abreak%0D%09\">line\u{FFFD}break\u{FFFD}\u{FFFD}</a>",
         #""line\nbreak\r\t""#),
        ([0x61, 0xFF, 0x62, 0xC3], "<a href=\"a%FFb%C3\">a\u{FFFD}b\u{FFFD}</a>", #""a\uFFFDb\uFFFD""#),
        (Array("100%.txt".utf8), #"<a href="100%25.txt">100%.txt</a>"#, #""100%.txt""#),
        (Array("caf\u{E9}".utf8), "<a href=\"caf%C3%A9\">caf\u{E9}</a>", "\"caf\u{E9}\""),
        (Array("back\\slash".utf8), #"<a href="back%5Cslash">back\slash</a>"#, #""back\\slash""#),
        ([0x01, 0x1B, 0x7F], "<a href=\"%01%1B%7F\">\u{FFFD}\u{FFFD}\u{FFFD}</a>", #""\u0001\u001b\u007f""#),
        (Array("\u{2028}x".utf8), "<a href=\"%E2%80%A8x\">\u{2028}x</a>", #""\u2028x""#),
        (Array("a/../b".utf8), #"<a href="a%2F..%2Fb">a/../b</a>"#, #""a/../b""#),
    ]

    @Test(arguments: hostile)
    func hostileNamesAreInert(name: [UInt8], link: String, jsonName: String) {
        let entry = DirectoryEntry(name: name, isDirectory: false, size: 1, mtimeSeconds: Self.t0)
        let rows = Self.rows(ListingRenderer.html(entries: [entry], displayPath: "/", isRoot: true))
        #expect(rows == "<tr><td>" + link + "</td><td title=\"1 bytes\">1 B</td><td>2026-11-27 03:25</td></tr>\n")
        let json = String(decoding: ListingRenderer.json(entries: [entry]), as: UTF8.self)
        #expect(json == "[{\"name\":" + jsonName + ",\"type\":\"file\",\"size\":1,\"mtime\":\"2026-11-27T03:25:00Z\"}]")
    }

    @Test func hostileDisplayPathIsEscaped() {
        let page = ListingRenderer.html(entries: [], displayPath: "/<script>alert('x')</script>/", isRoot: false)
        let text = String(decoding: page, as: UTF8.self)
        #expect(!text.contains("<script>"))
        #expect(text.contains("<h1>Index of /&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;/</h1>"))
    }

    @Test func jsonArray() {
        let entries = [Self.entry("docs", dir: true, mtime: 0), Self.entry("a.txt", size: 12, mtime: Self.t0)]
        let json = String(decoding: ListingRenderer.json(entries: entries), as: UTF8.self)
        #expect(json == #"[{"name":"docs","type":"dir","size":0,"mtime":"1970-01-01T00:00:00Z"},"#
            + #"{"name":"a.txt","type":"file","size":12,"mtime":"2026-11-27T03:25:00Z"}]"#)
        #expect(ListingRenderer.json(entries: []) == Array("[]".utf8))
    }

    static let sizes: [(Int, String)] = [
        (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (10_240, "10.0 KiB"),
        (1_048_575, "1024.0 KiB"), (1_048_576, "1.0 MiB"), (5_368_709_120, "5.0 GiB"),
        (1_099_511_627_776, "1.0 TiB"), (Int.max, "8192.0 PiB"),
    ]

    @Test(arguments: sizes)
    func humanSizes(size: Int, expected: String) {
        #expect(ListingRenderer.humanSize(size) == expected)
    }

    @Test func securityPolicyForbidsScripts() {
        #expect(ListingRenderer.contentSecurityPolicy.hasPrefix("default-src 'none'"))
        #expect(!ListingRenderer.contentSecurityPolicy.contains("script"))
    }
}
