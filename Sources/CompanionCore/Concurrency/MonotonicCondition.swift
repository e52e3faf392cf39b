// MonotonicCondition: a pthread mutex with a condition variable on CLOCK_MONOTONIC, the
// one piece WakeSignal and Countdown share (a wall-clock jump must not stretch or cut a
// wait). Callers hold the mutex around `wait` and `broadcast` through `withLock`.
import CLinux  // struct timespec comes through <sys/epoll.h> in CLinux
import Glibc

/// Not Sendable by itself: the types that own one guard their state with it and say so.
final class MonotonicCondition {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the mutex.
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Wakes every waiter. Call inside `withLock`.
    func broadcast() {
        pthread_cond_broadcast(condition)
    }

    /// Sleeps until woken (or spuriously); with `deadlineMs` (on `monotonicMilliseconds()`),
    /// at most until then. Returns false when the deadline passed. Call inside `withLock`.
    ///
    /// The deadline is on the coarse clock, which lags CLOCK_MONOTONIC (the condition's) by
    /// 3-7 ms on these machines: each round sleeps for what the coarse clock still lacks,
    /// so a false return means `monotonicMilliseconds()` reached the deadline. Sleeping
    /// until the precise clock reached it made every caller that re-checks the coarse clock
    /// spin: the access-log writer busy-waited for milliseconds before each commit (6 % of a
    /// core at 19k requests/s), and one connection's p99 went from 0.07 to 1.7 ms.
    func wait(deadlineMs: Int64?) -> Bool {
        guard let deadlineMs else {
            pthread_cond_wait(condition, mutex)
            return true
        }
        while true {
            let lackingMs = deadlineMs - monotonicMilliseconds()
            if lackingMs <= 0 { return false }
            let micros = monotonicMicroseconds() + lackingMs * 1000   // CLOCK_MONOTONIC, as the condition
            var until = timespec(tv_sec: Int(micros / 1_000_000), tv_nsec: Int(micros % 1_000_000) * 1000)
            if pthread_cond_timedwait(condition, mutex, &until) != ETIMEDOUT { return true }
        }
    }
}
