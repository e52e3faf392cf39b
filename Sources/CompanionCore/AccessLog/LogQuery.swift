// LogQuery: the filters of `companion logs` (SPEC §5) turned into one SQL WHERE
// clause with bound parameters, and the four reads built on it: rows, count,
// summary and group-by. Read-only; formatting lives in LogFormatter.

/// One row of `requests`, as read back.
public struct AccessLogRow: Sendable, Equatable {
    public var id: Int64
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`
    public var time: String
    public var site: String?, host: String?
    public var client: String
    public var method: String?, path: String?, query: String?, protocolVersion: String?
    public var status: Int, bytes: Int, durationMicros: Int
    public var referrer: String?, userAgent: String?, encoding: String?

    public init(id: Int64, time: String, site: String? = nil, host: String? = nil, client: String,
                method: String? = nil, path: String? = nil, query: String? = nil, protocolVersion: String? = nil,
                status: Int, bytes: Int, durationMicros: Int,
                referrer: String? = nil, userAgent: String? = nil, encoding: String? = nil) {
        self.id = id; self.time = time; self.site = site; self.host = host; self.client = client
        self.method = method; self.path = path; self.query = query; self.protocolVersion = protocolVersion
        self.status = status; self.bytes = bytes; self.durationMicros = durationMicros
        self.referrer = referrer; self.userAgent = userAgent; self.encoding = encoding
    }
}

/// Totals for `--summary`.
public struct LogSummary: Sendable, Equatable {
    public var requests: Int
    public var uniqueClients: Int
    public var bytes: Int
    /// Requests per status class: index 0 is 1xx … index 4 is 5xx.
    public var statusClasses: [Int]
}

/// What `--group-by` groups on; raw values are the option's spellings.
public enum LogGroupKey: String, CaseIterable, Sendable {
    case status, path, site, host, client, method, day, hour, referrer, user_agent, encoding, scheme
    case protocolVersion = "protocol"
    /// Time buckets (UTC): a minute, five minutes; and the hour of the day across days.
    case minute
    case fiveMinutes = "5m"
    case hourOfDay = "hour_of_day"

    /// The SQL expression of the group.
    var expression: String {
        switch self {
        case .day: "substr(time, 1, 10)"
        case .hour: "substr(time, 1, 13) || ':00Z'"
        case .minute: "substr(time, 1, 16) || 'Z'"
        case .fiveMinutes: "substr(time, 1, 15) || (CAST(substr(time, 16, 1) AS INTEGER) / 5 * 5) || 'Z'"
        case .hourOfDay: "substr(time, 12, 2)"
        default: rawValue
        }
    }
}

/// A column value that is text or an integer (NULL is nil around it).
public enum LogValue: Sendable, Equatable {
    case text(String)
    case integer(Int)
}

/// One `--group-by` result line.
public struct LogGroup: Sendable, Equatable {
    public var value: LogValue?
    public var count: Int
    public var bytes: Int
}

/// A glob on one text column (`--user-agent '*bot*'`), or its negation (`--not-user-agent`:
/// rows without the column count as not matching, so they are kept).
public struct LogGlob: Sendable, Equatable {
    public enum Column: String, Sendable, CaseIterable { case path, host, referrer, user_agent, query }
    public var column: Column
    public var pattern: String
    public var negated: Bool

    public init(_ column: Column, _ pattern: String, negated: Bool = false) {
        self.column = column; self.pattern = pattern; self.negated = negated
    }
}

/// The filters of `companion logs`, all combined with AND.
public struct LogQuery: Sendable, Equatable {
    /// Any of these status ranges (`--status 404,4xx`); empty means any status.
    public var statusRanges: [ClosedRange<Int>] = []
    public var site: String?
    public var method: String?
    /// An SQLite GLOB pattern on `path` (`/blog/*`).
    public var pathGlob: String?
    public var client: String?
    /// Inclusive lower bound, Unix-epoch microseconds.
    public var sinceMicros: Int64?
    /// Exclusive upper bound, Unix-epoch microseconds.
    public var untilMicros: Int64?
    /// More globs, each a term of its own.
    public var globs: [LogGlob] = []

    /// `pathGlob` and `globs`: what both SQL dialects turn into terms.
    var allGlobs: [LogGlob] { (pathGlob.map { [LogGlob(.path, $0)] } ?? []) + globs }

    public init(statusRanges: [ClosedRange<Int>] = [], site: String? = nil, method: String? = nil,
                pathGlob: String? = nil, client: String? = nil, sinceMicros: Int64? = nil, untilMicros: Int64? = nil) {
        self.statusRanges = statusRanges; self.site = site; self.method = method
        self.pathGlob = pathGlob; self.client = client; self.sinceMicros = sinceMicros; self.untilMicros = untilMicros
    }

    /// The WHERE clause (or "") and its parameters, in order.
    ///
    /// With `usesRanges` (schema version 2), a time filter also bounds `id` through the
    /// `requests_ranges` summary (see `AccessLogSchema`), so SQLite reads only the ids that
    /// can hold such times; the exact `time` comparison still decides each row. Both bounds
    /// are computed inside the one statement, so they see the same snapshot as the rows.
    func whereClause(extra: [(String, LogValue)] = [], usesRanges: Bool) -> (sql: String, values: [LogValue]) {
        var terms: [String] = []
        var values: [LogValue] = []
        if !statusRanges.isEmpty {
            terms.append("(" + statusRanges.map { _ in "status BETWEEN ? AND ?" }.joined(separator: " OR ") + ")")
            for range in statusRanges { values += [.integer(range.lowerBound), .integer(range.upperBound)] }
            // The partial index on status holds only statuses ≥ 300; SQLite uses it when the
            // query states its condition.
            if usesRanges, statusRanges.allSatisfy({ $0.lowerBound >= AccessLogSchema.statusIndexFloor }) {
                terms.append(AccessLogSchema.statusIndexCondition)
            }
        }
        let equal: [(String, String?)] = [("site", site), ("method", method), ("client", client)]
        for (column, value) in equal { if let value { terms.append("\(column) = ?"); values.append(.text(value)) } }
        for glob in allGlobs {
            let column = glob.column.rawValue
            terms.append(glob.negated ? "(\(column) IS NULL OR NOT \(column) GLOB ?)" : "\(column) GLOB ?")
            values.append(.text(glob.pattern))
        }
        // Stored times are fixed-width UTC text, so text order is time order. Each time
        // term comes with its id bound from the summary (both take the same time text).
        let timeTerms: [(micros: Int64?, term: String, idBound: String)] = [
            // Rows at or after `since` lie in ranges whose newest time is at or after it, or
            // after every range (rows no commit has summarised yet).
            (sinceMicros, "time >= ?", """
                id >= COALESCE((SELECT MIN(first_id) FROM requests_ranges WHERE max_time >= ?),
                               (SELECT COALESCE(MAX(last_id), 0) + 1 FROM requests_ranges))
                """),
            // Rows before `until` lie in ranges whose oldest time is before it; no upper
            // bound while rows after the last range are not summarised yet.
            (untilMicros, "time < ?", """
                id <= CASE WHEN (SELECT COALESCE(MAX(id), 0) FROM requests) > (SELECT COALESCE(MAX(last_id), 0) FROM requests_ranges)
                           THEN 9223372036854775807
                           ELSE COALESCE((SELECT MAX(last_id) FROM requests_ranges WHERE min_time < ?), 0) END
                """),
        ]
        for (micros, term, idBound) in timeTerms {
            guard let micros else { continue }
            let text = LogValue.text(UTCTime.storedText(epochMicros: micros))
            terms.append(term)
            values.append(text)
            if usesRanges {
                terms.append(idBound)
                values.append(text)
            }
        }
        for (term, value) in extra { terms.append(term); values.append(value) }
        return (terms.isEmpty ? "" : " WHERE " + terms.joined(separator: " AND "), values)
    }

    private func prepare(_ database: SQLiteDatabase, _ sql: String, _ values: [LogValue]) throws(SQLiteError) -> SQLiteStatement {
        let statement = try database.prepare(sql)
        for (offset, value) in values.enumerated() {
            switch value {
            case .text(let text): statement.bind(text, at: Int32(offset + 1))
            case .integer(let number): statement.bind(number, at: Int32(offset + 1))
            }
        }
        return statement
    }

    /// Matching rows in id order.
    /// - Parameters:
    ///   - limit: with `afterID` nil, the newest `limit` rows (0 = all), returned oldest first;
    ///     with `afterID`, the first `limit` rows after it.
    ///   - afterID: only rows with a larger id (`--follow`).
    ///   - throughID: only rows up to this id.
    public func rows(in database: SQLiteDatabase, limit: Int, afterID: Int64? = nil, throughID: Int64? = nil) throws(SQLiteError) -> [AccessLogRow] {
        var extra: [(String, LogValue)] = []
        if let afterID { extra.append(("id > ?", .integer(Int(afterID)))) }
        if let throughID { extra.append(("id <= ?", .integer(Int(throughID)))) }
        let (clause, values) = whereClause(extra: extra, usesRanges: try Self.usesRanges(database))
        let newestFirst = afterID == nil && limit > 0
        var sql = "SELECT \(Self.rowColumns) FROM requests"
        sql += clause + (newestFirst ? " ORDER BY id DESC" : " ORDER BY id")
        if limit > 0 { sql += " LIMIT \(limit)" }
        let rows = try Self.readRows(try prepare(database, sql, values))
        return newestFirst ? rows.reversed() : rows
    }

    /// The columns of an `AccessLogRow`, in `readRows`' order.
    static let rowColumns = "id, time, site, host, client, method, path, query, protocol, status, bytes, duration_us, referrer, user_agent, encoding"

    /// Every row `statement` (a SELECT of `rowColumns`) returns.
    private static func readRows(_ statement: SQLiteStatement) throws(SQLiteError) -> [AccessLogRow] {
        var rows: [AccessLogRow] = []
        while try statement.step() {
            rows.append(AccessLogRow(
                id: statement.int64(at: 0), time: statement.text(at: 1) ?? "", site: statement.text(at: 2),
                host: statement.text(at: 3), client: statement.text(at: 4) ?? "", method: statement.text(at: 5),
                path: statement.text(at: 6), query: statement.text(at: 7), protocolVersion: statement.text(at: 8),
                status: statement.int(at: 9), bytes: statement.int(at: 10), durationMicros: statement.int(at: 11),
                referrer: statement.text(at: 12), userAgent: statement.text(at: 13), encoding: statement.text(at: 14)))
        }
        return rows
    }

    /// The `n` slowest matching rows, slowest first (ties: oldest first) (`--slowest N`).
    public func slowest(in database: SQLiteDatabase, n: Int) throws(SQLiteError) -> [AccessLogRow] {
        let (clause, values) = whereClause(usesRanges: try Self.usesRanges(database))
        let sql = "SELECT \(Self.rowColumns) FROM requests" + clause + " ORDER BY duration_us DESC, id LIMIT \(max(1, n))"
        return try Self.readRows(try prepare(database, sql, values))
    }

    /// The id of the `n`th newest matching row up to `throughID` (nil: fewer rows match), so
    /// the newest `n` rows can be read oldest first in chunks without holding them all.
    public func nthNewestID(in database: SQLiteDatabase, n: Int, throughID: Int64) throws(SQLiteError) -> Int64? {
        let (clause, values) = whereClause(extra: [("id <= ?", .integer(Int(throughID)))], usesRanges: try Self.usesRanges(database))
        let statement = try prepare(database, "SELECT id FROM requests" + clause + " ORDER BY id DESC LIMIT 1 OFFSET \(max(0, n - 1))", values)
        return try statement.step() ? statement.int64(at: 0) : nil
    }

    /// Whether the file has the time summary of schema version 2 (a version 1 file that no
    /// server has opened since has an index on time instead).
    static func usesRanges(_ database: SQLiteDatabase) throws(SQLiteError) -> Bool {
        try database.hasTable("requests_ranges")
    }

    /// The largest id in the table (0 when empty), whatever the filters.
    public static func maxID(in database: SQLiteDatabase) throws(SQLiteError) -> Int64 {
        let statement = try database.prepare("SELECT COALESCE(MAX(id), 0) FROM requests")
        try statement.step()
        return statement.int64(at: 0)
    }

    /// Number of matching rows (`--count`).
    public func count(in database: SQLiteDatabase) throws(SQLiteError) -> Int {
        let (clause, values) = whereClause(usesRanges: try Self.usesRanges(database))
        let statement = try prepare(database, "SELECT COUNT(*) FROM requests" + clause, values)
        try statement.step()
        return statement.int(at: 0)
    }

    /// Totals over the matching rows (`--summary`).
    public func summary(in database: SQLiteDatabase) throws(SQLiteError) -> LogSummary {
        let (clause, values) = whereClause(usesRanges: try Self.usesRanges(database))
        let classes = (1...5).map { "COALESCE(SUM(status BETWEEN \($0)00 AND \($0)99), 0)" }.joined(separator: ", ")
        let sql = "SELECT COUNT(*), COUNT(DISTINCT client), COALESCE(SUM(bytes), 0), \(classes) FROM requests" + clause
        let statement = try prepare(database, sql, values)
        try statement.step()
        return LogSummary(requests: statement.int(at: 0), uniqueClients: statement.int(at: 1), bytes: statement.int(at: 2),
                          statusClasses: (3...7).map { statement.int(at: Int32($0)) })
    }

    /// Counts and bytes per group, largest count first (`--group-by`, `--top`; 0 = all).
    public func groups(in database: SQLiteDatabase, by key: LogGroupKey, top: Int) throws(SQLiteError) -> [LogGroup] {
        let (clause, values) = whereClause(usesRanges: try Self.usesRanges(database))
        var sql = "SELECT \(key.expression) AS g, COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM requests" + clause
        sql += " GROUP BY g ORDER BY n DESC, b DESC, g"
        if top > 0 { sql += " LIMIT \(top)" }
        let statement = try prepare(database, sql, values)
        var groups: [LogGroup] = []
        while try statement.step() {
            let value: LogValue? = statement.isNull(at: 0) ? nil
                : key == .status ? .integer(statement.int(at: 0)) : .text(statement.text(at: 0) ?? "")
            groups.append(LogGroup(value: value, count: statement.int(at: 1), bytes: statement.int(at: 2)))
        }
        return groups
    }
}
