// AccessLogWorker: the writer thread's side of the access log. Owns the SQLite
// connection and the records taken from the queue but not yet committed.
// Loop: wait (timer, large queue, flush, stop) → take the queue → one
// transaction → settle; on failure keep the records and retry with back-off.
// Opening the file and retention live in AccessLogWorker+Database.swift.
import CLinux
import Glibc

/// Runs on the writer thread only; nothing here is shared (see `AccessLogChannel`).
final class AccessLogWorker {
    let settings: AccessLogSettings
    let channel: AccessLogChannel
    /// The open connection, nil after a failure that needs a reopen.
    var database: SQLiteDatabase?
    /// The PostgreSQL connection when `settings.postgresURL` is set (instead of `database`).
    var postgres: PostgresConnection?
    var insert: SQLiteStatement?
    /// `AccessLogSchema.batchInsertSQL`: 32 rows per execution.
    var batchInsert: SQLiteStatement?
    /// Scratch text of the rows being bound (see RowArena); owned by the writer thread.
    let arena = RowArena()
    /// `strings` ids by raw text, and by raw client address when clients are anonymised
    /// (the stored text differs from the raw one then).
    let strings = StringIDCache()
    let anonymizedClients = StringIDCache()
    /// This commit's rollup sums (kept between commits for their capacity; a commit works on
    /// a local copy, see `insertHeld`).
    var accumulator = RollupAccumulator()
    /// Whether each User-Agent id seen is a crawler's (the rollups' `crawler` dimension);
    /// emptied past `maxCrawlerAgents` ids.
    var crawlerAgents: [Int64: Bool] = [:]
    static let maxCrawlerAgents = 65_536
    /// `shapes` ids by their seven `strings` ids, with the newest day stored for each;
    /// emptied past `maxCachedShapes`.
    var shapes: [ShapeKey: (id: Int64, day: Int32)] = [:]
    static let maxCachedShapes = 65_536
    /// Whether the page cache is the large one, and commits since the writer was last behind
    /// (see `sizePageCache`).
    var largeCache = false
    var quietCommits = 0
    /// `Rollup.upsertSQL` per rollup, in `Rollup.all` order.
    var rollupUpserts: [SQLiteStatement] = []
    /// Statements on `strings`, prepared on first use.
    var stringStatements: StringStatements?
    /// `log_rollup_state.covered_id` as committed.
    var coveredID: Int64 = 0
    /// Device and inode of the open file, to notice the file or folder being removed.
    var fileIdentity: (dev: UInt, ino: UInt)?
    /// The stored text of row times, reusing the last second's (writer thread only).
    var timeFormatter = UTCTime.StoredTextFormatter()
    /// The newest `log_ranges` row as committed (see AccessLogWorker+Ranges.swift).
    var newestRange: TimeRange?
    /// Rows taken from the queue and not yet committed; kept across failures.
    var held = AccessLogQueue()
    /// The problem last reported on stderr, nil while writing works.
    var problem: String?
    var failures = 0
    var nextRetryMs: Int64 = 0
    var nextRetentionMs: Int64 = 0

    init(settings: AccessLogSettings, channel: AccessLogChannel) throws {
        self.settings = settings
        self.channel = channel
        do {
            if let url = settings.postgresURL {
                try openPostgres(url)
            } else {
                try openDatabase()
            }
        } catch {
            throw AccessLogError("cannot open the access log at \(settings.path): \(error)")
        }
    }

    /// The thread body; returns after `shutdown` once everything is written.
    func run() {
        // Nice 5 below the loops for this thread only (Linux applies PRIO_PROCESS with 0 to
        // the calling thread, which started at the server's nice value): a request arriving
        // while a batch is written preempts the writer at once. Measured with one
        // connection: p99 0.5 ms → 0.1-0.2 ms. At weight 335 vs the loops' 1024 the writer
        // still gets ~25% of a saturated core and needs ~8% at 150k rows/s (~0.5 µs per
        // row), so it keeps up (nothing lost). Relative, not 5 flat: under `nice -n 3` a flat
        // 5 would leave it only 2 below the loops.
        // And the loops' 0.1 ms slice: with the default one, EEVDF let the writer finish its
        // slice before a woken loop ran (one connection, 5 s runs: p99 348 µs in one run of
        // six, 90-140 µs in eight with the short slice).
        errno = 0
        let started = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)   // -1 is a valid nice value
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, errno == 0 ? min(19, started + 5) : 5)
        _ = companion_set_own_fair_slice(EventLoop.schedulerSliceNanoseconds)
        var nextTickMs = monotonicMilliseconds() + Int64(settings.flushMs)
        var stopDeadlineMs: Int64?
        pruneIfDue()
        while true {
            let generation = channel.work.currentGeneration()
            reportDropEpisodeStart()
            let now = monotonicMilliseconds()
            let (isWanted, isStopping, dueMs) = channel.state.withLock { state in
                let count = state.queue.count
                // Under load (half the threshold waiting) the threshold decides; see commitLatencyMs.
                let due = count == 0 || count >= channel.wakeThreshold / 2 ? Int64.max : state.firstQueuedMs + channel.commitLatencyMs
                state.writerIdle = count == 0
                return (count >= channel.wakeThreshold || state.flushWanted || state.isStopping, state.isStopping, due)
            }
            if isStopping && stopDeadlineMs == nil { stopDeadlineMs = now + Int64(settings.shutdownGraceMs) }
            let mayTry = held.isEmpty || now >= nextRetryMs
            if mayTry && (isWanted || now >= nextTickMs || now >= dueMs) {
                if now >= nextTickMs { nextTickMs = now + Int64(settings.flushMs) }
                pruneIfDue()
                writePending()
                if isStopping {
                    if held.isEmpty && channel.state.withLock({ $0.queue.isEmpty }) { break }
                    if !held.isEmpty, let stopDeadlineMs, monotonicMilliseconds() >= stopDeadlineMs {
                        giveUp()
                        break
                    }
                }
                continue
            }
            channel.work.wait(after: generation, deadlineMs: held.isEmpty ? min(nextTickMs, dueMs) : nextRetryMs)
        }
        channel.state.withLock { state in
            state.isClosed = true
            state.settled = state.accepted
        }
        channel.settled.signal()
        closeDatabase()
        postgres = nil
    }

    /// Takes the queue (unless records are still held from a failure) and commits it.
    func writePending() {
        if held.isEmpty {
            var endedEpisode: Int?
            channel.state.withLock { state in
                swap(&held, &state.queue)
                state.flushWanted = false
                if state.isDropping {
                    if state.isDropReported { endedEpisode = state.episodeDropped }
                    state.isDropping = false
                    state.isDropReported = false
                    state.episodeDropped = 0
                }
            }
            if let endedEpisode {
                settings.report("companion: access log: dropped \(endedEpisode) records while the queue was full")
            }
        }
        guard !held.isEmpty else {
            channel.settled.signal()
            return
        }
        do {
            if let url = settings.postgresURL {
                if postgres == nil { try openPostgres(url) }
                try insertHeldPostgres()
            } else {
                try ensureOpen()
                sizePageCache(rows: held.count)
                try insertHeld()
            }
            let count = held.count
            held.removeAll()   // frees the batches
            channel.state.withLock {
                $0.settled += count
                $0.written += count
                $0.writerFailing = false
            }
            channel.settled.signal()
            if problem != nil {
                settings.report("companion: access log: writing to \(settings.path) again; \(count) held records written")
                problem = nil
            }
            failures = 0
        } catch {
            noteFailure(error)
        }
    }

    /// One transaction for all held rows, with the prepared inserts reused: the rows, the
    /// rollups' sums of them (and of any rows another connection inserted since our last
    /// commit), the rollups' covered id and the time summary, all committed together.
    private func insertHeld() throws(SQLiteError) {
        guard let database, let insert, let batchInsert else { return }
        let anonymize = settings.anonymizeClients
        let batch = AccessLogSchema.batchRows
        let newest = newestRange
        let covered = coveredID
        // The per-row state lives in locals passed inout: a stored property of this class
        // costs a dynamic exclusivity check on every access (11 memo lookups a row took 5 % of
        // the writer's time), a local is checked at compile time.
        var accumulator = RollupAccumulator()
        swap(&accumulator, &self.accumulator)
        defer { swap(&accumulator, &self.accumulator) }
        let result = held.withRows { rows -> Result<(TimeRange, Int64), SQLiteError> in
            Result { () throws(SQLiteError) -> (TimeRange, Int64) in
                try database.immediateTransaction { () throws(SQLiteError) -> (TimeRange, Int64) in
                    defer { insert.reset(); batchInsert.reset() }
                    accumulator.removeAll()
                    var memo = FieldMemo()
                    var pacing = Pacing()
                    var minMilliseconds = Int64.max
                    var maxMilliseconds = Int64.min
                    for row in rows {
                        let time = row.timeMicros / 1000
                        minMilliseconds = min(minMilliseconds, time)
                        maxMilliseconds = max(maxMilliseconds, time)
                    }
                    var start = 0
                    while rows.count - start >= batch {
                        prepareArena(for: rows[start..<start + batch])
                        for offset in 0..<batch {
                            try bind(rows[start + offset], to: batchInsert, firstIndex: Int32(offset * AccessLogSchema.parametersPerRow + 1),
                                     anonymize: anonymize, memo: &memo, accumulator: &accumulator)
                        }
                        try batchInsert.step()
                        batchInsert.resetKeepingBindings()   // every parameter is bound again
                        start += batch
                        if start % Pacing.chunkRows == 0 { pacing.afterChunk(behind: isBehind()) }
                    }
                    while start < rows.count {
                        prepareArena(for: rows[start..<start + 1])
                        try bind(rows[start], to: insert, firstIndex: 1, anonymize: anonymize, memo: &memo, accumulator: &accumulator)
                        try insert.step()
                        insert.resetKeepingBindings()
                        start += 1
                    }
                    // The rollups' upserts and the commit's WAL write are the last chunk.
                    pacing.afterChunk(behind: isBehind())
                    let lastID = database.lastInsertRowID
                    let firstID = lastID - Int64(rows.count) + 1
                    // Rows another connection inserted since our last commit: fold them in.
                    if firstID > covered + 1 { try foldIntoRollups(in: database, from: covered + 1, through: firstID - 1) }
                    try accumulator.write(with: rollupUpserts)
                    try setCoveredID(lastID, in: database)
                    let range = try recordRange(in: database, after: newest, firstID: firstID, lastID: lastID,
                                                minMilliseconds: minMilliseconds, maxMilliseconds: maxMilliseconds)
                    return (range, lastID)
                }
            }
        }
        do {
            (newestRange, coveredID) = try result.get()
        } catch {
            // Ids cached during the rolled-back transaction may not exist.
            forgetCachedIDs()
            throw error
        }
    }

    /// Whether rows wait in the queue past `Pacing.backlogRows`, or the server is stopping:
    /// the writer then works without naps.
    private func isBehind() -> Bool {
        channel.state.withLock { $0.queue.count >= Pacing.backlogRows || $0.isStopping }
    }

    /// Sizes the arena for one statement execution: room for every query byte to become `\xHH`.
    private func prepareArena(for rows: ArraySlice<AccessLogBatch.Row>) {
        var textBytes = 0
        for row in rows { textBytes += row.length - AccessLogBatch.headerSize }
        arena.reset(minimumCapacity: 4 * textBytes)
    }

    /// Binds one row's 16 parameters starting at `firstIndex` (the time, the `strings` ids,
    /// the query text through `arena`, the numbers) and adds the row to the rollups' sums.
    private func bind(_ row: AccessLogBatch.Row, to statement: SQLiteStatement, firstIndex i: Int32, anonymize: Bool,
                      memo: inout FieldMemo, accumulator: inout RollupAccumulator) throws(SQLiteError) {
        let milliseconds = row.timeMicros / 1000
        let day = Int32(truncatingIfNeeded: milliseconds / 86_400_000)
        let offsets = Self.offsets
        statement.bind(milliseconds, at: i + offsets.time)
        statement.bind(row.status, at: i + offsets.status)
        statement.bind(row.bytes, at: i + offsets.bytes)
        statement.bind(row.durationMicros, at: i + offsets.duration)
        // The ids the rollups group by (the rest are only bound): no array per row.
        var site: Int64 = 0, method: Int64 = 0, path: Int64 = 0, referrer: Int64 = 0, userAgent: Int64 = 0, client: Int64 = 0
        var crawler: Int64 = 0
        // The seven ids `shapes` combines (0 for an absent text): bound as one shape id.
        var shape = ShapeKey()
        try row.forEachText { (field, text) throws(SQLiteError) in
            let at = i + offsets.text[field.rawValue]
            if field == .query {
                arena.bindLoggable(text, to: statement, at: at)
                return
            }
            let slot = offsets.shapeSlot[field.rawValue]
            guard let text else {
                if slot < 0 { statement.bind(nil as String?, at: at) }
                return
            }
            let id = try stringID(text, field: field, day: day, anonymize: anonymize, memo: &memo)
            if slot >= 0 {
                shape[slot] = id
            } else {
                statement.bind(id, at: at)
            }
            switch field {
            case .site: site = id
            case .method: method = id
            case .path: path = id
            case .referrer: referrer = id
            case .userAgent:
                userAgent = id
                if id != memo.agentID {
                    memo.agentID = id
                    memo.agentIsCrawler = isCrawler(id: id, text)
                }
                crawler = memo.agentIsCrawler ? 1 : 0
            case .client: client = id
            default: break
            }
        }
        statement.bind(try shapeID(shape, day: day, memo: &memo), at: i + offsets.shape)
        accumulator.add(RollupAccumulator.RowValues(
            milliseconds: milliseconds, site: site, status: Int64(row.status), method: method, path: path,
            referrer: referrer, userAgent: userAgent, client: client, crawler: crawler,
            bytes: row.bytes, durationMicros: row.durationMicros))
    }

    /// Forgets every `strings` id the writer remembers (texts, anonymised clients, crawler
    /// agents): after a rollback, a retention pass that deleted texts, or closing the file.
    func forgetCachedIDs() {
        strings.removeAll()
        shapes.removeAll()
        anonymizedClients.removeAll()
        crawlerAgents.removeAll()
    }

    /// `Crawler.matches(agent)`, remembered per `strings` id.
    private func isCrawler(id: Int64, _ agent: UnsafeRawBufferPointer) -> Bool {
        if let known = crawlerAgents[id] { return known }
        if crawlerAgents.count >= Self.maxCrawlerAgents { crawlerAgents.removeAll(keepingCapacity: true) }
        let found = Crawler.matches(agent)
        crawlerAgents[id] = found
        return found
    }

    /// Where each value sits among a row's parameters of `AccessLogSchema.insertSQL`
    /// (counted from `t`), looked up once from its column list; text fields in
    /// `AccessLogBatch.Field` order.
    /// One value, so a row pays one lazy-initialisation check, not one per offset (four
    /// separate statics cost ~90 instructions a row).
    private struct ParameterOffsets {
        /// A field's parameter (unused for the shape's fields).
        let text: [Int32] = AccessLogBatch.Field.allCases.map {
            AccessLogSchema.insertedColumns.contains($0.column) ? AccessLogSchema.parameterOffset(of: $0.column) : 0
        }
        /// A field's place in `ShapeKey`, -1 for the fields `log` keeps.
        let shapeSlot: [Int] = AccessLogBatch.Field.allCases.map { AccessLogSchema.shapeColumns.firstIndex(of: $0.column) ?? -1 }
        let shape = AccessLogSchema.parameterOffset(of: "shape")
        let time = AccessLogSchema.parameterOffset(of: "t")
        let status = AccessLogSchema.parameterOffset(of: "status")
        let bytes = AccessLogSchema.parameterOffset(of: "bytes")
        let duration = AccessLogSchema.parameterOffset(of: "duration_us")
    }
    private static let offsets = ParameterOffsets()

    /// Schedules a retry with back-off and reports the problem once.
    private func noteFailure(_ error: any Error) {
        failures += 1
        channel.state.withLock {
            $0.writeErrors += 1
            $0.writerFailing = true
        }
        let delay = min(settings.maxRetryDelayMs, 100 << min(failures - 1, 16))
        nextRetryMs = monotonicMilliseconds() + Int64(delay)
        if settings.postgresURL != nil {
            postgres = nil   // start over with a new connection (a restarted server, a dropped link)
        } else if let sqlite = error as? SQLiteError, sqlite.isBusy {
            // Another connection holds the lock: keep ours, try again later.
        } else {
            // Read-only, I/O error, file moved: start over with a fresh connection.
            closeDatabase()
            fileIdentity = nil
        }
        let text = "\(error)"
        if text != problem {
            problem = text
            settings.report("companion: access log: cannot write to \(settings.path): \(text); holding \(held.count) records and retrying")
        }
    }

    /// Shutdown with a database that still fails: count what is held and queued as dropped.
    private func giveUp() {
        let lost = channel.state.withLock { state -> Int in
            let lost = held.count + state.queue.count
            state.dropped += lost
            state.queue.removeAll()
            return lost
        }
        held.removeAll()
        settings.report("companion: access log: giving up on \(lost) records at shutdown: \(problem ?? "the database cannot be written")")
    }

    /// Reports the start of a drop episode (the queue is full) once.
    private func reportDropEpisodeStart() {
        let waiting = channel.state.withLock { state -> Int? in
            guard state.isDropping, !state.isDropReported else { return nil }
            state.isDropReported = true
            return state.queue.count
        }
        if let waiting {
            settings.report("companion: access log: queue full (\(waiting) records waiting); dropping new records until the database catches up")
        }
    }
}

/// The writer's duty cycle inside a transaction: after every `chunkRows` rows (and before
/// the rollups and the commit) it sleeps `napFactor` times the CPU time they took, so an event
/// loop sharing its core keeps three quarters of it while a commit is written, in turns of
/// ~0.1 ms.
///
/// Measured (wrk, 64 connections, server on one core, `perf sched timehist`): with a 50 µs
/// nap every 1024 rows the writer woke from each nap, preempted the loop and ran 0.4 ms, so
/// during a commit the loop had a fifth of the core: p99 1.6-1.8 ms (0.5 ms with the log
/// off). Paced: p99 0.77-0.86 ms at the same throughput (chunks of 128 rows: 2 % fewer
/// requests for the extra switches; 512: the same as 256). The writer needs ~7 % of the
/// core at 130k rows/s, so a quarter keeps up; past `backlogRows` waiting it stops napping
/// rather than let the queue grow. Naps, not `sched_yield`: under EEVDF each yield of this
/// nice-5 thread pushed its deadline back, so under a saturated loop it starved for up to a
/// second, the queue grew (RSS 25 -> 160 MiB) and the catch-up batches stalled requests.
struct Pacing {
    static let chunkRows = 256
    static let napFactor: Int64 = 3
    static let maxNapMicros: Int64 = 2_000
    static let backlogRows = 16_384
    /// On this thread's CPU clock: a chunk the loop preempted took longer on the wall clock
    /// but not longer here, and a nap sized on the wall clock let the writer fall behind
    /// (the queue's buffers then grew to 8 MiB).
    private var chunkStartMicros = threadCPUMicroseconds()

    mutating func afterChunk(behind: Bool) {
        let now = threadCPUMicroseconds()
        if !behind {
            let nap = min((now - chunkStartMicros) * Self.napFactor, Self.maxNapMicros)
            var request = timespec(tv_sec: 0, tv_nsec: Int(nap) * 1000)
            nanosleep(&request, nil)
        }
        chunkStartMicros = now
    }
}
