import Glibc
import Testing
@testable import CompanionCore

/// Faults: the tests run as root, so chmod cannot make the file unwritable;
/// a lock held by another connection and a folder replaced by a file do.
@Suite struct AccessLogWriterFailureTests {
    @Test func lockedDatabaseHoldsRecordsReportsOnceAndWritesAfterRecovery() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        let settings = testSettings(folder, report)
        let writer = try AccessLogWriter(settings: settings)
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        try other.execute("BEGIN EXCLUSIVE")
        for index in 0..<20 { writer.append(sampleRecord(index)) }
        #expect(waitUntil(seconds: 5) { report.count(containing: "cannot write") == 1 })
        // Several retries happen while the lock is held; still one line.
        for index in 20..<40 { writer.append(sampleRecord(index)) }
        #expect(waitUntil(seconds: 0.5) { report.count(containing: "cannot write") > 1 } == false)
        try other.execute("COMMIT")
        writer.flush()
        #expect(rowCount(settings.path) == 40)
        writer.shutdown()
        #expect(report.all.count == 2)
        #expect(report.all.first?.hasPrefix("companion: access log: cannot write to \(settings.path): SQLite error 5 (database is locked)") == true)
        #expect(report.all.last?.hasPrefix("companion: access log: writing to \(settings.path) again") == true)
    }

    @Test func folderReplacedByAFileIsReportedAndRecoveredWhenItReturns() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        let settings = testSettings(folder, report)
        let writer = try AccessLogWriter(settings: settings)
        writer.append(sampleRecord(0))
        writer.flush()
        let logs = folder.path + "/logs"
        #expect(rename(logs, folder.path + "/old-logs") == 0)
        close(open(logs, O_CREAT | O_WRONLY, 0o600))
        // The five arrive in one hand-off (as a loop's batch does), so the writer holds all five
        // when it fails; one by one, a writer slowed by TSan took the first before the rest
        // arrived and recovered with fewer than five held (the flaky run stop 14 noted).
        var records = (1...5).map(sampleRecord)
        writer.append(contentsOf: &records)
        #expect(waitUntil(seconds: 5) { report.count(containing: "a file with that name is in the way") == 1 })
        unlink(logs)
        writer.flush()
        writer.shutdown()
        // The new file holds what was held; the moved one keeps the first row.
        #expect(rowCount(settings.path) == 5)
        #expect(rowCount(folder.path + "/old-logs/access.sqlite") == 1)
        #expect(report.count(containing: "cannot write") == 1)
        #expect(report.count(containing: "again; 5 held records written") == 1)
    }

    @Test func batchesFromTheLoopsAreCountedLikeSingleRecords() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        var settings = testSettings(folder, report)
        settings.maxQueuedRecords = 10
        let writer = try AccessLogWriter(settings: settings)
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        try other.execute("BEGIN EXCLUSIVE")
        var batch = [sampleRecord(0)]
        writer.append(contentsOf: &batch)
        #expect(batch.isEmpty)
        #expect(waitUntil(seconds: 5) { report.count(containing: "cannot write") == 1 })
        // 25 records in three batches while the writer holds one: 10 fit, 15 are dropped.
        for range in [1..<9, 9..<20, 20..<26] {
            batch = range.map(sampleRecord)
            writer.append(contentsOf: &batch)
            #expect(batch.isEmpty)
        }
        #expect(writer.droppedCount == 15)
        try other.execute("COMMIT")
        writer.shutdown()
        #expect(rowCount(settings.path) == 11)
        #expect(report.count(containing: "dropped 15 records while the queue was full") == 1)
    }

    @Test func fullQueueDropsCountsAndReportsOncePerEpisode() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        var settings = testSettings(folder, report)
        settings.maxQueuedRecords = 10
        let writer = try AccessLogWriter(settings: settings)
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        try other.execute("BEGIN EXCLUSIVE")
        // First the writer takes one record and fails on it; while it holds it, it takes nothing new.
        writer.append(sampleRecord(0))
        #expect(waitUntil(seconds: 5) { report.count(containing: "cannot write") == 1 })
        for index in 1...100 { writer.append(sampleRecord(index)) }
        #expect(writer.droppedCount == 90)
        #expect(waitUntil(seconds: 5) { report.count(containing: "queue full") == 1 })
        try other.execute("COMMIT")
        writer.shutdown()
        #expect(writer.droppedCount == 90)
        #expect(rowCount(settings.path) == 11)
        #expect(report.all == [
            report.all[0],
            "companion: access log: queue full (10 records waiting); dropping new records until the database catches up",
            "companion: access log: writing to \(settings.path) again; 1 held records written",
            "companion: access log: dropped 90 records while the queue was full",
            "companion: access log: 90 records were dropped and are missing from \(settings.path)",
        ])
    }

    @Test func shutdownGivesUpAfterTheGracePeriod() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        var settings = testSettings(folder, report)
        settings.shutdownGraceMs = 200
        let writer = try AccessLogWriter(settings: settings)
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        try other.execute("BEGIN EXCLUSIVE")
        for index in 0..<3 { writer.append(sampleRecord(index)) }
        writer.shutdown()
        #expect(writer.droppedCount == 3)
        #expect(report.count(containing: "giving up on 3 records") == 1)
        try other.execute("COMMIT")
    }
}

/// The writer's answer to a loop handing over rows (`AccessLogWriter.append(rows:)`): behind
/// and working (`pressureRows` waiting, its last write not failed) asks the loop to give it
/// the core for a moment; a failing writer is not waited for.
@Suite struct AccessLogPressureTests {
    /// `count` records handed over the way a loop does; whether the writer asked for time.
    static func handOver(_ writer: AccessLogWriter, _ range: Range<Int>) -> Bool {
        var rows = AccessLogQueue()
        for index in range { rows.append(sampleRecord(index)) }
        return writer.append(rows: &rows)
    }

    @Test func aWriterBehindButWorkingAsksForTimeAFailingOneDoesNot() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        var settings = testSettings(folder, report)
        settings.maxQueuedRecords = 100   // pressureRows 50
        settings.busyTimeoutMs = 60_000   // a lock makes the writer wait in SQLite, not fail
        let writer = try AccessLogWriter(settings: settings)
        #expect(writer.channel.pressureRows == 50)
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        try other.execute("BEGIN EXCLUSIVE")
        // The writer takes the first row and waits for the lock: working, and behind from here.
        #expect(!Self.handOver(writer, 0..<1))
        #expect(waitUntil(seconds: 5) { writer.statistics.queued == 0 })
        #expect(!Self.handOver(writer, 1..<50))   // 49 waiting
        #expect(Self.handOver(writer, 50..<51))   // 50: the loop is asked to sleep
        #expect(Self.handOver(writer, 51..<60))
        #expect(writer.statistics.pressureNaps == 2)
        try other.execute("COMMIT")
        writer.flush()
        #expect(rowCount(settings.path) == 60)
        #expect(!Self.handOver(writer, 60..<61))   // caught up
        writer.shutdown()
        #expect(writer.statistics.pressureNaps == 2 && writer.droppedCount == 0)
    }

    @Test func aFailingWriterIsNotWaitedFor() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        var settings = testSettings(folder, report)   // busy timeout 20 ms: a lock fails the write
        settings.maxQueuedRecords = 100
        let writer = try AccessLogWriter(settings: settings)
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        try other.execute("BEGIN EXCLUSIVE")
        #expect(!Self.handOver(writer, 0..<1))
        #expect(waitUntil(seconds: 5) { report.count(containing: "cannot write") == 1 })
        // 80 waiting, past pressureRows: held and, past 100, dropped, but never waited for.
        #expect(!Self.handOver(writer, 1..<81))
        #expect(!Self.handOver(writer, 81..<141))
        #expect(writer.statistics.pressureNaps == 0)
        try other.execute("COMMIT")
        writer.shutdown()
        #expect(rowCount(settings.path) + writer.droppedCount == 141)
    }
}

extension AccessLogWriterFailureTests {
    /// A commit that fails is rolled back with the `shapes` row it added; the writer must
    /// forget that id, which another connection may take before the retry (here: at once).
    /// The texts are committed before, so the retried row has the same seven ids.
    @Test func aRolledBackShapeIsNotReusedFromTheCache() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        let settings = testSettings(folder, report)
        let writer = try AccessLogWriter(settings: settings)
        writer.append(AccessLogRecord(timeMicros: UTCTime.nowMicros(), client: "10.0.0.1", method: "NEW", protocolVersion: "HTTP/1.1",
                                      status: 200, bytes: 0, durationMicros: 0))
        writer.flush()
        let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
        try other.execute("CREATE TRIGGER refuse_599 BEFORE INSERT ON log WHEN NEW.status = 599 BEGIN SELECT RAISE(FAIL, 'refused'); END")
        writer.append(AccessLogRecord(timeMicros: UTCTime.nowMicros(), client: "10.0.0.1", method: "NEW", status: 599, bytes: 0, durationMicros: 0))
        #expect(waitUntil(seconds: 5) { report.count(containing: "cannot write") == 1 })
        // The failed commit's shape id goes to another row's shape before the writer retries.
        try other.execute("""
            BEGIN IMMEDIATE;
            DROP TRIGGER refuse_599;
            INSERT INTO requests (time, client, method, status, bytes, duration_us)
                VALUES ('2026-12-07T00:00:00.000Z', '10.0.0.2', 'OTHER', 200, 0, 0);
            COMMIT;
            """)
        writer.flush()
        writer.shutdown()
        let methods = try other.prepare("SELECT status, method FROM requests ORDER BY status, method")
        var found: [String] = []
        while try methods.step() { found.append("\(methods.int(at: 0)) \(methods.text(at: 1) ?? "NULL")") }
        #expect(found == ["200 NEW", "200 OTHER", "599 NEW"])
    }
}
