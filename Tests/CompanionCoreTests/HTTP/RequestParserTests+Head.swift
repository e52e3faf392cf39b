// RequestParserTests+Head: what a complete head holds: method, target forms, fields and lookups,
// Content-Length, keep-alive, routing host, pipelining and incremental feeding.
import Testing
@testable import CompanionCore

extension RequestParserTests {
    @Test("method tokens map case-sensitively", arguments: [
        ("GET", Method.get), ("HEAD", .head), ("OPTIONS", .options), ("get", .other), ("Head", .other),
        ("POST", .other), ("BREW", .other), ("GETS", .other), ("OPTION", .other), ("OPTIONSX", .other),
    ])
    func methods(_ token: String, _ expected: Method) {
        guard let h = head("\(token) / HTTP/1.1\r\nHost: a\r\n\r\n") else { return }
        #expect(h.method == expected)
        #expect(h.methodString == token)
        #expect(text(h.bytes(h.methodBytes)) == token)
    }

    /// (target, path, query, authority, asterisk)
    @Test("request-target forms", arguments: [
        ("/", "/", nil, nil, false),
        ("/a/b.html", "/a/b.html", nil, nil, false),
        ("/a?b=1&c", "/a", "b=1&c", nil, false),
        ("/a?", "/a", "", nil, false),
        ("/a?b?c", "/a", "b?c", nil, false),
        ("/%2e%2e/x", "/%2e%2e/x", nil, nil, false),  // percent-decoding is not the parser's job
        ("http://a.example/x/y?q=1", "/x/y", "q=1", "a.example", false),
        ("http://a.example", "", nil, "a.example", false),
        ("http://a.example?q", "", "q", "a.example", false),
        ("HtTpS://B.example:8443/", "/", nil, "B.example:8443", false),
        ("http://[::1]:8080/p", "/p", nil, "[::1]:8080", false),
        ("http://10.0.0.1/", "/", nil, "10.0.0.1", false),
    ] as [(String, String, String?, String?, Bool)])
    func targetForms(_ target: String, _ path: String, _ query: String?, _ authority: String?, _ asterisk: Bool) {
        guard let h = head("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n") else { return }
        #expect(h.targetString == target)
        #expect(text(h.bytes(h.path)) == path)
        #expect(text(h.query.map { h.bytes($0) }) == query)
        #expect(text(h.absoluteAuthority.map { h.bytes($0) }) == authority)
        #expect(h.isAsteriskForm == asterisk)
    }

    @Test func asteriskForm() {
        guard let h = head("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") else { return }
        #expect(h.isAsteriskForm)
        #expect(h.method == .options)
        #expect(text(h.bytes(h.path)) == "*")
        #expect(h.query == nil && h.absoluteAuthority == nil)
    }

    @Test("fields keep their order, raw names and trimmed values", arguments: ["\r\n", "\n"])
    func fields(_ eol: String) {
        let request = ["GET /x HTTP/1.1", "Host:  example.com ", "X-Empty:", "User-Agent:\tcurl/8 \t",
                       "x-custom: a, b ", "ACCEPT: text/html", "X-Custom: second", "", ""].joined(separator: eol)
        guard let h = head(request) else { return }
        let pairs = h.fields.map { (text(h.bytes($0.name))!, text(h.bytes($0.value))!) }
        #expect(pairs.map(\.0) == ["Host", "X-Empty", "User-Agent", "x-custom", "ACCEPT", "X-Custom"])
        #expect(pairs.map(\.1) == ["example.com", "", "curl/8", "a, b", "text/html", "second"])
        #expect(h.fields.map(\.known) == [.host, nil, .userAgent, nil, .accept, nil])
        #expect(text(h.value(.host)) == "example.com")
        #expect(h.string(.userAgent) == "curl/8")
        #expect(h.string(.accept) == "text/html")
        #expect(h.value(.range) == nil && h.string(.referer) == nil)
        // value(named:) is case-insensitive and answers the first occurrence.
        #expect(text(h.value(named: "X-CUSTOM")) == "a, b")
        #expect(text(h.value(named: "user-agent")) == "curl/8")
        #expect(text(h.value(named: "x-empty")) == "")
        #expect(h.value(named: "x-missing") == nil)
        #expect(h.value(named: "x-custo") == nil)
        #expect(h.versionMinor == 1 && h.contentLength == 0)
        #expect(h.bytes.count == request.utf8.count)
    }

    @Test("every known header is found in any case", arguments: HeaderName.allCases)
    func knownHeaderLookup(_ name: HeaderName) {
        let raw = "\(name.lowercasedName)"
        let mixed = String(raw.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
        let value = name == .contentLength ? "3" : "v"
        let hostLine = name == .host ? "" : "Host: a\r\n"
        let request = "GET / HTTP/1.1\r\n\(hostLine)\(mixed): \(value)\r\n\r\n"
        if name == .transferEncoding {
            #expect(outcome(Array(request.utf8)) == .status(400))
            return
        }
        guard let h = head(request) else { return }
        #expect(text(h.value(name)) == value)
        #expect(h.fields.last?.known == name)
        // Near misses are not known headers.
        #expect(HeaderName.lookupForTest(raw + "x") == nil)
        #expect(HeaderName.lookupForTest(String(raw.dropLast()) + "_") == nil)
        #expect(HeaderName.lookupForTest(raw.uppercased()) == name)
        // One other tchar at any position (the names are compared eight bytes at a time).
        for position in raw.indices {
            let other: Character = raw[position] == "x" ? "y" : "x"
            var changed = raw
            changed.replaceSubrange(position...position, with: String(other))
            #expect(HeaderName.lookupForTest(changed) == nil, "\(changed)")
        }
    }

    @Test func obsTextValueAsString() {
        let c = ParseCase("v", "GET / HTTP/1.0\r\nUser-Agent: caf§\r\n\r\n", byte: 0xE9, .ok)
        guard case .complete(let h, _) = RequestParser().parse(c.bytes) else { Issue.record("no head"); return }
        #expect(h.value(.userAgent) == [0x63, 0x61, 0x66, 0xE9][...])
        #expect(h.string(.userAgent) == "caf\u{FFFD}")
    }

    @Test func contentLengthAndBodyAreNotConsumed() {
        let request = Array("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello".utf8)
        guard case .complete(let h, let consumed) = RequestParser().parse(request) else {
            Issue.record("no head"); return
        }
        #expect(h.contentLength == 5)
        #expect(consumed == request.count - 5)
        #expect(h.method == .other && h.methodString == "POST")
    }

    /// (version, Connection field lines, expected isKeepAlive)
    @Test("keep-alive semantics (RFC 9112 §9.3)", arguments: [
        ("1.1", [], true),
        ("1.1", ["close"], false),
        ("1.1", ["Close"], false),
        ("1.1", ["keep-alive, close"], false),
        ("1.1", ["upgrade,  CLOSE "], false),
        ("1.1", ["foo", "close"], false),
        ("1.1", ["closed"], true),
        ("1.1", ["keep-alive"], true),
        ("1.1", [",,close,"], false),
        ("1.0", [], false),
        ("1.0", ["keep-alive"], true),
        ("1.0", ["Keep-Alive"], true),
        ("1.0", ["foo,\tkeep-alive"], true),
        ("1.0", ["foo", "keep-alive"], true),
        ("1.0", ["keep-alive, close"], false),
        ("1.0", ["keep-alives"], false),
        ("1.2", [], true),
    ] as [(String, [String], Bool)])
    func keepAlive(_ version: String, _ connection: [String], _ expected: Bool) {
        let lines = connection.map { "Connection: \($0)\r\n" }.joined()
        guard let h = head("GET / HTTP/\(version)\r\nHost: a\r\n\(lines)\r\n") else { return }
        #expect(h.isKeepAlive == expected)
        #expect(h.versionMinor == (version == "1.0" ? 0 : 1))
    }

    /// (request line target, Host line or nil, expected routingHost)
    @Test("routing host normalisation", arguments: [
        ("/", "Example.COM.:8080", "example.com"),
        ("/", "[::1]:8080", "[::1]"),
        ("/", "[::1]", "[::1]"),
        ("/", "", ""),
        ("/", "a.b", "a.b"),
        ("/", "a.b.", "a.b"),
        ("/", "A.B:", "a.b"),
        ("/", "10.0.0.1:80", "10.0.0.1"),
        ("http://Other.Test:81/x", "example.com", "other.test"),
        ("https://[::2]/x", "example.com", "[::2]"),
        ("http://Abs.Example./", nil, "abs.example"),
        ("/", nil, nil),
        ("/", "x.:1", "x"),
        ("/", "%41b.C", "%41b.c"),
        ("/", "[v1.a:b]:443", "[v1.a:b]"),
    ] as [(String, String?, String?)])
    func routingHost(_ target: String, _ host: String?, _ expected: String?) {
        let version = host == nil ? "1.0" : "1.1"
        let hostLine = host.map { "Host: \($0)\r\n" } ?? ""
        guard let h = head("GET \(target) HTTP/\(version)\r\n\(hostLine)\r\n") else { return }
        #expect(h.routingHost == expected)
    }

    /// The Host's range (found by the parser's syntax check) indexes the head's bytes, which
    /// leave out the empty lines before the request line.
    @Test func routingHostAfterLeadingEmptyLines() {
        guard let h = head("\r\n\r\nGET / HTTP/1.1\r\nX: y\r\nHost: Lead.Example.:99\r\n\r\n") else { return }
        #expect(h.routingHost == "lead.example")
    }

    @Test("pipelined requests: consumed covers only the first", arguments: ["\r\n", "\n"])
    func pipelined(_ eol: String) {
        let first = "GET /one HTTP/1.1\(eol)Host: a\(eol)\(eol)"
        let second = "HEAD /two HTTP/1.1\(eol)Host: b\(eol)Connection: close\(eol)\(eol)"
        let buffer = Array((first + second).utf8)
        guard case .complete(let h1, let c1) = RequestParser().parse(buffer) else { Issue.record("first"); return }
        #expect(c1 == first.utf8.count)
        #expect(text(h1.bytes(h1.path)) == "/one" && h1.isKeepAlive)
        guard case .complete(let h2, let c2) = RequestParser().parse(Array(buffer[c1...])) else {
            Issue.record("second"); return
        }
        #expect(c2 == second.utf8.count)
        #expect(h2.method == .head && text(h2.bytes(h2.path)) == "/two" && !h2.isKeepAlive)
        #expect(h2.routingHost == "b")
    }

    @Test func leadingEmptyLinesAreConsumedButNotInBytes() {
        let request = Array("\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        guard case .complete(let h, let consumed) = RequestParser().parse(request) else { Issue.record("no head"); return }
        #expect(consumed == request.count)
        #expect(h.bytes == Array(request[5...]))
        #expect(h.methodString == "GET")
    }

    @Test("byte-by-byte feeding is needMore until the head is complete", arguments: [
        "GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\nAccept: */*\n\n",
        "\r\n\r\nGET /x?y HTTP/1.0\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\n",
        "GET http://a.example/ HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    ])
    func incremental(_ request: String) {
        let bytes = Array(request.utf8)
        for end in 0..<bytes.count {
            #expect(outcome(Array(bytes[..<end])) == .needMore, "prefix of \(end) bytes")
        }
        #expect(outcome(bytes) == .ok)
    }

    @Test func escapedStringForLogs() {
        #expect(RequestHead.escapedString([0x2F, 0x61, 0x00, 0x1B, 0x80, 0xFF, 0x5C][...]) == "/a\\x00\\x1B\\x80\\xFF\\")
    }
}

extension HeaderName {
    /// Test hook: the table lookup over a String's bytes.
    static func lookupForTest(_ name: String) -> HeaderName? {
        Array(name.utf8).withUnsafeBytes { lookup($0, 0..<$0.count) }
    }
}
