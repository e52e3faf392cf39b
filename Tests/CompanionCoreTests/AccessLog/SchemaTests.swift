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
        let indexes = try database.prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
        var names: [String] = []
        while try indexes.step() { names.append(indexes.text(at: 0)!) }
        #expect(names == ["log_status_other", "sqlite_autoindex_strings_1"])
        for table in ["log", "strings", "log_ranges", "log_rollup_state"] + Rollup.all.map(\.table) {
            #expect(try database.hasTable(table), "\(table)")
        }
        let mode = try database.prepare("PRAGMA journal_mode")
        try mode.step()
        #expect(mode.text(at: 0) == "wal")
        let pageSize = try database.prepare("PRAGMA page_size")
        try pageSize.step()
        #expect(pageSize.int(at: 0) == 16384)
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
}
