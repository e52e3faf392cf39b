// ReadBuffer over a MemoryTransport: reads append, consuming moves the start, a full
// buffer compacts or grows up to its limit and then refuses, draining respects its budget.
import Testing
@testable import CompanionCore

@Suite struct ReadBufferTests {
    @Test func readsAppendAndConsumingEmptiesToTheFront() {
        var buffer = ReadBuffer()
        var transport = MemoryTransport(incoming: Array("GET / HTTP/1.1\r\n\r\nrest".utf8))
        transport.readChunk = 5
        var total = 0
        while case (.bytes(let n), let short) = buffer.read(from: &transport) {
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
        var buffer = ReadBuffer()
        var transport = MemoryTransport(incoming: [UInt8](repeating: 0x41, count: 20_000))
        var reads = 0
        while buffer.makeRoom(limit: 10_000) {
            guard case (.bytes, _) = buffer.read(from: &transport) else { break }
            reads += 1
        }
        #expect(buffer.count == 10_000)
        #expect(reads >= 2)
        // Consumed bytes at the front make room again by moving the rest forward.
        buffer.consume(4000)
        let roomMade = buffer.makeRoom(limit: 10_000)
        #expect(roomMade)
        #expect(buffer.start == 0 && buffer.count == 6000)
    }

    @Test func drainingStopsAtItsBudgetOrWhenTheSocketIsEmpty() {
        var buffer = ReadBuffer()
        var transport = MemoryTransport(incoming: [UInt8](repeating: 1, count: 100_000))
        let first = buffer.drain(from: &transport, budget: 64 * 1024)
        #expect(first.dropped >= 64 * 1024 && first.last == .bytes(0))
        let second = buffer.drain(from: &transport, budget: 64 * 1024)
        #expect(first.dropped + second.dropped == 100_000 && second.last == .wouldBlock)
        transport.endOfStream = true
        let third = buffer.drain(from: &transport, budget: 64 * 1024)
        #expect(third.last == .endOfStream)
    }
}
