// AccessLogWorker+Ranges: keeps `log_ranges`, the block-range summary of `t`
// that stands in for an index on it (see AccessLogSchema, versions 2 and 4).
// Every commit records the ids it inserted and the smallest and largest time
// among them, by widening the newest range or starting the next one. Writer
// thread only, inside the commit's transaction.

/// The `log_ranges` row with the largest `last_id`, as the writer last left it.
struct TimeRange: Equatable {
    var rowid: Int64
    var firstID: Int64
    var lastID: Int64
    /// Unix milliseconds.
    var minTime: Int64
    var maxTime: Int64
}

extension AccessLogWorker {
    /// The newest range in the file (nil when there is none yet).
    func loadNewestRange(_ database: SQLiteDatabase) throws(SQLiteError) -> TimeRange? {
        let statement = try database.prepare(
            "SELECT rowid, first_id, last_id, min_t, max_t FROM log_ranges ORDER BY last_id DESC LIMIT 1")
        guard try statement.step() else { return nil }
        return TimeRange(rowid: statement.int64(at: 0), firstID: statement.int64(at: 1), lastID: statement.int64(at: 2),
                         minTime: statement.int64(at: 3), maxTime: statement.int64(at: 4))
    }

    /// Records that rows `firstID...lastID` were just inserted with times (Unix milliseconds)
    /// from `minMilliseconds` to `maxMilliseconds`; returns the newest range afterwards, for the caller to keep once the
    /// transaction has committed.
    ///
    /// Ids inserted by this connection in one transaction are consecutive (SQLite gives a
    /// new row the largest rowid plus one). Rows another connection inserted since our last
    /// commit sit between our ranges; they get a range of their own from their actual times.
    func recordRange(in database: SQLiteDatabase, after newest: TimeRange?, firstID: Int64, lastID: Int64,
                     minMilliseconds minTime: Int64, maxMilliseconds maxTime: Int64) throws(SQLiteError) -> TimeRange {
        if var range = newest, firstID == range.lastID + 1, range.lastID - range.firstID + 1 < AccessLogSchema.rowsPerRange {
            let update = try database.prepare(
                "UPDATE log_ranges SET last_id = ?1, min_t = MIN(min_t, ?2), max_t = MAX(max_t, ?3) WHERE rowid = ?4")
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
                INSERT INTO log_ranges (first_id, last_id, min_t, max_t)
                SELECT MIN(id), MAX(id), MIN(t), MAX(t) FROM log WHERE id BETWEEN ?1 AND ?2 HAVING COUNT(*) > 0
                """)
            gap.bind(gapStart, at: 1)
            gap.bind(firstID - 1, at: 2)
            _ = try gap.step()
        }
        let insert = try database.prepare(
            "INSERT INTO log_ranges (first_id, last_id, min_t, max_t) VALUES (?1, ?2, ?3, ?4)")
        insert.bind(firstID, at: 1)
        insert.bind(lastID, at: 2)
        insert.bind(minTime, at: 3)
        insert.bind(maxTime, at: 4)
        _ = try insert.step()
        return TimeRange(rowid: database.lastInsertRowID, firstID: firstID, lastID: lastID, minTime: minTime, maxTime: maxTime)
    }
}
