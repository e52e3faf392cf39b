// IOEvents: what a readiness notifier (EpollBackend) reports for a descriptor, in the
// loop's own terms rather than epoll's bits, so connections do not depend on epoll.

/// Readiness bits, independent of the notifier (lighttpd's FDEVENT_* idea).
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readable = IOEvents(rawValue: 1 << 0)
    public static let writable = IOEvents(rawValue: 1 << 1)
    /// The peer closed its side or the socket failed; a read will tell which.
    public static let hangup = IOEvents(rawValue: 1 << 2)
    public static let error = IOEvents(rawValue: 1 << 3)
}
