// SQLiteStatement: one prepared statement. Bind parameters, step through rows,
// read columns, reset for reuse. Prepared in init, finalized in deinit.
import CSQLite

/// A compiled SQL statement bound to one `SQLiteDatabase`.
///
/// Reuse it for many executions: `bind…`, `step()` until it returns false, `reset()`.
/// Not `Sendable`: it belongs to its connection's thread.
public final class SQLiteStatement {
    /// Keeps the connection open for as long as the statement lives.
    let database: SQLiteDatabase
    let handle: OpaquePointer
    /// The SQL text, kept for error messages.
    public let sql: String

    init(database: SQLiteDatabase, sql: String) throws(SQLiteError) {
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v2(database.handle, sql, -1, &raw, nil)
        guard rc == SQLITE_OK, let raw else {
            throw SQLiteError(handle: database.handle, code: rc, statement: sql)
        }
        self.database = database
        self.handle = raw
        self.sql = sql
        parameterCount = Int(sqlite3_bind_parameter_count(raw))
        bound = .allocate(capacity: parameterCount)
        bound.initialize(repeating: .unknown, count: parameterCount)
    }

    deinit {
        sqlite3_finalize(handle)
        bound.deinitialize(count: parameterCount)
        bound.deallocate()
    }

    /// What a parameter holds, when this wrapper bound an integer or NULL to it.
    enum BoundValue: Equatable {
        case unknown, null
        case integer(Int64)
    }

    /// The integer or NULL each parameter holds (0-based), so that binding the same value
    /// again is skipped: `sqlite3_bind_int64` costs ~85 instructions, and the access-log
    /// writer binds 16 parameters a row, most of them the same ids as the row at the same
    /// place in the previous batch. Bindings survive `resetKeepingBindings` and SQLite's
    /// re-preparation after a schema change; `reset` clears them, and so this.
    private let bound: UnsafeMutablePointer<BoundValue>
    private let parameterCount: Int

    /// Records what parameter `index` now holds (`.unknown` when the bind failed).
    @inline(__always)
    private func note(_ value: BoundValue, at index: Int32, rc: Int32) {
        let i = Int(index) - 1
        if i >= 0 && i < parameterCount { bound[i] = rc == SQLITE_OK ? value : .unknown }
    }

    /// Whether parameter `index` already holds `value`.
    @inline(__always)
    private func holds(_ value: BoundValue, at index: Int32) -> Bool {
        let i = Int(index) - 1
        return i >= 0 && i < parameterCount && bound[i] == value
    }

    /// Binds text (or NULL) to the 1-based parameter `index`; SQLite copies the bytes.
    ///
    /// The corresponding C function is `sqlite3_bind_text` with `SQLITE_TRANSIENT`.
    public func bind(_ value: String?, at index: Int32) {
        guard var value else {
            if holds(.null, at: index) { return }
            note(.null, at: index, rc: sqlite3_bind_null(handle, index))
            return
        }
        note(.unknown, at: index, rc: SQLITE_OK)
        value.withUTF8 { bytes in
            if let base = bytes.baseAddress {
                base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    _ = companion_sqlite3_bind_text_transient(handle, index, $0, Int32(bytes.count))
                }
            } else {
                _ = companion_sqlite3_bind_text_transient(handle, index, "", 0)
            }
        }
    }

    /// Binds an integer (`sqlite3_bind_int64`).
    /// Binds text without copying it (`SQLITE_STATIC`).
    ///
    /// The caller guarantees that `bytes` stay valid and unchanged until the statement
    /// has been stepped (or the parameter rebound); the access-log writer uses an arena
    /// that lives as long as the statement execution.
    func bindStatic(_ bytes: UnsafePointer<UInt8>, count: Int, at index: Int32) {
        note(.unknown, at: index, rc: SQLITE_OK)
        bytes.withMemoryRebound(to: CChar.self, capacity: max(count, 1)) {
            _ = companion_sqlite3_bind_text_static(handle, index, $0, Int32(count))
        }
    }

    public func bind(_ value: Int64, at index: Int32) {
        if holds(.integer(value), at: index) { return }
        note(.integer(value), at: index, rc: sqlite3_bind_int64(handle, index, value))
    }

    /// Binds an integer (`sqlite3_bind_int64`).
    public func bind(_ value: Int, at index: Int32) {
        bind(Int64(value), at: index)
    }

    /// Runs the statement to its next row.
    ///
    /// The corresponding C function is `sqlite3_step`.
    /// - Returns: true when a row is available, false when the statement is done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(handle: database.handle, code: rc, statement: sql)
        }
    }

    /// Makes the statement ready to run again and clears its bindings.
    ///
    /// The corresponding C functions are `sqlite3_reset` and `sqlite3_clear_bindings`.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        bound.update(repeating: .unknown, count: parameterCount)
    }

    /// Makes the statement ready to run again, keeping its bindings (for a caller that
    /// binds every parameter again before the next step).
    func resetKeepingBindings() {
        sqlite3_reset(handle)
    }

    /// Binds bytes as a BLOB; SQLite copies them.
    public func bind(blob bytes: [UInt8], at index: Int32) {
        note(.unknown, at: index, rc: SQLITE_OK)
        bytes.withUnsafeBytes { raw in
            _ = companion_sqlite3_bind_blob_transient(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(raw.count))
        }
    }

    /// Calls `body` with column `index`'s bytes as a BLOB (empty for NULL), valid only inside it.
    public func withBlob<R>(at index: Int32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let base = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        return body(UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count))
    }

    /// Number of columns in a result row.
    public var columnCount: Int32 { sqlite3_column_count(handle) }

    /// True when column `index` (0-based) of the current row is NULL.
    public func isNull(at index: Int32) -> Bool {
        sqlite3_column_type(handle, index) == SQLITE_NULL
    }

    /// Column `index` as an integer (0 for NULL).
    public func int64(at index: Int32) -> Int64 {
        sqlite3_column_int64(handle, index)
    }

    /// Column `index` as an Int (0 for NULL).
    public func int(at index: Int32) -> Int {
        Int(sqlite3_column_int64(handle, index))
    }

    /// Column `index` as text, or nil for NULL. Bytes that are not UTF-8 become U+FFFD.
    public func text(at index: Int32) -> String? {
        guard sqlite3_column_type(handle, index) != SQLITE_NULL,
              let bytes = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}

@available(*, unavailable)
extension SQLiteStatement: Sendable {}
