// RequestParserTests: the table of malformed and edge-case request heads (one line per case, as in
// lighttpd's src/t/test_request.c), multiplied over CRLF vs LF line endings and HTTP/1.1 vs HTTP/1.0.
// Byte sweeps, field extraction, routing, limits and incremental feeding are in RequestParserTests+*.swift.
import Testing
@testable import CompanionCore

/// What a parse should give.
enum Outcome: Equatable, CustomStringConvertible {
    case ok, needMore, status(Int)
    var description: String {
        switch self {
        case .ok: return "ok"
        case .needMore: return "needMore"
        case .status(let code): return "\(code)"
        }
    }
}

/// One table row: a label, the raw bytes and the expected outcome.
struct ParseCase: CustomTestStringConvertible, Sendable {
    var label: String
    var bytes: [UInt8]
    var expect: Outcome
    var testDescription: String { label }

    /// `text` is the request; "§" in it stands for `byte` (so any byte, including NUL or 0x80, can be placed).
    init(_ label: String, _ text: String, byte: UInt8? = nil, _ expect: Outcome) {
        self.label = label
        self.expect = expect
        var out: [UInt8] = []
        for b in text.utf8 {
            if b == 0xA7, out.last == 0xC2, let byte {  // "§" is C2 A7 in UTF-8
                out[out.count - 1] = byte
            } else {
                out.append(b)
            }
        }
        self.bytes = out
    }

    init(label: String, bytes: [UInt8], expect: Outcome) {
        self.label = label
        self.bytes = bytes
        self.expect = expect
    }
}

/// Parses `bytes` and reduces the result to an Outcome (checking `consumed` for a lone complete request).
func outcome(_ bytes: [UInt8], limits: ParserLimits = .init()) -> Outcome {
    switch RequestParser(limits: limits).parse(bytes) {
    case .needMore: return .needMore
    case .reject(let status): return .status(status.code)
    case .complete(let head, let consumed):
        return consumed <= bytes.count && head.bytes == Array(bytes[(consumed - head.bytes.count)..<consumed])
            ? .ok : .status(-1)
    }
}

/// Parses a complete head or records an issue.
func head(_ text: String, limits: ParserLimits = .init(),
          sourceLocation: SourceLocation = #_sourceLocation) -> RequestHead? {
    let bytes = Array(text.utf8)
    guard case .complete(let head, let consumed) = RequestParser(limits: limits).parse(bytes) else {
        Issue.record("expected a complete head for \(text.debugDescription)", sourceLocation: sourceLocation)
        return nil
    }
    #expect(consumed == bytes.count, sourceLocation: sourceLocation)
    return head
}

func text(_ slice: ArraySlice<UInt8>?) -> String? { slice.map { String(decoding: $0, as: UTF8.self) } }

/// Expands each case into CRLF/LF and HTTP/1.1 / HTTP/1.0 variants (only when the variant differs).
/// `versionNeutral: false` keeps the case to the version written in it.
func multiplied(_ cases: [ParseCase], versionNeutral: Bool = true) -> [ParseCase] {
    var out: [ParseCase] = []
    for c in cases {
        var versions = [c]
        let v11 = Array("HTTP/1.1".utf8)
        if versionNeutral, let v10 = replacing(c.bytes, v11, with: Array("HTTP/1.0".utf8)) {
            versions.append(ParseCase(label: c.label + " [1.0]", bytes: v10, expect: c.expect))
        }
        for v in versions {
            out.append(ParseCase(label: v.label + " [CRLF]", bytes: v.bytes, expect: v.expect))
            if let lf = replacing(v.bytes, [0x0D, 0x0A], with: [0x0A]) {
                out.append(ParseCase(label: v.label + " [LF]", bytes: lf, expect: v.expect))
            }
        }
    }
    return out
}

/// `bytes` with every `old` replaced by `new`, or nil when `old` does not occur.
func replacing(_ bytes: [UInt8], _ old: [UInt8], with new: [UInt8]) -> [UInt8]? {
    var out: [UInt8] = []
    var i = 0
    var found = false
    while i < bytes.count {
        if i + old.count <= bytes.count && Array(bytes[i..<i + old.count]) == old {
            out += new
            i += old.count
            found = true
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return found ? out : nil
}

@Suite struct RequestParserTests {
    /// Cases whose outcome does not depend on the HTTP/1.x minor version (all carry a Host).
    static let neutralCases: [ParseCase] = [
        // Request line: RFC 9112 §3 request-line = method SP request-target SP HTTP-version
        ParseCase("simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", .ok),
        ParseCase("unknown but valid method", "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", .ok),
        ParseCase("lowercase method is a valid token", "get / HTTP/1.1\r\nHost: a\r\n\r\n", .ok),
        ParseCase("method with '('", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("method with '/'", "GET/ / HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("two SP after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("two SP before version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("trailing SP after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("HTAB as separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("leading SP on request line", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("no version (HTTP/0.9 style)", "GET /\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("method only", "GET\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("target with SP", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("target with NUL", "GET /a§b HTTP/1.1\r\nHost: a\r\n\r\n", byte: 0x00, .status(400)),
        ParseCase("target with 0x01", "GET /a§b HTTP/1.1\r\nHost: a\r\n\r\n", byte: 0x01, .status(400)),
        ParseCase("target with DEL", "GET /a§b HTTP/1.1\r\nHost: a\r\n\r\n", byte: 0x7F, .status(400)),
        ParseCase("target with 0x80", "GET /a§b HTTP/1.1\r\nHost: a\r\n\r\n", byte: 0x80, .status(400)),
        ParseCase("target with 0xFF", "GET /a§b HTTP/1.1\r\nHost: a\r\n\r\n", byte: 0xFF, .status(400)),
        ParseCase("target with HTAB", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("relative target", "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("authority-form", "CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("asterisk-form with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("asterisk-form with OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", .ok),
        ParseCase("asterisk with more bytes", "OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("asterisk with query", "OPTIONS *?a HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("absolute-form http", "GET http://example.com/x?y HTTP/1.1\r\nHost: a\r\n\r\n", .ok),
        ParseCase("absolute-form HTTPS, no path", "GET HTTPS://Example.com HTTP/1.1\r\nHost: a\r\n\r\n", .ok),
        ParseCase("absolute-form IPv6 and port", "GET http://[::1]:8080/ HTTP/1.1\r\nHost: a\r\n\r\n", .ok),
        ParseCase("absolute-form ftp scheme", "GET ftp://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("absolute-form one slash", "GET http:/example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("absolute-form empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("absolute-form empty host", "GET http://:80/ HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("absolute-form userinfo", "GET http://u@h/ HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("absolute-form bad host", "GET http://ex<a/ HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("absolute-form open bracket", "GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        // Version: RFC 9112 §2.3 HTTP-version = HTTP-name "/" DIGIT "." DIGIT, case-sensitive
        ParseCase("lowercase http", "GET / http/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("version 1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("version 11", "GET / HTTP/11\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("version 1.", "GET / HTTP/1.\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("version with SP", "GET / HTTP /1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("version 1,1", "GET / HTTP/1,1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("version HTTPS/1.1", "GET / HTTPS/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("version x.1", "GET / HTTP/x.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("HTTP/2.0 is 505", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .status(505)),
        ParseCase("HTTP/0.9 is 505", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", .status(505)),
        ParseCase("HTTP/3.0 is 505", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", .status(505)),
        ParseCase("HTTP/9.9 is 505", "GET / HTTP/9.9\r\nHost: a\r\n\r\n", .status(505)),
        ParseCase("HTTP/1.2 is 1.1", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .ok),
        ParseCase("HTTP/1.9 is 1.1", "GET / HTTP/1.9\r\nHost: a\r\n\r\n", .ok),
        // Line endings: RFC 9112 §2.2 bare CR is invalid; leading empty lines are ignored
        ParseCase("bare CR inside request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("request line ends in bare CR", "GET / HTTP/1.1\rHost: a\r\n\r\n", .status(400)),
        ParseCase("bare CR at a line start", "GET / HTTP/1.1\r\n\rHost: a\r\n\r\n", .status(400)),
        ParseCase("CR CR CR LF at end", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\r\n", .status(400)),
        ParseCase("bare CR before request line", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .ok),
        // Field lines: RFC 9112 §5.1 field-line = field-name ":" OWS field-value OWS
        ParseCase("SP before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", .status(400)),
        ParseCase("HTAB before colon", "GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n", .status(400)),
        ParseCase("empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", .status(400)),
        ParseCase("no colon", "GET / HTTP/1.1\r\nHost: a\r\nX b\r\n\r\n", .status(400)),
        ParseCase("obs-fold with SP", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", .status(400)),
        ParseCase("obs-fold with HTAB", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", .status(400)),
        ParseCase("SP after request line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", .status(400)),
        ParseCase("name with '('", "GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n", .status(400)),
        ParseCase("name with 0x80", "GET / HTTP/1.1\r\nHost: a\r\nX§: b\r\n\r\n", byte: 0x80, .status(400)),
        ParseCase("NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a§b\r\n\r\n", byte: 0x00, .status(400)),
        ParseCase("CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", .status(400)),
        ParseCase("DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a§b\r\n\r\n", byte: 0x7F, .status(400)),
        ParseCase("ESC in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a§b\r\n\r\n", byte: 0x1B, .status(400)),
        ParseCase("obs-text in value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf§\r\n\r\n", byte: 0xE9, .ok),
        ParseCase("HTAB inside value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n", .ok),
        ParseCase("empty value", "GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n", .ok),
        ParseCase("only OWS value", "GET / HTTP/1.1\r\nHost: a\r\nX: \t \r\n\r\n", .ok),
        // Host: RFC 9112 §3.2, RFC 9110 §7.2, RFC 3986 §3.2.2
        ParseCase("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", .status(400)),
        ParseCase("two Host fields, other case", "GET / HTTP/1.1\r\nHost: a\r\nhOsT: b\r\n\r\n", .status(400)),
        ParseCase("uppercase HOST counts", "GET / HTTP/1.1\r\nHOST: a\r\n\r\n", .ok),
        ParseCase("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", .ok),
        ParseCase("Host with SP", "GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n", .status(400)),
        ParseCase("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .status(400)),
        ParseCase("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", .status(400)),
        ParseCase("Host with empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", .ok),
        ParseCase("Host with bad port", "GET / HTTP/1.1\r\nHost: a:80a\r\n\r\n", .status(400)),
        ParseCase("Host with two ports", "GET / HTTP/1.1\r\nHost: a:80:81\r\n\r\n", .status(400)),
        ParseCase("Host IPv4 and port", "GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\n\r\n", .ok),
        ParseCase("Host IPv6 and port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", .ok),
        ParseCase("Host IPv6 with IPv4 tail", "GET / HTTP/1.1\r\nHost: [::ffff:10.0.0.1]\r\n\r\n", .ok),
        ParseCase("Host IPv6 full", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8]\r\n\r\n", .ok),
        ParseCase("Host IPv6 nine groups", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8:9]\r\n\r\n", .status(400)),
        ParseCase("Host IPv6 two '::'", "GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n", .status(400)),
        ParseCase("Host IPv6 zone ID", "GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", .status(400)),
        ParseCase("Host IPv6 unclosed", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", .status(400)),
        ParseCase("Host IPv6 without brackets", "GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", .status(400)),
        ParseCase("Host IPvFuture", "GET / HTTP/1.1\r\nHost: [v1.x:y]\r\n\r\n", .ok),
        ParseCase("Host bytes after ']'", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", .status(400)),
        ParseCase("Host pct-encoded", "GET / HTTP/1.1\r\nHost: a%2Eb\r\n\r\n", .ok),
        ParseCase("Host bad pct-encoding", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", .status(400)),
        ParseCase("Host cut pct-encoding", "GET / HTTP/1.1\r\nHost: a%2\r\n\r\n", .status(400)),
        ParseCase("Host obs-text", "GET / HTTP/1.1\r\nHost: caf§\r\n\r\n", byte: 0xE9, .status(400)),
        // Bodies: RFC 9112 §6, RFC 9110 §8.6 Content-Length = 1*DIGIT
        ParseCase("Transfer-Encoding chunked", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", .status(400)),
        ParseCase("transfer-encoding identity", "GET / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: identity\r\n\r\n", .status(400)),
        ParseCase("TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .status(400)),
        ParseCase("Content-Length 5", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", .ok),
        ParseCase("Content-Length with OWS", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \t7 \r\n\r\n", .ok),
        ParseCase("Content-Length leading zeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n", .ok),
        ParseCase("Content-Length 18 digits", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n", .ok),
        ParseCase("Content-Length 19 digits", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000000\r\n\r\n", .status(400)),
        ParseCase("Content-Length plus sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", .status(400)),
        ParseCase("Content-Length negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .status(400)),
        ParseCase("Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", .status(400)),
        ParseCase("Content-Length inner SP", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", .status(400)),
        ParseCase("Content-Length empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", .status(400)),
        ParseCase("Content-Length hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", .status(400)),
        ParseCase("two Content-Length, same value", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", .status(400)),
        // Incomplete heads and non-HTTP input
        ParseCase("empty buffer", "", .needMore),
        ParseCase("only a CR", "\r", .needMore),
        ParseCase("only empty lines", "\r\n\r\n", .needMore),
        ParseCase("partial method", "GE", .needMore),
        ParseCase("partial request line", "GET / HTTP/1.", .needMore),
        ParseCase("request line only", "GET / HTTP/1.1\r\n", .needMore),
        ParseCase("one field, no empty line", "GET / HTTP/1.1\r\nHost: a\r\n", .needMore),
        ParseCase("final CR without LF", "GET / HTTP/1.1\r\nHost: a\r\n\r", .needMore),
        ParseCase("TLS ClientHello start", "§\u{03}\u{01}\u{02}", byte: 0x16, .status(400)),
        ParseCase("partial line, bad method byte", "GE{", .status(400)),
        ParseCase("partial line, leading SP", " ", .status(400)),
        ParseCase("bad request line before head ends", "GET /  HTTP/1.1\r\nHost: a\r\n", .status(400)),
    ]

    /// Cases that hold only for the version written in them.
    static let versionCases: [ParseCase] = [
        ParseCase("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", .status(400)),
        ParseCase("HTTP/1.1 without fields", "GET / HTTP/1.1\r\n\r\n", .status(400)),
        ParseCase("HTTP/1.2 without Host", "GET / HTTP/1.2\r\n\r\n", .status(400)),
        ParseCase("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", .ok),
        ParseCase("HTTP/1.0 absolute-form without Host", "GET http://a/ HTTP/1.0\r\n\r\n", .ok),
        ParseCase("HTTP/1.1 absolute-form still needs Host", "GET http://a/ HTTP/1.1\r\n\r\n", .status(400)),
        ParseCase("HTTP/1.0 two Host fields", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", .status(400)),
        ParseCase("HTTP/1.0 bad Host", "GET / HTTP/1.0\r\nHost: a b\r\n\r\n", .status(400)),
    ]

    static let allCases = multiplied(neutralCases) + multiplied(versionCases, versionNeutral: false)

    @Test("malformed and edge-case heads", arguments: allCases)
    func table(_ c: ParseCase) {
        #expect(outcome(c.bytes) == c.expect, "\(c.label)")
    }

    @Test func tableIsLargeEnough() {
        #expect(Self.neutralCases.count + Self.versionCases.count >= 60)
    }
}
