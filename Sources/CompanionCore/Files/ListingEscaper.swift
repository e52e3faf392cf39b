// ListingEscaper: the context-specific encoders for generated pages, one per context
// (as lighttpd mod_dirlisting's ENCODING_MINIMAL_XML vs
// ENCODING_REL_URI_PART): HTML text, a relative URL path segment, a JSON string.
// Each takes raw name bytes, so hostile names (markup, quotes, '?', '#', ':', newlines,
// invalid UTF-8) come out inert in their context.

/// Escapers that append to a byte buffer. Internal: used by ListingRenderer and ErrorPage.
enum ListingEscaper {
    /// Appends text for an HTML element or a double/single-quoted attribute.
    ///
    /// SECURITY: `& < > " '` become entities (serve-index #28: the title attribute and the
    /// link text were left raw). Invalid UTF-8 becomes U+FFFD, and C0 controls and DEL
    /// become U+FFFD too, so a name can't smuggle a newline or escape sequence into the page.
    static func appendHTMLText<C: Collection>(_ raw: C, into out: inout [UInt8]) where C.Element == UInt8 {
        for scalar in String(decoding: raw, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "&": out.append(contentsOf: "&amp;".utf8)
            case "<": out.append(contentsOf: "&lt;".utf8)
            case ">": out.append(contentsOf: "&gt;".utf8)
            case "\"": out.append(contentsOf: "&quot;".utf8)
            case "'": out.append(contentsOf: "&#39;".utf8)
            case "\u{00}"..."\u{1F}", "\u{7F}": out.append(contentsOf: "\u{FFFD}".utf8)
            default: UTF8.encode(scalar) { out.append($0) }
            }
        }
    }

    /// Appends one path segment of a relative `href`, percent-encoding every byte except
    /// RFC 3986 unreserved characters and the sub-delims/pchar `! $ ( ) * + , ; = : @`.
    ///
    /// SECURITY: `?`, `#`, `/`, `%`, quotes, `&`, `<`, `>`, spaces and all non-ASCII bytes
    /// are encoded (static-web-server #149: `some-file?` linked the wrong resource). Since
    /// `&` and `'` are encoded too, the output needs no HTML escaping inside a quoted
    /// attribute. A name with ':' must be prefixed with "./" by the caller, or the browser
    /// reads `a:b` as a scheme (see `appendHref`).
    static func appendPathSegment<C: Collection>(_ raw: C, into out: inout [UInt8]) where C.Element == UInt8 {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        for byte in raw {
            if isSegmentSafe(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
    }

    /// Appends a relative href for a listing entry: `./` when the name holds ':', the
    /// encoded segment, and a trailing '/' for directories.
    static func appendHref(_ name: [UInt8], isDirectory: Bool, into out: inout [UInt8]) {
        if name.contains(UInt8(ascii: ":")) { out.append(contentsOf: "./".utf8) }
        appendPathSegment(name, into: &out)
        if isDirectory { out.append(UInt8(ascii: "/")) }
    }

    static func isSegmentSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"),
             UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"),
             UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }

    /// Appends a JSON string literal (RFC 8259 §7) with its quotes. Invalid UTF-8 (and any
    /// U+FFFD) is written as `\uFFFD`; controls as `\n`-style or `\u00XX` escapes; U+2028 and
    /// U+2029 escaped so the output is also safe inside a script.
    static func appendJSONString<C: Collection>(_ raw: C, into out: inout [UInt8]) where C.Element == UInt8 {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for scalar in String(decoding: raw, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "\\\"".utf8)
            case "\\": out.append(contentsOf: "\\\\".utf8)
            case "\n": out.append(contentsOf: "\\n".utf8)
            case "\r": out.append(contentsOf: "\\r".utf8)
            case "\t": out.append(contentsOf: "\\t".utf8)
            case "\u{08}": out.append(contentsOf: "\\b".utf8)
            case "\u{0C}": out.append(contentsOf: "\\f".utf8)
            case "\u{00}"..."\u{1F}", "\u{7F}":
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(scalar.value >> 4)])
                out.append(hex[Int(scalar.value & 0x0F)])
            case "\u{FFFD}": out.append(contentsOf: "\\uFFFD".utf8)
            case "\u{2028}": out.append(contentsOf: "\\u2028".utf8)
            case "\u{2029}": out.append(contentsOf: "\\u2029".utf8)
            default: UTF8.encode(scalar) { out.append($0) }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
