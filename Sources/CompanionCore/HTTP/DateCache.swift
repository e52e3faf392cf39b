// DateCache: the `Date:` header value, rendered once per second per loop
// (hummingbird's DateCache idea), plus a small cache of Last-Modified values.
import CLinux
import Glibc

/// Per-loop; not thread-safe (owned by one EventLoop).
struct DateCache {
    private var second: Int = -1
    /// The wall-clock second that `dateBytes` shows (the response's Date).
    var currentSecond: Int { second }
    private(set) var dateBytes: [UInt8] = []
    private var lastModified: [Int: [UInt8]] = [:]
    private var lastAsked = Int.min
    private var lastAnswer: [UInt8]?

    /// Refreshes the Date value when the wall-clock second changed.
    mutating func refresh() {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &ts)
        let now = Int(ts.tv_sec)
        if now != second {
            second = now
            dateBytes.removeAll(keepingCapacity: true)
            HTTPDate.write(epochSeconds: now, into: &dateBytes)
        }
    }

    /// The IMF-fixdate bytes for `epochSeconds`, cached (bounded) for Last-Modified.
    mutating func lastModifiedBytes(_ epochSeconds: Int) -> [UInt8] {
        // The last answer first: a hot file asks for the same time on every request,
        // and this skips hashing it.
        if epochSeconds == lastAsked, let lastAnswer { return lastAnswer }
        let bytes: [UInt8]
        if let cached = lastModified[epochSeconds] {
            bytes = cached
        } else {
            var written: [UInt8] = []
            HTTPDate.write(epochSeconds: epochSeconds, into: &written)
            if lastModified.count > 4096 { lastModified.removeAll(keepingCapacity: true) }
            lastModified[epochSeconds] = written
            bytes = written
        }
        lastAsked = epochSeconds
        lastAnswer = bytes
        return bytes
    }
}
