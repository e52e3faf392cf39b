// SQLiteDatabase: one connection to a database file through the system
// libsqlite3. Opening (read-only or read-write), running SQL, preparing
// statements, transactions, PRAGMAs. No pooling, no Sendable: a connection
// belongs to the thread that uses it (the access-log writer thread, or the CLI).
import CSQLite

/// A connection to one SQLite database file.
///
/// Not thread-safe and not `Sendable`: use it from one thread only. The access-log
/// writer opens its own connection on its own thread; `companion logs` opens a
/// read-only one.
public final class SQLiteDatabase {
    /// How to open the file.
    public enum OpenMode: Sendable {
        /// Reads only; fails when the file does not exist. Works while a writer holds the WAL.
        case readOnly
        /// Reads and writes; creates the file when missing.
        case readWriteCreate
    }

    /// The `sqlite3 *` handle; valid until `deinit`.
    let handle: OpaquePointer
    /// The path the connection was opened with.
    public let path: String
    /// Whether `registerCompanionFunctions` ran on this connection.
    var hasCompanionFunctions = false

    /// Opens a connection.
    ///
    /// The corresponding C function is `sqlite3_open_v2`.
    /// - Throws: `SQLiteError` when the file cannot be opened.
    public init(path: String, mode: OpenMode) throws(SQLiteError) {
        _ = Self.configureOnce
        var flags = SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        var raw: OpaquePointer?
        let rc = sqlite3_open_v2(path, &raw, flags, nil)
        guard rc == SQLITE_OK, let raw else {
            let error = SQLiteError(handle: raw, code: rc, statement: nil)
            sqlite3_close_v2(raw)
            throw error
        }
        sqlite3_extended_result_codes(raw, 1)
        self.handle = raw
        self.path = path
    }

    /// Process-wide settings applied before the first connection opens (Swift runs a
    /// static initialiser exactly once, thread-safely).
    private static let configureOnce: Void = {
        _ = companion_sqlite3_disable_memstatus()
    }()

    deinit {
        // close_v2 defers the close until every statement is finalized.
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements that return no rows.
    ///
    /// The corresponding C function is `sqlite3_exec`.
    public func execute(_ sql: String) throws(SQLiteError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw SQLiteError(handle: handle, code: rc, statement: sql) }
    }

    /// Compiles one statement.
    ///
    /// The corresponding C function is `sqlite3_prepare_v2`.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try SQLiteStatement(database: self, sql: sql)
    }

    /// Sets how long a statement waits for another connection's lock before
    /// failing with `SQLITE_BUSY`.
    ///
    /// The corresponding C function is `sqlite3_busy_timeout`.
    public func setBusyTimeout(milliseconds: Int) {
        sqlite3_busy_timeout(handle, Int32(clamping: milliseconds))
    }

    /// Switches the file to write-ahead logging so readers never block the writer.
    /// - Returns: the journal mode now in effect (`"wal"` on success).
    @discardableResult
    public func enableWriteAheadLog() throws(SQLiteError) -> String {
        let statement = try prepare("PRAGMA journal_mode=WAL")
        guard try statement.step() else { return "" }
        return statement.text(at: 0) ?? ""
    }

    /// `PRAGMA user_version`: the schema version stored in the file header.
    public func userVersion() throws(SQLiteError) -> Int {
        let statement = try prepare("PRAGMA user_version")
        guard try statement.step() else { return 0 }
        return Int(statement.int64(at: 0))
    }

    /// Stores `PRAGMA user_version`.
    public func setUserVersion(_ version: Int) throws(SQLiteError) {
        try execute("PRAGMA user_version = \(version)")
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE (`sqlite3_changes`).
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last row inserted on this connection (`sqlite3_last_insert_rowid`).
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` inside `BEGIN IMMEDIATE` … `COMMIT`; rolls back when it throws.
    ///
    /// IMMEDIATE takes the write lock at the start, so a busy database fails
    /// before any work is done rather than at COMMIT.
    public func immediateTransaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            // A failed COMMIT may leave the transaction open; ROLLBACK ends it either way.
            if sqlite3_get_autocommit(handle) == 0 { _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
            throw error
        }
    }

    /// True when a view with this name exists.
    public func hasView(_ name: String) throws(SQLiteError) -> Bool {
        let statement = try prepare("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?1")
        statement.bind(name, at: 1)
        return try statement.step()
    }

    /// True when a table with this name exists.
    public func hasTable(_ name: String) throws(SQLiteError) -> Bool {
        let statement = try prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")
        statement.bind(name, at: 1)
        return try statement.step()
    }
}

/// A connection must stay on one thread (SwiftPM's SQLite wrapper does the same).
@available(*, unavailable)
extension SQLiteDatabase: Sendable {}
