// LogsCommand+Output: runs the query and renders it. `render` returns the whole
// output as a String and `followLog` hands chunks to a sink, so tests check the
// exact text without a terminal.
import CompanionCore
import Glibc

extension LogsCommand {
    /// The complete output of a non-follow run.
    /// - Parameters:
    ///   - nowMicros: what `--since 2h` counts back from.
    ///   - terminalWidth: table lines are cut to this width; nil when stdout is not a terminal.
    public func render(databasePath: String, nowMicros: Int64 = UTCTime.nowMicros(), terminalWidth: Int? = nil) throws -> String {
        let database = try LogsCommand.openDatabase(at: databasePath)
        let query = try query(nowMicros: nowMicros)
        let formatter = LogFormatter(format: format, terminalWidth: terminalWidth)
        if count { return formatter.count(try query.count(in: database)) }
        if summary { return formatter.summary(try query.summary(in: database)) }
        if let groupBy { return formatter.groups(try query.groups(in: database, by: groupBy, top: top), key: groupBy) }
        return formatter.rows(try query.rows(in: database, limit: limit))
    }

    /// `--follow`: prints the newest `--limit` rows, then every new matching row as
    /// it is committed, polling every `pollIntervalMs`, until `shouldStop` says so.
    /// - Parameter output: receives each chunk of text, in order.
    public func followLog(databasePath: String, nowMicros: Int64 = UTCTime.nowMicros(), terminalWidth: Int? = nil,
                          pollIntervalMs: Int, shouldStop: () -> Bool, output: (String) -> Void) throws {
        let database = try LogsCommand.openDatabase(at: databasePath)
        let query = try query(nowMicros: nowMicros)
        let formatter = LogFormatter(format: format, terminalWidth: terminalWidth)
        var lastID = try LogQuery.maxID(in: database)
        output(formatter.rows(try query.rows(in: database, limit: limit, throughID: lastID)))
        let batch = 10_000
        while !shouldStop() {
            // The mark is read before the rows: a batch committed between the two reads has
            // ids above the mark and is read by the next poll. (Reading the mark after an
            // empty poll skipped such a batch for good, issue 9 #16.)
            let mark = try LogQuery.maxID(in: database)
            if mark > lastID {
                let rows = try query.rows(in: database, limit: batch, afterID: lastID, throughID: mark)
                if !rows.isEmpty { output(formatter.rows(rows, isFirstChunk: false)) }
                // A full batch may leave rows up to the mark; fewer means every row through the
                // mark was read (rows filtered out move the mark too, so they are not scanned again).
                lastID = rows.count == batch ? rows.last!.id : mark
                if rows.count == batch { continue }
            }
            var pause = timespec(tv_sec: pollIntervalMs / 1000, tv_nsec: (pollIntervalMs % 1000) * 1_000_000)
            nanosleep(&pause, nil)
        }
    }

    /// Opens the database read-only, with an error a person can act on when it is missing.
    static func openDatabase(at path: String) throws -> SQLiteDatabase {
        guard access(path, F_OK) == 0 else {
            throw LogsError("no access log database at \(path) (the server creates it on first start)")
        }
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: path, mode: .readOnly)
            database.setBusyTimeout(milliseconds: 2000)
            guard try database.hasTable("requests") else {
                throw LogsError("\(path) is not a companion access log (it has no requests table)")
            }
        } catch let error as SQLiteError {
            throw LogsError("cannot read the access log at \(path): \(error)")
        }
        return database
    }
}

/// A `companion logs` failure, as one sentence (printed without a stack trace).
public struct LogsError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
