import Testing
@testable import CompanionCore

@Suite struct UTCTimeTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z", "01/Jan/1970:00:00:00 +0000"),
        (1_795_773_600_123_456, "2026-11-27T10:00:00.123Z", "27/Nov/2026:10:00:00 +0000"),
        (951_782_400_000_000, "2000-02-29T00:00:00.000Z", "29/Feb/2000:00:00:00 +0000"),
        (-1_000, "1969-12-31T23:59:59.999Z", "31/Dec/1969:23:59:59 +0000"),
    ])
    func formatsAndParses(micros: Int64, stored: String, combined: String) throws {
        #expect(UTCTime.storedText(epochMicros: micros) == stored)
        let parsed = try #require(UTCTime(storedText: stored))
        #expect(parsed.combinedLogText == combined)
        #expect(parsed.epochMicros == micros - (micros % 1000 + 1000) % 1000)
    }

    @Test func rejectsMalformedStoredText() {
        #expect(UTCTime(storedText: "2026-11-27 10:00:00Z") == nil)
        #expect(UTCTime(storedText: "yesterday") == nil)
    }
}

@Suite struct AccessLogRecordLoggableTests {
    @Test(arguments: [
        ([UInt8]("/plain".utf8), "/plain"),
        ([UInt8]("/caf\u{E9}".utf8), "/café"),
        ([0x2F, 0xFF, 0x61], "/\\xFFa"),
        ([0xC3], "\\xC3"),                       // truncated sequence
        ([0xC0, 0xAF], "\\xC0\\xAF"),             // overlong '/'
        ([0xED, 0xA0, 0x80], "\\xED\\xA0\\x80"),  // surrogate
        ([0xF4, 0x90, 0x80, 0x80], "\\xF4\\x90\\x80\\x80"),  // above U+10FFFF
        ([0xF0, 0x9F, 0x98, 0x80, 0x80], "😀\\x80"),
    ] as [([UInt8], String)])
    func escapesInvalidUTF8(bytes: [UInt8], expected: String) {
        #expect(AccessLogRecord.loggable(bytes) == expected)
    }
}

@Suite struct ClientAnonymizerTests {
    @Test(arguments: [
        ("192.0.2.77", "192.0.2.0"),
        ("10.1.2.3", "10.1.2.0"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::"),
        ("::1", "::"),
        ("fe80::1%eth0", "fe80::"),
        ("::ffff:198.51.100.9", "::ffff:198.51.100.0"),
        ("not an address", "-"),
    ])
    func masks(client: String, expected: String) {
        #expect(ClientAnonymizer.anonymize(client) == expected)
    }
}

/// The writer's compare of a field with the previous row's (FieldMemo.sameBytes): equal
/// texts of every length up to 40 compare equal, and a change at any one position of any of
/// them is seen (each load width covers every byte).
@Suite struct FieldMemoSameBytesTests {
    @Test func everyPositionOfEveryLengthCounts() {
        for count in 0...40 {
            let a = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            a.withUnsafeBytes { x in
                var b = a
                b.withUnsafeBytes { y in
                    #expect(count == 0 || FieldMemo.sameBytes(x.baseAddress!, y.baseAddress!, count: count), "length \(count)")
                }
                for position in 0..<count {
                    b[position] ^= 0x40
                    b.withUnsafeBytes { y in
                        #expect(!FieldMemo.sameBytes(x.baseAddress!, y.baseAddress!, count: count), "length \(count), position \(position)")
                    }
                    b[position] ^= 0x40
                }
            }
        }
    }
}
