// EpollBackend: an event loop's readiness notifier on Linux epoll, with an eventfd to wake
// the loop from other threads (swift-nio SelectorEpoll's design). The loop uses this class
// directly: a kqueue or poll backend for another OS would take the same methods, and a
// protocol over them would be worth having once there are two.
import CLinux
import Glibc

/// The token reserved for the backend's own wake-up eventfd.
let wakeToken: UInt64 = .max

/// A readiness notifier. One instance belongs to one loop thread; only `wake()` may be
/// called from other threads.
public final class EpollBackend {
    private let epollFD: Int32
    private let eventFD: Int32
    private var events: UnsafeMutablePointer<epoll_event>
    private let capacity = 256

    public init() throws(Errno) {
        epollFD = try Syscall.check("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        eventFD = try Syscall.check("eventfd") { eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK)) }
        events = .allocate(capacity: capacity)
        try registerLevelReadable(fd: eventFD, token: wakeToken)
    }

    deinit {
        close(eventFD)
        close(epollFD)
        events.deallocate()
    }

    /// Starts watching `fd`. `token` comes back with every event for it; the loop packs a
    /// generation number into it so an event for a closed and reused fd is recognised.
    /// Registration is edge-triggered for read and write readiness at once: the loop reads
    /// and writes until `EAGAIN` and never has to change interest per request.
    public func register(fd: Int32, token: UInt64) throws(Errno) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        event.data.u64 = token
        try Syscall.check("epoll_ctl") { epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) }
    }

    /// Registers `fd` for read readiness only, level-triggered (listeners, wake and signal fds).
    public func registerLevelReadable(fd: Int32, token: UInt64) throws(Errno) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = token
        try Syscall.check("epoll_ctl") { epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) }
    }

    /// Registers a listening socket that other loops watch too: read readiness,
    /// level-triggered, waking one of the waiting loops per event.
    public func registerListener(fd: Int32, token: UInt64) throws(Errno) {
        var event = epoll_event()
        // Level-triggered, and EPOLLEXCLUSIVE: of the loops waiting on the same listener,
        // one is woken per new connection instead of all of them.
        event.events = EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue
        event.data.u64 = token
        try Syscall.check("epoll_ctl") { epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) }
    }

    /// Stops watching `fd` (closing the fd also does this).
    public func deregister(fd: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
    }

    /// Waits at most `timeoutMilliseconds` (-1: forever); when something is ready, calls
    /// `before` once with the whole list, then `handler` per ready fd.
    public func wait(timeoutMilliseconds: Int32, before: (ReadyList) -> Void,
                     _ handler: (UInt64, IOEvents) -> Void) throws(Errno) {
        let count: Int
        switch try Syscall.io("epoll_wait", { Int(epoll_wait(epollFD, events, Int32(capacity), timeoutMilliseconds)) }) {
        case .done(let n): count = n
        case .wouldBlock: return
        }
        guard count > 0 else { return }
        before(ReadyList(events: events, count: count, isFull: count == capacity))
        for i in 0..<count {
            let raw = events[i].events
            let token = events[i].data.u64
            if token == wakeToken {
                var value: UInt64 = 0
                _ = read(eventFD, &value, 8)
                continue
            }
            var normalised: IOEvents = []
            if raw & EPOLLIN.rawValue != 0 { normalised.insert(.readable) }
            if raw & EPOLLOUT.rawValue != 0 { normalised.insert(.writable) }
            if raw & (EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0 { normalised.insert(.hangup) }
            if raw & EPOLLERR.rawValue != 0 { normalised.insert(.error) }
            handler(token, normalised)
        }
    }

    /// What one `wait` returned, to look at before its events are handled.
    public struct ReadyList {
        fileprivate let events: UnsafeMutablePointer<epoll_event>
        public let count: Int
        /// The wait returned as many events as it had room for: more may be ready.
        public let isFull: Bool

        /// Whether `token` is among the events.
        public func contains(token: UInt64) -> Bool {
            for i in 0..<count where events[i].data.u64 == token { return true }
            return false
        }
    }

    /// Interrupts a `wait` from any thread.
    public func wake() {
        var one: UInt64 = 1
        _ = write(eventFD, &one, 8)
    }
}
