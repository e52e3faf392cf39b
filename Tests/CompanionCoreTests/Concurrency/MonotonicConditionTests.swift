import Testing
@testable import CompanionCore

/// Timed waits take deadlines on `monotonicMilliseconds()` (the coarse clock, 3-7 ms behind
/// the precise one here): a wait that reports its deadline passed must mean that clock
/// reached it, or every caller that re-checks it spins until the coarse clock catches up.
@Suite struct MonotonicConditionTests {
    @Test func aTimedOutWaitMeansTheCoarseClockReachedTheDeadline() {
        let condition = MonotonicCondition()
        var early = 0
        for _ in 0..<20 {
            let deadline = monotonicMilliseconds() + 1
            let woken = condition.withLock { condition.wait(deadlineMs: deadline) }
            if !woken && monotonicMilliseconds() < deadline { early += 1 }
        }
        #expect(early == 0, "\(early) of 20 waits timed out before monotonicMilliseconds() reached the deadline")
    }

    @Test func aWakeSignalWaitWithoutSignalEndsAtItsDeadline() {
        let signal = WakeSignal()
        for _ in 0..<20 {
            let deadline = monotonicMilliseconds() + 2
            signal.wait(after: signal.currentGeneration(), deadlineMs: deadline)
            #expect(monotonicMilliseconds() >= deadline)
        }
    }

    @Test func aSignalEndsTheWaitAtOnce() {
        let signal = WakeSignal()
        let seen = signal.currentGeneration()
        signal.signal()
        let start = monotonicMilliseconds()
        signal.wait(after: seen, deadlineMs: start + 60_000)
        #expect(monotonicMilliseconds() - start < 30_000)
    }
}
