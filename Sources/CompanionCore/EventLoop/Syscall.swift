// Syscall: the one place where companion calls the kernel for sockets and polling.
// Retries EINTR, reports EAGAIN as `.wouldBlock`, and wraps every other errno in
// an `Errno` that names the call (the swift-nio System.swift idea), so callers
// never read the global `errno` themselves.
import CLinux
import Glibc

/// An errno value together with the system call that produced it.
public struct Errno: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let call: String

    public init(code: Int32, call: String) {
        self.code = code
        self.call = call
    }

    /// The C library's text for the code, e.g. "Address already in use".
    public var message: String { String(cString: strerror(code)) }

    public var description: String { "\(call): \(message)" }
}

/// The outcome of a non-blocking I/O call.
public enum IOResult<Value> {
    case done(Value)
    case wouldBlock
}

enum Syscall {
    /// Runs `body` until it stops failing with EINTR. `body` returns the raw result;
    /// a negative result turns into `.wouldBlock` for EAGAIN or a thrown `Errno`.
    @inline(__always)
    static func io(_ call: StaticString, _ body: () -> Int) throws(Errno) -> IOResult<Int> {
        while true {
            let result = body()
            if result >= 0 { return .done(result) }
            let code = companion_errno()
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw Errno(code: code, call: "\(call)")
        }
    }

    /// Runs a call that cannot block; -1 becomes a thrown `Errno` naming the call.
    @inline(__always)
    @discardableResult
    static func check(_ call: StaticString, _ body: () -> Int32) throws(Errno) -> Int32 {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = companion_errno()
            if code == EINTR { continue }
            throw Errno(code: code, call: "\(call)")
        }
    }
}

/// Monotonic milliseconds, for deadlines (CLOCK_MONOTONIC_COARSE: a vDSO read, ~4 ms resolution).
@inline(__always)
func monotonicMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Monotonic microseconds for request durations (CLOCK_MONOTONIC).
@inline(__always)
func monotonicMicroseconds() -> Int64 { microseconds(on: CLOCK_MONOTONIC) }

/// Wall-clock microseconds since the Unix epoch (access-log `time`).
@inline(__always)
func wallClockMicroseconds() -> Int64 { microseconds(on: CLOCK_REALTIME) }

/// CPU time of the calling thread in microseconds (CLOCK_THREAD_CPUTIME_ID): what the
/// access-log writer's pacing sizes its naps on.
@inline(__always)
func threadCPUMicroseconds() -> Int64 { microseconds(on: CLOCK_THREAD_CPUTIME_ID) }

@inline(__always)
private func microseconds(on clock: clockid_t) -> Int64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}
