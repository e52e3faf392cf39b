// SQLiteLogReader+Aggregate: the SQL of the compact log. Filters become terms on
// `log` (raw rows) or on a rollup table; an aggregate question is planned as at
// most one rollup part (whole buckets inside --since/--until, rows up to the
// covered id) plus raw parts (the partial buckets at both edges, and rows after the
// covered id), whose sums are merged here by group key.

/// Raw-row bounds of one part: the query's filters, a time window and an id window.
struct RawSpec {
    var query: LogQuery
    /// Unix milliseconds, inclusive / exclusive (default: the query's).
    var sinceMs: Int64?
    var untilMs: Int64?
    var idAbove: Int64?
    var idThrough: Int64?
    /// Let SQLite use the partial status index and the time summary's id bounds.
    var usesIndexes = true

    init(query: LogQuery) {
        self.query = query
        sinceMs = query.sinceMicros.map(Self.milliseconds)
        untilMs = query.untilMicros.map(Self.milliseconds)
    }

    /// The stored time is the request's millisecond (truncated), so this compares as the text did.
    static func milliseconds(_ micros: Int64) -> Int64 {
        micros >= 0 ? micros / 1000 : (micros - 999) / 1000
    }
}

extension SQLiteLogReader {
    enum Measure { case totals, histogram, clients }

    struct Totals {
        var requests = 0
        var bytes = 0
        var durationMicros = 0
        var histogram = DurationHistogram()
        var clients = 0
    }

    // MARK: - Terms

    /// Terms for the filters on raw rows (`rollup` nil) or on a rollup table that keeps them
    /// (`supports`): an absent text is NULL in `log`, 0 in a rollup.
    private func filterTerms(_ query: LogQuery, rollup table: Rollup?, into terms: inout [String], _ values: inout [LogValue]) {
        let rollup = table != nil
        if !query.statusRanges.isEmpty {
            terms.append("(" + query.statusRanges.map { _ in "status BETWEEN ? AND ?" }.joined(separator: " OR ") + ")")
            for range in query.statusRanges { values += [.integer(range.lowerBound), .integer(range.upperBound)] }
        }
        for (column, value) in [("site", query.site), ("method", query.method)] {
            if let value {
                // On raw rows through the shapes: `log`'s own column, no join a row.
                terms.append(rollup ? "\(column) = (SELECT id FROM strings WHERE value = ?)"
                                    : "shape IN (SELECT id FROM shapes WHERE \(column) = (SELECT id FROM strings WHERE value = ?))")
                values.append(.text(value))
            }
        }
        if let client = query.client {
            if client.contains("/") {
                terms.append("client IN (SELECT id FROM strings WHERE companion_in_range(value, ?))")
            } else {
                terms.append("client = (SELECT id FROM strings WHERE value = ?)")
            }
            values.append(.text(client))
        }
        if let client = query.notClient {
            let missing = rollup ? "client = 0" : "client IS NULL"
            if client.contains("/") {
                terms.append("(\(missing) OR client NOT IN (SELECT id FROM strings WHERE companion_in_range(value, ?)))")
            } else {
                terms.append("(\(missing) OR client IS NOT (SELECT id FROM strings WHERE value = ?))")
            }
            values.append(.text(client))
        }
        for glob in query.allGlobs {
            let column = glob.column.rawValue
            if glob.column == .query {
                terms.append(glob.negated ? "(query IS NULL OR NOT query GLOB ?)" : "query GLOB ?")
            } else if !rollup && AccessLogSchema.shapeColumns.contains(column) {
                // A shape's absent text is 0, which no `strings` id matches.
                let matching = "shape IN (SELECT id FROM shapes WHERE \(column) IN (SELECT id FROM strings WHERE value GLOB ?))"
                terms.append(glob.negated ? "NOT \(matching)" : matching)
            } else {
                let matching = "\(column) IN (SELECT id FROM strings WHERE value GLOB ?)"
                let missing = rollup ? "\(column) = 0" : "\(column) IS NULL"
                terms.append(glob.negated ? "(\(missing) OR NOT \(matching))" : matching)
            }
            values.append(.text(glob.pattern))
        }
        if let crawlers = query.crawlers {
            if let table, table.dimensions.contains(.crawler) {
                terms.append(crawlers ? "crawler = 1" : "crawler = 0")
            } else {
                let matching = "user_agent IN (SELECT id FROM strings WHERE companion_is_crawler(value))"
                let missing = rollup ? "user_agent = 0" : "user_agent IS NULL"
                terms.append(crawlers ? matching : "(\(missing) OR NOT \(matching))")
            }
        }
    }

    /// The WHERE clause on `log` (or `log_wide`: it names only `log`'s columns) for one raw part.
    func rawWhere(_ spec: RawSpec) -> (sql: String, values: [LogValue]) {
        var terms: [String] = []
        var values: [LogValue] = []
        filterTerms(spec.query, rollup: nil, into: &terms, &values)
        // The partial status index holds only statuses ≥ 300; SQLite uses it when the query
        // states its condition.
        let ranges = spec.query.statusRanges
        if spec.usesIndexes, !ranges.isEmpty, ranges.allSatisfy({ $0.lowerBound >= AccessLogSchema.statusIndexFloor }) {
            terms.append(AccessLogSchema.statusIndexCondition)
        }
        // Bounds on id, each an SQL expression with its parameters. They are combined into
        // one lower and one upper bound (SQLite seeks the table's B-tree on one of each; with
        // two lower bounds it picked one and filtered by the other: a full scan for the rows
        // after the rollups' covered id, measured 0.3 s per question on 10M rows).
        var lower: [(String, [LogValue])] = []
        var upper: [(String, [LogValue])] = []
        if let since = spec.sinceMs {
            terms.append("t >= ?")
            values.append(.integer(Int(since)))
            if spec.usesIndexes {
                // Rows at or after `since` lie in ranges whose newest time is at or after it, or
                // after every range (rows no commit has summarised yet).
                lower.append(("""
                    COALESCE((SELECT MIN(first_id) FROM log_ranges WHERE max_t >= ?),
                             (SELECT COALESCE(MAX(last_id), 0) + 1 FROM log_ranges))
                    """, [.integer(Int(since))]))
            }
        }
        if let until = spec.untilMs {
            terms.append("t < ?")
            values.append(.integer(Int(until)))
            if spec.usesIndexes {
                // Rows before `until` lie in ranges whose oldest time is before it; no upper
                // bound while rows after the last range are not summarised yet.
                upper.append(("""
                    CASE WHEN (SELECT COALESCE(MAX(id), 0) FROM log) > (SELECT COALESCE(MAX(last_id), 0) FROM log_ranges)
                         THEN 9223372036854775807
                         ELSE COALESCE((SELECT MAX(last_id) FROM log_ranges WHERE min_t < ?), 0) END
                    """, [.integer(Int(until))]))
            }
        }
        if let above = spec.idAbove { lower.append(("?", [.integer(Int(above) + 1)])) }
        if let through = spec.idThrough { upper.append(("?", [.integer(Int(through))])) }
        for (operation, function, bounds) in [(">=", "MAX", lower), ("<=", "MIN", upper)] where !bounds.isEmpty {
            let expressions = bounds.map { "(\($0.0))" }
            // One argument: the bound itself (MAX(x) alone would be the aggregate).
            terms.append("id \(operation) " + (expressions.count == 1 ? expressions[0] : "\(function)(\(expressions.joined(separator: ", ")))"))
            for bound in bounds { values += bound.1 }
        }
        return (terms.isEmpty ? "" : " WHERE " + terms.joined(separator: " AND "), values)
    }

    // MARK: - Plans

    /// A rollup part: the table, the bucket starts (Unix seconds) it answers for, and the
    /// filters as that table answers them (the question's, or an equivalent; see
    /// `crawlerEquivalent`).
    struct RollupPart {
        var rollup: Rollup
        var query: LogQuery
        var fromSeconds: Int64?
        var beforeSeconds: Int64?
    }

    /// Whether `rollup` keeps what the question filters and groups by.
    static func supports(_ rollup: Rollup, _ query: LogQuery, keys: [LogGroupKey], measure: Measure) -> Bool {
        let dimensions = Set(rollup.dimensions)
        if measure == .histogram && !rollup.hasHistogram { return false }
        if measure == .clients && !dimensions.contains(.client) { return false }
        if !query.statusRanges.isEmpty && !dimensions.contains(.status) { return false }
        if query.site != nil && !dimensions.contains(.site) { return false }
        if query.method != nil && !dimensions.contains(.method) { return false }
        if (query.client != nil || query.notClient != nil) && !dimensions.contains(.client) { return false }
        if query.crawlers != nil && !dimensions.contains(.crawler) && !dimensions.contains(.user_agent) { return false }
        for glob in query.allGlobs {
            let needed: RollupDimension? = switch glob.column {
            case .path: .path
            case .referrer: .referrer
            case .user_agent: .user_agent
            case .host, .query: nil
            }
            guard let needed, dimensions.contains(needed) else { return false }
        }
        for key in keys {
            if let seconds = key.bucketSeconds {
                if seconds * 1000 < rollup.unitMs || (seconds * 1000) % rollup.unitMs != 0 { return false }
            } else if key == .hourOfDay {
                if 3_600_000 % rollup.unitMs != 0 { return false }
            } else if let dimension = key.dimension {
                if !dimensions.contains(dimension) { return false }
            } else {
                return false
            }
        }
        return true
    }

    /// The rollup part (nil: raw rows only) and the raw parts of a question.
    func plan(_ query: LogQuery, keys: [LogGroupKey], measure: Measure) throws(SQLiteError) -> (RollupPart?, [RawSpec]) {
        let whole = RawSpec(query: query)
        guard usesRollups else { return (nil, [whole]) }
        var rollupQuery = query
        var candidates = Rollup.all.filter { Self.supports($0, query, keys: keys, measure: measure) }
        if candidates.isEmpty, let equivalent = try crawlerEquivalent(query) {
            rollupQuery = equivalent
            candidates = Rollup.all.filter { Self.supports($0, equivalent, keys: keys, measure: measure) }
        }
        guard !candidates.isEmpty else { return (nil, [whole]) }
        let since = whole.sinceMs, until = whole.untilMs
        func isAligned(_ rollup: Rollup) -> Bool {
            (since.map { $0 % rollup.unitMs == 0 } ?? true) && (until.map { $0 % rollup.unitMs == 0 } ?? true)
        }
        // Fewest rows first: an hour of log_hour is 1/60 of log_minute's rows for the same keys;
        // the day tables have a row per distinct value. Unaligned bounds prefer the finest
        // bucket, whose partial edges leave the fewest raw rows to read.
        let alignedOrder: [Rollup] = [.hour, .minute, .referrers, .agents, .paths, .clients]
        let finestOrder: [Rollup] = [.minute, .hour, .referrers, .agents, .paths, .clients]
        let rollup = alignedOrder.first { candidates.contains($0) && isAligned($0) }
            ?? finestOrder.first { candidates.contains($0) }!
        let unit = rollup.unitMs
        let from = since.map { Self.ceilingDivide($0, unit) * unit }
        let before = until.map { Self.floorDivide($0, unit) * unit }
        if let from, let before, from >= before { return (nil, [whole]) }
        let covered = try coveredID()
        var raw: [RawSpec] = []
        if let since, let from, since < from {
            var edge = whole
            edge.untilMs = from
            edge.idThrough = covered
            raw.append(edge)
        }
        if let until, let before, before < until {
            var edge = whole
            edge.sinceMs = before
            edge.idThrough = covered
            raw.append(edge)
        }
        var tail = whole
        tail.idAbove = covered
        raw.append(tail)
        return (RollupPart(rollup: rollup, query: rollupQuery, fromSeconds: from.map { $0 / 1000 }, beforeSeconds: before.map { $0 / 1000 }), raw)
    }

    /// The question with its User-Agent globs replaced by the crawler filter they amount to,
    /// when they do on every agent the rollups saw in its days: `--not-user-agent '*bot*'`
    /// keeps exactly the agents that are not crawlers on most logs, so the rollups with the
    /// `crawler` dimension answer it (only the rollup part uses it; raw parts keep the globs).
    /// nil when the globs cut across the crawler classes (or the question has none).
    func crawlerEquivalent(_ query: LogQuery) throws(SQLiteError) -> LogQuery? {
        let agentGlobs = query.allGlobs.filter { $0.column == .user_agent }
        guard !agentGlobs.isEmpty, query.crawlers == nil else { return nil }
        var values: [LogValue] = []
        let keep = agentGlobs.map { glob in
            values.append(.text(glob.pattern))
            return glob.negated ? "(s.value IS NULL OR NOT s.value GLOB ?)" : "COALESCE(s.value GLOB ?, 0)"
        }.joined(separator: " AND ")
        // The days that hold the rollup part's buckets.
        var window: [String] = []
        if let since = query.sinceMicros.map(RawSpec.milliseconds) {
            window.append("start >= ?")
            values.append(.integer(Int(Self.floorDivide(since, 86_400_000) * 86_400)))
        }
        if let until = query.untilMicros.map(RawSpec.milliseconds) {
            window.append("start < ?")
            values.append(.integer(Int(Self.ceilingDivide(until, 1000))))
        }
        let statement = try prepare("""
            SELECT (\(keep)) <> 0, companion_is_crawler(s.value)
            FROM (SELECT DISTINCT user_agent AS a FROM \(Rollup.agents.table)\(window.isEmpty ? "" : " WHERE " + window.joined(separator: " AND ")))
            LEFT JOIN strings s ON s.id = a
            GROUP BY 1, 2
            """, values)
        var classes: [(keep: Bool, crawler: Bool)] = []
        while try statement.step() { classes.append((statement.int(at: 0) != 0, statement.int(at: 1) != 0)) }
        var equivalent = query
        equivalent.globs.removeAll { $0.column == .user_agent }
        if classes.allSatisfy(\.keep) { return equivalent }
        if classes.allSatisfy({ $0.keep == $0.crawler }) { equivalent.crawlers = true; return equivalent }
        if classes.allSatisfy({ $0.keep != $0.crawler }) { equivalent.crawlers = false; return equivalent }
        return nil
    }

    func coveredID() throws(SQLiteError) -> Int64 {
        let statement = try database.prepare("SELECT covered_id FROM log_rollup_state")
        return try statement.step() ? statement.int64(at: 0) : 0
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func ceilingDivide(_ a: Int64, _ b: Int64) -> Int64 { -floorDivide(-a, b) }

    // MARK: - Running a plan

    /// The SQL of a group key on raw rows or on a rollup.
    static func keyExpression(_ key: LogGroupKey, rollup: Bool) -> String {
        if let seconds = key.bucketSeconds {
            return rollup ? "start / \(seconds) * \(seconds)" : "t / \(seconds * 1000) * \(seconds)"
        }
        if key == .hourOfDay { return rollup ? "start / 3600 % 24" : "t / 3600000 % 24" }
        if key == .status { return "status" }
        let column = key.stringColumn ?? key.rawValue
        return rollup ? column : "COALESCE(\(column), 0)"
    }

    /// One part's SELECT: the key expressions, then the measure's columns.
    private func partSQL(_ query: LogQuery, _ keys: [LogGroupKey], _ measure: Measure, rollup part: RollupPart?, raw spec: RawSpec?,
                         onlyKeys: [[Int64]]?, grouped: Bool) -> (sql: String, values: [LogValue]) {
        let isRollup = part != nil
        let expressions = keys.map { Self.keyExpression($0, rollup: isRollup) }
        var clause: String
        var values: [LogValue]
        let table: String
        if let part {
            var terms: [String] = []
            values = []
            filterTerms(part.query, rollup: part.rollup, into: &terms, &values)
            if let from = part.fromSeconds { terms.append("start >= ?"); values.append(.integer(Int(from))) }
            if let before = part.beforeSeconds { terms.append("start < ?"); values.append(.integer(Int(before))) }
            clause = terms.isEmpty ? "" : " WHERE " + terms.joined(separator: " AND ")
            table = part.rollup.table
        } else {
            (clause, values) = rawWhere(spec!)
            // The filters are on `log`'s own columns; a key of the shape's needs the join.
            table = keys.contains { $0.stringColumn.map(AccessLogSchema.shapeColumns.contains) ?? false } ? "log_wide" : "log"
        }
        if let onlyKeys, !onlyKeys.isEmpty, !keys.isEmpty {
            let tuple = keys.count == 1 ? expressions[0] : "(" + expressions.joined(separator: ", ") + ")"
            let list = keys.count == 1 ? onlyKeys.map { _ in "?" }.joined(separator: ", ")
                : "VALUES " + onlyKeys.map { key in "(" + key.map { _ in "?" }.joined(separator: ", ") + ")" }.joined(separator: ", ")
            clause += (clause.isEmpty ? " WHERE " : " AND ") + "\(tuple) IN (\(list))"
            for key in onlyKeys { for value in key { values.append(.integer(Int(value))) } }
        }
        let measures: [String]
        switch measure {
        case .totals:
            measures = isRollup ? ["SUM(requests)", "SUM(bytes)", "SUM(duration_us)"] : ["COUNT(*)", "SUM(bytes)", "SUM(duration_us)"]
        case .histogram:
            measures = [isRollup ? "companion_hist(hist)" : "companion_hist(duration_us)"]
        case .clients:
            measures = [isRollup ? "client" : "COALESCE(client, 0)"]
        }
        // Aliases name the columns of the distinct-clients union (its first SELECT's names).
        let columns = expressions.enumerated().map { "\($1) AS k\($0)" } + measures.map { measure == .clients ? "\($0) AS c" : $0 }
        var sql = "SELECT " + columns.joined(separator: ", ") + " FROM \(table)" + clause
        if grouped && !keys.isEmpty { sql += " GROUP BY " + (1...keys.count).map(String.init).joined(separator: ", ") }
        return (sql, values)
    }

    /// Sums of the matching rows per group key (`[]` with no keys).
    func aggregate(_ query: LogQuery, keys: [LogGroupKey], measure: Measure, onlyKeys: [[Int64]]? = nil) throws(SQLiteError) -> [[Int64]: Totals] {
        let (rollupPart, rawParts) = try plan(query, keys: keys, measure: measure)
        var result: [[Int64]: Totals] = [:]
        let width = Int32(keys.count)
        if measure == .clients {
            // Distinct over the union of the parts, in one statement.
            var selects: [String] = []
            var values: [LogValue] = []
            if let rollupPart {
                let part = partSQL(query, keys, .clients, rollup: rollupPart, raw: nil, onlyKeys: onlyKeys, grouped: false)
                selects.append(part.sql)
                values += part.values
            }
            for spec in rawParts {
                let part = partSQL(query, keys, .clients, rollup: nil, raw: spec, onlyKeys: onlyKeys, grouped: false)
                selects.append(part.sql)
                values += part.values
            }
            let columns = (0..<keys.count).map { "k\($0)" }
            let sql = "SELECT " + (columns + ["COUNT(DISTINCT c)"]).joined(separator: ", ") + " FROM ("
                + selects.joined(separator: " UNION ALL ") + ")"
                + (keys.isEmpty ? "" : " GROUP BY " + columns.joined(separator: ", "))
            let statement = try prepare(sql, values)
            while try statement.step() {
                let key = (0..<width).map { statement.int64(at: $0) }
                result[key, default: Totals()].clients = statement.int(at: width)
            }
            return result
        }
        var parts: [(sql: String, values: [LogValue])] = []
        if let rollupPart { parts.append(partSQL(query, keys, measure, rollup: rollupPart, raw: nil, onlyKeys: onlyKeys, grouped: true)) }
        for spec in rawParts { parts.append(partSQL(query, keys, measure, rollup: nil, raw: spec, onlyKeys: onlyKeys, grouped: true)) }
        for part in parts {
            let statement = try prepare(part.sql, part.values)
            while try statement.step() {
                let key = (0..<width).map { statement.int64(at: $0) }
                switch measure {
                case .totals:
                    let requests = statement.int(at: width)
                    if requests == 0 && keys.isEmpty && result[key] != nil { continue }
                    var totals = result[key] ?? Totals()
                    totals.requests += requests
                    totals.bytes += statement.int(at: width + 1)
                    totals.durationMicros += statement.int(at: width + 2)
                    result[key] = totals
                case .histogram:
                    var totals = result[key] ?? Totals()
                    _ = statement.withBlob(at: width) { totals.histogram.merge(encoded: $0) }
                    result[key] = totals
                case .clients:
                    break
                }
            }
        }
        return result
    }
}
