// AccessLogWriter: the public face of the access log. Event loops `append`
// records; a background thread (AccessLogWorker) commits them in batches.
// This file owns the hand-off between the two: the queue, the counters, and
// the start/flush/stop of the thread.
import CLinux
import Glibc

/// Writes access-log records to SQLite on its own thread, losing nothing.
///
/// Thread safety: `append`, `flush`, `shutdown` and `droppedCount` may be called
/// from any thread. The only state they share with the writer thread is
/// `AccessLogChannel.state`, a `Locked` (pthread mutex) held just long enough to move records in
/// or out of the queue; the SQLite connection belongs to the writer thread alone.
///
/// Pipeline:
/// 1. `append` moves the rows' batches into the queue under the mutex (no disk I/O, no
///    copy but of a small batch) and wakes the thread when the queue is large.
/// 2. The thread commits a row at most `commitLatencyMs` (50 ms, or `flushMs` if smaller)
///    after it was queued, or as soon as 2048 rows wait: it swaps the queue out and
///    inserts it in one transaction with a reused prepared statement.
/// 3. When a batch fails (locked, read-only, folder removed, disk full), the
///    thread keeps the records, retries with back-off, and says so once on stderr.
/// 4. `shutdown` writes everything that is left, then joins the thread.
public final class AccessLogWriter: Sendable {
    let settings: AccessLogSettings
    let channel: AccessLogChannel
    /// The writer thread; nil once `shutdown` has taken it. Guarded by its mutex.
    private let thread: Locked<pthread_t?>

    /// Opens (creating when needed) the database and starts the writer thread.
    ///
    /// Creates the database's folder, the file (mode 0640), the schema and its
    /// indexes, switches to WAL and sets `busy_timeout`.
    /// - Throws: `AccessLogError` naming the path and the cause when the folder or
    ///   the database cannot be created or opened.
    public init(settings: AccessLogSettings) throws {
        self.settings = settings
        let channel = AccessLogChannel(settings: settings)
        self.channel = channel
        let worker = try AccessLogWorker(settings: settings, channel: channel)
        // The worker moves to the new thread; nothing on this side touches it again.
        switch startThread(name: "companion-log", { worker.run() }) {
        case .success(let handle):
            thread = Locked(handle)
        case .failure(let error):
            throw AccessLogError("cannot start the access log thread: \(String(cString: strerror(error.code)))")
        }
    }

    deinit { shutdown() }

    /// Queues one record. Called from any event-loop thread; never waits for disk.
    ///
    /// Past `maxQueuedRecords` waiting records (the database is failing or too
    /// slow), the record is dropped and counted; the writer thread reports it.
    public func append(_ record: AccessLogRecord) {
        var rows = AccessLogQueue()
        rows.append(record)
        append(rows: &rows)
    }

    /// The records of `records`, queued under one lock (see `append(rows:)`); leaves
    /// `records` empty.
    public func append(contentsOf records: inout [AccessLogRecord]) {
        var rows = AccessLogQueue()
        for record in records { rows.append(record) }
        records.removeAll(keepingCapacity: true)
        append(rows: &rows)
    }

    /// Queues rows under one lock (an event loop hands over what its turn produced) and
    /// leaves `rows` empty. Their batches move into the queue without a copy; a small
    /// batch is copied into the queue's last one, and `rows` keeps it for the next turn
    /// (AccessLogQueue.take).
    ///
    /// Returns true when the writer is behind but working: `channel.pressureRows` or more
    /// rows wait and its last write did not fail. The loop then gives it the core for a
    /// moment (`EventLoop.handOverLogs`), so a writer slower than the requests bounds the
    /// queue's memory instead of letting it grow to `maxQueuedRecords`. A failing writer
    /// (a locked or missing database) is not waited for: its rows are held, then dropped
    /// and reported, and serving goes on at full speed.
    @discardableResult
    func append(rows: inout AccessLogQueue) -> Bool {
        guard !rows.isEmpty else { return false }
        let limit = settings.maxQueuedRecords
        let threshold = channel.wakeThreshold
        let pressureRows = channel.pressureRows
        let (shouldWake, isBehind) = channel.state.withLock { state -> (Bool, Bool) in
            let room = state.isClosed ? 0 : max(0, limit - state.queue.count)
            let taken = min(room, rows.count)
            let dropped = rows.count - taken
            let before = state.queue.count
            state.queue.take(&rows, rows: taken)
            state.accepted += taken
            var wake = before < threshold && state.queue.count >= threshold
            // The first row after a commit: the writer commits it within `commitLatencyMs`
            // (the clock is read once per commit, not per row). Only a writer asleep on an
            // empty queue needs waking for it; a busy one looks when its commit ends.
            if before == 0 && taken > 0 {
                state.firstQueuedMs = monotonicMilliseconds()
                if state.writerIdle {
                    state.writerIdle = false
                    wake = true
                }
            }
            if dropped > 0 {
                state.dropped += dropped
                state.episodeDropped += dropped
                if !state.isDropping {
                    state.isDropping = true
                    wake = true
                }
            }
            let isBehind = state.queue.count >= pressureRows && !state.writerFailing && !state.isClosed
            if isBehind { state.pressureNaps += 1 }
            return (wake, isBehind)
        }
        if shouldWake { channel.work.signal() }
        return isBehind
    }

    /// Blocks until every record appended before the call is committed (or, if
    /// the writer has stopped, given up). For tests and config reload.
    ///
    /// While the database is failing this waits for recovery.
    public func flush() {
        let target = channel.state.withLock { state -> Int in
            state.flushWanted = true
            return state.accepted
        }
        channel.work.signal()
        channel.waitUntilSettled(target)
    }

    /// Writes everything still queued, stops the thread and reports on stderr how
    /// many records were dropped, if any. Idempotent; later `append`s are dropped.
    ///
    /// When the database keeps failing, it retries for a grace period (10 s)
    /// before giving up on what it holds, so a stop cannot hang forever.
    public func shutdown() {
        let handle = thread.withLock { handle -> pthread_t? in
            defer { handle = nil }
            return handle
        }
        guard let handle else { return }
        channel.state.withLock { $0.isStopping = true }
        channel.work.signal()
        pthread_join(handle, nil)
        let dropped = droppedCount
        if dropped > 0 {
            settings.report("companion: access log: \(dropped) records were dropped and are missing from \(settings.path)")
        }
    }

    /// Records dropped so far (queue full, written after shutdown, or given up at shutdown).
    public var droppedCount: Int { channel.state.withLock { $0.dropped } }

    public struct Statistics: Sendable {
        public var queued: Int, written: Int, dropped: Int, writeErrors: Int
        /// Turns an event loop slept because this writer was behind (`append(rows:)`).
        public var pressureNaps = 0
    }

    /// Rows waiting now, committed, dropped, and failed writes (each retried), since start.
    public var statistics: Statistics {
        channel.state.withLock {
            Statistics(queued: $0.queue.count, written: $0.written, dropped: $0.dropped, writeErrors: $0.writeErrors,
                       pressureNaps: $0.pressureNaps)
        }
    }
}

/// A failure to set up the access log, as one sentence.
public struct AccessLogError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What appenders and the writer thread share. Every field of `State` is
/// guarded by `state`'s mutex; `work` and `settled` only carry wake-ups.
final class AccessLogChannel: Sendable {
    struct State {
        /// Rows waiting for the writer thread.
        var queue = AccessLogQueue()
        /// Records accepted by `append` so far (a sequence number for `flush`).
        var accepted = 0
        /// Records committed, or given up at shutdown (≤ accepted).
        var settled = 0
        /// Records committed to the database (≤ settled).
        var written = 0
        /// Writes that failed and were retried.
        var writeErrors = 0
        var dropped = 0
        /// A drop episode: the queue is full; ends when the writer takes the queue.
        var isDropping = false
        var episodeDropped = 0
        var isDropReported = false
        var flushWanted = false
        /// When the oldest waiting row was queued (monotonic ms); meaningful while the queue has rows.
        var firstQueuedMs: Int64 = 0
        /// The writer is waiting with nothing queued: the next row wakes it.
        var writerIdle = false
        var isStopping = false
        /// The writer thread has exited; nothing more will be written.
        var isClosed = false
        /// The writer's last write failed and waits to be retried (cleared by a commit).
        var writerFailing = false
        /// Hand-overs that found the writer behind and working (a loop slept after each).
        var pressureNaps = 0
    }

    let state = Locked(State())
    /// Appenders, `flush` and `shutdown` → writer thread.
    let work = WakeSignal()
    /// Writer thread → `flush` waiters.
    let settled = WakeSignal()
    /// Queue length at which `append` wakes the writer before its timer. Measured on the
    /// benchmark machine (writer and loop sharing one core, ~110k rows/s), when the writer
    /// cost ~1.2 us a row: 512-row batches cost 20% of throughput (WAL rewrites of the same
    /// pages per commit, and a context switch per batch), 4096 cost 13%, 8192 cost 9%,
    /// 16384 no better. With the writer at ~0.8 us a row, 2048 against 8192:
    /// +10% writer CPU a row (~75 ns, under 1% of the core at 115k rows/s), req/s within
    /// the noise, p99 0.93-1.11 vs 1.15-1.25 ms (shorter commits), and peak RSS 19-20 vs
    /// 23-24 MiB: the queue, the batch being written and the loop's batch each grow to what
    /// one commit holds.
    let wakeThreshold: Int

    /// How long a row may wait before the writer commits it while fewer than half of
    /// `wakeThreshold` rows wait: `companion logs --follow` sees a request this soon after it.
    /// Past that many rows (over ~20k rows/s) the writer waits for the threshold
    /// instead: a commit every 2048 rows (every ~18 ms at 115k rows/s).
    let commitLatencyMs: Int64

    /// Rows waiting at which a loop handing over more gives a working writer the core for
    /// a moment (`AccessLogWriter.append(rows:)`): twice what the writer stops napping at
    /// (`Pacing.backlogRows`, so it is not napping itself then), ~5 MiB of rows. A writer
    /// that keeps up on average never reaches it (a 404 flood at 160k req/s on one core:
    /// queue at most ~18k rows, no nap). One that cannot (measured with the writer
    /// reniced to 19 under that flood: ~1% of the core) would have let the queue grow to
    /// `maxQueuedRecords` and dropped rows; with the loop's naps the queue stayed under
    /// ~36k rows, nothing was dropped, and the flood was served at 150k req/s.
    let pressureRows: Int

    init(settings: AccessLogSettings) {
        pressureRows = max(1, min(2 * Pacing.backlogRows, settings.maxQueuedRecords / 2))
        wakeThreshold = max(1, min(2048, settings.maxQueuedRecords / 2))
        commitLatencyMs = Int64(max(1, min(settings.flushMs, 50)))
    }

    func waitUntilSettled(_ target: Int) {
        while true {
            let generation = settled.currentGeneration()
            if state.withLock({ $0.settled >= target || $0.isClosed }) { return }
            settled.wait(after: generation, deadlineMs: nil)
        }
    }
}
