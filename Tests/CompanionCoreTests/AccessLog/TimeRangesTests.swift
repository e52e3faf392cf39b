// log_ranges, the summary that stands in for an index on time (schema
// versions 2 and 4): `--since`/`--until` answers must equal a plain scan of `time`
// whatever the order of the rows, across commits, rows from other connections,
// a migrated version 1 file and retention; and SQLite must use the id bounds
// and the partial status index.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct TimeRangesTests {
    static let base: Int64 = 1_795_780_800_000_000   // 2026-11-28T00:00:00Z

    static func record(_ offsetMs: Int64, status: Int = 200) -> AccessLogRecord {
        AccessLogRecord(timeMicros: base + offsetMs * 1000, client: "192.0.2.1", method: "GET", path: "/",
                        status: status, bytes: 0, durationMicros: 0)
    }

    /// `--since`/`--until` through LogQuery (using the ranges) against a scan of `time`.
    static func checkTimeQueries(_ path: String, offsetsMs: [Int64], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let database = try SQLiteDatabase(path: path, mode: .readOnly)
        #expect(try database.hasTable("log_ranges"), sourceLocation: sourceLocation)
        let scan = try database.prepare("SELECT COUNT(*) FROM requests WHERE time >= ?1 AND time < ?2")
        for since in offsetsMs {
            for until in offsetsMs where until > since {
                let query = LogQuery(sinceMicros: base + since * 1000, untilMicros: base + until * 1000)
                scan.reset()
                scan.bind(UTCTime.storedText(epochMicros: base + since * 1000), at: 1)
                scan.bind(UTCTime.storedText(epochMicros: base + until * 1000), at: 2)
                _ = try scan.step()
                #expect(try query.count(in: database) == scan.int(at: 0), "since \(since) until \(until)",
                        sourceLocation: sourceLocation)
            }
            let open = LogQuery(sinceMicros: base + since * 1000)
            let rows = try open.rows(in: database, limit: 0)
            #expect(rows.allSatisfy { $0.time >= UTCTime.storedText(epochMicros: base + since * 1000) }, sourceLocation: sourceLocation)
            let through = LogQuery(untilMicros: base + since * 1000)
            #expect(try open.count(in: database) + through.count(in: database) == rowCount(path), sourceLocation: sourceLocation)
        }
    }

    static func ranges(_ path: String) throws -> [[String]] {
        let database = try SQLiteDatabase(path: path, mode: .readOnly)
        let statement = try database.prepare("SELECT first_id, last_id, min_t, max_t FROM log_ranges ORDER BY first_id")
        var found: [[String]] = []
        while try statement.step() {
            found.append(["\(statement.int64(at: 0))", "\(statement.int64(at: 1))",
                          UTCTime.storedText(epochMicros: statement.int64(at: 2) * 1000), UTCTime.storedText(epochMicros: statement.int64(at: 3) * 1000)])
        }
        return found
    }

    @Test func outOfOrderRowsOverSeveralCommitsAndAnotherWriter() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let settings = testSettings(folder, ReportLines())
        let writer = try AccessLogWriter(settings: settings)
        // Commit 1: times out of order, as long requests finish after short ones.
        for offset in [100, 40, 300, 200, 250] as [Int64] { writer.append(Self.record(offset)) }
        writer.flush()
        // Another connection adds rows between two of our commits.
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        try other.execute("INSERT INTO requests (time, client, status, bytes, duration_us) VALUES ('\(UTCTime.storedText(epochMicros: Self.base + 5_000))', '::1', 200, 0, 0)")
        // Commit 2: one row older than everything before it.
        for offset in [10, 600, 450] as [Int64] { writer.append(Self.record(offset)) }
        writer.shutdown()
        #expect(rowCount(settings.path) == 9)
        #expect(try Self.ranges(settings.path) == [
            ["1", "5", UTCTime.storedText(epochMicros: Self.base + 40_000), UTCTime.storedText(epochMicros: Self.base + 300_000)],
            ["6", "6", UTCTime.storedText(epochMicros: Self.base + 5_000), UTCTime.storedText(epochMicros: Self.base + 5_000)],
            ["7", "9", UTCTime.storedText(epochMicros: Self.base + 10_000), UTCTime.storedText(epochMicros: Self.base + 600_000)],
        ])
        try Self.checkTimeQueries(settings.path, offsetsMs: [0, 5, 6, 10, 11, 40, 100, 250, 300, 301, 450, 600, 601])
    }

    @Test func rowsAfterTheLastRangeAreFoundBeforeTheWriterSummarisesThem() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let settings = testSettings(folder, ReportLines())
        let writer = try AccessLogWriter(settings: settings)
        for offset in [100, 200] as [Int64] { writer.append(Self.record(offset)) }
        writer.shutdown()
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        for offset in [50, 900] as [Int64] {
            try other.execute("INSERT INTO requests (time, client, status, bytes, duration_us) VALUES ('\(UTCTime.storedText(epochMicros: Self.base + offset * 1000))', '::1', 200, 0, 0)")
        }
        try Self.checkTimeQueries(settings.path, offsetsMs: [0, 50, 51, 100, 150, 200, 201, 900, 901])
    }

    @Test func aRangeIsWidenedUpToItsSizeThenTheNextStarts() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let settings = testSettings(folder, ReportLines())
        let writer = try AccessLogWriter(settings: settings)
        var batch = (0..<40_000).map { Self.record(Int64($0)) }
        writer.append(contentsOf: &batch)
        writer.flush()
        batch = (40_000..<80_000).map { Self.record(Int64($0)) }
        writer.append(contentsOf: &batch)
        writer.flush()
        batch = (80_000..<80_010).map { Self.record(Int64($0)) }
        writer.append(contentsOf: &batch)
        writer.shutdown()
        let ranges = try Self.ranges(settings.path)
        #expect(ranges.map { [$0[0], $0[1]] } == [["1", "80000"], ["80001", "80010"]])
        try Self.checkTimeQueries(settings.path, offsetsMs: [0, 39_999, 40_000, 79_999, 80_000, 80_005, 80_010])
    }

    @Test func versionOneFilesGetRangesForTheirRows() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let settings = testSettings(folder, ReportLines())
        try createFolderForTest(folder.path + "/logs")
        do {
            let old = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
            try old.execute(AccessLogSchema.migrations[0].sql)
            try old.setUserVersion(1)
            for offset in [500, 100, 300, 200] as [Int64] {
                try old.execute("INSERT INTO requests (time, client, status, bytes, duration_us) VALUES ('\(UTCTime.storedText(epochMicros: Self.base + offset * 1000))', '::1', 404, 0, 0)")
            }
            // Before a server opens it, `logs` says the server converts it.
            #expect(throws: SQLiteError.self) { try SQLiteLogReader(database: old) }
        }
        let writer = try AccessLogWriter(settings: settings)
        writer.append(Self.record(50))
        writer.shutdown()
        // The migration summarised rows 1-4; the writer's first commit continues that range.
        #expect(try Self.ranges(settings.path) == [
            ["1", "5", UTCTime.storedText(epochMicros: Self.base + 50_000), UTCTime.storedText(epochMicros: Self.base + 500_000)],
        ])
        try Self.checkTimeQueries(settings.path, offsetsMs: [0, 50, 51, 100, 250, 500, 501])
        let database = try SQLiteDatabase(path: settings.path, mode: .readOnly)
        #expect(try database.userVersion() == AccessLogSchema.currentVersion)
        #expect(try LogQuery(statusRanges: [404...404]).count(in: database) == 4)
    }

    @Test func retentionDeletesOldRowsAndTheirRanges() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var settings = testSettings(folder, ReportLines())
        let day: Int64 = 86_400_000_000
        let now = UTCTime.nowMicros()
        for age in [[40, 35], [20, 3], [1]] as [[Int64]] {
            // One writer per group: separate commits, and a new range after each restart
            // only when the ids do not continue (they do here, so ranges are widened).
            let writer = try AccessLogWriter(settings: settings)
            for days in age {
                // Each age its own method, so its own shape.
                writer.append(AccessLogRecord(timeMicros: now - days * day, client: "::1", method: "M\(days)", path: "/only-\(days)",
                                              status: 200, bytes: 0, durationMicros: 0))
            }
            writer.shutdown()
        }
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        // Split the summary as a long run would have: a range entirely older than 7 days.
        try other.execute("DELETE FROM log_ranges")
        try other.execute("INSERT INTO log_ranges SELECT id, id, t, t FROM log")
        settings.retainDays = 7
        let pruning = try AccessLogWriter(settings: settings)
        pruning.append(AccessLogRecord(timeMicros: now, client: "::1", status: 200, bytes: 0, durationMicros: 0))
        pruning.shutdown()
        #expect(rowCount(settings.path) == 3)
        let ranges = try Self.ranges(settings.path)
        #expect(ranges.map { [$0[0], $0[1]] } == [["4", "4"], ["5", "6"]])
        // Retention keeps whole days and trims the rollups with the rows: they still count
        // exactly the rows that are left, and no rollup row is older than the oldest row.
        let database = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        #expect(try Rollup.differences(in: database) == [])
        // Texts only deleted rows used are gone; the others stay.
        let paths = try database.prepare("SELECT value FROM strings WHERE value LIKE '/only-%' ORDER BY value")
        var kept: [String] = []
        while try paths.step() { kept.append(paths.text(at: 0) ?? "") }
        #expect(kept == ["/only-1", "/only-3"])
        // Shapes likewise: every one left is a kept row's, and every kept row has its own.
        let shapes = try database.prepare("""
            SELECT (SELECT COUNT(*) FROM shapes), (SELECT COUNT(*) FROM shapes WHERE id NOT IN (SELECT shape FROM log)),
                   (SELECT COUNT(*) FROM log WHERE shape NOT IN (SELECT id FROM shapes))
            """)
        try shapes.step()
        #expect([shapes.int(at: 0), shapes.int(at: 1), shapes.int(at: 2)] == [3, 0, 0])   // M1, M3, and no method
        for rollup in Rollup.all {
            let oldest = try database.prepare("SELECT COUNT(*) FROM \(rollup.table) WHERE start * 1000 < (SELECT MIN(t) FROM log) / 86400000 * 86400000")
            try oldest.step()
            #expect(oldest.int(at: 0) == 0, "\(rollup.table)")
        }
    }

    @Test func queriesUseTheIdBoundsAndThePartialStatusIndex() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let settings = testSettings(folder, ReportLines())
        let writer = try AccessLogWriter(settings: settings)
        writer.append(Self.record(1, status: 404))
        writer.shutdown()
        let database = try SQLiteDatabase(path: settings.path, mode: .readOnly)
        let reader = try SQLiteLogReader(database: database)
        func plan(_ query: LogQuery) throws -> String {
            let (clause, values) = reader.rawWhere(RawSpec(query: query))
            let statement = try database.prepare("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM log" + clause)
            for (offset, value) in values.enumerated() {
                switch value {
                case .text(let text): statement.bind(text, at: Int32(offset + 1))
                case .integer(let number): statement.bind(number, at: Int32(offset + 1))
                }
            }
            var lines: [String] = []
            while try statement.step() { lines.append(statement.text(at: 3) ?? "") }
            return lines.joined(separator: "\n")
        }
        #expect(try plan(LogQuery(sinceMicros: Self.base)).contains("SEARCH log USING INTEGER PRIMARY KEY"))
        #expect(try plan(LogQuery(untilMicros: Self.base)).contains("SEARCH log USING INTEGER PRIMARY KEY"))
        #expect(try plan(LogQuery(statusRanges: [404...404])).contains("INDEX log_status_other"))
        #expect(try plan(LogQuery(statusRanges: [500...599, 404...404])).contains("log_status_other"))
        #expect(try plan(LogQuery(statusRanges: [200...299])).contains("SCAN log"))
    }
}

/// `mkdir -p` for tests.
func createFolderForTest(_ path: String) throws {
    var prefix = ""
    for component in path.split(separator: "/") {
        prefix += "/" + component
        _ = mkdir(prefix, 0o750)
    }
}
