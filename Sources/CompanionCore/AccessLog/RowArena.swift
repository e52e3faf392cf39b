// RowArena: one growing byte buffer that holds the text of the rows of a single
// insert execution, so each value is copied once (from the record's String) and
// bound with SQLITE_STATIC, instead of SQLite allocating and copying every value
// (SQLITE_TRANSIENT). Measured as the larger part of the writer's per-row cost.
// Owned by the writer thread.

final class RowArena {
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var used = 0

    init(capacity: Int = 64 * 1024) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// Empties the arena and makes sure `rows` fit without growing while they are bound
    /// (growing would move bytes SQLite already points at).
    func reset(for rows: ArraySlice<AccessLogRecord>) {
        used = 0
        var needed = 0
        for record in rows {
            @inline(__always) func length(_ text: String?) -> Int { text?.utf8.count ?? 0 }
            needed += UTCTime.storedTextLength + record.client.utf8.count
                + length(record.site) + length(record.host) + length(record.method) + length(record.path)
                + length(record.query) + length(record.protocolVersion) + length(record.referrer)
                + length(record.userAgent) + length(record.encoding) + (record.raw?.maximumTextLength ?? 0)
                + 64   // anonymised client text may differ in length from the original
        }
        if needed > capacity {
            storage.deallocate()
            capacity = max(needed, capacity * 2)
            storage = .allocate(capacity: capacity)
        }
    }

    /// `count` bytes of space at the end of the arena.
    func take(_ count: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(used + count <= capacity, "RowArena sized too small")
        defer { used += count }
        return storage + used
    }

    /// Copies raw request bytes into the arena as log text (valid UTF-8 as is, other
    /// bytes as `\xHH`, SPEC §5) and binds it; NULL for a nil range.
    func bindLoggable(_ head: [UInt8], _ range: Range<Int>?, to statement: SQLiteStatement, at index: Int32) {
        guard let range else {
            statement.bind(nil as String?, at: index)
            return
        }
        let slice = head[range]
        let start = take(0)
        var count = 0
        if range.isEmpty {
            count = 0
        } else if slice.allSatisfy({ $0 < 0x80 }) {
            let slot = take(range.count)
            slice.withUnsafeBufferPointer { slot.initialize(from: $0.baseAddress!, count: range.count) }
            count = range.count
        } else {
            let text = AccessLogRecord.loggable(slice)
            var utf8 = text
            utf8.withUTF8 { bytes in
                let slot = take(bytes.count)
                if let base = bytes.baseAddress { slot.initialize(from: base, count: bytes.count) }
                count = bytes.count
            }
        }
        statement.bindStatic(start, count: count, at: index)
    }

    /// Copies `text` into the arena and binds it (NULL for nil).
    func bind(_ text: String?, to statement: SQLiteStatement, at index: Int32) {
        guard var text else {
            statement.bind(nil as String?, at: index)
            return
        }
        text.withUTF8 { bytes in
            let slot = take(bytes.count)
            if let base = bytes.baseAddress { slot.initialize(from: base, count: bytes.count) }
            statement.bindStatic(slot, count: bytes.count, at: index)
        }
    }
}
