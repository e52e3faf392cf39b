// ByteRange: a table of Range headers against sizes (lighttpd test_http_range.c style),
// overflow cases, the cap, and the multipart framing.
import Testing
@testable import CompanionCore

@Suite struct ByteRangeTests {
    static let cases: [(String, Int, RangeResult)] = [
        // Single ranges (RFC 9110 §14.1.2 examples, size 10000).
        ("bytes=0-499", 10000, .ranges([0..<500])),
        ("bytes=500-999", 10000, .ranges([500..<1000])),
        ("bytes=-500", 10000, .ranges([9500..<10000])),
        ("bytes=9500-", 10000, .ranges([9500..<10000])),
        ("bytes=0-0", 10000, .ranges([0..<1])),
        ("bytes=-1", 10000, .ranges([9999..<10000])),
        ("bytes=0-", 10000, .ranges([0..<10000])),
        ("bytes=9999-9999", 10000, .ranges([9999..<10000])),
        // Clamping.
        ("bytes=0-99999", 10000, .ranges([0..<10000])),
        ("bytes=-99999", 10000, .ranges([0..<10000])),
        ("bytes=9990-10005", 10000, .ranges([9990..<10000])),
        // Unit and whitespace.
        ("BYTES=0-1", 10, .ranges([0..<2])),
        ("Bytes=0-1", 10, .ranges([0..<2])),
        ("  bytes=0-1  ", 10, .ranges([0..<2])),
        ("bytes=0-1 , 4-5", 10, .ranges([0..<2, 4..<6])),
        ("bytes=0-1,\t4-5", 10, .ranges([0..<2, 4..<6])),
        ("bytes=0-1,,4-5,", 10, .ranges([0..<2, 4..<6])),  // empty list elements (§5.6.1)
        ("bytes= 0-1", 10, .ranges([0..<2])),
        // Multiple ranges keep request order; adjacent is not overlapping.
        ("bytes=5-6,0-1", 10, .ranges([5..<7, 0..<2])),
        ("bytes=0-1,2-3", 10, .ranges([0..<2, 2..<4])),
        ("bytes=0-1,-2", 10, .ranges([0..<2, 8..<10])),
        // Unsatisfiable ranges are dropped; none left → 416.
        ("bytes=10000-", 10000, .unsatisfiable),
        ("bytes=10000-10001", 10000, .unsatisfiable),
        ("bytes=-0", 10000, .unsatisfiable),
        ("bytes=20-30,40-50", 10, .unsatisfiable),
        ("bytes=20-30,0-1", 10, .ranges([0..<2])),
        ("bytes=-0,0-1", 10, .ranges([0..<2])),
        ("bytes=0-0", 0, .unsatisfiable),
        ("bytes=-5", 0, .unsatisfiable),
        ("bytes=0-", 0, .unsatisfiable),
        // Overlapping → whole file.
        ("bytes=0-5,3-8", 10, .full),
        ("bytes=0-5,0-5", 10, .full),
        ("bytes=0-,-5", 10, .full),
        ("bytes=5-9,-3", 10, .full),
        ("bytes=-3,0-9", 10, .full),
        // Syntax errors → ignore (200).
        ("bytes=5-4", 10, .ignore),  // first > last
        ("bytes=abc", 10, .ignore),
        ("bytes=", 10, .ignore),
        ("bytes=,", 10, .ignore),
        ("bytes=-", 10, .ignore),
        ("bytes=--5", 10, .ignore),
        ("bytes=1", 10, .ignore),
        ("bytes=1-2-3", 10, .ignore),
        ("bytes=+1-2", 10, .ignore),
        ("bytes=1 -2", 10, .ignore),
        ("bytes=1- 2", 10, .ignore),
        ("bytes=0x10-0x20", 10, .ignore),
        ("bytes=0-1;2-3", 10, .ignore),
        ("bytes=0-1,junk", 10, .ignore),
        ("bytes 0-1", 10, .ignore),
        ("bytes =0-1", 10, .ignore),
        ("bits=0-1", 10, .ignore),
        ("items=0-1", 10, .ignore),
        ("bytesx=0-1", 10, .ignore),
        ("", 10, .ignore),
        ("bytes", 10, .ignore),
        ("=0-1", 10, .ignore),
        // Overflow: never a crash.
        ("bytes=0-18446744073709551615", 10000, .ranges([0..<10000])),  // CVE-2015-1635
        ("bytes=0-99999999999999999999999999999999", 100, .ranges([0..<100])),
        ("bytes=-18446744073709551615", 100, .ranges([0..<100])),
        ("bytes=18446744073709551615-", 100, .unsatisfiable),
        ("bytes=18446744073709551615-18446744073709551616", 100, .unsatisfiable),
        ("bytes=9223372036854775807-9223372036854775807", 100, .unsatisfiable),
        ("bytes=18446744073709551615-5", 100, .ignore),  // first > last
        ("bytes=9223372036854775806-", Int.max, .ranges([9_223_372_036_854_775_806..<Int.max])),
        ("bytes=-9223372036854775807", Int.max, .ranges([0..<Int.max])),
    ]

    @Test(arguments: cases)
    func parses(header: String, size: Int, expected: RangeResult) {
        #expect(ByteRange.parse(Array(header.utf8), size: size) == expected, "\(header) size \(size)")
        // Any byte collection works, e.g. a slice of the read buffer.
        #expect(ByteRange.parse(ArraySlice(header.utf8), size: size) == expected)
        #expect(ByteRange.parse(header.utf8, size: size) == expected)
    }

    @Test func capsTheNumberOfRanges() {
        let sixteen = (0..<16).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ",")
        guard case .ranges(let ranges) = ByteRange.parse(Array(("bytes=" + sixteen).utf8), size: 100) else {
            Issue.record("16 ranges should be served")
            return
        }
        #expect(ranges.count == 16)
        let seventeen = sixteen + ",40-40"
        #expect(ByteRange.parse(Array(("bytes=" + seventeen).utf8), size: 100) == .full)
        // A huge header stops at the 17th spec (Apache Killer shape).
        let killer = "bytes=0-," + Array(repeating: "5-5", count: 10_000).joined(separator: ",")
        #expect(ByteRange.parse(Array(killer.utf8), size: 100) == .full)
    }

    @Test func headerValues() {
        #expect(ByteRange.contentRange(0..<500, size: 10000) == "bytes 0-499/10000")
        #expect(ByteRange.contentRange(9999..<10000, size: 10000) == "bytes 9999-9999/10000")
        #expect(ByteRange.unsatisfiedContentRange(size: 1234) == "bytes */1234")
        #expect(ByteRange.multipartContentType(boundary: "B") == "multipart/byteranges; boundary=B")
    }

    @Test func multipartFraming() {
        let boundary = "THIS_STRING_SEPARATES"
        let header = ByteRange.partHeader(boundary: boundary, contentType: "text/plain; charset=utf-8",
                                          range: 500..<1000, size: 8000)
        #expect(String(decoding: header, as: UTF8.self) ==
            "\r\n--THIS_STRING_SEPARATES\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Range: bytes 500-999/8000\r\n\r\n")
        #expect(String(decoding: ByteRange.closingDelimiter(boundary: boundary), as: UTF8.self)
            == "\r\n--THIS_STRING_SEPARATES--\r\n")

        // The computed length equals the bytes a writer would send.
        let file = Array("0123456789abcdefghij".utf8)
        let ranges = [0..<3, 10..<12, 19..<20]
        var body: [UInt8] = []
        for range in ranges {
            body += ByteRange.partHeader(boundary: boundary, contentType: "text/plain", range: range, size: file.count)
            body += file[range]
        }
        body += ByteRange.closingDelimiter(boundary: boundary)
        #expect(ByteRange.multipartLength(boundary: boundary, contentType: "text/plain", ranges: ranges,
                                          size: file.count) == body.count)
        #expect(String(decoding: body, as: UTF8.self).contains("Content-Range: bytes 19-19/20\r\n\r\nj\r\n--"))
    }

    @Test func boundariesAreRandomAndTokenSafe() {
        let a = ByteRange.multipartBoundary(), b = ByteRange.multipartBoundary()
        #expect(a != b)
        #expect(a.utf8.count == 42)
        // RFC 2046 bchars without space, so no quoting is needed in the Content-Type value.
        #expect(a.utf8.allSatisfy { $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) })
    }
}
