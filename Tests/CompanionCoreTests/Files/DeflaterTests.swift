// Tests for Deflater and Inflater: gzip round trips at several levels, the
// streaming API against the one-shot one, and error cases.
import Testing
@testable import CompanionCore

@Suite struct DeflaterTests {
    /// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
    static func randomBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count)
        for index in bytes.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes[index] = UInt8(truncatingIfNeeded: state)
        }
        return bytes
    }

    /// About 100 KiB of repetitive text, the kind of body that gets compressed.
    static let text: [UInt8] = {
        var text = ""
        var line = 0
        while text.utf8.count < 100 * 1024 {
            text += "<p class=\"entry\">Line \(line): the quick brown fox jumps over the lazy dog.</p>\n"
            line += 1
        }
        return Array(text.utf8)
    }()

    static let inputs: [(name: String, bytes: [UInt8])] = [
        ("empty", []),
        ("small", Array("hello, gzip".utf8)),
        ("1 MiB random", randomBytes(1 << 20)),
        ("100 KiB text", text),
    ]

    static func gzip(_ bytes: [UInt8], level: Int) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try Deflater.gzip($0, level: level) }
    }

    @Test(arguments: [1, 6, 9], 0..<4)
    func oneShotRoundTrips(level: Int, inputIndex: Int) throws {
        let input = Self.inputs[inputIndex]
        let compressed = try Self.gzip(input.bytes, level: level)
        #expect(Array(compressed.prefix(3)) == [0x1F, 0x8B, 0x08], "gzip magic and deflate method")
        #expect(try Inflater.gunzip(compressed) == input.bytes, "\(input.name) at level \(level)")
    }

    @Test func textShrinks() throws {
        let compressed = try Self.gzip(Self.text, level: 6)
        #expect(compressed.count < Self.text.count / 10)
    }

    @Test(arguments: [1, 6, 9], [1, 1000, 65536])
    func streamingMatchesOneShot(level: Int, chunkSize: Int) throws {
        let input = Self.text + Self.randomBytes(300_000)
        var deflater = try Deflater(level: level)
        var streamed: [UInt8] = []
        var offset = 0
        try input.withUnsafeBytes { all in
            while offset < all.count {
                let end = min(offset + chunkSize, all.count)
                let chunk = UnsafeRawBufferPointer(rebasing: all[offset..<end])
                try deflater.compress(chunk, finish: end == all.count, into: &streamed)
                offset = end
            }
        }
        let oneShot = try Self.gzip(input, level: level)
        #expect(try Inflater.gunzip(streamed) == input)
        #expect(try Inflater.gunzip(streamed) == Inflater.gunzip(oneShot))
    }

    @Test func streamingWithEmptyFinalChunk() throws {
        var deflater = try Deflater(level: 6)
        var output: [UInt8] = []
        try Self.text.withUnsafeBytes { try deflater.compress($0, finish: false, into: &output) }
        try deflater.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true, into: &output)
        #expect(try Inflater.gunzip(output) == Self.text)
    }

    @Test(arguments: [-1, 10])
    func invalidLevelThrows(level: Int) {
        #expect(throws: ZlibError.self) { _ = try Deflater(level: level) }
    }

    @Test func gunzipRejectsTruncatedCorruptAndTrailingInput() throws {
        let compressed = try Self.gzip(Self.text, level: 6)
        #expect(throws: ZlibError.self) { _ = try Inflater.gunzip(Array(compressed.dropLast(8))) }
        var corrupt = compressed
        corrupt[corrupt.count / 2] ^= 0xFF
        #expect(throws: ZlibError.self) { _ = try Inflater.gunzip(corrupt) }
        #expect(throws: ZlibError.self) { _ = try Inflater.gunzip(compressed + [0]) }
        #expect(throws: ZlibError.self) { _ = try Inflater.gunzip(Array("not gzip".utf8)) }
    }

    @Test func gunzipHonoursTheOutputCap() throws {
        let compressed = try Self.gzip([UInt8](repeating: 0, count: 1 << 20), level: 9)
        #expect(throws: ZlibError.self) { _ = try Inflater.gunzip(compressed, maxBytes: 1000) }
    }
}
