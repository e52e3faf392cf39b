// Input → output-or-reject pairs for PathNormalizer (darkhttpd test_make_safe_uri style).
import Testing
@testable import CompanionCore

@Suite struct PathNormalizerTests {
    /// nil = rejected with 400.
    static let cases: [(String, String?)] = [
        // Plain paths.
        ("/", "/"),
        ("/index.html", "/index.html"),
        ("/a/b/c", "/a/b/c"),
        ("/a/./b//c", "/a/b/c"),
        ("//a///b", "/a/b"),
        ("//", "/"),
        ("/a/b/", "/a/b/"),  // trailing slash kept
        ("/a//", "/a/"),
        ("/a/.", "/a/"),
        ("/a/b/..", "/a/"),
        ("/a/b/../", "/a/"),
        ("/a/..", "/"),
        ("/a/../b", "/b"),
        ("/./", "/"),
        ("/.", "/"),
        ("/a/b/../c/./d/../e", "/a/c/e"),
        ("/foo/../bar/abc", "/bar/abc"),
        // Climbing above the root: 400.
        ("/..", nil),
        ("/../", nil),
        ("/../etc/passwd", nil),
        ("/a/../..", nil),
        ("/a/b/../../..", nil),
        ("/a/b/../../../c", nil),
        // Encoded dots and slashes are decoded once, then normalised.
        ("/%2e%2e/etc/passwd", nil),
        ("/%2E%2E/", nil),
        ("/a/%2e%2e/%2e%2e/b", nil),
        ("/..%2fetc%2fpasswd", nil),
        ("/a/..%2f..%2fb", nil),
        ("/%2e%2e%2f", nil),
        ("/a/%2e/b", "/a/b"),
        ("/a/%2e%2e", "/"),
        ("/a%2fb", "/a/b"),
        ("/%2f%2fa", "/a"),
        // Double encoding is decoded once only: "%2e" stays a literal name.
        ("/%252e%252e/etc", "/%2e%2e/etc"),
        ("/%252e%252e%252f", "/%2e%2e%2f"),
        ("/%25", "/%"),
        // Invalid escapes and NUL.
        ("/%00", nil),
        ("/a%00.html", nil),
        ("/%zz", nil),
        ("/%4", nil),
        ("/%", nil),
        ("/a%g0", nil),
        ("/a%0g", nil),
        // Not starting with '/'.
        ("", nil),
        ("a/b", nil),
        ("*", nil),
        ("%2fa", nil),
        ("http://x/a", nil),
        // Backslash is an ordinary byte on Linux.
        ("/a\\..\\..\\etc", "/a\\..\\..\\etc"),
        ("/%5c..%5c..%5cetc", "/\\..\\..\\etc"),
        ("/..\\", "/..\\"),
        // Other characters pass through decoded.
        ("/a%20b", "/a b"),
        ("/caf%C3%A9", "/café"),
        ("/a+b", "/a+b"),
        ("/a%3fb", "/a?b"),
        ("/...", "/..."),
        ("/a/.../b", "/a/.../b"),
        ("/.well-known/x", "/.well-known/x"),
        // Invalid UTF-8 after decoding: 400 (documented choice).
        ("/%ff", nil),
        ("/%C3", nil),
        ("/%C0%AE%C0%AE/", nil),  // overlong "..", the IIS classic
    ]

    @Test(arguments: cases)
    func normalizes(input: String, expected: String?) {
        switch PathNormalizer.normalize(Array(input.utf8)) {
        case .success(let path):
            #expect(path == expected, "input \(input)")
        case .failure(let status):
            #expect(expected == nil, "input \(input) rejected")
            #expect(status == .badRequest)
        }
    }

    @Test func acceptsAnyByteCollection() {
        let buffer: [UInt8] = Array("GET /a/../b HTTP/1.1".utf8)
        let slice = buffer[4..<11]
        #expect(PathNormalizer.normalize(slice) == .success("/b"))
        #expect(PathNormalizer.normalize("/x//y".utf8) == .success("/x/y"))
    }

    @Test func resultIsAFixedPoint() throws {
        for (input, expected) in Self.cases {
            guard expected != nil else { continue }
            let once = try PathNormalizer.normalize(Array(input.utf8)).get()
            // Re-normalising the decoded result must not change it unless it contains '%'.
            if !once.contains("%") {
                #expect(try PathNormalizer.normalize(Array(once.utf8)).get() == once)
            }
        }
    }

    static let hiddenCases: [(String, Bool)] = [
        ("/", false),
        ("/index.html", false),
        ("/a/b.c", false),
        ("/.env", true),
        ("/.git/config", true),
        ("/a/.htpasswd", true),
        ("/a/.ssh/", true),
        ("/a/b/.DS_Store", true),
        ("/.well-known/acme-challenge/x", false),
        ("/.well-known", false),
        ("/.well-known/", false),
        ("/.well-known/.secret", true),
        ("/a/.well-known/x", true),
        ("/.well-knownx/a", true),
        ("/.Well-Known/a", true),
        ("/a.b/c.", false),
        ("/...", true),
    ]

    @Test(arguments: hiddenCases)
    func hidden(path: String, expected: Bool) {
        #expect(PathNormalizer.isHidden(path) == expected, "path \(path)")
    }

    @Test func sweepsEveryEscapedByte() {
        for byte in 0...255 {
            let hex = String(byte, radix: 16, uppercase: byte % 2 == 0)
            let escaped = "/a%" + (hex.count == 1 ? "0" + hex : hex)
            let result = PathNormalizer.normalize(Array(escaped.utf8))
            switch byte {
            case 0, 0x80...0xFF:
                #expect(result == .failure(.badRequest), "byte \(byte)")
            case 0x2F:
                #expect(result == .success("/a/"))
            default:
                #expect(result == .success("/a" + String(UnicodeScalar(UInt8(byte)))), "byte \(byte)")
            }
        }
    }
}
