// ResponseWriter: renders a response head into the connection's output bytes.
// Fixed parts are pre-rendered byte arrays; numbers are written as digits
// straight into the buffer; no String is built for the typed headers.

enum ResponseWriter {
    static let crlf: [UInt8] = [13, 10]
    static let serverLine = Array("Server: companion\r\n".utf8)
    static let dateName = Array("Date: ".utf8)
    static let contentTypeName = Array("Content-Type: ".utf8)
    static let contentLengthName = Array("Content-Length: ".utf8)
    static let lastModifiedName = Array("Last-Modified: ".utf8)
    static let etagName = Array("ETag: ".utf8)
    static let acceptRangesLine = Array("Accept-Ranges: bytes\r\n".utf8)
    static let varyLine = Array("Vary: Accept-Encoding\r\n".utf8)
    static let contentEncodingName = Array("Content-Encoding: ".utf8)
    static let locationName = Array("Location: ".utf8)
    static let contentRangeName = Array("Content-Range: ".utf8)
    static let connectionClose = Array("Connection: close\r\n".utf8)
    static let connectionKeepAlive = Array("Connection: keep-alive\r\n".utf8)

    private static let statusLines: [Int: [UInt8]] = {
        var table: [Int: [UInt8]] = [:]
        for code in [200, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 408, 412, 413, 414, 416, 431, 500, 501, 503, 505] {
            table[code] = Array("HTTP/1.1 \(HTTPStatus(code))\r\n".utf8)
        }
        return table
    }()

    static func writeStatusLine(_ status: HTTPStatus, into out: inout [UInt8]) {
        if let line = statusLines[status.code] {
            out.append(contentsOf: line)
        } else {
            out.append(contentsOf: "HTTP/1.1 \(status)\r\n".utf8)
        }
    }

    @inline(__always)
    static func writeDecimal(_ value: Int, into out: inout [UInt8]) {
        if value == 0 { out.append(UInt8(ascii: "0")); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while v > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[i]) }
        }
    }

    /// Appends "Name: value\r\n", dropping CR, LF and NUL from the value.
    /// SECURITY: header injection through a configured or generated value is impossible.
    static func writeField(_ name: [UInt8], _ value: String, into out: inout [UInt8]) {
        out.append(contentsOf: name)
        appendValue(value, into: &out)
        out.append(contentsOf: crlf)
    }

    /// Appends a header value: one bulk copy when it holds no CR, LF or NUL (the usual
    /// case), else byte by byte without them.
    @inline(__always)
    static func appendValue(_ value: String, into out: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            if !bytes.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
                out.append(contentsOf: bytes)
            } else {
                for byte in bytes where byte != 13 && byte != 10 && byte != 0 { out.append(byte) }
            }
        }
    }

    static func writeField(name: String, value: String, into out: inout [UInt8]) {
        for byte in name.utf8 where byte > 32 && byte != UInt8(ascii: ":") && byte < 127 { out.append(byte) }
        out.append(UInt8(ascii: ":"))
        out.append(UInt8(ascii: " "))
        appendValue(value, into: &out)
        out.append(contentsOf: crlf)
    }
}
