// UTF8Validation: the UTF-8 well-formedness rule shared by the access log (invalid
// bytes are stored as `\xHH`) and the config parser (invalid bytes are an error).

/// UTF-8 checks on raw bytes (RFC 3629 §4: no overlong forms, no surrogates,
/// nothing above U+10FFFF).
enum UTF8Validation {
    /// Whether all of `bytes` is valid UTF-8. ASCII, the common case, is checked eight bytes at a time.
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var i = 0
        let count = bytes.count
        while i + 8 <= count {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if word & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        while i < count {
            if base[i] < 0x80 {
                i += 1
                continue
            }
            let length = validSequenceLength(bytes, at: i)
            if length == 0 { return false }
            i += length
        }
        return true
    }

    /// Length of the valid UTF-8 sequence starting at `index`, or 0 when the byte there does not start one.
    static func validSequenceLength<Bytes: RandomAccessCollection<UInt8>>(_ b: Bytes, at index: Int) -> Int
    where Bytes.Index == Int {
        let lead = b[index]
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            index + offset < b.endIndex && range.contains(b[index + offset])
        }
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0  // no surrogates
        case 0xE1...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }
}
