// ListingEscaper: each encoder swept over all 256 bytes against its rule.
import Testing
@testable import CompanionCore

@Suite struct ListingEscaperTests {
    @Test func pathSegmentKeepsOnlyTheSafeSet() {
        // RFC 3986: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~", plus the kept
        // pchar sub-delims "!$()*+,;=:@". Everything else is %XX (uppercase hex).
        let kept = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$()*+,;=:@".utf8))
        for byte in UInt8.min...UInt8.max {
            var out: [UInt8] = []
            ListingEscaper.appendPathSegment([byte], into: &out)
            if kept.contains(byte) {
                #expect(out == [byte])
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                #expect(String(decoding: out, as: UTF8.self) == "%" + (hex.count == 1 ? "0" + hex : hex))
            }
        }
    }

    @Test func htmlTextNeverEmitsMarkupOrControls() {
        for byte in UInt8.min...UInt8.max {
            var out: [UInt8] = []
            ListingEscaper.appendHTMLText([byte], into: &out)
            let text = String(decoding: out, as: UTF8.self)
            #expect(!out.contains(UInt8(ascii: "<")) && !out.contains(UInt8(ascii: ">")))
            #expect(!out.contains(UInt8(ascii: "\"")) && !out.contains(UInt8(ascii: "'")))
            #expect(out.allSatisfy { $0 >= 0x20 && $0 != 0x7F })
            if byte == UInt8(ascii: "&") { #expect(text == "&amp;") }
            if byte >= 0x80 { #expect(text == "\u{FFFD}") }
        }
    }

    @Test func jsonStringsAreValidForEveryByte() {
        for byte in UInt8.min...UInt8.max {
            var out: [UInt8] = []
            ListingEscaper.appendJSONString([byte], into: &out)
            #expect(out.first == UInt8(ascii: "\"") && out.last == UInt8(ascii: "\""))
            let inner = out.dropFirst().dropLast()
            // RFC 8259 §7: no raw control characters, quotes or lone backslashes inside.
            #expect(inner.allSatisfy { $0 >= 0x20 && $0 != 0x7F })
            if byte == UInt8(ascii: "\"") { #expect(Array(inner) == Array(#"\""#.utf8)) }
            if byte >= 0x80 { #expect(Array(inner) == Array(#"\uFFFD"#.utf8)) }
        }
    }

    @Test func hrefForDirectoriesAndColons() {
        var out: [UInt8] = []
        ListingEscaper.appendHref(Array("a:b c".utf8), isDirectory: true, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "./a:b%20c/")
    }
}
