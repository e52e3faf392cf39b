// ResponseWriter: renders a response head into the connection's output bytes.
// The head is written through one pointer after a single capacity reservation:
// fixed parts are StaticStrings copied with memcpy, numbers are written as
// digits in place, and no String is built for the typed headers. (Appending
// piece by piece to the array cost a uniqueness and capacity check, and a
// retain of the source, per piece: ~1.5k instructions per request.)

enum ResponseWriter {
    /// Bytes written in place after `out.count`; see `write(into:maximumLength:_:)`.
    struct Head {
        fileprivate var cursor: UnsafeMutablePointer<UInt8>
        fileprivate let limit: UnsafeMutablePointer<UInt8>

        @inline(__always)
        mutating func put(_ text: StaticString) {
            put(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        @inline(__always)
        mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
            precondition(limit - cursor >= bytes.count, "response head longer than reserved")
            guard let base = bytes.baseAddress else { return }
            cursor.update(from: base, count: bytes.count)
            cursor += bytes.count
        }

        @inline(__always)
        mutating func put(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { put($0) }
        }

        @inline(__always)
        mutating func putByte(_ byte: UInt8) {
            precondition(cursor < limit, "response head longer than reserved")
            cursor.pointee = byte
            cursor += 1
        }

        mutating func putDecimal(_ value: Int) {
            precondition(limit - cursor >= 20, "response head longer than reserved")
            if value <= 0 {
                cursor.pointee = UInt8(ascii: "0")
                cursor += 1
                return
            }
            var digits = 0
            var v = value
            while v > 0 { digits += 1; v /= 10 }
            v = value
            for i in stride(from: digits - 1, through: 0, by: -1) {
                cursor[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            cursor += digits
        }

        /// A header value without CR, LF and NUL.
        /// SECURITY: header injection through a configured or generated value is impossible.
        mutating func putValue(_ value: String) {
            // The bytes in place when the String has them contiguous (always, for Strings made
            // in Swift): `var copy = value; copy.withUTF8` cost a retain and a release a field.
            if value.utf8.withContiguousStorageIfAvailable({ putValue(bytes: $0) }) == nil {
                var bridged = value
                bridged.withUTF8 { putValue(bytes: $0) }
            }
        }

        private mutating func putValue(bytes: UnsafeBufferPointer<UInt8>) {
            if Self.isPlainValue(bytes) {
                put(bytes)
            } else {
                for byte in bytes where byte != 13 && byte != 10 && byte != 0 { putByte(byte) }
            }
        }

        /// "Name: value\r\n" with `name` a StaticString ending in ": ".
        mutating func putField(_ name: StaticString, _ value: String) {
            put(name)
            putValue(value)
            put("\r\n")
        }

        /// "name: value\r\n" for a header a plugin or the config named: the name keeps only
        /// token bytes (no space, colon or control byte can split the line).
        mutating func putField(name: String, value: String) {
            var name = name
            name.withUTF8 { bytes in
                if Self.isPlainName(bytes) {
                    put(bytes)
                } else {
                    for byte in bytes where Self.isNameByte(byte) { putByte(byte) }
                }
            }
            put(": ")
            putValue(value)
            put("\r\n")
        }

        // The checks below look at every byte without an early exit, so the compiler turns
        // them into vector code: a 120-byte Content-Security-Policy value took ~430
        // instructions with `contains(where:)`, a byte at a time.

        /// No CR, LF or NUL in `bytes` (the common case: copied in one go).
        @inline(__always)
        static func isPlainValue(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            var bad: UInt8 = 0
            for byte in bytes { bad |= (byte == 13 ? 1 : 0) | (byte == 10 ? 1 : 0) | (byte == 0 ? 1 : 0) }
            return bad == 0
        }

        @inline(__always)
        static func isNameByte(_ byte: UInt8) -> Bool {
            byte > 32 && byte != UInt8(ascii: ":") && byte < 127
        }

        /// Every byte of `bytes` is a name byte (`isNameByte`).
        @inline(__always)
        static func isPlainName(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            var bad: UInt8 = 0
            for byte in bytes { bad |= (byte &- 33 > 93 ? 1 : 0) | (byte == UInt8(ascii: ":") ? 1 : 0) }
            return bad == 0
        }

        mutating func putStatusLine(_ status: HTTPStatus) {
            switch status.code {
            case 200: put("HTTP/1.1 200 OK\r\n")
            case 206: put("HTTP/1.1 206 Partial Content\r\n")
            case 304: put("HTTP/1.1 304 Not Modified\r\n")
            case 404: put("HTTP/1.1 404 Not Found\r\n")
            default: put(Array("HTTP/1.1 \(status)\r\n".utf8))
            }
        }
    }

    /// Appends at most `maximumLength` bytes to `out`, written by `body` through a `Head`
    /// into scratch space (on the stack when small) and then copied in one go.
    static func write(into out: inout [UInt8], maximumLength: Int, _ body: (inout Head) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumLength) { scratch in
            let base = scratch.baseAddress!
            var head = Head(cursor: base, limit: base + maximumLength)
            body(&head)
            out.append(contentsOf: UnsafeBufferPointer(start: base, count: head.cursor - base))
        }
    }

    /// Upper bound of a header line's bytes for a value of `value` (name and CRLF included).
    @inline(__always)
    static func fieldLength(_ value: String?) -> Int {
        guard let value else { return 0 }
        return 40 + value.utf8.count
    }
}
