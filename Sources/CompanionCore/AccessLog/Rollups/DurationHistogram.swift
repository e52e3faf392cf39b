// DurationHistogram: request durations counted in log-linear buckets, the form
// in which the rollup tables keep them and from which `companion logs` computes
// p50/p95/p99. Every answer, from rollups or from raw rows, goes through these
// buckets, so both give the same percentiles (within 12.5 % of the exact value).
//
// Buckets: values 0-7 µs have a bucket each; above, each power of two is split in
// eight (three bits of mantissa): bucket 8 + 8·(e−3) + m holds [(8+m)·2^(e−3),
// (9+m)·2^(e−3)) where e is the value's highest set bit. Durations are capped at
// 2^36 µs (19 hours): 272 buckets, the last ending at 2^36 - 1.
//
// Blob encoding (the `hist` column of a rollup): (bucket, count) pairs in bucket
// order, each number as an unsigned LEB128 varint. Empty histogram = empty blob.

/// Counts per duration bucket.
public struct DurationHistogram: Sendable, Equatable {
    public static let bucketCount = 272
    /// The largest duration counted as itself; longer ones go in the last bucket.
    static let maxMicros = (1 << 36) - 1

    /// Dense counts, `bucketCount` long once anything was added (empty before).
    private(set) var counts: [UInt64] = []

    public init() {}

    public var isEmpty: Bool { counts.allSatisfy { $0 == 0 } }
    public var total: UInt64 { counts.reduce(0, &+) }

    /// The bucket of a duration in microseconds.
    @inline(__always)
    public static func bucket(ofMicros value: Int) -> Int {
        let v = min(max(value, 0), maxMicros)
        if v < 8 { return v }
        let e = Int.bitWidth - 1 - v.leadingZeroBitCount   // highest set bit, ≥ 3
        return 8 + 8 * (e - 3) + ((v >> (e - 3)) & 7)
    }

    /// The largest duration a bucket holds (what a percentile in it reports).
    public static func upperBound(ofBucket index: Int) -> Int {
        if index < 8 { return index }
        let e = (index - 8) / 8 + 3
        let m = (index - 8) % 8
        return ((9 + m) << (e - 3)) - 1
    }

    public mutating func add(micros: Int, count: UInt64 = 1) {
        add(bucket: Self.bucket(ofMicros: micros), count: count)
    }

    public mutating func add(bucket: Int, count: UInt64) {
        if counts.isEmpty { counts = [UInt64](repeating: 0, count: Self.bucketCount) }
        counts[bucket] &+= count
    }

    public mutating func merge(_ other: DurationHistogram) {
        for (bucket, count) in other.counts.enumerated() where count > 0 { add(bucket: bucket, count: count) }
    }

    /// The nearest-rank percentile (`percent` in 0...100): the upper bound of the bucket that
    /// holds the ⌈percent/100 · total⌉-th smallest duration; nil when empty.
    public func percentile(_ percent: Double) -> Int? {
        let total = self.total
        guard total > 0 else { return nil }
        // Counts come from blobs any tool may have written: no arithmetic here may trap.
        let exact = (percent / 100 * Double(total)).rounded(.up)
        let rank = exact >= Double(total) ? total : max(1, UInt64(exact))
        var seen: UInt64 = 0
        for (bucket, count) in counts.enumerated() where count > 0 {
            let (sum, overflow) = seen.addingReportingOverflow(count)
            seen = overflow ? .max : sum
            if seen >= rank { return Self.upperBound(ofBucket: bucket) }
        }
        return nil
    }

    // MARK: - Blob encoding

    /// The `hist` column form.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        for (bucket, count) in counts.enumerated() where count > 0 {
            Self.appendVarint(UInt64(bucket), to: &bytes)
            Self.appendVarint(count, to: &bytes)
        }
        return bytes
    }

    /// Adds the counts of an encoded histogram; false (and nothing added past the damage) when
    /// the bytes are not one (another tool wrote the column).
    @discardableResult
    public mutating func merge(encoded bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard let bucket = Self.readVarint(bytes, &offset), let count = Self.readVarint(bytes, &offset),
                  bucket < UInt64(Self.bucketCount) else { return false }
            add(bucket: Int(bucket), count: count)
        }
        return true
    }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    static func readVarint(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }
}
