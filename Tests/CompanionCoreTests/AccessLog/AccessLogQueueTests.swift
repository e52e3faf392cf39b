// AccessLogQueue: rows kept in order across batches, moved and copied between queues,
// and copies that share storage left alone by writes to the other.
import Testing
@testable import CompanionCore

@Suite struct AccessLogQueueTests {
    static func read(_ queue: AccessLogQueue) -> [AccessLogRecord] {
        queue.withRows { rows in rows.map(AccessLogBatchTests.record(of:)) }
    }

    /// A record whose row is about `size` bytes (its path is padded).
    static func record(_ n: Int, size: Int = 0) -> AccessLogRecord {
        var record = AccessLogBatchTests.record(n)
        record.path = "/p\(n)" + String(repeating: "x", count: max(0, size - 140))
        return record
    }

    /// Moves `records` one by one through a connection's pending batch into `queue`, as
    /// responses complete, with their bytes and durations set.
    static func complete(_ records: [AccessLogRecord], into queue: inout AccessLogQueue) -> [AccessLogRecord] {
        var pending = AccessLogBatch()
        var expected: [AccessLogRecord] = []
        for record in records {
            pending.append(record)
            queue.moveFirstRow(of: &pending, bytes: record.bytes + 1, durationMicros: record.durationMicros + 2)
            var done = record
            done.bytes += 1
            done.durationMicros += 2
            expected.append(done)
        }
        return expected
    }

    @Test func rowsPastOneBatchStartAnotherAndAreReadInOrder() {
        var queue = AccessLogQueue()
        // ~1,500 rows of ~200 bytes: several 64 KiB batches, none grown past its capacity.
        let expected = Self.complete((0..<1500).map { Self.record($0, size: 200) }, into: &queue)
        #expect(queue.count == 1500)
        #expect(queue.batches.count >= 4)
        #expect(queue.batches.allSatisfy { $0.capacity == AccessLogQueue.batchCapacity })
        #expect(Self.read(queue) == expected)
    }

    @Test func aRowLargerThanABatchGetsABatchOfItsOwn() {
        var queue = AccessLogQueue()
        let big = Self.record(1, size: AccessLogQueue.batchCapacity + 5000)
        let expected = Self.complete([Self.record(0), big, Self.record(2)], into: &queue)
        #expect(queue.batches.count == 3)
        #expect(Self.read(queue) == expected)
    }

    @Test func largeBatchesMoveAndSmallOnesAreCopiedIntoTheLast() {
        var writer = AccessLogQueue()
        var loop = AccessLogQueue()
        var expected = Self.complete((0..<400).map { Self.record($0, size: 200) }, into: &loop)   // > copiedBytes
        writer.take(&loop)
        #expect(loop.isEmpty && loop.batches.isEmpty)   // moved: the loop starts a new batch
        #expect(writer.batches.count == 2)
        expected += Self.complete([Self.record(900), Self.record(901)], into: &loop)   // small
        let loopCapacity = loop.batches.first?.capacity
        writer.take(&loop)
        #expect(writer.batches.count == 2)   // copied into the writer's last batch
        #expect(loop.isEmpty)
        expected += Self.complete([Self.record(902)], into: &loop)
        #expect(loop.batches.first?.capacity == loopCapacity)   // and the loop kept its storage
        writer.take(&loop)
        #expect(writer.count == 403)
        #expect(Self.read(writer) == expected)
    }

    @Test func takingFewerRowsDropsTheRest() {
        var writer = AccessLogQueue()
        var loop = AccessLogQueue()
        let expected = Self.complete((0..<700).map { Self.record($0, size: 200) }, into: &loop)
        writer.take(&loop, rows: 500)   // a whole batch, then part of the next
        #expect(loop.isEmpty)
        #expect(writer.count == 500)
        #expect(Self.read(writer) == Array(expected[..<500]))
        writer.take(&loop, rows: 0)
        #expect(writer.count == 500)
    }

    @Test func aCopySharesRowsUntilEitherWrites() {
        var writer = AccessLogQueue()
        var loop = AccessLogQueue()
        var written = Self.complete([Self.record(0)], into: &loop)
        writer.take(&loop)   // the writer's last batch, with room
        let rows = Self.complete((1..<4).map { Self.record($0) }, into: &loop)
        let mirror = loop   // what a loop hands a second (mirror) writer
        writer.take(&loop)   // copied: the loop keeps the storage the mirror shares
        written += rows
        let next = Self.complete([Self.record(8, size: 300), Self.record(9)], into: &loop)   // over the shared rows' offsets
        #expect(Self.read(mirror) == rows)
        #expect(Self.read(loop) == next)
        #expect(Self.read(writer) == written)
    }
}
