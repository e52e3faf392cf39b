// Countdown: one thread waits until N others have each arrived (a latch). `Server.reload`
// uses it so that "config reloaded" is said only once every loop serves the new config:
// before, a request sent right after the line could still reach a loop that had not read
// its mailbox yet and be answered with the old config.

/// Thread-safe (`@unchecked Sendable`): `remaining` is guarded by `condition`'s mutex, and
/// waiters sleep on it.
final class Countdown: @unchecked Sendable {
    private let condition = MonotonicCondition()
    /// Guarded by `condition`.
    private var remaining: Int

    init(count: Int) {
        remaining = count
    }

    /// One of the N has arrived.
    func arrive() {
        condition.withLock {
            remaining -= 1
            if remaining <= 0 { condition.broadcast() }
        }
    }

    /// Waits until all have arrived or `milliseconds` passed; true when all arrived.
    func wait(milliseconds: Int) -> Bool {
        let deadline = monotonicMilliseconds() + Int64(milliseconds)
        return condition.withLock {
            while remaining > 0 {
                if !condition.wait(deadlineMs: deadline) { return remaining <= 0 }
            }
            return true
        }
    }
}
