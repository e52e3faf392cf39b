// RequestParserTests+Limits: 414 for a long request line and 431 for large or many header fields,
// at the exact boundaries and while the head is still incomplete (SPEC §3, RFC 9112 §3, RFC 6585 §5).
import Testing
@testable import CompanionCore

extension RequestParserTests {
    static let small = ParserLimits(maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaderCount: 3)

    /// A request line of exactly `length` bytes (without terminator): "GET /aaa… HTTP/1.1".
    static func requestLine(_ length: Int) -> String {
        "GET /" + String(repeating: "a", count: length - 14) + " HTTP/1.1"
    }

    @Test("request line length", arguments: ["\r\n", "\n"], [31, 32, 33, 100])
    func requestLineLimit(_ eol: String, _ length: Int) {
        let line = Self.requestLine(length)
        #expect(line.utf8.count == length)
        let full = Array((line + eol + "Host: a" + eol + eol).utf8)
        #expect(outcome(full, limits: Self.small) == (length <= 32 ? .ok : .status(414)))
    }

    @Test func longRequestLineIs414WhileIncomplete() {
        let limit = Self.small.maxRequestLineBytes
        // limit + 1 bytes without LF may still be a line of `limit` bytes plus its CR: wait.
        // limit + 2 bytes without LF cannot be a line within the limit: 414 at once.
        let partial = Array(("GET /" + String(repeating: "a", count: 100)).utf8)
        #expect(outcome(Array(partial[..<(limit + 1)]), limits: Self.small) == .needMore)
        #expect(outcome(Array(partial[..<(limit + 2)]), limits: Self.small) == .status(414))
        #expect(outcome(partial, limits: Self.small) == .status(414))
        // Default limit: 8 KiB.
        let big = Array(("GET /" + String(repeating: "a", count: 9000)).utf8)
        #expect(outcome(big) == .status(414))
        #expect(outcome(Array(big[..<8193])) == .needMore)
        #expect(outcome(Array(big[..<8194])) == .status(414))
    }

    @Test func defaultRequestLineBoundary() {
        for (length, expected) in [(8192, Outcome.ok), (8193, .status(414))] {
            let line = Self.requestLine(length)
            #expect(outcome(Array((line + "\r\nHost: a\r\n\r\n").utf8)) == expected)
        }
    }

    /// Header section = field lines with their terminators, without the final empty line.
    @Test("header section size", arguments: ["\r\n", "\n"], [63, 64, 65])
    func headerBytesLimit(_ eol: String, _ size: Int) {
        // "Host: a" + eol, then one "X: …" line filling the rest.
        let hostLine = "Host: a" + eol
        let fillerLength = size - hostLine.utf8.count - eol.utf8.count - 3
        let request = "GET / HTTP/1.1" + eol + hostLine + "X: " + String(repeating: "v", count: fillerLength) + eol + eol
        #expect(outcome(Array(request.utf8), limits: Self.small) == (size <= 64 ? .ok : .status(431)))
    }

    @Test func largeHeaderSectionIs431WhileIncomplete() {
        let prefix = "GET / HTTP/1.1\r\n"
        let fieldsStart = prefix.utf8.count
        let partial = Array((prefix + "Host: a\r\nX: " + String(repeating: "v", count: 200)).utf8)
        // Up to maxHeaderBytes bytes after the request line the head might still end in time.
        #expect(outcome(Array(partial[..<(fieldsStart + 63)]), limits: Self.small) == .needMore)
        #expect(outcome(Array(partial[..<(fieldsStart + 64)]), limits: Self.small) == .status(431))
        #expect(outcome(partial, limits: Self.small) == .status(431))
        // Default limit: 16 KiB, many short lines, no end.
        let lines = String(repeating: "X-Long-Header-Name: some value here\r\n", count: 500)
        #expect(outcome(Array((prefix + "Host: a\r\n" + lines).utf8)) == .status(431))
    }

    @Test func fieldsEndingExactlyAtTheLimitAreAccepted() {
        // The head completes at the boundary, with the final empty line beyond maxHeaderBytes.
        let eolCases = ["\r\n", "\n"]
        for eol in eolCases {
            let hostLine = "Host: a" + eol
            let filler = 64 - hostLine.utf8.count - eol.utf8.count - 3
            let request = "GET / HTTP/1.1" + eol + hostLine + "X: " + String(repeating: "v", count: filler) + eol + eol
            let bytes = Array(request.utf8)
            for end in 0..<bytes.count {
                #expect(outcome(Array(bytes[..<end]), limits: Self.small) == .needMore, "prefix \(end)")
            }
            #expect(outcome(bytes, limits: Self.small) == .ok)
        }
    }

    @Test("header field count", arguments: ["\r\n", "\n"], [3, 4])
    func headerCountLimit(_ eol: String, _ count: Int) {
        let fields = ["Host: a"] + (1..<count).map { "X\($0): v" }
        let request = (["GET / HTTP/1.1"] + fields + ["", ""]).joined(separator: eol)
        #expect(outcome(Array(request.utf8), limits: Self.small) == (count <= 3 ? .ok : .status(431)))
    }

    @Test func tooManyFieldsIs431WhileIncomplete() {
        let limits = ParserLimits(maxRequestLineBytes: 100, maxHeaderBytes: 10_000, maxHeaderCount: 3)
        let request = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD"
        #expect(outcome(Array(request.utf8), limits: limits) == .status(431))
        #expect(outcome(Array("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n".utf8), limits: limits) == .needMore)
    }

    @Test func defaultFieldCountIs100() {
        let fields = (0..<99).map { "X\($0): v\r\n" }.joined()
        #expect(outcome(Array("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n".utf8)) == .ok)
        #expect(outcome(Array("GET / HTTP/1.1\r\nHost: a\r\nY: v\r\n\(fields)\r\n".utf8)) == .status(431))
    }

    @Test func endlessEmptyLinesAreRejected() {
        let limits = Self.small
        #expect(outcome(Array(String(repeating: "\r\n", count: 16).utf8), limits: limits) == .needMore)
        #expect(outcome(Array(String(repeating: "\r\n", count: 17).utf8), limits: limits) == .status(400))
    }
}
