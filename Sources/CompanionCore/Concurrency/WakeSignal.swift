// WakeSignal: a generation counter behind a condition variable, used by the access-log
// writer and the BackgroundQueue to sleep until "woken or deadline". `Locked` has no
// condition variable, so this uses MonotonicCondition.

/// Lets threads sleep until another thread signals, or until a monotonic deadline.
///
/// Thread-safe (`@unchecked Sendable`): `generation` is guarded by `condition`'s mutex;
/// every method locks it. Usage without lost wake-ups: read `currentGeneration()`, check
/// your condition, then `wait(after:)` with the generation you read; a `signal()` in
/// between makes the wait return at once.
final class WakeSignal: @unchecked Sendable {
    private let condition = MonotonicCondition()
    /// Guarded by `condition`.
    private var generation: UInt64 = 0

    /// The number of signals so far.
    func currentGeneration() -> UInt64 {
        condition.withLock { generation }
    }

    /// Wakes every waiter.
    func signal() {
        condition.withLock {
            generation &+= 1
            condition.broadcast()
        }
    }

    /// Sleeps until the generation differs from `seen` or `deadlineMs`
    /// (on `monotonicMilliseconds()`) passes; nil waits without a deadline.
    func wait(after seen: UInt64, deadlineMs: Int64?) {
        condition.withLock {
            while generation == seen {
                if !condition.wait(deadlineMs: deadlineMs) { return }
            }
        }
    }
}
