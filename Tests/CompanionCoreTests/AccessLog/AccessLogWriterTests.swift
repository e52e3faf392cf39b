import Glibc
import Testing
@testable import CompanionCore

@Suite struct AccessLogWriterTests {
    /// `--follow` and the report see a request soon after it: a queued row is committed
    /// within the writer's commit latency (50 ms), not at the next `flushMs` tick, which here
    /// is a minute away. (Before, the row waited for the tick: this test timed out.)
    @Test func aRowIsCommittedSoonAfterItIsQueuedWhateverTheFlushInterval() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var settings = testSettings(folder, ReportLines())
        settings.flushMs = 60_000
        let writer = try AccessLogWriter(settings: settings)
        defer { writer.shutdown() }
        writer.append(sampleRecord(1))
        #expect(waitUntil(seconds: 20) { rowCount(settings.path) == 1 })
        writer.append(sampleRecord(2))
        #expect(waitUntil(seconds: 20) { rowCount(settings.path) == 2 })
    }

    @Test func recordsFromTwoThreadsAreAllWrittenWithTheirValues() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        let settings = testSettings(folder, report)
        let writer = try AccessLogWriter(settings: settings)
        let perThread = 5000
        let threads = (0..<2).map { part in
            spawn { for index in 0..<perThread { writer.append(sampleRecord(part * perThread + index)) } }
        }
        threads.forEach { pthread_join($0, nil) }
        writer.shutdown()
        #expect(writer.droppedCount == 0)
        #expect(report.all.isEmpty)

        let database = try SQLiteDatabase(path: settings.path, mode: .readOnly)
        let rows = try LogQuery().rows(in: database, limit: 0)
        #expect(rows.count == 2 * perThread)
        let byPath = Dictionary(uniqueKeysWithValues: rows.map { ($0.path!, $0) })
        for index in [0, 1, 4999, 5000, 9999] {
            let record = sampleRecord(index)
            let row = try #require(byPath["/p/\(index)"])
            #expect(row.time == UTCTime.storedText(epochMicros: record.timeMicros))
            #expect(row.site == record.site && row.host == record.host && row.client == record.client)
            #expect(row.method == "GET" && row.query == record.query && row.protocolVersion == "HTTP/1.1")
            #expect(row.status == record.status && row.bytes == index && row.durationMicros == index * 3)
            #expect(row.referrer == record.referrer && row.userAgent == record.userAgent && row.encoding == record.encoding)
        }
    }

    @Test func rowsAreVisibleWithinTheFlushInterval() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var settings = testSettings(folder, ReportLines())
        settings.flushMs = 1000
        let writer = try AccessLogWriter(settings: settings)
        defer { writer.shutdown() }
        let start = monotonicMilliseconds()
        writer.append(sampleRecord(1))
        #expect(waitUntil(seconds: 1.5) { rowCount(settings.path) == 1 })
        #expect(monotonicMilliseconds() - start <= 1500)
    }

    @Test func flushWaitsForCommit() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var settings = testSettings(folder, ReportLines())
        settings.flushMs = 60_000
        let writer = try AccessLogWriter(settings: settings)
        defer { writer.shutdown() }
        for index in 0..<3 { writer.append(sampleRecord(index)) }
        writer.flush()
        #expect(rowCount(settings.path) == 3)
        writer.flush()
        #expect(rowCount(settings.path) == 3)
    }

    @Test func requestThatFailedToParseIsStoredWithNulls() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let settings = testSettings(folder, ReportLines())
        let writer = try AccessLogWriter(settings: settings)
        writer.append(AccessLogRecord(timeMicros: 0, client: "::1", status: 400, bytes: 0, durationMicros: 12))
        writer.shutdown()
        let rows = try LogQuery().rows(in: SQLiteDatabase(path: settings.path, mode: .readOnly), limit: 0)
        #expect(rows == [AccessLogRow(id: 1, time: "1970-01-01T00:00:00.000Z", client: "::1", status: 400, bytes: 0, durationMicros: 12)])
    }

    @Test func anonymizeClientsMasksAddresses() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var settings = testSettings(folder, ReportLines())
        settings.anonymizeClients = true
        let writer = try AccessLogWriter(settings: settings)
        for client in ["192.0.2.77", "2001:db8:1:2:3:4:5:6"] {
            writer.append(AccessLogRecord(timeMicros: 0, client: client, status: 200, bytes: 0, durationMicros: 0))
        }
        writer.shutdown()
        let rows = try LogQuery().rows(in: SQLiteDatabase(path: settings.path, mode: .readOnly), limit: 0)
        #expect(rows.map(\.client) == ["192.0.2.0", "2001:db8:1::"])
    }

    @Test func shutdownIsIdempotentAndLaterAppendsAreCounted() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let report = ReportLines()
        let settings = testSettings(folder, report)
        let writer = try AccessLogWriter(settings: settings)
        writer.append(sampleRecord(1))
        writer.shutdown()
        writer.shutdown()
        writer.append(sampleRecord(2))
        writer.flush()
        #expect(writer.droppedCount == 1)
        #expect(rowCount(settings.path) == 1)
    }

    @Test func retainDaysDeletesOldRows() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var settings = testSettings(folder, ReportLines())
        let writer = try AccessLogWriter(settings: settings)
        let day: Int64 = 86_400_000_000
        let now = UTCTime.nowMicros()
        for age in [30, 8, 6, 0] as [Int64] {
            writer.append(AccessLogRecord(timeMicros: now - age * day, client: "::1", status: 200, bytes: 0, durationMicros: 0))
        }
        writer.shutdown()
        settings.retainDays = 7
        let pruning = try AccessLogWriter(settings: settings)
        // Pruning runs before the thread's first batch; flushing one new row waits for both.
        pruning.append(AccessLogRecord(timeMicros: now, client: "::1", status: 200, bytes: 0, durationMicros: 0))
        pruning.flush()
        #expect(rowCount(settings.path) == 3)
        pruning.shutdown()
    }

    @Test func initFailsWithClearErrorWhenTheFolderCannotBeCreated() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let blocker = open(folder.path + "/logs", O_CREAT | O_WRONLY, 0o600)
        close(blocker)
        do {
            _ = try AccessLogWriter(settings: testSettings(folder, ReportLines()))
            Issue.record("init should fail")
        } catch {
            #expect("\(error)" == "cannot open the access log at \(folder.path)/logs/access.sqlite: cannot create folder \(folder.path)/logs: a file with that name is in the way")
        }
    }
}

/// Starts a thread running `body`; join it with `pthread_join`.
func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    pthread_create(&thread, nil, { raw in
        Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, context)
    return thread
}
