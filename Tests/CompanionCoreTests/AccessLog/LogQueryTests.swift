import Testing
@testable import CompanionCore

@Suite struct LogQueryTests {
    /// A database with statuses 200, 301, 404, 404, 500 on paths /a, /b/x, /b/y, /c, /b/z.
    func database() throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: ":memory:", mode: .readWriteCreate)
        try AccessLogSchema.migrate(database)
        // Through the view's INSTEAD OF INSERT trigger, as another tool would add rows.
        let insert = try database.prepare("INSERT INTO requests (time, client, path, status, bytes, duration_us) VALUES (?1, ?2, ?3, ?4, ?5, 0)")
        for (index, (status, path)) in [(200, "/a"), (301, "/b/x"), (404, "/b/y"), (404, "/c"), (500, "/b/z")].enumerated() {
            insert.bind(UTCTime.storedText(epochMicros: Int64(index) * 60_000_000), at: 1)
            insert.bind("10.0.0.\(index % 2)", at: 2)
            insert.bind(path, at: 3)
            insert.bind(status, at: 4)
            insert.bind(index * 10, at: 5)
            try insert.step()
            insert.reset()
        }
        return database
    }

    @Test(arguments: [
        (LogQuery(), [1, 2, 3, 4, 5]),
        (LogQuery(statusRanges: [400...499]), [3, 4]),
        (LogQuery(statusRanges: [200...200, 500...599]), [1, 5]),
        (LogQuery(pathGlob: "/b/*"), [2, 3, 5]),
        (LogQuery(pathGlob: "/b/[xy]"), [2, 3]),
        (LogQuery(client: "10.0.0.1"), [2, 4]),
        (LogQuery(sinceMicros: 60_000_000, untilMicros: 180_000_000), [2, 3]),
        (LogQuery(statusRanges: [400...499], pathGlob: "/b/*"), [3]),
    ] as [(LogQuery, [Int64])])
    func filters(query: LogQuery, ids: [Int64]) throws {
        let database = try database()
        #expect(try query.rows(in: database, limit: 0).map(\.id) == ids)
        #expect(try query.count(in: database) == ids.count)
    }

    @Test func limitAfterAndThrough() throws {
        let database = try database()
        #expect(try LogQuery().rows(in: database, limit: 2).map(\.id) == [4, 5])
        #expect(try LogQuery().rows(in: database, limit: 2, throughID: 3).map(\.id) == [2, 3])
        #expect(try LogQuery().rows(in: database, limit: 0, afterID: 3).map(\.id) == [4, 5])
        #expect(try LogQuery.maxID(in: database) == 5)
    }

    @Test func summaryAndGroups() throws {
        let database = try database()
        #expect(try LogQuery().summary(in: database)
            == LogSummary(requests: 5, uniqueClients: 2, bytes: 100, statusClasses: [0, 1, 1, 2, 1],
                          percentiles: LogPercentiles(p50: 0, p95: 0, p99: 0)))
        #expect(try LogQuery().groups(in: database, by: .status, top: 2)
            == [LogGroup(value: .integer(404), count: 2, bytes: 50), LogGroup(value: .integer(500), count: 1, bytes: 40)])
        #expect(try LogQuery().groups(in: database, by: .site, top: 0) == [LogGroup(value: nil, count: 5, bytes: 100)])
    }
}
