// RequestHead: one parsed request head (request line and header fields) as offsets into its own bytes.
// Owns the accessors that read values out of those bytes. Parsing lives in RequestParser*.swift;
// percent-decoding and path normalisation live elsewhere.

/// One header field line, as offsets into `RequestHead.bytes`.
public struct HeaderField: Sendable {
    /// The field name as received (any case).
    public var name: Range<Int>
    /// The field value with leading and trailing SP/HTAB removed (RFC 9112 §5.1).
    public var value: Range<Int>
    /// The known header this field is, if any.
    public var known: HeaderName?

    /// Makes a field from offsets into a head's bytes (the parser does this; tests and plugins may too).
    public init(name: Range<Int>, value: Range<Int>, known: HeaderName? = nil) {
        self.name = name
        self.value = value
        self.known = known
    }
}

/// A parsed HTTP/1.x request head. All ranges index `bytes`, which holds exactly the head:
/// the request line through the empty line (leading empty lines excluded).
///
/// Made by `RequestParser.parse` on the event loop thread; a value type, safe to hand to other threads.
public struct RequestHead: Sendable {
    /// Exactly the head bytes, request line through the empty line.
    public var bytes: [UInt8]
    /// The method as a case; `.other` for any other valid token.
    public var method: Method
    /// The raw method token.
    public var methodBytes: Range<Int>
    /// The raw request-target as received (RFC 9112 §3.2).
    public var target: Range<Int>
    /// The path part of the target, before `?`. For absolute-form: the path after the authority,
    /// an empty range when absent (meaning `/`). For asterisk-form: the `*`.
    public var path: Range<Int>
    /// The query after `?` (without it); nil when the target has no `?`.
    public var query: Range<Int>?
    /// True for `OPTIONS *` (RFC 9112 §3.2.4).
    public var isAsteriskForm: Bool
    /// The authority of an absolute-form target (RFC 9112 §3.2.2).
    public var absoluteAuthority: Range<Int>?
    /// 0 or 1; HTTP/1.x with x > 1 is treated as 1.1 (RFC 9110 §2.5).
    public var versionMinor: Int
    /// The field lines in the order received, duplicates included.
    public var fields: [HeaderField]
    /// The Content-Length value; 0 when absent.
    public var contentLength: Int
    /// Whether the connection stays open after this request (RFC 9112 §9.3).
    public var isKeepAlive: Bool
    /// Bits (`HeaderName.bit`) of the known headers present; lets `value(_:)` answer absent headers at once.
    var knownSeen: UInt32
    /// The host part of the Host field (without its port), found while the parser checked the
    /// field's syntax; nil without a Host field. Routing reads it instead of finding the field
    /// and scanning its value again.
    var hostFieldHost: Range<Int>? = nil

    /// The value of the first field with this known name, or nil.
    public func value(_ name: HeaderName) -> ArraySlice<UInt8>? {
        guard knownSeen & name.bit != 0 else { return nil }
        for field in fields where field.known == name { return bytes[field.value] }
        return nil
    }

    /// The value of the first field with this known name as a String (allocates; for cold paths and plugins).
    /// Invalid UTF-8 (obs-text) is replaced with U+FFFD.
    public func string(_ name: HeaderName) -> String? {
        value(name).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The value of the first field named `named`, compared case-insensitively (ASCII), or nil.
    public func value(named: String) -> ArraySlice<UInt8>? {
        let wanted = named.utf8
        let count = wanted.count
        for field in fields where field.name.count == count {
            var i = field.name.lowerBound
            var same = true
            for w in wanted {
                if asciiLower(bytes[i]) != asciiLower(w) { same = false; break }
                i += 1
            }
            if same { return bytes[field.value] }
        }
        return nil
    }

    /// The bytes at `r`.
    public func bytes(_ r: Range<Int>) -> ArraySlice<UInt8> { bytes[r] }

    /// The method token for logs.
    public var methodString: String { Self.escapedString(bytes[methodBytes]) }
    /// The request-target for logs.
    public var targetString: String { Self.escapedString(bytes[target]) }

    /// Renders printable ASCII as is and every other byte as `\xHH`.
    /// SECURITY: log injection (nginx CVE-2009-4487): no control byte or terminal escape reaches a log line.
    /// The parser only admits VCHAR in the method and target, so this never escapes in practice.
    static func escapedString(_ s: ArraySlice<UInt8>) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
        for b in s {
            if b >= 0x20 && b < 0x7F {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "\\x"
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return out
    }
}

extension RequestHead {
    /// Arrays of a finished head, kept by a connection for the next one (see
    /// `RequestParser.parse(_:reusing:)`).
    struct Storage {
        var bytes: [UInt8] = []
        var fields: [HeaderField] = []

        init() {}

        /// Takes back the arrays of `head` once the connection is done with it.
        init(reclaiming head: consuming RequestHead) {
            reclaim(&head)
        }

        /// Takes back the arrays of `head`, leaving it empty ones: swapped, where
        /// assigning them was a retain of each and a release of each with `head` (~80
        /// instructions a request under callgrind).
        mutating func reclaim(_ head: inout RequestHead) {
            swap(&bytes, &head.bytes)
            swap(&fields, &head.fields)
        }

    }

    /// A head of no request yet that holds `storage`'s arrays (leaving it empty), for
    /// `RequestParser.parse(_:progress:into:)` to fill in place.
    init(reusing storage: inout Storage) {
        self.init(bytes: [], method: .get, methodBytes: 0..<0, target: 0..<0, path: 0..<0, query: nil,
                  isAsteriskForm: false, absoluteAuthority: nil, versionMinor: 1, fields: [], contentLength: 0,
                  isKeepAlive: false, knownSeen: 0)
        storage.reclaim(&self)   // the same swap, the other way
    }
}

@inline(__always)
func asciiLower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
