// Countdown: one thread waits until N others have each arrived (a latch). `Server.reload`
// uses it so that "config reloaded" is said only once every loop serves the new config:
// before, a request sent right after the line could still reach a loop that had not read
// its mailbox yet and be answered with the old config.
import CLinux  // struct timespec comes through <sys/epoll.h> in CLinux
import Glibc

/// Thread-safe (`@unchecked Sendable`): `remaining` is guarded by `mutex`, and waiters sleep
/// on `condition` with that mutex.
final class Countdown: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Guarded by `mutex`.
    private var remaining: Int

    init(count: Int) {
        remaining = count
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

    /// One of the N has arrived.
    func arrive() {
        pthread_mutex_lock(mutex)
        remaining -= 1
        if remaining <= 0 { pthread_cond_broadcast(condition) }
        pthread_mutex_unlock(mutex)
    }

    /// Waits until all have arrived or `milliseconds` passed; true when all arrived.
    func wait(milliseconds: Int) -> Bool {
        var until = timespec()
        clock_gettime(CLOCK_MONOTONIC, &until)
        until.tv_sec += milliseconds / 1000
        until.tv_nsec += (milliseconds % 1000) * 1_000_000
        if until.tv_nsec >= 1_000_000_000 {
            until.tv_sec += 1
            until.tv_nsec -= 1_000_000_000
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while remaining > 0 {
            if pthread_cond_timedwait(condition, mutex, &until) == ETIMEDOUT { return remaining <= 0 }
        }
        return true
    }
}
