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
        // The dispatcher's entry point (bytes in memory) gives the same answer.
        let fromMemory = Array(input.utf8).withUnsafeBufferPointer { PathNormalizer.normalize($0) }
        #expect(fromMemory == PathNormalizer.normalize(Array(input.utf8)), "input \(input)")
    }

    /// The byte test the dispatcher and `Request.hasTrailingSlash` use, on small and large
    /// strings (stored inline and on the heap) and non-ASCII ones.
    @Test func endsInSlashAgreesWithTheLastByte() {
        let long = "/" + String(repeating: "abcdefgh/", count: 8)
        for path in ["", "/", "/a", "/a/", "/index.html", "/é/", "/é", long, long + "x", "/" + String(repeating: "é", count: 20) + "/"] {
            #expect(PathNormalizer.endsInSlash(path) == (path.utf8.last == UInt8(ascii: "/")), "\(path)")
        }
    }

    @Test func acceptsAnyByteCollection() {
        let buffer: [UInt8] = Array("GET /a/../b HTTP/1.1".utf8)
        let slice = buffer[4..<11]
        #expect(PathNormalizer.normalize(slice) == .success("/b"))
        #expect(PathNormalizer.normalize("/x//y".utf8) == .success("/x/y"))
    }

    /// The allocation-free fast path must agree with the general steps on every input it
    /// takes: all paths of up to 6 bytes after the '/' over an alphabet of the bytes that matter.
    @Test func plainPathAgreesWithTheGeneralSteps() {
        let alphabet: [UInt8] = [0x2F, 0x2E, 0x61, 0x25, 0x32, 0x65, 0x00, 0xC3, 0xA9, 0x2D]
        var taken = 0
        func visit(_ path: [UInt8]) {
            if let plain = path.withUnsafeBufferPointer(PathNormalizer.plainPath) {
                taken += 1
                #expect(PathNormalizer.normalizeInSteps(path) == .success(plain), "\(path)")
            }
            #expect(PathNormalizer.normalize(path) == PathNormalizer.normalizeInSteps(path), "\(path)")
            guard path.count < 6 else { return }
            for byte in alphabet { visit(path + [byte]) }
        }
        visit([0x2F])
        #expect(taken > 1000)
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

extension PathNormalizerTests {
    /// A small deterministic fuzz (darkhttpd fuzz_make_safe_uri in spirit): random paths built
    /// from the dangerous pieces never normalise to anything with a dot segment, an empty
    /// segment or a NUL, and always start with '/'.
    @Test func fuzzedPathsAreAlwaysClean() {
        let pieces = ["/", "//", ".", "..", "%2e", "%2E%2e", "%2f", "%2F", "%25", "%00", "a", "b.c", "\\", "%5c",
                      "%", "%4", "..%2f", "%c3%a9", "%ff", ";", "?", "~"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var accepted = 0
        for _ in 0..<20_000 {
            var path = "/"
            for _ in 0..<(next() % 8) { path += pieces[next() % pieces.count] }
            guard case .success(let normalized) = PathNormalizer.normalize(Array(path.utf8)) else { continue }
            accepted += 1
            #expect(normalized.hasPrefix("/"))
            let segments = normalized.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            for (index, segment) in segments.enumerated() {
                #expect(segment != "." && segment != "..", "\(path) → \(normalized)")
                // Only the last segment may be empty (the kept trailing slash).
                #expect(!segment.isEmpty || index == segments.count - 1, "\(path) → \(normalized)")
            }
            #expect(!normalized.utf8.contains(0))
        }
        #expect(accepted > 1000)
    }
}
