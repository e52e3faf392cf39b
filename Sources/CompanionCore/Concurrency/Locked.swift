// Locked: a value behind a pthread mutex, with Synchronization.Mutex's `withLock` shape.
//
// Why not Synchronization.Mutex: on Linux it locks with its own futex calls inside the
// standard library, which ThreadSanitizer does not see, so every access made under it was
// reported as a data race (49 reports over the suite, all inside `withLock`). TSan
// intercepts pthread_mutex_lock/unlock, so with this lock the sanitizer checks our
// claims instead of drowning them. Uncontended, both cost one atomic instruction to lock
// and one to unlock; none of these locks is on a per-request path except the gzip cache's.
import Glibc

/// A value that any thread may read or change, one thread at a time.
///
/// Thread-safe (`@unchecked Sendable`): `value` is only reached inside `withLock`, which
/// holds `mutex`; the value comes in as `sending`, so no other reference to it escapes.
///
/// The value must not be empty (`()`): ThreadSanitizer then records the access to it at
/// the object's own address, which another thread reads unlocked on its way into
/// `withLock`, and reports a race the lock rules out (two threads, 200,000 `withLock`
/// calls each: reported with `Locked(())`, not with `Locked(0)`).
package final class Locked<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Guarded by `mutex`.
    private var value: Value

    package init(_ value: consuming sending Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    package func withLock<Result: ~Copyable, Failure: Error>(_ body: (inout sending Value) throws(Failure) -> sending Result) throws(Failure) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
