// RowArena: the writer thread's scratch bytes for one insert execution: the
// formatted times, text that needs `\xHH` escapes and anonymised clients. Other
// text is bound straight from the AccessLogBatch (SQLITE_STATIC). Everything is
// bound without SQLite copying it, so the arena must not move while a statement
// holds its pointers: `reset` sizes it for the whole execution first.
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

    /// Empties the arena and makes sure `bytes` fit without growing while they are bound
    /// (growing would move bytes SQLite already points at).
    func reset(minimumCapacity bytes: Int) {
        used = 0
        if bytes > capacity {
            storage.deallocate()
            capacity = max(bytes, capacity * 2)
            storage = .allocate(capacity: capacity)
        }
    }

    /// `count` bytes of space at the end of the arena.
    func take(_ count: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(used + count <= capacity, "RowArena sized too small")
        defer { used += count }
        return storage + used
    }

    /// Binds raw request bytes as log text (SPEC §5): valid UTF-8 in place, otherwise a
    /// copy in the arena with every invalid byte as `\xHH` (at most 4 bytes per byte);
    /// NULL for nil.
    func bindLoggable(_ bytes: UnsafeRawBufferPointer?, to statement: SQLiteStatement, at index: Int32) {
        guard let bytes else {
            statement.bind(nil as String?, at: index)
            return
        }
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            statement.bindStatic(take(0), count: 0, at: index)
            return
        }
        if UTF8Validation.isValid(UnsafeBufferPointer(start: base, count: bytes.count)) {
            statement.bindStatic(base, count: bytes.count, at: index)
            return
        }
        // Rare (a client sent bytes that are not UTF-8): the escaping String, copied in.
        bind(AccessLogRecord.loggable(UnsafeBufferPointer(start: base, count: bytes.count)), to: statement, at: index)
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
