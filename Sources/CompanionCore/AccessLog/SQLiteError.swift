// SQLiteError: a failed libsqlite3 call, with the result code, SQLite's message
// and the statement that failed (GRDB's DatabaseError keeps the same three).
import CSQLite

/// An error reported by libsqlite3.
///
/// `description` is one sentence a person can act on, e.g.
/// `SQLite error 5 (database is locked) in "BEGIN IMMEDIATE"`.
public struct SQLiteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_READONLY`, ...).
    public var code: Int32
    /// The extended result code when known, otherwise equal to `code`.
    public var extendedCode: Int32
    /// `sqlite3_errmsg` at the time of the failure.
    public var message: String
    /// The SQL that failed, when the failure belongs to a statement.
    public var statement: String?

    public init(code: Int32, extendedCode: Int32? = nil, message: String, statement: String? = nil) {
        self.code = code & 0xFF
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.statement = statement
    }

    /// Reads the code and message of the last failure on `handle`.
    init(handle: OpaquePointer?, code: Int32, statement: String?) {
        let message: String
        if let handle, let text = sqlite3_errmsg(handle) {
            message = String(cString: text)
        } else {
            message = String(cString: sqlite3_errstr(code))
        }
        let extended = handle.map { sqlite3_extended_errcode($0) } ?? code
        self.init(code: code, extendedCode: extended, message: message, statement: statement)
    }

    /// True for `SQLITE_BUSY` and `SQLITE_LOCKED`: another connection holds a lock.
    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }

    public var description: String {
        var text = "SQLite error \(code) (\(message))"
        if let statement { text += " in \"\(statement)\"" }
        return text
    }
}
