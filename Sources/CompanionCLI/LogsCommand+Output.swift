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
        var text = ""
        try write(databasePath: databasePath, nowMicros: nowMicros, terminalWidth: terminalWidth) { text += $0 }
        return text
    }

    /// Rows read and written per chunk when rows are streamed.
    static let chunkRows = 10_000

    /// The output of a non-follow run, handed to `output` as it is made: rows are read in
    /// chunks of `chunkRows` (by id, up to the newest id when the command started) and
    /// written before the next chunk is read, so an export of any size runs in constant
    /// memory. The table format measures its columns on the first chunk.
    public func write(databasePath: String, nowMicros: Int64 = UTCTime.nowMicros(), terminalWidth: Int? = nil,
                      output: (String) -> Void) throws {
        let source = try LogsCommand.openSource(databasePath)
        let query = try query(nowMicros: nowMicros)
        let formatter = LogFormatter(format: format, terminalWidth: terminalWidth)
        if count { return output(formatter.count(try source.count(query))) }
        if summary { return output(formatter.summary(try source.summary(query))) }
        if let grouping { return output(formatter.groups(try source.groups(query, grouping), grouping: grouping)) }
        if unique != nil { return output(formatter.uniqueClients(try source.uniqueClients(query))) }
        if let slowest { return output(formatter.rows(try source.slowest(query, n: slowest))) }
        let mark = try source.maxID()
        // The newest `limit` rows start after the id before the limit-th newest.
        var after: Int64 = 0
        if limit > 0, let first = try source.nthNewestID(query, n: limit, throughID: mark) { after = first - 1 }
        var chunkIndex = 0
        var widths: [Int]?
        while true {
            let chunk = try source.rows(query, limit: Self.chunkRows, afterID: after, throughID: mark)
            if format == .table {
                output(formatter.tableRows(chunk, withHeader: chunkIndex == 0, widths: &widths))
                if chunk.count < Self.chunkRows { return }
            } else if format == .json {
                // One array across the chunks.
                if chunkIndex == 0 && chunk.isEmpty { return output("[]\n") }
                let objects = chunk.map(formatter.jsonObject).joined(separator: ",\n")
                if !chunk.isEmpty { output((chunkIndex == 0 ? "[\n" : ",\n") + objects) }
                if chunk.count < Self.chunkRows { return output("\n]\n") }
            } else {
                output(formatter.rows(chunk, isFirstChunk: chunkIndex == 0))
                if chunk.count < Self.chunkRows { return }
            }
            after = chunk.last!.id
            chunkIndex += 1
        }
    }

    /// `--follow`: prints the newest `--limit` rows, then every new matching row as
    /// it is committed, polling every `pollIntervalMs`, until `shouldStop` says so.
    /// - Parameter output: receives each chunk of text, in order.
    public func followLog(databasePath: String, nowMicros: Int64 = UTCTime.nowMicros(), terminalWidth: Int? = nil,
                          pollIntervalMs: Int, shouldStop: () -> Bool, output: (String) -> Void) throws {
        let source = try LogsCommand.openSource(databasePath)
        let query = try query(nowMicros: nowMicros)
        let formatter = LogFormatter(format: format, terminalWidth: terminalWidth)
        var lastID = try source.maxID()
        output(formatter.rows(try source.rows(query, limit: limit, throughID: lastID)))
        let batch = 10_000
        while !shouldStop() {
            // The mark is read before the rows: a batch committed between the two reads has
            // ids above the mark and is read by the next poll. (Reading the mark after an
            // empty poll skipped such a batch for good.)
            let mark = try source.maxID()
            if mark > lastID {
                let rows = try source.rows(query, limit: batch, afterID: lastID, throughID: mark)
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

    /// The SQLite file at `path`, or the PostgreSQL database a `postgresql://` URL names.
    static func openSource(_ path: String) throws -> LogSource {
        guard PostgresLogReader.isURL(path) else {
            let database = try openDatabase(at: path)
            do {
                return .sqlite(try SQLiteLogReader(database: database))
            } catch {
                throw LogsError("cannot read the access log at \(path): \(error)")
            }
        }
        do {
            return .postgres(try PostgresLogReader(url: path))
        } catch {
            throw LogsError("cannot read the access log: \(error)")
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
            guard try database.hasTable("requests") || database.hasView("requests") else {
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

/// Where `companion logs` reads: the SQLite file or a PostgreSQL database, asked the same
/// questions (LogQuery, PostgresLogReader) with the same answers.
enum LogSource {
    case sqlite(SQLiteLogReader)
    case postgres(PostgresLogReader)

    func rows(_ query: LogQuery, limit: Int, afterID: Int64? = nil, throughID: Int64? = nil) throws -> [AccessLogRow] {
        switch self {
        case .sqlite(let reader): try reader.rows(query, limit: limit, afterID: afterID, throughID: throughID)
        case .postgres(let reader): try reader.rows(query, limit: limit, afterID: afterID, throughID: throughID)
        }
    }

    func maxID() throws -> Int64 {
        switch self {
        case .sqlite(let reader): try reader.maxID()
        case .postgres(let reader): try reader.maxID()
        }
    }

    func slowest(_ query: LogQuery, n: Int) throws -> [AccessLogRow] {
        switch self {
        case .sqlite(let reader): try reader.slowest(query, n: n)
        case .postgres(let reader): try reader.slowest(query, n: n)
        }
    }

    func nthNewestID(_ query: LogQuery, n: Int, throughID: Int64) throws -> Int64? {
        switch self {
        case .sqlite(let reader): try reader.nthNewestID(query, n: n, throughID: throughID)
        case .postgres(let reader): try reader.nthNewestID(query, n: n, throughID: throughID)
        }
    }

    func count(_ query: LogQuery) throws -> Int {
        switch self {
        case .sqlite(let reader): try reader.count(query)
        case .postgres(let reader): try reader.count(query)
        }
    }

    func uniqueClients(_ query: LogQuery) throws -> Int {
        switch self {
        case .sqlite(let reader): try reader.uniqueClients(query)
        case .postgres(let reader): try reader.uniqueClients(query)
        }
    }

    func summary(_ query: LogQuery) throws -> LogSummary {
        switch self {
        case .sqlite(let reader): try reader.summary(query)
        case .postgres(let reader): try reader.summary(query)
        }
    }

    func groups(_ query: LogQuery, _ grouping: LogGrouping) throws -> [LogGroup] {
        switch self {
        case .sqlite(let reader): try reader.groups(query, grouping)
        case .postgres(let reader): try reader.groups(query, grouping)
        }
    }
}
