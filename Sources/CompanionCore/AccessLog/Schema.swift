// Schema: the access log's tables, the `requests` view of SPEC §5, and the
// migrations keyed by `PRAGMA user_version`. Later columns are added here as a
// new migration step; existing columns are never renamed (SPEC §5).
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
///
/// Version 4 is the compact log: 258 bytes per row became ~50.
/// - `strings` holds each distinct text once (site, host, client, method, path, protocol,
///   referrer, user agent, encoding, scheme, TLS version); `log` holds the rows with their
///   ids, the time as integer Unix milliseconds, and the query string as text (mostly NULL,
///   too varied to share). `strings.day` is the newest day (Unix days) of a row using the
///   text, so retention can delete texts no kept row uses.
/// - `requests` is a view with the columns and values of SPEC §5 (and an INSTEAD OF INSERT
///   trigger, so tools that insert rows still can): `sqlite3`, Datasette and any SQL tool
///   read the log unchanged.
/// - `log_ranges` is `requests_ranges` over the integer times.
/// - The rollup tables (`Rollup.all`) are kept by the writer in the same transaction as
///   the rows; `log_rollup_state.covered_id` says which rows they count (all ids up to it).
///   `companion logs` answers from them where the filters allow (`SQLiteLogReader.plan`).
///
/// Version 5 adds the `crawler` dimension to the rollups but the agents' (`Crawler`):
/// the tables are created anew and refolded from the raw rows when the writer opens the file.
///
/// Version 6 moves the seven texts that repeat from row to row (site, host, method,
/// protocol, encoding, scheme, TLS version) out of `log` into `shapes`: one row per distinct
/// combination of their `strings` ids (0 for NULL), and `log.shape` its id. The writer binds
/// 10 values a row instead of 16, and SQLite's cost of a row is mostly per value (each one
/// bound, copied into the statement's registers twice, put into the record): measured with
/// callgrind on the 32-row insert, ~320 instructions a value, so the six fewer are ~1,900 of
/// the ~6,000 a row took. `log_wide` is `log` with the shape's columns joined back (NULL for
/// 0), what the rollups' fold and raw groups by those columns select from; rows are read
/// from `log` with the shape decoded from a cache (a join a row made an export 23 % slower).
public enum AccessLogSchema {
    /// The version this build writes into `PRAGMA user_version`.
    public static let currentVersion = 6

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
        (4, compactSQL),
        (5, rebuildRollupsSQL),
        (6, shapesSQL),
    ]

    /// Version 5: the rollup tables as `Rollup.all` defines them now, empty; the writer's
    /// catch-up at open folds every row into them (covered id 0).
    static let rebuildRollupsSQL: String = {
        Rollup.all.map { "DROP TABLE IF EXISTS \($0.table);\n\($0.createSQL)" }.joined(separator: "\n")
            + "\nUPDATE log_rollup_state SET covered_id = 0;"
    }()

    /// Consecutive ids one `requests_ranges` row grows to before the writer starts the next.
    /// A `--since` scan reads at most this many rows outside the asked time.
    static let rowsPerRange: Int64 = 1 << 16

    /// The lowest status in the partial status index.
    static let statusIndexFloor = 300
    /// The partial status index's condition: the migration creates the index with it, and
    /// `LogQuery` adds it word for word (SQLite uses a partial index only then).
    static let statusIndexCondition = "status >= \(statusIndexFloor)"

    /// The integer Unix milliseconds of a stored time text (`YYYY-MM-DDTHH:MM:SS.mmmZ`), in SQL.
    static func millisecondsSQL(_ text: String) -> String {
        "(CAST(strftime('%s', substr(\(text), 1, 19)) AS INTEGER) * 1000 + CAST(substr(\(text), 21, 3) AS INTEGER))"
    }

    /// The stored time text of integer Unix milliseconds, in SQL (exact: integer arithmetic).
    static func timeTextSQL(_ milliseconds: String) -> String {
        "(strftime('%Y-%m-%dT%H:%M:%S', \(milliseconds) / 1000, 'unixepoch') || '.' || substr(\(milliseconds) % 1000 + 1000, 2) || 'Z')"
    }

    /// The text columns of `log` that hold a `strings` id, in `requests` order.
    static let stringColumns = ["site", "host", "client", "method", "path", "protocol", "referrer", "user_agent",
                                "encoding", "scheme", "tls_version"]

    /// Version 4: the compact tables, the rows of version 3 moved into them, the view.
    static let compactSQL: String = {
        let lookups = stringColumns.map { "(SELECT id FROM strings WHERE value = r.\($0))" }
        let newestDay = "(SELECT CAST(strftime('%s', substr(MAX(time), 1, 10)) AS INTEGER) / 86400 FROM requests)"
        return """
            CREATE TABLE strings (
                id INTEGER PRIMARY KEY,
                value TEXT NOT NULL UNIQUE,
                day INTEGER NOT NULL DEFAULT 0
            );
            INSERT OR IGNORE INTO strings (value, day)
                \(stringColumns.map { "SELECT \($0), \(newestDay) FROM requests WHERE \($0) IS NOT NULL" }.joined(separator: "\n    UNION ALL "));
            CREATE TABLE log (
                id INTEGER PRIMARY KEY,
                t INTEGER NOT NULL,
                site INTEGER, host INTEGER, client INTEGER, method INTEGER, path INTEGER,
                query TEXT,
                protocol INTEGER,
                status INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                duration_us INTEGER NOT NULL,
                referrer INTEGER, user_agent INTEGER, encoding INTEGER, scheme INTEGER, tls_version INTEGER
            );
            INSERT INTO log (id, t, site, host, client, method, path, query, protocol, status, bytes, duration_us,
                             referrer, user_agent, encoding, scheme, tls_version)
                SELECT r.id, \(millisecondsSQL("r.time")), \(lookups[0...4].joined(separator: ", ")), r.query, \(lookups[5]),
                       r.status, r.bytes, r.duration_us, \(lookups[6...].joined(separator: ", "))
                FROM requests r ORDER BY r.id;
            DROP TABLE requests;
            DROP TABLE requests_ranges;
            CREATE INDEX log_status_other ON log(status) WHERE \(statusIndexCondition);
            CREATE TABLE log_ranges (
                first_id INTEGER NOT NULL,
                last_id INTEGER NOT NULL,
                min_t INTEGER NOT NULL,
                max_t INTEGER NOT NULL
            );
            INSERT INTO log_ranges (first_id, last_id, min_t, max_t)
                SELECT MIN(id), MAX(id), MIN(t), MAX(t) FROM log GROUP BY id / \(rowsPerRange) ORDER BY 1;
            \(Rollup.all.map(\.createSQL).joined(separator: "\n"))
            CREATE TABLE log_rollup_state (covered_id INTEGER NOT NULL);
            INSERT INTO log_rollup_state VALUES (0);
            \(version4ViewSQL)
            """
    }()

    /// Version 4's `requests` view (SPEC §5) and its INSTEAD OF INSERT trigger, over the
    /// `log` of versions 4 and 5 (version 6 replaces both).
    static let version4ViewSQL: String = {
        let joins = stringColumns.map { "LEFT JOIN strings \($0) ON \($0).id = l.\($0)" }.joined(separator: "\n        ")
        let text = { (column: String) in "\(column).value AS \(column)" }
        let day = "CAST(strftime('%s', substr(NEW.time, 1, 10)) AS INTEGER) / 86400"
        let newLookups = stringColumns.map { "(SELECT id FROM strings WHERE value = NEW.\($0))" }
        return """
            CREATE VIEW requests AS
                SELECT l.id AS id, \(timeTextSQL("l.t")) AS time,
                       \(stringColumns[0...4].map(text).joined(separator: ", ")), l.query AS query, \(text("protocol")),
                       l.status AS status, l.bytes AS bytes, l.duration_us AS duration_us,
                       \(stringColumns[6...].map(text).joined(separator: ", "))
                FROM log l
                \(joins);
            CREATE TRIGGER requests_insert INSTEAD OF INSERT ON requests BEGIN
                INSERT INTO strings (value, day)
                    SELECT v, \(day) FROM (\(stringColumns.map { "SELECT NEW.\($0) AS v" }.joined(separator: " UNION ALL ")))
                    WHERE v IS NOT NULL
                    ON CONFLICT (value) DO UPDATE SET day = MAX(day, excluded.day);
                INSERT INTO log (id, t, site, host, client, method, path, query, protocol, status, bytes, duration_us,
                                 referrer, user_agent, encoding, scheme, tls_version)
                    VALUES (NEW.id, \(millisecondsSQL("NEW.time")), \(newLookups[0...4].joined(separator: ", ")), NEW.query,
                            \(newLookups[5]), NEW.status, NEW.bytes, NEW.duration_us, \(newLookups[6...].joined(separator: ", ")));
            END;
            """
    }()

    /// The `strings` ids a `shapes` row combines, in its column order (0 for NULL).
    static let shapeColumns = ["site", "host", "method", "protocol", "encoding", "scheme", "tls_version"]

    /// The `log_wide` columns in `requests` order (the shape's where `requests` has them).
    static let wideColumns = ["id", "t", "site", "host", "client", "method", "path", "query", "protocol", "status",
                              "bytes", "duration_us", "referrer", "user_agent", "encoding", "scheme", "tls_version"]

    /// Version 6: `shapes`, `log` rebuilt with a shape id for the seven columns, the views.
    static let shapesSQL: String = {
        let keys = shapeColumns.joined(separator: ", ")
        let kept = ["client", "path", "query", "status", "bytes", "duration_us", "referrer", "user_agent"]
        let matches = shapeColumns.map { "s.\($0) = COALESCE(l.\($0), 0)" }.joined(separator: " AND ")
        return """
            CREATE TABLE shapes (
                id INTEGER PRIMARY KEY,
                \(shapeColumns.map { "\($0) INTEGER NOT NULL" }.joined(separator: ", ")),
                day INTEGER NOT NULL DEFAULT 0,
                UNIQUE (\(keys))
            );
            INSERT INTO shapes (\(keys), day)
                SELECT \(shapeColumns.map { "COALESCE(\($0), 0)" }.joined(separator: ", ")), MAX(t / 86400000)
                FROM log GROUP BY \((1...shapeColumns.count).map(String.init).joined(separator: ", "));
            DROP VIEW requests;
            CREATE TABLE log_shaped (
                id INTEGER PRIMARY KEY,
                t INTEGER NOT NULL,
                shape INTEGER NOT NULL,
                client INTEGER, path INTEGER,
                query TEXT,
                status INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                duration_us INTEGER NOT NULL,
                referrer INTEGER, user_agent INTEGER
            );
            INSERT INTO log_shaped (id, t, shape, \(kept.joined(separator: ", ")))
                SELECT l.id, l.t, s.id, \(kept.map { "l.\($0)" }.joined(separator: ", "))
                FROM log l JOIN shapes s ON \(matches) ORDER BY l.id;
            DROP TABLE log;
            ALTER TABLE log_shaped RENAME TO log;
            CREATE INDEX log_status_other ON log(status) WHERE \(statusIndexCondition);
            \(viewSQL)
            """
    }()

    /// `log_wide`: `log` with its shape's ids joined back as columns, NULL where the shape
    /// holds 0. CROSS JOIN keeps `log` the outer loop (its rowid and status index), each
    /// shape found by its id.
    static var wideViewSQL: String {
        let columns = wideColumns.map { column in
            shapeColumns.contains(column) ? "NULLIF(s.\(column), 0) AS \(column)" : "l.\(column) AS \(column)"
        }
        return """
            CREATE VIEW log_wide AS
                SELECT \(columns.joined(separator: ", ")), l.shape AS shape
                FROM log l CROSS JOIN shapes s ON s.id = l.shape;
            """
    }

    /// The views of version 6: `log_wide` and `requests` (SPEC §5) with its
    /// INSTEAD OF INSERT trigger.
    static let viewSQL: String = {
        let joins = stringColumns.map { "LEFT JOIN strings \($0) ON \($0).id = w.\($0)" }.joined(separator: "\n        ")
        let text = { (column: String) in "\(column).value AS \(column)" }
        let day = "CAST(strftime('%s', substr(NEW.time, 1, 10)) AS INTEGER) / 86400"
        let lookup = { (column: String) in "(SELECT id FROM strings WHERE value = NEW.\(column))" }
        let shapeValues = shapeColumns.map { "COALESCE(\(lookup($0)), 0)" }
        let shapeMatch = zip(shapeColumns, shapeValues).map { "\($0) = \($1)" }.joined(separator: " AND ")
        return """
            \(wideViewSQL)
            CREATE VIEW requests AS
                SELECT w.id AS id, \(timeTextSQL("w.t")) AS time,
                       \(stringColumns[0...4].map(text).joined(separator: ", ")), w.query AS query, \(text("protocol")),
                       w.status AS status, w.bytes AS bytes, w.duration_us AS duration_us,
                       \(stringColumns[6...].map(text).joined(separator: ", "))
                FROM log_wide w
                \(joins);
            CREATE TRIGGER requests_insert INSTEAD OF INSERT ON requests BEGIN
                INSERT INTO strings (value, day)
                    SELECT v, \(day) FROM (\(stringColumns.map { "SELECT NEW.\($0) AS v" }.joined(separator: " UNION ALL ")))
                    WHERE v IS NOT NULL
                    ON CONFLICT (value) DO UPDATE SET day = MAX(day, excluded.day);
                INSERT INTO shapes (\(shapeColumns.joined(separator: ", ")), day)
                    VALUES (\(shapeValues.joined(separator: ", ")), \(day))
                    \(shapeConflictSQL);
                INSERT INTO log (id, t, shape, client, path, query, status, bytes, duration_us, referrer, user_agent)
                    VALUES (NEW.id, \(millisecondsSQL("NEW.time")), (SELECT id FROM shapes WHERE \(shapeMatch)),
                            \(lookup("client")), \(lookup("path")), NEW.query, NEW.status, NEW.bytes, NEW.duration_us,
                            \(lookup("referrer")), \(lookup("user_agent")));
            END;
            """
    }()

    /// The columns of `log` the writer fills, in table order: the one list the inserts,
    /// their parameter count and the writer's bind positions are derived from. (The
    /// migrations above spell their tables out: they are records of past versions.)
    static let insertedColumns = ["t", "shape", "client", "path", "query", "status", "bytes", "duration_us",
                                  "referrer", "user_agent"]

    /// Finds or adds a shape (parameters: the seven ids in `shapeColumns` order, then the
    /// row's Unix day), raising its day; returns its id.
    static let shapeUpsertSQL = """
        INSERT INTO shapes (\(shapeColumns.joined(separator: ", ")), day)
        VALUES (\((1...shapeColumns.count + 1).map { "?\($0)" }.joined(separator: ", ")))
        \(shapeConflictSQL)
        RETURNING id
        """

    /// An existing shape keeps its id and takes the newer day (the writer's UPSERT and the
    /// `requests` trigger's).
    static let shapeConflictSQL = "ON CONFLICT (\(shapeColumns.joined(separator: ", "))) DO UPDATE SET day = MAX(day, excluded.day)"

    /// Parameters of one row in `insertSQL` and `batchInsertSQL`.
    static let parametersPerRow = insertedColumns.count

    /// Where `column` sits among a row's parameters, counted from 0 (`t`).
    static func parameterOffset(of column: String) -> Int32 {
        guard let index = insertedColumns.firstIndex(of: column) else {
            preconditionFailure("\(column) is not a column the writer inserts")
        }
        return Int32(index)
    }

    /// The insert the writer prepares once and reuses for a row.
    static let insertSQL = """
        INSERT OR FAIL INTO log (\(insertedColumns.joined(separator: ", ")))
        VALUES (\((1...parametersPerRow).map { "?\($0)" }.joined(separator: ", ")))
        """

    /// Rows per statement of `batchInsertSQL`.
    static let batchRows = 32

    /// The same insert for `batchRows` rows at once: one statement execution per 32 rows
    /// instead of one per row (the writer shares the server's core; this halves SQLite's
    /// per-row statement overhead).
    static let batchInsertSQL: String = {
        let row = "(" + (1...parametersPerRow).map { _ in "?" }.joined(separator: ",") + ")"
        return """
            INSERT OR FAIL INTO log (\(insertedColumns.joined(separator: ", ")))
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
