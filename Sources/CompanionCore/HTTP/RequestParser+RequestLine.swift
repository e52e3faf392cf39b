// RequestParser+RequestLine: the request line (RFC 9112 §3) and the request-target forms (§3.2).
//
//     request-line   = method SP request-target SP HTTP-version
//     method         = token
//     HTTP-version   = HTTP-name "/" DIGIT "." DIGIT      ; HTTP-name = %s"HTTP"
//     request-target = origin-form / absolute-form / authority-form / asterisk-form
//
// We accept origin-form, absolute-form (http/https) and asterisk-form (OPTIONS only); authority-form is
// for CONNECT, which a static host does not do.

/// The parsed request line, in head-relative offsets.
struct RequestLine {
    var method: Method
    var methodBytes: Range<Int>
    var target: Range<Int>
    var path: Range<Int>
    var query: Range<Int>?
    var isAsteriskForm: Bool
    var absoluteAuthority: Range<Int>?
    var versionMinor: Int
}

extension RequestParser {
    /// Parses `p[0..<end]`, the request line without its terminator.
    static func parseRequestLine(_ p: UnsafeRawBufferPointer, end: Int) throws(ParseFailure) -> RequestLine {
        // RFC 9112 §3: exactly one SP between the parts; RFC 9110 §9.1: method = token, case-sensitive.
        var i = 0
        while i < end && p[i] != ASCII.sp {
            guard isTchar(p[i]) else { throw .badRequest }
            i += 1
        }
        guard i > 0, i < end else { throw .badRequest }
        let methodBytes = 0..<i
        let method = Method(token: p, methodBytes)

        // RFC 9112 §3.2: the target has no whitespace; we admit VCHAR only (no CTL, no obs-text).
        // SECURITY: a raw byte ≥ 0x80 or a control byte never reaches path decoding or logs.
        // The target's end and its first `?` come from one pass, eight bytes at a time while a
        // whole word lies within the line (a byte loop cost ~8 instructions a byte, and a second
        // pass for the `?` ~5 more).
        i += 1
        let targetStart = i
        var question = -1
        if let base = p.baseAddress {
            while i + 8 <= end {
                let x = Bytes8.load(base, i)
                let stop = Bytes8.notVchar(x)
                if question < 0 {
                    let q = Bytes8.equal(x, ASCII.question) & Bytes8.before(stop)
                    if q != 0 { question = i + Bytes8.first(q) }
                }
                if stop != 0 {
                    i += Bytes8.first(stop)
                    break
                }
                i += 8
            }
        }
        // The last bytes, and the byte that stopped the words: SP ends the target, any other is 400.
        while i < end && p[i] != ASCII.sp {
            guard isVchar(p[i]) else { throw .badRequest }
            if question < 0 && p[i] == ASCII.question { question = i }
            i += 1
        }
        guard i > targetStart, i < end else { throw .badRequest }
        let target = targetStart..<i

        // RFC 9112 §2.3: HTTP-version is case-sensitive; exactly 8 bytes, so no trailing whitespace.
        let v = i + 1
        guard end - v == 8,
              p[v] == UInt8(ascii: "H"), p[v + 1] == UInt8(ascii: "T"), p[v + 2] == UInt8(ascii: "T"),
              p[v + 3] == UInt8(ascii: "P"), p[v + 4] == ASCII.slash,
              isDigit(p[v + 5]), p[v + 6] == UInt8(ascii: "."), isDigit(p[v + 7])
        else { throw .badRequest }
        // RFC 9110 §2.5 / RFC 9112 §2.3: a well-formed version we do not speak is 505; a higher
        // minor version of HTTP/1 is handled as the highest minor we support (1.1).
        guard p[v + 5] == UInt8(ascii: "1") else { throw ParseFailure(status: .httpVersionNotSupported) }
        let versionMinor = p[v + 7] == UInt8(ascii: "0") ? 0 : 1

        var line = RequestLine(method: method, methodBytes: methodBytes, target: target, path: target,
                               query: nil, isAsteriskForm: false, absoluteAuthority: nil,
                               versionMinor: versionMinor)
        try parseTarget(p, target, question: question, into: &line)
        return line
    }

    /// Sorts the target into its form and splits path, query and authority. `question` is the
    /// index of the target's first `?`, or -1.
    static func parseTarget(_ p: UnsafeRawBufferPointer, _ target: Range<Int>, question: Int,
                            into line: inout RequestLine) throws(ParseFailure) {
        let first = p[target.lowerBound]
        if first == ASCII.slash {
            // RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ]
            splitPathAndQuery(target, question: question, into: &line)
            return
        }
        if first == UInt8(ascii: "*") && target.count == 1 {
            // RFC 9112 §3.2.4: asterisk-form = "*", only for a server-wide OPTIONS request.
            guard line.method == .options else { throw .badRequest }
            line.isAsteriskForm = true
            line.path = target
            return
        }
        // RFC 9112 §3.2.2: absolute-form = absolute-URI; we accept the http and https schemes
        // (scheme names are case-insensitive, RFC 3986 §3.1).
        guard let authorityStart = afterHTTPScheme(p, target) else { throw .badRequest }
        var i = authorityStart
        while i < target.upperBound && p[i] != ASCII.slash && p[i] != ASCII.question { i += 1 }
        let authority = authorityStart..<i
        // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid. No userinfo ("@" fails the
        // syntax check; RFC 9110 §4.2.4 deprecates it).
        guard let hostEnd = HostSyntax.hostEnd(p, authority), hostEnd > authority.lowerBound else {
            throw .badRequest
        }
        line.absoluteAuthority = authority
        // The authority stopped at the first `/` or `?`, so the target's first `?` is not in it.
        splitPathAndQuery(i..<target.upperBound, question: question, into: &line)
    }

    /// Path up to the first `?` (at `question`, -1 for none; at or after `r`'s start), query
    /// after it. An empty `r` gives an empty path and no query.
    @inline(__always)
    static func splitPathAndQuery(_ r: Range<Int>, question: Int, into line: inout RequestLine) {
        if question >= 0 {
            line.path = r.lowerBound..<question
            line.query = question + 1..<r.upperBound
        } else {
            line.path = r
            line.query = nil
        }
    }

    /// The index after `http://` or `https://` (any case) at the start of `r`, or nil.
    static func afterHTTPScheme(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> Int? {
        let s = r.lowerBound
        guard r.count >= 7,
              p[s] | 0x20 == UInt8(ascii: "h"), p[s + 1] | 0x20 == UInt8(ascii: "t"),
              p[s + 2] | 0x20 == UInt8(ascii: "t"), p[s + 3] | 0x20 == UInt8(ascii: "p")
        else { return nil }
        var i = s + 4
        if p[i] | 0x20 == UInt8(ascii: "s") { i += 1 }
        guard i + 3 <= r.upperBound, p[i] == ASCII.colon, p[i + 1] == ASCII.slash, p[i + 2] == ASCII.slash
        else { return nil }
        return i + 3
    }
}
