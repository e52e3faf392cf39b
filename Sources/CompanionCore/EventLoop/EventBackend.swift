// EventBackend: the small contract between an event loop and the OS readiness
// facility. EpollBackend implements it on Linux; a KqueueBackend or PollBackend
// can follow for macOS without touching the loop or the connections.

/// Readiness bits, normalised across backends (lighttpd's FDEVENT_* idea).
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readable = IOEvents(rawValue: 1 << 0)
    public static let writable = IOEvents(rawValue: 1 << 1)
    /// The peer closed its side or the socket failed; a read will tell which.
    public static let hangup = IOEvents(rawValue: 1 << 2)
    public static let error = IOEvents(rawValue: 1 << 3)
}

/// A readiness notifier. One instance belongs to one loop thread; only `wake()`
/// may be called from other threads.
public protocol EventBackend: AnyObject {
    /// Starts watching `fd`. `token` comes back with every event for it; the loop packs a
    /// generation number into it so an event for a closed and reused fd is recognised.
    /// Registration is edge-triggered for read and write readiness at once: the loop reads
    /// and writes until `EAGAIN` and never has to change interest per request.
    func register(fd: Int32, token: UInt64) throws(Errno)

    /// Registers `fd` for read readiness only, level-triggered (listeners, wake and signal fds).
    func registerLevelReadable(fd: Int32, token: UInt64) throws(Errno)

    /// Registers a listening socket that other loops watch too: read readiness,
    /// level-triggered, waking one of the waiting loops per event where the OS can.
    func registerListener(fd: Int32, token: UInt64) throws(Errno)

    /// Stops watching `fd` (closing the fd also does this on Linux).
    func deregister(fd: Int32)

    /// What one wait returned: which tokens are ready, and whether there may be more.
    associatedtype ReadyList

    /// Waits at most `timeoutMilliseconds` (-1: forever); when something is ready, calls
    /// `before` once with the whole list, then `handler` per ready fd.
    func wait(timeoutMilliseconds: Int32, before: (ReadyList) -> Void,
              _ handler: (_ token: UInt64, _ events: IOEvents) -> Void) throws(Errno)

    /// Interrupts a `wait` from any thread.
    func wake()
}
