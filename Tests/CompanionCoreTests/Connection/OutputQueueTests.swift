// OutputQueue over a MemoryTransport: response order, partial writes, blocking, files,
// back-pressure, and a file that shrinks after its head promised a length.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct OutputQueueTests {
    /// Writes until the queue is empty or the transport stops taking bytes.
    static func writeAll(_ queue: inout OutputQueue, to transport: inout MemoryTransport) -> OutputQueue.WriteStep {
        var last = OutputQueue.WriteStep.wrote(0)
        var pool = BufferPool()
        while !queue.isEmpty {
            last = queue.writeSome(to: &transport, pool: &pool)
            if case .wrote = last { continue }
            return last
        }
        return last
    }

    /// Compares without printing megabytes of bytes when it fails.
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool { a == b }

    static func openFile(_ directory: TempDirectory, _ name: String) -> OpenFile {
        OpenFile(adopting: open(directory.path + "/" + name, O_RDONLY | O_CLOEXEC))!
    }

    /// With `finFollows` (the connection closes after this queue) the last item's writes
    /// carry MSG_MORE, so the close's FIN leaves with its last segment; earlier items keep
    /// their own flags, and without `finFollows` the last write pushes.
    @Test(arguments: [false, true])
    func theLastItemIsHeldForTheFINOfAClose(finFollows: Bool) {
        let directory = TempDirectory()
        directory.write("big.bin", [UInt8](repeating: 7, count: OutputQueue.smallBodyLimit + 100))   // sent from the file
        var queue = OutputQueue()
        queue.enqueue(.none, head: Array("HEAD1\r\n".utf8))
        let file = Self.openFile(directory, "big.bin")
        queue.enqueue(.file(file, 0..<file.size), head: Array("HEAD2\r\n".utf8))
        queue.enqueue(.bytes(Array("tail".utf8), 0..<4), head: Array("HEAD3\r\n".utf8))
        var transport = MemoryTransport()
        transport.writeChunk = 5   // the last item takes two writes
        var pool = BufferPool()
        while !queue.isEmpty {
            guard case .wrote = queue.writeSome(to: &transport, pool: &pool, finFollows: finFollows) else { break }
        }
        #expect(queue.isEmpty)
        let lastWrites = transport.moreFlags.suffix(3)   // "HEAD3\r\ntail" in 5-byte pieces
        #expect(Array(lastWrites) == [finFollows, finFollows, finFollows])
        // HEAD1 alone: pushed either way; HEAD2 is held for its file's first bytes.
        #expect(Array(transport.moreFlags.prefix(4)) == [false, false, true, true])
    }

    @Test func responsesGoOutInOrderThroughPartialWrites() {
        var queue = OutputQueue()
        let large = [UInt8]((0..<40_000).map { UInt8($0 % 251) })
        queue.enqueue(.none, head: Array("HEAD1\r\n".utf8))
        queue.enqueue(.bytes(Array("small".utf8), 0..<5), head: Array("HEAD2\r\n".utf8))
        queue.enqueue(.bytes(large, 100..<40_000), head: Array("HEAD3\r\n".utf8))
        var transport = MemoryTransport()
        transport.writeChunk = 7
        #expect(Self.writeAll(&queue, to: &transport) == .wrote(7) || queue.isEmpty)
        #expect(queue.isEmpty)
        #expect(queue.queuedBytes == 0)
        #expect(Self.same(transport.written, Array("HEAD1\r\nHEAD2\r\nsmallHEAD3\r\n".utf8) + large[100...]))
    }

    /// Pipelined responses each build their head in a buffer of their own: once sent, the
    /// first becomes the queue's spare and the others go back to the loop's pool, so the
    /// next batch of heads does not start from empty arrays (and grow them step by step).
    @Test func sentHeadBuffersBecomeTheSpareOrGoBackToThePool() {
        var pool = BufferPool()
        var queue = OutputQueue()
        for index in 0..<3 {
            var head = pool.takeHeadBuffer()
            #expect(head.capacity >= BufferPool.newHeadCapacity)
            head.append(contentsOf: Array("HEAD\(index)\r\n".utf8))
            queue.enqueue(.bytes(Array("body".utf8), 0..<4), head: head)
        }
        var transport = MemoryTransport()
        while !queue.isEmpty {
            guard case .wrote = queue.writeSome(to: &transport, pool: &pool) else { break }
        }
        #expect(transport.written == Array("HEAD0\r\nbodyHEAD1\r\nbodyHEAD2\r\nbody".utf8))
        #expect(queue.hasSpare)
        #expect(pool.keptCount.head == 2)
        #expect(pool.takeHeadBuffer().capacity >= BufferPool.newHeadCapacity)
    }

    /// A transport that gathers (plain TCP's sendmsg) takes the byte items at the front in
    /// one write, up to the first file, through partial writes that end inside an item;
    /// sent head buffers still become the spare or go back to the pool, and the flag of a
    /// gathered write is its last item's (with `finFollows`, held when it reaches the end).
    @Test(arguments: [false, true])
    func byteItemsAtTheFrontLeaveInOneGatheredWrite(finFollows: Bool) {
        let directory = TempDirectory()
        directory.write("big.bin", [UInt8](repeating: 7, count: OutputQueue.smallBodyLimit + 100))
        let file = Self.openFile(directory, "big.bin")
        let large = [UInt8]((0..<40_000).map { UInt8($0 % 251) })
        var pool = BufferPool()
        var queue = OutputQueue()
        var expected: [UInt8] = []
        for index in 0..<3 {
            var head = pool.takeHeadBuffer()
            head.append(contentsOf: Array("HEAD\(index)\r\n".utf8))
            queue.enqueue(.bytes(Array("body\(index)".utf8), 0..<5), head: head)
            expected += Array("HEAD\(index)\r\nbody\(index)".utf8)
        }
        queue.enqueue(.file(file, 0..<file.size), head: Array("HEADF\r\n".utf8))   // the head gathers; the file does not
        expected += Array("HEADF\r\n".utf8) + [UInt8](repeating: 7, count: file.size)
        queue.enqueue(.bytes(large, 0..<40_000), head: Array("HEADL\r\n".utf8))     // a head and a shared body
        expected += Array("HEADL\r\n".utf8) + large
        var transport = MemoryTransport()
        transport.gather = true
        transport.writeChunk = 13   // partial writes end inside items
        var first = transport
        #expect(queue.writeSome(to: &first, pool: &pool, finFollows: finFollows) == .wrote(13))
        #expect(first.gatheredBufferCounts == [4])   // three responses and the file's head
        transport = first
        while !queue.isEmpty {
            guard case .wrote = queue.writeSome(to: &transport, pool: &pool, finFollows: finFollows) else { break }
        }
        #expect(queue.isEmpty && queue.queuedBytes == 0)
        #expect(Self.same(transport.written, expected))
        #expect(queue.hasSpare)
        #expect(pool.keptCount.head == 4)   // five owned heads: one is the spare
        // The last write (the end of the shared body, alone) is held only for a close's FIN.
        #expect(transport.moreFlags.last == finFollows)
        // Unchanged without gathering: one item a write.
        var plain = OutputQueue()
        plain.enqueue(.none, head: Array("A\r\n".utf8))
        plain.enqueue(.none, head: Array("B\r\n".utf8))
        var one = MemoryTransport()
        #expect(plain.writeSome(to: &one, pool: &pool) == .wrote(3))
    }

    @Test func overTLSALargeCachedBodyFillsTheHeadsRecord() {
        let body = [UInt8]((0..<22_000).map { UInt8($0 % 251) })
        let head = Array("HTTP/1.1 200 OK\r\n\r\n".utf8)
        var pool = BufferPool()
        var queue = OutputQueue()
        queue.enqueue(.bytes(body, 0..<22_000), head: head, fillRecord: true)
        var transport = MemoryTransport()
        #expect(queue.writeSome(to: &transport, pool: &pool) == .wrote(OutputQueue.tlsRecordBytes))   // head + body's start: one record
        #expect(queue.writeSome(to: &transport, pool: &pool) == .wrote(head.count + 22_000 - OutputQueue.tlsRecordBytes))
        #expect(queue.isEmpty)
        #expect(Self.same(transport.written, head + body))
        // Plain TCP keeps the head apart (MSG_MORE joins them in one segment) and copies nothing.
        var plain = OutputQueue()
        plain.enqueue(.bytes(body, 0..<22_000), head: head)
        var plainTransport = MemoryTransport()
        #expect(plain.writeSome(to: &plainTransport, pool: &pool) == .wrote(head.count))
    }

    @Test func aBlockedWriteLosesNothingAndResumes() {
        var queue = OutputQueue()
        let body = [UInt8](repeating: 0x61, count: 30_000)
        queue.enqueue(.bytes(body, 0..<30_000), head: Array("H\r\n".utf8))
        var transport = MemoryTransport()
        transport.capacity = 10_000
        #expect(Self.writeAll(&queue, to: &transport) == .wouldBlock)
        #expect(transport.written.count == 10_000)
        #expect(queue.queuedBytes == 30_003 - 10_000)
        var rounds = 1
        while !queue.isEmpty && rounds < 10 {
            transport.drain()
            _ = Self.writeAll(&queue, to: &transport)
            rounds += 1
        }
        #expect(rounds == 4)
        #expect(queue.isEmpty)
        #expect(Self.same(transport.written, Array("H\r\n".utf8) + body))
    }

    /// The head of a large body is sent with MSG_MORE (it leaves with the body's first bytes).
    @Test func theHeadOfALargeBodyAsksForMore() {
        var queue = OutputQueue()
        queue.enqueue(.bytes([UInt8](repeating: 1, count: 20_000), 0..<20_000), head: Array("H\r\n".utf8))
        var transport = MemoryTransport()
        _ = Self.writeAll(&queue, to: &transport)
        #expect(transport.moreFlags == [true, false])
    }

    @Test func filesAreWrittenByRangeAndSmallOnesCopiedBehindTheirHead() {
        let directory = TempDirectory()
        let big = [UInt8]((0..<100_000).map { UInt8($0 % 13) })
        directory.write("big.bin", big)
        directory.write("small.txt", "0123456789")
        var queue = OutputQueue()
        queue.enqueue(.file(Self.openFile(directory, "small.txt"), 2..<6), head: Array("A\r\n".utf8))
        #expect(!queue.isBackPressured)
        queue.enqueue(.file(Self.openFile(directory, "big.bin"), 1000..<100_000), head: Array("B\r\n".utf8))
        // A queued file is back-pressure: nothing more is parsed until it is sent.
        #expect(queue.isBackPressured)
        var transport = MemoryTransport()
        transport.writeChunk = 4096
        _ = Self.writeAll(&queue, to: &transport)
        #expect(queue.isEmpty)
        #expect(Self.same(transport.written, Array("A\r\n2345B\r\n".utf8) + big[1000...]))
    }

    @Test func aFileThatShrankFailsTheResponse() {
        let directory = TempDirectory()
        directory.write("f.bin", [UInt8](repeating: 7, count: 50_000))
        var queue = OutputQueue()
        queue.enqueue(.file(Self.openFile(directory, "f.bin"), 0..<50_000), head: Array("H\r\n".utf8))
        truncate(directory.path + "/f.bin", 20_000)
        var transport = MemoryTransport()
        #expect(Self.writeAll(&queue, to: &transport) == .failed)
        #expect(transport.written.count == 3 + 20_000)
    }

    @Test func queuedBytesAboveTheLimitAreBackPressure() {
        var queue = OutputQueue()
        let chunk = [UInt8](repeating: 0, count: 100_000)
        for _ in 0..<2 { queue.enqueue(.bytes(chunk, 0..<100_000), head: []) }
        #expect(!queue.isBackPressured)
        queue.enqueue(.bytes(chunk, 0..<100_000), head: [])
        #expect(queue.isBackPressured)
    }

    @Test func aFailingTransportFails() {
        var queue = OutputQueue()
        queue.enqueue(.none, head: Array("H\r\n".utf8))
        var transport = MemoryTransport()
        transport.failWrites = true
        var pool = BufferPool()
        #expect(queue.writeSome(to: &transport, pool: &pool) == .failed)
    }

    /// A long pipelined queue of small responses drains in order (the queue's moving start).
    @Test func aThousandPipelinedResponsesDrainInOrder() {
        var queue = OutputQueue()
        var expected: [UInt8] = []
        for i in 0..<1000 {
            let head = Array("R\(i)\n".utf8)
            expected += head
            queue.enqueue(.none, head: head)
        }
        var transport = MemoryTransport()
        transport.writeChunk = 5
        _ = Self.writeAll(&queue, to: &transport)
        #expect(Self.same(transport.written, expected))
    }
}
