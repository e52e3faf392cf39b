// RequestParser+Fields: the header field lines (RFC 9112 §5, RFC 9110 §5) and the rules on the known
// headers the parser itself enforces: Host (§3.2), Content-Length and Transfer-Encoding (§6), Connection (§9.3).
//
//     field-line = field-name ":" OWS field-value OWS
//     field-name = token

/// What the field lines yield besides the list.
struct ParsedFields {
    var seen: UInt32 = 0
    var contentLength = 0
    var hasClose = false
    var hasKeepAlive = false
    /// The host part of the Host field's value (its port left out), as `HostSyntax.hostEnd` found it.
    var host: Range<Int>?
}

extension RequestParser {
    /// Parses the field lines in `p[r]` (each ends in LF or CRLF; the final empty line is not in `r`)
    /// into `list` (emptied first; its buffer is kept when nothing else holds it).
    static func parseFields(_ p: UnsafeRawBufferPointer, _ r: Range<Int>, lineCount: Int,
                            versionMinor: Int, into list: inout [HeaderField]) throws(ParseFailure) -> ParsedFields {
        list.removeAll(keepingCapacity: true)
        var result = ParsedFields()
        list.reserveCapacity(lineCount)
        var i = r.lowerBound
        while i < r.upperBound {
            // Framing already found every LF up to r.upperBound, so this always succeeds.
            let lf = indexOfLF(p, i, r.upperBound) ?? r.upperBound - 1
            let lineEnd = p[lf - 1] == ASCII.cr ? lf - 1 : lf

            // RFC 9112 §5.2: obs-fold is rejected; §2.2: whitespace between the start line and the first
            // field is rejected too. Both are a line starting with SP or HTAB.
            // SECURITY: folded or indented lines are a classic smuggling vector between proxies.
            let b0 = p[i]
            if b0 == ASCII.sp || b0 == ASCII.htab { throw .badRequest }

            // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon ... a server MUST
            // reject, with a response status code of 400" - any non-tchar before the colon is a 400.
            // The first colon, eight bytes at a time while a whole word lies within the line; then
            // the name's bytes are checked, by `HeaderName.lookup` for a known name (it matches
            // only tchars) or one by one (a byte loop testing each byte for both cost ~14
            // instructions a byte).
            var j = i
            if let base = p.baseAddress {
                while j + 8 <= lineEnd {
                    let colons = Bytes8.equal(Bytes8.load(base, j), ASCII.colon)
                    if colons != 0 {
                        j += Bytes8.first(colons)
                        break
                    }
                    j += 8
                }
            }
            while j < lineEnd && p[j] != ASCII.colon { j += 1 }
            guard j > i, j < lineEnd else { throw .badRequest }  // empty name, or no colon
            let name = i..<j
            let known = HeaderName.lookup(p, name)
            if known == nil {
                for k in name where !isTchar(p[k]) { throw .badRequest }
            }

            // RFC 9110 §5.5: field-vchar / SP / HTAB only; CR, LF, NUL and other CTLs (and DEL) are 400.
            guard allFieldValueBytes(p, j + 1, lineEnd) else { throw .badRequest }
            // RFC 9112 §5.1: OWS around the value is not part of it.
            var vs = j + 1
            var ve = lineEnd
            while vs < ve && (p[vs] == ASCII.sp || p[vs] == ASCII.htab) { vs += 1 }
            while ve > vs && (p[ve - 1] == ASCII.sp || p[ve - 1] == ASCII.htab) { ve -= 1 }
            let value = vs..<ve

            if let known { try apply(known, p, value, to: &result) }
            list.append(HeaderField(name: name, value: value, known: known))
            i = lf + 1
        }
        // RFC 9112 §3.2: "A server MUST respond with a 400 ... to any HTTP/1.1 request message that lacks
        // a Host header field".
        if versionMinor == 1 && result.seen & HeaderName.host.bit == 0 { throw .badRequest }
        return result
    }

    /// Enforces the rules for one known field and records its effect.
    @inline(__always)
    static func apply(_ name: HeaderName, _ p: UnsafeRawBufferPointer, _ value: Range<Int>,
                      to result: inout ParsedFields) throws(ParseFailure) {
        let repeated = result.seen & name.bit != 0
        result.seen |= name.bit
        switch name {
        case .host:
            // RFC 9112 §3.2: 400 for more than one Host field or an invalid Host value. An empty value
            // is valid (RFC 9110 §7.2: the target URI has no authority).
            guard !repeated, let end = HostSyntax.hostEnd(p, value) else { throw .badRequest }
            result.host = value.lowerBound..<end
        case .transferEncoding:
            // SECURITY: RFC 9112 §6.1/§11.2: we read no chunked bodies, and Transfer-Encoding next to
            // Content-Length is the request smuggling pattern. Any Transfer-Encoding is 400 and close.
            throw .badRequest
        case .contentLength:
            // RFC 9110 §8.6: Content-Length = 1*DIGIT. No sign, no inner space, no list ("5, 5"),
            // one field only (RFC 9112 §6.3 item 5). SECURITY: at most 18 digits, so it fits an Int.
            guard !repeated, !value.isEmpty, value.count <= 18 else { throw .badRequest }
            var length = 0
            for k in value {
                guard isDigit(p[k]) else { throw .badRequest }
                length = length * 10 + Int(p[k] &- 0x30)
            }
            result.contentLength = length
        case .connection:
            // RFC 9110 §7.6.1: Connection = #connection-option; every Connection field counts.
            scanConnectionOptions(p, value, into: &result)
        default:
            break
        }
    }

    /// Marks "close" and "keep-alive" among the comma-separated options (case-insensitive, RFC 9110 §7.6.1).
    static func scanConnectionOptions(_ p: UnsafeRawBufferPointer, _ value: Range<Int>,
                                      into result: inout ParsedFields) {
        var i = value.lowerBound
        while i < value.upperBound {
            var end = i
            while end < value.upperBound && p[end] != ASCII.comma { end += 1 }
            var s = i
            var e = end
            while s < e && (p[s] == ASCII.sp || p[s] == ASCII.htab) { s += 1 }
            while e > s && (p[e - 1] == ASCII.sp || p[e - 1] == ASCII.htab) { e -= 1 }
            if equalsLowercase(p, s..<e, "close") { result.hasClose = true }
            if equalsLowercase(p, s..<e, "keep-alive") { result.hasKeepAlive = true }
            i = end + 1
        }
    }

    /// True when `p[r]` equals the lowercase ASCII `literal`, ignoring case.
    @inline(__always)
    static func equalsLowercase(_ p: UnsafeRawBufferPointer, _ r: Range<Int>, _ literal: StaticString) -> Bool {
        guard r.count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        var k = 0
        for i in r {
            if asciiLower(p[i]) != l[k] { return false }
            k += 1
        }
        return true
    }
}
