// SQLiteFunctions: the SQL functions companion registers on its own connections
// (the writer's and `companion logs`'), for the duration histograms of the rollups
// and for `--client` ranges. Other tools reading the file do not have them; they do
// not need them (the `hist` column is opaque to them, everything else is plain SQL).
//
//   companion_hist(x)            aggregate: x a duration in µs (INTEGER) or an encoded
//                                histogram (BLOB); NULL is skipped. Returns the encoded
//                                histogram of everything it saw.
//   companion_hist_merge(a, b)   scalar: two encoded histograms merged (the rollups' UPSERT).
//   companion_in_range(v, r)     scalar: 1 when the address text v lies in the CIDR range r
//                                ("10.0.0.0/8", "2001:db8::/32"), else 0; the range is parsed
//                                once per statement (SQLite's auxdata).
//   companion_is_crawler(a)      scalar: 1 when the User-Agent text a is a crawler's
//                                (`Crawler.matches`), 0 otherwise and for NULL.
import CSQLite

extension SQLiteDatabase {
    /// Registers companion's functions on this connection (once; later calls do nothing).
    public func registerCompanionFunctions() throws(SQLiteError) {
        guard !hasCompanionFunctions else { return }
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC
        var rc = sqlite3_create_function_v2(handle, "companion_hist", 1, flags, nil, nil,
                                            histogramStep, histogramFinal, nil)
        if rc == SQLITE_OK {
            rc = sqlite3_create_function_v2(handle, "companion_hist_merge", 2, flags, nil, histogramMerge, nil, nil, nil)
        }
        if rc == SQLITE_OK {
            rc = sqlite3_create_function_v2(handle, "companion_in_range", 2, flags, nil, inRange, nil, nil, nil)
        }
        if rc == SQLITE_OK {
            rc = sqlite3_create_function_v2(handle, "companion_is_crawler", 1, flags, nil, isCrawler, nil, nil, nil)
        }
        guard rc == SQLITE_OK else { throw SQLiteError(handle: handle, code: rc, statement: "sqlite3_create_function_v2") }
        hasCompanionFunctions = true
    }
}

/// The aggregate's state, in SQLite's zeroed per-group memory: dense counts per bucket.
private let histogramContextBytes = DurationHistogram.bucketCount * MemoryLayout<UInt64>.stride

/// Adds an encoded histogram or one duration to dense counts.
private func add(_ value: OpaquePointer?, to counts: UnsafeMutablePointer<UInt64>) {
    switch sqlite3_value_type(value) {
    case SQLITE_INTEGER:
        counts[DurationHistogram.bucket(ofMicros: Int(sqlite3_value_int64(value)))] &+= 1
    case SQLITE_BLOB:
        let count = Int(sqlite3_value_bytes(value))
        guard let base = sqlite3_value_blob(value) else { return }
        var histogram = DurationHistogram()
        histogram.merge(encoded: UnsafeRawBufferPointer(start: base, count: count))
        for (bucket, n) in histogram.counts.enumerated() where n > 0 { counts[bucket] &+= n }
    default:
        break
    }
}

private func resultHistogram(_ context: OpaquePointer?, _ counts: UnsafeMutablePointer<UInt64>?) {
    var histogram = DurationHistogram()
    if let counts {
        for bucket in 0..<DurationHistogram.bucketCount where counts[bucket] > 0 {
            histogram.add(bucket: bucket, count: counts[bucket])
        }
    }
    let bytes = histogram.encoded()
    bytes.withUnsafeBytes { raw in
        companion_sqlite3_result_blob_transient(context, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(raw.count))
    }
}

private let histogramStep: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, _, arguments in
    guard let raw = sqlite3_aggregate_context(context, Int32(histogramContextBytes)) else {
        sqlite3_result_error_nomem(context)
        return
    }
    add(arguments?[0], to: raw.assumingMemoryBound(to: UInt64.self))
}

private let histogramFinal: @convention(c) (OpaquePointer?) -> Void = { context in
    // Size 0: the state if a step allocated it, nil for no rows (an empty histogram).
    let raw = sqlite3_aggregate_context(context, 0)
    resultHistogram(context, raw?.assumingMemoryBound(to: UInt64.self))
}

private let histogramMerge: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, _, arguments in
    let counts = UnsafeMutablePointer<UInt64>.allocate(capacity: DurationHistogram.bucketCount)
    defer { counts.deallocate() }
    counts.initialize(repeating: 0, count: DurationHistogram.bucketCount)
    add(arguments?[0], to: counts)
    add(arguments?[1], to: counts)
    resultHistogram(context, counts)
}

/// A parsed `companion_in_range` range and its family (an IPv6 range never matches an IPv4
/// address, even though IPAddress maps IPv4 into IPv6: as PostgreSQL's inet compares).
private struct FamilyRange {
    var range: AddressRange
    var isV6: Bool

    init?(_ text: String) {
        guard let range = AddressRange(text) else { return nil }
        self.range = range
        isV6 = text.contains(":")
    }

    func contains(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard value.contains(UInt8(ascii: ":")) == isV6, let address = IPAddress(utf8: ArraySlice(value)) else { return false }
        return range.contains(address)
    }
}

private let freeRange: @convention(c) (UnsafeMutableRawPointer?) -> Void = { pointer in
    pointer?.assumingMemoryBound(to: FamilyRange.self).deinitialize(count: 1).deallocate()
}

private let inRange: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, _, arguments in
    guard let arguments, let valueText = sqlite3_value_text(arguments[0]) else { return sqlite3_result_int(context, 0) }
    let value = UnsafeBufferPointer(start: valueText, count: Int(sqlite3_value_bytes(arguments[0])))
    if let kept = sqlite3_get_auxdata(context, 1)?.assumingMemoryBound(to: FamilyRange.self) {
        return sqlite3_result_int(context, kept.pointee.contains(value) ? 1 : 0)
    }
    guard let rangeText = sqlite3_value_text(arguments[1]), let parsed = FamilyRange(String(cString: rangeText)) else {
        return sqlite3_result_error(context, "companion_in_range: not an address or CIDR range", -1)
    }
    sqlite3_result_int(context, parsed.contains(value) ? 1 : 0)
    // Kept for the statement's next rows (SQLite may also free it at once).
    let pointer = UnsafeMutablePointer<FamilyRange>.allocate(capacity: 1)
    pointer.initialize(to: parsed)
    sqlite3_set_auxdata(context, 1, pointer, freeRange)
}

private let isCrawler: @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = { context, _, arguments in
    guard let arguments, let text = sqlite3_value_text(arguments[0]) else { return sqlite3_result_int(context, 0) }
    let agent = UnsafeRawBufferPointer(start: text, count: Int(sqlite3_value_bytes(arguments[0])))
    sqlite3_result_int(context, Crawler.matches(agent) ? 1 : 0)
}
