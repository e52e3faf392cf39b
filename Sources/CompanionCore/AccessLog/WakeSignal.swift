// WakeSignal: a generation counter behind a pthread condition variable, used by
// the access-log writer to sleep until "woken or deadline". `Locked` has no
// condition variable, so this one place uses a pthread condition directly.
import CLinux  // struct timespec comes through <sys/epoll.h> in CLinux
import Glibc

/// Lets threads sleep until another thread signals, or until a monotonic deadline.
///
/// Thread-safe: `generation` is guarded by `mutex`; every method locks it.
/// Usage without lost wake-ups: read `currentGeneration()`, check your condition,
/// then `wait(after:)` with the generation you read; a `signal()` in between
/// makes the wait return at once.
final class WakeSignal: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Guarded by `mutex`.
    private var generation: UInt64 = 0

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

    /// The number of signals so far.
    func currentGeneration() -> UInt64 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return generation
    }

    /// Wakes every waiter.
    func signal() {
        pthread_mutex_lock(mutex)
        generation &+= 1
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Sleeps until the generation differs from `seen` or `deadlineMs`
    /// (on `monotonicMilliseconds()`) passes; nil waits without a deadline.
    func wait(after seen: UInt64, deadlineMs: Int64?) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while generation == seen {
            guard let deadlineMs else {
                pthread_cond_wait(condition, mutex)
                continue
            }
            var until = timespec(tv_sec: Int(deadlineMs / 1000), tv_nsec: Int(deadlineMs % 1000) * 1_000_000)
            if pthread_cond_timedwait(condition, mutex, &until) == ETIMEDOUT { return }
        }
    }
}


/// Writes one line to stderr (fd 2) with a single `write`, so lines from threads do not mix.
public func writeLineToStandardError(_ line: String) {
    writeAll(to: 2, line + "\n")
}

/// Writes all of `text` to `fd`, retrying short writes and EINTR; gives up on other errors.
public func writeAll(to fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
