// PathNormalizer: turns the raw path bytes of a request target into the one
// decoded, normalised path that routing, plugins, logging and file lookup all use
// (normalised once, so no two layers can disagree on it). It does not touch the
// disk; containment on disk is PathResolver's job.
//
// Steps, in order:
//   1. the target must start with '/'                      (else 400)
//   2. percent-decode once (RFC 3986 §2.1)                 (bad escape, NUL → 400)
//   3. split on '/', drop empty and "." segments, resolve ".." (climbing above the root → 400)
//   4. keep a trailing slash when the decoded path had one (or ended in "/." or "/..")
//   5. the decoded bytes must be valid UTF-8               (else 400)

/// Percent-decoding and dot-segment removal for request paths.
public enum PathNormalizer {
    /// Whether `path` ends in "/" (names a directory), as a byte test on its storage:
    /// `String.hasSuffix` compares grapheme clusters (~80 instructions), and the generic
    /// `utf8.last` cost ~76 a request under callgrind.
    @inline(__always)
    static func endsInSlash(_ path: String) -> Bool {
        path.utf8.withContiguousStorageIfAvailable { $0.last == UInt8(ascii: "/") } ?? (path.utf8.last == UInt8(ascii: "/"))
    }

    /// Decodes and normalises the path of a request target.
    ///
    /// Called once per request by the request pipeline, on the loop thread; pure.
    ///
    /// SECURITY: decode first, then normalise, then (in PathResolver) check containment
    /// (`%2e%2e`, `..%2f` and friends were all "checked before decoding" bugs in other
    /// servers). Decoding happens exactly once, so `%252e` becomes the literal three bytes `%2e`,
    /// never a dot. A decoded `%2f` is a separator like a plain '/': the decoded path is what
    /// the file system sees, so it must be what we normalise.
    ///
    /// Backslash is an ordinary byte: on Linux it is a legal file-name character, not a
    /// separator, so `..\..` is a file name and cannot climb (unlike vertx CVE-2018-12542 on
    /// Windows). A port to Windows must reject or split on it.
    ///
    /// Bytes that are not valid UTF-8 after decoding are rejected with 400 because the result
    /// is a `String`; such files cannot be served (and PathResolver's listing skips them).
    ///
    /// - Parameter rawPath: the path bytes of the request target, without the query.
    /// - Returns: the normalised path (starts with '/'), or `.badRequest`.
    public static func normalize<C: Collection>(_ rawPath: C) -> Result<String, HTTPStatus>
    where C.Element == UInt8 {
        if let result = rawPath.withContiguousStorageIfAvailable({ normalize($0) }) { return result }
        return normalizeInSteps(rawPath)
    }

    /// `normalize` for bytes in memory (the generic one's own path for contiguous bytes): not
    /// generic, so the dispatcher's call on the request head's bytes is neither a generic one
    /// nor a copy of an array slice (the generic entry point with an `ArraySlice` cost ~290
    /// instructions a request under callgrind, this ~100).
    static func normalize(_ rawPath: UnsafeBufferPointer<UInt8>) -> Result<String, HTTPStatus> {
        guard rawPath.first == UInt8(ascii: "/") else { return .failure(.badRequest) }
        if let plain = plainPath(rawPath) { return .success(plain) }
        return normalizeInSteps(rawPath)
    }

    /// The general steps (1-5 above), for any path.
    static func normalizeInSteps<C: Collection>(_ rawPath: C) -> Result<String, HTTPStatus>
    where C.Element == UInt8 {
        guard rawPath.first == UInt8(ascii: "/") else { return .failure(.badRequest) }
        guard let decoded = percentDecode(rawPath) else { return .failure(.badRequest) }
        guard let normalized = removeDotSegments(decoded) else { return .failure(.badRequest) }
        // SECURITY: invalid UTF-8 is refused rather than repaired, so two different byte
        // strings can never map to the same path.
        guard let string = String(validating: normalized, as: UTF8.self) else {
            return .failure(.badRequest)
        }
        return .success(string)
    }

    /// The common case without allocating intermediate arrays: a path that is already
    /// normal (ASCII, no escapes, no NUL, no empty, "." or ".." segment) is its own result.
    /// Returns nil when the general steps are needed. Every path it accepts is one the
    /// general steps leave unchanged (`PathNormalizerTests` checks both on the same inputs).
    static func plainPath(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: "."), percent = UInt8(ascii: "%")
        var previous = slash   // raw[0] is '/'
        for index in 1..<raw.count {
            let byte = raw[index]
            if byte == 0 || byte >= 0x80 || byte == percent { return nil }
            if previous == slash && (byte == slash || byte == dot) { return nil }
            previous = byte
        }
        return String(decoding: raw, as: UTF8.self)
    }

    /// True when the path names a hidden file: any segment starting with '.', except a
    /// first segment `.well-known` (RFC 8615).
    ///
    /// SECURITY: dotfiles (`.env`, `.git/`, `.htpasswd`) are the most common accidental
    /// exposure on static hosts; they answer 404 as if absent.
    /// - Parameter normalizedPath: a path returned by `normalize`.
    public static func isHidden(_ normalizedPath: String) -> Bool {
        let bytes = normalizedPath.utf8
        var index = bytes.startIndex
        var segmentIndex = 0
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: "/") {
                index = bytes.index(after: index)
                continue
            }
            let start = index
            while index != bytes.endIndex, bytes[index] != UInt8(ascii: "/") {
                index = bytes.index(after: index)
            }
            if bytes[start] == UInt8(ascii: ".") {
                let isWellKnown = segmentIndex == 0 && bytes[start..<index].elementsEqual(wellKnown)
                if !isWellKnown { return true }
            }
            segmentIndex += 1
        }
        return false
    }

    private static let wellKnown: [UInt8] = Array(".well-known".utf8)

    /// RFC 3986 §2.1: "%" HEXDIG HEXDIG. Returns nil for a malformed escape or a NUL byte.
    static func percentDecode<C: Collection>(_ raw: C) -> [UInt8]? where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index != raw.endIndex {
            var byte = raw[index]
            index = raw.index(after: index)
            if byte == UInt8(ascii: "%") {
                guard index != raw.endIndex, let high = ASCII.hexValue(raw[index]) else { return nil }
                index = raw.index(after: index)
                guard index != raw.endIndex, let low = ASCII.hexValue(raw[index]) else { return nil }
                index = raw.index(after: index)
                byte = high << 4 | low
            }
            // SECURITY: a NUL would truncate the path at the C boundary (openat2).
            if byte == 0 { return nil }
            out.append(byte)
        }
        return out
    }

    /// RFC 3986 §5.2.4 style dot-segment removal over decoded bytes, plus collapsing of
    /// repeated slashes. `decoded` starts with '/'. Returns nil when ".." climbs above the root.
    static func removeDotSegments(_ decoded: [UInt8]) -> [UInt8]? {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var out: [UInt8] = [slash]
        out.reserveCapacity(decoded.count)
        // Start offsets in `out` of each kept segment, so ".." can truncate back.
        var segmentStarts: [Int] = []
        var trailingSlash = false
        var index = 1
        let count = decoded.count
        while index <= count {
            var end = index
            while end < count, decoded[end] != slash { end += 1 }
            let length = end - index
            if length == 0 {
                // Empty segment: a repeated slash (ignored), or the one after a final '/'.
                if end == count { trailingSlash = true }
            } else if length == 1, decoded[index] == dot {
                trailingSlash = true
            } else if length == 2, decoded[index] == dot, decoded[index + 1] == dot {
                // SECURITY: ".." above the root is an attack or a broken client: 400, not a clamp.
                guard let start = segmentStarts.popLast() else { return nil }
                out.removeSubrange(start...)
                trailingSlash = true
            } else {
                // Truncating to the segment start removes the segment and the '/' before it
                // (or, for the first segment, everything after the leading '/').
                if out.count > 1 {
                    segmentStarts.append(out.count)
                    out.append(slash)
                } else {
                    segmentStarts.append(1)
                }
                out.append(contentsOf: decoded[index..<end])
                trailingSlash = false
            }
            index = end + 1
        }
        if trailingSlash, out.count > 1 { out.append(slash) }
        return out
    }
}
