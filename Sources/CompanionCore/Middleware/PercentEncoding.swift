// PercentEncoding: the encoder for building URLs from decoded paths (Location
// headers) and a lenient decoder for query parameters. Request paths are decoded by
// PathNormalizer, which is strict; this file is for values we generate or only read.

enum PercentEncoding {
    /// Encodes a decoded path for use in a URL (a Location header): each segment with
    /// the listing's segment encoder (unreserved bytes kept, everything else %XX), the
    /// slashes kept.
    static func encodePath(_ path: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(path.utf8.count)
        var first = true
        for segment in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if !first { out.append(UInt8(ascii: "/")) }
            first = false
            ListingEscaper.appendPathSegment(segment, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a query component ("+" is a space); invalid escapes stay as written.
    static func decodeQueryComponent(_ text: Substring) -> String {
        var out = [UInt8]()
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%"), i + 2 < bytes.count, let h = ASCII.hexValue(bytes[i + 1]), let l = ASCII.hexValue(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
