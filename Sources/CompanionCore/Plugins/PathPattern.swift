// PathPattern: the path patterns plugins use for `match` and `from` (SPEC §4):
// an exact path, or a path prefix ending in `*`. Compiled at config load.

/// A plugin path pattern: `/about.html` matches that path only; `/assets/*`
/// matches every path starting with `/assets/`, and `*` captures the rest.
///
/// SECURITY: patterns are matched against the request path after it has been
/// percent-decoded and normalised, the same value the file lookup uses, so an
/// encoded form such as `/public/..%2fadmin` cannot slip past a `basicAuth`
/// match (Caddy #7941 was that bug). Comparison is byte for byte (UTF-8),
/// case-sensitive, like the file system.
public struct PathPattern: Sendable, Equatable, CustomStringConvertible {
    /// The path, or the prefix before `*`.
    public let prefix: String
    /// True when the pattern ends in `*`.
    public let isPrefix: Bool

    /// Compiles `pattern`; nil when it is not a valid pattern: it must start
    /// with `/`, may hold one `*` only as its last character, and may not hold
    /// `//`, `.` or `..` segments, control characters, `?` or `#`, which a
    /// normalised request path never contains (such a pattern would never match).
    public init?(_ pattern: String) {
        let bytes = Array(pattern.utf8)
        guard bytes.first == UInt8(ascii: "/") else { return nil }
        let isPrefix = bytes.last == UInt8(ascii: "*")
        let path = isPrefix ? bytes.dropLast() : bytes[...]
        guard Self.isNormalisedPath(path) else { return nil }
        self.prefix = String(decoding: path, as: UTF8.self)
        self.isPrefix = isPrefix
    }

    /// The pattern as written in the config.
    public var description: String { isPrefix ? prefix + "*" : prefix }

    /// True when `path` (decoded and normalised) is the pattern's path, or
    /// starts with its prefix.
    public func matches(_ path: String) -> Bool {
        capture(path) != nil
    }

    /// The part of `path` matched by `*` (possibly empty), or nil when `path`
    /// does not match. An exact pattern that matches captures "".
    public func capture(_ path: String) -> Substring? {
        var pathBytes = path.utf8.makeIterator()
        for expected in prefix.utf8 {
            guard pathBytes.next() == expected else { return nil }
        }
        let end = path.utf8.index(path.utf8.startIndex, offsetBy: prefix.utf8.count)
        if isPrefix {
            // The prefix is whole UTF-8 sequences, so `end` is a scalar boundary, but maybe
            // not a Character boundary (a combining mark may follow): slice the scalars, so
            // the capture never depends on how a Character index is rounded.
            return Substring(path.unicodeScalars[end...])
        }
        return end == path.endIndex ? path[end...] : nil
    }

    private static func isNormalisedPath(_ path: ArraySlice<UInt8>) -> Bool {
        for byte in path {
            switch byte {
            case 0..<0x20, 0x7F, UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "#"):
                return false
            default:
                continue
            }
        }
        // Split after the leading "/"; a trailing "/" leaves one empty last segment.
        let segments = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (position, segment) in segments.enumerated() {
            let isLast = position == segments.count - 1
            if segment.isEmpty && !isLast { return false }  // "//"
            if segment.elementsEqual([UInt8(ascii: ".")]) { return false }
            if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { return false }
        }
        return true
    }
}
