// Resumed parsing: feeding a head in pieces with one ParseProgress gives
// exactly what a one-shot parse of the whole buffer gives, and a head dripped one byte
// per read is examined in O(n) bytes instead of O(n²).
import Testing
@testable import CompanionCore

extension RequestParserTests {
    /// The result of parsing `bytes` grown piece by piece at `cuts`, resuming each time.
    static func resumed(_ bytes: [UInt8], cuts: [Int], limits: ParserLimits = .init()) -> (String, ParseProgress) {
        let parser = RequestParser(limits: limits)
        var progress = ParseProgress()
        for end in cuts + [bytes.count] where end <= bytes.count {
            let result = bytes.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<end]), progress: &progress) }
            switch result {
            case .needMore: continue
            case .reject(let status): return ("reject \(status.code)", progress)
            case .complete(let head, let consumed): return ("complete \(consumed) \(describe(head))", progress)
            }
        }
        return ("needMore", progress)
    }

    static func oneShot(_ bytes: [UInt8], limits: ParserLimits = .init()) -> String {
        switch RequestParser(limits: limits).parse(bytes) {
        case .needMore: return "needMore"
        case .reject(let status): return "reject \(status.code)"
        case .complete(let head, let consumed): return "complete \(consumed) \(describe(head))"
        }
    }

    @Test("resumed parse == one-shot parse, every table case, many splits", arguments: allCases)
    func resumedEqualsOneShot(_ c: ParseCase) {
        var generator = SplitMix(seed: UInt64(c.bytes.count) &* 0x9E37_79B9 &+ UInt64(c.label.utf8.count))
        let expected = Self.oneShot(c.bytes)
        // Every single split point, then random multi-way splits.
        for cut in 0...c.bytes.count {
            #expect(Self.resumed(c.bytes, cuts: [cut]).0 == expected, "\(c.label) cut at \(cut)")
        }
        for _ in 0..<20 {
            let cuts = (0..<4).map { _ in Int(generator.next() % UInt64(c.bytes.count + 1)) }.sorted()
            #expect(Self.resumed(c.bytes, cuts: cuts).0 == expected, "\(c.label) cuts \(cuts)")
        }
        // And one byte at a time.
        #expect(Self.resumed(c.bytes, cuts: Array(0..<c.bytes.count)).0 == expected, "\(c.label) byte by byte")
    }

    @Test func resumedLimitsMatchOneShot() {
        let limits = Self.small
        let cases = [
            "GET /\(String(repeating: "x", count: 40)) HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: \(String(repeating: "y", count: 80))\r\n\r\n",
            "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
            "\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            String(repeating: "\r\n", count: 40),
        ]
        for text in cases {
            let bytes = Array(text.utf8)
            let expected = Self.oneShot(bytes, limits: limits)
            #expect(Self.resumed(bytes, cuts: Array(0..<bytes.count), limits: limits).0 == expected, "\(text)")
        }
    }

    /// A 23 KB head dripped one byte per read: every byte is examined a bounded number of
    /// times (the old parser re-scanned from byte 0 on each read: ~270 million bytes).
    @Test func drippedHeadIsExaminedInLinearTime() {
        var text = "GET /\(String(repeating: "p", count: 7000)) HTTP/1.1\r\nHost: a.test\r\n"
        for i in 0..<90 { text += "X-Field-\(i): \(String(repeating: "v", count: 160))\r\n" }
        text += "\r\n"
        let bytes = Array(text.utf8)
        #expect(bytes.count > 20_000)
        let limits = ParserLimits(maxRequestLineBytes: 8192, maxHeaderBytes: 16384, maxHeaderCount: 100)
        let (result, _) = Self.resumed(bytes, cuts: Array(0..<bytes.count), limits: limits)
        #expect(result.hasPrefix("complete \(bytes.count)"))
        #expect(result == Self.oneShot(bytes, limits: limits))
        // (A completed parse resets its progress, so the count is taken on the steps before the last.)
        var progressBefore = ParseProgress()
        let parser = RequestParser(limits: limits)
        for end in 0..<bytes.count {
            _ = bytes.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<end]), progress: &progressBefore) }
        }
        #expect(progressBefore.bytesExamined <= 3 * bytes.count, "examined \(progressBefore.bytesExamined)")
    }
}

/// A small deterministic generator for test splits (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
