// ByteRange+Multipart: header values for 206/416 and the multipart/byteranges framing
// (RFC 9110 §14.4, §14.6). Parts are laid out so the caller can compute the exact
// Content-Length first, then write each part header with the file bytes between
// (sendfile), then the closing delimiter:
//
//     CRLF "--" boundary CRLF                 ┐
//     "Content-Type: " type CRLF              │ partHeader (one per range)
//     "Content-Range: bytes a-b/size" CRLF    │
//     CRLF                                    ┘
//     <bytes a...b of the file>
//     ...
//     CRLF "--" boundary "--" CRLF              closingDelimiter
//
// The leading CRLF of the first part makes an empty preamble (RFC 2046 §5.1.1), as nginx does.

extension ByteRange {
    /// A fresh random boundary (128 bits from the system generator, hex): it cannot
    /// plausibly occur in the file, and an attacker cannot predict it.
    public static func multipartBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = generator.next(), low: UInt64 = generator.next()
        return "companion-" + hex16(high) + hex16(low)
    }

    /// The `Content-Type` value of a multi-range 206: `multipart/byteranges; boundary=…`.
    public static func multipartContentType(boundary: String) -> String {
        "multipart/byteranges; boundary=" + boundary
    }

    /// The `Content-Range` value for one range (RFC 9110 §14.4): `bytes 0-499/1234`.
    public static func contentRange(_ range: Range<Int>, size: Int) -> String {
        var bytes: [UInt8] = []
        appendContentRange(range, size: size, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The `Content-Range` value of a 416 (RFC 9110 §14.4): `bytes */1234`.
    public static func unsatisfiedContentRange(size: Int) -> String {
        "bytes */" + String(size)
    }

    /// The bytes that precede the data of one part.
    /// - Parameters:
    ///   - boundary: from `multipartBoundary()`, the same for all parts of a response.
    ///   - contentType: the file's `Content-Type` value.
    ///   - range: the part's byte range (from `parse`).
    ///   - size: the complete length of the file.
    public static func partHeader(boundary: String, contentType: String, range: Range<Int>, size: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x0D, 0x0A, UInt8(ascii: "-"), UInt8(ascii: "-")]
        bytes.reserveCapacity(boundary.utf8.count + contentType.utf8.count + 80)
        bytes.append(contentsOf: boundary.utf8)
        bytes.append(contentsOf: "\r\nContent-Type: ".utf8)
        bytes.append(contentsOf: contentType.utf8)
        bytes.append(contentsOf: "\r\nContent-Range: ".utf8)
        appendContentRange(range, size: size, into: &bytes)
        bytes.append(contentsOf: "\r\n\r\n".utf8)
        return bytes
    }

    /// The bytes after the last part: CRLF "--" boundary "--" CRLF.
    public static func closingDelimiter(boundary: String) -> [UInt8] {
        Array(("\r\n--" + boundary + "--\r\n").utf8)
    }

    /// The exact body length of a multipart/byteranges response for these ranges
    /// (part headers + range bytes + closing delimiter), for `Content-Length`.
    public static func multipartLength(boundary: String, contentType: String, ranges: [Range<Int>], size: Int) -> Int {
        var total = closingDelimiter(boundary: boundary).count
        for range in ranges {
            total += partHeader(boundary: boundary, contentType: contentType, range: range, size: size).count
            total += range.count
        }
        return total
    }

    /// Appends `bytes FIRST-LAST/SIZE` (LAST inclusive).
    static func appendContentRange(_ range: Range<Int>, size: Int, into bytes: inout [UInt8]) {
        bytes.append(contentsOf: "bytes ".utf8)
        HTTPDate.appendDigits(range.lowerBound, width: 1, into: &bytes)
        bytes.append(UInt8(ascii: "-"))
        HTTPDate.appendDigits(range.upperBound - 1, width: 1, into: &bytes)
        bytes.append(UInt8(ascii: "/"))
        HTTPDate.appendDigits(size, width: 1, into: &bytes)
    }

    private static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
