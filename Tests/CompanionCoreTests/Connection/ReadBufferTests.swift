// ReadBuffer over a MemoryTransport: reads append, consuming moves the start, a full
// buffer compacts or grows up to its limit and then refuses, draining respects its budget.
import Testing
@testable import CompanionCore

@Suite struct ReadBufferTests {
    @Test func readsAppendAndConsumingEmptiesToTheFront() {
        var pool = BufferPool()
        var buffer = ReadBuffer()
        var transport = MemoryTransport(incoming: Array("GET / HTTP/1.1\r\n\r\nrest".utf8))
        transport.readChunk = 5
        var total = 0
        while buffer.makeRoom(limit: 10_000, pool: &pool), case (.bytes(let n), let short) = buffer.read(from: &transport) {
            #expect(short)   // 5 of 4096 asked for
            total += n
        }
        #expect(total == 22)
        buffer.consume(18)
        #expect(buffer.withUnconsumed { Array($0) } == Array("rest".utf8))
        buffer.consume(4)
        #expect(buffer.isEmpty && buffer.start == 0 && buffer.end == 0)
    }

    @Test func aFullBufferGrowsToItsLimitThenRefuses() {
        var pool = BufferPool()
        var buffer = ReadBuffer()
        var transport = MemoryTransport(incoming: [UInt8](repeating: 0x41, count: 20_000))
        var reads = 0
        while buffer.makeRoom(limit: 10_000, pool: &pool) {
            guard case (.bytes, _) = buffer.read(from: &transport) else { break }
            reads += 1
        }
        #expect(buffer.count == 10_000)
        #expect(reads >= 2)
        // Consumed bytes at the front make room again by moving the rest forward.
        buffer.consume(4000)
        let roomMade = buffer.makeRoom(limit: 10_000, pool: &pool)
        #expect(roomMade)
        #expect(buffer.start == 0 && buffer.count == 6000)
    }

    @Test func drainingStopsAtItsBudgetOrWhenTheSocketIsEmpty() {
        var pool = BufferPool()
        var buffer = ReadBuffer()
        var transport = MemoryTransport(incoming: [UInt8](repeating: 1, count: 100_000))
        let first = buffer.drain(from: &transport, budget: 64 * 1024, pool: &pool)
        #expect(first.dropped >= 64 * 1024 && first.last == .bytes(0))
        let second = buffer.drain(from: &transport, budget: 64 * 1024, pool: &pool)
        #expect(first.dropped + second.dropped == 100_000 && second.last == .wouldBlock)
        transport.endOfStream = true
        let third = buffer.drain(from: &transport, budget: 64 * 1024, pool: &pool)
        #expect(third.last == .endOfStream)
    }

    /// An idle connection gives its buffer back and takes one again on the next read; a
    /// buffer with unconsumed bytes, or one grown past the pool's size, is never pooled.
    @Test func anEmptyBufferGoesBackToThePoolAndReturnsOnTheNextRead() {
        var pool = BufferPool()
        var buffer = ReadBuffer()
        var transport = MemoryTransport(incoming: Array("GET / HTTP/1.1\r\n".utf8))
        #expect(buffer.makeRoom(limit: 10_000, pool: &pool))
        _ = buffer.read(from: &transport)
        buffer.release(to: &pool)
        #expect(pool.keptCount.read == 0)   // bytes still buffered: kept
        buffer.consume(buffer.count)
        buffer.release(to: &pool)
        #expect(pool.keptCount.read == 1)
        #expect(buffer.makeRoom(limit: 10_000, pool: &pool))
        #expect(pool.keptCount.read == 0)
        transport = MemoryTransport(incoming: Array("more".utf8))
        _ = buffer.read(from: &transport)
        buffer.withUnconsumed { #expect(Array($0) == Array("more".utf8)) }

        var grown = ReadBuffer()
        transport = MemoryTransport(incoming: [UInt8](repeating: 0x41, count: 9000))
        while grown.makeRoom(limit: 10_000, pool: &pool), case (.bytes, _) = grown.read(from: &transport) {}
        grown.clear()
        grown.release(to: &pool)
        #expect(pool.keptCount.read == 0)   // 9 KB: freed, not pooled
    }

    @Test func thePoolKeepsABoundedNumberOfBuffers() {
        var pool = BufferPool()
        for _ in 0..<(BufferPool.maxKept + 10) {
            pool.giveBack(readBuffer: [UInt8](repeating: 0, count: BufferPool.readBufferBytes))
            var head: [UInt8] = []
            head.reserveCapacity(512)
            pool.giveBack(headBuffer: head)
        }
        #expect(pool.keptCount.read == BufferPool.maxKept)
        #expect(pool.keptCount.head == BufferPool.maxKept)
        var big: [UInt8] = []
        big.reserveCapacity(BufferPool.keptCapacityLimit * 2)
        _ = pool.takeHeadBuffer()
        pool.giveBack(headBuffer: big)
        #expect(pool.keptCount.head == BufferPool.maxKept - 1)
    }
}
