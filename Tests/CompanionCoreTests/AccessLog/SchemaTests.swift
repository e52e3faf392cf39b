import Testing
@testable import CompanionCore

@Suite struct SchemaTests {
    @Test func createsTableIndexesAndVersionInWALMode() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        let writer = try AccessLogWriter(settings: testSettings(folder, report))
        writer.shutdown()
        let database = try SQLiteDatabase(path: folder.path + "/logs/access.sqlite", mode: .readOnly)
        #expect(try database.userVersion() == AccessLogSchema.currentVersion)
        let columns = try database.prepare("SELECT name, type FROM pragma_table_info('requests') ORDER BY cid")
        var found: [String] = []
        while try columns.step() { found.append("\(columns.text(at: 0)!) \(columns.text(at: 1)!)") }
        // `requests` is a view now (SPEC §5 allows it): the names of SPEC §5, in order.
        #expect(found.map { String($0.split(separator: " ")[0]) } == [
            "id", "time", "site", "host", "client", "method", "path", "query", "protocol", "status", "bytes",
            "duration_us", "referrer", "user_agent", "encoding", "scheme", "tls_version"])
        #expect(try database.hasView("requests"))
        // The writer's one column list is every column of `log` but its id, in table order,
        // and every text field of a row has its column there.
        let logColumns = try database.prepare("SELECT name FROM pragma_table_info('log') ORDER BY cid")
        var table: [String] = []
        while try logColumns.step() { table.append(logColumns.text(at: 0)!) }
        #expect(table == ["id"] + AccessLogSchema.insertedColumns)
        // ... and every text field of a row has its column there or in `shapes`.
        #expect(AccessLogBatch.Field.allCases.allSatisfy {
            AccessLogSchema.insertedColumns.contains($0.column) || AccessLogSchema.shapeColumns.contains($0.column)
        })
        let shapeColumns = try database.prepare("SELECT name FROM pragma_table_info('shapes') ORDER BY cid")
        var shapeTable: [String] = []
        while try shapeColumns.step() { shapeTable.append(shapeColumns.text(at: 0)!) }
        #expect(shapeTable == ["id"] + AccessLogSchema.shapeColumns + ["day"])
        let indexes = try database.prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
        var names: [String] = []
        while try indexes.step() { names.append(indexes.text(at: 0)!) }
        #expect(names == ["log_status_other", "sqlite_autoindex_shapes_1", "sqlite_autoindex_strings_1"])
        for view in ["requests", "log_wide"] { #expect(try database.hasView(view), "\(view)") }
        for table in ["log", "strings", "shapes", "log_ranges", "log_rollup_state"] + Rollup.all.map(\.table) {
            #expect(try database.hasTable(table), "\(table)")
        }
        let mode = try database.prepare("PRAGMA journal_mode")
        try mode.step()
        #expect(mode.text(at: 0) == "wal")
        let pageSize = try database.prepare("PRAGMA page_size")
        try pageSize.step()
        #expect(pageSize.int(at: 0) == 16384)
    }

    /// The writer's inserts are `INSERT OR FAIL`: inside the commit's transaction a multi-row
    /// INSERT that may ABORT makes SQLite copy every page it changes into a statement journal
    /// first, and past 64 KiB spill that copy to a temporary file. With 404 rows (the partial
    /// status index is touched too) that was ~250 MB of page writes in 3 s of `notfound`, four
    /// times the WAL itself. A failed commit is rolled back whole, so FAIL loses nothing.
    @Test func theWritersInsertsCannotAbortAStatement() throws {
        let database = try SQLiteDatabase(path: ":memory:", mode: .readWriteCreate)
        try AccessLogSchema.migrate(database)
        for sql in [AccessLogSchema.batchInsertSQL, AccessLogSchema.insertSQL] {
            let program = try database.prepare("EXPLAIN " + sql)
            var notNullChecks = 0
            while try program.step() {
                // HaltIfNull's P2 is the conflict resolution: 2 = ABORT (needs the journal), 3 = FAIL.
                guard program.text(at: 1) == "HaltIfNull" else { continue }
                notNullChecks += 1
                #expect(program.int(at: 3) == 3, "\(sql.prefix(40))")
            }
            #expect(notNullChecks >= 4)   // t, status, bytes, duration_us (per row of the batch)
        }
    }

    @Test func migrateIsIdempotentAndRefusesNewerFiles() throws {
        let database = try SQLiteDatabase(path: ":memory:", mode: .readWriteCreate)
        try AccessLogSchema.migrate(database)
        try AccessLogSchema.migrate(database)
        #expect(try database.userVersion() == AccessLogSchema.currentVersion)
        try database.setUserVersion(99)
        #expect(throws: SQLiteError.self) { try AccessLogSchema.migrate(database) }
    }

    @Test func reopeningKeepsRows() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let settings = testSettings(folder, ReportLines())
        for index in 0..<2 {
            let writer = try AccessLogWriter(settings: settings)
            writer.append(sampleRecord(index))
            writer.shutdown()
        }
        #expect(rowCount(settings.path) == 2)
    }

    /// Every column of every row of `requests`, with SQLite's type of each value.
    /// (Before version 3 there was no scheme or TLS version: the snapshot says NULL for them.)
    static func snapshot(_ database: SQLiteDatabase, version: Int = AccessLogSchema.currentVersion) throws -> [[String]] {
        let columns = ["id", "time", "site", "host", "client", "method", "path", "query", "protocol", "status", "bytes",
                       "duration_us", "referrer", "user_agent", "encoding"] + (version >= 3 ? ["scheme", "tls_version"] : ["NULL", "NULL"])
        let statement = try database.prepare("SELECT " + columns.map { "typeof(\($0)) || ':' || COALESCE(\($0), '')" }.joined(separator: ", ")
                                             + " FROM requests ORDER BY id")
        var rows: [[String]] = []
        while try statement.step() { rows.append((0..<Int32(columns.count)).map { statement.text(at: $0) ?? "?" }) }
        return rows
    }

    /// A version 2 or 3 file (the text table, without or with the HTTPS columns), or a compact
    /// one of version 4 or 5 (before `shapes`), is converted once at open: `requests` (now a
    /// view) returns every row with the same values and types, and the rollups count them all.
    @Test(arguments: [2, 3, 4, 5])
    func olderFilesKeepEveryRowThroughTheView(version: Int) throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        let settings = testSettings(folder, report)
        try createFolderForTest(folder.path + "/logs")
        let before: [[String]]
        do {
            let old = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
            for step in AccessLogSchema.migrations where step.version <= version { try old.execute(step.sql) }
            try old.setUserVersion(version)
            let insert = try old.prepare(version >= 3 ? """
                INSERT INTO requests (time, site, host, client, method, path, query, protocol, status, bytes, duration_us,
                                      referrer, user_agent, encoding, scheme, tls_version)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                """ : """
                INSERT INTO requests (time, site, host, client, method, path, query, protocol, status, bytes, duration_us,
                                      referrer, user_agent, encoding)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                """)
            for index in 0..<3000 {
                let record = sampleRecord(index % 40)
                insert.bind(UTCTime.storedText(epochMicros: record.timeMicros + Int64(index) * 1_234_567), at: 1)
                // Failed requests: only time, client, status, bytes and duration are known.
                let known = index % 17 != 0
                insert.bind(known ? record.site : nil, at: 2)
                insert.bind(known ? record.host : nil, at: 3)
                insert.bind(index % 5 == 0 ? "2001:db8::\(index % 7)" : record.client, at: 4)
                insert.bind(known ? record.method : nil, at: 5)
                insert.bind(known ? (index % 11 == 0 ? "/caf\u{E9}/\\xff" : record.path) : nil, at: 6)
                insert.bind(known ? record.query : nil, at: 7)
                insert.bind(known ? "HTTP/1.1" : nil, at: 8)
                insert.bind(record.status, at: 9)
                insert.bind(record.bytes, at: 10)
                insert.bind(record.durationMicros, at: 11)
                insert.bind(known ? record.referrer : nil, at: 12)
                insert.bind(known ? record.userAgent : nil, at: 13)
                insert.bind(record.encoding, at: 14)
                if version >= 3 {
                    insert.bind(index < 1000 ? nil : "https", at: 15)
                    insert.bind(index < 1000 ? nil : "TLSv1.3", at: 16)
                }
                try insert.step()
                insert.reset()
            }
            before = try Self.snapshot(old, version: version)
        }
        let writer = try AccessLogWriter(settings: settings)
        writer.shutdown()
        #expect(report.count(containing: "converting") == 1)
        let database = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        #expect(try database.userVersion() == AccessLogSchema.currentVersion)
        #expect(try database.hasView("requests"))
        let after = try Self.snapshot(database)
        #expect(after.count == 3000)
        #expect(after == before)
        #expect(try Rollup.differences(in: database) == [])
        let state = try database.prepare("SELECT covered_id FROM log_rollup_state")
        try state.step()
        #expect(state.int(at: 0) == 3000)
        state.reset()
        let reader = try SQLiteLogReader(database: database)
        #expect(try reader.count(LogQuery(statusRanges: [404...404])) == 750)
        #expect(try reader.uniqueClients(LogQuery()) == Set(before.map { $0[4] }).count)
        #expect(Set(before.map { $0[4] }).count == 32 + 7)
    }

    /// A version 4 file (rollups without the crawler dimension) gets its rollups rebuilt
    /// from the raw rows once at open: they count every row again, crawlers apart.
    @Test func versionFourFilesGetTheirRollupsRebuilt() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        let settings = testSettings(folder, report)
        try createFolderForTest(folder.path + "/logs")
        do {
            let old = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
            for step in AccessLogSchema.migrations where step.version <= 4 { try old.execute(step.sql) }
            // Version 4's rollups had no crawler column.
            try old.execute("DROP TABLE log_minute; CREATE TABLE log_minute (start INTEGER NOT NULL, site INTEGER NOT NULL, status INTEGER NOT NULL, method INTEGER NOT NULL, requests INTEGER NOT NULL, bytes INTEGER NOT NULL, duration_us INTEGER NOT NULL, hist BLOB, PRIMARY KEY (start, site, status, method)) WITHOUT ROWID")
            try old.setUserVersion(4)
            let insert = try old.prepare("INSERT INTO requests (time, site, client, method, path, status, bytes, duration_us, user_agent) VALUES (?1, 'a.test', '10.0.0.1', 'GET', ?2, ?3, 100, 250, ?4)")
            for index in 0..<400 {
                insert.bind(UTCTime.storedText(epochMicros: 1_795_780_800_000_000 + Int64(index) * 61_000_000), at: 1)
                insert.bind("/p\(index % 9)", at: 2)
                insert.bind(index % 10 == 0 ? 404 : 200, at: 3)
                insert.bind(index % 4 == 0 ? "Googlebot/2.1" : "Mozilla/5.0", at: 4)
                try insert.step()
                insert.reset()
            }
            // Counted by the old rollups (here: not at all, as if folded before).
            try old.execute("UPDATE log_rollup_state SET covered_id = 400")
        }
        let writer = try AccessLogWriter(settings: settings)
        writer.shutdown()
        #expect(report.count(containing: "rebuilding the summaries") == 1)
        let database = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        #expect(try database.userVersion() == AccessLogSchema.currentVersion)
        #expect(try Rollup.differences(in: database) == [])
        let crawlers = try database.prepare("SELECT SUM(requests) FILTER (WHERE crawler = 1), SUM(requests) FROM log_minute")
        try crawlers.step()
        #expect(crawlers.int(at: 0) == 100)
        #expect(crawlers.int(at: 1) == 400)
    }
}
