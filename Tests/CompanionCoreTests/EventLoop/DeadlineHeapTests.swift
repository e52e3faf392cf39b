// The loop's deadline heap: entries come out in time order, and `compact` drops the stale
// ones (closed connections, superseded deadlines), keeps the order and gives memory back.
@testable import CompanionCore
import Testing

@Suite struct DeadlineHeapTests {
    /// A deterministic shuffle of 0..<n (an LCG), so a failure repeats.
    static func times(_ n: Int) -> [Int64] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var values = (0..<n).map { Int64($0) }
        for i in stride(from: n - 1, to: 0, by: -1) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values.swapAt(i, Int(state >> 33) % (i + 1))
        }
        return values
    }

    static func drain(_ heap: inout DeadlineHeap) -> [DeadlineHeap.Entry] {
        var out: [DeadlineHeap.Entry] = []
        while let entry = heap.popExpired(now: .max) { out.append(entry) }
        return out
    }

    @Test func entriesComeOutInTimeOrder() {
        var heap = DeadlineHeap()
        for (i, at) in Self.times(1000).enumerated() { heap.push(.init(at: at, token: UInt64(i))) }
        #expect(heap.popExpired(now: -1) == nil)
        let out = Self.drain(&heap)
        #expect(out.map(\.at) == (0..<1000).map { Int64($0) })
    }

    @Test func compactKeepsTheCurrentEntriesInOrder() {
        var heap = DeadlineHeap()
        let times = Self.times(5000)
        for (i, at) in times.enumerated() { heap.push(.init(at: at, token: UInt64(i))) }
        // Odd tokens are closed connections.
        heap.compact { $0.token % 2 == 0 }
        #expect(heap.count == 2500)
        let out = Self.drain(&heap)
        #expect(out.allSatisfy { $0.token % 2 == 0 })
        #expect(out.map(\.at) == times.enumerated().filter { $0.offset % 2 == 0 }.map(\.element).sorted())
    }

    @Test func compactGivesStorageBack() {
        var heap = DeadlineHeap()
        for i in 0..<100_000 { heap.push(.init(at: Int64(i), token: UInt64(i))) }
        #expect(heap.capacity >= 100_000)
        heap.compact { $0.token < 10 }
        #expect(heap.count == 10)
        #expect(heap.capacity <= 1024)
        #expect(Self.drain(&heap).map(\.token) == Array(0..<10))
    }
}
