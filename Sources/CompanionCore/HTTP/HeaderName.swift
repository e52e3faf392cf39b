// HeaderName: the request header fields the server itself reads, and the length-bucketed table
// that maps a field-name (bytes, any case) to a case without building a String.
// Other headers are still kept in RequestHead.fields and found with value(named:).

/// A request header field the server knows by name. Field names are case-insensitive
/// (RFC 9110 §5.1); the parser matches them through `HeaderName.lookup`.
/// The raw value is a bit index in `RequestHead`'s seen-mask, so keep it below 32.
public enum HeaderName: Int, CaseIterable, Sendable {
    case host, contentLength, transferEncoding, connection, ifNoneMatch, ifModifiedSince, ifMatch, ifUnmodifiedSince,
        range, ifRange, acceptEncoding, accept, userAgent, referer, authorization, origin,
        accessControlRequestMethod, accessControlRequestHeaders, expect

    /// The field name in lowercase, as registered (RFC 9110 §5.1, IANA HTTP Field Name Registry).
    public var lowercasedName: StaticString {
        switch self {
        case .host: return "host"
        case .contentLength: return "content-length"
        case .transferEncoding: return "transfer-encoding"
        case .connection: return "connection"
        case .ifNoneMatch: return "if-none-match"
        case .ifModifiedSince: return "if-modified-since"
        case .ifMatch: return "if-match"
        case .ifUnmodifiedSince: return "if-unmodified-since"
        case .range: return "range"
        case .ifRange: return "if-range"
        case .acceptEncoding: return "accept-encoding"
        case .accept: return "accept"
        case .userAgent: return "user-agent"
        case .referer: return "referer"
        case .authorization: return "authorization"
        case .origin: return "origin"
        case .accessControlRequestMethod: return "access-control-request-method"
        case .accessControlRequestHeaders: return "access-control-request-headers"
        case .expect: return "expect"
        }
    }

    /// This header's bit in a seen-mask.
    @inline(__always) var bit: UInt32 { 1 << UInt32(rawValue) }

    /// Finds the known header whose name equals `p[range]`, ignoring ASCII case.
    ///
    /// Exact for any bytes, so a match is also a valid token (the parser checks the bytes of an
    /// unknown name only): a letter of the name matches itself in either case, `-` only itself.
    @inline(__always)
    static func lookup(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> HeaderName? {
        // Bucketed by length in code, compared against the StaticString names: a table of
        // [UInt8] arrays cost retains, releases and bounds checks (~150 instructions a field).
        switch range.count {
        case 4: return matches(p, range, .host)
        case 5: return matches(p, range, .range)
        case 6: return matches(p, range, .accept) ?? matches(p, range, .origin) ?? matches(p, range, .expect)
        case 7: return matches(p, range, .referer)
        case 8: return matches(p, range, .ifMatch) ?? matches(p, range, .ifRange)
        case 10: return matches(p, range, .connection) ?? matches(p, range, .userAgent)
        case 13: return matches(p, range, .ifNoneMatch) ?? matches(p, range, .authorization)
        case 14: return matches(p, range, .contentLength)
        case 15: return matches(p, range, .acceptEncoding)
        case 17: return matches(p, range, .transferEncoding) ?? matches(p, range, .ifModifiedSince)
        case 19: return matches(p, range, .ifUnmodifiedSince)
        case 29: return matches(p, range, .accessControlRequestMethod)
        case 30: return matches(p, range, .accessControlRequestHeaders)
        default: return nil
        }
    }

    /// `name` when `p[range]` (as long as its name) is that name in any case, else nil.
    /// Compared eight bytes at a time, then byte by byte (a byte loop cost ~80 instructions for
    /// "user-agent"). A received byte `b` matches the expected `e` when `b | fold == e`, where
    /// `fold` is 0x20 for a letter (the names' letters are lowercase, bit 0x40 set) and 0 for
    /// `-` (bit 0x40 clear): `| 0x20` on every byte would also have let CR stand for `-`.
    @inline(__always)
    private static func matches(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, _ name: HeaderName) -> HeaderName? {
        let expected = UnsafeRawPointer(name.lowercasedName.utf8Start)
        guard let base = p.baseAddress else { return nil }
        let received = base + range.lowerBound
        let count = range.count
        var k = 0
        while k + 8 <= count {
            let word = received.loadUnaligned(fromByteOffset: k, as: UInt64.self)
            let e = expected.loadUnaligned(fromByteOffset: k, as: UInt64.self)
            if word | (e & 0x4040_4040_4040_4040) >> 1 != e { return nil }
            k += 8
        }
        while k < count {
            let e = expected.load(fromByteOffset: k, as: UInt8.self)
            if received.load(fromByteOffset: k, as: UInt8.self) | (e & 0x40) >> 1 != e { return nil }
            k += 1
        }
        return name
    }
}
