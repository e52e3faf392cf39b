// The writer's page cache grows while it is behind (a commit of ≥ 16,384 rows) and
// shrinks back once it has kept up for 200 commits (AccessLogWorker.sizePageCache).
import Testing
@testable import CompanionCore

@Suite struct WriterPageCacheTests {
    @Test func largeWhileBehindSmallOnceCaughtUp() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let settings = testSettings(folder, ReportLines())
        let channel = AccessLogChannel(settings: settings)
        let worker = try AccessLogWorker(settings: settings, channel: channel)
        func commit(_ rows: Int) {
            channel.state.withLock { state in
                for index in 0..<rows { state.queue.append(sampleRecord(index % 40)) }
            }
            worker.writePending()
        }
        func cacheKiB() throws -> Int {
            let statement = try #require(worker.database).prepare("PRAGMA cache_size")
            _ = try statement.step()
            return -statement.int(at: 0)
        }
        commit(10)
        #expect(try cacheKiB() == AccessLogWorker.smallCacheKiB)
        commit(AccessLogWorker.behindRows)
        #expect(worker.largeCache)
        #expect(try cacheKiB() == AccessLogWorker.largeCacheKiB)
        for _ in 1..<AccessLogWorker.quietCommitsBeforeShrinking { commit(1) }
        #expect(try cacheKiB() == AccessLogWorker.largeCacheKiB)
        commit(1)
        #expect(!worker.largeCache)
        #expect(try cacheKiB() == AccessLogWorker.smallCacheKiB)
        let count = try #require(worker.database).prepare("SELECT COUNT(*) FROM log")
        _ = try count.step()
        #expect(count.int(at: 0) == 10 + AccessLogWorker.behindRows + AccessLogWorker.quietCommitsBeforeShrinking)
    }
}
