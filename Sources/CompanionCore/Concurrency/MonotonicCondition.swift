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
    func wait(deadlineMs: Int64?) -> Bool {
        guard let deadlineMs else {
            pthread_cond_wait(condition, mutex)
            return true
        }
        var until = timespec(tv_sec: Int(deadlineMs / 1000), tv_nsec: Int(deadlineMs % 1000) * 1_000_000)
        return pthread_cond_timedwait(condition, mutex, &until) != ETIMEDOUT
    }
}
