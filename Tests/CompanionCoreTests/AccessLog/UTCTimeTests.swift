// The access log's time text written as bytes equals the String form.
import Testing
@testable import CompanionCore

@Suite struct UTCTimeBytesTests {
    @Test(arguments: [Int64(0), 1_795_000_000_123_456, 253_402_300_799_999_999, 951_782_400_000_000, 1_000_000_001])
    func writtenBytesMatchTheStoredText(micros: Int64) {
        let time = UTCTime(epochMicros: micros)
        var bytes = [UInt8](repeating: 0, count: UTCTime.storedTextLength)
        bytes.withUnsafeMutableBufferPointer { time.writeStoredText(to: $0.baseAddress!) }
        #expect(String(decoding: bytes, as: UTF8.self) == time.storedText)
    }

    /// The formatter that reuses the last second's text gives the same bytes for a stream
    /// of times that stay in one second, move forward, jump back and cross midnight.
    @Test func formatterMatchesTheStoredTextInAnyOrder() {
        var formatter = UTCTime.StoredTextFormatter()
        let midnight: Int64 = 1_795_737_600_000_000   // 2026-11-28T00:00:00Z
        let times: [Int64] = [midnight - 1, midnight - 999, midnight, midnight + 999, midnight + 1_000, midnight - 1_000_001,
                              midnight + 59_999_999, midnight + 60_000_000, 0, -1, -1_000_000, 253_402_300_799_999_999, midnight]
        for micros in times {
            var bytes = [UInt8](repeating: 0, count: UTCTime.storedTextLength)
            bytes.withUnsafeMutableBufferPointer { formatter.write(epochMicros: micros, to: $0.baseAddress!) }
            #expect(String(decoding: bytes, as: UTF8.self) == UTCTime.storedText(epochMicros: micros), "\(micros)")
        }
    }
}
