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
}
