// SQLiteLogReader: `companion logs` on the SQLite file (schema 4, the compact log).
// Rows are read from `log` with their `strings` ids turned back into text through a
// cache; counts, groups, summaries, percentiles and unique clients are answered from
// a rollup where the filters and keys allow it (RollupPlan), with the raw rows the
// rollup does not cover (the partial buckets at the edges of --since/--until, and rows
// newer than the rollups' covered id) added from `log`, all in one read transaction,
// so the answer is the one the raw rows give (tests compare both ways).
import CSQLite

public final class SQLiteLogReader {
    public let database: SQLiteDatabase
    /// Answer from the rollups where possible (tests turn it off to compare with raw rows).
    public var usesRollups = true

    /// `strings` texts by id: the first `denseTexts` ids in an array (ids are dense: an
    /// export looks each row's ten texts up), later ones in a bounded dictionary.
    private var denseTexts: [String?] = []
    private var texts: [Int64: String] = [:]
    static let denseTextLimit: Int64 = 1 << 20
    /// Formats row times (reusing the last second's date text).
    private var timeFormatter = UTCTime.StoredTextFormatter()
    private var lookup: SQLiteStatement?
    static let maxCachedTexts = 200_000
    /// `shapes` rows by id (few: one per combination of site, host, method, protocol,
    /// encoding, scheme and TLS version seen).
    private var shapes: [Int64: ShapeKey] = [:]
    private var shapeLookup: SQLiteStatement?

    public init(database: SQLiteDatabase) throws(SQLiteError) {
        self.database = database
        try database.registerCompanionFunctions()
        let version = try database.userVersion()
        guard version >= AccessLogSchema.currentVersion, try database.hasTable("log") else {
            let current = AccessLogSchema.currentVersion
            throw SQLiteError(code: SQLITE_ERROR, message: "the access log has schema version \(version); `companion serve` converts it to version \(current) when it starts (this companion reads version \(current))")
        }
    }

    // MARK: - Texts

    /// The text of a `strings` id (nil for 0, NULL).
    func text(_ id: Int64) throws(SQLiteError) -> String? {
        guard id != 0 else { return nil }
        if id < Self.denseTextLimit {
            if id < denseTexts.count, let text = denseTexts[Int(id)] { return text }
        } else if let text = texts[id] { return text }
        if lookup == nil { lookup = try database.prepare("SELECT value FROM strings WHERE id = ?1") }
        let statement = lookup!
        defer { statement.reset() }
        statement.bind(id, at: 1)
        let value = try statement.step() ? statement.text(at: 0) : nil
        guard let value else { return nil }
        if id < Self.denseTextLimit {
            if id >= denseTexts.count { denseTexts += [String?](repeating: nil, count: Int(id) + 1 - denseTexts.count + 1024) }
            denseTexts[Int(id)] = value
        } else {
            if texts.count >= Self.maxCachedTexts { texts.removeAll(keepingCapacity: true) }
            texts[id] = value
        }
        return value
    }

    /// The seven `strings` ids of a shape (all 0 for an id the table lacks).
    func shape(_ id: Int64) throws(SQLiteError) -> ShapeKey {
        if let known = shapes[id] { return known }
        if shapeLookup == nil {
            shapeLookup = try database.prepare("SELECT \(AccessLogSchema.shapeColumns.joined(separator: ", ")) FROM shapes WHERE id = ?1")
        }
        let statement = shapeLookup!
        defer { statement.reset() }
        statement.bind(id, at: 1)
        var key = ShapeKey()
        if try statement.step() {
            for slot in 0..<ShapeKey.count { key[slot] = statement.int64(at: Int32(slot)) }
        }
        if shapes.count >= Self.maxCachedTexts { shapes.removeAll(keepingCapacity: true) }
        shapes[id] = key
        return key
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` of Unix milliseconds (the writer's formatter: the date
    /// part reused within a second).
    func timeText(milliseconds: Int64) -> String {
        String(unsafeUninitializedCapacity: UTCTime.storedTextLength) { buffer in
            timeFormatter.write(epochMicros: milliseconds * 1000, to: buffer.baseAddress!)
            return UTCTime.storedTextLength
        }
    }

    /// Open read transactions (nested ones join the outermost: one snapshot for all).
    private var transactionDepth = 0

    private func readTransaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try beginSnapshot()
        defer { endSnapshot() }
        return try body()
    }

    /// Runs `body` on one snapshot of the file: every question it asks sees the same rows
    /// (a report's panels agree with each other while the server writes).
    public func snapshot<T>(_ body: () throws -> T) throws -> T {
        try beginSnapshot()
        defer { endSnapshot() }
        return try body()
    }

    private func beginSnapshot() throws(SQLiteError) {
        if transactionDepth == 0 { try database.execute("BEGIN") }
        transactionDepth += 1
    }

    private func endSnapshot() {
        transactionDepth -= 1
        if transactionDepth == 0 { _ = try? database.execute("COMMIT") }
    }

    func prepare(_ sql: String, _ values: [LogValue]) throws(SQLiteError) -> SQLiteStatement {
        let statement = try database.prepare(sql)
        for (offset, value) in values.enumerated() {
            switch value {
            case .text(let text): statement.bind(text, at: Int32(offset + 1))
            case .integer(let number): statement.bind(number, at: Int32(offset + 1))
            }
        }
        return statement
    }

    // MARK: - Rows

    /// The `log` columns a row is read from (its shape decoded here, not joined a row).
    static let rowColumns = "id, t, shape, client, path, query, status, bytes, duration_us, referrer, user_agent"

    private func readRows(_ statement: SQLiteStatement) throws(SQLiteError) -> [AccessLogRow] {
        var rows: [AccessLogRow] = []
        func string(_ column: Int32) throws(SQLiteError) -> String? {
            statement.isNull(at: column) ? nil : try text(statement.int64(at: column))
        }
        while try statement.step() {
            let shape = try shape(statement.int64(at: 2))
            rows.append(AccessLogRow(
                id: statement.int64(at: 0), time: timeText(milliseconds: statement.int64(at: 1)),
                site: try text(shape.site), host: try text(shape.host), client: try string(3) ?? "", method: try text(shape.method),
                path: try string(4), query: statement.text(at: 5), protocolVersion: try text(shape.protocolVersion),
                status: statement.int(at: 6), bytes: statement.int(at: 7), durationMicros: statement.int(at: 8),
                referrer: try string(9), userAgent: try string(10), encoding: try text(shape.encoding), scheme: try text(shape.scheme)))
        }
        return rows
    }

    /// Rows scanned backwards (newest first) before an index is tried instead: the newest 50
    /// 404s are near the end, where a backward scan finds them at once, while the partial
    /// status index would hand SQLite every 404 to sort.
    static let backwardScanBudget: Int64 = 200_000

    /// Matching rows in id order.
    /// - Parameters:
    ///   - limit: with `afterID` nil, the newest `limit` rows (0 = all), returned oldest first;
    ///     with `afterID`, the first `limit` rows after it.
    ///   - afterID: only rows with a larger id (`--follow`, chunks).
    ///   - throughID: only rows up to this id.
    public func rows(_ query: LogQuery, limit: Int, afterID: Int64? = nil, throughID: Int64? = nil) throws(SQLiteError) -> [AccessLogRow] {
        try readTransaction { () throws(SQLiteError) -> [AccessLogRow] in
            var spec = RawSpec(query: query)
            spec.idAbove = afterID
            spec.idThrough = throughID
            let newestFirst = afterID == nil && limit > 0
            if newestFirst, let found = try newestByBackwardScan(query, spec: spec, limit: limit, columns: Self.rowColumns) {
                return try readRows(found).reversed()
            }
            let (clause, values) = rawWhere(spec)
            var sql = "SELECT \(Self.rowColumns) FROM log" + clause + (newestFirst ? " ORDER BY id DESC" : " ORDER BY id")
            if limit > 0 { sql += " LIMIT \(limit)" }
            let rows = try readRows(try prepare(sql, values))
            return newestFirst ? rows.reversed() : rows
        }
    }

    /// The newest `limit` matching rows by a bounded backward scan, or nil when the budget
    /// holds fewer (the caller then asks SQLite's planner).
    private func newestByBackwardScan(_ query: LogQuery, spec: RawSpec, limit: Int, columns: String, offset: Int = 0) throws(SQLiteError) -> SQLiteStatement? {
        let newest: Int64
        if let through = spec.idThrough { newest = through } else { newest = try Self.maxID(in: database) }
        var bounded = spec
        bounded.idAbove = max(spec.idAbove ?? 0, newest - Self.backwardScanBudget)
        bounded.usesIndexes = false
        let (clause, values) = rawWhere(bounded)
        let countSQL = "SELECT COUNT(*) FROM (SELECT id FROM log NOT INDEXED" + clause + " ORDER BY id DESC LIMIT \(limit + offset))"
        let counter = try prepare(countSQL, values)
        try counter.step()
        // All asked rows lie inside the window, or the window reaches the first row anyway.
        guard counter.int(at: 0) == limit + offset || bounded.idAbove == spec.idAbove ?? 0 else { return nil }
        return try prepare("SELECT \(columns) FROM log NOT INDEXED" + clause + " ORDER BY id DESC LIMIT \(limit) OFFSET \(offset)", values)
    }

    /// The `n` slowest matching rows, slowest first (ties: oldest first) (`--slowest N`).
    public func slowest(_ query: LogQuery, n: Int) throws(SQLiteError) -> [AccessLogRow] {
        try readTransaction { () throws(SQLiteError) -> [AccessLogRow] in
            let (clause, values) = rawWhere(RawSpec(query: query))
            return try readRows(try prepare("SELECT \(Self.rowColumns) FROM log" + clause + " ORDER BY duration_us DESC, id LIMIT \(max(1, n))", values))
        }
    }

    /// The id of the `n`th newest matching row up to `throughID` (nil: fewer rows match), so
    /// the newest `n` rows can be read oldest first in chunks without holding them all.
    public func nthNewestID(_ query: LogQuery, n: Int, throughID: Int64) throws(SQLiteError) -> Int64? {
        try readTransaction { () throws(SQLiteError) -> Int64? in
            var spec = RawSpec(query: query)
            spec.idThrough = throughID
            let statement: SQLiteStatement
            if let found = try newestByBackwardScan(query, spec: spec, limit: 1, columns: "id", offset: max(0, n - 1)) {
                statement = found
            } else {
                let (clause, values) = rawWhere(spec)
                statement = try prepare("SELECT id FROM log" + clause + " ORDER BY id DESC LIMIT 1 OFFSET \(max(0, n - 1))", values)
            }
            return try statement.step() ? statement.int64(at: 0) : nil
        }
    }

    /// The largest id in the table (0 when empty), whatever the filters.
    public static func maxID(in database: SQLiteDatabase) throws(SQLiteError) -> Int64 {
        let statement = try database.prepare("SELECT COALESCE(MAX(id), 0) FROM log")
        try statement.step()
        return statement.int64(at: 0)
    }

    public func maxID() throws(SQLiteError) -> Int64 { try Self.maxID(in: database) }

    // MARK: - Aggregates

    /// Number of matching rows (`--count`).
    public func count(_ query: LogQuery) throws(SQLiteError) -> Int {
        try readTransaction { () throws(SQLiteError) -> Int in
            try aggregate(query, keys: [], measure: .totals)[[]]?.requests ?? 0
        }
    }

    /// Distinct clients among the matching rows (`--unique client`): exact.
    public func uniqueClients(_ query: LogQuery) throws(SQLiteError) -> Int {
        try readTransaction { () throws(SQLiteError) -> Int in
            try aggregate(query, keys: [], measure: .clients)[[]]?.clients ?? 0
        }
    }

    /// Totals over the matching rows (`--summary`).
    public func summary(_ query: LogQuery) throws(SQLiteError) -> LogSummary {
        try readTransaction { () throws(SQLiteError) -> LogSummary in
            let byStatus = try aggregate(query, keys: [.status], measure: .totals)
            var summary = LogSummary(requests: 0, uniqueClients: 0, bytes: 0, statusClasses: [0, 0, 0, 0, 0])
            for (key, totals) in byStatus {
                summary.requests += totals.requests
                summary.bytes += totals.bytes
                let statusClass = Int(key[0]) / 100
                if (1...5).contains(statusClass) { summary.statusClasses[statusClass - 1] += totals.requests }
            }
            summary.uniqueClients = try aggregate(query, keys: [], measure: .clients)[[]]?.clients ?? 0
            if let histogram = try aggregate(query, keys: [], measure: .histogram)[[]]?.histogram {
                summary.percentiles = LogPercentiles(histogram)
            }
            return summary
        }
    }

    /// Groups, largest first by `grouping.sort` (ties by the keys' values, NULL first).
    public func groups(_ query: LogQuery, _ grouping: LogGrouping) throws(SQLiteError) -> [LogGroup] {
        try readTransaction { () throws(SQLiteError) -> [LogGroup] in
            let keys = grouping.keys
            let all = try aggregate(query, keys: keys, measure: .totals)
            var groups: [(key: [Int64], group: LogGroup)] = []
            for (key, totals) in all {
                groups.append((key, LogGroup(values: try values(of: key, keys: keys), count: totals.requests,
                                             bytes: totals.bytes, durationMicros: totals.durationMicros)))
            }
            groups.sort { LogGroup.precedes($0.group, $1.group, by: grouping.sort) }
            if grouping.top > 0 && groups.count > grouping.top { groups.removeLast(groups.count - grouping.top) }
            // Percentiles and distinct clients for the groups shown only (a histogram per group
            // of all of them could take more memory than the answer is worth).
            if (grouping.percentiles || grouping.uniqueClients) && !groups.isEmpty {
                for start in stride(from: 0, to: groups.count, by: 500) {
                    let slice = start..<min(start + 500, groups.count)
                    let only = groups[slice].map(\.key)
                    if grouping.percentiles {
                        let histograms = try aggregate(query, keys: keys, measure: .histogram, onlyKeys: only)
                        for i in slice { groups[i].group.percentiles = histograms[groups[i].key].flatMap { LogPercentiles($0.histogram) } }
                    }
                    if grouping.uniqueClients {
                        let clients = try aggregate(query, keys: keys, measure: .clients, onlyKeys: only)
                        for i in slice { groups[i].group.clients = clients[groups[i].key]?.clients ?? 0 }
                    }
                }
            }
            return groups.map(\.group)
        }
    }

    /// The values of a group key as shown.
    private func values(of key: [Int64], keys: [LogGroupKey]) throws(SQLiteError) -> [LogValue?] {
        var values: [LogValue?] = []
        for (value, groupKey) in zip(key, keys) {
            if groupKey == .status {
                values.append(.integer(Int(value)))
            } else if groupKey.bucketSeconds != nil || groupKey == .hourOfDay {
                values.append(.text(groupKey.timeText(seconds: value)))
            } else {
                values.append(try text(value).map(LogValue.text))
            }
        }
        return values
    }
}

extension LogGroup {
    /// Larger first by `sort`, then by count, bytes, and the values (NULL first, text bytewise
    /// as SQLite orders it).
    public static func precedes(_ a: LogGroup, _ b: LogGroup, by sort: LogSort) -> Bool {
        let order: [(Int, Int)]
        switch sort {
        case .count: order = [(a.count, b.count), (a.bytes, b.bytes)]
        case .bytes: order = [(a.bytes, b.bytes), (a.count, b.count)]
        case .duration: order = [(a.averageDurationMicros, b.averageDurationMicros), (a.count, b.count), (a.bytes, b.bytes)]
        }
        for (x, y) in order where x != y { return x > y }
        for (x, y) in zip(a.values, b.values) where x != y {
            switch (x, y) {
            case (nil, _): return true
            case (_, nil): return false
            case (.integer(let m), .integer(let n)): return m < n
            case (.text(let s), .text(let t)): return s.utf8.lexicographicallyPrecedes(t.utf8)
            case (.integer, .text): return true
            case (.text, .integer): return false
            }
        }
        return false
    }
}
