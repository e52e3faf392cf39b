// Rollup: the aggregate tables the writer keeps beside the raw rows,
// described once here for the schema, the writer and the query planner.
//
// Each rollup row counts the requests of one time bucket (`start`, Unix seconds of
// the bucket's start) and one combination of its dimensions: `requests`, `bytes`,
// `duration_us` (the sum) and, where `hasHistogram`, `hist` (a DurationHistogram
// blob, for percentiles). Dimensions hold `strings` ids (0 for NULL, so they can
// be part of the primary key) or the status.
//
// Sizes on a busy site (3 sites, ~10 statuses, 2 methods, 5,000 paths, some crawlers):
// log_minute ~100 rows a minute, log_hour ~100 an hour, log_day_paths ~15,000 a day;
// the referrer, agent and client tables grow with the distinct values of a day.

/// A column a rollup groups by.
public enum RollupDimension: String, Sendable, CaseIterable {
    case site, status, method, path, referrer, user_agent, client
    /// 1 when the row's User-Agent is a crawler's (`Crawler`), else 0: what
    /// `--ignore-crawlers` and `--crawlers-only` (and agent globs that select exactly the
    /// crawlers, such as `--not-user-agent '*bot*'`) need, at most doubling a table.
    case crawler

    /// The dimension's value for a row of `log_wide` in SQL.
    var foldExpression: String {
        switch self {
        case .status: "status"
        case .crawler: "companion_is_crawler((SELECT value FROM strings WHERE id = log_wide.user_agent))"
        default: "COALESCE(\(rawValue), 0)"
        }
    }
}

/// One rollup table.
public struct Rollup: Sendable, Equatable {
    public let table: String
    /// Bucket width in milliseconds.
    public let unitMs: Int64
    public let dimensions: [RollupDimension]
    public let hasHistogram: Bool

    public static let minute = Rollup(table: "log_minute", unitMs: 60_000, dimensions: [.site, .status, .method, .crawler], hasHistogram: true)
    public static let hour = Rollup(table: "log_hour", unitMs: 3_600_000, dimensions: [.site, .status, .method, .crawler], hasHistogram: true)
    public static let paths = Rollup(table: "log_day_paths", unitMs: 86_400_000, dimensions: [.site, .status, .path, .crawler], hasHistogram: true)
    public static let referrers = Rollup(table: "log_day_referrers", unitMs: 86_400_000, dimensions: [.site, .referrer, .crawler], hasHistogram: false)
    public static let agents = Rollup(table: "log_day_agents", unitMs: 86_400_000, dimensions: [.site, .user_agent], hasHistogram: false)
    public static let clients = Rollup(table: "log_day_clients", unitMs: 86_400_000, dimensions: [.site, .client, .crawler], hasHistogram: false)

    /// Every rollup, in the order the writer updates them.
    public static let all: [Rollup] = [.minute, .hour, .paths, .referrers, .agents, .clients]

    var keyColumns: [String] { ["start"] + dimensions.map(\.rawValue) }

    var createSQL: String {
        let dimensionColumns = dimensions.map { "\($0.rawValue) INTEGER NOT NULL" }.joined(separator: ", ")
        return """
            CREATE TABLE \(table) (
                start INTEGER NOT NULL, \(dimensionColumns),
                requests INTEGER NOT NULL, bytes INTEGER NOT NULL, duration_us INTEGER NOT NULL\(hasHistogram ? ", hist BLOB" : ""),
                PRIMARY KEY (\(keyColumns.joined(separator: ", ")))
            ) WITHOUT ROWID;
            """
    }

    /// The UPSERT tail that adds a new row's counts to an existing one.
    private var mergeSQL: String {
        var sets = ["requests = requests + excluded.requests", "bytes = bytes + excluded.bytes",
                    "duration_us = duration_us + excluded.duration_us"]
        if hasHistogram { sets.append("hist = companion_hist_merge(hist, excluded.hist)") }
        return "ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO UPDATE SET \(sets.joined(separator: ", "))"
    }

    var valueColumns: [String] { ["requests", "bytes", "duration_us"] + (hasHistogram ? ["hist"] : []) }

    /// Adds one aggregated row (parameters: start, the dimensions, requests, bytes,
    /// duration_us, hist).
    var upsertSQL: String {
        let columns = keyColumns + valueColumns
        return "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(columns.indices.map { "?\($0 + 1)" }.joined(separator: ", "))) " + mergeSQL
    }

    /// Folds the raw rows with ids in ?1...?2 into the rollup (rows inserted by another
    /// connection, and the rebuild after a migration).
    var foldSQL: String {
        let dimensions = self.dimensions.map(\.foldExpression)
        let values = ["COUNT(*)", "SUM(bytes)", "SUM(duration_us)"] + (hasHistogram ? ["companion_hist(duration_us)"] : [])
        return """
            INSERT INTO \(table) (\((keyColumns + valueColumns).joined(separator: ", ")))
                SELECT t / \(unitMs) * \(unitMs / 1000), \(dimensions.joined(separator: ", ")), \(values.joined(separator: ", "))
                FROM log_wide WHERE id BETWEEN ?1 AND ?2 GROUP BY \((1...keyColumns.count).map(String.init).joined(separator: ", "))
            \(mergeSQL)
            """
    }
}

extension Rollup {
    /// The rollup tables that differ from a fold of the raw rows they cover (ids up to
    /// `log_rollup_state.covered_id`), each with what differs; empty when they all agree.
    /// For tests and for diagnosing a file: it folds every covered row into a temporary table.
    public static func differences(in database: SQLiteDatabase) throws(SQLiteError) -> [String] {
        try database.registerCompanionFunctions()
        let state = try database.prepare("SELECT covered_id FROM log_rollup_state")
        let covered = try state.step() ? state.int64(at: 0) : 0
        state.reset()
        var found: [String] = []
        for rollup in all {
            let columns = (rollup.keyColumns + rollup.valueColumns).joined(separator: ", ")
            try database.execute(rollup.createSQL.replacing("CREATE TABLE \(rollup.table)", with: "CREATE TEMP TABLE companion_fold"))
            do {
                let fold = try database.prepare(rollup.foldSQL.replacing("INSERT INTO \(rollup.table)", with: "INSERT INTO temp.companion_fold"))
                fold.bind(Int64(1), at: 1)
                fold.bind(covered, at: 2)
                try fold.step()
                let compare = try database.prepare("""
                    SELECT (SELECT COUNT(*) FROM (SELECT \(columns) FROM \(rollup.table) EXCEPT SELECT \(columns) FROM temp.companion_fold)),
                           (SELECT COUNT(*) FROM (SELECT \(columns) FROM temp.companion_fold EXCEPT SELECT \(columns) FROM \(rollup.table)))
                    """)
                try compare.step()
                if compare.int(at: 0) != 0 || compare.int(at: 1) != 0 {
                    found.append("\(rollup.table): \(compare.int(at: 0)) rows not in a fold of the raw rows, \(compare.int(at: 1)) missing")
                }
            }
            try database.execute("DROP TABLE temp.companion_fold")
        }
        return found
    }
}
