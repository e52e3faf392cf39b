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

    /// Known names bucketed by length: `table[n]` lists the names with `n` bytes
    /// (at most 3 per bucket), so a lookup compares against a handful of candidates.
    static let table: [[(name: HeaderName, bytes: [UInt8])]] = {
        var buckets = [[(name: HeaderName, bytes: [UInt8])]](repeating: [], count: 31)
        for name in HeaderName.allCases {
            let s = name.lowercasedName
            let bytes = Array(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
            buckets[bytes.count].append((name, bytes))
        }
        return buckets
    }()

    /// Finds the known header whose name equals `p[range]`, ignoring ASCII case.
    ///
    /// The bytes must already be a valid token (`1*tchar`): then `b | 0x20 == e` is an exact
    /// case-insensitive match for every expected byte `e` (lowercase letters and `-`), because the only
    /// other byte it admits for `-` is CR, which is not a tchar.
    @inline(__always)
    static func lookup(_ p: UnsafeRawBufferPointer, _ range: Range<Int>,
                       in table: [[(name: HeaderName, bytes: [UInt8])]]) -> HeaderName? {
        let count = range.count
        guard count < table.count else { return nil }
        let s = range.lowerBound
        candidates: for candidate in table[count] {
            for k in 0..<count where p[s + k] | 0x20 != candidate.bytes[k] { continue candidates }
            return candidate.name
        }
        return nil
    }
}
