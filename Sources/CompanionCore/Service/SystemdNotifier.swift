// SystemdNotifier: the sd_notify protocol without libsystemd (SPEC §7, `Type=notify`).
// systemd passes a Unix datagram socket's path in NOTIFY_SOCKET (a leading "@" is the
// abstract namespace); each state change is one datagram of "KEY=value" lines:
// READY=1 once the listeners are bound and the loops run, RELOADING=1 (with
// MONOTONIC_USEC, as `Type=notify-reload` requires) then READY=1 around a SIGHUP reload,
// STOPPING=1 when shutdown begins. Without NOTIFY_SOCKET every call does nothing.
import CLinux
import Glibc

public final class SystemdNotifier: Sendable {
    private let address: [UInt8]?

    /// Reads NOTIFY_SOCKET from the environment.
    public convenience init() {
        self.init(socketPath: getenv("NOTIFY_SOCKET").map { String(cString: $0) })
    }

    /// `socketPath`: a filesystem path or "@abstract"; nil or anything else sends nothing.
    public init(socketPath: String?) {
        guard let path = socketPath, path.hasPrefix("/") || path.hasPrefix("@"), path.utf8.count > 1,
              path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
            address = nil
            return
        }
        var bytes = Array(path.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        address = bytes
    }

    public var isEnabled: Bool { address != nil }

    public func ready(status: String? = nil) {
        send("READY=1\nMAINPID=\(getpid())" + (status.map { "\nSTATUS=\($0)" } ?? ""))
    }

    public func reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds())")
    }

    public func stopping() {
        send("STOPPING=1")
    }

    /// One datagram; failures are ignored (systemd may be gone, as sd_notify does).
    public func send(_ message: String) {
        guard let address else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var un = sockaddr_un()
        un.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &un.sun_path) { raw in
            for (i, byte) in address.enumerated() { raw[i] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + address.count + (address[0] == 0 ? 0 : 1))
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &un) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
    }
}

/// Sockets handed over by systemd's socket activation (LISTEN_FDS from fd 3, for this
/// process only: LISTEN_PID must be ours). The variables are removed from the
/// environment once read, as sd_listen_fds does, so nothing started later takes them.
public enum SocketActivation {
    public static let firstDescriptor: Int32 = 3

    public static func takeInheritedSockets() -> [Int32] {
        defer {
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_FDNAMES")
        }
        guard let pidText = getenv("LISTEN_PID").map({ String(cString: $0) }), Int32(pidText) == getpid(),
              let countText = getenv("LISTEN_FDS").map({ String(cString: $0) }), let count = Int32(countText),
              count > 0, count < 1024 else { return [] }
        return (0..<count).map { firstDescriptor + $0 }
    }
}
