// AccessLogWorker+Ranges: keeps `requests_ranges`, the block-range summary of
// `time` that stands in for an index on it (see AccessLogSchema, version 2).
// Every commit records the ids it inserted and the smallest and largest time
// among them, by widening the newest range or starting the next one. Writer
// thread only, inside the commit's transaction.

/// The `requests_ranges` row with the largest `last_id`, as the writer last left it.
struct TimeRange: Equatable {
    var rowid: Int64
    var firstID: Int64
    var lastID: Int64
    var minTime: String
    var maxTime: String
}

extension AccessLogWorker {
    /// The newest range in the file (nil when there is none yet).
    func loadNewestRange(_ database: SQLiteDatabase) throws(SQLiteError) -> TimeRange? {
        let statement = try database.prepare(
            "SELECT rowid, first_id, last_id, min_time, max_time FROM requests_ranges ORDER BY last_id DESC LIMIT 1")
        guard try statement.step() else { return nil }
        return TimeRange(rowid: statement.int64(at: 0), firstID: statement.int64(at: 1), lastID: statement.int64(at: 2),
                         minTime: statement.text(at: 3) ?? "", maxTime: statement.text(at: 4) ?? "")
    }

    /// Records that rows `firstID...lastID` were just inserted with times from `minMicros`
    /// to `maxMicros`; returns the newest range afterwards, for the caller to keep once the
    /// transaction has committed.
    ///
    /// Ids inserted by this connection in one transaction are consecutive (SQLite gives a
    /// new row the largest rowid plus one). Rows another connection inserted since our last
    /// commit sit between our ranges; they get a range of their own from their actual times.
    func recordRange(in database: SQLiteDatabase, after newest: TimeRange?, firstID: Int64, lastID: Int64,
                     minMicros: Int64, maxMicros: Int64) throws(SQLiteError) -> TimeRange {
        let minTime = UTCTime.storedText(epochMicros: minMicros)
        let maxTime = UTCTime.storedText(epochMicros: maxMicros)
        if var range = newest, firstID == range.lastID + 1, range.lastID - range.firstID + 1 < AccessLogSchema.rowsPerRange {
            let update = try database.prepare(
                "UPDATE requests_ranges SET last_id = ?1, min_time = MIN(min_time, ?2), max_time = MAX(max_time, ?3) WHERE rowid = ?4")
            update.bind(lastID, at: 1)
            update.bind(minTime, at: 2)
            update.bind(maxTime, at: 3)
            update.bind(range.rowid, at: 4)
            _ = try update.step()
            range.lastID = lastID
            range.minTime = min(range.minTime, minTime)
            range.maxTime = max(range.maxTime, maxTime)
            return range
        }
        let gapStart = (newest?.lastID ?? 0) + 1
        if firstID > gapStart {
            let gap = try database.prepare("""
                INSERT INTO requests_ranges (first_id, last_id, min_time, max_time)
                SELECT MIN(id), MAX(id), MIN(time), MAX(time) FROM requests WHERE id BETWEEN ?1 AND ?2 HAVING COUNT(*) > 0
                """)
            gap.bind(gapStart, at: 1)
            gap.bind(firstID - 1, at: 2)
            _ = try gap.step()
        }
        let insert = try database.prepare(
            "INSERT INTO requests_ranges (first_id, last_id, min_time, max_time) VALUES (?1, ?2, ?3, ?4)")
        insert.bind(firstID, at: 1)
        insert.bind(lastID, at: 2)
        insert.bind(minTime, at: 3)
        insert.bind(maxTime, at: 4)
        _ = try insert.step()
        return TimeRange(rowid: database.lastInsertRowID, firstID: firstID, lastID: lastID, minTime: minTime, maxTime: maxTime)
    }
}
