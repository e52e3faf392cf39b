// Tests for PathPattern: which patterns compile, what they match and capture.
import Testing
@testable import CompanionCore

@Suite struct PathPatternTests {
    static let valid = ["/", "/*", "/about.html", "/assets/*", "/docs/", "/v1*", "/.well-known/*", "/café/*", "/a b"]

    @Test(arguments: valid)
    func compiles(pattern: String) throws {
        let compiled = try #require(PathPattern(pattern))
        #expect(compiled.description == pattern)
    }

    static let invalid = [
        "", "*", "assets/*", "/a/*/b", "/**", "/*x", "/a*b*", "//", "/a//b", "/a/./b", "/a/../b", "/..",
        "/.", "/a/..*", "/a?b", "/a#b", "/a\u{0}b", "/a\nb", "/a\u{7F}",
    ]

    @Test(arguments: invalid)
    func rejects(pattern: String) {
        #expect(PathPattern(pattern) == nil, "\(pattern.debugDescription)")
    }

    /// (pattern, path, capture or nil for no match)
    static let table: [(String, String, String?)] = [
        ("/about.html", "/about.html", ""),
        ("/about.html", "/about.html/", nil),
        ("/about.html", "/about.htm", nil),
        ("/about.html", "/About.html", nil),
        ("/docs/", "/docs/", ""),
        ("/docs/", "/docs", nil),
        ("/assets/*", "/assets/app.js", "app.js"),
        ("/assets/*", "/assets/img/logo.png", "img/logo.png"),
        ("/assets/*", "/assets/", ""),
        ("/assets/*", "/assets", nil),
        ("/assets/*", "/assetsx/a", nil),
        ("/assets/*", "/", nil),
        ("/v1*", "/v1", ""),
        ("/v1*", "/v1/users", "/users"),
        ("/v1*", "/v10", "0"),
        ("/*", "/", ""),
        ("/*", "/anything/at/all", "anything/at/all"),
        ("/", "/", ""),
        ("/", "/index.html", nil),
        ("/café/*", "/café/menü", "menü"),
        // Decomposed é is another byte sequence, and another file name.
        ("/café/*", "/cafe\u{301}/menü", nil),
    ]

    @Test(arguments: table)
    func matchesAndCaptures(pattern: String, path: String, expected: String?) throws {
        let compiled = try #require(PathPattern(pattern))
        #expect(compiled.matches(path) == (expected != nil), "\(pattern) vs \(path)")
        #expect(compiled.capture(path).map(String.init) == expected, "\(pattern) vs \(path)")
    }

    @Test func exposesPrefixAndKind() throws {
        let prefix = try #require(PathPattern("/assets/*"))
        #expect(prefix.prefix == "/assets/")
        #expect(prefix.isPrefix)
        let exact = try #require(PathPattern("/a"))
        #expect(!exact.isPrefix)
        #expect(PathPattern("/a") == PathPattern("/a"))
        #expect(PathPattern("/a*") != PathPattern("/a"))
    }

    /// A combining mark right after the prefix joins the prefix's last character into one
    /// Character; the capture must still start at the mark (found while writing the path
    /// fuzz target; the slicing is by scalars so it cannot depend on Character rounding).
    @Test func captureAfterACombiningMarkStartsAtTheMark() throws {
        let pattern = try #require(PathPattern("/go*"))
        #expect(pattern.capture("/go\u{301}x").map(String.init) == "\u{301}x")
        #expect(try #require(PathPattern("/a/*")).capture("/a/\u{65D}").map(String.init) == "\u{65D}")
    }
}
