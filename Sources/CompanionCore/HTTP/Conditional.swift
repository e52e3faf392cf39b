// Conditional: validators (ETag) and the precondition rules of RFC 9110 §13 for a
// static file: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since and
// If-Range. Works on raw header bytes; the only String is our own ETag.

/// Entity tags for files (RFC 9110 §8.8.3).
public enum ETag {
    /// A strong ETag from size and modification time, e.g. `"5f3a1b2c.1c8-400"`
    /// (hex seconds, hex nanoseconds, hex size). Changes when the file is rewritten,
    /// even within the same second on file systems with nanosecond times.
    public static func make(size: Int, mtimeSeconds: Int, mtimeNanoseconds: Int) -> String {
        "\"" + hex(mtimeSeconds) + "." + hex(mtimeNanoseconds) + "-" + hex(size) + "\""
    }

    /// The ETag of an encoded variant: the suffix goes inside the quotes,
    /// `"5f3a1b2c.1c8-400"` + `gzip` → `"5f3a1b2c.1c8-400-gzip"` (each encoding is its own
    /// representation, RFC 9110 §8.8.3.3). A weak prefix `W/` is kept.
    public static func variant(_ etag: String, suffix: String) -> String {
        guard etag.hasSuffix("\""), etag.utf8.count >= 2 else { return etag + "-" + suffix }
        return String(etag.dropLast()) + "-" + suffix + "\""
    }

    private static func hex(_ value: Int) -> String {
        String(UInt64(bitPattern: Int64(value)), radix: 16)
    }
}

/// What the preconditions of a request decide (RFC 9110 §13.2.2).
public enum ConditionalResult: Sendable, Equatable {
    /// Serve the resource normally (200/206).
    case proceed
    /// 304 Not Modified: no body, with the validators.
    case notModified
    /// 412 Precondition Failed.
    case preconditionFailed
}

/// Evaluation of conditional request headers against a file's validators.
public enum Conditional {
    /// Evaluates the preconditions in the order of RFC 9110 §13.2.2.
    ///
    /// Called once per GET/HEAD for an existing file, on the loop thread; pure, no allocation.
    /// 1. If-Match present: no strong match → 412.
    /// 2. else If-Unmodified-Since with a valid date: modified after it → 412.
    /// 3. If-None-Match present: a weak match (or `*`) → 304 for GET/HEAD, 412 otherwise.
    /// 4. else If-Modified-Since (GET/HEAD, valid date): not modified since → 304.
    /// Invalid dates are ignored (RFC 9110 §13.1.3, §13.1.4); a malformed entity-tag list
    /// matches nothing.
    /// - Parameters:
    ///   - etag: the current ETag of the representation, quoted (`"…"` or `W/"…"`).
    ///   - lastModified: its Last-Modified time in seconds.
    ///   - isGetOrHead: false for other methods.
    public static func evaluate(
        ifMatch: ArraySlice<UInt8>?, ifNoneMatch: ArraySlice<UInt8>?,
        ifModifiedSince: ArraySlice<UInt8>?, ifUnmodifiedSince: ArraySlice<UInt8>?,
        etag: String, lastModified: Int, isGetOrHead: Bool
    ) -> ConditionalResult {
        if let ifMatch {
            // RFC 9110 §13.1.1: strong comparison; `*` matches any current representation.
            if !EntityTagList.matches(ifMatch, etag: etag, weakComparison: false) { return .preconditionFailed }
        } else if let ifUnmodifiedSince, let date = HTTPDate.parse(ifUnmodifiedSince) {
            // RFC 9110 §13.1.4
            if lastModified > date { return .preconditionFailed }
        }
        if let ifNoneMatch {
            // RFC 9110 §13.1.2: weak comparison.
            if EntityTagList.matches(ifNoneMatch, etag: etag, weakComparison: true) {
                return isGetOrHead ? .notModified : .preconditionFailed
            }
        } else if isGetOrHead, let ifModifiedSince, let date = HTTPDate.parse(ifModifiedSince) {
            // RFC 9110 §13.1.3
            if lastModified <= date { return .notModified }
        }
        return .proceed
    }

    /// Whether an `If-Range` value lets a `Range` request be answered with 206
    /// (RFC 9110 §13.1.5): an entity-tag must match strongly (a weak tag never does);
    /// a date must equal Last-Modified exactly and be a strong validator, that is at
    /// least one second older than the response's Date (`now`, §8.8.2.2): a file written
    /// in the current second may change again within it. Anything else means "send the
    /// whole file".
    public static func ifRangeAllows(_ ifRange: ArraySlice<UInt8>, etag: String, lastModified: Int, now: Int) -> Bool {
        var value = ifRange
        EntityTagList.trim(&value)
        // RFC 9110 §13.1.5: a DQUOTE or "W/" distinguishes a tag from a date. A lone "W"
        // is not enough: "Wed, 21 Oct 2026 ..." is a date.
        let startsWeakTag = value.count >= 2 && value.first == UInt8(ascii: "W")
            && value[value.startIndex + 1] == UInt8(ascii: "/")
        if value.first == UInt8(ascii: "\"") || startsWeakTag {
            guard value.first == UInt8(ascii: "\""), !value.contains(UInt8(ascii: ",")) else { return false }
            return EntityTagList.matches(value, etag: etag, weakComparison: false)
        }
        guard let date = HTTPDate.parse(value) else { return false }
        return date == lastModified && lastModified < now
    }
}

/// Parsing of `#entity-tag` lists (RFC 9110 §8.8.3):
/// `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`, `etagc = %x21 / %x23-7E / obs-text`.
enum EntityTagList {
    static func isOWS(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    static func trim(_ value: inout ArraySlice<UInt8>) {
        while let first = value.first, isOWS(first) { value.removeFirst() }
        while let last = value.last, isOWS(last) { value.removeLast() }
    }

    /// True when `field` is `*` or lists a tag that matches `etag` under the given
    /// comparison (RFC 9110 §8.8.3.2). False for a malformed list.
    static func matches(_ field: ArraySlice<UInt8>, etag: String, weakComparison: Bool) -> Bool {
        var value = field
        trim(&value)
        if value.count == 1, value.first == UInt8(ascii: "*") { return true }
        var ours = Substring(etag).utf8
        let oursWeak = ours.starts(with: "W/".utf8)
        if oursWeak { ours = ours.dropFirst(2) }
        // A strong comparison needs both tags strong.
        if oursWeak && !weakComparison { return false }

        var found = false
        var index = value.startIndex
        let end = value.endIndex
        while true {
            // RFC 9110 §5.6.1: empty list elements and OWS around commas are allowed.
            while index < end, isOWS(value[index]) || value[index] == UInt8(ascii: ",") { index += 1 }
            if index == end { return found }
            var weak = false
            if value[index] == UInt8(ascii: "W") {
                guard index + 1 < end, value[index + 1] == UInt8(ascii: "/") else { return false }
                weak = true
                index += 2
            }
            guard index < end, value[index] == UInt8(ascii: "\"") else { return false }
            let start = index
            index += 1
            while index < end, value[index] != UInt8(ascii: "\"") {
                let byte = value[index]
                guard byte == 0x21 || (byte >= 0x23 && byte != 0x7F) else { return false }
                index += 1
            }
            guard index < end else { return false }
            index += 1
            let tag = value[start..<index]  // with its quotes, like `ours`
            if (weakComparison || !weak) && tag.elementsEqual(ours) { found = true }
            while index < end, isOWS(value[index]) { index += 1 }
            guard index == end || value[index] == UInt8(ascii: ",") else { return false }
        }
    }
}
