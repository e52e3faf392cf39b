// AccessLogBatch: access-log rows packed back to back in one byte buffer. Batches are
// what an event loop fills during a turn, what the writer's queue holds (both an
// AccessLogQueue of them) and what the writer thread binds to SQLite: the request's
// bytes are copied once from the request head into a batch, batches move between
// threads whole, and SQLite reads the text in place (SQLITE_STATIC). It replaced an
// array of records with Strings (copies with retains on the loop, frees on the writer
// thread): 116k -> 126k small-file req/s with logging on, server on one core.
// (A connection's rows wait in its own batch until their bytes are known; the
// first row moves to the loop's queue when its response is sent.)
//
// Row layout (native byte order, no alignment; read with loadUnaligned):
//   0  Int64  time, Unix epoch microseconds
//   8  Int64  body bytes sent
//   16 Int64  duration in microseconds
//   24 Int32  status
//   28 UInt32 length of the whole row in bytes
//   32 12 × UInt32 text lengths in `Field` order, `nullLength` for NULL
//   80 the text bytes, in `Field` order
// Text is stored as received (it may not be valid UTF-8); the writer stores invalid
// bytes as `\xHH` (SPEC §5).

/// Rows for the access log, in one contiguous buffer. A value type: a batch is
/// owned by one thread at a time and handed over by moving it; copies share the
/// buffer until one of them writes.
struct AccessLogBatch: Sendable {
    /// The text columns of a row, in storage order.
    enum Field: Int, CaseIterable {
        case site, host, client, method, path, query, protocolVersion, referrer, userAgent, encoding, scheme, tlsVersion

        /// The `log` column the field is written to.
        var column: String {
            switch self {
            case .protocolVersion: "protocol"
            case .userAgent: "user_agent"
            case .tlsVersion: "tls_version"
            default: "\(self)"
            }
        }
    }

    static let headerSize = 32 + 4 * 12
    static let nullLength = UInt32.max

    /// Row bytes: rows live in `start..<used` of `storage` (nil until the first row).
    private var storage: RowBytes?
    private var start = 0
    private(set) var used = 0
    /// Number of rows.
    private(set) var count = 0

    init(capacity: Int = 0) {
        storage = capacity == 0 ? nil : RowBytes(capacity: capacity)
    }

    var isEmpty: Bool { count == 0 }
    /// Bytes the storage holds (for shrinking after a burst).
    var capacity: Int { storage?.capacity ?? 0 }
    /// Bytes the rows take.
    var byteCount: Int { used - start }

    /// Whether `bytes` more fit without a new allocation (when the storage is not shared).
    func hasRoom(for bytes: Int) -> Bool {
        (start == used ? 0 : used) + bytes <= capacity
    }

    /// Removes every row, keeping the storage.
    mutating func removeAll() {
        start = 0
        used = 0
        count = 0
    }

    /// Makes room for `extra` more bytes in storage this batch alone holds: a copy of a
    /// batch shares its storage until one of the two writes (copy on write).
    private mutating func reserve(_ extra: Int) {
        if start > 0 && start == used {
            start = 0
            used = 0
        }
        let needed = used + extra
        if needed <= capacity && isKnownUniquelyReferenced(&storage) { return }
        let grown = RowBytes(capacity: needed <= capacity ? capacity : max(needed, capacity * 2, 1024))
        // Only the rows' bytes are copied; the rest is written before it is read.
        if let old = storage, used > start {
            (grown.base + start).copyMemory(from: old.base + start, byteCount: used - start)
        }
        storage = grown
    }

    // MARK: - Writing rows

    /// A text value for `appendRow`: raw bytes, or NULL.
    typealias Text = UnsafeRawBufferPointer?

    /// Appends one row. The texts are given in `Field` order.
    mutating func appendRow(
        timeMicros: Int64, status: Int, bytes: Int, durationMicros: Int,
        _ site: Text, _ host: Text, _ client: Text, _ method: Text, _ path: Text,
        _ query: Text, _ protocolVersion: Text, _ referrer: Text, _ userAgent: Text, _ encoding: Text,
        _ scheme: Text, _ tlsVersion: Text
    ) {
        var textLength = site?.count ?? 0
        textLength += host?.count ?? 0
        textLength += client?.count ?? 0
        textLength += method?.count ?? 0
        textLength += path?.count ?? 0
        textLength += query?.count ?? 0
        textLength += protocolVersion?.count ?? 0
        textLength += referrer?.count ?? 0
        textLength += userAgent?.count ?? 0
        textLength += encoding?.count ?? 0
        textLength += scheme?.count ?? 0
        textLength += tlsVersion?.count ?? 0
        let rowLength = Self.headerSize + textLength
        reserve(rowLength)
        do {
            let row = storage!.base + used
            row.storeBytes(of: timeMicros, toByteOffset: 0, as: Int64.self)
            row.storeBytes(of: Int64(bytes), toByteOffset: 8, as: Int64.self)
            row.storeBytes(of: Int64(durationMicros), toByteOffset: 16, as: Int64.self)
            row.storeBytes(of: Int32(truncatingIfNeeded: status), toByteOffset: 24, as: Int32.self)
            row.storeBytes(of: UInt32(rowLength), toByteOffset: 28, as: UInt32.self)
            var textOffset = Self.headerSize
            @inline(__always) func put(_ index: Int, _ text: Text) {
                guard let text else {
                    row.storeBytes(of: Self.nullLength, toByteOffset: 32 + 4 * index, as: UInt32.self)
                    return
                }
                row.storeBytes(of: UInt32(text.count), toByteOffset: 32 + 4 * index, as: UInt32.self)
                if let base = text.baseAddress, text.count > 0 {
                    (row + textOffset).copyMemory(from: base, byteCount: text.count)
                }
                textOffset += text.count
            }
            put(0, site); put(1, host); put(2, client); put(3, method); put(4, path)
            put(5, query); put(6, protocolVersion); put(7, referrer); put(8, userAgent); put(9, encoding)
            put(10, scheme); put(11, tlsVersion)
        }
        used += rowLength
        count += 1
    }

    /// Appends `record` (the public, String-based form of a row).
    mutating func append(_ record: AccessLogRecord) {
        // The texts side by side in one array, so one pointer covers them all.
        let texts = [record.site, record.host, record.client, record.method, record.path, record.query,
                     record.protocolVersion, record.referrer, record.userAgent, record.encoding, record.scheme,
                     record.tlsVersion]
        var joined: [UInt8] = []
        var ranges: [Range<Int>?] = []
        for text in texts {
            guard let text else { ranges.append(nil); continue }
            let start = joined.count
            joined.append(contentsOf: text.utf8)
            ranges.append(start..<joined.count)
        }
        joined.withUnsafeBytes { raw in
            let t = ranges.map { range in range.map { UnsafeRawBufferPointer(rebasing: raw[$0]) } }
            appendRow(timeMicros: record.timeMicros, status: record.status, bytes: record.bytes,
                      durationMicros: record.durationMicros, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11])
        }
    }

    // MARK: - Moving rows

    /// Appends the first `rows` rows of `other` (all of them by default).
    mutating func append(rowsOf other: AccessLogBatch, count rows: Int? = nil) {
        let rows = rows ?? other.count
        guard rows > 0 else { return }
        let byteCount = rows == other.count ? other.used - other.start : other.byteLength(ofFirst: rows)
        reserve(byteCount)
        (storage!.base + used).copyMemory(from: other.storage!.base + other.start, byteCount: byteCount)
        used += byteCount
        count += rows
    }

    /// The length of the first row.
    @inline(__always)
    var firstRowLength: Int {
        precondition(count > 0, "no row")
        return Int(storage!.base.loadUnaligned(fromByteOffset: start + 28, as: UInt32.self))
    }

    /// Moves the first row of `self` to the end of `other`, with its body bytes and
    /// duration set (a connection's pending row, completed when its response is sent).
    mutating func moveFirstRow(to other: inout AccessLogBatch, bytes: Int, durationMicros: Int) {
        let rowLength = firstRowLength
        let source = storage!.base + start
        other.reserve(rowLength)
        let row = other.storage!.base + other.used
        row.copyMemory(from: source, byteCount: rowLength)
        row.storeBytes(of: Int64(bytes), toByteOffset: 8, as: Int64.self)
        row.storeBytes(of: Int64(durationMicros), toByteOffset: 16, as: Int64.self)
        other.used += rowLength
        other.count += 1
        start += rowLength
        count -= 1
        if count == 0 {
            start = 0
            used = 0
        }
    }

    private func byteLength(ofFirst rows: Int) -> Int {
        guard let storage else { return 0 }
        var offset = start
        for _ in 0..<rows {
            offset += Int(storage.base.loadUnaligned(fromByteOffset: offset + 28, as: UInt32.self))
        }
        return offset - start
    }

    // MARK: - Reading rows

    /// One row, valid inside `withRows`.
    struct Row {
        let base: UnsafeRawPointer

        var timeMicros: Int64 { base.loadUnaligned(fromByteOffset: 0, as: Int64.self) }
        var bytes: Int { Int(base.loadUnaligned(fromByteOffset: 8, as: Int64.self)) }
        var durationMicros: Int { Int(base.loadUnaligned(fromByteOffset: 16, as: Int64.self)) }
        var status: Int { Int(base.loadUnaligned(fromByteOffset: 24, as: Int32.self)) }
        var length: Int { Int(base.loadUnaligned(fromByteOffset: 28, as: UInt32.self)) }

        /// Calls `body` with each text field in `Field` order (nil for NULL).
        func forEachText<E: Error>(_ body: (Field, UnsafeRawBufferPointer?) throws(E) -> Void) throws(E) {
            var offset = AccessLogBatch.headerSize
            for field in Field.allCases {
                let length = base.loadUnaligned(fromByteOffset: 32 + 4 * field.rawValue, as: UInt32.self)
                if length == AccessLogBatch.nullLength {
                    try body(field, nil)
                } else {
                    try body(field, UnsafeRawBufferPointer(start: base + offset, count: Int(length)))
                    offset += Int(length)
                }
            }
        }

        /// The text of one field as a String (invalid UTF-8 as `\xHH`), for tests and tools.
        func text(_ wanted: Field) -> String? {
            var result: String?
            forEachText { field, bytes in
                if field == wanted, let bytes { result = AccessLogRecord.loggable(bytes) }
            }
            return result
        }
    }

    /// Calls `body` with the rows in order (tests; the writer reads an `AccessLogQueue`).
    func withRows<R>(_ body: ([Row]) -> R) -> R {
        AccessLogQueue(self).withRows(body)
    }

    /// Appends this batch's rows to `rows`; they point into `storage`, which the caller keeps
    /// alive while it reads them.
    func appendRows(to rows: inout [Row]) {
        guard let storage else { return }
        var offset = start
        for _ in 0..<count {
            let row = Row(base: storage.base + offset)
            rows.append(row)
            offset += row.length
        }
    }
}

/// The bytes of a batch: one allocation at one address for its whole life, so rows read
/// from several batches at once (`AccessLogQueue.withRows`) stay valid while the batches
/// live (an array's buffer pointer is valid only inside its `withUnsafeBytes`).
///
/// Thread safety: the bytes are written only through a batch that holds the only reference
/// (`AccessLogBatch.reserve` checks, and copies otherwise); batches that share one only
/// read it, on any thread.
final class RowBytes: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(byteCount: max(1, capacity), alignment: 8)
    }

    deinit { base.deallocate() }
}
