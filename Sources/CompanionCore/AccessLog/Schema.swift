// Schema: the `requests` table of SPEC §5, its indexes, and the migrations
// keyed by `PRAGMA user_version`. Later columns are added here as a new
// migration step; existing columns are never renamed (SPEC §5).
import CSQLite

/// The access-log schema and its migrations.
///
/// Version 1 is the table of SPEC §5 with indexes on `time` (every `--since`/`--until`
/// and the newest-N default) and `status` (the most common filter). Measured on the
/// benchmark machine: each extra index costs the writer ~15% more time per row, and
/// the writer shares the server's core, so `site`, `path` and `client` (few distinct
/// values, or filtered with globs that cannot use an index) are scanned instead.
public enum AccessLogSchema {
    /// The version this build writes into `PRAGMA user_version`.
    public static let currentVersion = 1

    /// One step per version, applied in order to files with a lower `user_version`.
    /// To add a column later: append `(2, "ALTER TABLE requests ADD COLUMN …")`.
    static let migrations: [(version: Int, sql: String)] = [
        (1, """
            CREATE TABLE requests (
                id INTEGER PRIMARY KEY,
                time TEXT NOT NULL,
                site TEXT,
                host TEXT,
                client TEXT NOT NULL,
                method TEXT,
                path TEXT,
                query TEXT,
                protocol TEXT,
                status INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                duration_us INTEGER NOT NULL,
                referrer TEXT,
                user_agent TEXT,
                encoding TEXT
            );
            CREATE INDEX requests_time ON requests(time);
            CREATE INDEX requests_status ON requests(status);
            """),
    ]

    /// The insert the writer prepares once and reuses for every row.
    static let insertSQL = """
        INSERT INTO requests (time, site, host, client, method, path, query, protocol,
                              status, bytes, duration_us, referrer, user_agent, encoding)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
        """

    /// Rows per statement of `batchInsertSQL`.
    static let batchRows = 32

    /// The same insert for `batchRows` rows at once: one statement execution per 32 rows
    /// instead of one per row (the writer shares the server's core; this halves SQLite's
    /// per-row statement overhead).
    static let batchInsertSQL: String = {
        let row = "(" + (1...14).map { _ in "?" }.joined(separator: ",") + ")"
        return """
            INSERT INTO requests (time, site, host, client, method, path, query, protocol,
                                  status, bytes, duration_us, referrer, user_agent, encoding)
            VALUES \(Array(repeating: row, count: batchRows).joined(separator: ","))
            """
    }()

    /// Brings `database` to `currentVersion` in one transaction.
    ///
    /// - Throws: `SQLiteError` when a step fails, or when the file was written by a
    ///   newer companion (its `user_version` is higher than ours), so we never
    ///   write rows an unknown schema does not expect.
    public static func migrate(_ database: SQLiteDatabase) throws(SQLiteError) {
        try database.immediateTransaction { () throws(SQLiteError) in
            let found = try database.userVersion()
            guard found <= currentVersion else {
                throw SQLiteError(
                    code: SQLITE_ERROR,
                    message: "the database has schema version \(found); this companion knows versions up to \(currentVersion)")
            }
            for step in migrations where step.version > found {
                try database.execute(step.sql)
            }
            if found < currentVersion { try database.setUserVersion(currentVersion) }
        }
    }
}
