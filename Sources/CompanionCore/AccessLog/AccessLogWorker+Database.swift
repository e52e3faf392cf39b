// AccessLogWorker+Database: opening the writer's connection (folder, file mode,
// WAL, busy_timeout, schema), noticing a removed file, and the retention DELETE.
import Glibc

extension AccessLogWorker {
    /// Reopens when the file at `settings.path` is no longer the one we have open
    /// (deleted, or its folder removed): writing to an unlinked file would lose rows.
    func ensureOpen() throws {
        if database != nil, let fileIdentity, !isSameFile(currentIdentity(), fileIdentity) {
            closeDatabase()
        }
        if database == nil { try openDatabase() }
    }

    /// Creates the folder and file when missing, opens, sets WAL and `busy_timeout`,
    /// migrates the schema, brings the rollups up to date and prepares the inserts.
    func openDatabase() throws {
        try createFolder(ofFile: settings.path)
        // SECURITY: the log holds client addresses; create it 0640, not the default 0644.
        // SQLite gives the -wal and -shm files the database file's mode.
        let fd = open(settings.path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw AccessLogError("cannot create \(settings.path): \(String(cString: strerror(errno)))") }
        close(fd)
        let database = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        database.setBusyTimeout(milliseconds: settings.busyTimeoutMs)
        // 16 KiB pages for a new file (an existing one keeps its size): SQLite writes each
        // WAL frame and copies each page at checkpoint with separate system calls, and the
        // rows are small, so bigger pages mean fewer calls per row. Measured with wrk and
        // the server on one core: the writer's CPU per row 590 ns (4 KiB) -> 515 ns; 8 KiB
        // 520-555, 32 and 64 KiB worse.
        try database.execute("PRAGMA page_size=16384")
        try database.enableWriteAheadLog()
        // WAL + NORMAL: a crash of the process loses nothing committed; only a power
        // loss may lose the last transactions. The file is never corrupted.
        try database.execute("PRAGMA synchronous=NORMAL")
        // A small page cache while the writer keeps up (see `sizePageCache`).
        try database.execute("PRAGMA cache_size=-\(Self.smallCacheKiB)")
        largeCache = false
        try database.registerCompanionFunctions()
        let before = try database.userVersion()
        if before > 0 && before < 4 {
            settings.report("companion: access log: converting \(settings.path) to the compact format of schema \(AccessLogSchema.currentVersion) (once; large files take a while)")
        } else if before == 4 || before == 5 {
            settings.report("companion: access log: converting \(settings.path) to schema \(AccessLogSchema.currentVersion): each row's site, host, method, protocol, encoding, scheme and TLS version as one id\(before == 4 ? "; rebuilding the summaries" : "") (once; large files take a while)")
        }
        try AccessLogSchema.migrate(database)
        newestRange = try loadNewestRange(database)
        coveredID = try catchUpRollups(in: database)
        insert = try database.prepare(AccessLogSchema.insertSQL)
        batchInsert = try database.prepare(AccessLogSchema.batchInsertSQL)
        var upserts: [SQLiteStatement] = []
        for rollup in Rollup.all { upserts.append(try database.prepare(rollup.upsertSQL)) }
        rollupUpserts = upserts
        self.database = database
        fileIdentity = currentIdentity()
    }

    private func isSameFile(_ found: (dev: UInt, ino: UInt)?, _ opened: (dev: UInt, ino: UInt)) -> Bool {
        guard let found else { return false }
        return found == opened
    }

    func currentIdentity() -> (dev: UInt, ino: UInt)? {
        var info = stat()
        guard stat(settings.path, &info) == 0 else { return nil }
        return (UInt(info.st_dev), UInt(info.st_ino))
    }

    /// `mkdir -p` of the folder holding `path` (mode 0750).
    func createFolder(ofFile path: String) throws {
        guard let slash = path.lastIndex(of: "/") else { return }
        let folder = String(path[..<slash])
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in folder.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST {
                throw AccessLogError("cannot create folder \(prefix): \(String(cString: strerror(errno)))")
            }
            var info = stat()
            if stat(prefix, &info) != 0 || info.st_mode & S_IFMT != S_IFDIR {
                throw AccessLogError("cannot create folder \(prefix): a file with that name is in the way")
            }
            prefix += "/"
        }
    }

    /// `accessLog.retainDays`: deletes old rows at start and then once an hour,
    /// in chunks, each its own short transaction so the lock is never held long.
    func pruneIfDue() {
        guard let days = settings.retainDays, held.isEmpty else { return }
        let now = monotonicMilliseconds()
        guard now >= nextRetentionMs else { return }
        if settings.postgresURL != nil {
            guard postgres != nil else { return }
            nextRetentionMs = now + 3_600_000
            prunePostgres(days: days)
            return
        }
        guard let database else { return }
        nextRetentionMs = now + 3_600_000
        // Whole UTC days, so a rollup row (a minute, an hour, a day) never counts rows the
        // raw table no longer has: rows are kept from the start of the day `days` ago.
        let cutoffDay = (UTCTime.nowMicros() / 86_400_000_000) - Int64(days)
        let cutoff = cutoffDay * 86_400_000
        do {
            // Old rows can only be in ranges that start before the cutoff (log_ranges
            // stands in for an index on t): look no further than their last id.
            let bound = try database.prepare("SELECT MAX(last_id) FROM log_ranges WHERE min_t < ?1")
            bound.bind(cutoff, at: 1)
            _ = try bound.step()
            if !bound.isNull(at: 0) {
                let lastID = bound.int64(at: 0)
                let delete = try database.prepare(
                    "DELETE FROM log WHERE id IN (SELECT id FROM log WHERE id <= ?2 AND t < ?1 ORDER BY id LIMIT 10000)")
                repeat {
                    delete.reset()
                    delete.bind(cutoff, at: 1)
                    delete.bind(lastID, at: 2)
                    _ = try delete.step()
                } while database.changes == 10000
            }
            // Ranges whose newest row is older than the cutoff have no rows left.
            let ranges = try database.prepare("DELETE FROM log_ranges WHERE max_t < ?1")
            ranges.bind(cutoff, at: 1)
            _ = try ranges.step()
            for rollup in Rollup.all {
                let trim = try database.prepare("DELETE FROM \(rollup.table) WHERE start < ?1")
                trim.bind(cutoff / 1000, at: 1)
                _ = try trim.step()
            }
            // Texts and shapes whose newest row is gone (a kept row's have its day or a later
            // one); the caches forget every id (a deleted one must not be reused).
            for table in ["strings", "shapes"] {
                let unused = try database.prepare("DELETE FROM \(table) WHERE day < ?1")
                unused.bind(cutoffDay, at: 1)
                _ = try unused.step()
            }
            forgetCachedIDs()
            newestRange = try loadNewestRange(database)
        } catch {
            settings.report("companion: access log: cannot delete rows older than \(days) days: \(error); trying again in an hour")
        }
    }
}

extension AccessLogWorker {
    /// The page cache while the writer keeps up: the rows are appended (the end of `log`,
    /// of each status's index run), so 512 KiB serves them; SQLite's 2 MiB default grew the
    /// server's RSS with the database (Tests/hostile/idle_connections.py: +4.4 MiB after
    /// three rounds of 5,000 rows).
    static let smallCacheKiB = 512
    /// The page cache while it is behind: the rollups' UPSERTs touch pages all over their
    /// tables (a day's paths, clients, referrers) and the `strings` index, which a small
    /// cache read again from the kernel for every commit. Measured with the analytics load
    /// (benchmarks/analytics.py's load.lua, server and writer on one core, 30 s): rows
    /// written 803k with 512 KiB, 1,134k with 8 MiB. Memory the queue of a writer that is
    /// behind already takes many times over.
    static let largeCacheKiB = 8192
    /// A commit of at least this many rows means the writer is behind (eight times the
    /// commit threshold: at 16,384 the small benchmark crossed it now and then, and each time
    /// the cache added 8 MiB to a peak RSS the issue wants small; the analytics load, which
    /// needs it, runs tens of thousands of rows behind).
    static let behindRows = 65_536
    /// Commits in a row below `behindRows` before the cache shrinks again.
    static let quietCommitsBeforeShrinking = 200

    /// Grows the page cache when this commit shows the writer behind, shrinks it once the
    /// writer has kept up for a while (SQLite frees the pages over the new size at once).
    func sizePageCache(rows: Int) {
        guard let database else { return }
        if rows >= Self.behindRows {
            quietCommits = 0
            if !largeCache, (try? database.execute("PRAGMA cache_size=-\(Self.largeCacheKiB)")) != nil { largeCache = true }
        } else if largeCache {
            quietCommits += 1
            if quietCommits >= Self.quietCommitsBeforeShrinking,
               (try? database.execute("PRAGMA cache_size=-\(Self.smallCacheKiB)")) != nil {
                largeCache = false
            }
        }
    }
}
