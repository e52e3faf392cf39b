// ByteRange: the `Range: bytes=…` header (RFC 9110 §14.1.2, §14.2) parsed against a
// file size into a small decision: ignore it, serve it all, serve these ranges, or
// 416. Overflow-safe, and capped so that a header of many tiny ranges cannot
// multiply the work or the response. The multipart/byteranges framing
// lives in ByteRange+Multipart.swift.

/// What to do with a `Range` header for a representation of a known size.
public enum RangeResult: Sendable, Equatable {
    /// Not a valid `bytes` range set (syntax error, other unit, first > last): serve 200.
    case ignore
    /// Valid but too expensive (more than `ByteRange.maxRanges`, or overlapping): serve 200.
    case full
    /// Satisfiable ranges, in request order, clamped to the size: 206.
    case ranges([Range<Int>])
    /// No range overlaps the representation: 416 with `Content-Range: bytes */SIZE`.
    case unsatisfiable
}

/// Parsing of `Range` headers and building of 206 framing.
public enum ByteRange {
    /// More ranges than this answer 200 with the whole file (SPEC §3; Apache Killer,
    /// CVE-2011-3192). Parsing stops at the 17th range, so work per header is bounded.
    public static let maxRanges = 16

    /// Parses a `Range` field value for a representation of `size` bytes.
    ///
    /// Called on the loop thread for GET requests to files; pure.
    /// Grammar (RFC 9110 §14.1.2): `ranges-specifier = range-unit "=" range-set`,
    /// `range-set = 1#range-spec`, `int-range = first-pos "-" [ last-pos ]`,
    /// `suffix-range = "-" suffix-length`. The unit is case-insensitive (§14.1); OWS around
    /// list elements and empty elements are accepted (§5.6.1).
    ///
    /// SECURITY: numbers saturate instead of overflowing (CVE-2015-1635 sent
    /// `0-18446744073709551615`; nginx CVE-2017-7529 was suffix arithmetic). A last-pos past
    /// the end is clamped; a first-pos too large for `Int` is simply ≥ size, so that range is
    /// unsatisfiable like any other start past the end (nginx answers 416 there too).
    /// Overlapping ranges answer `.full` rather than being merged.
    /// - Returns: see `RangeResult`.
    public static func parse<C: Collection>(_ header: C, size: Int) -> RangeResult where C.Element == UInt8 {
        if let result = header.withContiguousStorageIfAvailable({ parse(buffer: $0, size: size) }) {
            return result
        }
        return Array(header).withUnsafeBufferPointer { parse(buffer: $0, size: size) }
    }

    private static let bytesUnit: [UInt8] = Array("bytes".utf8)

    private static func isOWS(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private static func parse(buffer v: UnsafeBufferPointer<UInt8>, size: Int) -> RangeResult {
        var index = 0
        let end = v.count
        while index < end, isOWS(v[index]) { index += 1 }
        // range-unit "=", case-insensitive (RFC 9110 §14.1).
        guard end - index > bytesUnit.count else { return .ignore }
        for offset in 0..<bytesUnit.count where v[index + offset] | 0x20 != bytesUnit[offset] { return .ignore }
        index += bytesUnit.count
        guard v[index] == UInt8(ascii: "=") else { return .ignore }
        index += 1

        var ranges: [Range<Int>] = []
        var specCount = 0
        while true {
            while index < end, isOWS(v[index]) || v[index] == UInt8(ascii: ",") { index += 1 }
            if index == end { break }
            specCount += 1
            if specCount > maxRanges { return .full }
            // One range-spec.
            let first: Int?
            let last: Int?
            if v[index] == UInt8(ascii: "-") {
                index += 1
                guard let length = digits(v, &index) else { return .ignore }
                first = nil
                last = length
            } else {
                guard let start = digits(v, &index), index < end, v[index] == UInt8(ascii: "-") else {
                    return .ignore
                }
                index += 1
                first = start
                last = index < end && isDigit(v[index]) ? digits(v, &index) : nil
                // RFC 9110 §14.1.1: last-pos less than first-pos makes the range-spec invalid.
                if let last, start > last { return .ignore }
            }
            while index < end, isOWS(v[index]) { index += 1 }
            guard index == end || v[index] == UInt8(ascii: ",") else { return .ignore }
            if let range = satisfiable(first: first, last: last, size: size) { ranges.append(range) }
        }
        if specCount == 0 { return .ignore }  // "bytes=" or "bytes=,": 1#range-spec needs one
        if ranges.isEmpty { return .unsatisfiable }
        if overlap(ranges) { return .full }
        return .ranges(ranges)
    }

    /// RFC 9110 §14.1.2: the part of one range-spec inside `0..<size`, or nil when none is.
    private static func satisfiable(first: Int?, last: Int?, size: Int) -> Range<Int>? {
        guard size > 0 else { return nil }
        if let first {
            guard first < size else { return nil }
            let lastByte = min(last ?? size - 1, size - 1)
            return first..<(lastByte + 1)
        }
        // Suffix: the last N bytes; "-0" selects nothing; N > size selects everything.
        guard let length = last, length > 0 else { return nil }
        return (size - min(length, size))..<size
    }

    /// True when any two ranges share a byte (at most 16 ranges: the quadratic scan is tiny).
    private static func overlap(_ ranges: [Range<Int>]) -> Bool {
        for i in ranges.indices {
            for j in ranges.indices where j > i && ranges[i].overlaps(ranges[j]) { return true }
        }
        return false
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// 1*DIGIT, saturating at `Int.max`. Nil when no digit is at `index`.
    private static func digits(_ v: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Int? {
        guard index < v.count, isDigit(v[index]) else { return nil }
        var value = 0
        while index < v.count, isDigit(v[index]) {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(v[index] &- UInt8(ascii: "0")))
            value = o1 || o2 ? Int.max : sum
            index += 1
        }
        return value
    }
}
