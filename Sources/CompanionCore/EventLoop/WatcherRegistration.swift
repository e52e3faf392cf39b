// WatcherRegistration: when a loop (re)registers the file cache's inotify descriptor with
// its epoll set. Registered, the descriptor wakes the wait when a file changes, and a turn
// that did not see it readable skips the read(2). When epoll_ctl fails (ENOMEM, or the
// per-user epoll watch limit), every turn reads the descriptor instead, which is correct,
// only slower; the failure is reported once and retried once a second, not on every turn
// (which wrote a line per turn, thousands a second under load). Pure, so that path is
// tested without exhausting a kernel limit.

struct WatcherRegistration {
    /// An inotify instance: its descriptor and a number that tells a new instance on a
    /// reused descriptor from the old one.
    struct Instance: Equatable {
        let fd: Int32
        let instance: Int
    }

    static let retryMs: Int64 = 1000

    /// The instance in the epoll set, nil while none is.
    private(set) var registered: Instance?
    /// The instance whose registration failed last, and when it may be tried again.
    private var failed: Instance?
    private var retryAtMs: Int64 = 0

    /// Called before each wait with the cache's current instance: the one to register now,
    /// or nil (already registered, none, or a failed one before its retry time).
    mutating func instanceToRegister(current: Instance?, now: Int64) -> Instance? {
        if current == registered { return nil }
        // The old instance was closed, which removed it from the epoll set.
        registered = nil
        guard let current else { return nil }
        if current == failed && now < retryAtMs { return nil }
        return current
    }

    mutating func succeeded(_ instance: Instance) {
        registered = instance
        failed = nil
    }

    /// Records a failed registration; true when it is worth a line in the log (the first
    /// failure of this instance, not each retry).
    mutating func failed(_ instance: Instance, now: Int64) -> Bool {
        defer {
            failed = instance
            retryAtMs = now + Self.retryMs
        }
        return failed != instance
    }
}
