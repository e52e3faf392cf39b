// Method: the request method as the server cares about it (GET, HEAD, OPTIONS, anything else).
// Owns only the byte-to-case mapping; token validation lives in RequestParser+RequestLine.swift.

/// The request method (RFC 9110 §9). Method tokens are case-sensitive (RFC 9110 §9.1):
/// `get` is a valid token but not `GET`, so it maps to `.other` (and the server answers 405).
public enum Method: Sendable, Equatable {
    case get, head, options
    /// Any other syntactically valid method token; the raw token is `RequestHead.methodBytes`.
    case other

    /// Maps a validated method token to a case, comparing bytes exactly.
    /// - Parameter token: the method token bytes (already checked to be `1*tchar`).
    @inline(__always)
    init(token p: UnsafeRawBufferPointer, _ range: Range<Int>) {
        let s = range.lowerBound
        switch range.count {
        case 3 where p[s] == 0x47 && p[s + 1] == 0x45 && p[s + 2] == 0x54:  // GET
            self = .get
        case 4 where p[s] == 0x48 && p[s + 1] == 0x45 && p[s + 2] == 0x41 && p[s + 3] == 0x44:  // HEAD
            self = .head
        case 7 where Method.matches(p, s, Method.optionsBytes):
            self = .options
        default:
            self = .other
        }
    }

    private static let optionsBytes: StaticString = "OPTIONS"

    @inline(__always)
    private static func matches(_ p: UnsafeRawBufferPointer, _ s: Int, _ literal: StaticString) -> Bool {
        let l = literal.utf8Start
        for k in 0..<literal.utf8CodeUnitCount where p[s + k] != l[k] { return false }
        return true
    }
}
