// The questions of SQLiteLogReader as LogQuery methods on a database, for tests that
// ask one question of a file (the reader is made per call; it caches nothing that
// matters for them).
@testable import CompanionCore

extension LogQuery {
    func rows(in database: SQLiteDatabase, limit: Int, afterID: Int64? = nil, throughID: Int64? = nil) throws -> [AccessLogRow] {
        try SQLiteLogReader(database: database).rows(self, limit: limit, afterID: afterID, throughID: throughID)
    }

    func count(in database: SQLiteDatabase) throws -> Int {
        try SQLiteLogReader(database: database).count(self)
    }

    func summary(in database: SQLiteDatabase) throws -> LogSummary {
        try SQLiteLogReader(database: database).summary(self)
    }

    func groups(in database: SQLiteDatabase, by key: LogGroupKey, top: Int) throws -> [LogGroup] {
        try SQLiteLogReader(database: database).groups(self, LogGrouping(keys: [key], top: top))
    }

    static func maxID(in database: SQLiteDatabase) throws -> Int64 {
        try SQLiteLogReader.maxID(in: database)
    }
}

extension LogGroup {
    init(value: LogValue?, count: Int, bytes: Int, durationMicros: Int = 0) {
        self.init(values: [value], count: count, bytes: bytes, durationMicros: durationMicros)
    }
}
