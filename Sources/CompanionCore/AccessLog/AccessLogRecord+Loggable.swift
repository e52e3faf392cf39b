// AccessLogRecord+Loggable: turns raw request bytes (path, headers) into the
// text the log stores. Valid UTF-8 is kept; every byte that is not part of a
// valid UTF-8 sequence becomes `\xHH` (SPEC §5), so a row never holds mangled
// U+FFFD and the original bytes can still be read off the log.

extension AccessLogRecord {
    /// The logged text of raw bytes: valid UTF-8 unchanged, other bytes as `\xHH`
    /// (upper-case hex, as nginx writes escapes).
    ///
    /// Call it on the connection's thread when the response is done, not while parsing.
    /// Validity follows RFC 3629 §4: no overlong forms, no surrogates, nothing above U+10FFFF.
    public static func loggable<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        // Fast path, once per logged field of every request: valid UTF-8 straight from the
        // caller's contiguous bytes, without an intermediate array.
        if let valid = bytes.withContiguousStorageIfAvailable({ String(validating: $0, as: UTF8.self) }),
           let text = valid {
            return text
        }
        let array = Array(bytes)
        if let text = String(validating: array, as: UTF8.self) { return text }
        var out: [UInt8] = []
        out.reserveCapacity(array.count + 8)
        var index = 0
        while index < array.count {
            let length = UTF8Validation.validSequenceLength(array, at: index)
            if length > 0 {
                out.append(contentsOf: array[index..<index + length])
                index += length
            } else {
                appendHexEscape(array[index], to: &out)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Appends `\xHH` for `byte`.
func appendHexEscape(_ byte: UInt8, to out: inout [UInt8]) {
    let hex = Array("0123456789ABCDEF".utf8)
    out.append(0x5C); out.append(0x78)
    out.append(hex[Int(byte >> 4)]); out.append(hex[Int(byte & 0x0F)])
}
