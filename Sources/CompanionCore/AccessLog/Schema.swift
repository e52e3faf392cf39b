// Schema: the `requests` table of SPEC §5, its indexes, and the migrations
// keyed by `PRAGMA user_version`. Later columns are added here as a new
// migration step; existing columns are never renamed (SPEC §5).
import CSQLite

/// The access-log schema and its migrations.
///
/// Version 1 is the table of SPEC §5 with indexes on `time` and `status`.
///
/// Version 2 replaces both indexes, because the writer shares the server's core and each
/// index cost it ~0.22-0.24 µs per row, about 3% of a small-file request each (measured
/// with wrk and the server on one core: 131k req/s with both, 143k without, 157k with
/// logging off):
/// - `requests_ranges` is a block-range summary of `time` (PostgreSQL's BRIN idea): rows
///   are inserted in (nearly) time order, so each range of consecutive ids (up to
///   `rowsPerRange`) records the smallest and largest `time` in it. `--since`/`--until`
///   turn into an id range (`LogQuery.timeBounds`) that SQLite seeks on the table's own
///   B-tree; the writer updates one summary row per commit instead of an index per row.
///   A `time` range is exact whatever the order of the rows, because the summary only
///   narrows the scan and the `time` comparison still applies to each row.
/// - `requests_status_other` indexes only statuses ≥ 300. On a healthy site 2xx are
///   most rows, where an index cannot beat a scan anyway; errors and redirects, the
///   selective filters (`--status 404`, `5xx`), keep their index. `LogQuery` adds the
///   index's condition when every asked status is ≥ 300.
/// `site`, `path` and `client` (few distinct values, or globs) are scanned.
public enum AccessLogSchema {
    /// The version this build writes into `PRAGMA user_version`.
    public static let currentVersion = 3

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
        (2, """
            CREATE TABLE requests_ranges (
                first_id INTEGER NOT NULL,
                last_id INTEGER NOT NULL,
                min_time TEXT NOT NULL,
                max_time TEXT NOT NULL
            );
            INSERT INTO requests_ranges (first_id, last_id, min_time, max_time)
                SELECT MIN(id), MAX(id), MIN(time), MAX(time) FROM requests GROUP BY id / \(rowsPerRange) ORDER BY 1;
            DROP INDEX requests_time;
            DROP INDEX requests_status;
            CREATE INDEX requests_status_other ON requests(status) WHERE \(statusIndexCondition);
            """),
        // HTTPS (SPEC §5, §6): how the request arrived. Older rows keep NULL in both.
        (3, """
            ALTER TABLE requests ADD COLUMN scheme TEXT;
            ALTER TABLE requests ADD COLUMN tls_version TEXT;
            """),
    ]

    /// Consecutive ids one `requests_ranges` row grows to before the writer starts the next.
    /// A `--since` scan reads at most this many rows outside the asked time.
    static let rowsPerRange: Int64 = 1 << 16

    /// The lowest status in the partial status index.
    static let statusIndexFloor = 300
    /// The partial status index's condition: the migration creates the index with it, and
    /// `LogQuery` adds it word for word (SQLite uses a partial index only then).
    static let statusIndexCondition = "status >= \(statusIndexFloor)"

    /// The insert the writer prepares once and reuses for every row.
    static let insertSQL = """
        INSERT INTO requests (time, site, host, client, method, path, query, protocol,
                              status, bytes, duration_us, referrer, user_agent, encoding, scheme, tls_version)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
        """

    /// Parameters of one row in `insertSQL` and `batchInsertSQL`.
    static let parametersPerRow = 16

    /// Rows per statement of `batchInsertSQL`.
    static let batchRows = 32

    /// The same insert for `batchRows` rows at once: one statement execution per 32 rows
    /// instead of one per row (the writer shares the server's core; this halves SQLite's
    /// per-row statement overhead).
    static let batchInsertSQL: String = {
        let row = "(" + (1...parametersPerRow).map { _ in "?" }.joined(separator: ",") + ")"
        return """
            INSERT INTO requests (time, site, host, client, method, path, query, protocol,
                                  status, bytes, duration_us, referrer, user_agent, encoding, scheme, tls_version)
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
