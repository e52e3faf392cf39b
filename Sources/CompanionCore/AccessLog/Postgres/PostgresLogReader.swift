// PostgresLogReader: `companion logs --db postgresql://...` (SPEC §7). The same questions as
// LogQuery asks the SQLite file, in PostgreSQL's dialect, with the same answers: times
// printed as the file stores them, SQLite's GLOB as an anchored regular expression, text
// groups ordered bytewise (COLLATE "C") with NULL first, as SQLite orders them.

public final class PostgresLogReader {
    private let connection: PostgresConnection

    public static func isURL(_ text: String) -> Bool { PostgresConnection.isURL(text) }
    public static func redacted(_ url: String) -> String { PostgresConnection.redacted(url) }

    public init(url: String) throws(PostgresError) {
        connection = try PostgresConnection(url: url, applicationName: "companion logs")
        let found = try connection.query("SELECT to_regclass('requests') IS NOT NULL")
        guard found.first?.first == "t" else {
            throw PostgresError("\(PostgresConnection.redacted(url)) has no requests table (a companion server creates it on start)")
        }
    }

    /// `time` as the SQLite file stores it (`YYYY-MM-DDTHH:MM:SS.mmmZ`), in SQL.
    public static let timeText = #"to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#

    static func expression(_ key: LogGroupKey) -> String {
        switch key {
        case .day: #"to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')"#
        case .hour: #"to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') || ':00Z'"#
        case .minute: #"to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') || 'Z'"#
        case .fiveMinutes:
            #"to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:') || lpad((extract(minute FROM time AT TIME ZONE 'UTC')::int / 5 * 5)::text, 2, '0') || 'Z'"#
        case .hourOfDay: #"to_char(time AT TIME ZONE 'UTC', 'HH24')"#
        default: key.rawValue
        }
    }

    /// The WHERE clause with $n parameters (all text; PostgreSQL casts them).
    /// `extra`: (`"id > "`, value) terms on ids.
    static func whereClause(_ query: LogQuery, extra: [(String, String)] = []) -> (sql: String, values: [String?]) {
        var terms: [String] = []
        var values: [String?] = []
        func parameter(_ value: String) -> String {
            values.append(value)
            return "$\(values.count)"
        }
        if !query.statusRanges.isEmpty {
            terms.append("(" + query.statusRanges.map {
                "status BETWEEN \(parameter(String($0.lowerBound)))::int AND \(parameter(String($0.upperBound)))::int"
            }.joined(separator: " OR ") + ")")
        }
        for (column, value) in [("site", query.site), ("method", query.method)] {
            if let value { terms.append("\(column) = \(parameter(value))") }
        }
        // Addresses as PostgreSQL's inet: a range contains its addresses (`<<=`), and an
        // address alone is a /32 or /128, so both forms are one comparison.
        if let client = query.client { terms.append("client::inet <<= \(parameter(client))::inet") }
        if let client = query.notClient { terms.append("NOT (client::inet <<= \(parameter(client))::inet)") }
        for glob in query.allGlobs {
            let column = glob.column.rawValue
            let pattern = parameter(globToRegex(glob.pattern))
            terms.append(glob.negated ? "(\(column) IS NULL OR \(column) !~ \(pattern))" : "\(column) ~ \(pattern)")
        }
        if let crawlers = query.crawlers {
            // Crawler's rule: a token anywhere, letters without case (the tokens are ASCII letters).
            let pattern = parameter(Crawler.postgresPattern)
            terms.append(crawlers ? "user_agent ~* \(pattern)" : "(user_agent IS NULL OR user_agent !~* \(pattern))")
        }
        if let since = query.sinceMicros {
            terms.append("time >= \(parameter(UTCTime.storedText(epochMicros: since)))::timestamptz")
        }
        if let until = query.untilMicros {
            terms.append("time < \(parameter(UTCTime.storedText(epochMicros: until)))::timestamptz")
        }
        for (column, value) in extra { terms.append(column + parameter(value) + "::bigint") }
        return (terms.isEmpty ? "" : " WHERE " + terms.joined(separator: " AND "), values)
    }

    /// SQLite's GLOB (case-sensitive; `*`, `?`, `[...]` with `^` negation and ranges) as an
    /// anchored POSIX regular expression with the same matches.
    static func globToRegex(_ glob: String) -> String {
        var out = "^"
        let characters = Array(glob)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            switch c {
            case "*": out += ".*"
            case "?": out += "."
            case "[":
                // A class runs to the next "]" that is not its first member; unclosed: literal.
                var j = i + 1
                if j < characters.count && characters[j] == "^" { j += 1 }
                if j < characters.count && characters[j] == "]" { j += 1 }
                while j < characters.count && characters[j] != "]" { j += 1 }
                if j >= characters.count {
                    out += "\\["
                } else {
                    var body = ""
                    var k = i + 1
                    if characters[k] == "^" { body += "^"; k += 1 }
                    while k < j {
                        let member = characters[k]
                        body += member == "\\" ? "\\\\" : String(member)
                        k += 1
                    }
                    out += "[" + body + "]"
                    i = j
                }
            default:
                if "\\.^$|()+{}[]".contains(c) { out += "\\" }
                out.append(c)
            }
            i += 1
        }
        return out + "$"
    }

    private static func int(_ text: String??) -> Int { Int((text ?? nil) ?? "0") ?? 0 }

    public func rows(_ query: LogQuery, limit: Int, afterID: Int64? = nil, throughID: Int64? = nil) throws(PostgresError) -> [AccessLogRow] {
        var extra: [(String, String)] = []
        if let afterID { extra.append(("id > ", String(afterID))) }
        if let throughID { extra.append(("id <= ", String(throughID))) }
        let (clause, values) = Self.whereClause(query, extra: extra)
        let newestFirst = afterID == nil && limit > 0
        var sql = "SELECT \(Self.rowColumns) FROM requests"
        sql += clause + (newestFirst ? " ORDER BY id DESC" : " ORDER BY id")
        if limit > 0 { sql += " LIMIT \(limit)" }
        let rows = try connection.query(sql, values).map(Self.row)
        return newestFirst ? rows.reversed() : rows
    }

    /// The `n` slowest matching rows, slowest first (ties: oldest first).
    public func slowest(_ query: LogQuery, n: Int) throws(PostgresError) -> [AccessLogRow] {
        let (clause, values) = Self.whereClause(query)
        let sql = "SELECT \(Self.rowColumns) FROM requests" + clause + " ORDER BY duration_us DESC, id LIMIT \(max(1, n))"
        return try connection.query(sql, values).map(Self.row)
    }

    /// LogQuery's row columns, with `time` printed as the file stores it.
    static let rowColumns = "id, \(timeText), site, host, client, method, path, query, protocol, status, bytes, duration_us, referrer, user_agent, encoding, scheme"

    private static func row(_ c: [String?]) -> AccessLogRow {
        AccessLogRow(id: Int64(Self.int(c[0])), time: c[1] ?? "", site: c[2], host: c[3], client: c[4] ?? "",
                     method: c[5], path: c[6], query: c[7], protocolVersion: c[8],
                     status: Self.int(c[9]), bytes: Self.int(c[10]), durationMicros: Self.int(c[11]),
                     referrer: c[12], userAgent: c[13], encoding: c[14], scheme: c[15])
    }

    /// The id of the `n`th newest matching row up to `throughID` (nil: fewer rows match).
    public func nthNewestID(_ query: LogQuery, n: Int, throughID: Int64) throws(PostgresError) -> Int64? {
        let (clause, values) = Self.whereClause(query, extra: [("id <= ", String(throughID))])
        let rows = try connection.query("SELECT id FROM requests" + clause + " ORDER BY id DESC LIMIT 1 OFFSET \(max(0, n - 1))", values)
        return rows.first?.first.flatMap { $0 }.flatMap { Int64($0) }
    }

    /// Runs `body` in one REPEATABLE READ transaction: every question sees the same rows.
    public func snapshot<T>(_ body: () throws -> T) throws -> T {
        _ = try connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        do {
            let value = try body()
            _ = try connection.query("COMMIT")
            return value
        } catch {
            _ = try? connection.query("ROLLBACK")
            throw error
        }
    }

    public func maxID() throws(PostgresError) -> Int64 {
        Int64(Self.int(try connection.query("SELECT COALESCE(max(id), 0) FROM requests").first?.first))
    }

    public func count(_ query: LogQuery) throws(PostgresError) -> Int {
        let (clause, values) = Self.whereClause(query)
        return Self.int(try connection.query("SELECT count(*) FROM requests" + clause, values).first?.first)
    }

    public func summary(_ query: LogQuery) throws(PostgresError) -> LogSummary {
        let (clause, values) = Self.whereClause(query)
        let classes = (1...5).map { "count(*) FILTER (WHERE status BETWEEN \($0)00 AND \($0)99)" }.joined(separator: ", ")
        let row = try connection.query("SELECT count(*), count(DISTINCT client), COALESCE(sum(bytes), 0), \(classes) FROM requests" + clause,
                                        values).first ?? []
        var histogram = DurationHistogram()
        for c in try connection.query("SELECT \(Self.bucketExpression), count(*) FROM requests" + clause + " GROUP BY 1", values) {
            histogram.add(bucket: Self.int(c[0]), count: UInt64(Self.int(c[1])))
        }
        return LogSummary(requests: Self.int(row[0]), uniqueClients: Self.int(row[1]), bytes: Self.int(row[2]),
                          statusClasses: (3...7).map { Self.int(row[$0]) }, percentiles: LogPercentiles(histogram))
    }

    public func uniqueClients(_ query: LogQuery) throws(PostgresError) -> Int {
        let (clause, values) = Self.whereClause(query)
        return Self.int(try connection.query("SELECT count(DISTINCT client) FROM requests" + clause, values).first?.first)
    }

    /// DurationHistogram.bucket(ofMicros:) in SQL: the highest set bit from the bit string.
    static let bucketExpression: String = {
        let d = "LEAST(GREATEST(duration_us, 0), \(DurationHistogram.maxMicros))::bigint"
        let e = "(64 - position('1' in (\(d))::bit(64)::text))"
        return "CASE WHEN duration_us < 8 THEN GREATEST(duration_us, 0) ELSE 8 + 8 * (\(e) - 3) + (((\(d)) >> (\(e) - 3)) & 7) END"
    }()

    public func groups(_ query: LogQuery, _ grouping: LogGrouping) throws(PostgresError) -> [LogGroup] {
        let (clause, values) = Self.whereClause(query)
        let keys = grouping.keys
        let expressions = keys.map(Self.expression)
        let positions = (1...keys.count).map(String.init).joined(separator: ", ")
        var sql = "SELECT " + expressions.joined(separator: ", ")
            + ", count(*), COALESCE(sum(bytes), 0), COALESCE(sum(duration_us), 0)"
        if grouping.uniqueClients { sql += ", count(DISTINCT client)" }
        sql += " FROM requests" + clause + " GROUP BY " + positions
        func keyValues(_ c: [String?]) -> [LogValue?] {
            zip(keys, c).map { key, text in text.map { key == .status ? .integer(Int($0) ?? 0) : .text($0) } }
        }
        var groups = try connection.query(sql, values).map { c in
            LogGroup(values: keyValues(c), count: Self.int(c[keys.count]), bytes: Self.int(c[keys.count + 1]),
                     durationMicros: Self.int(c[keys.count + 2]),
                     clients: grouping.uniqueClients ? Self.int(c[keys.count + 3]) : nil)
        }
        groups.sort { LogGroup.precedes($0, $1, by: grouping.sort) }
        if grouping.top > 0 && groups.count > grouping.top { groups.removeLast(groups.count - grouping.top) }
        if grouping.percentiles && !groups.isEmpty {
            var histograms: [[LogValue?]: DurationHistogram] = [:]
            let rows = try connection.query("SELECT " + expressions.joined(separator: ", ") + ", \(Self.bucketExpression), count(*) FROM requests"
                                             + clause + " GROUP BY " + positions + ", \(keys.count + 1)", values)
            for c in rows {
                histograms[keyValues(Array(c[0..<keys.count])), default: DurationHistogram()]
                    .add(bucket: Self.int(c[keys.count]), count: UInt64(Self.int(c[keys.count + 1])))
            }
            for i in groups.indices { groups[i].percentiles = histograms[groups[i].values].flatMap(LogPercentiles.init) }
        }
        return groups
    }
}
