// The ACME client's response parser on what a CA (or something pretending to be one)
// may send: lengths that lie, chunked bodies, heads that never end. A parse error is an
// ACMEError for the order to retry, never a crash of the server.
import Testing
@testable import CompanionCore

@Suite struct HTTPSClientParseTests {
    static let url = HTTPSURL("https://ca.example/dir")!

    static func parse(_ text: String) throws(ACMEError) -> HTTPSResponse {
        try HTTPSClient.parse(Array(text.utf8), url: url, isHead: false)
    }

    @Test func aNegativeContentLengthIsIgnoredNotACrash() throws {
        // Found by fuzz/run.sh acme: `body[0..<-99]` trapped.
        let response = try Self.parse("HTTP/1. 2\r\nContent-Length:-99   \r\n\r\n{}")
        #expect(response.status == 2)
        #expect(response.body == Array("{}".utf8))
    }

    @Test func contentLengthAndChunkedBodies() throws {
        let sized = try Self.parse("HTTP/1.1 201 Created\r\nLocation: https://ca.example/acct/1\r\nContent-Length: 2\r\n\r\n{}extra")
        #expect(sized.status == 201)
        #expect(sized.header("location") == "https://ca.example/acct/1")
        #expect(sized.body == Array("{}".utf8))
        let chunked = try Self.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n")
        #expect(chunked.body == Array("{\"a\":1}".utf8))
    }

    @Test func brokenResponsesAreErrors() {
        #expect(throws: ACMEError.self) { try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n") }
        #expect(throws: ACMEError.self) { try Self.parse("SSH-2.0-OpenSSH\r\n\r\n") }
        #expect(throws: ACMEError.self) { try Self.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") }
        #expect(throws: ACMEError.self) { try Self.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc") }
    }
}
