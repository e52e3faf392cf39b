// Tests for AcceptEncoding: RFC 9110 §12.5.3 negotiation as a table, and the
// sidecar preference br, zstd, gzip.
import Testing
@testable import CompanionCore

@Suite struct AcceptEncodingTests {
    /// (header, gzip, br, zstd)
    static let table: [(String, Bool, Bool, Bool)] = [
        ("gzip", true, false, false),
        ("gzip, deflate, br, zstd", true, true, true),
        ("gzip;q=0", false, false, false),
        ("gzip;q=0.000", false, false, false),
        ("gzip;q=0.", false, false, false),
        ("gzip;q=0.001", true, false, false),
        ("gzip;q=0.5", true, false, false),
        ("gzip; q=1", true, false, false),
        ("gzip ;\tQ=1.000", true, false, false),
        ("GZIP", true, false, false),
        ("x-gzip", true, false, false),
        ("Br;q=1.0, gZip;Q=0", false, true, false),
        ("br;q=1.0, gzip;q=0", false, true, false),
        ("*", true, true, true),
        ("*;q=0", false, false, false),
        ("*;q=0, gzip", true, false, false),
        ("gzip;q=0, *", false, true, true),
        ("br, *;q=0.1", true, true, true),
        ("identity", false, false, false),
        ("identity;q=0", false, false, false),
        ("identity, gzip", true, false, false),
        ("", false, false, false),
        (" , ,, ", false, false, false),
        ("  gzip  ,  br  ", true, true, false),
        ("deflate, compress", false, false, false),
        ("gzip, gzip;q=0", false, false, false),
        // Garbage: each malformed element is dropped, the rest still counts.
        ("gzip;q=abc", false, false, false),
        ("gzip;q=1.5", false, false, false),
        ("gzip;q=1.001", false, false, false),
        ("gzip;q=0.0001", false, false, false),
        ("gzip;q = 1", false, false, false),
        ("gzip;level=1", false, false, false),
        ("gzip;q=1;x=y", false, false, false),
        ("gzip q=1", false, false, false),
        ("gz ip", false, false, false),
        (";q=1", false, false, false),
        ("gzip;", false, false, false),
        ("\u{1}gzip, br", false, true, false),
        ("gzipgzipgzip, zstd", false, false, true),
        ("br;q=0.9x, gzip", true, false, false),
    ]

    @Test(arguments: table)
    func parsesTheHeader(header: String, gzip: Bool, br: Bool, zstd: Bool) {
        let parsed = AcceptEncoding.parse(Array(header.utf8))
        #expect(parsed == AcceptEncoding(gzip: gzip, br: br, zstd: zstd), "\(header.debugDescription)")
    }

    @Test func missingHeaderAcceptsNothing() {
        #expect(AcceptEncoding.parse(nil as [UInt8]?) == .none)
    }

    @Test func parsesASliceOfALargerBuffer() {
        let buffer = Array("Accept-Encoding: br;q=0, gzip\r\n".utf8)
        let value = buffer[17..<29]
        #expect(AcceptEncoding.parse(value) == AcceptEncoding(gzip: true))
    }

    /// (accepted codings, available sidecars br/zstd/gzip, choice)
    static let sidecars: [(AcceptEncoding, [Bool], String?)] = [
        (AcceptEncoding(gzip: true, br: true, zstd: true), [true, true, true], "br"),
        (AcceptEncoding(gzip: true, br: true, zstd: true), [false, true, true], "zstd"),
        (AcceptEncoding(gzip: true, br: true, zstd: true), [false, false, true], "gzip"),
        (AcceptEncoding(gzip: true, br: false, zstd: false), [true, true, false], nil),
        (AcceptEncoding(gzip: false, br: false, zstd: true), [true, true, true], "zstd"),
        (AcceptEncoding.none, [true, true, true], nil),
        (AcceptEncoding(gzip: true, br: true, zstd: true), [false, false, false], nil),
    ]

    @Test(arguments: sidecars)
    func prefersBrThenZstdThenGzip(accepted: AcceptEncoding, available: [Bool], expected: String?) {
        let choice = accepted.preferredSidecar(available: (br: available[0], zstd: available[1], gzip: available[2]))
        #expect(choice == expected)
    }

    @Test(arguments: [("0", 0), ("1", 1000), ("0.5", 500), ("0.25", 250), ("0.125", 125), ("1.00", 1000)])
    func parsesQValues(text: String, thousandths: Int) {
        #expect(AcceptEncoding.parseQValue(Array(text.utf8)) == thousandths)
    }

    /// The variant to serve among those ready: the highest q-value, ties by br, zstd, gzip.
    @Test(arguments: [
        ("gzip, br, zstd", "br,zstd,gzip", "br"), ("gzip, br, zstd", "zstd,gzip", "zstd"), ("br;q=0.5, zstd, gzip;q=0.8", "br,zstd,gzip", "zstd"),
        ("br;q=0.5, zstd, gzip;q=0.8", "br,gzip", "gzip"), ("gzip;q=1, br;q=0.9", "br,gzip", "gzip"), ("*", "br,zstd,gzip", "br"),
        ("*;q=0.5, br;q=0", "br,zstd,gzip", "zstd"), ("br;q=0.001", "br,gzip", "br"), ("identity", "br,zstd,gzip", nil),
        ("br", "zstd,gzip", nil), ("GZIP;Q=0.7, Br;q=0.7", "br,gzip", "br"),
    ])
    func bestRanksByQualityThenServerPreference(header: String, ready: String, expected: String?) {
        let available = Set(ready.split(separator: ",").map(String.init))
        let best = AcceptEncoding.parse(Array(header.utf8)).best { available.contains($0.rawValue) }
        #expect(best?.rawValue == expected, "\(header) with \(ready)")
    }
}
