// ResponseHeadTests: the head ResponseFinalizer writes for extra header fields: the shared
// generated-page fields copied as rendered once, a changed copy rendered field by field, and
// names and values from custom plugins kept from splitting a line.
import Testing
@testable import CompanionCore

@Suite struct ResponseHeadTests {
    /// The head bytes (up to the blank line) written for `response` to a GET of "/".
    func head(_ response: Response) -> String {
        guard case .complete(let request, _) = RequestParser().parse(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)) else {
            Issue.record("the request did not parse")
            return ""
        }
        var dates = DateCache()
        var out: [UInt8] = []
        _ = ResponseFinalizer.finalize(response, head: request, keepAlive: true, dates: &dates, into: &out)
        let text = String(decoding: out, as: UTF8.self)
        return String(text[..<(text.firstRange(of: "\r\n\r\n")?.upperBound ?? text.endIndex)])
    }

    /// The extra lines of a head: what follows the fields every response has.
    func lines(_ head: String) -> [String] {
        head.split(separator: "\r\n").map(String.init).filter { line in
            !["HTTP/1.1", "Server:", "Date:", "Content-Type:", "Content-Length:"].contains { line.hasPrefix($0) }
        }
    }

    @Test func anErrorPageCarriesTheGeneratedPageFields() {
        let response = Response.error(.notFound)
        #expect(response.hasOnlyGeneratedPageHeaders)
        #expect(lines(head(response)) == [
            "Content-Security-Policy: \(ListingRenderer.contentSecurityPolicy)",
            "X-Content-Type-Options: nosniff",
        ])
    }

    @Test func aChangedCopyIsRenderedFieldByField() {
        var replaced = Response.error(.notFound)
        replaced.setHeader("X-Content-Type-Options", "other")
        #expect(lines(head(replaced)) == [
            "Content-Security-Policy: \(ListingRenderer.contentSecurityPolicy)",
            "X-Content-Type-Options: other",
        ])

        var response = Response.error(.notFound)
        response.setHeader("X-Content-Type-Options", "other")
        response.addHeader("Cache-Control", "no-store")
        #expect(!response.hasOnlyGeneratedPageHeaders)
        #expect(lines(head(response)) == [
            "Content-Security-Policy: \(ListingRenderer.contentSecurityPolicy)",
            "X-Content-Type-Options: other",
            "Cache-Control: no-store",
        ])
        // The shared array itself is unchanged: the next error page has the original fields.
        #expect(lines(head(Response.error(.notFound))).last == "X-Content-Type-Options: nosniff")

        var removed = Response.error(.notFound)
        removed.removeHeader("Content-Security-Policy")
        #expect(lines(head(removed)) == ["X-Content-Type-Options: nosniff"])
    }

    @Test func namesAndValuesCannotSplitALine() {
        var response = Response(status: .ok, body: .bytes([]))
        response.addHeader("X-Plain", "a value: with colons; and spaces")
        response.addHeader("X-Bad Name:\r\n\u{0}", "ok")
        response.addHeader("X-Split", "a\r\nSet-Cookie: b\u{0}c")
        response.addHeader("X-Long", String(repeating: "v", count: 300) + "\n")
        response.addHeader(String(repeating: "N", count: 70) + "\u{7F}é", "x")
        #expect(lines(head(response)) == [
            "X-Plain: a value: with colons; and spaces",
            "X-BadName: ok",
            "X-Split: aSet-Cookie: bc",
            "X-Long: " + String(repeating: "v", count: 300),
            String(repeating: "N", count: 70) + ": x",
        ])
    }

    /// The writer owns the framing: a custom plugin that adds or sets Content-Length,
    /// Transfer-Encoding, Connection, Keep-Alive, Upgrade or Trailer (any case), or appends
    /// them to `extraHeaders`, changes nothing on the wire. Only setHeader refused them, and
    /// only five of the eight: `addHeader("Content-Length", "0")` sent a second length.
    @Test func pluginsCannotAddFramingHeaders() {
        var response = Response(status: .ok, body: .bytes(Array("hello".utf8)))
        for name in ["Content-Length", "transfer-encoding", "Connection", "Keep-Alive", "Upgrade", "Trailer", "Date", "Server"] {
            response.addHeader(name, "0")
            response.setHeader(name, "0")
        }
        // Appended to the public array directly, they are dropped when the head is written.
        response.extraHeaders.append(("TRANSFER-ENCODING", "chunked"))
        response.extraHeaders.append(("Content-length", "0"))
        response.addHeader("X-Kept", "yes")
        let head = head(response)
        #expect(lines(head) == ["X-Kept: yes"])
        for name in ["content-length:", "date:", "server:"] {
            #expect(head.split(separator: "\r\n").filter { $0.lowercased().hasPrefix(name) }.count == 1, "\(name)")
        }
        #expect(head.contains("Content-Length: 5\r\n"))
        #expect(HeaderSyntax.framingHeaders.count == 8)
        #expect(HeaderSyntax.framingHeaders.allSatisfy { HeaderSyntax.isFramingHeader($0.uppercased()) })
        // Same length, one byte off (CR would become "-" under a careless case fold).
        for near in ["content\rlength", "content-lengthX", "date ", "X-Upgrade", "Keep_Alive", ""] {
            #expect(!HeaderSyntax.isFramingHeader(near), "\(near.debugDescription)")
        }
    }
}
