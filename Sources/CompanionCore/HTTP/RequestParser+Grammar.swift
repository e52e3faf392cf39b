// RequestParser+Grammar: byte classes (tchar, VCHAR, field-vchar) and the Host / authority syntax.
// Pure functions over bytes; no allocation. The RFC grammar is quoted next to each rule.

/// Byte constants used by the parser.
enum ASCII {
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let slash: UInt8 = 0x2F
    static let question: UInt8 = 0x3F
    static let comma: UInt8 = 0x2C

    /// The value of a hex digit (`0-9`, `a-f`, `A-F`), or nil: percent-escapes in paths and
    /// queries, `\u` escapes in config JSON.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// RFC 9110 §5.6.2:
///     tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
/// Two 64-bit masks (bytes 0-63 and 64-127); bytes ≥ 0x80 are never tchar.
@inline(__always)
func isTchar(_ b: UInt8) -> Bool {
    if b < 64 { return (0x03FF_6CFA_0000_0000 as UInt64) >> UInt64(b) & 1 == 1 }
    if b < 128 { return (0x57FF_FFFF_C7FF_FFFE as UInt64) >> UInt64(b - 64) & 1 == 1 }
    return false
}

/// Eight bytes at a time ("SIMD within a register"): a UInt64 loaded from the head, each
/// byte's answer in its high bit. Exact for every byte, not only the first: the additions
/// are on 7-bit values (`& lows`), so no carry crosses into the next byte.
enum Bytes8 {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080
    static let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// The eight bytes at `p[i..<i + 8]`, the first in the lowest byte.
    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ i: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
    }

    /// The high bit of each byte of `x` that equals `c`.
    @inline(__always)
    static func equal(_ x: UInt64, _ c: UInt8) -> UInt64 {
        let y = x ^ (ones &* UInt64(c))  // a zero byte where x's equals c
        return ~(((y & lows) &+ lows) | y) & highs
    }

    /// The high bit of each byte of `x` that is not VCHAR (%x21-7E): below 0x21, 0x7F, or ≥ 0x80.
    @inline(__always)
    static func notVchar(_ x: UInt64) -> UInt64 {
        let low = x & lows
        let atLeast21 = low &+ ones &* 0x5F  // high bit set when the 7-bit value is ≥ 0x21
        let is7F = low &+ ones  // high bit set when it is 0x7F
        return (x | ~atLeast21 | is7F) & highs
    }

    /// The mask's bits below its first flagged byte (all of them when none is flagged).
    @inline(__always)
    static func before(_ mask: UInt64) -> UInt64 { (mask & (0 &- mask)) &- 1 }

    /// The index (0-7) of the first flagged byte of a nonzero mask.
    @inline(__always)
    static func first(_ mask: UInt64) -> Int { mask.trailingZeroBitCount >> 3 }
}

/// RFC 5234 B.1: VCHAR = %x21-7E (the only bytes allowed in a request-target here).
@inline(__always)
func isVchar(_ b: UInt8) -> Bool { b &- 0x21 < 0x5E }

/// RFC 9110 §5.5: field-value = *field-content; field-vchar = VCHAR / obs-text; obs-text = %x80-FF;
/// plus SP / HTAB inside. Everything else (NUL, CR, LF, other CTLs, DEL) is invalid.
@inline(__always)
func isFieldValueByte(_ b: UInt8) -> Bool { b >= 0x20 ? b != 0x7F : b == ASCII.htab }

/// True when every byte of `p[from..<to]` is a field-value byte (`isFieldValueByte`).
/// Checks 8 bytes at a time: a word with no byte below 0x20 and none equal to 0x7F is valid as a whole
/// (the exact "has a byte less than n" / "has a zero byte" bit tricks); a flagged word, such as one with
/// an HTAB, is checked byte by byte. The last bytes (fewer than 8) are checked as the word that ends at
/// `to`: the bytes before them in it are this line's name and colon or value, or an earlier line's, so
/// a clean word clears them and a flagged one (an HTAB, a CRLF of a short line before) sends them to the
/// byte loop (most values are short: a Host is one tail).
@inline(__always)
func allFieldValueBytes(_ p: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Bool {
    var i = from
    if let base = p.baseAddress {
        @inline(__always) func isClean(_ x: UInt64) -> Bool {
            let ones = Bytes8.ones, highs = Bytes8.highs
            let below20 = (x &- ones &* 0x20) & ~x & highs
            let y = x ^ (ones &* 0x7F)
            let isDel = (y &- ones) & ~y & highs
            return below20 | isDel == 0
        }
        while i + 8 <= to {
            if !isClean(Bytes8.load(base, i)) {
                for k in i..<i + 8 where !isFieldValueByte(p[k]) { return false }
            }
            i += 8
        }
        if i < to, to >= 8, isClean(Bytes8.load(base, to - 8)) { return true }
    }
    while i < to {
        guard isFieldValueByte(p[i]) else { return false }
        i += 1
    }
    return true
}

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

@inline(__always)
func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }

/// RFC 3986 §2.3 unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~";
/// §2.2 sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
/// Two 64-bit masks as in `isTchar` (a switch over the ranges and characters cost ~15
/// instructions a byte of every Host under callgrind); `RequestParserTests` checks all 256 bytes.
@inline(__always)
func isRegNameByte(_ b: UInt8) -> Bool {
    if b < 64 { return (0x2BFF_7FD2_0000_0000 as UInt64) >> UInt64(b) & 1 == 1 }
    if b < 128 { return (0x47FF_FFFE_87FF_FFFE as UInt64) >> UInt64(b - 64) & 1 == 1 }
    return false
}

enum HostSyntax {
    /// Checks `Host = uri-host [ ":" port ]` (RFC 9110 §7.2) with
    /// `uri-host = IP-literal / IPv4address / reg-name` and `port = *DIGIT` (RFC 3986 §3.2.2-3.2.3).
    /// IPv4address is a subset of reg-name, so it needs no branch of its own. No userinfo, no zone ID.
    /// - Returns: the index where the host part ends (the `:` of the port, or `r.upperBound`), nil if invalid.
    static func hostEnd(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> Int? {
        var i = r.lowerBound
        let end = r.upperBound
        if i < end && p[i] == UInt8(ascii: "[") {
            // IP-literal = "[" ( IPv6address / IPvFuture ) "]"
            var close = i + 1
            while close < end && p[close] != UInt8(ascii: "]") { close += 1 }
            guard close < end, isIPLiteralBody(p, i + 1..<close) else { return nil }
            i = close + 1
        } else {
            // reg-name = *( unreserved / pct-encoded / sub-delims ); pct-encoded = "%" HEXDIG HEXDIG
            while i < end && p[i] != ASCII.colon {
                let b = p[i]
                if b == UInt8(ascii: "%") {
                    guard i + 2 < end, isHexDigit(p[i + 1]), isHexDigit(p[i + 2]) else { return nil }
                    i += 3
                } else {
                    guard isRegNameByte(b) else { return nil }
                    i += 1
                }
            }
        }
        let hostEnd = i
        if i < end {
            guard p[i] == ASCII.colon else { return nil }
            i += 1
            while i < end {
                guard isDigit(p[i]) else { return nil }
                i += 1
            }
        }
        return hostEnd
    }

    /// IPv6address / IPvFuture (RFC 3986 §3.2.2), the part between the brackets.
    static func isIPLiteralBody(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        guard !r.isEmpty else { return false }
        if p[r.lowerBound] | 0x20 == UInt8(ascii: "v") {
            // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
            var i = r.lowerBound + 1
            let hexStart = i
            while i < r.upperBound && isHexDigit(p[i]) { i += 1 }
            guard i > hexStart, i < r.upperBound, p[i] == UInt8(ascii: ".") else { return false }
            i += 1
            guard i < r.upperBound else { return false }
            while i < r.upperBound {
                guard isRegNameByte(p[i]) || p[i] == ASCII.colon else { return false }
                i += 1
            }
            return true
        }
        return isIPv6(p, r)
    }

    /// IPv6address (RFC 3986 §3.2.2): eight h16 pieces, or fewer with one "::", the last two optionally an IPv4address.
    static func isIPv6(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        var i = r.lowerBound
        let end = r.upperBound
        var groups = 0
        var compressed = false
        if p[i] == ASCII.colon {
            guard i + 1 < end, p[i + 1] == ASCII.colon else { return false }
            compressed = true
            i += 2
        }
        while i < end {
            let start = i
            while i < end && isHexDigit(p[i]) { i += 1 }
            if i < end && p[i] == UInt8(ascii: ".") {
                // ls32 = ( h16 ":" h16 ) / IPv4address: an IPv4 tail ends the address.
                guard isIPv4(p, start..<end) else { return false }
                groups += 2
                i = end
                break
            }
            guard i > start, i - start <= 4 else { return false }
            groups += 1
            if i == end { break }
            guard p[i] == ASCII.colon else { return false }
            i += 1
            guard i < end else { return false }  // a single trailing ":"
            if p[i] == ASCII.colon {
                guard !compressed else { return false }
                compressed = true
                i += 1
            }
        }
        return compressed ? groups <= 7 : groups == 8
    }

    /// IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet (RFC 3986 §3.2.2; no leading zeros).
    static func isIPv4(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        var i = r.lowerBound
        for octet in 0..<4 {
            if octet > 0 {
                guard i < r.upperBound, p[i] == UInt8(ascii: ".") else { return false }
                i += 1
            }
            let start = i
            var value = 0
            while i < r.upperBound && isDigit(p[i]) && i - start < 3 {
                value = value * 10 + Int(p[i] - 0x30)
                i += 1
            }
            guard i > start, value <= 255, !(p[start] == 0x30 && i - start > 1) else { return false }
        }
        return i == r.upperBound
    }
}
